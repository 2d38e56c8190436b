"""HTML pages: pure functions from state to markup (all escaping is Jinja's autoescape)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from markupsafe import Markup

from chalicelib.domain.attendee import EDITABLE_FIELDS, NEEDS_FIELD_PREFIX, Attendee
from chalicelib.domain.event_state import EventState
from chalicelib.domain.questions import Question, answers_of, form_values
from chalicelib.domain.registration import Registration
from chalicelib.templating import render
from chalicelib.text import messages as msg
from chalicelib.text.i18n import current as current_language
from chalicelib.web.bots import HONEYPOT_FIELD, TOKEN_FIELD


def base_path(requested_path: str, routed_path: str) -> str:
    """The prefix the visitor's URL has before the app's own path: API Gateway's stage or base-path mapping."""
    # API Gateway passes both: the path as requested ("/api/events/x") and as routed ("/events/x").
    if routed_path and requested_path.endswith(routed_path):
        return requested_path[: len(requested_path) - len(routed_path)].rstrip("/")
    return ""


def index_page(base: str, states: list[EventState], now: datetime) -> str:
    """The list of upcoming events."""
    return render("pages/index.html", base=base, states=[_spoken(state) for state in states], now=now)


def event_page(
    base: str,
    state: EventState,
    now: datetime,
    submission_id: str,
    form_token: str,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    notice: str = "",
    page_url: str = "",
    preview: Mapping[str, str] | None = None,
) -> str:
    """An event's details, its availability and (while open) the registration form.

    `page_url`: the page's own absolute address, for the preview card when the link is shared.
    """
    state = _spoken(state)
    return render(
        "pages/event.html",
        base=base,
        state=state,
        event=state.event,
        availability=state.availability(now).value,
        submission_id=submission_id,
        form_token=form_token,
        honeypot=HONEYPOT_FIELD,
        token_field=TOKEN_FIELD,
        values=values or {},
        errors=errors or {},
        notice=notice,
        labels={**msg.FIELD_LABELS, **state.event.field_labels()},
        page_url=page_url,
        preview=preview,
    )


def registration_page(
    base: str,
    state: EventState,
    registration: Registration,
    token: str,
    now: datetime,
    place: int = 0,
    qr_svg: str = "",
    notice: str = "",
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    done: str = "",
    offer_back: bool = False,
    survey_open: bool = False,
) -> str:
    """A registrant's own page: the seat or place in line, corrections, and cancelling.

    `notice` says why something was refused; `done` confirms what the registrant just did;
    `offer_back`: their seat was released for want of an answer, and a free one may be taken back now;
    `survey_open`: the survey takes their answer now.
    """
    state = _spoken(state)
    attendee = registration.attendee
    return render(
        "pages/registration.html",
        base=base,
        event=state.event,
        registration=registration,
        token=token,
        place=place,
        qr_svg=Markup(qr_svg),  # noqa: S704 (segno's own SVG: no user text in it but the number)
        notice=notice,
        done=done,
        can_cancel=now < state.event.cancellation_deadline,
        called_off=state.cancelled,
        offer_back=offer_back,
        survey_open=survey_open,
        # The reconfirmation is open: the page asks too (a mail may be lost), until they answer.
        asking=state.event.reconfirm_at is not None
        and state.event.reconfirm_at <= now < state.event.starts_at
        and not registration.reconfirmed_at,
        attendance_path=f"{base}/events/{state.event.slug}/registrations/{registration.registration_id}/attendance",
        values=values or _editable_values(attendee, state.event.questions),
        errors=errors or {},
        labels={**msg.FIELD_LABELS, **state.event.field_labels()},
    )


def _editable_values(attendee: Attendee, asked: tuple[Question, ...]) -> dict[str, str]:
    """What the registrant's correction form starts with: their answers as stored."""
    values = {f: getattr(attendee, f) for f in EDITABLE_FIELDS}
    values.update(form_values(asked, answers_of(attendee.answers)))
    return {**values, **{NEEDS_FIELD_PREFIX + key: "yes" for key in attendee.needs_list}}


def already_registered_page(base: str, state: EventState, resent: bool) -> str:
    """Shown when the address has a seat already."""
    return render("pages/already_registered.html", base=base, event=_spoken(state).event, resent=resent)


def _spoken(state: EventState) -> EventState:
    """The event as this request's reader sees it: in their language, where the organizer wrote it so."""
    return state.in_language(current_language())


def link_request_page(
    base: str,
    state: EventState,
    submission_id: str,
    form_token: str,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    notice: str = "",
    sent: str = "",
) -> str:
    """Asking for one's personal link again by typing the address (or, once asked, what happens next)."""
    return render(
        "pages/link_request.html",
        base=base,
        event=_spoken(state).event,
        submission_id=submission_id,
        form_token=form_token,
        honeypot=HONEYPOT_FIELD,
        token_field=TOKEN_FIELD,
        values=values or {},
        errors=errors or {},
        notice=notice,
        sent=sent,
        labels={**msg.FIELD_LABELS, **state.event.field_labels()},
    )


def attendance_page(
    base: str, state: EventState, registration: Registration, token: str, answer: str, notice: str = ""
) -> str:
    """The reconfirmation's page for one answer: one button that says it (a GET never changes anything)."""
    return render(
        "pages/attendance.html",
        base=base,
        event=_spoken(state).event,
        registration=registration,
        token=token,
        answer=answer,
        notice=notice,
        seated=registration.status == "confirmed" and not state.cancelled,
    )


def survey_page(
    base: str,
    state: EventState,
    registration: Registration,
    token: str,
    values: Mapping[str, str],
    errors: Mapping[str, str],
    refused: str = "",
) -> str:
    """The survey's questions in the reader's language, or why they cannot be answered (`refused`)."""
    return render(
        "pages/survey.html",
        base=base,
        event=_spoken(state).event,
        registration=registration,
        token=token,
        values=values,
        errors=errors,
        refused=refused,
    )


def certificates_page(base: str, state: EventState, people: list[Registration], organizer: bool = False) -> str:
    """参加証明 to print: one A4 page for each person (the registrant's own, or everyone who came)."""
    return render("pages/certificates.html", base=base, event=_spoken(state).event, people=people, organizer=organizer)


def message_page(base: str, title: str, text: str) -> str:
    """A plain page with one message (not found, bad request)."""
    return render("pages/message.html", base=base, title=title, text=text)
