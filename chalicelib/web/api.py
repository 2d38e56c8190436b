"""The JSON API for trusted integrations: an event's availability, and registering with the form's own validation.

Every call needs an API key an organizer issued (usecases/api_keys.py); a call from a web page of
another site (its `Origin`) is refused, so visitors' browsers cannot be used to register strangers;
a registration must be sent as `application/json` exactly. The API is described at /api/openapi.json.
"""

from __future__ import annotations

import re
from typing import Any

from chalice.app import Blueprint, Response

from chalicelib.config.services import current
from chalicelib.domain.attendee import validate_registration
from chalicelib.domain.event import Event
from chalicelib.domain.questions import answers_of
from chalicelib.domain.registration import display_number
from chalicelib.text import i18n
from chalicelib.text import messages as msg
from chalicelib.usecases import api_keys, catalog, choices, idempotency, registering, registrations, waitlist
from chalicelib.usecases.registering import Outcome
from chalicelib.web import http
from chalicelib.web.http import BUSY_RETRY_AFTER, BUSY_STATUS

routes = Blueprint(__name__)

_STATUS_CODES = {
    Outcome.REGISTERED: 201,
    Outcome.WAITLISTED: 201,
    Outcome.APPLIED: 201,
    Outcome.DRAWING: 409,
    Outcome.ALREADY_REGISTERED: 200,
    Outcome.FULL: 409,
    Outcome.CLOSED: 409,
    Outcome.NOT_FOUND: 404,
    Outcome.BUSY: BUSY_STATUS,
    Outcome.CHOICE_FULL: 409,
    Outcome.RESUBMITTED: 409,
}
_TOOK_SOMETHING = (Outcome.REGISTERED, Outcome.WAITLISTED, Outcome.APPLIED)


def _not_found() -> Response:
    return Response(body={"status": "not_found", "message": i18n.gettext(msg.EVENT_NOT_FOUND)}, status_code=404)


def _refused(status: int, code: str, message: str, headers: dict[str, str | list[str]] | None = None) -> Response:
    return Response(body={"status": code, "message": i18n.gettext(message)}, status_code=status, headers=headers)


def _admit(slug: str, body_expected: bool = False) -> Response | None:
    """The answer refusing this call, or None to let it through: its origin, its key, its content type."""
    request = routes.current_request
    origin = request.headers.get("origin")
    if origin is not None and origin.rstrip("/") != http.site_origin(request):
        return _refused(403, "forbidden", msg.API_OTHER_SITE)
    s = current()
    access = api_keys.check(s.table, request.headers.get("authorization"), slug, s.clock.now())
    if access is api_keys.Access.TOO_MANY:
        return _refused(429, "too_many_requests", msg.API_TOO_MANY, {"Retry-After": "60"})
    if access is not api_keys.Access.ALLOWED:
        return _refused(401, "unauthorized", msg.API_KEY_NEEDED, {"WWW-Authenticate": 'Bearer realm="uketsuke"'})
    if body_expected and not _JSON.fullmatch(request.headers.get("content-type", "")):
        return _refused(415, "unsupported_media_type", msg.API_JSON_ONLY)
    return None


# application/json, alone or with charset=utf-8: browsers may send text/plain cross-site without asking.
_JSON = re.compile(r"\s*application/json\s*(;\s*charset\s*=\s*\"?utf-8\"?\s*)?", re.IGNORECASE)


@routes.route("/api/events/{slug}", methods=["GET"])
def event_json(slug: str) -> Response:
    """An event's availability for integrations."""
    refused = _admit(slug)
    if refused is not None:
        return refused
    s = current()
    state = catalog.public_event(s.table, slug)
    if state is None:
        return _not_found()
    body = {
        "slug": slug,
        "title": state.event.in_language(i18n.current()).title,
        "availability": state.availability(s.clock.now()).value,
        "capacity": state.event.capacity,
        "seats_left": state.seats_left,
        # A hybrid event's modes, each with its own seats and line (empty for any other event).
        "modes": [
            {"mode": m.pool, "capacity": m.capacity, "seats_left": m.seats_left, "waiting": m.waiting}
            for m in state.modes()
        ],
    }
    return Response(body=body)


@routes.route("/api/events/{slug}/registrations", methods=["POST"], content_types=["application/json"])
def register_json(slug: str) -> Response:
    """Register through JSON, with the same validation as the form and errors per field."""
    refused = _admit(slug, body_expected=True)
    if refused is not None:
        return refused
    s = current()
    event = s.events.get(slug)  # details only: the transaction checks the seats
    if event is None:
        return _not_found()
    try:
        data = http.json_body(routes.current_request)
    except http.BodyTooLarge:
        return Response(body={"status": "invalid", "message": http.too_large()}, status_code=413)
    except http.UnreadableBody as exc:
        return Response(body={"status": "invalid", "message": str(exc)}, status_code=400)
    if not isinstance(data, dict):
        return Response(body={"status": "invalid", "message": i18n.gettext(msg.BODY_NOT_OBJECT)}, status_code=400)
    key = routes.current_request.headers.get("idempotency-key")
    if key is None:
        return _answer(_register(event, data, s.ids()))
    if not idempotency.KEY_PATTERN.fullmatch(key):
        message = i18n.gettext(msg.IDEMPOTENCY_KEY_INVALID).format(limit=255)
        return Response(body={"status": "invalid", "message": message}, status_code=400)
    print_ = idempotency.fingerprint(slug, data)
    try:
        kept = idempotency.begin(s.table, slug, key, print_, s.clock.now())
    except idempotency.KeyReused:
        body = {"status": "idempotency_key_reused", "message": i18n.gettext(msg.IDEMPOTENCY_KEY_REUSED)}
        return Response(body=body, status_code=422)
    except idempotency.StillInProgress:
        body = {"status": "in_progress", "message": i18n.gettext(msg.IDEMPOTENCY_IN_PROGRESS)}
        return Response(body=body, status_code=409, headers={"Retry-After": "1"})
    if kept is not None:
        return _answer(kept, replayed=True)
    answer = _register(event, data, idempotency.submission_id(key))
    if answer.status == BUSY_STATUS:
        idempotency.abandon(s.table, slug, key, print_)  # not an answer to keep: the same request may come again
    else:
        idempotency.finish(s.table, slug, key, answer)
    return _answer(answer)


def _register(event: Event, data: dict[str, Any], submission: str) -> idempotency.Answer:
    """Validate and register; the answer to give (the seats are never read before the transaction)."""
    s = current()
    slug = event.slug
    language = i18n.current()
    form = validate_registration(
        data,
        [c.key for c in event.categories],
        language,
        modes=event.field_modes(),
        asked=event.in_language(language).questions,
        labels=event.in_language(language).field_labels(),
    )
    if form.attendee is None:
        return idempotency.Answer(422, {"status": "invalid", "errors": form.errors})
    result = registering.register(s.table, event, form.attendee, submission, s.clock.now(), s.ids)
    body: dict[str, Any] = {"status": result.outcome.value}
    if result.outcome is Outcome.BUSY:
        body["message"] = i18n.gettext(msg.BUSY_API)
    if result.outcome is Outcome.RESUBMITTED:
        body["message"] = i18n.gettext(msg.RESUBMITTED_API)
    if result.outcome is Outcome.CHOICE_FULL:
        state = catalog.get_event(s.table, slug)  # the counters as they are after the refusal
        body["errors"] = choices.full_answers(state, form.attendee, i18n.current()) if state else {}
    if result.registration_id and result.outcome in _TOOK_SOMETHING:
        body["registration_id"] = result.registration_id
        body["registration_number"] = display_number(result.registration_id)
        body["answers"] = answers_of(form.attendee.answers)
    if result.outcome is Outcome.WAITLISTED:
        registration = registrations.get_registration(s.table, slug, result.registration_id)
        body["position"] = waitlist.position(s.table, slug, registration.wait_sk) if registration else None
    if result.outcome is Outcome.ALREADY_REGISTERED:
        body["confirmation_resent"] = result.confirmation_resent
    return idempotency.Answer(_STATUS_CODES[result.outcome], body)


def _answer(answer: idempotency.Answer, replayed: bool = False) -> Response:
    headers: dict[str, str | list[str]] = {"Idempotent-Replayed": "true"} if replayed else {}
    if answer.status == BUSY_STATUS:
        headers["Retry-After"] = BUSY_RETRY_AFTER
    return Response(body=answer.body, status_code=answer.status, headers=headers)
