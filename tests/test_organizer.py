"""Organizer pages through HTTP: e-mailed sign-in, sessions, and every route refusing strangers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from chalice.test import Client

import app as app_module
from chalicelib.domain.event import Event
from chalicelib.usecases import sign_in as sign_in_usecase
from chalicelib.usecases.registering import register
from tests.conftest import BASE_URL, FORM, World, altered, mailbox, numbered, page

ORGANIZER = "office@example.jp"


@dataclass
class SignedIn:
    """An organizer's browser: the Cookie header and the CSRF token its pages carry."""

    cookie: str
    csrf: str

    def get(self, client: Client, path: str) -> Any:
        return client.http.get(path, headers={"Cookie": self.cookie})

    def post(self, client: Client, path: str, **fields: str) -> Any:
        body = urlencode({"csrf": self.csrf, **fields})
        return client.http.post(path, headers={**FORM, "Cookie": self.cookie}, body=body)


@pytest.fixture
def organizer_listed(world: World) -> World:
    world.let_sign_in(ORGANIZER)
    return world


def sign_in_link(client: Client, world: World, email: str = ORGANIZER) -> str:
    """Ask for a sign-in mail and return the path of the link it carries."""
    response = client.http.post("/organizer/sign-in", headers=FORM, body=urlencode({"email": email}))
    assert response.status_code == 200
    world.deliver_outbox()
    [mail] = [m for m in mailbox() if m["To"] == email]
    text = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    found = re.search(rf"{re.escape(BASE_URL)}(/organizer/sign-in/\S+)", text)
    assert found is not None
    return found.group(1)


def use_link(client: Client, link: str) -> Any:
    parts = urlsplit(link)
    token = dict(p.split("=", 1) for p in parts.query.split("&"))["token"]
    return client.http.post(parts.path, headers=FORM, body=urlencode({"token": token}))


def sign_in_by_mail(client: Client, world: World, email: str = ORGANIZER) -> SignedIn:
    """The whole sign-in: the mail, its link, the button; then read the CSRF token off the dashboard."""
    response = use_link(client, sign_in_link(client, world, email))
    assert response.status_code == 303
    cookie = response.headers["Set-Cookie"].split(";", 1)[0]
    dashboard = client.http.get("/organizer", headers={"Cookie": cookie})
    csrf = re.search(r'name="csrf" value="([^"]+)"', page(dashboard))
    assert csrf is not None
    return SignedIn(cookie, csrf.group(1))


def sign_in(client: Client, world: World, email: str = ORGANIZER) -> SignedIn:
    """Someone already signed in, for tests of what comes after: the session a spent link starts.

    Signing in itself (the mail, the link, the button) is tested with sign_in_by_mail; going through it
    for every test of the pages behind it cost three mails and a stream delivery per role per test.
    """
    session = sign_in_usecase.start_session(world.table, email, world.clock.now())
    signer = world.services.signer
    cookie = f"{sign_in_usecase.COOKIE}={sign_in_usecase.cookie_value(signer, session)}"
    return SignedIn(cookie, sign_in_usecase.csrf_token(signer, session))


def test_an_organizer_signs_in_with_the_link_mailed_to_them(
    client: Client, organizer_listed: World, published: Event
) -> None:
    link = sign_in_link(client, organizer_listed)
    # Opening the link (as a mail scanner would) only shows a button; it does not use it up.
    for _ in range(2):
        opened = client.http.get(link)
        assert opened.status_code == 200 and "サインインする" in page(opened)
    response = use_link(client, link)
    assert response.status_code == 303 and response.headers["Location"] == "/organizer"
    cookie = response.headers["Set-Cookie"]
    assert {"HttpOnly", "Secure", "SameSite=Lax", "Path=/organizer"} <= {p.strip() for p in cookie.split(";")}
    dashboard = client.http.get("/organizer", headers={"Cookie": cookie.split(";", 1)[0]})
    assert dashboard.status_code == 200 and published.title in page(dashboard) and ORGANIZER in page(dashboard)
    assert dashboard.headers["Cache-Control"] == "no-store"
    assert use_link(client, link).status_code == 404  # once only


def test_anyone_may_ask_but_only_listed_organizers_get_a_link(
    client: Client, organizer_listed: World, published: Event
) -> None:
    stranger = client.http.post("/organizer/sign-in", headers=FORM, body=urlencode({"email": "who@example.jp"}))
    listed = client.http.post("/organizer/sign-in", headers=FORM, body=urlencode({"email": " Office@Example.jp "}))
    # The same words either way: the page does not tell who the organizers are.
    assert page(stranger).replace("who@example.jp", "X") == page(listed).replace("Office@Example.jp", "X")
    organizer_listed.deliver_outbox()
    assert [m["To"] for m in mailbox()] == [ORGANIZER]
    empty = client.http.post("/organizer/sign-in", headers=FORM, body=urlencode({"email": ""}))
    assert empty.status_code == 400 and "メールアドレスを入力してください" in page(empty)


def links_in_mail(world: World, email: str = ORGANIZER) -> list[str]:
    """Every sign-in link mailed to `email` so far."""
    world.deliver_outbox()
    found = []
    for mail in mailbox():
        if mail["To"] == email:
            text = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
            found += re.findall(rf"{re.escape(BASE_URL)}(/organizer/sign-in/\S+)", text)
    return found


def ask(client: Client, email: str = ORGANIZER, then: str | None = None) -> Any:
    fields = {"email": email, **({"then": then} if then is not None else {})}
    return client.http.post("/organizer/sign-in", headers=FORM, body=urlencode(fields))


def test_each_request_gets_a_link_of_its_own_up_to_a_limit(client: Client, organizer_listed: World) -> None:
    for _ in range(sign_in_usecase.SIGN_IN_LIMIT + 2):
        assert ask(client).status_code == 200  # the same page, also past the limit
    links = links_in_mail(organizer_listed)
    assert len(links) == len(set(links)) == sign_in_usecase.SIGN_IN_LIMIT
    organizer_listed.clock.advance(sign_in_usecase.SIGN_IN_VALID)
    ask(client)
    assert len(links_in_mail(organizer_listed)) == sign_in_usecase.SIGN_IN_LIMIT + 1


def test_strangers_asking_for_an_organizers_link_never_lock_them_out(client: Client, organizer_listed: World) -> None:
    # An attacker asks for the organizer's address with a made-up return path: refused, nothing queued.
    for then in ("/organizer/x\r\ny", "/organizer/x%0D%0Ay", "//evil.example/organizer", "https://evil.example/"):
        refused = ask(client, then=then)
        assert refused.status_code == 400 and "このサイトのページではありません" in page(refused), then
    assert links_in_mail(organizer_listed) == []
    # Asking with a valid return path only puts more working links into the organizer's inbox.
    ask(client, then="/organizer/events/cdo-seminar")
    ask(client)  # the organizer's own request
    links = links_in_mail(organizer_listed)
    assert len(links) == 2
    for link in links:
        spent = use_link(client, link)
        assert spent.status_code == 303 and spent.headers["Location"].startswith("/organizer")


def test_a_stored_return_path_that_is_not_a_page_here_never_makes_a_500(
    client: Client, organizer_listed: World
) -> None:
    ask(client)
    [link] = links_in_mail(organizer_listed)
    nonce = urlsplit(link).path.rsplit("/", 1)[1]
    # As a link stored before return paths were checked might hold.
    organizer_listed.table.update(
        {"pk": "EVENT#_site", "sk": f"SIGNIN#{nonce}"},
        "SET #then = :then",
        {":then": "/organizer/x\r\ny"},
        {"#then": "then"},
    )
    spent = use_link(client, link)
    assert spent.status_code == 303 and spent.headers["Location"] == "/organizer"


def test_listed_and_unlisted_addresses_take_the_same_time(client: Client, organizer_listed: World) -> None:
    import statistics
    import time

    listed: list[float] = []
    unlisted: list[float] = []
    for n in range(200):  # side by side, so drift in the machine's speed hits both alike
        organizer_listed.clock.advance(sign_in_usecase.SIGN_IN_VALID)  # a fresh window: the limit never applies
        for email, times in ((ORGANIZER, listed), (f"someone{n}@example.jp", unlisted)):
            start = time.perf_counter()
            assert ask(client, email).status_code == 200
            times.append(time.perf_counter() - start)
    ratio = statistics.median(listed) / statistics.median(unlisted)
    assert 0.8 < ratio < 1.25, (
        f"listed {statistics.median(listed) * 1000:.1f} ms, unlisted {statistics.median(unlisted) * 1000:.1f} ms"
    )


def test_a_link_is_refused_when_forged_or_expired(client: Client, organizer_listed: World) -> None:
    link = sign_in_link(client, organizer_listed)
    path, _, token = link.partition("?token=")
    forged = f"{path}?token={altered(token)}"
    assert client.http.get(forged).status_code == 404
    assert use_link(client, forged).status_code == 404
    organizer_listed.clock.advance(sign_in_usecase.SIGN_IN_VALID + timedelta(seconds=1))
    assert client.http.get(link).status_code == 404
    assert use_link(client, link).status_code == 404


def _organizer_routes() -> list[tuple[str, str]]:
    """Every organizer route except the sign-in ones, as (method, path) with sample path parameters."""
    found = []
    for path, methods in app_module.app.routes.items():
        if not path.startswith("/organizer") or path.startswith("/organizer/sign-in"):
            continue
        concrete = (
            path.replace("{slug}", "cdo-seminar")
            .replace("{registration_id}", "R000000001")
            .replace("{broadcast_id}", "B1")
            .replace("{name}", "door.csv")
        )
        found += [(method, concrete) for method in methods]
    return sorted(found)


ORGANIZER_ROUTES = _organizer_routes()


def test_the_organizer_routes_are_all_covered_below() -> None:
    # A new organizer route joins the refusal tests by itself; this guards against the list going empty.
    assert len(ORGANIZER_ROUTES) >= 11


def _refused(response: Any, method: str) -> bool:
    """A GET goes to the sign-in page; a POST is forbidden. Neither shows a registrant."""
    body = page(response)
    if "磐梯" in body or "person1@example.jp" in body:
        return False
    if method == "GET":
        return response.status_code == 303 and response.headers["Location"].startswith("/organizer/sign-in?then=")
    return response.status_code == 403


@pytest.mark.parametrize(("method", "path"), ORGANIZER_ROUTES)
def test_every_organizer_route_refuses_anonymous_forged_and_ended_sessions(
    client: Client, organizer_listed: World, published: Event, method: str, path: str
) -> None:
    register(organizer_listed.table, published, numbered(1), "SUB1", organizer_listed.clock.now())
    signed_in = sign_in(client, organizer_listed)
    session_id = signed_in.cookie.split("=", 1)[1].split(".", 1)[0]
    forged_cookies = [
        "",
        "uketsuke_session=",
        f"uketsuke_session={session_id}",  # no signature
        f"uketsuke_session={session_id}.ffffffff.AAAA",  # a made-up signature
        altered(signed_in.cookie),  # a real cookie with its signature altered
        'uketsuke_session="; Path=/',  # not even a well-formed cookie
    ]
    for cookie in forged_cookies:
        if method == "GET":
            response = client.http.get(path, headers={"Cookie": cookie})
        else:
            response = client.http.post(path, headers={**FORM, "Cookie": cookie}, body=urlencode({}))
        assert _refused(response, method), (cookie, response.status_code)
    if method == "POST":
        # A genuine session posting without its page's token (another site's form) is refused too.
        for csrf in ("", "ffffffff.AAAA", altered(signed_in.csrf)):
            response = client.http.post(
                path, headers={**FORM, "Cookie": signed_in.cookie}, body=urlencode({"csrf": csrf})
            )
            assert response.status_code == 403
    organizer_listed.clock.advance(sign_in_usecase.SESSION_LENGTH)
    expired = signed_in.get(client, path) if method == "GET" else signed_in.post(client, path)
    assert _refused(expired, method)


def test_signing_out_ends_the_session_even_for_a_copied_cookie(client: Client, organizer_listed: World) -> None:
    signed_in = sign_in_by_mail(client, organizer_listed)
    assert signed_in.get(client, "/organizer").status_code == 200
    response = signed_in.post(client, "/organizer/sign-out")
    assert response.status_code == 303 and "Max-Age=0" in response.headers["Set-Cookie"]
    assert signed_in.get(client, "/organizer").status_code == 303


def test_a_session_of_another_organizer_cannot_post_with_this_ones_token(
    client: Client, organizer_listed: World
) -> None:
    organizer_listed.let_sign_in(ORGANIZER, "desk@example.jp")
    first = sign_in(client, organizer_listed)
    second = sign_in(client, organizer_listed, "desk@example.jp")
    crossed = SignedIn(second.cookie, first.csrf)
    assert crossed.post(client, "/organizer/sign-out").status_code == 403
    assert second.post(client, "/organizer/sign-out").status_code == 303


def test_signing_in_from_a_scanned_code_leads_back_to_it(client: Client, organizer_listed: World) -> None:
    scanned = "/organizer/events/cdo-seminar/check-in/R000000001?token=abc"
    first = client.http.get(scanned)
    assert first.status_code == 303
    sign_in_page = page(client.http.get(first.headers["Location"]))
    assert 'name="then" value="/organizer/events/cdo-seminar/check-in/R000000001?token=abc"' in sign_in_page
    body = urlencode({"email": ORGANIZER, "then": scanned})
    client.http.post("/organizer/sign-in", headers=FORM, body=body)
    organizer_listed.deliver_outbox()
    text = mailbox()[-1].get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    link = re.search(rf"{re.escape(BASE_URL)}(/organizer/sign-in/\S+)", text)
    assert link is not None
    assert use_link(client, link.group(1)).headers["Location"] == scanned


@pytest.mark.parametrize("then", ["https://evil.example/", "//evil.example/x", "/events/x", "/organizer/\\evil", ""])
def test_after_signing_in_nobody_is_sent_off_the_organizer_pages(then: str) -> None:
    assert sign_in_usecase.return_path(then) == "/organizer"


def test_behind_api_gateway_the_way_to_sign_in_keeps_the_stage_prefix(organizer_listed: World) -> None:
    from tests.conftest import api_gateway_event

    event = api_gateway_event("GET", "/organizer/events/cdo-seminar", "/organizer/events/{slug}", "cdo-seminar")
    response = app_module.app(event, None)
    assert response["statusCode"] == 303
    assert response["headers"]["Location"] == "/api/organizer/sign-in?then=%2Forganizer%2Fevents%2Fcdo-seminar"


def test_what_was_typed_is_shown_back_as_text(client: Client, organizer_listed: World) -> None:
    typed = '<img src=x onerror="alert(1)">@example.jp'
    body = page(client.http.post("/organizer/sign-in", headers=FORM, body=urlencode({"email": typed})))
    assert "<img src=x" not in body and "&lt;img src=x onerror=" in body


@pytest.mark.parametrize(
    "sent_by",
    [
        {"Origin": "https://evil.example"},
        {"Sec-Fetch-Site": "cross-site", "Origin": "null"},
        {"Sec-Fetch-Site": "same-site", "Origin": "https://other.example.jp"},  # a sibling subdomain's page
    ],
)
def test_a_form_another_site_sends_is_refused_sign_in_included(
    client: Client, organizer_listed: World, published: Event, sent_by: dict[str, str]
) -> None:
    link = sign_in_link(client, organizer_listed)
    parts = urlsplit(link)
    token = dict(p.split("=", 1) for p in parts.query.split("&"))["token"]
    forged = client.http.post(parts.path, headers={**FORM, **sent_by}, body=urlencode({"token": token}))
    assert forged.status_code == 403 and "Set-Cookie" not in forged.headers  # nobody signed in by another site
    assert use_link(client, link).status_code == 303  # the link is still the owner's to use
