"""The event editor in the browser: the event file's own format, checked as load-events checks it, previewed, saved."""

from __future__ import annotations

import dataclasses
import html as html_lib
import re
from datetime import timedelta

import pytest
from chalice.test import Client

from chalicelib.domain.event import Event
from chalicelib.domain.event_file import to_toml
from chalicelib.usecases.catalog import get_event
from chalicelib.usecases.registering import register
from tests.conftest import World, numbered, page
from tests.test_organizer import ORGANIZER, SignedIn, sign_in


@pytest.fixture
def owner(client: Client, world: World, published: Event) -> SignedIn:
    world.let_sign_in(ORGANIZER)
    return sign_in(client, world)


def textarea(shown: str) -> str:
    found = re.search(r'<textarea[^>]*id="text"[^>]*>(.*?)</textarea>', shown, re.S)
    assert found is not None
    return html_lib.unescape(found.group(1))


def test_the_editor_shows_the_file_previews_and_saves_and_more_seats_move_the_line_up(
    client: Client, world: World, sample_event: Event, owner: SignedIn
) -> None:
    event = world.publish(dataclasses.replace(sample_event, slug="small", capacity=1))
    now = world.clock.now()
    register(world.table, event, numbered(1), "S1", now)
    register(world.table, event, numbered(2), "S2", now + timedelta(seconds=1))  # waits
    path = "/organizer/events/small/edit-file"
    text = textarea(page(owner.get(client, path)))
    assert text == to_toml(event)
    more = text.replace("capacity = 1\n", "capacity = 2\n")
    preview = owner.post(client, path, text=more, action="preview")
    shown = page(preview)
    assert preview.status_code == 200 and "プレビュー：まだ保存していません。" in shown and event.title in shown
    assert get_event(world.table, "small").event.capacity == 1  # type: ignore[union-attr]  # nothing saved yet
    saved = owner.post(client, path, text=more, action="save")
    assert saved.status_code == 303 and saved.headers["Location"].endswith("/organizer/events/small?saved=1")
    state = get_event(world.table, "small")
    assert state is not None and state.event.capacity == 2 and state.seats_taken == 2 and state.waiting == 0
    assert "保存して公開しました" in page(owner.get(client, "/organizer/events/small?saved=1"))
    fewer = more.replace("capacity = 2\n", "capacity = 1\n")
    refused = owner.post(client, path, text=fewer, action="save")
    assert refused.status_code == 400 and "below the 2 seats already taken" in page(refused)
    assert textarea(page(refused)) == fewer  # what was typed is kept


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (lambda t: t.replace("registration_closes_at", "registration_close_at"), "registration_closes_at"),
        (lambda t: t + "\n[[[", "not valid TOML"),
        (lambda t: t.replace('slug = "cdo-seminar"', 'slug = "renamed"'), "must stay 'cdo-seminar'"),
        (lambda t: t.replace("capacity = ", "capacity = -"), "capacity"),
    ],
)
def test_a_mistake_is_named_and_nothing_is_saved(
    client: Client, world: World, published: Event, owner: SignedIn, change: object, said: str
) -> None:
    path = f"/organizer/events/{published.slug}/edit-file"
    text = to_toml(published)
    if "registration_closes_at" not in text:
        text = text.replace("capacity = ", 'registration_closes_at = "2027-01-19 18:00"\ncapacity = ', 1)
    broken = change(text)  # type: ignore[operator]
    answer = owner.post(client, path, text=broken, action="save")
    shown = page(answer)
    assert answer.status_code == 400 and said in html_lib.unescape(shown)
    assert 'id="text-error"' in shown and 'href="#text"' in shown
    assert get_event(world.table, published.slug).event == published  # type: ignore[union-attr]


def test_a_new_event_from_a_file_is_a_draft_and_a_taken_address_is_refused(
    client: Client, world: World, published: Event, owner: SignedIn
) -> None:
    text = to_toml(published).replace(f'slug = "{published.slug}"', f'slug = "{published.slug}-2"')
    created = owner.post(client, "/organizer/new-event/file", text=text, action="save")
    assert created.status_code == 303 and created.headers["Location"].endswith("?draft=1")
    copy = get_event(world.table, f"{published.slug}-2")
    assert copy is not None and copy.event.title == published.title and copy.seats_taken == 0 and copy.draft
    assert client.http.get(f"/events/{published.slug}-2").status_code == 404  # a draft, until published
    again = owner.post(client, "/organizer/new-event/file", text=text, action="save")
    assert again.status_code == 400 and "is taken by another event" in html_lib.unescape(page(again))
    empty = owner.post(client, "/organizer/new-event/file", text="", action="preview")
    assert empty.status_code == 400 and 'id="text-error"' in page(empty)


def test_an_unpublished_event_is_gone_for_the_public_and_kept_for_its_registrants(
    client: Client, world: World, published: Event, owner: SignedIn
) -> None:
    from urllib.parse import urlencode

    from tests.conftest import FORM, signed, valid_form

    taken = client.http.post(f"/events/{published.slug}", headers=FORM, body=urlencode(signed(valid_form())))
    assert taken.status_code == 303
    hidden = owner.post(client, f"/organizer/events/{published.slug}/visibility", published="no")
    assert hidden.status_code == 303
    assert client.http.get(f"/events/{published.slug}").status_code == 404
    assert published.title not in page(client.http.get("/"))
    assert client.http.get(f"/api/events/{published.slug}", headers=world.api_headers()).status_code == 404
    late = urlencode(signed(valid_form(email="late@example.jp")))
    assert client.http.post(f"/events/{published.slug}", headers=FORM, body=late).status_code == 404
    assert client.http.get(taken.headers["Location"]).status_code == 200  # the registrant's own page stays
    overview = page(owner.get(client, f"/organizer/events/{published.slug}"))
    assert "このイベントは非公開です" in overview
    assert owner.post(client, f"/organizer/events/{published.slug}/visibility", published="yes").status_code == 303
    assert client.http.get(f"/events/{published.slug}").status_code == 200
    again = urlencode(signed(valid_form(email="again@example.jp")))
    assert client.http.post(f"/events/{published.slug}", headers=FORM, body=again).status_code == 303
