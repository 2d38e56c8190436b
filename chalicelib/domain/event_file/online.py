"""[online]: an online event, or a hybrid one whose registrants choose 会場 or オンライン with its places."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from chalicelib.domain import questions
from chalicelib.domain.event import ATTENDANCE, HYBRID, ONLINE, VENUE, Event, EventFileError, Online
from chalicelib.domain.event_file.names import ONLINE_SECTION, only
from chalicelib.domain.event_file.values import text
from chalicelib.domain.questions import Choice, Question
from chalicelib.domain.site import public_url
from chalicelib.text import messages as msg


def online_section(data: Mapping[str, Any]) -> Online | None:
    """[online]: an online event, or a hybrid one whose registrants choose 会場 or オンライン."""
    if "online" not in data:
        return None
    section = data["online"]
    if not isinstance(section, dict):
        raise EventFileError("online must be written as an [online] section")
    only(section, ONLINE_SECTION, "online")
    mode = text(section, "mode", where="online")
    if mode not in (ONLINE, HYBRID):
        raise EventFileError(f"[online]: mode must be {ONLINE} or {HYBRID}, got {mode!r}")
    url = text(section, "url", where="online")
    if not public_url(url):
        raise EventFileError(f"[online]: url must be the meeting's https:// address, got {url!r}")
    numbers = {name: section.get(name, 0) for name in ("venue_capacity", "online_capacity")}
    for name, value in numbers.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise EventFileError(f"[online]: {name} must be a whole number")
    if mode == HYBRID and (numbers["venue_capacity"] < 1 or numbers["online_capacity"] < 1):
        raise EventFileError("[online]: a hybrid event needs venue_capacity and online_capacity (at least 1 each)")
    if mode == ONLINE and any(numbers.values()):
        raise EventFileError("[online]: venue_capacity and online_capacity are for mode = hybrid only")
    return Online(
        mode=mode,
        url=url,
        instructions=text(section, "instructions", where="online", default=""),
        instructions_en=text(section, "instructions_en", where="online", default=""),
        venue_capacity=numbers["venue_capacity"],
        online_capacity=numbers["online_capacity"],
    )


def attendance_question(online: Online) -> Question:
    """The question every registrant of a hybrid event answers: 会場 or オンライン.

    Its answers carry no capacity of their own: each mode is a pool of the seat ledger (domain/ledger.py),
    with its own seats and its own waiting list, so a full mode is a line to join, not a refusal.
    """
    return Question(
        key=ATTENDANCE,
        kind=questions.SINGLE,
        label=msg.ATTENDANCE_LABEL,
        label_en="How you will take part",
        required=True,
        editable=False,
        choices=(
            Choice(VENUE, msg.ATTENDANCE_CHOICES[VENUE], "At the venue"),
            Choice(ONLINE, msg.ATTENDANCE_CHOICES[ONLINE], "Online"),
        ),
    )


def with_attendance(event: Event) -> Event:
    """A hybrid event asks every registrant 会場 or オンライン first; its places add up to the capacity."""
    online = event.online
    if online is None or online.mode != HYBRID:
        return event
    if any(q.key == ATTENDANCE for q in event.questions):
        raise EventFileError(f"[[questions]]: the key {ATTENDANCE!r} is the hybrid event's own question; use another")
    if online.venue_capacity + online.online_capacity != event.capacity:
        raise EventFileError(
            f"[online]: venue_capacity + online_capacity ({online.venue_capacity} + {online.online_capacity})"
            f" must equal capacity ({event.capacity})"
        )
    return replace(event, questions=(attendance_question(online), *event.questions))
