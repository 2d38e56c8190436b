"""The event builder's pages: a new event from a template, editing, duplicating, previewing, saving a draft.

The forms are usecases/builder.py's; checking and saving go through usecases/editing.py, as the file
editor does (editor.py), so both make and accept the very same events.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from chalice.app import Response

from chalicelib.config.services import current
from chalicelib.domain.event_state import EventState
from chalicelib.text import builder_messages as bmsg
from chalicelib.text import messages as msg
from chalicelib.text.i18n import gettext
from chalicelib.usecases.staff import Role
from chalicelib.web.headers import PRIVATE
from chalicelib.web.http import query_params, see_other
from chalicelib.web.organizer.access import Visit, get, home, post, routes
from chalicelib.web.organizer.editor import preview_page, sender_check

if TYPE_CHECKING:  # the builder loads with its routes, not with every container of the site (cold start)
    from chalicelib.usecases.builder_rows import Row
    from chalicelib.usecases.editing import Checked


@get("/new-event", Role.OWNER)
def new_event(visit: Visit) -> Response:
    """Start a new event: choose a template, then the builder opens with it."""
    from chalicelib.usecases import builder, builder_templates

    chosen = query_params(routes.current_request).get("template", "")
    if chosen not in builder_templates.TEMPLATES:
        return visit.page("new_event.html", templates=builder_templates.TEMPLATES)
    built = builder.read_builder(builder_templates.fields(chosen, current().clock.now()))
    return _builder(visit, built.values, built.rows, None)


@post("/new-event", Role.OWNER)
def save_new_event(visit: Visit) -> Response:
    """Add rows, preview, or save the new event as a draft."""
    return _take(visit, None)


@get("/events/{slug}/edit", Role.OWNER)
def edit_event(visit: Visit, slug: str) -> Response:
    """Every setting of the event as form fields."""
    from chalicelib.usecases import builder

    state = visit.event(slug)
    values, rows = builder.builder_values(state.event)
    return _builder(visit, values, rows, state)


@post("/events/{slug}/edit", Role.OWNER)
def save_event(visit: Visit, slug: str) -> Response:
    """Add rows, preview, or save (a published event stays published; a draft stays a draft)."""
    return _take(visit, visit.event(slug))


@get("/events/{slug}/duplicate", Role.OWNER)
def duplicate_event(visit: Visit, slug: str) -> Response:
    """A new event like this one, in the builder under a new address; saving it makes a draft."""
    from chalicelib.usecases import builder, editing

    state = visit.event(slug)
    values, rows = builder.builder_values(state.event)
    values["slug"] = editing.free_slug(current().table, f"{slug}-2")
    return _builder(visit, values, rows, None)


def _builder(
    visit: Visit,
    values: Mapping[str, str],
    rows: Mapping[str, list[Row]],
    state: EventState | None,
    errors: Mapping[str, str] | None = None,
) -> Response:
    from chalicelib.usecases.builder import OTHER_LANGUAGES
    from chalicelib.usecases.builder_rows import flatten

    action = f"{home()}/new-event" if state is None else f"{home()}/events/{state.event.slug}/edit"
    shown = {**values, **flatten(rows)}
    return visit.page(
        "builder.html",
        400 if errors else 200,
        values=shown,
        rows=rows,
        errors=errors or {},
        action=action,
        creating=state is None,
        draft=state is not None and state.draft,
        other_languages=OTHER_LANGUAGES,
        open_languages=[code for code in OTHER_LANGUAGES if _written_in(code, shown, errors or {})],
    )


def _written_in(code: str, values: Mapping[str, str], errors: Mapping[str, str]) -> bool:
    """Whether any of a language's fields (zh_title, category-0-label_zh …) holds text or a mistake."""
    mine = [name for name in (*values, *errors) if name.startswith(f"{code}_") or name.endswith(f"_{code}")]
    return any(values.get(name) or name in errors for name in mine)


def _take(visit: Visit, state: EventState | None) -> Response:
    from chalicelib.usecases import builder, editing

    fields, creating = visit.fields, state is None
    action = fields.get("action", "preview")
    if "text" in fields:  # back from the preview, which carries the checked event file
        return _from_preview(visit, state, fields["text"].replace("\r\n", "\n"), action)
    built = builder.read_builder(fields, action.removeprefix("add_") if action.startswith("add_") else "")
    if action.startswith("add_"):
        return _builder(visit, built.values, built.rows, state)  # one more blank row; nothing checked yet
    if built.errors:
        return _builder(visit, built.values, built.rows, state, built.errors)
    purpose = editing.Purpose.CREATE if creating else editing.Purpose.EDIT
    slug = "" if state is None else state.event.slug
    checked = editing.check(current().table, built.text, purpose, slug, sender_check())
    if checked.event is None:
        return _builder(visit, built.values, built.rows, state, _table_refusal(checked))
    return _preview_or_save(visit, state, checked, action)


def _from_preview(visit: Visit, state: EventState | None, text: str, action: str) -> Response:
    from chalicelib.domain.event_file import parse_event_text
    from chalicelib.usecases import builder, editing

    purpose = editing.Purpose.CREATE if state is None else editing.Purpose.EDIT
    checked = editing.check(current().table, text, purpose, "" if state is None else state.event.slug, sender_check())
    if action == "edit" or checked.event is None:
        # Back to the form with what was previewed (re-read from the file it made; nothing is lost).
        values, rows = builder.builder_values(checked.event or parse_event_text(text))
        refusal = _table_refusal(checked) if checked.event is None else None
        return _builder(visit, values, rows, state, refusal)
    return _preview_or_save(visit, state, checked, action)


def _preview_or_save(visit: Visit, state: EventState | None, checked: Checked, action: str) -> Response:
    from chalicelib.usecases import editing

    s = current()
    if action != "save":
        draft = state is None or state.draft
        label = msg.BUILDER_SAVE_DRAFT if draft else msg.BUILDER_SAVE
        where = f"{home()}/new-event" if state is None else f"{home()}/events/{state.event.slug}/edit"
        return preview_page(visit, checked, where, label, english=action == "preview_en")
    assert checked.event is not None
    editing.save(s.table, checked, s.clock.now(), draft=state is None, analyzer=s.analyzer)
    done = "draft" if state is None or state.draft else "saved"
    return see_other(f"{home()}/events/{checked.event.slug}?{done}=1", PRIVATE)


def _table_refusal(checked: Checked) -> dict[str, str]:
    """What the table refused (the address taken, fewer seats than taken, people stranded), beside its field."""
    if checked.stranded:
        return {s.field: gettext(s.said).format(count=s.count) for s in checked.stranded}
    if checked.sender_refused is not None:
        return {"sender": bmsg.SENDER_REFUSED[checked.sender_refused.value]}
    problem = checked.problem
    if "is taken by another event" in problem:
        return {"slug": bmsg.BUILDER_SLUG_TAKEN}
    if "seats already taken" in problem:
        return {"capacity": gettext(msg.EDITOR_PROBLEM).format(problem=problem)}
    return {"title": gettext(msg.EDITOR_PROBLEM).format(problem=problem)}
