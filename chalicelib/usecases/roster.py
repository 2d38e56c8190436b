"""The organizer's view of an event's registrations: counts, search and one person's mail history."""

from __future__ import annotations

import dataclasses
import unicodedata
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain.attendee import reading_order, to_katakana
from chalicelib.domain.event import Event
from chalicelib.domain.questions import answers_of
from chalicelib.domain.registration import Registration
from chalicelib.store import schema
from chalicelib.store.dynamo import Item, Table


@dataclass(frozen=True)
class Entry:
    """One registration as the organizer sees it: who, their state, arrival and mail deliverability."""

    registration: Registration
    checked_in_by: str = ""
    email_status: str = ""  # "bounce" or "complaint" once SES reported one
    contact_needed: str = ""  # the kind of mail someone without an address missed, until marked reached
    added_by: str = ""  # the staff member who registered them (phone, FAX, the counter, the door)
    declined_at: str = ""  # when they answered 行けなくなりました to the reconfirmation
    changed_at: str = ""  # their last change of state (moving up, a draw): since when a seat is theirs
    waited_at: str = ""  # when they joined the waiting list, if they ever did (kept after they leave it)

    @property
    def checked_in_at(self) -> str:
        """When they were checked in at the door ('' until then)."""
        return self.registration.checked_in_at

    @classmethod
    def from_item(cls, item: Item) -> Entry:
        """Build from a registration item."""
        return cls(
            registration=Registration.from_item(item),
            checked_in_by=str(item.get("checked_in_by", "")),
            email_status=str(item.get("email_status", "")),
            contact_needed=str(item.get("contact_needed", "")),
            added_by=str(item.get("added_by", "")),
            declined_at=str(item.get("declined_at", "")),
            changed_at=str(item.get("changed_at", "")),
            waited_at=str(item.get("waited_at", "")),
        )


@dataclass(frozen=True)
class Counts:
    """How many registrations are in each state, overall and per category."""

    by_status: Counter[str] = field(default_factory=Counter)
    checked_in: int = 0
    by_category: dict[str, Counter[str]] = field(default_factory=dict)
    by_mode: dict[str, Counter[str]] = field(default_factory=dict)  # a hybrid event's 会場 / オンライン


@dataclass(frozen=True)
class MailRecord:
    """One e-mail sent (or being sent) to a registrant."""

    kind: str
    status: str
    created_at: str
    finished_at: str
    feedback: str
    error: str


def entries(table: Table, slug: str) -> list[Entry]:
    """Every registration of an event, oldest first, read page by page."""
    rows = table.query(
        "pk = :pk AND begins_with(sk, :prefix)", {":pk": schema.event_pk(slug), ":prefix": schema.REG_PREFIX}
    )
    return sorted((Entry.from_item(row) for row in rows), key=lambda e: e.registration.created_at)


def entry(table: Table, slug: str, registration_id: str) -> Entry | None:
    """One registration as the organizer sees it."""
    item = table.get(schema.registration_key(slug, registration_id))
    return Entry.from_item(item) if item else None


def count(found: list[Entry], event: Event | None = None) -> Counts:
    """Counts by state, category and (a hybrid `event`'s) mode; erased registrations count in their state."""
    by_status: Counter[str] = Counter()
    by_category: dict[str, Counter[str]] = {}
    by_mode: dict[str, Counter[str]] = {pool: Counter() for pool in (event.pools() if event else {})}
    checked_in = 0
    for e in found:
        status = e.registration.status
        by_status[status] += 1
        by_category.setdefault(e.registration.attendee.category, Counter())[status] += 1
        if by_mode and event is not None:
            by_mode.setdefault(mode_of(event, e), Counter())[status] += 1
        checked_in += bool(e.checked_in_at)
    return Counts(by_status=by_status, checked_in=checked_in, by_category=by_category, by_mode=by_mode)


def mode_of(event: Event, entry: Entry) -> str:
    """The hybrid event's mode a registration chose ('' for any other event)."""
    return event.pool_of(answers_of(entry.registration.attendee.answers))


def at_the_door(event: Event, found: list[Entry]) -> list[Entry]:
    """The entries 受付 will see in person: everyone but those taking part online."""
    return [e for e in found if not event.joins_online(answers_of(e.registration.attendee.answers))]


def normalise(text: str) -> str:
    """Fold width, case, spaces and kana so that ﾊﾞﾝﾀﾞｲ, ばんだい and バンダイ match one another."""
    # A search typed in hiragana finds katakana and the reverse.
    folded = to_katakana(unicodedata.normalize("NFKC", text).casefold())
    return "".join(folded.split()).replace("-", "")


def search(found: list[Entry], query: str, door: bool = False) -> list[Entry]:
    """Entries whose name, フリガナ, 所属, e-mail or registration number contain the query.

    `door`: the door's search, open to door staff, looks at name, フリガナ and number only, so that it
    cannot be used to learn whether an address (or an organization) registered.
    """
    wanted = normalise(query)
    if not wanted:
        return list(found)
    look = _door_haystack if door else _haystack
    return [e for e in found if wanted in look(e.registration)]


def _haystack(registration: Registration) -> str:
    a = registration.attendee
    return "\n".join(normalise(t) for t in (a.name, a.kana, a.organization, a.email, registration.registration_id))


def _door_haystack(registration: Registration) -> str:
    a = registration.attendee
    return "\n".join(normalise(t) for t in (a.name, a.kana, registration.registration_id))


def in_state(found: list[Entry], status: str) -> list[Entry]:
    """Only the entries in one state ('' keeps all, 'checked_in' keeps those who arrived)."""
    if not status:
        return list(found)
    if status == "checked_in":
        return [e for e in found if e.checked_in_at]
    return [e for e in found if e.registration.status == status]


def mail_history(table: Table, slug: str, registration_id: str) -> list[MailRecord]:
    """Every mail to one registrant, oldest first (reads the event's outbox, filtered on the server)."""
    rows = table.query(
        "pk = :pk AND begins_with(sk, :prefix)",
        {":pk": schema.event_pk(slug), ":prefix": schema.MAIL_PREFIX, ":id": registration_id},
        where="registration_id = :id",
    )
    records = [_mail_record(row) for row in rows]
    return sorted(records, key=lambda r: r.created_at)


def _mail_record(row: dict[str, Any]) -> MailRecord:
    return MailRecord(
        kind=str(row.get("kind", "")),
        status=str(row.get("status", "")),
        created_at=str(row.get("created_at", "")),
        finished_at=str(row.get("finished_at", "")),
        feedback=str(row.get("feedback", "")),
        error=str(row.get("last_error", "")),
    )


# --- the list: filters, order and pages -------------------------------------------------------------

PAGE_SIZE = 50  # cards per page: a phone scrolls through them; 5,000 registrations are 100 pages
SORTS = ("time", "reading", "organization", "state")
_STATE_ORDER = {"confirmed": 0, "waitlisted": 1, "applied": 2, "cancelled": 3}


@dataclass(frozen=True)
class ListQuery:
    """What the organizer asked the list for (every field as it came in the query string)."""

    text: str = ""
    status: str = ""  # a registration state, or 'checked_in'
    category: str = ""
    arrived: str = ""  # 'yes', 'no' or '' for both
    needs: str = ""  # 'yes': only those who asked for an accommodation
    answer: str = ""  # '<question>:<choice>': only those who gave that answer to one of the event's questions
    sort: str = "time"
    page: int = 1

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> ListQuery:
        """Read the query string; anything unknown falls back to the default rather than failing."""
        page = params.get("page", "1")
        sort = params.get("sort", "time")
        return cls(
            text=params.get("q", ""),
            status=params.get("status", ""),
            category=params.get("category", ""),
            arrived=params.get("arrived", "") if params.get("arrived", "") in ("yes", "no") else "",
            needs="yes" if params.get("needs") == "yes" else "",
            answer=params.get("answer", "")[:100],
            sort=sort if sort in SORTS else "time",
            page=int(page) if page.isdigit() and 0 < int(page) < 100_000 else 1,
        )

    def params(self, **changes: Any) -> dict[str, str]:
        """The query string for this list with some fields changed (the pages' links)."""
        chosen = dataclasses.replace(self, **changes)
        raw = {
            "q": chosen.text,
            "status": chosen.status,
            "category": chosen.category,
            "arrived": chosen.arrived,
            "needs": chosen.needs,
            "answer": chosen.answer,
            "sort": chosen.sort if chosen.sort != "time" else "",
            "page": str(chosen.page) if chosen.page != 1 else "",
        }
        return {key: value for key, value in raw.items() if value}


@dataclass(frozen=True)
class ListPage:
    """One page of the filtered, sorted list, and where it stands in the whole."""

    entries: list[Entry]
    total: int  # matching the filters
    page: int
    pages: int

    @property
    def first(self) -> int:
        """Position (from 1) of the page's first entry; 0 when nothing matches."""
        return (self.page - 1) * PAGE_SIZE + 1 if self.total else 0

    @property
    def last(self) -> int:
        """Position of the page's last entry."""
        return self.first + len(self.entries) - 1 if self.total else 0


def select(found: list[Entry], query: ListQuery, door: bool = False) -> ListPage:
    """Filter, sort and cut one page out of an event's entries (`door`: the door's narrower search)."""
    chosen = search(in_state(found, query.status), query.text, door)
    if query.category:
        chosen = [e for e in chosen if e.registration.attendee.category == query.category]
    if query.arrived:
        chosen = [e for e in chosen if bool(e.checked_in_at) == (query.arrived == "yes")]
    if query.needs:
        chosen = [e for e in chosen if e.registration.attendee.needs or e.registration.attendee.needs_note]
    if ":" in query.answer:
        key, _, wanted = query.answer.partition(":")
        chosen = [e for e in chosen if _gave(e, key, wanted)]
    chosen.sort(key=_SORT_KEYS[query.sort])
    pages = max(1, -(-len(chosen) // PAGE_SIZE))
    page = min(query.page, pages)
    return ListPage(chosen[(page - 1) * PAGE_SIZE : page * PAGE_SIZE], len(chosen), page, pages)


def _gave(e: Entry, key: str, wanted: str) -> bool:
    """True if the registration answered `key` with `wanted` (or chose it among several)."""
    answer = answers_of(e.registration.attendee.answers).get(key)
    return answer == wanted or (isinstance(answer, list) and wanted in answer)


def _by_reading(e: Entry) -> tuple[int, str, str]:
    return reading_order(e.registration.attendee, e.registration.registration_id)


_SORT_KEYS: dict[str, Any] = {
    "time": lambda e: (e.registration.created_at, e.registration.registration_id),
    "reading": _by_reading,
    "organization": lambda e: (normalise(e.registration.attendee.organization), _by_reading(e)),
    "state": lambda e: (_STATE_ORDER.get(e.registration.status, 9), _by_reading(e)),
}
