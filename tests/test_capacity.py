"""Built for the rush: the item every seat change writes stays small, and its write units are counted."""

from __future__ import annotations

from typing import Any

from chalicelib.domain.event import Event
from chalicelib.store import schema
from chalicelib.store.dynamo import to_attrs
from chalicelib.store.limits import item_size
from chalicelib.usecases.catalog import get_event
from chalicelib.usecases.registering import register
from tests.conftest import World, numbered


def stored(world: World, key: dict[str, str]) -> dict[str, Any]:
    """An item exactly as DynamoDB holds it (typed attribute values)."""
    return dict(world.table.client.get_item(TableName=world.table.name, Key=to_attrs(key))["Item"])


def test_the_hot_item_of_the_sample_event_is_well_under_one_kilobyte(world: World, published: Event) -> None:
    for n in range(30):
        register(world.table, published, numbered(n), f"SUB{n:07d}", world.clock.now())
    hot = stored(world, schema.event_key(published.slug))
    assert "details" not in hot
    assert item_size(hot) < 700, item_size(hot)  # a transactional write of it costs 2 units, not 10
    details = stored(world, schema.details_key(published.slug))
    assert item_size(details) > 3000  # the ~4 KB of texts live apart, read through the details cache


def test_an_event_stored_before_the_split_is_read_and_moved_apart_on_publishing(
    world: World, published: Event
) -> None:
    # As older code stored it: the details on the event item, no details item.
    text = stored(world, schema.details_key(published.slug))["details"]
    world.table.client.delete_item(TableName=world.table.name, Key=to_attrs(schema.details_key(published.slug)))
    world.table.client.update_item(
        TableName=world.table.name,
        Key=to_attrs(schema.event_key(published.slug)),
        UpdateExpression="SET details = :d",
        ExpressionAttributeValues={":d": text},
    )
    state = get_event(world.table, published.slug)
    assert state is not None and state.event == published
    world.publish(published)
    assert "details" not in stored(world, schema.event_key(published.slug))
    assert stored(world, schema.details_key(published.slug))["details"] == text
