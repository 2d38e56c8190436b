"""The event builder: every setting as form fields, the same format as the file, drafts and the lifecycle."""

from __future__ import annotations

import dataclasses
import html as html_lib
import re
import tomllib
from collections.abc import Iterator
from datetime import timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from chalice.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.domain.event import Category, Event, FieldRule, Online, ReminderSpec
from chalicelib.domain.event_file import parse_event, to_toml
from chalicelib.domain.questions import Choice, Question
from chalicelib.domain.survey import Survey
from chalicelib.store import schema
from chalicelib.text import builder_messages as bmsg
from chalicelib.usecases import builder
from chalicelib.usecases.builder_rows import flatten
from chalicelib.usecases.catalog import get_event
from chalicelib.usecases.registering import register
from tests.conftest import FORM, SENDER, World, numbered, page, signed, valid_form
from tests.reach import Reach
from tests.test_organizer import ORGANIZER, SignedIn, sign_in

MEETING = "https://meet.example.jp/j/1234"
PARTY = Question(
    "party", "single", "懇親会", label_en="Reception", editable=False,
    choices=(Choice("yes", "参加する", "Yes", capacity=30), Choice("no", "参加しない", "No")),
)  # fmt: skip


ONE_CHOICE = {"question-0-label": "懇親会", "question-0-kind": "single", "question-0-choice-0-label": "参加"}


@pytest.fixture
def owner(client: Client, world: World) -> SignedIn:
    world.let_sign_in(ORGANIZER)
    return sign_in(client, world)


class _Form(HTMLParser):
    """What a browser sends for a page's form: inputs (only ticked boxes), chosen options, text areas."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._area = self._select = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "input" and a.get("name") and (a.get("type") not in ("radio", "checkbox") or "checked" in a):
            self.fields[a["name"]] = a.get("value", "")
        elif tag == "textarea":
            self._area = a["name"]
            self.fields[self._area] = ""
        elif tag == "select":
            self._select = a["name"]
        elif tag == "option" and "selected" in a:
            self.fields[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._area = ""

    def handle_data(self, data: str) -> None:
        if self._area:
            self.fields[self._area] += data


def sent_by(shown: str) -> dict[str, str]:
    """The fields a browser would send from this page's forms, as they stand."""
    parser = _Form()
    parser.feed(shown)
    return parser.fields


def form_of(event: Event) -> dict[str, str]:
    """What the builder's form holds for `event`, as a browser would send it back."""
    values, rows = builder.builder_values(event)
    return {key: value for key, value in {**values, **flatten(rows)}.items() if value}


def variants(sample: Event) -> list[Event]:
    """Events using every part of the format the builder writes."""
    hybrid = Online(
        "hybrid", MEETING, "5分前から入れます", "Open 5 minutes early", venue_capacity=20, online_capacity=30
    )
    return [
        sample,
        dataclasses.replace(
            sample,
            capacity=50,
            online=hybrid,
            questions=(PARTY,),
            form=(FieldRule("organization", "required", "自治体名・会社名", label_en="Municipality or company"),),
            categories=(Category("councillor", "地方議員", reserved=10), Category("other", "その他")),
            quota_release_at=sample.registration_closes_at - timedelta(days=2),
            reminders=(ReminderSpec(minutes_before=60),),
            meishi_consent_question=True,
            contact=dataclasses.replace(sample.contact, sender="seminar@example.jp"),
            timezone="Asia/Kolkata",
            accommodation_question=False,
            waitlist=False,
            translations=(),
        ),
        dataclasses.replace(sample, draw_at=sample.registration_closes_at - timedelta(days=3), reminders=()),
        dataclasses.replace(
            sample,
            online=Online("online", MEETING),
            programme=(),
            translations=(),
            questions=(Question("town", "text", "お住まい", max_length=20, required=True),),
        ),
        dataclasses.replace(  # the loop after the event: reconfirmation, release, certificates, a survey
            sample,
            reconfirm_at=sample.starts_at - timedelta(days=3),
            release_unconfirmed_at=sample.starts_at - timedelta(days=1),
            certificates=True,
            survey=Survey(
                (
                    Question("satisfaction", "scale", "満足度", label_en="Satisfaction", required=True),
                    Question("best", "single", "よかった講演", choices=(Choice("a", "第1部"), Choice("b", "第2部"))),
                    Question("comment", "long_text", "ご意見", max_length=2000),
                ),
                closes_at=sample.ends_at + timedelta(days=10),
                anonymous=False,
            ),
        ),
        dataclasses.replace(
            sample,
            reconfirm_at=sample.starts_at - timedelta(days=2),
            survey=Survey(
                (Question("again", "yes_no", "また参加したいですか"),), closes_at=sample.ends_at + timedelta(days=14)
            ),
        ),
    ]


def test_the_builder_and_the_file_are_one_format_both_ways(sample_event: Event) -> None:
    for event in variants(sample_event):
        built = builder.read_builder(form_of(event))
        assert built.errors is None or not built.errors, built.errors
        saved = parse_event(tomllib.loads(built.text))
        assert saved == parse_event(tomllib.loads(to_toml(event)))  # what the builder saves, the file says


@pytest.mark.parametrize(
    ("change", "field", "said"),
    [
        ({"ends_at": "2027-01-20T14:00"}, "ends_at", "終了は開始より後にしてください"),
        ({"starts_at": "来週の火曜"}, "starts_at", "日時は 2027-01-20T15:00 のように入力してください"),
        ({"starts_at": "0001-01-01T00:00"}, "starts_at", "日時は 2027-01-20T15:00 のように入力してください"),
        ({"capacity": "たくさん"}, "capacity", "0以上の整数で入力してください"),
        ({"capacity": "9" * 5000}, "capacity", "0以上の整数で入力してください"),
        ({"title": ""}, "title", "入力してください"),
        ({"online_mode": "hybrid"}, "online_url", "参加用のURL"),
        ({"allotment": "lottery"}, "draw_at", "抽選の日時を入力してください"),
        ({"venue_map_url": "javascript:alert(1)"}, "venue_map_url", "https:// で始まる"),
        ({"url": "data:text/html,hi"}, "url", "https:// で始まる"),
        ({"organizer_email": "office"}, "organizer_email", "office@example.jp のように"),
        ({"category-0-reserved": "999"}, "category-0-reserved", "確保席の合計が定員を超えています"),
        (ONE_CHOICE, "question-0-choice-0-label", "選択肢を2つ以上"),
        ({"slug": "Bad Slug"}, "slug", "半角の英小文字"),
        ({"reconfirm_at": "2027-01-21T10:00"}, "reconfirm_at", "出欠の確認は開始より前に"),
        ({"release_unconfirmed_at": "2027-01-18T10:00"}, "release_unconfirmed_at", "先に出欠を確認する日時"),
        (
            {"reconfirm_at": "2027-01-18T10:00", "release_unconfirmed_at": "2027-01-17T10:00"},
            "release_unconfirmed_at",
            "出欠を確認する日時より後に",
        ),
        ({"survey_closes_at": "2027-01-25T10:00"}, "survey_closes_at", "質問を1つ以上"),
        (
            {"survey-0-label": "満足度", "survey-0-kind": "scale", "survey_closes_at": "2027-01-19T10:00"},
            "survey_closes_at",
            "開始より後に",
        ),
        ({"survey-0-label": "よかった講演", "survey-0-kind": "single"}, "survey-0-choice-0-label", "選択肢を2つ以上"),
    ],
)  # fmt: skip
def test_every_mistake_is_said_in_japanese_beside_its_field_and_nothing_typed_is_lost(
    client: Client, world: World, owner: SignedIn, sample_event: Event, change: dict[str, str], field: str, said: str
) -> None:
    fields = {**form_of(dataclasses.replace(sample_event, slug="new-one")), **change, "action": "save"}
    answer = owner.post(client, "/organizer/new-event", **fields)
    shown = html_lib.unescape(page(answer))
    assert answer.status_code == 400 and f'id="{field}-error"' in shown and f'href="#{field}"' in shown
    assert said in shown
    for name, value in change.items():  # what was typed is shown again, as typed
        assert value in shown, name
    assert get_event(world.table, "new-one") is None


def test_the_model_event_is_made_in_forms_saved_as_a_draft_previewed_and_published(
    client: Client, world: World, owner: SignedIn
) -> None:
    chooser = page(owner.get(client, "/organizer/new-event"))
    assert "勉強会・セミナー" in chooser and "ハイブリッド" in chooser and "抽選" in chooser
    start = page(owner.get(client, "/organizer/new-event?template=hybrid"))
    assert 'type="datetime-local"' in start and "日本時間（JST）" in start and 'name="online_mode"' in start
    fields = {k: v for k, v in sent_by(start).items() if k not in ("csrf", "action")}
    fields.update(
        slug="cdo-2027", title="自治体CDO勉強会", summary="公務員・議員向けの勉強会です。", venue_name="小川ビル4階",
        venue_address="東京都千代田区神田錦町2丁目11番地7", venue_capacity="60", online_capacity="100",
        online_url=MEETING, organizer_email="seminar@example.jp", online_mode="hybrid",
        **{"question-0-label": "懇親会", "question-0-kind": "single", "question-0-choice-0-label": "参加する",
           "question-0-choice-0-capacity": "30", "question-0-choice-1-label": "参加しない"},
    )  # fmt: skip
    more = owner.post(client, "/organizer/new-event", action="add_category", **fields)
    assert more.status_code == 200 and 'name="category-6-label"' in page(more)  # 5 from the template, 2 blank
    preview = owner.post(client, "/organizer/new-event", action="preview", **fields)
    shown = page(preview)
    assert preview.status_code == 200 and '<fieldset class="preview-form" disabled>' in shown
    assert "懇親会" in shown and "会場で参加" in shown and "preview-frame" in shown
    english = page(owner.post(client, "/organizer/new-event", action="preview_en", **fields))
    assert "Taking part" in english or "How you will take part" in english
    saved = owner.post(client, "/organizer/new-event", action="save", **fields)
    assert saved.status_code == 303 and saved.headers["Location"].endswith("/organizer/events/cdo-2027?draft=1")
    state = get_event(world.table, "cdo-2027")
    assert state is not None and state.draft and state.hidden
    assert state.event.pools() == {"venue": 60, "online": 100} and state.event.capacity == 160
    assert state.event.venue.map_url.startswith("https://www.google.com/maps/search/")
    assert client.http.get("/events/cdo-2027").status_code == 404  # a draft is the organizers' only
    overview = page(owner.get(client, "/organizer/events/cdo-2027?draft=1"))
    assert "下書き" in overview and "下書きとして保存しました" in overview
    unconfirmed = owner.post(client, "/organizer/events/cdo-2027/publish")
    assert unconfirmed.status_code == 303 and "confirm=publish" in unconfirmed.headers["Location"]
    assert client.http.get("/events/cdo-2027").status_code == 404
    published = owner.post(client, "/organizer/events/cdo-2027/publish", confirm="yes")
    assert published.status_code == 303 and client.http.get("/events/cdo-2027").status_code == 200
    shared = page(owner.get(client, "/organizer/events/cdo-2027?published=1"))
    assert "/events/cdo-2027" in shared and "data:image/png;base64," in shared and "qr.svg" in shared
    svg = owner.get(client, "/organizer/events/cdo-2027/qr.svg")
    assert (svg.status_code == 200 and svg.body.startswith(b"<svg")) or b"<svg" in svg.body
    # Registering works at once, in either mode, and the 懇親会 has its 30 places.
    body = signed({**valid_form(category="c2"), "answer_attendance": "online", "answer_q1": "a1"}, "cdo-2027")
    assert client.http.post("/events/cdo-2027", headers=FORM, body=_encode(body)).status_code == 303


def _encode(fields: dict[str, Any]) -> str:
    from urllib.parse import urlencode

    return urlencode(fields)


def test_duplicating_makes_a_draft_and_only_a_draft_nobody_holds_can_be_deleted(
    client: Client, world: World, owner: SignedIn, sample_event: Event
) -> None:
    world.publish(sample_event)
    copy = page(owner.get(client, f"/organizer/events/{sample_event.slug}/duplicate"))
    assert f'value="{sample_event.slug}-2"' in copy
    fields = {**form_of(dataclasses.replace(sample_event, slug=f"{sample_event.slug}-2")), "action": "save"}
    assert owner.post(client, "/organizer/new-event", **fields).status_code == 303
    state = get_event(world.table, f"{sample_event.slug}-2")
    assert state is not None and state.draft and state.event.title == sample_event.title
    taken = owner.post(client, "/organizer/new-event", **fields)
    assert taken.status_code == 400 and "ほかのイベントが使っています" in page(taken)
    refused = owner.post(client, f"/organizer/events/{sample_event.slug}/delete", confirm="yes")
    assert refused.status_code == 409 and get_event(world.table, sample_event.slug) is not None
    deleted = owner.post(client, f"/organizer/events/{sample_event.slug}-2/delete", confirm="yes")
    assert deleted.status_code == 303 and get_event(world.table, f"{sample_event.slug}-2") is None
    assert not list(world.table.query("pk = :pk", {":pk": f"EVENT#{sample_event.slug}-2"}))


def test_the_dashboard_shows_each_events_stage_and_an_ended_event_is_archived(
    client: Client, world: World, owner: SignedIn, sample_event: Event
) -> None:
    small = world.publish(dataclasses.replace(sample_event, slug="small", capacity=1))
    register(world.table, small, numbered(1), "S1", world.clock.now())
    world.publish(dataclasses.replace(sample_event, slug="open-one"))
    dashboard = page(owner.get(client, "/organizer"))
    assert "満席・キャンセル待ちのみ" in dashboard and "受付中" in dashboard
    early = owner.post(client, "/organizer/events/small/archive")
    assert early.status_code == 409
    world.clock.advance(sample_event.ends_at - world.clock.now() + timedelta(days=1))
    owner = sign_in(client, world)  # the first session has long expired
    assert "終了" in page(owner.get(client, "/organizer"))
    assert owner.post(client, "/organizer/events/small/archive").status_code == 303
    assert "アーカイブしたイベント" in page(owner.get(client, "/organizer"))


def test_editing_in_the_builder_keeps_what_it_does_not_show_and_fewer_seats_than_taken_is_refused(
    client: Client, world: World, owner: SignedIn, sample_event: Event
) -> None:
    event = world.publish(dataclasses.replace(sample_event, slug="formed", capacity=2))
    for n in (1, 2):
        register(world.table, event, numbered(n), f"S{n}", world.clock.now())
    fields = form_of(event)
    fewer = owner.post(client, "/organizer/events/formed/edit", action="save", **{**fields, "capacity": "1"})
    assert fewer.status_code == 400 and 'id="capacity-error"' in page(fewer)
    saved = owner.post(client, "/organizer/events/formed/edit", action="save", **{**fields, "title": "改題"})
    assert saved.status_code == 303 and saved.headers["Location"].endswith("?saved=1")
    state = get_event(world.table, "formed")
    assert state is not None and state.event.title == "改題" and not state.draft and not state.hidden
    # Nothing else moved (the readings are the new title's: computed when saved, tests/test_furigana.py).
    assert dataclasses.replace(state.event, title=event.title, readings=()) == event


def test_an_edit_that_would_strand_people_is_refused_with_how_many_and_nothing_is_saved(
    client: Client, world: World, owner: SignedIn, sample_event: Event
) -> None:
    hybrid = Online("hybrid", MEETING, venue_capacity=2, online_capacity=2)
    party = dataclasses.replace(PARTY, choices=(Choice("yes", "参加する", capacity=3), Choice("no", "参加しない")))
    event = world.publish(dataclasses.replace(sample_event, slug="held", capacity=4, online=hybrid, questions=(party,)))
    event = get_event(world.table, "held").event  # type: ignore[union-attr]  # with its 参加方法 question
    now = world.clock.now()
    for n, how in ((1, "online"), (2, "venue"), (3, "venue")):
        person = dataclasses.replace(numbered(n), answers=f'{{"attendance": "{how}", "party": "yes"}}')
        register(world.table, event, person, f"S{n}", now)
    fields = form_of(event)
    held_category = next(k for k, v in fields.items() if v == "civil-servant" and k.endswith("-key"))
    edits = (
        ({"online_mode": ""}, "online_mode", "1名の参加方法"),
        ({held_category.replace("-key", "-remove"): "yes"}, "categories", "3名が申し込んでいます"),
        ({"question-0-choice-0-capacity": "2"}, "questions", "選んでいる3名より少なく"),
        ({"venue_capacity": "1", "online_capacity": "3"}, "venue_capacity", "参加確定の2名より少なくはできません"),
    )
    for change, field, said in edits:
        answer = owner.post(client, "/organizer/events/held/edit", action="save", **{**fields, **change})
        shown = page(answer)
        assert answer.status_code == 400 and f'id="{field}-error"' in shown and said in shown, field
    assert get_event(world.table, "held").event == event  # type: ignore[union-attr]
    # The file editor refuses the same, in the file's words.
    text = to_toml(dataclasses.replace(event, online=None, questions=(party,), capacity=4))
    refused = owner.post(client, "/organizer/events/held/edit-file", text=text, action="save")
    assert refused.status_code == 400 and "would change how they take part" in page(refused)


@pytest.mark.parametrize("number", ["²", "٣", "１０"])
def test_digits_other_than_ascii_are_a_mistake_beside_their_field_not_an_error_page(
    client: Client, world: World, owner: SignedIn, sample_event: Event, number: str
) -> None:
    fields = {**form_of(dataclasses.replace(sample_event, slug="new-one")), "action": "save"}
    for field in ("capacity", "category-0-reserved", "reminder-0-days_before", "category-0-order"):
        answer = owner.post(client, "/organizer/new-event", **{**fields, field: number})
        assert answer.status_code == 400 and f'id="{field}-error"' in page(answer), field


# --- whatever an owner types, the builder answers with mistakes by field or an event, never an error page ---

TYPED = st.one_of(
    st.text(max_size=30),
    st.integers(min_value=-10, max_value=10**7).map(str),
    st.sampled_from(
        ["", "0", "1", "²", "１０", "2027-01-20T15:00", "2027-01-18T09:00", "0001-01-01T00:00", "9999-12-31T23:59",
         "https://x.example/a", "javascript:alert(1)", "yes", "hybrid", "online", "lottery", "single", "required"]
    ),
)  # fmt: skip


@pytest.fixture
def builder_reach(record_property: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Reach]:
    reach = Reach("the event file's own checks (parse_event)")
    reach.spy(monkeypatch, builder, "parse_event")
    yield reach
    line = reach.report(record_property)
    assert reach.share() >= 0.3, line  # the rest stop at the builder's own checks, which are tested too


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_typing_in_the_builder_gives_mistakes_by_field_or_an_event(
    builder_reach: Reach, sample_event: Event, data: st.DataObject
) -> None:
    builder_reach.example()
    # A hybrid event with reservations and a question, or one with the reconfirmation, release and a survey.
    fields = form_of(variants(sample_event)[data.draw(st.sampled_from([1, 4]))])
    # The single fields, and each kind of row field once (rows repeat the same checks).
    rows = {k for k in fields if re.match(r"^(category|talk|reminder|question|survey)-0-", k)}
    extra = ("online_mode", "allotment", "survey_named", "category-9-label", "survey-0-kind", "survey-3-label")
    names = sorted({*builder.FIELDS, *rows, *extra})
    changes = data.draw(st.dictionaries(st.sampled_from(names), TYPED, max_size=4))
    built = builder.read_builder({**fields, **changes})
    if built.errors:
        known = {*fields, *builder.FIELDS, *changes, "categories", "questions", "online_url", "draw_at", "title"}
        rows = {k for k in built.errors if re.match(r"^(category|talk|reminder|question|survey)-\d+-", k)}
        assert set(built.errors) <= known | rows, built.errors  # each beside a field the page shows
        builder_reach.outcome("mistakes shown")
    else:
        assert parse_event(tomllib.loads(built.text)).slug
        builder_reach.outcome("an event")


def test_a_sender_this_deployment_cannot_send_as_is_refused_beside_its_field_when_saved(
    client: Client, world: World, owner: SignedIn, sample_event: Event
) -> None:
    """Issue 26, finding 10: such an event's every mail met AccessDenied and looped through retries."""
    fields = {**form_of(dataclasses.replace(sample_event, slug="new-one")), "action": "save"}
    domain = SENDER.rpartition("@")[2]
    for sender, said in (
        ("events@other.example", bmsg.SENDER_REFUSED["not_in_stack"]),  # the role may not send as it
        (f"office@{domain}", bmsg.SENDER_REFUSED["not_verified"]),  # allowed domain, but SES verified only one address
    ):
        answer = owner.post(client, "/organizer/new-event", **{**fields, "sender": sender})
        shown = page(answer)
        assert answer.status_code == 400 and 'id="sender-error"' in shown and said in shown, sender
        assert f'value="{sender}"' in shown  # what was typed stays
        assert world.table.get(schema.event_key("new-one")) is None
    assert owner.post(client, "/organizer/new-event", **{**fields, "sender": SENDER}).status_code == 303
    file_editor = owner.post(
        client,
        "/organizer/events/new-one/edit-file",
        text=to_toml(
            dataclasses.replace(
                sample_event,
                slug="new-one",
                contact=dataclasses.replace(sample_event.contact, sender="events@other.example"),
            )
        ),
        action="save",
    )
    assert file_editor.status_code == 400 and "cannot send mail here" in page(file_editor)


def test_a_sender_counts_as_verified_only_when_ses_says_mail_may_go_out_from_it() -> None:
    """AWS's VerifiedForSendingStatus decides (moto never sets it; its adapter is in local/engines.py)."""
    import boto3
    from botocore.stub import Stubber

    from chalicelib.usecases.senders import ses_verified

    client = boto3.client("sesv2", region_name="ap-northeast-1", aws_access_key_id="x", aws_secret_access_key="x")
    with Stubber(client) as stub:
        for sending in (False, True):
            answer = {"IdentityType": "DOMAIN", "VerifiedForSendingStatus": sending, "VerificationStatus": "SUCCESS"}
            stub.add_response("get_email_identity", answer)
        stub.add_client_error("get_email_identity", "NotFoundException")
        verified = ses_verified(client)
        assert [verified("example.jp"), verified("example.jp"), verified("other.example")] == [False, True, False]
