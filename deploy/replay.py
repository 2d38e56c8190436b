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

import json
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
    services = _services(stage, session, outputs)
    sqs = session.client("sqs")
    queue = outputs["MailDeadLettersUrl"]
    letters = [receipt for receipt, _ in _receive_all(sqs, queue)]
    released = DynamoOutbox(services.table).release_held(services.clock.now())
    sent, failing = 0, False
    while True:
        try:
            batch = services.postman.redrive_stalled(services.clock.now(), stalled_after=_NO_WAIT, budget=None)
        except TransientSendError:
            failing = True
            break
        sent += batch
        if batch == 0:
            break
    _settle(sqs, queue, letters, failing)
    return Replay(dead_letters=len(letters), sent=sent, still_failing=failing, released=released)


@dataclass(frozen=True)
class JobReplay:
    """What a replay of the jobs did."""

    dead_letters: int
    ran: dict[str, dict[str, int]]  # each job run, and what it reported
    feedback: int  # SES bounce and complaint notices processed again
    still_failing: str  # the job that failed again, and why ('' if none)


def replay_jobs(stage: Stage, session: Any, outputs: dict[str, str]) -> JobReplay:
    """Run every scheduled job once now and process the SES notices that failed; delete the letters if all worked.

    A job's dead letter is the event a run failed on; every job does all that is due whenever it runs and
    is safe to run twice, so one run of each now does what the failed runs left, whatever they were.
    """
    from chalicelib.config.services import use
    from chalicelib.jobs import schedules

    use(_services(stage, session, outputs))
    sqs = session.client("sqs")
    queue = outputs["JobDeadLettersUrl"]
    letters = _receive_all(sqs, queue)
    notices = [body for _, body in letters if body.get("Records")]  # SNS: SES feedback for mail_feedback
    ran: dict[str, dict[str, int]] = {}
    failing = ""
    try:
        for name, job in schedules.SCHEDULED.items():
            ran[name] = job.func(None)
        for notice in notices:
            schedules.mail_feedback(notice, None)  # as Lambda calls it
    except Exception as exc:  # any failure keeps the letters for the next replay, and says why
        failing = f"{type(exc).__name__}: {exc}"
    _settle(sqs, queue, [receipt for receipt, _ in letters], bool(failing))
    return JobReplay(
        dead_letters=len(letters), ran=ran, feedback=len(notices) if not failing else 0, still_failing=failing
    )


def _services(stage: Stage, session: Any, outputs: dict[str, str]) -> Any:
    """The stage's services, as its functions build them, from the stack's outputs."""
    settings = Settings(
        table_name=outputs["TableName"],
        public_base_url=outputs["PublicUrl"],
        default_sender=stage.sender,
        ses_max_send_rate=stage.ses_max_send_rate,
        ses_configuration_set=outputs.get("MailConfigurationSet"),
        link_key_secret=outputs.get("LinkKeySecretArn"),
    )
    return build_services(settings, session=session)


def _settle(sqs: Any, queue: str, receipts: list[str], failing: bool) -> None:
    """Delete the letters a replay accounted for; after a failure keep them, visible again at once."""
    for receipt in receipts:
        if failing:
            sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=receipt, VisibilityTimeout=0)
        else:
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=receipt)


def _receive_all(sqs: Any, queue: str) -> list[tuple[str, dict[str, Any]]]:
    """Every message in the queue as (receipt handle, body), hidden from others for 5 minutes meanwhile."""
    letters: list[tuple[str, dict[str, Any]]] = []
    while True:
        # Long polling (any wait above 0) asks every SQS server; short polling samples some, and can answer
        # "empty" while letters remain ("Amazon SQS short and long polling"). One second keeps the end quick.
        messages = sqs.receive_message(
            QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=300, WaitTimeSeconds=1
        ).get("Messages", [])
        if not messages:
            return letters
        letters += [(m["ReceiptHandle"], _body(m.get("Body", ""))) for m in messages]


def _body(text: str) -> dict[str, Any]:
    try:
        body = json.loads(text)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
