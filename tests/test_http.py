"""The web form and the JSON API, through Chalice's test client, on DynamoDB Local."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from chalice.test import Client

import app as app_module
from chalicelib.domain.event import Category, Event
from chalicelib.text import messages as msg
from chalicelib.usecases.catalog import DETAILS_TTL
from chalicelib.web.headers import SECURITY_HEADERS
from local.instruments import CallLog
from tests.conftest import FORM, World, api_gateway_event, mailbox, page, signed, valid_form

JSON = {"Content-Type": "application/json"}


def post_form(client: Client, slug: str, **fields: str) -> Any:
    return client.http.post(f"/events/{slug}", headers=FORM, body=urlencode(signed(fields, slug)))


def test_index_lists_the_upcoming_event(client: Client, published: Event) -> None:
    response = client.http.get("/")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert published.title in page(response) and "残り50席" in page(response)


def test_event_page_shows_every_detail_and_the_form(client: Client, published: Event) -> None:
    body = page(client.http.get(f"/events/{published.slug}"))
    for detail in (
        "2027年1月20日(水) 15:00〜18:00",
        "開場 14:30",
        "東京都千代田区神田錦町2丁目11番地7",
        "地図を開く",
        "一般社団法人CDO Club Japan、一般社団法人Publitech",
        "スペースパートナー",
        "無料",
        "市町村長",
        "菅原直敏",
        "質疑・名刺交換",
        "受付中",
        "残り<strong>50</strong>席",
    ):
        assert detail in body, detail
    for field, autocomplete in (
        ("name", "name"),
        ("kana", "off"),
        ("organization", "organization"),
        ("job_title", "organization-title"),
        ("email", "email"),
    ):
        assert re.search(rf'<input[^>]*id="{field}"[^>]*autocomplete="{autocomplete}"', body), field
        assert f'<label for="{field}">' in body
    assert 'name="submission_id"' in body and 'type="email"' in body
    assert '<a class="jump-link" href="#apply">' in body and 'id="apply"' in body
    inputs = re.findall(r"<(?:input|textarea)\b[^>]*>", body)
    visible = [tag for tag in inputs if 'type="hidden"' not in tag and 'name="website"' not in tag]  # not the trap
    assert len(visible) == 18  # 5 text, 5 radios, question, 5 accommodation boxes and their note, consent
    # Every text field says what it holds; HTML allows autocomplete on no radio button or checkbox.
    choices = [tag for tag in visible if 'type="radio"' in tag or 'type="checkbox"' in tag]
    assert len(choices) == 11 and not any("autocomplete=" in tag for tag in choices)
    assert all("autocomplete=" in tag for tag in visible if tag not in choices)


def test_unknown_event_is_a_404_page(client: Client, world: World) -> None:
    response = client.http.get("/events/nothing-here")
    assert response.status_code == 404 and msg.EVENT_NOT_FOUND in page(response)


def test_happy_path_redirects_to_the_confirmation_page_and_mails(
    client: Client, world: World, published: Event
) -> None:
    response = post_form(client, published.slug, submission_id="SUBMISSION01", **valid_form())
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith(f"/events/{published.slug}/registrations/")
    done = client.http.get(location)
    assert done.status_code == 200
    assert "お申し込みが完了しました" in page(done) and "t***@example.jp" in page(done)
    world.deliver_outbox()
    assert [m["To"] for m in mailbox()] == ["taro@example.jp"]
    assert "残り<strong>49</strong>席" in page(client.http.get(f"/events/{published.slug}"))


def test_behind_the_api_stage_links_and_redirects_keep_its_prefix(world: World, published: Event) -> None:
    path = f"/events/{published.slug}"
    shown = app_module.app(api_gateway_event("GET", path, "/events/{slug}", published.slug), None)
    assert 'href="/api/static/style.css"' in shown["body"] and f'action="/api{path}' in shown["body"]
    body = urlencode(signed(valid_form()))
    done = app_module.app(api_gateway_event("POST", path, "/events/{slug}", published.slug, body), None)
    assert done["statusCode"] == 303
    assert done["headers"]["Location"].startswith(f"/api{path}/registrations/")


def test_double_click_lands_on_the_same_registration(client: Client, published: Event) -> None:
    first = post_form(client, published.slug, submission_id="SUBMISSION01", **valid_form())
    second = post_form(client, published.slug, submission_id="SUBMISSION01", **valid_form())
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]


def test_errors_come_back_with_a_summary_linking_each_field_and_values_kept(client: Client, published: Event) -> None:
    response = post_form(client, published.slug, **valid_form(name="", email="taro.example.jp", kana="<b>ばんだい</b>"))
    assert response.status_code == 400
    body = page(response)
    assert msg.ERROR_SUMMARY_TITLE in body and 'role="alert"' in body
    assert f'<a href="#name">{msg.field_error(msg.REQUIRED, "name")}</a>' in body
    assert f'<a href="#email">{msg.EMAIL_NO_AT}</a>' in body
    assert f'<a href="#kana">{msg.KANA_ONLY}</a>' in body
    assert 'value="taro.example.jp"' in body and 'value="磐梯町役場"' in body
    assert "&lt;b&gt;バンダイ&lt;/b&gt;" in body and "<b>バンダイ" not in body  # kept, converted, escaped
    assert re.search(r'id="email"[^>]*aria-invalid="true"[^>]*aria-describedby="email-hint email-error"', body)
    assert re.search(r'<p class="error-message" id="name-error">', body)
    assert body.count("checked") >= 2  # category and consent stay chosen


def test_same_address_twice_is_told_it_already_has_a_seat(client: Client, published: Event) -> None:
    post_form(client, published.slug, submission_id="SUBMISSION01", **valid_form())
    again = post_form(client, published.slug, submission_id="SUBMISSION02", **valid_form(name="別人"))
    assert again.status_code == 200 and msg.ALREADY_REGISTERED in page(again)


def test_full_event_without_a_waiting_list_says_full_and_shows_no_form(
    client: Client, world: World, sample_event: Event
) -> None:
    event = world.publish(dataclasses.replace(sample_event, capacity=1, waitlist=False))
    post_form(client, event.slug, **valid_form())
    refused = post_form(client, event.slug, **valid_form(email="hanako@example.jp"))
    assert refused.status_code == 409 and msg.EVENT_FULL in page(refused) and "満席" in page(refused)
    assert "<form" not in page(client.http.get(f"/events/{event.slug}"))


def test_closed_event_says_closed(client: Client, world: World, published: Event) -> None:
    world.clock.set(published.registration_closes_at + timedelta(minutes=1))
    assert "受付終了" in page(client.http.get(f"/events/{published.slug}"))
    refused = post_form(client, published.slug, **valid_form())
    assert refused.status_code == 409 and msg.EVENT_CLOSED in page(refused)


@pytest.mark.parametrize("body", [b"name=%FF%FE", b"name=\xff\xfe"])
def test_invalid_utf8_form_body_is_a_clear_400(client: Client, published: Event, body: bytes) -> None:
    response = client.http.post(f"/events/{published.slug}", headers=FORM, body=body)
    assert response.status_code == 400 and msg.BODY_NOT_UTF8 in page(response)


def test_stylesheet_is_served_by_the_app(client: Client, world: World) -> None:
    response = client.http.get("/static/style.css")
    assert response.status_code == 200 and "text/css" in response.headers["Content-Type"]
    assert client.http.get("/static/..%2Fapp.py").status_code == 404


# --- JSON API -----------------------------------------------------------------------------------


def post_json(client: Client, slug: str, data: Any, **headers: str) -> Any:
    body = data if isinstance(data, (bytes, str)) else json.dumps(data)
    world = client.world  # type: ignore[attr-defined]
    return client.http.post(f"/api/events/{slug}/registrations", headers={**world.api_headers(), **headers}, body=body)


def test_api_registers_and_answers_201(client: Client, published: Event) -> None:
    response = post_json(client, published.slug, {**valid_form(), "consent": True})
    assert response.status_code == 201
    body = response.json_body
    assert body["status"] == "registered"
    assert body["registration_number"] == f"{body['registration_id'][:5]}-{body['registration_id'][5:]}"


def test_api_idempotency_key_makes_retries_safe(client: Client, published: Event) -> None:
    data = {**valid_form(), "consent": True}
    first = post_json(client, published.slug, data, **{"Idempotency-Key": "RETRY0000001"})
    retry = post_json(client, published.slug, data, **{"Idempotency-Key": "RETRY0000001"})
    assert first.status_code == retry.status_code == 201
    assert first.json_body["registration_id"] == retry.json_body["registration_id"]


def test_api_field_errors_are_named(client: Client, published: Event) -> None:
    response = post_json(client, published.slug, {**valid_form(email="x", category="astronaut"), "consent": False})
    assert response.status_code == 422
    assert response.json_body["errors"] == {
        "email": msg.EMAIL_NO_AT,
        "category": msg.UNKNOWN_CATEGORY,
        "consent": msg.CONSENT_NEEDED,
    }


@pytest.mark.parametrize(
    ("body", "reason"),
    [(b"not json", msg.BODY_NOT_JSON), (b"[1, 2]", msg.BODY_NOT_OBJECT), (b"\xff\xfe", msg.BODY_NOT_UTF8)],
)
def test_api_rejects_a_body_that_is_not_an_object_saying_why(
    client: Client, published: Event, body: bytes, reason: str
) -> None:
    response = post_json(client, published.slug, body)
    assert response.status_code == 400 and response.json_body["message"] == reason


def test_api_duplicate_full_and_unknown(client: Client, world: World, sample_event: Event) -> None:
    event = world.publish(dataclasses.replace(sample_event, capacity=2, waitlist=False))
    data = {**valid_form(), "consent": True}
    assert post_json(client, event.slug, data).status_code == 201
    duplicate = post_json(client, event.slug, data)  # a seat was there: anyone else would have had it
    assert duplicate.status_code == 200 and duplicate.json_body["status"] == "already_registered"
    assert post_json(client, event.slug, {**data, "email": "jiro@example.jp"}).status_code == 201
    full = post_json(client, event.slug, {**data, "email": "hanako@example.jp"})
    assert full.status_code == 409 and full.json_body["status"] == "full"
    # Now that no seat is given, the registered address hears what anyone hears (its owner, by mail).
    assert (post_json(client, event.slug, data).status_code, post_json(client, event.slug, data).json_body) == (
        409,
        full.json_body,
    )
    assert post_json(client, "nothing-here", data).status_code == 404


def test_api_event_availability(client: Client, published: Event) -> None:
    body = client.http.get(f"/api/events/{published.slug}", headers=client.world.api_headers()).json_body  # type: ignore[attr-defined]
    assert body == {
        "slug": "cdo-seminar",
        "title": published.title,
        "availability": "open",
        "capacity": 50,
        "seats_left": 50,
        "modes": [],  # an event held in one place has no modes of its own
    }


# --- what a registration costs ------------------------------------------------------------------


def test_a_warm_registration_is_one_transaction_with_no_read_before_it(
    client: Client, world: World, published: Event
) -> None:
    post_form(client, published.slug, **valid_form(email="first@example.jp"))  # warms the container
    calls = CallLog(world.table.client)
    response = post_form(client, published.slug, **valid_form(email="second@example.jp"))
    assert response.status_code == 303
    assert calls.operations == ["TransactWriteItems"]


def test_organizer_edits_reach_the_form_within_the_cache_lifetime(
    client: Client, world: World, sample_event: Event
) -> None:
    event = world.publish(sample_event)
    post_form(client, event.slug, **valid_form())
    added = dataclasses.replace(event, categories=(*event.categories, Category("press", "報道関係者")))
    world.publish(added)
    form = valid_form(email="press@example.jp", category="press")
    assert post_form(client, event.slug, **form).status_code == 400  # still the cached details
    world.clock.set(world.clock.now() + DETAILS_TTL)
    assert post_form(client, event.slug, **form).status_code == 303


def test_an_unknown_event_is_not_remembered(client: Client, world: World, sample_event: Event) -> None:
    assert post_form(client, sample_event.slug, **valid_form()).status_code == 404
    world.publish(sample_event)
    assert post_form(client, sample_event.slug, **valid_form()).status_code == 303


# --- security headers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/events/cdo-seminar"),
        ("GET", "/events/nothing-here"),
        ("GET", "/static/style.css"),
        ("GET", "/api/events/cdo-seminar"),
        ("POST", "/events/cdo-seminar"),
    ],
)
def test_every_response_carries_the_security_headers(client: Client, published: Event, method: str, path: str) -> None:
    headers = client.world.api_headers() if path.startswith("/api/") else {}  # type: ignore[attr-defined]
    response = (
        client.http.get(path, headers=headers)
        if method == "GET"
        else post_form(client, published.slug, **valid_form(name=""))
    )
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_pages_need_nothing_the_policy_forbids(client: Client, published: Event) -> None:
    bodies = [page(client.http.get(path)) for path in ("/", f"/events/{published.slug}")]
    bodies.append(page(post_form(client, published.slug, **valid_form(email="bad"))))
    done = post_form(client, published.slug, **valid_form())
    bodies.append(page(client.http.get(done.headers["Location"])))
    for body in bodies:
        assert "<script" not in body and "style=" not in body and "<style" not in body
        assert all(href.startswith(("/static/", "http")) for href in re.findall(r'<link[^>]*href="([^"]+)"', body))


def test_a_registration_page_is_not_kept_by_caches(client: Client, published: Event) -> None:
    done = post_form(client, published.slug, **valid_form())
    response = client.http.get(done.headers["Location"])
    assert response.headers["Cache-Control"] == "no-store"
