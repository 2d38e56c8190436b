"""Reminders: fanned out once per registrant into the mail outbox (publishing.py schedules them).

The reconfirmation's steps (ask, ask again, release) share the reminders' schedule and run here too
(reconfirmation.py), each once, as does keeping the 実施報告 before the registrations are erased (report.py).

Fan-out writes one outbox item per registrant with a deterministic id and `attribute_not_exists`,
so running the job twice, or two copies at once, creates each reminder exactly once. Sending is
left to the outbox's stream consumer, which paces itself to the SES rate: the scheduled function
only writes items and finishes in seconds, even for thousands of registrants.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain.clock import iso
from chalicelib.domain.event import REPORT_KEPT
from chalicelib.store import schema
from chalicelib.store.dynamo import Item, Table
from chalicelib.usecases import catalog, reconfirmation, report
from chalicelib.usecases.isolation import each
from chalicelib.usecases.outbox import MailKind, mail_item, put_all_new, reminder_id
from chalicelib.usecases.registrations import confirmed_registration_ids

# States of one reminder item. Publishing writes it pending; this module moves it on.
REMINDER_PENDING = "pending"
REMINDER_FANNED_OUT = "fanned_out"
REMINDER_SKIPPED = "skipped"  # the event had already started when the job got to it


@dataclass(frozen=True)
class FanOut:
    """What one reminder's fan-out did."""

    slug: str
    reminder: str
    registrants: int
    created: int


def send_due_reminders(table: Table, now: datetime) -> list[FanOut]:
    """Fan out every reminder that is due; safe to run twice or concurrently."""

    def one(row: Item) -> FanOut | None:
        slug = schema.slug_from_pk(row[schema.PK])
        reminder = row[schema.SK].removeprefix(schema.REMINDER_PREFIX)
        state = catalog.get_event(table, slug)
        if state is not None and reminder == REPORT_KEPT:  # after the event, whatever became of it
            report.keep(table, state.event, now)
            _finish(table, slug, reminder, REMINDER_FANNED_OUT, now, 0)
            return None
        if state is None or now >= state.event.starts_at or state.cancelled:
            _finish(table, slug, reminder, REMINDER_SKIPPED, now, 0)
            return None
        if reminder in state.event.attendance_schedule():
            done = reconfirmation.run_due(table, state.event, reminder, now)
            _finish(table, slug, reminder, REMINDER_FANNED_OUT, now, done)
            return FanOut(slug=slug, reminder=reminder, registrants=done, created=done)
        return _fan_out(table, slug, reminder, state.event.reminder_schedule().get(reminder, now), now)

    rows = list(schema.due_by(table, schema.QUEUE_REMINDER, now))
    done = each("send_reminders", rows, one, lambda row: f"{row[schema.PK]} {row[schema.SK]}")
    return [fan_out for fan_out in done if fan_out is not None]


def _fan_out(table: Table, slug: str, reminder: str, due: datetime, now: datetime) -> FanOut:
    registration_ids = confirmed_registration_ids(table, slug)
    created = put_all_new(
        table,
        (
            mail_item(
                slug,
                reminder_id(reminder, registration_id),
                MailKind.REMINDER,
                now,
                registration_id,
                reminder=reminder,
                reminder_due=iso(due),
            )
            for registration_id in registration_ids
        ),
    )
    _finish(table, slug, reminder, REMINDER_FANNED_OUT, now, len(registration_ids))
    return FanOut(slug=slug, reminder=reminder, registrants=len(registration_ids), created=created)


def _finish(table: Table, slug: str, reminder: str, status: str, now: datetime, count: int) -> None:
    table.update(
        schema.reminder_key(slug, reminder),
        "SET #status = :status, finished_at = :now, registrants = :count REMOVE #queue, #due",
        values={":status": status, ":now": iso(now), ":count": count},
        names={"#status": "status", "#queue": schema.QUEUE, "#due": schema.DUE},
    )
