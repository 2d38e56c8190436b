"""A registrant's own page through HTTP: signed links, corrections, cancelling, the waiting list."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from chalice.test import Client

from chalicelib.domain.event import Category, Event
from chalicelib.domain.links import LinkKeyError, LinkSigner, link_expiry, personal_path
from chalicelib.text import messages as msg
from chalicelib.usecases.registrations import get_registration
from tests.conftest import BASE_URL, FORM, LINK_KEY, World, altered, mailbox, page, signed, valid_form


def register(client: Client, event: Event, **fields: str) -> str:
    """Register through the form; returns the Location of the registrant's own page."""
    response = client.http.post(f"/events/{event.slug}", headers=FORM, body=urlencode(signed(valid_form(**fields))))
    assert response.status_code == 303
    return str(response.headers["Location"])


def token_of(location: str) -> str:
    return dict(part.split("=", 1) for part in urlsplit(location).query.split("&"))["token"]


def post(client: Client, location: str, **fields: str) -> Any:
    path = urlsplit(location).path
    return client.http.post(path, headers=FORM, body=urlencode({"token": token_of(location), **fields}))


# --- the signer ---------------------------------------------------------------------------------------


def test_a_token_opens_only_its_own_registration_and_only_until_it_expires(sample_event: Event) -> None:
    signer = LinkSigner(LINK_KEY.encode())
    expires = link_expiry(sample_event.ends_at)
    token = signer.token("cdo-seminar", "7K3M9QXD2A", expires)
    before = expires - timedelta(seconds=1)
    assert signer.verify("cdo-seminar", "7K3M9QXD2A", token, before)
    assert not signer.verify("cdo-seminar", "7K3M9QXD2B", token, before)
    assert not signer.verify("other-event", "7K3M9QXD2A", token, before)
    assert not signer.verify("cdo-seminar", "7K3M9QXD2A", token, expires)
    later = signer.token("cdo-seminar", "7K3M9QXD2A", expires + timedelta(days=365))
    forged = later.split(".")[0] + "." + token.split(".")[1]  # a later expiry with the old signature
    assert not signer.verify("cdo-seminar", "7K3M9QXD2A", forged, before)
    for garbage in ("", ".", "zz.zz", token + "x", "é." + token.split(".")[1]):
        assert not signer.verify("cdo-seminar", "7K3M9QXD2A", garbage, before)
    other_key = LinkSigner(b"another-key-that-is-long-enough-0123456789")
    assert not other_key.verify("cdo-seminar", "7K3M9QXD2A", token, before)
    with pytest.raises(LinkKeyError):
        LinkSigner(b"short")


# --- the page -----------------------------------------------------------------------------------------


def test_registering_leads_to_the_own_page_which_needs_its_token(client: Client, published: Event) -> None:
    location = register(client, published)
    assert location.startswith(f"/events/{published.slug}/registrations/") and "token=" in location
    shown = client.http.get(location)
    assert shown.status_code == 200 and "お申し込みが完了しました" in page(shown)
    assert shown.headers["Cache-Control"].startswith("no-store")
    bare = urlsplit(location).path
    for attempt in (bare, f"{bare}?token=", altered(location)):
        refused = client.http.get(attempt)
        assert refused.status_code == 404 and msg.LINK_INVALID in page(refused), attempt


def test_the_link_in_the_confirmation_mail_opens_the_page(client: Client, world: World, published: Event) -> None:
    register(client, published)
    world.deliver_outbox()
    (mail,) = mailbox()
    text = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    link = re.search(rf"{re.escape(BASE_URL)}(/events/\S+token=\S+)", text)
    assert link, text
    assert "お申し込みが完了しました" in page(client.http.get(link.group(1)))
    html = mail.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert link.group(1).replace("&", "&amp;") in html or link.group(1) in html


def test_corrections_are_saved_and_mistakes_explained(client: Client, world: World, published: Event) -> None:
    location = register(client, published)
    bad = post(client, location, action="edit", name="", kana="ばんだい", organization="磐梯町", category="mayor")
    assert bad.status_code == 400
    assert "error-summary" in page(bad) and msg.field_error(msg.REQUIRED, "name") in page(bad)
    saved = post(
        client,
        location,
        action="edit",
        name="磐梯 次郎",
        kana="ばんだい じろう",
        organization="磐梯町役場",
        job_title="",
        category="mayor",
        email="attacker@example.jp",
    )
    assert saved.status_code == 303 and saved.headers["Location"].endswith("&done=saved")
    registration_id = urlsplit(location).path.rsplit("/", 1)[1]
    stored = get_registration(world.table, published.slug, registration_id)
    assert stored is not None
    assert (stored.attendee.name, stored.attendee.kana, stored.attendee.email) == (
        "磐梯 次郎",
        "バンダイ ジロウ",
        "taro@example.jp",
    )
    after = page(client.http.get(saved.headers["Location"]))
    # Success looks like success (not like the red refusals), and the destructive forms stand apart, last.
    assert f'<div class="notice notice--success" role="status"><p>{msg.DONE_NOTICES["saved"]}</p>' in after
    assert "notice--important" not in after
    assert after.index('id="edit"') < after.index('class="danger-zone"') < after.index('value="cancel"')
    assert after.index('class="danger-zone"') < after.index('value="erase"')


def test_cancelling_needs_the_confirmation_box_and_then_frees_the_seat(
    client: Client, world: World, published: Event
) -> None:
    location = register(client, published)
    unconfirmed = post(client, location, action="cancel")
    assert unconfirmed.status_code == 400 and msg.CANCEL_CONFIRM_NEEDED in page(unconfirmed)
    done = post(client, location, action="cancel", confirm_cancel="yes")
    assert done.status_code == 303
    assert "取り消されています" in page(client.http.get(done.headers["Location"]))
    assert post(client, location, action="cancel", confirm_cancel="yes").status_code == 303  # twice is once
    assert "残り<strong>50</strong>席" in page(client.http.get(f"/events/{published.slug}"))
    world.deliver_outbox()
    subjects = sorted(str(m["Subject"]).split("】")[0] + "】" for m in mailbox())
    # The confirmation was still queued when they cancelled: only the cancellation goes out.
    assert subjects == ["【お申し込み取り消し】"]


def test_a_token_for_one_registration_cannot_change_another(client: Client, published: Event) -> None:
    mine = register(client, published)
    theirs = register(client, published, email="hanako@example.jp")
    forged = urlsplit(theirs).path + "?token=" + token_of(mine)
    response = post(client, forged, action="cancel", confirm_cancel="yes")
    assert response.status_code == 404
    assert "お申し込みが完了しました" in page(client.http.get(theirs))


def test_a_full_event_offers_the_waiting_list_and_shows_the_place(
    client: Client, world: World, sample_event: Event
) -> None:
    event = world.publish(dataclasses.replace(sample_event, capacity=1))
    first = register(client, event)
    shown = page(client.http.get(f"/events/{event.slug}"))
    assert "キャンセル待ちに申し込む" in shown and "<form" in shown
    second = register(client, event, email="hanako@example.jp")
    waiting = page(client.http.get(second))
    assert "キャンセル待ちとして受け付けました" in waiting and "<strong>1番目</strong>" in waiting
    assert "1名がお待ちです" in page(client.http.get(f"/events/{event.slug}"))
    post(client, first, action="cancel", confirm_cancel="yes")
    assert "お申し込みが完了しました" in page(client.http.get(second))  # moved up at once
    world.deliver_outbox()
    promoted = [m for m in mailbox() if str(m["Subject"]).startswith("【参加確定】")]
    assert [m["To"] for m in promoted] == ["hanako@example.jp"]


def test_the_api_answers_a_place_in_the_waiting_list(client: Client, world: World, sample_event: Event) -> None:
    event = world.publish(dataclasses.replace(sample_event, capacity=1))
    register(client, event)
    body = {**valid_form(email="hanako@example.jp"), "consent": True}
    response = client.http.post(
        f"/api/events/{event.slug}/registrations", headers=world.api_headers(), body=json.dumps(body)
    )
    assert response.status_code == 201
    assert response.json_body["status"] == "waitlisted" and response.json_body["position"] == 1


def test_the_place_in_line_is_the_same_on_the_page_in_the_mail_and_in_the_api(
    client: Client, world: World, sample_event: Event
) -> None:
    """One definition of a waiting person's place, with a reserved-seat category in play (issue 19)."""
    categories = (Category("councillor", "地方議員", reserved=1), Category("other", "その他"))
    event = world.publish(dataclasses.replace(sample_event, capacity=3, categories=categories))
    api_places: dict[str, int] = {}
    locations: dict[str, str] = {}
    people = [("a", "other", 0), ("b", "other", 1), ("c", "other", 0), ("d", "councillor", 1), ("e", "councillor", 1)]
    for who, category, through_api in [*people, ("f", "other", 0)]:
        world.clock.set(world.clock.now() + timedelta(seconds=1))  # people join one after another
        email = f"{who}@example.jp"
        if through_api:
            body = {**valid_form(email=email, category=category), "consent": True}
            path = f"/api/events/{event.slug}/registrations"
            answer = client.http.post(path, headers=world.api_headers(), body=json.dumps(body)).json_body
            if answer["status"] == "waitlisted":
                api_places[email] = answer["position"]
            signer = LinkSigner(LINK_KEY.encode())
            locations[email] = personal_path(signer, event.slug, answer["registration_id"], event.ends_at)
        else:
            locations[email] = register(client, event, email=email, category=category)
    world.deliver_outbox()
    subjects = {str(m["To"]): str(m["Subject"]) for m in mailbox()}
    waiting = {e: int(m.group(1)) for e, s in subjects.items() if (m := re.search(r"キャンセル待ち受付・(\d+)番目", s))}
    shown = {
        e: int(m.group(1))
        for e, where in locations.items()
        if (m := re.search(r"<strong>(\d+)番目</strong>", page(client.http.get(where))))
    }
    # c waits for a general seat, e for the councillors' (d holds the reserved one), f behind them both.
    assert waiting == shown == {"c@example.jp": 1, "e@example.jp": 2, "f@example.jp": 3}
    assert api_places == {"e@example.jp": 2}
