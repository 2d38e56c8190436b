"""Edits that would strand people are caught before they are saved, with how many each would strand.

An organizer may change almost anything; what they may not do is leave registrants holding something
the event no longer has: a 参加区分 or an answer removed while people hold it, a choice's or a mode's
places lowered below its holders, online removed while people take part online. Each such edit is
refused with the count and what to do first (move or cancel those people, then edit), so nobody is
left with a seat the event cannot honour. Moving the date, time or venue is allowed: the event page
then asks the organizer to tell everyone (announcements.py).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from chalicelib.domain.event import ATTENDANCE, VENUE, Event
from chalicelib.domain.questions import answers_of, slot
from chalicelib.domain.registration import RegistrationStatus
from chalicelib.store.dynamo import Table
from chalicelib.text import builder_messages as bmsg
from chalicelib.usecases.roster import entries

ACTIVE = {RegistrationStatus.CONFIRMED.value, RegistrationStatus.WAITLISTED.value, RegistrationStatus.APPLIED.value}


@dataclass(frozen=True)
class Stranding:
    """One edit that would strand people: the builder's field, what to say there, and the file's words."""

    field: str
    said: str  # a message with {count}
    count: int
    problem: str  # in the event file's words (English, as load-events prints)


def strandings(table: Table, before: Event, after: Event) -> list[Stranding]:
    """What saving `after` over `before` would strand, given the registrations as they are now."""
    people = [e.registration for e in entries(table, before.slug) if e.registration.status in ACTIVE]
    if not people:
        return []
    found: list[Stranding] = []
    kept_categories = {c.key for c in after.categories}
    categories = Counter(p.attendee.category for p in people)
    for key in sorted(set(categories) - kept_categories):
        if key in {c.key for c in before.categories}:
            problem = f"categories: {categories[key]} registrations hold {key!r}; move or cancel them first"
            found.append(Stranding("categories", bmsg.STRANDED_CATEGORY, categories[key], problem))
    holders = Counter(s for p in people for s in _chosen(before, p.attendee.answers))
    offered = {slot(q.key, c.key): c.capacity for q in after.questions for c in q.choices}
    for key, count in sorted(holders.items()):
        if key not in offered and not key.startswith(f"{ATTENDANCE}."):
            found.append(Stranding("questions", bmsg.STRANDED_CHOICE, count, f"{key}: {count} registrations hold it"))
        elif 0 < offered.get(key, 0) < count:
            problem = f"{key}: its capacity {offered[key]} is below the {count} registrations holding it"
            found.append(Stranding("questions", bmsg.STRANDED_CHOICE_CAPACITY, count, problem))
    # Anyone who would change between the venue and online without being asked.
    moved = sum(
        before.joins_online(answers_of(p.attendee.answers)) != after.joins_online(answers_of(p.attendee.answers))
        for p in people
    )
    if moved:
        found.append(
            Stranding("online_mode", bmsg.STRANDED_MODE, moved, f"online: {moved} would change how they take part")
        )
    seated = Counter(
        after.pool_of(answers_of(p.attendee.answers)) for p in people if p.status == RegistrationStatus.CONFIRMED.value
    )
    for pool, places in after.pools().items():
        if seated[pool] > places:
            field = "venue_capacity" if pool == VENUE else "online_capacity"
            problem = f"online.{field}: {places} is below the {seated[pool]} seats already taken"
            found.append(Stranding(field, bmsg.STRANDED_MODE_CAPACITY, seated[pool], problem))
    return found


def _chosen(event: Event, stored: str) -> list[str]:
    """Every choice (question.choice) a registration's answers hold, capped or not."""
    answers = answers_of(stored)
    chosen = []
    for q in event.questions:
        answer = answers.get(q.key)
        for key in answer if isinstance(answer, list) else [answer]:
            if isinstance(key, str) and key in {c.key for c in q.choices}:
                chosen.append(slot(q.key, key))
    return chosen
