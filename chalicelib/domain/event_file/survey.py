"""[survey]: the アンケート after the event, its closing time, anonymity, and [[survey.questions]]; [readings]."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.domain.event import EventFileError
from chalicelib.domain.event_file.form import own_questions
from chalicelib.domain.event_file.values import flag, moment, table
from chalicelib.domain.survey import Survey

# Without a closing time, answers are taken for two weeks after the event.
OPEN_AFTER_END = timedelta(days=14)


def survey_section(data: Mapping[str, Any], tz: ZoneInfo, starts_at: datetime, ends_at: datetime) -> Survey | None:
    """The survey, if the file has one: at least one question, closing after the start."""
    if "survey" not in data:
        return None
    section = table(data, "survey")
    asked = own_questions(section, "survey.questions")
    if not asked:
        raise EventFileError("[survey] needs at least one question ([[survey.questions]])")
    if any(c.capacity for q in asked for c in q.choices):
        raise EventFileError("[[survey.questions]]: a survey's choices take no capacity")
    closes_at = moment(section, "closes_at", tz) if "closes_at" in section else ends_at + OPEN_AFTER_END
    if closes_at <= starts_at:
        raise EventFileError("survey.closes_at must be after starts_at (answers are taken from the start)")
    return Survey(questions=asked, closes_at=closes_at, anonymous=flag(section, "anonymous", True))


def readings_section(data: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """[readings]: word = "reading in kana", the ふりがな shown over the organizer's words (computed when saved)."""
    if "readings" not in data:
        return ()
    from chalicelib.text.furigana import MAX_WORD, valid  # only a file with [readings] needs it

    pairs = table(data, "readings")
    for word, reading in pairs.items():
        if not isinstance(reading, str) or not valid(word, reading):
            raise EventFileError(
                f"[readings] {word!r}: a reading is the word (with kanji, up to {MAX_WORD} characters)"
                f' and its reading in hiragana or katakana only, e.g. 磐梯町 = "ばんだいまち"'
            )
    return tuple(sorted(pairs.items()))
