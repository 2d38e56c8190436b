"""Built for the rush: the item every seat change writes stays small, and its write units are counted."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from chalice.test import Client

import app as app_module
from chalicelib.domain.event import Event
from chalicelib.store import schema
from chalicelib.store.dynamo import Table, WriteMeter, to_attrs
from chalicelib.store.limits import item_size
from chalicelib.usecases.catalog import get_event
from chalicelib.usecases.registering import register
from local.faults import ConflictingClient
from tests.conftest import World, numbered, valid_form
from tests.test_http import post_form


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


def test_an_event_stored_before_the_split_is_read_and_moved_apart_on_publishing(world: World, published: Event) -> None:
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


def metered(world: World) -> tuple[Table, WriteMeter]:
    meter = WriteMeter()
    return Table(world.table.client, world.table.name, meter), meter


def test_write_units_per_registration_are_counted(world: World, sample_event: Event) -> None:
    event = world.publish(dataclasses.replace(sample_event, capacity=1))
    table, meter = metered(world)
    register(table, event, numbered(0), "SUB0000000", world.clock.now())
    seat = meter.total
    meter.reset()
    register(table, event, numbered(1), "SUB0000001", world.clock.now())
    waiting = meter.total
    print(f"seat {seat}, waiting list {waiting}, writes {meter.writes}")
    assert meter.writes == 1


def registrations_of(world: World, event: Event) -> list[dict[str, Any]]:
    return list(
        world.table.query(
            "pk = :pk AND begins_with(sk, :reg)", {":pk": schema.event_pk(event.slug), ":reg": schema.REG_PREFIX}
        )
    )


# --- conflicts survived ------------------------------------------------------------------------------


def crowd(site: str, world: World, slug: str, people: int) -> tuple[list[str], int, int]:
    """`people` registrations at once through the JSON API; a 503 is sent again after Retry-After (shortened)."""
    headers = {**world.api_headers(), "Content-Type": "application/json"}

    def one(n: int) -> tuple[str, int]:
        body = json.dumps(
            {
                "name": f"参加者{n}",
                "kana": "サンカシャ",
                "organization": "町",
                "category": "other",
                "email": f"crowd{n}@example.jp",
                "consent": True,
            }
        ).encode()
        busy = 0
        while True:
            request = urllib.request.Request(
                f"{site}/api/events/{slug}/registrations", data=body, headers=headers, method="POST"
            )
            try:
                with urllib.request.urlopen(request, timeout=60) as answer:
                    return json.loads(answer.read())["status"], busy
            except urllib.error.HTTPError as error:
                if error.code != 503:
                    return str(error.code), busy
                assert error.headers["Retry-After"] == "2" and json.loads(error.read())["status"] == "busy"
                busy += 1
                time.sleep(0.05)  # Retry-After says 2 s; the test does not wait that long

    with ThreadPoolExecutor(max_workers=people) as pool:
        results = list(pool.map(one, range(people)))
    outcomes = [outcome for outcome, _ in results]
    errors = sum(1 for outcome in outcomes if outcome.isdigit() and int(outcome) >= 500)
    return outcomes, sum(busy for _, busy in results), errors


@pytest.mark.parametrize("share", [0.0, 0.3, 0.6])
def test_a_crowd_meeting_transaction_conflicts_gets_exactly_the_seats_and_never_an_error(
    world: World, sample_event: Event, monkeypatch: pytest.MonkeyPatch, share: float
) -> None:
    from local.run import serve_site

    event = world.publish(dataclasses.replace(sample_event, capacity=10))
    world.api_headers()  # the key is issued before conflicts start
    faults = ConflictingClient(world.services.table.client, share, seed=17)
    monkeypatch.setattr(world.services.table, "client", faults)
    site = serve_site(app_module.app, "127.0.0.1", 0)
    threading.Thread(target=site.server.serve_forever, daemon=True).start()
    try:
        outcomes, busy, errors = crowd(f"http://127.0.0.1:{site.server.server_port}", world, event.slug, 40)
    finally:
        site.server.shutdown()
        site.server.server_close()
    assert errors == 0
    assert outcomes.count("registered") == 10 and outcomes.count("waitlisted") == 30, outcomes
    state = get_event(world.table, event.slug)
    assert state is not None and state.seats_taken == 10 and state.waiting == 30
    assert (faults.cancelled > 0) == (share > 0)
    print(f"conflicts {share:.0%}: {faults.cancelled} of {faults.transactions} transactions cancelled, {busy} × 503")


def test_when_every_try_loses_the_form_says_try_again_and_keeps_what_was_typed(
    client: Client, world: World, published: Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(world.services.table, "client", ConflictingClient(world.services.table.client, 1.0))
    answer = post_form(client, published.slug, **valid_form(name="受付 花子"))
    assert answer.status_code == 503 and answer.headers["Retry-After"] == "2"
    body = answer.body.decode()
    assert "混み合っているため" in body and 'value="受付 花子"' in body
    assert registrations_of(world, published) == []  # nothing was registered


def test_a_busy_api_answer_frees_its_idempotency_key_for_the_retry(
    client: Client, world: World, published: Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = {**world.api_headers(), "Idempotency-Key": "retry-me"}
    body = json.dumps({**valid_form(), "consent": True})
    real = world.services.table.client
    monkeypatch.setattr(world.services.table, "client", ConflictingClient(real, 1.0))
    busy = client.http.post(f"/api/events/{published.slug}/registrations", headers=headers, body=body)
    assert busy.status_code == 503 and busy.json_body["status"] == "busy"
    monkeypatch.setattr(world.services.table, "client", real)
    done = client.http.post(f"/api/events/{published.slug}/registrations", headers=headers, body=body)
    assert done.status_code == 201, done.json_body  # not 409 "in progress", not the 503 replayed
