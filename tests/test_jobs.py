"""Scheduled jobs: reminders and closing, each run twice (and concurrently) to prove idempotency."""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from chalice.test import Client

import app as app_module
from chalicelib.domain.clock import iso
from chalicelib.domain.event import Event, ReminderSpec
from chalicelib.store import schema
from chalicelib.usecases import catalog
from chalicelib.usecases.catalog import get_event
from chalicelib.usecases.closing import close_registrations
from chalicelib.usecases.registering import register
from chalicelib.usecases.reminders import send_due_reminders
from local.instruments import seat_many
from tests.conftest import World, attendee, mailbox, numbered

# The sample's reminders: 2027-01-19 10:00 JST and 2027-01-20 08:00 JST.
DAY_BEFORE = datetime(2027, 1, 19, 1, 0, tzinfo=UTC)
MORNING_OF = datetime(2027, 1, 19, 23, 0, tzinfo=UTC)


def sign_up(world: World, event: Event, count: int) -> None:
    for n in range(count):
        assert register(world.table, event, numbered(n), f"SUB{n:07d}", world.clock.now()).outcome.value == "registered"


def invoke(name: str) -> Any:
    with Client(app_module.app) as client:
        return client.lambda_.invoke(
            name,
            client.events.generate_cw_event(
                source="aws.events", detail_type="Scheduled Event", detail={}, resources=[]
            ),
        )


def subjects() -> list[str]:
    return sorted(str(m["Subject"]) for m in mailbox())


def test_reminders_go_out_once_per_registrant_when_due_even_if_the_job_runs_twice(
    world: World, published: Event
) -> None:
    sign_up(world, published, 3)
    world.deliver_outbox()
    assert len(mailbox()) == 3  # confirmations

    world.clock.set(DAY_BEFORE - timedelta(minutes=1))
    assert invoke("send_reminders").payload == {"reminders": 0, "mails": 0}

    world.clock.set(DAY_BEFORE)
    assert invoke("send_reminders").payload == {"reminders": 1, "mails": 3}
    assert invoke("send_reminders").payload == {"reminders": 0, "mails": 0}
    world.deliver_outbox()
    world.deliver_outbox()
    reminders = [s for s in subjects() if s.startswith("【明日開催】")]
    assert len(reminders) == 3 and len({m["To"] for m in mailbox()}) == 3

    world.clock.set(MORNING_OF)
    invoke("send_reminders")
    world.deliver_outbox()
    assert len([s for s in subjects() if s.startswith("【本日開催】")]) == 3
    assert len(mailbox()) == 9


def test_reminder_carries_details_and_calendar(world: World, published: Event) -> None:
    sign_up(world, published, 1)
    world.clock.set(DAY_BEFORE)
    send_due_reminders(world.table, world.clock.now())
    world.deliver_outbox()
    reminder = next(m for m in mailbox() if "明日開催" in str(m["Subject"]))
    text = str(reminder.get_body(preferencelist=("plain",)).get_content())  # type: ignore[union-attr]
    assert "小川ビル4階" in text and "受付番号" in text
    assert [a.get_filename()[:9] for a in reminder.iter_attachments()] == ["event.ics", "check-in-"]


def test_concurrent_reminder_runs_create_each_reminder_once(world: World, published: Event) -> None:
    sign_up(world, published, 40)
    world.clock.set(DAY_BEFORE)
    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = list(pool.map(lambda _: send_due_reminders(world.table, world.clock.now()), range(4)))
    assert sum(f.created for run in runs for f in run) == 40
    mails = list(
        world.table.query(
            "pk = :pk AND begins_with(sk, :p)",
            {":pk": schema.event_pk(published.slug), ":p": schema.MAIL_PREFIX + "reminder-"},
        )
    )
    assert len(mails) == 40


def test_a_reminder_found_after_the_start_is_skipped_not_sent(world: World, published: Event) -> None:
    sign_up(world, published, 1)
    world.clock.set(published.starts_at + timedelta(minutes=5))
    assert send_due_reminders(world.table, world.clock.now()) == []
    item = world.table.get(schema.reminder_key(published.slug, "d1-1000"))
    assert item is not None and item["status"] == "skipped"


def test_reloading_an_event_keeps_sent_reminders_and_drops_removed_ones(world: World, published: Event) -> None:
    world.clock.set(DAY_BEFORE)
    send_due_reminders(world.table, world.clock.now())
    changed = dataclasses.replace(
        published, reminders=(ReminderSpec(days_before=1, at="10:00"), ReminderSpec(minutes_before=30))
    )
    world.publish(changed)
    assert world.table.get(schema.reminder_key(published.slug, "d1-1000"))["status"] == "fanned_out"  # type: ignore[index]
    assert world.table.get(schema.reminder_key(published.slug, "d0-0800")) is None
    assert world.table.get(schema.reminder_key(published.slug, "m30"))["status"] == "pending"  # type: ignore[index]


def test_closer_closes_a_full_event_and_tells_the_organizer_once(world: World, sample_event: Event) -> None:
    event = world.publish(dataclasses.replace(sample_event, capacity=2, waitlist=False))
    sign_up(world, event, 2)
    assert invoke("close_registration").payload == {"closed": 1}
    assert invoke("close_registration").payload == {"closed": 0}
    state = get_event(world.table, event.slug)
    assert state is not None and state.closed and state.closed_reason == "capacity"
    world.deliver_outbox()
    notices = [m for m in mailbox() if m["To"] == "seminar@example.jp"]
    assert len(notices) == 1
    assert "【受付終了】" in str(notices[0]["Subject"]) and "（2/2名）" in str(notices[0]["Subject"])
    assert "定員に達した" in str(notices[0].get_body(preferencelist=("plain",)).get_content())  # type: ignore[union-attr]


def test_a_full_event_with_a_waiting_list_stays_open_until_its_deadline(world: World, sample_event: Event) -> None:
    event = world.publish(dataclasses.replace(sample_event, capacity=2))
    sign_up(world, event, 2)
    assert close_registrations(world.table, world.clock.now()) == []
    world.clock.set(event.registration_closes_at)
    assert [c.reason for c in close_registrations(world.table, world.clock.now())] == ["deadline"]


def test_closer_closes_at_the_deadline_and_leaves_open_events_alone(world: World, published: Event) -> None:
    sign_up(world, published, 1)
    assert close_registrations(world.table, world.clock.now()) == []
    world.clock.set(published.registration_closes_at)
    with ThreadPoolExecutor(max_workers=3) as pool:
        runs = list(pool.map(lambda _: close_registrations(world.table, world.clock.now()), range(3)))
    assert [c.reason for run in runs for c in run] == ["deadline"]
    world.deliver_outbox()
    assert len([m for m in mailbox() if m["To"] == "seminar@example.jp"]) == 1


def test_a_closed_event_refuses_even_if_seats_are_free_until_it_reopens(world: World, sample_event: Event) -> None:
    event = world.publish(dataclasses.replace(sample_event, capacity=2, waitlist=False))
    sign_up(world, event, 2)
    close_registrations(world.table, world.clock.now())
    late = attendee(email="late@example.jp")
    assert register(world.table, event, late, "LATE000001", world.clock.now()).outcome.value == "closed"
    world.publish(event)  # reloading without more room keeps it closed
    assert register(world.table, event, late, "LATE000002", world.clock.now()).outcome.value == "closed"


def test_raising_capacity_reopens_a_full_event_and_a_second_closing_notifies_again(
    world: World, sample_event: Event
) -> None:
    event = world.publish(dataclasses.replace(sample_event, capacity=1, waitlist=False))
    sign_up(world, event, 1)
    close_registrations(world.table, world.clock.now())
    world.publish(dataclasses.replace(event, capacity=2))
    assert not get_event(world.table, event.slug).closed  # type: ignore[union-attr]
    late = attendee(email="late@example.jp")
    assert register(world.table, event, late, "LATE000001", world.clock.now()).outcome.value == "registered"
    world.clock.set(world.clock.now() + timedelta(minutes=1))
    assert [c.reason for c in close_registrations(world.table, world.clock.now())] == ["capacity"]
    world.deliver_outbox()
    notices = [str(m["Subject"]) for m in mailbox() if m["To"] == "seminar@example.jp"]
    assert sorted(notices)[0].endswith("（1/1名）") and sorted(notices)[1].endswith("（2/2名）")


def test_extending_the_deadline_reopens_an_event_closed_by_it(world: World, published: Event) -> None:
    world.clock.set(published.registration_closes_at)
    close_registrations(world.table, world.clock.now())
    later = dataclasses.replace(published, registration_closes_at=published.starts_at)
    world.publish(later)
    assert not get_event(world.table, published.slug).closed  # type: ignore[union-attr]


def test_redrive_schedule_sends_stalled_mail(world: World, published: Event) -> None:
    sign_up(world, published, 2)
    world.clock.set(world.clock.now() + timedelta(minutes=10))
    assert invoke("redrive_mail").payload == {"sent": 2}
    assert invoke("redrive_mail").payload == {"sent": 0}
    assert len(mailbox()) == 2


@pytest.mark.slow
def test_reminders_fan_out_to_thousands_across_query_pages_once(world: World, published: Event) -> None:
    seat_many(world.table, published.slug, 3000)
    world.clock.set(DAY_BEFORE)
    [first] = send_due_reminders(world.table, world.clock.now())
    assert (first.registrants, first.created) == (3000, 3000)
    # A second copy of the job that read the reminder as due before the first marked it done:
    world.table.update(
        schema.reminder_key(published.slug, first.reminder),
        "SET #status = :pending, #queue = :queue, #due = :due",
        values={":pending": "pending", ":queue": schema.QUEUE_REMINDER, ":due": iso(DAY_BEFORE)},
        names={"#status": "status", "#queue": schema.QUEUE, "#due": schema.DUE},
    )
    [again] = send_due_reminders(world.table, world.clock.now())
    assert (again.registrants, again.created) == (3000, 0)
    count = world.table.client.query(
        TableName=world.table.name,
        Select="COUNT",
        KeyConditionExpression="pk = :pk AND begins_with(sk, :p)",
        ExpressionAttributeValues={
            ":pk": {"S": schema.event_pk(published.slug)},
            ":p": {"S": "MAIL#reminder-d1-1000-"},
        },
    )
    assert count["Count"] == 3000


def test_a_closer_that_read_the_event_before_another_closed_it_does_nothing(
    world: World, sample_event: Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = world.publish(dataclasses.replace(sample_event, capacity=1, waitlist=False))
    sign_up(world, event, 1)
    stale = get_event(world.table, event.slug)  # still open: what a slower copy of the job read
    assert [c.reason for c in close_registrations(world.table, world.clock.now())] == ["capacity"]
    monkeypatch.setattr(catalog, "get_event", lambda table, slug: stale)
    world.clock.set(world.clock.now() + timedelta(minutes=1))  # a later run: its notice would get a new id
    assert close_registrations(world.table, world.clock.now()) == []
    world.deliver_outbox()
    assert len([m for m in mailbox() if m["To"] == "seminar@example.jp"]) == 1


def test_one_event_that_fails_does_not_stop_the_closer_for_the_others(
    world: World, sample_event: Event, monkeypatch: pytest.MonkeyPatch
) -> None:
    import chalicelib.usecases.closing as closing_module
    from chalicelib.usecases.isolation import PartlyFailed

    broken = world.publish(dataclasses.replace(sample_event, slug="broken", capacity=1, waitlist=False))
    fine = world.publish(dataclasses.replace(sample_event, slug="fine", capacity=1, waitlist=False))
    sign_up(world, broken, 1)
    sign_up(world, fine, 1)
    real = closing_module.closing_reason

    def fails_for_one(state: Any, now: Any) -> str:
        if state.event.slug == "broken":
            raise RuntimeError("data nobody expected")
        return real(state, now)

    monkeypatch.setattr(closing_module, "closing_reason", fails_for_one)
    with pytest.raises(PartlyFailed, match="broken"):
        close_registrations(world.table, world.clock.now())
    assert get_event(world.table, "fine").closed  # type: ignore[union-attr]
    monkeypatch.setattr(closing_module, "closing_reason", real)
    assert [c.slug for c in close_registrations(world.table, world.clock.now())] == ["broken"]
