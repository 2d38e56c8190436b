"""Every kind of page the site serves is valid HTML by the W3C Nu HTML Checker (npm `vnu-jar`, on Java)."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path
from urllib.parse import urlencode

import pytest
from chalice.test import Client

from chalicelib.domain.event import Event, Venue
from chalicelib.usecases.publishing import load_event
from chalicelib.web import edge
from tests.conftest import FORM, World, page, signed, valid_form
from tests.test_organizer import ORGANIZER, sign_in

VNU = Path(__file__).parents[1] / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"


def errors_of(pages: dict[str, str], folder: Path) -> list[str]:
    """The checker's errors for each page, as 'page: message (line)'."""
    for name, html in pages.items():
        (folder / f"{name}.html").write_text(html, encoding="utf-8")
    result = subprocess.run(
        ["java", "-jar", str(VNU), "--format", "json", "--exit-zero-always", *sorted(map(str, folder.glob("*.html")))],
        capture_output=True,
        text=True,
        timeout=300,
    )
    messages = json.loads(result.stderr or result.stdout)["messages"]
    return [
        f"{Path(m['url']).stem}: {m['message']} (line {m.get('lastLine')})"
        for m in messages
        if m["type"] == "error" or m.get("subType") == "fatal"
    ]


FURIGANA = {"Cookie": "uketsuke_furigana=on"}
EASY = {"Cookie": "uketsuke_lang=easy"}


def test_every_kind_of_page_is_valid_html(client: Client, world: World, published: Event, tmp_path: Path) -> None:
    world.let_sign_in(ORGANIZER)
    load_event(world.table, published, world.clock.now())  # saved as the builder saves it: with its readings
    form = signed(valid_form(), published.slug)
    pages = {
        "index": page(client.http.get("/")),
        "event": page(client.http.get(f"/events/{published.slug}")),
        "event-en": page(client.http.get(f"/events/{published.slug}", headers={"Accept-Language": "en"})),
        # ふりがな drawn as <ruby> (the organizer's words from the table, the site's from the marked catalog).
        "event-furigana": page(client.http.get(f"/events/{published.slug}", headers=FURIGANA)),
        "event-easy": page(client.http.get(f"/events/{published.slug}", headers=EASY)),
        "form-errors": page(
            client.http.post(f"/events/{published.slug}", headers=FORM, body=urlencode({**form, "email": "x"}))
        ),
    }
    registered = client.http.post(f"/events/{published.slug}", headers=FORM, body=urlencode(form))
    pages["own-page"] = page(client.http.get(str(registered.headers["Location"])))
    pages["already-registered"] = page(
        client.http.post(
            f"/events/{published.slug}", headers=FORM, body=urlencode(signed(valid_form(), published.slug))
        )
    )
    typo = signed(valid_form(email="taro@gmial.com"), published.slug)
    pages["address-check"] = page(client.http.post(f"/events/{published.slug}", headers=FORM, body=urlencode(typo)))
    pages["link-request"] = page(client.http.get(f"/events/{published.slug}/my-link"))
    pages["own-page-easy"] = page(client.http.get(str(registered.headers["Location"]), headers=EASY))
    easy_errors = client.http.post(
        f"/events/{published.slug}", headers={**FORM, **EASY}, body=urlencode({**form, "email": "x"})
    )
    pages["form-errors-easy"] = page(easy_errors)
    from tests.test_questions import ASKED

    world.publish(dataclasses.replace(published, slug="asking", questions=ASKED))
    pages["event-questions"] = page(client.http.get("/events/asking"))
    pages["not-found"] = page(client.http.get("/events/no-such-event"))
    pages["sign-in"] = page(client.http.get("/organizer/sign-in"))
    signed_in = sign_in(client, world)
    cookie = {"Cookie": signed_in.cookie}
    pages["dashboard"] = page(client.http.get("/organizer", headers=cookie))
    pages["roster"] = page(client.http.get(f"/organizer/events/{published.slug}", headers=cookie))
    pages["check-in"] = page(client.http.get(f"/organizer/events/{published.slug}/check-in", headers=cookie))
    pages["api-keys"] = page(client.http.get("/organizer/api-keys", headers=cookie))
    pages["staff"] = page(client.http.get("/organizer/staff", headers=cookie))
    pages["add"] = page(client.http.get(f"/organizer/events/{published.slug}/add", headers=cookie))
    pages["walk-in"] = page(client.http.get(f"/organizer/events/{published.slug}/walk-in", headers=cookie))
    detail = f"/organizer/events/{published.slug}/registrations/R000000001"
    pages["registration-detail"] = page(client.http.get(detail, headers=cookie))
    pages["print"] = page(client.http.get(detail + "/print", headers=cookie))
    pages["builder"] = page(client.http.get(f"/organizer/events/{published.slug}/edit", headers=cookie))
    pages["new-event"] = page(client.http.get("/organizer/new-event", headers=cookie))
    pages["builder-hybrid"] = page(client.http.get("/organizer/new-event?template=hybrid", headers=cookie))
    mistaken = {"csrf": signed_in.csrf, "action": "save", "title": "", "online_mode": "hybrid"}
    built = client.http.post("/organizer/new-event", headers={**FORM, **cookie}, body=urlencode(mistaken))
    pages["builder-errors"] = page(built)
    world.publish(dataclasses.replace(published, slug="drafted"), draft=True)
    pages["draft"] = page(client.http.get("/organizer/events/drafted", headers=cookie))
    pages["editor"] = page(client.http.get(f"/organizer/events/{published.slug}/edit-file", headers=cookie))
    from chalicelib.domain.event_file import to_toml

    edit = f"/organizer/events/{published.slug}/edit-file"
    fields = {"csrf": signed_in.csrf, "text": to_toml(published), "action": "preview"}
    pages["editor-preview"] = page(client.http.post(edit, headers={**FORM, **cookie}, body=urlencode(fields)))
    pages["announcements"] = page(client.http.get(f"/organizer/events/{published.slug}/announcements", headers=cookie))
    hall = Venue(name="磐梯町中央公民館 大ホール", address="福島県耶麻郡磐梯町大字磐梯字中ノ橋1855")
    world.publish(dataclasses.replace(published, venue=hall))
    announce = f"/organizer/events/{published.slug}/announcements"
    pages["announcements-change"] = page(client.http.get(announce, headers=cookie))
    for kind in ("change", "cancellation"):
        fields = {"csrf": signed_in.csrf, "kind": kind, "sequence": "0", "note": "", "action": "preview"}
        preview = client.http.post(announce, headers={**FORM, **cookie}, body=urlencode(fields))
        pages[f"announce-{kind}"] = page(preview)
    for error in (edge.NOT_FOUND, edge.NOT_ALLOWED, edge.THROTTLED, edge.CLIENT_ERROR, edge.SERVER_ERROR):
        pages[f"edge-{error.kind}"] = edge.edge_page(error, "/api")
    assert all("<html" in html for html in pages.values())
    assert errors_of(pages, tmp_path) == []


@pytest.mark.parametrize("broken", ['<input type="radio" name="a" value="1" autocomplete="off">'])
def test_the_checker_would_catch_what_it_found_before(tmp_path: Path, broken: str) -> None:
    # The form's radio buttons and checkboxes carried autocomplete, which HTML allows on neither.
    head = '<!doctype html><html lang="ja"><head><meta charset="utf-8"><title>t</title></head>'
    html = f"{head}<body>{broken}</body></html>"
    assert any("autocomplete" in error for error in errors_of({"broken": html}, tmp_path))
