"""やさしい日本語: a language of its own for every page and mail an attendee meets, chosen on the page.

Every message an attendee's page or mail shows in やさしい日本語 has its own sentence in the catalog
(chalicelib/locale/easy), written to the 在留支援のためのやさしい日本語ガイドライン: short sentences, one idea
each, common words, times written plainly. The walk below opens each kind of attendee page in it and
renders each kind of mail, recording every message asked for; none may fall back to the standard Japanese.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from babel.messages.pofile import read_po
from chalice.test import Client

from chalicelib.domain.event import Event
from chalicelib.text import i18n
from chalicelib.web.bots import Form
from tests.conftest import FORM, ROOT, World, mailbox, page, signed, valid_form
from tests.test_spam import every_mail, online, short

EASY = {"Cookie": f"{i18n.COOKIE}=easy"}
EASY_PO = ROOT / "chalicelib" / "locale" / "easy" / "LC_MESSAGES" / "messages.po"
MISSING = ROOT / "build" / "easy-untranslated.txt"  # what to translate next, written when the walk finds some


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
def asked(monkeypatch: pytest.MonkeyPatch) -> Iterator[set[str]]:
    """The messages asked for in やさしい日本語 during the test."""
    seen: set[str] = set()
    real = i18n._catalog

    def catalog(language: str) -> Any:
        return _Recording(real(language), seen) if language == i18n.EASY else real(language)

    monkeypatch.setattr(i18n, "_catalog", catalog)
    yield seen


def register(client: Client, event: Event, **fields: str) -> Any:
    """The form sent in やさしい日本語."""
    body = urlencode(signed(valid_form(**fields), event.slug))
    return client.http.post(f"/events/{event.slug}", headers={**FORM, **EASY}, body=body)


def own(client: Client, location: str, **fields: str) -> Any:
    """The registrant's own page: shown, or sent with `fields`."""
    if not fields:
        return client.http.get(location, headers=EASY)
    token = dict(p.split("=", 1) for p in urlsplit(location).query.split("&"))["token"]
    body = urlencode({"token": token, **fields})
    return client.http.post(urlsplit(location).path, headers={**FORM, **EASY}, body=body)


def walk(client: Client, world: World, event: Event) -> list[str]:
    """Every kind of attendee page, in やさしい日本語; the pages' HTML."""
    shown = [page(client.http.get(path, headers=EASY)) for path in ("/", f"/events/{event.slug}", "/events/none")]
    shown.append(page(client.http.get(f"/events/{event.slug}/my-link", headers=EASY)))
    shown.append(page(register(client, event, name="", email="taro@gmial.com", consent="")))  # every kind of mistake
    shown.append(page(register(client, event, email="taro@gmial.com")))  # a mistyped address questioned
    location = register(client, event).headers["Location"]
    shown.append(page(own(client, location)))
    shown.append(page(register(client, event)))  # the same address again
    shown.append(page(own(client, location, action="edit", name="")))
    shown.append(page(own(client, location, action="cancel")))
    shown.append(
        page(
            client.http.get(
                own(client, location, action="cancel", confirm_cancel="yes").headers["Location"], headers=EASY
            )
        )
    )
    full = world.publish(dataclasses.replace(event, slug="full", capacity=1))
    register(client, full, email="first@example.jp")
    shown.append(page(client.http.get("/events/full", headers=EASY)))
    waiting = register(client, full, email="second@example.jp").headers["Location"]
    shown.append(page(own(client, waiting)))
    link = signed({"email": "taro@example.jp"}, event.slug, form=Form.LINK_REQUEST)
    sent = client.http.post(f"/events/{event.slug}/my-link", headers={**FORM, **EASY}, body=urlencode(link))
    shown.append(page(sent))
    return shown


def test_every_attendee_page_and_mail_has_its_own_easy_japanese(
    client: Client, world: World, published: Event, asked: set[str]
) -> None:
    walk(client, world, published)
    for event in (published, online(published), short(published)):
        every_mail(event, i18n.EASY, registrants_only=True)
    with EASY_PO.open("rb") as handle:
        written = {m.id: m.string for m in read_po(handle, locale="ja") if m.id}
    # Only the catalog's messages: a sentence already translated and formatted is sometimes handed to gettext again.
    missing = sorted(m for m in asked if m in written and not written[m])
    MISSING.unlink(missing_ok=True)
    if missing:
        MISSING.parent.mkdir(exist_ok=True)
        MISSING.write_text("\n".join(missing) + "\n", encoding="utf-8")
    assert missing == [], f"{len(missing)} messages still in standard Japanese (listed in {MISSING})"


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
