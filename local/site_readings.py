"""Write the ふりがな of the site's own words (chalicelib/locale/ja/readings.txt) from the catalog's Japanese.

`make catalogs` runs it after extracting the messages: every msgid (the Japanese itself), its placeholders
and markup taken out, read by SudachiPy (usecases/readings.py); one line per word, "word<TAB>reading",
sorted, so a change of wording shows in review as the words it adds or drops. Correct a reading by hand
in usecases/readings.py's CORRECTIONS (they hold for events too), not in the file itself (the next
`make catalogs` writes it again).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from chalicelib.text.furigana import SITE_READINGS
from chalicelib.usecases.readings import sudachi


def messages(template: Path) -> list[str]:
    """The Japanese of every message in the extracted template, without placeholders or markup."""
    with template.open("rb") as handle:
        catalog = read_po(handle)
    texts = []
    for message in catalog:
        for text in message.id if isinstance(message.id, tuple | list) else (message.id,):
            texts.append(re.sub(r"%\([a-z_]+\)s|\{[a-z_]*\}|<[^>]+>", " ", str(text)))
    return [text for text in texts if text.strip()]


def main(template: str) -> None:
    """Analyse the template's messages and write the readings file."""
    analyze = sudachi()
    if analyze is None:
        sys.exit("SudachiPy is missing: make catalogs runs in the venv that requirements-dev.txt installs")
    readings = analyze(messages(Path(template)))
    lines = [f"{word}\t{reading}" for word, reading in sorted(readings.items())]
    SITE_READINGS.parent.mkdir(parents=True, exist_ok=True)
    SITE_READINGS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(lines)} readings to {SITE_READINGS}")


if __name__ == "__main__":
    main(sys.argv[1])
