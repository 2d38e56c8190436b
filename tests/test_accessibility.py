"""WCAG criteria that axe-core cannot judge, checked in Chromium on every kind of page (docs/accessibility.ja.md).

400 % zoom (a 1280 px window is 320 CSS px wide), text spacing (1.4.12), Windows high contrast (forced
colors), focus not hidden (2.4.11), reduced motion, and the form's accessibility tree as screen readers
get it: every control named, every error announced and explained. Target size (2.5.8) is axe's rule,
run with the rest of WCAG 2.2 AA on every page in tests/test_browser.py. The last test makes each check
fail on a page built to fail it, so a check that can no longer see its fault is caught.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from chalicelib.text import i18n
from tests import a11y_checks as checks
from tests.browser import SCREENSHOTS, Site
from tests.test_browser import ERRORS, assert_accessible, fill_form, new_page, organizer_paths, signed_in_page, submit

_people = itertools.count(1)
# Every kind of page a visitor meets, beside the organizer's (test_browser.organizer_paths).
PUBLIC_PATHS = ["/", "/events/cdo-seminar", "/events/cdo-seminar/my-link", "/events/nothing-here"]
# Pages shown after an action: the form with its errors, the registrant's own page.
FORM_WITH_ERRORS, OWN_PAGE = "form with errors", "own page"


def own_page(chromium: Any, site: Site) -> str:
    """The address of a registrant's own page, reached by registering through the form (a new person each time)."""
    page = new_page(chromium)
    page.goto(f"{site.url}/events/cdo-seminar")
    fill_form(page, email=f"person{next(_people)}@example.jp")
    submit(page, site, url=re.compile(r"/registrations/"), heading="お申し込みが完了しました")
    return str(page.url)


def each_page(
    chromium: Any, site: Site, width: int, check: Callable[[Any], list[str]], scale: float = 1
) -> dict[str, list[str]]:
    """What `check` finds on every kind of page (the form with its errors too), by page; only pages with findings."""
    own = own_page(chromium, site)
    visitor, desk = new_page(chromium, width=width, scale=scale), signed_in_page(chromium, site, width, scale)
    pages = [(path, visitor, site.url + path) for path in PUBLIC_PATHS]
    pages += [(OWN_PAGE, visitor, own)] + [(path, desk, site.url + path) for path in organizer_paths()]
    found: dict[str, list[str]] = {}
    for what, tab, url in pages:
        tab.goto(url)
        found[what] = check(tab)
    visitor.goto(f"{site.url}/events/cdo-seminar")
    submit(visitor, site, heading=ERRORS)
    found[FORM_WITH_ERRORS] = check(visitor)
    return {what: faults for what, faults in found.items() if faults}


def test_at_400_percent_zoom_nothing_is_cut_off_or_scrolls_sideways(chromium: Any, site: Site) -> None:
    # A 1280 × 1024 window at 400 %: 320 CSS px wide, each CSS pixel four of the screen's (WCAG 1.4.10, 1.4.4).
    assert each_page(chromium, site, 320, checks.cut_off, scale=4) == {}


def test_text_spaced_as_a_reader_may_space_it_loses_nothing(chromium: Any, site: Site) -> None:
    for width in (320, 1280):
        assert each_page(chromium, site, width, checks.cut_off_with_text_spacing) == {}, width


def test_in_windows_high_contrast_every_control_keeps_its_edge(chromium: Any, site: Site) -> None:
    assert each_page(chromium, site, 1280, checks.edgeless_in_forced_colors) == {}


def test_the_focused_element_is_never_hidden_and_always_marked(chromium: Any, site: Site) -> None:
    for width in (320, 1280):
        assert each_page(chromium, site, width, checks.hidden_focus) == {}, width


def test_nothing_moves_for_a_reader_who_asked_for_reduced_motion(chromium: Any, site: Site) -> None:
    assert each_page(chromium, site, 1280, checks.moving) == {}


def test_screen_readers_get_every_field_named_and_every_error_announced_and_explained(
    chromium: Any, site: Site
) -> None:
    forms = (("/events/cdo-seminar", "申し込む"), ("/organizer/new-event?template=hybrid", "下書きとして保存する"))
    for form, button in forms:
        page = signed_in_page(chromium, site) if form.startswith("/organizer") else new_page(chromium)
        page.goto(site.url + form)
        assert checks.unnamed_controls(checks.accessibility_tree(page)) == [], form
        submit(page, site, name=button, heading=ERRORS)
        tree = checks.accessibility_tree(page)
        assert checks.unnamed_controls(tree) == [], form
        assert any(ERRORS in alert for alert in checks.alerts(tree)), form  # announced as the page shows it
        invalid = [node for node in tree if checks.state(node, "invalid") not in ("", "false")]
        assert invalid and checks.unexplained_errors(tree) == [], form


def test_each_check_finds_the_fault_it_is_for(chromium: Any) -> None:
    faulty: dict[str, tuple[str, Callable[[Any], list[str]]]] = {
        "sideways": ('<div style="width:700px">広い</div>', checks.cut_off),
        "clipped": ('<p style="height:1em;overflow:hidden">一行目<br>二行目</p>', checks.cut_off),
        "spacing": (
            '<p style="height:1.3em;line-height:1.2;overflow:hidden">一行だけ入る箱</p>',
            checks.cut_off_with_text_spacing,
        ),
        "no edge": (
            '<button style="border:0;background:#06c;color:#fff">送る</button>',
            checks.edgeless_in_forced_colors,
        ),
        "covered": (
            '<div style="position:fixed;inset:0;background:#fff">蓋</div><a href="#x">下のリンク</a>',
            checks.hidden_focus,
        ),
        "unmarked": ('<a href="#x" style="outline:none">印のないリンク</a>', checks.hidden_focus),
        "moving": ('<p style="transition:opacity 2s">動く</p>', checks.moving),
        "unnamed": ("<input>", lambda page: checks.unnamed_controls(checks.accessibility_tree(page))),
        "unexplained": (
            '<input aria-label="氏名" aria-invalid="true">',
            lambda page: checks.unexplained_errors(checks.accessibility_tree(page)),
        ),
    }
    for fault, (body, check) in faulty.items():
        page = new_page(chromium, width=320)
        page.set_content(f'<!doctype html><html lang="ja"><title>t</title><main>{body}</main></html>')
        assert check(page), fault
        page.context.close()


def _fill_in_any_language(page: Any, email: str) -> None:
    """The form filled by its fields' names, whatever language its labels are in."""
    for name, value in (
        ("name", "磐梯 太郎"),
        ("kana", "バンダイ タロウ"),
        ("organization", "磐梯町役場"),
        ("email", email),
    ):
        field = page.locator(f'[name="{name}"]')
        if field.count():
            field.fill(value)
    page.locator('[name="category"]').first.check()
    page.locator('[name="consent"]').check()


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_in_every_language_a_person_registers_and_cancels_at_320_and_1280_px(
    chromium: Any, site: Site, language: str
) -> None:
    """The journey in each language on a phone and a desktop: axe finds nothing, nothing scrolls sideways at
    400 %, and the page says its language (やさしい日本語 with its readings)."""
    for width in (320, 1280):
        page = new_page(chromium, width=width)
        page.goto(f"{site.url}/language/{language}?back=/events/cdo-seminar")
        expect(page.locator("html")).to_have_attribute("lang", i18n.tag(language))
        if language == i18n.EASY:
            expect(page.locator("ruby").first).to_be_visible()  # its kanji carry readings
        assert_accessible(page, f"event page ({language}, {width} px)")
        # Read back in context (build/screenshots): how each catalog's sentences sit on the page.
        page.screenshot(path=str(SCREENSHOTS / f"languages-{language}-{width}.png"), full_page=True)
        _fill_in_any_language(page, f"{language}-{width}@example.jp")
        site.world.clock.advance(timedelta(seconds=10))
        with page.expect_navigation(wait_until="load"):
            page.locator("form.form button[type=submit]").last.click()
        expect(page).to_have_url(re.compile(r"/registrations/"))
        assert_accessible(page, f"own page ({language}, {width} px)")
        page.screenshot(path=str(SCREENSHOTS / f"languages-{language}-{width}-own.png"), full_page=True)
        page.locator('[name="confirm_cancel"]').check()
        with page.expect_navigation(wait_until="load"):
            page.locator('form:has(input[name="action"][value="cancel"]) button').click()
        expect(page).to_have_url(re.compile(r"done=cancelled"))
        assert_accessible(page, f"cancelled ({language}, {width} px)")
        page.context.close()
    zoomed = new_page(chromium, width=320, scale=4)
    zoomed.goto(f"{site.url}/language/{language}?back=/events/cdo-seminar")
    assert checks.cut_off(zoomed) == [], language
