"""A registrant's personal data: erased on request through their personal link (APPI), expired by TTL otherwise.

Erasing keeps the registration as a numbered, empty shell, so counts and the organizer's history
still add up; the name, フリガナ, 所属, 役職, address and question are gone, and nothing more is mailed.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from enum import StrEnum

from chalicelib.domain.clock import iso
from chalicelib.domain.event import Event
from chalicelib.domain.registration import RegistrationStatus
from chalicelib.store import schema
from chalicelib.store.dynamo import ConditionFailed, Table
from chalicelib.usecases.address_guards import guard_of
from chalicelib.usecases.changes import cancel
from chalicelib.usecases.registrations import get_registration

PERSONAL_FIELDS = (
    "name",
    "kana",
    "organization",
    "job_title",
    "email",
    "question",
    "needs",
    "needs_note",
    "meishi_consent",
    "answers",
    "phone",
)


class EraseOutcome(StrEnum):
    """How an erasure request ended."""

    ERASED = "erased"
    ALREADY_ERASED = "already_erased"
    NOT_FOUND = "not_found"


def erase(table: Table, event: Event, registration_id: str, now: datetime) -> EraseOutcome:
    """Cancel the registration while that is still allowed (its seat goes on), then erase its personal data."""
    registration = get_registration(table, event.slug, registration_id)
    if registration is None:
        return EraseOutcome.NOT_FOUND
    if registration.erased:
        return EraseOutcome.ALREADY_ERASED
    if registration.status != RegistrationStatus.CANCELLED.value and now < event.cancellation_deadline:
        cancel(table, event, registration_id, now)
    with contextlib.suppress(ConditionFailed):  # the guard only ever belongs to a live registration
        table.delete(
            guard_of(event.slug, registration.attendee, registration_id),
            condition="registration_id = :rid",
            values={":rid": registration_id},
        )
    table.update(
        schema.registration_key(event.slug, registration_id),
        "SET " + ", ".join(f"#{f} = :empty" for f in PERSONAL_FIELDS) + ", erased_at = :now REMOVE submission_id",
        values={":empty": "", ":now": iso(now)},
        names={f"#{f}": f for f in PERSONAL_FIELDS},
        condition="attribute_exists(pk)",
    )
    return EraseOutcome.ERASED
