"""The organizer pages (mounted at /organizer): sign-in, dashboard, lists, exports, check-in, broadcasts.

Wiring only, like app.py: each route checks the session (and, for a POST, the form's CSRF token)
first, then hands over to the domain modules. No page here shows anything to a visitor who is
not signed in, and no POST changes anything without a token from a page served to that session.
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from chalice.app import Blueprint, Response
from markupsafe import Markup

from chalicelib.config.services import current
from chalicelib.domain import questions
from chalicelib.domain.attendee import EDITABLE_FIELDS, NEEDS_FIELD_PREFIX
from chalicelib.domain.event import DEFAULT_TIMEZONE, EventState
from chalicelib.domain.links import check_in_token_is_genuine
from chalicelib.text import messages as msg
from chalicelib.text.i18n import gettext
from chalicelib.text.templating import render
from chalicelib.usecases import catalog, sign_in, staff
from chalicelib.usecases.sign_in import Session
from chalicelib.usecases.staff import Role
from chalicelib.web import pages as pages_module
from chalicelib.web.headers import PRIVATE
from chalicelib.web.http import (
    base_path,
    door_qr_svg,
    form_fields,
    here,
    html,
    query_params,
    read_cookie,
    see_other,
)

routes = Blueprint(__name__)

# The organizer tools' own modules (roster, export, checkin, broadcast) are imported inside the routes
# that use them: every Lambda container of the site loads this module, and the attendee pages' cold
# start should not pay for the organizer tools (about 20 ms of imports).
_CSV_LISTS = ("door.csv", "meishi.csv", "waitlist.csv", "accommodation.csv", "answers.csv", "audit.csv")


def _base() -> str:
    return base_path(routes.current_request)


def _home() -> str:
    return f"{_base()}/organizer"


def _page(template: str, session: Session | None, status: int = 200, **context: Any) -> Response:
    """An organizer page: never cached, and carrying the session's CSRF token for its forms."""
    s = current()
    csrf = sign_in.csrf_token(s.signer, session) if session else ""
    body = render(f"pages/organizer/{template}", base=_base(), session=session, csrf=csrf, **context)
    return html(body, status, PRIVATE)


def _session() -> Session | None:
    """The signed-in person with their role as it is now (a removed person's session ends at once)."""
    cookie = read_cookie(routes.current_request, sign_in.COOKIE)
    if not cookie:
        return None
    s = current()
    session = sign_in.read_session(s.table, s.signer, cookie, s.clock.now())
    if session is None:
        return None
    role = staff.role_of(s.table, s.settings.organizers, session.email)
    return dataclasses.replace(session, role=role) if role else None


def _not_allowed(session: Session) -> Response:
    return _page("message.html", session, 403, title=msg.ROLE_NOT_ALLOWED, text=msg.ROLE_NOT_ALLOWED)


def _viewer(need: Role = Role.STAFF) -> Session | Response:
    """The signed-in organizer, or the way to the sign-in page, which leads back here (GET routes).

    `need`: the least role the page is for; anyone below it gets 403 (door staff see only the door).
    """
    session = _session()
    if session is None:
        then = here(routes.current_request)
        return see_other(f"{_home()}/sign-in?{urlencode({'then': then})}", PRIVATE)
    return session if staff.allows(session.role, need) else _not_allowed(session)


def _poster(need: Role = Role.STAFF) -> tuple[Session, dict[str, str]] | Response:
    """The signed-in organizer and the form they posted from one of their pages, or 403 (POST routes)."""
    fields = form_fields(routes.current_request)
    if isinstance(fields, Response):
        return fields
    session = _session()
    if session is None:
        return _page("message.html", None, 403, title=msg.SESSION_NEEDED, text=msg.SESSION_NEEDED)
    if not sign_in.csrf_ok(current().signer, session, fields.get("csrf", "")):
        return _page("message.html", session, 403, title=msg.ERROR_SUMMARY_TITLE, text=msg.FORM_EXPIRED)
    if not staff.allows(session.role, need):
        return _not_allowed(session)
    return session, fields


def _event(slug: str, session: Session) -> EventState | Response:
    state = catalog.get_event(current().table, slug)
    if state is None:
        return _page("message.html", session, 404, title=msg.EVENT_NOT_FOUND, text=msg.EVENT_NOT_FOUND)
    return state


def _open(slug: str, need: Role = Role.STAFF) -> tuple[Session, EventState] | Response:
    """For a GET about one event: the signed-in organizer and the event, or the answer to give instead."""
    session = _viewer(need)
    if isinstance(session, Response):
        return session
    state = _event(slug, session)
    return state if isinstance(state, Response) else (session, state)


def _post_to(slug: str, need: Role = Role.STAFF) -> tuple[Session, dict[str, str], EventState] | Response:
    """For a POST about one event: the organizer, their form and the event, or the answer to give instead."""
    found = _poster(need)
    if isinstance(found, Response):
        return found
    session, fields = found
    state = _event(slug, session)
    return state if isinstance(state, Response) else (session, fields, state)


# --- sign-in ------------------------------------------------------------------------------------


@routes.route("/sign-in", methods=["GET"])
def sign_in_form() -> Response:
    """Where an organizer asks for a sign-in link."""
    params = query_params(routes.current_request)
    notice = msg.SIGNED_OUT if params.get("out") else ""
    return _page("sign_in.html", None, errors={}, notice=notice, then=sign_in.return_path(params.get("then", "")))


@routes.route("/sign-in", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def request_sign_in() -> Response:
    """Mail a sign-in link to a listed organizer; the answer is the same for any address."""
    fields = form_fields(routes.current_request)
    if isinstance(fields, Response):
        return fields
    email = fields.get("email", "").strip()
    asked = fields.get("then", "")
    then = sign_in.return_path(asked)
    if asked and then != asked:
        # The form only ever carries a page of this site; anything else was made up: queue nothing.
        return _page("message.html", None, 400, title=msg.SIGN_IN_FAILED, text=msg.SIGN_IN_RETURN_INVALID)
    if not email:
        errors = {"email": msg.SIGN_IN_EMAIL_NEEDED}
        return _page("sign_in.html", None, 400, errors=errors, notice="", then=then)
    s = current()
    everyone = frozenset(member.email for member in staff.members(s.table, s.settings.organizers))
    sign_in.request_sign_in(s.table, everyone, email, s.clock.now(), then)
    return _page("message.html", None, title=msg.SIGN_IN_CHECK_MAIL, text=gettext(msg.SIGN_IN_SENT).format(email=email))


@routes.route("/sign-in/{nonce}", methods=["GET"])
def sign_in_link(nonce: str) -> Response:
    """The link from the mail: a button, because only a person's POST may spend the link."""
    s = current()
    token = query_params(routes.current_request).get("token", "")
    if not sign_in.link_is_genuine(s.signer, nonce, token, s.clock.now()):
        return _page("message.html", None, 404, title=msg.SIGN_IN_FAILED, text=msg.SIGN_IN_LINK_INVALID)
    return _page("sign_in_confirm.html", None, nonce=nonce, token=token)


@routes.route("/sign-in/{nonce}", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def use_sign_in_link(nonce: str) -> Response:
    """Spend the link, start the session, and go to the dashboard."""
    fields = form_fields(routes.current_request)
    if isinstance(fields, Response):
        return fields
    s = current()
    now = s.clock.now()
    used = sign_in.use_sign_in(s.table, s.signer, nonce, fields.get("token", ""), now)
    if used is None:
        return _page("message.html", None, 404, title=msg.SIGN_IN_FAILED, text=msg.SIGN_IN_LINK_INVALID)
    session, then = used
    cookie = sign_in.set_cookie_header(sign_in.cookie_value(s.signer, session), _home(), session.expires - now)
    return see_other(_base() + then, {**PRIVATE, "Set-Cookie": cookie})


@routes.route("/sign-out", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def sign_out() -> Response:
    """End the session on the server and in the browser."""
    found = _poster(Role.DOOR)
    if isinstance(found, Response):
        return found
    session, _ = found
    sign_in.sign_out(current().table, session)
    expired = sign_in.set_cookie_header("", _home(), timedelta(0))
    return see_other(f"{_home()}/sign-in?out=1", {**PRIVATE, "Set-Cookie": expired})


# --- dashboard and lists ------------------------------------------------------------------------


@routes.route("/", methods=["GET"])
def dashboard() -> Response:
    """The events an organizer can open."""
    session = _viewer(Role.DOOR)
    if isinstance(session, Response):
        return session
    s = current()
    now = s.clock.now()
    return _page(
        "index.html", session, states=catalog.upcoming_events(s.table, now), past=catalog.past_events(s.table, now)
    )


@routes.route("/events/{slug}", methods=["GET"])
def event_overview(slug: str) -> Response:
    """Counts by state and category, and the list with search."""
    from chalicelib.usecases import announcements, roster

    opened = _open(slug)
    if isinstance(opened, Response):
        return opened
    session, state = opened
    asked = roster.ListQuery.from_params(query_params(routes.current_request))
    everyone = roster.entries(current().table, slug)
    return _page(
        "event.html",
        session,
        state=state,
        event=state.event,
        counts=roster.count(everyone),
        listing=roster.select(everyone, asked),
        asked=asked,
        page_link=lambda **changes: f"?{urlencode(asked.params(**changes))}#list",
        unannounced=announcements.pending_change(current().table, state.event),
        saved=bool(query_params(routes.current_request).get("saved")),
    )


@routes.route("/events/{slug}/registrations/{registration_id}", methods=["GET"])
def registration_detail(slug: str, registration_id: str) -> Response:
    """One registration, its arrival and every mail sent to it."""
    opened = _open_registration(slug, registration_id)
    if isinstance(opened, Response):
        return opened
    session, state, found = opened
    done = msg.DESK_DONE.get(query_params(routes.current_request).get("done", ""), "")
    return _registration_page(session, state, found, done=done)


def _open_registration(
    slug: str, registration_id: str, erased_too: bool = True
) -> tuple[Session, EventState, Any] | Response:
    """For a staff page about one registration: the organizer, the event and the registration, or the answer instead."""
    from chalicelib.usecases import roster

    opened = _open(slug)
    if isinstance(opened, Response):
        return opened
    session, state = opened
    found = roster.entry(current().table, slug, registration_id)
    if found is None or (found.registration.erased and not erased_too):
        return _page("message.html", session, 404, title=msg.CHECK_IN_RESULT["not_found"], text="")
    return session, state, found


def _registration_page(session: Session, state: EventState, found: Any, status: int = 200, **context: Any) -> Response:
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
    return _page(
        "registration.html", status=status, session=session, event=state.event, entry=found, history=history,
        trail=trail, **context,
    )  # fmt: skip


@routes.route(
    "/events/{slug}/registrations/{registration_id}",
    methods=["POST"],
    content_types=["application/x-www-form-urlencoded"],
)
def act_on_registration(slug: str, registration_id: str) -> Response:
    """Staff correct, cancel, move up, take back or un-check-in one registration (each audited)."""
    from chalicelib.usecases import roster

    posted = _post_to(slug)
    if isinstance(posted, Response):
        return posted
    session, fields, state = posted
    found = roster.entry(current().table, slug, registration_id)
    if found is None or found.registration.erased:
        return _page("message.html", session, 404, title=msg.CHECK_IN_RESULT["not_found"], text="")
    handler = _DESK_ACTIONS.get(fields.get("action", ""))
    if handler is None:
        return _registration_page(session, state, found, 400, notice=msg.ACTION_UNKNOWN)
    return handler(session, state, found, fields)


def _reason(fields: dict[str, str]) -> str:
    return " ".join(fields.get("reason", "").split())[:500]


def _desk_edit(session: Session, state: EventState, found: Any, fields: dict[str, str]) -> Response:
    from chalicelib.domain.attendee import validate_registration
    from chalicelib.usecases import assisted

    s = current()
    registration = found.registration
    categories = [c.key for c in state.event.categories]
    raw = {**fields, "consent": "yes", "question": registration.attendee.question}
    modes = state.event.field_modes()
    form = validate_registration(
        raw,
        categories,
        registration.lang,
        address_optional=True,
        modes=modes,
        asked=state.event.questions,
        kept_answers=registration.attendee.answers,
    )
    if form.attendee is None:
        return _registration_page(session, state, found, 400, errors=form.errors, values=form.values)
    outcome = assisted.edit(
        s.table, state.event, registration.registration_id, form.attendee, session.email, s.clock.now(), s.ids
    )
    if outcome in (assisted.EditOutcome.SAVED, assisted.EditOutcome.UNCHANGED):
        return _see_registration(state, registration.registration_id, "saved")
    return _registration_page(session, state, found, 409, notice=msg.DESK_REFUSED[outcome.value], values=form.values)


def _desk_cancel(session: Session, state: EventState, found: Any, fields: dict[str, str]) -> Response:
    from chalicelib.usecases import assisted

    s = current()
    if fields.get("confirm_cancel") != "yes":
        return _registration_page(
            session, state, found, 400, errors={"confirm_cancel": msg.CONFIRMATION_NEEDED["cancel"]}
        )
    rid = found.registration.registration_id
    assisted.cancel_for(s.table, state.event, rid, session.email, _reason(fields), s.clock.now())
    return _see_registration(state, rid, "cancelled")


def _desk_move_up(session: Session, state: EventState, found: Any, fields: dict[str, str]) -> Response:
    from chalicelib.usecases import assisted

    s = current()
    reason = _reason(fields)
    if not reason:
        return _registration_page(session, state, found, 400, errors={"reason": msg.DESK_REASON_NEEDED})
    rid = found.registration.registration_id
    outcome = assisted.move_up(s.table, state.event, rid, session.email, reason, s.clock.now())
    if outcome is not assisted.MoveOutcome.MOVED_UP:
        return _registration_page(session, state, found, 409, notice=msg.DESK_REFUSED[outcome.value])
    return _see_registration(state, rid, "moved_up")


def _desk_reinstate(session: Session, state: EventState, found: Any, fields: dict[str, str]) -> Response:
    from chalicelib.usecases import assisted
    from chalicelib.usecases.registering import Outcome

    s = current()
    rid = found.registration.registration_id
    result = assisted.reinstate(s.table, state.event, rid, session.email, s.clock.now(), s.ids)
    if result is None or result.outcome is not Outcome.REGISTERED:
        refusal = "already_registered" if result and result.outcome is Outcome.ALREADY_REGISTERED else "no_seat"
        return _registration_page(session, state, found, 409, notice=msg.DESK_REFUSED[refusal])
    return _see_registration(state, result.registration_id, "reinstated")


def _desk_undo_check_in(session: Session, state: EventState, found: Any, fields: dict[str, str]) -> Response:
    from chalicelib.usecases import assisted

    s = current()
    rid = found.registration.registration_id
    if not assisted.undo_check_in(s.table, state.event, rid, session.email, _reason(fields), s.clock.now()):
        return _registration_page(session, state, found, 409, notice=msg.DESK_REFUSED["not_checked_in"])
    return _see_registration(state, rid, "check_in_undone")


_DESK_ACTIONS = {
    "edit": _desk_edit,
    "cancel": _desk_cancel,
    "move_up": _desk_move_up,
    "reinstate": _desk_reinstate,
    "undo_check_in": _desk_undo_check_in,
}


def _see_registration(state: EventState, registration_id: str, done: str) -> Response:
    return see_other(f"{_home()}/events/{state.event.slug}/registrations/{registration_id}?done={done}", PRIVATE)


@routes.route("/events/{slug}/add", methods=["GET"])
def add_form(slug: str) -> Response:
    """Register someone who asked by phone, FAX or at the counter (with or without an e-mail address)."""
    opened = _open(slug)
    if isinstance(opened, Response):
        return opened
    session, state = opened
    return _page(
        "add.html", session, event=state.event, values={"send_mail": "yes"}, errors={}, walk_in=False, notice=""
    )


@routes.route("/events/{slug}/walk-in", methods=["GET"])
def walk_in_form(slug: str) -> Response:
    """Register a walk-in at the door and check them in, in one step (a seat, or nothing)."""
    opened = _open(slug, Role.DOOR)
    if isinstance(opened, Response):
        return opened
    session, state = opened
    return _page(
        "add.html", session, event=state.event, values={"send_mail": "yes"}, errors={}, walk_in=True, notice=""
    )


@routes.route("/events/{slug}/add", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def add_registration(slug: str) -> Response:
    """Take the registration; its page follows, with a printable confirmation for people without e-mail."""
    return _add(slug, walk_in=False)


@routes.route("/events/{slug}/walk-in", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def add_walk_in(slug: str) -> Response:
    """Take a seat for a walk-in and check them in at once; refused (nothing written) when no seat is free."""
    return _add(slug, walk_in=True)


def _add(slug: str, walk_in: bool) -> Response:
    from chalicelib.domain.attendee import validate_registration
    from chalicelib.usecases import assisted, roster
    from chalicelib.usecases.registering import Outcome

    posted = _post_to(slug, Role.DOOR if walk_in else Role.STAFF)
    if isinstance(posted, Response):
        return posted
    session, fields, state = posted
    s = current()
    event = state.event
    channel = assisted.Channel.DOOR.value if walk_in else fields.get("channel", "")
    categories = [c.key for c in event.categories]
    form = validate_registration(
        fields, categories, "ja", address_optional=True, modes=event.field_modes(), asked=event.questions
    )
    errors = dict(form.errors)
    if channel not in {c.value for c in assisted.Channel}:
        errors["channel"] = msg.DESK_CHANNEL_NEEDED
    if errors or form.attendee is None:
        values = {**form.values, "channel": channel, "send_mail": fields.get("send_mail", "")}
        return _page("add.html", session, 400, event=event, values=values, errors=errors, walk_in=walk_in, notice="")
    send_mail = fields.get("send_mail") == "yes"
    result = assisted.add(
        s.table, event, form.attendee, assisted.Channel(channel), send_mail, session.email, s.clock.now(), s.ids,
        walk_in=walk_in,
    )  # fmt: skip
    taken = (Outcome.REGISTERED, Outcome.WAITLISTED, Outcome.APPLIED)
    if result.outcome not in taken:
        refusal = msg.DESK_ADD_REFUSED.get(result.outcome.value, msg.DESK_ADD_REFUSED["full"])
        values = {**form.values, "channel": channel, "send_mail": fields.get("send_mail", "")}
        return _page("add.html", session, 409, event=event, values=values, errors={}, walk_in=walk_in, notice=refusal)
    if walk_in:
        person = roster.entry(s.table, slug, result.registration_id)
        return _page("check_in_person.html", session, event=event, entry=person, result=None, walked_in=True)
    return _see_registration(state, result.registration_id, "added")


@routes.route("/events/{slug}/registrations/{registration_id}/print", methods=["GET"])
def printable_confirmation(slug: str, registration_id: str) -> Response:
    """A confirmation to print or read out, for someone registered without an e-mail address."""
    opened = _open_registration(slug, registration_id, erased_too=False)
    if isinstance(opened, Response):
        return opened
    session, state, found = opened
    qr = door_qr_svg(routes.current_request, current().signer, state.event, found.registration)
    return _page("print.html", session, event=state.event, entry=found, qr_svg=Markup(qr))  # noqa: S704 (segno's SVG)


@routes.route("/events/{slug}/export/{name}", methods=["GET"])
def export_list(slug: str, name: str) -> Response:
    """One of the lists (door, 名刺交換, waiting, accommodation, staff actions) as CSV for Excel."""
    from chalicelib.usecases import exports

    opened = _open(slug)
    if isinstance(opened, Response):
        return opened
    session, state = opened
    if name not in _CSV_LISTS:
        return _page("message.html", session, 404, title=msg.EXPORT_UNKNOWN, text=msg.EXPORT_UNKNOWN)
    kind = exports.ListKind(name.removesuffix(".csv"))
    table = exports.listing(current().table, state.event, kind)
    headers: dict[str, str | list[str]] = {
        **PRIVATE,
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{exports.filename(state.event, kind, "csv")}"',
    }
    return Response(body=exports.to_csv(table), headers=headers)


# --- check-in at the door -----------------------------------------------------------------------


@routes.route("/events/{slug}/check-in", methods=["GET"])
def check_in_search(slug: str) -> Response:
    """The door's page: search by name or フリガナ, and check people in from the results."""
    from chalicelib.usecases import roster

    opened = _open(slug, Role.DOOR)
    if isinstance(opened, Response):
        return opened
    session, state = opened
    params = query_params(routes.current_request)
    query = params.get("q", "")
    everyone = roster.entries(current().table, slug)
    # Searching finds anyone; otherwise the door sees who is still to come, by reading, a page at a time.
    default = {"status": "confirmed", "arrived": "no", "sort": "reading"}
    asked = roster.ListQuery.from_params({"q": query, "page": params.get("page", "1"), **({} if query else default)})
    listing = roster.select(everyone, asked)
    counts = roster.count(everyone)
    return _page(
        "check_in.html",
        session,
        event=state.event,
        query=query,
        listing=listing,
        counts=counts,
        page_link=lambda **changes: f"?{urlencode(asked.params(**changes))}",
    )


@routes.route("/events/{slug}/check-in/{registration_id}", methods=["GET"])
def scanned(slug: str, registration_id: str) -> Response:
    """Where a scanned QR code lands: who this is, and the button that checks them in."""
    from chalicelib.usecases import roster

    opened = _open(slug, Role.DOOR)
    if isinstance(opened, Response):
        return opened
    session, state = opened
    s = current()
    token = query_params(routes.current_request).get("token", "")
    if token and not check_in_token_is_genuine(s.signer, slug, registration_id, token, s.clock.now()):
        return _page("message.html", session, 404, title=msg.CHECK_IN_QR_INVALID, text="")
    found = roster.entry(s.table, slug, registration_id)
    if found is None:
        return _page("message.html", session, 404, title=msg.CHECK_IN_RESULT["not_found"], text="")
    return _page("check_in_person.html", session, event=state.event, entry=found, result=None, walked_in=False)


@routes.route(
    "/events/{slug}/check-in/{registration_id}", methods=["POST"], content_types=["application/x-www-form-urlencoded"]
)
def check_in(slug: str, registration_id: str) -> Response:
    """Record an arrival, once; a second press says who checked them in and when."""
    from chalicelib.usecases import checkin, roster

    posted = _post_to(slug, Role.DOOR)
    if isinstance(posted, Response):
        return posted
    session, _, state = posted
    s = current()
    # The write hands back the registration as it now stands: no second read to show who it was.
    result = checkin.check_in(s.table, slug, registration_id, session.email, s.clock.now())
    if result.registration is None:
        return _page("message.html", session, 404, title=msg.CHECK_IN_RESULT["not_found"], text="")
    person = roster.Entry.from_item(result.registration)
    status = 200 if result.outcome is checkin.CheckInOutcome.CHECKED_IN else 409
    return _page(
        "check_in_person.html", session, status, event=state.event, entry=person, result=result, walked_in=False
    )


# --- broadcasts ---------------------------------------------------------------------------------


@routes.route("/events/{slug}/broadcasts", methods=["GET"])
def broadcast_form(slug: str) -> Response:
    """Write a message to registrants, and see earlier ones."""
    opened = _open(slug)
    if isinstance(opened, Response):
        return opened
    session, state = opened
    return _broadcast_page(session, state, {}, {})


def _broadcast_page(
    session: Session, state: EventState, values: dict[str, str], errors: dict[str, str], status: int = 200
) -> Response:
    from chalicelib.usecases import broadcast

    s = current()
    sent = broadcast.history(s.table, state.event.slug)
    return _page(
        "broadcast.html", session, status, event=state.event, values=values, errors=errors, sent=sent, preview=None
    )


@routes.route("/events/{slug}/broadcasts", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def post_broadcast(slug: str) -> Response:
    """Preview a message with its number of recipients, or send it (once, however often 送信 is pressed)."""
    from chalicelib.mail.render import Links, render_broadcast
    from chalicelib.usecases import broadcast, roster

    posted = _post_to(slug)
    if isinstance(posted, Response):
        return posted
    session, fields, state = posted
    s = current()
    checked = broadcast.check(fields, state.event)
    if checked.errors:
        return _broadcast_page(session, state, fields, checked.errors, 400)
    chosen = broadcast.recipients(roster.entries(s.table, slug), checked.draft)
    if not chosen:
        return _broadcast_page(session, state, fields, {"audience": msg.BROADCAST_NO_RECIPIENTS}, 409)
    broadcast_id = fields.get("broadcast_id", "")
    if fields.get("action") == "send" and broadcast_id.isalnum():
        broadcast.queue(s.table, slug, broadcast_id, checked.draft, session.email, s.clock.now())
        return see_other(f"{_home()}/events/{slug}/broadcasts/{broadcast_id}", PRIVATE)
    # Shown as the first recipient will read it; the personal link is left out of the preview.
    sample = render_broadcast(
        state.event,
        chosen[0].registration,
        checked.draft.subject,
        checked.draft.body,
        Links(event_url=f"{_base()}/events/{slug}"),
    )
    return _page(
        "broadcast_preview.html",
        session,
        event=state.event,
        draft=checked.draft,
        count=len(chosen),
        sample=sample,
        broadcast_id=s.ids(),
    )


@routes.route("/events/{slug}/broadcasts/{broadcast_id}", methods=["GET"])
def broadcast_progress(slug: str, broadcast_id: str) -> Response:
    """How far a broadcast has got."""
    from chalicelib.usecases import broadcast

    opened = _open(slug)
    if isinstance(opened, Response):
        return opened
    session, state = opened
    progress = broadcast.progress(current().table, slug, broadcast_id)
    if progress is None:
        return _page("message.html", session, 404, title=msg.BROADCAST_NOT_FOUND, text=msg.BROADCAST_NOT_FOUND)
    return _page("broadcast_progress.html", session, event=state.event, progress=progress)


# --- announcing a change of date, time or venue, or calling the event off ----------------------


@routes.route("/events/{slug}/announcements", methods=["GET"])
def announcement_form(slug: str) -> Response:
    """What registrants were told against what is published now; the way to tell them, or to call the event off."""
    opened = _open(slug, Role.OWNER)
    if isinstance(opened, Response):
        return opened
    session, state = opened
    return _announcement_page(session, state)


def _announcement_page(
    session: Session, state: EventState, kind: str = "", note: str = "", errors: dict[str, str] | None = None
) -> Response:
    from chalicelib.usecases import announcements

    table = current().table
    return _page(
        "announce.html",
        session,
        400 if errors else 200,
        event=state.event,
        state=state,
        change=announcements.pending_change(table, state.event),
        sequence=announcements.sequence(table, state.event.slug),
        kind=kind,
        note=note,
        errors=errors or {},
    )


@routes.route("/events/{slug}/announcements", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def post_announcement(slug: str) -> Response:
    """Preview a change notice or the cancellation with its count, or send it (once, however often pressed)."""
    from chalicelib.usecases import announcements, broadcast

    posted = _post_to(slug, Role.OWNER)
    if isinstance(posted, Response):
        return posted
    session, fields, state = posted
    s = current()
    kind = fields.get("kind", "")
    note = fields.get("note", "").replace("\r\n", "\n").strip()
    change = announcements.pending_change(s.table, state.event)
    seen = fields.get("sequence", "")
    if state.cancelled or not seen.isdigit() or int(seen) != announcements.sequence(s.table, slug):
        return _page(
            "message.html", session, 409, title=msg.ANNOUNCEMENT_DONE_ALREADY, text=msg.ANNOUNCEMENT_DONE_ALREADY
        )
    if kind not in (broadcast.CHANGE, broadcast.CANCELLATION) or (kind == broadcast.CHANGE and change is None):
        return _page("message.html", session, 409, title=msg.ANNOUNCEMENT_NOTHING, text=msg.ANNOUNCEMENT_NOTHING)
    if len(note) > broadcast.BODY_LIMIT:
        too_long = gettext(msg.TOO_LONG).format(
            label=gettext(msg.BODY_LABEL), limit=broadcast.BODY_LIMIT, length=len(note)
        )
        return _announcement_page(session, state, kind, note, {"note": too_long})
    if fields.get("action") == "send":
        if kind == broadcast.CANCELLATION and fields.get("confirm") != "yes":
            return _announcement_preview(session, state, kind, note, {"confirm": msg.CONFIRMATION_NEEDED["cancel"]})
        now = s.clock.now()
        if kind == broadcast.CHANGE and change is not None:
            sent = announcements.announce_change(s.table, state.event, change, note, session.email, now)
        else:
            sent = announcements.cancel_event(s.table, state.event, int(seen), note, session.email, now)
        if not sent:
            return _page(
                "message.html", session, 409, title=msg.ANNOUNCEMENT_DONE_ALREADY, text=msg.ANNOUNCEMENT_DONE_ALREADY
            )
        sent_id = announcements.broadcast_id(kind, int(seen) + 1)
        return see_other(f"{_home()}/events/{slug}/broadcasts/{sent_id}", PRIVATE)
    return _announcement_preview(session, state, kind, note)


def _announcement_preview(
    session: Session, state: EventState, kind: str, note: str, errors: dict[str, str] | None = None
) -> Response:
    """The notice as its first recipient will read it, and how many it goes to."""
    from chalicelib.mail import render as r
    from chalicelib.mail.compose import earlier
    from chalicelib.usecases import announcements, broadcast, roster

    s = current()
    event = state.event
    chosen = broadcast.recipients(roster.entries(s.table, event.slug), broadcast.Draft("", "", broadcast.ALL))
    revision = announcements.sequence(s.table, event.slug)
    sample = None
    if chosen:
        person, links, now = chosen[0].registration, r.Links(event_url=f"{_base()}/events/{event.slug}"), s.clock.now()
        change = announcements.pending_change(s.table, event)
        if kind == broadcast.CHANGE and change is not None:
            was = earlier(change.before.fields())
            sample = r.render_change_notice(event, person, links, was, change.about, note, now, revision + 1)
        else:
            sample = r.render_event_cancelled(event, person, links, note, now, revision + 1)
    return _page(
        "announce_preview.html",
        session,
        400 if errors else 200,
        event=event,
        kind=kind,
        note=note,
        sequence=revision,
        count=len(chosen),
        sample=sample,
        errors=errors or {},
    )


# --- the event editor --------------------------------------------------------------------------


@routes.route("/new-event", methods=["GET"])
def new_event_form() -> Response:
    """Start a new event from an empty file (or duplicate an existing one from its page)."""
    session = _viewer(Role.OWNER)
    if isinstance(session, Response):
        return session
    return _editor(session, "", f"{_home()}/new-event")


@routes.route("/events/{slug}/edit-file", methods=["GET"])
def edit_event_file(slug: str) -> Response:
    """The event's whole file, to edit in the browser (every field; the form at /edit holds the usual ones)."""
    from chalicelib.domain.event_toml import to_toml

    opened = _open(slug, Role.OWNER)
    if isinstance(opened, Response):
        return opened
    session, state = opened
    return _editor(session, to_toml(state.event), f"{_home()}/events/{slug}/edit-file", state.event)


@routes.route("/events/{slug}/edit", methods=["GET"])
def edit_event_form(slug: str) -> Response:
    """The event's usual fields one by one (title, dates, venue, seats, contact …); the rest is in its file."""
    from chalicelib.usecases import editing

    opened = _open(slug, Role.OWNER)
    if isinstance(opened, Response):
        return opened
    session, state = opened
    return _page("event_form.html", session, event=state.event, values=editing.form_values(state.event), errors={})


@routes.route("/events/{slug}/edit", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def save_event_form(slug: str) -> Response:
    """Check the fields over the event's file; then preview or publish it like the file editor does."""
    from chalicelib.usecases import editing

    posted = _post_to(slug, Role.OWNER)
    if isinstance(posted, Response):
        return posted
    session, fields, state = posted
    edit = editing.from_form(state.event, fields)
    if edit.errors:
        return _page("event_form.html", session, 400, event=state.event, values=edit.values, errors=edit.errors)
    checked = editing.check(current().table, edit.text, editing.Purpose.EDIT, slug)
    if checked.event is None:  # the fields parse, so the table refused: fewer seats than are taken
        errors = {"capacity": gettext(msg.EDITOR_PROBLEM).format(problem=checked.problem)}
        return _page("event_form.html", session, 400, event=state.event, values=edit.values, errors=errors)
    return _publish_or_preview(session, checked, fields.get("action", "preview"), f"{_home()}/events/{slug}/edit-file")


@routes.route("/events/{slug}/duplicate", methods=["GET"])
def duplicate_event_form(slug: str) -> Response:
    """A new event like this one: its file under a new address, to change the dates and save."""
    from chalicelib.usecases import editing

    opened = _open(slug, Role.OWNER)
    if isinstance(opened, Response):
        return opened
    session, state = opened
    text = editing.duplicate_text(state.event, f"{slug}-2")
    return _editor(session, text, f"{_home()}/new-event")


@routes.route("/new-event", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def save_new_event() -> Response:
    """Preview or publish a new event."""
    from chalicelib.usecases import editing

    posted = _poster(Role.OWNER)
    if isinstance(posted, Response):
        return posted
    session, fields = posted
    return _edited(session, fields, editing.Purpose.CREATE, "", f"{_home()}/new-event")


@routes.route("/events/{slug}/edit-file", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def save_event_file(slug: str) -> Response:
    """Preview or publish the edited event (more seats move the line up; fewer than taken is refused)."""
    from chalicelib.usecases import editing

    posted = _post_to(slug, Role.OWNER)
    if isinstance(posted, Response):
        return posted
    session, fields, state = posted
    return _edited(session, fields, editing.Purpose.EDIT, slug, f"{_home()}/events/{slug}/edit-file", state.event)


def _editor(
    session: Session, text: str, action: str, event: Any = None, problem: str = "", status: int = 200
) -> Response:
    errors = {"text": problem} if problem else {}
    return _page("editor.html", session, status, text=text, action=action, event=event, errors=errors)


def _edited(
    session: Session, fields: dict[str, str], purpose: Any, slug: str, action: str, event: Any = None
) -> Response:
    from chalicelib.usecases import editing

    s = current()
    text = fields.get("text", "").replace("\r\n", "\n")
    if fields.get("action") == "edit":
        return _editor(session, text, action, event)
    checked = editing.check(s.table, text, purpose, slug)
    if checked.event is None:
        problem = gettext(msg.EDITOR_PROBLEM).format(problem=checked.problem)
        return _editor(session, text, action, event, problem, 400)
    return _publish_or_preview(session, checked, fields.get("action", ""), action)


def _publish_or_preview(session: Session, checked: Any, asked: str, action: str) -> Response:
    """A checked event: saved and published on "save", otherwise shown as its public page with a banner."""
    from chalicelib.domain.event import EventState
    from chalicelib.usecases import editing

    s = current()
    if asked != "save":
        preview = {"action": action, "csrf": sign_in.csrf_token(s.signer, session), "text": checked.text}
        shown = EventState(checked.event, checked.seats_taken)
        body = pages_module.event_page(_base(), shown, s.clock.now(), "", "", preview=preview)
        return html(body, 200, PRIVATE)
    editing.save(s.table, checked, s.clock.now())
    return see_other(f"{_home()}/events/{checked.event.slug}?saved=1", PRIVATE)


@routes.route("/events/{slug}/visibility", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def change_visibility(slug: str) -> Response:
    """Unpublish an event (page, list and API stop showing it; no new registrations), or publish it again."""
    from chalicelib.usecases.publishing import set_published

    posted = _post_to(slug, Role.OWNER)
    if isinstance(posted, Response):
        return posted
    _, fields, _ = posted
    s = current()
    set_published(s.table, slug, fields.get("published") == "yes", s.clock.now())
    return see_other(f"{_home()}/events/{slug}", PRIVATE)


# --- staff and their roles ----------------------------------------------------------------------


@routes.route("/staff", methods=["GET"])
def staff_list() -> Response:
    """Who may use these pages and for what; owners add, change and remove people here."""
    session = _viewer(Role.OWNER)
    if isinstance(session, Response):
        return session
    return _staff_page(session)


def _staff_page(session: Session, status: int = 200, **context: Any) -> Response:
    s = current()
    members = staff.members(s.table, s.settings.organizers)
    saved = bool(query_params(routes.current_request).get("saved"))
    context = {"errors": {}, "values": {}, "notice": "", "saved": saved, **context}
    return _page("staff.html", session, status, members=members, tz=ZoneInfo(DEFAULT_TIMEZONE), **context)


@routes.route("/staff", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def change_staff() -> Response:
    """Add someone with a role, change a role, or remove someone (their sessions end at once)."""
    from chalicelib.domain.attendee import validate_address

    posted = _poster(Role.OWNER)
    if isinstance(posted, Response):
        return posted
    session, fields = posted
    s = current()
    address, problem = validate_address(fields.get("email", ""))
    chosen = fields.get("role", "")
    if problem:
        return _staff_page(session, 400, errors={"email": problem}, values=fields)
    if chosen not in (*Role, "remove"):
        return _staff_page(session, 400, errors={"role": msg.ROLE_UNKNOWN}, values=fields)
    role = None if chosen == "remove" else Role(chosen)
    outcome = staff.set_role(s.table, s.settings.organizers, address, role, session.email, s.clock.now())
    if outcome is staff.Change.LAST_OWNER:
        return _staff_page(session, 409, notice=msg.ROLE_LAST_OWNER)
    return see_other(f"{_home()}/staff?saved=1", PRIVATE)


# --- API keys for the JSON API ------------------------------------------------------------------


@routes.route("/api-keys", methods=["GET"])
def api_key_list() -> Response:
    """The keys issued for the JSON API, and a form to issue one."""
    session = _viewer(Role.OWNER)
    if isinstance(session, Response):
        return session
    notice = msg.API_KEY_REVOKED if query_params(routes.current_request).get("revoked") else ""
    return _api_keys_page(session, {}, {}, notice=notice)


def _api_keys_page(
    session: Session, values: dict[str, str], errors: dict[str, str], status: int = 200, notice: str = ""
) -> Response:
    from chalicelib.usecases import api_keys

    s = current()
    keys = api_keys.listed(s.table)
    states = catalog.upcoming_events(s.table, s.clock.now())
    tz = ZoneInfo(DEFAULT_TIMEZONE)
    return _page(
        "api_keys.html", session, status, keys=keys, states=states, values=values, errors=errors, notice=notice, tz=tz
    )


@routes.route("/api-keys", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def issue_api_key() -> Response:
    """Issue a key; it is shown on the answer once and never again."""
    from chalicelib.domain.attendee import clean_line
    from chalicelib.usecases import api_keys

    posted = _poster(Role.OWNER)
    if isinstance(posted, Response):
        return posted
    session, fields = posted
    s = current()
    name, scope = clean_line(fields.get("name", "")), fields.get("scope", api_keys.EVERY_EVENT)
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = msg.API_KEY_NAME_NEEDED
    elif len(name) > api_keys.NAME_LIMIT:
        errors["name"] = gettext(msg.API_KEY_NAME_TOO_LONG).format(limit=api_keys.NAME_LIMIT, length=len(name))
    if scope != api_keys.EVERY_EVENT and catalog.get_event(s.table, scope) is None:
        errors["scope"] = msg.API_KEY_SCOPE_UNKNOWN
    if errors:
        return _api_keys_page(session, {"name": name, "scope": scope}, errors, 400)
    key, token = api_keys.issue(s.table, name, scope, session.email, s.clock.now(), s.ids)
    return _page("api_key_created.html", session, 201, key=key, token=token)


@routes.route("/api-keys/{key_id}/revoke", methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def revoke_api_key(key_id: str) -> Response:
    """Stop a key at once."""
    from chalicelib.usecases import api_keys

    posted = _poster(Role.OWNER)
    if isinstance(posted, Response):
        return posted
    session, _ = posted
    api_keys.revoke(current().table, key_id, session.email, current().clock.now())
    return see_other(f"{_home()}/api-keys?revoked=1", PRIVATE)
