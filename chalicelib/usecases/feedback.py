"""What SES says after sending: bounces and complaints, as published through the stack's SNS topic.

A permanent bounce or a complaint marks the address so that nothing more is sent to it, marks the
registration, and queues one notice to the organizer per registration (they may want to reach the
person another way). A transient bounce is only recorded: SES already retried it. Each SNS message
may arrive twice; every write here is conditional or idempotent, so twice is once.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from chalicelib import telemetry
from chalicelib.domain.clock import iso
from chalicelib.store import schema
from chalicelib.store.dynamo import ConditionFailed, Table
from chalicelib.usecases.outbox import TAG_EVENT, TAG_MAIL, MailKind, mail_item, status_mail_id

BOUNCE = "bounce"
COMPLAINT = "complaint"


@dataclass(frozen=True)
class Feedback:
    """One SES event about one sent mail, reduced to what uketsuke acts on."""

    kind: str  # "bounce" or "complaint"
    permanent: bool  # a hard bounce, or any complaint: stop mailing the address
    recipients: tuple[str, ...]
    slug: str
    mail_id: str
    detail: str  # the bounce type and subtype, or the complaint's feedback type


def parse(message: str) -> Feedback | None:
    """Read an SES event (event publishing or identity notification format); None if not about our mail."""
    try:
        data = json.loads(message)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    kind = str(data.get("eventType") or data.get("notificationType") or "").lower()
    tags = data.get("mail", {}).get("tags", {})
    slug, mail_id = _tag(tags, TAG_EVENT), _tag(tags, TAG_MAIL)
    if kind not in (BOUNCE, COMPLAINT) or not slug or not mail_id:
        return None
    if kind == BOUNCE:
        bounce = data.get(BOUNCE, {})
        people = bounce.get("bouncedRecipients", [])
        permanent = bounce.get("bounceType") == "Permanent"
        detail = f"{bounce.get('bounceType', '')}/{bounce.get('bounceSubType', '')}"
    else:
        complaint = data.get(COMPLAINT, {})
        people = complaint.get("complainedRecipients", [])
        permanent = True
        detail = str(complaint.get("complaintFeedbackType", "complaint"))
    recipients = tuple(str(p.get("emailAddress", "")) for p in people if p.get("emailAddress"))
    return Feedback(kind, permanent, recipients, slug, mail_id, detail)


def record(table: Table, feedback: Feedback, now: datetime) -> bool:
    """Act on one piece of feedback; True if it stopped mail to an address."""
    bounced = feedback.kind == BOUNCE
    telemetry.count(telemetry.Metric.MAILS_BOUNCED if bounced else telemetry.Metric.MAILS_COMPLAINED)
    mail = table.get(schema.mail_key(feedback.slug, feedback.mail_id))
    if mail is not None:
        table.update(
            schema.mail_key(feedback.slug, feedback.mail_id),
            "SET feedback = :kind, feedback_detail = :detail, feedback_at = :now",
            values={":kind": feedback.kind, ":detail": feedback.detail, ":now": iso(now)},
        )
    if not feedback.permanent:
        return False
    for address in feedback.recipients:
        table.put(
            {
                **schema.suppression_key(address.casefold()),
                "reason": feedback.kind,
                "detail": feedback.detail,
                "at": iso(now),
            }
        )
    registration_id = mail.get("registration_id") if mail else None
    if registration_id:
        _mark_registration(table, feedback, str(registration_id), now)
    return True


def _mark_registration(table: Table, feedback: Feedback, registration_id: str, now: datetime) -> None:
    """Note the address's state on the registration and tell the organizer, once per registration."""
    with contextlib.suppress(ConditionFailed):  # the registration may have been deleted since
        table.update(
            schema.registration_key(feedback.slug, registration_id),
            "SET email_status = :status, email_status_at = :now",
            values={":status": feedback.kind, ":now": iso(now)},
            condition="attribute_exists(pk)",
        )
    notice = mail_item(
        feedback.slug,
        status_mail_id(MailKind.FEEDBACK_NOTICE, registration_id),
        MailKind.FEEDBACK_NOTICE,
        now,
        registration_id,
        feedback=feedback.kind,
        feedback_detail=feedback.detail,
    )
    with contextlib.suppress(ConditionFailed):  # the organizer has been told about this registration already
        table.put(notice, condition="attribute_not_exists(pk)")


def _tag(tags: Any, name: str) -> str:
    """SES gives each tag as a list of values."""
    values = tags.get(name) if isinstance(tags, dict) else None
    return str(values[0]) if isinstance(values, list) and values else ""
