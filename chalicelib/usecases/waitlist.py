"""After a seat is taken: cancelling, leaving the waiting list, moving people up, the lottery's draw.

Every change here reads the event's seat ledger (seats.py), computes the next one, and writes it in
one transaction with everything that follows from it, conditioned on the ledger being unchanged.
So a freed seat goes, in that same transaction, to the first person waiting who may take it (first
in, first promoted; a seat reserved for a category goes to the first of that category), a freed
seat is never lost or given twice, and a replay finds nothing left to do. A transaction that loses
a race changes nothing and is tried again from a fresh read.
"""

from __future__ import annotations

import contextlib
import random
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from chalicelib.domain.attendee import EDITABLE_FIELDS, Attendee
from chalicelib.domain.clock import iso, iso_precise
from chalicelib.domain.event import Event
from chalicelib.domain.ledger import Ledger
from chalicelib.store import schema
from chalicelib.store.dynamo import ConditionFailed, Item, Table, TransactionCancelled
from chalicelib.usecases.catalog import reopen_if_room
from chalicelib.usecases.outbox import MailKind, mail_item, put_new_mail, status_mail_id
from chalicelib.usecases.registering import Registration, RegistrationStatus, get_registration, guard_key

# Each retry follows a lost race (someone else changed the event's seats); a few dozen at most in a rush.
MAX_ATTEMPTS = 30
_BACKOFF_BASE = 0.02
# Promotions per transaction: three items each, well within DynamoDB's 100 per transaction.
PROMOTIONS_PER_WRITE = 25


class CancelOutcome(StrEnum):
    """How a cancellation ended."""

    CANCELLED = "cancelled"
    ALREADY_CANCELLED = "already_cancelled"
    TOO_LATE = "too_late"
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class CancelResult:
    """The answer to a cancellation, and who moved up into the freed seat, if anyone."""

    outcome: CancelOutcome
    promoted: tuple[str, ...] = ()


def position(table: Table, slug: str, wait_sk: str) -> int:
    """A waiting person's place in line: 1 is next."""
    return table.count(
        "pk = :pk AND sk BETWEEN :first AND :mine",
        {":pk": schema.event_pk(slug), ":first": schema.WAIT_PREFIX, ":mine": wait_sk},
    )


def waiting_list(table: Table, slug: str) -> Iterator[Item]:
    """The places in the waiting list, first in line first."""
    return table.query(
        "pk = :pk AND begins_with(sk, :prefix)", {":pk": schema.event_pk(slug), ":prefix": schema.WAIT_PREFIX}
    )


def cancel(
    table: Table,
    event: Event,
    registration_id: str,
    now: datetime,
    sleep: Callable[[float], None] = time.sleep,
) -> CancelResult:
    """Cancel a seat (the first waiting person who may take it gets it) or leave the waiting list; idempotent."""
    if now >= event.cancellation_deadline:
        return CancelResult(CancelOutcome.TOO_LATE)
    for attempt in range(MAX_ATTEMPTS):
        registration = get_registration(table, event.slug, registration_id)
        if registration is None:
            return CancelResult(CancelOutcome.NOT_FOUND)
        if registration.status == RegistrationStatus.CANCELLED.value:
            return CancelResult(CancelOutcome.ALREADY_CANCELLED)
        ledger = _ledger(table, event.slug)
        expected = RegistrationStatus(registration.status)
        category = registration.attendee.category
        actions = _cancel_actions(event.slug, registration, expected, now)
        if expected is RegistrationStatus.CONFIRMED:
            ledger = ledger.free(category)
        elif expected is RegistrationStatus.WAITLISTED:
            ledger = ledger.wait(category, -1)
            actions.append(_delete_existing({schema.PK: schema.event_pk(event.slug), schema.SK: registration.wait_sk}))
        ledger, promotions, promoted = _promotions(table, event.slug, ledger, now, skip=registration_id)
        try:
            table.transact([ledger.write(event.slug), *actions, *promotions])
        except TransactionCancelled:
            sleep(random.uniform(0, _BACKOFF_BASE * (2 ** min(attempt, 6))))  # noqa: S311 (jitter, not a secret)
            continue
        if expected is RegistrationStatus.CONFIRMED and not promoted:
            reopen_if_room(table, event.slug, now)  # an event closed as full has a seat again
        if len(promoted) == PROMOTIONS_PER_WRITE:
            settle(table, event.slug, now)  # a full batch moved up: there may be room for more
        return CancelResult(CancelOutcome.CANCELLED, tuple(promoted))
    raise RuntimeError(f"could not cancel {registration_id} after {MAX_ATTEMPTS} attempts")


class CorrectOutcome(StrEnum):
    """How saving a registrant's corrections ended."""

    SAVED = "saved"
    NOT_ACTIVE = "not_active"  # cancelled meanwhile
    NO_SEAT_IN_CATEGORY = "no_seat_in_category"  # the new category's seats are all taken


def correct(table: Table, event: Event, registration_id: str, attendee: Attendee, now: datetime) -> CorrectOutcome:
    """Save corrections (never the address); a new category moves the seat or place with it, or is refused."""
    for _attempt in range(MAX_ATTEMPTS):
        registration = get_registration(table, event.slug, registration_id)
        if registration is None or registration.status == RegistrationStatus.CANCELLED.value:
            return CorrectOutcome.NOT_ACTIVE
        before, after = registration.attendee.category, attendee.category
        status = RegistrationStatus(registration.status)
        save = _save_fields(event.slug, registration_id, attendee, status, before)
        if before == after or status is RegistrationStatus.APPLIED:
            try:
                table.transact([save])
            except TransactionCancelled:
                continue  # its state changed meanwhile: look again
            return CorrectOutcome.SAVED
        ledger = _ledger(table, event.slug)
        extra: list[dict[str, Any]] = []
        if status is RegistrationStatus.CONFIRMED:
            ledger = ledger.free(before)
            if not ledger.can_seat(after):
                return CorrectOutcome.NO_SEAT_IN_CATEGORY
            ledger = ledger.seat(after)
        else:
            ledger = ledger.wait(before, -1).wait(after, 1)
            place = {schema.PK: schema.event_pk(event.slug), schema.SK: registration.wait_sk}
            extra.append(
                {
                    "Update": {
                        "Key": place,
                        "UpdateExpression": "SET category = :c",
                        "ExpressionAttributeValues": {":c": after},
                    }
                }
            )
        # Others may move up into a seat this frees; the person themself (whose place changes in this
        # very transaction) is settled right after, if their new category has room.
        ledger, promotions, promoted = _promotions(table, event.slug, ledger, now, skip=registration_id)
        try:
            table.transact([ledger.write(event.slug), save, *extra, *promotions])
        except TransactionCancelled:
            continue
        if status is RegistrationStatus.WAITLISTED or len(promoted) == PROMOTIONS_PER_WRITE:
            settle(table, event.slug, now)
        return CorrectOutcome.SAVED
    raise RuntimeError(f"could not save corrections to {registration_id} after {MAX_ATTEMPTS} attempts")


def _save_fields(
    slug: str, registration_id: str, attendee: Attendee, status: RegistrationStatus, category: str
) -> dict[str, Any]:
    """Write the editable fields, only if the registration is still as it was read."""
    values = {f":{name}": getattr(attendee, name) for name in EDITABLE_FIELDS}
    return {
        "Update": {
            "Key": schema.registration_key(slug, registration_id),
            "UpdateExpression": "SET " + ", ".join(f"#{name} = :{name}" for name in EDITABLE_FIELDS),
            "ConditionExpression": "#status = :status AND #category = :before",
            "ExpressionAttributeNames": {**{f"#{name}": name for name in EDITABLE_FIELDS}, "#status": "status"},
            "ExpressionAttributeValues": {**values, ":status": status.value, ":before": category},
        }
    }


def settle(table: Table, slug: str, now: datetime) -> list[str]:
    """Give every seat someone waiting may take to them, in order; returns who moved up. Safe to repeat."""
    moved: list[str] = []
    for _attempt in range(MAX_ATTEMPTS):
        ledger = _ledger(table, slug)
        if ledger.waiting == 0:
            return moved
        ledger, promotions, promoted = _promotions(table, slug, ledger, now)
        if not promoted:
            return moved
        try:
            table.transact([ledger.write(slug), *promotions])
        except TransactionCancelled as exc:
            if not exc.only_condition_failures:
                raise
            continue  # someone changed the seats meanwhile: look again
        moved += promoted
    return moved


def release_reservations(table: Table, slug: str, now: datetime) -> bool:
    """Make unused reserved seats everyone's (at the event's quota_release_at); True if it did."""
    for _attempt in range(MAX_ATTEMPTS):
        ledger = _ledger(table, slug)
        released = ledger.release_reservations()
        if released == ledger:
            return False
        try:
            table.transact([released.write(slug)])
        except TransactionCancelled as exc:
            if not exc.only_condition_failures:
                raise
            continue
        settle(table, slug, now)
        return True
    return False


def draw(table: Table, event: Event, now: datetime, seed: str | None = None) -> list[str]:
    """Run the lottery once: winners take seats, the others wait in drawn order. Returns the drawn order.

    The seed is recorded on the event before anyone is drawn, so a second run (or a crash and a
    rerun) draws the same order and only finishes what is left; the seed lets anyone replay it.
    """
    item = table.get(schema.event_key(event.slug))
    if item is None or item.get("drawn_at"):
        return []
    recorded = _record_seed(table, event.slug, seed or secrets.token_hex(16))
    order = drawn_order(table, event.slug, recorded)
    stamp = iso_precise(event.draw_at or now)
    for index, registration_id in enumerate(order):
        _draw_one(table, event.slug, registration_id, f"{stamp}-{index:06d}", now)
    # From now on the event gives seats first come, first served (and its line moves up).
    # A concurrent run may have finished first: it drew the very same order.
    with contextlib.suppress(ConditionFailed):
        table.update(
            schema.event_key(event.slug),
            "SET drawn_at = :now",
            values={":now": iso(now)},
            condition="attribute_not_exists(drawn_at)",
        )
    return order


def draw_due(table: Table, events: list[Event], now: datetime) -> dict[str, int]:
    """Run every lottery whose draw time has come and that has not been drawn; how many each drew."""
    return {event.slug: len(draw(table, event, now)) for event in events if event.draw_at and event.draw_at <= now}


def drawn_order(table: Table, slug: str, seed: str) -> list[str]:
    """Every application shuffled by `seed`: the same seed and applications always give the same order."""
    applicants = sorted(
        row["registration_id"]
        for row in table.query(
            "pk = :pk AND begins_with(sk, :prefix)",
            {":pk": schema.event_pk(slug), ":prefix": schema.REG_PREFIX},
            projection="registration_id, applicant",
        )
        if row.get("applicant")
    )
    random.Random(seed).shuffle(applicants)  # noqa: S311 (a fair, replayable draw: the seed is published)
    return applicants


def _record_seed(table: Table, slug: str, seed: str) -> str:
    """Store the draw's seed once; whoever stored it first decides it for every run."""
    try:
        table.update(
            schema.event_key(slug),
            "SET draw_seed = :seed",
            values={":seed": seed},
            condition="attribute_not_exists(draw_seed)",
        )
        return seed
    except ConditionFailed as exc:
        if exc.item and exc.item.get("draw_seed"):
            return str(exc.item["draw_seed"])
        item = table.get(schema.event_key(slug))
        return str(item["draw_seed"]) if item else seed


def _draw_one(table: Table, slug: str, registration_id: str, order_key: str, now: datetime) -> None:
    """Seat one applicant if the ledger allows, else put them in line; nothing if already done."""
    for _attempt in range(MAX_ATTEMPTS):
        registration = get_registration(table, slug, registration_id)
        if registration is None or registration.status != RegistrationStatus.APPLIED.value:
            return  # drawn by an earlier run, or withdrawn
        ledger = _ledger(table, slug)
        category = registration.attendee.category
        if ledger.can_seat(category):
            ledger = ledger.seat(category)
            actions = [
                *_status_change(
                    slug,
                    registration_id,
                    RegistrationStatus.APPLIED,
                    RegistrationStatus.CONFIRMED,
                    MailKind.DRAW_WON,
                    now,
                ),
            ]
        else:
            ledger = ledger.wait(category, 1)
            place = schema.wait_key(slug, order_key, registration_id)
            actions = [
                {
                    "Put": {
                        "Item": {**place, "registration_id": registration_id, "category": category},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                *_status_change(
                    slug,
                    registration_id,
                    RegistrationStatus.APPLIED,
                    RegistrationStatus.WAITLISTED,
                    MailKind.DRAW_LOST,
                    now,
                    wait_sk=place[schema.SK],
                ),
            ]
        try:
            table.transact([ledger.write(slug), *actions])
            return
        except TransactionCancelled as exc:
            if not exc.only_condition_failures:
                raise


def _ledger(table: Table, slug: str) -> Ledger:
    item = table.get(schema.event_key(slug))
    if item is None:
        raise LookupError(f"no event {slug}")
    return Ledger.from_item(item)


def _promotions(
    table: Table, slug: str, ledger: Ledger, now: datetime, skip: str = ""
) -> tuple[Ledger, list[dict[str, Any]], list[str]]:
    """Who in the waiting list may take a seat under `ledger`, in order: the new ledger and the writes."""
    if ledger.waiting == 0:
        return ledger, [], []
    actions: list[dict[str, Any]] = []
    promoted: list[str] = []
    for place in waiting_list(table, slug):
        if len(promoted) == PROMOTIONS_PER_WRITE or not _anyone_may_move(ledger):
            break
        if place["registration_id"] == skip:
            continue
        category = place.get("category", "")
        if not ledger.can_seat(category):
            continue  # this seat is reserved for another category: the next person of it gets it
        ledger = ledger.wait(category, -1).seat(category)
        promoted.append(place["registration_id"])
        actions += [
            _delete_existing({schema.PK: place[schema.PK], schema.SK: place[schema.SK]}),
            *_status_change(
                slug,
                place["registration_id"],
                RegistrationStatus.WAITLISTED,
                RegistrationStatus.CONFIRMED,
                MailKind.PROMOTED,
                now,
            ),
        ]
    return ledger, actions, promoted


def _anyone_may_move(ledger: Ledger) -> bool:
    """Whether any waiting person could take a seat at all under `ledger`."""
    if ledger.committed < ledger.seat_limit:
        return True
    return any(ledger.waiting_by.get(c, 0) and ledger.taken_by.get(c, 0) < r for c, r in ledger.reserved.items())


def _status_change(
    slug: str,
    registration_id: str,
    before: RegistrationStatus,
    after: RegistrationStatus,
    kind: MailKind,
    now: datetime,
    wait_sk: str = "",
) -> list[dict[str, Any]]:
    """Move a registration from one state to the next (only from `before`) and queue the mail that says so."""
    update = {
        "Key": schema.registration_key(slug, registration_id),
        "UpdateExpression": "SET #status = :after, changed_at = :now"
        + (", wait_sk = :wait_sk" if wait_sk else " REMOVE wait_sk"),
        "ConditionExpression": "#status = :before",
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": {
            ":after": after.value,
            ":before": before.value,
            ":now": iso(now),
            **({":wait_sk": wait_sk} if wait_sk else {}),
        },
    }
    mail = mail_item(slug, status_mail_id(kind, registration_id), kind, now, registration_id)
    return [{"Update": update}, put_new_mail(mail)]


def _cancel_actions(
    slug: str, registration: Registration, expected: RegistrationStatus, now: datetime
) -> list[dict[str, Any]]:
    """Mark the registration cancelled (only from the state it was read in), free the address, tell them."""
    rid = registration.registration_id
    return [
        *_status_change(slug, rid, expected, RegistrationStatus.CANCELLED, MailKind.CANCELLED, now),
        # The address may register again later; the guard only ever holds live registrations.
        {
            "Delete": {
                "Key": guard_key(slug, registration.attendee.email_key),
                "ConditionExpression": "attribute_not_exists(pk) OR registration_id = :rid",
                "ExpressionAttributeValues": {":rid": rid},
            }
        },
    ]


def _delete_existing(key: dict[str, str]) -> dict[str, Any]:
    return {"Delete": {"Key": key, "ConditionExpression": "attribute_exists(pk)"}}
