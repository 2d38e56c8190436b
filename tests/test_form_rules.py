"""The organizer shapes the form: each standard field required, optional or hidden, in their own words (ja/en)."""

from __future__ import annotations

import dataclasses
import json
import tomllib
from urllib.parse import urlencode

import pytest
from chalice.test import Client

from chalicelib.domain.event import Event, EventFileError, FieldRule
from chalicelib.domain.event_file import parse_event, to_toml
from chalicelib.usecases.roster import entries
from tests.conftest import FORM, World, mailbox, page, signed, valid_form
from tests.test_organizer import ORGANIZER, sign_in

CITIZENS = (
    FieldRule("organization", mode="optional", label="お住まいの市町村", hint="例：会津若松市", label_en="Your town"),
    FieldRule("job_title", mode="hidden"),
    FieldRule("question", mode="required", label="参加の動機", hint="ひとことでどうぞ"),
)


@pytest.fixture
def seminar(world: World, sample_event: Event) -> Event:
    return world.publish(dataclasses.replace(sample_event, slug="citizens", form=CITIZENS))


def test_the_file_reads_and_writes_the_forms_shape(sample_event: Event) -> None:
    shaped = dataclasses.replace(sample_event, form=CITIZENS)
    text = to_toml(shaped)
    assert "[form.organization]" in text and 'mode = "hidden"' in text
    assert parse_event(tomllib.loads(text)) == shaped
    data = tomllib.loads(to_toml(sample_event))
    with pytest.raises(EventFileError, match="did you mean organization"):
        parse_event({**data, "form": {"organisation": {"mode": "optional"}}})
    with pytest.raises(EventFileError, match="mode must be one of"):
        parse_event({**data, "form": {"job_title": {"mode": "maybe"}}})
    with pytest.raises(EventFileError, match="label_english"):
        parse_event({**data, "form": {"job_title": {"label_english": "Role"}}})


def test_the_form_asks_what_the_organizer_shaped_and_keeps_nothing_hidden(
    client: Client, world: World, seminar: Event
) -> None:
    shown = page(client.http.get(f"/events/{seminar.slug}"))
    assert "お住まいの市町村" in shown and "例：会津若松市" in shown and "参加の動機" in shown
    assert 'name="job_title"' not in shown and 'id="organization"' in shown
    assert 'お住まいの市町村<span class="optional">（任意）</span>' in shown
    assert '参加の動機<span class="required">（必須）</span>' in shown
    english = page(client.http.get(f"/events/{seminar.slug}", headers={"Accept-Language": "en"}))
    assert "Your town" in english
    without_motive = signed(valid_form(question="", organization=""), seminar.slug)
    refused = client.http.post(f"/events/{seminar.slug}", headers=FORM, body=urlencode(without_motive))
    assert refused.status_code == 400 and 'id="question-error"' in page(refused)
    assert 'id="organization-error"' not in page(refused)
    fields = signed(valid_form(question="地域のDXを知りたい", organization="", job_title="課長"), seminar.slug)
    assert client.http.post(f"/events/{seminar.slug}", headers=FORM, body=urlencode(fields)).status_code == 303
    [entry] = entries(world.table, seminar.slug)
    assert (entry.registration.attendee.organization, entry.registration.attendee.job_title) == ("", "")


def test_the_api_follows_the_same_shape(client: Client, world: World, seminar: Event) -> None:
    path = f"/api/events/{seminar.slug}/registrations"
    body = {**valid_form(question=""), "consent": True}
    refused = client.http.post(path, headers=world.api_headers(), body=json.dumps(body))
    assert refused.status_code == 422 and "question" in refused.json_body["errors"]
    taken = client.http.post(path, headers=world.api_headers(), body=json.dumps({**body, "question": "学びたい"}))
    assert taken.status_code == 201


OWN_WORDS = (
    FieldRule("organization", label="自治体名・会社名", label_en="Municipality or company"),
    FieldRule("question", label="パネリストへの質問", label_en="Your question for the panel"),
)


def test_the_organizers_labels_are_the_labels_in_errors_mails_organizer_pages_and_exports(
    client: Client, world: World, sample_event: Event
) -> None:
    event = world.publish(dataclasses.replace(sample_event, slug="own-words", form=OWN_WORDS))
    # The error summary and the line beside the field name the field as the form does.
    missing = signed(valid_form(organization=""), event.slug)
    refused = page(client.http.post(f"/events/{event.slug}", headers=FORM, body=urlencode(missing)))
    assert "自治体名・会社名を入力してください" in refused and "所属を" not in refused
    english = {"Accept-Language": "en", **FORM}
    missing_en = signed(valid_form(name="John Smith", kana="", organization=""), event.slug)
    refused_en = page(client.http.post(f"/events/{event.slug}", headers=english, body=urlencode(missing_en)))
    assert "Municipality or company" in refused_en and "Affiliation" not in refused_en
    # The mails say it in the registrant's language; a name without a reading has no empty brackets.
    fields = signed(valid_form(question="事例を知りたい"), event.slug)
    assert client.http.post(f"/events/{event.slug}", headers=FORM, body=urlencode(fields)).status_code == 303
    john = signed(valid_form(name="John Smith", kana="", email="john@example.com", question="Hi"), event.slug)
    assert client.http.post(f"/events/{event.slug}", headers=english, body=urlencode(john)).status_code == 303
    world.deliver_outbox()
    [japanese_mail] = [m for m in mailbox() if m["To"] == valid_form()["email"]]
    text = japanese_mail.get_body(("plain",)).get_content()
    assert "自治体名・会社名: " in text and "パネリストへの質問:" in text
    assert "所属:" not in text and "講師への質問" not in text
    [english_mail] = [m for m in mailbox() if m["To"] == "john@example.com"]
    english_text = english_mail.get_body(("plain",)).get_content()
    assert "Name: John Smith\r\n" in english_text and "()" not in english_text
    assert "Municipality or company: " in english_text and "Your question for the panel:" in english_text
    # The organizer's pages and exports head the same facts with the same words.
    world.let_sign_in(ORGANIZER)
    desk = sign_in(client, world)
    [entry] = [e for e in entries(world.table, event.slug) if e.registration.attendee.lang == "ja"]
    detail = page(
        desk.get(client, f"/organizer/events/{event.slug}/registrations/{entry.registration.registration_id}")
    )
    assert "パネリストへの質問" in detail and "講師への質問" not in detail
    door = desk.get(client, f"/organizer/events/{event.slug}/export/door.csv").body.decode("utf-8-sig")
    assert door.splitlines()[0].split(",")[3] == "自治体名・会社名"
