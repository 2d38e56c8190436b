"""An event written back as an event file: TOML that `parse_event` reads into the very same Event.

For moving an event between stages and for keeping it in version control. Written by hand, as
the format is small and fixed: strings as TOML basic strings, times with the event's own offset.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

from chalicelib.domain.event import ATTENDANCE, DEFAULT_REMINDERS, DEFAULT_RETENTION_DAYS, Event, Talk, Translation
from chalicelib.domain.questions import Question

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def to_toml(event: Event) -> str:
    """The event file for `event`; loading it gives the same event back."""
    tz = ZoneInfo(event.timezone)
    # TOML allows no control character in a comment (a title typed with one made the file unreadable).
    lines = ["# " + "".join(c if c.isprintable() else " " for c in event.title), ""]
    lines += _pairs(
        ("slug", event.slug),
        ("title", event.title),
        ("summary", event.summary),
        ("url", event.url),
        ("share_image_url", event.share_image_url),
        ("timezone", event.timezone),
        ("starts_at", _moment(event.starts_at, tz)),
        ("ends_at", _moment(event.ends_at, tz)),
        ("doors_open_at", _moment(event.doors_open_at, tz)),
        ("registration_closes_at", _moment(event.registration_closes_at, tz)),
        ("cancellation_closes_at", _moment(event.cancellation_closes_at, tz)),
        ("capacity", event.capacity),
        ("waitlist", event.waitlist),
        ("accommodation_question", event.accommodation_question),
        ("meishi_consent_question", event.meishi_consent_question),
        ("certificates", event.certificates or None),
        ("quota_release_at", _moment(event.quota_release_at, tz)),
        ("draw_at", _moment(event.draw_at, tz)),
        ("reconfirm_at", _moment(event.reconfirm_at, tz)),
        ("release_unconfirmed_at", _moment(event.release_unconfirmed_at, tz)),
        ("retention_days", event.retention_days if event.retention_days != DEFAULT_RETENTION_DAYS else None),
        ("fee", event.fee),
        ("organizers", list(event.organizers)),
        ("cooperators", list(event.cooperators)),
    )
    if not event.reminders:
        lines.append("reminders = []")  # none at all, which leaving the key out would not say
    venue = event.venue
    lines += ["", "[venue]", *_pairs(("name", venue.name), ("address", venue.address))]
    lines += _pairs(("map_url", venue.map_url), ("url", venue.url))
    contact = event.contact
    lines += ["", "[contact]", *_pairs(("organizer_email", contact.organizer_email), ("sender", contact.sender))]
    lines += _pairs(("sender_name", contact.sender_name), ("organizer_name", contact.organizer_name))
    for category in event.categories:
        reserved = category.reserved or None
        lines += [
            "",
            "[[categories]]",
            *_pairs(("key", category.key), ("label", category.label), ("reserved", reserved)),
        ]
    for rule in event.form:
        texts = (("label", rule.label), ("hint", rule.hint), ("label_en", rule.label_en), ("hint_en", rule.hint_en))
        lines += ["", f"[form.{rule.field}]", *_pairs(("mode", rule.mode), *texts)]
    if event.online is not None:
        o = event.online
        numbers = (("venue_capacity", o.venue_capacity or None), ("online_capacity", o.online_capacity or None))
        words = (("instructions", o.instructions), ("instructions_en", o.instructions_en))
        lines += ["", "[online]", *_pairs(("mode", o.mode), ("url", o.url), *words, *numbers)]
    # The hybrid event's own question is left out: [online] gives it back.
    lines += _questions("questions", [q for q in event.questions if not (q.key == ATTENDANCE and event.online)])
    lines += _talks("programme", event.programme)
    if event.reminders and event.reminders != DEFAULT_REMINDERS:
        for spec in event.reminders:
            pairs = (("days_before", spec.days_before), ("at", spec.at), ("minutes_before", spec.minutes_before))
            lines += ["", "[[reminders]]", *_pairs(*pairs)]
    if event.survey is not None:
        closes = _moment(event.survey.closes_at, tz)
        lines += ["", "[survey]", *_pairs(("closes_at", closes), ("anonymous", event.survey.anonymous))]
        lines += _questions("survey.questions", list(event.survey.questions))
    for language, text in event.translations:
        lines += _translation(language, text)
    if event.readings:
        lines += ["", "[readings]", *_pairs(*event.readings)]
    return "\n".join(lines) + "\n"


def _questions(name: str, asked: list[Question]) -> list[str]:
    """[[questions]] (or [[survey.questions]]), each with its [[….choices]]."""
    lines: list[str] = []
    for q in asked:
        texts = (("label", q.label), ("hint", q.hint), ("label_en", q.label_en), ("hint_en", q.hint_en))
        flags = (("required", q.required or None), ("max_length", q.max_length or None))
        editable = (("editable", False),) if not q.editable else ()
        lines += ["", f"[[{name}]]", *_pairs(("key", q.key), ("kind", q.kind), *texts, *flags, *editable)]
        for c in q.choices:
            lines += [
                "",
                f"[[{name}.choices]]",
                *_pairs(("key", c.key), ("label", c.label), ("label_en", c.label_en), ("capacity", c.capacity or None)),
            ]
    return lines


def _translation(language: str, text: Translation) -> list[str]:
    lines = ["", f"[{language}]"]
    lines += _pairs(("title", text.title), ("summary", text.summary), ("fee", text.fee))
    lines += _pairs(("organizers", list(text.organizers)), ("cooperators", list(text.cooperators)))
    venue = _pairs(("name", text.venue_name), ("address", text.venue_address))
    if venue:
        lines += ["", f"[{language}.venue]", *venue]
    contact = _pairs(("organizer_name", text.organizer_name), ("sender_name", text.sender_name))
    if contact:
        lines += ["", f"[{language}.contact]", *contact]
    if text.categories:
        lines += ["", f"[{language}.categories]", *_pairs(*text.categories)]
    lines += _talks(f"{language}.programme", text.programme)
    for name, wordings in (("questions", text.questions), ("survey", text.survey)):
        for key, wording in wordings:
            table = f"{language}.{name}.{_key(key)}"
            lines += ["", f"[{table}]", *_pairs(("label", wording.label), ("hint", wording.hint))]
            if wording.choices:
                lines += ["", f"[{table}.choices]", *_pairs(*wording.choices)]
    for field, (label, hint) in text.form:
        lines += ["", f"[{language}.form.{field}]", *_pairs(("label", label), ("hint", hint))]
    return lines


def _talks(table: str, talks: Iterable[Talk]) -> list[str]:
    lines: list[str] = []
    for talk in talks:
        pairs = _pairs(("title", talk.title), ("speaker", talk.speaker), ("affiliation", talk.affiliation))
        lines += ["", f"[[{table}]]", *pairs]
    return lines


def _pairs(*pairs: tuple[str, object]) -> list[str]:
    """`key = value` lines, leaving out what is empty (the parser's default)."""
    return [f"{_key(key)} = {_value(value)}" for key, value in pairs if value not in (None, "", [])]


def _key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _string(key)


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_string(item) for item in value) + "]"
    if isinstance(value, _Moment):
        return value.text
    return _string(str(value))


def _string(text: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's, and DEL, which JSON leaves alone, is escaped too."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007F")


class _Moment:
    """A time written as an offset date-time in the event's own zone (as an organizer would write it)."""

    def __init__(self, moment: datetime, tz: ZoneInfo) -> None:
        self.text = moment.astimezone(tz).isoformat()


def _moment(moment: datetime | None, tz: ZoneInfo) -> _Moment | None:
    return None if moment is None else _Moment(moment, tz)
