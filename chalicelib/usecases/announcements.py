"""Announcing changes: a new date, time or venue, or the event called off, told once to everyone registered.

An `ANNOUNCED` item per event records what registrants were last told (the date, time and venue in
their calendar entries) and the entries' revision (`sequence`). Publishing new details never tells
anyone by itself: the organizer sees the difference, the notice's text and how many it goes to,
and confirms. Confirming is one transaction that moves the record on (only from the revision the
organizer saw, so a second press or a second organizer sends nothing more) and queues a broadcast
item; the broadcasts' schedule fans it out into deterministic outbox items (safe to run twice), so
each person gets one mail in their language. Seats' mails carry the calendar entry again: a change
with the same UID and a higher SEQUENCE, a cancellation with METHOD:CANCEL (RFC 5546 3.2.5).
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib.domain.clock import iso
from chalicelib.domain.event import REASON_EVENT_CANCELLED, STATUS_CLOSED, Event
from chalicelib.domain.event_state import EventState
from chalicelib.store import schema
from chalicelib.store.dynamo import ConditionFailed, Item, Table, TransactionCancelled, put_new
from chalicelib.text import messages as msg
from chalicelib.usecases.broadcast import ALL, BODY_LIMIT, CANCELLATION, CHANGE, QUEUED, too_long

SCHEDULE, VENUE = "schedule", "venue"  # what a change is about


@dataclass(frozen=True)
class Told:
    """The date, time and venue registrants were told, and the calendar entries' revision."""

    starts_at: str
    ends_at: str
    venue_name: str
    venue_address: str
    sequence: int = 0
    cancelled: bool = False

    @classmethod
    def of(cls, event: Event, sequence: int = 0) -> Told:
        """What the event's details say now."""
        return cls(iso(event.starts_at), iso(event.ends_at), event.venue.name, event.venue.address, sequence)

    @classmethod
    def from_item(cls, item: Item) -> Told:
        """Read the stored record."""
        return cls(
            starts_at=str(item["starts_at"]),
            ends_at=str(item["ends_at"]),
            venue_name=str(item["venue_name"]),
            venue_address=str(item["venue_address"]),
            sequence=int(item.get("sequence", 0)),
            cancelled=bool(item.get("cancelled", False)),
        )

    def fields(self) -> dict[str, Any]:
        """The stored attributes (the key apart)."""
        return {
            "starts_at": self.starts_at,
            "ends_at": self.ends_at,
            "venue_name": self.venue_name,
            "venue_address": self.venue_address,
            "sequence": self.sequence,
            "cancelled": self.cancelled,
        }


@dataclass(frozen=True)
class Change:
    """Details that differ from what registrants were told: before, after, and what it is about."""

    before: Told
    after: Told
    about: tuple[str, ...]  # SCHEDULE and/or VENUE


@dataclass(frozen=True)
class Request:
    """An organizer's announcement form, checked: what to announce, or why not (`refusal` or `errors`)."""

    kind: str
    note: str
    seen: int  # the revision the organizer's page showed
    change: Change | None
    refusal: str = ""  # nothing to do: sent already, or nothing to announce (409)
    errors: dict[str, str] | None = None  # the form needs mending (400)
    send: bool = False  # confirmed, not a preview
    note_en: str = ""  # the note for registrants who read English ('' : they get `note`)

    def note_for(self, language: str) -> str:
        """The note as a registrant reading `language` gets it."""
        return note_in({"body": self.note, NOTE_EN: self.note_en}, language)


def check_request(table: Table, state: EventState, fields: dict[str, str]) -> Request:
    """Check the announcement form against the event as it is now (as broadcast.check does for messages)."""
    kind = fields.get("kind", "")
    note = fields.get("note", "").replace("\r\n", "\n").strip()
    note_en = fields.get("note_en", "").replace("\r\n", "\n").strip()
    seen = fields.get("sequence", "")
    record = told(table, state.event.slug)  # read once: the change and the revision both come from it
    revision = int(seen) if seen.isdigit() else -1
    change = _change_since(record, state.event)
    asked = Request(kind, note, revision, change, send=fields.get("action") == "send", note_en=note_en)
    if state.cancelled or revision != (record.sequence if record else 0):
        return dataclasses.replace(asked, refusal=msg.ANNOUNCEMENT_DONE_ALREADY)
    if kind not in (CHANGE, CANCELLATION) or (kind == CHANGE and asked.change is None):
        return dataclasses.replace(asked, refusal=msg.ANNOUNCEMENT_NOTHING)
    for name, text in (("note", note), ("note_en", note_en)):
        if len(text) > BODY_LIMIT:
            return dataclasses.replace(asked, errors={name: too_long(msg.BODY_LABEL, BODY_LIMIT, len(text))})
    if asked.send and kind == CANCELLATION and fields.get("confirm") != "yes":
        return dataclasses.replace(asked, errors={"confirm": msg.CONFIRMATION_NEEDED["cancel"]})
    return asked


def remember_first(table: Table, event: Event) -> None:
    """On first publication, what the details say is what registrants are told; later ones change nothing."""
    # Told before: a difference now is a change to announce, not a new baseline.
    with contextlib.suppress(ConditionFailed):
        table.put({**schema.announced_key(event.slug), **Told.of(event).fields()}, condition="attribute_not_exists(pk)")


def told(table: Table, slug: str) -> Told | None:
    """What the event's registrants were last told, or None for an event published before this existed."""
    item = table.get(schema.announced_key(slug))
    return Told.from_item(item) if item else None


def sequence(table: Table, slug: str) -> int:
    """The calendar entries' current revision (0 until a change was announced)."""
    record = told(table, slug)
    return record.sequence if record else 0


def pending_change(table: Table, event: Event) -> Change | None:
    """What differs between the published details and what registrants were told; None if nothing does."""
    return _change_since(told(table, event.slug), event)


def _change_since(before: Told | None, event: Event) -> Change | None:
    if before is None or before.cancelled:
        return None
    after = Told.of(event, before.sequence + 1)
    about = []
    if (before.starts_at, before.ends_at) != (after.starts_at, after.ends_at):
        about.append(SCHEDULE)
    if (before.venue_name, before.venue_address) != (after.venue_name, after.venue_address):
        about.append(VENUE)
    return Change(before, after, tuple(about)) if about else None


def announce_change(
    table: Table, event: Event, change: Change, note: str, by: str, now: datetime, note_en: str = ""
) -> bool:
    """Tell everyone registered of `change`, once; False if it was announced already (or changed again since)."""
    broadcast = _broadcast_item(event.slug, CHANGE, change.after.sequence, note, by, now, note_en)
    broadcast.update({"before": change.before.fields(), "about": list(change.about)})
    return _transact(table, [_move_on(event.slug, change.before.sequence, change.after), put_new(broadcast)])


def cancel_event(
    table: Table, event: Event, expected_sequence: int, note: str, by: str, now: datetime, note_en: str = ""
) -> bool:
    """Call the event off: registration closes for good and everyone registered is told, once."""
    record = told(table, event.slug) or Told.of(event)
    after = Told(
        record.starts_at,
        record.ends_at,
        record.venue_name,
        record.venue_address,
        expected_sequence + 1,
        cancelled=True,
    )
    close = {
        "Update": {
            "Key": schema.event_key(event.slug),
            # The version moves so that a cancellation (or registration) that read the ledger before
            # loses its race and sees the event closed; no reopening path opens a called-off event.
            "UpdateExpression": "SET #status = :closed, closed_reason = :reason, closed_at = :now,"
            " version = version + :one",
            "ExpressionAttributeNames": {"#status": "status"},
            "ExpressionAttributeValues": {
                ":closed": STATUS_CLOSED,
                ":reason": REASON_EVENT_CANCELLED,
                ":now": iso(now),
                ":one": 1,
            },
        }
    }
    broadcast = _broadcast_item(event.slug, CANCELLATION, after.sequence, note, by, now, note_en)
    return _transact(table, [close, _move_on(event.slug, expected_sequence, after), put_new(broadcast)])


def _move_on(slug: str, expected: int, after: Told) -> dict[str, Any]:
    """Store what registrants are now told, only from the revision the organizer saw (a second press loses)."""
    return {
        "Put": {
            "Item": {**schema.announced_key(slug), **after.fields()},
            "ConditionExpression": "attribute_not_exists(pk) OR (#sequence = :expected AND #cancelled = :false)",
            "ExpressionAttributeNames": {"#sequence": "sequence", "#cancelled": "cancelled"},
            "ExpressionAttributeValues": {":expected": expected, ":false": False},
        }
    }


# The announcement's note in English, beside `body` (its note in Japanese) on the broadcast item.
NOTE_EN = "body_en"


def note_in(item: Mapping[str, Any], language: str) -> str:
    """An announcement's note as a registrant reading `language` gets it (English where the organizer wrote it)."""
    return str(item.get(NOTE_EN) or item.get("body", "")) if language == "en" else str(item.get("body", ""))


def broadcast_id(kind: str, revision: int) -> str:
    """The broadcast of one announcement: one per revision, so it is queued and fanned out once."""
    return f"{kind}-{revision}"


def _broadcast_item(
    slug: str, kind: str, revision: int, note: str, by: str, now: datetime, note_en: str = ""
) -> dict[str, Any]:
    identifier = broadcast_id(kind, revision)
    return {
        **schema.broadcast_key(slug, identifier),
        "broadcast_id": identifier,
        "kind": kind,
        "sequence": revision,
        "subject": "",
        "body": note,
        **({NOTE_EN: note_en} if note_en else {}),
        "audience": ALL,
        "category": "",
        "created_by": by,
        "created_at": iso(now),
        "status": QUEUED,
        schema.QUEUE: schema.QUEUE_BROADCAST,
        schema.DUE: iso(now),
    }


def _transact(table: Table, actions: list[dict[str, Any]]) -> bool:
    try:
        table.transact(actions)
    except TransactionCancelled as exc:
        if exc.only_condition_failures:
            return False
        raise
    return True
