"""The event file editor (for experts), the preview both editors share, and an event's lifecycle.

Lifecycle: a draft is published (a confirmed step) or deleted; an ended event is archived; a public
event can be hidden and shown again; its public address comes with a QR code (SVG, PNG) for posters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice.app import Response

from chalicelib.config.services import current
from chalicelib.text import i18n
from chalicelib.text import messages as msg
from chalicelib.text.i18n import gettext
from chalicelib.usecases import sign_in
from chalicelib.usecases.staff import Role
from chalicelib.web import pages
from chalicelib.web.headers import PRIVATE
from chalicelib.web.http import html, see_other
from chalicelib.web.organizer.access import Visit, base, get, home, post

if TYPE_CHECKING:
    from chalicelib.usecases.editing import SenderCheck

if TYPE_CHECKING:  # the editor's use cases load with its routes, not with every container of the site
    from chalicelib.usecases.editing import Checked


@get("/new-event/file", Role.OWNER)
def new_event_file(visit: Visit) -> Response:
    """A new event as an event file (for those who write the format; the builder is at /new-event)."""
    return _editor(visit, "", f"{home()}/new-event/file")


@post("/new-event/file", Role.OWNER)
def save_new_event_file(visit: Visit) -> Response:
    """Preview a new event's file, or save it as a draft."""
    return _edited(visit, True, "", f"{home()}/new-event/file")


@get("/events/{slug}/edit-file", Role.OWNER)
def edit_event_file(visit: Visit, slug: str) -> Response:
    """The event's whole file, to edit in the browser (the builder at /edit holds the same settings)."""
    from chalicelib.domain.event_file import to_toml

    state = visit.event(slug)
    return _editor(visit, to_toml(state.event), f"{home()}/events/{slug}/edit-file", state.event)


@post("/events/{slug}/edit-file", Role.OWNER)
def save_event_file(visit: Visit, slug: str) -> Response:
    """Preview or save the edited event (more seats move the line up; fewer than taken is refused)."""
    state = visit.event(slug)
    return _edited(visit, False, slug, f"{home()}/events/{slug}/edit-file", state.event, state.draft)


def sender_check() -> SenderCheck:
    """Why an event's own sender cannot send from this deployment (None: it can)."""
    from chalicelib.usecases import senders

    s = current()
    return lambda address: senders.refusal(address, s.settings.sendable_identities, s.sender_verified)


def _editor(visit: Visit, text: str, action: str, event: Any = None, problem: str = "", status: int = 200) -> Response:
    errors = {"text": problem} if problem else {}
    return visit.page("editor.html", status, text=text, action=action, event=event, errors=errors)


def _edited(visit: Visit, new: bool, slug: str, action: str, event: Any = None, draft: bool = False) -> Response:
    from chalicelib.usecases import editing

    text = visit.fields.get("text", "").replace("\r\n", "\n")
    if visit.fields.get("action") == "edit":
        return _editor(visit, text, action, event)
    purpose = editing.Purpose.CREATE if new else editing.Purpose.EDIT
    checked = editing.check(current().table, text, purpose, slug, sender_check())
    if checked.event is None:
        problem = gettext(msg.EDITOR_PROBLEM).format(problem=checked.problem)
        return _editor(visit, text, action, event, problem, 400)
    if visit.fields.get("action") != "save":
        label = msg.BUILDER_SAVE_DRAFT if new or draft else msg.BUILDER_SAVE
        return preview_page(visit, checked, action, label, english=visit.fields.get("action") == "preview_en")
    s = current()
    editing.save(s.table, checked, s.clock.now(), draft=new, analyzer=s.analyzer)
    assert checked.event is not None
    return see_other(f"{home()}/events/{checked.event.slug}?{'draft' if new or draft else 'saved'}=1", PRIVATE)


def preview_page(visit: Visit, checked: Checked, action: str, save_label: str, english: bool) -> Response:
    """A checked event as its public page will be, form included (not sendable), with the way to save it."""
    from chalicelib.domain.event_state import EventState

    s = current()
    assert checked.event is not None
    preview = {
        "action": action,
        "csrf": sign_in.csrf_token(s.signer, visit.signed_in),
        "text": checked.text,
        "save_label": save_label,
    }
    shown = EventState(checked.event, checked.seats_taken)
    with i18n.speaking("en" if english else "ja"):
        body = pages.event_page(base(), shown, s.clock.now(), "", "", preview=preview)
    return html(body, 200, PRIVATE)


@post("/events/{slug}/visibility", Role.OWNER)
def change_visibility(visit: Visit, slug: str) -> Response:
    """Unpublish an event (page, list and API stop showing it; no new registrations), or publish it again."""
    from chalicelib.usecases.publishing import set_published

    state = visit.event(slug)
    if state.draft:  # a draft is published by its own confirmed step
        return see_other(f"{home()}/events/{slug}#publish", PRIVATE)
    s = current()
    set_published(s.table, slug, visit.fields.get("published") == "yes", s.clock.now())
    return see_other(f"{home()}/events/{slug}", PRIVATE)


@post("/events/{slug}/publish", Role.OWNER)
def publish(visit: Visit, slug: str) -> Response:
    """Publish a draft: a confirmed step (the box), once; then its address and QR code to share."""
    from chalicelib.usecases import lifecycle

    visit.event(slug)
    if (unconfirmed := _unconfirmed(visit, slug, "publish")) is not None:
        return unconfirmed
    lifecycle.publish_draft(current().table, slug)  # pressed twice: published already, the same page
    return see_other(f"{home()}/events/{slug}?published=1#share", PRIVATE)


@post("/events/{slug}/delete", Role.OWNER)
def delete(visit: Visit, slug: str) -> Response:
    """Delete a draft (nobody can have registered for it)."""
    from chalicelib.usecases import lifecycle

    visit.event(slug)
    if (unconfirmed := _unconfirmed(visit, slug, "delete")) is not None:
        return unconfirmed
    if not lifecycle.delete_draft(current().table, slug):
        raise visit.refuse(409, msg.LIFECYCLE_NOT_DRAFT, msg.LIFECYCLE_NOT_DRAFT)
    return see_other(f"{home()}?deleted=1", PRIVATE)


def _unconfirmed(visit: Visit, slug: str, step: str) -> Response | None:
    """Back to the step's form, asking for its box, unless the box was ticked."""
    if visit.fields.get("confirm") == "yes":
        return None
    return see_other(f"{home()}/events/{slug}?confirm={step}#{step}", PRIVATE)


@post("/events/{slug}/archive", Role.OWNER)
def archive(visit: Visit, slug: str) -> Response:
    """Put an ended event away; its lists and data stay until their retention ends."""
    from chalicelib.usecases import lifecycle

    visit.event(slug)
    s = current()
    if not lifecycle.archive(s.table, slug, s.clock.now()):
        raise visit.refuse(409, msg.LIFECYCLE_NOT_ENDED, msg.LIFECYCLE_NOT_ENDED)
    return see_other(f"{home()}?archived=1", PRIVATE)


@get("/events/{slug}/qr.svg", Role.STAFF)
def share_code(visit: Visit, slug: str) -> Response:
    """The event page's address as an SVG QR code to download, for posters and 広報.

    The PNG is offered on the event's page as a data: link instead: API Gateway (REST) decides from a
    request's first Accept type whether to turn a base64 body into bytes, and a browser's is text/html.
    """
    from chalicelib.mail.qr import qr_svg

    state = visit.event(slug)
    headers: dict[str, str | list[str]] = {
        **PRIVATE,
        "Content-Type": "image/svg+xml; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{slug}-qr.svg"',
    }
    return Response(body=qr_svg(public_address(slug), state.event.title), headers=headers, status_code=200)


def public_address(slug: str) -> str:
    """The event page's full address, as shared on posters (the public address mails use too)."""
    from chalicelib.config.settings import require_public_base_url

    return f"{require_public_base_url(current().settings)}/events/{slug}"


def share_png(slug: str) -> str:
    """The event page's QR code as a PNG data: address, for a download link on the organizer's page."""
    import base64

    from chalicelib.mail.qr import qr_png

    return "data:image/png;base64," + base64.b64encode(qr_png(public_address(slug))).decode("ascii")
