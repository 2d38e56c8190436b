"""Confirmation mail: its content, its calendar file, and delivery that loses nothing and sends once."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from chalicelib.config.settings import SettingsError
from chalicelib.domain.attendee import Attendee
from chalicelib.domain.clock import iso
from chalicelib.domain.event import Event
from chalicelib.domain.registration import display_number
from chalicelib.mail.postman import LEASE
from chalicelib.mail.render import Earlier, Links, build_mime, render_change_notice, render_confirmation
from chalicelib.mail.ses import PermanentSendError, SesMailer, TransientSendError
from chalicelib.store import schema
from chalicelib.usecases.outbox import MailStatus
from chalicelib.usecases.registering import register
from tests.conftest import SENDER, World, attendee, mailbox, registration, registration_id_of

TOKYO = ZoneInfo("Asia/Tokyo")


def taro() -> Attendee:
    return attendee(question="<b>Q</b>")


def text_of(message: Any, subtype: str) -> str:
    part = message.get_body(preferencelist=(subtype,))
    assert part is not None
    return str(part.get_content())


def test_confirmation_carries_every_event_detail(sample_event: Event) -> None:
    mail = render_confirmation(
        sample_event, registration(), Links("https://x.example/events/cdo-seminar"), sample_event.starts_at
    )
    assert mail.subject == "【お申し込み完了】自治体CDO勉強会〜海外のパブリックCDOの取り組みから学ぶDX"
    for body in (mail.text, mail.html):
        for detail in (
            "7K3M9-QXD2A",
            "2027年1月20日(水) 15:00〜18:00",
            "14:30",
            "小川ビル4階（スペースパートナー）",
            "東京都千代田区神田錦町2丁目11番地7",
            "google.com/maps",
            "菅原直敏",
            "質疑・名刺交換",
            "無料",
            "地方公務員",
            "磐梯 太郎",
            "seminar@example.jp",
            "https://x.example/events/cdo-seminar",
        ):
            assert detail in body, detail


def test_user_text_is_escaped_in_html_but_readable_in_text(sample_event: Event) -> None:
    mail = render_confirmation(
        sample_event,
        registration(name="<script>x</script>", question="a & b"),
        Links("https://x.example/e"),
        sample_event.starts_at,
    )
    assert "<script>" not in mail.html and "&lt;script&gt;" in mail.html
    assert "a &amp; b" in mail.html
    assert "<script>x</script>" in mail.text and "a & b" in mail.text


def test_calendar_file_has_the_right_times_and_a_stable_uid(sample_event: Event) -> None:
    first = render_confirmation(sample_event, registration(), Links("https://x.example/e"), sample_event.starts_at)
    later = render_confirmation(
        sample_event, registration(), Links("https://x.example/e"), sample_event.starts_at + timedelta(days=1)
    )
    calendars = [Calendar.from_ical(m.attachments[0].data) for m in (first, later)]
    entries = [next(iter(c.walk("VEVENT"))) for c in calendars]
    start = entries[0].decoded("dtstart")
    assert start.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M") == "2027-01-20 15:00"
    assert entries[0].decoded("dtend").astimezone(TOKYO).strftime("%H:%M") == "18:00"
    assert str(entries[0]["uid"]) == str(entries[1]["uid"]) == "7K3M9QXD2A.cdo-seminar@uketsuke"
    assert "小川ビル4階" in str(entries[0]["location"])
    assert [c.name for c in calendars[0].subcomponents] == ["VTIMEZONE", "VEVENT"]


def test_mime_message_keeps_user_input_out_of_headers(sample_event: Event) -> None:
    import email
    import email.policy

    mail = render_confirmation(sample_event, registration(), Links("https://x.example/e"), sample_event.starts_at)
    raw = build_mime(mail, SENDER, "事務局\r\nBcc: evil@example.com", "taro@example.jp")
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert "Bcc" not in parsed
    assert parsed["From"].addresses[0].addr_spec == SENDER
    assert parsed["From"].addresses[0].display_name == "事務局 Bcc: evil@example.com"
    assert parsed["To"] == "taro@example.jp"


def test_registration_mail_arrives_once_with_text_html_and_ics(world: World, published: Event) -> None:
    register(world.table, published, taro(), "SUB0000001", world.clock.now())
    world.deliver_outbox()
    world.deliver_outbox()  # the stream delivering again changes nothing
    [message] = mailbox()
    assert message["To"] == "taro@example.jp"
    assert "自治体CDO勉強会" in message["Subject"]
    assert "受付番号" in text_of(message, "plain") and "&lt;b&gt;Q&lt;/b&gt;" in text_of(message, "html")
    attached = {part.get_filename(): part.get_content_type() for part in message.iter_attachments()}
    number = display_number(registration_id_of("SUB0000001"))
    assert attached == {"event.ics": "text/calendar", f"check-in-{number}.png": "image/png"}
    [calendar] = [part for part in message.iter_attachments() if part.get_filename() == "event.ics"]
    assert Calendar.from_ical(calendar.get_content()).walk("VEVENT")


def replay_stream_record(world: World) -> list[dict[str, Any]]:
    records = world.pump.poll()
    assert records
    return records


class FlakySes:
    """SES that fails `failures` times (throttled), then sends through the real (moto) SES."""

    def __init__(self, real: SesMailer, failures: int) -> None:
        self.real, self.failures, self.calls = real, failures, 0

    def send(self, raw: bytes, sender: str, to: str, tags: Any = None) -> str:
        self.calls += 1
        if self.calls <= self.failures:
            raise TransientSendError("TooManyRequestsException")
        return self.real.send(raw, sender, to)


def test_ses_failing_then_recovering_sends_exactly_one_mail(world: World, published: Event) -> None:
    postman = world.services.postman
    flaky = FlakySes(postman.mailer, failures=2)  # type: ignore[arg-type]
    postman.mailer = flaky
    result = register(world.table, published, taro(), "SUB0000001", world.clock.now())
    assert result.outcome.value == "registered"  # the registrant sees success while SES is down
    records = replay_stream_record(world)
    for _ in range(2):  # Lambda retries the batch after each failure
        with pytest.raises(TransientSendError):
            postman.deliver_stream_records(records)
        assert mailbox() == []
    postman.deliver_stream_records(records)
    postman.deliver_stream_records(records)  # and once more after success: still one mail
    assert len(mailbox()) == 1 and flaky.calls == 3
    mail = world.table.get(schema.mail_key(published.slug, f"confirmation-{result.registration_id}"))
    assert mail is not None and mail["status"] == "sent" and mail["attempts"] == 3 and "queue" not in mail


def test_a_permanently_rejected_mail_is_marked_and_does_not_block_the_rest(world: World, published: Event) -> None:
    class Rejecting:
        def send(self, raw: bytes, sender: str, to: str, tags: Any = None) -> str:
            if to.startswith("taro"):
                raise PermanentSendError("MessageRejected")
            return real.send(raw, sender, to)

    real = world.services.postman.mailer
    world.services.postman.mailer = Rejecting()
    register(world.table, published, taro(), "SUB0000001", world.clock.now())
    other = attendee(email="hanako@example.jp")
    register(world.table, published, other, "SUB0000002", world.clock.now())
    statuses = world.services.postman.deliver_stream_records(world.pump.poll())
    assert statuses == [MailStatus.FAILED, MailStatus.SENT]
    assert [m["To"] for m in mailbox()] == ["hanako@example.jp"]


def test_unverified_sender_is_a_permanent_failure_from_real_ses(world: World, published: Event) -> None:
    mailer = world.services.postman.mailer
    with pytest.raises(PermanentSendError):
        mailer.send(b"Subject: x\r\n\r\nx", "someone-else@unverified.test", "taro@example.jp")


def test_the_sweeper_sends_what_the_stream_left_behind_and_only_once(world: World, published: Event) -> None:
    register(world.table, published, taro(), "SUB0000001", world.clock.now())
    postman = world.services.postman
    assert postman.redrive_stalled(world.clock.now()) == 0  # too fresh: the stream has it
    later = world.clock.now() + timedelta(minutes=10)
    world.clock.set(later)
    assert postman.redrive_stalled(later) == 1
    assert postman.redrive_stalled(later) == 0
    world.deliver_outbox()  # the stream arriving late finds it sent
    assert len(mailbox()) == 1


def test_a_claim_left_by_a_killed_sender_is_taken_over_only_after_its_lease(world: World, published: Event) -> None:
    result = register(world.table, published, taro(), "SUB0000001", world.clock.now())
    mail_id = f"confirmation-{result.registration_id}"
    # A sender claimed the mail and was killed before it could send or release (Lambda timeout).
    world.table.update(
        schema.mail_key(published.slug, mail_id),
        "SET #s = :sending, lease_until = :lease",
        values={":sending": "sending", ":lease": iso(world.clock.now() + LEASE)},
        names={"#s": "status"},
    )
    postman = world.services.postman
    assert postman.deliver(published.slug, mail_id) is None  # still leased: another sender may be at work
    world.clock.set(world.clock.now() + LEASE + timedelta(seconds=1))
    assert postman.deliver(published.slug, mail_id) is MailStatus.SENT
    assert postman.deliver(published.slug, mail_id) is None
    assert len(mailbox()) == 1


def test_an_unexpected_error_releases_the_claim_for_the_retry(world: World, published: Event) -> None:
    result = register(world.table, published, taro(), "SUB0000001", world.clock.now())
    mail_id = f"confirmation-{result.registration_id}"

    class Crashing:
        def send(self, raw: bytes, sender: str, to: str, tags: Any = None) -> str:
            raise RuntimeError("connection reset")

    postman = world.services.postman
    real, postman.mailer = postman.mailer, Crashing()
    with pytest.raises(RuntimeError):
        postman.deliver(published.slug, mail_id)
    stuck = world.table.get(schema.mail_key(published.slug, mail_id))
    assert stuck is not None and stuck["status"] == "pending"
    assert stuck["last_error"] == "RuntimeError: connection reset"  # operators can see why
    postman.mailer = real
    assert postman.deliver(published.slug, mail_id) is MailStatus.SENT
    assert len(mailbox()) == 1


def test_mail_for_a_registration_that_no_longer_holds_a_seat_is_not_sent(world: World, published: Event) -> None:
    result = register(world.table, published, taro(), "SUB0000001", world.clock.now())
    world.table.update(
        schema.registration_key(published.slug, result.registration_id),
        "SET #s = :gone",
        values={":gone": "cancelled"},
        names={"#s": "status"},
    )
    world.deliver_outbox()
    assert mailbox() == []
    mail = world.table.get(schema.mail_key(published.slug, f"confirmation-{result.registration_id}"))
    assert mail is not None and mail["status"] == "failed"
    assert mail["last_error"] == "a confirmation mail is not sent to a registration that is cancelled"
    assert "queue" not in mail


def test_a_batch_is_delivered_concurrently_and_each_mail_once(world: World, published: Event) -> None:
    for n in range(30):
        register(world.table, published, attendee(email=f"p{n}@example.jp"), f"SUB{n:07d}", world.clock.now())
    records = world.pump.poll()
    statuses = world.services.postman.deliver_stream_records(records + records)  # a duplicated delivery too
    assert statuses.count(MailStatus.SENT) == 30 and statuses.count(None) == 30
    assert sorted(str(m["To"]) for m in mailbox()) == sorted(f"p{n}@example.jp" for n in range(30))


def test_mail_refuses_to_start_without_the_public_url(world: World) -> None:
    # Pages take their prefix from the request; only e-mail links need the configured URL.
    settings = dataclasses.replace(world.services.settings, public_base_url=None)
    services = dataclasses.replace(world.services, settings=settings, _postman=None)
    with pytest.raises(SettingsError, match="UKETSUKE_PUBLIC_BASE_URL is not set"):
        _ = services.postman


STATE_MAILS = [
    ("waitlisted", "【キャンセル待ち受付・2番目】", "現在の順番は 2 番目です", False),
    ("draw_lost", "【抽選結果・キャンセル待ち2番目】", "今回はお席をご用意できませんでした", False),
    ("promoted", "【参加確定】", "キャンセル待ちから", True),
    ("draw_won", "【当選・参加確定】", "抽選の結果、ご参加いただけることになりました", True),
    ("applied", "【抽選申込受付】", "抽選へのお申し込みを受け付けました", False),
    ("cancelled", "【お申し込み取り消し】", "を取り消しました", False),
]


@pytest.mark.parametrize(("kind", "subject", "sentence", "calendar"), STATE_MAILS)
def test_every_state_mail_says_what_happened_with_the_personal_link_and_escapes_names(
    sample_event: Event, kind: str, subject: str, sentence: str, calendar: bool
) -> None:
    from datetime import timedelta

    from chalicelib.mail import render as mail

    event = dataclasses.replace(sample_event, draw_at=sample_event.starts_at - timedelta(days=5))
    someone = registration(name="<script>alert(1)</script>")
    links = Links("https://x.example/events/cdo-seminar", "https://x.example/manage?token=a.b")
    now = event.starts_at - timedelta(days=10)
    rendered = {
        "waitlisted": lambda: mail.render_waitlisted(event, someone, links, 2),
        "draw_lost": lambda: mail.render_waitlisted(event, someone, links, 2, drawn=True),
        "promoted": lambda: mail.render_promoted(event, someone, links, now),
        "draw_won": lambda: mail.render_draw_won(event, someone, links, now),
        "applied": lambda: mail.render_applied(event, someone, links),
        "cancelled": lambda: mail.render_cancelled(event, someone, links, now),
    }[kind]()
    assert rendered.subject.startswith(subject) and event.title in rendered.subject
    text = rendered.text.replace("\n", "")
    assert sentence in text and event.title in text and "7K3M9-QXD2A" in rendered.text
    assert "<script>" not in rendered.html and "&lt;script&gt;" in rendered.html
    if kind != "cancelled":
        assert links.manage_url in rendered.text and links.manage_url in rendered.html
    assert bool(rendered.attachments) is calendar and ("event.ics" in rendered.text) is calendar


def test_the_calendar_file_says_it_is_utf_8(sample_event: Event) -> None:
    import email
    import email.policy

    mail = render_confirmation(sample_event, registration(), Links("https://x.example/e"), sample_event.starts_at)
    parsed = email.message_from_bytes(
        build_mime(mail, SENDER, "事務局", "taro@example.jp"), policy=email.policy.default
    )
    [ics] = [part for part in parsed.walk() if part.get_content_type() == "text/calendar"]
    assert ics.get_content_charset() == "utf-8"
    assert "小川ビル4階" in ics.get_content()


def calendar_of(message: Any) -> Any:
    """The .ics a mail carries, parsed by a second parser, with its MIME part; None if it carries none."""
    for part in message.iter_attachments():
        if part.get_content_type() == "text/calendar":
            return Calendar.from_ical(part.get_payload(decode=True)), part
    return None


def test_a_cancelled_seat_takes_the_event_out_of_the_calendar_and_a_left_place_adds_nothing(
    world: World, sample_event: Event
) -> None:
    from chalicelib.usecases.changes import cancel

    event = world.publish(dataclasses.replace(sample_event, capacity=1))
    now = world.clock.now()
    seat = register(world.table, event, attendee(), "SUB0000001", now).registration_id
    place = register(world.table, event, attendee(email="second@example.jp"), "SUB0000002", now).registration_id
    world.deliver_outbox()
    cancel(world.table, event, place, now)  # leaves the waiting list: never had a calendar entry
    cancel(world.table, event, seat, now)
    world.deliver_outbox()

    def mail_to(address: str, subject: str) -> Any:
        (found,) = [m for m in mailbox() if str(m["To"]) == address and str(m["Subject"]).startswith(subject)]
        return found

    added, _ = calendar_of(mail_to("taro@example.jp", "【お申し込み完了】"))
    assert calendar_of(mail_to("second@example.jp", "【お申し込み取り消し】")) is None
    removed, part = calendar_of(mail_to("taro@example.jp", "【お申し込み取り消し】"))
    assert part.get_param("method") == "CANCEL" and str(removed["METHOD"]) == "CANCEL"
    (first,) = added.walk("VEVENT")
    (second,) = removed.walk("VEVENT")
    assert str(second["UID"]) == str(first["UID"]) and int(second["SEQUENCE"]) > int(first.get("SEQUENCE", 0))
    assert str(second["STATUS"]) == "CANCELLED"


class DenyingSes:
    """SES behind a role that may not send as `denied` (IAM answers AccessDenied); any other sender goes through."""

    def __init__(self, real: Any, denied: str) -> None:
        self.real, self.denied = real, denied

    def send_email(self, **kwargs: Any) -> Any:
        from botocore.exceptions import ClientError

        if kwargs["FromEmailAddress"] == self.denied:
            error = {"Code": "AccessDeniedException", "Message": f"not authorized to send as {self.denied}"}
            raise ClientError({"Error": error}, "SendEmail")
        return self.real.send_email(**kwargs)


def test_a_sender_the_account_may_not_use_holds_its_mail_tells_the_organizer_once_and_replay_sends_it(
    world: World, sample_event: Event
) -> None:
    from chalicelib.usecases.outbox import DynamoOutbox

    own = dataclasses.replace(sample_event.contact, sender="events@other.example")
    event = world.publish(dataclasses.replace(sample_event, contact=own))
    postman = world.services.postman
    real = postman.mailer
    ses = real._inner._client  # type: ignore[attr-defined]  # SesContract(SesMailer(client))
    postman.mailer = SesMailer(DenyingSes(ses, "events@other.example"))  # type: ignore[arg-type]
    for n in (1, 2):
        register(world.table, event, attendee(email=f"p{n}@example.jp"), f"SUB000000{n}", world.clock.now())
    statuses = postman.deliver_stream_records(world.pump.poll())  # no raise: the stream does not loop on it
    assert statuses == [MailStatus.HELD, MailStatus.HELD]
    register(world.table, event, attendee(email="p3@example.jp"), "SUB0000003", world.clock.now())
    assert postman.deliver_stream_records(world.pump.poll()) == [MailStatus.SENT, MailStatus.HELD]  # notice, p3
    assert postman.redrive_stalled(world.clock.now() + timedelta(hours=1)) == 0  # the sweeper leaves held mail
    [notice] = mailbox()  # one, from the stage's own sender, to the organizer
    assert notice["To"] == event.contact.organizer_email and SENDER in str(notice["From"])
    assert str(notice["Subject"]).startswith("【メールを止めています】")
    body = notice.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "AccessDeniedException" in body and "events@other.example" in body and "make replay-mail" in body
    held = world.table.get(schema.mail_key(event.slug, f"confirmation-{registration_id_of('SUB0000001', event.slug)}"))
    assert held is not None and held["status"] == "held" and "AccessDenied" in held["last_error"]
    # The sender is fixed (verified, allowed): one replay sends every held mail, once.
    ses.create_email_identity(EmailIdentity="events@other.example")
    postman.mailer = real
    assert DynamoOutbox(world.table).release_held(world.clock.now()) == 3
    assert postman.redrive_stalled(world.clock.now(), stalled_after=timedelta(0)) == 3
    assert sorted(m["To"] for m in mailbox()[1:]) == ["p1@example.jp", "p2@example.jp", "p3@example.jp"]
    assert DynamoOutbox(world.table).release_held(world.clock.now()) == 0


def test_the_door_qr_code_is_named_in_the_mails_that_attach_it_and_only_those(sample_event: Event) -> None:
    """Seat mails attach the code and say its file's name; a change notice (its calendar entry only) does neither."""
    links = Links("https://x.example/e", check_in_url="https://x.example/check-in/7K3M9QXD2A?sig=abc")
    seat = render_confirmation(sample_event, registration(), links, sample_event.starts_at)
    [image] = [a for a in seat.attachments if a.content_type == "image/png"]
    assert image.filename == "check-in-7K3M9-QXD2A.png"
    for body in (seat.text, seat.html):
        assert "添付の画像（check-in-7K3M9-QXD2A.png）のQRコード" in body
    assert "<img" not in seat.html  # an image beside a few lines of HTML text is what spam filters score
    was = Earlier(sample_event.starts_at, sample_event.ends_at, "旧会場", "旧住所")
    notice = render_change_notice(
        sample_event, registration(), links, was, ("venue_name",), "", sample_event.starts_at, 1
    )
    assert [a.content_type for a in notice.attachments] == ["text/calendar"]
    assert "QRコード" not in notice.text + notice.html
