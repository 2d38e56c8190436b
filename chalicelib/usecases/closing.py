"""Closing registration at capacity or at the deadline, telling the organizer once; reopening when a seat frees.

The atomic condition in registrations.register() is what keeps capacity; closing is for people:
the page says 受付終了 and the organizer learns it happened. The status change and the notice are
one transaction conditioned on the event still being open, so the organizer is told exactly once
per closing, however many copies of the job run.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.domain.clock import iso
from chalicelib.domain.event import REASON_EVENT_CANCELLED, STATUS_CLOSED, STATUS_OPEN
from chalicelib.domain.event_state import EventState
from chalicelib.domain.ledger import FULL, HAS_ROOM, is_full
from chalicelib.store import schema
from chalicelib.store.dynamo import ConditionFailed, Item, Table, TransactionCancelled
from chalicelib.usecases import catalog, waitlist
from chalicelib.usecases.isolation import each
from chalicelib.usecases.outbox import MailKind, closed_notice_id, mail_item, put_new_mail

REASON_CAPACITY = "capacity"
REASON_DEADLINE = "deadline"


@dataclass(frozen=True)
class Closure:
    """One event this run closed."""

    slug: str
    reason: str
    seats_taken: int


def closing_reason(state: EventState, now: datetime) -> str:
    """Why the event should close now, or "" if it should stay open."""
    if state.closed:
        return ""
    if now >= state.event.registration_closes_at:
        return REASON_DEADLINE
    # With a waiting list a full event stays open: newcomers join the list until the deadline.
    if is_full(state.event.capacity, state.seats_taken) and not state.event.waitlist:
        return REASON_CAPACITY
    return ""


def close_registrations(table: Table, now: datetime) -> list[Closure]:
    """Close every open event that is full or past its deadline; safe to run twice or concurrently.

    It also reopens an event that is closed although a seat is free and its deadline has not passed:
    a cancellation reopens the event in its own transaction, so only an event left so by older code,
    or by hand, is found here; either way the seat is usable again within a minute.
    """

    def one(slug: str) -> Closure | None:
        state = catalog.get_event(table, slug)
        if state is None:
            return None
        if state.event.quota_release_at and now >= state.event.quota_release_at:
            # Reserved seats nobody took become everyone's (and the line moves up into them).
            waitlist.release_reservations(table, slug, now)
        # Seats free while people wait (the organizer added seats): they move up first.
        if state.waiting and waitlist.settle(table, slug, now):
            state = catalog.get_event(table, slug) or state
        reopened = state.closed and not is_full(state.event.capacity, state.seats_taken)
        if reopened and (item := reopen_if_room(table, slug, now)) is not None:
            state = catalog.state_from_item(item, state.event)
        reason = closing_reason(state, now)
        if not reason:
            return None
        try:
            table.transact(_close_actions(state, reason, now))
        except TransactionCancelled as exc:
            if exc.only_condition_failures:
                return None  # another run closed it first, or a seat freed meanwhile
            raise
        return Closure(slug=slug, reason=reason, seats_taken=state.seats_taken)

    done = each("close_registration", list(catalog.upcoming_slugs(table, now)), one, str)
    return [closure for closure in done if closure is not None]


def _close_actions(state: EventState, reason: str, now: datetime) -> list[dict[str, Any]]:
    """Mark the event closed, re-checking the reason atomically, and queue the one notice."""
    slug = state.event.slug
    close = {
        "Key": schema.event_key(slug),
        # The version moves too: a cancellation that read the ledger while the event was open loses its
        # race, reads again, and reopens the event in the same write that frees the seat.
        "UpdateExpression": "SET #status = :closed, closed_reason = :reason, closed_at = :now,"
        " version = version + :one",
        # The reason is re-checked atomically: a seat may have freed since the read.
        "ConditionExpression": f"#status = :open AND {'closes_at <= :now' if reason == REASON_DEADLINE else FULL}",
        "ExpressionAttributeNames": {"#status": "status"},
        "ExpressionAttributeValues": {
            ":closed": STATUS_CLOSED,
            ":open": STATUS_OPEN,
            ":reason": reason,
            ":now": iso(now),
            ":one": 1,
        },
    }
    # The notice tells the numbers at the moment of closing, whatever the organizer edits later.
    notice = mail_item(
        slug,
        closed_notice_id(now),
        MailKind.CLOSED_NOTICE,
        now,
        reason=reason,
        seats_taken=state.seats_taken,
        capacity=state.event.capacity,
    )
    return [{"Update": close}, put_new_mail(notice)]


def reopen_if_room(table: Table, slug: str, now: datetime) -> Item | None:
    """Open a closed event again if a seat is free and its deadline has not passed; its item if it did."""
    try:
        return table.update(
            schema.event_key(slug),
            "SET #status = :open REMOVE closed_reason, closed_at",
            values={
                ":open": STATUS_OPEN,
                ":closed": STATUS_CLOSED,
                ":called_off": REASON_EVENT_CANCELLED,
                ":now": iso(now),
            },
            names={"#status": "status"},
            # An event its organizer called off never opens again.
            condition="#status = :closed AND (attribute_not_exists(closed_reason) OR closed_reason <> :called_off)"
            f" AND closes_at > :now AND {HAS_ROOM}",
        )
    except ConditionFailed:
        return None
