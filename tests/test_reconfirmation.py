"""出欠の再確認 on DynamoDB Local with a controlled clock: asking, answering, releasing, taking a seat back."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from chalice.test import Client

from chalicelib import telemetry
from chalicelib.domain.event import Event
from chalicelib.domain.registration import RegistrationStatus
from chalicelib.store.retry import PATIENT
from chalicelib.text.report_messages import REPORT_RECONFIRMATION
from chalicelib.usecases import reconfirmation, reminders, roster
from chalicelib.usecases.catalog import get_event
from chalicelib.usecases.registering import Outcome, register
from chalicelib.usecases.registrations import get_registration
from tests.conftest import BASE_URL, FORM, World, mailbox, numbered, page
from tests.test_organizer import ORGANIZER, sign_in

SEATS, WAITING = 60, 20


def attendance_event(sample_event: Event, seats: int = SEATS) -> Event:
    """The sample event with `seats` seats for anyone, asked 3 days before and released the day before."""
    starts = sample_event.starts_at
    return dataclasses.replace(
        sample_event,
        capacity=seats,
        categories=tuple(dataclasses.replace(c, reserved=0) for c in sample_event.categories),
        quota_release_at=None,
        registration_closes_at=starts,
        reminders=(),
        reconfirm_at=starts - timedelta(days=3),
        release_unconfirmed_at=starts - timedelta(days=1),
    )


def fill(world: World, event: Event, people: int) -> dict[int, str]:
    """Persons 1..people register one after another; their registration ids by number."""
    ids = {}
    for n in range(1, people + 1):
        world.clock.set(world.clock.now() + timedelta(seconds=1))
        result = register(world.table, event, numbered(n), f"SUB{n:07d}", world.clock.now())
        assert result.outcome in (Outcome.REGISTERED, Outcome.WAITLISTED)
        ids[n] = result.registration_id
    return ids


def run_schedule(world: World, at: datetime) -> list[reminders.FanOut]:
    world.clock.set(at)
    return reminders.send_due_reminders(world.table, at)


def status_of(world: World, event: Event, registration_id: str) -> str:
    found = get_registration(world.table, event.slug, registration_id)
    assert found is not None
    return found.status


def new_mail(seen: int) -> list[EmailMessage]:
    return mailbox()[seen:]


def addressed(mails: list[EmailMessage], subject_part: str) -> list[str]:
    return sorted(str(m["To"]) for m in mails if subject_part in str(m["Subject"]))


def text_of(mail: EmailMessage) -> str:
    body = mail.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


def link_in(mail: EmailMessage, answer: str) -> str:
    """The path of the reconfirmation page for `answer` that the mail carries."""
    found = re.search(rf"{re.escape(BASE_URL)}(/events/\S+/attendance\?answer={answer}&token=\S+)", text_of(mail))
    assert found, "the mail carries no link for this answer"
    return found.group(1)


def answer(client: Client, path: str) -> Any:
    """Open the link's page (one button) and press it, as a registrant does."""
    shown = client.http.get(path)
    assert shown.status_code == 200 and 'type="submit"' in page(shown)
    query = parse_qs(urlsplit(path).query)
    body = f"token={query['token'][0]}&answer={query['answer'][0]}"
    return client.http.post(urlsplit(path).path, headers=FORM, body=body)


def person_of(mail: EmailMessage) -> int:
    return int(re.sub(r"\D", "", str(mail["To"]).split("@")[0]))


def test_the_whole_reconfirmation(world: World, client: Client, sample_event: Event) -> None:
    """60 seats, 20 waiting: 10 say they cannot come, 15 never answer, 2 of those take a free seat back."""
    event = world.publish(attendance_event(sample_event))
    ids = fill(world, event, SEATS + WAITING)
    assert get_event(world.table, event.slug).waiting == WAITING  # type: ignore[union-attr]
    world.deliver_outbox()
    seen = len(mailbox())

    # The reconfirmation goes out at its time, once, to the 60 seat holders only.
    assert run_schedule(world, event.reconfirm_at - timedelta(minutes=1)) == []  # type: ignore[operator]
    done = run_schedule(world, event.reconfirm_at)  # type: ignore[arg-type]
    assert [(d.reminder, d.created) for d in done] == [("reconfirm", SEATS)]
    assert run_schedule(world, event.reconfirm_at + timedelta(minutes=1)) == []  # type: ignore[operator]
    world.deliver_outbox()
    asking = [m for m in new_mail(seen) if "出欠のご確認" in str(m["Subject"])]
    assert sorted(map(person_of, asking)) == list(range(1, SEATS + 1))
    assert all("お席はキャンセル待ちの方にお譲りします" in text_of(m) for m in asking)  # the release is said
    by_person = {person_of(m): m for m in asking}
    seen = len(mailbox())

    # 10 cannot come: each seat goes at once to the first in line (persons 61..70), who are told.
    for n in range(1, 11):
        response = answer(client, link_in(by_person[n], "no"))
        assert response.status_code == 303 and "done=declined" in response.headers["Location"]
        assert status_of(world, event, ids[n]) == "cancelled"
    assert [status_of(world, event, ids[n]) for n in range(61, 71)] == ["confirmed"] * 10
    assert [status_of(world, event, ids[n]) for n in range(71, 81)] == ["waitlisted"] * 10
    # 35 will come (one presses twice: nothing more happens).
    for n in range(11, 46):
        assert answer(client, link_in(by_person[n], "yes")).status_code == 303
    assert answer(client, link_in(by_person[11], "yes")).status_code == 303
    world.deliver_outbox()
    promoted = [m for m in new_mail(seen) if "繰り上げ" in str(m["Subject"])]
    assert sorted(map(person_of, promoted)) == list(range(61, 71))
    seen = len(mailbox())

    # Halfway to the release, the 15 who have not answered are asked again (not those who moved up since).
    again = event.reconfirm_at + (event.release_unconfirmed_at - event.reconfirm_at) / 2  # type: ignore[operator]
    assert [d.created for d in run_schedule(world, again)] == [15]
    world.deliver_outbox()
    assert sorted(map(person_of, [m for m in new_mail(seen) if "再送" in str(m["Subject"])])) == list(range(46, 61))
    seen = len(mailbox())

    # At the release time the 15 seats go to the line in order: the last 10 waiting move up, 5 stay free.
    release = event.release_unconfirmed_at
    assert [d.created for d in run_schedule(world, release)] == [15]  # type: ignore[arg-type]
    assert [status_of(world, event, ids[n]) for n in range(46, 61)] == ["cancelled"] * 15
    assert [status_of(world, event, ids[n]) for n in range(71, 81)] == ["confirmed"] * 10
    state = get_event(world.table, event.slug)
    assert state is not None and (state.seats_taken, state.waiting) == (SEATS - 5, 0)
    assert "残り<strong>5</strong>席" in page(client.http.get(f"/events/{event.slug}"))
    world.deliver_outbox()
    released = [m for m in new_mail(seen) if "お譲りしました" in str(m["Subject"])]
    assert sorted(map(person_of, released)) == list(range(46, 61))
    assert all(any(p.get_content_type() == "text/calendar" for p in m.iter_attachments()) for m in released)
    assert sorted(map(person_of, [m for m in new_mail(seen) if "繰り上げ" in str(m["Subject"])])) == list(range(71, 81))

    # Two of the released take a free seat back from their own page: same number, confirmed again.
    for n in (46, 47):
        own = re.search(rf"{re.escape(BASE_URL)}(/events/\S+)", text_of(next(m for m in released if person_of(m) == n)))
        assert own is not None
        shown = page(client.http.get(own.group(1)))
        assert "お席を取り戻す" in shown
        token = parse_qs(urlsplit(own.group(1)).query)["token"][0]
        path = urlsplit(own.group(1)).path
        taken = client.http.post(path, headers=FORM, body=f"token={token}&action=take_back")
        assert taken.status_code == 303 and "done=taken_back" in taken.headers["Location"]
        assert status_of(world, event, ids[n]) == "confirmed"
    state = get_event(world.table, event.slug)
    assert state is not None and state.seats_taken == SEATS - 3

    # Running the release (and the asking) again changes nothing.
    for step in event.attendance_schedule():
        assert reconfirmation.run_due(world.table, event, step, release) == 0  # type: ignore[arg-type]
    state = get_event(world.table, event.slug)
    assert state is not None and state.seats_taken == SEATS - 3

    figures = reconfirmation.figures(roster.entries(world.table, event.slug), event)
    assert figures == reconfirmation.Figures(
        reconfirmed=35 + 2, not_yet=0, to_call=0, declined=10, released=15, taken_back=2
    )
    # The dashboard, the report and its CSV say the same.
    world.let_sign_in(ORGANIZER)
    cookie = {"Cookie": sign_in(client, world).cookie}
    dashboard = page(client.http.get(f"/organizer/events/{event.slug}", headers=cookie))
    shown = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", dashboard.split('id="reconfirmation"')[1]))
    assert shown == {
        "参加しますと回答": "37名",
        "まだ回答のない方": "0名（うち電話などで確かめる方 0名）",
        "行けなくなりましたと回答": "10名",
        "回答がなくお譲りした席": "15席（うち取り戻した方 2名）",
    }
    printed = page(client.http.get(f"/organizer/events/{event.slug}/report", headers=cookie))
    reported = dict(re.findall(r"<dt>([^<]+)</dt><dd>(\d+)名</dd>", printed.split("<h2>出欠の再確認</h2>")[1]))
    csv_rows = list(
        csv.reader(
            io.StringIO(
                client.http.get(f"/organizer/events/{event.slug}/report.csv", headers=cookie).body.decode("utf-8-sig")
            )
        )
    )
    in_csv = {row[0]: row[1] for row in csv_rows if len(row) == 2}
    for name, label in REPORT_RECONFIRMATION.items():
        assert int(reported[label]) == int(in_csv[label]) == getattr(figures, name)
    total = next(row for row in csv_rows if row and row[0] == "合計")
    heading = csv_rows[0]
    assert int(total[heading.index("参加確定")]) == SEATS - 3 and int(total[heading.index("取り消し")]) == 10 + 13
    assert in_csv["キャンセル待ちの最大人数"] == str(WAITING)


@pytest.mark.parametrize("answered", ["yes", "no"])
def test_a_get_never_answers(world: World, client: Client, sample_event: Event, answered: str) -> None:
    """Link previews and mail scanners open links: only the button's POST says anything."""
    event = world.publish(attendance_event(sample_event, seats=1))
    rid = fill(world, event, 1)[1]
    run_schedule(world, event.reconfirm_at)  # type: ignore[arg-type]
    world.deliver_outbox()
    path = link_in(next(m for m in mailbox() if "出欠のご確認" in str(m["Subject"])), answered)
    for _ in range(3):
        assert client.http.get(path).status_code == 200
    found = get_registration(world.table, event.slug, rid)
    assert found is not None and found.status == "confirmed" and not found.reconfirmed_at


def test_a_wrong_token_answers_nothing(world: World, client: Client, sample_event: Event) -> None:
    event = world.publish(attendance_event(sample_event, seats=1))
    rid = fill(world, event, 1)[1]
    path = f"/events/{event.slug}/registrations/{rid}/attendance"
    response = client.http.post(path, headers=FORM, body="token=0.forged&answer=no")
    assert response.status_code == 404
    assert status_of(world, event, rid) == "confirmed"


def test_staff_registrations_and_people_without_address_are_never_released(world: World, sample_event: Event) -> None:
    """They appear on the organizer's list to call instead."""
    from chalicelib.usecases.registering import OnBehalf

    event = world.publish(attendance_event(sample_event, seats=3))
    ids = fill(world, event, 1)
    by_phone = OnBehalf(by="office@example.jp", channel="phone", send_mail=False)
    no_address = dataclasses.replace(numbered(2), email="", phone="03-0000-0000")
    staff = register(
        world.table, event, numbered(3), "STAFF-1", world.clock.now(), world.services.ids, on_behalf=by_phone
    )
    walk = register(
        world.table, event, no_address, "STAFF-2", world.clock.now(), world.services.ids, on_behalf=by_phone
    )
    assert staff.outcome is walk.outcome is Outcome.REGISTERED
    run_schedule(world, event.reconfirm_at)  # type: ignore[arg-type]
    run_schedule(world, event.release_unconfirmed_at)  # type: ignore[arg-type]
    assert status_of(world, event, ids[1]) == "cancelled"
    assert (
        status_of(world, event, staff.registration_id) == status_of(world, event, walk.registration_id) == "confirmed"
    )
    everyone = roster.entries(world.table, event.slug)
    called = sorted(e.registration.registration_id for e in everyone if reconfirmation.to_call(e, event))
    assert called == sorted([staff.registration_id, walk.registration_id])
    assert reconfirmation.figures(everyone, event).to_call == 2


def test_answering_at_the_moment_of_release_keeps_the_seat(world: World, sample_event: Event) -> None:
    """The release's write is conditioned on the registration being unanswered: a late 参加します wins if first."""
    event = world.publish(attendance_event(sample_event, seats=2))
    ids = fill(world, event, 3)
    run_schedule(world, event.reconfirm_at)  # type: ignore[arg-type]
    release = event.release_unconfirmed_at
    assert release is not None
    rows = [
        row
        for row in reconfirmation._registration_rows(world.table, event.slug)
        if reconfirmation._is(reconfirmation.releasable, row, event)
    ]
    assert len(rows) == 2
    # Person 1 answers after the release read the list but before it wrote.
    assert reconfirmation.attend(world.table, event.slug, ids[1], release)
    with telemetry.counting() as tally:
        released = reconfirmation._release_batch(world.table, event, rows, release, PATIENT)
    assert released == [ids[2]] and tally == {"SeatsReleased": 1, "MoveUps": 1}
    assert status_of(world, event, ids[1]) == "confirmed"
    assert status_of(world, event, ids[3]) == "confirmed"  # moved up into person 2's seat
    state = get_event(world.table, event.slug)
    assert state is not None and (state.seats_taken, state.waiting) == (2, 0)


def test_a_released_seat_is_not_taken_back_over_someone_waiting(
    world: World, client: Client, sample_event: Event
) -> None:
    """Two released, one person waiting: the first freed seat is theirs, so only one seat can come back."""
    event = world.publish(attendance_event(sample_event, seats=2))
    ids = fill(world, event, 2)
    run_schedule(world, event.reconfirm_at)  # type: ignore[arg-type]
    world.clock.set(event.reconfirm_at + timedelta(hours=1))  # type: ignore[operator]
    late = register(world.table, event, numbered(3), "SUB-LATE", world.clock.now())
    assert late.outcome is Outcome.WAITLISTED
    run_schedule(world, event.release_unconfirmed_at)  # type: ignore[arg-type]
    assert status_of(world, event, late.registration_id) == "confirmed"
    with telemetry.counting() as tally:
        back = reconfirmation.take_back(world.table, event, ids[1], world.clock.now())
        # The last seat is taken again: the other released person is told there is none.
        refused = reconfirmation.take_back(world.table, event, ids[2], world.clock.now())
    assert (back, refused) == (reconfirmation.TakeBack.TAKEN_BACK, reconfirmation.TakeBack.NO_SEAT)
    assert tally == {"SeatsTakenBack": 1}  # counted once, for the seat that came back
    assert (
        reconfirmation.take_back(world.table, event, ids[1], world.clock.now()) is reconfirmation.TakeBack.NOT_RELEASED
    )
    assert status_of(world, event, ids[2]) == RegistrationStatus.CANCELLED.value


def test_the_reminder_carries_the_decline_link_and_warns_before_the_release(world: World, sample_event: Event) -> None:
    event = dataclasses.replace(attendance_event(sample_event, seats=2), reminders=sample_event.reminders)
    starts = event.starts_at
    event = dataclasses.replace(event, release_unconfirmed_at=starts - timedelta(hours=12))
    world.publish(event)
    ids = fill(world, event, 2)
    run_schedule(world, event.reconfirm_at)  # type: ignore[arg-type]
    reconfirmation.attend(world.table, event.slug, ids[1], world.clock.now())
    seen = len(mailbox())
    run_schedule(world, starts - timedelta(days=1) + timedelta(hours=2))  # the day before at 10:00 JST is due
    world.deliver_outbox()
    reminder = {person_of(m): text_of(m) for m in new_mail(seen) if "開催" in str(m["Subject"])}
    assert set(reminder) == {1, 2}
    assert all("/attendance?answer=no&token=" in text for text in reminder.values())
    assert "まだ参加のご確認をいただいていません" not in reminder[1]  # they answered
    assert "まだ参加のご確認をいただいていません" in reminder[2]


def test_the_reconfirmation_pages_are_valid_html(
    world: World, client: Client, sample_event: Event, tmp_path: Any
) -> None:
    """The two answers' pages, the own page asking and offering a seat back, and the organizer's counts."""
    from tests.test_html_valid import errors_of
    from tests.test_organizer import ORGANIZER, sign_in

    event = world.publish(attendance_event(sample_event, seats=3))
    ids = fill(world, event, 3)
    run_schedule(world, event.reconfirm_at)  # type: ignore[arg-type]
    world.deliver_outbox()
    asking = {person_of(m): m for m in mailbox() if "出欠のご確認" in str(m["Subject"])}
    pages = {f"answer-{a}": page(client.http.get(link_in(asking[1], a))) for a in ("yes", "no")}
    own = re.search(rf"{re.escape(BASE_URL)}(/events/\S+/registrations/\w+\?token=\S+)", text_of(asking[1]))
    assert own is not None
    pages["own-asking"] = page(client.http.get(own.group(1)))
    assert "ご参加の予定をお知らせください" in pages["own-asking"]
    answer(client, link_in(asking[2], "yes"))
    run_schedule(world, event.release_unconfirmed_at)  # type: ignore[arg-type]
    assert status_of(world, event, ids[1]) == "cancelled"
    pages["own-released"] = page(client.http.get(own.group(1)))
    assert "お席を取り戻す" in pages["own-released"]
    world.let_sign_in(ORGANIZER)
    cookie = {"Cookie": sign_in(client, world).cookie}
    pages["dashboard"] = page(client.http.get(f"/organizer/events/{event.slug}", headers=cookie))
    assert "回答がなくお譲りした席" in pages["dashboard"]
    pages["report"] = page(client.http.get(f"/organizer/events/{event.slug}/report", headers=cookie))
    assert "実施報告" in pages["report"]
    assert errors_of(pages, tmp_path) == []


def test_the_report_is_kept_as_counts_when_the_registrations_are_erased(world: World, sample_event: Event) -> None:
    from chalicelib.store import schema
    from chalicelib.usecases import checkin, report

    event = world.publish(attendance_event(sample_event, seats=3))
    ids = fill(world, event, 4)
    world.clock.set(event.starts_at)
    checkin.check_in(world.table, event.slug, ids[1], "door@example.jp", world.clock.now())
    before = report.current(world.table, event, world.clock.now())
    assert (before.total.came, before.total.no_shows, before.waiting_peak) == (1, 2, 1)
    for _ in range(2):  # the step runs once; a second run of the job finds nothing to do
        run_schedule(world, event.report_kept_at)
    kept = world.table.get(schema.report_key(event.slug))
    assert kept is not None
    assert "@" not in kept["report"] and "参加者" not in kept["report"]  # counts only: no address, no name
    # DynamoDB's TTL erases the registrations; the report stays as it was counted.
    for row in reconfirmation._registration_rows(world.table, event.slug):
        world.table.delete({schema.PK: row[schema.PK], schema.SK: row[schema.SK]})
    after = report.current(world.table, event, event.personal_data_expires_at)
    assert (after.total, after.lines, after.waiting_peak) == (before.total, before.lines, before.waiting_peak)


def test_an_english_registrant_is_asked_and_released_in_english(world: World, sample_event: Event) -> None:
    event = world.publish(attendance_event(sample_event, seats=1))
    english = dataclasses.replace(numbered(1), lang="en")
    register(world.table, event, english, "SUB-EN", world.clock.now())
    run_schedule(world, event.reconfirm_at)  # type: ignore[arg-type]
    world.deliver_outbox()  # (a question still in the outbox when the seat goes is dropped: it no longer applies)
    run_schedule(world, event.release_unconfirmed_at)  # type: ignore[arg-type]
    world.deliver_outbox()
    mails = {str(m["Subject"]).split("]")[0] + "]": text_of(m) for m in mailbox()}
    asked, released = mails["[Are you still coming?]"], mails["[Your seat was released]"]
    assert "I am coming" in asked and "/attendance?answer=no&token=" in asked
    assert "take it back" in released
    theirs = (english.name, english.kana, english.organization, english.job_title)  # what they typed stays
    for text in (asked, released):
        for typed in filter(None, theirs):
            text = text.replace(typed, "")
        assert not re.search(r"[ぁ-んァ-ン]{2}", text), "Japanese left in an English mail"


def test_a_full_batch_releases_16_and_moves_16_up_in_one_transaction_within_dynamodbs_limits(
    world: World, sample_event: Event
) -> None:
    """20 unanswered seat holders (a capped answer among them) and 20 waiting: the first transaction holds 16
    releases, their 16 move-ups, the ledger and the capped answers' counters (98 items; the adapter refuses
    what DynamoDB's documented limits refuse: over 100, over 4 MB, two actions on one item)."""
    from chalicelib.domain.questions import Choice, Question
    from chalicelib.store import schema

    party = Question(
        "party",
        "single",
        "懇親会",
        editable=False,
        choices=(Choice("yes", "参加", capacity=40), Choice("no", "不参加")),
    )
    event = world.publish(dataclasses.replace(attendance_event(sample_event, seats=20), questions=(party,)))
    sizes: list[int] = []
    transact = world.table.transact

    def counting(actions: list[dict[str, Any]]) -> None:
        sizes.append(len(actions))
        transact(actions)

    ids = {}
    for n in range(1, 41):
        world.clock.set(world.clock.now() + timedelta(seconds=1))
        who = dataclasses.replace(numbered(n), answers='{"party": "yes"}')
        ids[n] = register(world.table, event, who, f"SUB{n:07d}", world.clock.now()).registration_id
    run_schedule(world, event.reconfirm_at)  # type: ignore[arg-type]
    world.table.transact = counting  # type: ignore[method-assign]
    done = run_schedule(world, event.release_unconfirmed_at)  # type: ignore[arg-type]
    assert [d.created for d in done if d.reminder == "release"] == [20]
    assert sizes[0] == 16 * 3 + 16 * 3 + 2 and max(sizes) <= 100
    assert [status_of(world, event, ids[n]) for n in range(21, 41)] == ["confirmed"] * 20
    counters = world.table.get(schema.choices_key(event.slug)) or {}
    assert int(counters["taken"]["party.yes"]) == 20  # 40 took it, 20 gave it back in the releases
