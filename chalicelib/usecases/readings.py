"""ふりがな for an organizer's words: computed when the event is saved, kept with it, corrected by its organizer.

The readings come from SudachiPy with its core dictionary (chosen for being right most often on the
sample event: docs/event-file.md says how the analysers compared). It is loaded only here, when an event
is saved, never by a page: pages read the table stored with the event (text/furigana.py). Deployed, it
runs in a function of its own with the dictionary as its layer (`answer`, deploy/readings.py), which the
site asks (`remote`): the site's own function stays small for attendees' cold starts. Where neither is
there, saving keeps the readings the event already has and the organizer's own.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib import telemetry
from chalicelib.domain.event import Event
from chalicelib.text.furigana import KANJI, hiragana, valid

# Texts in, the reading of each word with kanji out (word → hiragana).
Analyzer = Callable[[Sequence[str]], dict[str, str]]
# Where the dictionary's first reading is not the one public bodies write (checked on the sample event).
CORRECTIONS = {"日本": "にほん"}


def japanese_texts(event: Event) -> list[str]:
    """The organizer's own Japanese words that attendee pages show (the file's text, not its translations)."""
    return [text for text in event.own_texts() if KANJI.search(text)]


def complete(event: Event, analyze: Analyzer | None, earlier: Iterable[tuple[str, str]] = ()) -> Event:
    """The event with a reading for every word with kanji in its texts: its own readings kept, new words analysed.

    `earlier`: the readings the event had when last saved, kept too (a file loaded again without its
    [readings] keeps the organizer's corrections); the event's own win over them. Readings of words no
    longer in any text are dropped, so the table stays the event's.
    """
    texts = japanese_texts(event)
    found = analyze(texts) if analyze is not None and texts else {}
    readings = {**found, **dict(earlier), **dict(event.readings)}  # the organizer's correction wins
    readings = {word: reading for word, reading in readings.items() if any(word in text for text in texts)}
    return dataclasses.replace(event, readings=tuple(sorted(readings.items())))


def most_common(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Each word's reading as the analyser gave it most often (a word may read two ways in two places).

    A word of one character is left out: 人 is ひと in one sentence and にん after a number, 水 is みず alone
    and すい in a date, and a page shows one reading wherever the word stands, so none is better than a
    wrong one (an organizer may still give one in [readings]).
    """
    counts = Counter(pair for pair in pairs if len(pair[0]) > 1)
    best: dict[str, tuple[int, str]] = {}
    for (word, reading), n in counts.items():
        if word not in best or (n, reading) > best[word]:
            best[word] = (n, reading)
    return {word: reading for word, (_, reading) in best.items()}


@lru_cache(maxsize=1)
def sudachi() -> Analyzer | None:
    """SudachiPy's analyser (words as long as its dictionary knows them), or None where it is not installed."""
    try:
        from sudachipy import dictionary, tokenizer
    except ImportError:
        return None
    analyser = dictionary.Dictionary(dict="core").tokenizer(mode=tokenizer.Tokenizer.SplitMode.C)

    def analyze(texts: Sequence[str]) -> dict[str, str]:
        pairs = (
            (m.surface(), hiragana(m.reading_form()))
            for text in texts
            for m in analyser.tokenize(text)
            if KANJI.search(m.surface())
        )
        found = most_common((word, reading) for word, reading in pairs if valid(word, reading))
        return {word: CORRECTIONS.get(word, reading) for word, reading in found.items()}

    return analyze


class ReadingsUnavailable(RuntimeError):
    """The readings function was deployed without its analyser (its layer is missing)."""


def answer(request: Mapping[str, Any]) -> dict[str, Any]:
    """The readings function's work: `{"texts": [...]}` in, `{"readings": {word: reading}}` out."""
    texts = request.get("texts")
    if not isinstance(texts, list) or not all(isinstance(text, str) for text in texts):
        raise ValueError('the readings function takes {"texts": [a list of strings]}')
    analyze = sudachi()
    if analyze is None:
        raise ReadingsUnavailable("SudachiPy is not importable here: the function's readings layer is missing")
    return {"readings": analyze(texts) if texts else {}}


def remote(client: Any, function: str) -> Analyzer:
    """An analyser that asks the stage's readings function (a Lambda client's synchronous invoke).

    Readings help but are not the event: when the function cannot answer, the event is saved with the
    readings it had (complete() keeps them), the failure is logged, and the function's own error alarm
    rings for its errors.
    """

    def analyze(texts: Sequence[str]) -> dict[str, str]:
        payload = json.dumps({"texts": list(texts)}, ensure_ascii=False).encode("utf-8")
        try:
            response = client.invoke(FunctionName=function, InvocationType="RequestResponse", Payload=payload)
            body = json.loads(response["Payload"].read())
        except (BotoCoreError, ClientError, ValueError) as exc:
            telemetry.log("readings", {"function": function, "error": str(exc)})
            return {}
        found = body.get("readings") if isinstance(body, dict) else None
        if response.get("FunctionError") or not isinstance(found, dict):
            error = body.get("errorMessage") if isinstance(body, dict) else None
            said = error or response.get("FunctionError") or f"not an answer of readings: {str(body)[:200]}"
            telemetry.log("readings", {"function": function, "error": said})
            return {}
        # What crosses the boundary is checked as the organizer's own readings are: kana for words with kanji.
        return {
            word: reading
            for word, reading in found.items()
            if isinstance(word, str) and isinstance(reading, str) and valid(word, reading)
        }

    return analyze
