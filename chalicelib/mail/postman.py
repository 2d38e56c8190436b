"""Sending outbox mail through SES: claimed before sending, marked after, paced to the SES rate.

Timeline of one mail item, and why each step is there:
  1. claim   pending -> sending (conditional, with a lease): two deliveries of the same stream record,
             or the stream and the sweeper at once, cannot both send.
  2. send    the only SES call in the code base.
  3. mark    sending -> sent with the SES message id.
If SES fails transiently the claim is released and the error raised, so the stream retries the
batch; items already sent are skipped by step 1. If the process dies between 2 and 3, the lease
expires and the sweeper sends again: SES has no idempotency key, so that window (milliseconds)
is the only way a mail can go out twice. A mail is never silently dropped.
"""

from __future__ import annotations

import contextlib
import itertools
import random
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.domain.clock import Clock, iso, parse_iso
from chalicelib.domain.event import Event
from chalicelib.domain.links import LinkSigner, personal_path, signed_check_in_path
from chalicelib.domain.registration import Registration, RegistrationStatus
from chalicelib.mail.render import (
    Links,
    RenderedMail,
    build_mime,
    render_applied,
    render_broadcast,
    render_cancelled,
    render_closed_notice,
    render_confirmation,
    render_draw_won,
    render_feedback_notice,
    render_promoted,
    render_reminder,
    render_sign_in,
    render_waitlisted,
)
from chalicelib.store import schema
from chalicelib.store.dynamo import ConditionFailed, Item, Table, from_attrs
from chalicelib.text import i18n
from chalicelib.text import messages as msg
from chalicelib.usecases import broadcast, catalog
from chalicelib.usecases import sign_in as organizers
from chalicelib.usecases.outbox import MailKind, MailStatus, mail_tags
from chalicelib.usecases.registering import get_registration
from chalicelib.usecases.waitlist import position

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client

LEASE = timedelta(minutes=5)
# Mails in flight at once within one batch; the RateLimiter, not this, sets the pace.
SEND_WORKERS = 8
# Mail the stream has not delivered after this long is re-driven by the sweeper.
STALL_AFTER = timedelta(minutes=3)
# Marking a sent mail is retried this often when DynamoDB throttles or hiccups (about 25 s in all).
MARK_ATTEMPTS = 10
_RETRYABLE_DYNAMODB_ERRORS = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded", "InternalServerError"}
)

# SES answers that will not change if the same mail is sent again.
_PERMANENT_SES_ERRORS = frozenset({"MessageRejected", "BadRequestException", "InvalidParameterValue"})


class TransientSendError(Exception):
    """SES or the network failed in a way that a retry can fix."""


class PermanentSendError(Exception):
    """SES refused this particular mail; retrying will not help."""


class Undeliverable(Exception):
    """The mail no longer makes sense to send (its event or registration is gone)."""


@dataclass(frozen=True)
class Envelope:
    """Who a mail goes to and who it is from."""

    to: str
    sender: str
    sender_name: str
    reply_to: str = ""


class Mailer(Protocol):
    """Sends one raw MIME message and returns the provider's message id."""

    def send(self, raw: bytes, sender: str, to: str, tags: Mapping[str, str] | None = None) -> str: ...


class SesMailer:
    """The Mailer for Amazon SES (v2 API)."""

    def __init__(self, client: SESV2Client, configuration_set: str | None = None) -> None:
        self._client = client
        self._configuration_set = configuration_set

    def send(self, raw: bytes, sender: str, to: str, tags: Mapping[str, str] | None = None) -> str:
        """Send through SES, sorting its errors into transient and permanent."""
        kwargs: dict[str, Any] = {
            "FromEmailAddress": sender,
            "Destination": {"ToAddresses": [to]},
            "Content": {"Raw": {"Data": raw}},
        }
        if tags:
            # SES hands the tags back with bounces and complaints: that is how feedback finds its mail.
            kwargs["EmailTags"] = [{"Name": name, "Value": value} for name, value in tags.items()]
        if self._configuration_set:
            kwargs["ConfigurationSetName"] = self._configuration_set
        try:
            return self._client.send_email(**kwargs)["MessageId"]
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in _PERMANENT_SES_ERRORS:
                raise PermanentSendError(code) from exc
            raise TransientSendError(code or "unknown SES error") from exc
        except BotoCoreError as exc:  # connection reset, timeout, endpoint unreachable
            raise TransientSendError(type(exc).__name__) from exc


class RateLimiter:
    """Spaces calls at least 1/rate seconds apart, so sends stay within the SES quota."""

    def __init__(
        self,
        rate_per_second: float,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._interval = 1.0 / rate_per_second
        self._monotonic = monotonic
        self._sleep = sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Block until the next send is allowed; safe to call from several threads."""
        with self._lock:  # hand out send slots one by one; sleep outside the lock
            now = self._monotonic()
            slot = max(now, self._next)
            self._next = slot + self._interval
        if slot > now:
            self._sleep(slot - now)


# Which registrations each kind of mail still goes to when it is sent (not when it was queued):
# a waiting-list notice for someone who has since moved up, or a reminder after a cancellation, is dropped.
_SENT_WHILE: dict[MailKind, frozenset[RegistrationStatus]] = {
    MailKind.CONFIRMATION: frozenset(
        {RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED, RegistrationStatus.APPLIED}
    ),
    MailKind.APPLIED: frozenset({RegistrationStatus.APPLIED}),
    MailKind.DRAW_WON: frozenset({RegistrationStatus.CONFIRMED}),
    MailKind.DRAW_LOST: frozenset({RegistrationStatus.WAITLISTED}),
    MailKind.REMINDER: frozenset({RegistrationStatus.CONFIRMED}),
    MailKind.PROMOTED: frozenset({RegistrationStatus.CONFIRMED}),
    MailKind.WAITLISTED: frozenset({RegistrationStatus.WAITLISTED}),
    MailKind.CANCELLED: frozenset({RegistrationStatus.CANCELLED}),
    MailKind.BROADCAST: frozenset(
        {RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED, RegistrationStatus.APPLIED}
    ),
}


@dataclass
class Postman:
    """Everything needed to deliver outbox mail."""

    table: Table
    mailer: Mailer
    clock: Clock
    limiter: RateLimiter
    base_url: str
    default_sender: str
    events: catalog.EventDetails
    signer: LinkSigner
    sleep: Callable[[float], None] = time.sleep

    def deliver(self, slug: str, mail_id: str) -> MailStatus | None:
        """Deliver one outbox item; returns its new status, or None if someone else has it."""
        key = schema.mail_key(slug, mail_id)
        now = self.clock.now()
        try:
            item = self.table.update(
                key,
                "SET #status = :sending, lease_until = :lease, attempts = attempts + :one",
                values={
                    ":sending": MailStatus.SENDING.value,
                    ":pending": MailStatus.PENDING.value,
                    ":lease": iso(now + LEASE),
                    ":now": iso(now),
                    ":one": 1,
                },
                names={"#status": "status"},
                condition="#status = :pending OR (#status = :sending AND lease_until < :now)",
            )
        except ConditionFailed:
            return None  # already sent, failed for good, or being sent right now
        try:
            rendered, envelope = self._compose(slug, item)
            raw = build_mime(rendered, envelope.sender, envelope.sender_name, envelope.to, envelope.reply_to)
            self.limiter.wait()
            message_id = self.mailer.send(raw, envelope.sender, envelope.to, mail_tags(slug, mail_id))
        except (Undeliverable, PermanentSendError) as exc:
            return self._finish(key, MailStatus.FAILED, error=str(exc))
        except Exception as exc:
            self._release(key, describe_error(exc))
            raise
        # SES has the mail now. Releasing the claim would send it again, so the mark is retried
        # instead; only if DynamoDB stays unavailable past the lease could it go out twice.
        return self._retrying(lambda: self._finish(key, MailStatus.SENT, message_id=message_id))

    def _retrying(self, write: Callable[[], MailStatus]) -> MailStatus:
        attempt = 0
        while True:
            try:
                return write()
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                attempt += 1
                if code not in _RETRYABLE_DYNAMODB_ERRORS or attempt == MARK_ATTEMPTS:
                    raise
                self.sleep(random.uniform(0, 0.05 * 2**attempt))  # noqa: S311 (jitter, not a secret)

    def _compose(self, slug: str, item: Item) -> tuple[RenderedMail, Envelope]:
        """Render the mail from the event and registration as they are now."""
        if item["kind"] == MailKind.SIGN_IN.value:
            return self._sign_in(item)
        event = self.events.get(slug)
        if event is None:
            raise Undeliverable("the event no longer exists")
        links = Links(event_url=f"{self.base_url}/events/{slug}")
        sender = event.contact.sender or self.default_sender
        sender_name = _sender_name(event)
        kind = MailKind(item["kind"])
        if kind is MailKind.CLOSED_NOTICE:
            rendered = render_closed_notice(
                event, item["reason"], int(item["seats_taken"]), int(item["capacity"]), links
            )
            return rendered, Envelope(event.contact.organizer_email, sender, sender_name)
        registration = get_registration(self.table, slug, item["registration_id"])
        if registration is None:
            raise Undeliverable("the registration no longer exists")
        if registration.erased:
            raise Undeliverable("the registrant had their personal data erased")
        if kind is MailKind.FEEDBACK_NOTICE:
            notice = render_feedback_notice(event, registration, item["feedback"], item["feedback_detail"], links)
            return notice, Envelope(event.contact.organizer_email, sender, sender_name)
        if self.table.get(schema.suppression_key(registration.attendee.email_key)) is not None:
            raise Undeliverable("the address bounced or complained before; nothing more is sent to it")
        status = RegistrationStatus(registration.status)
        if status not in _SENT_WHILE[kind]:
            raise Undeliverable(f"a {kind.value} mail is not sent to a registration that is {status.value}")
        rid = registration.registration_id
        manage = self.base_url + personal_path(self.signer, slug, rid, event.ends_at)
        check_in = self.base_url + signed_check_in_path(self.signer, slug, rid, event.ends_at)
        links = Links(event_url=links.event_url, manage_url=manage, check_in_url=check_in)
        event = event.in_language(registration.lang)  # the language they registered in, also for the event's own text
        with i18n.speaking(registration.lang):
            rendered = self._render(kind, event, registration, links, item)
        envelope = Envelope(registration.attendee.email, sender, _sender_name(event), event.contact.organizer_email)
        return rendered, envelope

    def _render(
        self, kind: MailKind, event: Event, registration: Registration, links: Links, item: Item
    ) -> RenderedMail:
        """The mail's content; a confirmation re-sent to someone waiting says where they wait instead."""
        now = self.clock.now()
        if kind is MailKind.BROADCAST:
            message = broadcast.get(self.table, event.slug, item["broadcast_id"])
            if message is None:
                raise Undeliverable("the broadcast no longer exists")
            return render_broadcast(event, registration, message["subject"], message["body"], links)
        if kind is MailKind.REMINDER:
            return render_reminder(event, registration, links, parse_iso(item["reminder_due"]), now)
        if kind is MailKind.CANCELLED:
            return render_cancelled(event, registration, links)
        if registration.status == RegistrationStatus.APPLIED.value:
            return render_applied(event, registration, links)
        if registration.status == RegistrationStatus.WAITLISTED.value:
            place = position(self.table, event.slug, registration.wait_sk)
            return render_waitlisted(event, registration, links, place, drawn=kind is MailKind.DRAW_LOST)
        if kind is MailKind.PROMOTED:
            return render_promoted(event, registration, links, now)
        if kind is MailKind.DRAW_WON:
            return render_draw_won(event, registration, links, now)
        return render_confirmation(event, registration, links, now)

    def _sign_in(self, item: Item) -> tuple[RenderedMail, Envelope]:
        """An organizer's sign-in link; the HMAC is made now, from the nonce the outbox item holds."""
        valid_until = parse_iso(item["created_at"]) + organizers.SIGN_IN_VALID
        token = organizers.sign_in_token(self.signer, item["nonce"], valid_until)
        link = f"{self.base_url}{organizers.sign_in_path(item['nonce'], token)}"
        rendered = render_sign_in(link, int(organizers.SIGN_IN_VALID.total_seconds() // 60))
        return rendered, Envelope(item["to"], self.default_sender, i18n.gettext(msg.SITE_NAME))

    def _finish(self, key: dict[str, str], status: MailStatus, message_id: str = "", error: str = "") -> MailStatus:
        values: dict[str, Any] = {":status": status.value, ":at": iso(self.clock.now())}
        extra = ""
        if message_id:
            values[":message_id"] = message_id
            extra += ", message_id = :message_id"
        if error:
            values[":error"] = error
            extra += ", last_error = :error"
        self.table.update(
            key,
            f"SET #status = :status, finished_at = :at{extra} REMOVE lease_until, #queue, #due",
            values=values,
            names={"#status": "status", "#queue": schema.QUEUE, "#due": schema.DUE},
        )
        return status

    def _release(self, key: dict[str, str], error: str) -> None:
        """Give the claim back so the retry (stream or sweeper) can send, noting why it failed."""
        with contextlib.suppress(ConditionFailed):  # only a claim still held is given back
            self.table.update(
                key,
                "SET #status = :pending, last_error = :error REMOVE lease_until",
                values={":pending": MailStatus.PENDING.value, ":error": error, ":sending": MailStatus.SENDING.value},
                names={"#status": "status"},
                condition="#status = :sending",
            )

    def deliver_many(self, mails: list[tuple[str, str]]) -> list[MailStatus | None]:
        """Deliver (slug, mail id) pairs concurrently, paced by the limiter; raise after all if any failed.

        One mail is several round trips (claim, read, SES, mark), so a single sender cannot reach the
        SES rate; a few in parallel can, and the shared limiter keeps them within it.
        """
        if not mails:
            return []
        with ThreadPoolExecutor(max_workers=min(SEND_WORKERS, len(mails))) as pool:
            outcomes = list(pool.map(self._deliver_catching, mails))
        failures = [o for o in outcomes if isinstance(o, Exception)]
        if failures:
            # Lambda retries the whole batch; items already sent are skipped by the claim.
            raise TransientSendError(f"{len(failures)} mail(s) will be retried") from failures[0]
        return [o for o in outcomes if not isinstance(o, Exception)]

    def _deliver_catching(self, mail: tuple[str, str]) -> MailStatus | Exception | None:
        try:
            return self.deliver(*mail)
        except Exception as exc:  # one bad mail must not hold up the rest of the batch
            return exc

    def deliver_stream_records(self, records: Iterable[dict[str, Any]]) -> list[MailStatus | None]:
        """Deliver the mail items a DynamoDB stream batch inserted."""
        return self.deliver_many([mail for mail in map(_inserted_mail, records) if mail is not None])

    def redrive_stalled(self, now: datetime, limit: int = 500, stalled_after: timedelta = STALL_AFTER) -> int:
        """Deliver mail that the stream has not managed to send; returns how many were sent."""
        rows = schema.due_by(self.table, schema.QUEUE_MAIL, now - stalled_after)
        mails = [
            (schema.slug_from_pk(row[schema.PK]), row[schema.SK].removeprefix(schema.MAIL_PREFIX))
            for row in itertools.islice(rows, limit)
        ]
        return self.deliver_many(mails).count(MailStatus.SENT)


def _sender_name(event: Event) -> str:
    """The name the mail comes from: the organizer's choice, else the event's title."""
    return event.contact.sender_name or event.title


def describe_error(exc: BaseException) -> str:
    """What went wrong, for operators: the error's type and message, never the mail's content."""
    return f"{type(exc).__name__}: {exc}"[:500]


def _inserted_mail(record: dict[str, Any]) -> tuple[str, str] | None:
    """(slug, mail id) if the stream record is a newly inserted outbox item."""
    if record.get("eventName") != "INSERT":
        return None
    image = record.get("dynamodb", {}).get("NewImage") or record.get("dynamodb", {}).get("Keys") or {}
    item = from_attrs({k: v for k, v in image.items() if k in (schema.PK, schema.SK)})
    sk = str(item.get(schema.SK, ""))
    if not sk.startswith(schema.MAIL_PREFIX):
        return None
    return schema.slug_from_pk(str(item[schema.PK])), sk.removeprefix(schema.MAIL_PREFIX)
