"""`[en]`: the organizer's own text in a language besides Japanese, checked against the event it translates."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.domain.event import SHAPEABLE_FIELDS, Event, EventFileError, Talk, Translation
from chalicelib.domain.event_file.names import only
from chalicelib.domain.event_file.values import list_of_tables, strings, text
from chalicelib.domain.questions import Question, Wording
from chalicelib.text.i18n import DEFAULT as DEFAULT_LANGUAGE
from chalicelib.text.i18n import LANGUAGES, NAMES

# What `[en]` may hold, each spelt as at the top level of the file.
_TRANSLATABLE = (
    "title", "summary", "fee", "organizers", "cooperators", "venue", "contact", "categories", "programme",
    "questions", "survey", "form",
)  # fmt: skip
# [zh.questions.<key>], [zh.survey.<key>]: a question's words; [zh.form.<field>]: a field the organizer named.
_WORDING = ("label", "hint", "choices")
_FIELD_WORDING = ("label", "hint")


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
        questions=_wordings(section, "questions", language, event.questions),
        survey=_wordings(section, "survey", language, event.survey.questions if event.survey else ()),
        form=_field_wordings(section, language),
    )


def _wordings(
    section: Mapping[str, Any], name: str, language: str, asked: tuple[Question, ...]
) -> tuple[tuple[str, Wording], ...]:
    """[<language>.questions.<key>] (or .survey.<key>): label, hint and [….choices] of the questions it words."""
    table = _subsection(section, name, language)
    if table and language == "en":
        raise EventFileError(f"[en.{name}]: English goes in each question itself, as label_en and hint_en")
    questions = {q.key: q for q in asked}
    worded = []
    for key, words in table.items():
        where = f"{language}.{name}.{key}"
        question = questions.get(key)
        if question is None:
            keys = ", ".join(questions) or "none"
            raise EventFileError(f"[{where}]: no question has the key {key!r} (keys: {keys})")
        if not isinstance(words, dict):
            raise EventFileError(f"[{where}] must be a section with the question's label, hint and choices")
        only(words, _WORDING, where)
        choices = words.get("choices", {})
        if not isinstance(choices, dict):
            raise EventFileError(f"[{where}.choices] must be a section: each choice's key = its label")
        offered = [c.key for c in question.choices]
        for choice, label in choices.items():
            if choice not in offered:
                raise EventFileError(f"[{where}.choices]: the question has no choice {choice!r} ({', '.join(offered)})")
            if not isinstance(label, str) or not label.strip():
                raise EventFileError(f"[{where}.choices]: the label of {choice!r} must be text in quotes")
        worded.append(
            (
                key,
                Wording(
                    label=text(words, "label", where=where, default=""),
                    hint=text(words, "hint", where=where, default=""),
                    choices=tuple((choice, label.strip()) for choice, label in choices.items()),
                ),
            )
        )
    return tuple(worded)


def _field_wordings(section: Mapping[str, Any], language: str) -> tuple[tuple[str, tuple[str, str]], ...]:
    """[<language>.form.<field>]: the label and hint of a field the organizer named, in that language."""
    table = _subsection(section, "form", language)
    if table and language == "en":
        raise EventFileError("[en.form]: English goes in [form.<field>] itself, as label_en and hint_en")
    worded = []
    for field, words in table.items():
        where = f"{language}.form.{field}"
        if field not in SHAPEABLE_FIELDS:
            raise EventFileError(f"[{where}]: the form has no field {field!r} to name ({', '.join(SHAPEABLE_FIELDS)})")
        if not isinstance(words, dict):
            raise EventFileError(f"[{where}] must be a section with the field's label and hint")
        only(words, _FIELD_WORDING, where)
        pair = (text(words, "label", where=where, default=""), text(words, "hint", where=where, default=""))
        worded.append((field, pair))
    return tuple(worded)


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
