"""What wraps every HTTP request: its log line, security headers, the visitor's language, refusing what is not text."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from chalice.app import Response

from chalicelib import telemetry
from chalicelib.text import i18n
from chalicelib.text import messages as msg
from chalicelib.text.i18n import gettext
from chalicelib.text.scalars import is_text
from chalicelib.web import pages
from chalicelib.web.headers import SECURITY_HEADERS
from chalicelib.web.http import BUSY_STATUS, base_path, here, html, read_cookie, routed_path


def request_lines(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """One log line per request: route (never the path's query), status, time, request id, event; and its counts."""
    started = time.perf_counter()
    with telemetry.counting() as tally:
        response = get_response(event)
        if response.status_code == BUSY_STATUS:
            telemetry.count(telemetry.Metric.BUSY_ANSWERS)
        elif response.status_code >= 500:
            telemetry.count(telemetry.Metric.SERVER_ERRORS)
    context = event.context or {}
    fields = {
        "route": context.get("resourcePath", ""),
        "method": event.method,
        "status": response.status_code,
        "ms": round((time.perf_counter() - started) * 1000, 1),
        "request_id": context.get("requestId", ""),
        "slug": (event.uri_params or {}).get("slug", ""),
    }
    telemetry.log("request", fields, tally)
    return response


def security_headers(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Every page, API answer and file gets the security headers."""
    response = get_response(event)
    response.headers.update(SECURITY_HEADERS)
    return response


def language(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Pages, mail and messages in the visitor's language: their choice (a cookie), else their browser's.

    ふりがな too on an attendee's page, as the visitor chose (another cookie); never in an organizer's page or
    an API answer, and no reading mark ever leaves in anything but a page's text.
    """
    chosen = i18n.choose(read_cookie(event, i18n.COOKIE), event.headers.get("accept-language"))
    attendee = not routed_path(event).startswith(_WITHOUT_RUBY)
    ruby = attendee and i18n.wants_ruby(chosen, read_cookie(event, i18n.RUBY_COOKIE))
    with i18n.speaking(chosen, here(event), ruby):
        response = get_response(event)
    if ruby and isinstance(response.body, str):
        from chalicelib.text import furigana  # only where ふりがな are on: not on a cold start's path

        response.body = furigana.unmarked(response.body)  # anything that did not pass through a page's rendering
    response.headers.setdefault("Content-Language", i18n.tag(chosen))
    response.headers["Vary"] = "Accept-Language, Cookie"
    return response


# Where ふりがな never go: organizers' pages and the JSON API.
_WITHOUT_RUBY = ("/organizer", "/api/")


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
