"""A thin adapter over the low-level DynamoDB client: Python values in and out, named failures.

The low-level client is used rather than `boto3.resource` because building the resource model
costs cold-start time on every new Lambda container.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from chalicelib.store import capacity
from chalicelib.store.limits import check_request, check_transaction
from chalicelib.store.schema import PK, SK
from chalicelib.text.scalars import readable

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()

Item = dict[str, Any]


class ConditionFailed(Exception):
    """A conditional write did not apply; `item` is the item as it was, if DynamoDB returned it."""

    def __init__(self, item: Item | None = None) -> None:
        super().__init__("condition failed")
        self.item = item


@dataclass(frozen=True)
class CancelReason:
    """Why one item of a cancelled transaction did not apply."""

    code: str  # "None" for items that were fine, "ConditionalCheckFailed", ...
    item: Item | None


class ServerBusy(Exception):
    """DynamoDB answered a transaction with InternalServerError after the SDK's own retries: nothing is known
    to be written, and AWS says such a request may be tried again (DynamoDB Local says it when a lock waited
    too long under a crowd). Reading again and recomputing is safe: every write is conditioned on what it read."""


class TransactionCancelled(Exception):
    """A transaction did not apply; `reasons` lines up with the items sent."""

    def __init__(self, reasons: list[CancelReason]) -> None:
        super().__init__("transaction cancelled: " + ", ".join(r.code for r in reasons))
        self.reasons = reasons

    @property
    def only_condition_failures(self) -> bool:
        """True if every failing item failed its condition (not a conflict or throttle)."""
        return all(r.code in ("None", "ConditionalCheckFailed") for r in self.reasons)

    @property
    def worth_retrying(self) -> bool:
        """True if reading again and retrying may succeed: conditions on changed items, conflicts, throttling."""
        return all(r.code in _RETRYABLE_REASONS for r in self.reasons)


# Cancellation reasons that a fresh read and another try can overcome (DynamoDB's TransactWriteItems
# documentation lists these codes); ValidationError and ItemCollectionSizeLimitExceeded never pass later.
_RETRYABLE_REASONS = frozenset(
    {"None", "ConditionalCheckFailed", "TransactionConflict", "ProvisionedThroughputExceeded", "ThrottlingError"}
)


def to_attrs(item: Mapping[str, Any]) -> dict[str, Any]:
    """Python values to DynamoDB attribute values."""
    return {k: _SERIALIZER.serialize(v) for k, v in item.items()}


def from_attrs(attrs: Mapping[str, Any]) -> Item:
    """DynamoDB attribute values to Python values; whole numbers come back as int, text as text.

    Everything is checked to be text where it comes in (text/scalars.py); a string stored before that
    check (or by hand) comes back with what is not text replaced, so no page, export or mail fails on it.
    """
    return {k: _plain(_DESERIALIZER.deserialize(v)) for k, v in attrs.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, str):
        return readable(value)
    if isinstance(value, dict):
        return {readable(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


@dataclass
class WriteMeter:
    """Write units of every successful write, by DynamoDB's documented rules, for the tests and the bench.

    Only numbers are kept, never a key or an item, so a meter can never carry personal data; production
    tables have none, and read nothing extra.
    """

    table: float = 0.0  # units the table's own items cost
    indexes: float = 0.0  # units the global secondary indexes cost
    writes: int = 0  # write requests (a transaction is one)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, table: float, indexes: float) -> None:
        """Add one write request's units, computed by DynamoDB's rules (store/capacity.py)."""
        with self._lock:
            self.table += table
            self.indexes += indexes
            self.writes += 1

    @property
    def total(self) -> float:
        """Every write unit so far: the table's and its indexes'."""
        return self.table + self.indexes

    def reset(self) -> None:
        """Start counting from zero."""
        with self._lock:
            self.table = self.indexes = 0.0
            self.writes = 0


class Table:
    """One DynamoDB table seen through the low-level client; `meter` counts write units (tests, bench)."""

    def __init__(self, client: DynamoDBClient, name: str, meter: WriteMeter | None = None) -> None:
        self.client = client
        self.name = name
        self.meter = meter

    def _write(self, call: Any, kwargs: dict[str, Any]) -> Any:
        """Send one write; with a meter, count its units from the item as it was before and after."""
        if self.meter is None:
            return call(**kwargs)
        key = kwargs["Key"] if "Key" in kwargs else {name: kwargs["Item"][name] for name in (PK, SK)}
        before = self._stored(key)
        response = call(**kwargs)
        after = self._stored(key)
        self.meter.add(capacity.item_units(before, after, transactional=False), capacity.index_units(before, after))
        return response

    def _stored(self, key: Mapping[str, Any]) -> dict[str, Any] | None:
        """An item exactly as stored (typed), for counting its write units; only ever read with a meter."""
        item: dict[str, Any] | None = self.client.get_item(TableName=self.name, Key=key, ConsistentRead=True).get(
            "Item"
        )
        return item

    def get(self, key: Mapping[str, str]) -> Item | None:
        """Strongly consistent read of one item."""
        response = self.client.get_item(TableName=self.name, Key=to_attrs(key), ConsistentRead=True)
        return from_attrs(response["Item"]) if "Item" in response else None

    def put(
        self,
        item: Mapping[str, Any],
        condition: str | None = None,
        names: Mapping[str, str] | None = None,
        values: Mapping[str, Any] | None = None,
    ) -> None:
        """Write an item, optionally only if `condition` (with its `names` and `values`) holds."""
        kwargs: dict[str, Any] = {"TableName": self.name, "Item": to_attrs(item)}
        if condition:
            kwargs["ConditionExpression"] = condition
            kwargs["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
            if names:
                kwargs["ExpressionAttributeNames"] = dict(names)
            if values:
                kwargs["ExpressionAttributeValues"] = to_attrs(values)
        check_request(kwargs)
        self._conditional(self.client.put_item, kwargs)

    def update(
        self,
        key: Mapping[str, str],
        expression: str,
        values: Mapping[str, Any] | None = None,
        names: Mapping[str, str] | None = None,
        condition: str | None = None,
    ) -> Item:
        """Apply an update expression and return the item as it is afterwards."""
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "Key": to_attrs(key),
            "UpdateExpression": expression,
            "ReturnValues": "ALL_NEW",
        }
        if values:
            kwargs["ExpressionAttributeValues"] = to_attrs(values)
        if names:
            kwargs["ExpressionAttributeNames"] = dict(names)
        if condition:
            kwargs["ConditionExpression"] = condition
            kwargs["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        check_request(kwargs)
        response = self._conditional(self.client.update_item, kwargs)
        return from_attrs(response.get("Attributes", {}))

    def delete(
        self, key: Mapping[str, str], condition: str | None = None, values: Mapping[str, Any] | None = None
    ) -> None:
        """Remove an item, optionally only if `condition` holds."""
        kwargs: dict[str, Any] = {"TableName": self.name, "Key": to_attrs(key)}
        if condition:
            kwargs["ConditionExpression"] = condition
            if values:
                kwargs["ExpressionAttributeValues"] = to_attrs(values)
        check_request(kwargs)
        self._conditional(self.client.delete_item, kwargs)

    def query(
        self,
        condition: str,
        values: Mapping[str, Any],
        names: Mapping[str, str] | None = None,
        index: str | None = None,
        projection: str | None = None,
        limit: int | None = None,
        where: str | None = None,
        descending: bool = False,
    ) -> Iterator[Item]:
        """Every item matching a key condition (the first `limit` of them, if given), page by page.

        `where` filters after reading: it saves transfer, not read capacity. `descending` reads the sort
        key from the highest down.
        """
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": to_attrs(values),
        }
        if names:
            kwargs["ExpressionAttributeNames"] = dict(names)
        if index:
            kwargs["IndexName"] = index
        else:
            kwargs["ConsistentRead"] = True
        if projection:
            kwargs["ProjectionExpression"] = projection
        if limit is not None:
            kwargs["Limit"] = limit
        if where:
            kwargs["FilterExpression"] = where
        if descending:
            kwargs["ScanIndexForward"] = False
        check_request(kwargs)
        yielded = 0
        while True:
            response = self.client.query(**kwargs)
            for attrs in response.get("Items", []):
                yield from_attrs(attrs)
                yielded += 1
            if "LastEvaluatedKey" not in response or (limit is not None and yielded >= limit):
                return
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def count(self, condition: str, values: Mapping[str, Any]) -> int:
        """How many items match a key condition (strongly consistent, items are not transferred)."""
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": to_attrs(values),
            "Select": "COUNT",
            "ConsistentRead": True,
        }
        check_request(kwargs)
        total = 0
        while True:
            response = self.client.query(**kwargs)
            total += int(response.get("Count", 0))
            if "LastEvaluatedKey" not in response:
                return total
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def transact(self, actions: list[dict[str, Any]]) -> None:
        """Write all actions atomically. Each action is {"Put"|"Update"|...: {...}} with Python values."""
        items = [{kind: self._serialise_action(body)} for action in actions for kind, body in action.items()]
        check_transaction(items)
        before = self._metered_items(items)
        try:
            self.client.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code == "InternalServerError":
                raise ServerBusy(str(exc)) from exc
            if code != "TransactionCanceledException":
                raise
            raw = exc.response.get("CancellationReasons", [])
            reasons = [
                CancelReason(code=r.get("Code", "None"), item=from_attrs(r["Item"]) if r.get("Item") else None)
                for r in raw
            ]
            raise TransactionCancelled(reasons) from exc
        if self.meter is not None and before is not None:
            after = self._metered_items(items) or []
            self.meter.add(
                sum(capacity.item_units(old, new, transactional=True) for old, new in zip(before, after, strict=True)),
                sum(capacity.index_units(old, new) for old, new in zip(before, after, strict=True)),
            )

    def _metered_items(self, items: list[dict[str, Any]]) -> list[dict[str, Any] | None] | None:
        """With a meter: each transaction item as stored now, to count its units; else nothing is read."""
        if self.meter is None:
            return None
        keys = [
            body["Key"] if "Key" in body else {n: body["Item"][n] for n in (PK, SK)}
            for a in items
            for body in a.values()
        ]
        return [self._stored(key) for key in keys]

    def _serialise_action(self, body: Mapping[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {"TableName": self.name}
        for name, value in body.items():
            out[name] = to_attrs(value) if name in ("Item", "Key", "ExpressionAttributeValues") else value
        if "ConditionExpression" in out:
            out["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
        return out

    def _conditional(self, call: Any, kwargs: dict[str, Any]) -> Any:
        try:
            return self._write(call, kwargs)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            old = exc.response.get("Item")
            raise ConditionFailed(from_attrs(old) if isinstance(old, dict) else None) from exc


def put_new(item: dict[str, Any]) -> dict[str, Any]:
    """A transaction action that adds `item` only if no item has its key yet."""
    return {"Put": {"Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}
