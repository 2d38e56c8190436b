"""Delivering outbox mail: claimed, paced to the account's SES rate, confirmed still claimed, sent, marked.

Timeline of one mail item, and why each step is there:
  1. claim   pending -> sending (conditional, with a lease): two deliveries of the same stream record,
             or the stream and the sweeper at once, cannot both send.
  2. compose the mail as it should read now.
  3. pace    take one of the account's send slots (mail/pacing.py), waiting for one if need be.
  4. confirm the claim is still this one (the wait may have outlasted the lease, and another sender
             claimed it since): the lease is renewed for the send, or nothing is sent.
  5. send    hand it to the sender (SES).
  6. mark    sending -> sent with the SES message id.
If SES fails transiently the claim is released and the error raised, so the stream retries the
batch; items already sent are skipped by step 1. If the process dies between 5 and 6, the lease
expires and the sweeper sends again: SES has no idempotency key, so that window (milliseconds)
is the only way a mail can go out twice. A mail that can no longer be sent, that cannot be built
from what is stored, or that SES refuses for good, is marked failed with its reason and never
retried (the organizer is told of one that cannot be built). A mail SES refuses for a setting (a sender
the account may not use, sending paused) is held with one notice to the organizer, until `make
replay-mail` after the fix. A mail is never silently dropped.

The postman knows no table and no SES: it is handed the outbox's state changes, a composer and a
sender, so its rules are tested with fakes (tests/test_postman.py).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib import telemetry
from chalicelib.domain.attendee import sending_address
from chalicelib.domain.clock import Clock
from chalicelib.mail.compose import Envelope, NoAddress, Undeliverable
from chalicelib.mail.render import RenderedMail, build_mime
from chalicelib.mail.ses import BlockedSendError, Mailer, PermanentSendError, TransientSendError
from chalicelib.store import schema
from chalicelib.store.dynamo import Item, from_attrs
from chalicelib.usecases.outbox import MailKind, MailStatus, mail_tags

LEASE = timedelta(minutes=5)
# Mails in flight at once within one batch; the pace (mail/pacing.py), not this, sets the rate.
SEND_WORKERS = 8
# Mail the stream has not delivered after this long is re-driven by the sweeper.
STALL_AFTER = timedelta(minutes=3)
# The sweeper's run has 60 s: it takes no more mail than the rate sends in this long, and starts none after.
REDRIVE_BUDGET = timedelta(seconds=40)
# Marking a sent mail is retried this often when DynamoDB throttles or hiccups (about 25 s in all).
MARK_ATTEMPTS = 10
_RETRYABLE_DYNAMODB_ERRORS = frozenset(
    {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded", "InternalServerError"}
)


# Errors of the reads while composing (DynamoDB), which a later try may not meet.
_TRANSIENT = (ClientError, BotoCoreError)
# Mail to registrants: if one cannot be built, the organizer is told (never about their own notices).
_TOLD_WHEN_UNSENDABLE = frozenset(
    kind.value
    for kind in MailKind
    if kind not in (MailKind.CLOSED_NOTICE, MailKind.FEEDBACK_NOTICE, MailKind.UNSENDABLE_NOTICE, MailKind.SIGN_IN)
)


# What someone without an address must still learn: they moved up, were drawn (or not), or the event
# changed or was called off. (A confirmation or a cancellation they asked staff for, they know of.)
_CONTACT_WHEN_NO_ADDRESS = frozenset(
    kind.value
    for kind in (
        MailKind.PROMOTED,
        MailKind.DRAW_WON,
        MailKind.DRAW_LOST,
        MailKind.CHANGE_NOTICE,
        MailKind.EVENT_CANCELLED,
    )
)


class Outbox(Protocol):
    """The outbox's state changes (usecases/outbox.DynamoOutbox on the table)."""

    def claim(self, slug: str, mail_id: str, now: datetime, lease: timedelta) -> Item | None: ...

    def confirm(self, slug: str, mail_id: str, attempt: int, now: datetime, lease: timedelta) -> bool: ...

    def finish(
        self, slug: str, mail_id: str, status: MailStatus, at: datetime, message_id: str = "", error: str = ""
    ) -> None: ...

    def release(self, slug: str, mail_id: str, error: str) -> None: ...

    def tell_organizer_unsendable(self, slug: str, failed: Item, now: datetime) -> None: ...

    def tell_organizer_no_address(self, slug: str, failed: Item, now: datetime) -> None: ...

    def hold(self, slug: str, mail_id: str, at: datetime, error: str) -> None: ...

    def tell_organizer_blocked(self, slug: str, held: Item, code: str, now: datetime) -> None: ...

    def waiting_since(self, moment: datetime, limit: int) -> list[tuple[str, str]]: ...


Compose = Callable[[str, Item], tuple[RenderedMail, Envelope]]


class Pace(Protocol):
    """Hands out send slots within the account's SES rate (mail/pacing.SharedPace)."""

    rate: float

    def wait(self) -> None: ...


@dataclass
class Postman:
    """Delivers outbox mail: the outbox's state machine around one composer and one sender."""

    outbox: Outbox
    compose: Compose
    mailer: Mailer
    clock: Clock
    limiter: Pace
    sleep: Callable[[float], None] = time.sleep
    # Asked before each mail is claimed: once it answers True (make run is stopping), no further mail is
    # started; what was not started stays pending in the outbox for the next start or the sweeper.
    stopping: Callable[[], bool] = lambda: False

    def deliver(self, slug: str, mail_id: str) -> MailStatus | None:
        """Deliver one outbox item; returns its new status, or None if someone else has it.

        Each outcome is one log line (its kind, its id, what became of it) counted as a metric.
        """
        item = self.outbox.claim(slug, mail_id, self.clock.now(), LEASE)
        if item is None:
            return None  # already sent, failed for good, or being sent right now
        kind = str(item.get("kind", ""))
        try:
            status = self._deliver(slug, mail_id, item)
        except Exception as exc:
            _mail_line(slug, mail_id, kind, "retry", type(exc).__name__)
            raise
        if status is not None:
            _mail_line(slug, mail_id, kind, status.value)
        return status

    def _deliver(self, slug: str, mail_id: str, item: Item) -> MailStatus | None:
        """Build and send a claimed item, and mark what became of it."""
        try:
            raw, sender, to = self._build(slug, item)
        except NoAddress as exc:
            # Registered by phone without an address: the organizer tells them, and is told so once.
            now = self.clock.now()
            self.outbox.finish(slug, mail_id, MailStatus.FAILED, now, error=str(exc))
            if item.get("kind") in _CONTACT_WHEN_NO_ADDRESS:
                self.outbox.tell_organizer_no_address(slug, item, now)
            return MailStatus.FAILED
        except Undeliverable as exc:
            self.outbox.finish(slug, mail_id, MailStatus.FAILED, self.clock.now(), error=str(exc))
            return MailStatus.FAILED
        except _TRANSIENT as exc:  # a read while composing failed: the same mail may build next time
            self.outbox.release(slug, mail_id, describe_error(exc))
            raise
        except Exception as exc:
            # What is stored cannot make this mail (a bug, or data from before a check existed); it
            # would fail the same way forever, so it fails for good and the organizer hears of it once.
            now = self.clock.now()
            self.outbox.finish(slug, mail_id, MailStatus.FAILED, now, error=f"cannot be built: {describe_error(exc)}")
            if item.get("kind") in _TOLD_WHEN_UNSENDABLE:
                self.outbox.tell_organizer_unsendable(slug, item, now)
            return MailStatus.FAILED
        self.limiter.wait()
        # Waiting for a slot may outlast the claim's lease, and someone may have claimed the mail since:
        # the send goes ahead only if the claim is still this one (and its lease is renewed for the send).
        if not self.outbox.confirm(slug, mail_id, int(item["attempts"]), self.clock.now(), LEASE):
            return None
        try:
            message_id = self.mailer.send(raw, sender, to, mail_tags(slug, mail_id))
        except BlockedSendError as exc:
            # Every mail like it would be refused the same way until someone fixes the setting: held (not
            # lost, not retried), the organizer told once, and `make replay-mail` sends it after the fix.
            now = self.clock.now()
            self.outbox.hold(slug, mail_id, now, describe_error(exc))
            if item.get("kind") != MailKind.UNSENDABLE_NOTICE.value:
                self.outbox.tell_organizer_blocked(slug, item, exc.code, now)
            return MailStatus.HELD
        except PermanentSendError as exc:
            self.outbox.finish(slug, mail_id, MailStatus.FAILED, self.clock.now(), error=str(exc))
            return MailStatus.FAILED
        except Exception as exc:
            self.outbox.release(slug, mail_id, describe_error(exc))
            raise
        # SES has the mail now. Releasing the claim would send it again, so the mark is retried
        # instead; only if DynamoDB stays unavailable past the lease could it go out twice.
        self._retrying(
            lambda: self.outbox.finish(slug, mail_id, MailStatus.SENT, self.clock.now(), message_id=message_id)
        )
        return MailStatus.SENT

    def _build(self, slug: str, item: Item) -> tuple[bytes, str, str]:
        """The raw MIME message, its sender and its recipient, as mail servers need them."""
        rendered, envelope = self.compose(slug, item)
        # Mail servers get every address's domain in its ASCII form (例え.jp -> xn--r8jz45g.jp).
        to, reply_to = sending_address(envelope.to), sending_address(envelope.reply_to) if envelope.reply_to else ""
        return build_mime(rendered, envelope.sender, envelope.sender_name, to, reply_to), envelope.sender, to

    def _retrying(self, write: Callable[[], None]) -> None:
        """A write DynamoDB may throttle, tried again with jittered backoff (a lost race is not possible here)."""
        attempt = 0
        while True:
            try:
                write()
                return
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code", "")
                attempt += 1
                if code not in _RETRYABLE_DYNAMODB_ERRORS or attempt == MARK_ATTEMPTS:
                    raise
                self.sleep(random.uniform(0, 0.05 * 2**attempt))  # noqa: S311 (jitter, not a secret)

    def deliver_many(self, mails: list[tuple[str, str]], budget: timedelta | None = None) -> list[MailStatus | None]:
        """Deliver (slug, mail id) pairs concurrently, paced by the limiter; raise after all if any failed.

        One mail is several round trips (claim, read, SES, mark), so a single sender cannot reach the
        SES rate; a few in parallel can, and the shared pace keeps them within it. With a `budget`, no
        mail is started once it has passed: what is left stays pending, unclaimed.
        """
        if not mails:
            return []
        deadline = time.monotonic() + budget.total_seconds() if budget is not None else None

        def one(mail: tuple[str, str]) -> MailStatus | Exception | None:
            if deadline is not None and time.monotonic() > deadline:
                return None
            return self._deliver_catching(mail)

        with ThreadPoolExecutor(max_workers=min(SEND_WORKERS, len(mails))) as pool:
            outcomes = list(pool.map(one, mails))
        failures = [o for o in outcomes if isinstance(o, Exception)]
        if failures:
            # Lambda retries the whole batch; items already sent are skipped by the claim.
            raise TransientSendError(f"{len(failures)} mail(s) will be retried") from failures[0]
        return [o for o in outcomes if not isinstance(o, Exception)]

    def _deliver_catching(self, mail: tuple[str, str]) -> MailStatus | Exception | None:
        if self.stopping():
            return None  # left in the outbox, unclaimed
        try:
            return self.deliver(*mail)
        except Exception as exc:  # one bad mail must not hold up the rest of the batch
            return exc

    def deliver_stream_records(self, records: Iterable[dict[str, Any]]) -> list[MailStatus | None]:
        """Deliver the mail items a DynamoDB stream batch inserted."""
        return self.deliver_many([mail for mail in map(inserted_mail, records) if mail is not None])

    def redrive_stalled(
        self, now: datetime, stalled_after: timedelta = STALL_AFTER, budget: timedelta | None = REDRIVE_BUDGET
    ) -> int:
        """Deliver mail that the stream has not managed to send; returns how many were sent.

        Within `budget`, it takes only as many as the rate sends in it (the rest waits for the next run);
        `None` (make replay-mail) takes a batch the size of the sweeper's and no deadline.
        """
        seconds = (budget or REDRIVE_BUDGET).total_seconds()
        limit = max(1, int(self.limiter.rate * seconds))
        return self.deliver_many(self.outbox.waiting_since(now - stalled_after, limit), budget).count(MailStatus.SENT)


_COUNTED = {
    MailStatus.SENT.value: telemetry.Metric.MAILS_SENT,
    MailStatus.FAILED.value: telemetry.Metric.MAILS_FAILED,
    MailStatus.HELD.value: telemetry.Metric.MAILS_HELD,
}


def _mail_line(slug: str, mail_id: str, kind: str, result: str, error: str = "") -> None:
    """The log line of one mail's outcome: ids only (the mail's id names its registration, never its person)."""
    fields = {
        "slug": slug,
        "mail_id": mail_id,
        "mail_kind": kind,
        "result": result,
        **({"error": error} if error else {}),
    }
    metric = _COUNTED.get(result)
    telemetry.log("mail", fields, {metric.value: 1} if metric else {})


def describe_error(exc: BaseException) -> str:
    """What went wrong, for operators: the error's type and message, never the mail's content."""
    return f"{type(exc).__name__}: {exc}"[:500]


def inserted_mail(record: dict[str, Any]) -> tuple[str, str] | None:
    """(slug, mail id) if a DynamoDB stream record is a newly inserted outbox item."""
    if record.get("eventName") != "INSERT":
        return None
    image = record.get("dynamodb", {}).get("NewImage") or record.get("dynamodb", {}).get("Keys") or {}
    item = from_attrs({k: v for k, v in image.items() if k in (schema.PK, schema.SK)})
    sk = str(item.get(schema.SK, ""))
    if not sk.startswith(schema.MAIL_PREFIX):
        return None
    return schema.slug_from_pk(str(item[schema.PK])), sk.removeprefix(schema.MAIL_PREFIX)
