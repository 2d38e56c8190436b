"""How dates, times and addresses are written for people, in the current language (i18n.py)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from chalicelib.text.i18n import N_, gettext

# Each pattern is a catalog message: English writes "Wednesday 20 January 2027, 15:00 to 18:00".
DATE = N_("{year}年{month}月{day}日({weekday})")
DATE_AND_TIME = N_("{date} {time}")
SPAN = N_("{start}〜{end}")
WEEKDAYS = (N_("月"), N_("火"), N_("水"), N_("木"), N_("金"), N_("土"), N_("日"))
WEEKDAY_NAMES = (N_("月曜日"), N_("火曜日"), N_("水曜日"), N_("木曜日"), N_("金曜日"), N_("土曜日"), N_("日曜日"))
MONTH_NAMES = (
    N_("1月"), N_("2月"), N_("3月"), N_("4月"), N_("5月"), N_("6月"),
    N_("7月"), N_("8月"), N_("9月"), N_("10月"), N_("11月"), N_("12月"),
)  # fmt: skip


def format_date(moment: datetime, tz: ZoneInfo) -> str:
    """2027年1月20日(水); Wednesday 20 January 2027"""
    local = moment.astimezone(tz)
    return gettext(DATE).format(
        year=local.year,
        month=local.month,
        day=local.day,
        weekday=gettext(WEEKDAYS[local.weekday()]),
        weekday_name=gettext(WEEKDAY_NAMES[local.weekday()]),
        month_name=gettext(MONTH_NAMES[local.month - 1]),
    )


def format_time(moment: datetime, tz: ZoneInfo) -> str:
    """15:00"""
    return moment.astimezone(tz).strftime("%H:%M")


def format_datetime(moment: datetime, tz: ZoneInfo) -> str:
    """2027年1月20日(水) 15:00; Wednesday 20 January 2027, 15:00"""
    return gettext(DATE_AND_TIME).format(date=format_date(moment, tz), time=format_time(moment, tz))


def format_span(start: datetime, end: datetime, tz: ZoneInfo) -> str:
    """2027年1月20日(水) 15:00〜18:00, with the end date only when it differs."""
    same_day = start.astimezone(tz).date() == end.astimezone(tz).date()
    end_text = format_time(end, tz) if same_day else format_datetime(end, tz)
    return gettext(SPAN).format(start=format_datetime(start, tz), end=end_text)


def mask_email(address: str) -> str:
    """t***@example.jp: enough for people to recognise their address, not enough to harvest it."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"


def needs_text(needs: tuple[str, ...]) -> str:
    """The accommodations a registrant asked for, as a list people read (手話通訳、要約筆記)."""
    from chalicelib.text.messages import ACCOMMODATION_LABELS, LIST_SEPARATOR  # messages imports nothing from here

    return gettext(LIST_SEPARATOR).join(
        gettext(ACCOMMODATION_LABELS[key]) for key in needs if key in ACCOMMODATION_LABELS
    )
