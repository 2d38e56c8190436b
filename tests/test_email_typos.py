"""Mistyped mail domains: the suggestion, and the form asking once before it costs a seat (issue 19)."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from chalice.test import Client

from chalicelib.domain.email_typos import suggest
from chalicelib.domain.event import Event
from chalicelib.usecases.roster import entries
from chalicelib.web.bots import Form
from tests.conftest import FORM, World, mailbox, page, signed, valid_form


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("taro@gmial.com", "taro@gmail.com"),
        ("taro@gmail.con", "taro@gmail.com"),
        ("taro@gmai.com", "taro@gmail.com"),
        ("taro@yahooo.co.jp", "taro@yahoo.co.jp"),
        ("taro@yahoo.co.pj", "taro@yahoo.co.jp"),
        ("taro@docomo.ne.jb", "taro@docomo.ne.jp"),
        ("taro@ezweb.ne.jb", "taro@ezweb.ne.jp"),
        ("taro@softbank.ne.jb", "taro@softbank.ne.jp"),
        ("taro@hotmial.com", "taro@hotmail.com"),
        ("taro@icloud.co", "taro@icloud.com"),
        ("taro@GMIAL.COM", "taro@gmail.com"),
    ],
)
def test_a_near_miss_of_a_well_known_domain_is_suggested(typed: str, meant: str) -> None:
    assert suggest(typed) == meant


@pytest.mark.parametrize(
    "address",
    [
        "taro@gmail.com",
        "taro@yahoo.co.jp",
        "taro@city.bandai.lg.jp",
        "taro@pref.fukushima.lg.jp",
        "taro@example.jp",
        "taro@mail.com",  # real, one edit from gmail.com
        "taro@ai.com",  # too short to guess
        "taro@bandai-town.jp",
        "no-at-sign",
    ],
)
def test_a_domain_that_is_real_or_unlike_any_well_known_one_is_left_alone(address: str) -> None:
    assert suggest(address) == ""


def post(client: Client, event: Event, **fields: str) -> object:
    body = urlencode(signed(valid_form(**fields)))
    return client.http.post(f"/events/{event.slug}", headers=FORM, body=body)


def test_the_form_asks_once_and_registers_the_address_the_person_chose(
    client: Client, world: World, published: Event
) -> None:
    asked = post(client, published, email="taro@gmial.com")
    shown = page(asked)
    assert asked.status_code == 400  # type: ignore[attr-defined]
    assert "「gmial.com」は「gmail.com」の誤りではありませんか？" in shown
    assert 'href="#email_choice"' in shown and 'id="email_choice"' in shown
    assert 'name="email_checked" value="taro@gmial.com"' in shown and 'value="taro@gmial.com"' in shown
    assert entries(world.table, published.slug) == []  # nothing taken while the person decides
    # Pressing the button again without choosing asks again; a choice made for another address does not count.
    assert post(client, published, email="taro@gmial.com").status_code == 400  # type: ignore[attr-defined]
    other = post(client, published, email="taro@gmial.com", email_checked="x@gmial.com", email_choice="typed")
    assert other.status_code == 400  # type: ignore[attr-defined]
    fixed = post(client, published, email="taro@gmial.com", email_checked="taro@gmial.com", email_choice="suggested")
    kept = post(
        client,
        published,
        email="hanako@yahooo.co.jp",
        email_checked="hanako@yahooo.co.jp",
        email_choice="typed",
    )
    assert fixed.status_code == kept.status_code == 303  # type: ignore[attr-defined]
    stored = {e.registration.attendee.email for e in entries(world.table, published.slug)}
    assert stored == {"taro@gmail.com", "hanako@yahooo.co.jp"}


def test_a_well_spelt_address_goes_straight_through(client: Client, world: World, published: Event) -> None:
    assert post(client, published, email="taro@city.bandai.lg.jp").status_code == 303  # type: ignore[attr-defined]


# --- the personal link again, without the mail --------------------------------------------------------


def ask_for_link(client: Client, event: Event, address: str, **extra: str) -> object:
    fields = signed({}, event.slug, form=Form.LINK_REQUEST)
    body = urlencode({**fields, "email": address, **extra})
    return client.http.post(f"/events/{event.slug}/my-link", headers=FORM, body=body)


def test_the_personal_link_comes_again_by_typing_the_address_and_the_answer_tells_nobody_anything(
    client: Client, world: World, published: Event
) -> None:
    shown = page(client.http.get(f"/events/{published.slug}"))
    assert f'href="/events/{published.slug}/my-link"' in shown
    form = client.http.get(f"/events/{published.slug}/my-link")
    assert form.status_code == 200 and 'name="email"' in page(form)
    assert post(client, published, email="taro@example.jp").status_code == 303  # type: ignore[attr-defined]
    world.deliver_outbox()
    before = len(mailbox())
    world.clock.set(world.clock.now() + timedelta(minutes=6))  # past the registration's own confirmation
    registered = ask_for_link(client, published, "TARO@example.jp")
    unknown = ask_for_link(client, published, "nobody@example.jp")
    assert registered.status_code == unknown.status_code == 200  # type: ignore[attr-defined]
    strip = re.compile(r'name="(submission_id|form_token)" value="[^"]*"')
    assert strip.sub("", page(registered)) == strip.sub("", page(unknown))
    world.deliver_outbox()
    again = mailbox()[before:]
    assert [m["To"] for m in again] == ["taro@example.jp"]
    assert f"/events/{published.slug}/registrations/" in again[0].get_body(("plain",)).get_content()
    # At most one mail per address per few minutes, however often someone asks.
    assert ask_for_link(client, published, "taro@example.jp").status_code == 200  # type: ignore[attr-defined]
    world.deliver_outbox()
    assert len(mailbox()) == before + 1


def test_asking_for_the_link_explains_a_bad_address_and_a_bot_gets_nothing(
    client: Client, world: World, published: Event
) -> None:
    bad = ask_for_link(client, published, "taro.example.jp")
    assert bad.status_code == 400 and 'id="email-error"' in page(bad)  # type: ignore[attr-defined]
    assert 'value="taro.example.jp"' in page(bad)
    trapped = ask_for_link(client, published, "taro@example.jp", website="http://spam.example")
    assert trapped.status_code == 400  # type: ignore[attr-defined]
    forged = client.http.post(
        f"/events/{published.slug}/my-link", headers=FORM, body=urlencode({"email": "taro@example.jp"})
    )
    assert forged.status_code == 400 and "リンクを送る" in page(forged)
    assert client.http.get("/events/no-such-event/my-link").status_code == 404
