"""Dates and their order: the time zone, the start and end, every deadline, the draw, and the reminders."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.domain.event import (
    DEFAULT_REMINDERS,
    DEFAULT_TIMEZONE,
    HHMM_PATTERN,
    Event,
    EventFileError,
    ReminderSpec,
)
from chalicelib.domain.event_file.values import list_of_tables, moment, text


@dataclass(frozen=True)
class Dates:
    """An event's moments (UTC), read and checked for their order."""

    timezone: str
    starts_at: datetime
    ends_at: datetime
    registration_closes_at: datetime
    doors_open_at: datetime | None
    cancellation_closes_at: datetime | None
    quota_release_at: datetime | None
    draw_at: datetime | None
    reconfirm_at: datetime | None = None
    release_unconfirmed_at: datetime | None = None


def dates(data: Mapping[str, Any]) -> Dates:
    """The time zone and every moment of the file, each after what it must follow."""
    tz_name = text(data, "timezone", default=DEFAULT_TIMEZONE)
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise EventFileError(f"timezone {tz_name!r} is not a known IANA time zone such as 'Asia/Tokyo'") from exc

    def optional(name: str) -> datetime | None:
        return moment(data, name, tz) if name in data else None

    starts_at = moment(data, "starts_at", tz)
    ends_at = moment(data, "ends_at", tz)
    if ends_at <= starts_at:
        raise EventFileError("ends_at must be after starts_at")
    closes_at = optional("registration_closes_at") or starts_at
    if closes_at > starts_at:
        raise EventFileError("registration_closes_at must not be after starts_at")
    cancel_until = optional("cancellation_closes_at")
    if cancel_until is not None and cancel_until > ends_at:
        raise EventFileError("cancellation_closes_at must not be after ends_at")
    draw = optional("draw_at")
    if draw is not None and draw > closes_at:
        raise EventFileError("draw_at must not be after registration_closes_at (the draw comes before the deadline)")
    reconfirm, release = _attendance(optional("reconfirm_at"), optional("release_unconfirmed_at"), starts_at)
    return Dates(
        tz_name,
        starts_at,
        ends_at,
        closes_at,
        optional("doors_open_at"),
        cancel_until,
        optional("quota_release_at"),
        draw,
        reconfirm,
        release,
    )


def _attendance(
    reconfirm: datetime | None, release: datetime | None, starts_at: datetime
) -> tuple[datetime | None, datetime | None]:
    """出欠の再確認 comes before the start; the release of unanswered seats after it is asked and before the start."""
    if reconfirm is not None and reconfirm >= starts_at:
        raise EventFileError("reconfirm_at must be before starts_at")
    if release is None:
        return reconfirm, release
    if reconfirm is None:
        raise EventFileError("release_unconfirmed_at needs reconfirm_at (people are asked before a seat is released)")
    if release <= reconfirm:
        raise EventFileError("release_unconfirmed_at must be after reconfirm_at (people need time to answer)")
    if release >= starts_at:
        raise EventFileError("release_unconfirmed_at must be before starts_at")
    return reconfirm, release


# A reminder more than a year ahead is a typing slip (and far enough back runs off the calendar).
MAX_REMINDER_DAYS = 366


def reminders(data: Mapping[str, Any]) -> tuple[ReminderSpec, ...]:
    """[[reminders]]: days before at a time of day, or minutes before; the defaults if none are listed."""
    if "reminders" not in data:
        return DEFAULT_REMINDERS
    specs = []
    for entry in list_of_tables(data, "reminders"):
        if "minutes_before" in entry:
            minutes = entry["minutes_before"]
            if not isinstance(minutes, int) or not 1 <= minutes <= MAX_REMINDER_DAYS * 24 * 60:
                raise EventFileError(
                    f"reminders: minutes_before must be a whole number from 1 to {MAX_REMINDER_DAYS * 24 * 60}"
                )
            specs.append(ReminderSpec(minutes_before=minutes))
            continue
        days = entry.get("days_before")
        at = entry.get("at")
        if not isinstance(days, int) or days < 0 or not isinstance(at, str) or not HHMM_PATTERN.match(at):
            raise EventFileError('reminders: each needs days_before = N and at = "HH:MM", or minutes_before = N')
        if days > MAX_REMINDER_DAYS:
            raise EventFileError(f"reminders: days_before must be at most {MAX_REMINDER_DAYS} (a year before)")
        specs.append(ReminderSpec(days_before=days, at=at))
    if len({s.key for s in specs}) != len(specs):
        raise EventFileError("reminders: the same reminder is listed twice")
    return tuple(specs)


def check_reminders(event: Event) -> None:
    """Every reminder goes out before the event starts."""
    for key, due in event.reminder_schedule().items():
        if due >= event.starts_at:
            raise EventFileError(f"reminder {key} would be sent at or after the start; move it earlier")
