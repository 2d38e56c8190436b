"""The waiting list on DynamoDB Local: joining, moving up in order, leaving, cancelling, under concurrency."""

from __future__ import annotations

import dataclasses
import random
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.domain.event import Event
from chalicelib.store import schema
from chalicelib.usecases.catalog import get_event
from chalicelib.usecases.changes import CancelOutcome, cancel
from chalicelib.usecases.closing import close_registrations
from chalicelib.usecases.registering import Outcome, register
from chalicelib.usecases.registrations import get_registration
from chalicelib.usecases.waitlist import position, settle, waiting_list
from tests.conftest import World, mailbox, numbered, sent_until_answered


def items(world: World, slug: str, prefix: str) -> list[dict[str, Any]]:
    return list(world.table.query("pk = :pk AND begins_with(sk, :p)", {":pk": schema.event_pk(slug), ":p": prefix}))


def everything(world: World, slug: str) -> list[dict[str, Any]]:
    return list(world.table.query("pk = :pk", {":pk": schema.event_pk(slug)}))


def join(world: World, event: Event, n: int) -> str:
    """Register person n; step the clock a millisecond so that order of joining is well defined."""
    world.clock.set(world.clock.now() + timedelta(milliseconds=1))
    result = register(world.table, event, numbered(n), f"SUB{n:07d}", world.clock.now())
    assert result.outcome in (Outcome.REGISTERED, Outcome.WAITLISTED)
    return result.registration_id


def status(world: World, event: Event, registration_id: str) -> str:
    found = get_registration(world.table, event.slug, registration_id)
    assert found is not None
    return found.status


def check_invariants(world: World, event: Event) -> None:
    """What must hold whatever happened: counters match the items, and no seat is free while people wait."""
    state = get_event(world.table, event.slug)
    assert state is not None
    registrations = items(world, event.slug, schema.REG_PREFIX)
    confirmed = [r for r in registrations if r["status"] == "confirmed"]
    waiting = [r for r in registrations if r["status"] == "waitlisted"]
    assert state.seats_taken == len(confirmed) <= state.event.capacity
    assert state.waiting == len(waiting) == len(items(world, event.slug, schema.WAIT_PREFIX))
    assert state.waiting == 0 or state.seats_taken == state.event.capacity, "a seat is free while people wait"
    live = {r["email"] for r in confirmed + waiting}
    assert len(items(world, event.slug, schema.EMAIL_PREFIX)) == len(live)


@pytest.fixture
def full(world: World, sample_event: Event) -> Event:
    """The sample event with 2 seats, both taken (by persons 1 and 2)."""
    event = world.publish(dataclasses.replace(sample_event, capacity=2))
    join(world, event, 1)
    join(world, event, 2)
    return event


def test_a_full_event_puts_newcomers_on_the_waiting_list_in_order(world: World, full: Event) -> None:
    third, fourth = join(world, full, 3), join(world, full, 4)
    assert status(world, full, third) == status(world, full, fourth) == "waitlisted"
    places = [get_registration(world.table, full.slug, rid) for rid in (third, fourth)]
    assert [position(world.table, full.slug, p.wait_sk) for p in places if p] == [1, 2]
    assert get_event(world.table, full.slug).waiting == 2  # type: ignore[union-attr]
    check_invariants(world, full)
    world.deliver_outbox()
    waitlisted = [m for m in mailbox() if "キャンセル待ち" in m["Subject"]]
    assert sorted(m["Subject"].split("・")[1][:3] for m in waitlisted) == ["1番目", "2番目"]
    assert all(not list(m.iter_attachments()) for m in waitlisted)  # no seat yet, so no calendar file


def test_a_cancelled_seat_goes_to_the_first_in_line_at_once(world: World, full: Event) -> None:
    first_confirmed = items(world, full.slug, schema.REG_PREFIX)[0]["registration_id"]
    third, fourth = join(world, full, 3), join(world, full, 4)
    result = cancel(world.table, full, first_confirmed, world.clock.now())
    assert (result.outcome, result.promoted) == (CancelOutcome.CANCELLED, (third,))
    assert (status(world, full, third), status(world, full, fourth)) == ("confirmed", "waitlisted")
    assert status(world, full, first_confirmed) == "cancelled"
    fourth_place = get_registration(world.table, full.slug, fourth)
    assert fourth_place is not None and position(world.table, full.slug, fourth_place.wait_sk) == 1
    check_invariants(world, full)
    world.deliver_outbox()
    by_subject = {m["Subject"]: m for m in mailbox()}
    promoted = next(m for s, m in by_subject.items() if s.startswith("【参加確定】"))
    assert promoted["To"] == "person3@example.jp"
    assert [a.get_filename()[:9] for a in promoted.iter_attachments()] == ["event.ics", "check-in-"]
    assert any(s.startswith("【お申し込み取り消し】") for s in by_subject)


def test_cancelling_twice_changes_nothing_the_second_time(world: World, full: Event) -> None:
    rid = items(world, full.slug, schema.REG_PREFIX)[0]["registration_id"]
    assert cancel(world.table, full, rid, world.clock.now()).outcome is CancelOutcome.CANCELLED
    before = everything(world, full.slug)
    assert cancel(world.table, full, rid, world.clock.now()).outcome is CancelOutcome.ALREADY_CANCELLED
    assert everything(world, full.slug) == before
    check_invariants(world, full)


def test_with_nobody_waiting_a_cancelled_seat_returns_to_everyone(world: World, full: Event) -> None:
    rid = next(
        r["registration_id"] for r in items(world, full.slug, schema.REG_PREFIX) if r["email"] == "person1@example.jp"
    )
    cancel(world.table, full, rid, world.clock.now())
    assert get_event(world.table, full.slug).seats_taken == 1  # type: ignore[union-attr]
    assert status(world, full, join(world, full, 5)) == "confirmed"
    # The cancelled address may register again.
    again = register(world.table, full, numbered(1), "SUB-AGAIN01", world.clock.now())
    assert again.outcome is Outcome.WAITLISTED
    check_invariants(world, full)


def test_leaving_the_waiting_list_moves_the_others_up(world: World, full: Event) -> None:
    third, fourth = join(world, full, 3), join(world, full, 4)
    assert cancel(world.table, full, third, world.clock.now()).outcome is CancelOutcome.CANCELLED
    fourth_place = get_registration(world.table, full.slug, fourth)
    assert fourth_place is not None and position(world.table, full.slug, fourth_place.wait_sk) == 1
    assert get_event(world.table, full.slug).seats_taken == 2  # type: ignore[union-attr]
    check_invariants(world, full)


def test_a_join_racing_a_cancellation_still_gets_the_freed_seat(
    world: World, full: Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    import chalicelib.usecases.changes as changes_module

    real_read = changes_module.read_event_item
    joined: list[str] = []

    def stale_read(table: Any, slug: str) -> Any:
        item = real_read(table, slug)
        if not joined:  # someone joins between the cancellation's read and its transaction
            joined.append(join(world, full, 7))
        return item

    monkeypatch.setattr(changes_module, "read_event_item", stale_read)
    rid = items(world, full.slug, schema.REG_PREFIX)[0]["registration_id"]
    assert cancel(world.table, full, rid, world.clock.now()).promoted == (joined[0],)
    assert status(world, full, joined[0]) == "confirmed"
    check_invariants(world, full)


def test_cancelling_after_the_deadline_is_refused(world: World, full: Event) -> None:
    rid = items(world, full.slug, schema.REG_PREFIX)[0]["registration_id"]
    result = cancel(world.table, full, rid, full.cancellation_deadline)
    assert result.outcome is CancelOutcome.TOO_LATE and status(world, full, rid) == "confirmed"


def test_more_seats_go_to_the_people_waiting_longest_and_twice_is_once(world: World, full: Event) -> None:
    waiting = [join(world, full, n) for n in range(3, 7)]
    world.publish(dataclasses.replace(full, capacity=4))
    assert settle(world.table, full.slug, world.clock.now()) == waiting[:2]
    assert settle(world.table, full.slug, world.clock.now()) == []
    assert [status(world, full, rid) for rid in waiting] == ["confirmed", "confirmed", "waitlisted", "waitlisted"]
    check_invariants(world, full)


def test_a_newcomer_never_takes_a_seat_someone_is_waiting_for(world: World, full: Event) -> None:
    third = join(world, full, 3)
    # The organizer added a seat; before anything moved the line up, someone new arrives.
    world.publish(dataclasses.replace(full, capacity=3))
    newcomer = join(world, full, 9)
    assert status(world, full, newcomer) == "waitlisted"
    # The closer's run moves the line up: the seat goes to the one who waited.
    close_registrations(world.table, world.clock.now())
    assert (status(world, full, third), status(world, full, newcomer)) == ("confirmed", "waitlisted")
    check_invariants(world, full)


def test_without_a_waiting_list_a_cancellation_reopens_an_event_closed_as_full(
    world: World, sample_event: Event
) -> None:
    event = world.publish(dataclasses.replace(sample_event, capacity=1, waitlist=False))
    rid = join(world, event, 1)
    assert [c.reason for c in close_registrations(world.table, world.clock.now())] == ["capacity"]
    assert cancel(world.table, event, rid, world.clock.now()).outcome is CancelOutcome.CANCELLED
    state = get_event(world.table, event.slug)
    assert state is not None and not state.closed and state.seats_left == 1


@pytest.mark.slow
def test_concurrent_cancellations_joins_and_leaves_never_lose_or_double_a_seat(
    world: World, sample_event: Event
) -> None:
    event = world.publish(dataclasses.replace(sample_event, capacity=10))
    confirmed = [join(world, event, n) for n in range(10)]
    waiting = [join(world, event, n) for n in range(10, 30)]
    leaving = set(random.Random(7).sample(waiting, 5))
    work: list[tuple[str, Any]] = [("cancel", rid) for rid in confirmed[:8]]
    work += [("leave", rid) for rid in leaving]
    work += [("join", n) for n in range(100, 130)]
    random.Random(11).shuffle(work)
    world.clock.set(world.clock.now() + timedelta(seconds=1))  # newcomers join behind everyone above

    def act(job: tuple[str, Any]) -> Any:
        kind, arg = job
        if kind == "join":
            return sent_until_answered(
                lambda: register(world.table, event, numbered(arg), f"SUB{arg:07d}", world.clock.now())
            )
        return cancel(world.table, event, arg, world.clock.now())

    with ThreadPoolExecutor(max_workers=24) as pool:
        results = list(pool.map(act, work))
    assert all(
        getattr(r, "outcome", None) in (CancelOutcome.CANCELLED, Outcome.WAITLISTED, Outcome.REGISTERED)
        for r in results
    )
    check_invariants(world, event)
    state = get_event(world.table, event.slug)
    assert state is not None and state.seats_taken == 10
    # First in, first promoted: of the 15 who stayed in the original line, the first 8 moved up.
    stayed = [rid for rid in waiting if rid not in leaving]
    assert [status(world, event, rid) for rid in stayed] == ["confirmed"] * 8 + ["waitlisted"] * 7
    # Replaying every cancellation changes nothing.
    before = everything(world, event.slug)
    for kind, arg in work:
        if kind != "join":
            assert cancel(world.table, event, arg, world.clock.now()).outcome is CancelOutcome.ALREADY_CANCELLED
    assert everything(world, event.slug) == before
    assert next(waiting_list(world.table, event.slug), None) is not None


def test_a_cancellation_that_meets_transaction_conflicts_retries_and_moves_the_line_once(
    world: World, full: Event
) -> None:
    from chalicelib.store.retry import RetryPolicy
    from tests.test_registrations import conflicting

    waiting = join(world, full, 3)
    rid = next(r["registration_id"] for r in items(world, full.slug, schema.REG_PREFIX) if r["status"] == "confirmed")
    table, _ = conflicting(world, first=5)  # real DynamoDB cancels like this while others hold the item
    pauses: list[float] = []
    result = cancel(table, full, rid, world.clock.now(), retry=RetryPolicy(sleep=pauses.append))
    assert result.outcome is CancelOutcome.CANCELLED and result.promoted == (waiting,)
    assert len(pauses) == 5 and status(world, full, waiting) == "confirmed"
    check_invariants(world, full)


def test_the_cancellation_reopens_the_event_in_its_own_write_so_no_crash_after_it_strands_the_seat(
    world: World, sample_event: Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    import chalicelib.usecases.changes as changes_module
    import chalicelib.usecases.closing as closing_module

    event = world.publish(dataclasses.replace(sample_event, capacity=1, waitlist=False))
    rid = join(world, event, 1)
    close_registrations(world.table, world.clock.now())

    def crash(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("Lambda died right after the cancellation's transaction")

    # Whatever might run after the transaction (a separate reopening step, a settle) crashes.
    monkeypatch.setattr(closing_module, "reopen_if_room", crash)
    monkeypatch.setattr(changes_module, "settle", crash)
    assert cancel(world.table, event, rid, world.clock.now()).outcome is CancelOutcome.CANCELLED
    state = get_event(world.table, event.slug)
    assert state is not None and not state.closed and state.seats_left == 1
    assert register(world.table, event, numbered(9), "SUB0000009", world.clock.now()).outcome is Outcome.REGISTERED


def test_an_event_left_closed_with_a_free_seat_is_reopened_by_the_next_scheduled_run(
    world: World, sample_event: Event
) -> None:
    event = world.publish(dataclasses.replace(sample_event, capacity=2, waitlist=False))
    join(world, event, 1)
    # As a crash between two steps of older code left it: closed as full, one seat free.
    world.table.update(
        schema.event_key(event.slug),
        "SET #s = :closed, closed_reason = :capacity",
        {":closed": "closed", ":capacity": "capacity"},
        {"#s": "status"},
    )
    assert register(world.table, event, numbered(2), "SUB0000002", world.clock.now()).outcome is Outcome.CLOSED
    assert close_registrations(world.table, world.clock.now()) == []
    assert register(world.table, event, numbered(2), "SUB0000003", world.clock.now()).outcome is Outcome.REGISTERED
