"""Announcing a new date, time or venue, or calling the event off: seen, counted, confirmed, sent once."""

from __future__ import annotations

import dataclasses
import re
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from chalice.test import Client

from chalicelib.domain.event import Event, Venue
from chalicelib.usecases import announcements
from chalicelib.usecases.address_guards import guard_key
from chalicelib.usecases.catalog import get_event
from chalicelib.usecases.changes import cancel
from chalicelib.usecases.publishing import load_event
from chalicelib.usecases.registering import Outcome, register
from tests.conftest import FORM, World, attendee, mailbox, page, signed, valid_form
from tests.test_jobs import invoke
from tests.test_mail import calendar_of
from tests.test_organizer import ORGANIZER, SignedIn, sign_in

PATH = "/organizer/events/{slug}/announcements"


@pytest.fixture
def small(world: World, sample_event: Event) -> Event:
    """Two seats taken (one by an English speaker), one person waiting, one cancelled."""
    event = world.publish(dataclasses.replace(sample_event, capacity=2))
    now = world.clock.now()
    people = [
        attendee(),
        attendee(name="John Smith", kana="", email="john@example.com", lang="en"),
        attendee(name="猪苗代 花子", kana="イナワシロ ハナコ", email="hanako@example.jp"),
        attendee(name="会津 一郎", kana="アイヅ イチロウ", email="ichiro@example.jp"),
    ]
    ids = [
        register(world.table, event, who, f"SUB{n:07d}", now + timedelta(milliseconds=n))
        for n, who in enumerate(people)
    ]
    assert [r.outcome for r in ids] == [Outcome.REGISTERED, Outcome.REGISTERED, Outcome.WAITLISTED, Outcome.WAITLISTED]
    cancel(world.table, event, ids[3].registration_id, now)
    world.deliver_outbox()
    return event


@pytest.fixture
def desk(client: Client, world: World, small: Event) -> SignedIn:
    world.let_sign_in(ORGANIZER)
    return sign_in(client, world)


def moved(event: Event, hours: int = 24) -> Event:
    """The same event a day later in another hall."""
    return dataclasses.replace(
        event,
        starts_at=event.starts_at + timedelta(hours=hours),
        ends_at=event.ends_at + timedelta(hours=hours),
        registration_closes_at=event.registration_closes_at + timedelta(hours=hours),
        venue=Venue(name="磐梯町中央公民館 大ホール", address="福島県耶麻郡磐梯町大字磐梯字中ノ橋1855", map_url=""),
    )


def news_since(before: int) -> list[Any]:
    return mailbox()[before:]


def test_publishing_again_unchanged_has_nothing_to_announce_and_a_new_date_or_venue_does(
    world: World, small: Event
) -> None:
    load_event(world.table, small, world.clock.now())
    assert announcements.pending_change(world.table, small) is None
    later = dataclasses.replace(
        small, starts_at=small.starts_at + timedelta(hours=1), ends_at=small.ends_at + timedelta(hours=1)
    )
    change = announcements.pending_change(world.table, later)
    assert change is not None and change.about == (announcements.SCHEDULE,)
    both = announcements.pending_change(world.table, moved(small))
    assert both is not None and both.about == (announcements.SCHEDULE, announcements.VENUE)
    assert both.before.sequence == 0 and both.after.sequence == 1
    retitled = dataclasses.replace(small, title="自治体CDO勉強会（第2回）")
    assert announcements.pending_change(world.table, retitled) is None  # only what calendars hold is announced


def test_a_change_is_previewed_with_its_count_then_sent_once_to_everyone_in_their_language(
    client: Client, world: World, small: Event, desk: SignedIn
) -> None:
    path = PATH.format(slug=small.slug)
    assert "日時・会場の変更は" not in page(desk.get(client, f"/organizer/events/{small.slug}"))
    event = world.publish(moved(small))
    overview = page(desk.get(client, f"/organizer/events/{small.slug}"))
    assert "日時・会場の変更が、登録者にまだ知らされていません" in overview
    form = page(desk.get(client, path))
    assert "磐梯町中央公民館 大ホール" in form and 'name="sequence" value="0"' in form
    preview = desk.post(client, path, kind="change", sequence="0", note="会場の改修のためです。", action="preview")
    shown = page(preview)
    assert preview.status_code == 200 and "<strong>3名</strong>に送ります" in shown  # not the cancelled one
    assert "会場の改修のためです。" in shown and "■ 変更前" in shown
    fields = {"kind": "change", "sequence": "0", "note": "会場の改修のためです。"}
    sent = desk.post(client, path, action="send", **fields)
    again = desk.post(client, path, action="send", **fields)  # a second press (or a second organizer)
    assert sent.status_code == 303 and again.status_code == 409
    assert announcements.pending_change(world.table, event) is None
    progress = page(desk.get(client, urlsplit(sent.headers["Location"]).path))
    assert "開催内容の変更のお知らせ" in progress
    before = len(mailbox())
    assert invoke("send_broadcasts").payload == {"broadcasts": 1, "mails": 3}
    assert invoke("send_broadcasts").payload == {"broadcasts": 0, "mails": 0}  # the job run twice adds nothing
    world.deliver_outbox()
    news = {str(m["To"]): m for m in news_since(before)}
    assert sorted(news) == ["hanako@example.jp", "john@example.com", "taro@example.jp"]
    assert str(news["taro@example.jp"]["Subject"]) == f"【開催内容の変更】{small.title}"
    assert not str(news["john@example.com"]["Subject"]).startswith("【")  # in English
    text = news["taro@example.jp"].get_body(("plain",)).get_content()
    assert "会場の改修のためです。" in text and "磐梯町中央公民館 大ホール" in text
    # Seats get their calendar entry updated in place: same UID, a higher SEQUENCE, the new start.
    first = next(m for m in mailbox()[:before] if m["To"] == "taro@example.jp")
    (added,) = calendar_of(first)[0].walk("VEVENT")
    (updated,) = calendar_of(news["taro@example.jp"])[0].walk("VEVENT")
    assert str(updated["UID"]) == str(added["UID"]) and int(updated["SEQUENCE"]) == 1
    assert updated.decoded("DTSTART") == event.starts_at
    assert calendar_of(news["hanako@example.jp"]) is None  # waiting: no entry to update


def test_after_a_change_every_later_calendar_entry_carries_the_new_revision(world: World, small: Event) -> None:
    event = world.publish(moved(small))
    change = announcements.pending_change(world.table, event)
    assert change is not None
    assert announcements.announce_change(world.table, event, change, "", ORGANIZER, world.clock.now())
    before = len(mailbox())
    guard = world.table.get(guard_key(event.slug, "taro@example.jp"))
    assert guard is not None
    cancel(world.table, event, guard["registration_id"], world.clock.now())
    world.deliver_outbox()
    [removal] = [m for m in news_since(before) if m["To"] == "taro@example.jp"]
    (entry,) = calendar_of(removal)[0].walk("VEVENT")
    assert int(entry["SEQUENCE"]) == 2 and str(entry["STATUS"]) == "CANCELLED"


def test_calling_the_event_off_needs_the_box_then_closes_it_for_good_and_tells_everyone_once(
    client: Client, world: World, small: Event, desk: SignedIn
) -> None:
    path = PATH.format(slug=small.slug)
    preview = page(desk.post(client, path, kind="cancellation", sequence="0", note="台風のため", action="preview"))
    assert "<strong>3名</strong>に送ります" in preview and "台風のため" in preview
    unconfirmed = desk.post(client, path, kind="cancellation", sequence="0", note="台風のため", action="send")
    assert unconfirmed.status_code == 400 and get_event(world.table, small.slug).cancelled is False  # type: ignore[union-attr]
    sent = desk.post(
        client, path, kind="cancellation", sequence="0", note="台風のため", note_en="Because of the typhoon.",
        action="send", confirm="yes",
    )  # fmt: skip
    again = desk.post(client, path, kind="cancellation", sequence="1", note="台風のため", action="send", confirm="yes")
    assert sent.status_code == 303 and again.status_code == 409
    state = get_event(world.table, small.slug)
    assert state is not None and state.cancelled
    before = len(mailbox())
    assert invoke("send_broadcasts").payload == {"broadcasts": 1, "mails": 3}
    world.deliver_outbox()
    news = {str(m["To"]): m for m in news_since(before)}
    assert sorted(news) == ["hanako@example.jp", "john@example.com", "taro@example.jp"]
    removed, part = calendar_of(news["taro@example.jp"])
    assert part.get_param("method") == "CANCEL" and int(next(iter(removed.walk("VEVENT")))["SEQUENCE"]) == 1
    assert calendar_of(news["hanako@example.jp"]) is None
    # Each reads the note in their own language.
    john, taro_mail = (
        m.get_body(("plain",)).get_content() for m in (news["john@example.com"], news["taro@example.jp"])
    )
    assert "Because of the typhoon." in john and "台風" not in john and "台風のため" in taro_mail
    # A registrant's own page reads as cancelled: no seat message, no door QR code, nothing to change.
    for address, said, seat in (
        ("john@example.com", "This event has been cancelled", "Your place is"),
        ("taro@example.jp", "このイベントは中止になりました", "お席を確保しました"),
    ):
        confirmation = next(m for m in mailbox() if m["To"] == address)  # the personal link it carried
        text = confirmation.get_body(("plain",)).get_content()
        link = re.search(r"http://testserver(/events/\S+/registrations/\S+)", text)
        assert link is not None
        english = {"Cookie": "uketsuke_lang=en"} if address.endswith(".com") else {}
        own = page(client.http.get(link.group(1), headers=english))
        assert said in own and seat not in own and "qr-code" not in own and 'value="edit"' not in own
    # The public page says so, nobody can register, and a freed seat goes to nobody.
    shown = page(client.http.get(f"/events/{small.slug}"))
    assert "このイベントは中止になりました" in shown and '<form class="form"' not in shown
    body = urlencode(signed(valid_form(email="late@example.jp"), small.slug))
    assert client.http.post(f"/events/{small.slug}", headers=FORM, body=body).status_code == 409
    api = client.http.get(f"/api/events/{small.slug}", headers=world.api_headers())
    assert api.json_body["availability"] == "cancelled"
    taro = world.table.get(guard_key(small.slug, "taro@example.jp"))
    assert taro is not None
    cancel(world.table, small, taro["registration_id"], world.clock.now())
    invoke("close_registration")
    after = get_event(world.table, small.slug)
    assert after is not None and after.cancelled and after.waiting == 1  # hanako was not moved up
    load_event(world.table, small, world.clock.now())  # loading the file again does not reopen it either
    assert get_event(world.table, small.slug).cancelled  # type: ignore[union-attr]
    world.deliver_outbox()
    assert not [m for m in news_since(before) if str(m["Subject"]).startswith("【参加確定】")]


def test_a_stale_or_forged_announcement_is_refused(client: Client, world: World, small: Event, desk: SignedIn) -> None:
    path = PATH.format(slug=small.slug)
    assert desk.post(client, path, kind="change", sequence="0", action="send").status_code == 409  # nothing changed
    world.publish(moved(small))
    assert desk.post(client, path, kind="change", sequence="7", action="send").status_code == 409
    assert desk.post(client, path, kind="bogus", sequence="0", action="send").status_code == 409
    long_note = desk.post(client, path, kind="change", sequence="0", note="あ" * 5001, action="preview")
    assert long_note.status_code == 400 and 'id="note-error"' in page(long_note)
    forged = client.http.post(path, headers={**FORM, "Cookie": desk.cookie}, body=urlencode({"kind": "change"}))
    assert forged.status_code == 403
    assert invoke("send_broadcasts").payload == {"broadcasts": 0, "mails": 0}
    assert re.search("お知らせ", page(desk.get(client, path)))
