"""Editing an event in the browser: its file's text, checked exactly as `manage.py load-events` checks it.

The editor works on the event file's own format (domain/event_file/, written back by
domain/event_file/writer.py), so one strict format holds for both, and whatever loads from a file can be
edited and whatever is saved can be exported again. Saving publishes through publishing.load_event:
more seats move the line up at once; fewer seats than are taken is refused with the count.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from chalicelib.domain.event import Event, EventFileError
from chalicelib.domain.event_file import parse_event_text
from chalicelib.store.dynamo import Table
from chalicelib.usecases import readings
from chalicelib.usecases.catalog import get_event
from chalicelib.usecases.publishing import Publication, load_event
from chalicelib.usecases.senders import SenderRefusal
from chalicelib.usecases.strandings import Stranding, strandings

MAX_TEXT = 100_000  # an event file is a few KB; this keeps a pasted mistake from filling an item


class Purpose(StrEnum):
    """What the text is for."""

    CREATE = "create"  # a new event (also a duplicate): its slug must be free
    EDIT = "edit"  # the event it was opened from: its slug must stay


@dataclass(frozen=True)
class Checked:
    """The text as the organizer sent it, and either the event it describes or what is wrong with it."""

    text: str
    event: Event | None
    problem: str = ""
    seats_taken: int = 0  # for a refusal to go below the seats taken
    stranded: tuple[Stranding, ...] = ()  # the edits that would strand registrants (strandings.py)
    sender_refused: SenderRefusal | None = None  # the event's own sender cannot send (senders.py)


def check(table: Table, text: str, purpose: Purpose, slug: str = "", sender: SenderCheck | None = None) -> Checked:
    """Parse and check the text against the table: slug free (create) or unchanged (edit), enough seats.

    `sender`: why the event's own sender cannot send (None: it can); asked only when the event names one.
    """
    if len(text) > MAX_TEXT:
        return Checked(text, None, f"the event file is too long ({len(text)} characters; at most {MAX_TEXT})")
    try:
        event = parse_event_text(text)
    except EventFileError as exc:
        return Checked(text, None, str(exc))
    existing = get_event(table, event.slug)
    if purpose is Purpose.CREATE and existing is not None:
        return Checked(text, None, f"slug {event.slug!r} is taken by another event: choose another")
    if purpose is Purpose.EDIT and event.slug != slug:
        return Checked(text, None, f"slug must stay {slug!r} (it is the event's address; duplicate it instead)")
    taken = existing.seats_taken if existing else 0
    if event.capacity < taken:
        return Checked(text, None, f"capacity {event.capacity} is below the {taken} seats already taken", taken)
    stranded = tuple(strandings(table, existing.event, event)) if existing is not None else ()
    if stranded:
        return Checked(text, None, "; ".join(s.problem for s in stranded), taken, stranded)
    refused = sender(event.contact.sender) if sender is not None and event.contact.sender else None
    if refused is not None:
        problem = f"[contact] sender {event.contact.sender!r} cannot send mail here: {SENDER_PROBLEMS[refused]}"
        return Checked(text, None, problem, taken, sender_refused=refused)
    return Checked(text, event, seats_taken=taken)


SenderCheck = Callable[[str], SenderRefusal | None]
# For the file editor (experts): the builder shows the same beside the sender field, in Japanese.
SENDER_PROBLEMS = {
    SenderRefusal.NOT_IN_STACK: "the stack's role may not send as it or its domain (name it in the stage or an"
    " event file and deploy, or use the stage's sender)",
    SenderRefusal.NOT_VERIFIED: "SES has not verified it or its domain for sending in this region",
}


def save(
    table: Table,
    checked: Checked,
    now: datetime,
    draft: bool = False,
    analyzer: Callable[[], readings.Analyzer | None] = readings.sudachi,
) -> Publication:
    """Save a checked event (the caller checked it just now); the line moves up into any new seat.

    `draft`: a new event, kept hidden until its organizer publishes it (lifecycle.publish_draft).
    `analyzer`: where the ふりがな of its words come from (the Services' one: deployed, the readings function).
    """
    if checked.event is None:
        raise ValueError("only a checked event can be saved")
    return load_event(table, checked.event, now, draft=draft, analyzer=analyzer)


def free_slug(table: Table, wanted: str) -> str:
    """`wanted`, or wanted-2, -3 … : the first address no event has (a suggestion for a copy)."""
    candidate, n = wanted, 2
    while get_event(table, candidate) is not None:
        candidate, n = f"{wanted}-{n}", n + 1
    return candidate
