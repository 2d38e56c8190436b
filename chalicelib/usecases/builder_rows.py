"""The builder's lists as numbered rows: 参加区分, 講演, リマインダー, 独自の質問 and each question's choices.

A row's fields are named `<list>-<n>-<field>` (a choice: `question-<n>-choice-<m>-<field>`), so the
form needs no script: blank rows add entries, 削除 removes one, 順番 reorders. Reading rows back keeps
every typed value, blank rows included, so a form shown again with its mistakes loses nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain.event import DEFAULT_REMINDERS
from chalicelib.domain.questions import MULTIPLE, SINGLE
from chalicelib.text.furigana import valid
from chalicelib.text.i18n import DEFAULT, LANGUAGES
from chalicelib.usecases import builder_errors

# The languages an organizer may translate the categories' names and the programme into: `label_zh` is the
# Chinese name of a category, `title_vi` a talk's title in Vietnamese ([zh.categories], [[vi.programme]]).
ROW_LANGUAGES = tuple(code for code in LANGUAGES if code != DEFAULT)
# A question's words besides English (its label_en, hint_en): [zh.questions.<key>], [zh.survey.<key>].
WORDED_LANGUAGES = tuple(code for code in ROW_LANGUAGES if code != "en")
WORDING = tuple(f"{part}_{code}" for code in WORDED_LANGUAGES for part in ("label", "hint"))
TALK_PARTS = ("title", "speaker", "affiliation")
ROWS: dict[str, tuple[str, ...]] = {
    "category": ("key", "label", *(f"label_{code}" for code in ROW_LANGUAGES), "reserved"),
    "talk": (*TALK_PARTS, *(f"{part}_{code}" for code in ROW_LANGUAGES for part in TALK_PARTS)),
    "reminder": ("days_before", "at", "minutes_before"),
    "question": ("key", "kind", "label", "hint", "label_en", "hint_en", *WORDING, "required", "editable", "max_length"),
    "survey": ("key", "kind", "label", "hint", "label_en", "hint_en", *WORDING, "required", "max_length"),  # アンケート
    "reading": ("word", "reading"),  # ふりがな: computed when the event is saved, corrected here
}
QUESTION_GROUPS = ("question", "survey")  # the lists whose rows have choices
CHOICE_FIELDS = ("key", "label", "label_en", *(f"label_{code}" for code in WORDED_LANGUAGES), "capacity")
_SECTION = {"question": "questions", "survey": "survey"}  # where a language's section words each list's questions
BLANK_ROWS = 1  # blank rows shown under each list (and under each question's choices: 2)
_NAME = re.compile(r"^(category|talk|reminder|question|survey|reading)-(\d{1,3})-(?:choice-(\d{1,3})-)?([a-z_]+)$")
_MAX_ROWS = 200  # a list longer than this is not typed by hand


@dataclass
class Row:
    """One entry of a list as the form holds it (texts as typed), with its choices for a question."""

    values: dict[str, str]
    choices: list[Row] = field(default_factory=list)

    def blank(self) -> bool:
        """Nothing typed (hidden keys and the default order aside): the row adds nothing."""
        typed = {k: v for k, v in self.values.items() if k not in ("key", "order", "kind", "editable") and v}
        return not typed and all(c.blank() for c in self.choices)

    def get(self, name: str) -> str:
        """A field's value ('' when absent)."""
        return self.values.get(name, "")


def rows_of(data: Mapping[str, Any]) -> dict[str, list[Row]]:
    """The rows of an event file's data, with blank rows to add more."""
    sections = {code: data[code] if isinstance(data.get(code), dict) else {} for code in ROW_LANGUAGES}
    rows: dict[str, list[Row]] = {name: [] for name in ROWS}
    for c in data.get("categories", []):
        values = {"key": c["key"], "label": c["label"]}
        for code, section in sections.items():
            values[f"label_{code}"] = section.get("categories", {}).get(c["key"], "")
        rows["category"].append(Row({**values, "reserved": str(c.get("reserved", "") or "")}))
    for n, talk in enumerate(data.get("programme", [])):
        values = {name: talk.get(name, "") for name in TALK_PARTS}
        for code, section in sections.items():
            translated = section.get("programme", [])
            theirs = translated[n] if n < len(translated) else {}
            values.update({f"{k}_{code}": theirs.get(k, "") for k in TALK_PARTS})
        rows["talk"].append(Row(values))
    specs = data.get("reminders")
    listed = specs if specs is not None else [_spec(s) for s in DEFAULT_REMINDERS]
    for spec in listed:
        rows["reminder"].append(
            Row({k: str(spec.get(k, "") if spec.get(k) is not None else "") for k in ROWS["reminder"]})
        )
    for word, reading in (data.get("readings") or {}).items():
        rows["reading"].append(Row({"word": word, "reading": str(reading)}))
    survey = data.get("survey", {})
    for group, q in [("question", q) for q in data.get("questions", [])] + [
        ("survey", q) for q in survey.get("questions", [])
    ]:
        values = {name: str(q.get(name, "")) for name in ("key", "kind", "label", "hint", "label_en", "hint_en")}
        words = {code: sections[code].get(_SECTION[group], {}).get(q["key"], {}) for code in WORDED_LANGUAGES}
        for code, worded in words.items():
            values.update({f"{part}_{code}": str(worded.get(part, "")) for part in ("label", "hint")})
        values["required"] = "yes" if q.get("required") else ""
        values["editable"] = "" if q.get("editable", True) is False else "yes"
        values["max_length"] = str(q.get("max_length") or "")
        choices = [
            Row(
                {
                    "key": c["key"],
                    "label": c["label"],
                    "label_en": c.get("label_en", ""),
                    **{f"label_{code}": w.get("choices", {}).get(c["key"], "") for code, w in words.items()},
                    "capacity": str(c.get("capacity", "") or ""),
                }
            )
            for c in q.get("choices", [])
        ]
        rows[group].append(Row(values, choices))
    for listed_rows in rows.values():
        for n, row in enumerate(listed_rows, 1):
            row.values["order"] = str(n)
    return _with_blanks(rows)


def _spec(spec: Any) -> dict[str, Any]:
    return {"days_before": spec.days_before, "at": spec.at, "minutes_before": spec.minutes_before}


def blank_rows(fields: Mapping[str, str], extra: str = "") -> dict[str, list[Row]]:
    """The rows the form sent, as typed, with blank rows to add more (one more under `extra`)."""
    found: dict[str, dict[int, Row]] = {name: {} for name in ROWS}
    for name, value in fields.items():
        match = _NAME.match(name)
        if match is None:
            continue
        group, index, choice, part = match.group(1), int(match.group(2)), match.group(3), match.group(4)
        row = found[group].setdefault(index, Row({}))
        if choice is None:
            row.values[part] = str(value).replace("\r\n", "\n").strip()
        else:
            while len(row.choices) <= int(choice):
                row.choices.append(Row({}))
            row.choices[int(choice)].values[part] = str(value).strip()
    rows = {group: [found[group][i] for i in sorted(found[group])][:_MAX_ROWS] for group in ROWS}
    for group in rows:
        rows[group] = [row for row in rows[group] if not row.blank()]
        for row in rows[group]:
            row.choices = [c for c in row.choices if not c.blank()]
    return _with_blanks(rows, extra)


def _with_blanks(rows: dict[str, list[Row]], extra: str = "") -> dict[str, list[Row]]:
    for group, listed in rows.items():
        more = BLANK_ROWS + (1 if extra == group else 0)
        listed.extend(
            Row({"order": str(len(listed) + n + 1), **({"editable": "yes"} if group == "question" else {})})
            for n in range(more)
        )
        if group in QUESTION_GROUPS:
            for n, row in enumerate(listed):
                row.choices.extend(Row({}) for _ in range(2 + (1 if extra == f"{group}-{n}-choice" else 0)))
    return rows


def rows_to_data(rows: Mapping[str, list[Row]], errors: dict[str, str]) -> dict[str, Any]:
    """The event-file data of the rows (removed and blank ones left out, in their 順番), or errors by field."""
    kept = {group: _ordered(group, listed, errors) for group, listed in rows.items()}
    data: dict[str, Any] = {}
    translated: dict[str, dict[str, Any]] = {code: {} for code in ROW_LANGUAGES}
    categories = []
    labels: dict[str, dict[str, str]] = {code: {} for code in ROW_LANGUAGES}
    taken = {row.get("key") for _, row in kept["category"]}
    for n, row in kept["category"]:
        key = row.get("key") or _new_key("c", taken)
        row.values["key"] = key
        reserved = _number(row.get("reserved"), f"category-{n}-reserved", errors)
        categories.append(
            {
                "key": key,
                "label": _required(row, "label", f"category-{n}-label", errors),
                **({"reserved": reserved} if reserved else {}),
            }
        )
        for code in ROW_LANGUAGES:
            if row.get(f"label_{code}"):
                labels[code][key] = row.get(f"label_{code}")
    data["categories"] = categories
    talks: list[dict[str, str]] = []
    talks_in: dict[str, list[dict[str, str]]] = {code: [] for code in ROW_LANGUAGES}
    for n, row in kept["talk"]:
        talks.append(
            {k: row.get(k) for k in TALK_PARTS if row.get(k)}
            | {"title": _required(row, "title", f"talk-{n}-title", errors)}
        )
        for code in ROW_LANGUAGES:
            talks_in[code].append({k: row.get(f"{k}_{code}") for k in TALK_PARTS if row.get(f"{k}_{code}")})
    if talks:
        data["programme"] = talks
    for code in ROW_LANGUAGES:
        if labels[code]:
            translated[code]["categories"] = labels[code]
        if any(talks_in[code]):  # every item, in order: one left untranslated is an empty table
            translated[code]["programme"] = talks_in[code]
    data["reminders"] = [_reminder(n, row, errors) for n, row in kept["reminder"]]
    questions = [_question(n, row, errors, {r.get("key") for _, r in kept["question"]}) for n, row in kept["question"]]
    if questions:
        data["questions"] = questions
    asked = {r.get("key") for _, r in kept["survey"]}
    surveyed = [_question(n, row, errors, asked, "survey") for n, row in kept["survey"]]
    if surveyed:
        data["survey"] = {"questions": surveyed}
    for group in QUESTION_GROUPS:  # after _question: new questions and choices have their keys now
        for code in WORDED_LANGUAGES:
            worded = {row.get("key"): _wording(row, code) for _, row in kept[group]}
            worded = {key: words for key, words in worded.items() if words}
            if worded:
                translated[code][_SECTION[group]] = worded
    readings = {row.get("word"): _reading(n, row, errors) for n, row in kept["reading"]}
    if readings:
        data["readings"] = readings
    data.update({code: section for code, section in translated.items() if section})
    return data


def _wording(row: Row, code: str) -> dict[str, Any]:
    """A question row's words in one language, as its section holds them (empty if none were typed)."""
    words: dict[str, Any] = {part: row.get(f"{part}_{code}") for part in ("label", "hint") if row.get(f"{part}_{code}")}
    choices = {
        c.get("key"): c.get(f"label_{code}")
        for c in row.choices
        if c.get(f"label_{code}") and not c.blank() and c.get("remove") != "yes"
    }
    return {**words, "choices": choices} if choices else words


def _reading(n: int, row: Row, errors: dict[str, str]) -> str:
    """A reading as typed, or the mistake beside it: a word with kanji and its reading in kana only."""
    word, reading = row.get("word"), row.get("reading").strip()
    if not word:
        errors[f"reading-{n}-word"] = builder_errors.REQUIRED
    elif not valid(word, reading):
        errors[f"reading-{n}-reading"] = builder_errors.READING_KANA
    return reading


def _ordered(group: str, listed: list[Row], errors: dict[str, str]) -> list[tuple[int, Row]]:
    """(index, row) of the rows kept, in the organizer's 順番 (then as listed)."""
    kept = []
    for n, row in enumerate(listed):
        if row.blank() or row.get("remove") == "yes":
            continue
        order = row.get("order")
        number = order.isascii() and order.isdigit() and len(order) <= 6
        if order and not number:
            errors[f"{group}-{n}-order"] = builder_errors.COUNT_NEEDED
        kept.append((int(order) if number else n + 1, n, row))
    return [(n, row) for _, n, row in sorted(kept, key=lambda k: (k[0], k[1]))]


def _reminder(n: int, row: Row, errors: dict[str, str]) -> dict[str, Any]:
    if row.get("minutes_before"):
        return {"minutes_before": _number(row.get("minutes_before"), f"reminder-{n}-minutes_before", errors)}
    days = _number(row.get("days_before") or "0", f"reminder-{n}-days_before", errors)
    at = row.get("at") or "10:00"
    return {"days_before": days, "at": at[:5]}


def _question(n: int, row: Row, errors: dict[str, str], taken: set[str], group: str = "question") -> dict[str, Any]:
    key = row.get("key") or _new_key("q", taken)
    row.values["key"] = key
    kind = row.get("kind") or "text"
    question: dict[str, Any] = {
        "key": key,
        "kind": kind,
        "label": _required(row, "label", f"{group}-{n}-label", errors),
    }
    question.update({k: row.get(k) for k in ("hint", "label_en", "hint_en") if row.get(k)})
    if row.get("required") == "yes":
        question["required"] = True
    if row.get("max_length"):
        question["max_length"] = _number(row.get("max_length"), f"{group}-{n}-max_length", errors)
    if kind not in (SINGLE, MULTIPLE):
        if row.get("editable") != "yes" and group == "question":
            question["editable"] = False
        return question
    choices, names = [], {c.get("key") for c in row.choices}
    for m, c in enumerate(row.choices):
        if c.blank() or c.get("remove") == "yes":
            continue
        choice_key = c.get("key") or _new_key("a", names)
        c.values["key"] = choice_key
        where = f"{group}-{n}-choice-{m}"
        capacity = _number(c.get("capacity"), f"{where}-capacity", errors)
        choice = {"key": choice_key, "label": _required(c, "label", f"{where}-label", errors)}
        choice.update({"label_en": c.get("label_en")} if c.get("label_en") else {})
        choices.append(choice | ({"capacity": capacity} if capacity else {}))
    if len(choices) < 2:
        errors[f"{group}-{n}-choice-0-label"] = builder_errors.TWO_CHOICES
    question["choices"] = choices
    # An answer with places (懇親会 30名) changes only with the seat: never on the registrant's own page.
    if group == "question" and (row.get("editable") != "yes" or any("capacity" in c for c in choices)):
        question["editable"] = False
    return question


def _required(row: Row, name: str, field_name: str, errors: dict[str, str]) -> str:
    if not row.get(name):
        errors[field_name] = builder_errors.REQUIRED
    return row.get(name)


def _number(raw: str, field_name: str, errors: dict[str, str]) -> int:
    if not raw:
        return 0
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 6:
        errors[field_name] = builder_errors.COUNT_NEEDED
        return 0
    return int(raw)


def _new_key(prefix: str, taken: set[str]) -> str:
    """A key for a new entry, unlike any other of its list (the organizer never sees it)."""
    n = 1
    while f"{prefix}{n}" in taken:
        n += 1
    taken.add(f"{prefix}{n}")
    return f"{prefix}{n}"


def flatten(rows: Mapping[str, list[Row]]) -> dict[str, str]:
    """The rows as the form's named fields (`category-0-label` …), to fill the form with."""
    values: dict[str, str] = {}
    for group, listed in rows.items():
        for n, row in enumerate(listed):
            values.update({f"{group}-{n}-{k}": v for k, v in row.values.items()})
            for m, choice in enumerate(row.choices):
                values.update({f"{group}-{n}-choice-{m}-{k}": v for k, v in choice.values.items()})
    return values
