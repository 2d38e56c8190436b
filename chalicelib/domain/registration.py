"""A registration: who registered for which event, and the state their seat or place is in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from chalicelib.domain.attendee import Attendee


class RegistrationStatus(StrEnum):
    """States of a registration; only CONFIRMED holds a seat."""

    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"
    APPLIED = "applied"  # entered a lottery; the draw decides


@dataclass(frozen=True)
class Registration:
    """A stored registration: who, for which event, and its state."""

    registration_id: str
    event_slug: str
    attendee: Attendee
    status: str
    created_at: str
    lang: str = "ja"
    wait_sk: str = ""  # the waiting-list item's sort key, while waitlisted
    erased: bool = False  # the registrant had their personal data deleted
    reconfirmed_at: str = ""  # they answered 参加します to the reconfirmation (or took a released seat back)
    released_at: str = ""  # their seat went to the line because they did not reconfirm in time
    checked_in_at: str = ""  # when they were checked in at the door

    @property
    def number(self) -> str:
        """The registration number as printed for people."""
        return display_number(self.registration_id)

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> Registration:
        """Build from a table item."""
        attendee = Attendee(**{name: item.get(name, "") for name in Attendee.__dataclass_fields__})
        return cls(
            registration_id=item["registration_id"],
            event_slug=item["event_slug"],
            attendee=attendee,
            status=item["status"],
            created_at=item["created_at"],
            lang=item.get("lang", "ja"),
            wait_sk=item.get("wait_sk", ""),
            erased=bool(item.get("erased_at")),
            reconfirmed_at=str(item.get("reconfirmed_at", "")),
            released_at=str(item.get("released_at", "")),
            checked_in_at=str(item.get("checked_in_at", "")),
        )


def display_number(registration_id: str) -> str:
    """A registration id as people read it out at the desk: two groups of five."""
    return f"{registration_id[:5]}-{registration_id[5:]}"
