"""The seat ledger: the counters on an event item, and the one rule of who may take a seat.

Seats may be reserved per category (e.g. 20 of 50 for 地方議員). A category's people first fill
its reserved seats, then the seats nobody reserved. The ledger keeps, per category, the seats
taken (`taken_by`) and the seats reserved (`reserved`), and in `committed` the seats that are
spoken for: for each category the larger of what it took and what it has reserved. So:

    a person of category c may take a seat  <=>  taken_by[c] < reserved[c]  or  committed < seat_limit

and `seats_taken <= committed <= seat_limit` always holds, so capacity is never exceeded. Without
reservations every `reserved[c]` is 0, `committed == seats_taken`, and the rule is the usual one.

A hybrid event splits its seats into pools (参加枠: 会場 and オンライン), each with its own limit and
its own line, as connpass's 参加枠 each have their 補欠. A person then takes a seat only if their
pool has room too (`pool_taken[p] < pool_limit[p]`), waits in their pool's line when it has none,
and moves up only into a seat of their pool: a full venue never sends anyone to the online line
nor blocks an online newcomer. The pool limits add up to the seat limit. An event without pools
keeps empty maps and the rule above, unchanged.

The per-category maps are keyed by each category's `slot()`, six characters whatever the key's
length, because every seat change rewrites this item and DynamoDB charges a write by the item's
size: with 20 categories the item stays under 1 KB (2 write units in a transaction).

Registration writes the counters without reading them first: `claim()` below gives the same rule
as DynamoDB condition expressions, checked atomically on the event item. Everything else
(cancelling, moving people up, a draw, releasing reservations) reads the ledger, computes the
next one here, and writes it back conditioned on `version` being unchanged: any concurrent change
makes the write fail and the caller try again.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


def slot(category: str) -> str:
    """The category's name in the ledger's maps: six characters of its key's SHA-256, stable as keys change order."""
    digest = hashlib.sha256(category.encode("utf-8")).digest()
    return base64.b32encode(digest).decode("ascii")[:6].lower()


def sharing_a_slot(categories: Iterable[str]) -> list[tuple[str, str]]:
    """Pairs of categories whose slots collide (about one chance in 5 million for 20 keys): they must be renamed."""
    seen: dict[str, str] = {}
    clashes: list[tuple[str, str]] = []
    for category in categories:
        other = seen.setdefault(slot(category), category)
        if other != category:
            clashes.append((other, category))
    return clashes


# The stored maps. Older code stored them keyed by the category itself under these names.
TAKEN, WAITING_IN, RESERVED = "taken_in", "waiting_in", "reserved_in"
# A hybrid event's pools (keyed by the pool's name): limits, seats taken, people waiting, and people
# waiting per (pool, category), keyed by slot(place_key(pool, category)), for the reserved seats' line.
POOL_LIMIT, POOL_TAKEN, POOL_WAITING, WAITING_AT = "pool_limit", "pool_taken", "pool_waiting", "waiting_at"
_POOL_MAPS = (POOL_LIMIT, POOL_TAKEN, POOL_WAITING, WAITING_AT)


def place_key(pool: str, category: str) -> str:
    """The name of a (pool, category) pair in WAITING_AT (before slot())."""
    return f"{pool}|{category}"


_LEGACY = {TAKEN: "taken_by", WAITING_IN: "waiting_by", RESERVED: "reserved"}


@dataclass(frozen=True)
class Ledger:
    """An event's seat counters as stored on its item; the per-category maps are keyed by slot(category)."""

    seat_limit: int
    seats_taken: int = 0
    waiting: int = 0
    committed: int = 0
    version: int = 0
    taken_by: Mapping[str, int] = field(default_factory=dict)
    waiting_by: Mapping[str, int] = field(default_factory=dict)
    reserved: Mapping[str, int] = field(default_factory=dict)
    pool_limit: Mapping[str, int] = field(default_factory=dict)  # empty: the event has no pools
    pool_taken: Mapping[str, int] = field(default_factory=dict)
    pool_waiting: Mapping[str, int] = field(default_factory=dict)
    waiting_at: Mapping[str, int] = field(default_factory=dict)
    # Read from an item older code wrote (maps keyed by category): the next write stores it as it is now.
    legacy: bool = False

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Ledger:
        """The ledger of an event item (either storage: an older one is converted on reading)."""
        legacy = _LEGACY[TAKEN] in item

        def counts(name: str) -> dict[str, int]:
            if legacy:
                return {slot(k): int(v) for k, v in item.get(_LEGACY[name], {}).items()}
            return {k: int(v) for k, v in item.get(name, {}).items()}

        return cls(
            seat_limit=int(item["seat_limit"]),
            seats_taken=int(item.get("seats_taken", 0)),
            waiting=int(item.get("waiting", 0)),
            committed=int(item.get("committed", item.get("seats_taken", 0))),
            version=int(item.get("version", 0)),
            taken_by=counts(TAKEN),
            waiting_by=counts(WAITING_IN),
            reserved=counts(RESERVED),
            pool_limit={k: int(v) for k, v in item.get(POOL_LIMIT, {}).items()},
            pool_taken={k: int(v) for k, v in item.get(POOL_TAKEN, {}).items()},
            pool_waiting={k: int(v) for k, v in item.get(POOL_WAITING, {}).items()},
            waiting_at={k: int(v) for k, v in item.get(WAITING_AT, {}).items()},
            legacy=legacy,
        )

    def pooled(self, pool: str) -> bool:
        """Whether `pool` is one of the event's pools (an event without pools, or no pool given: False)."""
        return bool(pool) and pool in self.pool_limit

    def pool_has_room(self, pool: str) -> bool:
        """A seat of `pool` is free (always, outside pools: the seat limit alone decides)."""
        return not self.pooled(pool) or self.pool_taken.get(pool, 0) < self.pool_limit[pool]

    def taken(self, category: str) -> int:
        """Seats the category holds."""
        return self.taken_by.get(slot(category), 0)

    def waiting_of(self, category: str) -> int:
        """People of the category in the waiting list."""
        return self.waiting_by.get(slot(category), 0)

    def reserved_for(self, category: str) -> int:
        """Seats reserved for the category."""
        return self.reserved.get(slot(category), 0)

    def can_seat(self, category: str, pool: str = "") -> bool:
        """Whether one more person of `category` (in `pool`) may take a seat now."""
        in_category = self.taken(category) < self.reserved_for(category) or self.committed < self.seat_limit
        return in_category and self.pool_has_room(pool)

    def seat(self, category: str, pool: str = "") -> Ledger:
        """The ledger after one person of `category` (in `pool`) takes a seat (the caller checked can_seat)."""
        taken = self.taken(category)
        reserved_room = taken < self.reserved_for(category)
        return dataclasses.replace(
            self,
            seats_taken=self.seats_taken + 1,
            committed=self.committed + (0 if reserved_room else 1),
            taken_by={**self.taken_by, slot(category): taken + 1},
            pool_taken=self._pool_count(self.pool_taken, pool, 1),
        )

    def _pool_count(self, counts: Mapping[str, int], pool: str, change: int) -> Mapping[str, int]:
        return {**counts, pool: counts.get(pool, 0) + change} if self.pooled(pool) else counts

    def seat_by_choice(self, category: str, pool: str = "") -> Ledger | None:
        """One person of `category` takes a seat by the organizer's choice, or None if no seat is free.

        Any free seat will do: one the category may take, else one held for another category's
        reservation, which shrinks by that seat (the organizer overrides the order and the quota).
        """
        if not self.pool_has_room(pool):
            return None
        if self.can_seat(category):
            return self.seat(category, pool)
        for held, count in self.reserved.items():
            if self.taken_by.get(held, 0) < count:
                lowered = dataclasses.replace(
                    self, reserved={**self.reserved, held: count - 1}, committed=self.committed - 1
                )
                return lowered.seat(category, pool)
        return None

    def free(self, category: str, pool: str = "") -> Ledger:
        """The ledger after one person of `category` (in `pool`) gives a seat back."""
        taken = self.taken(category)
        # Only a seat beyond the category's reservation was counted in `committed`.
        beyond_reservation = taken > self.reserved_for(category)
        return dataclasses.replace(
            self,
            seats_taken=self.seats_taken - 1,
            committed=self.committed - (1 if beyond_reservation else 0),
            taken_by={**self.taken_by, slot(category): taken - 1},
            pool_taken=self._pool_count(self.pool_taken, pool, -1),
        )

    def wait(self, category: str, change: int, pool: str = "") -> Ledger:
        """The ledger after `change` people of `category` (in `pool`) join (+) or leave (-) the waiting list."""
        at = slot(place_key(pool, category))
        return dataclasses.replace(
            self,
            waiting=self.waiting + change,
            waiting_by={**self.waiting_by, slot(category): self.waiting_of(category) + change},
            pool_waiting=self._pool_count(self.pool_waiting, pool, change),
            waiting_at={**self.waiting_at, at: self.waiting_at.get(at, 0) + change}
            if self.pooled(pool)
            else self.waiting_at,
        )

    def with_pools(self, limits: Mapping[str, int], categories: Iterable[str]) -> Ledger:
        """The ledger after the organizer (re)defines the pools (empty: none); seats and places already counted stay."""
        if not limits:
            if not self.pool_limit:
                return self
            return dataclasses.replace(self, pool_limit={}, pool_taken={}, pool_waiting={}, waiting_at={})
        pools = {*limits, *self.pool_taken}
        places = {slot(place_key(p, c)) for p in limits for c in categories}
        return dataclasses.replace(
            self,
            pool_limit=dict(limits),
            pool_taken={p: self.pool_taken.get(p, 0) for p in pools},
            pool_waiting={p: self.pool_waiting.get(p, 0) for p in pools},
            waiting_at={w: self.waiting_at.get(w, 0) for w in {*places, *self.waiting_at}},
        )

    def release_reservations(self) -> Ledger:
        """Unused reserved seats become everyone's: no category keeps a reservation."""
        return dataclasses.replace(self, reserved=dict.fromkeys(self.reserved, 0), committed=self.seats_taken)

    def with_reservations(self, categories: Iterable[str], reserved: Mapping[str, int]) -> Ledger:
        """The ledger after the organizer (re)defines categories and reservations (a key for every category)."""
        names = [slot(c) for c in categories]
        wanted = {slot(c): n for c, n in reserved.items()}
        taken = {c: self.taken_by.get(c, 0) for c in {*names, *self.taken_by}}
        new_reserved = {c: wanted.get(c, 0) for c in {*names, *self.reserved}}
        committed = sum(max(taken.get(c, 0), new_reserved.get(c, 0)) for c in {*taken, *new_reserved})
        return dataclasses.replace(
            self,
            taken_by=taken,
            reserved=new_reserved,
            waiting_by={c: self.waiting_by.get(c, 0) for c in {*names, *self.waiting_by}},
            committed=committed,
            legacy=False,
        )

    @property
    def seats_left(self) -> int:
        """Seats nobody holds (reserved ones included)."""
        return seats_left(self.seat_limit, self.seats_taken)

    def anyone_may_move(self) -> bool:
        """Whether any waiting person could take a seat at all under this ledger."""
        if self.pool_limit:
            outside_pools = self.waiting - sum(self.pool_waiting.values())
            if outside_pools <= 0 and not any(n and self.pool_has_room(p) for p, n in self.pool_waiting.items()):
                return False
        if self.committed < self.seat_limit:
            return True
        return any(self.waiting_by.get(c, 0) and self.taken_by.get(c, 0) < r for c, r in self.reserved.items())

    def claimable(self, category: str, pool: str = "") -> Claim:
        """What a newcomer of `category` in `pool` takes: a reserved seat, any seat, or (no line-jumping) a place.

        `claim()` checks exactly this, atomically, in DynamoDB's syntax; the property tests hold them equal.
        """
        taken, reserved = self.taken(category), self.reserved_for(category)
        if self.pooled(pool):
            # Only the people of the same pool (and, for a reserved seat, the same category) come first.
            line_before_reserved = self.waiting_at.get(slot(place_key(pool, category)), 0)
            line_before_general = self.pool_waiting.get(pool, 0)
            if not self.pool_has_room(pool):
                return Claim.WAITLIST
        else:
            line_before_reserved, line_before_general = self.waiting_of(category), self.waiting
        if taken < reserved and line_before_reserved == 0:
            return Claim.RESERVED
        if taken >= reserved and self.committed < self.seat_limit and line_before_general == 0:
            return Claim.GENERAL
        return Claim.WAITLIST

    def promote(self, line: Iterable[tuple[str, str, str]], limit: int, skip: str = "") -> tuple[Ledger, list[str]]:
        """Move up, in order, everyone in `line` ((id, category, pool), first in line first) who may take a seat.

        A seat reserved for a category is skipped over by others and goes to the first of that category;
        a seat of a pool goes to the first of that pool. At most `limit` move up (one transaction's
        worth); returns the new ledger and who moved up.
        """
        ledger, promoted = self, list[str]()
        for person, category, pool in line:
            if len(promoted) == limit or not ledger.anyone_may_move():
                break
            if person == skip or not ledger.can_seat(category, pool):
                continue
            ledger = ledger.wait(category, -1, pool).seat(category, pool)
            promoted.append(person)
        return ledger, promoted

    def update(self, also_set: str = "", also_remove: tuple[str, ...] = ()) -> dict[str, Any]:
        """The update that stores this ledger if nobody changed the item since it was read (add the item's Key).

        `also_set` and `also_remove` add to its SET and REMOVE clauses (the older storage's maps always go).
        """
        removed = ", ".join((*_LEGACY.values(), *also_remove))
        return {
            "UpdateExpression": "SET seats_taken = :taken, waiting = :waiting, committed = :committed,"
            f" {TAKEN} = :taken_by, {WAITING_IN} = :waiting_by, {RESERVED} = :reserved,"
            f" {POOL_LIMIT} = :pool_limit, {POOL_TAKEN} = :pool_taken, {POOL_WAITING} = :pool_waiting,"
            f" {WAITING_AT} = :waiting_at, version = :next"
            + (f", {also_set}" if also_set else "")
            + f" REMOVE {removed}",
            "ConditionExpression": "version = :version",
            "ExpressionAttributeValues": {
                ":taken": self.seats_taken,
                ":waiting": self.waiting,
                ":committed": self.committed,
                ":taken_by": dict(self.taken_by),
                ":waiting_by": dict(self.waiting_by),
                ":reserved": dict(self.reserved),
                ":pool_limit": dict(self.pool_limit),
                ":pool_taken": dict(self.pool_taken),
                ":pool_waiting": dict(self.pool_waiting),
                ":waiting_at": dict(self.waiting_at),
                ":version": self.version,
                ":next": self.version + 1,
            },
        }


def seats_left(seat_limit: int, seats_taken: int) -> int:
    """Seats still free (never negative, even if capacity was lowered below the count)."""
    return max(0, seat_limit - seats_taken)


def is_full(seat_limit: int, seats_taken: int) -> bool:
    """No seat is free: what 満席 means on the page and what closes an event without a waiting list."""
    return seats_left(seat_limit, seats_taken) == 0


# is_full and its opposite as DynamoDB conditions on the event item (closing and reopening check them).
FULL = "seats_taken >= seat_limit"
HAS_ROOM = "seats_taken < seat_limit"


class Claim(StrEnum):
    """What a registration takes without reading the ledger first."""

    RESERVED = "reserved"  # a seat reserved for the attendee's category
    GENERAL = "general"  # a seat nobody reserved
    WAITLIST = "waitlist"  # a place in the waiting list, only while nobody of the category could be seated


# can_seat(c), split by which half of it holds, and its negation for the waiting list, in DynamoDB's
# syntax (`#c` is the category). Nobody jumps the line: a seat is taken only while nobody waits for it.
# The three maps hold a key for every category's slot (publishing makes sure).
_RESERVED_ROOM = f"{TAKEN}.#c < {RESERVED}.#c AND {WAITING_IN}.#c = :zero"
_GENERAL_ROOM = f"{TAKEN}.#c >= {RESERVED}.#c AND committed < seat_limit AND waiting = :zero"
_NO_ROOM = (
    f"({TAKEN}.#c >= {RESERVED}.#c OR {WAITING_IN}.#c > :zero) AND ({TAKEN}.#c < {RESERVED}.#c"
    " OR committed >= seat_limit OR waiting > :zero)"
)
_SEAT = f"SET seats_taken = seats_taken + :one, {TAKEN}.#c = {TAKEN}.#c + :one, version = version + :one"
_WAIT = f"SET waiting = waiting + :one, {WAITING_IN}.#c = {WAITING_IN}.#c + :one, version = version + :one"
_CLAIMS = {
    # seat(c) when the category's reservation has room: `committed` already counts that seat.
    Claim.RESERVED: (_SEAT, _RESERVED_ROOM),
    # seat(c) beyond any reservation.
    Claim.GENERAL: (f"{_SEAT}, committed = committed + :one", _GENERAL_ROOM),
    # wait(c, +1).
    Claim.WAITLIST: (_WAIT, _NO_ROOM),
}

# The same in an event with pools (`#p` is the pool, `#w` the slot of its (pool, category)): the pool must
# have room as well, and only the people waiting in the same pool (and category, for a reserved seat) come first.
_POOL_ROOM = f"{POOL_TAKEN}.#p < {POOL_LIMIT}.#p"
_POOL_FULL = f"{POOL_TAKEN}.#p >= {POOL_LIMIT}.#p"
_POOLED_CLAIMS = {
    Claim.RESERVED: (
        f"{_SEAT}, {POOL_TAKEN}.#p = {POOL_TAKEN}.#p + :one",
        f"{TAKEN}.#c < {RESERVED}.#c AND {WAITING_AT}.#w = :zero AND {_POOL_ROOM}",
    ),
    Claim.GENERAL: (
        f"{_SEAT}, committed = committed + :one, {POOL_TAKEN}.#p = {POOL_TAKEN}.#p + :one",
        f"{TAKEN}.#c >= {RESERVED}.#c AND committed < seat_limit AND {POOL_WAITING}.#p = :zero AND {_POOL_ROOM}",
    ),
    Claim.WAITLIST: (
        f"{_WAIT}, {POOL_WAITING}.#p = {POOL_WAITING}.#p + :one, {WAITING_AT}.#w = {WAITING_AT}.#w + :one",
        f"({TAKEN}.#c >= {RESERVED}.#c OR {WAITING_AT}.#w > :zero OR {_POOL_FULL}) AND ({TAKEN}.#c < {RESERVED}.#c"
        f" OR committed >= seat_limit OR {POOL_WAITING}.#p > :zero OR {_POOL_FULL})",
    ),
}


def claim(kind: Claim, pooled: bool = False) -> tuple[str, str]:
    """(update, condition) that take `kind` for `#c` = slot(category) atomically, with `:one` = 1 and `:zero` = 0.

    `pooled`: the event has pools; `#p` names the person's pool and `#w` slot(place_key(pool, category)).
    """
    return (_POOLED_CLAIMS if pooled else _CLAIMS)[kind]


def claim_names(category: str, pool: str, pooled: bool) -> dict[str, str]:
    """The expression attribute names `claim()` uses for one person."""
    names = {"#c": slot(category)}
    if pooled:
        names.update({"#p": pool, "#w": slot(place_key(pool, category))})
    return names
