"""出欠の再確認: seat holders asked whether they still come, unanswered seats released to the line, and the way back.

Three steps run on the reminders' schedule (Event.attendance_schedule; reminders.py calls run_due):
ask every seat holder (one mail each with a fixed id, so a second run sends nothing), ask again
those who have not answered, and at the release time give the unanswered seats to the people
waiting, in order. A release is a cancellation's transaction for up to RELEASES_PER_WRITE people at
once: each seat freed, its registration marked released only if it is still confirmed and still
unanswered (someone pressing 参加します at that very moment keeps their seat: the write loses and
is built again from a fresh read), and the line moved up into the freed seats, all conditioned on
the ledger's version. People staff registered and people without an address are never released:
the organizer's list shows them, to call.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from chalicelib import telemetry
from chalicelib.domain.clock import iso
from chalicelib.domain.event import RECONFIRM_AGAIN, RECONFIRM_RELEASE, Event
from chalicelib.domain.ledger import Claim, Ledger
from chalicelib.domain.registration import Registration, RegistrationStatus
from chalicelib.store import schema
from chalicelib.store.dynamo import ConditionFailed, Item, Table, TransactionCancelled
from chalicelib.store.retry import PATIENT, LostRace, RetryPolicy, transact_or_lose
from chalicelib.usecases import choices
from chalicelib.usecases.address_guards import freed_guard, guard_item
from chalicelib.usecases.outbox import MailKind, confirmation_id, mail_item, put_all_new, put_new_mail, status_mail_id
from chalicelib.usecases.roster import Entry
from chalicelib.usecases.waitlist import (
    called_off,
    pool_of,
    promotions_under,
    read_event_item,
    reopens,
    settle,
    status_change,
    write_ledger,
)

# Per release: the registration, its mail and its guard; per person moving up: their place, registration
# and mail; plus the ledger and the capped answers' counters. 16 of each: 98 of DynamoDB's 100 per transaction.
RELEASES_PER_WRITE = 16
# Why a seat holder cancelled: they answered 行けなくなりました (the report counts them apart).
DECLINED = "declined_at"


def run_due(table: Table, event: Event, step: str, now: datetime) -> int:
    """Run one step of the event's attendance schedule: mails queued, or seats released."""
    if step == RECONFIRM_RELEASE:
        return len(release_unanswered(table, event, now))
    return ask(table, event, now, again=step == RECONFIRM_AGAIN)


def _registration_rows(table: Table, slug: str) -> Iterable[Item]:
    return table.query(
        "pk = :pk AND begins_with(sk, :prefix)", {":pk": schema.event_pk(slug), ":prefix": schema.REG_PREFIX}
    )


def unanswered(e: Entry) -> bool:
    """A seat holder who has not said 参加します (nor been checked in or erased)."""
    r = e.registration
    return r.status == RegistrationStatus.CONFIRMED.value and not (r.reconfirmed_at or e.checked_in_at or r.erased)


def asked(e: Entry, event: Event) -> bool:
    """Unanswered, and held the seat when the reconfirmation went out (who moved up since was never asked)."""
    held_since = e.changed_at or e.registration.created_at
    return event.reconfirm_at is not None and unanswered(e) and held_since <= iso(event.reconfirm_at)


def to_call(e: Entry, event: Event) -> bool:
    """Asked, and never released automatically: staff registered them, or mail cannot reach them."""
    return asked(e, event) and (bool(e.added_by) or not e.registration.attendee.email)


def releasable(e: Entry, event: Event) -> bool:
    """Asked and unanswered, and released at the release time if still so."""
    return asked(e, event) and not to_call(e, event)


def _is(predicate: Callable[[Entry, Event], bool], row: Item, event: Event) -> bool:
    return predicate(Entry.from_item(row), event)


def reconfirm_mail_id(registration_id: str, again: bool = False) -> str:
    """The reconfirmation mail's id: one per registration, and one more for the second asking."""
    return status_mail_id(MailKind.RECONFIRM, registration_id) + ("-again" if again else "")


def ask(table: Table, event: Event, now: datetime, again: bool = False) -> int:
    """Queue the reconfirmation for every seat holder with an address (`again`: who has not answered yet)."""
    rows = [r for r in _registration_rows(table, event.slug) if _is(asked, r, event) and r.get("email")]
    mails = (
        mail_item(
            event.slug,
            reconfirm_mail_id(row["registration_id"], again),
            MailKind.RECONFIRM,
            now,
            row["registration_id"],
            **({"again": True} if again else {}),
        )
        for row in rows
    )
    return put_all_new(table, mails)


def attend(table: Table, slug: str, registration_id: str, now: datetime) -> bool:
    """Record 参加します for a seat holder; True also if they had said so before, False without a seat."""
    try:
        table.update(
            schema.registration_key(slug, registration_id),
            "SET reconfirmed_at = :now",
            values={":now": iso(now), ":confirmed": RegistrationStatus.CONFIRMED.value},
            names={"#status": "status"},
            condition="#status = :confirmed AND attribute_not_exists(reconfirmed_at)",
        )
    except ConditionFailed as failed:
        old = failed.item or table.get(schema.registration_key(slug, registration_id)) or {}
        return old.get("status") == RegistrationStatus.CONFIRMED.value and bool(old.get("reconfirmed_at"))
    return True


def release_unanswered(table: Table, event: Event, now: datetime, retry: RetryPolicy = PATIENT) -> list[str]:
    """Give every unanswered seat to the line, in order, in the transactions that release them; safe to repeat."""
    candidates = [row for row in _registration_rows(table, event.slug) if _is(releasable, row, event)]
    released: list[str] = []
    for start in range(0, len(candidates), RELEASES_PER_WRITE):
        released += _release_batch(table, event, candidates[start : start + RELEASES_PER_WRITE], now, retry)
    if released:
        settle(table, event.slug, now, retry)  # the freed seats that one batch's promotions could not fill
    return released


def _release_batch(table: Table, event: Event, batch: Sequence[Item], now: datetime, retry: RetryPolicy) -> list[str]:
    slug = event.slug
    tries = 0

    def attempt() -> list[str]:
        nonlocal tries
        tries += 1
        # After a lost race someone in the batch may have answered (or cancelled): read them again.
        rows = (
            list(batch)
            if tries == 1
            else [r for r in map(_fresh, batch) if r is not None and _is(releasable, r, event)]
        )
        item = read_event_item(table, slug)
        if not rows or called_off(item):
            return []
        ledger = Ledger.from_item(item)
        actions: list[dict[str, Any]] = []
        for row in rows:
            person = Registration.from_item(row)
            ledger = ledger.free(person.attendee.category, pool_of(event, person.attendee))
            actions += _release_writes(slug, person, now)
        actions += choices.release_all(slug, event.questions, [r.get("answers", "") for r in rows])
        ledger, promotions, promoted = promotions_under(table, slug, ledger, now, limit=len(rows))
        transact_or_lose(table, [write_ledger(slug, ledger, reopens(item, ledger, now)), *actions, *promotions])
        telemetry.count(telemetry.Metric.SEATS_RELEASED, len(rows))
        telemetry.count(telemetry.Metric.MOVE_UPS, len(promoted))
        return [r["registration_id"] for r in rows]

    def _fresh(row: Item) -> Item | None:
        return table.get({schema.PK: row[schema.PK], schema.SK: row[schema.SK]})

    return retry.run(attempt, f"releasing unanswered seats of {slug}")


def _release_writes(slug: str, person: Registration, now: datetime) -> list[dict[str, Any]]:
    """Mark one seat released (only if still confirmed and unanswered), tell them, and free their address."""
    rid = person.registration_id
    unanswered_still = "attribute_not_exists(reconfirmed_at) AND attribute_not_exists(checked_in_at)"
    return [
        *status_change(
            slug,
            rid,
            RegistrationStatus.CONFIRMED,
            RegistrationStatus.CANCELLED,
            MailKind.RELEASED,
            now,
            stamp="released_at",
            requires=unanswered_still,
        ),
        freed_guard(slug, person.attendee, rid),
    ]


class TakeBack(StrEnum):
    """How asking for a released seat back ended."""

    TAKEN_BACK = "taken_back"
    NO_SEAT = "no_seat"  # every seat is taken, or someone waits for the next one
    ADDRESS_IN_USE = "address_in_use"  # the address registered again meanwhile
    NOT_RELEASED = "not_released"  # this registration was not released (or is back already)
    TOO_LATE = "too_late"  # the event has started, or was called off


def may_take_back(event: Event, registration: Registration, ledger: Ledger, now: datetime) -> bool:
    """Whether the registrant's own page offers the released seat back now (take_back decides for good)."""
    if registration.status != RegistrationStatus.CANCELLED.value or not registration.released_at:
        return False
    if registration.erased or now >= event.starts_at:
        return False
    return ledger.claimable(registration.attendee.category, pool_of(event, registration.attendee)) != Claim.WAITLIST


def take_back(
    table: Table, event: Event, registration_id: str, now: datetime, retry: RetryPolicy = PATIENT
) -> TakeBack:
    """A released registrant takes a free seat back (same number and code), only if nobody waits for it."""
    if now >= event.starts_at:
        return TakeBack.TOO_LATE
    slug = event.slug

    def attempt() -> TakeBack:
        row = table.get(schema.registration_key(slug, registration_id))
        if row is None or row.get("status") != RegistrationStatus.CANCELLED.value or not row.get("released_at"):
            return TakeBack.NOT_RELEASED
        if row.get("erased_at"):
            return TakeBack.NOT_RELEASED
        person = Registration.from_item(row)
        item = read_event_item(table, slug)
        if called_off(item):
            return TakeBack.TOO_LATE
        ledger = Ledger.from_item(item)
        category, pool = person.attendee.category, pool_of(event, person.attendee)
        if ledger.claimable(category, pool) == Claim.WAITLIST:
            return TakeBack.NO_SEAT
        actions = [
            write_ledger(slug, ledger.seat(category, pool)),
            _back_writes(slug, row, now),
            _guard_again(slug, person, row, now),
            put_new_mail(
                mail_item(slug, confirmation_id(registration_id, "back"), MailKind.CONFIRMATION, now, registration_id)
            ),
            *choices.take(slug, event.questions, row.get("answers", "")),
        ]
        try:
            table.transact(actions)
        except TransactionCancelled as exc:
            if exc.reasons[2].code == "ConditionalCheckFailed" and exc.reasons[0].code == "None":
                return TakeBack.ADDRESS_IN_USE
            if choices.refused_an_answer(exc, actions):
                return TakeBack.NO_SEAT
            if not exc.worth_retrying:
                raise
            raise LostRace from exc
        telemetry.count(telemetry.Metric.SEATS_TAKEN_BACK)
        return TakeBack.TAKEN_BACK

    return retry.run(attempt, f"taking back {registration_id} of {slug}")


def _back_writes(slug: str, row: Item, now: datetime) -> dict[str, Any]:
    return {
        "Update": {
            "Key": {schema.PK: row[schema.PK], schema.SK: row[schema.SK]},
            "UpdateExpression": "SET #status = :confirmed, changed_at = :now, reconfirmed_at = :now",
            "ConditionExpression": "#status = :cancelled AND attribute_exists(released_at)",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {
                ":cancelled": RegistrationStatus.CANCELLED.value,
                ":confirmed": RegistrationStatus.CONFIRMED.value,
                ":now": iso(now),
            },
        }
    }


def _guard_again(slug: str, person: Registration, row: Item, now: datetime) -> dict[str, Any]:
    """The address's guard back in place, unless the address holds another registration by now."""
    rid = person.registration_id
    guard = guard_item(slug, person.attendee, rid, str(row.get("submission_id", rid)), now)
    if schema.TTL_ATTRIBUTE in row:
        guard[schema.TTL_ATTRIBUTE] = row[schema.TTL_ATTRIBUTE]
    return {
        "Put": {
            "Item": guard,
            "ConditionExpression": "attribute_not_exists(pk) OR registration_id = :rid",
            "ExpressionAttributeValues": {":rid": rid},
        }
    }


@dataclass(frozen=True)
class Figures:
    """Where an event's reconfirmation stands, for the dashboard and the report."""

    reconfirmed: int = 0  # seat holders who said 参加します (taken-back seats included)
    not_yet: int = 0  # seat holders asked who have not answered
    to_call: int = 0  # of those, the ones never released automatically (staff-registered, no address)
    declined: int = 0  # answered 行けなくなりました
    released: int = 0  # seats released for want of an answer
    taken_back: int = 0  # of those, taken back


def figures(found: Iterable[Entry], event: Event) -> Figures:
    """The reconfirmation's counts over an event's registrations."""
    counts = dataclasses.asdict(Figures())
    for e in found:
        r = e.registration
        confirmed = r.status == RegistrationStatus.CONFIRMED.value
        counts["reconfirmed"] += confirmed and bool(r.reconfirmed_at)
        counts["not_yet"] += asked(e, event)
        counts["to_call"] += to_call(e, event)
        counts["declined"] += bool(e.declined_at)
        counts["released"] += bool(r.released_at)
        counts["taken_back"] += confirmed and bool(r.released_at)
    return Figures(**counts)
