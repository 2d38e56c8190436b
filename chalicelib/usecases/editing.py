"""Editing an event in the browser: its file's text, checked exactly as `manage.py load-events` checks it.

The editor works on the event file's own format (domain/event_file/, written back by
domain/event_file/writer.py), so one strict format holds for both, and whatever loads from a file can be
edited and whatever is saved can be exported again. Saving publishes through publishing.load_event:
more seats move the line up at once; fewer seats than are taken is refused with the count.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from chalicelib.domain.event import Event, EventFileError
from chalicelib.domain.event_file import parse_event_text
from chalicelib.store.dynamo import Table
from chalicelib.text import messages as msg
from chalicelib.text.i18n import gettext
from chalicelib.usecases.catalog import get_event
from chalicelib.usecases.publishing import Publication, load_event

MAX_TEXT = 100_000  # an event file is a few KB; this keeps a pasted mistake from filling an item


class Purpose(StrEnum):
    """What the text is for."""

    CREATE = "create"  # a new event (also a duplicate): its slug must be free
    EDIT = "edit"  # the event it was opened from: its slug must stay


@dataclass(frozen=True)
class Checked:
    """The text as the organizer sent it, and either the event it describes or what is wrong with it."""

    text: str
    event: Event | None
    problem: str = ""
    seats_taken: int = 0  # for a refusal to go below the seats taken


def check(table: Table, text: str, purpose: Purpose, slug: str = "") -> Checked:
    """Parse and check the text against the table: slug free (create) or unchanged (edit), enough seats."""
    if len(text) > MAX_TEXT:
        return Checked(text, None, f"the event file is too long ({len(text)} characters; at most {MAX_TEXT})")
    try:
        event = parse_event_text(text)
    except EventFileError as exc:
        return Checked(text, None, str(exc))
    existing = get_event(table, event.slug)
    if purpose is Purpose.CREATE and existing is not None:
        return Checked(text, None, f"slug {event.slug!r} is taken by another event: choose another")
    if purpose is Purpose.EDIT and event.slug != slug:
        return Checked(text, None, f"slug must stay {slug!r} (it is the event's address; duplicate it instead)")
    taken = existing.seats_taken if existing else 0
    if event.capacity < taken:
        return Checked(text, None, f"capacity {event.capacity} is below the {taken} seats already taken", taken)
    return Checked(text, event, seats_taken=taken)


def save(table: Table, checked: Checked, now: datetime) -> Publication:
    """Publish a checked event (the caller checked it just now); the line moves up into any new seat."""
    if checked.event is None:
        raise ValueError("only a checked event can be saved")
    return load_event(table, checked.event, now)


def duplicate_text(event: Event, new_slug: str) -> str:
    """The event file of `event` under a new slug, for a new event like it (dates to be changed)."""
    import dataclasses

    from chalicelib.domain.event_file import to_toml

    return to_toml(dataclasses.replace(event, slug=new_slug))


# --- the form: the usual fields one by one, over the event's own file ------------------------------------

# Form field: (path in the event file, kind). Kinds: text (required), optional (text, '' removes it),
# moment (required), later (optional moment), count (whole number), flag (check box).
FORM_FIELDS: dict[str, tuple[tuple[str, ...], str]] = {
    "title": (("title",), "text"),
    "summary": (("summary",), "text"),
    "starts_at": (("starts_at",), "moment"),
    "ends_at": (("ends_at",), "moment"),
    "doors_open_at": (("doors_open_at",), "later"),
    "registration_closes_at": (("registration_closes_at",), "later"),
    "cancellation_closes_at": (("cancellation_closes_at",), "later"),
    "capacity": (("capacity",), "count"),
    "waitlist": (("waitlist",), "flag"),
    "venue_name": (("venue", "name"), "text"),
    "venue_address": (("venue", "address"), "text"),
    "venue_map_url": (("venue", "map_url"), "optional"),
    "fee": (("fee",), "optional"),
    "organizer_name": (("contact", "organizer_name"), "optional"),
    "organizer_email": (("contact", "organizer_email"), "text"),
    "accommodation_question": (("accommodation_question",), "flag"),
    "meishi_consent_question": (("meishi_consent_question",), "flag"),
}


@dataclass(frozen=True)
class FormEdit:
    """The form's values (to show again), the event file they make, and problems by form field."""

    values: dict[str, str]
    text: str
    errors: dict[str, str]


def form_values(event: Event) -> dict[str, str]:
    """The form's fields for an event, as the organizer reads them (wall times in the event's zone)."""
    import tomllib

    from chalicelib.domain.event_file import to_toml

    data = tomllib.loads(to_toml(event))
    values: dict[str, str] = {}
    for name, (path, kind) in FORM_FIELDS.items():
        value: Any = data
        for key in path:
            value = value.get(key, None) if isinstance(value, dict) else None
        if kind == "flag":
            values[name] = "yes" if value else ""
        elif kind in ("moment", "later"):
            values[name] = _wall_time(event, value)
        else:
            values[name] = "" if value is None else str(value)
    return values


def _wall_time(event: Event, value: Any) -> str:
    """A moment as a datetime-local input shows it: the event's wall time to the minute."""
    if not isinstance(value, datetime):
        return ""
    moment = value if value.tzinfo is None else value.astimezone(event.tz).replace(tzinfo=None)
    return moment.isoformat(timespec="minutes")


def from_form(event: Event, fields: Mapping[str, str]) -> FormEdit:
    """Apply the form over the event's own file: the text to check and save, or what is wrong, field by field."""
    import tomllib

    from chalicelib.domain.event_file import parse_event, to_toml

    data: dict[str, Any] = tomllib.loads(to_toml(event))
    values = {name: str(fields.get(name, "")).strip() for name in FORM_FIELDS}
    errors: dict[str, str] = {}
    for name, (path, kind) in FORM_FIELDS.items():
        value, problem = _form_value(values[name], kind)
        if problem:
            errors[name] = problem
            continue
        target = data
        for key in path[:-1]:
            target = target.setdefault(key, {})
        if value is None:
            target.pop(path[-1], None)
        else:
            target[path[-1]] = value
    if errors:
        return FormEdit(values, "", errors)
    try:
        checked = parse_event(data)
    except EventFileError as exc:
        # The file's own words (English, as load-events prints them), after a sentence in the reader's language.
        return FormEdit(values, "", {_field_named(str(exc)): gettext(msg.EDITOR_PROBLEM).format(problem=exc)})
    return FormEdit(values, to_toml(checked), {})


def _form_value(raw: str, kind: str) -> tuple[Any, str]:
    if kind == "flag":
        return raw == "yes", ""
    if kind in ("moment", "later"):
        if not raw:
            return None, ("" if kind == "later" else msg.EDITOR_MOMENT_NEEDED)
        try:
            return datetime.fromisoformat(raw).replace(tzinfo=None, second=0, microsecond=0), ""
        except ValueError:
            return None, msg.EDITOR_MOMENT_INVALID
    if kind == "count":
        return (int(raw), "") if raw.isdigit() else (None, msg.EDITOR_COUNT_NEEDED)
    if kind == "optional":
        return (raw or None), ""
    return raw, ""


def _field_named(message: str) -> str:
    """The form field an event file's complaint is about (the first field whose file key it names)."""
    for name, (path, _) in FORM_FIELDS.items():
        if ".".join(path) in message or (len(path) == 1 and message.startswith(path[0])):
            return name
    return "title"
