"""The names an event file may use at every level, and "did you mean" for one it may not."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from chalicelib.domain.event import EventFileError
from chalicelib.text.i18n import DEFAULT as DEFAULT_LANGUAGE
from chalicelib.text.i18n import LANGUAGES


def only(section: Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
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
TOP = (
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
    "certificates",
    "form",
    "questions",
    "online",
    "categories",
    "quota_release_at",
    "draw_at",
    "reconfirm_at",
    "release_unconfirmed_at",
    "survey",
    "readings",
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


VENUE = ("name", "address", "map_url", "url")


CONTACT = ("organizer_email", "sender", "sender_name", "organizer_name")


CATEGORY = ("key", "label", "reserved")


TALK = ("title", "speaker", "affiliation")


REMINDER = ("days_before", "at", "minutes_before")


FIELD_RULE = ("mode", "label", "hint", "label_en", "hint_en")


QUESTION = ("key", "kind", "label", "hint", "label_en", "hint_en", "required", "max_length", "editable", "choices")


CHOICE = ("key", "label", "label_en", "capacity")


SURVEY = ("closes_at", "anonymous", "questions")


ONLINE_SECTION = ("mode", "url", "instructions", "instructions_en", "venue_capacity", "online_capacity")


def check_names(data: Mapping[str, Any]) -> None:
    """Every name at every level of the file is one the format knows."""
    only(data, TOP, "the file's top level")
    tables: tuple[tuple[str, tuple[str, ...]], ...] = (("venue", VENUE), ("contact", CONTACT), ("survey", SURVEY))
    for name, allowed in tables:
        if isinstance(data.get(name), dict):
            only(data[name], allowed, name)
    lists: tuple[tuple[str, tuple[str, ...]], ...] = (
        ("categories", CATEGORY),
        ("programme", TALK),
        ("reminders", REMINDER),
    )
    for name, allowed in lists:
        entries = data.get(name)
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, dict):
                only(entry, allowed, f"[{name}]")
