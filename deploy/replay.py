"""`make replay-mail STAGE=...`: once mail stops failing, send all that is unsent and clear the dead letters.

A stream batch that failed ten times lands in the MailDeadLetters queue (and raises its alarm), but
the mail itself never leaves the table: its outbox item stays unsent. Replaying therefore means
delivering every unsent outbox item now, exactly as the sweeper would, and then deleting the dead
letters it accounted for. Mail that still fails stays in the table, and its `last_error` says why;
the dead letters stay too, visible again at once for the next replay. Mail that SES refused for a
setting (a sender the account may not use, sending paused) was held, not failed: it goes back into the
queue first, so the fix and one replay send it all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from chalicelib.config.services import build_services
from chalicelib.config.settings import Settings
from chalicelib.mail.ses import TransientSendError
from chalicelib.usecases.outbox import DynamoOutbox
from deploy.stage import Stage

_NO_WAIT = timedelta(0)


@dataclass(frozen=True)
class Replay:
    """What a replay did."""

    dead_letters: int
    sent: int
    still_failing: bool
    released: int = 0  # held mail (SES refused a setting) put back to be sent


def replay_mail(stage: Stage, session: Any, outputs: dict[str, str]) -> Replay:
    """Deliver every unsent mail of the stage now; delete the dead letters if nothing failed."""
    settings = Settings(
        table_name=outputs["TableName"],
        public_base_url=outputs["PublicUrl"],
        default_sender=stage.sender,
        ses_max_send_rate=stage.ses_max_send_rate,
        ses_configuration_set=outputs.get("MailConfigurationSet"),
        link_key_secret=outputs.get("LinkKeySecretArn"),
    )
    services = build_services(settings, session=session)
    sqs = session.client("sqs")
    queue = outputs["MailDeadLettersUrl"]
    letters = _receive_all(sqs, queue)
    released = DynamoOutbox(services.table).release_held(services.clock.now())
    sent, failing = 0, False
    while True:
        try:
            batch = services.postman.redrive_stalled(services.clock.now(), stalled_after=_NO_WAIT)
        except TransientSendError:
            failing = True
            break
        sent += batch
        if batch == 0:
            break
    for receipt in letters:
        if failing:  # kept, and visible again at once: the next replay accounts for them too
            sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=receipt, VisibilityTimeout=0)
        else:
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=receipt)
    return Replay(dead_letters=len(letters), sent=sent, still_failing=failing, released=released)


def _receive_all(sqs: Any, queue: str) -> list[str]:
    """Receipt handles of every message in the queue (hidden from others for 5 minutes meanwhile)."""
    receipts: list[str] = []
    while True:
        # Long polling (any wait above 0) asks every SQS server; short polling samples some, and can answer
        # "empty" while letters remain ("Amazon SQS short and long polling"). One second keeps the end quick.
        messages = sqs.receive_message(
            QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=300, WaitTimeSeconds=1
        ).get("Messages", [])
        if not messages:
            return receipts
        receipts += [m["ReceiptHandle"] for m in messages]
