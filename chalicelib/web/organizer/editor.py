"""The event editor: a new event, the usual fields as a form, the whole file, duplicating, publishing."""

from __future__ import annotations

from typing import Any

from chalice.app import Response

from chalicelib.config.services import current
from chalicelib.text import messages as msg
from chalicelib.text.i18n import gettext
from chalicelib.usecases import sign_in
from chalicelib.usecases.staff import Role
from chalicelib.web import pages
from chalicelib.web.headers import PRIVATE
from chalicelib.web.http import html, see_other
from chalicelib.web.organizer.access import Visit, base, get, home, post


@get("/new-event", Role.OWNER)
def new_event_form(visit: Visit) -> Response:
    """Start a new event from an empty file (or duplicate an existing one from its page)."""
    return _editor(visit, "", f"{home()}/new-event")


@get("/events/{slug}/edit-file", Role.OWNER)
def edit_event_file(visit: Visit, slug: str) -> Response:
    """The event's whole file, to edit in the browser (every field; the form at /edit holds the usual ones)."""
    from chalicelib.domain.event_file import to_toml

    state = visit.event(slug)
    return _editor(visit, to_toml(state.event), f"{home()}/events/{slug}/edit-file", state.event)


@get("/events/{slug}/edit", Role.OWNER)
def edit_event_form(visit: Visit, slug: str) -> Response:
    """The event's usual fields one by one (title, dates, venue, seats, contact …); the rest is in its file."""
    from chalicelib.usecases import editing

    state = visit.event(slug)
    return visit.page("event_form.html", event=state.event, values=editing.form_values(state.event), errors={})


@post("/events/{slug}/edit", Role.OWNER)
def save_event_form(visit: Visit, slug: str) -> Response:
    """Check the fields over the event's file; then preview or publish it like the file editor does."""
    from chalicelib.usecases import editing

    state = visit.event(slug)
    edit = editing.from_form(state.event, visit.fields)
    if edit.errors:
        return visit.page("event_form.html", 400, event=state.event, values=edit.values, errors=edit.errors)
    checked = editing.check(current().table, edit.text, editing.Purpose.EDIT, slug)
    if checked.event is None:  # the fields parse, so the table refused: fewer seats than are taken
        errors = {"capacity": gettext(msg.EDITOR_PROBLEM).format(problem=checked.problem)}
        return visit.page("event_form.html", 400, event=state.event, values=edit.values, errors=errors)
    asked = visit.fields.get("action", "preview")
    return _publish_or_preview(visit, checked, asked, f"{home()}/events/{slug}/edit-file")


@get("/events/{slug}/duplicate", Role.OWNER)
def duplicate_event_form(visit: Visit, slug: str) -> Response:
    """A new event like this one: its file under a new address, to change the dates and save."""
    from chalicelib.usecases import editing

    state = visit.event(slug)
    return _editor(visit, editing.duplicate_text(state.event, f"{slug}-2"), f"{home()}/new-event")


@post("/new-event", Role.OWNER)
def save_new_event(visit: Visit) -> Response:
    """Preview or publish a new event."""
    from chalicelib.usecases import editing

    return _edited(visit, editing.Purpose.CREATE, "", f"{home()}/new-event")


@post("/events/{slug}/edit-file", Role.OWNER)
def save_event_file(visit: Visit, slug: str) -> Response:
    """Preview or publish the edited event (more seats move the line up; fewer than taken is refused)."""
    from chalicelib.usecases import editing

    state = visit.event(slug)
    return _edited(visit, editing.Purpose.EDIT, slug, f"{home()}/events/{slug}/edit-file", state.event)


def _editor(visit: Visit, text: str, action: str, event: Any = None, problem: str = "", status: int = 200) -> Response:
    errors = {"text": problem} if problem else {}
    return visit.page("editor.html", status, text=text, action=action, event=event, errors=errors)


def _edited(visit: Visit, purpose: Any, slug: str, action: str, event: Any = None) -> Response:
    from chalicelib.usecases import editing

    text = visit.fields.get("text", "").replace("\r\n", "\n")
    if visit.fields.get("action") == "edit":
        return _editor(visit, text, action, event)
    checked = editing.check(current().table, text, purpose, slug)
    if checked.event is None:
        problem = gettext(msg.EDITOR_PROBLEM).format(problem=checked.problem)
        return _editor(visit, text, action, event, problem, 400)
    return _publish_or_preview(visit, checked, visit.fields.get("action", ""), action)


def _publish_or_preview(visit: Visit, checked: Any, asked: str, action: str) -> Response:
    """A checked event: saved and published on "save", otherwise shown as its public page with a banner."""
    from chalicelib.domain.event_state import EventState
    from chalicelib.usecases import editing

    s = current()
    if asked != "save":
        preview = {"action": action, "csrf": sign_in.csrf_token(s.signer, visit.signed_in), "text": checked.text}
        shown = EventState(checked.event, checked.seats_taken)
        return html(pages.event_page(base(), shown, s.clock.now(), "", "", preview=preview), 200, PRIVATE)
    editing.save(s.table, checked, s.clock.now())
    return see_other(f"{home()}/events/{checked.event.slug}?saved=1", PRIVATE)


@post("/events/{slug}/visibility", Role.OWNER)
def change_visibility(visit: Visit, slug: str) -> Response:
    """Unpublish an event (page, list and API stop showing it; no new registrations), or publish it again."""
    from chalicelib.usecases.publishing import set_published

    visit.event(slug)
    s = current()
    set_published(s.table, slug, visit.fields.get("published") == "yes", s.clock.now())
    return see_other(f"{home()}/events/{slug}", PRIVATE)
