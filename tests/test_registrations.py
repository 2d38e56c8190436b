"""Taking seats on DynamoDB Local: capacity, duplicates, idempotency, concurrency."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.domain.event import Event
from chalicelib.domain.ids import derived_id
from chalicelib.store import schema
from chalicelib.store.dynamo import Table
from chalicelib.store.retry import BRIEF, RetryPolicy
from chalicelib.usecases.address_guards import RESEND_INTERVAL
from chalicelib.usecases.catalog import get_event
from chalicelib.usecases.registering import Outcome, RegistrationResult, register
from chalicelib.usecases.registrations import get_registration
from local.faults import ConflictingClient
from tests.conftest import Sequence, World, numbered, sent_until_answered


def items_with_prefix(world: World, slug: str, prefix: str) -> list[dict[str, Any]]:
    return list(world.table.query("pk = :pk AND begins_with(sk, :p)", {":pk": schema.event_pk(slug), ":p": prefix}))


def test_registration_takes_a_seat_and_queues_exactly_one_confirmation(world: World, published: Event) -> None:
    result = register(world.table, published, numbered(1), "SUB0000001", world.clock.now(), Sequence())
    assert result.outcome is Outcome.REGISTERED
    stored = get_registration(world.table, published.slug, result.registration_id)
    assert stored is not None and stored.attendee.email == "person1@example.jp" and stored.status == "confirmed"
    assert get_event(world.table, published.slug).seats_taken == 1  # type: ignore[union-attr]
    mails = items_with_prefix(world, published.slug, schema.MAIL_PREFIX)
    assert [(m["kind"], m["registration_id"], m["status"]) for m in mails] == [
        ("confirmation", result.registration_id, "pending")
    ]


def test_same_address_again_takes_no_second_seat(world: World, published: Event) -> None:
    first = register(world.table, published, numbered(1), "SUB0000001", world.clock.now(), Sequence())
    world.clock.set(world.clock.now() + RESEND_INTERVAL + timedelta(seconds=1))
    again = register(
        world.table,
        published,
        dataclasses.replace(numbered(1), email="PERSON1@example.jp"),
        "SUB0000002",
        world.clock.now(),
        Sequence("X"),
    )
    assert again.outcome is Outcome.ALREADY_REGISTERED
    assert again.registration_id == first.registration_id
    assert again.confirmation_resent is True
    assert get_event(world.table, published.slug).seats_taken == 1  # type: ignore[union-attr]
    mails = items_with_prefix(world, published.slug, schema.MAIL_PREFIX)
    assert len(mails) == 2 and {m["registration_id"] for m in mails} == {first.registration_id}


def test_resend_is_limited_so_the_form_cannot_flood_an_inbox(world: World, published: Event) -> None:
    register(world.table, published, numbered(1), "SUB0000001", world.clock.now(), Sequence())
    again = register(world.table, published, numbered(1), "SUB0000002", world.clock.now(), Sequence("X"))
    assert again.outcome is Outcome.ALREADY_REGISTERED and again.confirmation_resent is False
    assert len(items_with_prefix(world, published.slug, schema.MAIL_PREFIX)) == 1


def test_a_replayed_submission_gets_the_same_answer_and_no_new_mail(world: World, published: Event) -> None:
    first = register(world.table, published, numbered(1), "SUB0000001", world.clock.now(), Sequence())
    replay = register(world.table, published, numbered(1), "SUB0000001", world.clock.now(), Sequence("X"))
    assert replay.outcome is Outcome.REGISTERED and replay.registration_id == first.registration_id
    assert len(items_with_prefix(world, published.slug, schema.MAIL_PREFIX)) == 1
    assert len(items_with_prefix(world, published.slug, schema.REG_PREFIX)) == 1


def test_full_event_refuses_with_full(world: World, sample_event: Event) -> None:
    event = world.publish(dataclasses.replace(sample_event, capacity=1, waitlist=False))
    assert register(world.table, event, numbered(1), "S000000001", world.clock.now()).outcome is Outcome.REGISTERED
    refused = register(world.table, event, numbered(2), "S000000002", world.clock.now())
    assert refused.outcome is Outcome.FULL
    assert len(items_with_prefix(world, event.slug, schema.REG_PREFIX)) == 1


def test_after_the_deadline_it_is_closed_even_before_the_closer_runs(world: World, published: Event) -> None:
    late = published.registration_closes_at + timedelta(seconds=1)
    assert register(world.table, published, numbered(1), "S000000001", late).outcome is Outcome.CLOSED


def test_unknown_event_is_not_found(world: World, sample_event: Event) -> None:
    assert (
        register(
            world.table,
            dataclasses.replace(sample_event, slug="no-such-event"),
            numbered(1),
            "S000000001",
            world.clock.now(),
        ).outcome
        is Outcome.NOT_FOUND
    )


def test_a_registered_address_is_told_so_when_a_place_was_there_to_give(world: World, sample_event: Event) -> None:
    event = world.publish(dataclasses.replace(sample_event, capacity=1))  # full, with a waiting list
    register(world.table, event, numbered(1), "S000000001", world.clock.now())
    again = register(world.table, event, numbered(1), "S000000002", world.clock.now())
    assert again.outcome is Outcome.ALREADY_REGISTERED  # anyone else would have had a place in line


def _no_seat_or_place(world: World, sample_event: Event, how: str) -> Event:
    """An event where a registration gets neither a seat nor a place, after numbered(1) registered."""
    capacity = 1 if how == "full" else 50
    draw_at = sample_event.starts_at - timedelta(days=5) if how == "drawing" else None
    event = world.publish(dataclasses.replace(sample_event, capacity=capacity, waitlist=False, draw_at=draw_at))
    first = register(world.table, event, numbered(1), "S000000001", world.clock.now())
    assert first.outcome in (Outcome.REGISTERED, Outcome.APPLIED)
    if how == "closed":
        world.clock.set(event.registration_closes_at + timedelta(minutes=1))
    if how == "drawing":
        world.clock.set(event.draw_at)  # type: ignore[arg-type]
    world.clock.set(world.clock.now() + RESEND_INTERVAL + timedelta(seconds=1))
    return event


@pytest.mark.parametrize(
    ("how", "answer"), [("full", Outcome.FULL), ("closed", Outcome.CLOSED), ("drawing", Outcome.DRAWING)]
)
def test_when_no_seat_or_place_is_given_a_registered_address_hears_what_anyone_hears(
    world: World, sample_event: Event, how: str, answer: Outcome
) -> None:
    event = _no_seat_or_place(world, sample_event, how)
    mails = len(items_with_prefix(world, event.slug, schema.MAIL_PREFIX))
    registered = register(world.table, event, numbered(1), "S000000002", world.clock.now())
    stranger = register(world.table, event, numbered(2), "S000000003", world.clock.now())
    assert registered == stranger == RegistrationResult(answer)  # no id, no flag: the same answer
    # "Already registered" goes to the address itself, by mail (a confirmation again, at most every few minutes).
    queued = items_with_prefix(world, event.slug, schema.MAIL_PREFIX)
    assert len(queued) == mails + 1 and queued[-1]["kind"] in ("confirmation",)
    assert len(items_with_prefix(world, event.slug, schema.REG_PREFIX)) == 1


def test_a_submission_registers_one_person_only(world: World, published: Event) -> None:
    first = register(world.table, published, numbered(1), "SUB0000001", world.clock.now(), Sequence())
    for other in (2, 3):
        replayed = register(world.table, published, numbered(other), "SUB0000001", world.clock.now(), Sequence("X"))
        assert replayed == RegistrationResult(Outcome.RESUBMITTED)
    assert [r["email"] for r in items_with_prefix(world, published.slug, schema.REG_PREFIX)] == ["person1@example.jp"]
    assert get_event(world.table, published.slug).seats_taken == 1  # type: ignore[union-attr]
    assert len(items_with_prefix(world, published.slug, schema.MAIL_PREFIX)) == 1
    # The same person sending it again is still the double click it always was.
    assert register(world.table, published, numbered(1), "SUB0000001", world.clock.now()) == first


@pytest.mark.slow
def test_500_concurrent_registrations_for_50_seats_fill_exactly_50(world: World, sample_event: Event) -> None:
    event = world.publish(dataclasses.replace(sample_event, capacity=50, waitlist=False))

    def attempt(n: int) -> Outcome:
        return sent_until_answered(
            lambda: register(world.table, event, numbered(n), f"SUB{n:07d}", world.clock.now())
        ).outcome

    with ThreadPoolExecutor(max_workers=64) as pool:
        outcomes = list(pool.map(attempt, range(500)))

    assert outcomes.count(Outcome.REGISTERED) == 50
    assert outcomes.count(Outcome.FULL) == 450
    assert get_event(world.table, event.slug).seats_taken == 50  # type: ignore[union-attr]
    assert len(items_with_prefix(world, event.slug, schema.REG_PREFIX)) == 50
    assert len(items_with_prefix(world, event.slug, schema.EMAIL_PREFIX)) == 50
    assert len(items_with_prefix(world, event.slug, schema.MAIL_PREFIX)) == 50


@pytest.mark.slow
def test_the_same_address_submitted_concurrently_takes_one_seat(world: World, published: Event) -> None:
    def attempt(n: int) -> Outcome:
        return sent_until_answered(
            lambda: register(world.table, published, numbered(7), f"SUB{n:07d}", world.clock.now())
        ).outcome

    with ThreadPoolExecutor(max_workers=32) as pool:
        outcomes = list(pool.map(attempt, range(100)))
    assert outcomes.count(Outcome.REGISTERED) == 1
    assert outcomes.count(Outcome.ALREADY_REGISTERED) == 99
    assert get_event(world.table, published.slug).seats_taken == 1  # type: ignore[union-attr]


def conflicting(world: World, first: int) -> tuple[Table, ConflictingClient]:
    """The test's table, with its first `first` transactions cancelled for conflicts (local/faults.py)."""
    client = ConflictingClient(world.table.client, first=first)
    return Table(client, world.table.name), client  # type: ignore[arg-type]


def test_transaction_conflicts_are_retried_with_backoff(world: World, published: Event) -> None:
    table, faults = conflicting(world, first=3)
    pauses: list[float] = []
    retry = RetryPolicy(attempts=BRIEF.attempts, sleep=pauses.append)
    result = register(table, published, numbered(1), "S000000001", world.clock.now(), retry=retry)
    assert result.outcome is Outcome.REGISTERED
    assert faults.transactions == 4 and len(pauses) == 3
    assert get_event(world.table, published.slug).seats_taken == 1  # type: ignore[union-attr]


def test_conflicts_that_never_clear_answer_busy_and_write_nothing(world: World, published: Event) -> None:
    table, _ = conflicting(world, first=BRIEF.attempts)
    retry = RetryPolicy(attempts=BRIEF.attempts, sleep=lambda _: None)
    result = register(table, published, numbered(1), "S000000001", world.clock.now(), retry=retry)
    assert result.outcome is Outcome.BUSY
    assert get_event(world.table, published.slug).seats_taken == 0  # type: ignore[union-attr]


def test_a_registration_id_another_submission_holds_is_drawn_again(world: World, published: Event) -> None:
    first = register(world.table, published, numbered(1), "SUB0000001", world.clock.now())
    # Ids are fixed by their submission; two submissions meeting on one id (50 bits) is made here by hand.
    collided = derived_id("registration", published.slug, "SUB0000002")
    taken = world.table.get(schema.registration_key(published.slug, first.registration_id))
    world.table.put({**taken, **schema.registration_key(published.slug, collided), "registration_id": collided})  # type: ignore[dict-item]
    second = register(world.table, published, numbered(2), "SUB0000002", world.clock.now(), Sequence("O"))
    assert (second.outcome, second.registration_id) == (Outcome.REGISTERED, "O000000001")
    kept = get_registration(world.table, published.slug, collided)
    assert kept is not None and kept.attendee.email == "person1@example.jp"  # not overwritten
    assert get_event(world.table, published.slug).seats_taken == 2  # type: ignore[union-attr]


def test_an_idempotency_key_in_progress_then_taken_over_then_expired(world: World, published: Event) -> None:
    from chalicelib.usecases import idempotency

    now = world.clock.now()
    first = idempotency.fingerprint(published.slug, {"email": "a@example.jp"})
    assert idempotency.begin(world.table, published.slug, "k-1", first, now) is None
    with pytest.raises(idempotency.StillInProgress):
        idempotency.begin(world.table, published.slug, "k-1", first, now)
    # The first request's process died: after a while the same request may carry it out.
    later = now + idempotency.IN_PROGRESS_FOR + timedelta(seconds=1)
    assert idempotency.begin(world.table, published.slug, "k-1", first, later) is None
    idempotency.finish(world.table, published.slug, "k-1", idempotency.Answer(201, {"status": "registered"}))
    assert idempotency.begin(world.table, published.slug, "k-1", first, later) == idempotency.Answer(
        201, {"status": "registered"}
    )
    other = idempotency.fingerprint(published.slug, {"email": "b@example.jp"})
    with pytest.raises(idempotency.KeyReused):
        idempotency.begin(world.table, published.slug, "k-1", other, later)
    # Kept for KEPT_FOR; after that the key is free again, even before DynamoDB's TTL deletes it.
    expired = later + idempotency.KEPT_FOR + timedelta(seconds=1)  # counted from the run that answered
    assert idempotency.begin(world.table, published.slug, "k-1", other, expired) is None
