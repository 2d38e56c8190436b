"""Built for the rush: the item every seat change writes stays small, and its write units are counted."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.domain.event import Category, Event
from chalicelib.store import schema
from chalicelib.store.dynamo import WriteMeter, to_attrs
from chalicelib.store.limits import item_size
from chalicelib.usecases.catalog import get_event
from chalicelib.usecases.changes import cancel
from chalicelib.usecases.registering import Outcome, register
from chalicelib.usecases.reminders import send_due_reminders
from chalicelib.usecases.waitlist import read_ledger
from local.faults import ConflictingClient
from tests.conftest import World, mailbox, numbered, serving, valid_form
from tests.test_http import post_form


def stored(world: World, key: dict[str, str]) -> dict[str, Any]:
    """An item exactly as DynamoDB holds it (typed attribute values)."""
    return dict(world.table.client.get_item(TableName=world.table.name, Key=to_attrs(key))["Item"])


def test_the_hot_item_of_the_sample_event_is_well_under_one_kilobyte(world: World, published: Event) -> None:
    for n in range(30):
        register(world.table, published, numbered(n), f"SUB{n:07d}", world.clock.now())
    hot = stored(world, schema.event_key(published.slug))
    assert "details" not in hot
    print(f"hot item of the sample: {item_size(hot)} bytes")
    assert item_size(hot) < 512, item_size(hot)  # a transactional write of it costs 2 units, not 10
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


@contextlib.contextmanager
def counting(world: World) -> Iterator[WriteMeter]:
    """Count the write units of everything the app and the jobs write through the test's table meanwhile."""
    meter = WriteMeter()
    world.table.meter = meter
    try:
        yield meter
    finally:
        world.table.meter = None


# The goal the issue sets is 6 units per registration; the registration is one transaction of four items
# (ledger, address guard, registration, its mail), each costing 2 units however small, plus the mail's
# entry in the index. These figures pin today's cost: any write added to these paths fails here.
SEAT = (8, 1)  # (table units, index units)
WAITING = (10, 1)  # the place in line is a fifth item
APPLICATION = (6, 1)  # an application leaves the event item alone: three items


def test_write_units_per_registration_are_counted_by_dynamodbs_rules(world: World, sample_event: Event) -> None:
    event = world.publish(dataclasses.replace(sample_event, capacity=1))
    lottery = world.publish(
        dataclasses.replace(sample_event, slug="lottery", draw_at=sample_event.starts_at - timedelta(days=5))
    )
    for target, expected, n in ((event, SEAT, 0), (event, WAITING, 1), (lottery, APPLICATION, 2)):
        with counting(world) as meter:
            register(world.table, target, numbered(n), f"SUB{n:07d}", world.clock.now())
        assert (meter.writes, meter.table, meter.indexes) == (1, *expected), (target.slug, n)


def test_write_units_of_the_other_paths_are_reported(world: World, sample_event: Event) -> None:
    event = world.publish(dataclasses.replace(sample_event, capacity=2))
    ids = [
        register(world.table, event, numbered(n), f"SUB{n:07d}", world.clock.now()).registration_id for n in range(3)
    ]
    world.deliver_outbox()
    figures: dict[str, tuple[float, float]] = {}
    with counting(world) as meter:
        cancel(world.table, event, ids[0], world.clock.now())  # the first in line takes the seat
    figures["cancellation with promotion"] = (meter.table, meter.indexes)
    before = len(mailbox())
    with counting(world) as meter:
        world.deliver_outbox()
    sent = len(mailbox()) - before
    figures["per mail sent"] = (meter.table / sent, meter.indexes / sent)
    world.clock.set(min(event.reminder_schedule().values()) + timedelta(seconds=1))
    with counting(world) as meter:
        fanned = send_due_reminders(world.table, world.clock.now())
    registrants = sum(f.registrants for f in fanned)
    figures["reminder, per registrant"] = (meter.table / registrants, meter.indexes / registrants)
    # A cancellation rewrites the ledger and both registrations and deletes a place (2 units each), writes
    # two mails (2 each, and their index entries); a mail sent is claimed, takes a slot of the account's
    # send rate, has its claim confirmed and is marked (1 each: mail/pacing.py, postman.py) and leaves the
    # index; a reminder writes one mail per registrant, plus its own item's update shared by them.
    assert figures == {
        "cancellation with promotion": (14, 2),
        "per mail sent": (4, 1),
        "reminder, per registrant": (1.5, 1.5),
    }


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
    event = world.publish(dataclasses.replace(sample_event, capacity=10))
    world.api_headers()  # the key is issued before conflicts start
    faults = ConflictingClient(world.services.table.client, share, seed=17)
    monkeypatch.setattr(world.services.table, "client", faults)
    with serving() as site:
        outcomes, busy, errors = crowd(site, world, event.slug, 40)
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


def test_with_twenty_categories_and_long_texts_the_hot_item_stays_under_one_kilobyte(
    world: World, sample_event: Event
) -> None:
    categories = tuple(
        Category(f"category-number-{n:02d}-of-the-event", f"参加区分 {n} " + "説明" * 40, reserved=1) for n in range(20)
    )
    long = dataclasses.replace(
        sample_event, categories=categories, summary="長い説明。" * 400, capacity=200, waitlist=True
    )
    event = world.publish(long)
    for n in range(60):  # seats in every category, and a waiting list
        attendee = dataclasses.replace(numbered(n), category=categories[n % 20].key)
        register(world.table, event, attendee, f"SUB{n:07d}", world.clock.now())
    hot = stored(world, schema.event_key(event.slug))
    print(f"hot item with 20 categories: {item_size(hot)} bytes")
    assert item_size(hot) < 1024, item_size(hot)  # 2 units a transactional write, however long the keys
    assert item_size(stored(world, schema.details_key(event.slug))) > 10_000


def test_a_ledger_stored_by_older_code_is_upgraded_by_the_first_registration(world: World, published: Event) -> None:
    register(world.table, published, numbered(0), "SUB0000000", world.clock.now())
    book = read_ledger(world.table, published.slug)
    # As older code stored it: the maps keyed by the category itself, under their old names.
    by_category = {c.key: c.key for c in published.categories}
    old = {
        "taken_by": {k: book.taken(k) for k in by_category},
        "waiting_by": {k: book.waiting_of(k) for k in by_category},
        "reserved": {k: book.reserved_for(k) for k in by_category},
    }
    world.table.update(
        schema.event_key(published.slug),
        "SET taken_by = :t, waiting_by = :w, reserved = :r REMOVE taken_in, waiting_in, reserved_in",
        {":t": old["taken_by"], ":w": old["waiting_by"], ":r": old["reserved"]},
    )
    assert read_ledger(world.table, published.slug).legacy
    result = register(world.table, published, numbered(1), "SUB0000001", world.clock.now())
    assert result.outcome is Outcome.REGISTERED
    upgraded = stored(world, schema.event_key(published.slug))
    assert "taken_by" not in upgraded and "taken_in" in upgraded
    assert read_ledger(world.table, published.slug).seats_taken == 2
