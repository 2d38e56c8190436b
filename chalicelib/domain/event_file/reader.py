"""Reading an event file: the TOML an organizer writes (`events/<slug>.toml`), parsed strictly into an Event.

Every error names the field and says what is expected, so an organizer can fix the file alone. Each
part of the file is read by the module named after it (dates, seats, form, online, translations);
this one puts the event together.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.domain.event import (
    DEFAULT_RETENTION_DAYS,
    MAX_RETENTION_DAYS,
    SLUG_PATTERN,
    Contact,
    Event,
    EventFileError,
    Talk,
    Venue,
)
from chalicelib.domain.event_file import dates as dates_of
from chalicelib.domain.event_file import seats
from chalicelib.domain.event_file.form import form_rules, own_questions
from chalicelib.domain.event_file.names import check_names
from chalicelib.domain.event_file.online import online_section, with_attendance
from chalicelib.domain.event_file.survey import readings_section, survey_section
from chalicelib.domain.event_file.translations import translations
from chalicelib.domain.event_file.values import (
    address,
    flag,
    list_of_tables,
    not_text,
    strings,
    table,
    text,
    whole_number,
)
from chalicelib.domain.site import public_url


def parse_event(data: Mapping[str, Any], default_slug: str = "") -> Event:
    """Build an Event from a parsed TOML document, or raise EventFileError naming the field."""
    where = not_text(data)
    if where is not None:
        raise EventFileError(f"{where}: holds a character that is not text (a lone surrogate or a noncharacter)")
    check_names(data)
    slug = text(data, "slug", default=default_slug)
    if not SLUG_PATTERN.match(slug):
        raise EventFileError(f"slug {slug!r} must be lowercase letters, digits and hyphens (it becomes the URL)")
    when = dates_of.dates(data)
    try:
        retention = whole_number(data, "retention_days", DEFAULT_RETENTION_DAYS, 1, MAX_RETENTION_DAYS)
    except EventFileError as exc:
        raise EventFileError(f"retention_days must be a whole number of days from 1 to {MAX_RETENTION_DAYS}") from exc
    capacity = seats.capacity(data)
    venue_data = table(data, "venue")
    contact_data = table(data, "contact")
    event = Event(
        slug=slug,
        title=text(data, "title"),
        summary=text(data, "summary", default=""),
        starts_at=when.starts_at,
        ends_at=when.ends_at,
        timezone=when.timezone,
        venue=Venue(
            name=text(venue_data, "name", where="venue"),
            address=text(venue_data, "address", where="venue"),
            map_url=web_address(venue_data, "map_url", where="venue"),
            url=web_address(venue_data, "url", where="venue"),
        ),
        capacity=capacity,
        registration_closes_at=when.registration_closes_at,
        categories=seats.categories(data, capacity),
        contact=Contact(
            organizer_email=address(contact_data, "organizer_email", required=True),
            sender=address(contact_data, "sender", required=False),
            sender_name=text(contact_data, "sender_name", where="contact", default=""),
            organizer_name=text(contact_data, "organizer_name", where="contact", default=""),
        ),
        doors_open_at=when.doors_open_at,
        organizers=strings(data, "organizers"),
        cooperators=strings(data, "cooperators"),
        fee=text(data, "fee", default=""),
        programme=tuple(
            Talk(
                title=text(t, "title", where="programme"),
                speaker=text(t, "speaker", where="programme", default=""),
                affiliation=text(t, "affiliation", where="programme", default=""),
            )
            for t in list_of_tables(data, "programme")
        ),
        reminders=dates_of.reminders(data),
        url=web_address(data, "url"),
        share_image_url=share_image(data),
        waitlist=flag(data, "waitlist", True),
        accommodation_question=flag(data, "accommodation_question", True),
        meishi_consent_question=flag(data, "meishi_consent_question", False),
        certificates=flag(data, "certificates", False),
        form=form_rules(data),
        questions=own_questions(data),
        online=online_section(data),
        cancellation_closes_at=when.cancellation_closes_at,
        quota_release_at=when.quota_release_at,
        draw_at=when.draw_at,
        reconfirm_at=when.reconfirm_at,
        release_unconfirmed_at=when.release_unconfirmed_at,
        retention_days=retention,
        survey=survey_section(data, ZoneInfo(when.timezone), when.starts_at, when.ends_at),
        readings=readings_section(data),
    )
    event = with_attendance(replace(event, translations=translations(data, event)))
    dates_of.check_reminders(event)
    if event.survey is not None and event.survey.closes_at > event.personal_data_expires_at:
        raise EventFileError("survey.closes_at must be before the answers are deleted (retention_days after ends_at)")
    return event


def parse_event_text(text: str, default_slug: str = "") -> Event:
    """An event from the text of an event file (as the editor sends it), or EventFileError saying what is wrong."""
    try:
        data = tomllib.loads(text)
    except ValueError as exc:  # TOMLDecodeError, or a number of thousands of digits (Python reads 4,300)
        raise EventFileError(f"not valid TOML: {exc}") from exc
    except RecursionError as exc:  # thousands of nested arrays: no event file is built like that
        raise EventFileError("not valid TOML: nested too deeply") from exc
    try:
        return parse_event(data, default_slug=default_slug)
    except RecursionError as exc:
        raise EventFileError("not valid TOML: nested too deeply") from exc


def read_event_file(path: str) -> Event:
    """Parse one `events/<slug>.toml`; the slug defaults to the file name."""
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise EventFileError(f"not valid TOML: {exc}") from exc
    return parse_event(data, default_slug=os.path.splitext(os.path.basename(path))[0])


def share_image(data: Mapping[str, Any]) -> str:
    """The picture for the event's link preview: an https:// address, or '' for the site's own."""
    value = text(data, "share_image_url", default="")
    if value and not public_url(value):
        raise EventFileError(f"share_image_url must be an https:// address of a picture, got {value!r}")
    return value


def web_address(data: Mapping[str, Any], name: str, where: str = "") -> str:
    """A link the pages and the HTML mail show: https only (never javascript: or data:), or ''."""
    value = text(data, name, where=where, default="")
    if value and not public_url(value):
        raise EventFileError(f"{where + '.' if where else ''}{name} must be an https:// address, got {value!r}")
    return value
