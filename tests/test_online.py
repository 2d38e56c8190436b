"""Online and hybrid events: the meeting's address reaches seat holders only, never the public or the line."""

from __future__ import annotations

import dataclasses
import json
import tomllib
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from chalice.test import Client

from chalicelib.domain.event import ATTENDANCE, Event, EventFileError, Online
from chalicelib.domain.event_file import parse_event, to_toml
from tests.conftest import FORM, World, mailbox, page, signed, valid_form

MEETING = "https://meet.example.jp/j/123456?pwd=secret"
ONLINE = Online(
    "online", MEETING, instructions="開始5分前から入室できます", instructions_en="Doors open 5 minutes early"
)


def mails_to(address: str) -> list[Any]:
    return [m for m in mailbox() if m["To"] == address]


def text_of(message: Any) -> str:
    return str(message.get_body(("plain",)).get_content())


def test_the_file_knows_online_and_hybrid_events(sample_event: Event) -> None:
    online = dataclasses.replace(sample_event, online=ONLINE)
    assert parse_event(tomllib.loads(to_toml(online))) == online
    hybrid_text = to_toml(sample_event) + (
        f'\n[online]\nmode = "hybrid"\nurl = "{MEETING}"\nvenue_capacity = 20\n'
        f"online_capacity = {sample_event.capacity - 20}\n"
    )
    hybrid = parse_event(tomllib.loads(hybrid_text))
    assert hybrid.questions[0].key == ATTENDANCE and [c.capacity for c in hybrid.questions[0].choices] == [
        20,
        sample_event.capacity - 20,
    ]
    assert parse_event(tomllib.loads(to_toml(hybrid))) == hybrid  # the question comes back from [online]
    data: dict[str, Any] = tomllib.loads(hybrid_text)
    for change, said in (
        ({"venue_capacity": 1}, "must equal capacity"),
        ({"url": "http://meet.example.jp"}, "https"),
        ({"mode": "both"}, "mode must be"),
        ({"password": "x"}, "password"),
    ):
        with pytest.raises(EventFileError, match=said):
            parse_event({**data, "online": {**data["online"], **change}})


def test_only_seat_holders_learn_the_meeting_address(client: Client, world: World, sample_event: Event) -> None:
    event = world.publish(dataclasses.replace(sample_event, slug="webinar", capacity=1, online=ONLINE))
    public = page(client.http.get("/events/webinar"))
    assert "オンライン（参加方法は、お席が確定した方にお知らせします）" in public and "meet.example.jp" not in public
    api = client.http.get("/api/events/webinar", headers=world.api_headers())
    assert "meet.example.jp" not in json.dumps(api.json_body)
    seat = client.http.post("/events/webinar", headers=FORM, body=urlencode(signed(valid_form(), "webinar")))
    line = client.http.post(
        "/events/webinar", headers=FORM, body=urlencode(signed(valid_form(email="hanako@example.jp"), "webinar"))
    )
    assert seat.status_code == line.status_code == 303
    assert MEETING.replace("&", "&amp;") in page(client.http.get(seat.headers["Location"]))
    waiting_page = page(client.http.get(line.headers["Location"]))
    assert "キャンセル待ち" in waiting_page and "meet.example.jp" not in waiting_page
    world.deliver_outbox()
    assert MEETING in text_of(mails_to("taro@example.jp")[0]) and "開始5分前から入室できます" in text_of(
        mails_to("taro@example.jp")[0]
    )
    assert "meet.example.jp" not in text_of(mails_to("hanako@example.jp")[0])
    # The seat frees: the person moving up gets the address with their seat.
    location = str(seat.headers["Location"])
    cancel = {"token": location.split("token=")[1], "action": "cancel", "confirm_cancel": "yes"}
    assert client.http.post(urlsplit(location).path, headers=FORM, body=urlencode(cancel)).status_code == 303
    world.deliver_outbox()
    promoted = [m for m in mails_to("hanako@example.jp") if str(m["Subject"]).startswith("【参加確定】")]
    assert promoted and MEETING in text_of(promoted[0])
    assert event.online is not None and "meet.example.jp" not in page(client.http.get("/events/webinar"))


def test_a_hybrid_event_asks_venue_or_online_and_tells_only_the_online_seats(
    client: Client, world: World, sample_event: Event
) -> None:
    text = to_toml(dataclasses.replace(sample_event, slug="hybrid", capacity=2)) + (
        f'\n[online]\nmode = "hybrid"\nurl = "{MEETING}"\nvenue_capacity = 1\nonline_capacity = 1\n'
    )
    world.publish(parse_event(tomllib.loads(text)))
    form = page(client.http.get("/events/hybrid"))
    assert "参加方法" in form and "会場で参加（残り1名）" in form and "オンラインで参加（残り1名）" in form
    for email, how in (("venue@example.jp", "venue"), ("online@example.jp", "online")):
        fields = signed({**valid_form(email=email), f"answer_{ATTENDANCE}": how}, "hybrid")
        assert client.http.post("/events/hybrid", headers=FORM, body=urlencode(fields)).status_code == 303
    world.deliver_outbox()
    assert MEETING in text_of(mails_to("online@example.jp")[0])
    assert "meet.example.jp" not in text_of(mails_to("venue@example.jp")[0])
    third = signed({**valid_form(email="third@example.jp"), f"answer_{ATTENDANCE}": "venue"}, "hybrid")
    full = client.http.post("/events/hybrid", headers=FORM, body=urlencode(third))
    assert full.status_code == 409 and "「会場で参加」は定員に達しました" in page(full)
