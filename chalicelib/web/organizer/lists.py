"""The dashboard, an event's counts and list with search, and the lists to download."""

from __future__ import annotations

from urllib.parse import urlencode

from chalice.app import Response

from chalicelib.config.services import current
from chalicelib.text import messages as msg
from chalicelib.usecases import catalog
from chalicelib.usecases.staff import Role
from chalicelib.web.headers import PRIVATE
from chalicelib.web.http import query_params
from chalicelib.web.organizer.access import Visit, get, routes
from chalicelib.web.organizer.editor import public_address, share_png

# The organizer tools' own modules (roster, exports, checkin, broadcast) are imported inside the routes
# that use them: every Lambda container of the site loads these modules, and the attendee pages' cold
# start should not pay for the organizer tools.
# The page carrying an Excel file stays well under Lambda's 6 MB answer once base64 makes it 4/3 larger.
EXCEL_IN_PAGE_LIMIT = 3_000_000
_CSV_LISTS = ("door.csv", "meishi.csv", "waitlist.csv", "accommodation.csv", "answers.csv", "audit.csv")


@get("/", Role.DOOR)
def dashboard(visit: Visit) -> Response:
    """The events an organizer can open."""
    s = current()
    now = s.clock.now()
    params = query_params(routes.current_request)
    mine = visit.signed_in.may_open  # staff limited to chosen events see only those
    return visit.page(
        "index.html",
        states=[state for state in catalog.upcoming_events(s.table, now) if mine(state.event.slug)],
        past=[state for state in catalog.past_events(s.table, now) if mine(state.event.slug)],
        now=now,
        deleted=bool(params.get("deleted")),
        archived_done=bool(params.get("archived")),
    )


@get("/events/{slug}", Role.STAFF)
def event_overview(visit: Visit, slug: str) -> Response:
    """Counts by state and category, and the list with search."""
    from chalicelib.usecases import announcements, reconfirmation, roster

    state = visit.event(slug)
    params = query_params(routes.current_request)
    asked = roster.ListQuery.from_params(params)
    everyone = roster.entries(current().table, slug)
    return visit.page(
        "event.html",
        state=state,
        event=state.event,
        counts=roster.count(everyone, state.event),
        listing=roster.select(everyone, asked),
        to_contact=[e for e in everyone if e.contact_needed],
        reconfirmed=reconfirmation.figures(everyone, state.event) if state.event.reconfirm_at else None,
        to_call=[e for e in everyone if reconfirmation.to_call(e, state.event)],
        asked=asked,
        page_link=lambda **changes: f"?{urlencode(asked.params(**changes))}#list",
        unannounced=announcements.pending_change(current().table, state.event),
        saved=bool(params.get("saved")),
        saved_draft=bool(params.get("draft")),
        published=bool(params.get("published")),
        confirming=params.get("confirm", ""),
        stage=state.lifecycle(current().clock.now()).value,
        public_url=public_address(slug),
        qr_png=share_png(slug) if not (state.draft or state.hidden or state.cancelled) else "",
    )


@get("/events/{slug}/export/{name}", Role.STAFF)
def export_list(visit: Visit, slug: str, name: str) -> Response:
    """One of the lists (door, 名刺交換, waiting, accommodation, staff actions) as CSV for Excel."""
    from chalicelib.usecases import exports

    state = visit.event(slug)
    if name not in _CSV_LISTS:
        raise visit.refuse(404, msg.EXPORT_UNKNOWN, msg.EXPORT_UNKNOWN)
    kind = exports.ListKind(name.removesuffix(".csv"))
    table = exports.listing(current().table, state.event, kind)
    headers: dict[str, str | list[str]] = {
        **PRIVATE,
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{exports.filename(state.event, kind, "csv")}"',
    }
    return Response(body=exports.to_csv(table), headers=headers)


@get("/events/{slug}/excel/{name}", Role.STAFF)
def excel_list(visit: Visit, slug: str, name: str) -> Response:
    """A list (or the survey's answers) as an Excel file, handed over inside the page: a download link
    holding the file itself, so no binary answer has to pass API Gateway (which sends binary only when
    the browser's first Accept type is a binary one; a browser's is text/html)."""
    import base64

    from chalicelib.usecases import exports, survey_answers

    state = visit.event(slug)
    if name == survey_answers.LIST and state.event.survey is not None:
        table = survey_answers.export(current().table, state.event)
    elif name in {kind.value for kind in exports.ListKind}:
        table = exports.listing(current().table, state.event, exports.ListKind(name))
    else:
        raise visit.refuse(404, msg.EXPORT_UNKNOWN, msg.EXPORT_UNKNOWN)
    workbook = exports.to_xlsx(table, state.event.title)
    too_big = len(workbook) > EXCEL_IN_PAGE_LIMIT
    return visit.page(
        "excel.html",
        event=state.event,
        name=name,
        rows=len(table) - 1,
        filename=f"{slug}-{name}.xlsx",
        data="" if too_big else base64.b64encode(workbook).decode("ascii"),
    )


@get("/events/{slug}/report", Role.STAFF)
def event_report(visit: Visit, slug: str) -> Response:
    """実施報告: one printable A4 page of counts (by category, who came, the waiting list, reconfirmation)."""
    from chalicelib.text import report_messages as rmsg
    from chalicelib.usecases import report

    state = visit.event(slug)
    return visit.page(
        "report.html",
        event=state.event,
        report=report.current(current().table, state.event, current().clock.now()),
        words=rmsg,
    )


@get("/events/{slug}/report.csv", Role.STAFF)
def event_report_csv(visit: Visit, slug: str) -> Response:
    """The same report as CSV, for the municipality's own spreadsheet."""
    from chalicelib.usecases import exports, report

    state = visit.event(slug)
    made = report.current(current().table, state.event, current().clock.now())
    headers: dict[str, str | list[str]] = {
        **PRIVATE,
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{slug}-report.csv"',
    }
    return Response(body=exports.to_csv(report.rows(made)), headers=headers)


@get("/events/{slug}/certificates", Role.STAFF)
def certificates(visit: Visit, slug: str) -> Response:
    """参加証明 of everyone checked in, one to a printed page (for events that give them)."""
    from chalicelib.usecases import roster

    state = visit.event(slug)
    if not state.event.certificates:
        raise visit.refuse(404, msg.CERTIFICATE_NONE_TITLE, msg.CERTIFICATE_NONE)
    came = [
        e.registration for e in roster.entries(current().table, slug) if e.checked_in_at and not e.registration.erased
    ]
    return visit.page("certificates.html", event=state.event, people=came)


@get("/events/{slug}/survey", Role.STAFF)
def survey_results(visit: Visit, slug: str) -> Response:
    """The survey's results: counts and averages per question with their charts, free text listed."""
    from chalicelib.usecases import survey_answers

    state = visit.event(slug)
    if state.event.survey is None:
        raise visit.refuse(404, msg.SURVEY_NONE, msg.SURVEY_NONE)
    items = survey_answers.answer_items(current().table, slug)
    tallies = survey_answers.tally(state.event.survey.questions, items)
    return visit.page("survey.html", event=state.event, answers=len(items), tallies=tallies)


@get("/events/{slug}/survey.csv", Role.STAFF)
def survey_export(visit: Visit, slug: str) -> Response:
    """Every answer, one row each, as CSV (a named survey with who answered; XLSX: `manage.py export`)."""
    from chalicelib.usecases import exports, survey_answers

    state = visit.event(slug)
    if state.event.survey is None:
        raise visit.refuse(404, msg.SURVEY_NONE, msg.SURVEY_NONE)
    headers: dict[str, str | list[str]] = {
        **PRIVATE,
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{slug}-survey.csv"',
    }
    table = survey_answers.export(current().table, state.event)
    return Response(body=exports.to_csv(table), headers=headers)
