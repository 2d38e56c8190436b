"""Check-in at the door: marking attendance exactly once (the QR code and its signed link: mail/qr.py, links.py).

The QR code holds the URL of the organizer's check-in page for that registration, with an HMAC
over the event and registration. Staff scan it with the phone's own camera (no app, no script),
the signed-in page shows who it is, and one press records the arrival. The record is a single
conditional update, so two phones scanning the same code at once record it once, and the
second learns who checked the person in and when.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from chalicelib.domain.clock import iso
from chalicelib.domain.registration import RegistrationStatus
from chalicelib.store import schema
from chalicelib.store.dynamo import ConditionFailed, Item, Table


class CheckInOutcome(StrEnum):
    """What pressing 受付する did."""

    CHECKED_IN = "checked_in"
    ALREADY = "already"  # someone checked this registration in before
    NO_SEAT = "no_seat"  # waiting, applied or cancelled: nobody to let in
    NOT_FOUND = "not_found"


@dataclass(frozen=True)
class CheckIn:
    """The answer to one check-in, with who recorded the arrival and when."""

    outcome: CheckInOutcome
    at: str = ""
    by: str = ""
    status: str = ""
    registration: Item | None = None  # the registration item as it now stands (None if there is none)


def check_in(table: Table, slug: str, registration_id: str, by: str, now: datetime) -> CheckIn:
    """Record an arrival once; a repeat or a registration without a seat is refused with the reason."""
    try:
        item = table.update(
            schema.registration_key(slug, registration_id),
            "SET checked_in_at = :now, checked_in_by = :by",
            values={":now": iso(now), ":by": by, ":confirmed": RegistrationStatus.CONFIRMED.value},
            names={"#status": "status"},
            condition="attribute_exists(pk) AND #status = :confirmed AND attribute_not_exists(checked_in_at)",
        )
    except ConditionFailed as exc:
        old = exc.item
        if old is None:
            return CheckIn(CheckInOutcome.NOT_FOUND)
        if old.get("checked_in_at"):
            at, first_by = str(old["checked_in_at"]), str(old.get("checked_in_by", ""))
            return CheckIn(CheckInOutcome.ALREADY, at, first_by, registration=old)
        return CheckIn(CheckInOutcome.NO_SEAT, status=str(old.get("status", "")), registration=old)
    return CheckIn(CheckInOutcome.CHECKED_IN, iso(now), by, registration=item)
