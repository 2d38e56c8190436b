"""Names from everywhere: a reading is asked of Japanese registrants; a name in Latin letters needs none."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from chalice.test import Client

from chalicelib.domain.attendee import validate_registration
from chalicelib.domain.event import Event
from chalicelib.usecases import exports, roster
from chalicelib.usecases.registering import register
from tests.conftest import World, attendee, page, signed, valid_form
from tests.test_http import FORM

CATEGORIES = ["other"]


def test_a_latin_letter_name_needs_no_reading_in_english_but_japanese_asks_for_one() -> None:
    smith = {**valid_form(name="John Smith", kana="", organization="City of Bristol", category="other")}
    english = validate_registration(smith, CATEGORIES, "en")
    assert english.attendee is not None and english.attendee.kana == ""
    japanese = validate_registration(smith, CATEGORIES, "ja")
    assert japanese.attendee is None and set(japanese.errors) == {"kana"}
    # A reading given in English is still checked and converted like any other.
    assert validate_registration({**smith, "kana": "すみす"}, CATEGORIES, "en").attendee.kana == "スミス"  # type: ignore[union-attr]
    assert "kana" in validate_registration({**smith, "kana": "Smith"}, CATEGORIES, "en").errors


def test_an_english_speaker_registers_through_the_form_and_the_api(
    client: Client, world: World, published: Event
) -> None:
    fields = signed(valid_form(name="John Smith", kana="", email="john@example.org"), published.slug)
    body = urlencode(fields)
    answer = client.http.post(f"/events/{published.slug}", headers={**FORM, "Accept-Language": "en"}, body=body)
    assert answer.status_code == 303, answer.body
    api = client.http.post(
        f"/api/events/{published.slug}/registrations",
        headers={**world.api_headers(), "Accept-Language": "en"},
        body=json.dumps({**valid_form(name="Jane Doe", kana="", email="jane@example.org"), "consent": True}),
    )
    assert api.status_code == 201, api.json_body


def test_the_english_form_marks_the_reading_optional_and_no_hint_shows_the_samples_names(
    client: Client, published: Event
) -> None:
    english = page(client.http.get(f"/events/{published.slug}", headers={"Accept-Language": "en"}))
    kana = english.split('for="kana"', 1)[1].split("</label>", 1)[0]
    assert "(optional)" in kana and "(required)" not in kana
    japanese = page(client.http.get(f"/events/{published.slug}"))
    for hint in ("例：磐梯 太郎", "バンダイ タロウ", "例：磐梯町役場", "Taro Bandai"):
        assert hint not in japanese and hint not in english


def test_the_door_list_sorts_by_reading_then_latin_names(world: World, published: Event) -> None:
    now = world.clock.now()
    people = [
        attendee(name="渡辺 花子", kana="ワタナベ ハナコ", email="w@example.jp"),
        attendee(name="Zoe Young", kana="", email="z@example.org", lang="en"),
        attendee(name="安藤 一郎", kana="アンドウ イチロウ", email="a@example.jp"),
        attendee(name="adam brown", kana="", email="b@example.org", lang="en"),
    ]
    for n, person in enumerate(people):
        register(world.table, published, person, f"SUB{n:07d}", now)
    table = exports.rows(published, roster.entries(world.table, published.slug), exports.ListKind.DOOR)
    names = [row[table[0].index("氏名")] for row in table[1:]]
    assert names == ["安藤 一郎", "渡辺 花子", "adam brown", "Zoe Young"]
