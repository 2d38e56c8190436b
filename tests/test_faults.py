"""Faults lose nothing: SES and DynamoDB failing a third of the time, batches delivered twice, a crash halfway.

The outcome that matters is checked at the end: every confirmed registrant has exactly one
confirmation, and every registration that was answered "registered" exists.
"""

from __future__ import annotations

import dataclasses
import random
import threading
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from chalicelib.domain.event import Event
from chalicelib.mail.postman import LEASE, STALL_AFTER
from chalicelib.mail.ses import TransientSendError
from chalicelib.store import schema
from chalicelib.usecases.outbox import DynamoOutbox, MailStatus
from chalicelib.usecases.registering import Outcome, register
from tests.conftest import World, mailbox, numbered

FAILURE_RATE = 0.3


class FlakySes:
    """SES that throttles or fails with a 5xx on 30 % of calls (seeded), else sends through moto."""

    def __init__(self, real: Any, seed: int) -> None:
        self.real, self.random, self.lock, self.failed = real, random.Random(seed), threading.Lock(), 0

    def send(self, raw: bytes, sender: str, to: str, tags: Any = None) -> str:
        with self.lock:
            fail = self.random.random() < FAILURE_RATE
            self.failed += fail
        if fail:
            raise TransientSendError(random.choice(["TooManyRequestsException", "InternalFailure"]))
        return str(self.real.send(raw, sender, to, tags))


class FlakyDynamoDB:
    """The low-level DynamoDB client, throttled on 30 % of the outbox's claim and mark calls."""

    def __init__(self, real: Any, seed: int) -> None:
        self.real, self.random, self.lock, self.throttled = real, random.Random(seed), threading.Lock(), 0

    def update_item(self, **kwargs: Any) -> Any:
        with self.lock:
            fail = self.random.random() < FAILURE_RATE
            self.throttled += fail
        if fail:
            error = {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "throttled"}}
            raise ClientError(error, "UpdateItem")  # type: ignore[arg-type]
        return self.real.update_item(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def deliver_until_quiet(world: World, records: list[dict[str, Any]], rounds: int = 40) -> None:
    """Lambda's way: retry each failed batch (and deliver every batch twice); the sweeper catches the rest."""
    postman = world.services.postman
    for _ in range(rounds):
        try:
            postman.deliver_stream_records(records + records)  # a duplicated delivery, every time
            break
        except TransientSendError:
            continue
    for _ in range(rounds):  # the redrive schedule, minutes apart, until nothing is left
        world.clock.set(world.clock.now() + LEASE + STALL_AFTER)
        try:
            postman.redrive_stalled(world.clock.now())
        except TransientSendError:
            continue
        pending = list(
            world.table.query(
                "#q = :q", {":q": schema.QUEUE_MAIL}, names={"#q": schema.QUEUE}, index=schema.BY_DUE_INDEX
            )
        )
        if not pending:
            return
    raise AssertionError("mail still pending after every retry")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_with_a_third_of_all_calls_failing_everyone_gets_exactly_one_confirmation(
    world: World, published: Event, seed: int
) -> None:
    postman = world.services.postman
    postman.mailer = FlakySes(postman.mailer, seed)
    flaky_table = FlakyDynamoDB(world.table.client, seed + 100)
    flaky = type(world.table)(flaky_table, world.table.name)  # only delivery is throttled here
    postman.outbox = DynamoOutbox(flaky)
    postman.compose = dataclasses.replace(postman.compose, table=flaky)  # type: ignore[type-var]
    postman.sleep = lambda _: None
    answered = []
    for n in range(30):
        result = register(world.table, published, numbered(n), f"SUB{n:07d}", world.clock.now())
        assert result.outcome is Outcome.REGISTERED
        answered.append(result.registration_id)
    deliver_until_quiet(world, world.pump.poll())
    received = Counter(str(m["To"]) for m in mailbox())
    assert received == Counter(f"person{n}@example.jp" for n in range(30))  # each exactly once
    assert postman.mailer.failed > 0 and flaky_table.throttled > 0  # type: ignore[attr-defined]
    for rid in answered:
        assert world.table.get(schema.registration_key(published.slug, rid)) is not None
        mail = world.table.get(schema.mail_key(published.slug, f"confirmation-{rid}"))
        assert mail is not None and mail["status"] == MailStatus.SENT.value


def test_a_sender_that_dies_after_claiming_leaves_the_mail_to_the_sweeper(world: World, published: Event) -> None:
    class Dying:
        def send(self, raw: bytes, sender: str, to: str, tags: Any = None) -> str:
            raise SystemExit("the Lambda was killed mid-batch")  # not an Exception: nothing is released

    postman = world.services.postman
    real, postman.mailer = postman.mailer, Dying()
    register(world.table, published, numbered(1), "SUB0000001", world.clock.now())
    records = world.pump.poll()
    with pytest.raises(SystemExit):
        postman.deliver(*_mail_of(records[-1]))
    assert mailbox() == []
    postman.mailer = real
    world.clock.set(world.clock.now() + timedelta(minutes=2))
    assert postman.redrive_stalled(world.clock.now()) == 0  # still leased to the dead sender
    world.clock.set(world.clock.now() + LEASE)
    assert postman.redrive_stalled(world.clock.now()) == 1
    assert postman.redrive_stalled(world.clock.now()) == 0
    assert len(mailbox()) == 1


def _mail_of(record: dict[str, Any]) -> tuple[str, str]:
    image = record["dynamodb"]["NewImage"]
    return schema.slug_from_pk(image["pk"]["S"]), image["sk"]["S"].removeprefix(schema.MAIL_PREFIX)
