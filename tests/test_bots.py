"""The registration form against bots: honeypot, signed form token, minimum fill time. People just press again."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from chalice.test import Client

from chalicelib.domain.event import Event
from chalicelib.text import messages as msg
from chalicelib.usecases.catalog import get_event
from tests.conftest import FORM, World, signed, valid_form


def post(client: Client, fields: dict[str, str]) -> Any:
    return client.http.post("/events/cdo-seminar", headers=FORM, body=urlencode(fields))


def seats_taken(world: World) -> int:
    state = get_event(world.table, "cdo-seminar")
    assert state is not None
    return state.seats_taken


def test_the_form_carries_a_token_and_a_honeypot_people_never_meet(client: Client, published: Event) -> None:
    page = client.http.get(f"/events/{published.slug}").body.decode("utf-8")
    assert re.search(r'name="form_token" value="[0-9a-f]+\.[\w-]+"', page)
    trap = re.search(r'<div class="trap" aria-hidden="true">.*?</div>', page, re.S)
    assert trap and 'tabindex="-1"' in trap.group(0) and 'name="website"' in trap.group(0)


@pytest.mark.parametrize(
    ("fields", "verdict"),
    [
        (lambda: signed(valid_form(website="http://spam.example")), "honeypot"),
        (lambda: {**valid_form(), "submission_id": "SUBMISSION999999"}, "no_token"),
        (lambda: {**signed(valid_form()), "submission_id": "SUBMISSION888888"}, "no_token"),
        (lambda: {**signed(valid_form()), "form_token": "0.forged"}, "no_token"),
        (lambda: signed(valid_form(), age=timedelta(seconds=1)), "too_fast"),
        (lambda: signed(valid_form(), age=timedelta(hours=25)), "expired"),
    ],
)
def test_a_suspicious_submission_registers_nobody_and_keeps_what_was_typed(
    client: Client, world: World, published: Event, fields: Any, verdict: str
) -> None:
    response = post(client, fields())
    page = response.body.decode("utf-8")
    assert response.status_code == 400 and msg.FORM_CHECKS[verdict] in page
    assert 'value="磐梯 太郎"' in page
    assert seats_taken(world) == 0


def test_a_person_who_was_too_quick_succeeds_by_pressing_again(client: Client, world: World, published: Event) -> None:
    first = post(client, signed(valid_form(), age=timedelta(seconds=1)))
    page = first.body.decode("utf-8")
    submission_id = re.search(r'name="submission_id" value="(\w+)"', page).group(1)  # type: ignore[union-attr]
    token = re.search(r'name="form_token" value="([\w.-]+)"', page).group(1)  # type: ignore[union-attr]
    world.clock.set(world.clock.now() + timedelta(seconds=5))  # reading the sentence, pressing again
    again = post(client, {**valid_form(), "submission_id": submission_id, "form_token": token})
    assert again.status_code == 303 and seats_taken(world) == 1
