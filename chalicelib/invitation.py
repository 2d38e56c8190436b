"""The calendar file (.ics) attached to every e-mail about a registration."""

from __future__ import annotations

from datetime import datetime

from chalicelib.events import Event


def calendar_uid(registration_id: str, event: Event) -> str:
    """Stable per registration: re-sent or reminder files update the same calendar entry."""
    return f"{registration_id}.{event.slug}@uketsuke"


def build_ics(event: Event, registration_id: str, event_url: str, now: datetime) -> bytes:
    """An iCalendar (RFC 5545) file with the event in its own time zone."""
    from icalendar import Calendar  # heavy import, only when mail is built
    from icalendar import Event as CalendarEvent

    calendar = Calendar()
    calendar.add("prodid", "-//uketsuke//registration//JA")
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    entry = CalendarEvent()
    entry.add("uid", calendar_uid(registration_id, event))
    entry.add("dtstamp", now)
    entry.add("dtstart", event.starts_at.astimezone(event.tz))
    entry.add("dtend", event.ends_at.astimezone(event.tz))
    entry.add("summary", event.title)
    entry.add("location", f"{event.venue.name} {event.venue.address}")
    description = [event.summary, "", event_url]
    entry.add("description", "\n".join(description).strip())
    if event_url:
        entry.add("url", event_url)
    calendar.add_component(entry)
    calendar.add_missing_timezones()  # VTIMEZONE for Asia/Tokyo, so clients show 15:00 JST
    return bytes(calendar.to_ical())
