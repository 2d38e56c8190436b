"""The form: each standard field's mode and words ([form.<field>]), and the event's own questions."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from chalicelib.domain import questions
from chalicelib.domain.event import FIELD_MODES, SHAPEABLE_FIELDS, EventFileError, FieldRule
from chalicelib.domain.event_file.names import CHOICE, FIELD_RULE, QUESTION, only
from chalicelib.domain.event_file.values import list_of_tables, text
from chalicelib.domain.questions import Choice, Question


def form_rules(data: Mapping[str, Any]) -> tuple[FieldRule, ...]:
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
        only(section, FIELD_RULE, f"form.{field}")
        mode = text(section, "mode", where=f"form.{field}", default="")
        if mode and mode not in FIELD_MODES:
            raise EventFileError(f"[form.{field}]: mode must be one of {', '.join(FIELD_MODES)}, got {mode!r}")
        texts = {name: text(section, name, where=f"form.{field}", default="") for name in FIELD_RULE[1:]}
        for name, value in texts.items():
            if len(value) > _MAX_FORM_TEXT:
                raise EventFileError(f"[form.{field}]: {name} is longer than {_MAX_FORM_TEXT} characters")
        rules.append(FieldRule(field=field, mode=mode, **texts))
    return tuple(rules)


_MAX_FORM_TEXT = 200


def own_questions(data: Mapping[str, Any], section: str = "questions") -> tuple[Question, ...]:
    """[[questions]] (with [[questions.choices]]): the event's own questions, checked one by one.

    `section`: the name the file gives the list, for the messages ([[survey.questions]] reads the same).
    """
    found: list[Question] = []
    for n, q in enumerate(list_of_tables(data, "questions", where=section.rpartition(".")[0]), 1):
        where = f"{section} #{n}"
        only(q, QUESTION, where)
        key = text(q, "key", where=where)
        if not questions.KEY_PATTERN.match(key):
            raise EventFileError(f"[[{section}]] #{n}: key {key!r} must be lowercase letters, digits, - or _")
        if key in {f.key for f in found}:
            raise EventFileError(f"[[{section}]]: two questions have the key {key!r}")
        kind = text(q, "kind", where=where)
        if kind not in questions.KINDS:
            raise EventFileError(f"[[{section}]] {key}: kind must be one of {', '.join(questions.KINDS)}, got {kind!r}")
        flags = {name: q.get(name, default) for name, default in (("required", False), ("editable", True))}
        for name, value in flags.items():
            if not isinstance(value, bool):
                raise EventFileError(f"[[{section}]] {key}: {name} must be true or false")
        limit = q.get("max_length", 0)
        if isinstance(limit, bool) or not isinstance(limit, int) or not 0 <= limit <= questions.LONGEST:
            raise EventFileError(f"[[{section}]] {key}: max_length must be a whole number up to {questions.LONGEST}")
        choices = _choices(q, key, kind, section)
        if any(c.capacity for c in choices) and flags["editable"]:
            # A seat-like answer changes only with the seat: cancelling releases it (changes.cancel).
            raise EventFileError(
                f"[[{section}]] {key}: a question whose choices have a capacity must set editable = false"
            )

        def optional(name: str, q: Mapping[str, Any] = q, where: str = where) -> str:
            return text(q, name, where=where, default="")

        found.append(
            Question(
                key=key,
                kind=kind,
                label=text(q, "label", where=where),
                hint=optional("hint"),
                label_en=optional("label_en"),
                hint_en=optional("hint_en"),
                required=bool(flags["required"]),
                max_length=limit,
                editable=bool(flags["editable"]),
                choices=choices,
            )
        )
    return tuple(found)


def _choices(q: Mapping[str, Any], key: str, kind: str, section: str = "questions") -> tuple[Choice, ...]:
    tables = list_of_tables(q, "choices", where=f"{section}.{key}")
    if kind in (questions.SINGLE, questions.MULTIPLE) and len(tables) < 2:
        raise EventFileError(f"[[{section}]] {key}: a {kind} question needs at least two [[{section}.choices]]")
    if kind not in (questions.SINGLE, questions.MULTIPLE) and tables:
        raise EventFileError(f"[[{section}]] {key}: a {kind} question takes no choices")
    choices: list[Choice] = []
    for table in tables:
        only(table, CHOICE, f"{section}.{key}.choices")
        choice = text(table, "key", where=f"{section}.{key}.choices")
        if not questions.KEY_PATTERN.match(choice) or choice in {c.key for c in choices}:
            raise EventFileError(f"[[{section}]] {key}: choice key {choice!r} must be unique lowercase letters, digits")
        label = text(table, "label", where=f"{section}.{key}.choices")
        capacity = table.get("capacity", 0)
        if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 0:
            raise EventFileError(f"[[{section}]] {key}: the capacity of choice {choice!r} must be a whole number")
        english = text(table, "label_en", where=f"{section}.{key}.choices", default="")
        choices.append(Choice(choice, label, english, capacity))
    return tuple(choices)
