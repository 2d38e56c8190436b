"""A real browser (Debian's Chromium, driven by Playwright) against the app served on the local engines.

Every page is checked with axe-core for WCAG 2.1 A/AA and best-practice violations (none allowed),
at a phone's 320 px width and with text at 200 % without sideways scrolling, by keyboard alone and
with JavaScript off. The documentation's screenshots are taken here (into build/screenshots;
`make screenshots` copies them into docs/), so they show the pages as they are.

Every step waits for what it checks: an action that loads a page goes through `follow`, which waits
for that navigation and then for the page's heading or address; assertions on the page are
Playwright's `expect`, which retries until its deadline. Nothing reads a page that is still loading.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from chalicelib.domain.event import Event, Venue
from chalicelib.usecases import roster
from chalicelib.usecases.registering import register
from local import engines, mailview
from tests.browser import AXE, AXE_RULES, SCREENSHOTS, Site
from tests.conftest import attendee, numbered
from tests.test_organizer import ORGANIZER


def new_page(chromium: Any, width: int = 1024, javascript: bool = True, scale: float = 1, locale: str = "ja-JP") -> Any:
    """A fresh browser tab (own cookies); axe is injected past the pages' CSP, which forbids all script."""
    context = chromium.new_context(
        viewport={"width": width, "height": 800},
        device_scale_factor=scale,
        java_script_enabled=javascript,
        bypass_csp=True,
        locale=locale,
    )
    return context.new_page()


def follow(page: Any, action: Any, *, heading: str | re.Pattern[str] | None = None, url: Any = None) -> None:
    """Click `action`, which loads a new page, and wait for that page: loaded, with `heading` or at `url`.

    The one way a test moves from page to page by clicking: waiting for the navigation itself means a
    page that answers with the same heading (a form shown again with its errors) is not mistaken for
    the old one, and nothing reads from a page that is still being torn down or drawn.
    """
    assert heading is not None or url is not None, "say what the next page is, so the wait knows it"
    with page.expect_navigation(wait_until="load"):
        action.click()
    if url is not None:
        expect(page).to_have_url(url)
    if heading is not None:
        expect(page.get_by_role("heading", name=heading)).to_be_visible()


def violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's findings on the page as it is now (a page that has finished loading)."""
    page.wait_for_load_state("load")
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        "async (tags) => (await axe.run(document, {runOnly: {type: 'tag', values: tags}})).violations", AXE_RULES
    )
    return [{"id": v["id"], "help": v["help"], "nodes": [n["html"] for n in v["nodes"]][:3]} for v in found]


def assert_accessible(page: Any, what: str) -> None:
    found = violations(page)
    assert found == [], f"{what} ({page.url}): {json.dumps(found, ensure_ascii=False, indent=1)}"


def no_sideways_scroll(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth"))


def fill_form(page: Any, name: str = "磐梯 太郎", email: str = "taro@example.jp") -> None:
    page.get_by_label("氏名").fill(name)
    page.get_by_label("フリガナ").fill("ばんだい たろう")
    page.get_by_label("所属").fill("磐梯町役場")
    page.get_by_label("役職").fill("企画課長")
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("地方公務員").check()
    page.get_by_label(re.compile("同意します")).check()


ERRORS = "入力内容を確認してください"  # the error summary's heading (msg.ERROR_SUMMARY_TITLE)
CHANGE_NOTICE, CANCELLATION = "開催内容の変更のお知らせ", "中止のお知らせ"  # msg.ANNOUNCEMENT_LABELS


def submit(page: Any, site: Site, name: str = "申し込む", **next_page: Any) -> None:
    """Send the form (a person takes more than the 3-second minimum) and wait for the page it leads to."""
    site.world.clock.advance(timedelta(seconds=10))  # the form's token records when the page was served
    follow(page, page.get_by_role("button", name=name), **next_page)


def test_a_person_registers_sees_their_seat_and_gets_the_mail(chromium: Any, site: Site) -> None:
    page = new_page(chromium, width=390)
    page.goto(f"{site.url}/events/cdo-seminar")
    assert_accessible(page, "event page")
    page.screenshot(path=str(SCREENSHOTS / "event-page.png"), full_page=True)
    fill_form(page)
    submit(page, site, url=re.compile(r"/events/cdo-seminar/registrations/"), heading="お申し込みが完了しました")
    assert_accessible(page, "confirmation page")
    site.world.deliver_outbox()
    mail = new_page(chromium, width=1024)
    mail.goto(site.mail_url)
    follow(mail, mail.get_by_role("link", name=re.compile("お申し込み完了")), heading=re.compile("お申し込み完了"))
    expect(mail.get_by_text("taro@example.jp").first).to_be_visible()
    html = mail.get_by_role("link", name="HTML").get_attribute("href")
    shown = new_page(chromium, width=600)
    shown.goto(site.mail_url + html)
    expect(shown.get_by_text(re.compile(r"添付の画像（check-in-[0-9A-Z-]+\.png）のQRコード"))).to_be_visible()
    qr = shown.get_by_role("img", name=re.compile(r"^check-in-[0-9A-Z-]+\.png$"))
    expect(qr).to_be_visible()
    assert qr.evaluate("image => image.complete && image.naturalWidth") > 0  # the attached image really loads
    shown.screenshot(path=str(SCREENSHOTS / "confirmation-mail.png"), full_page=True)


def test_mistakes_are_summarised_focused_and_linked_to_their_fields(chromium: Any, site: Site) -> None:
    page = new_page(chromium, width=390)
    page.goto(f"{site.url}/events/cdo-seminar")
    page.get_by_label("メールアドレス").fill("taro.example.jp")
    submit(page, site, heading=ERRORS)
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(page.get_by_role("alert")).to_be_visible()
    assert_accessible(page, "form with errors")
    page.screenshot(path=str(SCREENSHOTS / "form-errors.png"), full_page=True)
    summary.get_by_role("link", name=re.compile("「@」")).click()  # a link within the page: no navigation
    field = page.get_by_label("メールアドレス")
    expect(field).to_be_focused()
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_value("taro.example.jp")
    expect(field).to_have_attribute("aria-describedby", re.compile(r"\bemail-error\b"))


def test_a_mistyped_address_is_questioned_accessibly_and_the_choice_registers(chromium: Any, site: Site) -> None:
    page = new_page(chromium, width=320)
    page.goto(f"{site.url}/events/cdo-seminar")
    fill_form(page, email="typo@gmial.com")
    submit(page, site, heading=ERRORS)
    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    assert_accessible(page, "address check")
    assert no_sideways_scroll(page)
    summary.get_by_role("link", name=re.compile("gmail.com")).click()  # within the page
    expect(page.locator("#email_choice")).to_be_focused()
    page.keyboard.press("Space")  # the focused choice: the suggested address
    expect(page.locator("#email_choice")).to_be_checked()
    submit(page, site, url=re.compile(r"/registrations/"), heading="お申し込みが完了しました")
    emails = {e.registration.attendee.email for e in roster.entries(site.world.table, "cdo-seminar")}
    assert emails == {"typo@gmail.com"}
    page.goto(f"{site.url}/events/cdo-seminar/my-link")
    assert_accessible(page, "asking for the personal link again")
    page.get_by_label("メールアドレス").fill("typo@gmail.com")
    submit(page, site, "リンクを送る", heading="メールをご確認ください")
    assert_accessible(page, "personal link requested")


def test_registering_with_the_keyboard_alone(chromium: Any, site: Site) -> None:
    page = new_page(chromium)
    page.goto(f"{site.url}/events/cdo-seminar")
    typed = {"name": "磐梯 太郎", "kana": "バンダイ タロウ", "organization": "磐梯町役場", "email": "kb@example.jp"}
    for _ in range(60):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "(() => { const e = document.activeElement;"
            " return [e.tagName, e.type || '', e.name || '', e.textContent] })()"
        )
        tag, kind, name, text = focused
        if kind in ("radio", "checkbox"):
            page.keyboard.press("Space")
        elif name in typed:
            page.keyboard.type(typed[name])
        elif tag == "BUTTON" and "申し込む" in text:
            site.world.clock.advance(timedelta(seconds=10))
            with page.expect_navigation(wait_until="load"):
                page.keyboard.press("Enter")
            break
    expect(page).to_have_url(re.compile(r"/registrations/"))
    expect(page.get_by_role("heading", name="お申し込みが完了しました")).to_be_visible()


def test_everything_works_with_javascript_off(chromium: Any, site: Site) -> None:
    page = new_page(chromium, javascript=False)
    page.goto(f"{site.url}/events/cdo-seminar")
    fill_form(page, email="nojs@example.jp")
    submit(page, site, url=re.compile(r"/registrations/"), heading="お申し込みが完了しました")
    page.get_by_label(re.compile("取り消します")).check()
    cancel = page.get_by_role("button", name="キャンセルする")
    follow(page, cancel, url=re.compile(r"done=cancelled"), heading="お申し込みは取り消されています")


@pytest.mark.parametrize(("width", "scale", "text_zoom"), [(320, 1, 1), (640, 2, 1), (320, 1, 2)])
def test_pages_fit_a_small_screen_and_large_text_without_sideways_scrolling(
    chromium: Any, site: Site, width: int, scale: float, text_zoom: int
) -> None:
    # 640 px at scale 2 is a 1280 px window at 200 % zoom; text_zoom 2 doubles the text size on a 320 px phone.
    register(
        site.world.table,
        published_event(site),
        attendee(organization="磐梯町役場デジタル変革戦略室"),
        "S1",
        site.world.clock.now(),
        site.world.services.ids,
    )
    page = new_page(chromium, width=width, scale=scale)
    desk = signed_in_page(chromium, site, width=width, scale=scale)
    pages = [(page, "/"), (page, "/events/cdo-seminar"), (page, "/events/cdo-seminar/my-link")]
    pages += [(page, "/events/nothing-here")]
    pages += [(desk, p) for p in organizer_paths()]
    for tab, path in pages:
        tab.goto(site.url + path)
        if text_zoom != 1:
            tab.add_style_tag(content=f"html {{ font-size: {100 * text_zoom}% }}")
        assert no_sideways_scroll(tab), (path, width, scale, text_zoom)


def published_event(site: Site) -> Event:
    event = site.world.services.events.get("cdo-seminar")
    assert event is not None
    return event


def signed_in_page(chromium: Any, site: Site, width: int = 1024, scale: float = 1) -> Any:
    """A tab in which an organizer signed in through the e-mailed link."""
    site.world.let_sign_in(ORGANIZER)
    page = new_page(chromium, width=width, scale=scale)
    page.goto(f"{site.url}/organizer/sign-in")
    page.get_by_label("メールアドレス").fill(ORGANIZER)
    follow(page, page.get_by_role("button", name="サインイン用のリンクを送る"), heading="メールをご確認ください")
    site.world.deliver_outbox()
    raws = [m.raw_data for m in engines.sent_messages()]
    link = next(
        found.group(0)
        for raw in reversed(raws)
        if (
            found := re.search(
                r"http://testserver(/organizer/sign-in/[^\s\"<]+)", mailview.detail(0, mailview.parse(raw))["text"]
            )
        )
    )
    page.goto(site.url + link.removeprefix("http://testserver"))
    follow(
        page, page.get_by_role("button", name="サインインする"), url=re.compile(r"/organizer$"), heading="主催者ページ"
    )
    return page


def organizer_paths() -> list[str]:
    base = "/organizer/events/cdo-seminar"
    return [
        "/organizer",
        base,
        f"{base}?q=ばんだい",
        f"{base}/check-in?q=ばんだい",
        f"{base}/broadcasts",
        f"{base}/announcements",
        "/organizer/api-keys",
        "/organizer/staff",
        f"{base}/add",
        f"{base}/walk-in",
        f"{base}/edit-file",
        f"{base}/edit",
        "/organizer/new-event",
        "/organizer/new-event?template=hybrid",
    ]


GUIDE_SCREENSHOTS = {
    "/organizer": "organizer-dashboard.png",
    "/organizer/events/cdo-seminar": "organizer-event.png",
    "/organizer/events/cdo-seminar/edit": "organizer-edit.png",
    "/organizer/events/cdo-seminar/add": "organizer-add.png",
    "/organizer/events/cdo-seminar/broadcasts": "organizer-broadcast.png",
}


def test_every_organizer_page_is_accessible_and_checks_in_on_a_phone(chromium: Any, site: Site) -> None:
    now, ids = site.world.clock.now(), site.world.services.ids
    event = published_event(site)
    register(site.world.table, event, attendee(), "S1", now, ids)  # R000000001
    register(site.world.table, event, numbered(2), "S2", now, ids)
    anonymous = new_page(chromium, width=320)
    anonymous.goto(f"{site.url}/organizer/sign-in")
    assert_accessible(anonymous, "sign-in")
    anonymous.screenshot(path=str(SCREENSHOTS / "organizer-sign-in.png"), full_page=True)
    follow(anonymous, anonymous.get_by_role("button", name="サインイン用のリンクを送る"), heading=ERRORS)
    assert_accessible(anonymous, "sign-in with an error")
    desk = signed_in_page(chromium, site, width=320)
    for path in organizer_paths():
        desk.goto(site.url + path)
        assert_accessible(desk, path)
        if path in GUIDE_SCREENSHOTS:  # the organizer guide (docs/organizer-guide.ja.md) shows these
            desk.screenshot(path=str(SCREENSHOTS / GUIDE_SCREENSHOTS[path]), full_page=True)
    desk.goto(f"{site.url}/organizer/events/cdo-seminar/registrations/R000000001")
    assert_accessible(desk, "registration detail")
    desk.screenshot(path=str(SCREENSHOTS / "organizer-registration.png"), full_page=True)
    desk.goto(f"{site.url}/organizer/events/cdo-seminar/registrations/R000000001/print")
    assert_accessible(desk, "printable confirmation")
    desk.goto(f"{site.url}/organizer/events/cdo-seminar/add")
    follow(desk, desk.get_by_role("button", name="登録する"), heading=ERRORS)
    assert_accessible(desk, "staff registration with errors")
    desk.goto(f"{site.url}/organizer/events/cdo-seminar/check-in?q=ばんだい")
    follow(desk, desk.get_by_role("button", name=re.compile("受付する")), heading="受付しました")
    assert_accessible(desk, "checked in")
    desk.screenshot(path=str(SCREENSHOTS / "check-in.png"), full_page=True)
    desk.goto(f"{site.url}/organizer/events/cdo-seminar/broadcasts")
    follow(desk, desk.get_by_role("button", name="内容を確認する"), heading=ERRORS)
    assert_accessible(desk, "broadcast form with errors")
    desk.get_by_label(re.compile("件名")).fill("会場のご案内")
    desk.get_by_label(re.compile("本文")).fill("3階の会議室です。")
    follow(desk, desk.get_by_role("button", name="内容を確認する"), heading="送信内容の確認")
    assert_accessible(desk, "broadcast preview")
    follow(desk, desk.get_by_role("button", name=re.compile("名に送信する")), heading="送信の状況")
    assert_accessible(desk, "broadcast progress")
    desk.goto(f"{site.url}/organizer/api-keys")
    follow(desk, desk.get_by_role("button", name="発行する"), heading=ERRORS)
    assert_accessible(desk, "API key form with errors")
    desk.get_by_label(re.compile("用途")).fill("市の申込システム")
    follow(desk, desk.get_by_role("button", name="発行する"), heading="APIキーを発行しました")
    assert_accessible(desk, "API key issued")
    desk.goto(f"{site.url}/organizer/api-keys")
    revoke = desk.get_by_role("button", name=re.compile("のキーを無効にする"))
    follow(desk, revoke, url=re.compile(r"/organizer/api-keys\?revoked=1$"), heading="APIキー")
    assert_accessible(desk, "API key revoked")
    hall = Venue(name="磐梯町中央公民館 大ホール", address="福島県耶麻郡磐梯町大字磐梯字中ノ橋1855")
    site.world.publish(dataclasses.replace(event, venue=hall))
    announcements = f"{site.url}/organizer/events/cdo-seminar/announcements"
    desk.goto(announcements)
    assert_accessible(desk, "announcements with a change to tell")
    follow(desk, desk.get_by_role("button", name="文面と送信先を確認する"), heading=CHANGE_NOTICE)
    assert_accessible(desk, "change notice preview")
    desk.goto(announcements)
    follow(desk, desk.get_by_role("button", name="中止のお知らせを確認する"), heading=CANCELLATION)
    assert_accessible(desk, "cancellation preview")
    follow(desk, desk.get_by_role("button", name=re.compile("中止して")), heading=ERRORS)
    assert_accessible(desk, "cancellation not confirmed")


def test_a_walk_in_is_registered_and_checked_in_with_the_keyboard_alone_on_a_phone(chromium: Any, site: Site) -> None:
    desk = signed_in_page(chromium, site, width=320)
    desk.goto(f"{site.url}/organizer/events/cdo-seminar/check-in")
    assert_accessible(desk, "the door's page with people still to come")
    desk.goto(f"{site.url}/organizer/events/cdo-seminar/walk-in")
    typed = {"name": "当日 来場", "kana": "トウジツ ライジョウ", "organization": "磐梯町"}
    for _ in range(80):
        desk.keyboard.press("Tab")
        tag, _kind, name, text = desk.evaluate(
            "(() => { const e = document.activeElement;"
            " return [e.tagName, e.type || '', e.name || '', e.textContent] })()"
        )
        if name in typed:
            desk.keyboard.type(typed[name])
        elif name == "category" or name == "consent":
            desk.keyboard.press("Space")
        elif tag == "BUTTON" and "登録して受付する" in text:
            with desk.expect_navigation(wait_until="load"):
                desk.keyboard.press("Enter")
            break
    expect(desk.get_by_role("heading", name="当日登録して受付しました")).to_be_visible()
    assert_accessible(desk, "walk-in checked in")
    assert no_sideways_scroll(desk)


def test_the_checker_itself_finds_what_it_should(chromium: Any) -> None:
    # An unlabelled field, pale text, two buttons too small to hit apart (WCAG 2.2's 2.5.8) and sideways
    # overflow: each check must see its fault.
    page = new_page(chromium, width=320)
    tiny = '<button aria-label="{}" style="width:10px;height:10px;padding:0;margin:0;border:0"></button>'
    page.set_content(
        '<!doctype html><html lang="ja"><title>t</title><main><input>'
        '<p style="color:#ccc;background:#fff">薄い文字</p><div style="width:600px">広い</div>'
        f"<p>{tiny.format('前へ')}{tiny.format('次へ')}</p></main></html>"
    )
    found = {v["id"] for v in violations(page)}
    assert {"label", "color-contrast", "target-size"} <= found
    assert not no_sideways_scroll(page)


def test_an_english_speaker_is_served_in_english_and_can_switch(chromium: Any, site: Site) -> None:
    page = new_page(chromium, width=320, locale="en-GB")
    page.goto(f"{site.url}/events/cdo-seminar")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name="Register")).to_be_visible()
    assert_accessible(page, "English event page")
    submit(page, site, name="Register", heading="There is a problem")
    assert_accessible(page, "English form with errors")
    follow(page, page.get_by_role("link", name="日本語", exact=True), url=re.compile(r"/events/cdo-seminar$"))
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    page.goto(f"{site.url}/")
    expect(page.locator("html")).to_have_attribute("lang", "ja")  # the choice is remembered


def test_every_way_of_writing_a_redirect_to_another_site_ends_on_this_site(chromium: Any, site: Site) -> None:
    """The language switch's `back` and the sign-in's `then` follow one rule; the browser is the judge."""
    from urllib.parse import quote, urlsplit

    from tests.redirect_corpus import corpus

    here = urlsplit(site.url).netloc
    tab = new_page(chromium)
    elsewhere: list[str] = []

    def only_this_site(route: Any) -> None:
        if urlsplit(route.request.url).netloc != here:
            elsewhere.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    tab.route("**/*", only_this_site)
    variants = corpus()
    assert len(variants) >= 60
    for variant in variants:
        try:
            tab.goto(f"{site.url}/language/en?back={quote(variant, safe='')}")
        except Exception as exc:  # an aborted navigation elsewhere lands here
            raise AssertionError(f"{variant!r} led off the site: {exc}") from exc
        assert urlsplit(tab.url).netloc == here, (variant, tab.url)
        assert urlsplit(tab.url).path == "/", (variant, tab.url)  # refused: back to the start page
    assert elsewhere == []
    tab.context.close()


def _register_in(page: Any, site: Site, url: str, who: tuple[str, str, str], mode: str, english: bool) -> None:
    """One person registers on the hybrid event's page, choosing the venue or online."""
    name, email, done = who
    page.goto(url)
    if english:
        page.get_by_label("Full name").fill(name)
        page.get_by_label(re.compile("^Municipality")).fill("Aizu City")
        page.get_by_label("E-mail address").fill(email)
        page.get_by_label("Local government official").check()
        page.get_by_label(re.compile("^Online")).check()
        page.get_by_label(re.compile("I agree")).check()
        submit(page, site, name=re.compile("Register|waiting list"), heading=done)
        return
    page.get_by_label("氏名").fill(name)
    page.get_by_label("フリガナ").fill("あいづ")
    page.get_by_label(re.compile("^自治体名")).fill("会津若松市")
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("地方公務員").check()
    page.get_by_label(re.compile("^会場で参加" if mode == "venue" else "^オンラインで参加")).check()
    page.get_by_label(re.compile("同意します")).check()
    submit(page, site, name=re.compile("申し込む"), heading=done)


def test_the_model_event_is_made_in_forms_published_and_both_modes_fill_wait_and_move_up(
    chromium: Any, site: Site
) -> None:
    desk = signed_in_page(chromium, site)
    desk.goto(f"{site.url}/organizer/new-event")
    assert_accessible(desk, "new event: templates")
    follow(desk, desk.get_by_role("link", name="ハイブリッド"), heading="新しいイベント")
    assert_accessible(desk, "the builder")
    desk.get_by_role("textbox", name="ページのアドレス（必須）").fill("cdo-2027")
    desk.get_by_role("textbox", name="イベント名（必須）").fill("自治体CDO勉強会")
    desk.get_by_role("textbox", name="イベント名（英語）（任意）").fill("Municipal CDO Study Session")
    desk.get_by_role("textbox", name="概要（必須）").fill("自治体のデジタル変革を学ぶ勉強会です。")
    desk.get_by_role("textbox", name="会場名（必須）").fill("小川ビル4階")
    desk.get_by_role("textbox", name="住所（必須）").fill("東京都千代田区神田錦町2丁目11番地7")
    desk.get_by_role("textbox", name="オンラインの参加用URL（任意）").fill("https://meet.example.jp/j/2027")
    desk.get_by_role("textbox", name="会場の定員（会場とオンラインのとき）（任意）").fill("1")
    desk.get_by_role("textbox", name="オンラインの定員（会場とオンラインのとき）（任意）").fill("1")
    desk.get_by_role("textbox", name="お問い合わせ先のメールアドレス（必須）").fill("seminar@example.jp")
    rule = desk.get_by_role("group", name="所属")
    rule.get_by_role("textbox", name="見出し（任意）").fill("自治体名・会社名")
    rule.get_by_role("textbox", name="見出し（英語）（任意）").fill("Municipality or company")
    question = desk.get_by_role("group", name="質問 1", exact=True)
    question.get_by_role("textbox", name="質問（任意）", exact=True).fill("懇親会")
    question.get_by_role("combobox", name="答え方").select_option("single")
    question.get_by_role("textbox", name="選択肢 1（任意）", exact=True).fill("参加する")
    question.get_by_role("textbox", name="選択肢 1 の定員（任意）").fill("30")
    question.get_by_role("textbox", name="選択肢 2（任意）", exact=True).fill("参加しない")
    follow(desk, desk.get_by_role("button", name="プレビュー"), heading="自治体CDO勉強会")
    assert_accessible(desk, "the preview")
    expect(desk.get_by_label(re.compile("^会場で参加"))).to_be_disabled()
    follow(
        desk,
        desk.get_by_role("button", name="下書きとして保存する"),
        url=re.compile(r"/cdo-2027\?draft=1$"),
        heading="自治体CDO勉強会",
    )
    assert_accessible(desk, "a draft")
    desk.get_by_label(re.compile("内容を確かめました")).check()
    follow(
        desk,
        desk.get_by_role("button", name="公開する", exact=True),
        url=re.compile(r"published=1#share$"),
        heading="自治体CDO勉強会",
    )
    expect(desk.get_by_role("link", name=re.compile("QRコードをダウンロード（PNG"))).to_be_visible()
    # Japanese and English registrants fill both modes, then each mode's line.
    url = f"{site.url}/events/cdo-2027"
    ja, en = new_page(chromium, width=390), new_page(chromium, width=390, locale="en-US")
    _register_in(ja, site, url, ("会津 一郎", "ichiro@example.jp", "お申し込みが完了しました"), "venue", False)
    _register_in(en, site, url, ("John Smith", "john@example.com", "You are registered"), "online", True)
    ja.goto(url)
    expect(ja.get_by_text("会場：満席（キャンセル待ちを受け付けています）")).to_be_visible()
    assert_accessible(ja, "a hybrid event, both modes full")
    _register_in(ja, site, url, ("会津 二郎", "jiro@example.jp", "キャンセル待ちとして受け付けました"), "venue", False)
    _register_in(en, site, url, ("Jane Smith", "jane@example.com", "You are on the waiting list"), "online", True)
    # The venue's seat is cancelled: 二郎, first in the venue's line, moves up and is told; Jane still waits.
    event = site.world.services.events.get("cdo-2027")
    assert event is not None
    everyone = {e.registration.attendee.email: e.registration for e in roster.entries(site.world.table, "cdo-2027")}
    from chalicelib.usecases.changes import cancel

    moved = cancel(site.world.table, event, everyone["ichiro@example.jp"].registration_id, site.world.clock.now())
    assert moved.promoted == (everyone["jiro@example.jp"].registration_id,)
    site.world.deliver_outbox()
    parsed = [mailview.parse(m.raw_data) for m in engines.sent_messages()]
    told = [m for m in parsed if m["To"] == "jiro@example.jp" and "参加確定" in str(m["Subject"])]
    assert len(told) == 1
    statuses = {
        e.registration.attendee.email: e.registration.status for e in roster.entries(site.world.table, "cdo-2027")
    }
    assert statuses["jane@example.com"] == "waitlisted" and statuses["john@example.com"] == "confirmed"


def test_reconfirming_by_mail_link_the_survey_and_the_printed_report(chromium: Any, site: Site) -> None:
    """Both answers' one-button pages on a phone, the survey answered and its results, then the 実施報告
    printed to an A4 PDF of one page."""
    from chalicelib.domain.questions import Question
    from chalicelib.domain.survey import Survey
    from chalicelib.usecases import checkin, reminders

    world, event = site.world, published_event(site)
    asked = (Question("satisfaction", "scale", "満足度", required=True), Question("comment", "long_text", "ご意見"))
    survey = Survey(asked, closes_at=event.ends_at + timedelta(days=7))
    event = dataclasses.replace(
        event, reconfirm_at=event.starts_at - timedelta(days=3), survey=survey, certificates=True
    )
    world.publish(event)
    ids = {
        n: register(world.table, event, numbered(n), f"S{n}", world.clock.now(), world.services.ids) for n in (1, 2, 3)
    }
    world.clock.set(event.reconfirm_at)  # type: ignore[arg-type]
    reminders.send_due_reminders(world.table, world.clock.now())
    world.deliver_outbox()
    texts = [mailview.detail(0, mailview.parse(m.raw_data))["text"] for m in engines.sent_messages()]
    links = {
        (person, answer): found.group(1)
        for text in texts
        for person in (1, 2)
        if f"参加者{person} 様" in text and "予定どおりご参加" in text
        for answer in ("yes", "no")
        if (found := re.search(rf"http://testserver(/\S+/attendance\?answer={answer}&token=\S+)", text))
    }
    phone = new_page(chromium, width=320)
    phone.goto(site.url + links[(1, "yes")])
    assert_accessible(phone, "参加します page")
    follow(phone, phone.get_by_role("button", name="参加します"), heading="お申し込みが完了しました")
    expect(phone.get_by_text("ご参加のお知らせを受け付けました")).to_be_visible()
    assert_accessible(phone, "own page after 参加します")
    phone.goto(site.url + links[(2, "no")])
    assert_accessible(phone, "行けなくなりました page")
    phone.get_by_role("button", name="行けなくなりました").focus()
    with phone.expect_navigation(wait_until="load"):
        phone.keyboard.press("Enter")  # by keyboard alone
    expect(phone.get_by_role("heading", name="お申し込みは取り消されています")).to_be_visible()
    assert no_sideways_scroll(phone)
    world.clock.set(event.starts_at)
    checkin.check_in(world.table, event.slug, ids[1].registration_id, ORGANIZER, world.clock.now())
    # After the start the survey is open: answered on the phone, by keyboard, from the registrant's own page.
    phone.goto(site.url + links[(1, "yes")].split("/attendance")[0] + "?token=" + links[(1, "yes")].split("token=")[1])
    follow(phone, phone.get_by_role("link", name="アンケートに答える"), heading=re.compile("アンケート"))
    assert_accessible(phone, "survey form")
    follow(phone, phone.get_by_role("button", name="回答を送る"), heading=ERRORS)  # the required scale
    assert_accessible(phone, "survey form with its mistake")
    phone.get_by_label("5（とてもそう思う）").check()
    phone.get_by_label("ご意見").fill("<b>とても</b>よかったです")
    follow(phone, phone.get_by_role("button", name="回答を送る"), heading="お申し込みが完了しました")
    expect(phone.get_by_text("アンケートにご回答いただき")).to_be_visible()
    assert no_sideways_scroll(phone)
    follow(phone, phone.get_by_role("link", name="参加証明書を印刷する"), heading="参加証明書")
    assert_accessible(phone, "certificate of attendance")
    assert no_sideways_scroll(phone)
    desk = signed_in_page(chromium, site, width=320)
    desk.goto(f"{site.url}/organizer/events/cdo-seminar/survey")
    expect(desk.get_by_text("<b>とても</b>よかったです")).to_be_visible()  # shown as typed, never as markup
    assert_accessible(desk, "survey results")
    assert no_sideways_scroll(desk)
    # Excel without a terminal: the file rides inside the page's download link, and the browser saves it.
    follow(desk, desk.get_by_role("link", name="回答をExcel形式で保存"), heading="Excelファイル（.xlsx）")
    assert_accessible(desk, "Excel file page")
    with desk.expect_download() as saving:
        desk.get_by_role("link", name=re.compile("を保存する")).click()
    import openpyxl

    saved = openpyxl.load_workbook(io.BytesIO(Path(saving.value.path()).read_bytes()))
    assert [c.value for c in next(saved.active.iter_rows())] == ["満足度", "ご意見"]
    assert saving.value.suggested_filename == "cdo-seminar-survey.xlsx"
    desk.goto(f"{site.url}/organizer/events/cdo-seminar/certificates")
    expect(desk.locator(".certificate")).to_have_count(1)
    assert_accessible(desk, "certificates of everyone who came")
    desk.goto(f"{site.url}/organizer/events/cdo-seminar/report")
    expect(desk.get_by_role("heading", name=re.compile("実施報告"))).to_be_visible()
    assert_accessible(desk, "実施報告")
    desk.emulate_media(media="print")
    expect(desk.locator(".no-print").first).to_be_hidden()  # the links and the site's bars are not printed
    pdf = desk.pdf(format="A4", print_background=False, prefer_css_page_size=True)
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1
