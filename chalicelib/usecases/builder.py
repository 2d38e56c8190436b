"""The event builder: every setting of an event file as form fields, for organizers who never see the file.

The builder reads the form into the event file's own data (the dict `tomllib` would give) and hands it
to `parse_event`, so one strict format and one set of rules hold for the form, the file editor and
`manage.py load-events`; what the builder saves, the file editor opens, and the other way round.
Lists (参加区分, 講演, リマインダー, 独自の質問 and their choices) are numbered rows: blank rows add an
entry, a ticked 削除 removes one, and the 順番 numbers reorder them. Keys an organizer never sees are
kept in hidden fields for entries that exist and made up for new ones. Mistakes come back in
Japanese, beside their field (builder_errors.py).
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from chalicelib.domain.event import FIELD_MODES, SHAPEABLE_FIELDS, Event, EventFileError
from chalicelib.domain.event_file import parse_event, to_toml
from chalicelib.usecases import builder_errors
from chalicelib.usecases.builder_rows import ROW_LANGUAGES, WORDED_LANGUAGES, Row, blank_rows, rows_of, rows_to_data

# Single fields: form name -> (path in the event file, kind). Kinds: text (required), optional (text;
# '' leaves it out), lines (a list, one per line), moment (required), later (optional moment), count
# (whole number), flag (check box).
FIELDS: dict[str, tuple[tuple[str, ...], str]] = {
    "slug": (("slug",), "text"),
    "timezone": (("timezone",), "text"),
    "title": (("title",), "text"),
    "summary": (("summary",), "text"),
    "fee": (("fee",), "optional"),
    "url": (("url",), "optional"),
    "share_image_url": (("share_image_url",), "optional"),
    "organizers": (("organizers",), "lines"),
    "cooperators": (("cooperators",), "lines"),
    "starts_at": (("starts_at",), "moment"),
    "ends_at": (("ends_at",), "moment"),
    "doors_open_at": (("doors_open_at",), "later"),
    "registration_closes_at": (("registration_closes_at",), "later"),
    "cancellation_closes_at": (("cancellation_closes_at",), "later"),
    "capacity": (("capacity",), "count"),
    "waitlist": (("waitlist",), "flag"),
    "draw_at": (("draw_at",), "later"),
    "quota_release_at": (("quota_release_at",), "later"),
    "reconfirm_at": (("reconfirm_at",), "later"),
    "release_unconfirmed_at": (("release_unconfirmed_at",), "later"),
    "survey_closes_at": (("survey", "closes_at"), "later"),
    "venue_name": (("venue", "name"), "text"),
    "venue_address": (("venue", "address"), "text"),
    "venue_map_url": (("venue", "map_url"), "optional"),
    "venue_url": (("venue", "url"), "optional"),
    "online_url": (("online", "url"), "optional"),
    "online_instructions": (("online", "instructions"), "optional"),
    "online_instructions_en": (("online", "instructions_en"), "optional"),
    "venue_capacity": (("online", "venue_capacity"), "optional_count"),
    "online_capacity": (("online", "online_capacity"), "optional_count"),
    "organizer_name": (("contact", "organizer_name"), "optional"),
    "organizer_email": (("contact", "organizer_email"), "text"),
    "sender_name": (("contact", "sender_name"), "optional"),
    "sender": (("contact", "sender"), "optional"),
    "accommodation_question": (("accommodation_question",), "flag"),
    "meishi_consent_question": (("meishi_consent_question",), "flag"),
    "certificates": (("certificates",), "flag"),
    "retention_days": (("retention_days",), "optional_count"),
    "en_title": (("en", "title"), "optional"),
    "en_summary": (("en", "summary"), "optional"),
    "en_fee": (("en", "fee"), "optional"),
    "en_organizers": (("en", "organizers"), "lines"),
    "en_cooperators": (("en", "cooperators"), "lines"),
    "en_venue_name": (("en", "venue", "name"), "optional"),
    "en_venue_address": (("en", "venue", "address"), "optional"),
    "en_organizer_name": (("en", "contact", "organizer_name"), "optional"),
    "en_sender_name": (("en", "contact", "sender_name"), "optional"),
}
# The organizer's own words in the other languages attendees may read ([easy], [zh], [ko], [vi], [pt]):
# the few every page shows; the categories' names and the programme are rows' fields (builder_rows.py).
TRANSLATED = {
    "title": ("title",),
    "summary": ("summary",),
    "fee": ("fee",),
    "venue_name": ("venue", "name"),
    "venue_address": ("venue", "address"),
    "organizer_name": ("contact", "organizer_name"),
}
# Besides Japanese and English (whose fields stand beside the Japanese ones): one list, builder_rows.py's.
OTHER_LANGUAGES = WORDED_LANGUAGES
FIELDS.update(
    {f"{code}_{name}": ((code, *path), "optional") for code in OTHER_LANGUAGES for name, path in TRANSLATED.items()}
)
# The form's shaping of the standard fields: [form.<field>] mode, label, hint and their English; and in the
# other languages, [zh.form.<field>] label and hint (form_organization_label_zh).
RULE_PARTS = ("mode", "label", "hint", "label_en", "hint_en")
WORDED_RULE_PARTS = tuple(f"{part}_{code}" for code in WORDED_LANGUAGES for part in ("label", "hint"))
IN_PERSON, ONLINE_ONLY, HYBRID_MODE = "", "online", "hybrid"  # the 開催方法 choice (online_mode)
# A venue without a map link gets one made from its address (a search, so any address finds its place).
MAP_SEARCH = "https://www.google.com/maps/search/?api=1&query="
FIRST_COME, LOTTERY = "first_come", "lottery"  # the 申し込みの受け方 choice (allotment)


@dataclass(frozen=True)
class Built:
    """The form read back: its values (to show again), and the event file it makes or what is wrong with it."""

    values: dict[str, str]
    rows: dict[str, list[Row]]
    text: str = ""
    errors: Mapping[str, str] | None = None


def builder_values(event: Event) -> tuple[dict[str, str], dict[str, list[Row]]]:
    """The builder's fields and rows for an event (wall times in the event's zone, to the minute)."""
    data = tomllib.loads(to_toml(event))
    values: dict[str, str] = {}
    for name, (path, kind) in FIELDS.items():
        value: Any = data
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        values[name] = _shown(event, value, kind)
    values["online_mode"] = event.online.mode if event.online else IN_PERSON
    values["allotment"] = LOTTERY if event.draw_at else FIRST_COME
    values["survey_named"] = "yes" if event.survey and not event.survey.anonymous else ""
    for rule in event.form:
        for part in RULE_PARTS:
            values[f"form_{rule.field}_{part}"] = getattr(rule, part)
    for code, translation in event.translations:
        for field, (label, hint) in translation.form:
            values[f"form_{field}_label_{code}"], values[f"form_{field}_hint_{code}"] = label, hint
    return values, rows_of(data)


def _shown(event: Event, value: Any, kind: str) -> str:
    if kind == "flag":
        return "yes" if value else ""
    if kind in ("moment", "later"):
        if not isinstance(value, datetime):
            return ""
        moment = value if value.tzinfo is None else value.astimezone(event.tz).replace(tzinfo=None)
        return moment.isoformat(timespec="minutes")
    if kind == "lines":
        return "\n".join(value or [])
    return "" if value is None else str(value)


def read_builder(fields: Mapping[str, str], extra_row: str = "") -> Built:
    """The builder's fields as the event file they make (checked by parse_event), or the mistakes by field.

    `extra_row`: the list (ROWS) to show one more blank row of, when the organizer asked for one.
    """
    values = {name: str(fields.get(name, "")).replace("\r\n", "\n").strip() for name in FIELDS}
    values["online_mode"] = str(fields.get("online_mode", IN_PERSON))
    values["allotment"] = str(fields.get("allotment", FIRST_COME))
    values["survey_named"] = "yes" if fields.get("survey_named") == "yes" else ""
    for field in SHAPEABLE_FIELDS:
        for part in (*RULE_PARTS, *WORDED_RULE_PARTS):
            name = f"form_{field}_{part}"
            values[name] = str(fields.get(name, "")).strip()
    rows = blank_rows(fields, extra_row)
    errors: dict[str, str] = {}
    data = _data(values, errors)
    listed = rows_to_data(rows, errors)
    # Each language's words of single fields and of rows (categories, programme), in one section.
    sections = {code: {**data.get(code, {}), **listed.pop(code, {})} for code in ROW_LANGUAGES}
    survey = {**data.get("survey", {}), **listed.pop("survey", {})}  # its closing time, and its rows
    if survey:
        # Anonymous unless the organizer chose a named survey: the safer default needs no action.
        data["survey"] = {**survey, "anonymous": values["survey_named"] != "yes"}
    data.update(listed, **{code: section for code, section in sections.items() if section})
    _shape(values, data, errors)
    if errors:
        return Built(values, rows, errors=errors)
    try:
        event = parse_event(data)
    except EventFileError as exc:
        return Built(values, rows, errors=builder_errors.explain(str(exc)))
    return Built(values, rows, text=to_toml(event))


def _data(values: Mapping[str, str], errors: dict[str, str]) -> dict[str, Any]:
    """The single fields as event-file data; a value the form cannot read is an error beside its field."""
    data: dict[str, Any] = {}
    for name, (path, kind) in FIELDS.items():
        value, problem = _READERS[kind](values[name])
        if problem:
            errors[name] = problem
            continue
        if value is None or value == []:
            continue
        target = data
        for key in path[:-1]:
            target = target.setdefault(key, {})
        target[path[-1]] = value
    return data


def _shape(values: Mapping[str, str], data: dict[str, Any], errors: dict[str, str]) -> None:
    """The choices that decide what goes in the file: 開催方法, 先着/抽選, and the form's fields."""
    online = data.pop("online", {})
    mode = values["online_mode"]
    if mode in (ONLINE_ONLY, HYBRID_MODE):
        if mode == ONLINE_ONLY:
            online.pop("venue_capacity", None)
            online.pop("online_capacity", None)
        data["online"] = {"mode": mode, **online}
        if not online.get("url"):
            errors["online_url"] = builder_errors.ONLINE_URL_NEEDED
        if mode == HYBRID_MODE and online.get("venue_capacity") and online.get("online_capacity"):
            # Each mode's places add up to the capacity: the builder does the sum, not the organizer.
            data["capacity"] = online["venue_capacity"] + online["online_capacity"]
            errors.pop("capacity", None)
    venue = data.get("venue", {})
    if venue.get("address") and not venue.get("map_url"):
        venue["map_url"] = MAP_SEARCH + quote(venue["address"])
    if values["allotment"] == LOTTERY and "draw_at" not in data:
        errors["draw_at"] = builder_errors.DRAW_AT_NEEDED
    if values["allotment"] != LOTTERY:
        data.pop("draw_at", None)
    rules: dict[str, dict[str, str]] = {}
    for field in SHAPEABLE_FIELDS:
        rule = {part: values[f"form_{field}_{part}"] for part in RULE_PARTS if values[f"form_{field}_{part}"]}
        if rule.get("mode", "") not in ("", *FIELD_MODES):
            errors[f"form_{field}_mode"] = builder_errors.UNKNOWN_CHOICE
        if rule:
            rules[field] = rule
    if rules:
        data["form"] = rules
    for code in WORDED_LANGUAGES:
        worded = {
            field: {part: values[f"form_{field}_{part}_{code}"] for part in ("label", "hint")}
            for field in SHAPEABLE_FIELDS
        }
        worded = {field: {k: v for k, v in pair.items() if v} for field, pair in worded.items()}
        if any(worded.values()):
            data.setdefault(code, {})["form"] = {field: pair for field, pair in worded.items() if pair}
    for code in ROW_LANGUAGES:
        if code in data and not any(data[code].values()):
            data.pop(code)


def _text(raw: str) -> tuple[Any, str]:
    return (raw, "") if raw else (None, builder_errors.REQUIRED)


def _optional(raw: str) -> tuple[Any, str]:
    return (raw or None), ""


def _lines(raw: str) -> tuple[Any, str]:
    return [line.strip() for line in raw.splitlines() if line.strip()], ""


def _moment(raw: str) -> tuple[Any, str]:
    return (None, builder_errors.MOMENT_NEEDED) if not raw else _later(raw)


def _later(raw: str) -> tuple[Any, str]:
    if not raw:
        return None, ""
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None, builder_errors.MOMENT_INVALID
    if not 2000 <= moment.year <= 2999:  # a typo of a year, never an event's
        return None, builder_errors.MOMENT_INVALID
    return moment.replace(tzinfo=None, second=0, microsecond=0), ""


def _count(raw: str) -> tuple[Any, str]:
    # ASCII digits only: '²'.isdigit() is True, and int('²') raises.
    ok = raw.isascii() and raw.isdigit() and len(raw) <= 6
    return (int(raw), "") if ok else (None, builder_errors.COUNT_NEEDED)


def _optional_count(raw: str) -> tuple[Any, str]:
    return (None, "") if not raw else _count(raw)


def _flag(raw: str) -> tuple[Any, str]:
    return raw == "yes", ""


_READERS: dict[str, Callable[[str], tuple[Any, str]]] = {
    "text": _text,
    "optional": _optional,
    "lines": _lines,
    "moment": _moment,
    "later": _later,
    "count": _count,
    "optional_count": _optional_count,
    "flag": _flag,
}
