"""Where a running `make run` is: its DynamoDB Local, table, region and credentials, for other commands.

`make run` announces its stack in build/local-stack.json; manage.py (and so `make load-events`) finds
it here, by one helper. DynamoDB Local keeps tables apart by access key and region, so a second
terminal with other AWS settings would see "non-existent table": the stack file carries the ones
the table was made with, and `client()` uses them whatever the environment says.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from typing import Any

from local import engines

# Beside the repository's other build output; the UKETSUKE_LOCAL_STACK_FILE variable moves it (tests do).
STACK_FILE = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "build", "local-stack.json")
STACK_FILE_VARIABLE = "UKETSUKE_LOCAL_STACK_FILE"


@dataclasses.dataclass(frozen=True)
class LocalStack:
    """The DynamoDB Local endpoint and table a running `make run` serves, and how to reach them."""

    dynamodb: str
    table: str
    pid: int
    region: str = engines.REGION
    access_key_id: str = engines.FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"]

    def client(self, service: str = "dynamodb") -> Any:
        """A boto3 client for the stack's DynamoDB Local, with the region and key its tables live under."""
        import boto3

        return boto3.client(  # type: ignore[call-overload]
            service,
            endpoint_url=self.dynamodb,
            region_name=self.region,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=engines.FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            aws_session_token=engines.FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
        )


def stack_file() -> str:
    """Where the running stack is announced."""
    return os.environ.get(STACK_FILE_VARIABLE) or STACK_FILE


def announce_stack(stack: LocalStack, path: str | None = None) -> None:
    """Tell other commands on this machine (manage.py, make load-events) where the running stack's table is."""
    path = path or stack_file()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    partial = f"{path}.{os.getpid()}.tmp"
    with open(partial, "w", encoding="utf-8") as handle:
        json.dump(dataclasses.asdict(stack), handle)
    os.replace(partial, path)  # a reader sees the old announcement or the new one, never half


def withdraw_stack(path: str | None = None) -> None:
    """The stack has stopped: nothing to load into any more."""
    with contextlib.suppress(FileNotFoundError):
        os.remove(path or stack_file())


def running_stack(path: str | None = None) -> LocalStack | None:
    """The stack a `make run` on this machine serves now, or None (none announced, or its process is gone)."""
    try:
        with open(path or stack_file(), encoding="utf-8") as handle:
            stack = LocalStack(**json.load(handle))
    except (OSError, ValueError, TypeError):
        return None
    try:
        os.kill(stack.pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # it exists, under another user
    return stack
