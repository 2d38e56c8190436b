"""合理的配慮: asked by default, seen only by organizers, editable, exported on its own, erased with the rest."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import tomllib
from urllib.parse import urlencode, urlsplit

from chalice.test import Client

from chalicelib.domain.attendee import ACCOMMODATIONS, validate_registration
from chalicelib.domain.event import Event
from chalicelib.domain.event_file import parse_event, to_toml
from chalicelib.store import schema
from chalicelib.text import messages as msg
from chalicelib.usecases.registrations import get_registration
from tests.conftest import FORM, World, mailbox, page, signed, valid_form
from tests.test_organizer import ORGANIZER, sign_in

NEEDS = {"needs_sign_language": "yes", "needs_captioning": "yes", "needs_note": "資料を拡大版でいただけると助かります"}


def test_every_kind_of_accommodation_has_its_words() -> None:
    assert tuple(msg.ACCOMMODATION_LABELS) == ACCOMMODATIONS


def test_the_answers_are_kept_in_a_fixed_order_and_unknown_kinds_are_refused() -> None:
    form = validate_registration({**valid_form(), "needs": ["seating", "wheelchair", "seating"]}, ["civil-servant"])
    assert form.attendee is not None and form.attendee.needs == "wheelchair,seating"
    boxes = validate_registration({**valid_form(), "needs_companion": "yes", "needs_bogus": "yes"}, ["civil-servant"])
    assert boxes.attendee is not None and boxes.attendee.needs_list == ("companion",)
    for wrong in (["teleport"], "wheelchair", [1]):
        refused = validate_registration({**valid_form(), "needs": wrong}, ["civil-servant"])
        assert refused.attendee is None and "needs" in refused.errors
    too_long = validate_registration({**valid_form(), "needs_note": "あ" * 501}, ["civil-servant"])
    assert "needs_note" in too_long.errors


def test_the_question_can_be_turned_off_and_the_file_says_so_both_ways(sample_event: Event) -> None:
    off = dataclasses.replace(sample_event, accommodation_question=False)
    assert parse_event(tomllib.loads(to_toml(off))) == off
    assert parse_event(tomllib.loads(to_toml(sample_event))).accommodation_question is True


def register(client: Client, event: Event, **fields: str) -> str:
    response = client.http.post(f"/events/{event.slug}", headers=FORM, body=urlencode(signed(valid_form(**fields))))
    assert response.status_code == 303, page(response)
    return str(response.headers["Location"])


def test_asked_on_the_form_shown_to_organizers_and_in_its_own_list_never_on_the_public_page(
    client: Client, world: World, published: Event
) -> None:
    form = page(client.http.get(f"/events/{published.slug}"))
    assert "配慮が必要なこと" in form and 'name="needs_sign_language"' in form and 'id="needs"' in form
    location = register(client, published, **NEEDS)
    register(client, published, email="plain@example.jp")  # asked nothing: not in the list
    registration_id = urlsplit(location).path.rsplit("/", 1)[1]
    stored = get_registration(world.table, published.slug, registration_id)
    assert stored is not None and stored.attendee.needs_list == ("sign_language", "captioning")
    world.deliver_outbox()
    [confirmation] = [m for m in mailbox() if m["To"] == "taro@example.jp"]
    text = confirmation.get_body(("plain",)).get_content()
    assert "手話通訳、要約筆記（文字による通訳）" in text and "資料を拡大版" in text
    world.let_sign_in(ORGANIZER)
    desk = sign_in(client, world)
    detail = page(desk.get(client, f"/organizer/events/{published.slug}/registrations/{registration_id}"))
    assert "手話通訳、要約筆記（文字による通訳）" in detail and "資料を拡大版" in detail
    body = desk.get(client, f"/organizer/events/{published.slug}/export/accommodation.csv").body.decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(body, newline="")))
    assert table[0][-3:] == ["配慮が必要なこと", "配慮についての詳細", "メールアドレス"]
    assert [row[-1] for row in table[1:]] == ["taro@example.jp"]
    assert "資料を拡大版" not in page(client.http.get(f"/events/{published.slug}"))


def test_a_registrant_changes_their_answer_and_erasing_removes_it(
    client: Client, world: World, published: Event
) -> None:
    location = register(client, published, **NEEDS)
    path, token = urlsplit(location).path, location.split("token=")[1]
    own = page(client.http.get(location))
    assert 'name="needs_sign_language" value="yes" checked' in own
    fields = {"token": token, "action": "edit", **valid_form(), "needs_wheelchair": "yes", "needs_note": ""}
    assert client.http.post(path, headers=FORM, body=urlencode(fields)).status_code == 303
    registration_id = path.rsplit("/", 1)[1]
    stored = get_registration(world.table, published.slug, registration_id)
    assert stored is not None and (stored.attendee.needs, stored.attendee.needs_note) == ("wheelchair", "")
    erase = {"token": token, "action": "erase", "confirm_erase": "yes"}
    assert client.http.post(path, headers=FORM, body=urlencode(erase)).status_code == 303
    item = world.table.get(schema.registration_key(published.slug, registration_id))
    assert item is not None and item["needs"] == "" and item["needs_note"] == ""


def test_the_api_takes_a_list_and_explains_a_wrong_one(client: Client, world: World, published: Event) -> None:
    path = f"/api/events/{published.slug}/registrations"
    body = {**valid_form(), "consent": True, "needs": ["wheelchair"], "needs_note": "スロープの場所を教えてください"}
    taken = client.http.post(path, headers=world.api_headers(), body=json.dumps(body))
    assert taken.status_code == 201
    stored = get_registration(world.table, published.slug, taken.json_body["registration_id"])
    assert stored is not None and stored.attendee.needs == "wheelchair"
    wrong = {**body, "email": "other@example.jp", "needs": ["teleport"]}
    refused = client.http.post(path, headers=world.api_headers(), body=json.dumps(wrong))
    assert refused.status_code == 422 and "teleport" in refused.json_body["errors"]["needs"]


def test_an_event_that_does_not_ask_shows_no_question(client: Client, world: World, sample_event: Event) -> None:
    event = world.publish(dataclasses.replace(sample_event, accommodation_question=False))
    assert 'name="needs_sign_language"' not in page(client.http.get(f"/events/{event.slug}"))
