"""Every function that runs without a visitor: EventBridge schedules, the outbox stream, SES feedback, and the
ふりがな the site asks for when an event is saved.

Each is its own Lambda function. Each is safe to run twice or concurrently: the use cases it calls
write conditionally, so a second run finds nothing left to do.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any, TypeVar

from chalice.app import Blueprint, Rate

from chalicelib import telemetry
from chalicelib.config.services import current

# Each job imports its use cases when it runs: the site's function loads this module to register the
# blueprint, and its cold start should not pay for the jobs' modules.

jobs = Blueprint(__name__)
Job = TypeVar("Job", bound=Callable[..., Any])


def logged(name: str) -> Callable[[Job], Job]:
    """One log line per run of the job: what it did (its counts), how long it took, or what failed."""

    def wrap(job: Job) -> Job:
        @functools.wraps(job)
        def run(*args: Any) -> Any:
            started = time.perf_counter()
            with telemetry.counting() as tally:
                try:
                    did = job(*args)
                except Exception as exc:
                    fields = {"job": name, "ok": False, "error": type(exc).__name__, "ms": _since(started)}
                    telemetry.log("job", fields, tally)
                    raise
            fields = {"job": name, "ok": True, "did": did or {}, "ms": _since(started)}
            telemetry.log("job", fields, tally)
            return did

        return run  # type: ignore[return-value]

    return wrap


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


@jobs.schedule(Rate(1, unit=Rate.MINUTES), name="send_reminders")
@logged("send_reminders")
def send_reminders(event: Any) -> dict[str, int]:
    """Fan out every due reminder into the mail outbox."""
    from chalicelib.usecases import reminders

    s = current()
    done = reminders.send_due_reminders(s.table, s.clock.now())
    return {"reminders": len(done), "mails": sum(f.created for f in done)}


@jobs.schedule(Rate(1, unit=Rate.MINUTES), name="send_broadcasts")
@logged("send_broadcasts")
def send_broadcasts(event: Any) -> dict[str, int]:
    """Fan out every broadcast organizers have sent into the mail outbox."""
    from chalicelib.usecases import broadcast

    s = current()
    done = broadcast.fan_out_due(s.table, s.clock.now())
    return {"broadcasts": len(done), "mails": sum(created for _, _, created in done)}


@jobs.schedule(Rate(1, unit=Rate.MINUTES), name="close_registration")
@logged("close_registration")
def close_registration(event: Any) -> dict[str, int]:
    """Close full or past-deadline events and tell their organizers."""
    from chalicelib.usecases import closing

    s = current()
    return {"closed": len(closing.close_registrations(s.table, s.clock.now()))}


@jobs.schedule(Rate(1, unit=Rate.MINUTES), name="draw_lotteries")
@logged("draw_lotteries")
def draw_lotteries(event: Any) -> dict[str, int]:
    """Run the draw of every lottery whose time has come (once; a rerun finishes what a crash left)."""
    from chalicelib.usecases import catalog, lottery

    s = current()
    now = s.clock.now()
    upcoming = catalog.upcoming_events(s.table, now)
    return lottery.draw_due(s.table, [state.event for state in upcoming if not state.cancelled], now)


@jobs.schedule(Rate(5, unit=Rate.MINUTES), name="redrive_mail")
@logged("redrive_mail")
def redrive_mail(event: Any) -> dict[str, int]:
    """Send mail the stream consumer has not managed to send."""
    s = current()
    return {"sent": s.postman.redrive_stalled(s.clock.now())}


# Subscribed by the stack to its own topic, where SES publishes bounces and complaints (deploy/template.py).
@jobs.lambda_function(name="mail_feedback")
@logged("mail_feedback")
def mail_feedback(event: dict[str, Any], context: Any) -> dict[str, int]:
    """Stop mailing addresses that bounced for good or complained, and tell the organizer."""
    from chalicelib.usecases import feedback

    s = current()
    messages = [record.get("Sns", {}).get("Message", "") for record in event.get("Records", [])]
    found = [f for f in map(feedback.parse, messages) if f is not None]
    return {"stopped": sum(feedback.record(s.table, f, s.clock.now()) for f in found)}


# Invoked by the site (Services.analyzer) when an event is saved; deployed with SudachiPy and its dictionary
# as a layer of its own (deploy/readings.py), so that the site's function stays small for attendees.
@jobs.lambda_function(name="read_words")
def read_words(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The reading of every word with kanji in the texts given: {"texts": [...]} → {"readings": {...}}."""
    from chalicelib.usecases import readings

    started = time.perf_counter()
    answer = readings.answer(event)
    telemetry.log(
        "job", {"job": "read_words", "ok": True, "did": {"words": len(answer["readings"])}, "ms": _since(started)}
    )
    return answer


# The stream is the stack's own table's: deploy/template.py merges its ARN into this event source.
@jobs.on_dynamodb_record(stream_arn="", batch_size=25, name="deliver_mail")
@logged("deliver_mail")
def deliver_mail(event: Any) -> None:
    """Send every mail the outbox stream delivers."""
    current().postman.deliver_stream_records(record.to_dict() for record in event)


# The scheduled jobs by name: `make replay-jobs` runs each once after a failure (deploy/replay.py).
SCHEDULED = {
    "send_reminders": send_reminders,
    "send_broadcasts": send_broadcasts,
    "close_registration": close_registration,
    "draw_lotteries": draw_lotteries,
    "redrive_mail": redrive_mail,
}
