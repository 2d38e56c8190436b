"""What an operator sees (issue 26, findings 14 and 15): a JSON line per request, job run and mail, with metrics.

Each line is read as CloudWatch Logs would: a JSON object, and where it has `_aws`, an Embedded Metric
Format object checked against the rules of "Specification: Embedded metric format". The whole lifecycle
below writes its lines, and none of them holds a name, an address, a phone number, a kana or an answer.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from chalice.test import Client

import app as app_module
from chalicelib import telemetry
from chalicelib.domain.event import Event
from chalicelib.usecases.changes import cancel
from local.faults import ConflictingClient
from tests.conftest import FORM, World, signed, valid_form
from tests.test_feedback import ses_event
from tests.test_jobs import invoke

# The units EMF accepts (the specification's MetricDefinition, after CloudWatch's StandardUnit).
_UNITS = {
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes", "Bits",
    "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second", "Kilobytes/Second",
    "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second",
    "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
}  # fmt: skip


def check_emf(line: dict[str, Any]) -> dict[str, float]:
    """The metrics an EMF object declares, after checking it as CloudWatch Logs would; {} for a plain line."""
    if "_aws" not in line:
        return {}
    aws = line["_aws"]
    assert isinstance(aws["Timestamp"], int) and aws["Timestamp"] > 1_600_000_000_000  # milliseconds since 1970
    values: dict[str, float] = {}
    for directive in aws["CloudWatchMetrics"]:
        assert isinstance(directive["Namespace"], str) and 0 < len(directive["Namespace"]) <= 1024
        for dimension_set in directive["Dimensions"]:
            assert 0 < len(dimension_set) <= 30
            for name in dimension_set:
                assert isinstance(line[name], str) and 0 < len(line[name]) <= 1024  # a member, a string value
        assert 0 < len(directive["Metrics"]) <= 100
        for metric in directive["Metrics"]:
            assert metric["Unit"] in _UNITS and 0 < len(metric["Name"]) <= 1024
            value = line[metric["Name"]]  # a member of the object, a number
            assert isinstance(value, int | float) and not isinstance(value, bool)
            values[metric["Name"]] = value
    return values


@pytest.fixture
def lines(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Every line written, parsed (each must be one JSON object)."""
    written: list[dict[str, Any]] = []

    def write(text: str) -> None:
        assert "\n" not in text
        parsed = json.loads(text)
        assert isinstance(parsed, dict) and parsed["kind"] in ("request", "job", "mail")
        written.append(parsed)

    monkeypatch.setattr(telemetry, "write", write)
    return written


def totals(lines: list[dict[str, Any]]) -> Counter[str]:
    counted: Counter[str] = Counter()
    for line in lines:
        counted.update(check_emf(line))
    return counted


PERSONAL = {
    "name": "磐梯 秘密",
    "kana": "バンダイ ヒミツ",
    "organization": "秘密町役場",
    "email": "secret.person@example.jp",
    "question": "とても個人的な質問",
}


def test_a_whole_lifecycle_writes_one_line_per_request_job_and_mail_with_ids_and_counts_only(
    client: Client, world: World, sample_event: Event, lines: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    event = world.publish(dataclasses.replace(sample_event, capacity=1))
    page = client.http.get(f"/events/{event.slug}")
    seated = client.http.post(
        f"/events/{event.slug}", headers=FORM, body=urlencode(signed(valid_form(**PERSONAL), event.slug))
    )
    waiting = client.http.post(
        f"/events/{event.slug}", headers=FORM, body=urlencode(signed(valid_form(email="w@example.jp"), event.slug))
    )
    assert (page.status_code, seated.status_code, waiting.status_code) == (200, 303, 303)
    requests = [line for line in lines if line["kind"] == "request"]
    assert len(requests) == 3  # one line per request
    first = requests[0]
    assert first["route"] == "/events/{slug}" and first["method"] == "GET" and first["status"] == 200
    assert first["slug"] == event.slug and first["ms"] >= 0 and "request_id" in first and "_aws" not in first
    assert check_emf(requests[1]) == {"Registrations": 1} and requests[1]["Stage"] == "local"
    assert check_emf(requests[2]) == {"WaitingListJoins": 1}
    world.deliver_outbox()
    # The first cancels: the one waiting moves up.
    query = ("pk = :pk AND begins_with(sk, :r)", {":pk": f"EVENT#{event.slug}", ":r": "REG#"})
    [seat] = [r for r in world.table.query(*query) if r["email"] == PERSONAL["email"]]
    with telemetry.counting() as tally:
        cancel(world.table, event, seat["registration_id"], world.clock.now())
    assert tally == {"Cancellations": 1, "MoveUps": 1}
    world.deliver_outbox()
    mails = [line for line in lines if line["kind"] == "mail"]
    assert {line["mail_kind"] for line in mails} >= {"confirmation", "waitlisted", "cancelled", "promoted"}
    assert [(line["mail_kind"], line["result"], check_emf(line)) for line in mails if line["result"] != "sent"] == []
    assert all(check_emf(line) == {"MailsSent": 1} for line in mails)
    assert {line["job"] for line in lines if line["kind"] == "job"} == {"deliver_mail"}  # a line per batch
    # A job run: its counts, and how long it took.
    invoke("close_registration")
    job = lines[-1]
    assert job["kind"] == "job" and job["job"] == "close_registration" and job["ok"] is True and "did" in job
    # SES tells of a bounce: counted by the function that hears it.
    mail_id = next(line["mail_id"] for line in mails if line["mail_kind"] == "confirmation")
    with Client(app_module.app) as lambdas:
        lambdas.lambda_.invoke(
            "mail_feedback",
            lambdas.events.generate_sns_event(message=ses_event("Bounce", event.slug, mail_id, PERSONAL["email"])),
        )
    assert check_emf(lines[-1]) == {"MailsBounced": 1} and lines[-1]["job"] == "mail_feedback"
    # Busy (every try lost its race): counted apart from errors.
    monkeypatch.setattr(world.services.table, "client", ConflictingClient(world.services.table.client, 1.0))
    busy = client.http.post(f"/events/{event.slug}", headers=FORM, body=urlencode(signed(valid_form(), event.slug)))
    assert busy.status_code == 503 and check_emf(lines[-1]) == {"BusyAnswers": 1}
    everything = json.dumps(lines, ensure_ascii=False)
    for secret in (*PERSONAL.values(), "w@example.jp", "secret.person", "バンダイ", "token="):
        assert secret not in everything, secret
    assert totals(lines)["Registrations"] == 1


def test_an_unhandled_error_is_its_own_line_and_count_and_the_5xx_alarm_leaves_busy_answers_out(
    client: Client, world: World, lines: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any, **__: Any) -> str:
        raise RuntimeError("the index broke")

    monkeypatch.setattr("chalicelib.web.pages.index_page", broken)
    assert client.http.get("/").status_code == 500
    assert lines[-1]["status"] == 500 and check_emf(lines[-1]) == {"ServerErrors": 1}
    assert "the index broke" not in json.dumps(lines)


def test_a_job_that_fails_says_which_and_what_kind_of_error_in_its_line(
    world: World, lines: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any, **__: Any) -> Any:
        raise RuntimeError("secret.person@example.jp broke it")

    monkeypatch.setattr("chalicelib.usecases.closing.close_registrations", broken)
    with pytest.raises(RuntimeError):
        invoke("close_registration")
    assert lines[-1] == {
        "kind": "job",
        "job": "close_registration",
        "ok": False,
        "error": "RuntimeError",
        "ms": lines[-1]["ms"],
    }


def test_every_metric_the_code_counts_is_on_the_dashboard_and_documented() -> None:
    from deploy.monitoring import BUSINESS, MAIL, SITE

    assert set(BUSINESS + MAIL + SITE) == set(telemetry.Metric)
    operations = (Path(__file__).parents[1] / "docs" / "operations.md").read_text("utf-8")
    for metric in telemetry.Metric:
        assert re.search(rf"`{metric.value}`", operations), metric


def anchor(heading: str) -> str:
    """A Markdown heading's anchor as GitHub makes it: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_every_alarm_mail_says_what_happened_in_both_languages_and_links_a_runbook_section_that_exists() -> None:
    from deploy.monitoring import RUNBOOK
    from deploy.package import app_functions
    from deploy.stage import read_stage
    from deploy.template import merge_template

    stage = read_stage("example")
    fragment = merge_template(stage, app_functions(), [stage.sender], "api")
    alarms = [r for r in fragment["Resources"].values() if r.get("Type") == "AWS::CloudWatch::Alarm"]
    headings = (Path(__file__).parents[1] / RUNBOOK).read_text("utf-8").splitlines()
    sections = {anchor(line.lstrip("#")) for line in headings if line.startswith("#")}
    for alarm in alarms:
        said = alarm["Properties"]["AlarmDescription"]
        assert len(said) <= 1024 and said.startswith(f"uketsuke {stage.name}: ")
        assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", said) and re.search(r" / [a-z]", said), said
        section = said.rsplit("#", 1)[1]
        assert section in sections, section
    [server] = [a for a in alarms if "5XX" in a["Properties"]["AlarmDescription"]]
    queries = {q["Id"]: q for q in server["Properties"]["Metrics"]}
    assert queries["busy"]["MetricStat"]["Metric"]["MetricName"] == "BusyAnswers"
    assert queries["unexpected"]["Expression"] == "FILL(errors, 0) - FILL(busy, 0)"
    dashboard = json.dumps(fragment["Resources"]["Dashboard"])
    assert all(metric.value in dashboard for metric in telemetry.Metric)


def test_x_ray_is_a_stage_option_off_by_default() -> None:
    from deploy.package import app_functions
    from deploy.stage import read_stage
    from deploy.template import merge_template

    stage = read_stage("example")
    for tracing in (False, True):
        fragment = merge_template(dataclasses.replace(stage, tracing=tracing), app_functions(), [stage.sender], "api")
        resources = fragment["Resources"]
        assert (resources["APIHandler"]["Properties"].get("Tracing") == "Active") is tracing
        assert resources["RestAPI"]["Properties"].get("TracingEnabled", False) is tracing
        role = resources["APIHandlerRole"]["Properties"]
        assert ("AWSXRayDaemonWriteAccess" in json.dumps(role.get("ManagedPolicyArns", []))) is tracing
