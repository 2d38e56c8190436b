"""The Lambda deployment package: built by `chalice package`, it must carry and render the templates."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from chalicelib.templating import compile_all

ROOT = Path(__file__).resolve().parent.parent

RENDER_FROM_PACKAGE = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, sys.argv[1])
    import chalicelib.templating as templating
    assert templating.TEMPLATE_DIR.is_relative_to(sys.argv[1]), templating.TEMPLATE_DIR
    from chalicelib.events import read_event_file
    from chalicelib.mail import Links, render_confirmation
    from chalicelib.forms import Attendee
    from chalicelib.registrations import Registration
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


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("package")
    compile_all()  # what the deploy does before packaging
    chalice = Path(sys.executable).with_name("chalice")
    subprocess.run(
        [str(chalice), "package", "--stage", "dev", str(out / "sam")],
        cwd=ROOT,
        env={**os.environ, "AWS_DEFAULT_REGION": "ap-northeast-1"},  # packaging needs a region, nothing else
        check=True,
        capture_output=True,
        timeout=600,
    )
    unpacked = out / "unzipped"
    with zipfile.ZipFile(out / "sam" / "deployment.zip") as archive:
        archive.extractall(unpacked)
    return unpacked


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


@pytest.mark.slow
def test_an_email_renders_from_the_unzipped_package(package: Path) -> None:
    # A clean interpreter whose only copy of the app is the package (site-packages for the
    # runtime's own boto3, as Lambda has it).
    env = {**os.environ, "PYTHONPATH": ""}
    result = subprocess.run(
        [sys.executable, "-I", "-c", RENDER_FROM_PACKAGE, str(package), str(ROOT / "events" / "cdo-seminar.toml")],
        cwd=package,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    # The last number: templates compiled at run time. None: the package's compiled templates were used.
    assert result.stdout.splitlines() == [
        "【お申し込み完了】自治体CDO勉強会〜海外のパブリックCDOの取り組みから学ぶDX",
        "1 1 0",
    ]
