"""Write units as DynamoDB charges them, computed from its documented rules, never from what an engine reports.

From the Developer Guide: one write unit covers a write of up to 1 KB, and an item's write is charged
by the larger of its size before and after ("Read/write capacity mode"); in a transaction DynamoDB
makes two underlying writes of every item, prepare and commit, so each costs double ("Amazon
DynamoDB Transactions: capacity management"). A global secondary index is written when an item
enters it, leaves it or changes its index keys ("Provisioned throughput considerations for global
secondary indexes"); our one index projects keys only, so an entry is one unit. The guide says
nothing of index writes in a transaction, so they count once (DynamoDB Local reports them double).

DynamoDB Local's own reports are not used: for a transaction it reports twice its largest item
instead of twice each (measured: four small puts, 2 units; two 3 KB puts, 6).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from chalicelib.store.limits import item_size
from chalicelib.store.schema import DUE, QUEUE

UNIT_BYTES = 1024
TRANSACTIONAL = 2  # prepare and commit


def item_units(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None, transactional: bool) -> int:
    """Units one item's write costs: by the larger of its sizes before and after (an absent item is 0 bytes)."""
    size = max(item_size(before or {}), item_size(after or {}))
    units = max(1, math.ceil(size / UNIT_BYTES))
    return units * (TRANSACTIONAL if transactional else 1)


def index_units(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> int:
    """Units the `by-due` index costs for one item's write: an entry added, removed, or both when its keys change."""
    old, new = _index_keys(before), _index_keys(after)
    if old == new:
        return 0
    return (old is not None) + (new is not None)


def _index_keys(item: Mapping[str, Any] | None) -> tuple[str, ...] | None:
    """The item's keys in the sparse index, or None when it is not in it."""
    if not item or QUEUE not in item or DUE not in item:
        return None
    return (repr(item[QUEUE]), repr(item[DUE]))
