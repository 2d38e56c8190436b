"""Features that meet: every pair of options walked through the whole lifecycle on DynamoDB Local.

The options: first come or lottery; at the venue, online or hybrid; a waiting list or none; a category
with reserved seats or none; a capped answer (懇親会) or none; the person followed registering in
any of the site's seven languages, with an address or by phone without one; 出欠の再確認 with its release, or none.
allpairspy picks cases so that every pair of values meets at least once; each case is walked through
fill → line → cancel → move up → (reconfirmation → release → a seat taken back) → change notice →
event cancelled (or held), and after every step the same things must hold: the counts add up (ledger, pools,
capped answers, API), nobody waits who could be seated, only seat holders online ever get the
meeting's address, the organizer's label is the one in mails, no mail has empty brackets,
someone without an address is on the list to contact, and a cancelled event reads as cancelled; or the
event is held: thanks to who came, the survey in their language, a certificate, a report that adds up.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from allpairspy import AllPairs
from chalice.test import Client

from chalicelib.domain.attendee import Attendee
from chalicelib.domain.event import Category, Event, FieldRule, Online, Translation
from chalicelib.domain.ledger import Ledger
from chalicelib.domain.links import personal_path
from chalicelib.domain.questions import Choice, Question, Wording, answers_of
from chalicelib.domain.survey import Survey
from chalicelib.mail.attendance import SUBJECT_RECONFIRM
from chalicelib.store import schema
from chalicelib.text import i18n
from chalicelib.usecases import (
    announcements,
    assisted,
    broadcast,
    checkin,
    lottery,
    reconfirmation,
    reminders,
    report,
    roster,
)
from chalicelib.usecases.catalog import get_event
from chalicelib.usecases.changes import cancel
from chalicelib.usecases.registering import Outcome, register
from chalicelib.usecases.registrations import get_registration
from chalicelib.usecases.waitlist import waiting_list
from tests.conftest import FORM, World, attendee, mailbox, page
from tests.test_language import untranslated

MISSED_DRAFT = broadcast.Draft("s", "b", broadcast.NO_SHOW)

MEETING = "https://meet.example.jp/j/42"
LABEL = {"ja": "自治体名・会社名", "en": "Municipality or company"}
PARTY = Question(
    "party", "single", "懇親会", label_en="Reception", editable=False,
    choices=(Choice("yes", "参加する", "Yes", capacity=1), Choice("no", "参加しない", "No")),
)  # fmt: skip
# The organizer's words of the capped question in each language besides Japanese and English.
PARTY_WORDS = {
    "easy": Wording("パーティー（懇親会）", "", (("yes", "行く"), ("no", "行かない"))),
    "zh": Wording("联谊会", "", (("yes", "参加"), ("no", "不参加"))),
    "ko": Wording("친목회", "", (("yes", "참가"), ("no", "불참"))),
    "vi": Wording("Tiệc giao lưu", "", (("yes", "Tham gia"), ("no", "Không tham gia"))),
    "pt": Wording("Confraternização", "", (("yes", "Vou"), ("no", "Não vou"))),
}
SATISFACTION = Question("satisfaction", "scale", "満足度", label_en="Satisfaction", required=True)
OPTIONS = [
    ["first_come", "lottery"],
    ["venue", "online", "hybrid"],
    ["waitlist", "no_waitlist"],
    ["reserved", "no_reserved"],
    ["capped", "no_capped"],
    list(i18n.LANGUAGES),
    ["email", "no_email"],
    ["reconfirm", "no_reconfirm"],
    ["called_off", "held"],
]


@dataclass(frozen=True)
class Case:
    """One combination of options."""

    allotment: str
    mode: str
    line: str
    reserved: str
    capped: str
    lang: str
    address: str
    reconfirm: str
    ending: str

    def __str__(self) -> str:
        return "-".join(dataclasses.astuple(self))


CASES = [Case(*values) for values in AllPairs(OPTIONS)]


def test_every_pair_of_options_is_covered() -> None:
    seen = {
        (i, a, j, b)
        for c in CASES
        for i, a in enumerate(dataclasses.astuple(c))
        for j, b in enumerate(dataclasses.astuple(c))
        if i < j
    }
    wanted = {
        (i, a, j, b) for i, xs in enumerate(OPTIONS) for j, ys in enumerate(OPTIONS) if i < j for a in xs for b in ys
    }
    # All pairs, in far fewer cases than all 1,008 combinations (the 7 languages × 3 modes alone need 21).
    assert wanted <= seen and len(CASES) <= 25


def build(sample: Event, case: Case, now: Any) -> Event:
    online = {
        "venue": None,
        "online": Online("online", MEETING),
        "hybrid": Online("hybrid", MEETING, venue_capacity=2, online_capacity=2),
    }[case.mode]
    return dataclasses.replace(
        sample,
        slug=f"case-{CASES.index(case)}",
        capacity=4 if case.mode == "hybrid" else 2,
        online=online,
        waitlist=case.line == "waitlist",
        categories=(
            Category("councillor", "地方議員", reserved=1 if case.reserved == "reserved" else 0),
            Category("other", "その他"),
        ),
        questions=(PARTY,) if case.capped == "capped" else (),
        form=(FieldRule("organization", label=LABEL["ja"], label_en=LABEL["en"]),),
        draw_at=now + timedelta(hours=1) if case.allotment == "lottery" else None,
        reconfirm_at=sample.starts_at - timedelta(days=3) if case.reconfirm == "reconfirm" else None,
        release_unconfirmed_at=sample.starts_at - timedelta(days=1) if case.reconfirm == "reconfirm" else None,
        survey=Survey((SATISFACTION,), closes_at=sample.ends_at + timedelta(days=7)) if case.ending == "held" else None,
        certificates=case.ending == "held",
        translations=(
            *((lang, dataclasses.replace(t, categories=())) for lang, t in sample.translations),
            *((lang, Translation(questions=(("party", words),))) for lang, words in PARTY_WORDS.items()),
        ),
    )


def person(n: int, case: Case, subject: bool) -> Attendee:
    answers: dict[str, str] = {}
    if case.mode == "hybrid":
        answers["attendance"] = "online"  # everyone followed here shares the online mode's places and line
    if case.capped == "capped":
        answers["party"] = "yes" if subject else "no"
    lang = case.lang if subject else "ja"
    email = "" if subject and case.address == "no_email" else f"p{n}@example.jp"
    name, kana = NAMES[lang] if subject else (f"参加者{n}", "サンカシャ")
    return attendee(
        name=name, kana=kana, email=email, category="other", lang=lang,
        answers=json.dumps(answers, ensure_ascii=False) if answers else "",
    )  # fmt: skip


# The person followed, as someone reading each language might write their name (フリガナ: Japanese pages only).
NAMES = {
    "ja": ("会津 花子", "アイヅ ハナコ"),
    "easy": ("会津 花子", "アイヅ ハナコ"),
    "en": ("John Smith", ""),
    "zh": ("王 芳", ""),
    "ko": ("김 민준", ""),
    "vi": ("Nguyễn Thị Lan", ""),
    "pt": ("Ana Souza", ""),
}


def without_readings(html: str) -> str:
    """A page's text as it reads without its ふりがな (やさしい日本語 pages carry them unless turned off)."""
    return re.sub(r"</?ruby>", "", re.sub(r"<rt>.*?</rt>|<rp>.*?</rp>", "", html))


def said(language: str, message: str) -> str:
    """A message of the site's catalog as readers of `language` get it."""
    with i18n.speaking(language):
        return i18n.gettext(message)


class Walk:
    """One case's event, its people, and the checks that hold after every step."""

    def __init__(self, world: World, client: Client, event: Event, case: Case) -> None:
        self.world, self.client, self.event, self.case = world, client, event, case
        self.subject = ""
        self.delivered = 0
        self.meeting_mails = 0  # mails that carried the meeting's address (to seat holders online)
        self.detail_mails = 0  # mails whose registration details were checked for the organizer's label

    def join(self, n: int, subject: bool = False) -> tuple[Outcome, str]:
        who, now = person(n, self.case, subject), self.world.clock.now()
        if subject and not who.email:
            result = assisted.add(
                self.world.table, self.event, who, assisted.Channel.PHONE, False, "office@example.jp", now,
                self.world.services.ids,
            )  # fmt: skip
        else:
            result = register(self.world.table, self.event, who, f"S{n:07d}", now, self.world.services.ids)
        return result.outcome, result.registration_id

    def people(self) -> list[dict[str, Any]]:
        return list(
            self.world.table.query(
                "pk = :pk AND begins_with(sk, :r)", {":pk": schema.event_pk(self.event.slug), ":r": schema.REG_PREFIX}
            )
        )

    def check(self) -> None:
        """What must hold after any step."""
        rows, item = self.people(), self.world.table.get(schema.event_key(self.event.slug)) or {}
        ledger, status = Ledger.from_item(item), Counter(str(r["status"]) for r in rows)
        assert ledger.seats_taken == status["confirmed"] <= self.event.capacity
        assert ledger.waiting == status["waitlisted"]
        for pool, limit in self.event.pools().items():
            mine = [r for r in rows if answers_of(str(r.get("answers", ""))).get("attendance") == pool]
            assert ledger.pool_taken.get(pool, 0) == sum(r["status"] == "confirmed" for r in mine) <= limit
            assert ledger.pool_waiting.get(pool, 0) == sum(r["status"] == "waitlisted" for r in mine)
        for place in waiting_list(self.world.table, self.event.slug):
            assert not ledger.can_seat(place.get("category", ""), place.get("pool", "")), (
                "a seat is free for someone waiting"
            )
        if self.case.capped == "capped":
            holders = sum(r["status"] != "cancelled" and '"party": "yes"' in str(r.get("answers", "")) for r in rows)
            taken = (self.world.table.get(schema.choices_key(self.event.slug)) or {}).get("taken", {})
            assert int(taken.get("party.yes", 0)) == holders <= 1
        shown = self.client.http.get(f"/api/events/{self.event.slug}", headers=self.world.api_headers())
        assert shown.status_code == 200
        assert shown.json_body["seats_left"] == max(0, self.event.capacity - status["confirmed"])
        for mode in shown.json_body["modes"]:
            assert mode["seats_left"] == max(0, mode["capacity"] - ledger.pool_taken.get(mode["mode"], 0))
        self.mails()

    def mails(self) -> None:
        """Deliver what is queued; every mail sent since is checked against who holds what now."""
        self.world.deliver_outbox()
        seated_online = {
            str(r["email"])
            for r in self.people()
            if r["status"] == "confirmed" and self.event.joins_online(answers_of(str(r.get("answers", ""))))
        }
        for mail in mailbox()[self.delivered :]:
            text = mail.get_body(("plain",)).get_content()
            if MEETING in text:
                assert str(mail["To"]) in seated_online, f"the meeting's address reached {mail['To']}"
                self.meeting_mails += 1
            # The details' own heading, on a line of its own (not 「■ お申し込み内容の確認・変更・キャンセル」),
            # in the language of the mail's reader (everyone but the person followed reads Japanese).
            headings = {re.escape(said(language, "■ お申し込み内容")) for language in ("ja", self.case.lang)}
            if re.search(rf"^({'|'.join(headings)})\r?$", text, re.MULTILINE):
                self.detail_mails += 1
                assert LABEL["ja"] in text or LABEL["en"] in text
                assert not any(f"{said(language, '所属')}:" in text for language in i18n.LANGUAGES)
                assert "()" not in text and "（）" not in text
                if self.case.capped == "capped" and str(mail["To"]) == self.address():
                    # The subject's answer to the capped question, in the organizer's words of their language.
                    words = PARTY_WORDS.get(self.case.lang)
                    assert (
                        (words.label in text and "懇親会:" not in text)
                        if words
                        else "懇親会" in text or "Reception" in text
                    )
        self.delivered = len(mailbox())

    def reconfirm(self) -> None:
        """Ask, the subject answers 参加します (or, without an address, is left to call), the rest are released."""
        table, event = self.world.table, self.event
        asked_at, release = event.reconfirm_at, event.release_unconfirmed_at
        assert asked_at is not None and release is not None
        holders = {str(r["registration_id"]) for r in self.people() if r["status"] == "confirmed"}
        self.world.clock.set(asked_at)
        reminders.send_due_reminders(table, asked_at)
        before = self.delivered
        self.check()
        prefixes = {said(language, SUBJECT_RECONFIRM).split("{title}")[0] for language in ("ja", self.case.lang)}
        asked = [m for m in mailbox()[before:] if str(m["Subject"]).startswith(tuple(prefixes))]
        assert len(asked) == len(holders) - (self.case.address == "no_email")
        if self.case.address == "email":
            assert reconfirmation.attend(table, event.slug, self.subject, asked_at)
        self.world.clock.set(release)
        reminders.send_due_reminders(table, release)
        self.check()
        after = {str(r["registration_id"]): r for r in self.people()}
        assert after[self.subject]["status"] == "confirmed"  # answered, or on the list to call
        released = sorted(rid for rid in holders - {self.subject} if after[rid].get("released_at"))
        assert released == sorted(holders - {self.subject})
        # The first released takes a seat back if one is free and nobody waits for it.
        back = reconfirmation.take_back(table, event, released[0], release) if released else None
        if back is reconfirmation.TakeBack.TAKEN_BACK:
            assert get_registration(table, event.slug, released[0]).status == "confirmed"  # type: ignore[union-attr]
        self.check()

    def held(self, event: Event) -> None:
        """The event takes place: the subject comes (at the venue: checked in), thanks go to who came and a
        word to who did not, the subject answers the survey and prints a certificate, the report adds up."""
        table, slug, now = self.world.table, event.slug, event.starts_at
        self.world.clock.set(now)
        online = event.joins_online(answers_of(str(self.people_by_id()[self.subject].get("answers", ""))))
        if not online:
            checkin.check_in(table, slug, self.subject, "door@example.jp", now)
        self.world.clock.set(event.ends_at + timedelta(hours=1))
        now = self.world.clock.now()
        for broadcast_id, audience in (("THANKS", broadcast.ATTENDED), ("MISSED", broadcast.NO_SHOW)):
            draft = broadcast.Draft(f"{broadcast_id} subject", "資料: https://example.jp/slides", audience)
            assert broadcast.queue(table, slug, broadcast_id, draft, "office@example.jp", now)
        for _ in range(2):  # the schedule twice: each mail once
            broadcast.fan_out_due(table, now)
        before = self.delivered
        self.check()
        # Each language frames the organizer's subject its own way (【題】 in Japanese, [title] elsewhere).
        subjects = [str(m["Subject"]) for m in mailbox()[before:] if str(m["To"]) == self.address()]
        got = Counter(next((d for d in ("THANKS subject", "MISSED subject") if s.endswith(d)), s) for s in subjects)
        came, seated = bool(not online), self.people_by_id()[self.subject]["status"] == "confirmed"
        expected = {"THANKS subject": 1} if came and self.address() else {}
        assert dict(got) == expected, (got, expected)
        everyone = roster.entries(table, slug)
        missed = {e.registration.registration_id for e in broadcast.recipients(everyone, MISSED_DRAFT, event)}
        assert all(not e.checked_in_at and not event.joins_online(answers_of(e.registration.attendee.answers))
                   for e in everyone if e.registration.registration_id in missed)  # fmt: skip
        # The survey, in the subject's language, through their own link (a person without an address has it
        # on paper from staff: the link works the same).
        link = personal_path(self.world.services.signer, slug, self.subject, event.ends_at)
        survey = link.replace("?token=", "/survey?token=")
        lang = {"Cookie": f"uketsuke_lang={self.case.lang}"}
        shown = without_readings(page(self.client.http.get(survey, headers=lang)))
        assert said(self.case.lang, "回答を送る") in shown
        body = f"token={survey.split('token=')[1]}&answer_satisfaction=4"
        sent = self.client.http.post(survey.split("?")[0], headers={**FORM, **lang}, body=body)
        assert sent.status_code == 303 and seated
        certificate = self.client.http.get(link.replace("?token=", "/certificate?token="), headers=lang)
        assert certificate.status_code == (404 if online else 200)
        made = report.current(table, event, now)
        rows = self.people()
        assert made.total.came == sum(bool(r.get("checked_in_at")) for r in rows) == (0 if online else 1)
        assert made.total.by_status["confirmed"] == sum(r["status"] == "confirmed" for r in rows)
        assert made.survey == (("満足度", 1, 4.0),)

    def people_by_id(self) -> dict[str, dict[str, Any]]:
        return {str(r["registration_id"]): r for r in self.people()}

    def address(self) -> str:
        return str(self.people_by_id()[self.subject].get("email", ""))

    def first_in_line(self, pool: str) -> str:
        line = [p for p in waiting_list(self.world.table, self.event.slug) if p.get("pool", "") == pool]
        return str(line[0]["registration_id"]) if line else ""


@pytest.mark.parametrize("case", CASES, ids=str)
def test_every_pair_of_options_walks_the_whole_lifecycle_without_a_dead_end(
    client: Client, world: World, sample_event: Event, case: Case
) -> None:
    event = world.publish(build(sample_event, case, world.clock.now()))
    event = get_event(world.table, event.slug).event  # type: ignore[union-attr]  # as stored (参加方法 added)
    walk = Walk(world, client, event, case)
    pool = "online" if case.mode == "hybrid" else ""
    # Fill: the others register (or apply) until one of them does not get a seat.
    outcomes = [walk.join(n) for n in range(1, 4)]
    subject_outcome, walk.subject = walk.join(99, subject=True)
    if case.allotment == "lottery":
        assert {o for o, _ in outcomes} == {Outcome.APPLIED} and subject_outcome is Outcome.APPLIED
        world.clock.advance(timedelta(hours=2))
        lottery.draw(world.table, event, world.clock.now(), seed="fixed")
    else:
        assert [o for o, _ in outcomes][:1] == [Outcome.REGISTERED]
        # Nobody dead-ends: with a waiting list a full mode is a line; without, a clear refusal.
        expected = {Outcome.WAITLISTED} if case.line == "waitlist" else {Outcome.FULL, Outcome.CHOICE_FULL}
        assert subject_outcome in expected | {Outcome.REGISTERED}
        if subject_outcome is not Outcome.REGISTERED and case.line == "no_waitlist":
            return  # refused, nothing written: there is nothing more of theirs to walk
    walk.check()
    before = get_registration(world.table, event.slug, walk.subject)
    assert before is not None and before.status in ("confirmed", "waitlisted")
    # Cancel seat holders one by one: each freed seat goes to the first in the same line.
    while (subject := get_registration(world.table, event.slug, walk.subject)) and subject.status != "confirmed":
        holders = [r for r in walk.people() if r["status"] == "confirmed" and r["registration_id"] != walk.subject]
        if not holders:
            break
        expected_first = walk.first_in_line(pool)
        moved = cancel(world.table, event, str(holders[0]["registration_id"]), world.clock.now()).promoted
        assert moved[:1] == ((expected_first,) if expected_first else ())
        walk.check()
    subject = get_registration(world.table, event.slug, walk.subject)
    assert subject is not None and subject.status == "confirmed"
    if case.reconfirm == "reconfirm":
        walk.reconfirm()
    if case.address == "no_email" and (before.status == "waitlisted" or case.allotment == "lottery"):
        # Moved up or drawn, and mail cannot say so: they are on the organizer's list to contact.
        stored = world.table.get(schema.registration_key(event.slug, walk.subject)) or {}
        assert stored.get("contact_needed") == ("promoted" if before.status == "waitlisted" else "draw_won")
    # A change of date reaches everyone (by mail, or on the list to contact).
    later = dataclasses.replace(
        event, starts_at=event.starts_at + timedelta(hours=1), ends_at=event.ends_at + timedelta(hours=1)
    )
    world.publish(later)
    change = announcements.pending_change(world.table, later)
    assert change is not None and announcements.announce_change(
        world.table, later, change, "", "office@example.jp", world.clock.now()
    )
    broadcast.fan_out_due(world.table, world.clock.now())
    walk.check()
    if case.address == "no_email":
        stored = world.table.get(schema.registration_key(event.slug, walk.subject)) or {}
        assert stored.get("contact_needed") in ("change_notice", "promoted", "draw_won")
    if case.ending == "held":
        walk.held(later)
        return
    # The event is called off: the registrant's own page says so, with no seat message, QR code or meeting.
    assert announcements.cancel_event(world.table, later, 1, "", "office@example.jp", world.clock.now())
    broadcast.fan_out_due(world.table, world.clock.now())
    walk.check()
    # The checks above had something to check: details were mailed, and online seats got their meeting.
    assert walk.detail_mails > 0 and (walk.meeting_mails > 0) == (case.mode != "venue")
    link = personal_path(world.services.signer, event.slug, walk.subject, later.ends_at)
    own = without_readings(page(client.http.get(link, headers={"Cookie": f"uketsuke_lang={case.lang}"})))
    assert said(case.lang, "このイベントは中止になりました") in own
    seated = said(case.lang, "お席を確保しました。当日お会いできるのを楽しみにしています。")
    assert "qr-code" not in own and MEETING not in own and seated not in own
    if case.lang not in ("ja", "easy"):  # no Japanese but the organizer's own words (their label, untranslated)
        assert untranslated(own.replace(LABEL["ja"], ""), later, case.lang) == []
