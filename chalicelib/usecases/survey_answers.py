"""アンケートの回答: taking one answer per registration, and counting them for the organizer.

An answer and the mark that its registration has answered are written in one transaction, the mark
only if it is not there yet: a second send, or a second tab, saves nothing more. When the survey is
anonymous (the default) the answer item holds no registration id, no name, no language (the one
English speaker of a small event would be known by it) and no time finer than the day, and the mark
holds no answer id, so nothing the organizer can see ties an answer to a person. Both expire with the
event's personal data (DynamoDB's TTL); the 実施報告 keeps only the counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from chalicelib.domain.event import Event
from chalicelib.domain.ids import IdGenerator
from chalicelib.domain.questions import LONG_TEXT, MULTIPLE, SCALE, SCALE_POINTS, TEXT, Question, answers_of, stored
from chalicelib.domain.registration import Registration, RegistrationStatus, display_number
from chalicelib.store import schema
from chalicelib.store.dynamo import Item, Table, TransactionCancelled, put_new
from chalicelib.text.i18n import N_, gettext
from chalicelib.usecases.roster import entries

LIST = "survey"  # the answers' name among the lists to export (the organizer's page, manage.py export --list)


class Outcome(StrEnum):
    """Whether an answer may be given, or how giving it ended."""

    SAVED = "saved"
    ALREADY = "already"  # this registration has answered
    CLOSED = "closed"  # no survey, not open yet, or closed
    NOT_SEATED = "not_seated"  # only people who held a seat are asked


def refusal(event: Event, registration: Registration, now: datetime) -> Outcome | None:
    """Why this registrant may not answer now (None: they may, unless they have answered already)."""
    if event.survey is None or not event.survey.is_open(event.starts_at, now):
        return Outcome.CLOSED
    if registration.status != RegistrationStatus.CONFIRMED.value or registration.erased:
        return Outcome.NOT_SEATED
    return None


def answered(table: Table, slug: str, registration_id: str) -> bool:
    """Whether this registration has answered the survey."""
    return table.get(schema.surveyed_key(slug, registration_id)) is not None


def submit(
    table: Table, event: Event, registration: Registration, answers: Mapping[str, Any], now: datetime, ids: IdGenerator
) -> Outcome:
    """Save one registration's answer, once; the answers were checked against the survey's questions."""
    refused = refusal(event, registration, now)
    if refused is not None or event.survey is None:
        return refused or Outcome.CLOSED
    expires = int(event.personal_data_expires_at.timestamp())
    answer: dict[str, Any] = {
        **schema.survey_answer_key(event.slug, ids()),
        "answers": stored(answers),
        "answered_on": now.astimezone(event.tz).date().isoformat(),  # the day only: a time could name the person
        schema.TTL_ATTRIBUTE: expires,
    }
    if not event.survey.anonymous:
        answer["registration_id"] = registration.registration_id
    mark = {**schema.surveyed_key(event.slug, registration.registration_id), schema.TTL_ATTRIBUTE: expires}
    try:
        table.transact([put_new(mark), put_new(answer)])
    except TransactionCancelled as exc:
        if exc.reasons[0].code == "ConditionalCheckFailed":
            return Outcome.ALREADY
        raise
    return Outcome.SAVED


def answer_items(table: Table, slug: str) -> list[Item]:
    """Every answer to the event's survey, read page by page."""
    rows = table.query(
        "pk = :pk AND begins_with(sk, :prefix)",
        {":pk": schema.event_pk(slug), ":prefix": schema.SURVEY_ANSWER_PREFIX},
    )
    return list(rows)


@dataclass(frozen=True)
class Tally:
    """One question's results: how many answered it, per choice or point, the average of a scale, the texts."""

    question: Question
    answered: int = 0
    counts: dict[str, int] = field(default_factory=dict)  # choice key (or scale point) -> answers, in order
    labels: dict[str, str] = field(default_factory=dict)  # choice key -> its label
    average: float | None = None  # a scale's mean
    texts: tuple[str, ...] = ()  # free text, as given

    @property
    def most(self) -> int:
        """The largest count (for drawing bars to scale)."""
        return max(self.counts.values(), default=0)


def tally(asked: Iterable[Question], items: Iterable[Item]) -> list[Tally]:
    """Counts and averages per question, free text listed."""
    given = [answers_of(str(item.get("answers", ""))) for item in items]
    return [_tally(q, [a[q.key] for a in given if a.get(q.key) not in (None, "", [])]) for q in asked]


def _tally(q: Question, values: list[Any]) -> Tally:
    if q.kind in (TEXT, LONG_TEXT):
        return Tally(q, len(values), texts=tuple(str(v) for v in values))
    if q.kind == SCALE:
        counts = Counter(str(v) for v in values)
        points = [int(v) for v in values if str(v) in SCALE_POINTS]
        average = sum(points) / len(points) if points else None
        return Tally(q, len(values), {p: counts.get(p, 0) for p in SCALE_POINTS}, {p: p for p in SCALE_POINTS}, average)
    keys = [c.key for c in q.choices] if q.choices else ["yes", "no"]
    labels = {c.key: c.label for c in q.choices} or {"yes": q.shown("yes"), "no": q.shown("no")}
    chosen = Counter(k for v in values for k in (v if q.kind == MULTIPLE and isinstance(v, list) else [v]))
    return Tally(q, len(values), {k: chosen.get(k, 0) for k in keys}, labels)


def rows(event: Event, items: Iterable[Item], names: Mapping[str, Registration] | None = None) -> list[list[str]]:
    """Every answer as a row for CSV or XLSX; a named survey adds who answered (`names`: their registrations)."""
    asked = event.survey.questions if event.survey else ()
    named = event.survey is not None and not event.survey.anonymous
    heading = [q.label for q in asked]
    if named:
        heading = [gettext(N_("受付番号")), gettext(N_("氏名")), *heading]
    body = []
    for item in sorted(items, key=lambda i: (str(i.get("answered_on", "")), str(i[schema.SK]))):
        given = answers_of(str(item.get("answers", "")))
        row = [q.shown(given.get(q.key)) for q in asked]
        if named:
            rid = str(item.get("registration_id", ""))
            who = (names or {}).get(rid)
            row = [display_number(rid) if rid else "", who.attendee.name if who else "", *row]
        body.append(row)
    return [heading, *body]


def export(table: Table, event: Event) -> list[list[str]]:
    """Every answer of the event's survey as rows (CSV on the organizer's page, XLSX from manage.py)."""
    names = None
    if event.survey is not None and not event.survey.anonymous:
        names = {e.registration.registration_id: e.registration for e in entries(table, event.slug)}
    return rows(event, answer_items(table, event.slug), names)
