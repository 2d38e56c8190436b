"""What wraps every HTTP answer: security headers, and the visitor's language for the page and its messages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice.app import Response

from chalicelib.text import i18n
from chalicelib.web.headers import SECURITY_HEADERS
from chalicelib.web.http import here, read_cookie


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
