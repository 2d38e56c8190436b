"""Bounces and complaints, as SES publishes them through SNS: the address is no longer mailed."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from chalice.test import Client

from chalicelib.domain.event import Event
from chalicelib.mail.ses import SesMailer
from chalicelib.store import schema
from chalicelib.usecases.outbox import MailStatus, mail_tags
from chalicelib.usecases.registering import register
from tests.conftest import World, attendee, mailbox

ORGANIZER = "seminar@example.jp"


def ses_event(kind: str, slug: str, mail_id: str, address: str, bounce_type: str = "Permanent") -> str:
    """An SES event as event publishing sends it to SNS (the shape of AWS's documented examples)."""
    mail = {
        "timestamp": "2027-01-10T01:00:00.000Z",
        "source": "noreply@uketsuke.test",
        "sendingAccountId": "123456789012",
        "messageId": "0100018f-example-000000",
        "destination": [address],
        "headersTruncated": False,
        "tags": {
            "ses:configuration-set": ["uketsuke"],
            "ses:from-domain": ["uketsuke.test"],
            **{name: [value] for name, value in mail_tags(slug, mail_id).items()},
        },
    }
    if kind == "Bounce":
        detail: dict[str, Any] = {
            "bounce": {
                "feedbackId": "0100018f-feedback-000000",
                "bounceType": bounce_type,
                "bounceSubType": "General",
                "bouncedRecipients": [
                    {"emailAddress": address, "action": "failed", "status": "5.1.1", "diagnosticCode": "smtp; 550"}
                ],
                "timestamp": "2027-01-10T01:00:05.000Z",
                "reportingMTA": "dns; mx.example.jp",
            }
        }
    else:
        detail = {
            "complaint": {
                "feedbackId": "0100018f-feedback-000001",
                "complainedRecipients": [{"emailAddress": address}],
                "complaintFeedbackType": "abuse",
                "timestamp": "2027-01-10T02:00:00.000Z",
                "arrivalDate": "2027-01-10T02:00:00.000Z",
            }
        }
    return json.dumps({"eventType": kind, "mail": mail, **detail})


def notify(client: Client, message: str) -> dict[str, int]:
    response = client.lambda_.invoke("mail_feedback", client.events.generate_sns_event(message=message))
    return dict(response.payload)


@pytest.fixture
def delivered(world: World, published: Event) -> str:
    """Taro registered and his confirmation went out; returns his registration id."""
    result = register(world.table, published, attendee(), "SUB0000001", world.clock.now())
    world.deliver_outbox()
    return result.registration_id


def test_a_hard_bounce_stops_all_mail_to_the_address_and_tells_the_organizer_once(
    client: Client, world: World, published: Event, delivered: str
) -> None:
    message = ses_event("Bounce", published.slug, f"confirmation-{delivered}", "taro@example.jp")
    assert notify(client, message) == {"stopped": 1}
    assert notify(client, message) == {"stopped": 1}  # SNS delivers at least once: twice is once
    registration = world.table.get(schema.registration_key(published.slug, delivered))
    assert registration is not None and registration["email_status"] == "bounce"
    assert world.table.get(schema.suppression_key("taro@example.jp")) is not None
    world.deliver_outbox()
    notices = [m for m in mailbox() if m["To"] == ORGANIZER]
    assert len(notices) == 1 and str(notices[0]["Subject"]).startswith("【配信エラー】")
    body = notices[0].get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "磐梯 太郎" in body and "taro@example.jp" in body and "今後 uketsuke からメールを送りません" in body
    # The reminders later: nothing goes to the address that bounced.
    from chalicelib.usecases.reminders import send_due_reminders

    world.clock.set(published.starts_at - timedelta(hours=2))
    send_due_reminders(world.table, world.clock.now())
    before = len(mailbox())
    world.deliver_outbox()
    assert len(mailbox()) == before
    reminders = [
        item
        for item in world.table.query(
            "pk = :pk AND begins_with(sk, :p)", {":pk": schema.event_pk(published.slug), ":p": "MAIL#reminder-"}
        )
    ]
    assert reminders and all(r["status"] == MailStatus.FAILED.value for r in reminders)
    assert "bounced or complained" in reminders[0]["last_error"]


def test_a_complaint_stops_mail_too(client: Client, world: World, published: Event, delivered: str) -> None:
    assert notify(client, ses_event("Complaint", published.slug, f"confirmation-{delivered}", "taro@example.jp")) == {
        "stopped": 1
    }
    world.deliver_outbox()
    assert any(str(m["Subject"]).startswith("【迷惑メール報告】") for m in mailbox() if m["To"] == ORGANIZER)


def test_a_soft_bounce_is_only_noted(client: Client, world: World, published: Event, delivered: str) -> None:
    message = ses_event("Bounce", published.slug, f"confirmation-{delivered}", "taro@example.jp", "Transient")
    assert notify(client, message) == {"stopped": 0}
    mail = world.table.get(schema.mail_key(published.slug, f"confirmation-{delivered}"))
    assert mail is not None and mail["feedback"] == "bounce" and mail["feedback_detail"] == "Transient/General"
    assert world.table.get(schema.suppression_key("taro@example.jp")) is None


@pytest.mark.parametrize(
    "message",
    [
        "not json",
        json.dumps([1, 2]),
        json.dumps({"eventType": "Delivery", "mail": {"tags": {}}}),
        json.dumps({"eventType": "Bounce", "mail": {"tags": {"other": ["x"]}}, "bounce": {}}),
    ],
)
def test_messages_about_other_things_are_ignored(client: Client, world: World, message: str) -> None:
    assert notify(client, message) == {"stopped": 0}


def test_every_sent_mail_carries_the_tags_that_feedback_needs() -> None:
    ses = boto3.client("sesv2", region_name="ap-northeast-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(ses) as stub:
        stub.add_response(
            "send_email",
            {"MessageId": "m-1"},
            {
                "FromEmailAddress": "noreply@uketsuke.test",
                "Destination": {"ToAddresses": ["taro@example.jp"]},
                "Content": {"Raw": {"Data": b"raw"}},
                "EmailTags": [
                    {"Name": "uketsuke-event", "Value": "cdo-seminar"},
                    {"Name": "uketsuke-mail", "Value": "confirmation-7K3M9QXD2A"},
                ],
                "ConfigurationSetName": "uketsuke",
            },
        )
        mailer = SesMailer(ses, "uketsuke")
        tags = mail_tags("cdo-seminar", "confirmation-7K3M9QXD2A")
        assert mailer.send(b"raw", "noreply@uketsuke.test", "taro@example.jp", tags) == "m-1"
