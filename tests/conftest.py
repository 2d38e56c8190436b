"""Fixtures: the real local engines (DynamoDB Local, moto SES), a fresh table per test, a fixed clock."""

from __future__ import annotations

import contextlib
import dataclasses
import email
import email.policy
import itertools
import os
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import boto3
import pytest

import app as app_module
from chalicelib.config.services import Services, build_services
from chalicelib.config.services import current as current_services
from chalicelib.config.settings import Settings, parse_organizers
from chalicelib.domain.attendee import Attendee
from chalicelib.domain.clock import FixedClock
from chalicelib.domain.event import Event
from chalicelib.domain.event_file import read_event_file
from chalicelib.domain.registration import Registration
from chalicelib.store.dynamo import Table
from chalicelib.store.schema import table_definition
from chalicelib.usecases.publishing import publish_event
from chalicelib.usecases.registering import Outcome, RegistrationResult
from deploy.package import Artifact, build
from deploy.stage import Stage, read_stage
from local import engines

# The browser suite's Chromium and servers, shared by every browser test module (one Chromium per worker).
pytest_plugins = ("tests.browser",)

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_EVENT = ROOT / "events" / "cdo-seminar.toml"
SENDER = "noreply@uketsuke.test"
BASE_URL = "http://testserver"
LINK_KEY = "tests-only-link-key-0123456789abcdefghij"
# 2027-01-10 10:00 JST: ten days before the sample event.
BEFORE_EVENT = datetime(2027, 1, 10, 1, 0, tzinfo=UTC)

_table_numbers = itertools.count(1)


@dataclass
class Engines:
    """Endpoints of the engines started for this test session."""

    dynamodb: str
    moto: str

    def client(self) -> Any:
        return boto3.client("dynamodb", endpoint_url=self.dynamodb)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """How many examples each generated test got through to the code it tests (tests/reach.py)."""
    from tests.reach import REACH_PROPERTY

    lines = [
        f"{report.nodeid}: {value}"
        for reports in terminalreporter.stats.values()  # a teardown that passed is filed under ""
        for report in reports
        for name, value in getattr(report, "user_properties", [])
        if name == REACH_PROPERTY
    ]
    if lines:
        terminalreporter.section("generated tests: examples that reached the code under test")
        for line in sorted(set(lines)):
            terminalreporter.write_line(line)


def pytest_itemcollected(item: pytest.Item) -> None:
    """Tests that start DynamoDB Local and moto are marked `engines`, those that drive Chromium `browser`.

    `make test-fast` runs the others: the domain, the ledger's properties, validation, rendering, parsing.
    Marked as each test is collected, so the xdist group is there before any plugin reorders or renames.
    """
    fixtures = getattr(item, "fixturenames", ())
    if "local_engines" in fixtures:
        item.add_marker(pytest.mark.engines)
    if "chromium" in fixtures:
        item.add_marker(pytest.mark.browser)
    group = xdist_group(item.path.name, fixtures)
    if group:
        item.add_marker(pytest.mark.xdist_group(group))


# Suites that each keep to one worker when tests run side by side (make test: pytest-xdist, --dist loadgroup).
# The browser tests share one Chromium and one pair of servers per worker; the package builds write the
# same chalice deployment cache and template cache. (Tests that time things compare ratios measured side
# by side, so a busy neighbour slows both sides alike.)
_GROUPED_MODULES = {
    "test_package.py": "package",
    "test_deploy.py": "package",
    "test_rehearsal.py": "package",
    "test_stack.py": "package",
}


def xdist_group(module: str, fixtures: Any) -> str | None:
    """The xdist group a test belongs to (None: it may run on any worker)."""
    if "chromium" in fixtures:
        return "browser"
    if "example_artifact" in fixtures:
        return "package"
    return _GROUPED_MODULES.get(module)


@pytest.fixture(scope="session")
def local_engines() -> Iterator[Engines]:
    """DynamoDB Local and moto, started once per session and stopped at its end, pass or fail."""
    saved = dict(os.environ)
    with engines.dynamodb_local() as dynamodb, engines.moto_server() as moto:
        os.environ.update(engines.engine_environment(dynamodb, moto))
        try:
            yield Engines(dynamodb=dynamodb, moto=moto)
        finally:
            os.environ.clear()
            os.environ.update(saved)


@dataclass
class Sequence:
    """Deterministic ids: R000000001, R000000002, ..."""

    prefix: str = "R"
    counter: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def __call__(self) -> str:
        return f"{self.prefix}{next(self.counter):09d}"


@dataclass
class World:
    """One test's table, clock, services and outbox pump."""

    engines: Engines
    table: Table
    stream_arn: str
    clock: FixedClock
    services: Services
    pump: engines.StreamPump
    _api_token: str | None = None

    def publish(self, event: Event, draft: bool = False) -> Event:
        publish_event(self.table, event, self.clock.now(), draft=draft)
        return event

    def api_headers(self) -> dict[str, str]:
        """What an integration sends: a key for every event, issued on first use (the JSON API needs one).

        Its rate is unlimited: on the tests' stopped clock a limited key would answer 429 after 120 calls,
        and a generated test would then stop at the key check instead of reaching what it tests.
        """
        if self._api_token is None:
            from chalicelib.usecases import api_keys

            _, self._api_token = api_keys.issue(
                self.table,
                "tests",
                api_keys.EVERY_EVENT,
                "tests@example.jp",
                self.clock.now(),
                Sequence("K"),
                rate_per_minute=api_keys.UNLIMITED,
            )
        return {"Authorization": f"Bearer {self._api_token}", "Content-Type": "application/json"}

    def let_sign_in(self, *emails: str) -> None:
        """Who may sign in to the organizer pages, as the stage file's `organizers` would say."""
        listed = parse_organizers(",".join(emails))
        self.services.settings = dataclasses.replace(self.services.settings, organizers=listed)

    def deliver_outbox(self) -> list[Any]:
        """Run the deliver_mail Lambda on everything the stream has, as AWS would."""
        from chalice.test import Client

        records = self.pump.poll()
        if records:
            with Client(app_module.app) as client:
                client.lambda_.invoke("deliver_mail", {"Records": records})
        return records


@pytest.fixture
def world(local_engines: Engines) -> Iterator[World]:
    """A fresh table and clean SES for each test, wired into the app."""
    with new_world(local_engines) as fresh:
        yield fresh


@contextlib.contextmanager
def new_world(local_engines: Engines) -> Iterator[World]:
    """A fresh table and clean SES, wired into the app until the block ends (then the table is deleted)."""
    urllib.request.urlopen(urllib.request.Request(f"{local_engines.moto}/moto-api/reset", method="POST")).read()
    engines.verify_sender(local_engines.moto, SENDER)
    client = local_engines.client()
    name = f"uketsuke-test-{os.getpid()}-{next(_table_numbers)}"
    stream_arn = engines.create_table(client, table_definition(name))
    clock = FixedClock(BEFORE_EVENT)
    settings = Settings(
        table_name=name, public_base_url=BASE_URL, default_sender=SENDER, ses_max_send_rate=1000, link_key=LINK_KEY
    )
    services = build_services(settings=settings, clock=clock, ids=Sequence())
    services.sender_verified = engines.moto_verified(local_engines.moto)  # moto's word for AWS's
    app_module.use_services(services)
    try:
        yield World(
            local_engines,
            services.table,
            stream_arn,
            clock,
            services,
            engines.StreamPump(local_engines.dynamodb, stream_arn),
        )
    finally:
        app_module.use_services(None)
        client.delete_table(TableName=name)


@pytest.fixture
def sample_event() -> Event:
    """The 自治体CDO勉強会 as shipped in events/."""
    return read_event_file(str(SAMPLE_EVENT))


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def client(world: World) -> Iterator[Any]:
    """Chalice's test client for the app, wired to this test's world."""
    from chalice.test import Client

    with Client(app_module.app) as test_client:
        test_client.world = world  # type: ignore[attr-defined]  # so helpers can send the world's API key
        yield test_client


def altered(token: str) -> str:
    """The same signed token with one character of its signature changed, for forgery tests.

    Overwriting the tail with "A"s (as these tests did) leaves a token that already ends so unchanged:
    the last character of a 32-byte secret in base64 is "A" for one key in sixteen, and such a "forgery"
    was let in (seen once in a full run, and once a CSRF token ending in "AA"). This always changes one.
    """
    i = len(token) - 6
    return token[:i] + ("B" if token[i] == "A" else "A") + token[i + 1 :]


def page(response: Any) -> str:
    """A response's HTML."""
    return str(response.body.decode("utf-8"))


@contextlib.contextmanager
def serving() -> Iterator[str]:
    """make run's web server (the same serve_site) for the app, on a free port; stopped afterwards."""
    from local.run import serve_site

    site = serve_site(app_module.app, "127.0.0.1", 0)
    threading.Thread(target=site.server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{site.server.server_port}"
    finally:
        site.server.shutdown()
        site.server.server_close()


@pytest.fixture
def local_site(world: World) -> Iterator[str]:
    """The app served over HTTP by make run's server, wired to the test's world."""
    with serving() as url:
        yield url


@pytest.fixture(scope="module")
def example_stage() -> Stage:
    """The example stage, as a newcomer finds it."""
    return read_stage("example")


@pytest.fixture(scope="module")
def example_artifact(example_stage: Stage, tmp_path_factory: pytest.TempPathFactory) -> Artifact:
    """The example stage built as make package builds it on Python 3.12 or later, with the readings layer
    (once per module: it takes seconds; the layer is built once and kept in build/layers)."""
    return build(example_stage, tmp_path_factory.mktemp("build"), readings_layer=True)


@pytest.fixture
def published(world: World, sample_event: Event) -> Event:
    """The sample event, loaded into the test's table."""
    return world.publish(sample_event)


def mailbox() -> list[EmailMessage]:
    """Every message moto's SES accepted, parsed."""
    return [
        email.message_from_string(m.raw_data, policy=email.policy.default)  # type: ignore[misc]
        for m in engines.sent_messages()
    ]


TARO = Attendee(
    name="磐梯 太郎",
    kana="バンダイ タロウ",
    organization="磐梯町役場",
    job_title="企画課長",
    email="taro@example.jp",
    category="civil-servant",
    question="",
)


def api_gateway_event(method: str, path: str, route: str, slug: str, body: str | None = None) -> dict[str, Any]:
    """What API Gateway hands the function for a request to https://<id>.execute-api.../api<path>."""
    headers = {"host": "abc123.execute-api.ap-northeast-1.amazonaws.com"}
    if body is not None:
        headers["content-type"] = "application/x-www-form-urlencoded"
    return {
        "resource": route,
        "path": path,
        "httpMethod": method,
        "headers": headers,
        "multiValueQueryStringParameters": None,
        "pathParameters": {"slug": slug},
        "stageVariables": None,
        "requestContext": {"resourcePath": route, "httpMethod": method, "stage": "api", "path": f"/api{path}"},
        "body": body,
        "isBase64Encoded": False,
    }


_submission_numbers = itertools.count(1)


def signed(
    fields: dict[str, str],
    slug: str = "cdo-seminar",
    age: timedelta = timedelta(seconds=10),
    now: datetime | None = None,
    form: Any = None,
) -> dict[str, str]:
    """Form fields as `form`'s page (the event page unless said) handed them out `age` ago: submission id, token."""
    from chalicelib.domain.links import LinkSigner
    from chalicelib.web.bots import Form, form_token

    submission_id = fields.get("submission_id") or f"SUBMISSION{next(_submission_numbers):06d}"
    issued = (now or current_services().clock.now()) - age
    token = form_token(LinkSigner(LINK_KEY.encode()), slug, submission_id, issued, form or Form.REGISTRATION)
    return {**fields, "submission_id": submission_id, "form_token": token}


def registration_id_of(submission_id: str, slug: str = "cdo-seminar") -> str:
    """The registration id a submission gets: fixed by it (registering.register), so tests can name it."""
    from chalicelib.domain.ids import derived_id

    return derived_id("registration", slug, submission_id)


def valid_form(**overrides: str) -> dict[str, str]:
    """A complete, valid registration form for the sample event."""
    return {**dataclasses.asdict(TARO), "consent": "yes", **overrides}


def attendee(**overrides: str) -> Attendee:
    """磐梯 太郎, or someone like him."""
    return dataclasses.replace(TARO, **overrides)


def sent_until_answered(attempt: Callable[[], RegistrationResult], tries: int = 50) -> RegistrationResult:
    """A registration sent again while it answers BUSY, as the form's 503 asks a visitor to (Retry-After).

    BUSY means every retry lost its race and nothing was written: sending again is the contract, and a
    crowd on a slow machine may meet it (the flash-crowd tests over HTTP resend the 503s the same way).
    """
    for _ in range(tries):
        result = attempt()
        if result.outcome is not Outcome.BUSY:
            return result
        time.sleep(0.05)  # Retry-After says 2 s; the test does not wait that long
    raise AssertionError(f"still busy after {tries} sends")


def numbered(n: int) -> Attendee:
    """The n-th of many different attendees."""
    return attendee(name=f"参加者{n}", kana="サンカシャ", email=f"person{n}@example.jp")


def registration(registration_id: str = "7K3M9QXD2A", **overrides: str) -> Registration:
    """A stored registration of attendee(**overrides) for the sample event."""
    return Registration(registration_id, "cdo-seminar", attendee(**overrides), "confirmed", "2027-01-10T01:00:00Z")
