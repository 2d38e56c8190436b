"""What every page route needs from a request: its body and form fields, the site's prefix, HTML answers."""

from __future__ import annotations

import json
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlencode

from chalice.app import Request, Response

from chalicelib.domain.event import Event
from chalicelib.domain.links import LinkSigner
from chalicelib.domain.registration import Registration
from chalicelib.text import messages as msg
from chalicelib.text.i18n import gettext
from chalicelib.text.scalars import all_text
from chalicelib.web import pages

# A full form is under 10 KB even with a 1,000-character question; anything far larger is not a person.
MAX_BODY_BYTES = 64 * 1024
# A registration is one flat object; Python's parser would recurse (and fail) on thousands of levels.
MAX_JSON_DEPTH = 8


class BodyTooLarge(Exception):
    """The request body is over MAX_BODY_BYTES."""


class UnreadableBody(ValueError):
    """The body is not what the route takes; the message says why, in the visitor's language."""


# The answer when a registration's every retry lost its race (DynamoDB cancelled the transactions for
# conflicts): nothing was written, and the same request a moment later goes through.
BUSY_STATUS = 503
BUSY_RETRY_AFTER = "2"


def html(body: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """An HTML answer."""
    return Response(
        body=body, status_code=status, headers={"Content-Type": "text/html; charset=utf-8", **(headers or {})}
    )


def base_path(request: Request | None) -> str:
    """Links and redirects follow the prefix of the URL the visitor used; no deployment URL is needed."""
    if request is None:
        return ""
    event = request.to_original_event()
    return pages.base_path(str(event.get("requestContext", {}).get("path") or ""), str(event.get("path") or ""))


def routed_path(request: Request | None) -> str:
    """The path asked for, without API Gateway's stage prefix (locally there is none)."""
    if request is None:
        return ""
    event = request.to_original_event()
    return str(event.get("path") or event.get("requestContext", {}).get("path") or "")


def site_url(request: Request | None) -> str:
    """The site's address as the visitor reached it (scheme, host and prefix), for a URL used off the page."""
    if request is None:
        return ""
    return site_origin(request) + base_path(request)


def client_address(request: Request | None) -> str:
    """The address the request came from, as API Gateway saw it ('' when it says nothing)."""
    context = request.context if request is not None else {}
    return str((context.get("identity") or {}).get("sourceIp") or "")


def site_origin(request: Request | None) -> str:
    """The site's origin as the visitor's browser names it (scheme and host), to compare with an Origin header."""
    if request is None:
        return ""
    return f"{request.headers.get('x-forwarded-proto') or 'http'}://{request.headers.get('host', 'localhost')}"


def see_other(location: str, headers: dict[str, str] | None = None) -> Response:
    """303: after a POST, the browser GETs the answer (so reloading does not post again)."""
    return html("", 303, {"Location": location, **(headers or {})})


def request_body(request: Request | None) -> bytes:
    """The raw body, refused beyond MAX_BODY_BYTES."""
    try:
        body: Any = request.raw_body if request is not None else b""
    except UnicodeEncodeError as exc:  # a text body holding what no UTF-8 can carry (only local servers pass one)
        raise UnreadableBody(gettext(msg.BODY_NOT_UTF8)) from exc
    data = body.encode("utf-8") if isinstance(body, str) else (body or b"")
    if len(data) > MAX_BODY_BYTES:
        raise BodyTooLarge
    return bytes(data)


def too_large() -> str:
    """The message for a body over the limit."""
    return gettext(msg.BODY_TOO_LARGE).format(limit=f"{MAX_BODY_BYTES:,}")


def form_fields(request: Request | None, per_field_check: bool = False) -> dict[str, str] | Response:
    """The posted form's fields (the first value of each), or the page that says why it cannot be read.

    Anything that is not text (text/scalars.py) is refused here, unless the route checks each field
    itself and says which one is wrong (`per_field_check`: the registration form and corrections).
    """
    base = base_path(request)
    try:
        fields = parse_qs(request_body(request).decode("utf-8"), keep_blank_values=True, errors="strict")
    except BodyTooLarge:
        return html(pages.message_page(base, msg.ERROR_SUMMARY_TITLE, too_large()), 413)
    except (UnicodeDecodeError, UnreadableBody):
        return html(pages.message_page(base, msg.ERROR_SUMMARY_TITLE, msg.BODY_NOT_UTF8), 400)
    first = {name: values[0] for name, values in fields.items()}
    if not per_field_check and not all_text(first):
        return html(pages.message_page(base, msg.ERROR_SUMMARY_TITLE, msg.REQUEST_NOT_UNICODE), 400)
    return first


def query_params(request: Request | None) -> dict[str, str]:
    """The query string's parameters (none is an empty dict)."""
    return dict((request.query_params if request is not None else None) or {})


def read_cookie(request: Request | None, name: str) -> str:
    """One cookie's value from the request ('' if it is absent or the header is malformed)."""
    header = request.headers.get("cookie") if request is not None else None
    if not header:
        return ""
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return ""
    morsel = jar.get(name)
    return morsel.value if morsel is not None else ""


def here(request: Request | None) -> str:
    """The routed path with its query: where a link back to this page points (after the site's prefix)."""
    query = query_params(request)
    return routed_path(request) + ("?" + urlencode(query) if query else "")


def json_body(request: Request | None) -> Any:
    """The body as JSON: at most MAX_BODY_BYTES, UTF-8, nested at most MAX_JSON_DEPTH deep, text only.

    Raises BodyTooLarge, or UnreadableBody with the reason to give.
    """
    try:
        text = request_body(request).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableBody(gettext(msg.BODY_NOT_UTF8)) from exc
    if _nesting(text) > MAX_JSON_DEPTH:
        raise UnreadableBody(gettext(msg.BODY_TOO_DEEP).format(limit=MAX_JSON_DEPTH))
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise UnreadableBody(gettext(msg.BODY_NOT_JSON)) from exc
    if not all_text(data):
        raise UnreadableBody(gettext(msg.REQUEST_NOT_UNICODE))
    return data


def _nesting(text: str) -> int:
    """How deep arrays and objects nest in JSON text (brackets inside strings do not count)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def door_qr_svg(request: Request | None, signer: LinkSigner, event: Event, registration: Registration) -> str:
    """The check-in QR code the seat's mails carry, as inline SVG: for the registrant's page and for print."""
    from chalicelib.domain.links import signed_check_in_path
    from chalicelib.mail.qr import qr_svg  # off the event page's cold start: only these pages draw a QR code

    door = signed_check_in_path(signer, event.slug, registration.registration_id, event.ends_at)
    return qr_svg(site_url(request) + door, gettext(msg.QR_LABEL).format(number=registration.number))
