"""One item's failure never stops a job's others: each item is tried, failures are logged, then reported together.

A scheduled job works through many events, reminders or broadcasts. If one of them fails (a bug,
data nobody expected, DynamoDB throttling), the rest must still be done this run. Every item's work
is idempotent, so the job then fails as a whole, naming what is left, and the next run (or
EventBridge's retry) does only that. The log names items by slug and id, never by personal data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")
log = logging.getLogger(__name__)


class PartlyFailed(RuntimeError):
    """Some items of a job failed this run (listed); the others were done. Running again is safe."""

    def __init__(self, job: str, failed: list[str]) -> None:
        super().__init__(f"{job}: {len(failed)} item(s) failed and will be tried again: {', '.join(failed)}")
        self.failed = failed


def each(job: str, items: Iterable[T], work: Callable[[T], R], name: Callable[[T], str]) -> list[R]:
    """`work` on every item, in order; raises PartlyFailed after the last one if any raised."""
    done: list[R] = []
    failed: list[str] = []
    for item in items:
        try:
            done.append(work(item))
        except Exception:
            log.exception("%s: %s failed; the others go on", job, name(item))
            failed.append(name(item))
    if failed:
        raise PartlyFailed(job, failed)
    return done
