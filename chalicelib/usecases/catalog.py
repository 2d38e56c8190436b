"""The events a deployment serves: publishing event files into the table and reading them back."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from chalicelib.domain.clock import Clock, iso
from chalicelib.domain.event import Event, EventState
from chalicelib.domain.ledger import Ledger
from chalicelib.store import schema
from chalicelib.store.dynamo import ConditionFailed, Item, Table, TransactionCancelled

STATUS_OPEN = "open"
# Publishing competes with registrations for the event item; in a rush a few rounds are enough.
_LEDGER_ATTEMPTS = 50
STATUS_CLOSED = "closed"
# The organizer's dashboard lists this many ended events; an older one opens by its URL.
PAST_EVENTS_LISTED = 20

# States of one reminder item. Publishing writes it pending; reminders.py moves it on.
REMINDER_PENDING = "pending"
REMINDER_FANNED_OUT = "fanned_out"
REMINDER_SKIPPED = "skipped"  # the event had already started when the job got to it


def publish_event(table: Table, event: Event, now: datetime) -> EventState:
    """Create or update an event's details and reminder schedule; never resets its seat counter.

    An event the closer closed opens again if the new details give it room (more seats, a later
    deadline): that is what an organizer editing a closed event wants.
    """
    draw = "draw_at = :draw_at" if event.draw_at else ""
    table.update(
        schema.event_key(event.slug),
        "SET details = :details, seat_limit = :capacity, closes_at = :closes_at, #queue = :queue, #due = :due,"
        " #status = if_not_exists(#status, :open), version = if_not_exists(version, :zero),"
        " seats_taken = if_not_exists(seats_taken, :zero), waiting = if_not_exists(waiting, :zero),"
        " committed = if_not_exists(committed, :zero),"
        " taken_by = if_not_exists(taken_by, :none), waiting_by = if_not_exists(waiting_by, :none),"
        " reserved = if_not_exists(reserved, :none)" + (f", {draw}" if draw else " REMOVE draw_at"),
        values={
            ":details": event.to_json(),
            ":capacity": event.capacity,
            ":closes_at": iso(event.registration_closes_at),
            ":queue": schema.QUEUE_EVENT,
            # Sorted by end, so the listing and the closer can skip finished events cheaply.
            ":due": iso(event.ends_at),
            ":zero": 0,
            ":none": {},
            ":open": STATUS_OPEN,
            **({":draw_at": iso(event.draw_at)} if event.draw_at else {}),
        },
        names={"#queue": schema.QUEUE, "#due": schema.DUE, "#status": "status"},
    )
    item = _apply_reservations(table, event, now)
    if item.get("status") == STATUS_CLOSED:
        item = reopen_if_room(table, event.slug, now) or item
    _schedule_reminders(table, event)
    return state_from_item(item)


def _apply_reservations(table: Table, event: Event, now: datetime) -> Item:
    """Bring the seat ledger in line with the file's categories and reservations; returns the event item."""
    for _attempt in range(_LEDGER_ATTEMPTS):
        item = table.get(schema.event_key(event.slug))
        if item is None:
            raise RuntimeError(f"event {event.slug} vanished while it was being published")
        ledger = Ledger.from_item(item)
        wanted = ledger.with_reservations([c.key for c in event.categories], event.reservations(now))
        if wanted == ledger:
            return item
        try:
            table.transact([wanted.write(event.slug)])
        except TransactionCancelled as exc:
            if not exc.only_condition_failures:
                raise
            continue  # a registration changed the counters meanwhile: compute again
    raise RuntimeError(f"{event.slug}: the seats kept changing while its reservations were saved; load it again")


def _schedule_reminders(table: Table, event: Event) -> None:
    """Write the event's reminder items; reminders already fanned out are left as they are."""
    schedule = event.reminder_schedule()
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


def reopen_if_room(table: Table, slug: str, now: datetime) -> Item | None:
    """Open a closed event again if a seat is free and its deadline has not passed; its item if it did."""
    try:
        return table.update(
            schema.event_key(slug),
            "SET #status = :open REMOVE closed_reason, closed_at",
            values={":open": STATUS_OPEN, ":closed": STATUS_CLOSED, ":now": iso(now)},
            names={"#status": "status"},
            condition="#status = :closed AND closes_at > :now AND seats_taken < seat_limit",
        )
    except ConditionFailed:
        return None


def state_from_item(item: Item) -> EventState:
    """Build an EventState from an event item."""
    return EventState(
        event=Event.from_json(item["details"]),
        seats_taken=int(item.get("seats_taken", 0)),
        closed=item.get("status") == STATUS_CLOSED,
        closed_reason=item.get("closed_reason", ""),
        waiting=int(item.get("waiting", 0)),
        drawn=bool(item.get("drawn_at")),
    )


def get_event(table: Table, slug: str) -> EventState | None:
    """The event and its live state, or None if no such event is published."""
    item = table.get(schema.event_key(slug))
    return state_from_item(item) if item else None


def upcoming_slugs(table: Table, now: datetime) -> Iterator[str]:
    """Slugs of events that have not ended yet, soonest ending first."""
    return _slugs_by_end(table, "#due >= :now", now)


def upcoming_events(table: Table, now: datetime) -> list[EventState]:
    """Events that have not ended yet, soonest start first."""
    return sorted(_states(table, upcoming_slugs(table, now)), key=lambda s: s.event.starts_at)


def past_events(table: Table, now: datetime, limit: int = PAST_EVENTS_LISTED) -> list[EventState]:
    """The events that ended most recently, latest first: organizers still export and follow up on them."""
    return _states(table, _slugs_by_end(table, "#due < :now", now, limit=limit, descending=True))


def _slugs_by_end(
    table: Table, ended: str, now: datetime, limit: int | None = None, descending: bool = False
) -> Iterator[str]:
    """Slugs of events in the order they end (the `by-due` index holds each event's end), as `ended` selects."""
    rows = table.query(
        f"#queue = :queue AND {ended}",
        {":queue": schema.QUEUE_EVENT, ":now": iso(now)},
        names={"#queue": schema.QUEUE, "#due": schema.DUE},
        index=schema.BY_DUE_INDEX,
        limit=limit,
        descending=descending,
    )
    return (schema.slug_from_pk(row[schema.PK]) for row in rows)


def _states(table: Table, slugs: Iterable[str]) -> list[EventState]:
    return [state for state in (get_event(table, slug) for slug in slugs) if state]


# Organizers' edits to an event file show on forms within this long. Seat state is never cached:
# the registration transaction checks it atomically, so a stale copy cannot oversell.
DETAILS_TTL = timedelta(seconds=30)


class EventDetails:
    """Per-container cache of event details, so a registration needs no read before its transaction."""

    def __init__(self, table: Table, clock: Clock, ttl: timedelta = DETAILS_TTL) -> None:
        self._table = table
        self._clock = clock
        self._ttl = ttl
        self._cache: dict[str, tuple[datetime, Event]] = {}

    def get(self, slug: str) -> Event | None:
        """The event's details, read at most once per TTL; unknown slugs are not remembered."""
        now = self._clock.now()
        cached = self._cache.get(slug)
        if cached and now - cached[0] < self._ttl:
            return cached[1]
        state = get_event(self._table, slug)
        if state is None:
            self._cache.pop(slug, None)
            return None
        self._cache[slug] = (now, state.event)
        return state.event
