"""ふりがな: readings over the kanji of a page's text, as <ruby>, drawn by the server (no script).

Readings are a plain table, word → reading in hiragana: the site's own words (`locale/ja/readings.txt`,
made from the catalog by `make catalogs`) and each event's (computed when it is saved, corrected by its
organizer: usecases/readings.py). A page is annotated after it is rendered, in its text only: never
inside a tag's attributes, a title, a text area, an option or another ruby, where markup cannot go.
Longer words win over shorter ones, so 磐梯町 reads as one word before 町 alone could.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path

from markupsafe import escape

SITE_READINGS = Path(__file__).resolve().parent.parent / "locale" / "ja" / "readings.txt"
KANJI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆ヶ]")
KANA_ONLY = re.compile(r"[\u3041-\u3096\u30a1-\u30fa\u30fc]+")
# A word is kanji and kana only: digits, Latin letters and punctuation are read as they are written.
WORD = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆ヶ\u3041-\u3096\u30a1-\u30fa\u30fc]+")
MAX_WORD = 40  # a word longer than this is a sentence someone typed, not a word

# Elements whose text may hold no markup (or is already a reading): left as they are.
_RAW = ("title", "textarea", "option", "script", "style", "rt", "rp", "ruby", "svg")
_TAG = re.compile(r"(<[^>]*>)")
_TAG_NAME = re.compile(r"<\s*(/?)\s*([a-zA-Z0-9]+)")


def hiragana(text: str) -> str:
    """Katakana written as hiragana (readings are shown in hiragana: what children learn first)."""
    return "".join(chr(ord(c) - 0x60) if "ァ" <= c <= "ヶ" else c for c in text)


def segments(word: str, reading: str) -> list[tuple[str, str]]:
    """The word in pieces, each kanji run with its part of the reading and the kana between with none.

    取り組み + とりくみ → 取/と, り, 組/く, み: the reading sits over the kanji only. When the kana in the word
    cannot be found in the reading (a reading the organizer wrote freely), the whole word carries it.
    """
    pieces = re.findall(r"[^\u3041-\u3096\u30a1-\u30fa\u30fc]+|[\u3041-\u3096\u30a1-\u30fa\u30fc]+", word)
    pattern = "".join("(.+?)" if KANJI.search(piece) else f"({re.escape(hiragana(piece))})" for piece in pieces)
    match = re.fullmatch(pattern, hiragana(reading))
    if match is None:
        return [(word, reading)]
    return [(piece, match.group(i + 1) if KANJI.search(piece) else "") for i, piece in enumerate(pieces)]


def ruby(word: str, reading: str) -> str:
    """The word as HTML, each kanji run in <ruby> with its reading (and parentheses for readers without ruby)."""
    return "".join(
        f"<ruby>{escape(base)}<rp>(</rp><rt>{escape(over)}</rt><rp>)</rp></ruby>" if over else str(escape(base))
        for base, over in segments(word, reading)
    )


def valid(word: str, reading: str) -> bool:
    """Whether a pair can be a reading: a word of kanji (and kana), a reading in kana only, both of a word's length."""
    return (
        bool(KANJI.search(word))
        and bool(WORD.fullmatch(word))
        and 0 < len(word) <= MAX_WORD
        and bool(KANA_ONLY.fullmatch(reading))
        and len(reading) <= 4 * MAX_WORD
    )


class Readings:
    """A table of readings, ready to annotate text: one pattern of every word, longest first."""

    def __init__(self, table: Mapping[str, str]) -> None:
        self.table = {word: hiragana(reading) for word, reading in table.items() if valid(word, reading)}
        words = sorted(self.table, key=lambda word: (-len(word), word))
        self._pattern = re.compile("|".join(map(re.escape, words))) if words else None

    def text(self, text: str) -> str:
        """HTML text (already escaped, no tags) with every known word in <ruby>."""
        if self._pattern is None or not KANJI.search(text):
            return text
        return self._pattern.sub(lambda m: ruby(m.group(0), self.table[m.group(0)]), text)

    def kana(self, text: str) -> str:
        """The text with every known word replaced by its reading (what the ruby says, read aloud)."""
        if self._pattern is None:
            return text
        return self._pattern.sub(lambda m: self.table[m.group(0)], text)

    def page(self, html: str) -> str:
        """A rendered page with readings over the words of its text; tags and raw elements left as they are."""
        parts = _TAG.split(html)
        raw_depth = 0
        for index, part in enumerate(parts):
            if index % 2:  # a tag
                opened = _TAG_NAME.match(part)
                if opened and opened.group(2).lower() in _RAW and not part.endswith("/>"):
                    raw_depth += -1 if opened.group(1) else 1
                    raw_depth = max(raw_depth, 0)
            elif raw_depth == 0 and part:
                parts[index] = self.text(part)
        return "".join(parts)


def merged(*tables: Iterable[tuple[str, str]]) -> Readings:
    """Readings from several tables; a later table's reading of a word wins (the event's over the site's)."""
    combined: dict[str, str] = {}
    for table in tables:
        combined.update(table)
    return Readings(combined)


@lru_cache(maxsize=1)
def site_readings() -> tuple[tuple[str, str], ...]:
    """The readings of the site's own words (made from the catalog by `make catalogs`; read once per container)."""
    if not SITE_READINGS.exists():
        return ()
    pairs = (line.split("\t") for line in SITE_READINGS.read_text(encoding="utf-8").splitlines() if "\t" in line)
    return tuple((word, reading) for word, reading in pairs)
