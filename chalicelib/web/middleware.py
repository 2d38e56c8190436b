"""What wraps every HTTP request: security headers, the visitor's language, and refusing what is not text."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice.app import Response

from chalicelib.text import i18n
from chalicelib.text import messages as msg
from chalicelib.text.i18n import gettext
from chalicelib.text.scalars import is_text
from chalicelib.web import pages
from chalicelib.web.headers import SECURITY_HEADERS
from chalicelib.web.http import base_path, here, html, read_cookie, routed_path


def security_headers(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Every page, API answer and file gets the security headers."""
    response = get_response(event)
    response.headers.update(SECURITY_HEADERS)
    return response


def language(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Pages, mail and messages in the visitor's language: their choice (a cookie), else their browser's."""
    chosen = i18n.choose(read_cookie(event, i18n.COOKIE), event.headers.get("accept-language"))
    with i18n.speaking(chosen, here(event)):
        response = get_response(event)
    response.headers.setdefault("Content-Language", chosen)
    response.headers["Vary"] = "Accept-Language, Cookie"
    return response


def refuse_what_is_not_text(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """A path, query string, header or cookie that holds what is not text is refused before any route reads it."""
    values = [
        *(event.uri_params or {}).values(),
        *(item for pair in (event.query_params or {}).items() for item in pair),
        *(item for pair in event.headers.items() for item in pair),
    ]
    if all(is_text(value) for value in values if isinstance(value, str)):
        return get_response(event)
    if routed_path(event).startswith("/api/"):
        body = {"status": "invalid", "message": gettext(msg.REQUEST_NOT_UNICODE)}
        return Response(body=body, status_code=400)
    return html(pages.message_page(base_path(event), msg.ERROR_SUMMARY_TITLE, msg.REQUEST_NOT_UNICODE), 400)
