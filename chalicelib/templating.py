"""The one Jinja environment: autoescaping HTML, strict about undefined names."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from chalicelib import display, messages

if TYPE_CHECKING:
    from jinja2 import Environment

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"


@lru_cache(maxsize=1)
def environment() -> Environment:
    """Built on first use (not at import) and kept for the life of the container."""
    # Imported here so the Lambdas that never render (the schedules) do not pay for Jinja.
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        # HTML escapes everything; plain-text mail must not (it would show &amp; to readers).
        autoescape=select_autoescape(enabled_extensions=("html",), disabled_extensions=("txt",), default=True),
        undefined=StrictUndefined,
        # Templates ship inside the package and never change under a running process.
        auto_reload=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        date=display.format_date,
        time=display.format_time,
        datetime=display.format_datetime,
        mask_email=display.mask_email,
    )
    env.globals.update(span=display.format_span, messages=messages)
    return env


def render(template: str, **context: object) -> str:
    """Render one template with the given context."""
    return environment().get_template(template).render(**context)
