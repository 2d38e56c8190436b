"""The waiting list: moving up when a seat frees, leaving it, and cancelling a seat.

Every change that frees a seat gives it to the first person waiting in the same transaction, so a
freed seat is never lost and goes to exactly one person. The event item counts both seats and
waiting people, and every transaction conditions on it, so these invariants hold under any race:
  seats_taken <= seat_limit (unless the organizer lowered the limit), and
  waiting > 0 only while there is no free seat.
A transaction that loses a race fails its conditions, changes nothing, and is tried again from a
fresh read: the first place of the list may have moved up meanwhile.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from chalicelib import table as keys
from chalicelib.catalog import reopen_if_room
from chalicelib.clock import iso
from chalicelib.dynamo import Item, Table, TransactionCancelled
from chalicelib.events import Event
from chalicelib.outbox import MailKind, mail_item, put_new_mail, status_mail_id
from chalicelib.registrations import Registration, RegistrationStatus, get_registration, guard_key

# Each retry follows a lost race (the head of the line moved up meanwhile); a few dozen at most in a rush.
MAX_ATTEMPTS = 20
_BACKOFF_BASE = 0.02


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
    promoted: str = ""


def position(table: Table, slug: str, wait_sk: str) -> int:
    """A waiting person's place in line: 1 is next."""
    return table.count(
        "pk = :pk AND sk BETWEEN :first AND :mine",
        {":pk": keys.event_pk(slug), ":first": keys.WAIT_PREFIX, ":mine": wait_sk},
    )


def first_waiting(table: Table, slug: str) -> Item | None:
    """The place at the head of the waiting list, or None if nobody waits."""
    rows = table.query(
        "pk = :pk AND begins_with(sk, :prefix)", {":pk": keys.event_pk(slug), ":prefix": keys.WAIT_PREFIX}, limit=1
    )
    return next(iter(rows), None)


def cancel(
    table: Table,
    event: Event,
    registration_id: str,
    now: datetime,
    sleep: Callable[[float], None] = time.sleep,
) -> CancelResult:
    """Cancel a seat (the first waiting person gets it) or leave the waiting list; idempotent."""
    if now >= event.cancellation_deadline:
        return CancelResult(CancelOutcome.TOO_LATE)
    for attempt in range(MAX_ATTEMPTS):
        registration = get_registration(table, event.slug, registration_id)
        if registration is None:
            return CancelResult(CancelOutcome.NOT_FOUND)
        if registration.status == RegistrationStatus.CANCELLED.value:
            return CancelResult(CancelOutcome.ALREADY_CANCELLED)
        head = None
        if registration.status == RegistrationStatus.WAITLISTED.value:
            actions = _leave_actions(event.slug, registration, now)
        else:
            head = first_waiting(table, event.slug)
            actions = _free_seat_actions(event.slug, registration, head, now)
        try:
            table.transact(actions)
        except TransactionCancelled:
            # Someone moved up, joined or cancelled at the same moment: read again and retry.
            sleep(random.uniform(0, _BACKOFF_BASE * (2**attempt)))  # noqa: S311 (jitter, not a secret)
            continue
        if head is None and registration.status == RegistrationStatus.CONFIRMED.value:
            reopen_if_room(table, event.slug, now)  # an event closed as full has a seat again
        return CancelResult(CancelOutcome.CANCELLED, head["registration_id"] if head else "")
    raise RuntimeError(f"could not cancel {registration_id} after {MAX_ATTEMPTS} attempts")


def promote_waiting(table: Table, slug: str, now: datetime) -> list[str]:
    """Give every free seat to the people waiting longest (after the organizer adds seats); safe to repeat."""
    promoted: list[str] = []
    while True:
        event = table.get(keys.event_key(slug))
        if not event or int(event.get("waiting", 0)) == 0 or event["seats_taken"] >= event["seat_limit"]:
            return promoted
        head = first_waiting(table, slug)
        if head is None:
            return promoted
        take_seat = {
            "Key": keys.event_key(slug),
            "UpdateExpression": "SET seats_taken = seats_taken + :one, waiting = waiting - :one",
            "ConditionExpression": "seats_taken < seat_limit AND waiting > :zero",
            "ExpressionAttributeValues": {":one": 1, ":zero": 0},
        }
        try:
            table.transact([{"Update": take_seat}, *_promotion_actions(slug, head, now)])
        except TransactionCancelled as exc:
            if not exc.only_condition_failures:
                raise
            continue  # someone else moved this person up, or took the seat: look again
        promoted.append(head["registration_id"])


def _free_seat_actions(slug: str, registration: Registration, head: Item | None, now: datetime) -> list[dict[str, Any]]:
    """Cancel a confirmed registration; its seat goes to `head` if someone waits, else back to the pool."""
    if head is None:
        seat = {
            "Key": keys.event_key(slug),
            "UpdateExpression": "SET seats_taken = seats_taken - :one",
            # If someone joined the list meanwhile, the seat is theirs: fail, re-read, promote them.
            "ConditionExpression": "waiting = :zero",
            "ExpressionAttributeValues": {":one": 1, ":zero": 0},
        }
        return [{"Update": seat}, *_cancel_actions(slug, registration, RegistrationStatus.CONFIRMED, now)]
    # The seat passes straight on: seats_taken stays, one fewer waits. If the organizer lowered the
    # limit below the seats taken, the seat is not passed on.
    seat = {
        "Key": keys.event_key(slug),
        "UpdateExpression": "SET waiting = waiting - :one",
        "ConditionExpression": "waiting > :zero AND seats_taken <= seat_limit",
        "ExpressionAttributeValues": {":one": 1, ":zero": 0},
    }
    return [
        {"Update": seat},
        *_cancel_actions(slug, registration, RegistrationStatus.CONFIRMED, now),
        *_promotion_actions(slug, head, now),
    ]


def _leave_actions(slug: str, registration: Registration, now: datetime) -> list[dict[str, Any]]:
    """A waiting person leaves the list: their place goes, nobody's seat changes."""
    count = {
        "Key": keys.event_key(slug),
        "UpdateExpression": "SET waiting = waiting - :one",
        "ConditionExpression": "waiting > :zero",
        "ExpressionAttributeValues": {":one": 1, ":zero": 0},
    }
    place = {"Key": {keys.PK: keys.event_pk(slug), keys.SK: registration.wait_sk}}
    return [
        {"Update": count},
        {"Delete": {**place, "ConditionExpression": "attribute_exists(pk)"}},
        *_cancel_actions(slug, registration, RegistrationStatus.WAITLISTED, now),
    ]


def _cancel_actions(
    slug: str, registration: Registration, expected: RegistrationStatus, now: datetime
) -> list[dict[str, Any]]:
    """Mark the registration cancelled (only from the state it was read in), free the address, tell them."""
    rid = registration.registration_id
    mark = {
        "Key": keys.registration_key(slug, rid),
        "UpdateExpression": "SET #status = :cancelled, cancelled_at = :now REMOVE wait_sk",
        "ConditionExpression": "#status = :expected",
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": {
            ":cancelled": RegistrationStatus.CANCELLED.value,
            ":expected": expected.value,
            ":now": iso(now),
        },
    }
    return [
        {"Update": mark},
        # The address may register again later; the guard only ever holds live registrations.
        {
            "Delete": {
                "Key": guard_key(slug, registration.attendee.email_key),
                "ConditionExpression": "attribute_not_exists(pk) OR registration_id = :rid",
                "ExpressionAttributeValues": {":rid": rid},
            }
        },
        put_new_mail(mail_item(slug, status_mail_id(MailKind.CANCELLED, rid), MailKind.CANCELLED, now, rid)),
    ]


def _promotion_actions(slug: str, head: Item, now: datetime) -> list[dict[str, Any]]:
    """The head of the list takes a seat: its place goes, its registration is confirmed, it is told."""
    rid = head["registration_id"]
    confirm = {
        "Key": keys.registration_key(slug, rid),
        "UpdateExpression": "SET #status = :confirmed, promoted_at = :now REMOVE wait_sk",
        "ConditionExpression": "#status = :waitlisted",
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": {
            ":confirmed": RegistrationStatus.CONFIRMED.value,
            ":waitlisted": RegistrationStatus.WAITLISTED.value,
            ":now": iso(now),
        },
    }
    return [
        {
            "Delete": {
                "Key": {keys.PK: head[keys.PK], keys.SK: head[keys.SK]},
                "ConditionExpression": "attribute_exists(pk)",
            }
        },
        {"Update": confirm},
        put_new_mail(mail_item(slug, status_mail_id(MailKind.PROMOTED, rid), MailKind.PROMOTED, now, rid)),
    ]
