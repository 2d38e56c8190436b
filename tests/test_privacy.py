"""Personal data (APPI): it expires, it can be erased through the personal link, and it never reaches the logs."""

from __future__ import annotations

import dataclasses
import logging
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from chalice.test import Client

from chalicelib.domain.event import Event
from chalicelib.store import schema
from chalicelib.usecases.catalog import get_event
from chalicelib.usecases.privacy import EraseOutcome, erase
from chalicelib.usecases.registering import Outcome, register
from tests.conftest import FORM, World, attendee, mailbox, numbered, signed, valid_form


def personal_items(world: World, slug: str) -> list[dict[str, Any]]:
    rows = world.table.query("pk = :pk", {":pk": schema.event_pk(slug)})
    return [r for r in rows if r[schema.SK].startswith((schema.REG_PREFIX, schema.EMAIL_PREFIX))]


def test_every_item_with_personal_data_expires_after_the_event(world: World, sample_event: Event) -> None:
    event = world.publish(dataclasses.replace(sample_event, capacity=1, retention_days=45))
    assert register(world.table, event, numbered(1), "S1", world.clock.now()).outcome is Outcome.REGISTERED
    assert register(world.table, event, numbered(2), "S2", world.clock.now()).outcome is Outcome.WAITLISTED
    expected = int((event.ends_at + timedelta(days=45)).timestamp())
    items = personal_items(world, event.slug)
    assert len(items) == 4 and all(item[schema.TTL_ATTRIBUTE] == expected for item in items)


def test_a_lottery_application_expires_too(world: World, sample_event: Event) -> None:
    event = world.publish(dataclasses.replace(sample_event, draw_at=sample_event.starts_at - timedelta(days=5)))
    assert register(world.table, event, numbered(1), "S1", world.clock.now()).outcome is Outcome.APPLIED
    assert all(schema.TTL_ATTRIBUTE in item for item in personal_items(world, event.slug))


def test_a_registrant_can_erase_their_data_through_their_link(client: Client, world: World, published: Event) -> None:
    response = client.http.post(f"/events/{published.slug}", headers=FORM, body=urlencode(signed(valid_form())))
    location = response.headers["Location"]
    path, token = urlsplit(location).path, location.split("token=")[1]
    unconfirmed = client.http.post(path, headers=FORM, body=urlencode({"token": token, "action": "erase"}))
    assert unconfirmed.status_code == 400
    done = client.http.post(
        path, headers=FORM, body=urlencode({"token": token, "action": "erase", "confirm_erase": "yes"})
    )
    assert done.status_code == 303 and done.headers["Location"].endswith("&done=erased")
    page = client.http.get(done.headers["Location"]).body.decode("utf-8")
    assert "個人情報は削除されました" in page and "磐梯" not in page
    registration_id = path.rsplit("/", 1)[1]
    stored = world.table.get(schema.registration_key(published.slug, registration_id))
    assert stored is not None and stored["erased_at"]
    assert all(stored[field] == "" for field in ("name", "kana", "organization", "email", "question"))
    assert [i for i in personal_items(world, published.slug) if i[schema.SK].startswith(schema.EMAIL_PREFIX)] == []
    assert get_event(world.table, published.slug).seats_taken == 0  # type: ignore[union-attr]
    world.deliver_outbox()
    assert mailbox() == []  # neither the confirmation nor the cancellation can go anywhere now
    assert erase(world.table, published, registration_id, world.clock.now()) is EraseOutcome.ALREADY_ERASED


def test_after_the_event_erasing_leaves_the_seats_alone(world: World, published: Event) -> None:
    result = register(world.table, published, attendee(), "S1", world.clock.now())
    world.clock.set(published.ends_at + timedelta(days=1))
    assert erase(world.table, published, result.registration_id, world.clock.now()) is EraseOutcome.ERASED
    assert get_event(world.table, published.slug).seats_taken == 1  # type: ignore[union-attr]


def test_no_personal_data_reaches_the_logs(
    client: Client, world: World, published: Event, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG, logger="app")
    caplog.set_level(logging.DEBUG, logger="chalicelib")
    caplog.set_level(logging.DEBUG, logger="uketsuke")
    caplog.set_level(logging.INFO)
    form = signed(valid_form(name="磐梯 太郎", email="taro.secret@example.jp", question="個人的な質問です"))
    response = client.http.post(f"/events/{published.slug}", headers=FORM, body=urlencode(form))
    client.http.get(response.headers["Location"])
    again = signed({**form, "submission_id": ""})
    client.http.post(f"/events/{published.slug}", headers=FORM, body=urlencode(again))  # already registered
    bad = client.http.post(
        f"/events/{published.slug}", headers=FORM, body=urlencode(signed({**form, "kana": "漢字", "submission_id": ""}))
    )
    assert bad.status_code == 400
    world.deliver_outbox()
    assert [m["To"] for m in mailbox()] == ["taro.secret@example.jp"]
    logged = caplog.text + "".join(capfd.readouterr())
    for secret in ("磐梯", "taro.secret", "個人的な質問"):
        assert secret not in logged, secret
