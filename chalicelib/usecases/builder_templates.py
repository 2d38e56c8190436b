"""Three ways to start a new event in the builder: 勉強会・セミナー, ハイブリッド, 抽選.

Each is the builder's form filled in (usecases/builder.py), a month from today, for the organizer to
change: nothing here is saved until they press save.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from chalicelib.text.i18n import N_

SEMINAR, HYBRID, LOTTERY = "seminar", "hybrid", "lottery"
# Template -> (its name, what it is for), as the new-event page lists them.
TEMPLATES: dict[str, tuple[str, str]] = {
    SEMINAR: (N_("勉強会・セミナー"), N_("会場で開く、先着順の勉強会。満席になったらキャンセル待ちを受け付けます。")),
    HYBRID: (N_("ハイブリッド"), N_("会場とオンラインで同時に開きます。それぞれに定員とキャンセル待ちがあります。")),
    LOTTERY: (
        N_("抽選"),
        N_("申し込みを締め切る前に抽選し、当選した方の席を確定します。落選した方はキャンセル待ちになります。"),
    ),
}
_TOKYO = ZoneInfo("Asia/Tokyo")
# The 参加区分 of a public-sector study session (the model event's), and a question most of them ask.
# The template's starting words, in the organizer's language (they are the event's text once saved).
_CATEGORIES = (N_("地方議員"), N_("地方公務員"), N_("市町村長"), N_("企業"), N_("その他"))
_CATEGORIES_EN = ("Local councillor", "Local government official", "Mayor", "Company", "Other")


def fields(template: str, now: datetime) -> dict[str, str]:
    """The builder's fields for a new event from `template`, dated a month after `now` (15:00–17:00 JST)."""
    day = (now.astimezone(_TOKYO) + timedelta(days=30)).date()
    start = datetime.combine(day, time(15, 0))
    values = {
        "slug": f"event-{day:%Y%m%d}",
        "timezone": "Asia/Tokyo",
        "title": "",
        "starts_at": start.isoformat(timespec="minutes"),
        "ends_at": (start + timedelta(hours=2)).isoformat(timespec="minutes"),
        "doors_open_at": (start - timedelta(minutes=30)).isoformat(timespec="minutes"),
        "registration_closes_at": (start - timedelta(days=1)).isoformat(timespec="minutes"),
        "capacity": "50",
        "waitlist": "yes",
        "accommodation_question": "yes",
        "fee": N_("無料"),
        "allotment": "first_come",
        "reminder-0-days_before": "1",
        "reminder-0-at": "10:00",
        "reminder-1-days_before": "0",
        "reminder-1-at": "08:00",
    }
    for n, (label, english) in enumerate(zip(_CATEGORIES, _CATEGORIES_EN, strict=True)):
        values.update({f"category-{n}-label": label, f"category-{n}-label_en": english})
    if template == HYBRID:
        values.update(online_mode="hybrid", venue_capacity="50", online_capacity="100", capacity="150")
    if template == LOTTERY:
        values.update(allotment="lottery", draw_at=(start - timedelta(days=7)).isoformat(timespec="minutes"))
    return values
