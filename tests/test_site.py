"""The site's identity: its name, privacy policy and phone on every page, and a card when a link is shared."""

from __future__ import annotations

import base64
import dataclasses
import tomllib
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from chalice.test import Client

from chalicelib.config.settings import Settings, SettingsError
from chalicelib.domain.event import Event, EventFileError
from chalicelib.domain.event_file import parse_event, to_toml
from chalicelib.domain.site import MAX_LOGO_BYTES, SiteIdentity, SiteIdentityError, logo_type
from deploy.stage import StageError, parse_stage
from deploy.template import Function, environment
from tests.conftest import World, page

BASIC = {"UKETSUKE_TABLE_NAME": "t", "UKETSUKE_DEFAULT_SENDER": "noreply@example.jp"}
STAGE = {"region": "ap-northeast-1", "sender": "noreply@example.jp", "organizer_email": "office@example.jp"}
TOWN = SiteIdentity(
    name="磐梯町 イベント受付",
    name_en="Bandai Town Events",
    privacy_url="https://www.town.bandai.example.jp/privacy.html",
    phone="0242-74-1111",
    share_image_url="https://www.town.bandai.example.jp/card.png",
)


def with_identity(world: World, identity: SiteIdentity) -> None:
    world.services.settings = dataclasses.replace(world.services.settings, site=identity)


def test_the_settings_read_the_identity_and_name_a_bad_field() -> None:
    env = {
        **BASIC,
        "UKETSUKE_SITE_NAME": TOWN.name,
        "UKETSUKE_SITE_NAME_EN": TOWN.name_en,
        "UKETSUKE_PRIVACY_URL": TOWN.privacy_url,
        "UKETSUKE_CONTACT_PHONE": TOWN.phone,
        "UKETSUKE_SHARE_IMAGE_URL": TOWN.share_image_url,
    }
    assert Settings.from_env(env).site == TOWN
    assert Settings.from_env(BASIC).site == SiteIdentity()
    for name, value, said in (
        ("UKETSUKE_PRIVACY_URL", "javascript:alert(1)", "privacy_url"),
        ("UKETSUKE_SHARE_IMAGE_URL", 'https://x.example/"onload="', "share_image_url"),
        ("UKETSUKE_CONTACT_PHONE", "call me", "phone"),
        ("UKETSUKE_SITE_NAME", "two\nlines", "name"),
    ):
        with pytest.raises(SettingsError, match=f"site {said}"):
            Settings.from_env({**BASIC, name: value})


def test_the_stage_file_carries_it_to_the_site_function_only() -> None:
    stage = parse_stage(
        "prod", {**STAGE, "site": {k: v for k, v in dataclasses.asdict(TOWN).items() if k not in ("logo", "has_logo")}}
    )
    assert stage.site == TOWN
    site = environment(stage, Function("api_handler", "APIHandler", "api"), "api")
    job = environment(stage, Function("close_registration", "CloseRegistration", "schedule"), "api")
    assert site["UKETSUKE_SITE_NAME"] == TOWN.name and site["UKETSUKE_PRIVACY_URL"] == TOWN.privacy_url
    assert not any(name.startswith(("UKETSUKE_SITE", "UKETSUKE_PRIVACY")) for name in job)
    assert "UKETSUKE_SITE_NAME" not in environment(parse_stage("p", STAGE), Function("api_handler", "A", "api"), "api")
    with pytest.raises(StageError, match="logo must be true or false"):
        parse_stage("prod", {**STAGE, "site": {"logo": "x.png"}})
    with pytest.raises(StageError, match="'favicon'"):
        parse_stage("prod", {**STAGE, "site": {"favicon": "x.ico"}})
    with_logo = parse_stage("prod", {**STAGE, "site": {"logo": True}})
    assert environment(with_logo, Function("api_handler", "A", "api"), "api")["UKETSUKE_SITE_LOGO"] == "on"
    with pytest.raises(StageError, match="https"):
        parse_stage("prod", {**STAGE, "site": {"privacy_url": "http://insecure.example"}})


def test_every_page_shows_the_name_privacy_policy_and_phone(client: Client, world: World, published: Event) -> None:
    default = page(client.http.get("/"))
    assert "| イベント受付</title>" in default and 'class="site-name" href="/">イベント受付</a>' in default
    assert "プライバシーポリシー" not in default
    with_identity(world, TOWN)
    for path in ("/", f"/events/{published.slug}", "/events/nothing-here", "/organizer/sign-in"):
        shown = page(client.http.get(path))
        assert f"| {TOWN.name}</title>" in shown and f'class="site-name" href="/">{TOWN.name}</a>' in shown, path
        assert f'<a href="{TOWN.privacy_url}">プライバシーポリシー</a>' in shown
        assert f'<a href="tel:{TOWN.phone}">{TOWN.phone}</a>' in shown
    english = page(client.http.get("/", headers={"Accept-Language": "en"}))
    assert f"| {TOWN.name_en}</title>" in english and "Privacy policy" in english


def meta(html: str, key: str) -> str:
    import re

    found = re.search(rf'<meta (?:property|name)="{re.escape(key)}" content="([^"]*)">', html)
    return found.group(1) if found else ""


def test_an_event_link_shared_shows_a_card_with_the_events_or_the_sites_picture(
    client: Client, world: World, published: Event
) -> None:
    bare = page(client.http.get(f"/events/{published.slug}"))
    assert meta(bare, "og:title") == published.title and meta(bare, "twitter:card") == "summary"
    assert meta(bare, "og:url").endswith(f"/events/{published.slug}") and meta(bare, "og:url").startswith("http")
    assert meta(bare, "og:image") == "" and len(meta(bare, "og:description")) <= 200
    with_identity(world, TOWN)
    carded = page(client.http.get(f"/events/{published.slug}"))
    assert meta(carded, "og:image") == TOWN.share_image_url and meta(carded, "twitter:card") == "summary_large_image"
    assert meta(carded, "og:site_name") == TOWN.name
    own = world.publish(
        dataclasses.replace(
            published, slug="own-card", title='"引用" <b>', share_image_url="https://img.example.jp/own.png"
        )
    )
    mine = page(client.http.get(f"/events/{own.slug}"))
    assert meta(mine, "og:image") == "https://img.example.jp/own.png"
    assert meta(mine, "og:title") == "&#34;引用&#34; &lt;b&gt;"  # escaped: a title cannot break out of the tag


def test_the_event_file_checks_and_keeps_the_picture(sample_event: Event) -> None:
    carded = dataclasses.replace(sample_event, share_image_url="https://img.example.jp/card.png")
    assert parse_event(tomllib.loads(to_toml(carded))) == carded
    data: dict[str, Any] = tomllib.loads(to_toml(sample_event))
    with pytest.raises(EventFileError, match="share_image_url"):
        parse_event({**data, "share_image_url": "ftp://img.example.jp/card.png"})


# --- the organizer's logo ----------------------------------------------------------------------------

DOT_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (DOT_PNG, "image/png"),
        (b"\xff\xd8\xff\xe0" + b"\0" * 20, "image/jpeg"),
        (b"GIF89a" + b"\0" * 20, "image/gif"),
        (b"RIFF\0\0\0\0WEBPVP8 " + b"\0" * 20, "image/webp"),
    ],
)
def test_a_logo_is_known_by_its_bytes(data: bytes, kind: str) -> None:
    assert logo_type(data) == kind


@pytest.mark.parametrize(
    ("data", "said"),
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "PNG, JPEG, GIF or WebP"),
        (b"%PDF-1.7", "PNG, JPEG, GIF or WebP"),
        (DOT_PNG + b"\0" * MAX_LOGO_BYTES, "at most"),
    ],
)
def test_anything_else_is_refused_as_a_logo(data: bytes, said: str) -> None:
    with pytest.raises(SiteIdentityError, match=said):
        logo_type(data)


def test_a_logo_set_from_the_console_shows_on_every_page_inline(
    client: Client, world: World, published: Event, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    import manage

    picture = tmp_path / "logo.png"
    picture.write_bytes(DOT_PNG)
    with mock.patch.object(manage, "_table", return_value=world.table):
        assert manage.main(["set-logo", str(picture)]) == 0
        assert "image/png" in capsys.readouterr().out
        svg = tmp_path / "logo.svg"
        svg.write_bytes(b"<svg/>")
        assert manage.main(["set-logo", str(svg)]) == 2
    assert "site-logo" not in page(client.http.get("/"))  # a deployment without a logo never reads one
    with_identity(world, SiteIdentity(has_logo=True))
    response = client.http.get(f"/events/{published.slug}")
    inline = f'<img class="site-logo" src="data:image/png;base64,{base64.b64encode(DOT_PNG).decode()}" alt="">'
    assert inline in page(response)
    assert "img-src 'self' data:" in response.headers["Content-Security-Policy"]
    with mock.patch.object(manage, "_table", return_value=world.table):
        assert manage.main(["set-logo", "--remove"]) == 0
    assert "site-logo" in page(client.http.get("/"))  # each container reads it at most every 5 minutes
    world.clock.advance(timedelta(minutes=5))
    assert "site-logo" not in page(client.http.get("/"))
