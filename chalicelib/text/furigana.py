"""ふりがな: readings over the kanji of a page's text, as <ruby>, drawn by the server (no script).

Two sources. The site's own sentences are read in context when the catalog is made (`make catalogs`:
local/ruby_catalogs.py): each message has a `ruby` twin in which every kanji run carries its reading
between private-use marks (U+E000 base U+E001 reading U+E002), which gettext hands out while ふりがな are
on. An event's own words are a table, word → reading, computed when the event is saved and corrected
by its organizer (usecases/readings.py); longer words win, so 磐梯町 reads as one word.

A page is annotated after it is rendered, in its text only: the marks become <ruby> there, and are taken
out (leaving the word) in a tag's attributes, a title, a text area or an option, where markup cannot go.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from markupsafe import escape

# Marks around a word read in context (the site's own sentences): base, reading, end.
OPEN, SEP, CLOSE = "\ue000", "\ue001", "\ue002"
MARKED = re.compile(f"{OPEN}([^{SEP}{CLOSE}]*){SEP}([^{CLOSE}]*){CLOSE}")
KANJI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff々〆ヶ]")
# Japanese writing: kana, or kanji (the organizer's text is Japanese unless translated).
JAPANESE = re.compile(r"[\u3041-\u3096\u30a1-\u30fa\u3400-\u4dbf\u4e00-\u9fff々〆ヶ]")
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
    return "".join(_ruby_html(str(escape(base)), str(escape(over))) for base, over in segments(word, reading))


def _ruby_html(base: str, over: str) -> str:
    return f"<ruby>{base}<rp>(</rp><rt>{over}</rt><rp>)</rp></ruby>" if over else base


def marked(word: str, reading: str) -> str:
    """The word with each kanji run marked with its reading (for a catalog's ruby twin)."""
    return "".join(f"{OPEN}{base}{SEP}{over}{CLOSE}" if over else base for base, over in segments(word, reading))


def unmarked(text: str) -> str:
    """The text without its reading marks: the words as written."""
    return MARKED.sub(r"\1", text) if OPEN in text else text


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
        """HTML text (already escaped, no tags) in <ruby>: its marked words, then the table's words between them."""
        pieces = re.split(f"({OPEN}[^{CLOSE}]*{CLOSE})", text)
        return "".join(
            MARKED.sub(lambda m: _ruby_html(m.group(1), m.group(2)), piece)
            if piece.startswith(OPEN)
            else self._words(piece)
            for piece in pieces
        )

    def _words(self, text: str) -> str:
        if self._pattern is None or not KANJI.search(text):
            return text
        return self._pattern.sub(lambda m: ruby(m.group(0), self.table[m.group(0)]), text)

    def kana(self, text: str) -> str:
        """The text with every known word replaced by its reading (what the ruby says, read aloud)."""
        if self._pattern is None:
            return text
        return self._pattern.sub(lambda m: self.table[m.group(0)], text)

    def originals(self, html: str, texts: list[str]) -> str:
        """A page in another language with the organizer's untranslated Japanese marked lang="ja", with readings."""
        escaped = sorted({str(escape(line)) for text in texts for line in text.splitlines() if line.strip()}, key=len)
        if not escaped:
            return html
        pattern = re.compile("|".join(map(re.escape, reversed(escaped))))

        def mark(text: str) -> str:
            return pattern.sub(lambda m: f'<span lang="ja">{self._words(m.group(0))}</span>', text)

        return _rewrite(html, text=mark, raw=str, tag=str)

    def page(self, html: str) -> str:
        """A rendered page with readings over the words of its text; tags and raw elements keep the bare words."""
        return _rewrite(html, text=self.text, raw=unmarked, tag=unmarked)


def _rewrite(html: str, text: Callable[[str], str], raw: Callable[[str], str], tag: Callable[[str], str]) -> str:
    """The page with each piece rewritten: the text (outside raw elements), raw elements' text, and tags."""
    parts = _TAG.split(html)
    raw_depth = 0
    for index, part in enumerate(parts):
        if index % 2:
            parts[index] = tag(part)
            opened = _TAG_NAME.match(part)
            if opened and opened.group(2).lower() in _RAW and not part.endswith("/>"):
                raw_depth = max(raw_depth + (-1 if opened.group(1) else 1), 0)
        elif part:
            parts[index] = text(part) if raw_depth == 0 else raw(part)
    return "".join(parts)
