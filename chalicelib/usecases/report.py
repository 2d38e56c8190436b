"""実施報告: what a municipality asks after every event, from the registrations, as counts only.

Registrations by category and state, who came (checked in) and the attendance rate per category,
no-shows, seats released for want of an answer, the longest the waiting list was, and the
reconfirmation's figures. People taking part online never pass the door: they are counted apart,
and the attendance rate is over the seats at the venue. The report holds no personal value, so it
is kept (REPORT item, no expiry) when the registrations are erased at the retention time; from then
on the kept one is shown.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.domain.clock import iso, parse_iso
from chalicelib.domain.event import Event
from chalicelib.domain.questions import SCALE, answers_of
from chalicelib.domain.registration import RegistrationStatus
from chalicelib.store import schema
from chalicelib.store.dynamo import Item, Table
from chalicelib.text import messages as msg
from chalicelib.text import report_messages as rmsg
from chalicelib.text.i18n import gettext
from chalicelib.usecases import reconfirmation, survey_answers
from chalicelib.usecases.roster import Entry, entries

_STATES = tuple(s.value for s in RegistrationStatus)


@dataclass(frozen=True)
class Line:
    """One category's (or the total's) figures."""

    label: str
    by_status: dict[str, int] = field(default_factory=dict)  # every registration state, cancelled included
    online: int = 0  # seat holders taking part online (never checked in at the door)
    came: int = 0  # checked in at the door

    @property
    def at_the_venue(self) -> int:
        """Seat holders expected at the door."""
        return self.by_status.get(RegistrationStatus.CONFIRMED.value, 0) - self.online

    @property
    def no_shows(self) -> int:
        """Seat holders at the venue who were not checked in."""
        return max(0, self.at_the_venue - self.came)

    @property
    def rate(self) -> float | None:
        """Who came, of those expected at the venue (None when nobody was)."""
        return self.came / self.at_the_venue if self.at_the_venue else None


@dataclass(frozen=True)
class Report:
    """An event's 実施報告: counts only."""

    title: str
    capacity: int
    made_at: str
    lines: tuple[Line, ...]  # one per category, in the event's order (removed categories after)
    total: Line
    waiting_peak: int  # the longest the waiting list was
    attendance: reconfirmation.Figures | None  # the reconfirmation's figures, if the event asked
    survey: tuple[tuple[str, int, float | None], ...] = ()  # each 1–5 question: (label, answers, average)

    @property
    def made_moment(self) -> datetime:
        """When the counts were taken."""
        return parse_iso(self.made_at)

    def to_json(self) -> str:
        """Serialise for keeping past the retention time."""
        return json.dumps(dataclasses.asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Report:
        """Inverse of to_json()."""
        data = json.loads(text)
        figures = data["attendance"]
        return cls(
            title=data["title"],
            capacity=data["capacity"],
            made_at=data["made_at"],
            lines=tuple(Line(**line) for line in data["lines"]),
            total=Line(**data["total"]),
            waiting_peak=data["waiting_peak"],
            attendance=reconfirmation.Figures(**figures) if figures is not None else None,
            survey=tuple((label, answers, average) for label, answers, average in data.get("survey", [])),
        )


def build(event: Event, found: list[Entry], now: datetime, answers: Iterable[Item] = ()) -> Report:
    """The report of an event from its registrations (and its survey's `answers`) as they are now."""
    keys = [c.key for c in event.categories]
    keys += sorted({e.registration.attendee.category for e in found} - set(keys))
    lines = tuple(
        _line(event, event.category_label(k), [e for e in found if e.registration.attendee.category == k]) for k in keys
    )
    return Report(
        title=event.title,
        capacity=event.capacity,
        made_at=iso(now),
        lines=lines,
        total=_line(event, "", found),
        waiting_peak=waiting_peak(found, now),
        attendance=reconfirmation.figures(found, event) if event.reconfirm_at else None,
        survey=_survey_summary(event, answers),
    )


def _survey_summary(event: Event, answers: Iterable[Item]) -> tuple[tuple[str, int, float | None], ...]:
    """The survey's 1–5 questions: how many answered, and the average (counts only: no text is kept)."""
    if event.survey is None:
        return ()
    tallies = survey_answers.tally(event.survey.questions, answers)
    return tuple((t.question.label, t.answered, t.average) for t in tallies if t.question.kind == SCALE)


def _line(event: Event, label: str, found: list[Entry]) -> Line:
    by_status = Counter(e.registration.status for e in found)
    seated = [e for e in found if e.registration.status == RegistrationStatus.CONFIRMED.value]
    online = sum(event.joins_online(answers_of(e.registration.attendee.answers)) for e in seated)
    return Line(
        label=label,
        by_status={s: by_status.get(s, 0) for s in _STATES},
        online=online,
        came=sum(bool(e.checked_in_at) for e in seated),
    )


def waiting_peak(found: Iterable[Entry], now: datetime) -> int:
    """The most people ever waiting at once: each waited from `waited_at` until they left the line."""
    moves: list[tuple[str, int]] = []
    for e in found:
        if not e.waited_at:
            continue
        still = e.registration.status == RegistrationStatus.WAITLISTED.value
        left = iso(now) if still else (e.changed_at or iso(now))
        moves += [(e.waited_at, 1), (left, -1)]
    peak = waiting = 0
    for _, change in sorted(moves, key=lambda move: (move[0], move[1])):  # leaving before joining at one moment
        waiting += change
        peak = max(peak, waiting)
    return peak


def current(table: Table, event: Event, now: datetime) -> Report:
    """The report now: built from the registrations while they exist, the kept one after they are erased."""
    if now >= event.personal_data_expires_at:  # before then the registrations are there to count
        kept = table.get(schema.report_key(event.slug))
        if kept is not None:
            return Report.from_json(str(kept["report"]))
    return build(event, entries(table, event.slug), now, _answers(table, event))


def _answers(table: Table, event: Event) -> list[Item]:
    return survey_answers.answer_items(table, event.slug) if event.survey else []


def keep(table: Table, event: Event, now: datetime) -> Report:
    """Store the report (counts only, no expiry) before the registrations are erased; safe to repeat."""
    made = build(event, entries(table, event.slug), now, _answers(table, event))
    table.put({**schema.report_key(event.slug), "report": made.to_json(), "kept_at": iso(now)})
    return made


def rows(report: Report) -> list[list[str]]:
    """The report as a table for the municipality's own spreadsheet (CSV)."""
    labels = [gettext(msg.STATUS_LABELS[s]) for s in _STATES]
    heading = [gettext(h) for h in rmsg.REPORT_COLUMNS[:1]] + labels + [gettext(h) for h in rmsg.REPORT_COLUMNS[1:]]
    body = [_row(line, line.label) for line in report.lines]
    body.append(_row(report.total, gettext(rmsg.REPORT_TOTAL)))
    extra = [
        [gettext(rmsg.REPORT_CAPACITY), str(report.capacity)],
        [gettext(rmsg.REPORT_WAITING_PEAK), str(report.waiting_peak)],
    ]
    for label, answers, average in report.survey:
        shown = f"{average:.2f}" if average is not None else ""
        extra.append([gettext(rmsg.REPORT_SURVEY).format(label=label, answers=answers), shown])
    if report.attendance is not None:
        extra += [
            [gettext(label), str(getattr(report.attendance, name))]
            for name, label in rmsg.REPORT_RECONFIRMATION.items()
        ]
    return [heading, *body, [], *extra]


def _row(line: Line, label: str) -> list[str]:
    rate = f"{line.rate * 100:.1f}" if line.rate is not None else ""
    counts = [str(line.by_status.get(s, 0)) for s in _STATES]
    return [label, *counts, str(line.online), str(line.at_the_venue), str(line.came), str(line.no_shows), rate]
