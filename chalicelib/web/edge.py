"""Answers for requests no route handles, the same wherever they come from.

On AWS, API Gateway answers an unknown path (and a method a path does not have: REST APIs cannot tell
the two apart), its own throttling and its own failures without running the app; the stack turns
those into this module's pages through gateway responses (deploy/template.py). `make run`'s server
does the same for unknown paths (local/run.py), and the app's middleware for a method a path lacks
and for an error nothing caught. Each page is in Japanese with English and carries the security
headers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalice.app import Response

from chalicelib.templating import render
from chalicelib.text import i18n
from chalicelib.text import messages as msg
from chalicelib.web.headers import PRIVATE, SECURITY_HEADERS
from chalicelib.web.http import base_path, read_cookie, routed_path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EdgeError:
    """One kind of answer: its status (None keeps API Gateway's own), title and text."""

    status: int | None
    kind: str  # the JSON API's `status` field
    message: tuple[str, str]  # title, text (message ids)


NOT_FOUND = EdgeError(404, "not_found", msg.EDGE_NOT_FOUND)
NOT_ALLOWED = EdgeError(405, "method_not_allowed", msg.EDGE_NOT_ALLOWED)
THROTTLED = EdgeError(429, "throttled", msg.EDGE_THROTTLED)
CLIENT_ERROR = EdgeError(None, "invalid", msg.EDGE_CLIENT_ERROR)
SERVER_ERROR = EdgeError(None, "error", msg.EDGE_SERVER_ERROR)

# API Gateway's response types (its "Gateway response types" reference) and the page each gets.
# DEFAULT_4XX and DEFAULT_5XX cover every other type of their class and keep its status.
GATEWAY_RESPONSES = {
    "MISSING_AUTHENTICATION_TOKEN": NOT_FOUND,
    "THROTTLED": THROTTLED,
    "DEFAULT_4XX": CLIENT_ERROR,
    "DEFAULT_5XX": SERVER_ERROR,
}

HEADERS = {**SECURITY_HEADERS, **PRIVATE, "Content-Type": "text/html; charset=utf-8", "Content-Language": "ja, en"}


def edge_page(error: EdgeError, base: str) -> str:
    """The page for `error`, in Japanese with English; `base` is the site's path prefix."""
    spoken = {}
    for language in ("ja", "en"):
        with i18n.speaking(language):
            title, text = error.message
            spoken[language] = {
                "title": i18n.gettext(title),
                "text": i18n.gettext(text),
                "home": i18n.gettext(msg.EDGE_HOME),
            }
    return render("pages/edge.html", base=base, ja=spoken["ja"], en=spoken["en"])


def edge_response(event: Any, error: EdgeError, status: int, headers: dict[str, str] | None = None) -> Response:
    """The answer to a request the app reached: JSON under /api/ (in the client's language), else the page."""
    extra: dict[str, str | list[str]] = dict(headers or {})
    if routed_path(event).startswith("/api/"):
        chosen = i18n.choose(read_cookie(event, i18n.COOKIE), event.headers.get("accept-language"))
        with i18n.speaking(chosen):
            body = {"status": error.kind, "message": i18n.gettext(error.message[1])}
        return Response(body=body, status_code=status, headers=extra)
    return Response(body=edge_page(error, base_path(event)), status_code=status, headers={**HEADERS, **extra})


def friendly_errors(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """A method the path lacks, or an error nothing caught, gets the site's own answer instead of Chalice's JSON."""
    try:
        response = get_response(event)
    except Exception:
        log.exception("unhandled error on %s", routed_path(event))  # the alarm counts it; the visitor gets a page
        return edge_response(event, SERVER_ERROR, 500)
    code = response.body.get("Code") if isinstance(response.body, dict) else None
    if response.status_code == 405 and code == "MethodNotAllowedError":
        return edge_response(event, NOT_ALLOWED, 405, {"Allow": str(response.headers.get("Allow", ""))})
    if response.status_code == 500 and code == "InternalServerError":  # Chalice caught a view's error, and logged it
        return edge_response(event, SERVER_ERROR, 500)
    return response
