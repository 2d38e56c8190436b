"""The deployed stack, proved offline: the merged template is lint-clean and holds what the service relies on."""

from __future__ import annotations

import copy
import dataclasses
import ipaddress
import json
import re
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from chalice.package import TemplateDeepMerger

from chalicelib.config import settings as env
from chalicelib.domain.event import Event
from chalicelib.store.schema import TTL_ATTRIBUTE
from deploy.logical_ids import ALARM_TOPIC, JOB_DEAD_LETTERS, MAIL_DEAD_LETTERS, TABLE_NAME, TABLE_STREAM
from deploy.package import Artifact, api_stage, app_functions, send_identities, senders
from deploy.sam import plain_template
from deploy.stage import CustomDomain, Stage, StageError, parse_stage
from deploy.template import FUNCTION_GRANTS, TemplateError, merge_template
from local.instruments import CallLog
from tests.conftest import FORM, World, signed, valid_form
from tests.test_organizer import ORGANIZER, sign_in

CFN_LINT = Path(sys.executable).with_name("cfn-lint")


@pytest.fixture(scope="module")
def stage(example_stage: Stage) -> Stage:
    return example_stage


@pytest.fixture(scope="module")
def artifact(example_artifact: Artifact) -> Artifact:
    return example_artifact


@pytest.fixture(scope="module")
def template(artifact: Artifact) -> dict[str, Any]:
    return artifact.template()


def resources_of(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {name: r for name, r in template["Resources"].items() if r.get("Type") == kind}


def statements(role: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for policy in role["Properties"]["Policies"]:
        yield from policy["PolicyDocument"]["Statement"]


def actions_of(role: dict[str, Any]) -> set[str]:
    return {action for statement in statements(role) for action in statement["Action"]}


def lint(template: dict[str, Any], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "template.json"
    path.write_text(json.dumps(template), encoding="utf-8")
    return subprocess.run([str(CFN_LINT), str(path)], capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_merged_template_is_clean_under_cfn_lint(template: dict[str, Any], tmp_path: Path) -> None:
    result = lint(template, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture(scope="module")
def plain(stage: Stage, template: dict[str, Any]) -> dict[str, Any]:
    """What CloudFormation deploys: the template after the SAM transform (AWS's own translator, offline)."""
    return plain_template(template, stage.region)


@pytest.mark.slow
def test_after_the_sam_transform_the_plain_template_is_clean_too(plain: dict[str, Any], tmp_path: Path) -> None:
    # The plain CloudFormation is checked in full by cfn-lint (references, DependsOn, properties).
    assert "AWS::Serverless::Function" not in json.dumps(plain)
    result = lint(plain, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    association = plain["Resources"]["ClientThrottleAssociation"]
    assert plain["Resources"][association["DependsOn"]]["Type"] == "AWS::ApiGateway::Stage"


STAGE_TEXT = 'region = "ap-northeast-1"\nsender = "noreply@example.jp"\norganizer_email = "office@example.jp"'


def counts(statement: dict[str, Any], method: str, path: str, client: str, sets: dict[str, Any]) -> bool:
    """Whether a WAF statement of the kinds the template writes matches a request (AWS WAF's documented rules)."""
    if "AndStatement" in statement:
        return all(counts(s, method, path, client, sets) for s in statement["AndStatement"]["Statements"])
    if "NotStatement" in statement:
        return not counts(statement["NotStatement"]["Statement"], method, path, client, sets)
    if "IPSetReferenceStatement" in statement:
        [name, _] = statement["IPSetReferenceStatement"]["Arn"]["Fn::GetAtt"]
        blocks = sets[name]["Properties"]["Addresses"]
        return any(ipaddress.ip_address(client) in ipaddress.ip_network(b) for b in blocks)
    match = statement["ByteMatchStatement"]
    seen = method if "Method" in match["FieldToMatch"] else path
    how = {"EXACTLY": seen.__eq__, "CONTAINS": seen.__contains__, "STARTS_WITH": seen.startswith}
    return bool(how[match["PositionalConstraint"]](match["SearchString"]))


def counted_by(fragment: dict[str, Any], requests: list[tuple[str, str, str]]) -> dict[str, int]:
    """How many of `requests` (method, path, client) each rate-based rule of the web ACL counts."""
    (acl,) = resources_of(fragment, "AWS::WAFv2::WebACL").values()
    sets = resources_of(fragment, "AWS::WAFv2::IPSet")
    tally = {}
    for rule in acl["Properties"]["Rules"]:
        rate = rule["Statement"]["RateBasedStatement"]
        assert rate["AggregateKeyType"] == "IP"
        scope = rate.get("ScopeDownStatement")
        tally[rule["Name"]] = sum(1 for r in requests if scope is None or counts(scope, *r, sets))
    return tally


def announcement(client: str, people: int) -> list[tuple[str, str, str]]:
    """What `people` registering at once from one address send: the page, the form, their own page."""
    per_person = [("GET", "/api/events/cdo-seminar", client), ("POST", "/api/events/cdo-seminar", client)]
    per_person.append(("GET", "/api/events/cdo-seminar/registrations/R1?token=x", client))
    return per_person * people + [("GET", "/api/organizer/sign-in", client), ("POST", "/api/organizer/sign-in", client)]


def test_a_prefecture_behind_one_address_is_not_locked_out_but_a_flood_of_posts_is_limited(stage: Stage) -> None:
    """Issue 26, finding 12: the limit counted every request at 300, so 100 people from one address met it."""
    fragment = merge_template(stage, app_functions(), [stage.sender], "api")
    limits = {
        rule["Name"]: rule["Statement"]["RateBasedStatement"]["Limit"]
        for rule in resources_of(fragment, "AWS::WAFv2::WebACL")["ClientThrottle"]["Properties"]["Rules"]
    }
    assert limits == {"form-posts": 1000, "sign-in": 100}
    normal = counted_by(fragment, announcement("203.0.113.7", 300))  # 300 registrations in 5 minutes
    assert normal == {"form-posts": 300, "sign-in": 1} and all(normal[n] < limits[n] for n in limits)
    flood = counted_by(fragment, [("POST", "/api/events/cdo-seminar", "198.51.100.9")] * 2000)
    assert flood["form-posts"] > limits["form-posts"]
    (acl,) = resources_of(fragment, "AWS::WAFv2::WebACL").values()
    assert all(r["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 429 for r in acl["Properties"]["Rules"])
    page = acl["Properties"]["CustomResponseBodies"]["throttled"]["Content"]
    assert "数分待って" in page


def test_the_stage_lists_addresses_never_limited(stage: Stage) -> None:
    exempt = dataclasses.replace(stage, rate_limit_exempt=("203.0.113.0/24", "2001:db8::/32"))
    fragment = merge_template(exempt, app_functions(), [stage.sender], "api")
    assert len(resources_of(fragment, "AWS::WAFv2::IPSet")) == 2
    posts = [("POST", "/api/events/cdo-seminar", "203.0.113.50")] * 5000
    assert counted_by(fragment, posts) == {"form-posts": 0, "sign-in": 0}
    assert counted_by(fragment, [("POST", "/api/events/x", "2001:db8::1"), ("POST", "/api/events/x", "192.0.2.1")]) == {
        "form-posts": 1,
        "sign-in": 0,
    }


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("rate_limit_per_ip = 300", "counted every request"),
        ("rate_limit_posts = 5", "from 10 up"),
        ('rate_limit_exempt = ["city hall"]', "not an IP address"),
    ],
)
def test_rate_limit_settings_are_checked(text: str, problem: str) -> None:
    with pytest.raises(StageError, match=problem):
        parse_stage("p", tomllib.loads(f"{STAGE_TEXT}\n{text}"))


def test_throttling_can_be_turned_off(stage: Stage) -> None:
    off = dataclasses.replace(stage, rate_limit_posts=0, rate_limit_sign_in=0)
    fragment = merge_template(off, app_functions(), [stage.sender], "api")
    assert not any(r.get("Type", "").startswith("AWS::WAFv2") for r in fragment["Resources"].values())
    assert parse_stage("p", tomllib.loads(f"{STAGE_TEXT}\nrate_limit_per_ip = 0")).rate_limit_posts == 0  # as before


@pytest.mark.slow
def test_cfn_lint_would_catch_a_broken_template(template: dict[str, Any], tmp_path: Path) -> None:
    broken = copy.deepcopy(template)
    broken["Resources"]["Table"]["Properties"]["BillingMode"] = "FREE"
    assert lint(broken, tmp_path).returncode != 0


@pytest.mark.slow
def test_custom_domain_variant_is_also_lint_clean(stage: Stage, artifact: Artifact, tmp_path: Path) -> None:
    # Chalice's own merger over the same generated template, with the other fragment.
    domain = CustomDomain("uketsuke.example.jp", "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c", "Z0123ABC")
    # Every option at once: the domain, X-Ray, addresses exempt from throttling (IPv4 and IPv6).
    options = dict(custom_domain=domain, tracing=True, rate_limit_exempt=("203.0.113.0/24", "2001:db8::/32"))
    fragment = merge_template(dataclasses.replace(stage, **options), app_functions(), senders(stage), api_stage())
    merged = TemplateDeepMerger().merge(fragment, artifact.template())
    assert merged["Resources"]["RestAPI"]["Properties"]["Domain"]["DomainName"] == "uketsuke.example.jp"
    assert merged["Outputs"]["PublicUrl"]["Value"] == "https://uketsuke.example.jp"
    mail_env = merged["Resources"]["DeliverMail"]["Properties"]["Environment"]["Variables"]
    assert mail_env[env.PUBLIC_BASE_URL] == "https://uketsuke.example.jp"
    result = lint(merged, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_table_is_on_demand_recoverable_expiring_and_kept(template: dict[str, Any]) -> None:
    (table,) = resources_of(template, "AWS::DynamoDB::Table").values()
    props = table["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["TimeToLiveSpecification"] == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}
    assert props["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}
    assert table["DeletionPolicy"] == "Retain" and table["UpdateReplacePolicy"] == "Retain"


@pytest.mark.slow
def test_every_function_has_its_own_scoped_role_and_log_group(template: dict[str, Any]) -> None:
    functions = resources_of(template, "AWS::Serverless::Function")
    roles = resources_of(template, "AWS::IAM::Role")
    assert set(functions) == {f.logical_id for f in app_functions()}
    assert "replaced-by-deploy-template" not in json.dumps(template)  # Chalice's role ARN never reaches AWS
    for name, function in functions.items():
        role = function["Properties"]["Role"]["Fn::GetAtt"][0]
        assert role in roles, name
        log_group = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        assert template["Resources"][log_group]["Properties"]["RetentionInDays"] == 30


@pytest.mark.slow
def test_no_policy_has_a_wildcard_action_or_resource(template: dict[str, Any]) -> None:
    roles = resources_of(template, "AWS::IAM::Role")
    assert roles
    for name, role in roles.items():
        for statement in statements(role):
            assert statement["Effect"] == "Allow"
            assert all("*" not in action for action in statement["Action"]), (name, statement["Action"])
            # Every resource is the stack's own (a reference or a Sub over one), never a literal pattern.
            resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
            for resource in resources:
                assert isinstance(resource, dict), (name, resource)
                assert "*" not in json.dumps(resource), (name, resource)


@pytest.mark.slow
def test_each_function_can_do_only_its_own_work(template: dict[str, Any]) -> None:
    roles = resources_of(template, "AWS::IAM::Role")
    api = actions_of(roles["APIHandlerRole"])
    assert "dynamodb:ConditionCheckItem" in api and "dynamodb:PutItem" in api
    assert not any(action.startswith(("ses:Send", "sqs:")) for action in api), "the site never sends mail itself"
    # It asks SES whether an event's own sender is verified when the event is saved, and knows the identities.
    check = next(s for s in statements(roles["APIHandlerRole"]) if s["Sid"] == "CheckSenders")
    assert check["Action"] == ["ses:GetEmailIdentity"] and "identity/example.jp" in json.dumps(check["Resource"])
    site = template["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert set(site["UKETSUKE_SEND_IDENTITIES"].split(",")) >= {"noreply@example.jp", "example.jp"}
    assert "dynamodb:Scan" not in api and not any(a.endswith(("Table", "Backup")) for a in api)
    assert "dynamodb:GetRecords" in actions_of(roles["DeliverMailRole"])
    readers = [name for name, role in roles.items() if "dynamodb:GetRecords" in actions_of(role)]
    assert readers == ["DeliverMailRole"]
    senders_ = sorted(name for name, role in roles.items() if "ses:SendEmail" in actions_of(role))
    assert senders_ == ["DeliverMailRole", "RedriveMailRole"]
    send = next(s for s in statements(roles["DeliverMailRole"]) if s["Sid"] == "SendMail")
    arns = json.dumps(send["Resource"])
    assert "identity/noreply@example.jp" in arns and "identity/example.jp" in arns and "configuration-set/" in arns


def send_arns(stage: Stage) -> str:
    fragment = merge_template(stage, app_functions(), send_identities(stage), api_stage())
    role = fragment["Resources"]["DeliverMailRole"]
    return json.dumps(next(s for s in statements(role) if s["Sid"] == "SendMail")["Resource"])


def test_a_trial_stage_in_the_sandbox_may_send_to_its_verified_recipients(stage: Stage) -> None:
    # In the sandbox SES authorizes a send against each recipient's identity too, so the role names them.
    trial = dataclasses.replace(stage, allow_ses_sandbox=True, sandbox_recipients=("tester@gmail.example",))
    assert "identity/tester@gmail.example" in send_arns(trial) and "identity/gmail.example" in send_arns(trial)
    assert "gmail.example" not in send_arns(stage)
    assert "identity/office@example.jp" in send_arns(stage)  # the organizer's sign-in links


@pytest.mark.slow
def test_failed_work_lands_in_dead_letter_queues_that_raise_alarms(template: dict[str, Any]) -> None:
    functions = resources_of(template, "AWS::Serverless::Function")
    stream = functions["DeliverMail"]["Properties"]["Events"]["DeliverMailDynamodbEventSource"]["Properties"]
    assert stream["Stream"] == TABLE_STREAM  # app.py leaves it empty for this: its own table's, or one it kept
    assert stream["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": [MAIL_DEAD_LETTERS, "Arn"]}
    assert stream["BisectBatchOnFunctionError"] is True and stream["MaximumRetryAttempts"] > 0
    assert "MAIL#" in stream["FilterCriteria"]["Filters"][0]["Pattern"]
    for name in ("SendReminders", "CloseRegistration", "DrawLotteries", "RedriveMail"):
        dead_letters = functions[name]["Properties"]["DeadLetterQueue"]
        assert dead_letters == {"Type": "SQS", "TargetArn": {"Fn::GetAtt": [JOB_DEAD_LETTERS, "Arn"]}}
    alarms = resources_of(template, "AWS::CloudWatch::Alarm")
    watched = {json.dumps(a["Properties"].get("Dimensions")) for a in alarms.values()}
    for queue in (MAIL_DEAD_LETTERS, JOB_DEAD_LETTERS):
        assert json.dumps([{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}]) in watched
    for name in functions:
        metrics = {
            a["Properties"]["MetricName"]
            for a in alarms.values()
            if a["Properties"].get("Dimensions") == [{"Name": "FunctionName", "Value": {"Ref": name}}]
        }
        assert metrics == {"Errors", "Throttles"}, name
    assert all(a["Properties"]["AlarmActions"] == [{"Ref": ALARM_TOPIC}] for a in alarms.values())
    (subscription,) = resources_of(template, "AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Endpoint"] == "office@example.jp"


@pytest.mark.slow
def test_mail_uses_a_configuration_set_that_reports_bounces_and_complaints(template: dict[str, Any]) -> None:
    (destination,) = resources_of(template, "AWS::SES::ConfigurationSetEventDestination").values()
    events = destination["Properties"]["EventDestination"]
    assert {"bounce", "complaint"} <= set(events["MatchingEventTypes"])
    topic = events["SnsDestination"]["TopicARN"]["Ref"]
    assert template["Resources"][topic]["Type"] == "AWS::SNS::Topic"
    for name, function in resources_of(template, "AWS::Serverless::Function").items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables[env.SES_CONFIGURATION_SET] == {"Ref": "MailConfigurationSet"}, name
        assert variables[env.TABLE_NAME] == TABLE_NAME, name
        sends_mail = name in ("DeliverMail", "RedriveMail")
        assert (env.PUBLIC_BASE_URL in variables) is sends_mail, name


@pytest.mark.slow
def test_the_link_key_is_generated_in_the_account_and_read_only_where_needed(template: dict[str, Any]) -> None:
    (name,) = resources_of(template, "AWS::SecretsManager::Secret")
    secret = template["Resources"][name]
    assert "GenerateSecretString" in secret["Properties"] and "SecretString" not in secret["Properties"]
    assert secret["DeletionPolicy"] == "Retain"  # a new key would break every link already mailed
    roles = resources_of(template, "AWS::IAM::Role")
    readers = sorted(r for r, role in roles.items() if "secretsmanager:GetSecretValue" in actions_of(role))
    assert readers == ["APIHandlerRole", "DeliverMailRole", "RedriveMailRole"]
    for function in ("APIHandler", "DeliverMail", "RedriveMail"):
        variables = template["Resources"][function]["Properties"]["Environment"]["Variables"]
        assert variables[env.LINK_KEY_SECRET] == {"Ref": name}


@pytest.mark.slow
def test_zip_is_small_and_leaves_boto3_to_the_runtime(artifact: Artifact) -> None:
    import zipfile

    assert artifact.zip_path.stat().st_size <= 5 * 1024 * 1024
    with zipfile.ZipFile(artifact.zip_path) as archive:
        names = archive.namelist()
    assert "app.py" in names and "chalicelib/templates/mail/confirmation.html" in names
    assert not any(name.startswith(("boto3/", "botocore/", "deploy/", "tests/", "local/")) for name in names)


def test_a_function_without_declared_permissions_stops_the_build(stage: Stage) -> None:
    functions = [*app_functions(), dataclasses.replace(app_functions()[0], name="export_everything")]
    with pytest.raises(TemplateError, match="export_everything"):
        merge_template(stage, functions, [stage.sender], "api")


def test_every_app_function_has_declared_permissions() -> None:
    assert {f.name for f in app_functions()} == set(FUNCTION_GRANTS)


def role_actions(template: dict[str, Any], function: str) -> set[str]:
    return actions_of(template["Resources"][f"{function}Role"])


@pytest.mark.slow
def test_each_role_allows_every_table_action_its_function_really_makes(
    template: dict[str, Any], world: World, client: Any, sample_event: Event
) -> None:
    # Run each function's code on DynamoDB Local, record the actions it needs (a transaction's parts
    # count as PutItem, UpdateItem, DeleteItem, ConditionCheckItem), compare with its role.
    event = world.publish(dataclasses.replace(sample_event, capacity=1))
    used: dict[str, set[str]] = {}

    def record(function: str, work: Any) -> None:
        log = CallLog(world.table.client)
        work()
        used.setdefault(function, set()).update(log.iam_actions)

    def site() -> None:
        first = client.http.post(f"/events/{event.slug}", headers=FORM, body=urlencode(signed(valid_form())))
        second = signed(valid_form(email="hanako@example.jp"))
        client.http.post(f"/events/{event.slug}", headers=FORM, body=urlencode(second))
        location = first.headers["Location"]
        path, token = urlsplit(location).path, location.split("token=")[1]
        client.http.get(location)
        client.http.post(path, headers=FORM, body=urlencode({"token": token, "action": "edit", **valid_form()}))
        cancel = {"token": token, "action": "cancel", "confirm_cancel": "yes"}
        client.http.post(path, headers=FORM, body=urlencode(cancel))  # hanako moves up: deletes her place
        client.http.post(path, headers=FORM, body=urlencode({**cancel, "action": "erase", "confirm_erase": "yes"}))

    def organizer() -> None:
        world.let_sign_in(ORGANIZER)
        desk = sign_in(client, world)
        base = f"/organizer/events/{event.slug}"
        desk.get(client, f"{base}?q=ばんだい")
        desk.get(client, f"{base}/export/door.csv")
        desk.post(client, f"{base}/check-in/{urlsplit(desk_location[0]).path.rsplit('/', 1)[1]}")
        fields = {"subject": "s", "body": "b", "audience": "all", "broadcast_id": "B1", "action": "send"}
        desk.post(client, f"{base}/broadcasts", **fields)
        desk.post(client, "/organizer/sign-out")

    desk_location: list[str] = []
    record("APIHandler", site)
    record("DeliverMail", world.deliver_outbox)
    jiro = client.http.post(
        f"/events/{event.slug}", headers=FORM, body=urlencode(signed(valid_form(email="saburo@example.jp")))
    )
    desk_location.append(jiro.headers["Location"])
    record("APIHandler", organizer)
    world.publish(dataclasses.replace(event, capacity=1))
    take_one = signed(valid_form(email="jiro@example.jp"))
    record("APIHandler", lambda: client.http.post(f"/events/{event.slug}", headers=FORM, body=urlencode(take_one)))
    world.publish(dataclasses.replace(event, capacity=2))  # jiro waits; the closer moves him up
    tick = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={}, resources=[])
    for name, function in (
        ("close_registration", "CloseRegistration"),
        ("draw_lotteries", "DrawLotteries"),
        ("send_reminders", "SendReminders"),
        ("send_broadcasts", "SendBroadcasts"),
        ("redrive_mail", "RedriveMail"),
    ):
        record(function, lambda name=name: client.lambda_.invoke(name, tick))
    mail = next(
        iter(world.table.query("pk = :pk AND begins_with(sk, :m)", {":pk": "EVENT#cdo-seminar", ":m": "MAIL#"}))
    )
    tags = {"uketsuke-event": [event.slug], "uketsuke-mail": [mail["mail_id"]]}
    complaint = {"eventType": "Complaint", "mail": {"tags": tags}, "complaint": {"complainedRecipients": []}}
    sns = client.events.generate_sns_event(message=json.dumps(complaint))
    record("MailFeedback", lambda: client.lambda_.invoke("mail_feedback", sns))
    record("ReadWords", lambda: client.lambda_.invoke("read_words", {"texts": ["自治体の勉強会"]}))
    assert len(used) == len(app_functions())  # every function's code ran
    assert "dynamodb:DeleteItem" in used["APIHandler"] and "dynamodb:TransactWriteItems" not in used["APIHandler"]
    for function, actions in used.items():
        assert actions <= role_actions(template, function), (function, actions - role_actions(template, function))


@pytest.mark.slow
def test_every_api_stage_cloudformation_creates_carries_the_client_throttle(plain: dict[str, Any]) -> None:
    # After the SAM transform: every Stage resource, and every Deployment that names a StageName (which
    # creates a stage too), must be a stage the WAF association covers; otherwise the site answers
    # under that stage without the per-client limit.
    resources = plain["Resources"]
    stages = {r["Properties"]["StageName"] for r in resources.values() if r["Type"] == "AWS::ApiGateway::Stage"}
    stages |= {
        r["Properties"]["StageName"]
        for r in resources.values()
        if r["Type"] == "AWS::ApiGateway::Deployment" and "StageName" in r["Properties"]
    }
    protected = {
        json.dumps(r["Properties"]["ResourceArn"]).rsplit("/stages/", 1)[1].split('"')[0]
        for r in resources.values()
        if r["Type"] == "AWS::WAFv2::WebACLAssociation"
    }
    assert stages and stages <= protected, f"stages {sorted(stages)}, protected {sorted(protected)}"


# Where the documentation states the stack's counts (deploying, operations) and app.py's wiring (architecture).
DOCS = "\n".join(
    (Path(__file__).parents[1] / "docs" / name).read_text(encoding="utf-8")
    for name in ("deploying.md", "operations.md", "architecture.md")
)
_NUMBER_WORDS = {"three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8}


def docs_count(pattern: str) -> list[str]:
    """Every count the documentation states in the place `pattern` (a regex with groups) describes."""
    found = re.findall(pattern, DOCS)
    assert found, f"the documentation no longer says {pattern!r}"
    return found


def test_the_docs_count_what_the_built_template_holds(template: dict[str, Any]) -> None:
    functions = resources_of(template, "AWS::Serverless::Function")
    schedules = [
        source
        for function in functions.values()
        for source in function["Properties"].get("Events", {}).values()
        if source["Type"] == "Schedule"
    ]
    alarms = len(resources_of(template, "AWS::CloudWatch::Alarm"))
    queues = len(resources_of(template, "AWS::SQS::Queue"))
    assert docs_count(r"\| (\d+) Lambda functions, the API and (\d+) EventBridge schedules \|") == [
        (str(len(functions)), str(len(schedules)))
    ]
    assert docs_count(r"\| (\d+) CloudWatch alarms") == [str(alarms)]
    assert docs_count(r"the (\d+) alarms \(\$0\.10 each, \$(\d+\.\d\d) a month\)") == [
        (str(alarms), f"{alarms * 0.10:.2f}")
    ]
    assert docs_count(r"\| (\d+) SQS dead-letter queues") == [str(queues)]
    assert [_NUMBER_WORDS[word] for word in docs_count(r"the (\w+) EventBridge schedules, the outbox")] == [
        len(schedules)
    ]


def test_the_docs_count_what_app_py_wires() -> None:
    wiring = (Path(__file__).parents[1] / "app.py").read_text(encoding="utf-8")
    (middlewares, blueprints) = docs_count(r"(?s)adds (\w+) middlewares .*?registers (\w+) blueprints")[0]
    assert _NUMBER_WORDS[middlewares] == wiring.count("app.register_middleware(")
    assert _NUMBER_WORDS[blueprints] == wiring.count("app.register_blueprint(")


@pytest.mark.slow
def test_the_gateway_responses_are_part_of_the_deployed_api_definition(plain: dict[str, Any]) -> None:
    # SAM writes them into the API's definition, so changing one changes the deployment and reaches the stage.
    (api,) = [r for r in plain["Resources"].values() if r["Type"] == "AWS::ApiGateway::RestApi"]
    responses = api["Properties"]["Body"]["x-amazon-apigateway-gateway-responses"]
    assert responses["MISSING_AUTHENTICATION_TOKEN"]["statusCode"] == "404"
    assert "ページが見つかりません" in responses["MISSING_AUTHENTICATION_TOKEN"]["responseTemplates"]["text/html"]


def test_the_template_keeps_clear_of_the_traps_a_real_account_meets(stage: Stage, artifact: Artifact) -> None:
    """Issue 26, finding 13 (each of these was missing from the template of 4a393e0)."""
    domain = CustomDomain("uketsuke.example.jp", "arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c", "Z0123ABC")
    fragment = merge_template(dataclasses.replace(stage, custom_domain=domain), app_functions(), [stage.sender], "api")
    merged = TemplateDeepMerger().merge(fragment, artifact.template())
    resources = merged["Resources"]
    # API Gateway gives up after 29 s: the site's function stops before it, the jobs keep their minute.
    assert resources["APIHandler"]["Properties"]["Timeout"] <= 29
    assert resources["SendReminders"]["Properties"]["Timeout"] == 60
    # The mail function wakes for new outbox items only, not for their claims and marks.
    stream = resources["DeliverMail"]["Properties"]["Events"]["DeliverMailDynamodbEventSource"]["Properties"]
    assert json.loads(stream["FilterCriteria"]["Filters"][0]["Pattern"])["eventName"] == ["INSERT"]
    # TLS 1.2 at least on the organizer's own domain.
    assert resources["RestAPI"]["Properties"]["Domain"]["SecurityPolicy"] == "TLS_1_2"
    # Complaints are watched beside bounces.
    alarms = resources_of(merged, "AWS::CloudWatch::Alarm")
    assert {a["Properties"].get("MetricName") for a in alarms.values()} >= {
        "Reputation.BounceRate",
        "Reputation.ComplaintRate",
    }


def test_replaying_reads_the_dead_letters_with_long_polling() -> None:
    """Short polling samples some SQS servers and may answer empty while letters remain."""
    from deploy.replay import _receive_all

    asked: list[dict[str, Any]] = []

    class Queue:
        def receive_message(self, **kwargs: Any) -> dict[str, Any]:
            asked.append(kwargs)
            return {"Messages": [{"ReceiptHandle": "r1"}]} if len(asked) == 1 else {}

    assert _receive_all(Queue(), "q") == [("r1", {})]
    assert all(call["WaitTimeSeconds"] >= 1 for call in asked)
