"""The seat ledger, with no engine: its rule, the DynamoDB conditions it hands the registration, and its invariants.

Random sequences of everything that changes seats (register, cancel, join, leave, promote, release,
draw) must keep `seats_taken <= committed <= seat_limit`, and after the line moves nobody waits who
could be seated. The conditions `claim()` gives DynamoDB are evaluated here on every ledger the
sequences reach and must say exactly what `Ledger.claimable()` says. Half the ledgers are a hybrid
event's, with two pools (会場 and オンライン): each pool's limit holds, and nobody waits in a pool
whose seat they could take.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.domain.ledger import (
    FULL,
    HAS_ROOM,
    POOL_LIMIT,
    POOL_TAKEN,
    POOL_WAITING,
    RESERVED,
    TAKEN,
    WAITING_AT,
    WAITING_IN,
    Claim,
    Ledger,
    claim,
    claim_names,
    is_full,
    place_key,
    seats_left,
    slot,
)
from tests.dynamo_expressions import apply_update, condition_holds
from tests.reach import Reach

CATEGORIES = ("councillor", "official", "other")
POOLS = ("venue", "online")
Person = tuple[str, str, str]  # (id, category, pool)


def item_of(ledger: Ledger) -> dict[str, Any]:
    """The event item's counter attributes, as publishing leaves them (a key for every category)."""
    return {
        "seat_limit": ledger.seat_limit,
        "seats_taken": ledger.seats_taken,
        "waiting": ledger.waiting,
        "committed": ledger.committed,
        "version": ledger.version,
        TAKEN: {slot(c): ledger.taken(c) for c in CATEGORIES},
        WAITING_IN: {slot(c): ledger.waiting_of(c) for c in CATEGORIES},
        RESERVED: {slot(c): ledger.reserved_for(c) for c in CATEGORIES},
        POOL_LIMIT: dict(ledger.pool_limit),
        POOL_TAKEN: {p: ledger.pool_taken.get(p, 0) for p in ledger.pool_limit},
        POOL_WAITING: {p: ledger.pool_waiting.get(p, 0) for p in ledger.pool_limit},
        WAITING_AT: {
            slot(place_key(p, c)): ledger.waiting_at.get(slot(place_key(p, c)), 0)
            for p in ledger.pool_limit
            for c in CATEGORIES
        },
    }


def claim_applies(ledger: Ledger, kind: Claim, category: str, pool: str) -> tuple[bool, Ledger]:
    """Evaluate the DynamoDB condition and update of `claim(kind)` on the ledger's item."""
    pooled = ledger.pooled(pool)
    update, condition = claim(kind, pooled)
    names, values = claim_names(category, pool, pooled), {":one": 1, ":zero": 0}
    item = item_of(ledger)
    if not condition_holds(condition, item, names, values):
        return False, ledger
    return True, Ledger.from_item(apply_update(update, item, names, values))


@dataclass
class Event:
    """A model of one event: its ledger, who is seated, and the line in order."""

    ledger: Ledger
    seated: dict[str, tuple[str, str]] = field(default_factory=dict)  # person -> (category, pool)
    line: list[Person] = field(default_factory=list)  # first in line first
    applicants: list[Person] = field(default_factory=list)
    count: int = 0
    moved_up: int = 0  # people the line moved up into a seat (what the generated sequences are for)
    idle_steps: int = 0  # cancel or leave with nobody to do it: the step tested nothing

    def newcomer(self, category: str) -> str:
        self.count += 1
        return f"p{self.count}-{category}"

    def pool(self, pool: str) -> str:
        """The pool a registrant names, as the event knows it (none in an event without pools)."""
        return pool if self.ledger.pool_limit else ""

    def register(self, who: tuple[str, str]) -> None:
        """What the registration transaction does: the first claim whose condition holds."""
        category, pool = who[0], self.pool(who[1])
        person = self.newcomer(category)
        for kind in (Claim.RESERVED, Claim.GENERAL, Claim.WAITLIST):
            applied, after = claim_applies(self.ledger, kind, category, pool)
            if applied:
                assert kind is self.ledger.claimable(category, pool), "DynamoDB's condition and the rule disagree"
                self.ledger = after
                if kind is Claim.WAITLIST:
                    self.line.append((person, category, pool))
                else:
                    self.seated[person] = (category, pool)
                return
        raise AssertionError("one of the three claims always applies")

    def cancel(self, pick: int) -> None:
        if self.seated:
            person = sorted(self.seated)[pick % len(self.seated)]
            self.ledger = self.ledger.free(*self.seated.pop(person))
            self.settle()
        else:
            self.idle_steps += 1

    def leave(self, pick: int) -> None:
        if self.line:
            _, category, pool = self.line.pop(pick % len(self.line))
            self.ledger = self.ledger.wait(category, -1, pool)
            self.settle()
        else:
            self.idle_steps += 1

    def apply(self, who: tuple[str, str]) -> None:
        self.applicants.append((self.newcomer(who[0]), who[0], self.pool(who[1])))

    def draw(self, seed: int) -> None:
        """Seat each applicant in drawn order if the ledger allows, else line them up."""
        order = sorted(self.applicants, key=lambda a: hash((seed, a[0])))
        self.applicants = []
        for person, category, pool in order:
            if self.ledger.can_seat(category, pool):
                self.ledger = self.ledger.seat(category, pool)
                self.seated[person] = (category, pool)
            else:
                self.ledger = self.ledger.wait(category, 1, pool)
                self.line.append((person, category, pool))

    def release(self) -> None:
        self.ledger = self.ledger.release_reservations()
        self.settle()

    def settle(self) -> None:
        """Move the line up in batches, as the use case does, until nobody more can move."""
        while True:
            self.ledger, promoted = self.ledger.promote(self.line, limit=2)
            if not promoted:
                return
            moved = set(promoted)
            self.moved_up += len(moved)
            self.seated.update((p, (c, pool)) for p, c, pool in self.line if p in moved)
            self.line = [person for person in self.line if person[0] not in moved]


def check(event: Event) -> None:
    ledger = event.ledger
    assert 0 <= ledger.seats_taken <= ledger.committed <= ledger.seat_limit
    assert ledger.seats_taken == len(event.seated)
    assert ledger.waiting == len(event.line)
    for category in CATEGORIES:
        assert ledger.taken(category) == sum(c == category for c, _ in event.seated.values())
        assert ledger.waiting_of(category) == sum(c == category for _, c, _ in event.line)
    for _, category, pool in event.line:
        assert not ledger.can_seat(category, pool), f"someone of {category} waits though a seat is theirs to take"
    for pool, limit in ledger.pool_limit.items():
        assert ledger.pool_taken.get(pool, 0) == sum(p == pool for _, p in event.seated.values()) <= limit
        assert ledger.pool_waiting.get(pool, 0) == sum(p == pool for _, _, p in event.line)
    assert ledger.seats_left == seats_left(ledger.seat_limit, ledger.seats_taken)
    item = item_of(ledger)
    assert condition_holds(FULL, item, {}, {}) is is_full(ledger.seat_limit, ledger.seats_taken)
    assert condition_holds(HAS_ROOM, item, {}, {}) is not is_full(ledger.seat_limit, ledger.seats_taken)


@st.composite
def fresh_ledgers(draw: st.DrawFn) -> Ledger:
    seat_limit = draw(st.integers(min_value=1, max_value=8))
    reserved: dict[str, int] = {}
    room = seat_limit
    for category in CATEGORIES[:2]:
        reserved[category] = draw(st.integers(min_value=0, max_value=room))
        room -= reserved[category]
    ledger = Ledger(seat_limit=seat_limit).with_reservations(CATEGORIES, reserved)
    if seat_limit > 1 and draw(st.booleans()):  # a hybrid event: the seats split into two pools
        venue = draw(st.integers(min_value=1, max_value=seat_limit - 1))
        ledger = ledger.with_pools({"venue": venue, "online": seat_limit - venue}, CATEGORIES)
    return ledger


WHO = st.tuples(st.sampled_from(CATEGORIES), st.sampled_from(POOLS))


# Registering is drawn three times as often as anything else, and sequences are at least ten steps long:
# with each step equally likely, 92 % of sequences never filled the event, so nobody ever moved up
# (tests/reach.py counted 23 of 300). Cancelling twice as often as leaving frees the seats that move the line.
_REGISTER = st.tuples(st.just("register"), WHO)
_CANCEL = st.tuples(st.just("cancel"), st.integers(min_value=0, max_value=50))
STEP = st.one_of(
    _REGISTER,
    _REGISTER,
    _REGISTER,
    _CANCEL,
    _CANCEL,
    st.tuples(st.just("leave"), st.integers(min_value=0, max_value=50)),
    st.tuples(st.just("release"), st.just(0)),
)


def counted(event: Event, reach: Reach) -> None:
    """An example reached the line's move-up if anyone moved up; idle steps are reported beside it."""
    if event.moved_up:
        reach.hit()
    reach.outcome("idle step" if event.idle_steps else "every step acted")


@pytest.fixture
def moving_up(record_property: Any) -> Iterator[Reach]:
    reach = Reach("a move-up from the line")
    yield reach
    line = reach.report(record_property)
    assert reach.share() >= 0.15, line  # the others test capacity and the claims without anyone moving up


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ledger=fresh_ledgers(), steps=st.lists(STEP, min_size=10, max_size=40))
def test_any_sequence_of_seat_changes_keeps_capacity_and_moves_the_line(
    moving_up: Reach, ledger: Ledger, steps: list[Any]
) -> None:
    moving_up.example()
    event = Event(ledger)
    for action, argument in steps:
        getattr(event, action)(*([] if action == "release" else [argument]))
        check(event)
    counted(event, moving_up)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    ledger=fresh_ledgers(),
    applications=st.lists(WHO, min_size=4, max_size=15),
    seed=st.integers(),
    after=st.lists(STEP, min_size=5, max_size=20),
)
def test_a_draw_then_anything_keeps_capacity_and_moves_the_line(
    moving_up: Reach, ledger: Ledger, applications: list[str], seed: int, after: list[Any]
) -> None:
    moving_up.example()
    event = Event(ledger)
    for category in applications:
        event.apply(category)
    event.draw(seed)
    check(event)
    for action, argument in after:
        getattr(event, action)(*([] if action == "release" else [argument]))
        check(event)
    counted(event, moving_up)


@pytest.fixture
def every_claim(record_property: Any) -> Iterator[Reach]:
    reach = Reach("the claim rule (each example checks one claim)")
    yield reach
    line = reach.report(record_property)
    # Every kind of claim was reached, in an event without pools and in one with them.
    assert {f"{kind}{where}" for kind in Claim for where in ("", " in a pool")} <= set(reach.outcomes), line


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    ledger=fresh_ledgers(),
    steps=st.lists(WHO, max_size=12),
    who=WHO,
)
def test_exactly_one_claim_holds_and_it_is_the_one_the_rule_names(
    every_claim: Reach, ledger: Ledger, steps: list[tuple[str, str]], who: tuple[str, str]
) -> None:
    every_claim.example()
    event = Event(ledger)
    for step in steps:
        event.register(step)
    category, pool = who[0], event.pool(who[1])
    holding = [kind for kind in Claim if claim_applies(event.ledger, kind, category, pool)[0]]
    assert holding == [event.ledger.claimable(category, pool)]
    every_claim.hit()
    every_claim.outcome(f"{holding[0]}{' in a pool' if event.ledger.pooled(pool) else ''}")


def test_the_evaluator_reads_what_it_should() -> None:
    item = {"a": 1, "m": {"x": 2}}
    assert condition_holds("a < m.#c AND (a = :one OR a > :one)", item, {"#c": "x"}, {":one": 1})
    assert not condition_holds("m.#c <= a", item, {"#c": "x"}, {})
    assert apply_update("SET a = a + :one, m.#c = :one", item, {"#c": "x"}, {":one": 1}) == {"a": 2, "m": {"x": 1}}
