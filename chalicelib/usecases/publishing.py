"""Publishing events: an organizer's event file (or, later, the editor) into the table, and the line moved up.

Loading an event is one use case for every way in (`manage.py load-events`, `make run`, `make deploy`):
publish its details, seats and reminders, then give any seat the new details free to the people
waiting longest. Publishing never resets the seat counters, so loading the same file twice changes
nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain.clock import iso
from chalicelib.domain.event import REPORT_KEPT, STATUS_CLOSED, STATUS_OPEN, Event, EventFileError
from chalicelib.domain.event_file import read_event_file
from chalicelib.domain.event_state import EventState
from chalicelib.domain.ledger import RESERVED, TAKEN, WAITING_IN, Ledger
from chalicelib.domain.questions import caps
from chalicelib.store import schema
from chalicelib.store.dynamo import ConditionFailed, Item, Table
from chalicelib.store.retry import PATIENT, LostRace, RetryPolicy, transact_or_lose
from chalicelib.text.display import format_datetime, format_span
from chalicelib.usecases import announcements, choices, readings
from chalicelib.usecases.catalog import DRAFT, UNPUBLISHED, get_event, state_from_item
from chalicelib.usecases.closing import reopen_if_room
from chalicelib.usecases.reminders import REMINDER_PENDING
from chalicelib.usecases.waitlist import settle, write_ledger


@dataclass(frozen=True)
class Publication:
    """What loading one event left in the table."""

    event: Event
    state: EventState
    moved_up: tuple[str, ...]  # registration ids that took seats the new details freed

    def describe(self) -> str:
        """A few lines for the organizer's terminal: dates, seats, deadline, reminders, who moved up."""
        event, state = self.event, self.state
        reminders = ", ".join(format_datetime(due, event.tz) for due in event.reminder_schedule().values())
        status = "closed" if state.closed else "open"
        lines = [
            f"{event.slug}: {event.title}",
            f"  {format_span(event.starts_at, event.ends_at, event.tz)} / {state.seats_taken} of {event.capacity}"
            f" seats taken / registration {status} until {format_datetime(event.registration_closes_at, event.tz)}",
            f"  reminders: {reminders or 'none'}",
        ]
        if state.seats_taken > event.capacity:
            lines.append(
                f"  warning: {state.seats_taken} seats are already taken, more than the new capacity; no one is removed"
            )
        if self.moved_up:
            lines.append(f"  {len(self.moved_up)} moved up from the waiting list")
        if state.waiting:
            lines.append(f"  {state.waiting} waiting")
        return "\n".join(lines)


@dataclass(frozen=True)
class Loaded:
    """The outcome of loading event files: what was published, or every problem found (then nothing is)."""

    publications: tuple[Publication, ...] = ()
    problems: tuple[str, ...] = ()


def load_event_files(table: Table, paths: list[str], now: datetime) -> Loaded:
    """Read every file first and publish only if all are valid, so a typo never leaves half the events loaded."""
    events: list[Event] = []
    problems: list[str] = []
    for path in paths:
        try:
            events.append(read_event_file(path))
        except (EventFileError, OSError) as exc:
            problems.append(f"{path}: {exc}")
    if problems:
        return Loaded(problems=tuple(problems))
    return Loaded(publications=tuple(load_event(table, event, now) for event in events))


def load_event(
    table: Table,
    event: Event,
    now: datetime,
    draft: bool = False,
    analyzer: Callable[[], readings.Analyzer | None] = readings.sudachi,
) -> Publication:
    """Publish one event, then move the line up into any seat it frees (more seats, released reservations).

    `draft`: a new event saved as a draft stays hidden (organizers only) until it is published (lifecycle.py).
    The event is saved with the ふりがな of its words, from `analyzer` (readings.py; deployed, the site's
    Services give the readings function's).
    """
    earlier = get_event(table, event.slug)
    event = readings.complete(event, analyzer(), earlier.event.readings if earlier else ())
    state = publish_event(table, event, now, draft=draft)
    # More seats than before: the people waiting longest take them now, and are told by e-mail.
    moved_up = settle(table, event.slug, now)
    if moved_up:
        state = get_event(table, event.slug) or state
    return Publication(event, state, tuple(moved_up))


def publish_event(
    table: Table, event: Event, now: datetime, retry: RetryPolicy = PATIENT, draft: bool = False
) -> EventState:
    """Create or update an event's details and reminder schedule; never resets its seat counter.

    An event the closer closed opens again if the new details give it room (more seats, a later
    deadline): that is what an organizer editing a closed event wants.
    """
    draw = "draw_at = :draw_at" if event.draw_at else ""
    # The details first: a reader that finds the event item always finds its details too.
    table.put({**schema.details_key(event.slug), "details": event.to_json()})
    removed = ["details"] + ([] if draw else ["draw_at"])  # details lived here before they had their own item
    table.update(
        schema.event_key(event.slug),
        "SET seat_limit = :capacity, closes_at = :closes_at, #queue = :queue, #due = :due,"
        " #status = if_not_exists(#status, :open), version = if_not_exists(version, :zero),"
        " seats_taken = if_not_exists(seats_taken, :zero), waiting = if_not_exists(waiting, :zero),"
        " committed = if_not_exists(committed, :zero),"
        f" {TAKEN} = if_not_exists({TAKEN}, :none), {WAITING_IN} = if_not_exists({WAITING_IN}, :none),"
        f" {RESERVED} = if_not_exists({RESERVED}, :none)"
        + (f", {draw}" if draw else "")
        # A draft is hidden in the very write that creates it: no reader ever finds it public.
        + (
            f", {DRAFT} = if_not_exists({DRAFT}, :now), {UNPUBLISHED} = if_not_exists({UNPUBLISHED}, :now)"
            if draft
            else ""
        )
        + " REMOVE "
        + ", ".join(removed),
        values={
            ":capacity": event.capacity,
            ":closes_at": iso(event.registration_closes_at),
            ":queue": schema.QUEUE_EVENT,
            # Sorted by end, so the listing and the closer can skip finished events cheaply.
            ":due": iso(event.ends_at),
            ":zero": 0,
            ":none": {},
            ":open": STATUS_OPEN,
            **({":draw_at": iso(event.draw_at)} if event.draw_at else {}),
            **({":now": iso(now)} if draft else {}),
        },
        names={"#queue": schema.QUEUE, "#due": schema.DUE, "#status": "status"},
    )
    item = _apply_reservations(table, event, now, retry)
    if item.get("status") == STATUS_CLOSED:
        item = reopen_if_room(table, event.slug, now) or item
    _schedule_reminders(table, event)
    announcements.remember_first(table, event)
    if caps(event.questions):
        counters = choices.counters_exist(event.slug)
        table.update(counters["Key"], counters["UpdateExpression"], values=counters["ExpressionAttributeValues"])
    return state_from_item(item, event)


def _apply_reservations(table: Table, event: Event, now: datetime, retry: RetryPolicy) -> Item:
    """Bring the seat ledger in line with the file's categories, reservations and pools; returns the event item."""

    def attempt() -> Item:
        item = table.get(schema.event_key(event.slug))
        if item is None:
            raise RuntimeError(f"event {event.slug} vanished while it was being published")
        ledger = Ledger.from_item(item)
        categories = [c.key for c in event.categories]
        wanted = ledger.with_reservations(categories, event.reservations(now)).with_pools(event.pools(), categories)
        if wanted == ledger:
            return item
        transact_or_lose(table, [write_ledger(event.slug, wanted)])  # lost: a registration changed the counters
        raise LostRace  # written: read the item as it now is

    return retry.run(attempt, f"saving the reserved seats of {event.slug}")


def _schedule_reminders(table: Table, event: Event) -> None:
    """Write the event's reminder items (and its reconfirmation's steps); those already done are left as they are."""
    schedule = {**event.reminder_schedule(), **event.attendance_schedule(), REPORT_KEPT: event.report_kept_at}
    for key, due in schedule.items():
        try:
            table.update(
                schema.reminder_key(event.slug, key),
                "SET due_at = :due, #queue = :queue, #due = :due, #status = :pending",
                values={":due": iso(due), ":queue": schema.QUEUE_REMINDER, ":pending": REMINDER_PENDING},
                names={"#queue": schema.QUEUE, "#due": schema.DUE, "#status": "status"},
                condition="attribute_not_exists(pk) OR #status = :pending",
            )
        except ConditionFailed:
            continue  # already went out; moving it now would send it twice
    for row in table.query(
        "pk = :pk AND begins_with(sk, :prefix)", {":pk": schema.event_pk(event.slug), ":prefix": schema.REMINDER_PREFIX}
    ):
        name = row[schema.SK].removeprefix(schema.REMINDER_PREFIX)
        if name not in schedule and row.get("status") == REMINDER_PENDING:
            table.delete({schema.PK: row[schema.PK], schema.SK: row[schema.SK]})  # organizer removed it


def set_published(table: Table, slug: str, published: bool, now: datetime) -> bool:
    """Show or hide an event from the public (its page, the list, the API, new registrations); False if unknown.

    Registrations already taken stay as they are, and their own pages and mails keep working.
    """
    try:
        if published:
            table.update(schema.event_key(slug), f"REMOVE {UNPUBLISHED}", condition="attribute_exists(pk)")
        else:
            table.update(
                schema.event_key(slug),
                f"SET {UNPUBLISHED} = :now",
                values={":now": iso(now)},
                condition="attribute_exists(pk)",
            )
    except ConditionFailed:
        return False
    return True
