"""Broadcasts: an organizer's message to all registrants, or to one state or category.

Sending takes the same road as reminders. The organizer's POST stores one broadcast item,
conditionally on its id (the id comes with the preview, so pressing 送信 twice sends once).
The `send_broadcasts` schedule fans it out into deterministic outbox items, safe to run twice,
and the outbox's stream consumer sends them at the SES rate. Progress is the count of those
items by state.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain.attendee import single_line
from chalicelib.domain.clock import iso
from chalicelib.domain.event import Event
from chalicelib.domain.questions import answers_of
from chalicelib.domain.registration import RegistrationStatus
from chalicelib.store import schema
from chalicelib.store.dynamo import ConditionFailed, Item, Table
from chalicelib.text import messages as msg
from chalicelib.text.i18n import gettext
from chalicelib.usecases import catalog
from chalicelib.usecases.isolation import each
from chalicelib.usecases.outbox import (
    MailKind,
    MailStatus,
    broadcast_mail_id,
    broadcast_mail_prefix,
    mail_item,
    put_all_new,
)
from chalicelib.usecases.roster import Entry, entries

SUBJECT_LIMIT = 100
BODY_LIMIT = 5000
ALL = "all"  # everyone still registered: seats, waiting list and lottery applications
_ACTIVE = (RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED, RegistrationStatus.APPLIED)
# After the event (お礼、資料): seat holders checked in at the door, and those at the venue who were not.
# People taking part online never pass the door, so they are in neither (the seat holders' audience has them).
ATTENDED, NO_SHOW = "attended", "no_show"
AFTER_THE_EVENT = (ATTENDED, NO_SHOW)
AUDIENCES = (ALL, *(status.value for status in _ACTIVE), *AFTER_THE_EVENT)
QUEUED = "queued"
FANNED_OUT = "fanned_out"
# A broadcast item's kind: the organizer's own message, or an announcement (announcements.py), each
# sent as its own kind of mail. Items stored before kinds existed are messages.
MESSAGE, CHANGE, CANCELLATION = "message", "change", "cancellation"
_MAIL_KINDS = {MESSAGE: MailKind.BROADCAST, CHANGE: MailKind.CHANGE_NOTICE, CANCELLATION: MailKind.EVENT_CANCELLED}


@dataclass(frozen=True)
class Draft:
    """A broadcast as written: what, and to whom."""

    subject: str
    body: str
    audience: str = ALL
    category: str = ""  # '' is every category


@dataclass(frozen=True)
class Checked:
    """A draft with its problems by field (none means it can be sent)."""

    draft: Draft
    errors: dict[str, str]


@dataclass(frozen=True)
class Progress:
    """Where a broadcast's sending stands."""

    broadcast_id: str
    subject: str
    status: str
    recipients: int
    by_mail_status: Counter[str]

    @property
    def done(self) -> int:
        """Mails finished, sent or given up."""
        return self.by_mail_status[MailStatus.SENT.value] + self.by_mail_status[MailStatus.FAILED.value]


def check(fields: dict[str, str], event: Event, now: datetime) -> Checked:
    """Validate an organizer's broadcast form (who came and who did not are known once the event has begun)."""
    subject = single_line(fields.get("subject", "")).strip()
    body = fields.get("body", "").replace("\r\n", "\n").strip()
    audience = fields.get("audience", ALL)
    category = fields.get("category", "")
    errors: dict[str, str] = {}
    if not subject:
        errors["subject"] = msg.BROADCAST_SUBJECT_NEEDED
    elif len(subject) > SUBJECT_LIMIT:
        errors["subject"] = too_long(msg.SUBJECT_LABEL, SUBJECT_LIMIT, len(subject))
    if not body:
        errors["body"] = msg.BROADCAST_BODY_NEEDED
    elif len(body) > BODY_LIMIT:
        errors["body"] = too_long(msg.BODY_LABEL, BODY_LIMIT, len(body))
    if audience not in AUDIENCES:
        errors["audience"] = msg.BROADCAST_AUDIENCE_UNKNOWN
    elif audience in AFTER_THE_EVENT and now < event.starts_at:
        errors["audience"] = msg.BROADCAST_AFTER_THE_EVENT
    if category and category not in {c.key for c in event.categories}:
        errors["category"] = msg.UNKNOWN_CATEGORY
    return Checked(Draft(subject, body, audience, category), errors)


def too_long(label: str, limit: int, length: int) -> str:
    """The message for a text over its limit, naming the field, the limit and the length."""
    return gettext(msg.TOO_LONG).format(label=gettext(label), limit=limit, length=length)


def is_recipient(e: Entry, draft: Draft, event: Event, without_address: bool = False) -> bool:
    """True if this registration is in the draft's audience (erased registrations never are).

    `without_address`: people staff registered without an address count too (a change or the event
    called off: their mail item makes the organizer tell them, postman.py); a message leaves them out.
    """
    r = e.registration
    if r.erased or r.status not in _ACTIVE or not (r.attendee.email or without_address):
        return False
    if not _in_audience(e, draft.audience, event):
        return False
    return not draft.category or r.attendee.category == draft.category


def _in_audience(e: Entry, audience: str, event: Event) -> bool:
    status = e.registration.status
    if audience == ALL:
        return True
    if audience in AFTER_THE_EVENT:
        if status != RegistrationStatus.CONFIRMED.value:
            return False
        came = bool(e.checked_in_at)
        return (
            came
            if audience == ATTENDED
            else not came and not event.joins_online(answers_of(e.registration.attendee.answers))
        )
    return status == audience


def recipients(found: list[Entry], draft: Draft, event: Event, without_address: bool = False) -> list[Entry]:
    """The registrations a draft goes to, as things stand now."""
    return [e for e in found if is_recipient(e, draft, event, without_address)]


def left_out(found: list[Entry], draft: Draft, event: Event) -> list[Entry]:
    """The people in a draft's audience whom mail cannot reach: registered by staff without an address."""
    reached = {e.registration.registration_id for e in recipients(found, draft, event)}
    return [e for e in recipients(found, draft, event, True) if e.registration.registration_id not in reached]


def queue(table: Table, slug: str, broadcast_id: str, draft: Draft, by: str, now: datetime) -> bool:
    """Store a broadcast for the schedule to fan out; False if this id was queued already (a second press)."""
    item = {
        **schema.broadcast_key(slug, broadcast_id),
        "broadcast_id": broadcast_id,
        "subject": draft.subject,
        "body": draft.body,
        "audience": draft.audience,
        "category": draft.category,
        "created_by": by,
        "created_at": iso(now),
        "status": QUEUED,
        schema.QUEUE: schema.QUEUE_BROADCAST,
        schema.DUE: iso(now),
    }
    try:
        table.put(item, condition="attribute_not_exists(pk)")
    except ConditionFailed:
        return False
    return True


def get(table: Table, slug: str, broadcast_id: str) -> Item | None:
    """One broadcast as stored."""
    return table.get(schema.broadcast_key(slug, broadcast_id))


def fan_out_due(table: Table, now: datetime) -> list[tuple[str, str, int]]:
    """Fan out every queued broadcast into the outbox: (slug, id, mails created) each; safe to run twice."""

    def one(row: Item) -> tuple[str, str, int] | None:
        slug = schema.slug_from_pk(row[schema.PK])
        broadcast_id = row[schema.SK].removeprefix(schema.BROADCAST_PREFIX)
        item = get(table, slug, broadcast_id)
        if item is None:
            return None
        draft = Draft(item["subject"], item["body"], item["audience"], item.get("category", ""))
        announcement = item.get("kind", MESSAGE) != MESSAGE
        state = catalog.get_event(table, slug)
        if state is None:
            return None
        chosen = recipients(entries(table, slug), draft, state.event, without_address=announcement)
        kind = _MAIL_KINDS[item.get("kind", MESSAGE)]
        created = put_all_new(
            table,
            (
                mail_item(
                    slug,
                    broadcast_mail_id(broadcast_id, e.registration.registration_id),
                    kind,
                    now,
                    e.registration.registration_id,
                    broadcast_id=broadcast_id,
                )
                for e in chosen
            ),
        )
        table.update(
            schema.broadcast_key(slug, broadcast_id),
            "SET #status = :status, recipients = :count, fanned_out_at = :now REMOVE #queue, #due",
            values={":status": FANNED_OUT, ":count": len(chosen), ":now": iso(now)},
            names={"#status": "status", "#queue": schema.QUEUE, "#due": schema.DUE},
        )
        return slug, broadcast_id, created

    rows = list(schema.due_by(table, schema.QUEUE_BROADCAST, now))
    done = each("send_broadcasts", rows, one, lambda row: f"{row[schema.PK]} {row[schema.SK]}")
    return [fanned for fanned in done if fanned is not None]


def progress(table: Table, slug: str, broadcast_id: str) -> Progress | None:
    """How far a broadcast has got: its mails counted by state."""
    item = get(table, slug, broadcast_id)
    if item is None:
        return None
    rows = table.query(
        "pk = :pk AND begins_with(sk, :prefix)",
        {":pk": schema.event_pk(slug), ":prefix": schema.MAIL_PREFIX + broadcast_mail_prefix(broadcast_id)},
        projection="#status",
        names={"#status": "status"},
    )
    return Progress(
        broadcast_id=broadcast_id,
        subject=str(item["subject"]) or gettext(msg.ANNOUNCEMENT_LABELS.get(str(item.get("kind", "")), "")),
        status=str(item["status"]),
        recipients=int(item.get("recipients", 0)),
        by_mail_status=Counter(str(row.get("status", "")) for row in rows),
    )


def history(table: Table, slug: str) -> list[Item]:
    """An event's broadcasts, newest first."""
    rows = table.query(
        "pk = :pk AND begins_with(sk, :prefix)", {":pk": schema.event_pk(slug), ":prefix": schema.BROADCAST_PREFIX}
    )
    return sorted(rows, key=lambda row: str(row.get("created_at", "")), reverse=True)
