"""Events: what organizers describe in `events/<slug>.toml`, and the seat state the table keeps."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.domain.clock import iso, parse_iso
from chalicelib.text.i18n import DEFAULT as DEFAULT_LANGUAGE
from chalicelib.text.i18n import LANGUAGES, NAMES

DEFAULT_TIMEZONE = "Asia/Tokyo"
# Long enough for the organizer's follow-up (materials, a survey), short enough to hold little.
DEFAULT_RETENTION_DAYS = 30
MAX_RETENTION_DAYS = 3650
SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class EventFileError(ValueError):
    """An event description is invalid; the message names the field and what is expected."""


@dataclass(frozen=True)
class Category:
    """One 参加区分 an attendee can choose."""

    key: str
    label: str
    reserved: int = 0  # seats only this category may take (until the event's quota_release_at)


@dataclass(frozen=True)
class Talk:
    """One item of the programme."""

    title: str
    speaker: str = ""
    affiliation: str = ""


@dataclass(frozen=True)
class Venue:
    """Where the event takes place."""

    name: str
    address: str
    map_url: str = ""
    url: str = ""


@dataclass(frozen=True)
class ReminderSpec:
    """When a reminder goes out, relative to the event start."""

    days_before: int | None = None
    at: str | None = None  # "HH:MM" in the event's time zone, with days_before
    minutes_before: int | None = None

    @property
    def key(self) -> str:
        """Stable name of this reminder: reloading the event file keeps its sent state."""
        if self.minutes_before is not None:
            return f"m{self.minutes_before}"
        return f"d{self.days_before}-{(self.at or '').replace(':', '')}"

    def due(self, starts_at: datetime, tz: ZoneInfo) -> datetime:
        """The moment this reminder is due, in UTC."""
        if self.minutes_before is not None:
            return starts_at - timedelta(minutes=self.minutes_before)
        local_day: date = starts_at.astimezone(tz).date() - timedelta(days=self.days_before or 0)
        hour, minute = (int(part) for part in (self.at or "00:00").split(":"))
        return datetime.combine(local_day, time(hour, minute), tzinfo=tz).astimezone(UTC)


# The day before at 10:00 and the morning of the event (issue 2's default).
DEFAULT_REMINDERS = (ReminderSpec(days_before=1, at="10:00"), ReminderSpec(days_before=0, at="08:00"))


@dataclass(frozen=True)
class Contact:
    """Who mails come from and who answers questions."""

    organizer_email: str
    sender: str = ""  # empty: the deployment's default sender
    sender_name: str = ""
    organizer_name: str = ""


@dataclass(frozen=True)
class Translation:
    """The organizer's own text in another language (`[en]` in the event file); what it leaves out stays
    as written."""

    title: str = ""
    summary: str = ""
    fee: str = ""
    organizers: tuple[str, ...] = ()
    cooperators: tuple[str, ...] = ()
    venue_name: str = ""
    venue_address: str = ""
    organizer_name: str = ""
    sender_name: str = ""
    categories: tuple[tuple[str, str], ...] = ()  # (key, label), for the categories it names
    programme: tuple[Talk, ...] = ()  # empty, or one per programme item in the same order

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Translation:
        """Inverse of dataclasses.asdict()."""
        return cls(
            **{
                **data,
                "organizers": tuple(data["organizers"]),
                "cooperators": tuple(data["cooperators"]),
                "categories": tuple((key, label) for key, label in data["categories"]),
                "programme": tuple(Talk(**talk) for talk in data["programme"]),
            }
        )


@dataclass(frozen=True)
class Event:
    """An event as the organizer described it. Times are aware datetimes in UTC."""

    slug: str
    title: str
    summary: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    venue: Venue
    capacity: int
    registration_closes_at: datetime
    categories: tuple[Category, ...]
    contact: Contact
    doors_open_at: datetime | None = None
    organizers: tuple[str, ...] = ()
    cooperators: tuple[str, ...] = ()
    fee: str = ""
    programme: tuple[Talk, ...] = ()
    reminders: tuple[ReminderSpec, ...] = DEFAULT_REMINDERS
    url: str = ""
    waitlist: bool = True  # when full, new registrants join a waiting list and move up as seats free
    cancellation_closes_at: datetime | None = None  # None: registrants may cancel until the start
    quota_release_at: datetime | None = None  # unused reserved seats become everyone's then (None: never)
    draw_at: datetime | None = None  # a lottery: applications until then, then a draw (None: first come)
    retention_days: int = DEFAULT_RETENTION_DAYS  # personal data is deleted this many days after the end
    translations: tuple[tuple[str, Translation], ...] = ()  # (language, the organizer's text in it)

    def in_language(self, language: str) -> Event:
        """The event as a reader of `language` sees it: the organizer's translation where they wrote one."""
        text = dict(self.translations).get(language)
        if text is None:
            return self
        labels = dict(text.categories)
        return replace(
            self,
            title=text.title or self.title,
            summary=text.summary or self.summary,
            fee=text.fee or self.fee,
            organizers=text.organizers or self.organizers,
            cooperators=text.cooperators or self.cooperators,
            venue=replace(
                self.venue, name=text.venue_name or self.venue.name, address=text.venue_address or self.venue.address
            ),
            contact=replace(
                self.contact,
                organizer_name=text.organizer_name or self.contact.organizer_name,
                sender_name=text.sender_name or self.contact.sender_name,
            ),
            categories=tuple(replace(c, label=labels.get(c.key, c.label)) for c in self.categories),
            programme=_programme_in(self.programme, text.programme),
        )

    @property
    def personal_data_expires_at(self) -> datetime:
        """When DynamoDB's TTL deletes this event's registrations (APPI: keep no longer than needed)."""
        return self.ends_at + timedelta(days=self.retention_days)

    def reservations(self, now: datetime) -> dict[str, int]:
        """Seats reserved per category key at `now` (none once they are released)."""
        if self.quota_release_at is not None and now >= self.quota_release_at:
            return {}
        return {c.key: c.reserved for c in self.categories if c.reserved}

    def takes_applications(self, now: datetime) -> bool:
        """True while a lottery takes applications, before its draw."""
        return self.draw_at is not None and now < self.draw_at

    @property
    def cancellation_deadline(self) -> datetime:
        """Until when a registrant may cancel (and so free a seat for the waiting list)."""
        return self.cancellation_closes_at or self.starts_at

    @property
    def tz(self) -> ZoneInfo:
        """The event's time zone."""
        return ZoneInfo(self.timezone)

    def category_label(self, key: str) -> str:
        """Label of a category key, or the key itself if the organizer removed it since."""
        return next((c.label for c in self.categories if c.key == key), key)

    def reminder_schedule(self) -> dict[str, datetime]:
        """Due time of each configured reminder, by key."""
        return {spec.key: spec.due(self.starts_at, self.tz) for spec in self.reminders}

    def to_json(self) -> str:
        """Serialise for storage in the event item."""
        data = asdict(self)
        moments = ("starts_at", "ends_at", "registration_closes_at", "doors_open_at", "cancellation_closes_at")
        for name in (*moments, "quota_release_at", "draw_at"):
            data[name] = iso(data[name]) if data[name] else None
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Event:
        """Inverse of to_json()."""
        data = json.loads(text)
        return cls(
            slug=data["slug"],
            title=data["title"],
            summary=data["summary"],
            starts_at=parse_iso(data["starts_at"]),
            ends_at=parse_iso(data["ends_at"]),
            timezone=data["timezone"],
            venue=Venue(**data["venue"]),
            capacity=data["capacity"],
            registration_closes_at=parse_iso(data["registration_closes_at"]),
            categories=tuple(Category(**c) for c in data["categories"]),
            contact=Contact(**data["contact"]),
            doors_open_at=parse_iso(data["doors_open_at"]) if data["doors_open_at"] else None,
            organizers=tuple(data["organizers"]),
            cooperators=tuple(data["cooperators"]),
            fee=data["fee"],
            programme=tuple(Talk(**t) for t in data["programme"]),
            reminders=tuple(ReminderSpec(**r) for r in data["reminders"]),
            url=data.get("url", ""),
            waitlist=data.get("waitlist", True),
            cancellation_closes_at=_moment_or_none(data.get("cancellation_closes_at")),
            quota_release_at=_moment_or_none(data.get("quota_release_at")),
            draw_at=_moment_or_none(data.get("draw_at")),
            retention_days=data.get("retention_days", DEFAULT_RETENTION_DAYS),
            translations=tuple((lang, Translation.from_dict(text)) for lang, text in data.get("translations", [])),
        )


def _programme_in(programme: tuple[Talk, ...], translated: tuple[Talk, ...]) -> tuple[Talk, ...]:
    if not translated:
        return programme
    return tuple(
        Talk(
            title=theirs.title or talk.title,
            speaker=theirs.speaker or talk.speaker,
            affiliation=theirs.affiliation or talk.affiliation,
        )
        for talk, theirs in zip(programme, translated, strict=True)  # the parser checked they pair up
    )


def _moment_or_none(text: str | None) -> datetime | None:
    return parse_iso(text) if text else None


class Availability(StrEnum):
    """What the event page tells a visitor about seats."""

    OPEN = "open"
    FULL = "full"  # 満席
    CLOSED = "closed"  # 受付終了
    LOTTERY = "lottery"  # 抽選申込受付中
    DRAWING = "drawing"  # 抽選中: applications closed, the draw has not run yet


@dataclass(frozen=True)
class EventState:
    """An event together with its live seat counter and open/closed status."""

    event: Event
    seats_taken: int
    closed: bool = False
    closed_reason: str = ""
    waiting: int = 0  # people on the waiting list
    drawn: bool = False  # the lottery's draw has run

    def in_language(self, language: str) -> EventState:
        """The same state, with the event as a reader of `language` sees it."""
        return replace(self, event=self.event.in_language(language))

    @property
    def seats_left(self) -> int:
        """Seats still free (never negative, even if capacity was lowered below the count)."""
        return max(0, self.event.capacity - self.seats_taken)

    def availability(self, now: datetime) -> Availability:
        """Open, full or closed at `now`; the deadline counts even before the closer has run."""
        if self.closed or now >= self.event.registration_closes_at:
            return Availability.CLOSED
        if self.event.takes_applications(now):
            return Availability.LOTTERY
        if self.event.draw_at is not None and not self.drawn:
            return Availability.DRAWING
        if self.seats_left == 0:
            return Availability.FULL
        return Availability.OPEN


# --- parsing organizer files -------------------------------------------------------------------


def parse_event(data: Mapping[str, Any], default_slug: str = "") -> Event:
    """Build an Event from a parsed TOML document, or raise EventFileError naming the field."""
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
            organizer_email=_text(contact_data, "organizer_email", where="contact"),
            sender=_text(contact_data, "sender", where="contact", default=""),
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
        waitlist=waitlist,
        cancellation_closes_at=cancel_until,
        quota_release_at=release,
        draw_at=draw,
        retention_days=retention,
    )
    event = replace(event, translations=_translations(data, event))
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
    """Refuse what a translation cannot hold: a misspelt name would otherwise leave the text untranslated."""
    unknown = sorted(set(section) - set(allowed))
    if unknown:
        raise EventFileError(f"[{where}]: {', '.join(unknown)} cannot be given here; it takes {', '.join(allowed)}")


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
        if not isinstance(days, int) or days < 0 or not isinstance(at, str) or not _HHMM.match(at):
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


def read_event_file(path: str) -> Event:
    """Parse one `events/<slug>.toml`; the slug defaults to the file name."""
    import os
    import tomllib

    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise EventFileError(f"not valid TOML: {exc}") from exc
    return parse_event(data, default_slug=os.path.splitext(os.path.basename(path))[0])
