"""uketsuke: routes, schedules and the stream consumer. Wiring only; behaviour lives in chalicelib/."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from typing import Any

from chalice.app import Chalice, Rate, Response

from chalicelib.config.services import Services, use
from chalicelib.config.services import current as current_services
from chalicelib.domain.attendee import validate_changes, validate_registration
from chalicelib.domain.event import Event, EventState
from chalicelib.domain.links import link_expiry, local_path, registration_path
from chalicelib.text import i18n
from chalicelib.text import messages as msg
from chalicelib.usecases import catalog, closing, feedback, privacy, reminders, waitlist
from chalicelib.usecases import registering as registrations
from chalicelib.usecases.registering import Outcome, Registration, RegistrationStatus
from chalicelib.usecases.waitlist import CancelOutcome, CorrectOutcome
from chalicelib.web import bots, pages
from chalicelib.web import http as web
from chalicelib.web import organizer as console
from chalicelib.web.headers import PRIVATE, SECURITY_HEADERS

app = Chalice(app_name="uketsuke")
app.register_blueprint(console.routes, url_prefix="/organizer")

_SUBMISSION_ID = re.compile(r"^[0-9A-Z]{10,40}$")
_STATIC = {"style.css": "text/css; charset=utf-8"}
_STATIC_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "chalicelib", "static")


@app.middleware("http")
def security_headers(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Every page, API answer and file gets the security headers."""
    response = get_response(event)
    response.headers.update(SECURITY_HEADERS)
    return response


@app.middleware("http")
def language(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Pages, mail and messages in the visitor's language: their choice (a cookie), else their browser's."""
    language = i18n.choose(web.read_cookie(event, i18n.COOKIE), event.headers.get("accept-language"))
    with i18n.speaking(language, web.here(event)):
        response = get_response(event)
    response.headers.setdefault("Content-Language", language)
    response.headers["Vary"] = "Accept-Language, Cookie"
    return response


def services() -> Services:
    """Built on first use and kept for the container's life: nothing AWS happens at import."""
    return current_services()


def use_services(replacement: Services | None) -> None:
    """Swap the collaborators (tests and the local runner)."""
    use(replacement)


def _html(body: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return web.html(body, status, headers)


def _base_path() -> str:
    return web.base_path(app.current_request)


def _not_found() -> Response:
    return _html(pages.message_page(_base_path(), msg.EVENT_NOT_FOUND, msg.EVENT_NOT_FOUND), 404)


def _form_fields() -> dict[str, str] | Response:
    return web.form_fields(app.current_request)


def _request_header(name: str) -> str | None:
    request = app.current_request
    return request.headers.get(name) if request is not None else None


def _submission_id(candidate: Any) -> str:
    """Keep a well-formed id from the form or header; otherwise this is a fresh submission."""
    return candidate if isinstance(candidate, str) and _SUBMISSION_ID.match(candidate) else services().ids()


# --- pages --------------------------------------------------------------------------------------


@app.route("/", methods=["GET"])
def index() -> Response:
    """Upcoming events."""
    s = services()
    now = s.clock.now()
    return _html(pages.index_page(_base_path(), catalog.upcoming_events(s.table, now), now))


@app.route("/events/{slug}", methods=["GET"])
def event_page(slug: str) -> Response:
    """An event and its registration form."""
    s = services()
    state = catalog.get_event(s.table, slug)
    if state is None:
        return _not_found()
    return _html(_event_form(state, s.ids()))


@app.route("/events/{slug}", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def submit_registration_form(slug: str) -> Response:
    """The form's POST: register, or show the form again with every problem explained."""
    s = services()
    event = s.events.get(slug)  # details only: the transaction below is what checks the seats
    if event is None:
        return _not_found()
    raw = _form_fields()
    if isinstance(raw, Response):
        return raw
    submission_id = _submission_id(raw.get("submission_id"))
    form = validate_registration(raw, [c.key for c in event.categories], i18n.current())
    now = s.clock.now()
    verdict = bots.screen(s.signer, slug, {**raw, "submission_id": submission_id}, now)
    if verdict is not bots.Verdict.PERSON:
        # Shown again with what they typed: a person presses the button once more; a bot gets nothing.
        state = catalog.get_event(s.table, slug)
        if state is None:
            return _not_found()
        return _html(_event_form(state, submission_id, form.values, notice=msg.FORM_CHECKS[verdict.value]), 400)
    result = None
    if form.attendee is not None:
        result = registrations.register(s.table, event, form.attendee, submission_id, now, s.ids)
        if result.outcome in (Outcome.REGISTERED, Outcome.WAITLISTED, Outcome.APPLIED):
            return _see_registration(event, result.registration_id)
    # Every other answer shows the event as it is now, so read it (off the happy path).
    state = catalog.get_event(s.table, slug)
    if state is None or (result is not None and result.outcome is Outcome.NOT_FOUND):
        return _not_found()
    if result is None:
        return _html(_event_form(state, submission_id, form.values, form.errors), 400)
    if result.outcome is Outcome.ALREADY_REGISTERED:
        return _html(pages.already_registered_page(_base_path(), state, result.confirmation_resent))
    notices = {Outcome.FULL: msg.EVENT_FULL, Outcome.DRAWING: msg.EVENT_DRAWING}
    notice = notices.get(result.outcome, msg.EVENT_CLOSED)
    return _html(_event_form(state, submission_id, notice=notice), 409)


def _event_form(
    state: EventState,
    submission_id: str,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    notice: str = "",
) -> str:
    """The event page with a form that carries a fresh signed token for this submission."""
    s = services()
    now = s.clock.now()
    token = bots.form_token(s.signer, state.event.slug, submission_id, now)
    return pages.event_page(_base_path(), state, now, submission_id, token, values, errors, notice)


@app.route("/events/{slug}/registrations/{registration_id}", methods=["GET"])
def registration_page(slug: str, registration_id: str) -> Response:
    """A registrant's own page, opened from the link in their e-mails (or the redirect after registering)."""
    request = app.current_request
    query: Mapping[str, str] = (request.query_params if request is not None else None) or {}
    found = _own_registration(slug, registration_id, query.get("token", ""))
    if isinstance(found, Response):
        return found
    state, registration, token = found
    notice = msg.DONE_NOTICES.get(query.get("done", ""), "")
    return _html(_registration_page(state, registration, token, notice=notice), headers=PRIVATE)


@app.route(
    "/events/{slug}/registrations/{registration_id}",
    methods=["POST"],
    content_types=["application/x-www-form-urlencoded"],
)
def change_registration(slug: str, registration_id: str) -> Response:
    """Corrections or a cancellation, posted from the registrant's own page."""
    s = services()
    raw = _form_fields()
    if isinstance(raw, Response):
        return raw
    found = _own_registration(slug, registration_id, raw.get("token", ""))
    if isinstance(found, Response):
        return found
    state, registration, token = found
    now = s.clock.now()
    if raw.get("action") == "cancel":
        if raw.get("confirm_cancel") != "yes":
            errors = {"confirm_cancel": msg.CANCEL_CONFIRM_NEEDED}
            return _html(_registration_page(state, registration, token, errors=errors), 400, PRIVATE)
        result = waitlist.cancel(s.table, state.event, registration_id, now)
        if result.outcome is CancelOutcome.TOO_LATE:
            return _html(_registration_page(state, registration, token, notice=msg.CANCEL_TOO_LATE), 409, PRIVATE)
        return _see_registration(state.event, registration_id, done="cancelled")
    if raw.get("action") == "erase":
        if raw.get("confirm_erase") != "yes":
            errors = {"confirm_erase": msg.ERASE_CONFIRM_NEEDED}
            return _html(_registration_page(state, registration, token, errors=errors), 400, PRIVATE)
        privacy.erase(s.table, state.event, registration_id, now)
        return _see_registration(state.event, registration_id, done="erased")
    if registration.erased:
        return _html(_registration_page(state, registration, token, notice=msg.ERASED_ALREADY), 409, PRIVATE)
    if raw.get("action") == "edit":
        form = validate_changes(raw, [c.key for c in state.event.categories], registration.attendee)
        if form.attendee is None:
            page = _registration_page(state, registration, token, values=form.values, errors=form.errors)
            return _html(page, 400, PRIVATE)
        outcome = waitlist.correct(s.table, state.event, registration_id, form.attendee, now)
        if outcome is not CorrectOutcome.SAVED:
            notice = msg.CORRECTION_REFUSED[outcome.value]
            return _html(_registration_page(state, registration, token, notice=notice), 409, PRIVATE)
        return _see_registration(state.event, registration_id, done="saved")
    return _html(_registration_page(state, registration, token, notice=msg.ACTION_UNKNOWN), 400, PRIVATE)


def _own_registration(slug: str, registration_id: str, token: str) -> tuple[EventState, Registration, str] | Response:
    """The event and registration a valid personal link points to; otherwise the page that says the link is bad."""
    s = services()
    if not s.signer.verify(slug, registration_id, token, s.clock.now()):
        # The same answer for a wrong token and an unknown registration: nothing to probe.
        return _html(pages.message_page(_base_path(), msg.LINK_INVALID_TITLE, msg.LINK_INVALID), 404, PRIVATE)
    state = catalog.get_event(s.table, slug)
    registration = registrations.get_registration(s.table, slug, registration_id) if state else None
    if state is None or registration is None:
        return _html(pages.message_page(_base_path(), msg.LINK_INVALID_TITLE, msg.LINK_INVALID), 404, PRIVATE)
    return state, registration, token


def _registration_page(state: EventState, registration: Registration, token: str, **extra: Any) -> str:
    s = services()
    place = waitlist.position(s.table, state.event.slug, registration.wait_sk) if registration.wait_sk else 0
    qr = ""
    if registration.status == RegistrationStatus.CONFIRMED.value and not registration.erased:
        from chalicelib.usecases import checkin  # off the event page's cold start: only this page draws a QR code

        # The same code as in the mails, for a registrant who cannot find theirs at the door.
        slug, registration_id = state.event.slug, registration.registration_id
        door = checkin.check_in_token(s.signer, slug, registration_id, link_expiry(state.event.ends_at))
        url = web.site_url(app.current_request) + checkin.check_in_path(slug, registration_id, door)
        qr = checkin.qr_svg(url, i18n.gettext(msg.QR_LABEL).format(number=registration.number))
    page = pages.registration_page(_base_path(), state, registration, token, s.clock.now(), place, qr, **extra)
    return page


def _see_registration(event: Event, registration_id: str, done: str = "") -> Response:
    """303 to the registrant's own page, with its signed token."""
    s = services()
    token = s.signer.token(event.slug, registration_id, link_expiry(event.ends_at))
    location = _base_path() + registration_path(event.slug, registration_id, token) + (f"&done={done}" if done else "")
    return web.see_other(location)


@app.route("/language/{code}", methods=["GET"])
def choose_language(code: str) -> Response:
    """The language switch: remember the choice for a year and go back to the page it was made on."""
    chosen = i18n.supported(code) or i18n.DEFAULT
    back = local_path(web.query_params(app.current_request).get("back", "/"))
    cookie = f"{i18n.COOKIE}={chosen}; Path=/; Max-Age=31536000; Secure; SameSite=Lax"
    return web.see_other(_base_path() + back, {"Set-Cookie": cookie})


@app.route("/static/{name}", methods=["GET"])
def static_file(name: str) -> Response:
    """The stylesheet, served by the app itself (no CDN)."""
    if name not in _STATIC:
        return Response(body="not found", status_code=404, headers={"Content-Type": "text/plain"})
    with open(os.path.join(_STATIC_DIR, name), encoding="utf-8") as handle:
        body = handle.read()
    return Response(body=body, headers={"Content-Type": _STATIC[name], "Cache-Control": "public, max-age=3600"})


# --- JSON API -----------------------------------------------------------------------------------


@app.route("/api/events/{slug}", methods=["GET"])
def event_json(slug: str) -> Response:
    """An event's availability for integrations."""
    s = services()
    state = catalog.get_event(s.table, slug)
    if state is None:
        return Response(body={"status": "not_found", "message": i18n.gettext(msg.EVENT_NOT_FOUND)}, status_code=404)
    now = s.clock.now()
    body = {
        "slug": slug,
        "title": state.event.in_language(i18n.current()).title,
        "availability": state.availability(now).value,
        "capacity": state.event.capacity,
        "seats_left": state.seats_left,
    }
    return Response(body=body)


@app.route("/api/events/{slug}/registrations", methods=["POST"], content_types=["application/json"])
def register_json(slug: str) -> Response:
    """Register through JSON, with the same validation as the form and errors per field."""
    s = services()
    event = s.events.get(slug)  # details only: the transaction checks the seats
    if event is None:
        return Response(body={"status": "not_found", "message": i18n.gettext(msg.EVENT_NOT_FOUND)}, status_code=404)
    try:
        data = json.loads(web.request_body(app.current_request).decode("utf-8"))
    except web.BodyTooLarge:
        return Response(body={"status": "invalid", "message": web.too_large()}, status_code=413)
    except (UnicodeDecodeError, ValueError):
        data = None
    if not isinstance(data, dict):
        return Response(body={"status": "invalid", "message": i18n.gettext(msg.BODY_NOT_OBJECT)}, status_code=400)
    submission_id = _submission_id(_request_header("idempotency-key"))
    form = validate_registration(data, [c.key for c in event.categories], i18n.current())
    if form.attendee is None:
        return Response(body={"status": "invalid", "errors": form.errors}, status_code=422)
    result = registrations.register(s.table, event, form.attendee, submission_id, s.clock.now(), s.ids)
    status_codes = {
        Outcome.REGISTERED: 201,
        Outcome.WAITLISTED: 201,
        Outcome.APPLIED: 201,
        Outcome.DRAWING: 409,
        Outcome.ALREADY_REGISTERED: 200,
        Outcome.FULL: 409,
        Outcome.CLOSED: 409,
        Outcome.NOT_FOUND: 404,
    }
    body: dict[str, Any] = {"status": result.outcome.value}
    if result.registration_id and result.outcome in (Outcome.REGISTERED, Outcome.WAITLISTED, Outcome.APPLIED):
        body["registration_id"] = result.registration_id
        body["registration_number"] = registrations.display_number(result.registration_id)
    if result.outcome is Outcome.WAITLISTED:
        registration = registrations.get_registration(s.table, slug, result.registration_id)
        body["position"] = waitlist.position(s.table, slug, registration.wait_sk) if registration else None
    if result.outcome is Outcome.ALREADY_REGISTERED:
        body["confirmation_resent"] = result.confirmation_resent
    return Response(body=body, status_code=status_codes[result.outcome])


# --- background work ----------------------------------------------------------------------------


@app.schedule(Rate(1, unit=Rate.MINUTES), name="send_reminders")
def send_reminders(event: Any) -> dict[str, int]:
    """Fan out every due reminder into the mail outbox."""
    s = services()
    done = reminders.send_due_reminders(s.table, s.clock.now())
    return {"reminders": len(done), "mails": sum(f.created for f in done)}


@app.schedule(Rate(1, unit=Rate.MINUTES), name="send_broadcasts")
def send_broadcasts(event: Any) -> dict[str, int]:
    """Fan out every broadcast organizers have sent into the mail outbox."""
    from chalicelib.usecases import broadcast  # only this schedule needs it: the site's cold start does not pay for it

    s = services()
    done = broadcast.fan_out_due(s.table, s.clock.now())
    return {"broadcasts": len(done), "mails": sum(created for _, _, created in done)}


@app.schedule(Rate(1, unit=Rate.MINUTES), name="close_registration")
def close_registration(event: Any) -> dict[str, int]:
    """Close full or past-deadline events and tell their organizers."""
    s = services()
    return {"closed": len(closing.close_registrations(s.table, s.clock.now()))}


@app.schedule(Rate(1, unit=Rate.MINUTES), name="draw_lotteries")
def draw_lotteries(event: Any) -> dict[str, int]:
    """Run the draw of every lottery whose time has come (once; a rerun finishes what a crash left)."""
    s = services()
    now = s.clock.now()
    return waitlist.draw_due(s.table, [state.event for state in catalog.upcoming_events(s.table, now)], now)


@app.schedule(Rate(5, unit=Rate.MINUTES), name="redrive_mail")
def redrive_mail(event: Any) -> dict[str, int]:
    """Send mail the stream consumer has not managed to send."""
    s = services()
    return {"sent": s.postman.redrive_stalled(s.clock.now())}


# Subscribed by the stack to its own topic, where SES publishes bounces and complaints (deploy/template.py).
@app.lambda_function(name="mail_feedback")
def mail_feedback(event: dict[str, Any], context: Any) -> dict[str, int]:
    """Stop mailing addresses that bounced for good or complained, and tell the organizer."""
    s = services()
    messages = [record.get("Sns", {}).get("Message", "") for record in event.get("Records", [])]
    found = [f for f in map(feedback.parse, messages) if f is not None]
    return {"stopped": sum(feedback.record(s.table, f, s.clock.now()) for f in found)}


# The stream is the stack's own table's: deploy/template.py merges its ARN into this event source.
@app.on_dynamodb_record(stream_arn="", batch_size=25, name="deliver_mail")
def deliver_mail(event: Any) -> None:
    """Send every mail the outbox stream delivers."""
    services().postman.deliver_stream_records(record.to_dict() for record in event)
