"""The one retry policy for lost races: bounded, jittered, loud when it gives up, and quiet about people."""

from __future__ import annotations

import logging

import pytest

from chalicelib.store.dynamo import ServerBusy, Table
from chalicelib.store.retry import LostRace, RetryPolicy, StillContended


def test_a_lost_race_is_tried_again_after_a_jittered_pause_within_the_cap() -> None:
    pauses: list[float] = []
    tries = iter([LostRace(), LostRace(), "done"])

    def attempt() -> str:
        outcome = next(tries)
        if isinstance(outcome, LostRace):
            raise outcome
        return outcome

    assert RetryPolicy(attempts=5, base_delay=0.02, sleep=pauses.append).run(attempt, "x") == "done"
    assert len(pauses) == 2 and 0 <= pauses[0] <= 0.02 and 0 <= pauses[1] <= 0.04


def test_running_out_of_tries_raises_and_logs_what_was_tried_not_who(caplog: pytest.LogCaptureFixture) -> None:
    pauses: list[float] = []
    calls = []

    def always_lost() -> None:
        calls.append(1)
        raise LostRace

    caplog.set_level(logging.WARNING, logger="chalicelib.store.retry")
    policy = RetryPolicy(attempts=30, base_delay=0.02, max_delay=1.0, sleep=pauses.append)
    with pytest.raises(StillContended, match="cancelling R000000001 of cdo-seminar"):
        policy.run(always_lost, "cancelling R000000001 of cdo-seminar")
    assert len(calls) == 30 and len(pauses) == 29  # no pause after the last try
    assert max(pauses) <= 1.0 and sum(pauses) <= 29 * 1.0
    assert [r.getMessage() for r in caplog.records] == [
        "gave up after 30 lost races: cancelling R000000001 of cdo-seminar"
    ]


def test_other_errors_are_not_retried() -> None:
    calls = []

    def broken() -> None:
        calls.append(1)
        raise ValueError("a bug, not a race")

    with pytest.raises(ValueError):
        RetryPolicy(sleep=lambda _: None).run(broken, "x")
    assert calls == [1]


def test_a_transaction_answered_with_a_server_error_is_read_again_and_retried() -> None:
    """AWS documents InternalServerError as worth retrying; DynamoDB Local gives it when a lock waits too long."""
    from botocore.exceptions import ClientError

    class Busy:
        def transact_write_items(self, **_: object) -> None:
            raise ClientError({"Error": {"Code": "InternalServerError", "Message": "lock wait"}}, "TransactWriteItems")

    action = {"Put": {"TableName": "t", "Item": {"pk": "E#x", "sk": "META"}}}
    with pytest.raises(ServerBusy):
        Table(Busy(), "t").transact([action])
    tries = iter([ServerBusy("lock wait"), "done"])

    def attempt() -> str:
        outcome = next(tries)
        if isinstance(outcome, ServerBusy):
            raise outcome
        return outcome

    assert RetryPolicy(attempts=3, sleep=lambda _: None).run(attempt, "x") == "done"
