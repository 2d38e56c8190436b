"""ふりがな: readings computed for an organizer's words, corrected by them, drawn as <ruby> by the server."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest
from babel.messages.mofile import read_mo
from chalice.test import Client

from chalicelib.domain.event import Event
from chalicelib.domain.event_file import parse_event_text, to_toml
from chalicelib.text import furigana, i18n
from chalicelib.text.furigana import Readings, segments
from chalicelib.usecases import readings
from chalicelib.usecases.publishing import load_event
from tests.conftest import ROOT, World, page
from tests.test_builder import sent_by
from tests.test_organizer import ORGANIZER, sign_in

# The sample event's words as a person reads them (hiragana over kanji; katakana, Latin and digits as written).
BY_HAND: dict[str, str] = dict(
    [
        (
            "自治体CDO勉強会〜海外のパブリックCDOの取り組みから学ぶDX",
            ("じちたいCDOべんきょうかい〜かいがいのパブリックCDOのとりくみからまなぶDX"),
        ),
        (
            (
                "日本で初めての自治体CDO（最高デジタル責任者）に関する公務員・議員向け"
                "勉強会です。海外の自治体CDOの事例と、国内で初めて自治体CDOの設置に"
                "取り組んでいる磐梯町の事例をご紹介し、自治体のデジタル変革の現状、課題、"
                "そして展望を共有します。"
            ),
            (
                "にほんではじめてのじちたいCDO（さいこうデジタルせきにんしゃ）にかんす"
                "るこうむいん・ぎいんむけべんきょうかいです。かいがいのじちたいCDOのじ"
                "れいと、こくないではじめてじちたいCDOのせっちにとりくんでいるばんだい"
                "まちのじれいをごしょうかいし、じちたいのデジタルへんかくのげんじょう、か"
                "だい、そしててんぼうをきょうゆうします。"
            ),
        ),
        (
            "無料",
            "むりょう",
        ),
        (
            "小川ビル4階（スペースパートナー）",
            "おがわビル4かい（スペースパートナー）",
        ),
        (
            "東京都千代田区神田錦町2丁目11番地7",
            "とうきょうとちよだくかんだにしきちょう2ちょうめ11ばんち7",
        ),
        (
            "一般社団法人CDO Club Japan",
            "いっぱんしゃだんほうじんCDO Club Japan",
        ),
        (
            "一般社団法人Publitech",
            "いっぱんしゃだんほうじんPublitech",
        ),
        (
            "自治体CDO勉強会 事務局",
            "じちたいCDOべんきょうかい じむきょく",
        ),
        (
            "地方議員",
            "ちほうぎいん",
        ),
        (
            "地方公務員",
            "ちほうこうむいん",
        ),
        (
            "市町村長",
            "しちょうそんちょう",
        ),
        (
            "公の機関のデジタル変革に関心の高い企業関係者",
            "おおやけのきかんのデジタルへんかくにかんしんのたかいきぎょうかんけいしゃ",
        ),
        (
            "その他、勉強会の内容に興味のある方",
            "そのた、べんきょうかいのないようにきょうみのあるかた",
        ),
        (
            "講演1：デジタル変革に取り組む海外の自治体CDOの活動内容の紹介",
            ("こうえん1：デジタルへんかくにとりくむかいがいのじちたいCDOのかつどうないようのしょうかい"),
        ),
        (
            "講演2：日本の自治体における課題とデジタル変革の必要性",
            ("こうえん2：にほんのじちたいにおけるかだいとデジタルへんかくのひつようせい"),
        ),
        (
            "質疑・名刺交換",
            "しつぎ・めいしこうかん",
        ),
        (
            "菅原直敏",
            "すがわらなおとし",
        ),
        (
            "磐梯町CDO、一般社団法人Publitech 代表理事",
            ("ばんだいまちCDO、いっぱんしゃだんほうじんPublitech だいひょうりじ"),
        ),
    ]
)


def test_the_reading_sits_over_the_kanji_only() -> None:
    assert segments("取り組み", "とりくみ") == [("取", "と"), ("り", ""), ("組", "く"), ("み", "")]
    assert segments("磐梯町", "バンダイマチ") == [("磐梯町", "ばんだいまち")]
    assert segments("申し込み", "もうしこみ") == [("申", "もう"), ("し", ""), ("込", "こ"), ("み", "")]
    assert segments("取り組み", "ちがうよみ") == [("取り組み", "ちがうよみ")]  # no alignment: over the whole word


def test_a_page_gets_ruby_in_its_text_and_nowhere_markup_cannot_go() -> None:
    table = Readings({"勉強会": "べんきょうかい", "勉強": "べんきょう", "磐梯町": "ばんだいまち"})
    html = (
        '<title>勉強会</title><p title="勉強会">勉強会と勉強</p><textarea>勉強会</textarea>'
        "<select><option>勉強会</option></select><p>磐梯町&amp;<b>勉強会</b></p>"
    )
    done = table.page(html)
    assert "<title>勉強会</title>" in done and 'title="勉強会"' in done and "<textarea>勉強会</textarea>" in done
    assert "<option>勉強会</option>" in done
    assert '<p title="勉強会"><ruby>勉強会<rp>(</rp><rt>べんきょうかい</rt><rp>)</rp></ruby>と<ruby>勉強' in done
    assert "<ruby>磐梯町<rp>(</rp><rt>ばんだいまち</rt><rp>)</rp></ruby>&amp;<b><ruby>勉強会" in done


def test_a_reading_is_kanji_over_kana_and_nothing_else() -> None:
    assert furigana.valid("磐梯町", "ばんだいまち") and furigana.valid("磐梯町", "バンダイマチ")
    assert not furigana.valid("磐梯町", "bandai") and not furigana.valid("CDO", "しーでぃーおー")
    assert not furigana.valid("1人", "ひとり")  # digits are read as written: "11人" must not read 1(ひとり)
    assert not furigana.valid("<b>", "びー") and not furigana.valid("磐梯町", "<rt>")


def test_the_sample_event_reads_as_a_person_reads_it() -> None:
    """SudachiPy's readings against readings written by hand for the sample event's 18 texts.

    15 read exactly as a person reads them. In the other 3 no reading is wrong: a word of one kanji (公, 階,
    方, 他 of その他) gets none, since one character reads differently in different places; the organizer
    can give one in the builder.
    """
    event = readings.complete(parse_event_text(SAMPLE), readings.sudachi())
    table = Readings(dict(event.readings))
    right = [text for text, by_hand in BY_HAND.items() if table.kana(text) == by_hand]
    assert len(right) == 15, [table.kana(t) for t in BY_HAND if t not in right]
    for text, by_hand in BY_HAND.items():
        unread = re.sub(r"[^\u3400-\u9fff]", "", table.kana(text))
        assert set(unread) <= {"公", "階", "方", "他"}, text
        # Where a word is read, it is read as by hand: the reading, with the unread kanji put back, is the same.
        assert len(table.kana(text)) <= len(by_hand)


SAMPLE = (ROOT / "events" / "cdo-seminar.toml").read_text(encoding="utf-8")


def test_saving_keeps_the_organizers_corrections_and_forgets_words_that_went() -> None:
    event = parse_event_text(SAMPLE)
    corrected = dataclasses.replace(event, readings=(("日本", "にっぽん"), ("昔の言葉", "むかしのことば")))
    saved = dict(readings.complete(corrected, readings.sudachi()).readings)
    assert saved["日本"] == "にっぽん"  # the organizer's reading, not the analyser's
    assert "昔の言葉" not in saved  # in no text any more
    assert saved["磐梯町"] == "ばんだいまち" and saved["勉強会"] == "べんきょうかい"
    assert dict(readings.complete(corrected, None).readings) == {"日本": "にっぽん"}  # no analyser: kept as is
    # The file loaded again without [readings]: the corrections saved before stay.
    again = readings.complete(event, readings.sudachi(), earlier=tuple(saved.items()))
    assert dict(again.readings)["日本"] == "にっぽん"


def test_the_readings_travel_with_the_event_file() -> None:
    event = readings.complete(parse_event_text(SAMPLE), readings.sudachi())
    assert parse_event_text(to_toml(event)) == event
    assert "[readings]" in to_toml(event) and '"磐梯町" = "ばんだいまち"' in to_toml(event)


@pytest.mark.parametrize("language", [i18n.DEFAULT, i18n.EASY])
def test_every_site_sentence_has_a_ruby_twin_that_reads_as_written(language: str) -> None:
    """The twin is its sentence, word for word, with readings: taking the marks out gives the sentence back."""
    folder = ROOT / "chalicelib" / "locale" / language / "LC_MESSAGES"
    with (folder / "ruby.mo").open("rb") as handle:
        twins = {m.id: m.string for m in read_mo(handle) if m.id}
    if language == i18n.EASY:
        with (folder / "messages.mo").open("rb") as handle:
            sources = {m.id: m.string for m in read_mo(handle) if m.id}
    else:
        sources = {msgid: msgid for msgid in twins}
    assert len(twins) > 200 and all(furigana.unmarked(twins[m]) == sources[m] for m in twins)
    read = " ".join(furigana.MARKED.sub(r"\1[\2]", twin) for twin in twins.values())
    # Each word as its sentence reads it: 来 is き in 来ますか and く in 来るのを; 日 after a date is にち.
    expected = {
        i18n.DEFAULT: ("申[もう]し込[こ]む", "会場[かいじょう]", "{day}日[にち]", "受付[うけつけ]"),
        i18n.EASY: ("席[せき]", "来[き]ますか", "来[く]るのを", "{day}日[にち]", "空[あ]くのを"),
    }
    assert [word for word in expected[language] if word not in read] == []


@pytest.fixture
def with_readings(world: World, sample_event: Event) -> Event:
    """The sample event saved as the builder saves it: its readings computed."""
    load_event(world.table, sample_event, world.clock.now())
    event = world.services.events.get(sample_event.slug)
    assert event is not None
    return event


def furigana_on(client: Client) -> dict[str, Any]:
    """The switch pressed: its cookie, as the browser sends it back."""
    response = client.http.get("/furigana/on?back=/events/cdo-seminar")
    assert response.status_code == 303 and response.headers["Location"].endswith("/events/cdo-seminar")
    cookie = response.headers["Set-Cookie"].split(";")[0]
    assert cookie == "uketsuke_furigana=on"
    return {"Cookie": cookie}


def test_the_switch_puts_readings_over_the_event_page_and_remembers(client: Client, with_readings: Event) -> None:
    plain = page(client.http.get("/events/cdo-seminar"))
    assert "<ruby>" not in plain and "ふりがなをつける" in plain
    shown = page(client.http.get("/events/cdo-seminar", headers=furigana_on(client)))
    assert "<ruby>磐梯町<rp>(</rp><rt>ばんだいまち</rt>" in shown  # the organizer's words
    assert "<ruby>申<rp>(</rp><rt>もう</rt><rp>)</rp></ruby>し<ruby>込<rp>(</rp><rt>こ</rt>" in shown  # the site's
    assert re.search(r"<title>[^<]*</title>", shown)  # the title holds no markup
    assert "/furigana/off?back=" in shown  # the switch now takes them off (its own words read too)
    off = client.http.get("/furigana/off?back=/events/cdo-seminar")
    assert off.headers["Set-Cookie"].startswith("uketsuke_furigana=off")


def test_english_and_organizer_pages_stay_without_readings(client: Client, with_readings: Event) -> None:
    headers = furigana_on(client)
    english = page(client.http.get("/events/cdo-seminar", headers={**headers, "Accept-Language": "en"}))
    assert "<ruby>" not in english and "furigana" not in english.lower()
    organizer = page(client.http.get("/organizer/sign-in", headers=headers))
    assert "<ruby>" not in organizer and "ふりがなをつける" not in organizer


def test_the_organizer_sees_each_reading_in_the_builder_and_corrects_one(
    client: Client, world: World, with_readings: Event
) -> None:
    world.let_sign_in(ORGANIZER)
    owner = sign_in(client, world)
    url = "/organizer/events/cdo-seminar/edit"
    fields = sent_by(page(owner.get(client, url)))
    [row] = [name.split("-")[1] for name, value in fields.items() if name.endswith("-word") and value == "日本"]
    assert fields[f"reading-{row}-reading"] == "にほん"
    wrong = owner.post(client, url, action="save", **{**fields, f"reading-{row}-reading": "nihon"})
    assert wrong.status_code == 400 and f'id="reading-{row}-reading-error"' in page(wrong)
    assert "ひらがなかカタカナだけで" in page(wrong)
    saved = owner.post(client, url, action="save", **{**fields, f"reading-{row}-reading": "にっぽん"})
    assert saved.status_code == 303
    shown = page(client.http.get("/events/cdo-seminar", headers=furigana_on(client)))
    assert "<ruby>日本<rp>(</rp><rt>にっぽん</rt>" in shown  # the organizer's reading, kept by later saves too


def test_no_reading_mark_leaves_the_text_of_a_page(client: Client, with_readings: Event) -> None:
    """Marks become <ruby> in a page's text; in attributes, the title, an API answer, they are taken out."""
    headers = {**furigana_on(client), "Cookie": "uketsuke_furigana=on; uketsuke_lang=easy"}
    for path in ("/", "/events/cdo-seminar", "/events/cdo-seminar/my-link", "/events/none"):
        body = page(client.http.get(path, headers=headers))
        assert "<ruby>" in body, path
        assert not re.search(f"[{furigana.OPEN}{furigana.SEP}{furigana.CLOSE}]", body), path
        assert not re.search(r'="[^"]*<ruby', body) and not re.search(r"<title>[^<]*<ruby", body), path
    key = client.world.api_headers()  # type: ignore[attr-defined]
    errors = client.http.post("/api/events/cdo-seminar/registrations", headers={**key, **headers}, body='{"name": ""}')
    assert "<ruby" not in errors.body.decode() and furigana.OPEN not in errors.body.decode()
    assert errors.json_body["errors"]["name"]  # in words, unmarked


def test_easy_japanese_pages_carry_readings_unless_turned_off(client: Client, with_readings: Event) -> None:
    easy = page(client.http.get("/events/cdo-seminar", headers={"Cookie": "uketsuke_lang=easy"}))
    assert "<ruby>申<rp>(</rp><rt>もう</rt>" in easy and '<html lang="ja">' in easy
    off = page(client.http.get("/events/cdo-seminar", headers={"Cookie": "uketsuke_lang=easy; uketsuke_furigana=off"}))
    assert "<ruby>" not in off and "申し込む" in off
