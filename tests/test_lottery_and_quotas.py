"""Seats reserved per category, their release, and the lottery's draw, on DynamoDB Local."""

from __future__ import annotations

import dataclasses
import itertools
import random
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.domain.event import Category, Event, EventFileError
from chalicelib.domain.event_file import parse_event
from chalicelib.domain.event_state import Availability
from chalicelib.domain.ledger import Ledger
from chalicelib.store import schema
from chalicelib.store.dynamo import CancelReason, TransactionCancelled
from chalicelib.store.retry import PATIENT, RetryPolicy
from chalicelib.usecases.catalog import get_event
from chalicelib.usecases.changes import CorrectOutcome, cancel, correct
from chalicelib.usecases.closing import close_registrations
from chalicelib.usecases.lottery import DrawsUnfinished, draw, draw_due, drawn_order
from chalicelib.usecases.registering import Outcome, register
from chalicelib.usecases.registrations import get_registration
from chalicelib.usecases.waitlist import position, release_reservations
from tests.conftest import World, attendee, mailbox, numbered, sent_until_answered
from tests.reach import Reach
from tests.test_jobs import invoke

COUNCILLOR, OTHER = "councillor", "other"


def person(n: int, category: str) -> Any:
    return attendee(name=f"参加者{n}", kana="サンカシャ", email=f"p{n}@example.jp", category=category)


def with_quota(sample_event: Event, capacity: int, reserved: int, **changes: Any) -> Event:
    categories = (Category(COUNCILLOR, "地方議員", reserved=reserved), Category(OTHER, "その他"))
    return dataclasses.replace(sample_event, capacity=capacity, categories=categories, **changes)


def take(world: World, event: Event, n: int, category: str) -> tuple[Outcome, str]:
    world.clock.set(world.clock.now() + timedelta(milliseconds=1))
    result = register(world.table, event, person(n, category), f"SUB{n:07d}", world.clock.now())
    return result.outcome, result.registration_id


def ledger(world: World, event: Event) -> Ledger:
    item = world.table.get(schema.event_key(event.slug))
    assert item is not None
    return Ledger.from_item(item)


def registrations(world: World, event: Event) -> list[dict[str, Any]]:
    return list(
        world.table.query(
            "pk = :pk AND begins_with(sk, :p)", {":pk": schema.event_pk(event.slug), ":p": schema.REG_PREFIX}
        )
    )


def check_ledger(world: World, event: Event) -> Ledger:
    """The counters match the registrations, capacity holds, and nobody waits who could take a seat."""
    book = ledger(world, event)
    rows = registrations(world, event)
    for category in (COUNCILLOR, OTHER):
        mine = [r for r in rows if r["category"] == category]
        assert book.taken(category) == sum(r["status"] == "confirmed" for r in mine)
        assert book.waiting_of(category) == sum(r["status"] == "waitlisted" for r in mine)
        if book.waiting_of(category):
            assert not book.can_seat(category), f"a {category} waits for a seat they could take"
    assert book.seats_taken == sum(book.taken_by.values()) <= book.committed <= book.seat_limit
    assert book.committed == sum(max(book.taken_by[c], book.reserved[c]) for c in book.reserved)
    return book


# --- reserved seats -------------------------------------------------------------------------------------


def test_reserved_seats_are_kept_for_their_category(world: World, sample_event: Event) -> None:
    event = world.publish(with_quota(sample_event, capacity=5, reserved=2))
    assert [take(world, event, n, OTHER)[0] for n in range(4)] == [Outcome.REGISTERED] * 3 + [Outcome.WAITLISTED]
    assert [take(world, event, n, COUNCILLOR)[0] for n in range(10, 13)] == [Outcome.REGISTERED] * 2 + [
        Outcome.WAITLISTED
    ]
    book = check_ledger(world, event)
    assert (book.taken(COUNCILLOR), book.taken(OTHER), book.seats_taken) == (2, 3, 5)


def test_a_freed_reserved_seat_goes_to_the_first_waiting_person_of_its_category(
    world: World, sample_event: Event
) -> None:
    event = world.publish(with_quota(sample_event, capacity=3, reserved=1))
    take(world, event, 1, OTHER), take(world, event, 2, OTHER)
    _, councillor = take(world, event, 3, COUNCILLOR)
    (_, other_waiting), (_, councillor_waiting) = take(world, event, 4, OTHER), take(world, event, 5, COUNCILLOR)
    assert cancel(world.table, event, councillor, world.clock.now()).promoted == (councillor_waiting,)
    found = get_registration(world.table, event.slug, other_waiting)
    assert found is not None and found.status == "waitlisted" and position(world.table, event.slug, found.wait_sk) == 1
    check_ledger(world, event)


def test_unused_reserved_seats_are_released_at_the_set_time_once(world: World, sample_event: Event) -> None:
    release = sample_event.starts_at - timedelta(days=2)
    event = world.publish(with_quota(sample_event, capacity=3, reserved=1, quota_release_at=release))
    take(world, event, 1, OTHER), take(world, event, 2, OTHER)
    outcome, waiting = take(world, event, 3, OTHER)
    assert outcome is Outcome.WAITLISTED
    world.clock.set(release)
    close_registrations(world.table, world.clock.now())
    assert get_registration(world.table, event.slug, waiting).status == "confirmed"  # type: ignore[union-attr]
    before = ledger(world, event)
    close_registrations(world.table, world.clock.now())
    assert ledger(world, event) == before
    book = check_ledger(world, event)
    assert (book.reserved_for(COUNCILLOR), book.reserved_for(OTHER)) == (0, 0)


@pytest.mark.slow
def test_concurrent_registrations_respect_capacity_and_reservations(world: World, sample_event: Event) -> None:
    event = world.publish(with_quota(sample_event, capacity=10, reserved=4))
    people = [(n, COUNCILLOR if n % 2 else OTHER) for n in range(60)]
    random.Random(3).shuffle(people)

    def attempt(job: tuple[int, str]) -> Outcome:
        n, category = job
        # Sent again while it answers BUSY, as the form asks a visitor to.
        return sent_until_answered(
            lambda: register(world.table, event, person(n, category), f"SUB{n:07d}", world.clock.now())
        ).outcome

    with ThreadPoolExecutor(max_workers=24) as pool:
        outcomes = list(pool.map(attempt, people))
    assert outcomes.count(Outcome.REGISTERED) == 10 and outcomes.count(Outcome.WAITLISTED) == 50
    book = check_ledger(world, event)
    assert book.taken(COUNCILLOR) >= 4 and book.taken(OTHER) <= 6
    # Everyone cancels in a rush; the line moves up without ever breaking the rules.
    confirmed = [r["registration_id"] for r in registrations(world, event) if r["status"] == "confirmed"]
    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(lambda rid: cancel(world.table, event, rid, world.clock.now()), confirmed))
    book = check_ledger(world, event)
    assert book.seats_taken == 10 and book.waiting == 40


def test_changing_category_moves_the_seat_or_is_refused(world: World, sample_event: Event) -> None:
    event = world.publish(with_quota(sample_event, capacity=3, reserved=1))
    _, first = take(world, event, 1, OTHER)
    take(world, event, 2, OTHER)
    _, councillor = take(world, event, 3, COUNCILLOR)
    # Out of the reserved seat while the unreserved ones are all taken: no seat to move to.
    refused = correct(world.table, event, councillor, person(3, OTHER), world.clock.now())
    assert refused is CorrectOutcome.NO_SEAT_IN_CATEGORY
    assert get_registration(world.table, event.slug, councillor).attendee.category == COUNCILLOR  # type: ignore[union-attr]
    # Into the category: the seat moves along with them.
    assert correct(world.table, event, first, person(1, COUNCILLOR), world.clock.now()) is CorrectOutcome.SAVED
    # A waiting person's place moves to the new category's count.
    _, waiting = take(world, event, 4, OTHER)
    assert correct(world.table, event, waiting, person(4, COUNCILLOR), world.clock.now()) is CorrectOutcome.SAVED
    book = check_ledger(world, event)
    assert [(book.taken(c), book.waiting_of(c)) for c in (COUNCILLOR, OTHER)] == [(2, 1), (1, 0)]


def test_a_waiting_person_who_moves_into_a_category_with_room_takes_a_seat_at_once(
    world: World, sample_event: Event
) -> None:
    event = world.publish(with_quota(sample_event, capacity=3, reserved=1))
    take(world, event, 1, OTHER), take(world, event, 2, OTHER)
    outcome, waiting = take(world, event, 3, OTHER)  # the reserved seat is not theirs to take
    assert outcome is Outcome.WAITLISTED
    assert correct(world.table, event, waiting, person(3, COUNCILLOR), world.clock.now()) is CorrectOutcome.SAVED
    assert get_registration(world.table, event.slug, waiting).status == "confirmed"  # type: ignore[union-attr]
    assert check_ledger(world, event).seats_taken == 3


def test_reservations_may_not_exceed_the_capacity(sample_event: Event) -> None:
    data: dict[str, Any] = {
        "title": "t",
        "starts_at": sample_event.starts_at,
        "ends_at": sample_event.ends_at,
        "capacity": 3,
        "venue": {"name": "v", "address": "a"},
        "contact": {"organizer_email": "o@example.jp"},
        "categories": [{"key": "a", "label": "A", "reserved": 2}, {"key": "b", "label": "B", "reserved": 2}],
    }
    with pytest.raises(EventFileError, match="reserved seats add up to more than the capacity"):
        parse_event(data, "x")


# --- the lottery -------------------------------------------------------------------------------------------


@pytest.fixture
def lottery(world: World, sample_event: Event) -> Event:
    draw_at = sample_event.starts_at - timedelta(days=5)
    return world.publish(dataclasses.replace(sample_event, capacity=3, draw_at=draw_at))


def apply_many(world: World, event: Event, count: int) -> list[str]:
    ids = []
    for n in range(count):
        outcome, rid = take(world, event, n, OTHER)
        assert outcome is Outcome.APPLIED
        ids.append(rid)
    return ids


def test_applications_wait_for_the_draw_which_seats_winners_and_lines_up_the_rest(world: World, lottery: Event) -> None:
    applicants = apply_many(world, lottery, 8)
    assert [r["status"] for r in registrations(world, lottery)] == ["applied"] * 8
    assert ledger(world, lottery).seats_taken == 0
    world.deliver_outbox()
    assert sum(str(m["Subject"]).startswith("【抽選申込受付】") for m in mailbox()) == 8
    world.clock.set(lottery.draw_at)  # type: ignore[arg-type]
    assert take(world, lottery, 99, OTHER)[0] is Outcome.DRAWING  # applications closed, not drawn yet
    order = draw(world.table, lottery, world.clock.now(), seed="audit-me")
    assert sorted(order) == sorted(applicants)
    assert order == drawn_order(world.table, lottery.slug, "audit-me")  # anyone can replay it
    statuses = {r["registration_id"]: r for r in registrations(world, lottery)}
    assert [statuses[rid]["status"] for rid in order] == ["confirmed"] * 3 + ["waitlisted"] * 5
    assert [position(world.table, lottery.slug, statuses[rid]["wait_sk"]) for rid in order[3:]] == [1, 2, 3, 4, 5]
    assert world.table.get(schema.event_key(lottery.slug))["draw_seed"] == "audit-me"  # type: ignore[index]
    before = registrations(world, lottery)
    assert draw(world.table, lottery, world.clock.now()) == []  # a second run of the job: nothing
    assert registrations(world, lottery) == before
    check_ledger(world, lottery)
    # After the draw, newcomers queue behind the drawn line.
    outcome, late = take(world, lottery, 50, OTHER)
    assert outcome is Outcome.WAITLISTED
    assert position(world.table, lottery.slug, get_registration(world.table, lottery.slug, late).wait_sk) == 6  # type: ignore[union-attr]
    world.deliver_outbox()
    subjects = [str(m["Subject"]) for m in mailbox()]
    assert sum(s.startswith("【当選・参加確定】") for s in subjects) == 3
    assert sum(s.startswith("【抽選結果・キャンセル待ち") for s in subjects) == 5


def test_an_application_that_lands_after_the_draw_read_them_is_drawn_by_the_next_run(
    world: World, lottery: Event
) -> None:
    # Applications leave the event item alone (a lottery's rush never meets the seat ledger), so one sent
    # a moment before the draw time can commit after the draw has read the applications.
    applicants = apply_many(world, lottery, 4)
    world.clock.set(lottery.draw_at)  # type: ignore[arg-type]
    order = draw(world.table, lottery, world.clock.now(), seed="s")
    assert sorted(order) == sorted(applicants)
    just_before = lottery.draw_at - timedelta(milliseconds=1)  # type: ignore[operator]
    late = register(world.table, lottery, numbered(40), "LATE000001", just_before)
    assert late.outcome is Outcome.APPLIED
    assert draw(world.table, lottery, world.clock.now()) == [late.registration_id]  # the next run draws it
    found = get_registration(world.table, lottery.slug, late.registration_id)
    assert found is not None and found.status == "waitlisted"  # 3 seats went to the drawn; it waits, last
    assert position(world.table, lottery.slug, found.wait_sk) == 2
    assert draw(world.table, lottery, world.clock.now()) == []  # and the run after that: nothing
    check_ledger(world, lottery)


def test_a_draw_that_crashed_halfway_finishes_with_the_same_order(
    world: World, lottery: Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    apply_many(world, lottery, 6)
    world.clock.set(lottery.draw_at)  # type: ignore[arg-type]
    import chalicelib.usecases.lottery as lottery_module

    real = lottery_module._draw_one
    calls = {"n": 0}

    def crash_after_two(*args: Any) -> None:
        calls["n"] += 1
        if calls["n"] > 2:
            raise RuntimeError("Lambda timed out")
        real(*args)

    monkeypatch.setattr(lottery_module, "_draw_one", crash_after_two)
    with pytest.raises(RuntimeError):
        draw(world.table, lottery, world.clock.now(), seed="first-seed")
    monkeypatch.setattr(lottery_module, "_draw_one", real)
    order = draw(world.table, lottery, world.clock.now(), seed="another-seed-is-ignored")
    assert order == drawn_order(world.table, lottery.slug, "first-seed")
    statuses = {r["registration_id"]: r["status"] for r in registrations(world, lottery)}
    assert [statuses[rid] for rid in order] == ["confirmed"] * 3 + ["waitlisted"] * 3
    check_ledger(world, lottery)


class ConflictsFor:
    """DynamoDB Local never cancels a transaction for a conflict; this cancels those touching one registration."""

    def __init__(self, real: Any, registration_id: str, conflicts: int) -> None:
        self.real, self.marker, self.left = real, f"REG#{registration_id}", conflicts

    def transact(self, actions: list[dict[str, Any]]) -> None:
        touched = [body.get("Key", {}).get("sk") for action in actions for body in action.values()]
        if self.marker in touched and self.left > 0:
            self.left -= 1
            reasons = [CancelReason("TransactionConflict", None)] + [CancelReason("None", None)] * (len(actions) - 1)
            raise TransactionCancelled(reasons)
        self.real.transact(actions)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def test_an_applicant_whose_draw_keeps_conflicting_is_drawn_by_the_next_run_in_order(
    world: World, lottery: Event
) -> None:
    apply_many(world, lottery, 6)
    world.clock.set(lottery.draw_at)  # type: ignore[arg-type]
    # The seed is recorded before anyone is drawn; recording it here tells the test the order.
    world.table.update(schema.event_key(lottery.slug), "SET draw_seed = :s", values={":s": "seed"})
    order = drawn_order(world.table, lottery.slug, "seed")
    unlucky = order[1]
    no_wait = RetryPolicy(attempts=PATIENT.attempts, sleep=lambda _: None)
    table = ConflictsFor(world.table, unlucky, conflicts=PATIENT.attempts + 1)  # 31: one more than the policy tries
    with pytest.raises(DrawsUnfinished, match=lottery.slug):
        draw_due(table, [lottery], world.clock.now(), retry=no_wait)  # type: ignore[arg-type]
    assert get_registration(world.table, lottery.slug, unlucky).status == "applied"  # type: ignore[union-attr]
    assert get_event(world.table, lottery.slug).drawn is False  # type: ignore[union-attr]
    # Nobody after them in the drawn order took a seat ahead of them.
    statuses = {r["registration_id"]: r["status"] for r in registrations(world, lottery)}
    assert [statuses[rid] for rid in order] == ["confirmed"] + ["applied"] * 5
    # The next scheduled run (the conflict has cleared) finishes the draw, in the same order.
    assert invoke("draw_lotteries").payload == {lottery.slug: 6}
    statuses = {r["registration_id"]: r["status"] for r in registrations(world, lottery)}
    assert [statuses[rid] for rid in order] == ["confirmed"] * 3 + ["waitlisted"] * 3
    assert get_event(world.table, lottery.slug).drawn is True  # type: ignore[union-attr]
    check_ledger(world, lottery)


def test_a_withdrawn_application_is_not_drawn(world: World, lottery: Event) -> None:
    first, *others = apply_many(world, lottery, 4)
    cancel(world.table, lottery, first, world.clock.now())
    world.clock.set(lottery.draw_at)  # type: ignore[arg-type]
    draw(world.table, lottery, world.clock.now(), seed="s")
    statuses = {r["registration_id"]: r["status"] for r in registrations(world, lottery)}
    assert statuses[first] == "cancelled" and sorted(statuses[rid] for rid in others) == ["confirmed"] * 3
    assert check_ledger(world, lottery).seats_taken == 3


def test_the_lottery_respects_reserved_seats(world: World, sample_event: Event) -> None:
    draw_at = sample_event.starts_at - timedelta(days=5)
    event = world.publish(with_quota(sample_event, capacity=3, reserved=1, draw_at=draw_at))
    for n in range(6):
        take(world, event, n, OTHER)
    _, councillor = take(world, event, 10, COUNCILLOR)
    world.clock.set(draw_at)
    draw(world.table, event, world.clock.now(), seed="seed")
    assert get_registration(world.table, event.slug, councillor).status == "confirmed"  # type: ignore[union-attr]
    book = check_ledger(world, event)
    assert (book.taken(COUNCILLOR), book.taken(OTHER)) == (1, 2)


def test_the_event_page_tells_the_lottery_apart(sample_event: Event) -> None:
    from chalicelib.domain.event_state import EventState

    event = dataclasses.replace(sample_event, draw_at=sample_event.starts_at - timedelta(days=5))
    assert EventState(event, 0).availability(event.draw_at - timedelta(days=1)) is Availability.LOTTERY  # type: ignore[operator]
    assert EventState(event, 0).availability(event.draw_at) is Availability.DRAWING  # type: ignore[arg-type]
    assert EventState(event, 0, drawn=True).availability(event.draw_at) is Availability.OPEN  # type: ignore[arg-type]


# --- the ledger's rule, through the real use cases and DynamoDB's own conditions -------------------


@pytest.fixture
def changes(record_property: Any) -> Iterator[Reach]:
    reach = Reach("a cancellation or a change of category through the engine")
    yield reach
    line = reach.report(record_property)
    assert reach.share() >= 0.5, line  # 12 examples: most must change something already registered


ENGINE_STEP = st.one_of(
    st.tuples(st.just("register"), st.sampled_from((COUNCILLOR, OTHER))),
    st.tuples(st.just("cancel"), st.integers(min_value=0, max_value=30)),
    st.tuples(st.just("switch"), st.integers(min_value=0, max_value=30)),
    st.tuples(st.just("release"), st.just(0)),
)
_engine_events = itertools.count(1)


# The same 12 examples every run (derandomize): with so few, how many reach a change would otherwise be luck
# (a run of CI saw 4 of 12); the ledger's property tests in test_ledger.py explore freely, in-process.
@settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    capacity=st.integers(min_value=1, max_value=4),
    reserved=st.integers(min_value=0, max_value=2),
    steps=st.lists(ENGINE_STEP, min_size=5, max_size=18),
)
def test_random_registrations_cancellations_switches_and_releases_keep_the_ledger_exact(
    world: World, sample_event: Event, changes: Reach, capacity: int, reserved: int, steps: list[Any]
) -> None:
    changes.example()
    n = next(_engine_events)
    event = world.publish(
        dataclasses.replace(
            with_quota(sample_event, capacity=capacity, reserved=min(reserved, capacity)), slug=f"prop-{n}"
        )
    )
    people: list[str] = []
    for action, argument in steps:
        active = [r["registration_id"] for r in registrations(world, event) if r["status"] != "cancelled"]
        if action == "register":
            people.append(take(world, event, len(people) + 100 * n, argument)[1])
        elif action == "cancel" and active:
            cancel(world.table, event, active[argument % len(active)], world.clock.now())
            changes.hit()
        elif action == "switch" and active:
            changes.hit()
            chosen = get_registration(world.table, event.slug, active[argument % len(active)])
            assert chosen is not None
            other = OTHER if chosen.attendee.category == COUNCILLOR else COUNCILLOR
            correct(
                world.table,
                event,
                chosen.registration_id,
                dataclasses.replace(chosen.attendee, category=other),
                world.clock.now(),
            )
        elif action == "release":
            release_reservations(world.table, event.slug, world.clock.now())
        check_ledger(world, event)
