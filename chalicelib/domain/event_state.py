"""An event's live state: its seats, its line, its modes, and what its page tells a visitor."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum

from chalicelib.domain.event import ATTENDANCE, REASON_EVENT_CANCELLED, Event
from chalicelib.domain.ledger import is_full, seats_left
from chalicelib.domain.questions import room, slot


class Availability(StrEnum):
    """What the event page tells a visitor about seats."""

    OPEN = "open"
    FULL = "full"  # 満席
    CLOSED = "closed"  # 受付終了
    LOTTERY = "lottery"  # 抽選申込受付中
    DRAWING = "drawing"  # 抽選中: applications closed, the draw has not run yet
    CANCELLED = "cancelled"  # 中止: the organizer called the event off


class Lifecycle(StrEnum):
    """An event's stage, from a draft to archived (the dashboard shows each with its counts)."""

    DRAFT = "draft"  # 下書き
    OPEN = "open"  # 受付中 (a lottery taking applications too)
    FULL = "full"  # 満席
    WAITLIST_ONLY = "waitlist_only"  # 満席・キャンセル待ちのみ
    CLOSED = "closed"  # 受付終了
    CANCELLED = "cancelled"  # 中止
    UNPUBLISHED = "unpublished"  # 非公開
    ENDED = "ended"  # 終了
    ARCHIVED = "archived"  # 終了・アーカイブ済み


@dataclass(frozen=True)
class PoolState:
    """One mode of a hybrid event (会場 or オンライン): its seats, those taken, and its own waiting list."""

    pool: str
    capacity: int
    taken: int
    waiting: int

    @property
    def seats_left(self) -> int:
        """Seats of this mode nobody holds."""
        return seats_left(self.capacity, self.taken)


@dataclass(frozen=True)
class EventState:
    """An event together with its live seat counter and open/closed status."""

    event: Event
    seats_taken: int
    closed: bool = False
    closed_reason: str = ""
    waiting: int = 0  # people on the waiting list
    drawn: bool = False  # the lottery's draw has run
    answers_held: Mapping[str, int] = field(default_factory=dict)  # capped answers' counters (usecases/choices.py)
    hidden: bool = False  # unpublished: organizers see it, the public and the API do not
    pool_taken: Mapping[str, int] = field(default_factory=dict)  # a hybrid event's seats taken per pool
    pool_waiting: Mapping[str, int] = field(default_factory=dict)  # and people waiting per pool
    draft: bool = False  # saved, never published: organizers only (hidden too)
    archived: bool = False  # an ended event its organizer put away

    def lifecycle(self, now: datetime) -> Lifecycle:
        """Where the event stands, as the organizer's dashboard says it."""
        if self.draft:
            return Lifecycle.DRAFT
        if self.cancelled:
            return Lifecycle.CANCELLED
        if now >= self.event.ends_at:
            return Lifecycle.ARCHIVED if self.archived else Lifecycle.ENDED
        if self.hidden:
            return Lifecycle.UNPUBLISHED
        seen = self.availability(now)
        if seen is Availability.FULL:
            return Lifecycle.WAITLIST_ONLY if self.event.waitlist else Lifecycle.FULL
        if seen is Availability.CLOSED:
            return Lifecycle.CLOSED
        return Lifecycle.OPEN

    def answers_left(self) -> dict[str, int]:
        """How many of each capped answer are left (question.choice to count), a hybrid event's modes included."""
        left = room(self.event.questions, self.answers_held)
        left.update({slot(ATTENDANCE, mode.pool): mode.seats_left for mode in self.modes()})
        return left

    def modes(self) -> list[PoolState]:
        """A hybrid event's modes (会場, オンライン) with their seats and lines; none for any other event."""
        return [
            PoolState(pool, limit, self.pool_taken.get(pool, 0), self.pool_waiting.get(pool, 0))
            for pool, limit in self.event.pools().items()
        ]

    def lines(self) -> set[str]:
        """The answers (question.choice) that, once full, join their own waiting list instead of closing."""
        if not self.event.waitlist:
            return set()
        return {slot(ATTENDANCE, pool) for pool in self.event.pools()}

    def in_language(self, language: str) -> EventState:
        """The same state, with the event as a reader of `language` sees it."""
        return replace(self, event=self.event.in_language(language))

    @property
    def seats_left(self) -> int:
        """Seats still free (never negative, even if capacity was lowered below the count)."""
        return seats_left(self.event.capacity, self.seats_taken)

    @property
    def cancelled(self) -> bool:
        """The organizer called the event off."""
        return self.closed and self.closed_reason == REASON_EVENT_CANCELLED

    def availability(self, now: datetime) -> Availability:
        """Open, full or closed at `now`; the deadline counts even before the closer has run."""
        if self.cancelled:
            return Availability.CANCELLED
        if self.closed or now >= self.event.registration_closes_at:
            return Availability.CLOSED
        if self.event.takes_applications(now):
            return Availability.LOTTERY
        if self.event.draw_at is not None and not self.drawn:
            return Availability.DRAWING
        if is_full(self.event.capacity, self.seats_taken):
            return Availability.FULL
        return Availability.OPEN
