"""Lists for the door and for 名刺交換: CSV that Japanese Excel opens as is, and XLSX.

CSV is UTF-8 with a byte-order mark (without it, Excel in Japan reads Shift_JIS and shows
mojibake) and CRLF line ends. A cell that starts with = + - @ (in either width), a tab or a
carriage return would be run as a formula when opened, so it gets a leading apostrophe, which
Excel shows as text (OWASP's advice on CSV injection). XLSX cells are all written as strings,
which Excel never evaluates, so they keep exactly what the registrant typed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from chalicelib.domain.attendee import reading_order
from chalicelib.domain.clock import parse_iso
from chalicelib.domain.event import Event
from chalicelib.domain.questions import Question, answers_of
from chalicelib.domain.registration import RegistrationStatus, display_number
from chalicelib.store.dynamo import Table
from chalicelib.text import messages as msg
from chalicelib.text.display import format_datetime, needs_text
from chalicelib.text.i18n import N_, gettext
from chalicelib.usecases.roster import Entry, mode_of

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


class ListKind(StrEnum):
    """Which list to export."""

    DOOR = "door"  # the reception desk: who to expect, numbers to tick off
    MEISHI = "meishi"  # 名刺交換: who came from where, to follow up
    WAITLIST = "waitlist"  # the waiting list in line order: whom to reach if seats free up on the day
    ACCOMMODATION = "accommodation"  # 合理的配慮: who asked for what, so staff can prepare
    ANSWERS = "answers"  # the event's own questions, one column each (removed questions' answers too)
    AUDIT = "audit"  # what staff did to registrations (audit_rows: from the trail, not the registrations)


# Whose rows each list holds. The registration form promises that details are used for this event
# only, so a list never carries people it is not meant for: the 名刺交換 list (shared with other
# attendees) holds only confirmed attendees, never cancelled or waiting people.
HOLDS: dict[ListKind, frozenset[str]] = {
    ListKind.DOOR: frozenset({RegistrationStatus.CONFIRMED.value, RegistrationStatus.WAITLISTED.value}),
    ListKind.MEISHI: frozenset({RegistrationStatus.CONFIRMED.value}),
    ListKind.WAITLIST: frozenset({RegistrationStatus.WAITLISTED.value}),
    ListKind.ACCOMMODATION: frozenset({RegistrationStatus.CONFIRMED.value, RegistrationStatus.WAITLISTED.value}),
    ListKind.ANSWERS: frozenset(
        {RegistrationStatus.CONFIRMED.value, RegistrationStatus.WAITLISTED.value, RegistrationStatus.APPLIED.value}
    ),
}


@dataclass(frozen=True)
class Column:
    """One column: its heading and how to read it from an entry."""

    heading: str
    value: Callable[[Entry], str]


def _status_label(e: Entry) -> str:
    return gettext(msg.STATUS_LABELS.get(e.registration.status, e.registration.status))


def _mode_label(event: Event, entry: Entry) -> str:
    pool = mode_of(event, entry)
    return gettext(msg.POOL_LABELS[pool]) if pool else ""


def _columns(event: Event) -> dict[ListKind, tuple[Column, ...]]:
    name = Column(N_("氏名"), lambda e: e.registration.attendee.name)
    # The organizer's own labels head their columns, as they head the form's fields.
    kana = Column(event.label_for("kana") or N_("フリガナ"), lambda e: e.registration.attendee.kana)
    organization = Column(event.label_for("organization") or N_("所属"), lambda e: e.registration.attendee.organization)
    job_title = Column(event.label_for("job_title") or N_("役職"), lambda e: e.registration.attendee.job_title)
    category = Column(N_("参加区分"), lambda e: event.category_label(e.registration.attendee.category))
    # A hybrid event's lists say who takes part where: online attendees never come to 受付.
    mode = (Column(N_("参加方法"), lambda e: _mode_label(event, e)),) if event.pools() else ()
    return {
        ListKind.DOOR: (
            Column(N_("受付番号"), lambda e: e.registration.number),
            kana,
            name,
            organization,
            category,
            *mode,
            Column(N_("状態"), _status_label),
            Column(N_("受付済み"), lambda e: gettext(msg.MARK_CHECKED_IN) if e.checked_in_at else ""),
        ),
        ListKind.MEISHI: (
            name,
            kana,
            organization,
            job_title,
            category,
            Column(N_("メールアドレス"), lambda e: e.registration.attendee.email),
            Column(N_("来場"), lambda e: gettext(msg.MARK_CAME) if e.checked_in_at else ""),
        ),
        ListKind.WAITLIST: (
            Column(N_("受付番号"), lambda e: e.registration.number),
            kana,
            name,
            organization,
            category,
            *mode,
            Column(N_("メールアドレス"), lambda e: e.registration.attendee.email),
        ),
        ListKind.ACCOMMODATION: (
            Column(N_("受付番号"), lambda e: e.registration.number),
            kana,
            name,
            Column(N_("状態"), _status_label),
            Column(N_("配慮が必要なこと"), lambda e: needs_text(e.registration.attendee.needs_list)),
            Column(N_("配慮についての詳細"), lambda e: e.registration.attendee.needs_note),
            Column(N_("メールアドレス"), lambda e: e.registration.attendee.email),
        ),
    }


def _answer_columns(event: Event, found: Iterable[Entry]) -> tuple[Column, ...]:
    """受付番号, reading, name and state, then a column per question: the event's, then any removed since."""
    asked = list(event.questions)
    known = {q.key for q in asked}
    removed = sorted({key for e in found for key in answers_of(e.registration.attendee.answers)} - known)

    def answer(q: Question) -> Callable[[Entry], str]:
        return lambda e: q.shown(answers_of(e.registration.attendee.answers).get(q.key))

    def raw(key: str) -> Callable[[Entry], str]:
        """A removed question's answer as stored: its text, or its choices' keys in a list."""

        def value(e: Entry) -> str:
            answer = answers_of(e.registration.attendee.answers).get(key, "")
            return gettext(msg.LIST_SEPARATOR).join(map(str, answer)) if isinstance(answer, list) else str(answer)

        return value

    base = (
        Column(N_("受付番号"), lambda e: e.registration.number),
        Column(N_("フリガナ"), lambda e: e.registration.attendee.kana),
        Column(N_("氏名"), lambda e: e.registration.attendee.name),
        Column(N_("状態"), _status_label),
    )
    return (*base, *(Column(q.label, answer(q)) for q in asked), *(Column(key, raw(key)) for key in removed))


def rows(event: Event, found: Iterable[Entry], kind: ListKind) -> list[list[str]]:
    """The heading row and one row per entry the list holds (HOLDS).

    The door list is in フリガナ order, as desks sort it; the waiting list in line order, numbered
    as the registrants' own pages and mails number their places.
    """
    found = list(found)
    columns = _answer_columns(event, found) if kind is ListKind.ANSWERS else _columns(event)[kind]
    chosen = [e for e in found if e.registration.status in HOLDS[kind] and not e.registration.erased]
    if kind is ListKind.MEISHI and event.meishi_consent_question:
        chosen = [e for e in chosen if e.registration.attendee.meishi_consent == "yes"]
    if kind is ListKind.ACCOMMODATION:
        chosen = [e for e in chosen if e.registration.attendee.needs or e.registration.attendee.needs_note]
    if kind in (ListKind.DOOR, ListKind.ACCOMMODATION):
        chosen.sort(key=lambda e: reading_order(e.registration.attendee, e.registration.registration_id))
    body = [[c.value(e) for c in columns] for e in chosen]
    heading = [gettext(c.heading) for c in columns]
    if kind is ListKind.WAITLIST:
        ordered = sorted(zip((e.registration.wait_sk for e in chosen), body, strict=True))
        return [[gettext(N_("順番")), *heading], *([str(n), *row] for n, (_, row) in enumerate(ordered, 1))]
    return [heading, *body]


def listing(table: Table, event: Event, kind: ListKind) -> list[list[str]]:
    """One list of an event as stored now: from its registrations, or (AUDIT) from staff's audit trail."""
    from chalicelib.usecases.assisted import trail
    from chalicelib.usecases.roster import entries

    if kind is ListKind.AUDIT:
        return audit_rows(event, trail(table, event.slug))
    return rows(event, entries(table, event.slug), kind)


def audit_rows(event: Event, trail: Iterable[Mapping[str, Any]]) -> list[list[str]]:
    """Every staff action on the event's registrations, oldest first: when, which, what, who, fields, why."""
    headings = (N_("日時"), N_("受付番号"), N_("操作"), N_("担当"), N_("項目"), N_("理由"))
    body = [
        [
            format_datetime(parse_iso(str(row["at"])), event.tz),
            display_number(str(row["registration_id"])),
            gettext(msg.AUDIT_ACTION_LABELS.get(str(row["action"]), str(row["action"]))),
            str(row.get("by", "")),
            gettext(msg.LIST_SEPARATOR).join(
                event.label_for(f) or gettext(msg.FIELD_LABELS.get(f, f)) for f in row.get("fields", [])
            ),
            gettext(msg.CHANNEL_LABELS.get(str(row.get("reason", "")), str(row.get("reason", "")))),
        ]
        for row in trail
    ]
    return [[gettext(h) for h in headings], *body]


def neutralise(cell: str) -> str:
    """Make a cell that a spreadsheet would run as a formula show as the text it is."""
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell


def to_csv(table: list[list[str]]) -> str:
    """CSV for Excel in Japan: BOM, CRLF, every field quoted as needed, formulas neutralised."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows([neutralise(cell) for cell in row] for row in table)
    return buffer.getvalue()


def to_xlsx(table: list[list[str]], sheet: str) -> bytes:
    """An XLSX workbook with one sheet; every cell is a string, so nothing in it is ever evaluated."""
    import xlsxwriter  # imported here: only exports need it

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False})
    worksheet = workbook.add_worksheet(_sheet_name(sheet))
    bold = workbook.add_format({"bold": True})
    for r, row in enumerate(table):
        for c, cell in enumerate(row):
            worksheet.write_string(r, c, cell, bold if r == 0 else None)
    if table:
        worksheet.freeze_panes(1, 0)
        worksheet.autofilter(0, 0, max(len(table) - 1, 0), len(table[0]) - 1)
        for c in range(len(table[0])):
            widest = max(_display_width(row[c]) for row in table)
            worksheet.set_column(c, c, min(max(widest + 2, 8), 50))
    workbook.close()
    return buffer.getvalue()


def _sheet_name(title: str) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\."""
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in title).strip()
    return (cleaned or "list")[:31]


def _display_width(text: str) -> int:
    # Full-width characters take two columns in Excel's units.
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def filename(event: Event, kind: ListKind, extension: str) -> str:
    """An ASCII file name (Content-Disposition and every mail program handle it)."""
    return f"{event.slug}-{kind.value}.{extension}"
