"""アンケート: an event's survey after it, with its own questions (the form's kinds and a 1–5 scale).

Open from the event's start until `closes_at`; each registration answers once, through its personal
link. Anonymous by default: an answer is then stored with no link to who gave it (usecases/survey.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from chalicelib.domain.clock import iso, parse_iso
from chalicelib.domain.questions import Choice, Question, Wording


@dataclass(frozen=True)
class Survey:
    """The questions, when answers stop being taken, and whether answers are anonymous."""

    questions: tuple[Question, ...]
    closes_at: datetime
    anonymous: bool = True

    def is_open(self, starts_at: datetime, now: datetime) -> bool:
        """Answers are taken from the event's start until closes_at."""
        return starts_at <= now < self.closes_at

    def in_language(self, language: str, wordings: Mapping[str, Wording] | None = None) -> Survey:
        """The survey in the reader's language, where the organizer wrote it so."""
        words = wordings or {}
        return replace(self, questions=tuple(q.in_language(language, words.get(q.key)) for q in self.questions))

    def to_dict(self) -> dict[str, Any]:
        """For storing with the event's details."""
        from dataclasses import asdict

        return {**asdict(self), "closes_at": iso(self.closes_at)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Survey:
        """Inverse of to_dict()."""
        questions = tuple(
            Question(**{**q, "choices": tuple(Choice(**c) for c in q["choices"])}) for q in data["questions"]
        )
        return cls(questions=questions, closes_at=parse_iso(data["closes_at"]), anonymous=data["anonymous"])
