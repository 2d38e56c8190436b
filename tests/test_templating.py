"""Templates compiled ahead of time: used when they match, ignored when they do not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from chalicelib import templating
from tests.conftest import registration


def counting_compiles(env: Any) -> list[str]:
    compiled: list[str] = []
    original = env.compile

    def compile(source: str, name: str | None = None, *args: Any, **kwargs: Any) -> Any:
        compiled.append(name or "?")
        return original(source, name, *args, **kwargs)

    env.compile = compile
    return compiled


def render_confirmation(env: Any, sample_event: Any) -> str:
    from chalicelib.mail.render import Links

    links = Links("https://x.example/e")
    context = {"event": sample_event, "registration": registration(), "links": links, "calendar": True}
    return str(env.get_template("mail/confirmation.html").render(**context))


def test_compiled_templates_are_used_instead_of_compiling(tmp_path: Path, sample_event: Any) -> None:
    assert templating.compile_all(tmp_path) == len(list(templating.TEMPLATE_DIR.rglob("*.*")))
    env = templating._build_environment(tmp_path)
    compiled = counting_compiles(env)
    html = render_confirmation(env, sample_event)
    assert compiled == [] and "7K3M9-QXD2A" in html


def test_a_stale_compiled_template_is_ignored_not_served(tmp_path: Path, sample_event: Any) -> None:
    templating.compile_all(tmp_path)
    env = templating._build_environment(tmp_path)
    key = env.bytecode_cache.get_cache_key("mail/confirmation.html")  # type: ignore[union-attr]
    other = env.bytecode_cache.get_cache_key("mail/reminder.html")  # type: ignore[union-attr]
    # As if the template changed after compiling: the stored code belongs to other source.
    (tmp_path / f"{key}.jinja").write_bytes((tmp_path / f"{other}.jinja").read_bytes())
    compiled = counting_compiles(env)
    html = render_confirmation(env, sample_event)
    assert "mail/confirmation.html" in compiled
    assert "お申し込みを受け付けました" in html  # the confirmation, not the reminder


def test_without_compiled_templates_rendering_still_works(tmp_path: Path, sample_event: Any) -> None:
    env = templating._build_environment(tmp_path / "absent")
    assert "7K3M9-QXD2A" in render_confirmation(env, sample_event)
    assert not (tmp_path / "absent").exists()  # nothing is written at run time
