"""The adapter refuses, before sending, what DynamoDB refuses and the local engines may let through."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.store import limits
from chalicelib.store.dynamo import Table, to_attrs
from chalicelib.store.limits import BeyondDynamoLimits, item_size

KEY = {"pk": "EVENT#x", "sk": "EVENT"}


class NoCalls:
    """A DynamoDB client that fails the test if a request reaches it."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"{name} was sent although DynamoDB would refuse it")


@pytest.fixture
def table() -> Table:
    return Table(NoCalls(), "t")  # type: ignore[arg-type]


def test_item_size_is_counted_as_the_developer_guide_counts_it() -> None:
    assert item_size(to_attrs({"shirt-color": "R", "shirt-size": "M"})) == 23  # the guide's own example
    assert item_size(to_attrs({"name": "山田"})) == 4 + 6  # UTF-8 bytes, not characters
    assert item_size(to_attrs({"n": 12345})) == 1 + 4  # about a byte per two digits, plus one
    assert item_size(to_attrs({"m": {"a": "b"}})) == 1 + 3 + 1 + 1 + 1  # a map's overhead and its names


def test_an_item_over_400_kb_is_refused_before_it_is_sent(table: Table) -> None:
    with pytest.raises(BeyondDynamoLimits, match=r"409,6\d\d bytes; DynamoDB's limit is 409,600 per item"):
        table.put({**KEY, "details": "x" * limits.MAX_ITEM_BYTES})


def test_keys_longer_than_dynamodb_allows_are_refused(table: Table) -> None:
    with pytest.raises(BeyondDynamoLimits, match="key attribute sk is 1,025 bytes; DynamoDB allows 1 to 1,024"):
        table.put({"pk": "EVENT#x", "sk": "s" * 1025})
    with pytest.raises(BeyondDynamoLimits, match="key attribute pk is 2,049 bytes"):
        table.delete({"pk": "p" * 2049, "sk": "EVENT"})


def test_expressions_and_placeholders_beyond_the_limits_are_refused(table: Table) -> None:
    long_condition = " AND ".join(f"attribute_exists(a{n})" for n in range(200))  # over 4 KB
    with pytest.raises(BeyondDynamoLimits, match="ConditionExpression is 5,285 bytes; DynamoDB's limit is 4,096"):
        table.put(KEY, condition=long_condition)
    with pytest.raises(BeyondDynamoLimits, match=r"placeholder ':v{19}'\.\.\. is over 255 bytes"):
        table.update(KEY, "SET a = :" + "v" * 255, {":" + "v" * 255: 1})
    with pytest.raises(BeyondDynamoLimits, match="301 operators and functions; DynamoDB's limit is 300"):
        table.update(KEY, "SET a = :one" + " + :one" * 301, {":one": 1})
    many = ", ".join(f":v{n}" for n in range(101))
    with pytest.raises(BeyondDynamoLimits, match="compares IN more than 100 operands"):
        list(table.query("pk = :pk", {":pk": "x"}, where=f"category IN ({many})"))
    with pytest.raises(
        BeyondDynamoLimits, match="names and values take 2,100,000 bytes; DynamoDB's limit is 2,097,152"
    ):
        table.update(KEY, "SET a = :a, b = :b, c = :c", {name: "x" * 700_000 for name in (":a", ":b", ":c")})


def test_attributes_nested_deeper_than_32_levels_are_refused(table: Table) -> None:
    nested: dict[str, Any] = {"end": True}
    for _ in range(33):
        nested = {"in": nested}
    with pytest.raises(BeyondDynamoLimits, match="nest more than 32 levels"):
        table.put({**KEY, "nested": nested})


def put(n: int, **extra: Any) -> dict[str, Any]:
    return {"Put": {"Item": {"pk": "EVENT#x", "sk": f"ITEM#{n}", **extra}}}


def test_transactions_beyond_100_items_4_mb_or_touching_one_item_twice_are_refused(table: Table) -> None:
    with pytest.raises(BeyondDynamoLimits, match="a transaction of 101 items; DynamoDB's limit is 100"):
        table.transact([put(n) for n in range(101)])
    with pytest.raises(BeyondDynamoLimits, match="a transaction of 4,290,232 bytes; DynamoDB's limit is 4,194,304"):
        table.transact([put(n, blob="x" * 390_000) for n in range(11)])
    same = {"ConditionCheck": {"Key": {"pk": "EVENT#x", "sk": "ITEM#1"}, "ConditionExpression": "attribute_exists(pk)"}}
    with pytest.raises(BeyondDynamoLimits, match="two actions in one transaction work on the same item"):
        table.transact([put(1), same])


def test_text_that_cannot_be_encoded_is_measured_not_crashed_on() -> None:
    # Refused at every door, but the hostile-data tests store it directly: sizing must not be the one to fail.
    assert item_size(to_attrs({"name": "\ud800"})) == 4 + 3
