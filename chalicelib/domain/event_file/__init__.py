"""The event file: the TOML an organizer writes, read strictly into an Event and written back the same.

reader        puts the event together (parse_event, parse_event_text, read_event_file)
values        typed value readers: text, lists, sections, numbers, flags, moments, addresses
names         the names each part may use, and "did you mean" for one it may not
dates         the time zone, the dates and their order, the reminders
seats         the capacity and the categories with their reserved seats
form          each standard field's mode and words, and the event's own questions
online        online and hybrid events (the hybrid event's 会場/オンライン question)
translations  [en]: the organizer's own text in English
writer        an Event written back as a file that reads into the same Event (to_toml)
"""

from __future__ import annotations

from chalicelib.domain.event_file.online import attendance_question
from chalicelib.domain.event_file.reader import parse_event, parse_event_text, read_event_file
from chalicelib.domain.event_file.writer import to_toml

__all__ = ["attendance_question", "parse_event", "parse_event_text", "read_event_file", "to_toml"]
