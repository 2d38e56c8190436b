"""出欠 on the registrant's side: the reconfirmation's two answers, and after the event the 参加証明.

The answers are 参加します and 行けなくなりました, each one button behind a link in the mails: a GET
only shows the button (mail scanners and link previews open links); the POST says the answer. The
certificate of attendance is a printable page for someone checked in, if the event gives them; the
survey (アンケート) takes one answer per registration while it is open. All need the registrant's
signed token, as their own page does. Each route imports its use cases when it runs: this blueprint
loads with the site's function, whose cold start serves the event page and the form.
"""

from __future__ import annotations

from chalice.app import Blueprint, Response

from chalicelib.config.services import current
from chalicelib.domain.event_state import EventState
from chalicelib.domain.registration import Registration
from chalicelib.text import messages as msg
from chalicelib.usecases.changes import CancelOutcome
from chalicelib.web import http, pages
from chalicelib.web.headers import PRIVATE
from chalicelib.web.public import opened_own, posted_own, see_registration

routes = Blueprint(__name__)
ANSWERS = ("yes", "no")  # 参加します, 行けなくなりました
_PATH = "/events/{slug}/registrations/{registration_id}/attendance"


@routes.route(_PATH, methods=["GET"])
def attendance_page(slug: str, registration_id: str) -> Response:
    """One answer's page, opened from the reconfirmation mail or a reminder."""
    found = opened_own(slug, registration_id)
    if isinstance(found, Response):
        return found
    state, registration, token, query = found
    answer = query.get("answer", "")
    if answer not in ANSWERS:
        return see_registration(state.event, registration_id)
    return _page(state, registration, token, answer)


@routes.route(_PATH, methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def answer_attendance(slug: str, registration_id: str) -> Response:
    """The answer itself: the seat kept (and marked reconfirmed), or given to the line at once."""
    from chalicelib.usecases import changes, reconfirmation

    found = posted_own(slug, registration_id)
    if isinstance(found, Response):
        return found
    state, registration, token, raw = found
    answer = raw.get("answer", "")
    if answer not in ANSWERS:
        return see_registration(state.event, registration_id)
    s = current()
    now = s.clock.now()
    if state.cancelled or registration.status != "confirmed":
        return _page(state, registration, token, answer, msg.ATTENDANCE_NO_SEAT, 409)
    if answer == "yes":
        if not reconfirmation.attend(s.table, slug, registration_id, now):
            return _page(state, registration, token, answer, msg.ATTENDANCE_NO_SEAT, 409)
        return see_registration(state.event, registration_id, done="attending")
    result = changes.cancel(s.table, state.event, registration_id, now, stamp=reconfirmation.DECLINED)
    if result.outcome is CancelOutcome.TOO_LATE:
        return _page(state, registration, token, answer, msg.CANCEL_TOO_LATE, 409)
    return see_registration(state.event, registration_id, done="declined")


def _page(
    state: EventState, registration: Registration, token: str, answer: str, notice: str = "", status: int = 200
) -> Response:
    base = http.base_path(routes.current_request)
    return http.html(pages.attendance_page(base, state, registration, token, answer, notice), status, PRIVATE)


@routes.route("/events/{slug}/registrations/{registration_id}/certificate", methods=["GET"])
def certificate(slug: str, registration_id: str) -> Response:
    """The 参加証明 of someone who was checked in, to print (only where the event gives them)."""
    found = opened_own(slug, registration_id)
    if isinstance(found, Response):
        return found
    state, registration, _, _ = found
    base = http.base_path(routes.current_request)
    if not (state.event.certificates and registration.checked_in_at) or registration.erased:
        page = pages.message_page(base, msg.CERTIFICATE_NONE_TITLE, msg.CERTIFICATE_NONE)
        return http.html(page, 404, PRIVATE)
    return http.html(pages.certificates_page(base, state, [registration]), headers=PRIVATE)


_SURVEY = "/events/{slug}/registrations/{registration_id}/survey"


@routes.route(_SURVEY, methods=["GET"])
def survey_form(slug: str, registration_id: str) -> Response:
    """The survey's questions, for a registrant who held a seat, while it is open."""
    found = opened_own(slug, registration_id)
    if isinstance(found, Response):
        return found
    state, registration, token, _ = found
    return _survey_page(state, registration, token, {}, {})


@routes.route(_SURVEY, methods=["POST"], content_types=["application/x-www-form-urlencoded"])
def answer_survey(slug: str, registration_id: str) -> Response:
    """One answer, checked question by question; saved once (a second send saves nothing more)."""
    from chalicelib.domain.questions import check
    from chalicelib.usecases import survey_answers

    found = posted_own(slug, registration_id)
    if isinstance(found, Response):
        return found
    state, registration, token, raw = found
    s = current()
    event = state.event
    if event.survey is None:
        return _survey_page(state, registration, token, {}, {})
    spoken = event.in_language(registration.lang).survey
    checked = check(raw, spoken.questions if spoken else ())
    if checked.errors:
        return _survey_page(state, registration, token, checked.values, checked.errors, 400)
    outcome = survey_answers.submit(s.table, event, registration, checked.answers, s.clock.now(), s.ids)
    if outcome is not survey_answers.Outcome.SAVED:
        return _survey_page(state, registration, token, checked.values, {}, 409)
    return see_registration(event, registration_id, done="surveyed")


def _survey_page(
    state: EventState,
    registration: Registration,
    token: str,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
) -> Response:
    from chalicelib.usecases import survey_answers

    s = current()
    refused = survey_answers.refusal(state.event, registration, s.clock.now())
    if refused is None and survey_answers.answered(s.table, state.event.slug, registration.registration_id):
        refused = survey_answers.Outcome.ALREADY
    base = http.base_path(routes.current_request)
    page = pages.survey_page(base, state, registration, token, values, errors, refused.value if refused else "")
    return http.html(page, status, PRIVATE)
