"""`[en]`: the organizer's own text in a language besides Japanese, checked against the event it translates."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.domain.event import Event, EventFileError, Talk, Translation
from chalicelib.domain.event_file.names import only
from chalicelib.domain.event_file.values import list_of_tables, strings, text
from chalicelib.text.i18n import DEFAULT as DEFAULT_LANGUAGE
from chalicelib.text.i18n import LANGUAGES, NAMES

# What `[en]` may hold, each spelt as at the top level of the file.
_TRANSLATABLE = ("title", "summary", "fee", "organizers", "cooperators", "venue", "contact", "categories", "programme")


_TRANSLATABLE_VENUE = ("name", "address")


_TRANSLATABLE_CONTACT = ("organizer_name", "sender_name")


_TRANSLATABLE_TALK = ("title", "speaker", "affiliation")


def translations(data: Mapping[str, Any], event: Event) -> tuple[tuple[str, Translation], ...]:
    """The `[en]` section (one per language besides Japanese) of the organizer's own text."""
    return tuple(
        (language, _translation(data[language], language, event))
        for language in LANGUAGES
        if language != DEFAULT_LANGUAGE and language in data
    )


def _translation(section: Any, language: str, event: Event) -> Translation:
    if not isinstance(section, dict):
        raise EventFileError(f"[{language}] must be a section holding the event's text in {NAMES[language]}")
    only(section, _TRANSLATABLE, language)
    venue, contact, labels = (_subsection(section, name, language) for name in ("venue", "contact", "categories"))
    only(venue, _TRANSLATABLE_VENUE, f"{language}.venue")
    only(contact, _TRANSLATABLE_CONTACT, f"{language}.contact")
    return Translation(
        title=text(section, "title", where=language, default=""),
        summary=text(section, "summary", where=language, default=""),
        fee=text(section, "fee", where=language, default=""),
        organizers=strings(section, "organizers", where=language),
        cooperators=strings(section, "cooperators", where=language),
        venue_name=text(venue, "name", where=f"{language}.venue", default=""),
        venue_address=text(venue, "address", where=f"{language}.venue", default=""),
        organizer_name=text(contact, "organizer_name", where=f"{language}.contact", default=""),
        sender_name=text(contact, "sender_name", where=f"{language}.contact", default=""),
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
    talks = list_of_tables(section, "programme", where=language)
    if talks and len(talks) != len(event.programme):
        raise EventFileError(
            f"[[{language}.programme]] must give the programme's {len(event.programme)} items in the same order"
            f" (it gives {len(talks)})"
        )
    where = f"{language}.programme"
    for talk in talks:
        only(talk, _TRANSLATABLE_TALK, where)
    return tuple(
        Talk(
            title=text(t, "title", where=where, default=""),
            speaker=text(t, "speaker", where=where, default=""),
            affiliation=text(t, "affiliation", where=where, default=""),
        )
        for t in talks
    )


def _subsection(section: Mapping[str, Any], name: str, language: str) -> Mapping[str, Any]:
    value = section.get(name, {})
    if not isinstance(value, dict):
        raise EventFileError(f"{language}.{name} must be written as a [{language}.{name}] section")
    return value
