"""What counts as text: Unicode scalar values that are characters, checked at every door before anything is stored.

Python strings can hold what no UTF-8 file, mail or HTTP answer can: a lone surrogate (JSON's
"\\ud800" decodes to one) cannot be encoded at all, and noncharacters (U+FFFE, U+FDD0 ...) are
reserved for a program's own use and must not be exchanged. A value holding either is refused where
it comes in (form, JSON, organizer forms, event files, query strings, headers, cookies), so nothing
downstream (mail, exports, pages) ever meets one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# Surrogates D800-DFFF; noncharacters FDD0-FDEF and the last two code points of every plane.
_NOT_TEXT = re.compile(
    "[\ud800-\udfff\ufdd0-\ufdef"
    + "".join(f"{chr(p * 0x10000 + 0xFFFE)}{chr(p * 0x10000 + 0xFFFF)}" for p in range(17))
    + "]"
)


def is_text(value: str) -> bool:
    """True if every code point of `value` is a character a file, mail or web page can carry."""
    return _NOT_TEXT.search(value) is None


def all_text(value: Any) -> bool:
    """True if every string in `value` (keys and values of nested mappings and lists included) is_text()."""
    if isinstance(value, str):
        return is_text(value)
    if isinstance(value, Mapping):
        return all(all_text(k) and all_text(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return all(all_text(v) for v in value)
    return True


def readable(value: str) -> str:
    """`value` with anything that is not text replaced by U+FFFD: for showing what was stored before the check."""
    return _NOT_TEXT.sub("\ufffd", value)
