"""Upload the artifact and create or update the stage's stack through a change set; tear it down again.

All deploy state is in the account: the stack, and the artifacts bucket. Another organizer's machine
can update the same stage with the same command.
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from deploy.logical_ids import KEPT_TABLE_NAME, KEPT_TABLE_STREAM, TABLE
from deploy.package import Artifact

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]  # roles, and the SAM transform
# Artifacts are only read while CloudFormation applies them; keep them a while for a rollback's sake.
ARTIFACT_DAYS = 90
_NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
_IN_PROGRESS = "_IN_PROGRESS"
_DONE = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE", "IMPORT_COMPLETE"}


class DeployError(RuntimeError):
    """CloudFormation refused or rolled back; the message carries its reasons."""


@dataclass
class Deployer:
    """Drives S3 and CloudFormation for one stage; clients, output and sleep are injected."""

    cloudformation: Any
    s3: Any
    region: str
    say: Callable[[str], None] = print
    sleep: Callable[[float], None] = time.sleep
    # Events are shown from a minute before the command started: this machine's clock may run ahead of AWS's.
    now: Callable[[], datetime] = lambda: datetime.now(UTC) - timedelta(minutes=1)
    poll_seconds: float = 5.0
    _seen_events: set[str] = field(default_factory=set)

    # --- artifacts --------------------------------------------------------------------------

    def ensure_bucket(self, account: str) -> str:
        """The account's private bucket for artifacts, created once per region."""
        bucket = f"uketsuke-artifacts-{account}-{self.region}"
        try:
            self.s3.head_bucket(Bucket=bucket, ExpectedBucketOwner=account)
            return bucket
        except ClientError as exc:
            if not _not_found(exc):
                raise DeployError(f"the artifacts bucket {bucket} exists but is not usable: {exc}") from exc
        self.say(f"creating the artifacts bucket {bucket}")
        # us-east-1 is S3's default location and refuses to be named as one.
        location = {} if self.region == "us-east-1" else {"LocationConstraint": self.region}
        self.s3.create_bucket(Bucket=bucket, **({"CreateBucketConfiguration": location} if location else {}))
        self.s3.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        self.s3.put_bucket_lifecycle_configuration(
            Bucket=bucket,
            LifecycleConfiguration={
                "Rules": [
                    {"ID": "expire-artifacts", "Status": "Enabled", "Filter": {}, "Expiration": {"Days": ARTIFACT_DAYS}}
                ]
            },
        )
        return bucket

    def upload(self, artifact: Artifact, bucket: str, stage: str) -> str:
        """Upload code, layer and template under content-addressed keys; returns the template's URL."""
        code = artifact.zip_path.read_bytes()
        code_key = f"{stage}/code-{hashlib.sha256(code).hexdigest()[:32]}.zip"
        self.s3.put_object(Bucket=bucket, Key=code_key, Body=code)
        layer_key = self._upload_layer(artifact.layer_path, bucket) if artifact.layer_path else None
        template = point_at_code(artifact.template(), bucket, code_key, layer_key)
        body = json.dumps(template, ensure_ascii=False, sort_keys=True).encode("utf-8")
        template_key = f"{stage}/template-{hashlib.sha256(body).hexdigest()[:32]}.json"
        self.s3.put_object(Bucket=bucket, Key=template_key, Body=body)
        return f"https://{bucket}.s3.{self.region}.amazonaws.com/{template_key}"

    def _upload_layer(self, layer: Path, bucket: str) -> str:
        """The readings layer (about 70 MB), uploaded once: its key names its contents, so an unchanged layer
        is found and not sent again; any stage may use it."""
        digest = hashlib.sha256()
        with layer.open("rb") as read:
            for block in iter(lambda: read.read(1 << 20), b""):
                digest.update(block)
        key = f"layers/readings-{digest.hexdigest()[:32]}.zip"
        try:
            self.s3.head_object(Bucket=bucket, Key=key)
            return key
        except ClientError as exc:
            if not _not_found(exc):
                raise
        self.say(f"uploading the readings layer ({layer.stat().st_size / 1e6:.0f} MB, once)")
        self.s3.upload_file(str(layer), bucket, key)  # in parts: one PUT of this size may time out
        return key

    # --- stack ------------------------------------------------------------------------------

    def deploy(self, stack: str, template_url: str, tags: dict[str, str], dynamodb: Any = None) -> dict[str, str]:
        """Create or update the stack and wait; returns its outputs.

        Created anew where an earlier stack of the stage kept its table (`make destroy`), the new stack
        takes that table up again, registrations and all (`dynamodb` finds it), rather than an empty one.
        """
        described = self._described(stack)
        status = str(described["StackStatus"]) if described else None
        if status in _FAILED_FIRST_CREATE:
            self._remove_failed_first_create(stack, status)
            status = None
        if status in _STUCK:
            raise DeployError(self._explain(stack, status, None))
        if status is not None and status.endswith(_IN_PROGRESS):
            raise DeployError(f"{stack} is busy ({status}): wait for it to finish, then deploy again")
        started = self.now()
        change_set = f"uketsuke-{started:%Y%m%d%H%M%S}"
        creating = status is None
        self.say(f"{'creating' if creating else 'updating'} stack {stack} in {self.region}")
        self.cloudformation.create_change_set(
            StackName=stack,
            ChangeSetName=change_set,
            ChangeSetType="CREATE" if creating else "UPDATE",
            TemplateURL=template_url,
            Capabilities=CAPABILITIES,
            Tags=[{"Key": key, "Value": value} for key, value in sorted(tags.items())],
            **self._table_parameters(stack, None if creating else described, dynamodb),
        )
        try:
            ready = self._change_set_ready(stack, change_set)
        except DeployError:
            if creating:  # a refused first change set leaves an empty stack in REVIEW_IN_PROGRESS: remove it
                self._delete_and_wait(stack)
            raise
        if not ready:
            self.say("nothing to change: the stack is already up to date")
            return self.outputs(stack)
        self.cloudformation.execute_change_set(StackName=stack, ChangeSetName=change_set)
        final = self._wait(stack, started)
        if final not in _DONE:
            raise DeployError(self._explain(stack, final, started))
        return self.outputs(stack)

    def _table_parameters(self, stack: str, existing: dict[str, Any] | None, dynamodb: Any) -> dict[str, Any]:
        """A new stack gets the table its stage kept, if any; an existing one keeps what it was given."""
        if existing is not None:
            given = {p["ParameterKey"] for p in existing.get("Parameters", [])}
            keys = [key for key in (KEPT_TABLE_NAME, KEPT_TABLE_STREAM) if key in given]
            return {"Parameters": [{"ParameterKey": key, "UsePreviousValue": True} for key in keys]} if keys else {}
        found = kept_table(dynamodb, stack) if dynamodb is not None else None
        if found is None:
            return {}
        self.say(f"taking up the table {found[0]} that an earlier {stack} kept, with its registrations")
        values = {KEPT_TABLE_NAME: found[0], KEPT_TABLE_STREAM: found[1]}
        return {"Parameters": [{"ParameterKey": key, "ParameterValue": value} for key, value in values.items()]}

    def _remove_failed_first_create(self, stack: str, status: str) -> None:
        """Delete what a failed first create left (an empty stack), so that it can be created again."""
        if status == "REVIEW_IN_PROGRESS":
            summaries = self.cloudformation.list_change_sets(StackName=stack).get("Summaries", [])
            preparing = [c["ChangeSetName"] for c in summaries if c.get("Status") in _PREPARING]
            if preparing:
                raise DeployError(
                    f"{stack} is being created from another deploy right now (change set {preparing[0]}): "
                    "wait for it to finish, then deploy again"
                )
        kept = self._kept_resources(stack)
        self.say(f"{stack} was left by a first create that failed ({status}); removing it to create it again")
        self._delete_and_wait(stack)
        for resource in kept:
            self.say(
                f"  kept from that attempt: {resource['ResourceType']} {resource.get('PhysicalResourceId', '')} "
                "(empty; it does not block this deploy: delete it in the console if you like)"
            )

    def _kept_resources(self, stack: str) -> list[dict[str, Any]]:
        """Resources a rollback kept on purpose (the table, the link key): DELETE_SKIPPED in the stack."""
        kept: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"StackName": stack}
        while True:
            page = self.cloudformation.list_stack_resources(**kwargs)
            kept += [r for r in page.get("StackResourceSummaries", []) if r.get("ResourceStatus") == "DELETE_SKIPPED"]
            if not page.get("NextToken"):
                return kept
            kwargs["NextToken"] = page["NextToken"]

    def _delete_and_wait(self, stack: str) -> None:
        started = self.now()
        self.cloudformation.delete_stack(StackName=stack)
        final = self._wait(stack, started)
        if final not in (None, "DELETE_COMPLETE"):
            raise DeployError(self._explain(stack, final, started))

    def destroy(self, stack: str, delete_data: bool, dynamodb: Any) -> str | None:
        """Delete the stack; the table stays unless delete_data. Returns the table's name."""
        if self.stack_status(stack) is None:
            raise DeployError(f"there is no stack {stack} in {self.region}")
        table = self.outputs(stack).get("TableName")
        started = self.now()
        self.say(f"deleting stack {stack} in {self.region}")
        self.cloudformation.delete_stack(StackName=stack)
        final = self._wait(stack, started)
        if final not in (None, "DELETE_COMPLETE"):
            raise DeployError(self._explain(stack, final, started))
        if table and delete_data:
            # The table is protected from deletion; lift that only because the organizer asked.
            dynamodb.update_table(TableName=table, DeletionProtectionEnabled=False)
            dynamodb.delete_table(TableName=table)
            self.say(f"deleted the table {table} and every registration in it")
        elif table:
            self.say(f"kept the table {table} with its registrations (add DELETE_DATA=yes to delete it too)")
        return table

    def stack_status(self, stack: str) -> str | None:
        """The stack's status, or None if there is no such stack."""
        described = self._described(stack)
        return str(described["StackStatus"]) if described else None

    def _described(self, stack: str) -> dict[str, Any] | None:
        """The stack as CloudFormation describes it, or None if there is no such stack."""
        try:
            stacks = self.cloudformation.describe_stacks(StackName=stack)["Stacks"]
        except ClientError as exc:
            if "does not exist" in str(exc):
                return None
            raise
        return dict(stacks[0]) if stacks else None

    def outputs(self, stack: str) -> dict[str, str]:
        """The stack's outputs by key."""
        (description,) = self.cloudformation.describe_stacks(StackName=stack)["Stacks"]
        return {o["OutputKey"]: o["OutputValue"] for o in description.get("Outputs", [])}

    def _change_set_ready(self, stack: str, change_set: str) -> bool:
        """Wait for the change set; False if it holds no changes, DeployError if CloudFormation refused it."""
        while True:
            description = self.cloudformation.describe_change_set(StackName=stack, ChangeSetName=change_set)
            status = description["Status"]
            if status == "CREATE_COMPLETE":
                return True
            if status == "FAILED":
                reason = description.get("StatusReason", "")
                if any(phrase in reason for phrase in _NO_CHANGES):
                    self.cloudformation.delete_change_set(StackName=stack, ChangeSetName=change_set)
                    return False
                raise DeployError(f"CloudFormation refused the change set: {reason}")
            self.sleep(self.poll_seconds)

    def _wait(self, stack: str, since: datetime) -> str | None:
        """Print the stack's events as they happen until it settles; returns its final status."""
        while True:
            status = self.stack_status(stack)
            for event in self._new_events(stack, since):
                reason = f" ({event['ResourceStatusReason']})" if event.get("ResourceStatusReason") else ""
                self.say(f"  {event['LogicalResourceId']}: {event['ResourceStatus']}{reason}")
            if status is None or not status.endswith(_IN_PROGRESS):
                return status
            self.sleep(self.poll_seconds)

    def _new_events(self, stack: str, since: datetime) -> list[dict[str, Any]]:
        fresh = [e for e in self._events_since(stack, since) if e["EventId"] not in self._seen_events]
        self._seen_events.update(e["EventId"] for e in fresh)
        return sorted(fresh, key=lambda e: e["Timestamp"])

    def _events_since(self, stack: str, since: datetime | None) -> list[dict[str, Any]]:
        """The stack's events from `since` on (all of them if None), from every page: newest come first."""
        collected: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {"StackName": stack}
        while True:
            try:
                page = self.cloudformation.describe_stack_events(**kwargs)
            except ClientError:
                return collected  # a deleted stack has no events to show
            events = page.get("StackEvents", [])
            collected += [e for e in events if since is None or e["Timestamp"] >= since]
            if not page.get("NextToken") or (since is not None and events and events[-1]["Timestamp"] < since):
                return collected
            kwargs["NextToken"] = page["NextToken"]

    def _explain(self, stack: str, status: str | None, since: datetime | None) -> str:
        """Why the stack ended in `status` (each failed resource and its reason, the cause first) and what to do."""
        failed = [
            f"  {e['LogicalResourceId']}: {e.get('ResourceStatusReason') or e['ResourceStatus']}"
            for e in sorted(self._events_since(stack, since), key=lambda e: e["Timestamp"])
            if str(e["ResourceStatus"]).endswith("_FAILED") and e["LogicalResourceId"] != stack
        ]
        stage = stack.removeprefix("uketsuke-")
        advice = _ADVICE.get(str(status), "see the stack's events in the CloudFormation console").format(
            stack=stack, stage=stage
        )
        what = "\n".join(failed[:1] + [line for line in failed[1:] if _CANCELLED not in line])
        cause = f"what failed (the first is the cause):\n{what}\n" if failed else ""
        return f"{stack} ended in {status}.\n{cause}what to do: {advice}"


_CANCELLED = "Resource creation cancelled"  # the resources stopped because another failed: not causes
# Change sets still being prepared: another deploy is creating the stack right now.
_PREPARING = ("CREATE_PENDING", "CREATE_IN_PROGRESS")
# A stack left by a failed first create holds nothing but what it kept on purpose: remove it and create again.
_FAILED_FIRST_CREATE = ("REVIEW_IN_PROGRESS", "ROLLBACK_COMPLETE")
# States only a person can move on from (CloudFormation's stack status codes).
_STUCK = ("ROLLBACK_FAILED", "DELETE_FAILED", "UPDATE_ROLLBACK_FAILED", "IMPORT_ROLLBACK_FAILED")
_ADVICE = {
    "ROLLBACK_COMPLETE": "fix the cause above, then run make deploy STAGE={stage} again: it removes the failed "
    "stack itself (the table and link key that stack kept are empty and do not get in the way)",
    "UPDATE_ROLLBACK_COMPLETE": "nothing is broken: the stack is back as it was before this deploy and the site "
    "keeps running; fix the cause above, then run make deploy STAGE={stage} again",
    "UPDATE_ROLLBACK_FAILED": "run `aws cloudformation continue-update-rollback --stack-name {stack}` (or Stack "
    "actions → Continue update rollback in the console, skipping a resource that cannot be rolled back), wait "
    "until the stack is UPDATE_ROLLBACK_COMPLETE, then deploy again",
    "ROLLBACK_FAILED": "run make destroy STAGE={stage} (the table is kept), then deploy again; if the delete "
    "fails too, the resource it names above must be removed by hand first",
    "DELETE_FAILED": "remove the resource named above by hand (its reason says why CloudFormation could not), "
    "then run make destroy STAGE={stage} again",
    "IMPORT_ROLLBACK_FAILED": "see the stack's events in the CloudFormation console; run make destroy "
    "STAGE={stage} once the resources named above are dealt with",
}


def _not_found(error: ClientError) -> bool:
    """S3's answer to a HEAD of a bucket or object that is not there (HEAD answers carry only the status)."""
    return error.response.get("Error", {}).get("Code") in ("404", "NoSuchBucket", "NoSuchKey", "NotFound")


def point_at_code(template: dict[str, Any], bucket: str, key: str, layer_key: str | None = None) -> dict[str, Any]:
    """The template with every function's local CodeUri replaced by the uploaded zip, and the readings
    layer's content by its uploaded zip (`layer_key`; the package's placeholder key where not given)."""
    rewritten = copy.deepcopy(template)
    for resource in rewritten["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = {"Bucket": bucket, "Key": key}
        elif resource["Type"] == "AWS::Lambda::LayerVersion":
            content = resource["Properties"]["Content"]
            resource["Properties"]["Content"] = {"S3Bucket": bucket, "S3Key": layer_key or content["S3Key"]}
    return rewritten


def kept_table(dynamodb: Any, stack: str) -> tuple[str, str] | None:
    """The table an earlier stack of this name kept (CloudFormation named it `<stack>-Table-...`), with its
    stream's label; the newest if there are several, None if there is none."""
    prefix = f"{stack}-{TABLE}-"
    names = [
        name
        for page in dynamodb.get_paginator("list_tables").paginate()
        for name in page.get("TableNames", [])
        if name.startswith(prefix)
    ]
    tables = [dynamodb.describe_table(TableName=name)["Table"] for name in names]
    streamed = [table for table in tables if table.get("LatestStreamLabel")]
    if not streamed:
        return None
    newest = max(streamed, key=lambda table: table["CreationDateTime"])
    return str(newest["TableName"]), str(newest["LatestStreamLabel"])
