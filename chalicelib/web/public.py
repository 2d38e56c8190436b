"""The attendee's pages: the events, an event's form, a registrant's own page, the language switch, the stylesheet.

Each route reads the request, hands over to a use case, and answers with a page rendered by pages.py.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from chalice.app import Blueprint, Response

from chalicelib.config.services import current
from chalicelib.domain import email_typos
from chalicelib.domain.attendee import Attendee, validate_address, validate_changes, validate_registration
from chalicelib.domain.event import Event
from chalicelib.domain.event_state import EventState
from chalicelib.domain.links import local_path, personal_path
from chalicelib.domain.registration import Registration, RegistrationStatus
from chalicelib.text import i18n
from chalicelib.text import messages as msg
from chalicelib.usecases import (
    address_guards,
    catalog,
    changes,
    choices,
    link_requests,
    privacy,
    registering,
    registrations,
    waitlist,
)
from chalicelib.usecases.changes import CancelOutcome, CorrectOutcome
from chalicelib.usecases.registering import Outcome
from chalicelib.web import bots, edge, http, pages
from chalicelib.web.headers import PRIVATE

routes = Blueprint(__name__)

_SUBMISSION_ID = re.compile(r"^[0-9A-Z]{10,40}$")
_STATIC = {"style.css": "text/css; charset=utf-8"}
_STATIC_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "static")


def _base() -> str:
    return http.base_path(routes.current_request)


def _not_found() -> Response:
    return http.html(pages.message_page(_base(), msg.EVENT_NOT_FOUND, msg.EVENT_NOT_FOUND), 404)


def submission_id(candidate: Any) -> str:
    """Keep a well-formed id from the form or header; otherwise this is a fresh submission."""
    return candidate if isinstance(candidate, str) and _SUBMISSION_ID.match(candidate) else current().ids()


@routes.route("/", methods=["GET"])
def index() -> Response:
    """Upcoming events."""
    s = current()
    now = s.clock.now()
    listed = [state for state in catalog.upcoming_events(s.table, now) if not state.hidden]
    return http.html(pages.index_page(_base(), listed, now))


@routes.route("/events/{slug}", methods=["GET"])
def event_page(slug: str) -> Response:
    """An event and its registration form."""
    s = current()
    state = catalog.public_event(s.table, slug)
    if state is None:
        return _not_found()
    return http.html(_event_form(state, s.ids()))


@routes.route("/events/{slug}", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def submit_registration_form(slug: str) -> Response:
    """The form's POST: register, or show the form again with every problem explained."""
    s = current()
    event = s.events.get(slug)  # details only: the transaction below is what checks the seats
    if event is None:
        return _not_found()
    raw = http.form_fields(routes.current_request, per_field_check=True)
    if isinstance(raw, Response):
        return raw
    submission = submission_id(raw.get("submission_id"))
    language = i18n.current()
    spoken = event.in_language(language)
    checked = validate_registration(
        raw,
        [c.key for c in event.categories],
        language,
        modes=event.field_modes(),
        asked=spoken.questions,
        labels=spoken.field_labels(),
    )
    form = email_typos.review(checked, raw)
    now = s.clock.now()
    verdict = bots.screen(s.signer, slug, {**raw, "submission_id": submission}, now)
    if verdict is not bots.Verdict.PERSON:
        # Shown again with what they typed: a person presses the button once more; a bot gets nothing.
        state = catalog.public_event(s.table, slug)
        if state is None:
            return _not_found()
        return http.html(_event_form(state, submission, form.values, notice=msg.FORM_CHECKS[verdict.value]), 400)
    result = None
    if form.attendee is not None:
        result = registering.register(s.table, event, form.attendee, submission, now, s.ids)
        if result.outcome is Outcome.BUSY:
            return _busy(slug, submission, form.values)
        if result.outcome is Outcome.CHOICE_FULL:
            return _choice_full(slug, submission, form.values, form.attendee, language)
        if result.outcome is Outcome.RESUBMITTED:
            return _resubmitted(slug, form.values)
        if result.outcome in (Outcome.REGISTERED, Outcome.WAITLISTED, Outcome.APPLIED):
            return see_registration(event, result.registration_id)
    # Every other answer shows the event as it is now, so read it (off the happy path).
    state = catalog.public_event(s.table, slug)
    if state is None or (result is not None and result.outcome is Outcome.NOT_FOUND):
        return _not_found()
    if result is None:
        return http.html(_event_form(state, submission, form.values, form.errors), 400)
    if result.outcome is Outcome.ALREADY_REGISTERED:
        return http.html(pages.already_registered_page(_base(), state, result.confirmation_resent))
    notices = {Outcome.FULL: msg.EVENT_FULL, Outcome.DRAWING: msg.EVENT_DRAWING}
    return http.html(_event_form(state, submission, notice=notices.get(result.outcome, msg.EVENT_CLOSED)), 409)


@routes.route("/events/{slug}/my-link", methods=["GET"])
def link_request_form(slug: str) -> Response:
    """For a registrant without the mail: type the address to get the personal link again."""
    state = catalog.public_event(current().table, slug)
    if state is None:
        return _not_found()
    return http.html(_link_request(state, current().ids()), headers=PRIVATE)


@routes.route("/events/{slug}/my-link", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def request_link(slug: str) -> Response:
    """Mail the personal link to the address if it registered; the answer never says whether it did."""
    s = current()
    state = catalog.public_event(s.table, slug)
    if state is None:
        return _not_found()
    raw = http.form_fields(routes.current_request, per_field_check=True)
    if isinstance(raw, Response):
        return raw
    submission = submission_id(raw.get("submission_id"))
    address, problem = validate_address(raw.get("email", ""))
    now = s.clock.now()
    fields = {**raw, "submission_id": submission}
    if bots.screen(s.signer, slug, fields, now, bots.Form.LINK_REQUEST) is not bots.Verdict.PERSON:
        return http.html(_link_request(state, submission, {"email": address}, notice=msg.LINK_REQUEST_CHECK), 400)
    if problem:
        return http.html(_link_request(state, submission, {"email": address}, {"email": problem}), 400)
    client = http.client_address(routes.current_request)
    asked = link_requests.request_link(s.table, slug, address, submission, client, now, s.ids)
    if asked is link_requests.LinkRequest.TOO_MANY:
        return http.html(_link_request(state, submission, {"email": address}, notice=msg.LINK_REQUEST_TOO_MANY), 429)
    minutes = int(address_guards.RESEND_INTERVAL.total_seconds() // 60)
    sent = i18n.gettext(msg.LINK_REQUEST_SENT).format(minutes=minutes)
    return http.html(_link_request(state, submission, sent=sent), headers=PRIVATE)


def _link_request(state: EventState, submission: str, *args: Any, **kwargs: Any) -> str:
    token = bots.form_token(
        current().signer, state.event.slug, submission, current().clock.now(), bots.Form.LINK_REQUEST
    )
    return pages.link_request_page(_base(), state, submission, token, *args, **kwargs)


def _choice_full(slug: str, submission: str, values: Mapping[str, str], attendee: Attendee, language: str) -> Response:
    """An answer with a capacity has none left: the form again, as typed, saying which (nothing was written)."""
    s = current()
    state = catalog.public_event(s.table, slug)
    if state is None:
        return _not_found()
    errors = choices.full_answers(state, attendee, language)
    return http.html(_event_form(state, submission, values, errors), 409)


def _resubmitted(slug: str, values: Mapping[str, str]) -> Response:
    """This page registered someone already: the form again, as typed, as a new page (nothing was written)."""
    state = catalog.public_event(current().table, slug)
    if state is None:
        return _not_found()
    return http.html(_event_form(state, current().ids(), values, notice=msg.RESUBMITTED), 409)


def _busy(slug: str, submission: str, values: Mapping[str, str]) -> Response:
    """Every try lost its race: the form again, as typed, asking to press once more (nothing was registered)."""
    state = catalog.public_event(current().table, slug)
    if state is None:
        return _not_found()
    page = _event_form(state, submission, values, notice=msg.BUSY)
    return http.html(page, http.BUSY_STATUS, {"Retry-After": http.BUSY_RETRY_AFTER})


def _event_form(
    state: EventState,
    submission: str,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    notice: str = "",
) -> str:
    """The event page with a form that carries a fresh signed token for this submission."""
    s = current()
    now = s.clock.now()
    token = bots.form_token(s.signer, state.event.slug, submission, now)
    page_url = http.site_url(routes.current_request) + f"/events/{state.event.slug}"
    return pages.event_page(_base(), state, now, submission, token, values, errors, notice, page_url)


@routes.route("/events/{slug}/registrations/{registration_id}", methods=["GET"])
def registration_page(slug: str, registration_id: str) -> Response:
    """A registrant's own page, opened from the link in their e-mails (or the redirect after registering)."""
    found = opened_own(slug, registration_id)
    if isinstance(found, Response):
        return found
    state, registration, token, query = found
    done = msg.DONE_NOTICES.get(query.get("done", ""), "")
    return http.html(_registration_page(state, registration, token, done=done), headers=PRIVATE)


@routes.route(
    "/events/{slug}/registrations/{registration_id}",
    methods=["POST"],
    content_types=["application/x-www-form-urlencoded"],
)
def change_registration(slug: str, registration_id: str) -> Response:
    """Corrections, a cancellation or erasure, posted from the registrant's own page."""
    found = posted_own(slug, registration_id)
    if isinstance(found, Response):
        return found
    state, registration, token, raw = found
    action = raw.get("action", "")
    if action in ("cancel", "erase") and raw.get(f"confirm_{action}") != "yes":
        errors = {f"confirm_{action}": msg.CONFIRMATION_NEEDED[action]}
        return http.html(_registration_page(state, registration, token, errors=errors), 400, PRIVATE)
    if action not in ("cancel", "erase") and registration.erased:
        return page_again(state, registration, token, msg.ERASED_ALREADY, 409)
    handler = _ACTIONS.get(action)
    if handler is None:
        return page_again(state, registration, token, msg.ACTION_UNKNOWN, 400)
    return handler(state, registration, token, raw)


def _cancel(state: EventState, registration: Registration, token: str, raw: Mapping[str, str]) -> Response:
    s = current()
    result = changes.cancel(s.table, state.event, registration.registration_id, s.clock.now())
    if result.outcome is CancelOutcome.TOO_LATE:
        return page_again(state, registration, token, msg.CANCEL_TOO_LATE, 409)
    return see_registration(state.event, registration.registration_id, done="cancelled")


def _erase(state: EventState, registration: Registration, token: str, raw: Mapping[str, str]) -> Response:
    s = current()
    privacy.erase(s.table, state.event, registration.registration_id, s.clock.now())
    return see_registration(state.event, registration.registration_id, done="erased")


def _edit(state: EventState, registration: Registration, token: str, raw: Mapping[str, str]) -> Response:
    s = current()
    event = state.event
    spoken = event.in_language(registration.lang)
    editable = [q for q in spoken.questions if q.editable]
    form = validate_changes(
        raw,
        [c.key for c in event.categories],
        registration.attendee,
        event.field_modes(),
        editable,
        spoken.field_labels(),
    )
    if form.attendee is None:
        page = _registration_page(state, registration, token, values=form.values, errors=form.errors)
        return http.html(page, 400, PRIVATE)
    outcome = changes.correct(s.table, state.event, registration.registration_id, form.attendee, s.clock.now())
    if outcome is not CorrectOutcome.SAVED:
        return page_again(state, registration, token, msg.CORRECTION_REFUSED[outcome.value], 409)
    return see_registration(state.event, registration.registration_id, done="saved")


def _take_back(state: EventState, registration: Registration, token: str, raw: Mapping[str, str]) -> Response:
    from chalicelib.usecases import reconfirmation

    s = current()
    outcome = reconfirmation.take_back(s.table, state.event, registration.registration_id, s.clock.now())
    if outcome is not reconfirmation.TakeBack.TAKEN_BACK:
        return page_again(state, registration, token, msg.TAKE_BACK_REFUSED[outcome.value], 409)
    return see_registration(state.event, registration.registration_id, done="taken_back")


_ACTIONS = {"cancel": _cancel, "erase": _erase, "edit": _edit, "take_back": _take_back}


def page_again(state: EventState, registration: Registration, token: str, notice: str, status: int) -> Response:
    return http.html(_registration_page(state, registration, token, notice=notice), status, PRIVATE)


Own = tuple[EventState, Registration, str, dict[str, str]]


def opened_own(slug: str, registration_id: str) -> Own | Response:
    """A registrant's own page (or one under it) opened by its link: the event, registration, token and query."""
    query = http.query_params(routes.current_request)
    found = own_registration(slug, registration_id, query.get("token", ""))
    return found if isinstance(found, Response) else (*found, query)


def posted_own(slug: str, registration_id: str) -> Own | Response:
    """A form posted from a registrant's own pages: the event, registration, token and the form's fields."""
    raw = http.form_fields(routes.current_request, per_field_check=True)
    if isinstance(raw, Response):
        return raw
    found = own_registration(slug, registration_id, raw.get("token", ""))
    return found if isinstance(found, Response) else (*found, raw)


def own_registration(slug: str, registration_id: str, token: str) -> tuple[EventState, Registration, str] | Response:
    """The event and registration a valid personal link points to; otherwise the page that says the link is bad."""
    s = current()
    state = None
    registration = None
    if s.signer.verify(slug, registration_id, token, s.clock.now()):
        state = catalog.get_event(s.table, slug)
        registration = registrations.get_registration(s.table, slug, registration_id) if state else None
    if state is None or registration is None:
        # The same answer for a wrong token and an unknown registration: nothing to probe.
        return http.html(pages.message_page(_base(), msg.LINK_INVALID_TITLE, msg.LINK_INVALID), 404, PRIVATE)
    return state, registration, token


def _registration_page(state: EventState, registration: Registration, token: str, **extra: Any) -> str:
    # Read only on this page (and imported here): the event page and the form, the rush, never need them.
    from chalicelib.usecases import reconfirmation, survey_answers

    s = current()
    place = waitlist.position(s.table, state.event.slug, registration.wait_sk) if registration.wait_sk else 0
    qr = ""
    if registration.status == RegistrationStatus.CONFIRMED.value and not registration.erased:
        # The same code as in the mails, for a registrant who cannot find theirs at the door.
        qr = http.door_qr_svg(routes.current_request, s.signer, state.event, registration)
    now = s.clock.now()
    ledger = waitlist.read_ledger(s.table, state.event.slug) if registration.released_at else None
    offer_back = ledger is not None and reconfirmation.may_take_back(state.event, registration, ledger, now)
    survey_open = survey_answers.refusal(state.event, registration, now) is None and not survey_answers.answered(
        s.table, state.event.slug, registration.registration_id
    )
    return pages.registration_page(
        _base(), state, registration, token, now, place, qr, offer_back=offer_back, survey_open=survey_open, **extra
    )


def see_registration(event: Event, registration_id: str, done: str = "") -> Response:
    """303 to the registrant's own page, with its signed token."""
    path = personal_path(current().signer, event.slug, registration_id, event.ends_at)
    return http.see_other(_base() + path + (f"&done={done}" if done else ""))


@routes.route("/language/{code}", methods=["GET"])
def choose_language(code: str) -> Response:
    """The language switch: remember the choice for a year and go back to the page it was made on."""
    chosen = i18n.supported(code) or i18n.DEFAULT
    back = local_path(http.query_params(routes.current_request).get("back", "/"))
    cookie = f"{i18n.COOKIE}={chosen}; Path=/; Max-Age=31536000; Secure; SameSite=Lax"
    return http.see_other(_base() + back, {"Set-Cookie": cookie})


@routes.route("/furigana/{choice}", methods=["GET"])
def choose_furigana(choice: str) -> Response:
    """The ふりがな switch: on or off, remembered for a year, back to the page it was pressed on."""
    value = "on" if choice == "on" else "off"
    back = local_path(http.query_params(routes.current_request).get("back", "/"))
    cookie = f"{i18n.RUBY_COOKIE}={value}; Path=/; Max-Age=31536000; Secure; SameSite=Lax"
    return http.see_other(_base() + back, {"Set-Cookie": cookie})


@routes.route("/static/{name}", methods=["GET"])
def static_file(name: str) -> Response:
    """The stylesheet, served by the app itself (no CDN)."""
    if name not in _STATIC:
        return edge.edge_response(routes.current_request, edge.NOT_FOUND, 404)
    with open(os.path.join(_STATIC_DIR, name), encoding="utf-8") as handle:
        body = handle.read()
    return Response(body=body, headers={"Content-Type": _STATIC[name], "Cache-Control": "public, max-age=3600"})
