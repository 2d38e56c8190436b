"""Languages: Japanese by default; やさしい日本語, English, 简体中文, 한국어, Tiếng Việt and Português by choice.

Every sentence is a gettext message.

The source text (msgid) is the Japanese itself, so templates read as the pages do and Japanese
needs no catalog; `locale/<code>/LC_MESSAGES/messages.po` holds each other language (`make catalogs`
extracts and compiles them). The language is per request (or per mail), held in a context variable
that the app's middleware sets from the visitor's choice (a cookie) or their browser's Accept-Language,
and that mail rendering sets from the language the registrant registered in.

やさしい日本語 (`easy`, written to the 在留支援のためのやさしい日本語ガイドライン) has no language tag of its
own: no browser asks for it, so only the switch (or a link to /language/easy) chooses it, and its pages
say lang="ja". Its pages carry ふりがな unless the reader turns them off.
"""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

DEFAULT = "ja"
EASY = "easy"  # やさしい日本語
# Japanese first; then the languages of the residents from abroad municipal events most need to reach.
LANGUAGES = ("ja", EASY, "en", "zh", "ko", "vi", "pt")
# What the switch says, each in its own language (people look for their own language's name).
NAMES = {
    "ja": "日本語",
    EASY: "やさしい日本語",
    "en": "English",
    "zh": "简体中文",
    "ko": "한국어",
    "vi": "Tiếng Việt",
    "pt": "Português",
}
# The BCP 47 tag a page in each language declares (lang=""), where it is not the code itself.
TAGS = {EASY: "ja", "zh": "zh-Hans", "pt": "pt-BR"}
# Languages a browser can ask for (Accept-Language); やさしい日本語 is chosen on the page.
ASKED_FOR = tuple(code for code in LANGUAGES if code != EASY)
COOKIE = "uketsuke_lang"
RUBY_COOKIE = "uketsuke_furigana"  # "on": ふりがな over the kanji of attendee pages (text/furigana.py)
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"

_current: ContextVar[str] = ContextVar("language", default=DEFAULT)
# The page being shown, for the language switch to come back to.
_here: ContextVar[str] = ContextVar("here", default="/")
# Whether the page being made carries ふりがな (set per request for attendee pages; a mail never does).
_ruby: ContextVar[bool] = ContextVar("ruby", default=False)
# The languages whose messages have a ruby twin (text/furigana.py; written by `make catalogs`).
RUBY_LANGUAGES = (DEFAULT, EASY)


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
    """The language code if uketsuke speaks it: a code of its own (a cookie, a link), or a tag's language."""
    code = (language or "").strip().lower()
    if code in LANGUAGES:
        return code
    primary = code.split("-")[0].split("_")[0]
    return primary if primary in ASKED_FOR else None


def ruby() -> bool:
    """Whether the page being made carries ふりがな (only ever in Japanese or やさしい日本語)."""
    return _ruby.get() and current() in RUBY_LANGUAGES


def wants_ruby(language: str, choice: str) -> bool:
    """ふりがな for a visitor: as they chose ("on"/"off"), else on for やさしい日本語 (its kanji are read) only."""
    return {"on": True, "off": False}.get(choice, language == EASY)


def tag(language: str | None = None) -> str:
    """The language tag of a page in `language` (the current one if not said), for its lang attribute."""
    code = language or current()
    return TAGS.get(code, code)


def here() -> str:
    """The page being shown (its path and query): where the language switch comes back to."""
    return _here.get()


@contextmanager
def speaking(language: str | None, here: str = "/", ruby: bool = False) -> Iterator[None]:
    """Inside this block, pages and mails are in `language` (or Japanese); `here` is the page being shown.

    `ruby`: the page carries ふりがな (messages come from their ruby twins).

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


@lru_cache(maxsize=len(RUBY_LANGUAGES))
def _ruby_catalog(language: str) -> _gettext.NullTranslations:
    """The language's messages with their kanji marked with readings; what it lacks, the plain catalog gives."""
    try:
        with open(LOCALE_DIR / language / "LC_MESSAGES" / "ruby.mo", "rb") as handle:
            marked: _gettext.NullTranslations = _gettext.GNUTranslations(handle)
    except FileNotFoundError:
        return _catalog(language)
    marked.add_fallback(_catalog(language))
    return marked


def translated(language: str, message: str) -> str:
    """A message of the site's catalog in `language`, whatever language is being spoken now."""
    return str(_catalog(supported(language) or DEFAULT).gettext(message))


def gettext(message: str) -> str:
    """The message in the current language (with reading marks while the page carries ふりがな)."""
    return (_ruby_catalog if ruby() else _catalog)(current()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The singular or plural message in the current language."""
    return (_ruby_catalog if ruby() else _catalog)(current()).ngettext(singular, plural, n)


def from_accept_language(header: str | None) -> str | None:
    """The first language of an Accept-Language header that uketsuke speaks, by the visitor's weights."""
    choices: list[tuple[float, int, str]] = []
    for position, part in enumerate((header or "").split(",")):
        wanted, _, params = part.strip().partition(";")
        weight = 1.0
        if params.strip().startswith("q="):
            try:
                weight = float(params.strip()[2:])
            except ValueError:
                continue
        code = supported(wanted)
        if code in ASKED_FOR and weight > 0:
            choices.append((-weight, position, code))
    return min(choices)[2] if choices else None


def choose(cookie: str | None, accept_language: str | None) -> str:
    """The visitor's language: their choice if they made one, else their browser's, else Japanese."""
    return supported(cookie) or from_accept_language(accept_language) or DEFAULT
