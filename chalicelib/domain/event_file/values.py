"""Typed value readers: each reads one value of an event file or raises EventFileError naming it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.domain.event import EventFileError
from chalicelib.text.scalars import is_text


def text(data: Mapping[str, Any], name: str, where: str = "", default: str | None = None) -> str:
    label = f"{where}.{name}" if where else name
    value = data.get(name, default)
    if value is None:
        raise EventFileError(f"{label} is required")
    if not isinstance(value, str):
        raise EventFileError(f"{label} must be text in quotes")
    value = value.strip()
    if default is None and not value:
        raise EventFileError(f"{label} must not be empty")
    return value


def strings(data: Mapping[str, Any], name: str, where: str = "") -> tuple[str, ...]:
    label = f"{where}.{name}" if where else name
    value = data.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise EventFileError(f'{label} must be a list of texts, such as ["一般社団法人Publitech"]')
    return tuple(v.strip() for v in value)


def table(data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = data.get(name)
    if not isinstance(value, dict):
        raise EventFileError(f"[{name}] section is required")
    return value


def list_of_tables(data: Mapping[str, Any], name: str, where: str = "") -> list[Mapping[str, Any]]:
    label = f"{where}.{name}" if where else name
    value = data.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise EventFileError(f"{label} must be written as [[{label}]] sections")
    return value


def flag(data: Mapping[str, Any], name: str, default: bool) -> bool:
    """A true/false setting."""
    value = data.get(name, default)
    if not isinstance(value, bool):
        raise EventFileError(f"{name} must be true or false")
    return value


def whole_number(data: Mapping[str, Any], name: str, default: int | None, least: int, most: int | None = None) -> int:
    """A whole number from `least` (to `most`); `default` None: required. The message names the range."""
    value = data.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < least or (most is not None and value > most):
        span = f"from {least} to {most}" if most is not None else f"{least} or more"
        raise EventFileError(f"{name} must be a whole number {span}")
    return value


# Years an event can be in: far enough either way for any real event, near enough that every date
# computed from one (reminders, the personal data's expiry, calendars) stays within datetime's range.
FIRST_YEAR, LAST_YEAR = 2000, 2999


def moment(data: Mapping[str, Any], name: str, tz: ZoneInfo) -> datetime:
    value = data.get(name)
    if not isinstance(value, datetime):
        raise EventFileError(f"{name} must be a date and time such as 2027-01-20T15:00:00+09:00")
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise EventFileError(f"{name} must be a date between the years {FIRST_YEAR} and {LAST_YEAR}")
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)  # local wall time in the event's time zone
    return value.astimezone(UTC)


def not_text(value: Any, where: str = "") -> str | None:
    """The dotted name of the first key or value that is not text (text/scalars.py), or None."""
    if isinstance(value, str):
        return None if is_text(value) else (where or "the file")
    if isinstance(value, Mapping):
        for key, item in value.items():
            name = f"{where}.{key}" if where else str(key)
            if not is_text(str(key)):
                return where or "the file"
            found = not_text(item, name)
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = not_text(item, f"{where}[{index + 1}]")
            if found is not None:
                return found
    return None


_ADDRESS = re.compile(r"^[^@\s\"<>,;]+@[^@\s\"<>,;]+\.[^@\s\"<>,;]+$")


def address(contact: Mapping[str, Any], name: str, required: bool) -> str:
    """An address in [contact]: mail is sent from or to it, so it must look like one."""
    value = text(contact, name, where="contact", default=None if required else "")
    if value and not _ADDRESS.match(value):
        raise EventFileError(f"contact.{name} must be an e-mail address such as office@example.jp, got {value!r}")
    return value
