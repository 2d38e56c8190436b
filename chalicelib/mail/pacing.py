"""Keeping the account's SES send rate across every container: one shared count per window in the table.

SES allows an account a maximum send rate (messages per second, over all its senders). The stream's
deliverers, each with several threads, and the sweeper may run in several Lambda containers at once, so
a count kept in one process cannot hold the account's rate. Each send first takes a slot: a conditional
ADD on the item of the current window ("at most `cap` in this window"); a full window means waiting for
the next. One more small write per mail buys a rate that holds however many containers send.

Windows are whole seconds, long enough that `cap` is at least one: 14/s is 14 a second; 0.5/s is one
every two seconds. A fractional part is left unused (1.5/s sends 1 a second): under the quota, never over.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable

from chalicelib.store import schema
from chalicelib.store.dynamo import ConditionFailed, Table

KEPT_SECONDS = 3600  # a window's count deletes itself (TTL) after this


class SharedPace:
    """Hands out send slots at no more than `rate` per second over every process that shares the table."""

    def __init__(
        self,
        table: Table,
        rate: float,
        now: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = rate
        self.window = max(1, math.ceil(1 / rate))  # seconds
        self.cap = max(1, math.floor(rate * self.window))  # sends per window
        self._table, self._now, self._sleep = table, now, sleep

    def wait(self) -> None:
        """Block until this process holds one of the account's send slots."""
        while True:
            window = int(self._now() // self.window)
            if self._take(window):
                return
            # Full: try again as the next window opens (a little jitter, so waiters do not all arrive at once).
            opens = (window + 1) * self.window
            self._sleep(max(0.0, opens - self._now()) + random.uniform(0, 0.02))  # noqa: S311 (jitter)

    def _take(self, window: int) -> bool:
        try:
            self._table.update(
                schema.send_slot_key(self.window, window),
                "ADD sent :one SET #ttl = :ttl",
                values={":one": 1, ":cap": self.cap, ":ttl": int(self._now()) + KEPT_SECONDS},
                names={"#ttl": schema.TTL_ATTRIBUTE},
                condition="attribute_not_exists(sent) OR sent < :cap",
            )
        except ConditionFailed:
            return False
        return True
