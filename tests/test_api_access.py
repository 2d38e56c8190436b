"""The JSON API is for integrations an organizer let in: a key on every call, no web page of another site,
JSON only; keys issued, shown once, scoped, rate-limited and revoked from the organizer pages."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

from chalice.test import Client

from chalicelib.domain.event import Event
from chalicelib.store import schema
from chalicelib.usecases import api_keys
from tests.conftest import Sequence, World, altered, page, valid_form
from tests.test_organizer import ORGANIZER, sign_in

REGISTRATION = json.dumps({**valid_form(), "consent": True})


def post(client: Client, slug: str, headers: dict[str, str], body: str = REGISTRATION) -> Any:
    return client.http.post(f"/api/events/{slug}/registrations", headers=headers, body=body)


def test_without_a_valid_key_the_api_answers_nothing(client: Client, world: World, published: Event) -> None:
    json_only = {"Content-Type": "application/json"}
    for headers in (
        json_only,
        {**json_only, "Authorization": "Bearer "},
        {**json_only, "Authorization": "Bearer uk_AAAAAAAAAA_" + "x" * 43},
        {**json_only, "Authorization": "Basic dXNlcjpwYXNz"},
        {**json_only, "Authorization": altered(world.api_headers()["Authorization"])},  # one character off
    ):
        answer = post(client, published.slug, headers)
        assert answer.status_code == 401 and answer.headers["WWW-Authenticate"].startswith("Bearer"), headers
        assert client.http.get(f"/api/events/{published.slug}", headers=headers).status_code == 401
    assert post(client, published.slug, world.api_headers()).status_code == 201


def test_only_json_exactly_and_never_from_another_sites_page(client: Client, world: World, published: Event) -> None:
    key = {"Authorization": world.api_headers()["Authorization"]}
    for content_type in ("text/plain; application/json", "text/plain", "application/x-www-form-urlencoded", None):
        headers = {**key, **({"Content-Type": content_type} if content_type else {})}
        answer = post(client, published.slug, headers)
        assert answer.status_code == 415, (content_type, answer.status_code, answer.body)
    other_site = {**world.api_headers(), "Origin": "https://evil.example"}
    assert post(client, published.slug, other_site).status_code == 403
    charset = {**key, "Content-Type": "application/json; charset=utf-8", "Origin": "http://localhost"}
    assert post(client, published.slug, charset).status_code == 201  # its own origin, JSON with a charset


def test_a_key_for_one_event_opens_only_that_event(client: Client, world: World, published: Event) -> None:
    import dataclasses

    other = world.publish(dataclasses.replace(published, slug="another-event"))
    _, token = api_keys.issue(
        world.table, "one event", published.slug, ORGANIZER, world.clock.now(), world.services.ids
    )
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    assert client.http.get(f"/api/events/{published.slug}", headers=headers).status_code == 200
    assert client.http.get(f"/api/events/{other.slug}", headers=headers).status_code == 401


def test_a_key_makes_at_most_its_calls_a_minute(client: Client, world: World, published: Event) -> None:
    # A key as organizers issue it (the world's own key has no limit, so generated tests reach past it).
    _, token = api_keys.issue(world.table, "limited", api_keys.EVERY_EVENT, ORGANIZER, world.clock.now(), Sequence("L"))
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    for _ in range(api_keys.RATE_PER_MINUTE):
        assert client.http.get(f"/api/events/{published.slug}", headers=headers).status_code == 200
    over = client.http.get(f"/api/events/{published.slug}", headers=headers)
    assert over.status_code == 429 and over.headers["Retry-After"] == "60"
    world.clock.advance(timedelta(minutes=1))
    assert client.http.get(f"/api/events/{published.slug}", headers=headers).status_code == 200


def test_organizers_issue_a_key_see_it_once_and_revoke_it(client: Client, world: World, published: Event) -> None:
    world.let_sign_in(ORGANIZER)
    organizer = sign_in(client, world)
    listing = organizer.get(client, "/organizer/api-keys")
    assert listing.status_code == 200 and "まだ発行していません" in page(listing)
    refused = organizer.post(client, "/organizer/api-keys", name="", scope="no-such-event")
    assert (
        refused.status_code == 400 and "用途を入力してください" in page(refused) and "見つかりません" in page(refused)
    )
    created = organizer.post(client, "/organizer/api-keys", name="市の申込システム", scope=published.slug)
    assert created.status_code == 201 and created.headers["Cache-Control"] == "no-store"
    found = re.search(r'value="(uk_[^"]+)"', page(created))
    assert found is not None
    token = found.group(1)
    listing = page(organizer.get(client, "/organizer/api-keys"))
    assert "市の申込システム" in listing and token not in listing  # shown once, never again
    stored = world.table.query("pk = :pk AND begins_with(sk, :p)", {":pk": "EVENT#_site", ":p": "APIKEY#"})
    assert token.rsplit("_", 1)[1] not in json.dumps(list(stored))  # only a digest of the secret is kept
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    assert post(client, published.slug, headers).status_code == 201
    [key] = api_keys.listed(world.table)
    revoked = organizer.post(client, f"/organizer/api-keys/{key.key_id}/revoke")
    assert revoked.status_code == 303
    assert (
        post(
            client, published.slug, headers, json.dumps({**json.loads(REGISTRATION), "email": "b@example.jp"})
        ).status_code
        == 401
    )


def test_a_key_issued_without_a_limit_is_never_counted(client: Client, world: World, published: Event) -> None:
    headers = world.api_headers()
    for _ in range(api_keys.RATE_PER_MINUTE + 5):
        assert client.http.get(f"/api/events/{published.slug}", headers=headers).status_code == 200
    counters = list(
        world.table.query(
            "pk = :pk AND begins_with(sk, :rate)",
            {":pk": schema.event_pk(schema.SITE_SLUG), ":rate": schema.API_KEY_RATE_PREFIX},
        )
    )
    assert counters == []  # no counter item was written for it
