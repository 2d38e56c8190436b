"""What a signed-in organizer does: counts and search, exports for Excel, check-in at the door, broadcasts."""

from __future__ import annotations

import csv
import dataclasses
import io
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from email.message import EmailMessage
from urllib.parse import urlsplit

import pytest
from chalice.test import Client

from chalicelib.domain import links
from chalicelib.domain.event import Event
from chalicelib.domain.links import LinkSigner, link_expiry
from chalicelib.domain.registration import display_number
from chalicelib.mail import qr
from chalicelib.text import messages as msg
from chalicelib.usecases import broadcast, checkin, exports, roster
from chalicelib.usecases.changes import cancel
from chalicelib.usecases.registering import register
from tests.conftest import BASE_URL, LINK_KEY, World, attendee, mailbox, numbered, page, registration_id_of
from tests.test_jobs import invoke
from tests.test_organizer import ORGANIZER, SignedIn, sign_in

TARO, SECOND, HANAKO = (registration_id_of(submission) for submission in ("S1", "S2", "S3"))


@pytest.fixture
def desk(client: Client, world: World, published: Event) -> SignedIn:
    """A signed-in organizer of the sample event, with three registrants (one cancelled)."""
    world.let_sign_in(ORGANIZER)
    now = world.clock.now()
    ids = world.services.ids
    register(world.table, published, attendee(), "S1", now, ids)  # 磐梯 太郎, TARO
    register(world.table, published, numbered(2), "S2", now, ids)  # SECOND
    third = register(
        world.table,
        published,
        attendee(name="猪苗代 花子", kana="イナワシロ ハナコ", email="hanako@example.jp", category="councillor"),
        "S3",
        now,
        ids,
    )  # HANAKO
    cancel(world.table, published, third.registration_id, now)
    return sign_in(client, world)


def mails_to(address: str) -> list[EmailMessage]:
    return [m for m in mailbox() if m["To"] == address]


# --- dashboard, list, detail ---------------------------------------------------------------------


def test_the_dashboard_lists_upcoming_events_then_the_latest_ended_ones(
    client: Client, world: World, desk: SignedIn, published: Event
) -> None:
    now = world.clock.now()
    for days_ago, slug in ((40, "older-seminar"), (3, "recent-seminar")):
        ended = now - timedelta(days=days_ago)
        world.publish(
            dataclasses.replace(
                published,
                slug=slug,
                title=f"{slug} の勉強会",
                starts_at=ended - timedelta(hours=3),
                ends_at=ended,
                registration_closes_at=ended - timedelta(hours=3),
                doors_open_at=None,
            )
        )
    body = page(desk.get(client, "/organizer"))
    upcoming, past = body.split("終了したイベント")
    assert published.title in upcoming and "recent-seminar" not in upcoming
    assert past.index("recent-seminar") < past.index("older-seminar") and published.title not in past
    assert 'href="/organizer/events/older-seminar"' in past


def test_the_event_page_counts_by_state_and_category_and_searches_in_any_kana(
    client: Client, desk: SignedIn, published: Event
) -> None:
    body = page(desk.get(client, "/organizer/events/cdo-seminar"))
    assert "参加確定</dt><dd>2名" in body and "取り消し</dt><dd>1名" in body and "受付済み</dt><dd>0名" in body
    for query in ("ばんだい", "ﾊﾞﾝﾀﾞｲ", "バンダイタロウ", "磐梯太郎", "TARO@EXAMPLE", f"{TARO[:6]}-{TARO[6:]}"):
        found = page(desk.get(client, f"/organizer/events/cdo-seminar?q={query}"))
        assert "1件" in found and "磐梯 太郎" in found, query
    cancelled = page(desk.get(client, "/organizer/events/cdo-seminar?status=cancelled"))
    assert "1件" in cancelled and "猪苗代 花子" in cancelled and "磐梯 太郎" not in cancelled


def test_names_are_escaped_on_organizer_pages(client: Client, world: World, desk: SignedIn, published: Event) -> None:
    register(world.table, published, attendee(name="<script>x</script>", email="x@example.jp"), "S9", world.clock.now())
    body = page(desk.get(client, "/organizer/events/cdo-seminar"))
    assert "<script>x" not in body and "&lt;script&gt;x" in body


def test_the_detail_shows_the_mail_history_with_bounces(
    client: Client, world: World, desk: SignedIn, published: Event
) -> None:
    world.deliver_outbox()
    world.table.update(
        {"pk": "EVENT#cdo-seminar", "sk": f"MAIL#confirmation-{TARO}"},
        "SET feedback = :f",
        values={":f": "bounce"},
    )
    body = page(desk.get(client, f"/organizer/events/cdo-seminar/registrations/{TARO}"))
    assert "taro@example.jp" in body and "申込完了" in body and "送信済み" in body and "不達（バウンス）" in body
    assert desk.get(client, "/organizer/events/cdo-seminar/registrations/NOPE").status_code == 404
    assert desk.get(client, "/organizer/events/no-such-event").status_code == 404


# --- exports -------------------------------------------------------------------------------------

HOSTILE = ['=HYPERLINK("http://x")', "+1+1", "-2+3", "@SUM(A1)", "\tTAB", "\rCR", "＝１＋１", "plain"]


def sign_up_hostile(world: World, event: Event) -> None:
    """One registrant per hostile text, typed as their 所属."""
    for n, text in enumerate(HOSTILE):
        who = attendee(name=f"名{n}", organization=text, email=f"h{n}@example.jp")
        register(world.table, event, who, f"H{n}", world.clock.now())


def test_csv_opens_in_japanese_excel_and_never_runs_a_formula(
    client: Client, world: World, desk: SignedIn, published: Event
) -> None:
    sign_up_hostile(world, published)
    response = desk.get(client, "/organizer/events/cdo-seminar/export/door.csv")
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="cdo-seminar-door.csv"' in response.headers["Content-Disposition"]
    raw: bytes = response.body
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw
    table = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert table[0] == ["受付番号", "フリガナ", "氏名", "所属", "参加区分", "状態", "受付済み"]
    organizations = {row[3] for row in table[1:]}
    for text in HOSTILE[:-1]:
        assert "'" + text in organizations
    assert "plain" in organizations
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r", "＝")) for row in table for cell in row)
    meishi = list(
        csv.reader(
            io.StringIO(
                desk.get(client, "/organizer/events/cdo-seminar/export/meishi.csv").body.decode("utf-8-sig"), newline=""
            )
        )
    )
    assert meishi[0][:4] == ["氏名", "フリガナ", "所属", "役職"] and "メールアドレス" in meishi[0]
    assert desk.get(client, "/organizer/events/cdo-seminar/export/all.csv").status_code == 404


def test_each_list_holds_only_the_people_it_is_meant_for(
    client: Client, world: World, desk: SignedIn, published: Event
) -> None:
    """名刺交換 is shared with other attendees: no cancelled or waiting person's address is in it (issue 19)."""
    event = world.publish(dataclasses.replace(published, slug="small-seminar", capacity=2))
    ids = world.services.ids
    taken = []
    for n in range(1, 7):  # 1 and 2 take the seats, 3 to 6 wait
        world.clock.set(world.clock.now() + timedelta(milliseconds=1))
        taken.append(register(world.table, event, numbered(n), f"L{n}", world.clock.now(), ids).registration_id)
    cancel(world.table, event, taken[0], world.clock.now())  # 1 leaves, 3 moves up
    cancel(world.table, event, taken[3], world.clock.now())  # 4 leaves the line

    def listed(kind: str) -> list[list[str]]:
        body = desk.get(client, f"/organizer/events/{event.slug}/export/{kind}.csv").body.decode("utf-8-sig")
        return list(csv.reader(io.StringIO(body, newline="")))

    def emails(table: list[list[str]]) -> set[str]:
        column = table[0].index("メールアドレス")
        return {row[column] for row in table[1:]}

    assert emails(listed("meishi")) == {"person2@example.jp", "person3@example.jp"}
    door = listed("door")
    states = sorted(row[door[0].index("状態")] for row in door[1:])
    assert states == ["キャンセル待ち", "キャンセル待ち", "参加確定", "参加確定"]
    waiting = listed("waitlist")
    assert waiting[0][:2] == ["順番", "受付番号"]
    address = waiting[0].index("メールアドレス")
    assert [(row[0], row[address]) for row in waiting[1:]] == [("1", "person5@example.jp"), ("2", "person6@example.jp")]
    shown = page(desk.get(client, f"/organizer/events/{event.slug}"))
    for kind, (title, holds) in msg.EXPORT_LISTS.items():
        assert f'export/{kind}.csv" download>{title}</a>' in shown and holds in shown


def test_neutralise_leaves_ordinary_text_alone_and_defuses_every_formula_start() -> None:
    assert exports.neutralise("磐梯町役場") == "磐梯町役場"
    assert exports.neutralise("") == ""
    assert all(exports.neutralise(t).startswith("'") for t in HOSTILE[:-1])


def test_xlsx_keeps_the_text_exactly_and_as_text(world: World, desk: SignedIn, published: Event) -> None:
    from openpyxl import load_workbook

    sign_up_hostile(world, published)
    rows = exports.rows(published, roster.entries(world.table, "cdo-seminar"), exports.ListKind.MEISHI)
    sheet = load_workbook(io.BytesIO(exports.to_xlsx(rows, published.title))).active
    assert sheet is not None
    cells = [[cell for cell in row] for row in sheet.iter_rows()]
    assert [c.value for c in cells[0]] == rows[0]
    assert all(c.data_type == "s" for row in cells for c in row if c.value is not None)
    # All but the carriage return, which XML itself turns into a line feed (the form never stores one anyway).
    assert {c.value for row in cells[1:] for c in row} >= set(HOSTILE) - {"\rCR"}


# --- check-in ------------------------------------------------------------------------------------


def qr_link(message: EmailMessage) -> tuple[bytes, str]:
    """The attached QR image of a seat mail and its file name, which both parts of the mail name."""
    [image] = [p for p in message.iter_attachments() if p.get_content_type() == "image/png"]
    name = str(image.get_filename())
    for subtype in ("plain", "html"):
        body = message.get_body(preferencelist=(subtype,))
        assert body is not None and f"添付の画像（{name}）のQRコード" in body.get_content()
    html = message.get_body(preferencelist=("html",))
    assert html is not None and "<img" not in html.get_content()  # attached, not shown by an image in the HTML
    return image.get_content(), name


def test_the_confirmation_carries_a_qr_code_of_the_signed_check_in_link(
    world: World, desk: SignedIn, published: Event
) -> None:
    world.deliver_outbox()
    [message] = mails_to("taro@example.jp")
    png, name = qr_link(message)
    assert name == qr.qr_filename(display_number(TARO))  # whose code it is, when saved from the mail
    signer = LinkSigner(LINK_KEY.encode())
    token = links.check_in_token(signer, "cdo-seminar", TARO, link_expiry(published.ends_at))
    expected = f"{BASE_URL}{links.check_in_path('cdo-seminar', TARO, token)}"
    assert png == qr.qr_png(expected)  # the same URL always gives the same image


def test_a_scan_shows_who_it_is_and_one_press_checks_them_in_once(
    client: Client, world: World, desk: SignedIn, published: Event
) -> None:
    signer = LinkSigner(LINK_KEY.encode())
    token = links.check_in_token(signer, "cdo-seminar", TARO, link_expiry(published.ends_at))
    scanned = desk.get(client, links.check_in_path("cdo-seminar", TARO, token))
    assert scanned.status_code == 200 and "磐梯 太郎" in page(scanned) and "受付する" in page(scanned)
    first = desk.post(client, f"/organizer/events/cdo-seminar/check-in/{TARO}")
    assert first.status_code == 200 and "受付しました" in page(first)
    world.clock.advance(timedelta(minutes=3))
    second = desk.post(client, f"/organizer/events/cdo-seminar/check-in/{TARO}")
    assert second.status_code == 409 and "受付済みです" in page(second)
    assert "2027年1月10日(日) 10:00" in page(second) and ORGANIZER in page(second)  # who and when, the first time
    rescanned = page(desk.get(client, links.check_in_path("cdo-seminar", TARO, token)))
    assert "受付済みです" in rescanned and "<button" not in rescanned.split("受付済みです", 1)[1].split("次の方")[0]
    overview = page(desk.get(client, "/organizer/events/cdo-seminar"))
    assert "受付済み</dt><dd>1名" in overview


def test_a_forged_or_foreign_qr_code_is_refused(client: Client, desk: SignedIn, published: Event) -> None:
    signer = LinkSigner(LINK_KEY.encode())
    other = links.check_in_token(signer, "cdo-seminar", SECOND, link_expiry(published.ends_at))
    refused = desk.get(client, links.check_in_path("cdo-seminar", TARO, other))
    assert refused.status_code == 404 and "磐梯" not in page(refused)


def test_only_a_seat_holder_can_be_checked_in(client: Client, desk: SignedIn) -> None:
    response = desk.post(client, f"/organizer/events/cdo-seminar/check-in/{HANAKO}")
    assert response.status_code == 409 and "参加確定ではありません（取り消し）" in page(response)


def test_two_phones_scanning_at_once_record_one_arrival(world: World, desk: SignedIn) -> None:
    now = world.clock.now()
    with ThreadPoolExecutor(max_workers=12) as pool:
        results = list(
            pool.map(lambda n: checkin.check_in(world.table, "cdo-seminar", TARO, f"phone{n}@x.jp", now), range(24))
        )
    outcomes = [r.outcome for r in results]
    assert outcomes.count(checkin.CheckInOutcome.CHECKED_IN) == 1
    assert outcomes.count(checkin.CheckInOutcome.ALREADY) == 23
    winner = next(r.by for r in results if r.outcome is checkin.CheckInOutcome.CHECKED_IN)
    assert {r.by for r in results if r.outcome is checkin.CheckInOutcome.ALREADY} == {winner}


def test_the_door_search_finds_by_kana_and_checks_in_from_the_results(client: Client, desk: SignedIn) -> None:
    found = page(desk.get(client, "/organizer/events/cdo-seminar/check-in?q=ばんだい"))
    assert "1件" in found and "磐梯 太郎" in found and f"/check-in/{TARO}" in found
    assert "受付する" in found


# --- broadcasts ----------------------------------------------------------------------------------


def preview(client: Client, desk: SignedIn, **fields: str) -> tuple[int, str]:
    response = desk.post(client, "/organizer/events/cdo-seminar/broadcasts", action="preview", **fields)
    return response.status_code, page(response)


def test_a_broadcast_is_previewed_with_its_count_then_sent_once_to_those_still_registered(
    client: Client, world: World, desk: SignedIn, published: Event
) -> None:
    body = "会場が3階に変わりました。\n<b>お気をつけて</b>"
    status, shown = preview(client, desk, subject="会場変更のお知らせ", body=body, audience="all")
    first = "磐梯 太郎" if TARO < SECOND else "参加者2"  # the preview is the mail of the first by number
    assert status == 200 and "<strong>2名</strong>に送ります" in shown and f"{first} 様" in shown
    assert "&lt;b&gt;お気をつけて&lt;/b&gt;" in shown
    broadcast_id = re.search(r'name="broadcast_id" value="([^"]+)"', shown)
    assert broadcast_id is not None
    fields = {
        "subject": "会場変更のお知らせ",
        "body": body,
        "audience": "all",
        "category": "",
        "broadcast_id": broadcast_id.group(1),
    }
    sent = desk.post(client, "/organizer/events/cdo-seminar/broadcasts", action="send", **fields)
    again = desk.post(client, "/organizer/events/cdo-seminar/broadcasts", action="send", **fields)  # double press
    assert sent.status_code == again.status_code == 303
    progress_path = urlsplit(sent.headers["Location"]).path
    assert "1分以内に配信が始まります" in page(desk.get(client, progress_path))
    world.deliver_outbox()  # the registration mails
    before = len(mailbox())
    assert invoke("send_broadcasts").payload == {"broadcasts": 1, "mails": 2}
    assert invoke("send_broadcasts").payload == {"broadcasts": 0, "mails": 0}  # the job run twice adds nothing
    world.deliver_outbox()
    news = mailbox()[before:]
    assert sorted(m["To"] for m in news) == ["person2@example.jp", "taro@example.jp"]  # not the cancelled one
    [taro] = [m for m in news if m["To"] == "taro@example.jp"]
    assert taro["Subject"] == f"【{published.title}】会場変更のお知らせ"
    html = taro.get_body(preferencelist=("html",)).get_content()  # type: ignore[union-attr]
    assert "&lt;b&gt;お気をつけて&lt;/b&gt;" in html and "<b>お気をつけて" not in html
    text = taro.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "会場が3階に変わりました。" in text and f"/events/cdo-seminar/registrations/{TARO}?token=" in text
    progress = page(desk.get(client, progress_path))
    assert "<strong>2 / 2</strong>通 完了" in progress and "送信済み 2" in progress


def test_a_broadcast_to_one_state_and_category_reaches_only_them(
    client: Client, world: World, desk: SignedIn, published: Event
) -> None:
    status, shown = preview(client, desk, subject="件名", body="本文", audience="confirmed", category="councillor")
    assert status == 409 and "当てはまる方がいない" in shown  # the only council member cancelled
    chosen = broadcast.recipients(
        roster.entries(world.table, "cdo-seminar"), broadcast.Draft("s", "b", "confirmed", "civil-servant"), published
    )
    assert [e.registration.registration_id for e in chosen] == sorted([TARO, SECOND])  # by number


def test_a_broadcast_form_with_mistakes_says_what_to_fix(client: Client, desk: SignedIn) -> None:
    status, shown = preview(client, desk, subject="", body="x" * 5001, audience="everyone", category="nobody")
    assert status == 400
    for text in (
        "件名を入力してください",
        "本文は5000文字以内",
        "送信先は一覧から選んでください",
        "参加区分は一覧から選んでください",
    ):
        assert text in shown
    status, shown = preview(client, desk, subject="a\r\nBcc: x@evil.jp", body="本文", audience="all")
    assert status == 200 and "Bcc: x@evil.jp" in shown  # one line: the header cannot be split
    assert "a\r\nBcc" not in shown and "a\nBcc" not in shown


def test_the_registrants_own_page_shows_the_same_check_in_code(client: Client, world: World, published: Event) -> None:
    from tests.test_registration_page import register as register_by_form

    location = register_by_form(client, published)
    body = page(client.http.get(location))
    assert '<svg role="img"' in body and "<title>受付用QRコード（受付番号" in body


def test_when_the_form_asks_leave_for_meishi_the_list_holds_only_those_who_gave_it(
    client: Client, world: World, desk: SignedIn, published: Event
) -> None:
    import tomllib
    from urllib.parse import urlencode

    from chalicelib.domain.event_file import parse_event, to_toml
    from tests.conftest import FORM, signed, valid_form

    event = world.publish(dataclasses.replace(published, slug="asks", meishi_consent_question=True))
    assert parse_event(tomllib.loads(to_toml(event))) == event
    form = page(client.http.get(f"/events/{event.slug}"))
    assert 'name="meishi_consent"' in form and 'name="meishi_consent"' not in page(
        client.http.get("/events/cdo-seminar")
    )
    for email, agreed in (("yes@example.jp", "yes"), ("no@example.jp", "")):
        body = urlencode(signed(valid_form(email=email, meishi_consent=agreed), event.slug))
        assert client.http.post(f"/events/{event.slug}", headers=FORM, body=body).status_code == 303
    listed = desk.get(client, f"/organizer/events/{event.slug}/export/meishi.csv").body.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(listed, newline="")))
    assert [row[rows[0].index("メールアドレス")] for row in rows[1:]] == ["yes@example.jp"]
    door = desk.get(client, f"/organizer/events/{event.slug}/export/door.csv").body.decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(door, newline="")))) == 3  # the door still expects both
