"""Registrations handled by staff on someone's behalf: added, corrected, cancelled, moved up, taken back.

Each action is one use case through the seat ledger with the guarantees of self-service (capacity
never exceeded, the line moved up in the same transaction, a replay changes nothing), and each
writes an entry in the registration's audit trail in that same transaction: who, when, which
fields (their names, never the personal values), and why. The entries expire with the registration.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from chalicelib.domain.attendee import EDITABLE_FIELDS, Attendee
from chalicelib.domain.clock import iso, iso_precise
from chalicelib.domain.event import Event
from chalicelib.domain.ids import IdGenerator
from chalicelib.domain.ledger import Ledger
from chalicelib.domain.registration import Registration, RegistrationStatus
from chalicelib.store import schema
from chalicelib.store.dynamo import Item, Table, TransactionCancelled
from chalicelib.store.retry import PATIENT, RetryPolicy, transact_or_lose
from chalicelib.usecases import changes
from chalicelib.usecases.address_guards import guard_of
from chalicelib.usecases.outbox import MailKind, confirmation_id, mail_item, put_new_mail
from chalicelib.usecases.registering import OnBehalf, RegistrationResult, register
from chalicelib.usecases.registrations import get_registration
from chalicelib.usecases.waitlist import (
    called_off,
    delete_existing,
    pool_of,
    read_event_item,
    status_change,
    write_ledger,
)


class Channel(StrEnum):
    """How a request reached staff."""

    PHONE = "phone"
    FAX = "fax"
    COUNTER = "counter"  # 窓口
    DOOR = "door"  # a walk-in on the day


class Action(StrEnum):
    """What staff did to a registration (its audit entry says which)."""

    ADDED = "added"
    WALK_IN = "walk_in"
    EDITED = "edited"
    ADDRESS_CHANGED = "address_changed"
    CANCELLED = "cancelled"
    MOVED_UP = "moved_up"
    PUT_FIRST = "put_first"  # no seat was free: first in their line, for the next seat that frees
    REINSTATED = "reinstated"  # taken back as a new registration: this entry is on both
    CHECK_IN_UNDONE = "check_in_undone"
    REACHED = "reached"  # someone without an address was told, by phone or otherwise


def audit_write(
    event: Event,
    registration_id: str,
    action: Action,
    by: str,
    now: datetime,
    fields: Sequence[str] = (),
    reason: str = "",
    related: str = "",
) -> dict[str, Any]:
    """The Put of one audit entry: field names only, never their values; kept as long as the registration."""
    item = {
        **schema.audit_key(event.slug, registration_id, iso_precise(now), action.value),
        "registration_id": registration_id,
        "action": action.value,
        "by": by,
        "at": iso(now),
        "fields": list(fields),
        "reason": reason,
        "related": related,  # the other registration of a reinstatement
        schema.TTL_ATTRIBUTE: int(event.personal_data_expires_at.timestamp()),
    }
    return {"Put": {"Item": item}}


def trail(table: Table, slug: str, registration_id: str = "") -> list[Item]:
    """The audit entries of one registration (or of every registration), oldest first."""
    prefix = schema.AUDIT_PREFIX + (f"{registration_id}#" if registration_id else "")
    rows = table.query("pk = :pk AND begins_with(sk, :prefix)", {":pk": schema.event_pk(slug), ":prefix": prefix})
    return sorted(rows, key=lambda row: (str(row.get("at", "")), str(row[schema.SK])))


def add(
    table: Table,
    event: Event,
    attendee: Attendee,
    channel: Channel,
    send_mail: bool,
    by: str,
    now: datetime,
    ids: IdGenerator,
    walk_in: bool = False,
) -> RegistrationResult:
    """Register someone who asked by phone, FAX or at the counter, or a walk-in (a seat, checked in at once)."""
    action = Action.WALK_IN if walk_in else Action.ADDED
    on_behalf = OnBehalf(
        by=by,
        channel=channel.value,
        send_mail=send_mail,
        walk_in=walk_in,
        also=lambda rid: [audit_write(event, rid, action, by, now, reason=channel.value)],
    )
    return register(table, event, attendee, f"STAFF-{ids()}", now, ids, on_behalf=on_behalf)


class EditOutcome(StrEnum):
    """How a staff correction ended."""

    SAVED = "saved"
    UNCHANGED = "unchanged"
    NOT_ACTIVE = "not_active"  # cancelled (or erased) meanwhile
    NO_SEAT_IN_CATEGORY = "no_seat_in_category"
    CHOICE_FULL = "choice_full"  # a capped answer (or a hybrid event's mode) chosen has no room left
    ADDRESS_TAKEN = "address_taken"  # the new address has a registration of its own for this event


def changed_fields(before: Attendee, after: Attendee) -> list[str]:
    """Which of the fields staff may edit differ (names only)."""
    return [name for name in (*EDITABLE_FIELDS, "email") if getattr(before, name) != getattr(after, name)]


def edit(
    table: Table,
    event: Event,
    registration_id: str,
    attendee: Attendee,
    by: str,
    now: datetime,
    ids: IdGenerator,
    reason: str = "",
) -> EditOutcome:
    """Correct any field, the address included: the new address gets the confirmation, the old one is told.

    `reason`: why, as staff gave it; kept in the audit entry (as a cancellation's is).
    """
    registration = get_registration(table, event.slug, registration_id)
    if registration is None or registration.erased or registration.status == RegistrationStatus.CANCELLED.value:
        return EditOutcome.NOT_ACTIVE
    before = registration.attendee
    changed = changed_fields(before, attendee)
    if not changed:
        return EditOutcome.UNCHANGED
    fields = [name for name in changed if name != "email"]
    if fields:
        kept_address = dataclasses.replace(attendee, email=before.email, lang=before.lang)
        audit = audit_write(event, registration_id, Action.EDITED, by, now, fields, reason=reason)
        outcome = changes.correct(table, event, registration_id, kept_address, now, also=[audit])
        if outcome is not changes.CorrectOutcome.SAVED:
            return EditOutcome(outcome.value)
    if "email" in changed:
        return _change_address(table, event, registration, attendee.email, by, now, ids)
    return EditOutcome.SAVED


def _change_address(
    table: Table, event: Event, registration: Registration, address: str, by: str, now: datetime, ids: IdGenerator
) -> EditOutcome:
    """Move the registration (and its one-per-address guard) to `address` in one transaction, and tell both."""
    slug, rid = event.slug, registration.registration_id
    old = registration.attendee
    new = dataclasses.replace(old, email=address)
    expires = int(event.personal_data_expires_at.timestamp())
    actions: list[dict[str, Any]] = [
        {
            "Update": {
                "Key": schema.registration_key(slug, rid),
                "UpdateExpression": "SET email = :new",
                "ConditionExpression": "email = :old AND #status <> :cancelled",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {
                    ":new": address,
                    ":old": old.email,
                    ":cancelled": RegistrationStatus.CANCELLED.value,
                },
            }
        },
        # The new address hears what its registration is (a seat, a place, an application) ...
        put_new_mail(mail_item(slug, confirmation_id(rid, resend=ids()), MailKind.CONFIRMATION, now, rid)),
        audit_write(event, rid, Action.ADDRESS_CHANGED, by, now, ["email"]),
    ]
    moved = guard_of(slug, old, rid) != guard_of(slug, new, rid)  # not when only the letters' case changes
    guard_moves: list[dict[str, Any]] = (
        [
            {
                "Delete": {
                    "Key": guard_of(slug, old, rid),
                    "ConditionExpression": "attribute_not_exists(pk) OR registration_id = :rid",
                    "ExpressionAttributeValues": {":rid": rid},
                }
            },
            {
                "Put": {
                    "Item": {
                        **guard_of(slug, new, rid),
                        "registration_id": rid,
                        "submission_id": f"STAFF-{rid}",
                        "last_confirmation_at": iso(now),
                        schema.TTL_ATTRIBUTE: expires,
                    },
                    "ConditionExpression": "attribute_not_exists(pk)",
                }
            },
        ]
        if moved
        else []
    )
    actions[1:1] = guard_moves
    if old.email and moved:  # a change of case reaches the same mailbox: nothing to warn of
        # ... and the old one is told, so that nobody's registration can be taken over silently.
        notice = mail_item(slug, f"address-changed-{rid}-{ids()}", MailKind.ADDRESS_CHANGED, now, rid, to=old.email)
        actions.append(put_new_mail(notice))
    try:
        table.transact(actions)
    except TransactionCancelled as exc:
        if not exc.only_condition_failures:
            raise
        taken = moved and exc.reasons[2].code == "ConditionalCheckFailed"  # the new guard's Put
        return EditOutcome.ADDRESS_TAKEN if taken else EditOutcome.NOT_ACTIVE
    return EditOutcome.SAVED


def cancel_for(
    table: Table, event: Event, registration_id: str, by: str, reason: str, now: datetime
) -> changes.CancelResult:
    """Cancel on someone's behalf, even after the registrants' own deadline; the line moves up as usual."""
    audit = audit_write(event, registration_id, Action.CANCELLED, by, now, reason=reason)
    return changes.cancel(table, event, registration_id, now, also=[audit], any_time=True)


class MoveOutcome(StrEnum):
    """How moving someone up by hand ended."""

    MOVED_UP = "moved_up"
    PUT_FIRST = "put_first"  # no seat was free: they take the next one that frees, before the line
    NOT_WAITING = "not_waiting"
    CALLED_OFF = "called_off"


def move_up(
    table: Table,
    event: Event,
    registration_id: str,
    by: str,
    reason: str,
    now: datetime,
    retry: RetryPolicy = PATIENT,
) -> MoveOutcome:
    """Seat a waiting person out of the line's order: a free seat now (a reserved one too, if it must be),
    else the first place in their line, so the next seat that frees (in their mode) is theirs.

    Seats that free go to the line in the same write, so "a free seat" is rare; the head of the line
    is what an organizer who says "this person next" means then. Either way it is audited.
    """
    slug = event.slug

    def attempt() -> MoveOutcome:
        registration = get_registration(table, slug, registration_id)
        if registration is None or registration.status != RegistrationStatus.WAITLISTED.value:
            return MoveOutcome.NOT_WAITING
        item = read_event_item(table, slug)
        if called_off(item):
            return MoveOutcome.CALLED_OFF
        category, pool = registration.attendee.category, pool_of(event, registration.attendee)
        seated = Ledger.from_item(item).wait(category, -1, pool).seat_by_choice(category, pool)
        place = {schema.PK: schema.event_pk(slug), schema.SK: registration.wait_sk}
        if seated is None:
            first = schema.wait_key(slug, schema.FIRST_IN_LINE + iso_precise(now), registration_id)
            audit = audit_write(event, registration_id, Action.PUT_FIRST, by, now, reason=reason)
            transact_or_lose(table, [*_move_place(slug, registration_id, place, first, category, pool), audit])
            return MoveOutcome.PUT_FIRST
        promote = status_change(
            slug, registration_id, RegistrationStatus.WAITLISTED, RegistrationStatus.CONFIRMED, MailKind.PROMOTED, now
        )
        audit = audit_write(event, registration_id, Action.MOVED_UP, by, now, reason=reason)
        transact_or_lose(table, [write_ledger(slug, seated), delete_existing(place), *promote, audit])
        return MoveOutcome.MOVED_UP

    return retry.run(attempt, f"moving {registration_id} of {slug} up by hand")


def _move_place(
    slug: str, registration_id: str, place: dict[str, str], to: dict[str, str], category: str, pool: str
) -> list[dict[str, Any]]:
    """The writes that move a waiting registration's place in line to `to` (only while it is still waiting there)."""
    return [
        delete_existing(place),
        {"Put": {"Item": schema.wait_place(to, registration_id, category, pool)}},
        {
            "Update": {
                "Key": schema.registration_key(slug, registration_id),
                "UpdateExpression": "SET wait_sk = :to",
                "ConditionExpression": "#status = :waiting AND wait_sk = :from",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {
                    ":to": to[schema.SK],
                    ":from": place[schema.SK],
                    ":waiting": RegistrationStatus.WAITLISTED.value,
                },
            }
        },
    ]


def reinstate(
    table: Table, event: Event, registration_id: str, by: str, now: datetime, ids: IdGenerator
) -> RegistrationResult | None:
    """Take a cancelled registration back, if a seat is free: a new registration (new number) with its details.

    None if it is not cancelled (or was erased). The new one takes a seat or nothing, never a place.
    """
    registration = get_registration(table, event.slug, registration_id)
    if registration is None or registration.erased or registration.status != RegistrationStatus.CANCELLED.value:
        return None
    attendee = dataclasses.replace(registration.attendee, lang=registration.lang)

    def audit(new_id: str) -> list[dict[str, Any]]:
        return [
            audit_write(event, new_id, Action.REINSTATED, by, now, related=registration_id),
            audit_write(event, registration_id, Action.REINSTATED, by, now, related=new_id),
        ]

    on_behalf = OnBehalf(by=by, channel=Channel.COUNTER.value, seat_only=True, also=audit)
    return register(table, event, attendee, f"STAFF-{ids()}", now, ids, on_behalf=on_behalf)


def undo_check_in(table: Table, event: Event, registration_id: str, by: str, reason: str, now: datetime) -> bool:
    """Take back a check-in made by mistake; False if the person was not checked in."""
    marks = ("checked_in_at", "checked_in_by")
    return _unmark(table, event, registration_id, marks, Action.CHECK_IN_UNDONE, by, reason, now)


def mark_reached(table: Table, event: Event, registration_id: str, by: str, reason: str, now: datetime) -> bool:
    """Record that someone on the list of people to contact was told (audited); False if they were not on it."""
    marks = ("contact_needed", "contact_needed_at")
    return _unmark(table, event, registration_id, marks, Action.REACHED, by, reason, now)


def _unmark(
    table: Table,
    event: Event,
    registration_id: str,
    marks: tuple[str, ...],
    action: Action,
    by: str,
    reason: str,
    now: datetime,
) -> bool:
    """Remove a registration's marks (only if the first is there) with the audit entry; False if it was not."""
    removal = {
        "Update": {
            "Key": schema.registration_key(event.slug, registration_id),
            "UpdateExpression": "REMOVE " + ", ".join(marks),
            "ConditionExpression": f"attribute_exists({marks[0]})",
        }
    }
    try:
        table.transact([removal, audit_write(event, registration_id, action, by, now, reason=reason)])
    except TransactionCancelled as exc:
        if exc.only_condition_failures:
            return False
        raise
    return True
