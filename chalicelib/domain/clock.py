"""Time: the clock, injected everywhere so tests can fix it, and how moments are stored as text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """Something that tells the current time as an aware UTC datetime."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """Current time in UTC."""
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until moved: tests use it to put events in the past or future."""

    def __init__(self, at: datetime) -> None:
        self._at = at

    def now(self) -> datetime:
        """The time this clock was set to."""
        return self._at

    def set(self, at: datetime) -> None:
        """Move the clock."""
        self._at = at

    def advance(self, by: timedelta) -> None:
        """Move the clock forward by `by`."""
        self._at += by


def iso(moment: datetime) -> str:
    """Sortable UTC ISO-8601 text for storing a moment."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_precise(moment: datetime) -> str:
    """Like iso(), to the microsecond: orders things that happen within one second."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> datetime:
    """Inverse of iso()."""
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
