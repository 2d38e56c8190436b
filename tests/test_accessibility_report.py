"""The JIS X 8341-3 report names every criterion once, tests each with something real, and is current."""

from __future__ import annotations

import pytest

from tests import accessibility_report as report

pytestmark = pytest.mark.npm

# WCAG 2.2's level A and AA success criteria, with 4.1.1 (JIS X 8341-3:2016 has it; WCAG 2.2 removed it).
EVERY_CRITERION = {
    *[
        "1.1.1",
        "1.2.1",
        "1.2.2",
        "1.2.3",
        "1.2.4",
        "1.2.5",
        "1.3.1",
        "1.3.2",
        "1.3.3",
        "1.3.4",
        "1.3.5",
        "1.4.1",
        "1.4.2",
        "1.4.3",
        "1.4.4",
        "1.4.5",
    ],
    *[
        "1.4.10",
        "1.4.11",
        "1.4.12",
        "1.4.13",
        "2.1.1",
        "2.1.2",
        "2.1.4",
        "2.2.1",
        "2.2.2",
        "2.3.1",
        "2.4.1",
        "2.4.2",
        "2.4.3",
        "2.4.4",
        "2.4.5",
    ],
    *[
        "2.4.6",
        "2.4.7",
        "2.4.11",
        "2.5.1",
        "2.5.2",
        "2.5.3",
        "2.5.4",
        "2.5.7",
        "2.5.8",
        "3.1.1",
        "3.1.2",
        "3.2.1",
        "3.2.2",
        "3.2.3",
        "3.2.4",
        "3.2.6",
    ],
    *["3.3.1", "3.3.2", "3.3.3", "3.3.4", "3.3.7", "3.3.8", "4.1.1", "4.1.2", "4.1.3"],
}


def test_every_level_a_and_aa_criterion_is_there_once_with_a_way_it_is_tested() -> None:
    numbers = [c.number for c in report.CRITERIA]
    assert sorted(numbers) == sorted(EVERY_CRITERION)
    assert all(c.checks or c.person for c in report.CRITERIA)
    assert all(c.level in ("A", "AA") for c in report.CRITERIA)


def test_axe_is_claimed_only_where_axe_has_rules_for_the_criterion() -> None:
    _, rules = report.axe_rules()
    claimed = {c.number for c in report.CRITERIA if report.AXE in c.checks}
    assert claimed <= set(rules), claimed - set(rules)
    assert {"2.5.8", "1.4.3", "4.1.2"} <= set(rules)  # target size, contrast, name-role-value: axe runs them


def test_the_published_report_is_what_the_tests_make_now() -> None:
    assert report.REPORT.read_text(encoding="utf-8") == report.build(), "run `make accessibility-report`"
