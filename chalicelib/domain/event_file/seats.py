"""Seats and categories: the capacity, each 参加区分 with the seats reserved for it, and their counters."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chalicelib.domain.event import Category, EventFileError
from chalicelib.domain.event_file.values import list_of_tables, text, whole_number
from chalicelib.domain.ledger import sharing_a_slot

# Far above any study session, and far below DynamoDB's 38 digits (a 5,000-digit capacity was a 500).
MAX_CAPACITY = 100_000


def capacity(data: Mapping[str, Any]) -> int:
    """The number of seats (required)."""
    try:
        return whole_number(data, "capacity", None, 1, MAX_CAPACITY)
    except EventFileError as exc:
        raise EventFileError(f"capacity must be a whole number of seats, from 1 to {MAX_CAPACITY}") from exc


def categories(data: Mapping[str, Any], seats: int) -> tuple[Category, ...]:
    """[[categories]]: at least one, keys unique and on counters of their own, reservations within the seats."""
    found = tuple(
        Category(
            key=text(c, "key", where="categories"), label=text(c, "label", where="categories"), reserved=reserved(c)
        )
        for c in list_of_tables(data, "categories")
    )
    if sum(c.reserved for c in found) > seats:
        raise EventFileError("categories: the reserved seats add up to more than the capacity")
    if not found:
        raise EventFileError("categories must list at least one 参加区分 ([[categories]] with key and label)")
    if len({c.key for c in found}) != len(found):
        raise EventFileError("categories: each key must be unique")
    for first, second in sharing_a_slot(c.key for c in found):
        raise EventFileError(
            f"categories: the keys {first!r} and {second!r} would share one seat counter (a one-in-millions chance); "
            "rename one of them"
        )
    return found


def reserved(category: Mapping[str, Any]) -> int:
    value = category.get("reserved", 0)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise EventFileError("categories: reserved must be a whole number of seats, 0 or more")
    return value
