"""アンケート: 40 answers through the personal links (hostile text among them), counted, charted and exported."""

from __future__ import annotations

import base64
import csv
import dataclasses
import io
import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import openpyxl
import pytest
from chalice.test import Client

from chalicelib.domain.event import Event
from chalicelib.domain.links import personal_path
from chalicelib.domain.questions import Choice, Question
from chalicelib.domain.survey import Survey
from chalicelib.store import schema
from chalicelib.usecases import exports, report, survey_answers
from chalicelib.usecases.registering import register
from tests.conftest import BEFORE_EVENT, FORM, World, numbered, page
from tests.test_organizer import ORGANIZER, sign_in

QUESTIONS = (
    Question("satisfaction", "scale", "満足度", label_en="Satisfaction", required=True),
    Question(
        "topics", "multiple", "よかった講演",
        choices=(Choice("first", "第1部"), Choice("second", "第2部"), Choice("qa", "質疑応答")),
    ),
    Question("again", "yes_no", "また参加したいですか"),
    Question("comment", "long_text", "ご意見・ご感想"),
)  # fmt: skip
HOSTILE = (
    "<script>alert('x')</script>",
    '=HYPERLINK("http://evil.example","click")',
    "+1+cmd|' /C calc'!A0",
    "@SUM(1+1)",
    "-2+3",
    "\u202egnp.exe",
    "改行\nのある\nご意見",
    "絵文字 👍🏻 と 𠮷野家",
)
PEOPLE = 40


def with_survey(sample_event: Event, anonymous: bool = True) -> Event:
    survey = Survey(QUESTIONS, closes_at=sample_event.ends_at + timedelta(days=7), anonymous=anonymous)
    return dataclasses.replace(sample_event, capacity=PEOPLE, survey=survey)


def the_answer(n: int) -> dict[str, str]:
    """Person n's answer: a known mix, so every count and the average can be worked out here."""
    fields = {"answer_satisfaction": str(n % 5 + 1), "answer_again": "yes" if n % 4 else "no"}
    if n % 2:
        fields["answer_topics__first"] = "yes"
    if n % 3 == 0:
        fields["answer_topics__qa"] = "yes"
    if n < len(HOSTILE):
        fields["answer_comment"] = HOSTILE[n]
    return fields


@pytest.fixture
def answered(world: World, client: Client, sample_event: Event) -> tuple[Event, dict[int, str]]:
    """40 seat holders; each answers once through their own link after the event starts."""
    event = world.publish(with_survey(sample_event))
    ids = {
        n: register(world.table, event, numbered(n), f"S{n:03d}", world.clock.now()).registration_id
        for n in range(PEOPLE)
    }
    world.clock.set(event.ends_at + timedelta(hours=1))
    for n, rid in ids.items():
        path = personal_path(world.services.signer, event.slug, rid, event.ends_at).replace("?token=", "/survey?token=")
        token = path.split("token=")[1]
        shown = client.http.get(path)
        assert shown.status_code == 200 and "回答を送る" in page(shown)
        body = urlencode({"token": token, **the_answer(n)})
        sent = client.http.post(path.split("?")[0], headers=FORM, body=body)
        assert sent.status_code == 303 and "done=surveyed" in sent.headers["Location"], page(sent)[:300]
    return event, ids


def test_forty_answers_are_counted_charted_and_exported_exactly(
    world: World, client: Client, answered: tuple[Event, dict[int, str]]
) -> None:
    event, ids = answered
    items = survey_answers.answer_items(world.table, event.slug)
    assert len(items) == PEOPLE
    tallies = {t.question.key: t for t in survey_answers.tally(QUESTIONS, items)}
    points = [n % 5 + 1 for n in range(PEOPLE)]
    assert tallies["satisfaction"].counts == {p: points.count(int(p)) for p in ("1", "2", "3", "4", "5")}
    assert tallies["satisfaction"].average == pytest.approx(sum(points) / PEOPLE)
    assert tallies["topics"].counts == {
        "first": sum(n % 2 for n in range(PEOPLE)),
        "second": 0,
        "qa": sum(n % 3 == 0 for n in range(PEOPLE)),
    }
    assert tallies["again"].counts == {"yes": sum(bool(n % 4) for n in range(PEOPLE)), "no": PEOPLE // 4}
    assert sorted(tallies["comment"].texts) == sorted(t.replace("\r\n", "\n").strip() for t in HOSTILE)
    # The organizer's page: counts, the average, every text escaped, and a chart drawn without script.
    world.let_sign_in(ORGANIZER)
    desk = sign_in(client, world)
    shown = page(desk.get(client, f"/organizer/events/{event.slug}/survey"))
    assert f"回答 {PEOPLE}件" in shown and f"平均 {sum(points) / PEOPLE:.2f}" in shown
    assert "<script>alert" not in shown and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in shown
    assert shown.count('<svg class="chart"') == 3 and "<script" not in shown
    # CSV: every answer once, formulas shown as text; XLSX: every cell a string, none a formula.
    exported = desk.get(client, f"/organizer/events/{event.slug}/survey.csv")
    rows = list(csv.reader(io.StringIO(exported.body.decode("utf-8-sig"))))
    assert rows[0] == [q.label for q in QUESTIONS] and len(rows) == PEOPLE + 1
    comments = [r[3] for r in rows[1:] if r[3]]
    assert sorted(comments) == sorted(exports.neutralise(t) for t in HOSTILE)
    assert '\'=HYPERLINK("http://evil.example","click")' in comments and "'@SUM(1+1)" in comments
    # XLSX from the organizer's page: the file itself inside its download link (no binary through API Gateway).
    excel = page(desk.get(client, f"/organizer/events/{event.slug}/excel/survey"))
    found = re.search(
        r'href="data:application/vnd\.openxmlformats[^;]*;base64,([A-Za-z0-9+/=]+)" download="([^"]+)"', excel
    )
    assert found is not None and found.group(2) == f"{event.slug}-survey.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(base64.b64decode(found.group(1))))
    assert [[c.value or "" for c in row] for row in book.active.iter_rows()] == survey_answers.export(
        world.table, event
    )
    cells = [c for row in book.active.iter_rows() for c in row if c.value is not None]
    assert all(c.data_type == "s" for c in cells)
    assert '=HYPERLINK("http://evil.example","click")' in {c.value for c in cells}
    # Anonymous: no answer holds a registration id, a name, an address or a time finer than the day.
    stored = json.dumps([{k: v for k, v in i.items() if k not in (schema.PK, schema.SK)} for i in items])
    for rid in ids.values():
        assert rid not in stored and rid not in exported.body.decode("utf-8-sig")
    assert "registration_id" not in stored and "@example.jp" not in stored and "参加者" not in stored
    assert all(set(i) == {schema.PK, schema.SK, "answers", "answered_on", schema.TTL_ATTRIBUTE} for i in items)
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(i["answered_on"])) for i in items)
    assert all(int(i[schema.TTL_ATTRIBUTE]) == int(event.personal_data_expires_at.timestamp()) for i in items)
    # The report keeps the survey's counts (and no text) past the erasure.
    made = report.keep(world.table, event, world.clock.now())
    assert made.survey == ((QUESTIONS[0].label, PEOPLE, pytest.approx(sum(points) / PEOPLE)),)
    assert "alert" not in made.to_json()


def test_each_registration_answers_once(world: World, client: Client, answered: tuple[Event, dict[int, str]]) -> None:
    event, ids = answered
    path = personal_path(world.services.signer, event.slug, ids[0], event.ends_at).replace("?token=", "/survey?token=")
    again = client.http.post(
        path.split("?")[0], headers=FORM, body=urlencode({"token": path.split("token=")[1], **the_answer(1)})
    )
    assert again.status_code == 409 and "受け付け済み" in page(again)
    assert len(survey_answers.answer_items(world.table, event.slug)) == PEOPLE
    own = page(client.http.get(path.replace("/survey?", "?")))
    assert "アンケートに答える" not in own


def test_the_survey_takes_answers_only_while_open_and_only_from_seat_holders(
    world: World, client: Client, sample_event: Event
) -> None:
    event = world.publish(with_survey(sample_event))
    rid = register(world.table, event, numbered(1), "S1", world.clock.now()).registration_id
    path = personal_path(world.services.signer, event.slug, rid, event.ends_at).replace("?token=", "/survey?token=")
    body = urlencode({"token": path.split("token=")[1], **the_answer(1)})
    assert "いまは回答を受け付けていません" in page(client.http.get(path))  # before the event
    assert client.http.post(path.split("?")[0], headers=FORM, body=body).status_code == 409
    world.clock.set(event.starts_at)
    assert "アンケートに答える" in page(client.http.get(path.replace("/survey?", "?")))
    missing = urlencode({"token": path.split("token=")[1]})
    refused = client.http.post(path.split("?")[0], headers=FORM, body=missing)
    assert refused.status_code == 400 and "満足度" in page(refused)  # the required scale, beside its field
    world.clock.set(event.survey.closes_at)  # type: ignore[union-attr]
    assert client.http.post(path.split("?")[0], headers=FORM, body=body).status_code == 409
    assert survey_answers.answer_items(world.table, event.slug) == []


def test_a_named_survey_says_who_answered_to_the_organizer(world: World, client: Client, sample_event: Event) -> None:
    event = world.publish(with_survey(sample_event, anonymous=False))
    rid = register(world.table, event, numbered(1), "S1", world.clock.now()).registration_id
    world.clock.set(event.starts_at)
    path = personal_path(world.services.signer, event.slug, rid, event.ends_at).replace("?token=", "/survey?token=")
    assert "お名前と受付番号とともに" in page(client.http.get(path))
    body = urlencode({"token": path.split("token=")[1], **the_answer(1)})
    assert client.http.post(path.split("?")[0], headers=FORM, body=body).status_code == 303
    rows = survey_answers.export(world.table, event)
    assert rows[0][:2] == ["受付番号", "氏名"] and rows[1][1] == "参加者1" and rows[1][0].replace("-", "") == rid


def test_the_survey_pages_are_valid_html(
    world: World, client: Client, answered: tuple[Event, dict[int, str]], tmp_path: Path
) -> None:
    from tests.test_html_valid import errors_of

    event, _ = answered
    after = world.clock.now()
    world.clock.set(BEFORE_EVENT)  # one more seat holder, who has not answered yet
    world.publish(dataclasses.replace(event, capacity=PEOPLE + 1))
    rid = register(world.table, event, numbered(99), "S099", world.clock.now()).registration_id
    world.clock.set(after)
    world.let_sign_in(ORGANIZER)
    desk = sign_in(client, world)
    pages: dict[str, Any] = {"results": page(desk.get(client, f"/organizer/events/{event.slug}/survey"))}
    pages["excel"] = page(desk.get(client, f"/organizer/events/{event.slug}/excel/survey"))
    path = personal_path(world.services.signer, event.slug, rid, event.ends_at).replace("?token=", "/survey?token=")
    pages["form"] = page(client.http.get(path))
    pages["form-errors"] = page(
        client.http.post(path.split("?")[0], headers=FORM, body=urlencode({"token": path.split("token=")[1]}))
    )
    pages["own-with-survey"] = page(client.http.get(path.replace("/survey?", "?")))
    assert "アンケートに答える" in pages["own-with-survey"]
    assert errors_of(pages, tmp_path) == []


def test_the_thank_you_mail_carries_the_link_to_the_survey(world: World, client: Client, sample_event: Event) -> None:
    from chalicelib.usecases import broadcast, checkin
    from tests.conftest import mailbox

    event = world.publish(with_survey(sample_event))
    rid = register(world.table, event, numbered(1), "S1", world.clock.now()).registration_id
    world.clock.set(event.starts_at)
    checkin.check_in(world.table, event.slug, rid, "door@example.jp", world.clock.now())
    world.clock.set(event.ends_at)
    thanks = broadcast.Draft("ご参加ありがとうございました", "資料とアンケートのお願いです。", broadcast.ATTENDED)
    assert broadcast.queue(world.table, event.slug, "THANKS", thanks, ORGANIZER, world.clock.now())
    broadcast.fan_out_due(world.table, world.clock.now())
    world.deliver_outbox()
    mail = next(m for m in mailbox() if "ご参加ありがとうございました" in str(m["Subject"]))
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    found = re.search(r"http://testserver(/events/\S+/survey\?token=\S+)", text)
    assert found is not None and "アンケートのお願い" in text
    assert "回答を送る" in page(client.http.get(found.group(1)))


def test_an_excel_file_too_big_for_the_page_is_refused_with_the_way_to_csv(
    world: World, client: Client, answered: tuple[Event, dict[int, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lambda answers at most 6 MB; the file rides in the page as base64 (4/3 larger), so a bigger one says CSV."""
    from chalicelib.web.organizer import lists

    event, _ = answered
    world.let_sign_in(ORGANIZER)
    desk = sign_in(client, world)
    monkeypatch.setattr(lists, "EXCEL_IN_PAGE_LIMIT", 100)
    shown = page(desk.get(client, f"/organizer/events/{event.slug}/excel/survey"))
    assert "data:application" not in shown and "CSVで保存してください" in shown
    assert desk.get(client, f"/organizer/events/{event.slug}/excel/nothing").status_code == 404
