"""What the public forms let a stranger learn about an address, or do with one page: nothing, once.

The security review of 4a393e0 found three ways in (issue 26, findings 1 to 3): the registration form
said "already registered" for a registered address where anyone else heard "full"; /my-link took
longer for a registered address; one form page registered three people, and the my-link page's token
passed on the registration form. Each test here failed on that code.
"""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from chalice.test import Client

from chalicelib.domain.event import Event
from chalicelib.store import schema
from chalicelib.text import messages as msg
from chalicelib.usecases import link_requests
from chalicelib.usecases.address_guards import RESEND_INTERVAL
from chalicelib.usecases.link_requests import LinkRequest, request_link
from chalicelib.web.bots import Form
from tests.conftest import FORM, Sequence, World, page, signed, valid_form

_PER_PAGE = re.compile(r'name="(submission_id|form_token)" value="[^"]*"')


def same_page(response: Any) -> str:
    """A page without what differs on every serving of it (its submission id and token)."""
    return _PER_PAGE.sub("", page(response))


def register(client: Client, event: Event, fields: dict[str, str]) -> Any:
    return client.http.post(f"/events/{event.slug}", headers=FORM, body=urlencode(fields))


def rows(world: World, event: Event, prefix: str) -> list[dict[str, Any]]:
    query = "pk = :pk AND begins_with(sk, :p)"
    return list(world.table.query(query, {":pk": schema.event_pk(event.slug), ":p": prefix}))


# --- 1. "already registered" only where a seat or a place was there to give, and always by mail ----------


@pytest.mark.parametrize("how", ["full", "closed"])
def test_the_form_answers_a_registered_address_as_it_answers_anyone_when_nothing_is_given(
    client: Client, world: World, sample_event: Event, how: str
) -> None:
    event = world.publish(dataclasses.replace(sample_event, capacity=1, waitlist=False))
    assert register(client, event, signed(valid_form(), event.slug)).status_code == 303
    if how == "closed":
        world.clock.set(event.registration_closes_at + timedelta(minutes=1))
    world.clock.set(world.clock.now() + RESEND_INTERVAL + timedelta(seconds=1))
    mails = len(rows(world, event, schema.MAIL_PREFIX))
    registered = register(client, event, signed(valid_form(name="別人"), event.slug))
    stranger = register(client, event, signed(valid_form(email="hanako@example.jp"), event.slug))
    assert registered.status_code == stranger.status_code == 409
    values = re.compile(r'value="(taro|hanako)@example\.jp"|value="(別人|磐梯 太郎)"')
    assert values.sub("", same_page(registered)) == values.sub("", same_page(stranger))
    assert msg.ALREADY_REGISTERED not in page(registered)
    assert len(rows(world, event, schema.MAIL_PREFIX)) == mails + 1  # the owner of the address is told, by mail
    api = client.http.post(
        f"/api/events/{event.slug}/registrations",
        headers={"Content-Type": "application/json", **world.api_headers()},
        body=json.dumps({**valid_form(), "consent": True}),
    )
    assert (api.status_code, api.json_body["status"]) == (409, how)


def test_on_an_open_event_the_address_is_told_where_anyone_else_gets_a_seat(client: Client, published: Event) -> None:
    assert register(client, published, signed(valid_form(), published.slug)).status_code == 303
    again = register(client, published, signed(valid_form(name="別人"), published.slug))
    assert again.status_code == 200 and msg.ALREADY_REGISTERED in page(again)


# --- 2. the personal link again: the same work for every address, and a limit per page and client -------


class Shapes:
    """Each DynamoDB call a client makes: its operation, and for a transaction the kinds of its items."""

    def __init__(self, client: Any) -> None:
        self.calls: list[tuple[str, tuple[str, ...]]] = []
        client.meta.events.register("before-parameter-build.dynamodb", self._record)

    def _record(self, model: Any, params: Any = None, **_: Any) -> None:
        items = (params or {}).get("TransactItems", [])
        self.calls.append((model.name, tuple(kind for item in items for kind in item)))

    def take(self) -> list[tuple[str, tuple[str, ...]]]:
        taken, self.calls = self.calls, []
        return taken


def ask(client: Client, event: Event, address: str, fields: dict[str, str] | None = None) -> Any:
    signed_fields = fields or signed({}, event.slug, form=Form.LINK_REQUEST)
    body = urlencode({**signed_fields, "email": address})
    return client.http.post(f"/events/{event.slug}/my-link", headers=FORM, body=body)


def test_asking_for_the_link_does_the_same_work_for_a_registered_and_an_unknown_address(
    client: Client, world: World, published: Event
) -> None:
    assert register(client, published, signed(valid_form(), published.slug)).status_code == 303
    world.clock.set(world.clock.now() + RESEND_INTERVAL + timedelta(seconds=1))
    ask(client, published, "warm@example.jp")  # the container and its event details, warmed
    shapes = Shapes(world.table.client)
    for moment in ("first", "again at once"):
        registered = ask(client, published, "taro@example.jp")
        registered_work = shapes.take()
        unknown = ask(client, published, f"nobody-{moment.replace(' ', '-')}@example.jp")
        unknown_work = shapes.take()
        assert registered_work == unknown_work, moment  # one read, then a transaction of the same kinds
        assert registered_work[-1][0] == "TransactWriteItems" and len(registered_work[-1][1]) == 4
        assert (registered.status_code, same_page(registered)) == (unknown.status_code, same_page(unknown))


def test_one_page_may_ask_for_a_few_addresses_then_is_refused_for_all(
    client: Client, world: World, published: Event
) -> None:
    fields = signed({}, published.slug, form=Form.LINK_REQUEST)
    for n in range(link_requests.PER_FORM):
        assert ask(client, published, f"guess{n}@example.jp", fields).status_code == 200
    refused = ask(client, published, "taro@example.jp", fields)
    assert refused.status_code == 429 and msg.LINK_REQUEST_TOO_MANY in page(refused)
    assert 'value="taro@example.jp"' in page(refused)  # what they typed stays
    assert ask(client, published, "taro@example.jp").status_code == 200  # a fresh page may ask


def test_one_client_may_ask_so_often_within_its_window(world: World, published: Event) -> None:
    now = world.clock.now()

    def asked(n: int, client: str, at: Any = now) -> LinkRequest:
        return request_link(world.table, published.slug, f"g{n}@example.jp", f"PAGE{n:08d}", client, at, Sequence())

    outcomes = [asked(n, "203.0.113.7") for n in range(link_requests.PER_CLIENT + 1)]
    assert outcomes[:-1] == [LinkRequest.NOTHING_SENT] * link_requests.PER_CLIENT
    assert outcomes[-1] is LinkRequest.TOO_MANY
    assert asked(99, "198.51.100.1") is LinkRequest.NOTHING_SENT  # another client is not held up
    assert asked(98, "203.0.113.7", now + link_requests.CLIENT_WINDOW) is LinkRequest.NOTHING_SENT
    counts = rows(world, published, schema.LINK_REQUEST_PREFIX)
    assert counts and all("203.0.113.7" not in str(row) for row in counts)  # digests, never the address
    assert all(
        row[schema.TTL_ATTRIBUTE] <= int((now + link_requests.CLIENT_WINDOW + link_requests.KEPT).timestamp())
        for row in counts
    )


# --- 3. one registration per form page; each form's token only on its own form --------------------------


def test_one_form_page_registers_one_person_however_often_it_is_sent(
    client: Client, world: World, published: Event
) -> None:
    fields = signed(valid_form(), published.slug)
    assert register(client, published, fields).status_code == 303
    for other in ("hanako@example.jp", "jiro@example.jp"):
        replayed = register(client, published, {**fields, "email": other, "name": "別人"})
        assert replayed.status_code == 409 and msg.RESUBMITTED in page(replayed)
        assert f'value="{other}"' in page(replayed)  # kept, on a page of its own to send again
        assert f'name="submission_id" value="{fields["submission_id"]}"' not in page(replayed)
    assert [r["email"] for r in rows(world, published, schema.REG_PREFIX)] == ["taro@example.jp"]
    assert register(client, published, fields).status_code == 303  # the same person again: a double click


def test_a_token_passes_only_on_the_form_it_was_handed_out_with(client: Client, world: World, published: Event) -> None:
    link_page = signed({}, published.slug, form=Form.LINK_REQUEST)
    on_registration = register(client, published, {**valid_form(), **link_page})
    assert on_registration.status_code == 400 and rows(world, published, schema.REG_PREFIX) == []
    registration_page = signed({}, published.slug)
    assert ask(client, published, "taro@example.jp", registration_page).status_code == 400
