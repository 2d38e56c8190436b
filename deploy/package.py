"""Build a stage's artifact: `chalice package --merge-template` with the stack's own resources merged in."""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chalicelib.domain.event_file import read_event_file
from chalicelib.templating import compile_all
from deploy import readings
from deploy.lambda_zip import CompileError, finish
from deploy.logical_ids import API_FUNCTION, API_LOGICAL_ID
from deploy.stage import Stage
from deploy.template import TOPIC_SUBSCRIPTIONS, Function, merge_template

ROOT = Path(__file__).resolve().parent.parent
CHALICE_CONFIG = ROOT / ".chalice" / "config.json"
BUILD_DIR = ROOT / "build"
# The biggest zip Lambda takes by direct upload is 50 MB; ours is far smaller, and a cold start grows with it.
MAX_ZIP_BYTES = 5 * 1024 * 1024


class PackageError(RuntimeError):
    """Packaging failed; the message carries Chalice's own explanation."""


@dataclass(frozen=True)
class Artifact:
    """What a deploy uploads: the merged SAM template and the code zip it points at."""

    template_path: Path
    zip_path: Path
    layer_path: Path | None = None  # the readings function's layer, where the runtime can load it

    def template(self) -> dict[str, Any]:
        """The merged template, parsed."""
        loaded: dict[str, Any] = json.loads(self.template_path.read_text(encoding="utf-8"))
        return loaded


def api_stage() -> str:
    """API Gateway's stage name, the path prefix of the default URL (one place: .chalice/config.json)."""
    return str(json.loads(CHALICE_CONFIG.read_text(encoding="utf-8"))["api_gateway_stage"])


def app_functions() -> list[Function]:
    """Every Lambda function Chalice makes of app.py, with the logical ids it gives them."""
    from chalice.app import DynamoDBEventConfig, ScheduledEventConfig
    from chalice.utils import to_cfn_resource_name

    import app as application

    functions = [Function(API_FUNCTION, API_LOGICAL_ID, "api")] if application.app.routes else []
    for source in application.app.event_sources:
        logical_id = to_cfn_resource_name(source.name)
        if isinstance(source, ScheduledEventConfig):
            functions.append(Function(source.name, logical_id, "schedule", f"{logical_id}Event"))
        elif isinstance(source, DynamoDBEventConfig):
            functions.append(Function(source.name, logical_id, "stream", f"{logical_id}DynamodbEventSource"))
        else:
            raise PackageError(f"{source.name}: the deploy does not know event sources of type {type(source).__name__}")
    for pure in application.app.pure_lambda_functions:
        logical_id = to_cfn_resource_name(pure.name)
        if pure.name in TOPIC_SUBSCRIPTIONS:
            functions.append(Function(pure.name, logical_id, "topic", f"{logical_id}Topic"))
        else:  # invoked by another of the app's functions (the readings function, by the site)
            functions.append(Function(pure.name, logical_id, "invoked"))
    return functions


def event_files(stage: Stage) -> list[Path]:
    """The event files the stage publishes, relative to the repository (none unless the stage names some)."""
    if not stage.events:
        return []
    return sorted(Path(path) for path in glob.glob(str(ROOT / stage.events)))


def senders(stage: Stage) -> list[str]:
    """Every From address the stage's mail can carry: the stage's and any event's own."""
    addresses = {stage.sender}
    for path in event_files(stage):
        sender = read_event_file(str(path)).contact.sender
        if sender:
            addresses.add(sender)
    return sorted(addresses)


def send_identities(stage: Stage) -> list[str]:
    """The addresses whose SES identities (the address, or its domain) a send is authorized against.

    SES authorizes a send against the sender's identity and also against a recipient that is itself a
    verified identity of the account; in the sandbox every recipient is one. So the role names the
    organizers (who may be verified one by one) and, in a trial stage, its verified recipients too.
    """
    mailed = stage.sandbox_mailed if stage.allow_ses_sandbox else stage.signs_in
    return sorted({*senders(stage), *mailed})


def build(stage: Stage, out_dir: Path | None = None, readings_layer: bool | None = None) -> Artifact:
    """Compile templates, write the merge template and run `chalice package` for the stage.

    `readings_layer`: build the readings function's layer (deploy/readings.py); by default where this
    Python's Lambda runtime can load it.
    """
    out_dir = out_dir or BUILD_DIR / stage.name
    out_dir.mkdir(parents=True, exist_ok=True)
    compile_all()  # the zip carries compiled templates, so a cold start compiles none
    with_layer = readings.possible() if readings_layer is None else readings_layer
    runtime = f"python{sys.version_info.major}.{sys.version_info.minor}" if with_layer else None
    merge_path = out_dir / "stack-resources.json"
    fragment = merge_template(stage, app_functions(), send_identities(stage), api_stage(), runtime)
    merge_path.write_text(json.dumps(fragment, indent=2, ensure_ascii=False), encoding="utf-8")
    package_dir = out_dir / "package"
    chalice = Path(sys.executable).with_name("chalice")
    # Only the region is needed to package; the stream ARN is the stack's own, merged in above.
    child_env = {key: value for key, value in os.environ.items() if not key.startswith("UKETSUKE_")}
    child_env["AWS_DEFAULT_REGION"] = stage.region
    result = subprocess.run(
        [str(chalice), "package", "--stage", stage.name, "--merge-template", str(merge_path), str(package_dir)],
        cwd=ROOT,
        env=child_env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise PackageError(f"chalice package failed:\n{result.stderr.strip() or result.stdout.strip()}")
    zip_path = package_dir / "deployment.zip"
    try:
        finish(zip_path)  # Lambda cannot cache bytecode itself: its /var/task is read-only
    except CompileError as exc:
        raise PackageError(str(exc)) from exc
    size = zip_path.stat().st_size
    if size > MAX_ZIP_BYTES:
        raise PackageError(f"the code zip is {size:,} bytes, over the {MAX_ZIP_BYTES:,} this project allows")
    layer = None
    if with_layer:
        try:
            layer = readings.build_layer(BUILD_DIR / "layers")
            readings.check_fits(zip_path, layer)
        except readings.LayerError as exc:
            raise PackageError(str(exc)) from exc
    return Artifact(package_dir / "sam.json", zip_path, layer)
