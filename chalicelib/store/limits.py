"""DynamoDB's documented limits, checked before a request leaves: the local engines accept some of what AWS refuses.

From the Amazon DynamoDB Developer Guide, "Constraints in Amazon DynamoDB" (items, keys, nested
attributes, expression parameters, transactions) and "Item sizes and formats" (how a size is counted).
moto and DynamoDB Local enforce only part of this, so the adapter checks every request itself: a test
that passes locally then also passes the limits AWS applies. Sizes are counted as that page describes,
rounded up where it says "approximately", so the check errs on the side of refusing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from chalicelib.store.schema import PK, SK

MAX_ITEM_BYTES = 400 * 1024  # attribute names (UTF-8) and values together
MAX_PARTITION_KEY_BYTES = 2048
MAX_SORT_KEY_BYTES = 1024
MAX_NESTING = 32  # levels of lists and maps inside an attribute
MAX_EXPRESSION_BYTES = 4 * 1024  # any one expression string
MAX_PLACEHOLDER_BYTES = 255  # any one `#name` or `:value` token
MAX_SUBSTITUTION_BYTES = 2 * 1024 * 1024  # all names and values of a request's expressions together
MAX_UPDATE_OPERATORS = 300  # operators and functions in one UpdateExpression
MAX_IN_OPERANDS = 100
MAX_TRANSACTION_ITEMS = 100
MAX_TRANSACTION_BYTES = 4 * 1024 * 1024

_EXPRESSIONS = (
    "ConditionExpression",
    "UpdateExpression",
    "KeyConditionExpression",
    "FilterExpression",
    "ProjectionExpression",
)
_FUNCTION = re.compile(
    r"\b(?:attribute_exists|attribute_not_exists|attribute_type|begins_with|contains|size|"
    r"if_not_exists|list_append)\s*\("
)
_ARITHMETIC = re.compile(r"[+-]")
_IN_LIST = re.compile(r"\bIN\s*\(([^)]*)\)", re.IGNORECASE)


class BeyondDynamoLimits(ValueError):
    """A request AWS would refuse with a ValidationException; the message names the limit and the size."""


def attribute_size(value: Mapping[str, Any], depth: int = 0) -> int:
    """Bytes one attribute value (in DynamoDB's typed form) counts towards its item's size."""
    if depth > MAX_NESTING:
        raise BeyondDynamoLimits(f"attributes nest more than {MAX_NESTING} levels deep")
    ((kind, content),) = value.items()
    if kind == "S":
        return _utf8(str(content))
    if kind == "N":
        return _number_size(str(content))
    if kind == "B":
        return len(content)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(_utf8(text) for text in content)
    if kind == "NS":
        return sum(_number_size(number) for number in content)
    if kind == "BS":
        return sum(len(blob) for blob in content)
    if kind == "L":
        return 3 + sum(1 + attribute_size(element, depth + 1) for element in content)
    if kind == "M":
        return 3 + sum(1 + _utf8(name) + attribute_size(element, depth + 1) for name, element in content.items())
    raise BeyondDynamoLimits(f"unknown attribute type {kind!r}")


def _utf8(text: str) -> int:
    """UTF-8 length; a lone surrogate (refused at every door, but possibly stored before) counts 3 bytes."""
    if text.isascii():  # most text here (keys, ids, times): one byte a character, no encoding needed
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))


def _number_size(text: str) -> int:
    """About one byte per two significant digits, plus one (rounded up)."""
    digits = text.lstrip("+-").replace(".", "").split("e")[0].split("E")[0].strip("0") or "0"
    return (len(digits) + 1) // 2 + 1


def item_size(attrs: Mapping[str, Any]) -> int:
    """Bytes an item (typed attribute values by name) takes, names included."""
    return sum(_utf8(name) + attribute_size(value) for name, value in attrs.items())


def check_item(attrs: Mapping[str, Any], what: str = "an item") -> int:
    """Refuse an item over 400 KB; returns its size."""
    size = item_size(attrs)
    if size > MAX_ITEM_BYTES:
        raise BeyondDynamoLimits(f"{what} would be {size:,} bytes; DynamoDB's limit is {MAX_ITEM_BYTES:,} per item")
    return size


def check_key(key: Mapping[str, Any], partition: str = PK, sort: str = SK) -> None:
    """Refuse key values outside DynamoDB's lengths (1 to 2,048 bytes; 1 to 1,024 for the sort key)."""
    for name, limit in ((partition, MAX_PARTITION_KEY_BYTES), (sort, MAX_SORT_KEY_BYTES)):
        if name not in key:
            continue
        size = attribute_size(key[name])
        if not 1 <= size <= limit:
            raise BeyondDynamoLimits(f"key attribute {name} is {size:,} bytes; DynamoDB allows 1 to {limit:,}")


def check_request(request: Mapping[str, Any]) -> int:
    """Refuse one request's (or one transaction action's) keys, item and expressions beyond the limits.

    Returns the size of its item (or key) and of its values, as a transaction counts them.
    """
    size = 0
    if "Key" in request:
        check_key(request["Key"])
        size = item_size(request["Key"])
    if "Item" in request:
        check_key(request["Item"])
        size = check_item(request["Item"])
    for field in _EXPRESSIONS:
        if field in request:
            _check_expression(field, request[field])
    names: Mapping[str, str] = request.get("ExpressionAttributeNames", {})
    values: Mapping[str, Any] = request.get("ExpressionAttributeValues", {})
    for token in (*names, *values):
        if _utf8(token) > MAX_PLACEHOLDER_BYTES:
            raise BeyondDynamoLimits(f"placeholder {token[:20]!r}... is over {MAX_PLACEHOLDER_BYTES} bytes")
    value_bytes = sum(attribute_size(value) for value in values.values())
    substituted = value_bytes + sum(_utf8(name) for name in names.values())
    if substituted > MAX_SUBSTITUTION_BYTES:
        raise BeyondDynamoLimits(
            f"the expressions' names and values take {substituted:,} bytes; DynamoDB's limit is "
            f"{MAX_SUBSTITUTION_BYTES:,}"
        )
    return size + value_bytes


def _check_expression(field: str, expression: str) -> None:
    size = _utf8(expression)
    if size > MAX_EXPRESSION_BYTES:
        raise BeyondDynamoLimits(f"{field} is {size:,} bytes; DynamoDB's limit is {MAX_EXPRESSION_BYTES:,}")
    if field == "UpdateExpression":
        operators = len(_FUNCTION.findall(expression)) + len(_ARITHMETIC.findall(expression))
        if operators > MAX_UPDATE_OPERATORS:
            raise BeyondDynamoLimits(
                f"UpdateExpression holds {operators} operators and functions; "
                f"DynamoDB's limit is {MAX_UPDATE_OPERATORS}"
            )
    for operands in _IN_LIST.findall(expression):
        if operands.count(",") + 1 > MAX_IN_OPERANDS:
            raise BeyondDynamoLimits(f"{field} compares IN more than {MAX_IN_OPERANDS} operands")


def check_transaction(actions: Iterable[Mapping[str, Mapping[str, Any]]]) -> None:
    """Refuse a TransactWriteItems beyond 100 items or 4 MB, or with two actions on one item."""
    seen: set[tuple[str, ...]] = set()
    total = 0
    count = 0
    for action in actions:
        ((kind, body),) = action.items()
        total += check_request(body)
        key = body["Key"] if "Key" in body else {name: body["Item"][name] for name in (PK, SK)}
        identity = (body.get("TableName", ""), *(repr(sorted(value.items())) for _, value in sorted(key.items())))
        if identity in seen:
            raise BeyondDynamoLimits(f"two actions in one transaction work on the same item ({kind} of {identity[1:]})")
        seen.add(identity)
        count += 1
    if count > MAX_TRANSACTION_ITEMS:
        raise BeyondDynamoLimits(f"a transaction of {count} items; DynamoDB's limit is {MAX_TRANSACTION_ITEMS}")
    if total > MAX_TRANSACTION_BYTES:
        raise BeyondDynamoLimits(f"a transaction of {total:,} bytes; DynamoDB's limit is {MAX_TRANSACTION_BYTES:,}")
