"""Write the ruby twins of the Japanese and やさしい日本語 catalogs: every kanji run marked with its reading.

`make catalogs` runs it after the catalogs are updated. Each sentence is read as a whole by SudachiPy
(usecases/readings.py), so a word reads as its sentence reads it (来ます: き, 来る: く); markup and
placeholders are left as they are. The result is `locale/<language>/LC_MESSAGES/ruby.po`, for review
(the readings shown in brackets: 申[もう]し込[こ]み), and its compiled `ruby.mo`, which pages use.
A wrong reading is corrected in usecases/readings.py's CORRECTIONS (it holds for events too).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from chalicelib.text.furigana import KANJI, MARKED, hiragana, marked
from chalicelib.text.i18n import DEFAULT, EASY, LOCALE_DIR
from chalicelib.usecases.readings import CORRECTIONS

# Markup, placeholders and e-mail or web addresses: passed through unread.
_KEEP = re.compile(r"(<[^>]*>|%\([a-z_]+\)s|\{[a-z_]*\}|https?://\S+)")


def read(text: str, tokenize: object) -> str:
    """The text with every kanji run of its words marked with the reading it has in this sentence.

    The sentence is read whole, a placeholder standing in as the digit 1 (so {day}日 reads にち and
    %(capacity)s人 にん, as after a number) and markup as a space; what stood in is put back as it was.
    """
    pieces = [piece for piece in _KEEP.split(text) if piece]
    analysed: list[str] = []
    originals: dict[int, str] = {}
    for piece in pieces:
        if _KEEP.fullmatch(piece):
            originals[sum(len(part) for part in analysed)] = piece
            analysed.append("1" if piece.startswith(("%", "{")) else " ")
        else:
            analysed.append(piece)
    sentence, out = "".join(analysed), []
    for token in tokenize.tokenize(sentence):  # type: ignore[attr-defined]
        span = range(token.begin(), token.end())
        if any(index in originals for index in span):
            out.append("".join(originals.get(index, sentence[index]) for index in span))
            continue
        surface, reading = token.surface(), CORRECTIONS.get(token.surface(), hiragana(token.reading_form()))
        out.append(marked(surface, reading) if KANJI.search(surface) and reading else surface)
    return "".join(out)


def for_review(text: str) -> str:
    """The marked text as a person reads it in the .po: 申[もう]し込[こ]み."""
    return MARKED.sub(r"\1[\2]", text)


def write(language: str, pairs: list[tuple[str, str]]) -> None:
    """The language's ruby catalog, for review (.po, readings in brackets) and for pages (.mo, marked)."""
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    folder.mkdir(parents=True, exist_ok=True)
    review, compiled = Catalog(locale="ja", project="uketsuke"), Catalog(locale="ja", project="uketsuke")
    for msgid, text in pairs:
        review.add(msgid, for_review(text))
        compiled.add(msgid, text)
    with (folder / "ruby.po").open("wb") as handle:
        write_po(handle, review, no_location=True, sort_output=True, width=76, omit_header=True)
    with (folder / "ruby.mo").open("wb") as handle:
        write_mo(handle, compiled)


def main(template: str) -> None:
    """Read every Japanese message (the msgids) and every やさしい日本語 translation, and write their twins."""
    from sudachipy import dictionary, tokenizer

    tokenize = dictionary.Dictionary(dict="core").tokenizer(mode=tokenizer.Tokenizer.SplitMode.C)
    with open(template, "rb") as handle:
        japanese = [m.id for m in read_po(handle) if m.id and isinstance(m.id, str) and KANJI.search(m.id)]
    write(DEFAULT, [(msgid, read(msgid, tokenize)) for msgid in japanese])
    with (LOCALE_DIR / EASY / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        easy = [
            (m.id, m.string)
            for m in read_po(handle, locale="ja")
            if isinstance(m.id, str) and isinstance(m.string, str) and m.string
        ]
    write(EASY, [(msgid, read(text, tokenize)) for msgid, text in easy if KANJI.search(text)])
    print(f"ruby catalogs: {len(japanese)} Japanese messages, {len(easy)} in やさしい日本語")


if __name__ == "__main__":
    if len(sys.argv) != 2 or not Path(sys.argv[1]).exists():
        sys.exit("usage: python -m local.ruby_catalogs build/messages.pot")
    main(sys.argv[1])
