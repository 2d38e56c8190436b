"""The event's own questions: defined in the file, asked on the form, kept, shown, exported, changed."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import tomllib
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from chalice.test import Client

from chalicelib.domain import questions as q
from chalicelib.domain.event import Event, EventFileError
from chalicelib.domain.event_file import parse_event
from chalicelib.domain.event_toml import to_toml
from chalicelib.usecases.registering import get_registration
from tests.conftest import FORM, World, page, signed, valid_form
from tests.test_organizer import ORGANIZER, SignedIn, sign_in

ASKED = (
    q.Question("town", q.TEXT, "お住まいの市町村", required=True, max_length=20, label_en="Your town"),
    q.Question(
        "party",
        q.SINGLE,
        "懇親会",
        required=True,
        choices=(q.Choice("join", "参加する"), q.Choice("skip", "参加しない")),
    ),
    q.Question(
        "topics",
        q.MULTIPLE,
        "関心のあるテーマ",
        choices=(q.Choice("dx", "DX"), q.Choice("data", "データ活用"), q.Choice("ai", "AI")),
    ),
    q.Question("photo", q.YES_NO, "写真撮影に同意します", editable=False),
    q.Question("message", q.LONG_TEXT, "講師へのひとこと"),
)
ANSWERS = {"answer_town": "会津若松市", "answer_party": "join", "answer_topics__dx": "yes", "answer_topics__ai": "yes"}


@pytest.fixture
def asking(world: World, sample_event: Event) -> Event:
    return world.publish(dataclasses.replace(sample_event, slug="asking", questions=ASKED))


def test_the_file_reads_and_writes_the_questions_and_names_a_mistake(sample_event: Event) -> None:
    event = dataclasses.replace(sample_event, questions=ASKED)
    assert parse_event(tomllib.loads(to_toml(event))) == event
    data: dict[str, Any] = tomllib.loads(to_toml(event))
    broken = [
        ({"kind": "essay"}, "kind must be one of"),
        ({"key": "Party!"}, "must be lowercase"),
        ({"choices": [{"key": "only", "label": "一つだけ"}]}, "at least two"),
        ({"required": "yes"}, "required must be true or false"),
        ({"colour": "red"}, "colour"),
    ]
    for change, said in broken:
        questions = [dict(data["questions"][1], **change), *data["questions"][2:]]
        with pytest.raises(EventFileError, match=said):
            parse_event({**data, "questions": questions})
    twice = [data["questions"][0], data["questions"][0]]
    with pytest.raises(EventFileError, match="two questions have the key 'town'"):
        parse_event({**data, "questions": twice})


def test_answers_are_checked_kind_by_kind() -> None:
    checked = q.check({**ANSWERS, "answer_photo": "yes"}, ASKED)
    assert checked.errors == {}
    assert checked.answers == {"town": "会津若松市", "party": "join", "topics": ["dx", "ai"], "photo": "yes"}
    missing = q.check({"answer_party": "maybe", "answer_town": "あ" * 21}, ASKED)
    assert set(missing.errors) == {"answer_town", "answer_party"} and "20文字以内" in missing.errors["answer_town"]
    api = q.check({"answers": {"town": "会津", "party": "skip", "topics": ["ai", "dx"], "photo": False}}, ASKED)
    assert api.errors == {} and api.answers["topics"] == ["dx", "ai"] and api.answers["photo"] == "no"
    wrong = q.check({"answers": {"town": "会津", "party": "skip", "topics": "ai", "photo": "yes"}}, ASKED)
    assert set(wrong.errors) == {"answer_topics", "answer_photo"}
    kept = q.check({"answer_town": "喜多方市", "answer_party": "skip"}, ASKED[:2], kept={"gone": "古い答え"})
    assert kept.answers["gone"] == "古い答え"  # a removed question's answer stays


@pytest.fixture
def desk(client: Client, world: World, asking: Event) -> SignedIn:
    world.let_sign_in(ORGANIZER)
    return sign_in(client, world)


def test_asked_on_the_form_kept_shown_exported_and_changed_by_the_registrant(
    client: Client, world: World, asking: Event, desk: SignedIn
) -> None:
    shown = page(client.http.get(f"/events/{asking.slug}"))
    assert "お住まいの市町村" in shown and 'name="answer_topics__data"' in shown and 'id="answer_party"' in shown
    unanswered = client.http.post(
        f"/events/{asking.slug}", headers=FORM, body=urlencode(signed(valid_form(), "asking"))
    )
    assert unanswered.status_code == 400 and 'href="#answer_party"' in page(unanswered)
    form = signed({**valid_form(), **ANSWERS, "answer_photo": "yes"}, "asking")
    taken = client.http.post(f"/events/{asking.slug}", headers=FORM, body=urlencode(form))
    assert taken.status_code == 303
    location = str(taken.headers["Location"])
    rid = urlsplit(location).path.rsplit("/", 1)[1]
    detail = page(desk.get(client, f"/organizer/events/{asking.slug}/registrations/{rid}"))
    assert "参加する" in detail and "DX、AI" in detail and "はい" in detail
    # The registrant changes the editable answers; the photo answer (not editable) stays as it was.
    own = page(client.http.get(location))
    assert 'name="answer_party"' in own and 'name="answer_photo"' not in own
    token = location.split("token=")[1]
    change = {"token": token, "action": "edit", **valid_form(), **ANSWERS, "answer_party": "skip", "answer_photo": "no"}
    assert client.http.post(urlsplit(location).path, headers=FORM, body=urlencode(change)).status_code == 303
    stored = get_registration(world.table, asking.slug, rid)
    assert stored is not None
    assert q.answers_of(stored.attendee.answers) == {
        "town": "会津若松市",
        "party": "skip",
        "topics": ["dx", "ai"],
        "photo": "yes",
    }
    overview = f"/organizer/events/{asking.slug}"
    assert "1件中 1〜1件" in page(desk.get(client, f"{overview}?answer=party:skip"))
    assert "0件中" in page(desk.get(client, f"{overview}?answer=party:join"))
    assert "1件中" in page(desk.get(client, f"{overview}?answer=topics:ai"))
    # A question removed later: its answers are kept and still exported.
    world.publish(dataclasses.replace(asking, questions=ASKED[:2]))
    body = desk.get(client, f"/organizer/events/{asking.slug}/export/answers.csv").body.decode("utf-8-sig")
    table = list(csv.reader(io.StringIO(body, newline="")))
    assert table[0][4:] == ["お住まいの市町村", "懇親会", "photo", "topics"]
    assert table[1][4:] == ["会津若松市", "参加しない", "yes", "dx、ai"]


def test_the_api_takes_answers_by_key_and_explains_a_wrong_one(client: Client, world: World, asking: Event) -> None:
    path = f"/api/events/{asking.slug}/registrations"
    body = {**valid_form(), "consent": True, "answers": {"town": "会津", "party": "join", "photo": True}}
    taken = client.http.post(path, headers=world.api_headers(), body=json.dumps(body))
    assert taken.status_code == 201 and taken.json_body["answers"] == {"town": "会津", "party": "join", "photo": "yes"}
    wrong = {**body, "email": "b@example.jp", "answers": {"town": "会津", "party": "dance"}}
    refused = client.http.post(path, headers=world.api_headers(), body=json.dumps(wrong))
    assert refused.status_code == 422 and "dance" in refused.json_body["errors"]["answer_party"]
