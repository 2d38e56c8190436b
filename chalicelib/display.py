"""How dates, times and addresses are written for people (Japanese conventions)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from chalicelib.messages import WEEKDAYS


def format_date(moment: datetime, tz: ZoneInfo) -> str:
    """2027年1月20日(水)"""
    local = moment.astimezone(tz)
    return f"{local.year}年{local.month}月{local.day}日({WEEKDAYS[local.weekday()]})"


def format_time(moment: datetime, tz: ZoneInfo) -> str:
    """15:00"""
    return moment.astimezone(tz).strftime("%H:%M")


def format_datetime(moment: datetime, tz: ZoneInfo) -> str:
    """2027年1月20日(水) 15:00"""
    return f"{format_date(moment, tz)} {format_time(moment, tz)}"


def format_span(start: datetime, end: datetime, tz: ZoneInfo) -> str:
    """2027年1月20日(水) 15:00〜18:00, with the end date only when it differs."""
    same_day = start.astimezone(tz).date() == end.astimezone(tz).date()
    end_text = format_time(end, tz) if same_day else format_datetime(end, tz)
    return f"{format_datetime(start, tz)}〜{end_text}"


def mask_email(address: str) -> str:
    """t***@example.jp: enough for people to recognise their address, not enough to harvest it."""
    local, _, domain = address.partition("@")
    return f"{local[:1]}***@{domain}"
