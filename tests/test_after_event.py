"""After the event: お礼 and 資料 to those who came, another word to those who did not, each once."""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta
from typing import Any

from chalice.test import Client

from chalicelib.domain.attendee import Attendee
from chalicelib.domain.event import Event, Online
from chalicelib.usecases import broadcast, checkin, roster
from chalicelib.usecases.changes import cancel
from chalicelib.usecases.registering import Outcome, register
from tests.conftest import World, attendee, mailbox, numbered, page
from tests.test_organizer import ORGANIZER, sign_in

THANKS = broadcast.Draft(
    "ご参加ありがとうございました", "資料はこちらです: https://example.jp/slides", broadcast.ATTENDED
)
MISSED = broadcast.Draft(
    "当日の資料をお送りします", "ご都合が合わず残念でした。資料をお送りします。", broadcast.NO_SHOW
)


def hybrid(sample_event: Event) -> Event:
    """The sample event at the venue (5 seats) and online (3 places): online people never pass the door."""
    online = Online("hybrid", "https://meet.example.jp/j/1", venue_capacity=5, online_capacity=3)
    return dataclasses.replace(
        sample_event,
        capacity=8,
        online=online,
        categories=tuple(dataclasses.replace(c, reserved=0) for c in sample_event.categories),
        quota_release_at=None,
    )


def online_person(n: int) -> Attendee:
    return dataclasses.replace(numbered(n), answers=json.dumps({"attendance": "online"}))


def test_the_thanks_reach_exactly_who_came_and_the_other_word_exactly_who_did_not(
    world: World, sample_event: Event
) -> None:
    event = world.publish(hybrid(sample_event))
    ids = {}
    for n in range(1, 10):  # 1-5 at the venue, 6-8 online, 9 waits for the venue
        who = online_person(n) if n in (6, 7, 8) else numbered(n)
        result = register(world.table, event, who, f"S{n:07d}", world.clock.now())
        ids[n] = result.registration_id
    assert register(world.table, event, numbered(10), "S10", world.clock.now()).outcome is Outcome.WAITLISTED
    cancel(world.table, event, ids[5], world.clock.now())  # person 9 moves up into the venue
    world.clock.set(event.starts_at + timedelta(minutes=5))
    for n in (1, 2, 9):
        checkin.check_in(world.table, event.slug, ids[n], "door@example.jp", world.clock.now())
    world.deliver_outbox()
    seen = len(mailbox())
    world.clock.set(event.ends_at + timedelta(hours=1))
    now = world.clock.now()
    everyone = roster.entries(world.table, event.slug)
    came = sorted(e.registration.attendee.email for e in broadcast.recipients(everyone, THANKS, event))
    missed = sorted(e.registration.attendee.email for e in broadcast.recipients(everyone, MISSED, event))
    assert came == ["person1@example.jp", "person2@example.jp", "person9@example.jp"]
    assert missed == ["person3@example.jp", "person4@example.jp"]  # not 5 (cancelled), 6-8 (online), 10 (waiting)
    assert broadcast.queue(world.table, event.slug, "THANKS1", THANKS, ORGANIZER, now)
    assert not broadcast.queue(world.table, event.slug, "THANKS1", THANKS, ORGANIZER, now)  # 送信 pressed twice
    assert broadcast.queue(world.table, event.slug, "MISSED1", MISSED, ORGANIZER, now)
    for _ in range(2):  # the schedule runs twice (or two copies at once): each mail is made once
        broadcast.fan_out_due(world.table, now)
        world.deliver_outbox()
    sent = mailbox()[seen:]
    assert sorted(str(m["To"]) for m in sent if "ご参加ありがとうございました" in str(m["Subject"])) == came
    assert sorted(str(m["To"]) for m in sent if "当日の資料をお送りします" in str(m["Subject"])) == missed
    assert len(sent) == len(came) + len(missed)


def test_who_came_cannot_be_chosen_before_the_event_begins(world: World, client: Client, published: Event) -> None:
    world.let_sign_in(ORGANIZER)
    desk = sign_in(client, world)
    register(world.table, published, attendee(), "S1", world.clock.now())
    for audience in (broadcast.ATTENDED, broadcast.NO_SHOW):
        fields = {"action": "preview", "subject": "お礼", "body": "資料です", "audience": audience}
        response = desk.post(client, f"/organizer/events/{published.slug}/broadcasts", **fields)
        assert response.status_code == 400
        assert "イベントが始まってから送れます" in page(response)
    world.clock.set(published.ends_at)
    desk = sign_in(client, world)  # the morning's session has expired by now
    fields = {"action": "preview", "subject": "お礼", "body": "資料です", "audience": broadcast.NO_SHOW}
    response = desk.post(client, f"/organizer/events/{published.slug}/broadcasts", **fields)
    assert response.status_code == 200 and "<strong>1名</strong>に送ります" in page(response)


def test_a_certificate_is_printed_by_who_came_and_by_the_organizer_for_everyone_who_came(
    world: World, client: Client, sample_event: Event, tmp_path: Any
) -> None:
    from chalicelib.domain.links import personal_path
    from tests.test_html_valid import errors_of

    event = world.publish(dataclasses.replace(sample_event, certificates=True))
    ids = {n: register(world.table, event, numbered(n), f"S{n}", world.clock.now()).registration_id for n in (1, 2)}
    world.clock.set(event.starts_at)
    checkin.check_in(world.table, event.slug, ids[1], "door@example.jp", world.clock.now())
    own = {n: personal_path(world.services.signer, event.slug, ids[n], event.ends_at) for n in ids}
    certificate = {n: own[n].replace("?token=", "/certificate?token=") for n in ids}
    assert "参加証明書を印刷する" in page(client.http.get(own[1]))
    assert "参加証明書を印刷する" not in page(client.http.get(own[2]))
    printed = client.http.get(certificate[1])
    assert printed.status_code == 200 and "参加者1 様" in page(printed) and "参加証明書" in page(printed)
    assert client.http.get(certificate[2]).status_code == 404  # not checked in: nothing to certify
    forged = certificate[1].rsplit("token=", 1)[0] + "token=0.forged"
    assert client.http.get(forged).status_code == 404
    world.let_sign_in(ORGANIZER)
    desk = sign_in(client, world)
    everyone = desk.get(client, f"/organizer/events/{event.slug}/certificates")
    assert everyone.status_code == 200
    assert page(everyone).count('class="printable certificate"') == 1 and "参加者2" not in page(everyone)
    assert errors_of({"certificate": page(printed), "certificates": page(everyone)}, tmp_path) == []
    world.publish(dataclasses.replace(event, certificates=False))
    assert client.http.get(certificate[1]).status_code == 404
    assert desk.get(client, f"/organizer/events/{event.slug}/certificates").status_code == 404
