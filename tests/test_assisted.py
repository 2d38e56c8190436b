"""Staff help people by hand: add, correct, cancel, move up, take back, walk in, undo a check-in; all audited."""

from __future__ import annotations

import dataclasses
import random
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from chalice.test import Client

from chalicelib.domain.event import Category, Event
from chalicelib.domain.ledger import Ledger
from chalicelib.store import schema
from chalicelib.usecases import assisted
from chalicelib.usecases.address_guards import guard_key
from chalicelib.usecases.catalog import get_event
from chalicelib.usecases.changes import cancel
from chalicelib.usecases.registering import register
from chalicelib.usecases.registrations import get_registration
from tests.conftest import FORM, World, attendee, mailbox, numbered, page, sent_until_answered, signed, valid_form
from tests.test_organizer import ORGANIZER, SignedIn, sign_in

PERSON = {"name": "会津 花子", "kana": "あいづ はなこ", "organization": "会津若松市", "category": "civil-servant"}


@pytest.fixture
def desk(client: Client, world: World, published: Event) -> SignedIn:
    world.let_sign_in(ORGANIZER)
    return sign_in(client, world)


def base(event: Event) -> str:
    return f"/organizer/events/{event.slug}"


def rid_of(response: Any) -> str:
    return str(response.headers["Location"]).split("/registrations/")[1].split("?")[0]


def audit(world: World, event: Event, rid: str) -> list[dict[str, Any]]:
    return assisted.trail(world.table, event.slug, rid)


def test_a_phone_registration_without_an_address_gets_a_seat_no_mail_and_a_printable_confirmation(
    client: Client, world: World, published: Event, desk: SignedIn
) -> None:
    before = len(mailbox())
    added = desk.post(client, f"{base(published)}/add", channel="phone", consent="yes", email="", **PERSON)
    assert added.status_code == 303 and added.headers["Location"].endswith("?done=added")
    rid = rid_of(added)
    stored = get_registration(world.table, published.slug, rid)
    assert stored is not None and stored.status == "confirmed" and stored.attendee.email == ""
    world.deliver_outbox()
    assert len(mailbox()) == before
    [entry] = audit(world, published, rid)
    assert (entry["action"], entry["by"], entry["reason"]) == ("added", ORGANIZER, "phone")
    printed = page(desk.get(client, f"{base(published)}/registrations/{rid}/print"))
    assert stored.number in printed and "<svg" in printed and "会場" in printed
    # A second person without an address is a different person, not a duplicate.
    again = desk.post(client, f"{base(published)}/add", channel="fax", consent="yes", email="", **PERSON)
    assert again.status_code == 303 and rid_of(again) != rid


def test_an_address_and_the_choice_to_mail_send_the_confirmation_and_mistakes_are_explained(
    client: Client, world: World, published: Event, desk: SignedIn
) -> None:
    added = desk.post(
        client, f"{base(published)}/add", channel="counter", consent="yes", email="hanako@example.jp", send_mail="yes",
        **PERSON,
    )  # fmt: skip
    assert added.status_code == 303
    before = len(mailbox())
    world.deliver_outbox()
    assert [m["To"] for m in mailbox()[before:]] == ["hanako@example.jp"]
    wrong = desk.post(client, f"{base(published)}/add", email="not-an-address", **PERSON)
    shown = page(wrong)
    assert wrong.status_code == 400 and 'id="channel-error"' in shown and 'id="email-error"' in shown
    assert 'id="consent-error"' in shown and "会津 花子" in shown  # what was typed is kept


def test_staff_correct_the_address_the_new_one_is_confirmed_and_the_old_one_told(
    client: Client, world: World, published: Event, desk: SignedIn
) -> None:
    location = client.http.post(
        f"/events/{published.slug}", headers=FORM, body=urlencode(signed(valid_form(email="taro@gmial.com")))
    )
    assert location.status_code == 400  # the typo check asks first; staff fix it later instead
    rid = register(world.table, published, attendee(email="taro@gmial.com"), "S1", world.clock.now()).registration_id
    world.deliver_outbox()
    before = len(mailbox())
    fields = {**valid_form(), "email": "taro@gmail.com", "name": "磐梯 次郎"}
    del fields["consent"]
    saved = desk.post(client, f"{base(published)}/registrations/{rid}", action="edit", **fields)
    assert saved.status_code == 303, page(saved)
    stored = get_registration(world.table, published.slug, rid)
    assert stored is not None and (stored.attendee.email, stored.attendee.name) == (
        "taro@gmail.com",
        "磐梯 次郎",
    )
    assert world.table.get(guard_key(published.slug, "taro@gmial.com")) is None
    assert world.table.get(guard_key(published.slug, "taro@gmail.com"))["registration_id"] == rid  # type: ignore[index]
    world.deliver_outbox()
    news = {str(m["To"]): str(m["Subject"]) for m in mailbox()[before:]}
    assert news["taro@gmial.com"].startswith("【メールアドレスの変更】")
    assert news["taro@gmail.com"].startswith("【お申し込み完了】")
    entries = audit(world, published, rid)
    # (The test's clock stands still, so both entries carry one moment; in life the edit comes first.)
    assert sorted((e["action"], e["fields"]) for e in entries) == [("address_changed", ["email"]), ("edited", ["name"])]
    flat = repr(entries)
    assert "gmail" not in flat and "gmial" not in flat and "次郎" not in flat  # names of fields, never values
    other = register(world.table, published, numbered(2), "S2", world.clock.now()).registration_id
    taken = desk.post(
        client, f"{base(published)}/registrations/{other}", action="edit",
        **{**fields, "name": "参加者2", "kana": "サンカシャ", "email": "taro@gmail.com"},
    )  # fmt: skip
    assert taken.status_code == 409 and "すでに別のお申し込み" in page(taken)
    detail = page(desk.get(client, f"{base(published)}/registrations/{rid}"))
    assert "メールアドレスを変更" in detail and "内容を修正" in detail


def test_staff_cancel_after_the_deadline_move_someone_up_by_hand_take_back_and_undo_a_check_in(
    client: Client, world: World, sample_event: Event, desk: SignedIn
) -> None:
    categories = (Category("councillor", "地方議員", reserved=1), Category("civil-servant", "地方公務員"))
    # The registrants' own deadline to cancel has passed: only staff may cancel now.
    gone = world.clock.now() - timedelta(hours=1)
    small = dataclasses.replace(
        sample_event, slug="small", capacity=2, categories=categories, cancellation_closes_at=gone
    )
    event = world.publish(small)
    now = world.clock.now()
    first = register(world.table, event, numbered(1), "S1", now).registration_id  # takes the general seat
    waiting = register(world.table, event, numbered(2), "S2", now + timedelta(seconds=1)).registration_id
    assert get_registration(world.table, event.slug, waiting).status == "waitlisted"  # type: ignore[union-attr]
    # The councillors' reserved seat is free, so moving person 2 up by hand gives it to them (with a reason).
    no_reason = desk.post(client, f"{base(event)}/registrations/{waiting}", action="move_up", reason="")
    assert no_reason.status_code == 400
    moved = desk.post(client, f"{base(event)}/registrations/{waiting}", action="move_up", reason="講師の同僚")
    assert moved.status_code == 303
    book = Ledger.from_item(world.table.get(schema.event_key(event.slug)))  # type: ignore[arg-type]
    assert (book.seats_taken, book.waiting, book.reserved_for("councillor")) == (2, 0, 0)
    third = register(world.table, event, numbered(3), "S3", now + timedelta(seconds=2)).registration_id
    fourth = register(world.table, event, numbered(4), "S4", now + timedelta(seconds=3)).registration_id
    # No seat at all: "this person next" puts person 4 at the head of the line, before person 3.
    first_in_line = desk.post(client, f"{base(event)}/registrations/{fourth}", action="move_up", reason="急ぎ")
    assert first_in_line.status_code == 303
    said = page(desk.get(client, first_in_line.headers["Location"].removeprefix("http://localhost")))
    assert "キャンセル待ちの先頭にしました" in said and "主催者がキャンセル待ちの先頭に" in said
    assert Ledger.from_item(world.table.get(schema.event_key(event.slug))).waiting == 2  # type: ignore[arg-type]
    unconfirmed = desk.post(client, f"{base(event)}/registrations/{first}", action="cancel", reason="電話で連絡")
    assert unconfirmed.status_code == 400
    cancelled = desk.post(
        client, f"{base(event)}/registrations/{first}", action="cancel", reason="電話で連絡", confirm_cancel="yes"
    )
    assert cancelled.status_code == 303
    assert get_registration(world.table, event.slug, fourth).status == "confirmed"  # type: ignore[union-attr]
    assert get_registration(world.table, event.slug, third).status == "waitlisted"  # type: ignore[union-attr]
    back = desk.post(client, f"{base(event)}/registrations/{first}", action="reinstate")
    assert back.status_code == 409  # the seat went to the line: nothing free
    assisted.cancel_for(world.table, event, fourth, ORGANIZER, "", world.clock.now())  # person 3 moves up
    assisted.cancel_for(world.table, event, third, ORGANIZER, "", world.clock.now())
    back = desk.post(client, f"{base(event)}/registrations/{first}", action="reinstate")
    assert back.status_code == 303
    new_rid = rid_of(back)
    assert new_rid != first and get_registration(world.table, event.slug, new_rid).status == "confirmed"  # type: ignore[union-attr]
    assert [e["action"] for e in audit(world, event, first)] == ["cancelled", "reinstated"]
    assert audit(world, event, new_rid)[0]["related"] == first
    desk.post(client, f"/organizer/events/{event.slug}/check-in/{new_rid}")
    undone = desk.post(client, f"{base(event)}/registrations/{new_rid}", action="undo_check_in", reason="取り違え")
    again = desk.post(client, f"{base(event)}/registrations/{new_rid}", action="undo_check_in", reason="")
    assert undone.status_code == 303 and again.status_code == 409
    assert "checked_in_at" not in world.table.get(schema.registration_key(event.slug, new_rid))  # type: ignore[operator]
    exported = desk.get(client, f"{base(event)}/export/audit.csv").body.decode("utf-8-sig")
    assert "主催者が繰り上げ" in exported and "受付を取り消し" in exported and "numbered" not in exported


def test_a_walk_in_takes_a_seat_and_is_checked_in_or_nothing_is_written(
    client: Client, world: World, sample_event: Event, desk: SignedIn
) -> None:
    # The form has closed (as at the door on the day); staff still register walk-ins.
    closed = world.clock.now() - timedelta(minutes=1)
    event = world.publish(
        dataclasses.replace(sample_event, slug="door-event", capacity=1, registration_closes_at=closed)
    )
    walked = desk.post(client, f"{base(event)}/walk-in", consent="yes", email="", **PERSON)
    assert walked.status_code == 200 and "当日登録して受付しました" in page(walked)
    [row] = [
        e
        for e in world.table.query(
            "pk = :pk AND begins_with(sk, :p)", {":pk": schema.event_pk(event.slug), ":p": schema.REG_PREFIX}
        )
    ]
    assert row["checked_in_by"] == ORGANIZER and row["channel"] == "door"
    full = desk.post(client, f"{base(event)}/walk-in", consent="yes", email="", **{**PERSON, "name": "二人目"})
    assert full.status_code == 409 and "何も保存していません" in page(full)
    state = get_event(world.table, event.slug)
    assert state is not None and state.seats_taken == 1 and state.waiting == 0


def test_staff_and_walk_ins_racing_self_service_never_exceed_capacity_and_keep_the_line(
    world: World, sample_event: Event
) -> None:
    event = world.publish(dataclasses.replace(sample_event, slug="race", capacity=10))
    now = world.clock.now()
    early = [register(world.table, event, numbered(n), f"E{n}", now).registration_id for n in range(6)]
    jobs: list[Any] = []
    for n in range(6, 26):
        jobs.append(lambda n=n: sent_until_answered(lambda: register(world.table, event, numbered(n), f"S{n}", now)))
    for n in range(26, 36):
        who = dataclasses.replace(numbered(n), email="")
        walk_in = n % 2 == 0
        jobs.append(
            lambda who=who, walk_in=walk_in: assisted.add(
                world.table, event, who, assisted.Channel.DOOR if walk_in else assisted.Channel.PHONE, False,
                ORGANIZER, now, world.services.ids, walk_in=walk_in,
            )
        )  # fmt: skip
    jobs += [lambda rid=rid: cancel(world.table, event, rid, now) for rid in early[:4]]
    random.Random(7).shuffle(jobs)
    with ThreadPoolExecutor(max_workers=12) as pool:
        list(pool.map(lambda job: job(), jobs))
    rows = list(
        world.table.query(
            "pk = :pk AND begins_with(sk, :p)", {":pk": schema.event_pk(event.slug), ":p": schema.REG_PREFIX}
        )
    )
    confirmed = [r for r in rows if r["status"] == "confirmed"]
    waiting = [r for r in rows if r["status"] == "waitlisted"]
    book = Ledger.from_item(world.table.get(schema.event_key(event.slug)))  # type: ignore[arg-type]
    assert len(confirmed) == book.seats_taken == 10 and len(waiting) == book.waiting
    assert all(r.get("checked_in_at") is None or r["status"] == "confirmed" for r in rows)
    places = list(
        world.table.query(
            "pk = :pk AND begins_with(sk, :p)", {":pk": schema.event_pk(event.slug), ":p": schema.WAIT_PREFIX}
        )
    )
    assert {p["registration_id"] for p in places} == {r["registration_id"] for r in waiting}
    assert all(r.get("checked_in_at") for r in rows if r.get("channel") == "door")  # a walk-in is seated or absent


def test_correcting_only_the_case_of_an_address_keeps_its_one_guard(world: World, published: Event) -> None:
    """Taro@ and taro@ share one guard: moving it would write one item twice in a transaction (AWS refuses that)."""
    rid = register(world.table, published, attendee(email="Taro@Example.jp"), "S1", world.clock.now()).registration_id
    fixed = attendee(email="taro@example.jp")
    outcome = assisted.edit(world.table, published, rid, fixed, ORGANIZER, world.clock.now(), world.services.ids)
    assert outcome is assisted.EditOutcome.SAVED
    stored = get_registration(world.table, published.slug, rid)
    assert stored is not None and stored.attendee.email == "taro@example.jp"
    assert world.table.get(guard_key(published.slug, "taro@example.jp"))["registration_id"] == rid  # type: ignore[index]


def test_someone_without_an_address_who_moves_up_is_on_the_list_to_contact_until_marked_reached(
    client: Client, world: World, sample_event: Event, desk: SignedIn
) -> None:
    from chalicelib.usecases.privacy import erase

    small = world.publish(dataclasses.replace(sample_event, slug="small", capacity=1))
    first = register(world.table, small, numbered(1), "S1", world.clock.now()).registration_id
    wrong = desk.post(
        client, f"{base(small)}/add", channel="phone", consent="yes", email="", phone="電話して", **PERSON
    )
    assert wrong.status_code == 400 and 'id="phone-error"' in page(wrong)
    added = desk.post(
        client, f"{base(small)}/add", channel="phone", consent="yes", email="", phone="0242-73-2111", **PERSON
    )
    waiting = rid_of(added)
    assert get_registration(world.table, "small", waiting).status == "waitlisted"  # type: ignore[union-attr]
    # A change notice names who it cannot reach.
    preview = page(desk.post(client, f"{base(small)}/broadcasts", subject="駐車場", body="ありません", audience="all"))
    assert "メールアドレスのない1名" in preview and "会津 花子" in preview
    # The seat frees: they move up, mail cannot tell them, so the organizer is told, once.
    world.deliver_outbox()
    before = len(mailbox())
    assisted.cancel_for(world.table, small, first, ORGANIZER, "", world.clock.now())
    world.deliver_outbox()
    world.deliver_outbox()
    notices = [m for m in mailbox()[before:] if "【連絡が必要】" in str(m["Subject"])]
    assert len(notices) == 1 and str(notices[0]["To"]) == small.contact.organizer_email
    listed = page(desk.get(client, base(small)))
    assert "連絡が必要な方" in listed and "0242-73-2111" in listed
    detail = page(desk.get(client, f"{base(small)}/registrations/{waiting}"))
    assert "連絡が必要です" in detail and "電話番号" in detail
    told = desk.post(client, f"{base(small)}/registrations/{waiting}", action="reached", reason="電話で伝えた")
    assert told.status_code == 303 and "連絡が必要な方" not in page(desk.get(client, base(small)))
    assert [e["action"] for e in audit(world, small, waiting)] == ["added", "reached"]
    erase(world.table, small, waiting, world.clock.now())
    assert get_registration(world.table, "small", waiting).attendee.phone == ""  # type: ignore[union-attr]


def test_an_edit_keeps_its_reason_in_the_audit_trail_as_a_cancellation_does(
    client: Client, world: World, published: Event, desk: SignedIn
) -> None:
    rid = register(world.table, published, numbered(1), "S1", world.clock.now()).registration_id
    fields = {"name": "参加者一", "kana": "サンカシャ", "organization": "会津若松市", "category": "civil-servant"}
    fields["email"] = "person1@example.jp"  # unchanged: only the name is corrected
    edited = desk.post(client, f"{base(published)}/registrations/{rid}", action="edit", reason="本人から電話", **fields)
    assert edited.status_code == 303
    [entry] = audit(world, published, rid)
    assert (entry["action"], entry["reason"]) == ("edited", "本人から電話")
