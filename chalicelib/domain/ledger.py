"""The seat ledger: the counters on an event item, and the one rule of who may take a seat.

Seats may be reserved per category (e.g. 20 of 50 for 地方議員). A category's people first fill
its reserved seats, then the seats nobody reserved. The ledger keeps, per category, the seats
taken (`taken_by`) and the seats reserved (`reserved`), and in `committed` the seats that are
spoken for: for each category the larger of what it took and what it has reserved. So:

    a person of category c may take a seat  <=>  taken_by[c] < reserved[c]  or  committed < seat_limit

and `seats_taken <= committed <= seat_limit` always holds, so capacity is never exceeded. Without
reservations every `reserved[c]` is 0, `committed == seats_taken`, and the rule is the usual one.

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
            legacy=legacy,
        )

    def taken(self, category: str) -> int:
        """Seats the category holds."""
        return self.taken_by.get(slot(category), 0)

    def waiting_of(self, category: str) -> int:
        """People of the category in the waiting list."""
        return self.waiting_by.get(slot(category), 0)

    def reserved_for(self, category: str) -> int:
        """Seats reserved for the category."""
        return self.reserved.get(slot(category), 0)

    def can_seat(self, category: str) -> bool:
        """Whether one more person of `category` may take a seat now."""
        return self.taken(category) < self.reserved_for(category) or self.committed < self.seat_limit

    def seat(self, category: str) -> Ledger:
        """The ledger after one person of `category` takes a seat (the caller checked can_seat)."""
        taken = self.taken(category)
        reserved_room = taken < self.reserved_for(category)
        return dataclasses.replace(
            self,
            seats_taken=self.seats_taken + 1,
            committed=self.committed + (0 if reserved_room else 1),
            taken_by={**self.taken_by, slot(category): taken + 1},
        )

    def seat_by_choice(self, category: str) -> Ledger | None:
        """One person of `category` takes a seat by the organizer's choice, or None if no seat is free.

        Any free seat will do: one the category may take, else one held for another category's
        reservation, which shrinks by that seat (the organizer overrides the order and the quota).
        """
        if self.can_seat(category):
            return self.seat(category)
        for held, count in self.reserved.items():
            if self.taken_by.get(held, 0) < count:
                lowered = dataclasses.replace(
                    self, reserved={**self.reserved, held: count - 1}, committed=self.committed - 1
                )
                return lowered.seat(category)
        return None

    def free(self, category: str) -> Ledger:
        """The ledger after one person of `category` gives a seat back."""
        taken = self.taken(category)
        # Only a seat beyond the category's reservation was counted in `committed`.
        beyond_reservation = taken > self.reserved_for(category)
        return dataclasses.replace(
            self,
            seats_taken=self.seats_taken - 1,
            committed=self.committed - (1 if beyond_reservation else 0),
            taken_by={**self.taken_by, slot(category): taken - 1},
        )

    def wait(self, category: str, change: int) -> Ledger:
        """The ledger after `change` people of `category` join (+) or leave (-) the waiting list."""
        return dataclasses.replace(
            self,
            waiting=self.waiting + change,
            waiting_by={**self.waiting_by, slot(category): self.waiting_of(category) + change},
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
        if self.committed < self.seat_limit:
            return True
        return any(self.waiting_by.get(c, 0) and self.taken_by.get(c, 0) < r for c, r in self.reserved.items())

    def claimable(self, category: str) -> Claim:
        """What a newcomer of `category` takes: a reserved seat, any seat, or (nobody jumps the line) a place.

        `claim()` checks exactly this, atomically, in DynamoDB's syntax; the property tests hold them equal.
        """
        taken, reserved = self.taken(category), self.reserved_for(category)
        if taken < reserved and self.waiting_of(category) == 0:
            return Claim.RESERVED
        if taken >= reserved and self.committed < self.seat_limit and self.waiting == 0:
            return Claim.GENERAL
        return Claim.WAITLIST

    def promote(self, line: Iterable[tuple[str, str]], limit: int, skip: str = "") -> tuple[Ledger, list[str]]:
        """Move up, in order, everyone in `line` ((id, category), first in line first) who may take a seat.

        A seat reserved for a category is skipped over by others and goes to the first of that category.
        At most `limit` move up (one transaction's worth); returns the new ledger and who moved up.
        """
        ledger, promoted = self, list[str]()
        for person, category in line:
            if len(promoted) == limit or not ledger.anyone_may_move():
                break
            if person == skip or not ledger.can_seat(category):
                continue
            ledger = ledger.wait(category, -1).seat(category)
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
            " version = :next" + (f", {also_set}" if also_set else "") + f" REMOVE {removed}",
            "ConditionExpression": "version = :version",
            "ExpressionAttributeValues": {
                ":taken": self.seats_taken,
                ":waiting": self.waiting,
                ":committed": self.committed,
                ":taken_by": dict(self.taken_by),
                ":waiting_by": dict(self.waiting_by),
                ":reserved": dict(self.reserved),
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
_CLAIMS = {
    # seat(c) when the category's reservation has room: `committed` already counts that seat.
    Claim.RESERVED: (
        f"SET seats_taken = seats_taken + :one, {TAKEN}.#c = {TAKEN}.#c + :one, version = version + :one",
        _RESERVED_ROOM,
    ),
    # seat(c) beyond any reservation.
    Claim.GENERAL: (
        f"SET seats_taken = seats_taken + :one, {TAKEN}.#c = {TAKEN}.#c + :one,"
        " committed = committed + :one, version = version + :one",
        _GENERAL_ROOM,
    ),
    # wait(c, +1).
    Claim.WAITLIST: (
        f"SET waiting = waiting + :one, {WAITING_IN}.#c = {WAITING_IN}.#c + :one, version = version + :one",
        _NO_ROOM,
    ),
}


def claim(kind: Claim) -> tuple[str, str]:
    """(update, condition) that take `kind` for `#c` = slot(category) atomically, with `:one` = 1 and `:zero` = 0."""
    return _CLAIMS[kind]
