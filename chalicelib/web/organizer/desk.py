"""One registration and the desk: see it, correct it, cancel, move up, take back; add someone by hand."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from chalice.app import Response
from markupsafe import Markup

from chalicelib.config.services import current
from chalicelib.domain import questions
from chalicelib.domain.attendee import EDITABLE_FIELDS, NEEDS_FIELD_PREFIX
from chalicelib.domain.event_state import EventState
from chalicelib.text import messages as msg
from chalicelib.usecases.staff import Role
from chalicelib.web.headers import PRIVATE
from chalicelib.web.http import door_qr_svg, query_params, see_other
from chalicelib.web.organizer.access import Visit, get, home, post, routes


def _entry(visit: Visit, state: EventState, registration_id: str, erased_too: bool = True) -> Any:
    """The registration a staff page is about, or a 404 page."""
    from chalicelib.usecases import roster

    found = roster.entry(current().table, state.event.slug, registration_id)
    if found is None or (found.registration.erased and not erased_too):
        raise visit.refuse(404, msg.CHECK_IN_RESULT["not_found"])
    return found


@get("/events/{slug}/registrations/{registration_id}", Role.STAFF)
def registration_detail(visit: Visit, slug: str, registration_id: str) -> Response:
    """One registration, its arrival and every mail sent to it."""
    state = visit.event(slug)
    found = _entry(visit, state, registration_id)
    done = msg.DESK_DONE.get(query_params(routes.current_request).get("done", ""), "")
    return _registration_page(visit, state, found, done=done)


def _registration_page(visit: Visit, state: EventState, found: Any, status: int = 200, **context: Any) -> Response:
    """One registration with its mail, its audit trail and what staff may do to it now."""
    from chalicelib.usecases import assisted, roster

    s = current()
    rid = found.registration.registration_id
    history = roster.mail_history(s.table, state.event.slug, rid)
    trail = assisted.trail(s.table, state.event.slug, rid)
    attendee = found.registration.attendee
    values = {**{f: getattr(attendee, f) for f in (*EDITABLE_FIELDS, "email")}}
    values.update({NEEDS_FIELD_PREFIX + key: "yes" for key in attendee.needs_list})
    values.update(questions.form_values(state.event.questions, questions.answers_of(attendee.answers)))
    context = {"errors": {}, "notice": "", "done": "", "values": values, **context}
    return visit.page(
        "registration.html", status, event=state.event, entry=found, history=history, trail=trail, **context
    )


@post("/events/{slug}/registrations/{registration_id}", Role.STAFF)
def act_on_registration(visit: Visit, slug: str, registration_id: str) -> Response:
    """Staff correct, cancel, move up, take back or un-check-in one registration (each audited)."""
    state = visit.event(slug)
    found = _entry(visit, state, registration_id, erased_too=False)
    handler = _DESK_ACTIONS.get(visit.fields.get("action", ""))
    if handler is None:
        return _registration_page(visit, state, found, 400, notice=msg.ACTION_UNKNOWN)
    return handler(visit, state, found)


def _reason(fields: dict[str, str]) -> str:
    return " ".join(fields.get("reason", "").split())[:500]


def _desk_edit(visit: Visit, state: EventState, found: Any) -> Response:
    from chalicelib.domain.attendee import validate_registration
    from chalicelib.usecases import assisted

    s = current()
    registration = found.registration
    categories = [c.key for c in state.event.categories]
    raw = {**visit.fields, "consent": "yes", "question": registration.attendee.question}
    form = validate_registration(
        raw,
        categories,
        registration.lang,
        address_optional=True,
        modes=state.event.field_modes(),
        asked=state.event.questions,
        kept_answers=registration.attendee.answers,
        labels=state.event.field_labels(),
    )
    if form.attendee is None:
        return _registration_page(visit, state, found, 400, errors=form.errors, values=form.values)
    by = visit.signed_in.email
    rid, why = registration.registration_id, _reason(visit.fields)
    outcome = assisted.edit(s.table, state.event, rid, form.attendee, by, s.clock.now(), s.ids, why)
    if outcome in (assisted.EditOutcome.SAVED, assisted.EditOutcome.UNCHANGED):
        return _see_registration(state, registration.registration_id, "saved")
    return _registration_page(visit, state, found, 409, notice=msg.DESK_REFUSED[outcome.value], values=form.values)


def _desk_cancel(visit: Visit, state: EventState, found: Any) -> Response:
    from chalicelib.usecases import assisted

    s = current()
    if visit.fields.get("confirm_cancel") != "yes":
        errors = {"confirm_cancel": msg.CONFIRMATION_NEEDED["cancel"]}
        return _registration_page(visit, state, found, 400, errors=errors)
    rid = found.registration.registration_id
    assisted.cancel_for(s.table, state.event, rid, visit.signed_in.email, _reason(visit.fields), s.clock.now())
    return _see_registration(state, rid, "cancelled")


def _desk_move_up(visit: Visit, state: EventState, found: Any) -> Response:
    from chalicelib.usecases import assisted

    s = current()
    reason = _reason(visit.fields)
    if not reason:
        return _registration_page(visit, state, found, 400, errors={"move-reason": msg.DESK_REASON_NEEDED})
    rid = found.registration.registration_id
    outcome = assisted.move_up(s.table, state.event, rid, visit.signed_in.email, reason, s.clock.now())
    if outcome not in (assisted.MoveOutcome.MOVED_UP, assisted.MoveOutcome.PUT_FIRST):
        return _registration_page(visit, state, found, 409, notice=msg.DESK_REFUSED[outcome.value])
    return _see_registration(state, rid, outcome.value)


def _desk_reinstate(visit: Visit, state: EventState, found: Any) -> Response:
    from chalicelib.usecases import assisted
    from chalicelib.usecases.registering import Outcome

    s = current()
    rid = found.registration.registration_id
    result = assisted.reinstate(s.table, state.event, rid, visit.signed_in.email, s.clock.now(), s.ids)
    if result is None or result.outcome is not Outcome.REGISTERED:
        refusal = "already_registered" if result and result.outcome is Outcome.ALREADY_REGISTERED else "no_seat"
        return _registration_page(visit, state, found, 409, notice=msg.DESK_REFUSED[refusal])
    return _see_registration(state, result.registration_id, "reinstated")


def _desk_undo_check_in(visit: Visit, state: EventState, found: Any) -> Response:
    from chalicelib.usecases import assisted

    s = current()
    rid = found.registration.registration_id
    by, reason = visit.signed_in.email, _reason(visit.fields)
    if not assisted.undo_check_in(s.table, state.event, rid, by, reason, s.clock.now()):
        return _registration_page(visit, state, found, 409, notice=msg.DESK_REFUSED["not_checked_in"])
    return _see_registration(state, rid, "check_in_undone")


def _desk_reached(visit: Visit, state: EventState, found: Any) -> Response:
    from chalicelib.usecases import assisted

    s, rid = current(), found.registration.registration_id
    assisted.mark_reached(s.table, state.event, rid, visit.signed_in.email, _reason(visit.fields), s.clock.now())
    return _see_registration(state, rid, "reached")  # pressed twice: reached already, the same page


_DESK_ACTIONS: dict[str, Callable[[Visit, EventState, Any], Response]] = {
    "edit": _desk_edit,
    "cancel": _desk_cancel,
    "move_up": _desk_move_up,
    "reinstate": _desk_reinstate,
    "undo_check_in": _desk_undo_check_in,
    "reached": _desk_reached,
}


def _see_registration(state: EventState, registration_id: str, done: str) -> Response:
    return see_other(f"{home()}/events/{state.event.slug}/registrations/{registration_id}?done={done}", PRIVATE)


@get("/events/{slug}/add", Role.STAFF)
def add_form(visit: Visit, slug: str) -> Response:
    """Register someone who asked by phone, FAX or at the counter (with or without an e-mail address)."""
    return _add_page(visit, visit.event(slug), walk_in=False)


@get("/events/{slug}/walk-in", Role.DOOR)
def walk_in_form(visit: Visit, slug: str) -> Response:
    """Register a walk-in at the door and check them in, in one step (a seat, or nothing)."""
    return _add_page(visit, visit.event(slug), walk_in=True)


def _add_page(
    visit: Visit,
    state: EventState,
    walk_in: bool,
    status: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    notice: str = "",
) -> Response:
    values = values if values is not None else {"send_mail": "yes"}
    return visit.page(
        "add.html", status, event=state.event, values=values, errors=errors or {}, walk_in=walk_in, notice=notice
    )


@post("/events/{slug}/add", Role.STAFF)
def add_registration(visit: Visit, slug: str) -> Response:
    """Take the registration; its page follows, with a printable confirmation for people without e-mail."""
    return _add(visit, visit.event(slug), walk_in=False)


@post("/events/{slug}/walk-in", Role.DOOR)
def add_walk_in(visit: Visit, slug: str) -> Response:
    """Take a seat for a walk-in and check them in at once; refused (nothing written) when no seat is free."""
    return _add(visit, visit.event(slug), walk_in=True)


def _add(visit: Visit, state: EventState, walk_in: bool) -> Response:
    from chalicelib.domain.attendee import validate_registration
    from chalicelib.usecases import assisted, roster
    from chalicelib.usecases.registering import Outcome

    s, fields, event = current(), visit.fields, state.event
    channel = assisted.Channel.DOOR.value if walk_in else fields.get("channel", "")
    categories = [c.key for c in event.categories]
    form = validate_registration(
        fields,
        categories,
        "ja",
        address_optional=True,
        modes=event.field_modes(),
        asked=event.questions,
        labels=event.field_labels(),
    )
    errors = dict(form.errors)
    if channel not in {c.value for c in assisted.Channel}:
        errors["channel"] = msg.DESK_CHANNEL_NEEDED
    values = {**form.values, "channel": channel, "send_mail": fields.get("send_mail", "")}
    if errors or form.attendee is None:
        return _add_page(visit, state, walk_in, 400, values, errors)
    send_mail = fields.get("send_mail") == "yes"
    result = assisted.add(
        s.table, event, form.attendee, assisted.Channel(channel), send_mail, visit.signed_in.email, s.clock.now(),
        s.ids, walk_in=walk_in,
    )  # fmt: skip
    if result.outcome not in (Outcome.REGISTERED, Outcome.WAITLISTED, Outcome.APPLIED):
        refusal = msg.DESK_ADD_REFUSED.get(result.outcome.value, msg.DESK_ADD_REFUSED["full"])
        return _add_page(visit, state, walk_in, 409, values, notice=refusal)
    if walk_in:
        person = roster.entry(s.table, event.slug, result.registration_id)
        return visit.page("check_in_person.html", event=event, entry=person, result=None, walked_in=True)
    return _see_registration(state, result.registration_id, "added")


@get("/events/{slug}/registrations/{registration_id}/print", Role.STAFF)
def printable_confirmation(visit: Visit, slug: str, registration_id: str) -> Response:
    """A confirmation to print or read out, for someone registered without an e-mail address."""
    state = visit.event(slug)
    found = _entry(visit, state, registration_id, erased_too=False)
    qr = door_qr_svg(routes.current_request, current().signer, state.event, found.registration)
    return visit.page("print.html", event=state.event, entry=found, qr_svg=Markup(qr))  # noqa: S704 (segno's SVG)
