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
from chalicelib.domain.registration import display_number
from chalicelib.usecases import roster
from chalicelib.usecases.changes import cancel
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
    assert hybrid.questions[0].key == ATTENDANCE
    assert hybrid.pools() == {"venue": 20, "online": sample_event.capacity - 20}
    assert [c.capacity for c in hybrid.questions[0].choices] == [0, 0]  # the pools count the modes, not the answers
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
    assert full.status_code == 303  # the venue is full: its own line, not a dead end


def hybrid(world: World, sample_event: Event, waitlist: bool = True, venue: int = 1, online: int = 2) -> Event:
    """A hybrid event with `venue` seats at the venue and `online` places online."""
    text = to_toml(dataclasses.replace(sample_event, slug="hybrid", capacity=venue + online, waitlist=waitlist)) + (
        f'\n[online]\nmode = "hybrid"\nurl = "{MEETING}"\nvenue_capacity = {venue}\nonline_capacity = {online}\n'
    )
    event = parse_event(tomllib.loads(text))
    world.publish(event)
    return event


def register_as(client: Client, email: str, how: str) -> Any:
    fields = signed({**valid_form(email=email), f"answer_{ATTENDANCE}": how}, "hybrid")
    return client.http.post("/events/hybrid", headers=FORM, body=urlencode(fields))


def status_of(world: World, email: str) -> str:
    rows = list(world.table.query("pk = :pk AND begins_with(sk, :r)", {":pk": "EVENT#hybrid", ":r": "REG#"}))
    return next(str(r["status"]) for r in rows if r.get("email") == email)


def test_each_mode_of_a_hybrid_event_has_its_own_line_and_a_freed_seat_goes_to_its_own_line(
    client: Client, world: World, sample_event: Event
) -> None:
    event = hybrid(world, sample_event)
    assert register_as(client, "v1@example.jp", "venue").status_code == 303
    # The venue is full, online is not: the page says so per mode, and the venue choice joins its line.
    form = page(client.http.get("/events/hybrid"))
    assert "会場：満席（キャンセル待ちを受け付けています）" in form and "オンライン：残り<strong>2</strong>席" in form
    assert "会場で参加（満席：選ぶとキャンセル待ちになります）" in form
    assert 'value="venue" disabled' not in form
    assert register_as(client, "v2@example.jp", "venue").status_code == 303
    assert status_of(world, "v2@example.jp") == "waitlisted"
    # Someone waiting for the venue never blocks online: an online newcomer still takes a seat.
    assert register_as(client, "o1@example.jp", "online").status_code == 303
    assert status_of(world, "o1@example.jp") == "confirmed"
    api = client.http.get("/api/events/hybrid", headers=world.api_headers())
    modes = {m["mode"]: m for m in json.loads(api.body)["modes"]}
    assert modes["venue"] == {"mode": "venue", "capacity": 1, "seats_left": 0, "waiting": 1}
    assert modes["online"] == {"mode": "online", "capacity": 2, "seats_left": 1, "waiting": 0}
    # An online seat that frees goes to nobody of the venue's line.
    registered = {
        r["email"]: r["registration_id"]
        for r in world.table.query("pk = :pk AND begins_with(sk, :r)", {":pk": "EVENT#hybrid", ":r": "REG#"})
    }
    assert cancel(world.table, event, registered["o1@example.jp"], world.clock.now()).promoted == ()
    assert status_of(world, "v2@example.jp") == "waitlisted"
    # A venue seat that frees goes to the first of the venue's line, who is told, without the meeting's address.
    moved = cancel(world.table, event, registered["v1@example.jp"], world.clock.now()).promoted
    assert moved == (registered["v2@example.jp"],) and status_of(world, "v2@example.jp") == "confirmed"
    world.deliver_outbox()
    told = "".join(text_of(m) for m in mails_to("v2@example.jp"))
    assert "キャンセル待ちから" in told and "参加が確定しました" in told and "meet.example.jp" not in told


def test_without_a_waiting_list_a_full_mode_is_refused_beside_its_field_and_the_other_stays_open(
    client: Client, world: World, sample_event: Event
) -> None:
    hybrid(world, sample_event, waitlist=False)
    assert register_as(client, "v1@example.jp", "venue").status_code == 303
    form = page(client.http.get("/events/hybrid"))
    assert "会場：満席" in form and 'value="venue" disabled' in form and "会場で参加（満員）" in form
    refused = register_as(client, "v2@example.jp", "venue")
    assert refused.status_code == 409 and "「会場で参加」は定員に達しました" in page(refused)
    assert register_as(client, "v2@example.jp", "online").status_code == 303


def test_online_attendees_are_never_sent_to_the_door_and_their_calendar_holds_the_meeting(
    client: Client, world: World, sample_event: Event
) -> None:
    from tests.test_mail import calendar_of
    from tests.test_organizer import ORGANIZER, sign_in

    hybrid(world, sample_event, venue=2, online=2)
    for email, how in (("venue@example.jp", "venue"), ("online@example.jp", "online")):
        assert register_as(client, email, how).status_code == 303
    world.deliver_outbox()
    [online_mail], [venue_mail] = mails_to("online@example.jp"), mails_to("venue@example.jp")

    def door_qr(mail: Any) -> bool:
        return any(part.get_content_type() == "image/png" for part in mail.walk())

    assert not door_qr(online_mail) and door_qr(venue_mail)  # the QR code is for the door
    told = text_of(online_mail)
    assert "オンラインでの参加方法は、このメールの下のほうにあります" in told and "受付番号をお知らせ" not in told
    assert "当日の受付では" not in told and MEETING in told
    calendar, _ = calendar_of(online_mail)
    [entry] = calendar.walk("VEVENT")
    assert str(entry["LOCATION"]) == "オンライン" and str(entry["URL"]) == MEETING
    calendar, _ = calendar_of(venue_mail)
    [entry] = calendar.walk("VEVENT")
    assert "小川ビル" in str(entry["LOCATION"]) and "meet.example.jp" not in entry.to_ical().decode()
    # The door sees only who comes in person; a search marks the online one, with no check-in button.
    world.let_sign_in(ORGANIZER)
    desk = sign_in(client, world)
    door = page(desk.get(client, "/organizer/events/hybrid/check-in"))
    assert "1名" in door and "ほかにオンライン参加 1名" in door and "磐梯" in door
    [online] = [
        e.registration
        for e in roster.entries(world.table, "hybrid")
        if e.registration.attendee.email == "online@example.jp"
    ]
    online_id = online.registration_id
    found = page(desk.get(client, f"/organizer/events/hybrid/check-in?q={display_number(online_id)}"))
    assert "：1件" in found and "オンライン参加</strong>" in found
    assert (
        "オンラインで参加する方です。受付は不要です。" in found
        and '<button class="button" type="submit">受付する' not in found
    )
    listed = desk.get(client, "/organizer/events/hybrid/export/door.csv").body.decode("utf-8-sig").splitlines()
    assert "参加方法" in listed[0] and any("オンライン" in row for row in listed[1:])
    counts = page(desk.get(client, "/organizer/events/hybrid"))
    assert "参加方法別" in counts and "<strong>会場</strong>（定員2名）：参加確定 1" in counts


def test_staff_moving_someone_to_the_other_mode_takes_a_seat_there_or_is_refused(
    client: Client, world: World, sample_event: Event
) -> None:
    from chalicelib.domain.ledger import Ledger
    from chalicelib.store import schema
    from chalicelib.usecases.assisted import EditOutcome, edit
    from chalicelib.usecases.registrations import get_registration

    event = hybrid(world, sample_event, venue=1, online=1)
    for email, how in (("v1@example.jp", "venue"), ("o1@example.jp", "online")):
        assert register_as(client, email, how).status_code == 303
    rows = list(world.table.query("pk = :pk AND begins_with(sk, :r)", {":pk": "EVENT#hybrid", ":r": "REG#"}))
    venue_id = next(r["registration_id"] for r in rows if r["email"] == "v1@example.jp")
    person = get_registration(world.table, "hybrid", venue_id)
    assert person is not None
    to_online = dataclasses.replace(person.attendee, answers=json.dumps({ATTENDANCE: "online"}))
    now, ids = world.clock.now(), world.services.ids
    # Online's one place is held: two holders of a one-place mode never happen, nothing is written.
    assert edit(world.table, event, venue_id, to_online, "staff@example.jp", now, ids) is EditOutcome.CHOICE_FULL
    online_id = next(r["registration_id"] for r in rows if r["email"] == "o1@example.jp")
    cancel(world.table, event, online_id, now)
    assert edit(world.table, event, venue_id, to_online, "staff@example.jp", now, ids) is EditOutcome.SAVED
    ledger = Ledger.from_item(world.table.get(schema.event_key("hybrid")) or {})
    assert dict(ledger.pool_taken) == {"venue": 0, "online": 1}


def test_putting_someone_first_keeps_them_in_their_own_modes_line(
    client: Client, world: World, sample_event: Event
) -> None:
    from chalicelib.usecases.assisted import MoveOutcome, move_up

    event = hybrid(world, sample_event, venue=1, online=1)
    for email, how in (("v1@example.jp", "venue"), ("o1@example.jp", "online"), ("v2@example.jp", "venue")):
        assert register_as(client, email, how).status_code == 303
    assert register_as(client, "o2@example.jp", "online").status_code == 303
    assert register_as(client, "v3@example.jp", "venue").status_code == 303
    rows = list(world.table.query("pk = :pk AND begins_with(sk, :r)", {":pk": "EVENT#hybrid", ":r": "REG#"}))
    rid = {r["email"]: r["registration_id"] for r in rows}
    now = world.clock.now()
    # v3 waits behind v2 for the venue; put first, they take the next venue seat, and only a venue seat.
    assert move_up(world.table, event, rid["v3@example.jp"], "office@example.jp", "講師", now) is MoveOutcome.PUT_FIRST
    assert cancel(world.table, event, rid["o1@example.jp"], now).promoted == (rid["o2@example.jp"],)
    assert cancel(world.table, event, rid["v1@example.jp"], now).promoted == (rid["v3@example.jp"],)
    assert status_of(world, "v2@example.jp") == "waitlisted"
