"""A create, update, delete and second create of the stack, rehearsed on moto's CloudFormation.

The built template goes through the SAM transform offline (what CloudFormation does first), then the
plain template is created in moto for every resource type moto's CloudFormation implements. The
types it does not implement are left out, references to them replaced by placeholders, and listed
(`NOT_REHEARSED` says why for each), so the rehearsal never claims more than it ran.
"""

from __future__ import annotations

import copy
import io
import json
import re
import warnings
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.cloudformation.parsing import get_model_map

from chalicelib.config import settings as env
from chalicelib.store import schema
from deploy import readings
from deploy.cloudformation import CAPABILITIES, kept_table
from deploy.logical_ids import READINGS_LAYER
from deploy.package import Artifact
from deploy.sam import plain_template
from deploy.stage import Stage

REGION = "ap-northeast-1"
BUCKET = "uketsuke-artifacts-123456789012-ap-northeast-1"
CODE_KEY = "example/code.zip"
STACK = "uketsuke-example"
# moto implements these types but not what this stack needs of them: it does not import the API's
# Swagger 2.0 body (moto imports OpenAPI 3 only), so the API has no methods and cannot be deployed.
NOT_REHEARSED = {"AWS::ApiGateway::Deployment": "moto's API Gateway does not import the Swagger 2.0 body"}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def plain(example_stage: Stage, example_artifact: Artifact) -> dict[str, Any]:
    return plain_template(example_artifact.template(), example_stage.region, (BUCKET, CODE_KEY))


def left_out(plain: dict[str, Any]) -> dict[str, str]:
    """The resources moto cannot create, each with why."""
    implemented = get_model_map()
    return {
        name: NOT_REHEARSED.get(resource["Type"], "moto's CloudFormation does not implement this type")
        for name, resource in plain["Resources"].items()
        if resource["Type"] not in implemented or resource["Type"] in NOT_REHEARSED
    }


def rehearsable(plain: dict[str, Any]) -> dict[str, Any]:
    """The plain template without what moto cannot create; references to it become placeholders."""
    removed = set(left_out(plain))

    def scrub(node: Any) -> Any:
        if isinstance(node, list):
            return [scrub(value) for value in node]
        if not isinstance(node, dict):
            return node
        if set(node) == {"Ref"} and node["Ref"] in removed:
            return f"rehearsal-{node['Ref']}"
        if set(node) == {"Fn::GetAtt"}:
            target = node["Fn::GetAtt"]
            name, attribute = target.split(".", 1) if isinstance(target, str) else target
            if name in removed:
                return f"arn:aws:rehearsal:{REGION}:123456789012:{name}/{attribute}"
        if set(node) == {"Fn::Sub"}:
            body = node["Fn::Sub"]
            text = body if isinstance(body, str) else body[0]
            text = re.sub(
                r"\$\{([A-Za-z0-9]+)(\.[A-Za-z]+)?\}",
                lambda m: f"rehearsal-{m.group(1)}" if m.group(1) in removed else m.group(0),
                text,
            )
            return {"Fn::Sub": text if isinstance(body, str) else [text, scrub(body[1])]}
        return {key: scrub(value) for key, value in node.items()}

    template = copy.deepcopy(plain)
    template["Resources"] = {name: scrub(r) for name, r in template["Resources"].items() if name not in removed}
    for resource in template["Resources"].values():
        if "DependsOn" in resource:
            needed = [resource["DependsOn"]] if isinstance(resource["DependsOn"], str) else resource["DependsOn"]
            resource["DependsOn"] = [name for name in needed if name not in removed]
            if not resource["DependsOn"]:
                del resource["DependsOn"]
    template["Outputs"] = scrub(template.get("Outputs", {}))
    # moto creates the readings layer's version but gives it an empty Ref, and its function update
    # crashes on a Ref to one: the rehearsal publishes the layer and leaves the function's Layers to
    # test_readings_function (the template) and the layer run there (the layer's code).
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Lambda::Function":
            resource["Properties"].pop("Layers", None)
    return template


@pytest.fixture
def aws(example_artifact: Artifact, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """moto, in process, with the artifacts bucket and the uploaded code zip."""
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"):
        monkeypatch.delenv(name, raising=False)  # the local engines' endpoints must not catch these calls
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        clients = {name: boto3.client(name, region_name=REGION) for name in _SERVICES}
        location = {"LocationConstraint": REGION}
        clients["s3"].create_bucket(Bucket=BUCKET, CreateBucketConfiguration=location)  # type: ignore[arg-type]
        clients["s3"].put_object(Bucket=BUCKET, Key=CODE_KEY, Body=example_artifact.zip_path.read_bytes())
        assert example_artifact.layer_path is not None, "the example is built as Python 3.12+ builds it"
        clients["s3"].upload_file(str(example_artifact.layer_path), BUCKET, readings.PLACEHOLDER_KEY)
        yield clients


_SERVICES = ("s3", "cloudformation", "dynamodb", "lambda", "events", "logs", "sqs", "iam")


def apply(aws: dict[str, Any], template: dict[str, Any], key: str, update: bool = False, parameters: Any = ()) -> str:
    """Create (or update) the stack from `template` (with CloudFormation `parameters`); returns its final status."""
    body = json.dumps(template).encode("utf-8")  # over TemplateBody's 51,200 bytes: uploaded, as the deploy does
    aws["s3"].put_object(Bucket=BUCKET, Key=key, Body=body)
    url = f"https://{BUCKET}.s3.{REGION}.amazonaws.com/{key}"
    call = aws["cloudformation"].update_stack if update else aws["cloudformation"].create_stack
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a resource moto skipped in silence would make the rehearsal lie
        call(StackName=STACK, TemplateURL=url, Capabilities=CAPABILITIES, Parameters=list(parameters))
    (description,) = aws["cloudformation"].describe_stacks(StackName=STACK)["Stacks"]
    return str(description["StackStatus"])


def revised_zip(artifact: Artifact) -> bytes:
    """The same code with one more file: what a new version of the code looks like to Lambda."""
    buffer = io.BytesIO(artifact.zip_path.read_bytes())
    with zipfile.ZipFile(buffer, "a") as archive:
        archive.writestr("REVISION", "2")
    return buffer.getvalue()


def resources(aws: dict[str, Any]) -> dict[str, dict[str, Any]]:
    listed = aws["cloudformation"].list_stack_resources(StackName=STACK)["StackResourceSummaries"]
    return {r["LogicalResourceId"]: r for r in listed}


def test_the_stack_is_created_updated_deleted_and_created_again_on_moto(
    aws: dict[str, Any], plain: dict[str, Any], example_artifact: Artifact, record_property: Any
) -> None:
    template = rehearsable(plain)
    skipped = left_out(plain)
    record_property("not_rehearsed", sorted({plain["Resources"][name]["Type"] for name in skipped}))
    assert len(template["Resources"]) > len(skipped)  # most of the stack is rehearsed

    # Create: every rehearsed resource exists as the template describes it.
    assert apply(aws, template, "example/template-1.json") == "CREATE_COMPLETE"
    created = resources(aws)
    assert set(created) == set(template["Resources"])
    assert {r["ResourceStatus"] for r in created.values()} == {"CREATE_COMPLETE"}
    table = aws["dynamodb"].describe_table(TableName=created["Table"]["PhysicalResourceId"])["Table"]
    definition = schema.table_definition("unused")
    assert (
        table["KeySchema"] == definition["KeySchema"] and table["StreamSpecification"]["StreamViewType"] == "NEW_IMAGE"
    )
    assert [index["IndexName"] for index in table["GlobalSecondaryIndexes"]] == [schema.BY_DUE_INDEX]
    functions = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
    for name, resource in created.items():
        if resource["ResourceType"] != "AWS::Lambda::Function":
            continue
        function = aws["lambda"].get_function(FunctionName=resource["PhysicalResourceId"])["Configuration"]
        assert function["Runtime"].startswith("python3.") and function["Role"].endswith(
            created[f"{name}Role"]["PhysicalResourceId"]
        )
        assert env.TABLE_NAME in function["Environment"]["Variables"]
    assert len(functions) == 9
    # moto published the readings layer from the uploaded zip, whole (see rehearsable() for its Layers).
    (layer,) = aws["lambda"].list_layers()["Layers"]
    assert layer["LayerName"].startswith(f"{STACK}-{READINGS_LAYER}-")
    published = aws["lambda"].get_layer_version(LayerName=layer["LayerName"], VersionNumber=1)["Content"]
    assert example_artifact.layer_path is not None
    assert published["CodeSize"] == example_artifact.layer_path.stat().st_size
    rules = aws["events"].list_rules()["Rules"]
    assert len([rule for rule in rules if rule.get("ScheduleExpression")]) == 5
    streams = aws["lambda"].list_event_source_mappings()["EventSourceMappings"]
    assert [m["EventSourceArn"] for m in streams] == [table["LatestStreamArn"]]

    # Update: new code (the deploy uploads it under a new, content-addressed key) and the stage's send rate.
    before = {
        name: aws["lambda"].get_function(FunctionName=r["PhysicalResourceId"])["Configuration"]
        for name, r in created.items()
        if r["ResourceType"] == "AWS::Lambda::Function"
    }
    aws["s3"].put_object(Bucket=BUCKET, Key="example/code-2.zip", Body=revised_zip(example_artifact))
    changed = copy.deepcopy(template)
    for resource in changed["Resources"].values():
        if resource["Type"] == "AWS::Lambda::Function":
            resource["Properties"]["Code"]["S3Key"] = "example/code-2.zip"
            variables = resource["Properties"].get("Environment", {}).get("Variables", {})
            if env.SES_MAX_SEND_RATE in variables:
                variables[env.SES_MAX_SEND_RATE] = "2"
    assert apply(aws, changed, "example/template-2.json", update=True) == "UPDATE_COMPLETE"
    for name, old in before.items():
        new = aws["lambda"].get_function(FunctionName=created[name]["PhysicalResourceId"])["Configuration"]
        assert new["CodeSha256"] != old["CodeSha256"], name
        if env.SES_MAX_SEND_RATE in old["Environment"]["Variables"]:
            assert new["Environment"]["Variables"][env.SES_MAX_SEND_RATE] == "2"

    # Delete: everything goes but the table of registrations, which the template keeps.
    kept = created["Table"]["PhysicalResourceId"]
    aws["dynamodb"].put_item(TableName=kept, Item={"pk": {"S": "EVENT#kept"}, "sk": {"S": "EVENT"}})
    aws["cloudformation"].delete_stack(StackName=STACK)
    assert aws["dynamodb"].list_tables()["TableNames"] == [kept]
    assert aws["lambda"].list_functions()["Functions"] == []
    assert aws["sqs"].list_queues().get("QueueUrls", []) == []

    # `make deploy` of the same stage after `make destroy` takes the kept table up again, not a new empty one
    # (issue 26, finding 13: it made a second table, and the registrations were left behind).
    found = kept_table(aws["dynamodb"], STACK)
    assert found == (kept, table["LatestStreamLabel"])
    parameters = [{"ParameterKey": "KeptTableName", "ParameterValue": found[0]}]
    parameters.append({"ParameterKey": "KeptTableStreamLabel", "ParameterValue": found[1]})
    assert apply(aws, template, "example/template-1.json", parameters=parameters) == "CREATE_COMPLETE"
    assert aws["dynamodb"].list_tables()["TableNames"] == [kept]
    again = resources(aws)
    assert "Table" not in again  # the stack uses the table; it neither made nor owns it
    outputs = aws["cloudformation"].describe_stacks(StackName=STACK)["Stacks"][0]["Outputs"]
    assert {o["OutputKey"]: o["OutputValue"] for o in outputs}["TableName"] == kept
    site = aws["lambda"].get_function(FunctionName=again["APIHandler"]["PhysicalResourceId"])["Configuration"]
    assert site["Environment"]["Variables"][env.TABLE_NAME] == kept
    streams = aws["lambda"].list_event_source_mappings()["EventSourceMappings"]
    assert table["LatestStreamArn"] in [m["EventSourceArn"] for m in streams]
    assert aws["dynamodb"].get_item(TableName=kept, Key={"pk": {"S": "EVENT#kept"}, "sk": {"S": "EVENT"}})["Item"]


def test_what_is_not_rehearsed_is_listed_with_why(plain: dict[str, Any]) -> None:
    skipped = left_out(plain)
    types = {plain["Resources"][name]["Type"] for name in skipped}
    assert "AWS::ApiGateway::Deployment" in types  # implemented by moto, but not for a Swagger 2.0 body
    assert all(reason for reason in skipped.values())
    assert not types & {"AWS::DynamoDB::Table", "AWS::Lambda::Function", "AWS::IAM::Role"}


def test_the_deploy_docs_list_the_types_the_rehearsal_leaves_out(plain: dict[str, Any]) -> None:
    readme = (Path(__file__).parents[1] / "docs" / "deploying.md").read_text(encoding="utf-8")
    for kind in sorted({plain["Resources"][name]["Type"] for name in left_out(plain)}):
        assert f"`{kind}`" in readme, kind
    (count,) = re.findall(r"moto creates the stack \((\d+) resources", readme)
    assert int(count) == len(rehearsable(plain)["Resources"])
