"""Trying again after a lost race: one policy for every read-compute-write on the seat ledger.

A transaction that loses a race (another one changed the event's counters since they were read, or
real DynamoDB cancelled it with TransactionConflict while another transaction held an item) writes
nothing. The caller reads again and recomputes; this module decides how often and how long to wait:
full jitter on an exponential backoff, bounded, and an exception when the attempts run out, so that
no caller can give up silently. The log names what was tried (event slug, registration ids), never
personal data.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from chalicelib.store.dynamo import ServerBusy, Table, TransactionCancelled

T = TypeVar("T")
log = logging.getLogger(__name__)


class LostRace(Exception):
    """The items changed between read and write; nothing was written, and reading again may succeed."""


class StillContended(RuntimeError):
    """Every attempt lost its race. Nothing of the last attempt was written; running again later is safe."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often to try again after a lost race, and how long to wait before each try."""

    attempts: int = 30
    base_delay: float = 0.02  # seconds; doubled per attempt
    max_delay: float = 1.0  # the doubling stops here, so 30 attempts wait at most ~25 s in all
    sleep: Callable[[float], None] = time.sleep

    def delay(self, attempt: int) -> float:
        """Full jitter: anywhere from 0 to the capped exponential delay, so racers spread out."""
        ceiling = min(self.max_delay, self.base_delay * 2 ** min(attempt, 30))
        return random.uniform(0, ceiling)  # noqa: S311 (jitter, not a secret)

    def run(self, attempt: Callable[[], T], what: str) -> T:
        """Call `attempt` until it returns; a LostRace (or a busy server) means try again.

        Raises StillContended when out of tries.
        """
        for number in range(self.attempts):
            try:
                return attempt()
            except (LostRace, ServerBusy):
                if number + 1 < self.attempts:
                    self.sleep(self.delay(number))
        log.warning("gave up after %d lost races: %s", self.attempts, what)
        raise StillContended(f"{what}: lost the race {self.attempts} times; nothing was written")


# Jobs and organizer actions: a few dozen lost races at most, even in a rush.
PATIENT = RetryPolicy()
# A person waiting for the page: a few tries, then a clear "try again" rather than a long wait.
BRIEF = RetryPolicy(attempts=6)


def transact_or_lose(table: Table, actions: list[dict[str, Any]]) -> None:
    """Write a transaction built from a read; a cancellation that reading again may fix becomes LostRace."""
    try:
        table.transact(actions)
    except TransactionCancelled as exc:
        if not exc.worth_retrying:
            raise
        raise LostRace from exc
