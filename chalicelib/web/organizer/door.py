"""The door: who is still to come, a scanned QR code, and checking people in."""

from __future__ import annotations

from urllib.parse import urlencode

from chalice.app import Response

from chalicelib.config.services import current
from chalicelib.domain.links import check_in_token_is_genuine
from chalicelib.text import messages as msg
from chalicelib.usecases.staff import Role
from chalicelib.web.http import query_params
from chalicelib.web.organizer.access import Visit, get, post, routes


@get("/events/{slug}/check-in", Role.DOOR)
def check_in_search(visit: Visit, slug: str) -> Response:
    """The door's page: search by name or フリガナ, and check people in from the results."""
    from chalicelib.usecases import roster

    state = visit.event(slug)
    params = query_params(routes.current_request)
    query = params.get("q", "")
    everyone = roster.entries(current().table, slug)
    coming = roster.at_the_door(state.event, everyone)  # people taking part online never come to 受付
    # Searching finds anyone (online ones marked so); otherwise the door sees who is still to come, by reading.
    default = {"status": "confirmed", "arrived": "no", "sort": "reading"}
    asked = roster.ListQuery.from_params({"q": query, "page": params.get("page", "1"), **({} if query else default)})
    return visit.page(
        "check_in.html",
        event=state.event,
        query=query,
        listing=roster.select(everyone if query else coming, asked, door=True),
        counts=(counted := roster.count(coming)),
        online=roster.count(everyone).by_status["confirmed"] - counted.by_status["confirmed"],
        page_link=lambda **changes: f"?{urlencode(asked.params(**changes))}",
    )


@get("/events/{slug}/check-in/{registration_id}", Role.DOOR)
def scanned(visit: Visit, slug: str, registration_id: str) -> Response:
    """Where a scanned QR code lands: who this is, and the button that checks them in."""
    from chalicelib.usecases import roster

    state = visit.event(slug)
    s = current()
    token = query_params(routes.current_request).get("token", "")
    if token and not check_in_token_is_genuine(s.signer, slug, registration_id, token, s.clock.now()):
        raise visit.refuse(404, msg.CHECK_IN_QR_INVALID)
    found = roster.entry(s.table, slug, registration_id)
    if found is None:
        raise visit.refuse(404, msg.CHECK_IN_RESULT["not_found"])
    return visit.page("check_in_person.html", event=state.event, entry=found, result=None, walked_in=False)


@post("/events/{slug}/check-in/{registration_id}", Role.DOOR)
def check_in(visit: Visit, slug: str, registration_id: str) -> Response:
    """Record an arrival, once; a second press says who checked them in and when."""
    from chalicelib.usecases import checkin, roster

    state = visit.event(slug)
    s = current()
    # The write hands back the registration as it now stands: no second read to show who it was.
    result = checkin.check_in(s.table, slug, registration_id, visit.signed_in.email, s.clock.now())
    if result.registration is None:
        raise visit.refuse(404, msg.CHECK_IN_RESULT["not_found"])
    person = roster.Entry.from_item(result.registration)
    status = 200 if result.outcome is checkin.CheckInOutcome.CHECKED_IN else 409
    return visit.page("check_in_person.html", status, event=state.event, entry=person, result=result, walked_in=False)
