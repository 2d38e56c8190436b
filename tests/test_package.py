"""The Lambda code zip, as the deploy builds it: it carries the templates and serves a registration on its own."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest

from chalicelib.config import settings as names
from chalicelib.domain.event import Event
from deploy.package import Artifact, build
from deploy.stage import read_stage
from tests.conftest import (
    BASE_URL,
    LINK_KEY,
    SAMPLE_EVENT,
    SENDER,
    World,
    api_gateway_event,
    mailbox,
    signed,
    valid_form,
)

RENDER_FROM_PACKAGE = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, sys.argv[1])
    import chalicelib.templating as templating
    assert templating.TEMPLATE_DIR.is_relative_to(sys.argv[1]), templating.TEMPLATE_DIR
    from chalicelib.domain.event_file import read_event_file
    from chalicelib.mail.render import Links, render_confirmation
    from chalicelib.domain.attendee import Attendee
    from chalicelib.domain.registration import Registration
    event = read_event_file(sys.argv[2])
    registration = Registration("7K3M9QXD2A", event.slug, Attendee("磐梯 太郎", "バンダイ タロウ", "磐梯町役場", "",
                                "taro@example.jp", "mayor"), "confirmed", "2027-01-10T01:00:00Z")
    env = templating.environment()
    compiled = []
    original = env.compile
    env.compile = lambda source, name=None, *a, **k: compiled.append(name) or original(source, name, *a, **k)
    mail = render_confirmation(event, registration, Links("https://x.example/e"), event.starts_at)
    print(mail.subject)
    print(mail.html.count("7K3M9-QXD2A"), len(mail.attachments), len(compiled))
    """
)

# Plays the Lambda runtime: imports the handlers from the unzipped package and calls one with an event.
INVOKE_FROM_PACKAGE = textwrap.dedent(
    """
    import importlib, json, sys
    sys.path.insert(0, sys.argv[1])
    module_name, _, name = sys.argv[2].rpartition(".")  # the function's Handler, as the template names it
    module = importlib.import_module(module_name)
    assert module.__file__.startswith(sys.argv[1]), module.__file__
    handler = getattr(module, name)
    print(json.dumps(handler(json.loads(sys.stdin.read()), None)))
    """
)


@pytest.fixture(scope="module")
def artifact(tmp_path_factory: pytest.TempPathFactory) -> Artifact:
    return build(read_stage("example"), tmp_path_factory.mktemp("package"))


@pytest.fixture(scope="module")
def archive(artifact: Artifact) -> Path:
    return artifact.zip_path


def handler_of(artifact: Artifact, logical_id: str) -> str:
    """The Handler the built template gives a function: what Lambda imports and calls."""
    return str(artifact.template()["Resources"][logical_id]["Properties"]["Handler"])


@pytest.fixture(scope="module")
def package(archive: Path) -> Path:
    unpacked = archive.parent / "unzipped"
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(unpacked)
    return unpacked


def run_in_package(package: Path, *args: str, stdin: str = "", env: dict[str, str] | None = None) -> str:
    """A clean interpreter whose only copy of the app is the package (plus site-packages for the
    runtime's own boto3, as Lambda has it)."""
    result = subprocess.run(
        [sys.executable, "-I", "-c", *args],
        cwd=package,
        env={**os.environ, "PYTHONPATH": "", **(env or {})},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.slow
def test_package_ships_templates_static_files_and_dependencies(package: Path) -> None:
    for relative in (
        "app.py",
        "chalicelib/templates/mail/confirmation.html",
        "chalicelib/templates/pages/event.html",
        "chalicelib/static/style.css",
        "jinja2/__init__.py",
        "icalendar/__init__.py",
        "email_validator/__init__.py",
    ):
        assert (package / relative).is_file(), relative
    assert not (package / "boto3").exists(), "boto3 is in the Lambda runtime; vendoring it wastes cold start"
    assert not (package / "xlsxwriter").exists(), "XLSX lists are written by the console, never by Lambda"
    assert not (package / "sudachipy").exists(), "readings are computed where events are saved from a terminal"
    catalogs = {path.relative_to(package).as_posix() for path in (package / "chalicelib" / "locale").rglob("*.*")}
    assert (
        "chalicelib/locale/ja/LC_MESSAGES/ruby.mo" in catalogs
        and "chalicelib/locale/easy/LC_MESSAGES/ruby.mo" in catalogs
    )
    assert not [name for name in catalogs if name.endswith(".po")], "catalog sources are for people, not Lambda"


@pytest.mark.slow
def test_every_module_ships_with_bytecode_that_python_uses_without_the_source(package: Path, tmp_path: Path) -> None:
    modules = sorted(package.rglob("*.py"))
    assert len(modules) > 300, "the app and its dependencies"
    for module in modules:
        pyc = module.parent / "__pycache__" / f"{module.stem}.{sys.implementation.cache_tag}.pyc"
        assert pyc.is_file(), module.relative_to(package)
        header = pyc.read_bytes()[:8]
        # This interpreter's magic, then flags 0b01: hash-based and not checked against the source.
        assert header[:4] == importlib.util.MAGIC_NUMBER and int.from_bytes(header[4:8], "little") == 0b01
    # Prove the bytecode is what runs: spoil every source in a copy; importing must not notice.
    spoiled = Path(shutil.copytree(package, tmp_path / "spoiled"))
    for module in spoiled.rglob("*.py"):
        module.write_text('raise RuntimeError("compiled from source")\n', encoding="utf-8")
    assert not any(spoiled.rglob("tests")), "libraries' own test suites are left out of the zip"
    every_function = (
        "import sys; sys.path.insert(0, sys.argv[1]); import app, chalicelib.mail.postman, chalicelib.usecases.exports"
    )
    run_in_package(spoiled, every_function, str(spoiled))
    rendered = run_in_package(spoiled, RENDER_FROM_PACKAGE, str(spoiled), str(SAMPLE_EVENT))  # Jinja, icalendar, segno
    assert rendered == run_in_package(package, RENDER_FROM_PACKAGE, str(package), str(SAMPLE_EVENT))


@pytest.mark.slow
def test_two_builds_of_the_same_tree_are_byte_identical(archive: Path, tmp_path: Path) -> None:
    # The deploy uploads by content: a rebuild of unchanged code must not look like new code.
    again = build(read_stage("example"), tmp_path).zip_path
    assert again.read_bytes() == archive.read_bytes()


@pytest.mark.slow
def test_an_email_renders_from_the_unzipped_package(package: Path) -> None:
    out = run_in_package(package, RENDER_FROM_PACKAGE, str(package), str(SAMPLE_EVENT))
    # The last number: templates compiled at run time. None: the package's compiled templates were used.
    assert out.splitlines() == [
        "【お申し込み完了】自治体CDO勉強会〜海外のパブリックCDOの取り組みから学ぶDX",
        "1 1 0",
    ]


@pytest.mark.slow
def test_handlers_from_the_unzipped_package_serve_a_registration(
    artifact: Artifact, package: Path, world: World, published: Event
) -> None:
    lambda_env = {names.TABLE_NAME: world.table.name, names.DEFAULT_SENDER: SENDER, names.LINK_KEY: LINK_KEY}
    path = f"/events/{published.slug}"
    form = api_gateway_event(
        "POST",
        path,
        "/events/{slug}",
        published.slug,
        urlencode(signed(valid_form(), now=datetime.now(UTC))),  # the package runs on the real clock
    )
    answer = json.loads(
        run_in_package(
            package,
            INVOKE_FROM_PACKAGE,
            str(package),
            handler_of(artifact, "APIHandler"),
            stdin=json.dumps(form),
            env=lambda_env,
        )
    )
    assert answer["statusCode"] == 303, answer
    assert answer["headers"]["Location"].startswith(f"/api{path}/registrations/")
    records = world.pump.poll()
    assert records, "the registration wrote its confirmation to the outbox"
    run_in_package(
        package,
        INVOKE_FROM_PACKAGE,
        str(package),
        handler_of(artifact, "DeliverMail"),
        stdin=json.dumps({"Records": records}),
        env={**lambda_env, names.PUBLIC_BASE_URL: BASE_URL},
    )
    (mail,) = mailbox()
    assert mail["To"] == "taro@example.jp" and "お申し込み完了" in mail["Subject"]


def test_side_by_side_the_package_builds_keep_to_one_worker(request: pytest.FixtureRequest) -> None:
    # Two builds at once write the same Chalice cache and spoil each other's zip. Under make test's
    # `--dist loadgroup`, xdist marks each grouped test's id with its group; on pytest 9.2 xdist 3.8
    # stopped doing so without a word (pytest-xdist#1386), and the builds ran side by side.
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("tests run one at a time here: nothing to group (make test runs them side by side)")
    assert request.node.nodeid.endswith("@package"), "pytest-xdist is not grouping: check its and pytest's versions"
