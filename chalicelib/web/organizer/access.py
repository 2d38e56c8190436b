"""Who may open an organizer page: the session, its role, the form's CSRF token, and every refusal.

Each route says the least role it is for where it is declared (`@get(path, Role.STAFF)`); the
decorator reads the session (and, for a POST, the form and its token) before the page's own code
runs, and hands that code a `Visit`. Anything that stops a request, here or in a page (no session,
too low a role, no such event), is raised as `Refused` and turned into its answer in one place.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

from chalice.app import Blueprint, Response

from chalicelib.config.services import current
from chalicelib.domain.event_state import EventState
from chalicelib.templating import render
from chalicelib.text import messages as msg
from chalicelib.usecases import catalog, sign_in, staff
from chalicelib.usecases.sign_in import Session
from chalicelib.usecases.staff import Role
from chalicelib.web.headers import PRIVATE
from chalicelib.web.http import base_path, form_fields, here, html, read_cookie, see_other

# Every organizer route, mounted at /organizer (app.py).
routes = Blueprint("chalicelib.web.organizer")
FORM = "application/x-www-form-urlencoded"
View = TypeVar("View", bound=Callable[..., Response])


class Refused(Exception):
    """A request not served: the page (or redirect) to answer with instead."""

    def __init__(
        self, status: int, title: str, text: str = "", session: Session | None = None, answer: Response | None = None
    ) -> None:
        super().__init__(title)
        self.status, self.title, self.text, self.session, self._answer = status, title, text, session, answer

    @classmethod
    def with_answer(cls, answer: Response) -> Refused:
        """A refusal whose answer is already made (a form that cannot be read, the way to sign in)."""
        return cls(answer.status_code, "", answer=answer)

    def answer(self) -> Response:
        """The one place a refusal becomes a page."""
        if self._answer is not None:
            return self._answer
        return page("message.html", self.session, self.status, title=self.title, text=self.text)


@dataclass
class Visit:
    """A request that got in: the signed-in organizer (None on the sign-in pages) and the form they posted."""

    session: Session | None
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def signed_in(self) -> Session:
        assert self.session is not None, "a route for signed-in organizers only"
        return self.session

    def event(self, slug: str) -> EventState:
        """The event the page is about, or a 404 page (also for staff limited to other events)."""
        state = catalog.get_event(current().table, slug)
        if state is None or (self.session is not None and not self.session.may_open(slug)):
            raise Refused(404, msg.EVENT_NOT_FOUND, msg.EVENT_NOT_FOUND, self.session)
        return state

    def page(self, template: str, status: int = 200, **context: Any) -> Response:
        """An organizer page for this visit."""
        return page(template, self.session, status, **context)

    def refuse(self, status: int, title: str, text: str = "") -> Refused:
        """A refusal to raise, shown with this visit's session."""
        return Refused(status, title, text, self.session)


def base() -> str:
    """The site's prefix (API Gateway's stage), for links and redirects."""
    return base_path(routes.current_request)


def home() -> str:
    """Where the organizer pages start."""
    return f"{base()}/organizer"


def page(template: str, session: Session | None, status: int = 200, **context: Any) -> Response:
    """An organizer page: never cached, and carrying the session's CSRF token for its forms."""
    s = current()
    csrf = sign_in.csrf_token(s.signer, session) if session else ""
    body = render(f"pages/organizer/{template}", base=base(), session=session, csrf=csrf, **context)
    return html(body, status, PRIVATE)


def get(path: str, need: Role | None) -> Callable[[View], View]:
    """A page to show; `need` is the least role it is for (None: anyone, for the sign-in pages only)."""
    return _route(path, "GET", need)


def post(path: str, need: Role | None) -> Callable[[View], View]:
    """A form to take; `need` as for `get`. The form must come from a page served to this session."""
    return _route(path, "POST", need)


def _route(path: str, method: str, need: Role | None) -> Callable[[View], View]:
    def register(view: View) -> View:
        @functools.wraps(view)
        def serve(**params: str) -> Response:
            try:
                return view(_admit(method, need), **params)
            except Refused as refused:
                return refused.answer()

        serve.least_role = need  # type: ignore[attr-defined]  # what tests/test_staff.py holds each route to
        content = {"content_types": [FORM]} if method == "POST" else {}
        routes.route(path, methods=[method], **content)(serve)
        return view

    return register


def _admit(method: str, need: Role | None) -> Visit:
    """The visit, if this request may reach the page: else Refused (the sign-in page for a GET without a session)."""
    fields: dict[str, str] = {}
    if method == "POST" and not same_site(routes.current_request.headers):
        raise Refused(403, msg.CROSS_SITE, msg.CROSS_SITE)
    if method == "POST":
        read = form_fields(routes.current_request)
        if isinstance(read, Response):
            raise Refused.with_answer(read)
        fields = read
    if need is None:
        return Visit(None, fields)
    session = _session()
    if session is None:
        if method == "GET":
            then = here(routes.current_request)
            raise Refused.with_answer(see_sign_in(then))
        raise Refused(403, msg.SESSION_NEEDED, msg.SESSION_NEEDED)
    if method == "POST" and not sign_in.csrf_ok(current().signer, session, fields.get("csrf", "")):
        raise Refused(403, msg.ERROR_SUMMARY_TITLE, msg.FORM_EXPIRED, session)
    if not staff.allows(session.role, need):
        raise Refused(403, msg.ROLE_NOT_ALLOWED, msg.ROLE_NOT_ALLOWED, session)
    return Visit(session, fields)


def same_site(headers: Mapping[str, str]) -> bool:
    """False for a form another site's page sent (Fetch Metadata, else the Origin against the Host).

    SameSite=Lax keeps the session cookie off such a POST, but the sign-in link's POST needs no
    cookie: without this a page elsewhere could sign a visitor's browser into the sender's session.
    Every current browser sends Sec-Fetch-Site; only our own pages' forms (same-origin) pass. Without
    it, the Origin must be this host; an Origin of "null" says nothing (our pages send no referrer, and
    then Chrome sends "null" even for its own forms), so such a request, like one with neither header
    (an old browser, a script), is left to the CSRF token.
    """
    fetched_from = headers.get("sec-fetch-site", "")
    if fetched_from:
        return fetched_from in ("same-origin", "none")
    origin = headers.get("origin", "")
    if not origin or origin == "null":
        return True
    return urlsplit(origin).netloc.lower() == headers.get("host", "").lower()


def see_sign_in(then: str) -> Response:
    """The way to the sign-in page, which leads back to `then`."""
    return see_other(f"{home()}/sign-in?{urlencode({'then': then})}", PRIVATE)


def _session() -> Session | None:
    """The signed-in person with their role as it is now (a removed person's session ends at once)."""
    cookie = read_cookie(routes.current_request, sign_in.COOKIE)
    if not cookie:
        return None
    s = current()
    session = sign_in.read_session(s.table, s.signer, cookie, s.clock.now())
    if session is None:
        return None
    found = staff.member_of(s.table, s.settings.organizers, session.email)
    return dataclasses.replace(session, role=found.role, events=found.events) if found else None
