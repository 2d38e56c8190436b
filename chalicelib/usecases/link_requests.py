"""Sending a registrant's personal link again, to their own address, while telling nobody else anything.

Anyone may type an address at /events/{slug}/my-link. The page answers the same whatever the address,
and the work behind it is the same too, so that neither the answer nor its timing tells whether the
address registered (organizer sign-in does the same, usecases/sign_in.py). For every address:
  1. one strongly consistent read of the address's guard;
  2. one transaction of four items: a count of this form page's requests, a count of the client's
     requests within CLIENT_WINDOW, then an update and a put: for a registered address the guard's
     last sending (moved to now only if RESEND_INTERVAL has passed) and the confirmation mail; for
     any other a mark of its own kept the same way, and a record of the request.
The counts bound how many addresses one page (PER_FORM) and one client (PER_CLIENT) can try.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from chalicelib.domain.attendee import email_key
from chalicelib.domain.clock import iso
from chalicelib.domain.ids import IdGenerator
from chalicelib.store import schema
from chalicelib.store.dynamo import Table, TransactionCancelled
from chalicelib.usecases.address_guards import RESEND_INTERVAL, guard_key, resend_writes

PER_FORM = 5  # a person mistypes once or twice; a page that tries more addresses is testing them
# Generous, because one address can carry a whole prefecture's municipal staff (自治体情報セキュリティクラウド).
PER_CLIENT = 30
CLIENT_WINDOW = timedelta(minutes=15)
KEPT = timedelta(days=1)  # counts and marks delete themselves (TTL) after this


class LinkRequest(StrEnum):
    """What a request for the personal link did: the page says the same for all but TOO_MANY."""

    QUEUED = "queued"  # the address registered: its confirmation (with the link) is on its way
    NOTHING_SENT = "nothing_sent"  # not registered, or a mail went to it within RESEND_INTERVAL
    TOO_MANY = "too_many"  # this page or this client asked too often: nothing was done


def request_link(
    table: Table, slug: str, address: str, submission_id: str, client: str, now: datetime, ids: IdGenerator
) -> LinkRequest:
    """Queue the personal link for `address` if it registered, with the same work whether or not it did."""
    guard = table.get(guard_key(slug, email_key(address)))
    ttl = int((now + KEPT).timestamp())
    window = int(now.timestamp() // CLIENT_WINDOW.total_seconds())
    actions = [
        _count(slug, f"form#{submission_id}", PER_FORM, ttl),
        # A client's address is personal data too: kept as a digest, as addresses are.
        _count(slug, f"client#{schema.email_digest(client)}#{window}", PER_CLIENT, ttl),
    ]
    if guard is not None:
        actions += resend_writes(slug, guard, now, ids)
    else:
        actions += _nothing_to_send(slug, address, now, ttl, ids)
    try:
        table.transact(actions)
    except TransactionCancelled as exc:
        if not exc.only_condition_failures:
            raise
        counted = exc.reasons[:2]
        if any(reason.code == "ConditionalCheckFailed" for reason in counted):
            return LinkRequest.TOO_MANY
        return LinkRequest.NOTHING_SENT
    return LinkRequest.QUEUED if guard is not None else LinkRequest.NOTHING_SENT


def _count(slug: str, subject: str, limit: int, ttl: int) -> dict[str, Any]:
    """One more request counted against `subject`, refused at `limit`."""
    return {
        "Update": {
            "Key": schema.link_request_key(slug, subject),
            "UpdateExpression": "ADD requests :one SET #ttl = :ttl",
            "ConditionExpression": "attribute_not_exists(requests) OR requests < :limit",
            "ExpressionAttributeNames": {"#ttl": schema.TTL_ATTRIBUTE},
            "ExpressionAttributeValues": {":one": 1, ":limit": limit, ":ttl": ttl},
        }
    }


def _nothing_to_send(slug: str, address: str, now: datetime, ttl: int, ids: IdGenerator) -> list[dict[str, Any]]:
    """An unknown address's two writes, made as a registered one's are (an update on a condition, a put).

    The update keeps the address's own RESEND_INTERVAL, as the guard does; the put records the request
    where the mail would have gone, and deletes itself after KEPT.
    """
    mark = schema.link_request_key(slug, f"address#{schema.email_digest(email_key(address))}")
    return [
        {
            "Update": {
                "Key": mark,
                "UpdateExpression": "SET last_confirmation_at = :now, #ttl = :ttl",
                "ConditionExpression": "attribute_not_exists(last_confirmation_at) OR last_confirmation_at <= :cutoff",
                "ExpressionAttributeNames": {"#ttl": schema.TTL_ATTRIBUTE},
                "ExpressionAttributeValues": {":now": iso(now), ":cutoff": iso(now - RESEND_INTERVAL), ":ttl": ttl},
            }
        },
        {"Put": {"Item": {**schema.link_request_key(slug, f"asked#{ids()}"), schema.TTL_ATTRIBUTE: ttl}}},
    ]
