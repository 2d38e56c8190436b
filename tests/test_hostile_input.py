"""What a stranger sends through the site's doors: refused with a reason, never stored, never a 5xx."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, urlencode

from tests.conftest import FORM, World, mailbox, page, signed, valid_form

ENGLISH = {"Accept-Language": "en"}


def api_headers(client: Any) -> dict[str, str]:
    """What an integration sends: the world's API key and the JSON content type."""
    return dict(client.world.api_headers())


def api_register(client: Any, slug: str, body: str, headers: dict[str, str] | None = None) -> Any:
    return client.http.post(
        f"/api/events/{slug}/registrations", headers={**api_headers(client), **(headers or {})}, body=body
    )


def person(**changes: Any) -> dict[str, Any]:
    return {**valid_form(), "consent": True, **changes}


def stored_registrations(world: World, slug: str) -> list[dict[str, Any]]:
    return list(world.table.query("pk = :pk AND begins_with(sk, :p)", {":pk": f"EVENT#{slug}", ":p": "REG#"}))


def test_a_lone_surrogate_in_json_is_refused_and_nothing_is_stored(client: Any, world: World, published: Any) -> None:
    body = json.dumps(person(name="\ud800山田"))  # json.dumps writes it as the escape \\ud800, as an attacker would
    answer = api_register(client, published.slug, body)
    assert answer.status_code == 400, answer.body
    assert "文字として扱えない" in answer.json_body["message"]
    assert stored_registrations(world, published.slug) == []


def test_noncharacters_in_the_form_are_named_on_their_field_and_kept_readable(
    client: Any, world: World, published: Any
) -> None:
    form = signed(valid_form(name="山田\ufffe太郎"))
    answer = client.http.post(f"/events/{published.slug}", headers=FORM, body=urlencode(form))
    assert answer.status_code == 400
    html = page(answer)
    assert "氏名に文字として扱えない記号が含まれています" in html and "山田\ufffd太郎" in html
    assert stored_registrations(world, published.slug) == []


def test_an_address_with_a_non_ascii_local_part_is_refused_in_both_languages(client: Any, published: Any) -> None:
    for address in ("山田@example.jp", "ユーザー@example.com", "straße@example.de"):
        answer = api_register(client, published.slug, json.dumps(person(email=address)))
        assert answer.status_code == 422, (address, answer.body)
        assert "半角の英数字と記号" in answer.json_body["errors"]["email"]
    english = api_register(client, published.slug, json.dumps(person(email="山田@example.jp")), ENGLISH)
    assert "ASCII letters" in english.json_body["errors"]["email"]


def test_a_local_part_over_64_characters_is_refused(client: Any, published: Any) -> None:
    answer = api_register(client, published.slug, json.dumps(person(email="a" * 65 + "@example.jp")))
    assert answer.status_code == 422 and "64" in answer.json_body["errors"]["email"]
    fits = api_register(client, published.slug, json.dumps(person(email="a" * 64 + "@example.jp")))
    assert fits.status_code == 201, fits.body


def test_an_idn_domain_is_shown_as_typed_and_mailed_in_its_ascii_form(
    client: Any, world: World, published: Any
) -> None:
    answer = api_register(client, published.slug, json.dumps(person(email="user@例え.jp")))
    assert answer.status_code == 201, answer.body
    [stored] = stored_registrations(world, published.slug)
    assert stored["email"] == "user@例え.jp"
    world.deliver_outbox()
    [mail] = mailbox()
    assert str(mail["To"]) == "user@xn--r8jz45g.jp"  # not an RFC 2047 encoded word


def test_json_nested_a_thousand_deep_is_a_400_not_a_500(client: Any, published: Any) -> None:
    answer = api_register(client, published.slug, "[" * 1000 + "]" * 1000)
    assert answer.status_code == 400 and "入れ子" in answer.json_body["message"]
    deep_object = '{"a":' * 1000 + "1" + "}" * 1000
    assert api_register(client, published.slug, deep_object).status_code == 400


def test_query_strings_paths_and_headers_that_are_not_text_are_refused(client: Any, published: Any) -> None:
    for path in (f"/events/{published.slug}?q={quote(chr(0xFFFF))}", f"/language/en?back={quote(chr(0xFDD0))}"):
        answer = client.http.get(path)
        assert answer.status_code == 400, (path, answer.status_code)
    assert client.http.get(f"/events/{quote(chr(0xFFFE))}").status_code in (400, 404)  # never a 5xx
    odd_header = client.http.get(f"/events/{published.slug}", headers={"X-Anything": "\ufffe"})
    assert odd_header.status_code == 400
    api = client.http.get(f"/api/events/{published.slug}?x={quote(chr(0xFFFF))}", headers=api_headers(client))
    assert api.status_code == 400 and api.json_body["status"] == "invalid"


def test_a_key_reused_with_a_different_request_is_refused_and_stores_nothing(
    client: Any, world: World, published: Any
) -> None:
    key = {"Idempotency-Key": "550e8400-e29b-41d4-a716-446655440000"}  # a UUID, as most clients send
    first = api_register(client, published.slug, json.dumps(person(email="one@example.jp")), key)
    assert first.status_code == 201
    other = api_register(client, published.slug, json.dumps(person(email="two@example.jp")), key)
    assert other.status_code == 422 and other.json_body["status"] == "idempotency_key_reused"
    renamed = api_register(client, published.slug, json.dumps(person(email="one@example.jp", name="別の名前")), key)
    assert renamed.status_code == 422
    assert len(stored_registrations(world, published.slug)) == 1


def test_the_same_request_with_the_same_key_gets_the_first_answer_again(
    client: Any, world: World, published: Any
) -> None:
    key = {"Idempotency-Key": "order-2027-01-10/42"}
    body = json.dumps(person(email="one@example.jp"))
    first = api_register(client, published.slug, body, key)
    again = api_register(client, published.slug, json.dumps(json.loads(body)), key)  # the same fields
    assert first.status_code == again.status_code == 201
    assert again.json_body == first.json_body and "registration_id" in again.json_body
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert len(stored_registrations(world, published.slug)) == 1


def test_a_key_that_is_not_printable_ascii_or_too_long_is_refused(client: Any, published: Any) -> None:
    for key in ("x" * 256, "has space", "キー"):
        answer = api_register(client, published.slug, json.dumps(person()), {"Idempotency-Key": key})
        assert answer.status_code == 400, key
