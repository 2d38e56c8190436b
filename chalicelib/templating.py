"""The one Jinja environment: autoescaping HTML, strict about undefined names, compiled ahead of time.

It sits above the domain (its filters and globals read the domain's moments, questions and site) and
below everything that renders (pages and mail); text/ below the domain holds only words and formats.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from chalicelib.domain import clock
from chalicelib.domain.event import Event
from chalicelib.domain.questions import answers_of
from chalicelib.domain.site import SiteIdentity
from chalicelib.text import display, i18n, messages

if TYPE_CHECKING:
    from jinja2 import Environment

    from chalicelib.text.furigana import Readings

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
# Written by `make templates` (python -m chalicelib.templating) before packaging; git ignores it.
COMPILED_DIR = Path(__file__).resolve().parent / "template_cache"


def _bytecode_cache(directory: Path, writable: bool) -> Any:
    """Jinja bytecode read from `directory`; written there only when building it.

    Compiling the page templates is most of a first render on a cold start (~50 of ~75 ms).
    Each entry records its template's source checksum and the Python version, and Jinja
    recompiles on any mismatch, so a stale or foreign entry is ignored, never served.
    """
    from jinja2.bccache import Bucket, BytecodeCache

    class CompiledTemplates(BytecodeCache):
        def get_cache_key(self, name: str, filename: str | None = None) -> str:
            # By name only: the file's absolute path differs between the build and Lambda.
            return hashlib.sha256(name.encode("utf-8")).hexdigest()

        def load_bytecode(self, bucket: Bucket) -> None:
            try:
                with open(directory / f"{bucket.key}.jinja", "rb") as handle:
                    bucket.load_bytecode(handle)
            except FileNotFoundError:
                return

        def dump_bytecode(self, bucket: Bucket) -> None:
            if writable:  # the package directory is read-only on Lambda
                directory.mkdir(exist_ok=True)
                # Written aside and renamed into place: a process reading the cache while a build writes
                # it (tests side by side) sees the old entry or the new one, never half of one.
                target = directory / f"{bucket.key}.jinja"
                partial = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
                with open(partial, "wb") as handle:
                    bucket.write_bytecode(handle)
                os.replace(partial, target)

    return CompiledTemplates()


def _build_environment(compiled_dir: Path, writable: bool = False) -> Environment:
    # Imported here so the Lambdas that never render (the schedules) do not pay for Jinja.
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        # HTML escapes everything; plain-text mail must not (it would show &amp; to readers).
        autoescape=select_autoescape(enabled_extensions=("html",), disabled_extensions=("txt",), default=True),
        undefined=StrictUndefined,
        # Templates ship inside the package and never change under a running process.
        auto_reload=False,
        bytecode_cache=_bytecode_cache(compiled_dir, writable),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    # Looked up at render time in the language of the request or mail (i18n.py); newstyle escapes them.
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(
        date=display.format_date,
        time=display.format_time,
        datetime=display.format_datetime,
        mask_email=display.mask_email,
        field_label=_field_label,
    )
    env.globals.update(
        span=display.format_span,
        needs_text=display.needs_text,
        answers_of=answers_of,
        messages=messages,
        moment=clock.parse_iso,
        lang=i18n.current,
        lang_tag=i18n.tag,
        ruby=i18n.ruby,
        N_=i18n.N_,
        # t() translates a value (a message constant, a notice) as plain text, which autoescape then escapes;
        # _() is for literals only, whose translations are trusted markup.
        t=i18n.gettext,
        language_names=i18n.NAMES,
        here=i18n.here,
        site=lambda: _site_identity(),
    )
    return env


_site_identity: Callable[[], SiteIdentity] = SiteIdentity


def _field_label(name: object, event: Any = None) -> str:
    """A standard field's label: the organizer's own for `event` where they wrote one, else the standard one."""
    own = event.label_for(str(name)) if event is not None else ""
    return own or i18n.gettext(messages.FIELD_LABELS.get(str(name), str(name)))


def identify_site_with(provider: Callable[[], SiteIdentity]) -> None:
    """Where pages read the site's identity from (the composition root gives its settings')."""
    global _site_identity
    _site_identity = provider


@lru_cache(maxsize=1)
def environment() -> Environment:
    """Built on first use (not at import) and kept for the life of the container."""
    return _build_environment(COMPILED_DIR)


def render(template: str, **context: object) -> str:
    """Render one template with the given context; an attendee's page gets its readings and language marks.

    With ふりがな on, the page's text gets <ruby> (the catalog's marks, the event's reading table); in a
    language other than Japanese, the organizer's untranslated words are marked lang="ja", with readings.
    """
    attendee = template.startswith(ATTENDEE_PAGES) and not template.startswith(ORGANIZER_PAGES)
    event = context.get("event")
    foreign = attendee and isinstance(event, Event) and i18n.current() not in i18n.RUBY_LANGUAGES
    # Found once: the event page says there are such words, and every foreign page marks them.
    left = left_in_japanese(event) if foreign and isinstance(event, Event) else []
    rendered = environment().get_template(template).render(**context, left_in_japanese=left)
    if i18n.ruby():
        from chalicelib.text import furigana  # only pages with ふりがな need it: not on a cold start's path

        return _readings_of(event).page(rendered) if attendee else furigana.unmarked(rendered)
    return _readings_of(event).originals(rendered, left) if foreign else rendered


def _readings_of(event: object) -> Readings:
    """The event's reading table (none for a page about no event)."""
    from chalicelib.text.furigana import Readings

    return Readings(dict(event.readings) if isinstance(event, Event) else {})


def left_in_japanese(event: Event) -> list[str]:
    """The organizer's words a page in the current language shows in Japanese: those they did not translate."""
    from chalicelib.text.furigana import JAPANESE

    translation = dict(event.translations).get(i18n.current())
    translated = translation.texts() if translation else set()
    return [text for text in event.own_texts() if text not in translated and JAPANESE.search(text)]


# The pages an attendee meets: the ones the ふりがな switch annotates.
ATTENDEE_PAGES, ORGANIZER_PAGES = "pages/", "pages/organizer/"


def compile_all(target: Path = COMPILED_DIR) -> int:
    """Compile every template into `target`, ahead of packaging; returns how many."""
    env = _build_environment(target, writable=True)
    names = env.list_templates(extensions=["html", "txt"])
    for name in names:
        env.get_template(name)
    return len(names)


if __name__ == "__main__":
    print(f"compiled {compile_all()} templates into {COMPILED_DIR}")
