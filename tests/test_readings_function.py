"""ふりがな for events saved on AWS: the site asks the readings function, which has SudachiPy as its layer."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from chalicelib import telemetry
from chalicelib.config import settings as names
from chalicelib.config.services import Services
from chalicelib.domain.event import Event
from chalicelib.usecases import readings
from chalicelib.usecases.catalog import get_event
from chalicelib.usecases.publishing import load_event
from deploy import readings as layer
from deploy.logical_ids import API_LOGICAL_ID, READINGS_LAYER
from deploy.package import Artifact, app_functions
from deploy.stage import Stage
from deploy.template import merge_template
from tests.conftest import World

FUNCTION = "uketsuke-example-ReadWords-1A2B3C"
TEXTS = ["自治体CDO勉強会", "名刺交換の時間があります"]


def stubbed(answers: list[dict[str, Any]]) -> tuple[readings.Analyzer, Stubber]:
    """The remote analyser on a real Lambda client whose answers are given (each request checked against
    the Lambda API's own model by the stubber)."""
    client = boto3.client("lambda", region_name="ap-northeast-1", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    for answer in answers:
        if "error" in answer:
            stubber.add_client_error("invoke", service_error_code=answer["error"], http_status_code=429)
            continue
        body = json.dumps(answer["payload"]).encode("utf-8")
        response = {"StatusCode": 200, "Payload": StreamingBody(io.BytesIO(body), len(body))}
        if "function_error" in answer:
            response["FunctionError"] = answer["function_error"]
        expected = {
            "FunctionName": FUNCTION,
            "InvocationType": "RequestResponse",
            "Payload": json.dumps({"texts": TEXTS}, ensure_ascii=False).encode("utf-8"),
        }
        stubber.add_response("invoke", response, expected)
    stubber.activate()
    return readings.remote(client, FUNCTION), stubber


@pytest.fixture
def log_lines(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    lines: list[str] = []
    monkeypatch.setattr(telemetry, "write", lines.append)
    return lines


def test_the_site_asks_the_readings_function_and_keeps_only_readings_in_kana() -> None:
    answer = {"readings": {"自治体": "じちたい", "名刺交換": "めいしこうかん", "勉強会": "<b>x</b>", "時間": 7}}
    analyze, stubber = stubbed([{"payload": answer}])
    assert analyze(TEXTS) == {"自治体": "じちたい", "名刺交換": "めいしこうかん"}
    stubber.assert_no_pending_responses()


@pytest.mark.parametrize(
    "failure",
    [
        {"error": "TooManyRequestsException"},
        {"payload": {"errorMessage": "SudachiPy is not importable here"}, "function_error": "Unhandled"},
        {"payload": ["not", "an", "answer"]},
    ],
    ids=["throttled", "function-failed", "nonsense"],
)
def test_when_the_readings_function_cannot_answer_the_save_goes_on_and_says_why(
    failure: dict[str, Any], log_lines: list[str]
) -> None:
    analyze, _ = stubbed([failure])
    assert analyze(TEXTS) == {}
    (line,) = [json.loads(text) for text in log_lines]
    assert line["kind"] == "readings" and line["function"] == FUNCTION and line["error"]


def test_a_saved_event_keeps_its_readings_when_the_function_fails(world: World, sample_event: Event) -> None:
    load_event(world.table, sample_event, world.clock.now())  # saved once, where SudachiPy is at hand
    first = get_event(world.table, sample_event.slug)
    assert first is not None and dict(first.event.readings)["勉強会"] == "べんきょうかい"
    analyze, _ = stubbed([{"error": "ServiceException"}])
    load_event(world.table, sample_event, world.clock.now(), analyzer=lambda: analyze)
    again = get_event(world.table, sample_event.slug)
    assert again is not None and again.event.readings == first.event.readings


def test_the_function_answers_what_the_analyser_reads_and_refuses_what_is_not_texts() -> None:
    local = readings.sudachi()
    assert local is not None
    assert readings.answer({"texts": TEXTS}) == {"readings": local(TEXTS)}
    assert readings.answer({"texts": []}) == {"readings": {}}
    for wrong in ({}, {"texts": "自治体"}, {"texts": [1]}):
        with pytest.raises(ValueError, match="texts"):
            readings.answer(wrong)


def test_deployed_the_site_asks_the_function_and_locally_its_own_analyser() -> None:
    from chalicelib.config.services import READINGS_TIMEOUT_SECONDS, build_services

    env = {names.TABLE_NAME: "t", names.DEFAULT_SENDER: "a@example.jp", names.LINK_KEY: "k"}
    local = build_services(names.Settings.from_env(env), session=boto3.session.Session(region_name="ap-northeast-1"))
    assert local.analyzer() is readings.sudachi()

    made: list[Any] = []

    class Session(boto3.session.Session):
        """A real session whose Lambda client answers from a stubber (and shows how it was made)."""

        def client(self, *args: Any, **kwargs: Any) -> Any:
            client = super().client(*args, **kwargs)
            if args[0] == "lambda":
                stubber = Stubber(client)
                body = json.dumps({"readings": {"自治体": "じちたい"}}).encode()
                answer = {"StatusCode": 200, "Payload": StreamingBody(io.BytesIO(body), len(body))}
                stubber.add_response(
                    "invoke",
                    answer,
                    {
                        "FunctionName": FUNCTION,
                        "InvocationType": "RequestResponse",
                        "Payload": json.dumps({"texts": TEXTS}, ensure_ascii=False).encode(),
                    },
                )
                stubber.activate()
                made.append((client, kwargs["config"]))
            return client

    session = Session(region_name="ap-northeast-1", aws_access_key_id="x", aws_secret_access_key="x")
    deployed: Services = build_services(
        names.Settings.from_env({**env, names.READINGS_FUNCTION: FUNCTION}), session=session
    )
    analyze = deployed.analyzer()
    assert analyze is not None and analyze is deployed.analyzer()  # one client per container
    assert analyze(TEXTS) == {"自治体": "じちたい"}
    ((_, config),) = made
    assert config.read_timeout == READINGS_TIMEOUT_SECONDS < 28  # inside the site's own API timeout


# --- the stack ------------------------------------------------------------------------------------


def test_the_site_may_invoke_the_readings_function_and_nothing_else_may(example_stage: Stage) -> None:
    fragment = merge_template(example_stage, app_functions(), [example_stage.sender], "api", "python3.13")
    resources = fragment["Resources"]
    assert resources[READINGS_LAYER]["Properties"]["CompatibleRuntimes"] == ["python3.13"]
    function = resources[layer.READ_WORDS_LOGICAL_ID]["Properties"]
    assert function["Layers"] == [{"Ref": READINGS_LAYER}] and function["Timeout"] == layer.TIMEOUT_SECONDS
    invokers = {
        name: statement["Resource"]
        for name, resource in resources.items()
        if resource.get("Type") == "AWS::IAM::Role"
        for policy in resource["Properties"]["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]
        if "lambda:InvokeFunction" in statement["Action"]
    }
    assert invokers == {f"{API_LOGICAL_ID}Role": [{"Fn::GetAtt": [layer.READ_WORDS_LOGICAL_ID, "Arn"]}]}
    variables = resources[API_LOGICAL_ID]["Properties"]["Environment"]["Variables"]
    assert variables[names.READINGS_FUNCTION] == {"Ref": layer.READ_WORDS_LOGICAL_ID}
    own = resources[f"{layer.READ_WORDS_LOGICAL_ID}Role"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert [statement["Sid"] for statement in own] == ["OwnLogGroup"], "it reads texts; it touches nothing"


def test_without_the_layer_the_site_is_not_pointed_at_the_function(example_stage: Stage) -> None:
    # Python 3.11's Lambda runs on Amazon Linux 2, where SudachiPy's wheels (glibc 2.28) cannot load.
    assert not layer.possible((3, 11)) and layer.possible((3, 12))
    fragment = merge_template(example_stage, app_functions(), [example_stage.sender], "api", None)
    resources = fragment["Resources"]
    assert READINGS_LAYER not in resources
    assert names.READINGS_FUNCTION not in resources[API_LOGICAL_ID]["Properties"]["Environment"]["Variables"]
    assert "Layers" not in resources[layer.READ_WORDS_LOGICAL_ID]["Properties"]


def test_the_layer_takes_the_versions_the_organizers_machine_reads_with(tmp_path: Path) -> None:
    import sudachidict_core
    import sudachipy

    installed = {"SudachiPy": sudachipy.__version__, "SudachiDict-core": _version("SudachiDict-core")}
    assert layer.pins() == [f"{name}=={installed[name]}" for name in layer.PACKAGES] and sudachidict_core
    unpinned = tmp_path / "requirements-dev.txt"
    unpinned.write_text("SudachiPy>=0.7\nSudachiDict-core==20261015\n", encoding="utf-8")
    with pytest.raises(layer.LayerError, match="does not pin SudachiPy"):
        layer.pins(unpinned)


def _version(distribution: str) -> str:
    from importlib.metadata import version

    return version(distribution)


# --- the built layer, run as Lambda runs it ----------------------------------------------------------

# Plays Lambda: the code zip at /var/task first, the layer's python/ (/opt/python) next.
_READ_FROM_LAYER = textwrap.dedent(
    """
    import importlib, json, sys
    package, layer = sys.argv[1], sys.argv[2]
    sys.path[0:0] = [package, layer]
    module_name, _, name = sys.argv[3].rpartition(".")  # the function's Handler, as the template names it
    module = importlib.import_module(module_name)
    answer = getattr(module, name)(json.loads(sys.stdin.read()), None)
    import sudachipy, sudachidict_core
    assert module.__file__.startswith(package), module.__file__
    assert sudachipy.__file__.startswith(layer) and sudachidict_core.__file__.startswith(layer)
    print(json.dumps(answer, ensure_ascii=False))
    """
)


@pytest.mark.slow
def test_the_function_reads_from_its_layer_what_the_organizers_machine_reads(
    example_artifact: Artifact, tmp_path: Path, sample_event: Event
) -> None:
    assert example_artifact.layer_path is not None
    total = layer.check_fits(example_artifact.zip_path, example_artifact.layer_path)
    assert total > 150_000_000, "the dictionary is in the layer"  # and under the quota, or check_fits refused
    for archive, where in ((example_artifact.zip_path, "task"), (example_artifact.layer_path, "opt")):
        with zipfile.ZipFile(archive) as opened:
            opened.extractall(tmp_path / where)
    texts = readings.japanese_texts(sample_event)
    handler = example_artifact.template()["Resources"][layer.READ_WORDS_LOGICAL_ID]["Properties"]["Handler"]
    result = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            _READ_FROM_LAYER,
            str(tmp_path / "task"),
            str(tmp_path / "opt" / "python"),
            handler,
        ],
        input=json.dumps({"texts": texts}),
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": ""},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    local = readings.sudachi()
    assert local is not None
    assert json.loads(result.stdout) == {"readings": local(texts)}


def test_the_deploy_uploads_the_layer_once_and_points_the_template_at_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from moto import mock_aws

    from deploy.cloudformation import Deployer

    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)  # the local engines' endpoints must not catch these calls
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    template = {
        "Resources": {
            **layer.layer_resource("python3.13"),
            "ReadWords": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "./deployment.zip"}},
        }
    }
    (tmp_path / "sam.json").write_text(json.dumps(template), encoding="utf-8")
    for name in ("deployment.zip", "layer.zip"):
        with zipfile.ZipFile(tmp_path / name, "w") as archive:
            archive.writestr("python/x.py" if name == "layer.zip" else "app.py", name)
    artifact = Artifact(tmp_path / "sam.json", tmp_path / "deployment.zip", tmp_path / "layer.zip")
    said: list[str] = []
    with mock_aws():
        s3 = boto3.client("s3", region_name="ap-northeast-1")
        deployer = Deployer(cloudformation=None, s3=s3, region="ap-northeast-1", say=said.append)
        bucket = deployer.ensure_bucket("123456789012")
        first = deployer.upload(artifact, bucket, "example")
        deployer.upload(artifact, bucket, "prod")  # another stage of the same account: the same layer
        key = first.split(".amazonaws.com/", 1)[1]
        uploaded = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
        content = uploaded["Resources"][READINGS_LAYER]["Properties"]["Content"]
        stored = s3.get_object(Bucket=content["S3Bucket"], Key=content["S3Key"])["Body"].read()
    assert content["S3Key"].startswith("layers/readings-") and stored == (tmp_path / "layer.zip").read_bytes()
    assert len([line for line in said if "readings layer" in line]) == 1, said
