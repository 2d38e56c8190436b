"""The organizer's view of an event's registrations: counts, search and one person's mail history."""

from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain.attendee import to_katakana
from chalicelib.domain.registration import Registration
from chalicelib.store import schema
from chalicelib.store.dynamo import Item, Table


@dataclass(frozen=True)
class Entry:
    """One registration as the organizer sees it: who, their state, arrival and mail deliverability."""

    registration: Registration
    checked_in_at: str = ""
    checked_in_by: str = ""
    email_status: str = ""  # "bounce" or "complaint" once SES reported one

    @classmethod
    def from_item(cls, item: Item) -> Entry:
        """Build from a registration item."""
        return cls(
            registration=Registration.from_item(item),
            checked_in_at=str(item.get("checked_in_at", "")),
            checked_in_by=str(item.get("checked_in_by", "")),
            email_status=str(item.get("email_status", "")),
        )


@dataclass(frozen=True)
class Counts:
    """How many registrations are in each state, overall and per category."""

    by_status: Counter[str] = field(default_factory=Counter)
    checked_in: int = 0
    by_category: dict[str, Counter[str]] = field(default_factory=dict)


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


def count(found: list[Entry]) -> Counts:
    """Counts by state and category; erased registrations count in their state but show no name."""
    by_status: Counter[str] = Counter()
    by_category: dict[str, Counter[str]] = {}
    checked_in = 0
    for e in found:
        status = e.registration.status
        by_status[status] += 1
        by_category.setdefault(e.registration.attendee.category, Counter())[status] += 1
        checked_in += bool(e.checked_in_at)
    return Counts(by_status=by_status, checked_in=checked_in, by_category=by_category)


def normalise(text: str) -> str:
    """Fold width, case, spaces and kana so that ﾊﾞﾝﾀﾞｲ, ばんだい and バンダイ match one another."""
    # A search typed in hiragana finds katakana and the reverse.
    folded = to_katakana(unicodedata.normalize("NFKC", text).casefold())
    return "".join(folded.split()).replace("-", "")


def search(found: list[Entry], query: str) -> list[Entry]:
    """Entries whose name, フリガナ, 所属, e-mail or registration number contain the query."""
    wanted = normalise(query)
    if not wanted:
        return list(found)
    return [e for e in found if wanted in _haystack(e.registration)]


def _haystack(registration: Registration) -> str:
    a = registration.attendee
    return "\n".join(normalise(t) for t in (a.name, a.kana, a.organization, a.email, registration.registration_id))


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
