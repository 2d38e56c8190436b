"""Signing in with a link sent by mail, and signing out."""

from __future__ import annotations

from datetime import timedelta

from chalice.app import Response

from chalicelib.config.services import current
from chalicelib.text import messages as msg
from chalicelib.text.i18n import gettext
from chalicelib.usecases import sign_in, staff
from chalicelib.usecases.staff import Role
from chalicelib.web.headers import PRIVATE
from chalicelib.web.http import query_params, see_other
from chalicelib.web.organizer.access import Visit, base, get, home, post, routes


@get("/sign-in", None)
def sign_in_form(visit: Visit) -> Response:
    """Where an organizer asks for a sign-in link."""
    params = query_params(routes.current_request)
    notice = msg.SIGNED_OUT if params.get("out") else ""
    return visit.page("sign_in.html", errors={}, notice=notice, then=sign_in.return_path(params.get("then", "")))


@post("/sign-in", None)
def request_sign_in(visit: Visit) -> Response:
    """Mail a sign-in link to a listed organizer; the answer is the same for any address."""
    email = visit.fields.get("email", "").strip()
    asked = visit.fields.get("then", "")
    then = sign_in.return_path(asked)
    if asked and then != asked:
        # The form only ever carries a page of this site; anything else was made up: queue nothing.
        raise visit.refuse(400, msg.SIGN_IN_FAILED, msg.SIGN_IN_RETURN_INVALID)
    if not email:
        return visit.page("sign_in.html", 400, errors={"email": msg.SIGN_IN_EMAIL_NEEDED}, notice="", then=then)
    s = current()
    everyone = frozenset(member.email for member in staff.members(s.table, s.settings.organizers))
    sign_in.request_sign_in(s.table, everyone, email, s.clock.now(), then)
    return visit.page("message.html", title=msg.SIGN_IN_CHECK_MAIL, text=gettext(msg.SIGN_IN_SENT).format(email=email))


@get("/sign-in/{nonce}", None)
def sign_in_link(visit: Visit, nonce: str) -> Response:
    """The link from the mail: a button, because only a person's POST may spend the link."""
    s = current()
    token = query_params(routes.current_request).get("token", "")
    if not sign_in.link_is_genuine(s.signer, nonce, token, s.clock.now()):
        raise visit.refuse(404, msg.SIGN_IN_FAILED, msg.SIGN_IN_LINK_INVALID)
    return visit.page("sign_in_confirm.html", nonce=nonce, token=token)


@post("/sign-in/{nonce}", None)
def use_sign_in_link(visit: Visit, nonce: str) -> Response:
    """Spend the link, start the session, and go to the dashboard."""
    s = current()
    now = s.clock.now()
    used = sign_in.use_sign_in(s.table, s.signer, nonce, visit.fields.get("token", ""), now)
    if used is None:
        raise visit.refuse(404, msg.SIGN_IN_FAILED, msg.SIGN_IN_LINK_INVALID)
    session, then = used
    cookie = sign_in.set_cookie_header(sign_in.cookie_value(s.signer, session), home(), session.expires - now)
    return see_other(base() + then, {**PRIVATE, "Set-Cookie": cookie})


@post("/sign-out", Role.DOOR)
def sign_out(visit: Visit) -> Response:
    """End the session on the server and in the browser."""
    sign_in.sign_out(current().table, visit.signed_in)
    expired = sign_in.set_cookie_header("", home(), timedelta(0))
    return see_other(f"{home()}/sign-in?out=1", {**PRIVATE, "Set-Cookie": expired})
