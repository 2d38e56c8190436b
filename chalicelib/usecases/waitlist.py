"""The waiting list: places in line, and moving people up into every seat they may take.

Every change to the seats reads the event's ledger (domain/ledger.py), computes the next one, and
writes it in one transaction with everything that follows from it, conditioned on the ledger being
unchanged (its `version`). So a freed seat goes, in that same transaction, to the first person
waiting who may take it (first in, first promoted; a seat reserved for a category goes to the first
of that category), a freed seat is never lost or given twice, and a replay finds nothing left to do.
A transaction that loses a race changes nothing and is tried again from a fresh read (store/retry.py).
changes.py (cancelling, corrections) and lottery.py (the draw) build on the helpers here.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from chalicelib import telemetry
from chalicelib.domain.attendee import Attendee
from chalicelib.domain.clock import iso
from chalicelib.domain.event import REASON_EVENT_CANCELLED, STATUS_CLOSED, STATUS_OPEN, Event
from chalicelib.domain.ledger import Ledger
from chalicelib.domain.questions import answers_of
from chalicelib.domain.registration import RegistrationStatus
from chalicelib.store import schema
from chalicelib.store.dynamo import Item, Table
from chalicelib.store.retry import PATIENT, RetryPolicy, transact_or_lose
from chalicelib.usecases.outbox import MailKind, mail_item, put_new_mail, status_mail_id

# Promotions per transaction: three items each, well within DynamoDB's 100 per transaction.
PROMOTIONS_PER_WRITE = 25


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


def pool_of(event: Event, attendee: Attendee) -> str:
    """The pool (a hybrid event's mode) whose seat or place a registrant holds; '' in an event without pools."""
    return event.pool_of(answers_of(attendee.answers))


def read_event_item(table: Table, slug: str) -> Item:
    """The event item (its ledger and open/closed state) as stored now (strongly consistent)."""
    item = table.get(schema.event_key(slug))
    if item is None:
        raise LookupError(f"no event {slug}")
    return item


def called_off(item: Item) -> bool:
    """The event item says its organizer called the event off: nobody moves up into a seat any more."""
    return item.get("status") == STATUS_CLOSED and item.get("closed_reason") == REASON_EVENT_CANCELLED


def reopens(item: Item, ledger: Ledger, now: datetime) -> bool:
    """An event closed as full has a seat again under `ledger` before its deadline: it opens in the same write.

    (Closing moves the version, so a close that came after the read makes that write lose its race and look again.)
    """
    return (
        item.get("status") == STATUS_CLOSED
        and not called_off(item)
        and item.get("closes_at", "") > iso(now)
        and ledger.seats_left > 0
    )


def read_ledger(table: Table, slug: str) -> Ledger:
    """The event's seat ledger as stored now (strongly consistent)."""
    return Ledger.from_item(read_event_item(table, slug))


def write_ledger(slug: str, ledger: Ledger, reopen: bool = False) -> dict[str, Any]:
    """A transaction action storing `ledger` only if nobody changed the event's counters since it was read.

    `reopen` opens a closed event again in the same write (a cancellation gave it a free seat).
    """
    if not reopen:
        return {"Update": {"Key": schema.event_key(slug), **ledger.update()}}
    update = ledger.update("#status = :open", ("closed_reason", "closed_at"))
    update["ExpressionAttributeNames"] = {"#status": "status"}
    update["ExpressionAttributeValues"][":open"] = STATUS_OPEN
    return {"Update": {"Key": schema.event_key(slug), **update}}


def upgrade_ledger(table: Table, slug: str) -> None:
    """Store a ledger older code wrote (maps keyed by category) as it is stored now; nothing else changes."""
    ledger = read_ledger(table, slug)
    if ledger.legacy:
        transact_or_lose(table, [write_ledger(slug, ledger)])  # lost: someone else stored it meanwhile


def settle(table: Table, slug: str, now: datetime, retry: RetryPolicy = PATIENT) -> list[str]:
    """Give every seat someone waiting may take to them, in order; returns who moved up. Safe to repeat."""
    moved: list[str] = []

    def attempt() -> bool:
        """One batch; True when nobody (more) can move up."""
        item = read_event_item(table, slug)
        ledger = Ledger.from_item(item)
        if ledger.waiting == 0 or called_off(item):
            return True
        ledger, promotions, promoted = promotions_under(table, slug, ledger, now)
        if not promoted:
            return True
        transact_or_lose(table, [write_ledger(slug, ledger), *promotions])
        telemetry.count(telemetry.Metric.MOVE_UPS, len(promoted))
        moved.extend(promoted)
        return False

    while not retry.run(attempt, f"moving up the waiting list of {slug}"):
        pass  # a full batch moved up: there may be room for more
    return moved


def release_reservations(table: Table, slug: str, now: datetime, retry: RetryPolicy = PATIENT) -> bool:
    """Make unused reserved seats everyone's (at the event's quota_release_at); True if it did."""

    def attempt() -> bool:
        ledger = read_ledger(table, slug)
        released = ledger.release_reservations()
        if released == ledger:
            return False
        transact_or_lose(table, [write_ledger(slug, released)])
        return True

    if not retry.run(attempt, f"releasing the reserved seats of {slug}"):
        return False
    settle(table, slug, now, retry)
    return True


def promotions_under(
    table: Table, slug: str, ledger: Ledger, now: datetime, skip: str = "", limit: int = PROMOTIONS_PER_WRITE
) -> tuple[Ledger, list[dict[str, Any]], list[str]]:
    """Who in the waiting list may take a seat under `ledger`, in order (at most `limit`): new ledger, writes."""
    if ledger.waiting == 0:
        return ledger, [], []
    places: dict[str, Item] = {}

    def line() -> Iterator[tuple[str, str, str]]:
        for place in waiting_list(table, slug):  # read page by page, only as far as the ledger goes
            places[place["registration_id"]] = place
            yield place["registration_id"], place.get("category", ""), place.get("pool", "")

    ledger, promoted = ledger.promote(line(), limit, skip)
    actions: list[dict[str, Any]] = []
    for registration_id in promoted:
        place = places[registration_id]
        actions += [
            delete_existing({schema.PK: place[schema.PK], schema.SK: place[schema.SK]}),
            *status_change(
                slug,
                registration_id,
                RegistrationStatus.WAITLISTED,
                RegistrationStatus.CONFIRMED,
                MailKind.PROMOTED,
                now,
            ),
        ]
    return ledger, actions, promoted


def status_change(
    slug: str,
    registration_id: str,
    before: RegistrationStatus,
    after: RegistrationStatus,
    kind: MailKind,
    now: datetime,
    wait_sk: str = "",
    stamp: str = "",
    requires: str = "",
    **mail_details: Any,
) -> list[dict[str, Any]]:
    """Move a registration from one state to the next (only from `before`) and queue the mail that says so.

    `stamp` names an attribute set to the time as well (why it changed, e.g. `declined_at`); `requires`
    adds to the condition (a release: only while still unanswered);
    `mail_details` go on the mail item (what the mail needs to know of the change, e.g. `held_seat`).
    """
    update = {
        "Key": schema.registration_key(slug, registration_id),
        "UpdateExpression": "SET #status = :after, changed_at = :now"
        + (f", {stamp} = :now" if stamp else "")
        # waited_at stays after they leave the line: the report's longest line is counted from it.
        + (", wait_sk = :wait_sk, waited_at = :now" if wait_sk else " REMOVE wait_sk"),
        "ConditionExpression": "#status = :before" + (f" AND {requires}" if requires else ""),
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": {
            ":after": after.value,
            ":before": before.value,
            ":now": iso(now),
            **({":wait_sk": wait_sk} if wait_sk else {}),
        },
    }
    mail = mail_item(slug, status_mail_id(kind, registration_id), kind, now, registration_id, **mail_details)
    return [{"Update": update}, put_new_mail(mail)]


def delete_existing(key: dict[str, str]) -> dict[str, Any]:
    """A transaction action deleting an item that must still be there (a place in line)."""
    return {"Delete": {"Key": key, "ConditionExpression": "attribute_exists(pk)"}}
