"""Japanese by default, English by choice or by the browser; every sentence from the gettext catalog."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from urllib.parse import urlencode

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from chalice.test import Client

from chalicelib.domain.event import Event
from chalicelib.text import display, i18n
from tests.conftest import FORM, ROOT, SENDER, World, mailbox, page, signed, valid_form

KANA = re.compile(r"[\u3040-\u30ff]")
KANA_OR_KANJI = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]")
PO = ROOT / "chalicelib" / "locale" / "en" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
ENGLISH = {"Accept-Language": "en-GB,en;q=0.9,ja;q=0.5"}


def visible_text(html: str) -> str:
    """What a reader sees (and hears): text and the alt/aria/title attributes, without markup."""
    attributes = " ".join(re.findall(r'(?:alt|aria-label|title)="([^"]*)"', html))
    text = re.sub(r"<[^>]+>", " ", re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", html, flags=re.S))
    return f"{text} {attributes}"


def event_texts(event: Event) -> list[str]:
    """The organizer's own words from the event file, as they are shown."""
    texts = [event.title, event.summary, event.fee, event.venue.name, event.venue.address]
    texts += [c.label for c in event.categories] + list(event.organizers) + list(event.cooperators)
    texts += [t for talk in event.programme for t in (talk.title, talk.speaker, talk.affiliation)]
    texts += [event.contact.organizer_name, event.contact.sender_name]
    return sorted((t for t in texts if t), key=len, reverse=True)


def run_on(text: str) -> list[str]:
    """English sentences joined without a space (two Japanese sentences glued as the catalog gives them)."""
    without_links = re.sub(r"https?://\S+", "", text)  # a link's token may hold "0.A" by chance
    return re.findall(r"\S*[a-z0-9)”’][.!?][A-Z“(]\S*", without_links)


def untranslated(html: str, event: Event, language: str = "en") -> list[str]:
    """Japanese left in a page once the event's own text, as readers of `language` get it, is taken out.

    The sample event has the organizer's English for all of its text, so none of its Japanese may show in
    English; in a language the organizer did not write, their Japanese is what is shown (and allowed)."""
    text = visible_text(html)
    endonyms = ["やさしい日本語", "日本語"]  # the language switch names each language in itself
    readers = event.in_language(language)
    for own in [*event_texts(readers), *endonyms, "バンダイ タロウ", "磐梯 太郎", "磐梯町役場"]:
        text = text.replace(own, "")
    return re.findall(r"\S*[\u3040-\u30ff]\S*", text)


def test_japanese_by_default_and_english_for_an_english_browser(client: Client, published: Event) -> None:
    japanese = client.http.get("/events/cdo-seminar")
    assert '<html lang="ja">' in page(japanese) and "申し込む" in page(japanese)
    assert japanese.headers["Content-Language"] == "ja"
    english = client.http.get("/events/cdo-seminar", headers=ENGLISH)
    body = page(english)
    assert '<html lang="en">' in body and english.headers["Content-Language"] == "en"
    assert "Register" in body and "Wednesday 20 January 2027, 15:00 to 18:00" in body
    assert untranslated(body, published) == [] and published.in_language("en").venue.address in body
    assert published.title in page(japanese) and published.venue.address in page(japanese)
    assert "Accept-Language" in english.headers["Vary"]


def test_the_switch_remembers_the_choice_and_beats_the_browser(client: Client, published: Event) -> None:
    switched = client.http.get("/language/en?back=/events/cdo-seminar%3Fx%3D1")
    assert switched.status_code == 303 and switched.headers["Location"] == "/events/cdo-seminar?x=1"
    cookie = switched.headers["Set-Cookie"]
    assert cookie.startswith("uketsuke_lang=en;") and "Max-Age=31536000" in cookie
    chosen = client.http.get("/events/cdo-seminar", headers={"Cookie": "uketsuke_lang=en", "Accept-Language": "ja"})
    assert '<html lang="en">' in page(chosen)
    back = client.http.get("/events/cdo-seminar", headers={"Cookie": "uketsuke_lang=ja", **ENGLISH})
    assert '<html lang="ja">' in page(back)
    # The switch on every page leads back to that page, in the other language.
    assert 'href="/language/en?back=/events/cdo-seminar"' in page(client.http.get("/events/cdo-seminar"))


@pytest.mark.parametrize("back", ["//evil.example/", "https://evil.example/", "\\\\evil", ""])
def test_the_switch_never_leads_off_the_site(client: Client, world: World, back: str) -> None:
    response = client.http.get(f"/language/en?{urlencode({'back': back})}")
    assert response.headers["Location"] == "/"


def test_an_english_registrant_gets_english_mistakes_pages_and_mail(
    client: Client, world: World, published: Event
) -> None:
    headers = {**FORM, "Cookie": "uketsuke_lang=en"}
    wrong = client.http.post(
        "/events/cdo-seminar", headers=headers, body=urlencode(signed(valid_form(name="", email="x.example.jp")))
    )
    body = page(wrong)
    assert "There is a problem" in body and "Full name is required" in body and "has no “@”" in body
    assert untranslated(body, published) == []
    done = client.http.post("/events/cdo-seminar", headers=headers, body=urlencode(signed(valid_form())))
    own = client.http.get(done.headers["Location"], headers={"Cookie": "uketsuke_lang=en"})
    assert "You are registered" in page(own) and untranslated(page(own), published) == []
    assert run_on(visible_text(body)) == [] and run_on(visible_text(page(own))) == []
    world.deliver_outbox()
    [mail] = mailbox()
    english = published.in_language("en")
    assert mail["Subject"] == f"[Registered] {english.title}"
    assert str(mail["From"]) == f"{english.contact.sender_name} <{SENDER}>"
    [calendar] = [part for part in mail.iter_attachments() if part.get_content_type() == "text/calendar"]
    assert f"SUMMARY:{english.title[:40]}" in calendar.get_content().replace("\r\n ", "")
    text = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    html = mail.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert "Dear 磐梯 太郎," in text and "■ Date and time" in text and "Wednesday 20 January 2027" in text
    for part in (text, visible_text(html)):
        assert untranslated(part, published) == [], part
        assert run_on(part) == [], part


def test_a_japanese_registrant_keeps_japanese_mail_whatever_language_the_organizer_reads(
    client: Client, world: World, published: Event
) -> None:
    client.http.post("/events/cdo-seminar", headers=FORM, body=urlencode(signed(valid_form())))
    world.deliver_outbox()
    [mail] = mailbox()
    assert str(mail["Subject"]).startswith("【お申し込み完了】")


def test_the_json_api_answers_in_the_language_asked_for(client: Client, published: Event) -> None:
    response = client.http.post(
        "/api/events/cdo-seminar/registrations",
        headers={**client.world.api_headers(), **ENGLISH},  # type: ignore[attr-defined]
        body='{"name": ""}',
    )
    assert response.status_code == 422 and response.json_body["errors"]["name"] == "Full name is required"
    # The event's own text too, where the organizer wrote it in English.
    key = client.world.api_headers()  # type: ignore[attr-defined]
    english = client.http.get("/api/events/cdo-seminar", headers={**key, **ENGLISH}).json_body
    assert english["title"] == published.in_language("en").title != published.title
    assert client.http.get("/api/events/cdo-seminar", headers=key).json_body["title"] == published.title


def test_accept_language_weights_are_respected() -> None:
    assert i18n.from_accept_language("fr, en;q=0.8, ja;q=0.9") == "ja"
    assert i18n.from_accept_language("en-US,en;q=0.9") == "en"
    assert i18n.from_accept_language("de, en;q=0") is None
    assert i18n.from_accept_language("en;q=bad, ja") == "ja"
    assert i18n.choose("", "de") == "ja"


# --- the catalog ---------------------------------------------------------------------------------


def _catalog_ids() -> set[str]:
    method_map = [
        ("chalicelib/**.py", "python"),
        ("chalicelib/templates/**.html", "jinja2"),
        ("chalicelib/templates/**.txt", "jinja2"),
    ]
    options = {"chalicelib/templates/**": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}
    found = extract_from_dir(str(ROOT), method_map, options, keywords={"_": None, "gettext": None, "N_": None})
    return {message if isinstance(message, str) else message[0] for _, _, message, _, _ in found}


def test_every_message_in_the_code_has_its_english_and_the_compiled_catalog_is_current() -> None:
    with PO.open("rb") as handle:
        po = read_po(handle)
    with MO.open("rb") as handle:
        mo = read_mo(handle)
    english = {m.id: m.string for m in po if m.id}
    missing = sorted(_catalog_ids() - set(english))
    assert missing == [], f"run `make catalogs` and translate: {missing[:5]}"
    assert [msgid for msgid, text in english.items() if not text] == []
    assert {m.id: m.string for m in mo if m.id} == english, "run `make catalogs` to compile the catalog"


def _placeholders(text: str) -> list[str]:
    return sorted(re.findall(r"%\(\w+\)s|\{\w+\}", text))


def test_translations_keep_every_placeholder() -> None:
    with PO.open("rb") as handle:
        po = read_po(handle)
    # The date pattern is the one message whose English takes other fields (day and month names) than the Japanese.
    wrong = [
        m.id for m in po if m.id and m.id != display.DATE and _placeholders(str(m.id)) != _placeholders(str(m.string))
    ]
    assert wrong == []


def test_no_sentence_is_written_into_the_code_outside_the_catalog() -> None:
    # Templates: every Japanese text is inside _("…") or {% trans %}; Python: inside N_("…").
    japanese = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff01-\uff5e]")
    loose = []
    for path in sorted((ROOT / "chalicelib" / "templates").rglob("*.*")):
        source = re.sub(r'N?_\("(?:[^"\\]|\\.)*"', "", path.read_text(encoding="utf-8"))
        source = re.sub(r"\{% trans.*?%\}.*?\{% endtrans \+?%\}", "", source, flags=re.S)
        loose += [f"{path.name}: {line.strip()}" for line in source.splitlines() if japanese.search(line)]
    # Character ranges (attendee, furigana), errors in organizers' event files (event, event_file/), endonyms
    # (i18n), readings corrected by hand (readings).
    allowed = {"attendee.py", "event.py", "i18n.py", "furigana.py", "readings.py"}
    event_file = ROOT / "chalicelib" / "domain" / "event_file"
    for path in sorted([*(ROOT / "chalicelib").rglob("*.py"), ROOT / "app.py"]):
        if path.name in allowed or path.parent == event_file:
            continue
        loose += [f"{path.name}: {text}" for text in _unmarked_strings(path) if KANA_OR_KANJI.search(text)]
    assert loose == []


def _unmarked_strings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
        ):
            skipped.add(id(body[0].value))  # docstrings
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "N_":
            skipped.update(id(arg) for arg in node.args)
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skipped
    ]


def test_a_request_in_english_leaves_nothing_behind_for_the_next_one(client: Client, published: Event) -> None:
    client.http.get("/events/cdo-seminar", headers=ENGLISH)
    assert i18n.current() == "ja"  # a warm Lambda's next request or mail starts from Japanese again
    assert '<html lang="ja">' in page(client.http.get("/events/cdo-seminar"))
