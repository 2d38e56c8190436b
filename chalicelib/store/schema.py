"""The single DynamoDB table: its schema and every key format, in one place.

Items (pk / sk):
  EVENT#<slug> / EVENT               the event's seat ledger and open/closed state: the hot item every seat
                                     change writes, kept small (a write costs by the item's size)
  EVENT#<slug> / EVENT#DETAILS       the event's details (title, programme, texts...): written when published,
                                     read through the per-container cache
  EVENT#<slug> / REG#<id>            one registration
  EVENT#<slug> / EMAIL#<sha256>      uniqueness guard on the normalised e-mail address
  EVENT#<slug> / WAIT#<time>#<id>    one place in the waiting list, in order of joining
  EVENT#<slug> / REMINDER#<key>      one scheduled reminder and whether it has fanned out
  EVENT#<slug> / MAIL#<mail id>      outbox: one e-mail to send, and whether it was sent

  EVENT#<slug> / BROADCAST#<id>      an organizer's message to many registrants, and its fan-out
  EVENT#<slug> / IDEMPOTENCY#<sha256>  a JSON API idempotency key: the request's fingerprint and its answer

Not per event:
  SUPPRESSED / EMAIL#<sha256>          an address that bounced for good or complained: no more mail
  EVENT#_site / SIGNIN#<nonce>         a one-time organizer sign-in link, until used or expired
  EVENT#_site / SIGNINCOUNT#<sha256>#<window>  how many links one address asked for in 15 minutes
  EVENT#_site / SESSION#<id>           a signed-in organizer's session, until it expires or they sign out
  EVENT#_site / APIKEY#<id>            a JSON API key: name, scope, the digest of its secret, revoked or not
  EVENT#_site / APIKEYRATE#<id>#<minute>  how many calls one key made in one minute
  EVENT#_site / MAIL#<mail id>         sign-in mail, in the same outbox as every other mail

The sparse index `by-due` (queue, due) holds only work that is still to do: upcoming events
(queue=EVENT), pending reminders (queue=REMINDER), broadcasts to fan out (queue=BROADCAST) and
unsent mail (queue=MAIL). Finished work
drops its `queue` attribute and leaves the index.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from chalicelib.domain.clock import iso

if TYPE_CHECKING:
    from chalicelib.store.dynamo import Item, Table

PK = "pk"
SK = "sk"
QUEUE = "queue"
DUE = "due"
BY_DUE_INDEX = "by-due"

EVENT_SK = "EVENT"
DETAILS_SK = "EVENT#DETAILS"  # begins with EVENT_SK: one query reads the event with its details
ANNOUNCED_SK = "ANNOUNCED"
REPORT_SK = "REPORT"  # the kept 実施報告 (counts only; no expiry)
# Counters of capped answers (懇親会 30名): read with the event (begins with EVENT_SK), apart from its ledger.
CHOICES_SK = "EVENT#CHOICES"  # what registrants were last told of the date, time and venue
REG_PREFIX = "REG#"
EMAIL_PREFIX = "EMAIL#"
REMINDER_PREFIX = "REMINDER#"
WAIT_PREFIX = "WAIT#"
MAIL_PREFIX = "MAIL#"
BROADCAST_PREFIX = "BROADCAST#"
IDEMPOTENCY_PREFIX = "IDEMPOTENCY#"
SIGNIN_PREFIX = "SIGNIN#"
SIGNIN_COUNT_PREFIX = "SIGNINCOUNT#"
API_KEY_PREFIX = "APIKEY#"
API_KEY_RATE_PREFIX = "APIKEYRATE#"
SESSION_PREFIX = "SESSION#"
STAFF_PREFIX = "STAFF#"
AUDIT_PREFIX = "AUDIT#"
LINK_REQUEST_PREFIX = "LINKREQ#"
SURVEY_ANSWER_PREFIX = "SURVEY#"  # one survey answer (no registration id when anonymous)
SURVEYED_PREFIX = "SURVEYED#"  # that a registration has answered (never which answer is theirs)
SEND_SLOT_PREFIX = "SENDSLOTS#"

QUEUE_EVENT = "EVENT"
QUEUE_REMINDER = "REMINDER"
QUEUE_MAIL = "MAIL"
QUEUE_BROADCAST = "BROADCAST"
QUEUE_HELD = "HELD"  # mail SES refused for a setting, waiting for `make replay-mail`

# Site-wide items (organizer sign-ins and sessions) live under a slug no event can have (events.SLUG_PATTERN
# allows no underscore), so their mail rides the event outbox, its stream and its sweeper unchanged.
SITE_SLUG = "_site"


def event_pk(slug: str) -> str:
    """Partition key holding everything about one event."""
    return f"EVENT#{slug}"


def slug_from_pk(pk: str) -> str:
    """Inverse of event_pk."""
    return pk.removeprefix("EVENT#")


def event_key(slug: str) -> dict[str, str]:
    """Key of the event item."""
    return {PK: event_pk(slug), SK: EVENT_SK}


def details_key(slug: str) -> dict[str, str]:
    """Key of the event's details item (apart from the hot ledger item)."""
    return {PK: event_pk(slug), SK: DETAILS_SK}


def report_key(slug: str) -> dict[str, str]:
    """Key of an event's kept 実施報告: counts only, kept past the registrations' erasure (usecases/report.py)."""
    return {PK: event_pk(slug), SK: REPORT_SK}


def choices_key(slug: str) -> dict[str, str]:
    """Key of the counters of an event's capped answers (usecases/choices.py)."""
    return {PK: event_pk(slug), SK: CHOICES_SK}


def announced_key(slug: str) -> dict[str, str]:
    """Key of the record of what an event's registrants were last told (announcements.py)."""
    return {PK: event_pk(slug), SK: ANNOUNCED_SK}


def audit_key(slug: str, registration_id: str, stamp: str, action: str) -> dict[str, str]:
    """Key of one entry in a registration's audit trail (organizers' actions on it, in time order)."""
    return {PK: event_pk(slug), SK: f"{AUDIT_PREFIX}{registration_id}#{stamp}#{action}"}


def logo_key() -> dict[str, str]:
    """Key of the organizer's logo (usecases/branding.py)."""
    return {PK: event_pk(SITE_SLUG), SK: "LOGO"}


# The roles' version: every change of a role is conditioned on it, so changes happen one after another.
ROLES_SK = "ROLES"


def roles_key() -> dict[str, str]:
    """Key of the item whose version every role change moves (usecases/staff.py)."""
    return {PK: event_pk(SITE_SLUG), SK: ROLES_SK}


def staff_key(email: str) -> dict[str, str]:
    """Key of one person's role on the organizer pages (usecases/staff.py)."""
    return {PK: event_pk(SITE_SLUG), SK: STAFF_PREFIX + email}


def survey_answer_key(slug: str, answer_id: str) -> dict[str, str]:
    """Key of one survey answer (usecases/survey_answers.py)."""
    return {PK: event_pk(slug), SK: SURVEY_ANSWER_PREFIX + answer_id}


def surveyed_key(slug: str, registration_id: str) -> dict[str, str]:
    """Key of the mark that a registration has answered the survey: one answer each."""
    return {PK: event_pk(slug), SK: SURVEYED_PREFIX + registration_id}


def registration_key(slug: str, registration_id: str) -> dict[str, str]:
    """Key of one registration."""
    return {PK: event_pk(slug), SK: REG_PREFIX + registration_id}


def email_guard_key(slug: str, digest: str) -> dict[str, str]:
    """Key of the per-event uniqueness guard for one e-mail address (stored as a digest)."""
    return {PK: event_pk(slug), SK: EMAIL_PREFIX + digest}


# A place an organizer put at the head of the line sorts before every other (they start with a year).
FIRST_IN_LINE = "0-"


def wait_key(slug: str, joined_at: str, registration_id: str) -> dict[str, str]:
    """Key of one place in an event's waiting list: sorted by when it was taken, then by id."""
    return {PK: event_pk(slug), SK: f"{WAIT_PREFIX}{joined_at}#{registration_id}"}


def wait_place(key: dict[str, str], registration_id: str, category: str, pool: str = "") -> dict[str, str]:
    """The item of one place in line: whose it is, and the category and pool (hybrid mode) it waits for."""
    return {**key, "registration_id": registration_id, "category": category, **({"pool": pool} if pool else {})}


def idempotency_key(slug: str, key_digest: str) -> dict[str, str]:
    """Key of one JSON API idempotency key's record (the key as a digest: it is the client's, not ours)."""
    return {PK: event_pk(slug), SK: IDEMPOTENCY_PREFIX + key_digest}


def broadcast_key(slug: str, broadcast_id: str) -> dict[str, str]:
    """Key of one organizer broadcast to an event's registrants."""
    return {PK: event_pk(slug), SK: BROADCAST_PREFIX + broadcast_id}


def sign_in_key(nonce: str) -> dict[str, str]:
    """Key of one pending organizer sign-in link."""
    return {PK: event_pk(SITE_SLUG), SK: SIGNIN_PREFIX + nonce}


def sign_in_count_key(email_digest: str, window: int) -> dict[str, str]:
    """Key of the count of sign-in links one address asked for within one window of time."""
    return {PK: event_pk(SITE_SLUG), SK: f"{SIGNIN_COUNT_PREFIX}{email_digest}#{window}"}


def link_request_key(slug: str, subject: str) -> dict[str, str]:
    """Key of one count (or mark) of requests for a personal link (usecases/link_requests.py)."""
    return {PK: event_pk(slug), SK: LINK_REQUEST_PREFIX + subject}


def send_slot_key(window_seconds: int, window: int) -> dict[str, str]:
    """Key of the count of mails sent in one window of the account's SES rate (mail/pacing.py)."""
    return {PK: event_pk(SITE_SLUG), SK: f"{SEND_SLOT_PREFIX}{window_seconds}#{window}"}


def api_key_key(key_id: str) -> dict[str, str]:
    """Key of one JSON API key (its name, scope and the digest of its secret)."""
    return {PK: event_pk(SITE_SLUG), SK: API_KEY_PREFIX + key_id}


def api_key_rate_key(key_id: str, minute: int) -> dict[str, str]:
    """Key of the count of one API key's calls within one minute."""
    return {PK: event_pk(SITE_SLUG), SK: f"{API_KEY_RATE_PREFIX}{key_id}#{minute}"}


def session_key(session_id: str) -> dict[str, str]:
    """Key of one organizer session."""
    return {PK: event_pk(SITE_SLUG), SK: SESSION_PREFIX + session_id}


SUPPRESSED_PK = "SUPPRESSED"


def email_digest(email_key: str) -> str:
    """Addresses in keys are stored as digests, not as text: one copy of personal data is enough."""
    return hashlib.sha256(email_key.encode("utf-8")).hexdigest()


def suppression_key(email_key: str) -> dict[str, str]:
    """Key of the do-not-mail mark for one address."""
    return {PK: SUPPRESSED_PK, SK: EMAIL_PREFIX + email_digest(email_key)}


def reminder_key(slug: str, reminder: str) -> dict[str, str]:
    """Key of one reminder of an event."""
    return {PK: event_pk(slug), SK: REMINDER_PREFIX + reminder}


def mail_key(slug: str, mail_id: str) -> dict[str, str]:
    """Key of one outbox mail item."""
    return {PK: event_pk(slug), SK: MAIL_PREFIX + mail_id}


def due_by(table: Table, queue: str, moment: datetime) -> Iterator[Item]:
    """Keys of the work in one queue of the `by-due` index that is due at `moment` or earlier."""
    return table.query(
        "#queue = :queue AND #due <= :moment",
        {":queue": queue, ":moment": iso(moment)},
        names={"#queue": QUEUE, "#due": DUE},
        index=BY_DUE_INDEX,
    )


# Items that hold personal data carry this epoch-seconds attribute; DynamoDB deletes them after it.
TTL_ATTRIBUTE = "expires_at"


def table_definition(table_name: str) -> dict[str, Any]:
    """CreateTable arguments: on-demand, stream of new images (drives the mail outbox)."""
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [
            {"AttributeName": PK, "KeyType": "HASH"},
            {"AttributeName": SK, "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": PK, "AttributeType": "S"},
            {"AttributeName": SK, "AttributeType": "S"},
            {"AttributeName": QUEUE, "AttributeType": "S"},
            {"AttributeName": DUE, "AttributeType": "S"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": BY_DUE_INDEX,
                "KeySchema": [
                    {"AttributeName": QUEUE, "KeyType": "HASH"},
                    {"AttributeName": DUE, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    }
