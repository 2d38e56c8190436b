"""Every language an attendee may read: やさしい日本語, English, 简体中文, 한국어, Tiếng Việt, Português.

Every message an attendee's page or mail shows has its own sentence in each language's catalog
(chalicelib/locale/<code>); やさしい日本語 is written to the 在留支援のためのやさしい日本語ガイドライン: short
sentences, one idea each, common words, times written plainly. The walk below opens each kind of
attendee page in a language and renders each kind of mail, recording every message asked for; none may
fall back to Japanese, and no page mixes in Japanese beyond the organizer's own words and the registrant's.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from babel.messages.pofile import read_po
from chalice.test import Client

from chalicelib.domain.event import Event, Online
from chalicelib.domain.event_file.online import with_attendance
from chalicelib.domain.links import personal_path
from chalicelib.domain.survey import Survey
from chalicelib.text import i18n
from chalicelib.usecases import announcements, checkin, reminders
from chalicelib.usecases.catalog import get_event
from chalicelib.usecases.publishing import load_event
from chalicelib.usecases.registering import register as register_directly
from chalicelib.web.bots import Form
from tests.conftest import FORM, ROOT, World, mailbox, numbered, page, signed, valid_form
from tests.test_builder import form_of, sent_by
from tests.test_combinations import SATISFACTION
from tests.test_language import run_on, untranslated, visible_text
from tests.test_organizer import ORGANIZER, sign_in
from tests.test_spam import every_mail, online, short

EASY = {"Cookie": f"{i18n.COOKIE}=easy"}
BESIDES_JAPANESE = [code for code in i18n.LANGUAGES if code != i18n.DEFAULT]
LATIN_SCRIPT = ("en", "vi", "pt")


def catalog_of(language: str) -> Path:
    """The language's catalog source."""
    return ROOT / "chalicelib" / "locale" / language / "LC_MESSAGES" / "messages.po"


def missing_list(language: str) -> Path:
    """What to translate next into `language`, written when the walk finds some."""
    return ROOT / "build" / f"{language}-untranslated.txt"


def reading(language: str) -> dict[str, str]:
    """The headers of a visitor who chose `language`."""
    return {"Cookie": f"{i18n.COOKIE}={language}"}


class _Recording:
    """A catalog that notes every message asked of it."""

    def __init__(self, inner: Any, seen: set[str]) -> None:
        self.inner, self.seen = inner, seen

    def gettext(self, message: str) -> str:
        self.seen.add(message)
        return str(self.inner.gettext(message))

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        self.seen.add(singular)
        return str(self.inner.ngettext(singular, plural, n))


@pytest.fixture
def asked(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, set[str]]]:
    """The messages asked for in each language during the test."""
    seen: dict[str, set[str]] = {}
    real = i18n._catalog

    def catalog(language: str) -> Any:
        return _Recording(real(language), seen.setdefault(language, set()))

    monkeypatch.setattr(i18n, "_catalog", catalog)
    yield seen


def register(client: Client, event: Event, language: str = i18n.EASY, **fields: str) -> Any:
    """The form sent by a visitor reading `language`."""
    body = urlencode(signed(valid_form(**fields), event.slug))
    return client.http.post(f"/events/{event.slug}", headers={**FORM, **reading(language)}, body=body)


def own(client: Client, location: str, language: str = i18n.EASY, **fields: str) -> Any:
    """The registrant's own page: shown, or sent with `fields`."""
    if not fields:
        return client.http.get(location, headers=reading(language))
    token = dict(p.split("=", 1) for p in urlsplit(location).query.split("&"))["token"]
    body = urlencode({"token": token, **fields})
    return client.http.post(urlsplit(location).path, headers={**FORM, **reading(language)}, body=body)


def walk(client: Client, world: World, event: Event, language: str) -> list[str]:
    """Every kind of attendee page, in `language`; the pages' HTML."""
    got = reading(language)
    shown = [page(client.http.get(path, headers=got)) for path in ("/", f"/events/{event.slug}", "/events/none")]
    shown.append(page(client.http.get(f"/events/{event.slug}/my-link", headers=got)))
    mistakes = {"name": "", "email": "taro@gmial.com", "consent": ""}  # every kind of mistake
    shown.append(page(register(client, event, language, **mistakes)))
    shown.append(page(register(client, event, language, email="taro@gmial.com")))  # a mistyped address questioned
    location = register(client, event, language).headers["Location"]
    shown.append(page(own(client, location, language)))
    shown.append(page(register(client, event, language)))  # the same address again
    shown.append(page(own(client, location, language, action="edit", name="")))
    shown.append(page(own(client, location, language, action="cancel")))
    done = own(client, location, language, action="cancel", confirm_cancel="yes").headers["Location"]
    shown.append(page(client.http.get(done, headers=got)))
    full = world.publish(dataclasses.replace(event, slug="full", capacity=1))
    register(client, full, language, email="first@example.jp")
    shown.append(page(client.http.get("/events/full", headers=got)))
    waiting = register(client, full, language, email="second@example.jp").headers["Location"]
    shown.append(page(own(client, waiting, language)))
    link = signed({"email": "taro@example.jp"}, event.slug, form=Form.LINK_REQUEST)
    sent = client.http.post(f"/events/{event.slug}/my-link", headers={**FORM, **got}, body=urlencode(link))
    shown.append(page(sent))
    return shown


def walk_the_rest(client: Client, world: World, event: Event, language: str) -> list[str]:
    """The pages of the lifecycle's other turns, in `language`: a lottery, online and hybrid events, a closed
    one, 出欠の再確認 and a released seat taken back, the survey and certificate after the event, and an event
    called off."""
    got = reading(language)
    shown: list[str] = []

    def published(slug: str, **changes: Any) -> Event:
        return world.publish(dataclasses.replace(event, slug=slug, **changes))

    def show(path: str) -> None:
        answer = client.http.get(path, headers=got)
        assert answer.status_code == 200, (path, answer.status_code)
        shown.append(page(answer))

    def own_link(slug: str, registration_id: str, until: Event) -> str:
        return personal_path(world.services.signer, slug, registration_id, until.ends_at)

    now = world.clock.now()
    lottery = published("lottery", draw_at=now + timedelta(days=1))
    show("/events/lottery")
    applied = register(client, lottery, language).headers["Location"]
    shown.append(page(own(client, applied, language)))
    shown.append(page(own(client, applied, language, action="cancel")))
    published("online", online=Online("online", "https://meet.example.jp/j/1"))
    show("/events/online")
    hybrid = Online("hybrid", "https://meet.example.jp/j/1", venue_capacity=2, online_capacity=2)
    # As the event file and the builder save it: with its own question, 会場 or オンライン.
    world.publish(with_attendance(dataclasses.replace(event, slug="hybrid", online=hybrid, capacity=4)))
    show("/events/hybrid")
    chosen = register(client, get_event(world.table, "hybrid").event, language, answer_attendance="online")  # type: ignore[union-attr]
    shown.append(page(own(client, chosen.headers["Location"], language)))
    published("closed", registration_closes_at=now - timedelta(minutes=1))
    show("/events/closed")
    # 出欠の再確認: the question's two answers, sent, then sent again; a seat released, then taken back.
    starts = event.starts_at
    asked_at, released_at = starts - timedelta(days=3), starts - timedelta(days=1)
    asking = published("asking", reminders=(), reconfirm_at=asked_at, release_unconfirmed_at=released_at)
    ids = [register_person(world, asking, n) for n in (1, 2)]
    world.clock.set(asked_at)
    reminders.send_due_reminders(world.table, world.clock.now())
    coming = own_link("asking", ids[0], asking)
    shown.append(page(client.http.get(coming, headers=got)))  # asked, not answered yet
    attendance = coming.replace("?token=", "/attendance?answer={answer}&token=")
    for answer in ("yes", "no"):
        show(attendance.format(answer=answer))
    token = coming.split("token=")[1]
    for _ in range(2):  # answered, then the same answer again
        body = urlencode({"token": token, "answer": "yes"})
        sent = client.http.post(attendance.split("?")[0], headers={**FORM, **got}, body=body)
        shown.append(page(sent))
    world.clock.set(released_at)
    reminders.send_due_reminders(world.table, world.clock.now())
    released = own_link("asking", ids[1], asking)
    shown.append(page(client.http.get(released, headers=got)))  # released, and offered the seat back
    shown.append(page(own(client, released, language, action="take_back")))
    # After the event: the survey (asked, answered, answered again) and the certificate of who came.
    world.clock.set(now)
    held = published(
        "held", certificates=True, survey=Survey((SATISFACTION,), closes_at=event.ends_at + timedelta(days=7))
    )
    came = register_person(world, held, 3)
    world.clock.set(held.starts_at)
    checkin.check_in(world.table, "held", came, "door@example.jp", world.clock.now())
    world.clock.set(held.ends_at + timedelta(hours=1))
    mine = own_link("held", came, held)
    shown.append(page(client.http.get(mine, headers=got)))
    survey = mine.replace("?token=", "/survey?token=")
    show(survey)
    for _ in range(2):
        body = urlencode({"token": survey.split("token=")[1], "answer_satisfaction": "4"})
        shown.append(page(client.http.post(survey.split("?")[0], headers={**FORM, **got}, body=body)))
    show(mine.replace("?token=", "/certificate?token="))
    # Called off: the event's page and a registrant's own page say so.
    world.clock.set(now)
    off = published("off")
    gone = register_person(world, off, 4)
    assert announcements.cancel_event(world.table, off, 0, "", "office@example.jp", world.clock.now())
    show("/events/off")
    shown.append(page(client.http.get(own_link("off", gone, off), headers=got)))
    return shown


def register_person(world: World, event: Event, n: int) -> str:
    """Someone registered by the use case itself (the walk opens their pages in its language); their id."""
    result = register_directly(world.table, event, numbered(n), f"W{n:07d}", world.clock.now(), world.services.ids)
    return result.registration_id


@pytest.mark.parametrize("language", BESIDES_JAPANESE)
def test_every_attendee_page_and_mail_has_its_own_sentences_in_every_language(
    client: Client, world: World, published: Event, asked: dict[str, set[str]], language: str
) -> None:
    shown = walk(client, world, published, language) + walk_the_rest(client, world, published, language)
    for event in (published, online(published), short(published)):
        every_mail(event, language, registrants_only=True)
    with catalog_of(language).open("rb") as handle:
        written = {m.id: m.string for m in read_po(handle) if m.id}
    # Only the catalog's messages: a sentence already translated and formatted is sometimes handed to gettext again.
    missing = sorted(m for m in asked.get(language, set()) if m in written and not written[m])
    missing_list(language).unlink(missing_ok=True)
    if missing:
        missing_list(language).parent.mkdir(exist_ok=True)
        missing_list(language).write_text("\n".join(missing) + "\n", encoding="utf-8")
    assert missing == [], f"{len(missing)} messages still in Japanese (listed in {missing_list(language)})"
    if language != i18n.EASY:
        # Nothing in Japanese but the organizer's own words (no [<language>] in the sample) and the registrant's.
        assert [left for html in shown for left in untranslated(html, published, language)] == []
    if language in LATIN_SCRIPT:
        # Sentences the catalog joins end to end need their space (Japanese needs none between them).
        assert [glued for html in shown for glued in run_on(visible_text(html))] == []


def test_only_the_switch_or_a_link_chooses_it_and_its_pages_say_japanese(client: Client, published: Event) -> None:
    switched = client.http.get("/language/easy?back=/events/cdo-seminar")
    assert switched.headers["Set-Cookie"].startswith(f"{i18n.COOKIE}=easy;")
    shown = client.http.get("/events/cdo-seminar", headers=EASY)
    assert '<html lang="ja">' in page(shown) and shown.headers["Content-Language"] == "ja"
    assert "申[もう]し込[こ]む" not in page(shown) and "<ruby>" in page(shown)  # readings, drawn as ruby
    for header in ("easy", "ja-x-easy", "ja-JP-easy;q=1"):  # no browser asks for it: Japanese instead
        asked = client.http.get("/events/cdo-seminar", headers={"Accept-Language": header})
        assert asked.headers["Content-Language"] == "ja" and "<ruby>" not in page(asked)
    plain = page(client.http.get("/events/cdo-seminar"))
    assert 'href="/language/easy?back=/events/cdo-seminar" lang="ja"' in plain  # offered on every page


def test_a_registrant_in_easy_japanese_gets_easy_japanese_mail_without_markup(
    client: Client, world: World, published: Event
) -> None:
    location = register(client, published).headers["Location"]
    assert "申し込みが できました" in page(own(client, location))
    world.deliver_outbox()
    [mail] = mailbox()
    assert str(mail["Subject"]).startswith("【申し込みが できました】")
    text = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    html = mail.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert "あなたの 席が あります" in text and "あなたの 席が あります" in html
    assert not re.search("[\ue000-\ue002]", text + html) and "<ruby>" not in html  # a mail carries no marks


def test_the_organizers_untranslated_words_are_marked_japanese_with_readings(
    client: Client, world: World, sample_event: Event
) -> None:
    load_event(world.table, sample_event, world.clock.now())  # saved with its readings
    chinese = page(client.http.get("/events/cdo-seminar", headers=reading("zh")))
    assert '<html lang="zh-Hans">' in chinese and "报名" in chinese
    # The title, never translated into Chinese, is Japanese: marked so, its words read.
    title = re.search(r"<h1>(.*?)</h1>", chinese)
    assert title and title.group(1).startswith('<span lang="ja">') and "<rt>じちたい</rt>" in title.group(1)
    assert "翻译的部分以日语原文显示，并附有假名注音" in chinese
    plain = world.publish(dataclasses.replace(sample_event, slug="unread"))  # saved without readings
    said = page(client.http.get(f"/events/{plain.slug}", headers=reading("zh")))
    assert "翻译的部分以日语原文显示。" in said and "<ruby>" not in said  # no readings, none promised
    english = page(client.http.get("/events/cdo-seminar", headers=reading("en")))
    assert 'lang="ja">自治体' not in english and "did not translate" not in english  # all of it is in English


def test_the_organizer_writes_the_title_in_chinese_in_the_builder_and_chinese_readers_see_it(
    client: Client, world: World, published: Event
) -> None:
    world.let_sign_in(ORGANIZER)
    owner = sign_in(client, world)
    fields = {**form_of(published), "zh_title": "自治体CDO学习会", "vi_venue_name": "Tòa nhà Ogawa, tầng 4"}
    saved = owner.post(client, "/organizer/events/cdo-seminar/edit", action="save", **fields)
    assert saved.status_code == 303
    chinese = page(client.http.get("/events/cdo-seminar", headers=reading("zh")))
    assert "<h1>自治体CDO学习会</h1>" in chinese  # the organizer's Chinese: not marked Japanese
    assert '<span lang="ja">' in chinese  # what they left out still is
    assert "Tòa nhà Ogawa, tầng 4" in page(client.http.get("/events/cdo-seminar", headers=reading("vi")))
    shown = sent_by(page(owner.get(client, "/organizer/events/cdo-seminar/edit")))
    assert shown["zh_title"] == "自治体CDO学习会"  # and the builder shows it again


def test_the_organizer_translates_categories_and_programme_in_the_builder(
    client: Client, world: World, published: Event
) -> None:
    world.let_sign_in(ORGANIZER)
    owner = sign_in(client, world)
    builder = page(owner.get(client, "/organizer/events/cdo-seminar/edit"))
    category, talk = published.categories[0], published.programme[0]
    # Each entry's own words stand in the field's label, so the organizer knows what they translate.
    assert f"参加区分「{category.label}」の名前（简体中文）" in builder
    assert f"プログラム「{talk.title}」の題名（한국어）" in builder
    assert 'name="category-0-label_zh"' in builder and 'name="talk-0-title_ko"' in builder
    fields = {
        **form_of(published),
        "category-0-label_zh": "地方议员",
        "talk-0-title_ko": "해외 공공 CDO의 사례",
        "talk-0-speaker_pt": "Palestrante convidado",
    }
    saved = owner.post(client, "/organizer/events/cdo-seminar/edit", action="save", **fields)
    assert saved.status_code == 303
    assert "地方议员" in page(client.http.get("/events/cdo-seminar", headers=reading("zh")))
    korean = page(client.http.get("/events/cdo-seminar", headers=reading("ko")))
    assert "해외 공공 CDO의 사례" in korean and "地方议员" not in korean
    assert "Palestrante convidado" in page(client.http.get("/events/cdo-seminar", headers=reading("pt")))
    stored = get_event(world.table, "cdo-seminar")
    assert stored is not None
    korean_programme = stored.event.in_language("ko").programme
    assert korean_programme[0].title == "해외 공공 CDO의 사례" and korean_programme[1:] == published.programme[1:]
    shown = sent_by(page(owner.get(client, "/organizer/events/cdo-seminar/edit")))
    assert shown["category-0-label_zh"] == "地方议员" and shown["talk-0-speaker_pt"] == "Palestrante convidado"
    # The languages written in stay open; the others fold away, as they all did before.
    again = page(owner.get(client, "/organizer/events/cdo-seminar/edit"))
    opened = re.findall(r'<details class="language" open>\s*<summary lang="([^"]+)"', again)
    assert opened == ["zh-Hans", "ko", "pt-BR"] and builder.count('<details class="language">') == 5
    assert shown["category-0-label_en"] == fields["category-0-label_en"]  # English as before


def test_the_hybrid_events_own_question_is_the_sites_words_not_the_organizers(published: Event) -> None:
    hybrid = Online("hybrid", "https://meet.example.jp/j/1", venue_capacity=2, online_capacity=2)
    event = with_attendance(dataclasses.replace(published, online=hybrid, capacity=4))
    # Not among the words a foreign page marks as the organizer's Japanese, nor given readings as theirs.
    assert not {"参加方法", "会場で参加", "オンラインで参加"} & set(event.own_texts())
    for language, venue in (("zh", "在会场参加"), ("ko", "행사장에서 참가"), ("en", "At the venue")):
        (asked,) = [q for q in event.in_language(language).questions if q.key == "attendance"]
        assert asked.choices[0].label == venue
