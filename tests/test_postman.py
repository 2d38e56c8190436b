"""The postman's rules with fakes for what it is handed: the outbox, the composer and the sender. No engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from chalicelib.domain.clock import FixedClock
from chalicelib.mail.compose import Envelope, Undeliverable
from chalicelib.mail.postman import LEASE, STALL_AFTER, Postman, inserted_mail
from chalicelib.mail.render import RenderedMail
from chalicelib.mail.ses import PermanentSendError, TransientSendError
from chalicelib.store.dynamo import Item, to_attrs
from chalicelib.usecases.outbox import MailStatus

NOW = datetime(2027, 1, 10, 1, 0, tzinfo=UTC)


class NoPace:
    """A pace that never waits (the rate is mail/pacing.py's, tested on the table)."""

    rate = 1_000_000.0

    def wait(self) -> None:
        pass


@dataclass
class FakeOutbox:
    """The outbox's state machine in a dict, with the same claim and lease rules as the table's."""

    items: dict[tuple[str, str], Item] = field(default_factory=dict)
    told: list[str] = field(default_factory=list)  # mails the organizer was told could not be built

    def add(self, slug: str, mail_id: str, queued: datetime = NOW, kind: str = "confirmation") -> None:
        self.items[(slug, mail_id)] = {
            "mail_id": mail_id,
            "kind": kind,
            "status": "pending",
            "queued": queued,
            "attempts": 0,
        }

    def tell_organizer_unsendable(self, slug: str, failed: Item, now: datetime) -> None:
        if failed["mail_id"] not in self.told:
            self.told.append(failed["mail_id"])

    def tell_organizer_no_address(self, slug: str, failed: Item, now: datetime) -> None:
        self.tell_organizer_unsendable(slug, failed, now)

    def confirm(self, slug: str, mail_id: str, attempt: int, now: datetime, lease: timedelta) -> bool:
        item = self.items[(slug, mail_id)]
        if item["status"] != "sending" or item["attempts"] != attempt:
            return False
        item["lease_until"] = now + lease
        return True

    def claim(self, slug: str, mail_id: str, now: datetime, lease: timedelta) -> Item | None:
        item = self.items.get((slug, mail_id))
        if item is None:
            return None
        leased_out = item["status"] == "sending" and item["lease_until"] < now
        if item["status"] != "pending" and not leased_out:
            return None
        item.update(status="sending", lease_until=now + lease, attempts=item["attempts"] + 1)
        return dict(item)

    def finish(
        self, slug: str, mail_id: str, status: MailStatus, at: datetime, message_id: str = "", error: str = ""
    ) -> None:
        item = self.items[(slug, mail_id)]
        item.update(status=status.value, message_id=message_id, error=error)
        item.pop("lease_until", None)

    def release(self, slug: str, mail_id: str, error: str) -> None:
        item = self.items[(slug, mail_id)]
        if item["status"] == "sending":
            item.update(status="pending", error=error)
            item.pop("lease_until")

    def waiting_since(self, moment: datetime, limit: int) -> list[tuple[str, str]]:
        due = [key for key, item in self.items.items() if item["status"] != "sent" and item["queued"] <= moment]
        return due[:limit]

    def status(self, slug: str, mail_id: str) -> str:
        return str(self.items[(slug, mail_id)]["status"])


def compose(slug: str, item: Item) -> tuple[RenderedMail, Envelope]:
    """Mail ids say what the fake composer does: 'gone-*' is no longer wanted, 'broken-*' cannot be built,
    'unread-*' meets a DynamoDB error while reading."""
    if item["mail_id"].startswith("gone"):
        raise Undeliverable("the registration no longer exists")
    if item["mail_id"].startswith("broken"):
        "\ud800".encode()  # what stored data from before the text checks could do to a mail
    if item["mail_id"].startswith("unread"):
        raise ClientError({"Error": {"Code": "InternalServerError", "Message": "try again"}}, "GetItem")
    return RenderedMail(subject=item["mail_id"], text="body", html="<p>body</p>"), Envelope(
        to=f"{item['mail_id']}@example.jp", sender="noreply@example.jp", sender_name="uketsuke"
    )


@dataclass
class FakeSes:
    """Records what it sends; `refuse` and `fail_once` pick mails to refuse for good or to fail once."""

    sent: list[str] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    fail_once: set[str] = field(default_factory=set)

    def send(self, raw: bytes, sender: str, to: str, tags: Any = None) -> str:
        mail_id = tags["uketsuke-mail"]
        if mail_id in self.refuse:
            raise PermanentSendError("MessageRejected")
        if mail_id in self.fail_once:
            self.fail_once.discard(mail_id)
            raise TransientSendError("Throttling")
        self.sent.append(mail_id)
        return f"ses-{mail_id}"


def postman(outbox: FakeOutbox, ses: FakeSes, clock: FixedClock) -> Postman:
    return Postman(outbox, compose, ses, clock, NoPace(), sleep=lambda _: None)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


def test_a_mail_is_claimed_sent_and_marked_once(clock: FixedClock) -> None:
    outbox, ses = FakeOutbox(), FakeSes()
    outbox.add("ev", "m1")
    p = postman(outbox, ses, clock)
    assert p.deliver("ev", "m1") is MailStatus.SENT
    assert p.deliver("ev", "m1") is None  # a second delivery of the same record sends nothing
    assert ses.sent == ["m1"]
    assert outbox.items[("ev", "m1")]["message_id"] == "ses-m1"


def test_a_mail_no_longer_wanted_or_refused_for_good_fails_with_its_reason_and_is_not_retried(
    clock: FixedClock,
) -> None:
    outbox, ses = FakeOutbox(), FakeSes(refuse={"m2"})
    outbox.add("ev", "gone1")
    outbox.add("ev", "m2")
    p = postman(outbox, ses, clock)
    assert p.deliver_many([("ev", "gone1"), ("ev", "m2")]) == [MailStatus.FAILED, MailStatus.FAILED]
    assert "no longer exists" in outbox.items[("ev", "gone1")]["error"]
    assert outbox.items[("ev", "m2")]["error"] == "MessageRejected"
    clock.advance(STALL_AFTER + LEASE)
    assert p.redrive_stalled(clock.now()) == 0 and ses.sent == []


def test_a_transient_failure_releases_the_claim_and_the_retry_sends(clock: FixedClock) -> None:
    outbox, ses = FakeOutbox(), FakeSes(fail_once={"m1"})
    outbox.add("ev", "m1")
    p = postman(outbox, ses, clock)
    with pytest.raises(TransientSendError):
        p.deliver("ev", "m1")
    assert outbox.status("ev", "m1") == "pending" and "Throttling" in outbox.items[("ev", "m1")]["error"]
    assert p.deliver("ev", "m1") is MailStatus.SENT and ses.sent == ["m1"]


def test_one_bad_mail_does_not_hold_up_the_batch_which_fails_after_the_rest(clock: FixedClock) -> None:
    outbox, ses = FakeOutbox(), FakeSes(fail_once={"m2"})
    for n in range(1, 6):
        outbox.add("ev", f"m{n}")
    p = postman(outbox, ses, clock)
    with pytest.raises(TransientSendError, match="1 mail"):
        p.deliver_many([("ev", f"m{n}") for n in range(1, 6)])
    assert sorted(ses.sent) == ["m1", "m3", "m4", "m5"]
    assert p.deliver_many([("ev", f"m{n}") for n in range(1, 6)]).count(MailStatus.SENT) == 1
    assert sorted(ses.sent) == ["m1", "m2", "m3", "m4", "m5"]  # each exactly once


def test_a_claim_held_by_a_sender_that_died_is_taken_over_after_its_lease(clock: FixedClock) -> None:
    outbox, ses = FakeOutbox(), FakeSes()
    outbox.add("ev", "m1")
    assert outbox.claim("ev", "m1", clock.now(), LEASE) is not None  # a sender that then dies
    p = postman(outbox, ses, clock)
    clock.advance(STALL_AFTER)
    assert p.redrive_stalled(clock.now()) == 0  # still leased: it may be sending right now
    clock.advance(LEASE)
    assert p.redrive_stalled(clock.now()) == 1
    assert p.redrive_stalled(clock.now()) == 0 and ses.sent == ["m1"]


def test_marking_a_sent_mail_is_retried_when_dynamodb_throttles(clock: FixedClock) -> None:
    outbox, ses = FakeOutbox(), FakeSes()
    outbox.add("ev", "m1")
    real_finish, throttled = outbox.finish, [2]

    def finish(*args: Any, **kwargs: Any) -> None:
        if throttled[0]:
            throttled[0] -= 1
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "slow down"}}, "UpdateItem")
        real_finish(*args, **kwargs)

    outbox.finish = finish  # type: ignore[method-assign]
    assert postman(outbox, ses, clock).deliver("ev", "m1") is MailStatus.SENT
    assert outbox.status("ev", "m1") == "sent" and ses.sent == ["m1"]  # sent once, not released and resent


def _record(event_name: str, pk: str, sk: str) -> dict[str, Any]:
    return {"eventName": event_name, "dynamodb": {"Keys": to_attrs({"pk": pk, "sk": sk})}}


def test_only_newly_inserted_outbox_items_are_delivered_from_the_stream() -> None:
    assert inserted_mail(_record("INSERT", "EVENT#cdo", "MAIL#confirmation-R1")) == ("cdo", "confirmation-R1")
    assert inserted_mail(_record("MODIFY", "EVENT#cdo", "MAIL#confirmation-R1")) is None  # the mark after sending
    assert inserted_mail(_record("INSERT", "EVENT#cdo", "REG#R1")) is None


def test_a_mail_that_cannot_be_built_fails_for_good_and_the_organizer_is_told_once(clock: FixedClock) -> None:
    outbox, ses = FakeOutbox(), FakeSes()
    outbox.add("ev", "broken-1")
    outbox.add("ev", "m2")
    outbox.add("ev", "broken-notice", kind="closed_notice")
    p = postman(outbox, ses, clock)
    statuses = p.deliver_many([("ev", "broken-1"), ("ev", "m2"), ("ev", "broken-notice")])
    assert statuses == [MailStatus.FAILED, MailStatus.SENT, MailStatus.FAILED]  # the batch is not held up
    assert outbox.items[("ev", "broken-1")]["error"].startswith("cannot be built: UnicodeEncodeError")
    assert outbox.told == ["broken-1"]  # organizers are never told about their own notices
    clock.advance(STALL_AFTER + LEASE)
    assert p.redrive_stalled(clock.now()) == 0 and ses.sent == ["m2"]  # never retried


def test_a_read_that_fails_while_composing_is_retried_later(clock: FixedClock) -> None:
    outbox, ses = FakeOutbox(), FakeSes()
    outbox.add("ev", "unread-1")
    with pytest.raises(ClientError):
        postman(outbox, ses, clock).deliver("ev", "unread-1")
    assert outbox.status("ev", "unread-1") == "pending" and outbox.told == []


def test_what_ses_refuses_is_refused_before_sending() -> None:
    from chalicelib.mail.ses import MAX_RAW_BYTES, SesContract, contract_problem

    fine = {"uketsuke-event": "cdo-seminar", "uketsuke-mail": "confirmation-R000000001"}
    assert contract_problem(b"x", "noreply@example.jp", "taro@xn--r8jz45g.jp", fine) == ""
    assert "tag" in contract_problem(
        b"x", "noreply@example.jp", "taro@example.jp", {"uketsuke-mail": "closed-notice-2027-01-10T01:00:00Z"}
    )
    assert "not ASCII" in contract_problem(b"x", "noreply@example.jp", "山田@example.jp", fine)
    assert "not ASCII" in contract_problem(b"x", "noreply@example.jp", "user@例え.jp", fine)
    assert "64" in contract_problem(b"x", "noreply@example.jp", "a" * 65 + "@example.jp", fine)
    assert "base64" in contract_problem(b"x" * (MAX_RAW_BYTES // 4 * 3 + 3), "noreply@example.jp", "t@example.jp", fine)
    assert "tags" in contract_problem(b"x", "noreply@example.jp", "t@example.jp", {f"t{n}": "v" for n in range(51)})
    ses = FakeSes()
    with pytest.raises(PermanentSendError, match="SES would refuse"):
        SesContract(ses).send(b"x", "noreply@example.jp", "山田@example.jp", fine)
    assert ses.sent == []


def test_every_mail_id_can_travel_as_an_ses_tag() -> None:
    from datetime import UTC, datetime

    from chalicelib.mail.ses import contract_problem
    from chalicelib.usecases import outbox

    ids = [
        outbox.closed_notice_id(datetime(2027, 1, 10, 1, 2, 3, 456789, tzinfo=UTC)),
        outbox.confirmation_id("R000000001", resend="ABCDEFGHJK"),
        outbox.reminder_id("d1-1000", "R000000001"),
        outbox.broadcast_mail_id("B1", "R000000001"),
        outbox.unsendable_notice_id("confirmation-R000000001"),
    ]
    for mail_id in ids:
        assert contract_problem(b"x", "a@example.jp", "b@example.jp", outbox.mail_tags("cdo-seminar", mail_id)) == ""
