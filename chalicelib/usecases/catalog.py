"""Reading the events a deployment serves (upcoming, past, one by slug), and a per-container details cache."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from chalicelib.domain.clock import Clock, iso
from chalicelib.domain.event import STATUS_CLOSED, Event
from chalicelib.domain.event_state import EventState
from chalicelib.domain.ledger import POOL_TAKEN, POOL_WAITING
from chalicelib.store import schema
from chalicelib.store.dynamo import Item, Table

# The organizer's dashboard lists this many ended events; an older one opens by its URL.
PAST_EVENTS_LISTED = 20


def state_from_item(item: Item, event: Event) -> EventState:
    """Build an EventState from the event item (ledger and open state) and the event's details."""
    return EventState(
        event=event,
        seats_taken=int(item.get("seats_taken", 0)),
        closed=item.get("status") == STATUS_CLOSED,
        closed_reason=item.get("closed_reason", ""),
        waiting=int(item.get("waiting", 0)),
        drawn=bool(item.get("drawn_at")),
        hidden=bool(item.get(UNPUBLISHED)),
        draft=bool(item.get(DRAFT)),
        archived=bool(item.get(ARCHIVED)),
        pool_taken={pool: int(n) for pool, n in item.get(POOL_TAKEN, {}).items()},
        pool_waiting={pool: int(n) for pool, n in item.get(POOL_WAITING, {}).items()},
    )


def get_event(table: Table, slug: str) -> EventState | None:
    """The event and its live state, or None if no such event is published (one strongly consistent query)."""
    found = {
        row[schema.SK]: row
        for row in table.query(
            "pk = :pk AND begins_with(sk, :event)", {":pk": schema.event_pk(slug), ":event": schema.EVENT_SK}
        )
    }
    item = found.get(schema.EVENT_SK)
    # Before the details had their own item they were on the event item; publishing moves them.
    details = found.get(schema.DETAILS_SK, item or {}).get("details")
    if item is None or details is None:
        return None
    state = state_from_item(item, Event.from_json(details))
    held = found.get(schema.CHOICES_SK, {}).get("taken", {})
    return dataclasses.replace(state, answers_held={key: int(n) for key, n in held.items()}) if held else state


def upcoming_slugs(table: Table, now: datetime) -> Iterator[str]:
    """Slugs of events that have not ended yet, soonest ending first."""
    return _slugs_by_end(table, "#due >= :now", now)


# Set on an event item while its organizer has it unpublished (publishing.set_published).
UNPUBLISHED = "unpublished_at"
# Set on a new event saved but never published yet (a draft; lifecycle.py), and on an ended one archived.
DRAFT, ARCHIVED = "draft_at", "archived_at"


def upcoming_events(table: Table, now: datetime) -> list[EventState]:
    """Events that have not ended yet, soonest start first (unpublished ones too: callers choose)."""
    return sorted(_states(table, upcoming_slugs(table, now)), key=lambda s: s.event.starts_at)


def public_event(table: Table, slug: str) -> EventState | None:
    """The event as the public may see it: None when unknown or unpublished."""
    state = get_event(table, slug)
    return state if state is not None and not state.hidden else None


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
