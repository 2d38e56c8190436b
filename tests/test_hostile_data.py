"""Whatever ever got into the table, the organizer's pages and lists show it and the mail pipeline survives it.

Values no form accepts today (lone surrogates, noncharacters, control characters, a non-ASCII part
before the @, markup, formulas, very long text) are written straight into the table, as older code
or a hand edit could have left them, and every organizer page and export is walked over them.
"""

from __future__ import annotations

import csv
import io

import pytest
from chalice.test import Client

from chalicelib.domain.event import Event
from chalicelib.store import schema
from chalicelib.usecases import exports, roster
from chalicelib.usecases.outbox import MailKind, MailStatus, confirmation_id, mail_item
from chalicelib.usecases.registering import register
from tests.conftest import World, attendee, mailbox
from tests.test_organizer import ORGANIZER, sign_in

HOSTILE = [
    "\ud800",
    "山田\udfff太郎",
    "\ufffe\uffff\ufdd0",
    "\U0010ffff",
    "a\x00b\x07c\x1bd",
    "line\r\nbreak\nand\ttab",
    "\u202eevil\u202c",
    "<script>alert(1)</script>&amp;\"'",
    '=HYPERLINK("http://evil.example")',
    "＋1+1",
    "-2+3",
    "@SUM(A1)",
    "x" * 5000,
    "",
]


def hostile_registration(world: World, event: Event, n: int, value: str, email: str) -> str:
    """A registration as older code could have stored it, every personal field holding `value`."""
    rid = f"H{n:09d}"
    world.table.put(
        {
            **schema.registration_key(event.slug, rid),
            "registration_id": rid,
            "event_slug": event.slug,
            "name": value,
            "kana": value,
            "organization": value,
            "job_title": value,
            "email": email,
            "category": event.categories[0].key,
            "question": value,
            "status": "confirmed",
            "created_at": "2027-01-10T01:00:00Z",
            "lang": "ja",
        }
    )
    return rid


@pytest.fixture
def hostile(world: World, published: Event) -> list[str]:
    world.let_sign_in(ORGANIZER)
    ids = [hostile_registration(world, published, n, value, f"h{n}@example.jp") for n, value in enumerate(HOSTILE)]
    ids.append(hostile_registration(world, published, 99, "山田", "山田@example.jp"))
    return ids


def test_every_organizer_page_and_list_shows_whatever_was_stored(
    client: Client, world: World, published: Event, hostile: list[str]
) -> None:
    organizer = sign_in(client, world)
    base = f"/organizer/events/{published.slug}"
    paths = [
        "/organizer",
        base,
        f"{base}?q=%E5%B1%B1%E7%94%B0",
        f"{base}?status=confirmed",
        f"{base}/check-in",
        f"{base}/check-in?q=x",
        f"{base}/broadcasts",
        f"{base}/export/door.csv",
        f"{base}/export/meishi.csv",
    ]
    for rid in hostile:
        paths += [f"{base}/registrations/{rid}", f"{base}/check-in/{rid}"]
    for path in paths:
        answer = organizer.get(client, path)
        assert answer.status_code == 200, (path, answer.status_code)
        body = answer.body.decode("utf-8")  # encodable: nothing that is not text reached the answer
        if answer.headers["Content-Type"].startswith("text/html"):
            assert "<script>alert(1)</script>" not in body
    door = organizer.get(client, f"{base}/export/door.csv").body.decode("utf-8-sig")
    for row in csv.reader(io.StringIO(door)):
        assert not any(cell[:1] in ("=", "+", "-", "@", "＋") for cell in row), row
    preview = organizer.post(client, f"{base}/broadcasts", subject="お知らせ", body="本文", audience="all")
    assert preview.status_code == 200
    # The console's XLSX list too.
    table = exports.rows(published, roster.entries(world.table, published.slug), exports.ListKind.DOOR)
    assert exports.to_xlsx(table, published.title)


def test_a_mail_that_cannot_be_built_fails_once_tells_the_organizer_once_and_holds_up_nothing(
    world: World, published: Event, hostile: list[str]
) -> None:
    now = world.clock.now()
    unsendable = hostile[-1]  # 山田@example.jp: no mail server takes that address
    world.table.put(mail_item(published.slug, confirmation_id(unsendable), MailKind.CONFIRMATION, now, unsendable))
    ok = register(world.table, published, attendee(email="fine@example.jp"), "SUBFINE001", now).registration_id
    for _ in range(2):  # the stream delivers, then delivers the same records again
        world.deliver_outbox()
    failed = world.table.get(schema.mail_key(published.slug, confirmation_id(unsendable)))
    assert failed is not None and failed["status"] == MailStatus.FAILED.value
    assert failed["last_error"].startswith("cannot be built")
    received = [(str(m["To"]), str(m["Subject"])) for m in mailbox()]
    assert ("fine@example.jp", f"【お申し込み完了】{published.title}") in received
    notices = [s for to, s in received if to == published.contact.organizer_email and "送信できないメール" in s]
    assert notices == [
        f"【送信できないメール】{published.title}：受付番号H0000-00099の方への「申込完了」を送れませんでした"
    ]
    assert ok
    # The sweeper never picks it up again.
    from datetime import timedelta

    world.clock.advance(timedelta(hours=1))
    assert world.services.postman.redrive_stalled(world.clock.now()) == 0


def test_the_stream_consumer_survives_the_whole_corpus(world: World, published: Event, hostile: list[str]) -> None:
    now = world.clock.now()
    for rid in hostile:
        world.table.put(mail_item(published.slug, confirmation_id(rid), MailKind.CONFIRMATION, now, rid))
    world.deliver_outbox()  # raises if any mail was left for a retry
    statuses = {
        rid: world.table.get(schema.mail_key(published.slug, confirmation_id(rid)))["status"]  # type: ignore[index]
        for rid in hostile
    }
    assert set(statuses.values()) <= {"sent", "failed"}
    assert statuses[hostile[-1]] == "failed" and list(statuses.values()).count("sent") >= len(HOSTILE) - 1
