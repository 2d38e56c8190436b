"""Who may use the organizer pages (staff and their roles), and the keys for the JSON API."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from chalice.app import Response

from chalicelib.config.services import current
from chalicelib.domain.event import DEFAULT_TIMEZONE
from chalicelib.text import messages as msg
from chalicelib.usecases import catalog, staff
from chalicelib.usecases.staff import Role
from chalicelib.web.headers import PRIVATE
from chalicelib.web.http import query_params, see_other
from chalicelib.web.organizer.access import Visit, get, home, post, routes

# --- staff and their roles ----------------------------------------------------------------------


@get("/staff", Role.OWNER)
def staff_list(visit: Visit) -> Response:
    """Who may use these pages and for what; owners add, change and remove people here."""
    return _staff_page(visit)


def _staff_page(visit: Visit, status: int = 200, **context: Any) -> Response:
    s = current()
    members = staff.members(s.table, s.settings.organizers)
    saved = bool(query_params(routes.current_request).get("saved"))
    context = {"errors": {}, "values": {}, "notice": "", "saved": saved, **context}
    events = catalog.upcoming_events(s.table, s.clock.now())
    return visit.page("staff.html", status, members=members, events=events, tz=ZoneInfo(DEFAULT_TIMEZONE), **context)


@post("/staff", Role.OWNER)
def change_staff(visit: Visit) -> Response:
    """Add someone with a role, change a role, or remove someone (their sessions end at once)."""
    from chalicelib.domain.attendee import validate_address

    s, fields = current(), visit.fields
    address, problem = validate_address(fields.get("email", ""))
    chosen = fields.get("role", "")
    if problem:
        return _staff_page(visit, 400, errors={"email": problem}, values=fields)
    if chosen not in (*Role, "remove"):
        return _staff_page(visit, 400, errors={"role": msg.ROLE_UNKNOWN}, values=fields)
    role = None if chosen == "remove" else Role(chosen)
    known = {state.event.slug for state in catalog.upcoming_events(s.table, s.clock.now())}
    events = frozenset(name.removeprefix("event_") for name in fields if name.startswith("event_")) & known
    by, now = visit.signed_in.email, s.clock.now()
    outcome = staff.set_role(s.table, s.settings.organizers, address, role, by, now, events)
    if outcome is staff.Change.LAST_OWNER:
        return _staff_page(visit, 409, notice=msg.ROLE_LAST_OWNER)
    return see_other(f"{home()}/staff?saved=1", PRIVATE)


# --- API keys for the JSON API ------------------------------------------------------------------


@get("/api-keys", Role.OWNER)
def api_key_list(visit: Visit) -> Response:
    """The keys issued for the JSON API, and a form to issue one."""
    notice = msg.API_KEY_REVOKED if query_params(routes.current_request).get("revoked") else ""
    return _api_keys_page(visit, {}, {}, notice=notice)


def _api_keys_page(
    visit: Visit, values: dict[str, str], errors: dict[str, str], status: int = 200, notice: str = ""
) -> Response:
    from chalicelib.usecases import api_keys

    s = current()
    return visit.page(
        "api_keys.html",
        status,
        keys=api_keys.listed(s.table),
        states=catalog.upcoming_events(s.table, s.clock.now()),
        values=values,
        errors=errors,
        notice=notice,
        tz=ZoneInfo(DEFAULT_TIMEZONE),
    )


@post("/api-keys", Role.OWNER)
def issue_api_key(visit: Visit) -> Response:
    """Issue a key; it is shown on the answer once and never again."""
    from chalicelib.usecases import api_keys

    s = current()
    asked = api_keys.check_request(s.table, visit.fields)
    if asked.errors:
        return _api_keys_page(visit, {"name": asked.name, "scope": asked.scope}, asked.errors, 400)
    key, token = api_keys.issue(s.table, asked.name, asked.scope, visit.signed_in.email, s.clock.now(), s.ids)
    return visit.page("api_key_created.html", 201, key=key, token=token)


@post("/api-keys/{key_id}/revoke", Role.OWNER)
def revoke_api_key(visit: Visit, key_id: str) -> Response:
    """Stop a key at once."""
    from chalicelib.usecases import api_keys

    api_keys.revoke(current().table, key_id, visit.signed_in.email, current().clock.now())
    return see_other(f"{home()}/api-keys?revoked=1", PRIVATE)
