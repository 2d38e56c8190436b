"""The deploy command offline: stage files, pre-flight checks, and the CloudFormation conversation.

CloudFormation cannot run here (moto has no SAM transform), so its side is botocore's Stubber, which
checks every request and answer against the real API model. S3 is moto; the table is DynamoDB Local.
"""

from __future__ import annotations

import dataclasses
import io
import json
import tomllib
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config as BotoConfig
from botocore.stub import ANY, Stubber

from chalicelib.domain.event import Event
from chalicelib.store.schema import table_definition
from chalicelib.usecases.registering import register
from deploy.__main__ import main as deploy_main
from deploy.cloudformation import CAPABILITIES, Deployer, DeployError, point_at_code
from deploy.package import Artifact, build, event_files, send_identities
from deploy.preflight import (
    Finding,
    Level,
    check_account,
    check_certificate,
    check_concurrency,
    check_python,
    check_readings,
    check_resource_types,
    check_runtime,
    check_senders,
    run_checks,
)
from deploy.sam import resource_types
from deploy.stage import CustomDomain, StageError, parse_stage, read_stage
from local import engines
from tests.conftest import Engines, World, attendee, mailbox

STACK = "uketsuke-example"
ACCOUNT = "123456789012"
NOW = datetime(2026, 11, 26, 6, 0, tzinfo=UTC)
OUTPUTS = [
    {"OutputKey": "PublicUrl", "OutputValue": "https://abc123.execute-api.ap-northeast-1.amazonaws.com/api"},
    {"OutputKey": "TableName", "OutputValue": "uketsuke-example-Table-XYZ"},
]
VALID = {"region": "ap-northeast-1", "sender": "noreply@example.jp", "organizer_email": "office@example.jp"}


# --- stage files ----------------------------------------------------------------------------------


def test_the_example_stage_reads_with_its_defaults() -> None:
    stage = read_stage("example")
    assert (stage.region, stage.sender, stage.organizer_email) == tuple(VALID.values())
    assert stage.stack_name == STACK and stage.ses_max_send_rate == 1 and stage.custom_domain is None


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"region": "tokyo"}, "region must be an AWS region"),
        ({"sender": "noreply at example.jp"}, "sender must be a plain e-mail address"),
        ({"organizer_email": ""}, "organizer_email is required"),
        ({"ses_max_send_rate": 0}, "ses_max_send_rate must be a number"),
        ({"log_retention_days": 10}, "log_retention_days must be one of"),
        ({"sendr": "x@example.jp"}, "unknown field 'sendr'"),
        (
            {"custom_domain": {"name": "uketsuke.example.jp", "certificate_arn": "arn:aws:acm:ap-northeast-1:1:x"}},
            "certificate_arn must be an ACM certificate in us-east-1",
        ),
    ],
)
def test_a_bad_stage_field_is_named(change: dict[str, Any], complaint: str) -> None:
    with pytest.raises(StageError, match=complaint):
        parse_stage("prod", {**VALID, **change})


def test_a_missing_stage_file_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(StageError, match=r"copy deploy/stages/example\.toml"):
        read_stage("prod", tmp_path / "prod.toml")
    with pytest.raises(StageError, match="stage name"):
        read_stage("Prod!")


# --- pre-flight checks ----------------------------------------------------------------------------


@pytest.fixture
def sesv2() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("sesv2", region_name="ap-northeast-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def identity(verified: bool, dkim: str = "SUCCESS") -> dict[str, Any]:
    return {"VerifiedForSendingStatus": verified, "DkimAttributes": {"Status": dkim}}


def account(production: bool = True, rate: float = 14.0) -> dict[str, Any]:
    return {"ProductionAccessEnabled": production, "SendingEnabled": True, "SendQuota": {"MaxSendRate": rate}}


def errors(findings: list[Finding]) -> list[str]:
    return [f.message for f in findings if f.level is Level.ERROR]


def test_a_verified_domain_with_dkim_passes(sesv2: tuple[Any, Stubber]) -> None:
    client, stub = sesv2
    stub.add_response("get_email_identity", identity(True), {"EmailIdentity": "example.jp"})
    assert check_senders(client, read_stage("example"), ["noreply@example.jp"]) == []


def test_an_unverified_sender_stops_the_deploy_and_says_what_to_verify(sesv2: tuple[Any, Stubber]) -> None:
    client, stub = sesv2
    stub.add_client_error("get_email_identity", "NotFoundException", expected_params={"EmailIdentity": "example.jp"})
    stub.add_client_error(
        "get_email_identity", "NotFoundException", expected_params={"EmailIdentity": "noreply@example.jp"}
    )
    (problem,) = errors(check_senders(client, read_stage("example"), ["noreply@example.jp"]))
    assert "verify the domain example.jp (with DKIM)" in problem and "ap-northeast-1" in problem


def test_a_domain_without_dkim_or_a_lone_address_is_a_warning(sesv2: tuple[Any, Stubber]) -> None:
    client, stub = sesv2
    stub.add_client_error("get_email_identity", "NotFoundException", expected_params={"EmailIdentity": "other.jp"})
    stub.add_response("get_email_identity", identity(True), {"EmailIdentity": "events@other.jp"})
    stub.add_response("get_email_identity", identity(True, dkim="PENDING"), {"EmailIdentity": "example.jp"})
    findings = check_senders(client, read_stage("example"), ["noreply@example.jp", "events@other.jp"])
    assert [f.level for f in findings] == [Level.WARNING, Level.WARNING]
    assert "DKIM is not working" in findings[1].message and "only the address events@other.jp" in findings[0].message


def test_the_sandbox_stops_the_deploy_unless_the_stage_allows_it(sesv2: tuple[Any, Stubber]) -> None:
    client, stub = sesv2
    stage = read_stage("example")
    stub.add_response("get_account", account(production=False, rate=1))
    (problem,) = errors(check_account(client, stage))
    assert "SES sandbox" in problem and "Request production access" in problem and "allow_ses_sandbox" in problem
    stub.add_response("get_account", account(production=False, rate=1))
    stub.add_response("get_email_identity", identity(True), {"EmailIdentity": "office@example.jp"})
    findings = check_account(client, dataclasses.replace(stage, allow_ses_sandbox=True))
    assert [f.level for f in findings] == [Level.WARNING]


def test_a_trial_stage_in_the_sandbox_mails_only_verified_recipients(sesv2: tuple[Any, Stubber]) -> None:
    client, stub = sesv2
    trial = dataclasses.replace(
        read_stage("example"), allow_ses_sandbox=True, sandbox_recipients=("tester@gmail.example",)
    )
    stub.add_response("get_account", account(production=False, rate=1))
    # The organizer's whole domain is verified; the tester's address is not, nor is its domain.
    stub.add_client_error(
        "get_email_identity", "NotFoundException", expected_params={"EmailIdentity": "office@example.jp"}
    )
    stub.add_response("get_email_identity", identity(True), {"EmailIdentity": "example.jp"})
    stub.add_response("get_email_identity", identity(False), {"EmailIdentity": "tester@gmail.example"})
    stub.add_client_error("get_email_identity", "NotFoundException", expected_params={"EmailIdentity": "gmail.example"})
    (problem,) = errors(check_account(client, trial))
    assert "tester@gmail.example is not verified in ap-northeast-1" in problem and "sandbox_recipients" in problem
    assert "office@example.jp" not in problem


def test_only_a_trial_stage_may_send_to_its_listed_recipients() -> None:
    stage = read_stage("example")
    assert send_identities(stage) == ["noreply@example.jp", "office@example.jp"]  # the organizer gets sign-in links
    trial = dataclasses.replace(stage, allow_ses_sandbox=True, sandbox_recipients=("tester@gmail.example",))
    assert send_identities(trial) == ["noreply@example.jp", "office@example.jp", "tester@gmail.example"]
    listed = dataclasses.replace(stage, sandbox_recipients=("tester@gmail.example",))
    assert "tester@gmail.example" not in send_identities(listed)  # out of the sandbox the list means nothing
    with pytest.raises(StageError, match="sandbox_recipients: 'nobody' is not an e-mail address"):
        parse_stage("x", {**tomllib.loads(STAGE_WITH_EVENTS), "sandbox_recipients": ["nobody"]})


def test_a_send_rate_above_the_accounts_quota_is_refused(sesv2: tuple[Any, Stubber]) -> None:
    client, stub = sesv2
    stub.add_response("get_account", account(rate=14))
    (problem,) = errors(check_account(client, dataclasses.replace(read_stage("example"), ses_max_send_rate=50)))
    assert "set ses_max_send_rate = 14" in problem


def concurrency(limit: int) -> dict[str, Any]:
    return {"AccountLimit": {"ConcurrentExecutions": limit, "UnreservedConcurrentExecutions": limit}}


def test_a_new_accounts_reduced_lambda_concurrency_is_warned_with_the_request_to_raise_it() -> None:
    client = boto3.client("lambda", region_name="ap-northeast-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        stub.add_response("get_account_settings", concurrency(10))
        stub.add_response("get_account_settings", concurrency(1000))
        (low,) = check_concurrency(client)
        assert check_concurrency(client) == []
    assert low.level is Level.WARNING and "only 10 Lambda functions at once" in low.message
    assert "--quota-code L-B99A9384 --desired-value 1000" in low.message


def test_a_custom_domains_certificate_must_be_issued_and_name_the_domain() -> None:
    domain = CustomDomain("uketsuke.example.jp", "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c")
    stage = dataclasses.replace(read_stage("example"), custom_domain=domain)
    client = boto3.client("acm", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")

    def certificate(status: str, *names: str) -> dict[str, Any]:
        return {"Certificate": {"Status": status, "DomainName": names[0], "SubjectAlternativeNames": list(names)}}

    with Stubber(client) as stub:
        stub.add_response("describe_certificate", certificate("PENDING_VALIDATION", "uketsuke.example.jp"))
        stub.add_response("describe_certificate", certificate("ISSUED", "other.example.jp"))
        stub.add_response("describe_certificate", certificate("ISSUED", "*.example.jp"))
        (pending,) = errors(check_certificate(client, stage))
        (elsewhere,) = errors(check_certificate(client, stage))
        assert check_certificate(client, stage) == []
    assert "PENDING_VALIDATION, not ISSUED" in pending and "does not cover uketsuke.example.jp" in elsewhere
    assert check_certificate(client, read_stage("example")) == []  # no custom domain: nothing asked


def test_python_must_be_one_lambda_and_uketsuke_both_run() -> None:
    for supported in ((3, 12), (3, 13), (3, 14)):
        assert check_python(supported, date(2026, 12, 3)) == []
    # Lambda's own dates for python3.11 (its runtimes table): Amazon Linux 2 ended 2026-06-30, the runtime is
    # deprecated 2027-06-30, creating on it is blocked 2027-07-31 and updating 2027-08-31.
    assert check_python((3, 11), date(2026, 6, 29)) == []
    (aging,) = check_python((3, 11), date(2026, 12, 3))  # deploys, warned of its operating system
    assert aging.level is Level.WARNING and "Amazon Linux 2" in aging.message and "2027-06-30" in aging.message
    (deprecated,) = check_python((3, 11), date(2027, 7, 1))
    assert deprecated.level is Level.WARNING and "deprecated its python3.11 runtime on 2027-06-30" in deprecated.message
    assert "2027-07-31" in deprecated.message and "2027-08-31" in deprecated.message
    (blocked,) = errors(check_python((3, 11), date(2027, 8, 31)))
    assert "no longer updates functions on python3.11" in blocked
    assert check_python((3, 13), date(2029, 6, 29)) == []
    for unsupported in ((3, 10), (3, 15), (3, 8)):
        (problem,) = errors(check_python(unsupported))
        assert "it supports Python 3.11, 3.12, 3.13, 3.14" in problem and "PYTHON=python3.13" in problem


def test_a_deploy_from_python_3_11_is_warned_that_the_builder_gets_no_new_readings() -> None:
    (warning,) = check_readings((3, 11))
    assert warning.level is Level.WARNING and "ふりがな" in warning.message and "3.12" in warning.message
    assert check_readings((3, 12)) == check_readings((3, 14)) == []


def test_every_resource_type_is_asked_of_cloudformation_in_the_region(
    cloudformation: tuple[Any, Stubber],
) -> None:
    cfn, stub = cloudformation
    types = ["AWS::Lambda::Function", "AWS::SES::ConfigurationSet", "AWS::WAFv2::WebACL"]
    stub.add_response("describe_type", {"TypeName": types[0]}, {"Type": "RESOURCE", "TypeName": types[0]})
    stub.add_client_error(
        "describe_type", "TypeNotFoundException", expected_params={"Type": "RESOURCE", "TypeName": types[1]}
    )
    stub.add_response("describe_type", {"TypeName": types[2]}, {"Type": "RESOURCE", "TypeName": types[2]})
    (problem,) = errors(check_resource_types(cfn, types, "ap-south-2"))
    assert "CloudFormation in ap-south-2 does not offer AWS::SES::ConfigurationSet" in problem
    stub.add_client_error("describe_type", "AccessDenied", expected_params={"Type": "RESOURCE", "TypeName": types[0]})
    (finding,) = check_resource_types(cfn, types, "ap-south-2")
    assert finding.level is Level.WARNING and "could not ask CloudFormation" in finding.message


@pytest.mark.slow
def test_the_types_asked_about_are_those_after_the_sam_transform(tmp_path: Path) -> None:
    artifact = build(read_stage("example"), tmp_path)
    types = resource_types(artifact.template(), "ap-northeast-1")
    assert not [kind for kind in types if kind.startswith("AWS::Serverless::")]
    for needed in (
        "AWS::Lambda::Function",
        "AWS::ApiGateway::Stage",
        "AWS::SES::ConfigurationSet",
        "AWS::WAFv2::WebACL",
    ):
        assert needed in types


def test_the_built_runtime_must_be_this_python() -> None:
    template = {"Resources": {"F": {"Type": "AWS::Serverless::Function", "Properties": {"Runtime": "python3.11"}}}}
    assert check_runtime(template, (3, 11)) == []
    (problem,) = errors(check_runtime(template, (3, 12)))
    assert "built for python3.11 but this Python is 3.12" in problem


class NoCredentials:
    """A session on a machine where nobody has configured AWS."""

    def get_credentials(self) -> None:
        return None


def test_missing_credentials_stop_before_anything_else_is_asked() -> None:
    findings, account_id = run_checks(NoCredentials(), read_stage("example"), ["noreply@example.jp"])
    assert account_id is None
    assert any("no AWS credentials were found: run `aws configure`" in message for message in errors(findings))


# --- the CloudFormation conversation ---------------------------------------------------------------


@pytest.fixture
def cloudformation() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "cloudformation", region_name="ap-northeast-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def deployer(client: Any, said: list[str], s3: Any = None) -> Deployer:
    return Deployer(client, s3, "ap-northeast-1", say=said.append, sleep=lambda _: None, now=lambda: NOW)


def no_stack(stub: Stubber) -> None:
    stub.add_client_error(
        "describe_stacks",
        "ValidationError",
        f"Stack with id {STACK} does not exist",
        expected_params={"StackName": STACK},
    )


def stack(stub: Stubber, status: str, outputs: list[dict[str, str]] | None = None) -> None:
    description = {"StackName": STACK, "StackStatus": status, "CreationTime": NOW, "Outputs": outputs or []}
    stub.add_response("describe_stacks", {"Stacks": [description]}, {"StackName": STACK})


def events(stub: Stubber, *happened: tuple[str, str, str]) -> None:
    stub.add_response(
        "describe_stack_events",
        {
            "StackEvents": [
                {
                    "StackId": STACK,
                    "EventId": f"{name}-{status}",
                    "StackName": STACK,
                    "LogicalResourceId": name,
                    "Timestamp": NOW + timedelta(seconds=i),
                    "ResourceStatus": status,
                    "ResourceStatusReason": reason,
                }
                for i, (name, status, reason) in enumerate(happened)
            ]
        },
        {"StackName": STACK},
    )


def change_set(stub: Stubber, kind: str, status: str, reason: str = "") -> None:
    stub.add_response(
        "create_change_set",
        {"Id": "cs-1"},
        {
            "StackName": STACK,
            "ChangeSetName": ANY,
            "ChangeSetType": kind,
            "TemplateURL": "https://bucket/template.json",
            "Capabilities": CAPABILITIES,
            "Tags": [{"Key": "uketsuke:stage", "Value": "example"}],
        },
    )
    stub.add_response(
        "describe_change_set",
        {"Status": status, "StatusReason": reason, "ExecutionStatus": "AVAILABLE"},
        {"StackName": STACK, "ChangeSetName": ANY},
    )


def test_first_deploy_creates_the_stack_and_returns_its_outputs(cloudformation: tuple[Any, Stubber]) -> None:
    client, stub = cloudformation
    said: list[str] = []
    no_stack(stub)
    change_set(stub, "CREATE", "CREATE_COMPLETE")
    stub.add_response("execute_change_set", {}, {"StackName": STACK, "ChangeSetName": ANY})
    stack(stub, "CREATE_IN_PROGRESS")
    events(stub, ("Table", "CREATE_IN_PROGRESS", ""))
    stack(stub, "CREATE_COMPLETE")
    events(stub, ("Table", "CREATE_IN_PROGRESS", ""), ("Table", "CREATE_COMPLETE", ""))
    stack(stub, "CREATE_COMPLETE", OUTPUTS)
    outputs = deployer(client, said).deploy(STACK, "https://bucket/template.json", {"uketsuke:stage": "example"})
    assert outputs["PublicUrl"].endswith("/api")
    assert said == [
        f"creating stack {STACK} in ap-northeast-1",
        "  Table: CREATE_IN_PROGRESS",
        "  Table: CREATE_COMPLETE",
    ]


def test_a_second_deploy_with_nothing_new_changes_nothing(cloudformation: tuple[Any, Stubber]) -> None:
    client, stub = cloudformation
    said: list[str] = []
    stack(stub, "UPDATE_COMPLETE")
    change_set(stub, "UPDATE", "FAILED", "The submitted information didn't contain changes.")
    stub.add_response("delete_change_set", {}, {"StackName": STACK, "ChangeSetName": ANY})
    stack(stub, "UPDATE_COMPLETE", OUTPUTS)
    outputs = deployer(client, said).deploy(STACK, "https://bucket/template.json", {"uketsuke:stage": "example"})
    assert outputs["TableName"] == "uketsuke-example-Table-XYZ"
    assert said[-1] == "nothing to change: the stack is already up to date"


def test_a_rolled_back_update_reports_what_failed(cloudformation: tuple[Any, Stubber]) -> None:
    client, stub = cloudformation
    stack(stub, "UPDATE_COMPLETE")
    change_set(stub, "UPDATE", "CREATE_COMPLETE")
    stub.add_response("execute_change_set", {}, {"StackName": STACK, "ChangeSetName": ANY})
    stack(stub, "UPDATE_ROLLBACK_COMPLETE")
    failed = ("MailConfigurationSet", "UPDATE_FAILED", "Resource limit exceeded")
    events(stub, failed)
    events(stub, failed)
    with pytest.raises(DeployError, match="MailConfigurationSet: Resource limit exceeded"):
        deployer(client, []).deploy(STACK, "https://bucket/template.json", {"uketsuke:stage": "example"})


def gone(stub: Stubber) -> None:
    """The stack was deleted: describe_stacks and describe_stack_events no longer know it."""
    no_stack(stub)
    stub.add_client_error("describe_stack_events", "ValidationError", f"Stack [{STACK}] does not exist")


def event(name: str, status: str, reason: str = "", second: int = 0) -> dict[str, Any]:
    return {
        "StackId": STACK,
        "EventId": f"{name}-{status}-{second}",
        "StackName": STACK,
        "LogicalResourceId": name,
        "Timestamp": NOW + timedelta(seconds=second),
        "ResourceStatus": status,
        "ResourceStatusReason": reason,
    }


def paged_events(stub: Stubber, pages: list[list[dict[str, Any]]]) -> None:
    """describe_stack_events answering page by page, newest first, as CloudFormation does."""
    for number, page in enumerate(pages):
        more = {"NextToken": f"page-{number + 2}"} if number + 1 < len(pages) else {}
        expected = {"StackName": STACK, **({"NextToken": f"page-{number + 1}"} if number else {})}
        stub.add_response("describe_stack_events", {"StackEvents": page, **more}, expected)


def create_succeeds(stub: Stubber) -> None:
    change_set(stub, "CREATE", "CREATE_COMPLETE")
    stub.add_response("execute_change_set", {}, {"StackName": STACK, "ChangeSetName": ANY})
    stack(stub, "CREATE_COMPLETE")
    events(stub, ("Table", "CREATE_COMPLETE", ""))
    stack(stub, "CREATE_COMPLETE", OUTPUTS)


def deploy_once(client: Any, said: list[str]) -> dict[str, str]:
    return deployer(client, said).deploy(STACK, "https://bucket/template.json", {"uketsuke:stage": "example"})


def test_a_failed_first_create_names_its_cause_from_any_page_and_the_next_deploy_starts_clean(
    cloudformation: tuple[Any, Stubber],
) -> None:
    client, stub = cloudformation
    # The cause (the configuration set's CREATE_FAILED) sits behind a page of 60 rollback deletions.
    cause = event("MailConfigurationSet", "CREATE_FAILED", "SES is not available in this region", second=1)
    cancelled = event("Table", "CREATE_FAILED", "Resource creation cancelled", second=2)
    deletions = [event(f"Resource{n}", "DELETE_COMPLETE", second=100 - n) for n in range(60)]
    no_stack(stub)
    change_set(stub, "CREATE", "CREATE_COMPLETE")
    stub.add_response("execute_change_set", {}, {"StackName": STACK, "ChangeSetName": ANY})
    stack(stub, "ROLLBACK_COMPLETE")
    paged_events(stub, [deletions, [cancelled, cause]])  # shown as they happen
    paged_events(stub, [deletions, [cancelled, cause]])  # read again for the explanation
    with pytest.raises(DeployError) as failure:
        deploy_once(client, [])
    message = str(failure.value)
    assert "MailConfigurationSet: SES is not available in this region" in message
    assert "Resource creation cancelled" not in message  # a consequence, not a cause
    assert "run make deploy STAGE=example again: it removes the failed stack itself" in message

    # The second run removes what the failed create left, says what the rollback kept, and creates.
    said: list[str] = []
    stack(stub, "ROLLBACK_COMPLETE")
    kept = [
        {
            "LogicalResourceId": "Table",
            "PhysicalResourceId": "uketsuke-example-Table-1A2B",
            "ResourceType": "AWS::DynamoDB::Table",
            "ResourceStatus": "DELETE_SKIPPED",
            "LastUpdatedTimestamp": NOW,
        },
        {
            "LogicalResourceId": "Function",
            "ResourceType": "AWS::Lambda::Function",
            "ResourceStatus": "DELETE_COMPLETE",
            "LastUpdatedTimestamp": NOW,
        },
    ]
    stub.add_response("list_stack_resources", {"StackResourceSummaries": kept}, {"StackName": STACK})
    stub.add_response("delete_stack", {}, {"StackName": STACK})
    gone(stub)
    create_succeeds(stub)
    assert deploy_once(client, said)["PublicUrl"].endswith("/api")
    assert (
        said[0] == f"{STACK} was left by a first create that failed (ROLLBACK_COMPLETE); removing it to create it again"
    )
    assert "kept from that attempt: AWS::DynamoDB::Table uketsuke-example-Table-1A2B" in said[1]
    assert said[2] == f"creating stack {STACK} in ap-northeast-1"


def test_a_refused_first_change_set_leaves_nothing_behind_and_a_leftover_is_removed(
    cloudformation: tuple[Any, Stubber],
) -> None:
    client, stub = cloudformation
    no_stack(stub)
    change_set(stub, "CREATE", "FAILED", "Template error: unresolved resource dependencies [Nope]")
    stub.add_response("delete_stack", {}, {"StackName": STACK})  # the empty REVIEW_IN_PROGRESS stack
    gone(stub)
    with pytest.raises(DeployError, match="unresolved resource dependencies"):
        deploy_once(client, [])

    # A REVIEW_IN_PROGRESS stack left by a deploy that was interrupted is removed the same way.
    stack(stub, "REVIEW_IN_PROGRESS")
    summaries = [{"ChangeSetName": "uketsuke-1", "Status": "FAILED", "ExecutionStatus": "UNAVAILABLE"}]
    stub.add_response("list_change_sets", {"Summaries": summaries}, {"StackName": STACK})
    stub.add_response("list_stack_resources", {"StackResourceSummaries": []}, {"StackName": STACK})
    stub.add_response("delete_stack", {}, {"StackName": STACK})
    gone(stub)
    create_succeeds(stub)
    assert deploy_once(client, [])["TableName"] == "uketsuke-example-Table-XYZ"


def test_a_stack_another_deploy_is_creating_right_now_is_left_alone(cloudformation: tuple[Any, Stubber]) -> None:
    client, stub = cloudformation
    stack(stub, "REVIEW_IN_PROGRESS")
    summaries = [{"ChangeSetName": "uketsuke-2", "Status": "CREATE_IN_PROGRESS", "ExecutionStatus": "UNAVAILABLE"}]
    stub.add_response("list_change_sets", {"Summaries": summaries}, {"StackName": STACK})
    with pytest.raises(DeployError, match="being created from another deploy right now"):
        deploy_once(client, [])


@pytest.mark.parametrize(
    ("status", "advice"),
    [
        ("UPDATE_ROLLBACK_FAILED", f"aws cloudformation continue-update-rollback --stack-name {STACK}"),
        ("ROLLBACK_FAILED", "run make destroy STAGE=example"),
        ("DELETE_FAILED", "remove the resource named above by hand"),
    ],
)
def test_a_stack_only_a_person_can_move_on_says_how_and_the_deploy_after_it_goes_on(
    cloudformation: tuple[Any, Stubber], status: str, advice: str
) -> None:
    client, stub = cloudformation
    stack(stub, status)
    paged_events(stub, [[event("LinkKey", "DELETE_FAILED", "Access denied")]])
    with pytest.raises(DeployError) as failure:
        deploy_once(client, [])
    assert f"{STACK} ended in {status}" in str(failure.value) and advice in str(failure.value)
    assert "LinkKey: Access denied" in str(failure.value)
    # Once the organizer has done that, the stack is back to a state the deploy updates.
    stack(stub, "UPDATE_ROLLBACK_COMPLETE")
    change_set(stub, "UPDATE", "FAILED", "The submitted information didn't contain changes.")
    stub.add_response("delete_change_set", {}, {"StackName": STACK, "ChangeSetName": ANY})
    stack(stub, "UPDATE_ROLLBACK_COMPLETE", OUTPUTS)
    assert deploy_once(client, [])["TableName"] == "uketsuke-example-Table-XYZ"


# --- artifacts on S3 (moto) and teardown (DynamoDB Local) -------------------------------------------


@pytest.fixture
def artifact(tmp_path: Path) -> Artifact:
    code = tmp_path / "deployment.zip"
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("app.py", "app = None\n")
    template = tmp_path / "sam.json"
    function = {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "./deployment.zip"}}
    template.write_text(json.dumps({"Resources": {"APIHandler": function}}), encoding="utf-8")
    return Artifact(template, code)


def test_artifacts_go_to_one_private_bucket_under_content_addressed_keys(
    local_engines: Engines, artifact: Artifact
) -> None:
    s3 = engines.local_client("s3", local_engines.moto)
    uploader = deployer(None, said := [], s3)
    # An account of its own: moto lives for the whole session, and a deploy test that ran first (the order
    # is random) has already made ACCOUNT's bucket, which would make "created once" untestable here.
    account = "210987654321"
    bucket = uploader.ensure_bucket(account)
    assert uploader.ensure_bucket(account) == bucket and said == [f"creating the artifacts bucket {bucket}"]
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]["BlockPublicPolicy"]
    url = uploader.upload(artifact, bucket, "example")
    assert uploader.upload(artifact, bucket, "example") == url  # same content, same keys
    key = url.split(".amazonaws.com/", 1)[1]
    uploaded = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    code = uploaded["Resources"]["APIHandler"]["Properties"]["CodeUri"]
    assert code["Bucket"] == bucket and code["Key"].startswith("example/code-")
    body = s3.get_object(Bucket=bucket, Key=code["Key"])["Body"].read()
    assert zipfile.ZipFile(io.BytesIO(body)).namelist() == ["app.py"]


def test_point_at_code_leaves_the_built_template_alone(artifact: Artifact) -> None:
    template = artifact.template()
    point_at_code(template, "b", "k")
    assert template["Resources"]["APIHandler"]["Properties"]["CodeUri"] == "./deployment.zip"


@pytest.mark.parametrize("delete_data", [False, True])
def test_destroy_keeps_the_table_unless_told_otherwise(
    local_engines: Engines, cloudformation: tuple[Any, Stubber], delete_data: bool
) -> None:
    client, stub = cloudformation
    dynamodb = local_engines.client()
    table = f"uketsuke-destroy-{int(delete_data)}"
    engines.create_table(dynamodb, {**table_definition(table), "DeletionProtectionEnabled": True})
    outputs = [{"OutputKey": "TableName", "OutputValue": table}]
    stack(stub, "CREATE_COMPLETE", outputs)
    stack(stub, "CREATE_COMPLETE", outputs)
    stub.add_response("delete_stack", {}, {"StackName": STACK})
    stack(stub, "DELETE_IN_PROGRESS")
    events(stub, ("AlarmTopic", "DELETE_COMPLETE", ""))
    no_stack(stub)
    stub.add_client_error("describe_stack_events", "ValidationError", f"Stack [{STACK}] does not exist")
    said: list[str] = []
    try:
        assert deployer(client, said).destroy(STACK, delete_data, dynamodb) == table
        remaining = dynamodb.list_tables()["TableNames"]
        assert (table in remaining) is not delete_data
        assert ("kept the table" in said[-1]) is not delete_data
    finally:
        if table in dynamodb.list_tables()["TableNames"]:
            dynamodb.update_table(TableName=table, DeletionProtectionEnabled=False)
            dynamodb.delete_table(TableName=table)


def test_destroy_without_a_terminal_asks_for_yes(capsys: pytest.CaptureFixture[str]) -> None:
    assert deploy_main(["destroy", "--stage", "example"]) == 1
    assert "add --yes" in capsys.readouterr().err


def test_an_unknown_stage_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert deploy_main(["check", "--stage", "nowhere"]) == 1
    assert "deploy/stages/nowhere.toml does not exist" in capsys.readouterr().err


# --- the whole command -------------------------------------------------------------------------------


class LocalSession:
    """A boto3 session whose clients are the local engines, plus stubbed CloudFormation and SES account."""

    def __init__(self, clients: dict[str, Any]) -> None:
        self.clients = clients

    def get_credentials(self) -> object:
        return object()

    def get_available_regions(self, service: str) -> list[str]:
        return list(boto3.session.Session().get_available_regions(service))

    def client(self, name: str, region_name: str | None = None, **_: Any) -> Any:
        return self.clients[name]


def test_the_example_stage_publishes_no_event_until_the_organizer_names_one(tmp_path: Path) -> None:
    assert read_stage("example").events == ""
    assert event_files(read_stage("example")) == []  # the sample seminar stays on make run
    named = tmp_path / "mine.toml"
    named.write_text(STAGE_WITH_EVENTS, encoding="utf-8")
    assert [path.name for path in event_files(read_stage("mine", named))] == ["cdo-seminar.toml"]
    with pytest.raises(StageError, match="events must be a file pattern"):
        parse_stage("mine", {**tomllib.loads(STAGE_WITH_EVENTS), "events": ["events/*.toml"]})


STAGE_WITH_EVENTS = (Path(__file__).parents[1] / "deploy" / "stages" / "example.toml").read_text(
    encoding="utf-8"
) + '\nevents = "events/cdo-seminar.toml"\n'


@pytest.mark.slow
def test_make_deploy_checks_builds_uploads_deploys_loads_events_and_ends_with_the_url(
    local_engines: Engines,
    cloudformation: tuple[Any, Stubber],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    (tmp_path / "example.toml").write_text(STAGE_WITH_EVENTS, encoding="utf-8")
    monkeypatch.setattr("deploy.stage.STAGES_DIR", tmp_path)  # the example stage, naming the sample event
    cfn, stub = cloudformation
    built = build(read_stage("example"), tmp_path / "build")
    for kind in resource_types(built.template(), "ap-northeast-1"):  # every type is offered in the region
        stub.add_response("describe_type", {"TypeName": kind}, {"Type": "RESOURCE", "TypeName": kind})
    dynamodb = local_engines.client()
    table = "uketsuke-example-Table-XYZ"
    engines.create_table(dynamodb, table_definition(table))
    ses = boto3.client("sesv2", region_name="ap-northeast-1", aws_access_key_id="x", aws_secret_access_key="x")
    lambda_ = boto3.client("lambda", region_name="ap-northeast-1", aws_access_key_id="x", aws_secret_access_key="x")
    session = LocalSession(
        {
            "sts": engines.local_client("sts", local_engines.moto),
            "sesv2": ses,
            "lambda": lambda_,
            "s3": engines.local_client("s3", local_engines.moto),
            "cloudformation": cfn,
            "dynamodb": dynamodb,
        }
    )
    stub.add_client_error(
        "describe_stacks",
        "ValidationError",
        f"Stack with id {STACK} does not exist",
        expected_params={"StackName": STACK},
    )
    stub.add_response("create_change_set", {"Id": "cs-1"})
    stub.add_response("describe_change_set", {"Status": "CREATE_COMPLETE"})
    stub.add_response("execute_change_set", {})
    stack(stub, "CREATE_COMPLETE")
    events(stub, ("uketsuke-example", "CREATE_COMPLETE", ""))
    stack(stub, "CREATE_COMPLETE", OUTPUTS)
    try:
        with Stubber(ses) as ses_stub, Stubber(lambda_) as lambda_stub:
            ses_stub.add_response("get_email_identity", identity(True), {"EmailIdentity": "example.jp"})
            ses_stub.add_response("get_account", account())
            lambda_stub.add_response("get_account_settings", concurrency(1000))
            code = deploy_main(["deploy", "--stage", "example"], session_factory=lambda **_: session)
        out = capsys.readouterr().out
        assert code == 0, out
        assert out.splitlines()[-1] == OUTPUTS[0]["OutputValue"]  # the last line is the public URL
        assert "cdo-seminar: 自治体CDO勉強会" in out
        assert dynamodb.get_item(TableName=table, Key={"pk": {"S": "EVENT#cdo-seminar"}, "sk": {"S": "EVENT"}})["Item"]
    finally:
        dynamodb.delete_table(TableName=table)


@dataclasses.dataclass(frozen=True)
class DeadLetter:
    """A stage whose one registration's mail never went out, and the stream's dead letter about it."""

    sqs: Any
    queue: str
    outputs: list[dict[str, str]]
    clients: dict[str, Any]


@pytest.fixture
def dead_letter(world: World, published: Event) -> DeadLetter:
    moto = world.engines.moto
    engines.verify_sender(moto, "noreply@example.jp")  # the example stage's sender
    register(world.table, published, attendee(), "SUB0000001", datetime.now(UTC))  # its mail never went out
    sqs = engines.local_client("sqs", moto)
    queue = sqs.create_queue(QueueName="uketsuke-example-MailDeadLetters")["QueueUrl"]
    failure = {
        "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": 11},
        "DDBStreamBatchInfo": {"shardId": "shardId-1", "batchSize": 1, "streamArn": world.stream_arn},
    }
    sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(failure))
    secrets = engines.local_client("secretsmanager", moto)
    key = secrets.create_secret(Name="uketsuke-link-key", SecretString="k" * 64)["ARN"]
    outputs = [
        {"OutputKey": "TableName", "OutputValue": world.table.name},
        {"OutputKey": "PublicUrl", "OutputValue": "https://abc123.execute-api.ap-northeast-1.amazonaws.com/api"},
        {"OutputKey": "MailDeadLettersUrl", "OutputValue": queue},
        {"OutputKey": "LinkKeySecretArn", "OutputValue": key},
    ]
    clients = {
        "s3": engines.local_client("s3", moto),
        "sqs": sqs,
        "dynamodb": world.table.client,
        "sesv2": engines.local_client("sesv2", moto),
        "secretsmanager": secrets,
    }
    return DeadLetter(sqs, queue, outputs, clients)


def replay(cloudformation: tuple[Any, Stubber], dead_letter: DeadLetter, **clients: Any) -> int:
    """`make replay-mail STAGE=example` against the local engines (and these clients instead, if given)."""
    cfn, stub = cloudformation
    stack(stub, "UPDATE_COMPLETE", dead_letter.outputs)
    session = LocalSession({"cloudformation": cfn, **dead_letter.clients, **clients})
    return deploy_main(["replay-mail", "--stage", "example"], session_factory=lambda **_: session)


def test_replay_mail_sends_what_is_unsent_and_clears_the_dead_letters(
    cloudformation: tuple[Any, Stubber], dead_letter: DeadLetter, capsys: pytest.CaptureFixture[str]
) -> None:
    for expected in (
        "1 dead letter(s); 0 held mail(s) released; 1 mail(s) sent now",
        "0 dead letter(s); 0 held mail(s) released; 0 mail(s) sent now",
    ):
        assert replay(cloudformation, dead_letter) == 0
        assert capsys.readouterr().out.strip() == expected
    assert [m["To"] for m in mailbox()] == ["taro@example.jp"]
    link = mailbox()[0].get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "https://abc123.execute-api.ap-northeast-1.amazonaws.com/api/events/cdo-seminar/registrations/" in link
    assert dead_letter.sqs.receive_message(QueueUrl=dead_letter.queue).get("Messages", []) == []


def test_replay_mail_while_sending_still_fails_keeps_the_mail_and_the_dead_letters(
    world: World,
    cloudformation: tuple[Any, Stubber],
    dead_letter: DeadLetter,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # SES unreachable: the mail is given back with why, nothing is lost, the alarm's queue stays as it was.
    unreachable = engines.local_client(
        "sesv2", f"http://127.0.0.1:{engines.free_port()}", BotoConfig(retries={"max_attempts": 1}, connect_timeout=1)
    )
    assert replay(cloudformation, dead_letter, sesv2=unreachable) == 1
    out, err = capsys.readouterr()
    assert out.strip() == "1 dead letter(s); 0 held mail(s) released; 0 mail(s) sent now"
    assert "some mail still fails" in err and mailbox() == []
    [mail] = world.table.query("pk = :pk AND begins_with(sk, :mail)", {":pk": "EVENT#cdo-seminar", ":mail": "MAIL#"})
    assert mail["status"] == "pending" and mail["last_error"].startswith("TransientSendError: EndpointConnectionError")
    # Once SES answers, the next replay (even at once) sends the mail and accounts for the same letter.
    assert replay(cloudformation, dead_letter) == 0
    assert capsys.readouterr().out.strip() == "1 dead letter(s); 0 held mail(s) released; 1 mail(s) sent now"
    assert [m["To"] for m in mailbox()] == ["taro@example.jp"]
    assert dead_letter.sqs.receive_message(QueueUrl=dead_letter.queue).get("Messages", []) == []


def test_replay_jobs_runs_every_job_once_processes_failed_ses_notices_and_clears_the_letters(
    world: World,
    cloudformation: tuple[Any, Stubber],
    dead_letter: DeadLetter,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Issue 26, finding 13: the job dead letters had an alarm but no way back."""
    from chalice.app import ScheduledEventConfig
    from chalice.test import Client as ChaliceClient

    import app as app_module
    from chalicelib.domain.clock import iso
    from chalicelib.jobs import schedules
    from chalicelib.store import schema
    from tests.test_feedback import ses_event

    sources = {source.name for source in app_module.app.event_sources if isinstance(source, ScheduledEventConfig)}
    assert set(schedules.SCHEDULED) == sources  # every scheduled job is replayed
    sqs = dead_letter.sqs
    queue = sqs.create_queue(QueueName="uketsuke-example-JobDeadLetters")["QueueUrl"]
    outputs = [*dead_letter.outputs, {"OutputKey": "JobDeadLettersUrl", "OutputValue": queue}]
    [mail] = world.table.query("pk = :pk AND begins_with(sk, :m)", {":pk": "EVENT#cdo-seminar", ":m": "MAIL#"})
    bounce = ses_event("Bounce", "cdo-seminar", mail["mail_id"], "taro@example.jp")
    stalled = iso(datetime.now(UTC) - timedelta(minutes=10))  # the stream never sent it: the redrive will
    world.table.update(
        schema.mail_key("cdo-seminar", mail["mail_id"]), "SET #due = :d", {":d": stalled}, {"#due": "due"}
    )
    with ChaliceClient(app_module.app) as chalice:
        notice = chalice.events.generate_sns_event(message=bounce)
    schedule = {"detail-type": "Scheduled Event", "source": "aws.events", "resources": ["arn:...:rule/x"]}
    for body in (notice, schedule):
        sqs.send_message(QueueUrl=queue, MessageBody=json.dumps(body))

    def replay_jobs(**clients: Any) -> int:
        cfn, stub = cloudformation
        stack(stub, "UPDATE_COMPLETE", outputs)
        session = LocalSession({"cloudformation": cfn, **dead_letter.clients, **clients})
        return deploy_main(["replay-jobs", "--stage", "example"], session_factory=lambda **_: session)

    unreachable = engines.local_client(
        "sesv2", f"http://127.0.0.1:{engines.free_port()}", BotoConfig(retries={"max_attempts": 1}, connect_timeout=1)
    )
    assert replay_jobs(sesv2=unreachable) == 1  # redrive_mail cannot reach SES: every letter is kept
    assert "a job still fails" in capsys.readouterr().err
    assert replay_jobs() == 0
    out = capsys.readouterr().out.strip()
    assert out.startswith("2 dead letter(s); ran send_reminders") and "redrive_mail {'sent': 1}" in out
    assert out.endswith("1 SES notice(s)")
    assert world.table.get(schema.suppression_key("taro@example.jp")) is not None  # the bounce was processed
    assert sqs.receive_message(QueueUrl=queue).get("Messages", []) == []
