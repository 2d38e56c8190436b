"""One registration per address: each address's guard item, and the confirmation sent again to its owner.

A registration writes a guard keyed by its address's digest, in the same transaction, so a second
registration with that address fails on it. The guard also keeps when a confirmation last went to the
address, so that neither the form nor /my-link can be used to flood someone's inbox.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.attendee import Attendee
from chalicelib.domain.clock import iso
from chalicelib.domain.ids import IdGenerator
from chalicelib.store import schema
from chalicelib.store.dynamo import Item, Table, TransactionCancelled
from chalicelib.usecases.outbox import MailKind, confirmation_id, mail_item, put_new_mail

# A second confirmation for the same address is sent at most this often, so that a form cannot
# be used to flood someone's inbox.
RESEND_INTERVAL = timedelta(minutes=5)


# Someone staff registered without an address (by phone, say) still gets a guard, one of their own:
# the transaction keeps its shape, and nothing else can ever collide with it.
NO_ADDRESS = "no-address#"


def guard_of(slug: str, attendee: Attendee, registration_id: str) -> dict[str, str]:
    """Key of a registration's guard: its address's, or its own when it has none."""
    return guard_key(slug, attendee.email_key or NO_ADDRESS + registration_id)


def guard_item(
    slug: str, attendee: Attendee, registration_id: str, submission_id: str, now: datetime
) -> dict[str, Any]:
    """The guard a registration holds: whose it is, the submission that made it, when a confirmation last went."""
    return {
        **guard_of(slug, attendee, registration_id),
        "registration_id": registration_id,
        "submission_id": submission_id,
        "last_confirmation_at": iso(now),
    }


def freed_guard(slug: str, attendee: Attendee, registration_id: str) -> dict[str, Any]:
    """A transaction action removing the registration's guard (if it is still theirs): the address may register
    again. The guard only ever holds a live registration."""
    return {
        "Delete": {
            "Key": guard_of(slug, attendee, registration_id),
            "ConditionExpression": "attribute_not_exists(pk) OR registration_id = :rid",
            "ExpressionAttributeValues": {":rid": registration_id},
        }
    }


def guard_key(slug: str, email_key: str) -> dict[str, str]:
    """Key of the one-registration-per-address guard for this address."""
    return schema.email_guard_key(slug, schema.email_digest(email_key))


def resend_confirmation(table: Table, slug: str, guard: Item, now: datetime, ids: IdGenerator) -> bool:
    """Queue the confirmation again for the address that registered, unless one went out just now."""
    try:
        table.transact(resend_writes(slug, guard, now, ids))
    except TransactionCancelled as exc:
        if exc.only_condition_failures:
            return False
        raise
    return True


def resend_writes(slug: str, guard: Item, now: datetime, ids: IdGenerator) -> list[dict[str, Any]]:
    """The guard's last sending moved to now (only if RESEND_INTERVAL has passed) and the confirmation queued."""
    registration_id = guard["registration_id"]
    return [
        {
            "Update": {
                "Key": {schema.PK: guard[schema.PK], schema.SK: guard[schema.SK]},
                "UpdateExpression": "SET last_confirmation_at = :now",
                "ConditionExpression": "last_confirmation_at <= :cutoff",
                "ExpressionAttributeValues": {":now": iso(now), ":cutoff": iso(now - RESEND_INTERVAL)},
            }
        },
        put_new_mail(
            mail_item(slug, confirmation_id(registration_id, resend=ids()), MailKind.CONFIRMATION, now, registration_id)
        ),
    ]
