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
from chalicelib.domain.event import Event, EventFileError, Translation
from chalicelib.domain.event_file import parse_event, to_toml
from chalicelib.usecases.registrations import get_registration
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


# --- answers with a capacity (懇親会 30名) ---------------------------------------------------------------

PARTY = q.Question(
    "party",
    q.SINGLE,
    "懇親会",
    required=True,
    editable=False,
    choices=(q.Choice("join", "参加する", capacity=10), q.Choice("skip", "参加しない")),
)


def test_a_capacity_needs_the_answer_to_stay_put_and_is_written_back(sample_event: Event) -> None:
    event = dataclasses.replace(sample_event, questions=(PARTY,))
    assert parse_event(tomllib.loads(to_toml(event))) == event
    data: dict[str, Any] = tomllib.loads(to_toml(event))
    editable = [{**data["questions"][0], "editable": True}]
    with pytest.raises(EventFileError, match="must set editable = false"):
        parse_event({**data, "questions": editable})


def test_forty_people_racing_for_ten_places_at_the_party_never_exceed_them(world: World, sample_event: Event) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from chalicelib.domain.attendee import Attendee
    from chalicelib.store import schema
    from chalicelib.usecases.changes import cancel
    from chalicelib.usecases.registering import Outcome, register
    from tests.conftest import numbered, sent_until_answered

    event = world.publish(dataclasses.replace(sample_event, slug="party", capacity=100, questions=(PARTY,)))
    joins = q.stored({"party": "join"})

    def one(n: int) -> tuple[Outcome, str]:
        who: Attendee = dataclasses.replace(numbered(n), answers=joins)
        result = sent_until_answered(lambda: register(world.table, event, who, f"P{n}", world.clock.now()))
        return result.outcome, result.registration_id

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(one, range(40)))
    taken = [rid for outcome, rid in results if outcome is Outcome.REGISTERED]
    assert len(taken) == 10 and sum(outcome is Outcome.CHOICE_FULL for outcome, _ in results) == 30
    counters = world.table.get(schema.choices_key("party"))
    assert counters is not None and counters["taken"] == {"party.join": 10}
    # Nothing of the refused ones was written: no registration, no seat, no mail.
    state = get_event_state(world, "party")
    assert state.seats_taken == 10
    cancel(world.table, event, taken[0], world.clock.now())
    assert world.table.get(schema.choices_key("party"))["taken"] == {"party.join": 9}  # type: ignore[index]
    again = register(world.table, event, dataclasses.replace(numbered(99), answers=joins), "P99", world.clock.now())
    assert again.outcome is Outcome.REGISTERED
    skip = register(
        world.table,
        event,
        dataclasses.replace(numbered(98), answers=q.stored({"party": "skip"})),
        "P98",
        world.clock.now(),
    )
    assert skip.outcome is Outcome.REGISTERED  # an answer without a capacity is never refused


def get_event_state(world: World, slug: str) -> Any:
    from chalicelib.usecases.catalog import get_event

    state = get_event(world.table, slug)
    assert state is not None
    return state


def test_the_form_says_how_many_are_left_and_a_full_answer_is_explained(
    client: Client, world: World, sample_event: Event
) -> None:
    tiny = dataclasses.replace(
        PARTY, choices=(q.Choice("join", "参加する", capacity=1), q.Choice("skip", "参加しない"))
    )
    event = world.publish(dataclasses.replace(sample_event, slug="tiny", questions=(tiny,)))
    assert "参加する（残り1名）" in page(client.http.get(f"/events/{event.slug}"))
    first = signed({**valid_form(), "answer_party": "join"}, "tiny")
    assert client.http.post("/events/tiny", headers=FORM, body=urlencode(first)).status_code == 303
    shown = page(client.http.get("/events/tiny"))
    assert "参加する（満員）" in shown and 'value="join" disabled' in shown
    late = signed({**valid_form(email="late@example.jp"), "answer_party": "join"}, "tiny")
    refused = client.http.post("/events/tiny", headers=FORM, body=urlencode(late))
    assert refused.status_code == 409 and "「参加する」は定員に達しました" in page(refused)
    assert 'href="#answer_party"' in page(refused)
    api = {**valid_form(email="api@example.jp"), "consent": True, "answers": {"party": "join"}}
    answer = client.http.post("/api/events/tiny/registrations", headers=world.api_headers(), body=json.dumps(api))
    assert answer.status_code == 409 and answer.json_body["status"] == "choice_full"
    assert "answer_party" in answer.json_body["errors"]
    assert get_event_state(world, "tiny").seats_taken == 1


def test_staff_edits_go_through_the_same_counters_a_full_answer_is_refused_and_a_freed_one_taken(
    client: Client, world: World, sample_event: Event
) -> None:
    from chalicelib.usecases.assisted import EditOutcome, edit
    from chalicelib.usecases.registering import register
    from tests.conftest import attendee

    tiny = dataclasses.replace(
        PARTY, choices=(q.Choice("join", "参加する", capacity=1), q.Choice("skip", "参加しない"))
    )
    event = world.publish(dataclasses.replace(sample_event, slug="tiny", questions=(tiny,)))
    now = world.clock.now()

    def left(slug: str) -> dict[str, int]:
        return get_event_state(world, slug).answers_left()

    joining = register(world.table, event, attendee(answers='{"party":"join"}'), "S1", now).registration_id
    skipping = register(
        world.table, event, attendee(email="b@example.jp", answers='{"party":"skip"}'), "S2", now
    ).registration_id
    registered = {r: get_registration(world.table, "tiny", r) for r in (joining, skipping)}
    wants_in = dataclasses.replace(registered[skipping].attendee, answers='{"party":"join"}')  # type: ignore[union-attr]
    # The one place is held: staff cannot give it to a second person, and nothing is written.
    assert edit(world.table, event, skipping, wants_in, "staff@example.jp", now, world.services.ids) is (
        EditOutcome.CHOICE_FULL
    )
    assert left("tiny") == {"party.join": 0}
    # The holder gives it up; then it can be given, and the counter follows every move.
    gives_up = dataclasses.replace(registered[joining].attendee, answers='{"party":"skip"}')  # type: ignore[union-attr]
    assert edit(world.table, event, joining, gives_up, "staff@example.jp", now, world.services.ids) is EditOutcome.SAVED
    assert left("tiny") == {"party.join": 1}
    assert (
        edit(world.table, event, skipping, wants_in, "staff@example.jp", now, world.services.ids) is EditOutcome.SAVED
    )
    assert left("tiny") == {"party.join": 0}


CHINESE_PARTY = q.Wording("联谊会", "会后举行", (("join", "参加"), ("skip", "不参加")))


def test_the_file_words_questions_survey_and_fields_in_other_languages(sample_event: Event) -> None:
    from chalicelib.domain.event import FieldRule
    from chalicelib.domain.survey import Survey

    survey = Survey((q.Question("satisfaction", q.SCALE, "満足度"),), sample_event.ends_at)
    chinese = dataclasses.replace(
        dict(sample_event.translations).get("zh") or Translation(),
        questions=(("party", CHINESE_PARTY),),
        survey=(("satisfaction", q.Wording("满意度")),),
        form=(("organization", ("单位名称", "")),),
    )
    event = dataclasses.replace(
        sample_event,
        questions=ASKED,
        survey=survey,
        form=(FieldRule("organization", label="自治体名・会社名"),),
        translations=(*[(code, t) for code, t in sample_event.translations if code != "zh"], ("zh", chinese)),
    )
    written = to_toml(event)
    assert "[zh.questions.party]" in written and "[zh.questions.party.choices]" in written
    assert parse_event(tomllib.loads(written)) == event  # written and read back, unchanged
    read = event.in_language("zh")
    party = next(x for x in read.questions if x.key == "party")
    assert (party.label, party.hint, [c.label for c in party.choices]) == ("联谊会", "会后举行", ["参加", "不参加"])
    town = next(x for x in read.questions if x.key == "town")
    assert town.label == "お住まいの市町村"  # not worded: as written, for the page to mark as Japanese
    assert read.survey is not None and read.survey.questions[0].label == "满意度"
    assert read.label_for("organization") == "单位名称"
    assert event.in_language("ko").questions == event.questions  # Korean has no wording: as written
    data: dict[str, Any] = tomllib.loads(written)
    broken = [
        ({"questions": {"nothing": {"label": "x"}}}, "no question has the key 'nothing'"),
        ({"questions": {"party": {"choices": {"maybe": "也许"}}}}, "has no choice 'maybe'"),
        ({"questions": {"party": {"colour": "red"}}}, "colour cannot be given here"),
        ({"survey": {"town": {"label": "x"}}}, "no question has the key 'town'"),
        ({"form": {"email": {"label": "x"}}}, "no field 'email'"),
    ]
    for change, said in broken:
        with pytest.raises(EventFileError, match=said):
            parse_event({**data, "zh": {**data["zh"], **change}})
    with pytest.raises(EventFileError, match="label_en"):
        parse_event({**data, "en": {**data.get("en", {}), "questions": {"party": {"label": "Party"}}}})


def test_the_builder_words_the_questions_in_chinese_and_chinese_readers_answer_them(
    client: Client, world: World, asking: Event
) -> None:
    from tests.test_builder import form_of, sent_by
    from tests.test_every_language import reading

    world.let_sign_in(ORGANIZER)
    owner = sign_in(client, world)
    shown = page(owner.get(client, "/organizer/events/asking/edit"))
    assert "質問「懇親会」（简体中文）" in shown and "選択肢「参加する」（简体中文）" in shown
    fields = form_of(asking)
    party = next(n for n, value in fields.items() if value == "懇親会" and n.endswith("-label"))
    row = party.rsplit("-", 1)[0]
    fields |= {f"{row}-label_zh": "联谊会", f"{row}-choice-0-label_zh": "参加", f"{row}-choice-1-label_zh": "不参加"}
    fields |= {"form_organization_label": "自治体名・会社名", "form_organization_label_zh": "单位名称"}
    saved = owner.post(client, "/organizer/events/asking/edit", action="save", **fields)
    assert saved.status_code == 303
    chinese = page(client.http.get("/events/asking", headers=reading("zh")))
    assert "联谊会" in chinese and "不参加" in chinese and "懇親会" not in chinese
    assert "单位名称" in chinese and "自治体名・会社名" not in chinese
    again = sent_by(page(owner.get(client, "/organizer/events/asking/edit")))
    assert again[f"{row}-label_zh"] == "联谊会" and again[f"{row}-choice-1-label_zh"] == "不参加"
    assert again["form_organization_label_zh"] == "单位名称"
