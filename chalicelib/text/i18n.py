"""Languages: Japanese by default, English by choice. Every sentence is a gettext message.

The source text (msgid) is the Japanese itself, so templates read as the pages do and Japanese
needs no catalog; `locale/en/LC_MESSAGES/messages.po` holds the English (`make catalogs` extracts
and compiles it). The language is per request (or per mail), held in a context variable that the
app's middleware sets from the visitor's choice (a cookie) or their browser's Accept-Language,
and that mail rendering sets from the language the registrant registered in.
"""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

DEFAULT = "ja"
LANGUAGES = ("ja", "en")
# What the switch says, each in its own language (people look for their own language's name).
NAMES = {"ja": "日本語", "en": "English"}
COOKIE = "uketsuke_lang"
RUBY_COOKIE = "uketsuke_furigana"  # "on": ふりがな over the kanji of attendee pages (text/furigana.py)
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"

_current: ContextVar[str] = ContextVar("language", default=DEFAULT)
# The page being shown, for the language switch to come back to.
_here: ContextVar[str] = ContextVar("here", default="/")
# Whether the visitor asked for ふりがな (pages only; a mail is never annotated).
_ruby: ContextVar[bool] = ContextVar("ruby", default=False)


def N_(message: str) -> str:
    """Mark a message for the catalog without translating it yet (it is translated where it is shown)."""
    return message


@lru_cache(maxsize=len(LANGUAGES))
def _catalog(language: str) -> _gettext.NullTranslations:
    if language == DEFAULT:
        return _gettext.NullTranslations()  # the msgids are the Japanese
    with open(LOCALE_DIR / language / "LC_MESSAGES" / "messages.mo", "rb") as handle:
        return _gettext.GNUTranslations(handle)


def current() -> str:
    """The language of the page or mail being made."""
    return _current.get()


def supported(language: str | None) -> str | None:
    """The language code if uketsuke speaks it."""
    code = (language or "").strip().lower()[:2]
    return code if code in LANGUAGES else None


def ruby() -> bool:
    """Whether the page being made carries ふりがな: asked for, and the page is in Japanese."""
    return _ruby.get() and current() == DEFAULT


def here() -> str:
    """The page being shown (its path and query): where the language switch comes back to."""
    return _here.get()


@contextmanager
def speaking(language: str | None, here: str = "/", ruby: bool = False) -> Iterator[None]:
    """Inside this block, pages and mails are in `language` (or Japanese); `here` is the page being shown.

    `ruby`: the visitor asked for ふりがな on pages.

    Set per request by the app's middleware and per mail from the registrant's language; always reset
    afterwards, so nothing carries over to the next request a warm Lambda serves.
    """
    language_token = _current.set(supported(language) or DEFAULT)
    here_token, ruby_token = _here.set(here), _ruby.set(ruby)
    try:
        yield
    finally:
        _current.reset(language_token)
        _here.reset(here_token)
        _ruby.reset(ruby_token)


def gettext(message: str) -> str:
    """The message in the current language."""
    return _catalog(current()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural message in the current language."""
    return _catalog(current()).ngettext(singular, plural, n)


def from_accept_language(header: str | None) -> str | None:
    """The first language of an Accept-Language header that uketsuke speaks, by the visitor's weights."""
    choices: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        code = supported(tag)
        if code and weight > 0:
            choices.append((-weight, position, code))
    return min(choices)[2] if choices else None


def choose(cookie: str | None, accept_language: str | None) -> str:
    """The visitor's language: their choice if they made one, else their browser's, else Japanese."""
    return supported(cookie) or from_accept_language(accept_language) or DEFAULT
