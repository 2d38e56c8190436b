"""What an operator sees: one JSON line per request, job run and mail outcome, carrying the business counts.

Each line is a JSON object on standard output, where Lambda passes JSON through to CloudWatch Logs as it
is (its JSON log format does not encode it again). A line that carries counts is also in CloudWatch's
Embedded Metric Format ("Specification: Embedded metric format"): an `_aws` member names the namespace,
the dimensions and the metrics, whose values are members of the same object, so CloudWatch Logs turns
the line into metrics without a call to CloudWatch on the request's path and without a library to load.

Lines hold ids only (registration, mail and request ids, event slugs), routes and numbers: never a name,
an address, a phone number or an answer (tests/test_telemetry.py reads every line a whole lifecycle writes).
Use cases count what happened with `count()`; the line of the invocation they ran in carries the counts.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from enum import StrEnum
from typing import Any

NAMESPACE = "uketsuke"
# EMF allows up to 100 metrics in a line and 30 dimensions in a set: one dimension, a handful of metrics.
DIMENSION = "Stage"
_stage = "local"


def set_stage(name: str) -> None:
    """Name the stage every metric is counted under (the composition root does, from the settings)."""
    global _stage
    _stage = name or "local"


class Metric(StrEnum):
    """The business counts, as CloudWatch names them (docs/operations.md explains each)."""

    REGISTRATIONS = "Registrations"
    WAITING_LIST_JOINS = "WaitingListJoins"
    LOTTERY_APPLICATIONS = "LotteryApplications"
    CANCELLATIONS = "Cancellations"
    MOVE_UPS = "MoveUps"
    SEATS_RELEASED = "SeatsReleased"  # unanswered at 出欠の再確認's deadline: given to the line
    SEATS_TAKEN_BACK = "SeatsTakenBack"  # a released registrant who took a free seat back
    BUSY_ANSWERS = "BusyAnswers"  # the site's own 503 "try again": not an error, so not in the 5XX alarm
    SERVER_ERRORS = "ServerErrors"  # an unhandled error in the site (500): alarmed
    MAILS_SENT = "MailsSent"
    MAILS_FAILED = "MailsFailed"
    MAILS_HELD = "MailsHeld"
    MAILS_BOUNCED = "MailsBounced"
    MAILS_COMPLAINED = "MailsComplained"


_tally: ContextVar[Counter[str] | None] = ContextVar("uketsuke_tally", default=None)


def count(metric: Metric, n: int = 1) -> None:
    """Add `n` to this invocation's count of `metric` (nothing outside an invocation, as in the console)."""
    tally = _tally.get()
    if tally is not None and n:
        tally[metric.value] += n


@contextmanager
def counting() -> Iterator[Counter[str]]:
    """A fresh count for one invocation (a request, a job run, a mail): what its use cases count lands here."""
    tally: Counter[str] = Counter()
    token = _tally.set(tally)
    try:
        yield tally
    finally:
        _tally.reset(token)


def _default_write(text: str) -> None:
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):  # set by Lambda: its standard output is the log
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    else:  # a console command (make replay-mail, manage.py) or a test: its output is the person's to read
        _quiet.debug(text)


_quiet = logging.getLogger("uketsuke.telemetry")
# Where lines go: standard output in Lambda; tests put a list's append here.
write: Callable[[str], None] = _default_write


def log(kind: str, fields: Mapping[str, Any], counts: Mapping[str, int] | None = None) -> None:
    """Write one line of `kind` ("request", "job", "mail") with its fields, and its counts as metrics."""
    write(json.dumps(line(kind, fields, counts or {}), ensure_ascii=False, separators=(",", ":"), default=str))


def line(kind: str, fields: Mapping[str, Any], counts: Mapping[str, int], now_ms: int | None = None) -> dict[str, Any]:
    """The JSON object of one line; with counts, an EMF object whose metrics CloudWatch extracts."""
    body: dict[str, Any] = {"kind": kind, **fields}
    metrics = {name: value for name, value in counts.items() if value}
    if not metrics:
        return body
    body.update(metrics)
    body[DIMENSION] = _stage
    body["_aws"] = {
        "Timestamp": now_ms if now_ms is not None else int(time.time() * 1000),
        "CloudWatchMetrics": [
            {
                "Namespace": NAMESPACE,
                "Dimensions": [[DIMENSION]],
                "Metrics": [{"Name": name, "Unit": "Count"} for name in sorted(metrics)],
            }
        ],
    }
    return body
