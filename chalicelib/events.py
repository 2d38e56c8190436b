"""Events: what organizers describe in `events/<slug>.toml`, and the seat state the table keeps."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.clock import iso, parse_iso

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
    for key, due in event.reminder_schedule().items():
        if due >= starts_at:
            raise EventFileError(f"reminder {key} would be sent at or after the start; move it earlier")
    return event


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


def _strings(data: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = data.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise EventFileError(f'{name} must be a list of texts, such as ["一般社団法人Publitech"]')
    return tuple(v.strip() for v in value)


def _table(data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = data.get(name)
    if not isinstance(value, dict):
        raise EventFileError(f"[{name}] section is required")
    return value


def _list_of_tables(data: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    value = data.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise EventFileError(f"{name} must be written as [[{name}]] sections")
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
