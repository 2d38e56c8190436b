"""The mail outbox: every e-mail is an item written in the same transaction as its cause.

A DynamoDB stream delivers new mail items to the postman (mail/postman.py); the items also sit in
the sparse `by-due` index until sent, so a sweeper can re-drive anything the stream left behind.

State machine of a mail item:  pending -> sending -> sent
                                        \\-> pending (SES failed; retried)   \\-> failed (permanent)
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from chalicelib.domain.clock import iso
from chalicelib.store import schema
from chalicelib.store.dynamo import ConditionFailed, Item, Table, TransactionCancelled, put_new

FAN_OUT_WRITERS = 16  # parallel conditional puts; DynamoDB takes far more, this bounds Lambda threads


class MailKind(StrEnum):
    """What an e-mail is for."""

    CONFIRMATION = "confirmation"
    REMINDER = "reminder"
    CLOSED_NOTICE = "closed_notice"
    WAITLISTED = "waitlisted"  # joined the waiting list, with the place in it
    PROMOTED = "promoted"  # moved up from the waiting list: now holds a seat
    CANCELLED = "cancelled"  # cancelled a seat, or left the waiting list
    APPLIED = "applied"  # entered a lottery
    DRAW_WON = "draw_won"  # the draw gave them a seat
    DRAW_LOST = "draw_lost"  # the draw did not: they wait in the drawn order
    FEEDBACK_NOTICE = "feedback_notice"  # to the organizer: a registrant's address bounced or complained
    UNSENDABLE_NOTICE = "unsendable_notice"  # to the organizer: a mail to a registrant could not be built
    SIGN_IN = "sign_in"  # to an organizer: their one-time sign-in link
    BROADCAST = "broadcast"  # an organizer's message to some or all registrants
    CHANGE_NOTICE = "change_notice"  # the date, time or venue changed (with the updated calendar entry)
    EVENT_CANCELLED = "event_cancelled"  # the organizer called the event off (the calendar entry removed)
    ADDRESS_CHANGED = "address_changed"  # to the old address: staff moved the registration to another one
    RECONFIRM = "reconfirm"  # 出欠の再確認: 参加します / 行けなくなりました (asked again: `again` on the item)
    RELEASED = "released"  # the seat went to the line for want of an answer; the way back if one is free


class MailStatus(StrEnum):
    """Where an outbox item is in its life."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"  # never to be sent: a sign-in link asked for an address that is no organizer's
    HELD = "held"  # SES refused it for a setting (the sender, the account): sent by `make replay-mail` after the fix


def confirmation_id(registration_id: str, resend: str = "") -> str:
    """Mail id of a registration's confirmation (or of a resend of it)."""
    return f"confirmation-{registration_id}" + (f"-resend-{resend}" if resend else "")


def status_mail_id(kind: MailKind, registration_id: str) -> str:
    """Mail id of a once-per-registration change (waitlisted, promoted, cancelled): a replay adds nothing."""
    return f"{kind.value}-{registration_id}"


# On a registration without an address that was not told something: the kind of mail it missed
# (usecases/roster.py lists them for the organizer until someone marks them reached, assisted.reached).
CONTACT_NEEDED = "contact_needed"


def unsendable_notice_id(mail_id: str) -> str:
    """Mail id of the organizer's notice that one mail could not be built: one notice per such mail."""
    return f"unsendable-{mail_id}"


def reminder_id(reminder: str, registration_id: str) -> str:
    """Mail id of one reminder to one registrant: deterministic, so fan-out can run twice."""
    return f"reminder-{reminder}-{registration_id}"


def broadcast_mail_id(broadcast_id: str, registration_id: str) -> str:
    """Mail id of one broadcast to one registrant: deterministic, so fan-out can run twice."""
    return f"{broadcast_mail_prefix(broadcast_id)}{registration_id}"


def broadcast_mail_prefix(broadcast_id: str) -> str:
    """What every mail id of one broadcast starts with (its progress counts them)."""
    return f"broadcast-{broadcast_id}-"


def closed_notice_id(closed_at: datetime) -> str:
    """Mail id of the organizer's notice for one closing (an event reopened and closed again gets another).

    Mail ids travel as SES message tags, which may hold only ASCII letters, digits, _ and -.
    """
    return f"closed-notice-{closed_at.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}"


def mail_item(
    slug: str,
    mail_id: str,
    kind: MailKind,
    now: datetime,
    registration_id: str = "",
    **details: Any,
) -> dict[str, Any]:
    """A new pending outbox item."""
    item: dict[str, Any] = {
        **schema.mail_key(slug, mail_id),
        "mail_id": mail_id,
        "kind": kind.value,
        "status": MailStatus.PENDING.value,
        "created_at": iso(now),
        schema.QUEUE: schema.QUEUE_MAIL,
        schema.DUE: iso(now),
        "attempts": 0,
        **details,
    }
    if registration_id:
        item["registration_id"] = registration_id
    return item


def put_new_mail(item: dict[str, Any]) -> dict[str, Any]:
    """A transaction action that adds a mail item only if it does not exist yet."""
    return put_new(item)


def put_all_new(table: Table, items: Iterable[dict[str, Any]]) -> int:
    """Add many mail items in parallel, each only if new; returns how many were new (safe to run twice)."""

    def create(item: dict[str, Any]) -> bool:
        try:
            table.put(item, condition="attribute_not_exists(pk)")
        except ConditionFailed:
            return False  # an earlier or concurrent run created it
        return True

    with ThreadPoolExecutor(max_workers=FAN_OUT_WRITERS) as pool:
        return sum(pool.map(create, items))


# Tag names on every sent mail; SES allows letters, digits, '_' and '-' in names and values.
TAG_EVENT = "uketsuke-event"
TAG_MAIL = "uketsuke-mail"


def mail_tags(slug: str, mail_id: str) -> dict[str, str]:
    """The tags that tie a sent mail (and SES's feedback about it) back to its outbox item."""
    return {TAG_EVENT: slug, TAG_MAIL: mail_id}


class DynamoOutbox:
    """The outbox's state changes on the table: each a conditional write, so two senders never both send."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def claim(self, slug: str, mail_id: str, now: datetime, lease: timedelta) -> Item | None:
        """pending (or sending with an expired lease) -> sending until now + lease; the item, or None if taken."""
        try:
            return self.table.update(
                schema.mail_key(slug, mail_id),
                "SET #status = :sending, lease_until = :lease, attempts = attempts + :one",
                values={
                    ":sending": MailStatus.SENDING.value,
                    ":pending": MailStatus.PENDING.value,
                    ":lease": iso(now + lease),
                    ":now": iso(now),
                    ":one": 1,
                },
                names={"#status": "status"},
                condition="#status = :pending OR (#status = :sending AND lease_until < :now)",
            )
        except ConditionFailed:
            return None  # already sent, failed for good, or being sent right now

    def confirm(self, slug: str, mail_id: str, attempt: int, now: datetime, lease: timedelta) -> bool:
        """Still claimed by claim number `attempt` (no one claimed it since): renew its lease for the send."""
        try:
            self.table.update(
                schema.mail_key(slug, mail_id),
                "SET lease_until = :lease",
                values={":lease": iso(now + lease), ":sending": MailStatus.SENDING.value, ":attempt": attempt},
                names={"#status": "status"},
                condition="#status = :sending AND attempts = :attempt",
            )
        except ConditionFailed:
            return False
        return True

    def finish(
        self, slug: str, mail_id: str, status: MailStatus, at: datetime, message_id: str = "", error: str = ""
    ) -> None:
        """sending -> sent or failed, for good: the item leaves the queue of work to do."""
        values: dict[str, Any] = {":status": status.value, ":at": iso(at)}
        extra = ""
        if message_id:
            values[":message_id"] = message_id
            extra += ", message_id = :message_id"
        if error:
            values[":error"] = error
            extra += ", last_error = :error"
        self.table.update(
            schema.mail_key(slug, mail_id),
            f"SET #status = :status, finished_at = :at{extra} REMOVE lease_until, #queue, #due",
            values=values,
            names={"#status": "status", "#queue": schema.QUEUE, "#due": schema.DUE},
        )

    def release(self, slug: str, mail_id: str, error: str) -> None:
        """sending -> pending, noting why, so the retry (stream or sweeper) can send; only a claim still held."""
        with contextlib.suppress(ConditionFailed):
            self.table.update(
                schema.mail_key(slug, mail_id),
                "SET #status = :pending, last_error = :error REMOVE lease_until",
                values={":pending": MailStatus.PENDING.value, ":error": error, ":sending": MailStatus.SENDING.value},
                names={"#status": "status"},
                condition="#status = :sending",
            )

    def tell_organizer_unsendable(self, slug: str, failed: Item, now: datetime) -> None:
        """Queue the organizer's notice that `failed` (a mail to a registrant) could not be built; once per mail."""
        notice = _organizer_notice(slug, failed, now)
        with contextlib.suppress(ConditionFailed):  # told already (a second delivery of the same record)
            self.table.put(notice, condition="attribute_not_exists(pk)")

    def tell_organizer_no_address(self, slug: str, failed: Item, now: datetime) -> None:
        """Someone without an address was not told something (moved up, drawn, a change): the organizer is,
        once per mail, and the person is on the event's list of people to contact until marked reached."""
        notice = _organizer_notice(slug, failed, now, no_address=True)
        needs_contact = {
            "Update": {
                "Key": schema.registration_key(slug, str(failed["registration_id"])),
                "UpdateExpression": f"SET {CONTACT_NEEDED} = :kind, {CONTACT_NEEDED}_at = :now",
                "ConditionExpression": "attribute_exists(pk)",
                "ExpressionAttributeValues": {":kind": failed["kind"], ":now": iso(now)},
            }
        }
        with contextlib.suppress(TransactionCancelled):  # told already, or the registration is gone
            self.table.transact([needs_contact, put_new_mail(notice)])

    def hold(self, slug: str, mail_id: str, at: datetime, error: str) -> None:
        """sending -> held: out of the queue of work, into the queue of held mail, with why."""
        self.table.update(
            schema.mail_key(slug, mail_id),
            "SET #status = :held, last_error = :error, #queue = :queue, #due = :at REMOVE lease_until",
            values={":held": MailStatus.HELD.value, ":error": error, ":queue": schema.QUEUE_HELD, ":at": iso(at)},
            names={"#status": "status", "#queue": schema.QUEUE, "#due": schema.DUE},
        )

    def tell_organizer_blocked(self, slug: str, held: Item, code: str, now: datetime) -> None:
        """Queue the organizer's notice that SES refuses this event's mail for `code`: once per event, cause and day."""
        notice = _organizer_notice(slug, held, now, blocked=code)
        notice_id = f"blocked-notice-{code}-{now:%Y%m%d}"
        notice.update(schema.mail_key(slug, notice_id), mail_id=notice_id)
        with contextlib.suppress(ConditionFailed):  # told already today
            self.table.put(notice, condition="attribute_not_exists(pk)")

    def release_held(self, now: datetime, limit: int = 1000) -> int:
        """Held mail back into the queue of work (after the fix), due now; returns how many."""
        released = 0
        for row in itertools.islice(schema.due_by(self.table, schema.QUEUE_HELD, now), limit):
            with contextlib.suppress(ConditionFailed):  # released by another replay meanwhile
                self.table.update(
                    {schema.PK: row[schema.PK], schema.SK: row[schema.SK]},
                    "SET #status = :pending, #queue = :mail, #due = :now",
                    values={
                        ":pending": MailStatus.PENDING.value,
                        ":held": MailStatus.HELD.value,
                        ":mail": schema.QUEUE_MAIL,
                        ":now": iso(now),
                    },
                    names={"#status": "status", "#queue": schema.QUEUE, "#due": schema.DUE},
                    condition="#status = :held",
                )
                released += 1
        return released

    def waiting_since(self, moment: datetime, limit: int) -> list[tuple[str, str]]:
        """(slug, mail id) of up to `limit` mails still unsent that were queued at `moment` or before."""
        rows = schema.due_by(self.table, schema.QUEUE_MAIL, moment)
        return [
            (schema.slug_from_pk(row[schema.PK]), row[schema.SK].removeprefix(schema.MAIL_PREFIX))
            for row in itertools.islice(rows, limit)
        ]


def _organizer_notice(slug: str, failed: Item, now: datetime, **details: Any) -> dict[str, Any]:
    """The organizer's notice about one mail to a registrant that was not sent (one per mail: its id says which)."""
    return mail_item(
        slug,
        unsendable_notice_id(failed["mail_id"]),
        MailKind.UNSENDABLE_NOTICE,
        now,
        str(failed.get("registration_id", "")),
        unsendable_kind=failed["kind"],
        **details,
    )
