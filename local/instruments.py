"""Helpers shared by the tests and `make bench`: counting AWS calls, seating many registrants fast."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from chalicelib.domain.attendee import Attendee
from chalicelib.store import schema
from chalicelib.store.dynamo import Table, to_attrs

# The IAM action each part of a TransactWriteItems is authorised as.
_TRANSACT_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}


class CallLog:
    """Every AWS operation a boto3 client makes, in order, and the IAM actions they need."""

    def __init__(self, client: Any) -> None:
        self.operations: list[str] = []
        self.iam_actions: set[str] = set()
        self._prefix = client.meta.service_model.signing_name
        # Fired once per call with the caller's own parameters (before they are serialised).
        client.meta.events.register("before-parameter-build", self._record)

    def _record(self, model: Any, params: Any = None, **_: Any) -> None:
        self.operations.append(model.name)
        if model.name == "TransactWriteItems":
            items = (params or {}).get("TransactItems", [])
            self.iam_actions |= {f"{self._prefix}:{_TRANSACT_ACTIONS[kind]}" for item in items for kind in item}
        else:
            self.iam_actions.add(f"{self._prefix}:{model.name}")


def seat_many(table: Table, slug: str, count: int, writers: int = 8) -> None:
    """Write `count` confirmed registrations directly (for load figures; the transaction is tested elsewhere)."""

    def write(start: int) -> None:
        batch = []
        for n in range(start, min(start + 25, count)):
            person = Attendee(f"参加者{n}", "サンカシャ", "磐梯町役場", "", f"person{n}@example.jp", "other")
            item = {
                **schema.registration_key(slug, f"BULK{n:06d}"),
                "registration_id": f"BULK{n:06d}",
                "event_slug": slug,
                **dataclasses.asdict(person),
                "status": "confirmed",
                "created_at": "2027-01-10T01:00:00Z",
                "lang": "ja",
                "submission_id": f"BULK{n:06d}",
                "padding": "x" * 300,  # a realistic item size, so queries over them span pages
            }
            batch.append({"PutRequest": {"Item": to_attrs(item)}})
        pending: dict[str, Any] = {table.name: batch}
        while pending:  # BatchWriteItem may hand back what it could not write yet
            pending = table.client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}

    with ThreadPoolExecutor(max_workers=writers) as pool:
        list(pool.map(write, range(0, count, 25)))
