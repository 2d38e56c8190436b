"""A registrant's changes after registering: cancelling (or leaving the waiting list) and corrections.

Each is one transaction on the seat ledger (see waitlist.py): a freed seat goes to the next person
waiting in the same write, and a category change moves the seat or place with it, or is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from chalicelib import telemetry
from chalicelib.domain.attendee import EDITABLE_FIELDS, Attendee
from chalicelib.domain.event import Event
from chalicelib.domain.ledger import Ledger
from chalicelib.domain.registration import Registration, RegistrationStatus
from chalicelib.store import schema
from chalicelib.store.dynamo import Table, TransactionCancelled
from chalicelib.store.retry import PATIENT, LostRace, RetryPolicy, transact_or_lose
from chalicelib.usecases import choices
from chalicelib.usecases.address_guards import freed_guard
from chalicelib.usecases.outbox import MailKind
from chalicelib.usecases.registrations import get_registration
from chalicelib.usecases.waitlist import (
    PROMOTIONS_PER_WRITE,
    called_off,
    delete_existing,
    pool_of,
    promotions_under,
    read_event_item,
    read_ledger,
    reopens,
    settle,
    status_change,
    write_ledger,
)


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


def cancel(
    table: Table,
    event: Event,
    registration_id: str,
    now: datetime,
    retry: RetryPolicy = PATIENT,
    also: Sequence[dict[str, Any]] = (),
    any_time: bool = False,
    stamp: str = "",
) -> CancelResult:
    """Cancel a seat (the first waiting person who may take it gets it) or leave the waiting list; idempotent.

    `also`: more writes for the same transaction (staff's audit entry); `any_time`: staff may cancel
    for someone after the registrants' own deadline; `stamp`: an attribute saying why, set to the time.
    """
    if now >= event.cancellation_deadline and not any_time:
        return CancelResult(CancelOutcome.TOO_LATE)
    slug = event.slug

    def attempt() -> tuple[CancelResult, RegistrationStatus | None]:
        registration = get_registration(table, slug, registration_id)
        if registration is None:
            return CancelResult(CancelOutcome.NOT_FOUND), None
        if registration.status == RegistrationStatus.CANCELLED.value:
            return CancelResult(CancelOutcome.ALREADY_CANCELLED), None
        item = read_event_item(table, slug)
        ledger = Ledger.from_item(item)
        expected = RegistrationStatus(registration.status)
        category, pool = registration.attendee.category, pool_of(event, registration.attendee)
        actions = _cancel_actions(slug, registration, expected, now, stamp)
        actions += choices.release(slug, event.questions, registration.attendee.answers)
        if expected is RegistrationStatus.CONFIRMED:
            ledger = ledger.free(category, pool)
        elif expected is RegistrationStatus.WAITLISTED:
            ledger = ledger.wait(category, -1, pool)
            actions.append(delete_existing({schema.PK: schema.event_pk(slug), schema.SK: registration.wait_sk}))
        promotions: list[dict[str, Any]] = []
        promoted: list[str] = []
        if not called_off(item):  # a called-off event gives its freed seats to nobody
            ledger, promotions, promoted = promotions_under(table, slug, ledger, now, skip=registration_id)
        transact_or_lose(table, [write_ledger(slug, ledger, reopens(item, ledger, now)), *actions, *promotions, *also])
        telemetry.count(telemetry.Metric.CANCELLATIONS)
        telemetry.count(telemetry.Metric.MOVE_UPS, len(promoted))
        return CancelResult(CancelOutcome.CANCELLED, tuple(promoted)), expected

    result, _ = retry.run(attempt, f"cancelling {registration_id} of {slug}")
    if len(result.promoted) == PROMOTIONS_PER_WRITE:
        settle(table, slug, now, retry)  # a full batch moved up: there may be room for more
    return result


class CorrectOutcome(StrEnum):
    """How saving a registrant's corrections ended."""

    SAVED = "saved"
    NOT_ACTIVE = "not_active"  # cancelled meanwhile
    NO_SEAT_IN_CATEGORY = "no_seat_in_category"  # the new category's seats are all taken
    CHOICE_FULL = "choice_full"  # a capped answer (or a hybrid event's mode) chosen has no room left


def correct(
    table: Table,
    event: Event,
    registration_id: str,
    attendee: Attendee,
    now: datetime,
    retry: RetryPolicy = PATIENT,
    also: Sequence[dict[str, Any]] = (),
) -> CorrectOutcome:
    """Save corrections (never the address); a new category moves the seat or place with it, or is refused.

    `also`: more writes for the same transaction (staff's audit entry).
    """
    slug = event.slug

    def attempt() -> tuple[CorrectOutcome, bool]:
        """The outcome, and whether the line may move now."""
        registration = get_registration(table, slug, registration_id)
        if registration is None or registration.status == RegistrationStatus.CANCELLED.value:
            return CorrectOutcome.NOT_ACTIVE, False
        old = registration.attendee
        before, after = old.category, attendee.category
        was, becomes = pool_of(event, old), pool_of(event, attendee)
        status = RegistrationStatus(registration.status)
        save = _save_fields(slug, registration_id, attendee, status, before, old.answers)
        # Capped answers (懇親会 30名) move through their counters, as registering takes them.
        counters = choices.move(slug, event.questions, old.answers, attendee.answers)
        if (before, was) == (after, becomes) or status is RegistrationStatus.APPLIED:
            return _write(table, [save, *counters, *also]), False
        ledger = read_ledger(table, slug)
        extra: list[dict[str, Any]] = []
        if status is RegistrationStatus.CONFIRMED:
            ledger = ledger.free(before, was)
            if not ledger.can_seat(after, becomes):
                refusal = CorrectOutcome.NO_SEAT_IN_CATEGORY if was == becomes else CorrectOutcome.CHOICE_FULL
                return refusal, False
            ledger = ledger.seat(after, becomes)
        else:
            ledger = ledger.wait(before, -1, was).wait(after, 1, becomes)
            extra.append(_move_place(slug, registration.wait_sk, after, becomes))
        # Others may move up into a seat this frees; the person themself (whose place changes in this
        # very transaction) is settled right after, if their new category has room.
        ledger, promotions, promoted = promotions_under(table, slug, ledger, now, skip=registration_id)
        outcome = _write(table, [write_ledger(slug, ledger), save, *extra, *counters, *promotions, *also])
        if outcome is CorrectOutcome.SAVED:
            telemetry.count(telemetry.Metric.MOVE_UPS, len(promoted))
        waiting = status is RegistrationStatus.WAITLISTED
        return outcome, outcome is CorrectOutcome.SAVED and (waiting or len(promoted) == PROMOTIONS_PER_WRITE)

    outcome, line_may_move = retry.run(attempt, f"correcting {registration_id} of {slug}")
    if line_may_move:
        settle(table, slug, now, retry)
    return outcome


def _save_fields(
    slug: str, registration_id: str, attendee: Attendee, status: RegistrationStatus, category: str, answers: str
) -> dict[str, Any]:
    """Write the editable fields, only if the registration is still as it was read (its answers too,
    so two corrections at once never move the same capped answer twice)."""
    values = {f":{name}": getattr(attendee, name) for name in EDITABLE_FIELDS}
    return {
        "Update": {
            "Key": schema.registration_key(slug, registration_id),
            "UpdateExpression": "SET " + ", ".join(f"#{name} = :{name}" for name in EDITABLE_FIELDS),
            "ConditionExpression": "#status = :status AND #category = :before"
            " AND (attribute_not_exists(answers) OR answers = :answers_before)",
            "ExpressionAttributeNames": {**{f"#{name}": name for name in EDITABLE_FIELDS}, "#status": "status"},
            "ExpressionAttributeValues": {
                **values,
                ":status": status.value,
                ":before": category,
                ":answers_before": answers,
            },
        }
    }


def _move_place(slug: str, wait_sk: str, category: str, pool: str) -> dict[str, Any]:
    """A place in line moved to another category or pool (the person keeps their turn)."""
    place = {schema.PK: schema.event_pk(slug), schema.SK: wait_sk}
    if pool:
        return {
            "Update": {
                "Key": place,
                "UpdateExpression": "SET category = :c, #pool = :p",
                "ExpressionAttributeNames": {"#pool": "pool"},
                "ExpressionAttributeValues": {":c": category, ":p": pool},
            }
        }
    return {
        "Update": {"Key": place, "UpdateExpression": "SET category = :c", "ExpressionAttributeValues": {":c": category}}
    }


def _write(table: Table, actions: list[dict[str, Any]]) -> CorrectOutcome:
    """Write a correction; a capped answer with no room left refuses it (nothing is written)."""
    try:
        table.transact(actions)
    except TransactionCancelled as exc:
        if choices.refused_an_answer(exc, actions):
            return CorrectOutcome.CHOICE_FULL
        if not exc.worth_retrying:
            raise
        raise LostRace from exc
    return CorrectOutcome.SAVED


def _cancel_actions(
    slug: str, registration: Registration, expected: RegistrationStatus, now: datetime, stamp: str = ""
) -> list[dict[str, Any]]:
    """Mark the registration cancelled (only from the state it was read in), free the address, tell them."""
    rid = registration.registration_id
    return [
        # A seat's mails put the event in a calendar: its cancellation mail takes it out (a CANCEL .ics).
        *status_change(
            slug,
            rid,
            expected,
            RegistrationStatus.CANCELLED,
            MailKind.CANCELLED,
            now,
            stamp=stamp,
            held_seat=expected is RegistrationStatus.CONFIRMED,
        ),
        freed_guard(slug, registration.attendee, rid),
    ]
