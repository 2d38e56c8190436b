"""An event's own questions (居住地, 年代, 懇親会, 電話 …): what they are, and checking the answers.

Kinds: short text, long text, one choice, several choices, yes/no, and a 1–5 scale (満足度, for
surveys). Answers are stored with the registration (or the survey answer) as a JSON object (question
key to text, choice key, list of choice keys, "yes"/"no" or the scale's digit), so answers to a
question the organizer later removed are kept and still exported.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from chalicelib.text import messages as msg
from chalicelib.text.i18n import gettext as t
from chalicelib.text.scalars import is_text

TEXT, LONG_TEXT, SINGLE, MULTIPLE, YES_NO = "text", "long_text", "single", "multiple", "yes_no"
SCALE = "scale"  # 1 (not at all) to 5 (very much): stored as the digit
KINDS = (TEXT, LONG_TEXT, SINGLE, MULTIPLE, YES_NO, SCALE)
SCALE_POINTS = ("1", "2", "3", "4", "5")
KEY_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
DEFAULT_MAX_LENGTH = {TEXT: 100, LONG_TEXT: 1000}
LONGEST = 5000
FIELD_PREFIX = "answer_"  # the form's name for a question's answer; a multiple choice adds __<choice>
_TRUE = frozenset({"yes", "on", "true", "1"})


@dataclass(frozen=True)
class Choice:
    """One answer a choice question offers."""

    key: str
    label: str
    label_en: str = ""
    capacity: int = 0  # how many registrations may hold this answer (0: no limit), e.g. 懇親会 30名


@dataclass(frozen=True)
class Wording:
    """A question's words in another language, as its organizer wrote them ([zh.questions.<key>])."""

    label: str = ""
    hint: str = ""
    choices: tuple[tuple[str, str], ...] = ()  # (choice key, its label)

    def texts(self) -> set[str]:
        """Every text it gives."""
        return {t for t in (self.label, self.hint, *dict(self.choices).values()) if t}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Wording:
        """Inverse of dataclasses.asdict()."""
        return cls(data["label"], data["hint"], tuple((key, label) for key, label in data["choices"]))


@dataclass(frozen=True)
class Question:
    """One question of the event's form."""

    key: str
    kind: str
    label: str
    hint: str = ""
    label_en: str = ""
    hint_en: str = ""
    required: bool = False
    max_length: int = 0  # text kinds: 0 is the kind's default
    editable: bool = True  # the registrant may change the answer on their own page
    choices: tuple[Choice, ...] = ()

    @property
    def limit(self) -> int:
        """The longest answer a text question takes."""
        return self.max_length or DEFAULT_MAX_LENGTH.get(self.kind, 0)

    def in_language(self, language: str, wording: Wording | None = None) -> Question:
        """The question in the reader's language, where the organizer wrote it so (English in label_en,
        the other languages in their section's `wording`)."""
        if language == "en":
            wording = Wording(self.label_en, self.hint_en, tuple((c.key, c.label_en) for c in self.choices))
        if wording is None:
            return self
        labels = dict(wording.choices)
        choices = tuple(replace(c, label=labels.get(c.key) or c.label) for c in self.choices)
        return replace(self, label=wording.label or self.label, hint=wording.hint or self.hint, choices=choices)

    def shown(self, answer: Any) -> str:
        """An answer as people read it (choice labels, はい/いいえ)."""
        labels = {c.key: c.label for c in self.choices}
        if self.kind == YES_NO:
            return t(msg.YES) if answer == "yes" else (t(msg.NO) if answer == "no" else "")
        if self.kind == MULTIPLE and isinstance(answer, list):
            return t(msg.LIST_SEPARATOR).join(str(labels.get(str(a), a)) for a in answer)
        if self.kind == SINGLE:
            return labels.get(str(answer), str(answer or ""))
        return str(answer or "")


def answers_of(stored: str) -> dict[str, Any]:
    """The answers stored with a registration ('' for none)."""
    try:
        value = json.loads(stored) if stored else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def stored(answers: Mapping[str, Any]) -> str:
    """The answers as they are stored ('' for none): keys sorted, so equal answers store equal."""
    return json.dumps(dict(answers), ensure_ascii=False, sort_keys=True) if answers else ""


@dataclass(frozen=True)
class Checked:
    """The answers, the form's values to show again, and the problems by field name."""

    answers: dict[str, Any]
    values: dict[str, str]
    errors: dict[str, str]


def check(raw: Mapping[str, Any], questions: Sequence[Question], kept: Mapping[str, Any] | None = None) -> Checked:
    """Read and check the answers from a form (answer_<key>) or a JSON body (answers: {key: value}).

    `kept`: answers already stored; those of questions not asked now (removed, or not editable) stay.
    """
    given = raw.get("answers")
    from_json = isinstance(given, dict)
    answers: dict[str, Any] = dict(kept or {})
    values: dict[str, str] = {}
    errors: dict[str, str] = {}
    for q in questions:
        name = FIELD_PREFIX + q.key
        if from_json:
            value, problem = _json_answer(q, given.get(q.key) if isinstance(given, dict) else None)
        else:
            value, problem = _form_answer(q, raw)
        values.update(_redisplay(q, value))
        if problem:
            errors[name] = problem
        elif value in (None, "", []):
            if q.required:
                errors[name] = t(
                    msg.REQUIRED_CHOICE if q.kind in (SINGLE, MULTIPLE, YES_NO, SCALE) else msg.REQUIRED
                ).format(label=q.label)
            answers.pop(q.key, None)
        else:
            answers[q.key] = value
    return Checked(answers, values, errors)


def _form_answer(q: Question, raw: Mapping[str, Any]) -> tuple[Any, str]:
    name = FIELD_PREFIX + q.key
    if q.kind == MULTIPLE:
        chosen = [c.key for c in q.choices if str(raw.get(f"{name}__{c.key}", "")).lower() in _TRUE]
        return chosen, ""
    value = raw.get(name, "")
    if not isinstance(value, str) or not is_text(value):
        return "", t(msg.NOT_TEXT).format(label=q.label)
    return _checked_value(q, value.strip() if q.kind != LONG_TEXT else value.replace("\r\n", "\n").strip())


def _json_answer(q: Question, value: Any) -> tuple[Any, str]:
    if value is None:
        return None, ""
    if q.kind == MULTIPLE:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return [], t(msg.ANSWER_NOT_A_LIST).format(label=q.label)
        known = [c.key for c in q.choices]
        unknown = [v for v in value if v not in known]
        if unknown:
            return [], t(msg.ANSWER_UNKNOWN_CHOICE).format(value=unknown[0][:40], known=", ".join(known), label=q.label)
        return [k for k in known if k in value], ""
    if q.kind == YES_NO:
        if not isinstance(value, bool):
            return "", t(msg.ANSWER_NOT_YES_NO).format(label=q.label)
        return ("yes" if value else "no"), ""
    if q.kind == SCALE and isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not is_text(value):
        return "", t(msg.NOT_TEXT).format(label=q.label)
    return _checked_value(q, value.strip())


def _checked_value(q: Question, value: str) -> tuple[str, str]:
    if not value:
        return "", ""
    if q.kind in (SINGLE, YES_NO, SCALE):
        known = {SINGLE: [c.key for c in q.choices], YES_NO: ["yes", "no"], SCALE: list(SCALE_POINTS)}[q.kind]
        if value not in known:
            return "", t(msg.ANSWER_UNKNOWN_CHOICE).format(value=value[:40], known=", ".join(known), label=q.label)
        return value, ""
    if "\n" in value and q.kind == TEXT:
        value = " ".join(value.split())
    if len(value) > q.limit:
        return value, t(msg.TOO_LONG).format(label=q.label, limit=q.limit, length=len(value))
    return value, ""


def _redisplay(q: Question, value: Any) -> dict[str, str]:
    """The form's fields for an answer, to show it again."""
    name = FIELD_PREFIX + q.key
    if q.kind == MULTIPLE:
        return {f"{name}__{key}": "yes" for key in (value or [])}
    return {name: str(value or "")}


def form_values(questions: Sequence[Question], answers: Mapping[str, Any]) -> dict[str, str]:
    """A stored registration's answers as the form's fields (for corrections)."""
    values: dict[str, str] = {}
    for q in questions:
        values.update(_redisplay(q, answers.get(q.key)))
    return values


def slot(question: str, choice: str) -> str:
    """The counter of one capped choice (question and choice keys cannot hold '.')."""
    return f"{question}.{choice}"


def caps(asked: Sequence[Question]) -> dict[str, int]:
    """Every capped choice's counter and its capacity."""
    return {slot(q.key, c.key): c.capacity for q in asked for c in q.choices if c.capacity}


def room(asked: Sequence[Question], counted: Mapping[str, Any]) -> dict[str, int]:
    """How many of each capped choice are left, given the counters as stored."""
    return {key: max(0, cap - int(counted.get(key, 0))) for key, cap in caps(asked).items()}


def held(asked: Sequence[Question], answers: Mapping[str, Any]) -> list[str]:
    """The capped choices these answers hold (their counters), in a stable order."""
    capped = caps(asked)
    chosen = []
    for q in asked:
        answer = answers.get(q.key)
        for key in answer if isinstance(answer, list) else [answer]:
            if isinstance(key, str) and slot(q.key, key) in capped:
                chosen.append(slot(q.key, key))
    return sorted(chosen)
