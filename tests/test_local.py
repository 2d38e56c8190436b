"""The local runner's pieces: the demo timeline and the mail viewer."""

from __future__ import annotations

import threading
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

import app as app_module
from chalicelib.domain.event import Event
from chalicelib.mail.render import Links, build_mime, render_confirmation
from chalicelib.usecases.registering import register
from local import engines, mailview
from local.run import demo_timing, run_schedules
from tests.conftest import World, attendee, mailbox
from tests.conftest import registration as make_registration

NOW = datetime(2026, 11, 26, 4, 7, 30, tzinfo=UTC)


def test_demo_timing_shows_reminders_and_closing_within_a_short_session(sample_event: Event) -> None:
    demo = demo_timing(sample_event, NOW)
    assert demo.starts_at - NOW > timedelta(hours=1)
    assert demo.ends_at - demo.starts_at == sample_event.ends_at - sample_event.starts_at
    assert demo.doors_open_at == demo.starts_at - timedelta(minutes=30)
    assert demo.registration_closes_at == NOW + timedelta(minutes=15)
    due = sorted(demo.reminder_schedule().values())
    minutes = [(d - NOW).total_seconds() / 60 for d in due]
    assert 5 <= minutes[0] < 6 and 10 <= minutes[1] < 11  # reminders fall on whole minutes


def test_the_demo_timeline_sends_both_reminders_then_closes(world: World, sample_event: Event) -> None:
    start = world.clock.now()
    event = world.publish(demo_timing(sample_event, start))
    register(world.table, event, attendee(), "SUB0000001", start)
    for minutes in range(0, 17):  # what `make run` does once a minute
        world.clock.set(start + timedelta(minutes=minutes, seconds=1))
        run_schedules(app_module, world.clock.now())
        records = world.pump.poll()
        if records:
            app_module.app.handler_map["deliver_mail"]({"Records": records}, None)
    subjects = [str(m["Subject"]) for m in mailbox()]
    kinds = [s.split("】")[0] + "】" for s in subjects]
    assert kinds == ["【お申し込み完了】", "【本日開催】", "【本日開催】", "【受付終了】"]


@pytest.fixture
def viewer(sample_event: Event) -> Iterator[str]:
    registration = make_registration(name="<i>太郎</i>")
    mail = render_confirmation(sample_event, registration, Links("https://x.example/e"), sample_event.starts_at)
    raw = build_mime(mail, "noreply@example.jp", "事務局", "taro@example.jp").decode("ascii")
    server = mailview.serve("127.0.0.1", engines.free_port(), lambda: [raw])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


def test_mail_viewer_lists_and_shows_text_html_and_attachments(viewer: str) -> None:
    status, _, body = get(viewer + "/")
    assert status == 200 and "【お申し込み完了】".encode() in body and b"taro@example.jp" in body
    status, _, body = get(viewer + "/messages/0")
    page = body.decode()
    assert "受付番号: 7K3M9-QXD2A" in page  # the text part
    assert 'sandbox srcdoc="' in page and "&amp;lt;i&amp;gt;" in page  # HTML part escaped twice: inert
    assert "<i>太郎</i>" not in page.split("<pre>")[0]
    status, content_type, body = get(viewer + "/messages/0/attachments/0")
    assert status == 200 and content_type == "text/calendar" and body.startswith(b"BEGIN:VCALENDAR")
    assert get(viewer + "/messages/0/raw")[2].startswith(b"Subject:")


@pytest.mark.parametrize("path", ["/messages/1", "/messages/0/attachments/5", "/nothing"])
def test_mail_viewer_answers_404_for_what_is_not_there(viewer: str, path: str) -> None:
    assert get(viewer + path)[0] == 404


def test_the_local_site_takes_300_visitors_at_once_without_refusing_one(world: World) -> None:
    import socket
    from concurrent.futures import ThreadPoolExecutor

    from local.run import serve_site

    site = serve_site(app_module.app, "127.0.0.1", 0)
    threading.Thread(target=site.server.serve_forever, daemon=True).start()
    port = site.server.server_port
    start = threading.Barrier(300)

    def visit(_: int) -> int:
        start.wait()  # all 300 connect at the same moment
        with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
            sock.sendall(b"GET /static/style.css HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
            reply = sock.recv(64)
        return int(reply.split()[1])

    try:
        with ThreadPoolExecutor(max_workers=300) as pool:
            statuses = list(pool.map(visit, range(300)))
    finally:
        site.server.shutdown()
        site.server.server_close()
    assert statuses == [200] * 300
