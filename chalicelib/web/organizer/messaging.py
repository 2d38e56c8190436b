"""Messages to registrants, and announcing a change of date, time or venue or calling the event off."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice.app import Response

from chalicelib.config.services import current
from chalicelib.domain.event_state import EventState
from chalicelib.text import messages as msg
from chalicelib.usecases.staff import Role
from chalicelib.web.headers import PRIVATE
from chalicelib.web.http import see_other
from chalicelib.web.organizer.access import Visit, base, get, home, post

if TYPE_CHECKING:
    from chalicelib.usecases.announcements import Request

# --- broadcasts ---------------------------------------------------------------------------------


@get("/events/{slug}/broadcasts", Role.STAFF)
def broadcast_form(visit: Visit, slug: str) -> Response:
    """Write a message to registrants, and see earlier ones."""
    return _broadcast_page(visit, visit.event(slug), {}, {})


def _broadcast_page(
    visit: Visit, state: EventState, values: dict[str, str], errors: dict[str, str], status: int = 200
) -> Response:
    from chalicelib.usecases import broadcast

    sent = broadcast.history(current().table, state.event.slug)
    return visit.page(
        "broadcast.html", status, event=state.event, values=values, errors=errors, sent=sent, preview=None
    )


@post("/events/{slug}/broadcasts", Role.STAFF)
def post_broadcast(visit: Visit, slug: str) -> Response:
    """Preview a message with its number of recipients, or send it (once, however often 送信 is pressed)."""
    from chalicelib.mail.compose import broadcast_preview
    from chalicelib.usecases import broadcast, roster

    state = visit.event(slug)
    s, fields = current(), visit.fields
    checked = broadcast.check(fields, state.event, s.clock.now())
    if checked.errors:
        return _broadcast_page(visit, state, fields, checked.errors, 400)
    everyone = roster.entries(s.table, slug)
    chosen = broadcast.recipients(everyone, checked.draft, state.event)
    if not chosen:
        return _broadcast_page(visit, state, fields, {"audience": msg.BROADCAST_NO_RECIPIENTS}, 409)
    broadcast_id = fields.get("broadcast_id", "")
    if fields.get("action") == "send" and broadcast_id.isalnum():
        broadcast.queue(s.table, slug, broadcast_id, checked.draft, visit.signed_in.email, s.clock.now())
        return see_other(f"{home()}/events/{slug}/broadcasts/{broadcast_id}", PRIVATE)
    sample = broadcast_preview(state.event, chosen[0].registration, checked.draft, f"{base()}/events/{slug}")
    return visit.page(
        "broadcast_preview.html",
        event=state.event,
        draft=checked.draft,
        count=len(chosen),
        left_out=broadcast.left_out(everyone, checked.draft, state.event),
        sample=sample,
        broadcast_id=s.ids(),
    )


@get("/events/{slug}/broadcasts/{broadcast_id}", Role.STAFF)
def broadcast_progress(visit: Visit, slug: str, broadcast_id: str) -> Response:
    """How far a broadcast has got."""
    from chalicelib.usecases import broadcast

    state = visit.event(slug)
    progress = broadcast.progress(current().table, slug, broadcast_id)
    if progress is None:
        raise visit.refuse(404, msg.BROADCAST_NOT_FOUND, msg.BROADCAST_NOT_FOUND)
    return visit.page("broadcast_progress.html", event=state.event, progress=progress)


# --- announcing a change of date, time or venue, or calling the event off ----------------------


@get("/events/{slug}/announcements", Role.OWNER)
def announcement_form(visit: Visit, slug: str) -> Response:
    """What registrants were told against what is published now; the way to tell them, or to call the event off."""
    return _announcement_page(visit, visit.event(slug))


def _announcement_page(
    visit: Visit,
    state: EventState,
    kind: str = "",
    note: str = "",
    errors: dict[str, str] | None = None,
    note_en: str = "",
) -> Response:
    from chalicelib.usecases import announcements

    table = current().table
    return visit.page(
        "announce.html",
        400 if errors else 200,
        event=state.event,
        state=state,
        change=announcements.pending_change(table, state.event),
        sequence=announcements.sequence(table, state.event.slug),
        kind=kind,
        note=note,
        note_en=note_en,
        errors=errors or {},
    )


@post("/events/{slug}/announcements", Role.OWNER)
def post_announcement(visit: Visit, slug: str) -> Response:
    """Preview a change notice or the cancellation with its count, or send it (once, however often pressed)."""
    from chalicelib.usecases import announcements, broadcast

    state = visit.event(slug)
    s = current()
    asked = announcements.check_request(s.table, state, visit.fields)
    if asked.refusal:
        raise visit.refuse(409, asked.refusal, asked.refusal)
    if asked.errors and ("note" in asked.errors or "note_en" in asked.errors):
        return _announcement_page(visit, state, asked.kind, asked.note, asked.errors, asked.note_en)
    if not asked.send or asked.errors:
        return _announcement_preview(visit, state, asked)
    now, by = s.clock.now(), visit.signed_in.email
    if asked.kind == broadcast.CHANGE and asked.change is not None:
        sent = announcements.announce_change(s.table, state.event, asked.change, asked.note, by, now, asked.note_en)
    else:
        sent = announcements.cancel_event(s.table, state.event, asked.seen, asked.note, by, now, asked.note_en)
    if not sent:
        raise visit.refuse(409, msg.ANNOUNCEMENT_DONE_ALREADY, msg.ANNOUNCEMENT_DONE_ALREADY)
    sent_id = announcements.broadcast_id(asked.kind, asked.seen + 1)
    return see_other(f"{home()}/events/{slug}/broadcasts/{sent_id}", PRIVATE)


def _announcement_preview(visit: Visit, state: EventState, asked: Request) -> Response:
    """The notice as its first recipient will read it, and how many it goes to."""
    from chalicelib.mail.compose import announcement_preview
    from chalicelib.usecases import broadcast, roster

    s, event = current(), state.event
    everyone, everybody = roster.entries(s.table, event.slug), broadcast.Draft("", "", broadcast.ALL)
    chosen = broadcast.recipients(everyone, everybody, state.event)
    sample = None
    if chosen:
        url = f"{base()}/events/{event.slug}"
        sample = announcement_preview(s.table, event, asked, chosen[0].registration, url, s.clock.now())
    return visit.page(
        "announce_preview.html",
        400 if asked.errors else 200,
        event=event,
        kind=asked.kind,
        note=asked.note,
        note_en=asked.note_en,
        sequence=asked.seen,
        count=len(chosen),
        left_out=broadcast.left_out(everyone, everybody, state.event),
        sample=sample,
        errors=asked.errors or {},
    )
