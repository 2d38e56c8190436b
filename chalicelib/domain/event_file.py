"""Event files: the TOML an organizer writes (`events/<slug>.toml`), parsed strictly into an Event.

Every error names the field and says what is expected, so an organizer can fix the file alone.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.domain import questions
from chalicelib.domain.event import (
    ATTENDANCE,
    DEFAULT_REMINDERS,
    DEFAULT_RETENTION_DAYS,
    DEFAULT_TIMEZONE,
    FIELD_MODES,
    HHMM_PATTERN,
    HYBRID,
    MAX_RETENTION_DAYS,
    ONLINE,
    SHAPEABLE_FIELDS,
    SLUG_PATTERN,
    Category,
    Contact,
    Event,
    EventFileError,
    FieldRule,
    Online,
    ReminderSpec,
    Talk,
    Translation,
    Venue,
)
from chalicelib.domain.ledger import sharing_a_slot
from chalicelib.domain.questions import Choice, Question
from chalicelib.domain.site import public_url
from chalicelib.text.i18n import DEFAULT as DEFAULT_LANGUAGE
from chalicelib.text.i18n import LANGUAGES, NAMES
from chalicelib.text.scalars import is_text


def parse_event(data: Mapping[str, Any], default_slug: str = "") -> Event:
    """Build an Event from a parsed TOML document, or raise EventFileError naming the field."""
    where = _not_text(data)
    if where is not None:
        raise EventFileError(f"{where}: holds a character that is not text (a lone surrogate or a noncharacter)")
    _check_names(data)
    slug = _text(data, "slug", default=default_slug)
    if not SLUG_PATTERN.match(slug):
        raise EventFileError(f"slug {slug!r} must be lowercase letters, digits and hyphens (it becomes the URL)")
    tz_name = _text(data, "timezone", default=DEFAULT_TIMEZONE)
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise EventFileError(f"timezone {tz_name!r} is not a known IANA time zone such as 'Asia/Tokyo'") from exc

    starts_at = _moment(data, "starts_at", tz)
    ends_at = _moment(data, "ends_at", tz)
    if ends_at <= starts_at:
        raise EventFileError("ends_at must be after starts_at")
    closes_at = _moment(data, "registration_closes_at", tz) if "registration_closes_at" in data else starts_at
    if closes_at > starts_at:
        raise EventFileError("registration_closes_at must not be after starts_at")
    doors = _moment(data, "doors_open_at", tz) if "doors_open_at" in data else None
    cancel_until = _moment(data, "cancellation_closes_at", tz) if "cancellation_closes_at" in data else None
    if cancel_until is not None and cancel_until > ends_at:
        raise EventFileError("cancellation_closes_at must not be after ends_at")
    retention = data.get("retention_days", DEFAULT_RETENTION_DAYS)
    if not isinstance(retention, int) or isinstance(retention, bool) or not 1 <= retention <= MAX_RETENTION_DAYS:
        raise EventFileError(f"retention_days must be a whole number of days from 1 to {MAX_RETENTION_DAYS}")
    waitlist = data.get("waitlist", True)
    if not isinstance(waitlist, bool):
        raise EventFileError("waitlist must be true or false")
    accommodation = data.get("accommodation_question", True)
    if not isinstance(accommodation, bool):
        raise EventFileError("accommodation_question must be true or false")
    meishi = data.get("meishi_consent_question", False)
    if not isinstance(meishi, bool):
        raise EventFileError("meishi_consent_question must be true or false")

    capacity = data.get("capacity")
    if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1:
        raise EventFileError("capacity must be a whole number of seats, at least 1")

    venue_data = _table(data, "venue")
    contact_data = _table(data, "contact")
    categories = tuple(
        Category(
            key=_text(c, "key", where="categories"),
            label=_text(c, "label", where="categories"),
            reserved=_reserved(c),
        )
        for c in _list_of_tables(data, "categories")
    )
    if sum(c.reserved for c in categories) > capacity:
        raise EventFileError("categories: the reserved seats add up to more than the capacity")
    release = _moment(data, "quota_release_at", tz) if "quota_release_at" in data else None
    draw = _moment(data, "draw_at", tz) if "draw_at" in data else None
    if draw is not None and draw > closes_at:
        raise EventFileError("draw_at must not be after registration_closes_at (the draw comes before the deadline)")
    if not categories:
        raise EventFileError("categories must list at least one 参加区分 ([[categories]] with key and label)")
    if len({c.key for c in categories}) != len(categories):
        raise EventFileError("categories: each key must be unique")
    for first, second in sharing_a_slot(c.key for c in categories):
        raise EventFileError(
            f"categories: the keys {first!r} and {second!r} would share one seat counter (a one-in-millions chance); "
            "rename one of them"
        )

    event = Event(
        slug=slug,
        title=_text(data, "title"),
        summary=_text(data, "summary", default=""),
        starts_at=starts_at,
        ends_at=ends_at,
        timezone=tz_name,
        venue=Venue(
            name=_text(venue_data, "name", where="venue"),
            address=_text(venue_data, "address", where="venue"),
            map_url=_text(venue_data, "map_url", where="venue", default=""),
            url=_text(venue_data, "url", where="venue", default=""),
        ),
        capacity=capacity,
        registration_closes_at=closes_at,
        categories=categories,
        contact=Contact(
            organizer_email=_address(contact_data, "organizer_email", required=True),
            sender=_address(contact_data, "sender", required=False),
            sender_name=_text(contact_data, "sender_name", where="contact", default=""),
            organizer_name=_text(contact_data, "organizer_name", where="contact", default=""),
        ),
        doors_open_at=doors,
        organizers=_strings(data, "organizers"),
        cooperators=_strings(data, "cooperators"),
        fee=_text(data, "fee", default=""),
        programme=tuple(
            Talk(
                title=_text(t, "title", where="programme"),
                speaker=_text(t, "speaker", where="programme", default=""),
                affiliation=_text(t, "affiliation", where="programme", default=""),
            )
            for t in _list_of_tables(data, "programme")
        ),
        reminders=_reminders(data),
        url=_text(data, "url", default=""),
        share_image_url=_share_image(data),
        waitlist=waitlist,
        accommodation_question=accommodation,
        meishi_consent_question=meishi,
        form=_form(data),
        questions=_questions(data),
        online=_online(data),
        cancellation_closes_at=cancel_until,
        quota_release_at=release,
        draw_at=draw,
        retention_days=retention,
    )
    event = replace(event, translations=_translations(data, event))
    event = _with_attendance(event)
    for key, due in event.reminder_schedule().items():
        if due >= starts_at:
            raise EventFileError(f"reminder {key} would be sent at or after the start; move it earlier")
    return event


# What `[en]` may hold, each spelt as at the top level of the file.
_TRANSLATABLE = ("title", "summary", "fee", "organizers", "cooperators", "venue", "contact", "categories", "programme")
_TRANSLATABLE_VENUE = ("name", "address")
_TRANSLATABLE_CONTACT = ("organizer_name", "sender_name")
_TRANSLATABLE_TALK = ("title", "speaker", "affiliation")


def _translations(data: Mapping[str, Any], event: Event) -> tuple[tuple[str, Translation], ...]:
    """The `[en]` section (one per language besides Japanese) of the organizer's own text."""
    return tuple(
        (language, _translation(data[language], language, event))
        for language in LANGUAGES
        if language != DEFAULT_LANGUAGE and language in data
    )


def _translation(section: Any, language: str, event: Event) -> Translation:
    if not isinstance(section, dict):
        raise EventFileError(f"[{language}] must be a section holding the event's text in {NAMES[language]}")
    _only(section, _TRANSLATABLE, language)
    venue, contact, labels = (_subsection(section, name, language) for name in ("venue", "contact", "categories"))
    _only(venue, _TRANSLATABLE_VENUE, f"{language}.venue")
    _only(contact, _TRANSLATABLE_CONTACT, f"{language}.contact")
    return Translation(
        title=_text(section, "title", where=language, default=""),
        summary=_text(section, "summary", where=language, default=""),
        fee=_text(section, "fee", where=language, default=""),
        organizers=_strings(section, "organizers", where=language),
        cooperators=_strings(section, "cooperators", where=language),
        venue_name=_text(venue, "name", where=f"{language}.venue", default=""),
        venue_address=_text(venue, "address", where=f"{language}.venue", default=""),
        organizer_name=_text(contact, "organizer_name", where=f"{language}.contact", default=""),
        sender_name=_text(contact, "sender_name", where=f"{language}.contact", default=""),
        categories=_category_labels(labels, language, event),
        programme=_translated_programme(section, language, event),
    )


def _category_labels(labels: Mapping[str, Any], language: str, event: Event) -> tuple[tuple[str, str], ...]:
    keys = [c.key for c in event.categories]
    for key, label in labels.items():
        if key not in keys:
            raise EventFileError(f"[{language}.categories]: no category has the key {key!r} (keys: {', '.join(keys)})")
        if not isinstance(label, str) or not label.strip():
            raise EventFileError(f"[{language}.categories]: the label of {key!r} must be text in quotes")
    return tuple((key, label.strip()) for key, label in labels.items())


def _translated_programme(section: Mapping[str, Any], language: str, event: Event) -> tuple[Talk, ...]:
    talks = _list_of_tables(section, "programme", where=language)
    if talks and len(talks) != len(event.programme):
        raise EventFileError(
            f"[[{language}.programme]] must give the programme's {len(event.programme)} items in the same order"
            f" (it gives {len(talks)})"
        )
    where = f"{language}.programme"
    for talk in talks:
        _only(talk, _TRANSLATABLE_TALK, where)
    return tuple(
        Talk(
            title=_text(t, "title", where=where, default=""),
            speaker=_text(t, "speaker", where=where, default=""),
            affiliation=_text(t, "affiliation", where=where, default=""),
        )
        for t in talks
    )


def _subsection(section: Mapping[str, Any], name: str, language: str) -> Mapping[str, Any]:
    value = section.get(name, {})
    if not isinstance(value, dict):
        raise EventFileError(f"{language}.{name} must be written as a [{language}.{name}] section")
    return value


def _only(section: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
    """Refuse a name the section does not take: misspelt, it would otherwise be ignored in silence.

    (`registration_close_at` once loaded, and the deadline quietly became the start.)
    """
    unknown = sorted(set(section) - set(allowed))
    if unknown:
        nearest = difflib.get_close_matches(unknown[0], allowed, n=1, cutoff=0.6)
        hint = f" (did you mean {nearest[0]}?)" if nearest else ""
        raise EventFileError(
            f"[{where}]: {', '.join(unknown)} cannot be given here{hint}; it takes {', '.join(allowed)}"
        )


# What each part of an event file may hold (the [en] section's own lists are below).
_TOP = (
    "slug",
    "title",
    "summary",
    "url",
    "share_image_url",
    "timezone",
    "starts_at",
    "ends_at",
    "doors_open_at",
    "registration_closes_at",
    "cancellation_closes_at",
    "capacity",
    "waitlist",
    "accommodation_question",
    "meishi_consent_question",
    "form",
    "questions",
    "online",
    "categories",
    "quota_release_at",
    "draw_at",
    "venue",
    "contact",
    "organizers",
    "cooperators",
    "fee",
    "programme",
    "reminders",
    "retention_days",
    *(language for language in LANGUAGES if language != DEFAULT_LANGUAGE),
)
_VENUE = ("name", "address", "map_url", "url")
_CONTACT = ("organizer_email", "sender", "sender_name", "organizer_name")
_CATEGORY = ("key", "label", "reserved")
_TALK = ("title", "speaker", "affiliation")
_REMINDER = ("days_before", "at", "minutes_before")
_FIELD_RULE = ("mode", "label", "hint", "label_en", "hint_en")
_QUESTION = ("key", "kind", "label", "hint", "label_en", "hint_en", "required", "max_length", "editable", "choices")
_CHOICE = ("key", "label", "label_en", "capacity")
_ONLINE = ("mode", "url", "instructions", "instructions_en", "venue_capacity", "online_capacity")


def _check_names(data: Mapping[str, Any]) -> None:
    """Every name at every level of the file is one the format knows."""
    _only(data, _TOP, "the file's top level")
    tables: tuple[tuple[str, tuple[str, ...]], ...] = (("venue", _VENUE), ("contact", _CONTACT))
    for name, allowed in tables:
        if isinstance(data.get(name), dict):
            _only(data[name], allowed, name)
    lists: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("categories", _CATEGORY),
        ("programme", _TALK),
        ("reminders", _REMINDER),
    )
    for name, allowed in lists:
        entries = data.get(name)
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict):
                _only(entry, allowed, f"[{name}]")


def _reserved(category: Mapping[str, Any]) -> int:
    value = category.get("reserved", 0)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise EventFileError("categories: reserved must be a whole number of seats, 0 or more")
    return value


def _reminders(data: Mapping[str, Any]) -> tuple[ReminderSpec, ...]:
    if "reminders" not in data:
        return DEFAULT_REMINDERS
    specs = []
    for entry in _list_of_tables(data, "reminders"):
        if "minutes_before" in entry:
            minutes = entry["minutes_before"]
            if not isinstance(minutes, int) or minutes < 1:
                raise EventFileError("reminders: minutes_before must be a whole number above 0")
            specs.append(ReminderSpec(minutes_before=minutes))
            continue
        days = entry.get("days_before")
        at = entry.get("at")
        if not isinstance(days, int) or days < 0 or not isinstance(at, str) or not HHMM_PATTERN.match(at):
            raise EventFileError('reminders: each needs days_before = N and at = "HH:MM", or minutes_before = N')
        specs.append(ReminderSpec(days_before=days, at=at))
    if len({s.key for s in specs}) != len(specs):
        raise EventFileError("reminders: the same reminder is listed twice")
    return tuple(specs)


def _moment(data: Mapping[str, Any], name: str, tz: ZoneInfo) -> datetime:
    value = data.get(name)
    if not isinstance(value, datetime):
        raise EventFileError(f"{name} must be a date and time such as 2027-01-20T15:00:00+09:00")
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)  # local wall time in the event's time zone
    return value.astimezone(UTC)


def _text(data: Mapping[str, Any], name: str, where: str = "", default: str | None = None) -> str:
    label = f"{where}.{name}" if where else name
    value = data.get(name, default)
    if value is None:
        raise EventFileError(f"{label} is required")
    if not isinstance(value, str):
        raise EventFileError(f"{label} must be text in quotes")
    value = value.strip()
    if default is None and not value:
        raise EventFileError(f"{label} must not be empty")
    return value


def _strings(data: Mapping[str, Any], name: str, where: str = "") -> tuple[str, ...]:
    label = f"{where}.{name}" if where else name
    value = data.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise EventFileError(f'{label} must be a list of texts, such as ["一般社団法人Publitech"]')
    return tuple(v.strip() for v in value)


def _table(data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = data.get(name)
    if not isinstance(value, dict):
        raise EventFileError(f"[{name}] section is required")
    return value


def _list_of_tables(data: Mapping[str, Any], name: str, where: str = "") -> list[Mapping[str, Any]]:
    label = f"{where}.{name}" if where else name
    value = data.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise EventFileError(f"{label} must be written as [[{label}]] sections")
    return value


def parse_event_text(text: str, default_slug: str = "") -> Event:
    """An event from the text of an event file (as the editor sends it), or EventFileError saying what is wrong."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise EventFileError(f"not valid TOML: {exc}") from exc
    return parse_event(data, default_slug=default_slug)


def read_event_file(path: str) -> Event:
    """Parse one `events/<slug>.toml`; the slug defaults to the file name."""
    import os

    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise EventFileError(f"not valid TOML: {exc}") from exc
    return parse_event(data, default_slug=os.path.splitext(os.path.basename(path))[0])


def _not_text(value: Any, where: str = "") -> str | None:
    """The dotted name of the first key or value that is not text (text/scalars.py), or None."""
    if isinstance(value, str):
        return None if is_text(value) else (where or "the file")
    if isinstance(value, Mapping):
        for key, item in value.items():
            name = f"{where}.{key}" if where else str(key)
            if not is_text(str(key)):
                return where or "the file"
            found = _not_text(item, name)
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _not_text(item, f"{where}[{index + 1}]")
            if found is not None:
                return found
    return None


def _share_image(data: Mapping[str, Any]) -> str:
    """The picture for the event's link preview: an https:// address, or '' for the site's own."""
    value = _text(data, "share_image_url", default="")
    if value and not public_url(value):
        raise EventFileError(f"share_image_url must be an https:// address of a picture, got {value!r}")
    return value


def _form(data: Mapping[str, Any]) -> tuple[FieldRule, ...]:
    """[form.<field>] sections: each standard field required, optional or hidden, in the organizer's words."""
    form = data.get("form", {})
    if not isinstance(form, dict) or not all(isinstance(v, dict) for v in form.values()):
        raise EventFileError("form must be written as [form.<field>] sections, e.g. [form.organization]")
    rules = []
    for field, section in form.items():
        if field not in SHAPEABLE_FIELDS:
            nearest = difflib.get_close_matches(field, SHAPEABLE_FIELDS, n=1, cutoff=0.6)
            hint = f" (did you mean {nearest[0]}?)" if nearest else ""
            raise EventFileError(
                f"[form.{field}]: no such field{hint}; the form's fields are {', '.join(SHAPEABLE_FIELDS)}"
            )
        _only(section, _FIELD_RULE, f"form.{field}")
        mode = _text(section, "mode", where=f"form.{field}", default="")
        if mode and mode not in FIELD_MODES:
            raise EventFileError(f"[form.{field}]: mode must be one of {', '.join(FIELD_MODES)}, got {mode!r}")
        texts = {name: _text(section, name, where=f"form.{field}", default="") for name in _FIELD_RULE[1:]}
        for name, value in texts.items():
            if len(value) > _MAX_FORM_TEXT:
                raise EventFileError(f"[form.{field}]: {name} is longer than {_MAX_FORM_TEXT} characters")
        rules.append(FieldRule(field=field, mode=mode, **texts))
    return tuple(rules)


_MAX_FORM_TEXT = 200


def _questions(data: Mapping[str, Any]) -> tuple[Question, ...]:
    """[[questions]] (with [[questions.choices]]): the event's own questions, checked one by one."""
    found: list[Question] = []
    for n, q in enumerate(_list_of_tables(data, "questions"), 1):
        where = f"questions #{n}"
        _only(q, _QUESTION, where)
        key = _text(q, "key", where=where)
        if not questions.KEY_PATTERN.match(key):
            raise EventFileError(f"[[questions]] #{n}: key {key!r} must be lowercase letters, digits, - or _")
        if key in {f.key for f in found}:
            raise EventFileError(f"[[questions]]: two questions have the key {key!r}")
        kind = _text(q, "kind", where=where)
        if kind not in questions.KINDS:
            raise EventFileError(f"[[questions]] {key}: kind must be one of {', '.join(questions.KINDS)}, got {kind!r}")
        flags = {name: q.get(name, default) for name, default in (("required", False), ("editable", True))}
        for name, value in flags.items():
            if not isinstance(value, bool):
                raise EventFileError(f"[[questions]] {key}: {name} must be true or false")
        limit = q.get("max_length", 0)
        if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= questions.LONGEST:
            raise EventFileError(f"[[questions]] {key}: max_length must be a whole number up to {questions.LONGEST}")
        choices = _choices(q, key, kind)
        if any(c.capacity for c in choices) and flags["editable"]:
            # A seat-like answer changes only with the seat: cancelling releases it (changes.cancel).
            raise EventFileError(
                f"[[questions]] {key}: a question whose choices have a capacity must set editable = false"
            )

        def text(name: str, q: Mapping[str, Any] = q, where: str = where) -> str:
            return _text(q, name, where=where, default="")

        found.append(
            Question(
                key=key,
                kind=kind,
                label=_text(q, "label", where=where),
                hint=text("hint"),
                label_en=text("label_en"),
                hint_en=text("hint_en"),
                required=bool(flags["required"]),
                max_length=limit,
                editable=bool(flags["editable"]),
                choices=choices,
            )
        )
    return tuple(found)


def _choices(q: Mapping[str, Any], key: str, kind: str) -> tuple[Choice, ...]:
    tables = _list_of_tables(q, "choices", where=f"questions.{key}")
    if kind in (questions.SINGLE, questions.MULTIPLE) and len(tables) < 2:
        raise EventFileError(f"[[questions]] {key}: a {kind} question needs at least two [[questions.choices]]")
    if kind not in (questions.SINGLE, questions.MULTIPLE) and tables:
        raise EventFileError(f"[[questions]] {key}: a {kind} question takes no choices")
    choices: list[Choice] = []
    for table in tables:
        _only(table, _CHOICE, f"questions.{key}.choices")
        choice = _text(table, "key", where=f"questions.{key}.choices")
        if not questions.KEY_PATTERN.match(choice) or choice in {c.key for c in choices}:
            raise EventFileError(f"[[questions]] {key}: choice key {choice!r} must be unique lowercase letters, digits")
        label = _text(table, "label", where=f"questions.{key}.choices")
        capacity = table.get("capacity", 0)
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 0:
            raise EventFileError(f"[[questions]] {key}: the capacity of choice {choice!r} must be a whole number")
        english = _text(table, "label_en", where=f"questions.{key}.choices", default="")
        choices.append(Choice(choice, label, english, capacity))
    return tuple(choices)


def _online(data: Mapping[str, Any]) -> Online | None:
    """[online]: an online event, or a hybrid one whose registrants choose 会場 or オンライン."""
    if "online" not in data:
        return None
    section = data["online"]
    if not isinstance(section, dict):
        raise EventFileError("online must be written as an [online] section")
    _only(section, _ONLINE, "online")
    mode = _text(section, "mode", where="online")
    if mode not in (ONLINE, HYBRID):
        raise EventFileError(f"[online]: mode must be {ONLINE} or {HYBRID}, got {mode!r}")
    url = _text(section, "url", where="online")
    if not public_url(url):
        raise EventFileError(f"[online]: url must be the meeting's https:// address, got {url!r}")
    numbers = {name: section.get(name, 0) for name in ("venue_capacity", "online_capacity")}
    for name, value in numbers.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise EventFileError(f"[online]: {name} must be a whole number")
    if mode == HYBRID and (numbers["venue_capacity"] < 1 or numbers["online_capacity"] < 1):
        raise EventFileError("[online]: a hybrid event needs venue_capacity and online_capacity (at least 1 each)")
    if mode == ONLINE and any(numbers.values()):
        raise EventFileError("[online]: venue_capacity and online_capacity are for mode = hybrid only")
    return Online(
        mode=mode,
        url=url,
        instructions=_text(section, "instructions", where="online", default=""),
        instructions_en=_text(section, "instructions_en", where="online", default=""),
        venue_capacity=numbers["venue_capacity"],
        online_capacity=numbers["online_capacity"],
    )


def attendance_question(online: Online) -> Question:
    """The question every registrant of a hybrid event answers: 会場 or オンライン, each with its places."""
    return Question(
        key=ATTENDANCE,
        kind=questions.SINGLE,
        label="参加方法",
        label_en="How you will take part",
        required=True,
        editable=False,
        choices=(
            Choice("venue", "会場で参加", "At the venue", online.venue_capacity),
            Choice(ONLINE, "オンラインで参加", "Online", online.online_capacity),
        ),
    )


def _with_attendance(event: Event) -> Event:
    """A hybrid event asks every registrant 会場 or オンライン first; its places add up to the capacity."""
    online = event.online
    if online is None or online.mode != HYBRID:
        return event
    if any(q.key == ATTENDANCE for q in event.questions):
        raise EventFileError(f"[[questions]]: the key {ATTENDANCE!r} is the hybrid event's own question; use another")
    if online.venue_capacity + online.online_capacity != event.capacity:
        raise EventFileError(
            f"[online]: venue_capacity + online_capacity ({online.venue_capacity} + {online.online_capacity})"
            f" must equal capacity ({event.capacity})"
        )
    return replace(event, questions=(attendance_question(online), *event.questions))


_ADDRESS = re.compile(r"^[^@\s\"<>,;]+@[^@\s\"<>,;]+\.[^@\s\"<>,;]+$")


def _address(contact: Mapping[str, Any], name: str, required: bool) -> str:
    """An address in [contact]: mail is sent from or to it, so it must look like one."""
    value = _text(contact, name, where="contact", default=None if required else "")
    if value and not _ADDRESS.match(value):
        raise EventFileError(f"contact.{name} must be an e-mail address such as office@example.jp, got {value!r}")
    return value
