"""The builder's mistakes in Japanese, each beside its field: the event file's own complaints, translated.

`parse_event` names the file's field in English (as `manage.py load-events` prints it); the builder
shows the same rule in the organizer's words, beside the form field that holds it. A complaint no
pattern knows still says what the file says, after a Japanese sentence, beside the title.
"""

from __future__ import annotations

import re

from chalicelib.text import messages as msg
from chalicelib.text.i18n import gettext

REQUIRED = msg.BUILDER_REQUIRED
ONLINE_URL_NEEDED = msg.BUILDER_ONLINE_URL_NEEDED
DRAW_AT_NEEDED = msg.BUILDER_DRAW_AT_NEEDED
UNKNOWN_CHOICE = msg.BUILDER_UNKNOWN_CHOICE
TWO_CHOICES = msg.BUILDER_TWO_CHOICES
MOMENT_NEEDED = msg.EDITOR_MOMENT_NEEDED
MOMENT_INVALID = msg.EDITOR_MOMENT_INVALID
COUNT_NEEDED = msg.EDITOR_COUNT_NEEDED

# (the file's complaint, the form field, what to say): the first that matches.
_KNOWN: tuple[tuple[str, str, str], ...] = (
    (r"^slug ", "slug", msg.BUILDER_SLUG),
    (r"^ends_at must be after", "ends_at", msg.BUILDER_ENDS_BEFORE),
    (r"^registration_closes_at must not be after", "registration_closes_at", msg.BUILDER_CLOSES_AFTER_START),
    (r"^cancellation_closes_at must not be after", "cancellation_closes_at", msg.BUILDER_CANCEL_AFTER_END),
    (r"^draw_at must not be after", "draw_at", msg.BUILDER_DRAW_AFTER_CLOSE),
    (r"^capacity must be", "capacity", msg.BUILDER_CAPACITY),
    (r"^categories: the reserved seats", "category-0-reserved", msg.BUILDER_RESERVED_OVER),
    (r"^categories must list", "category-0-label", msg.BUILDER_CATEGORY_NEEDED),
    (r"^\[online\]: url must", "online_url", msg.BUILDER_HTTPS),
    (r"^\[online\]: a hybrid event needs", "venue_capacity", msg.BUILDER_HYBRID_SEATS),
    (r"^\[online\]: venue_capacity \+ online_capacity", "venue_capacity", msg.BUILDER_HYBRID_SUM),
    (r"^share_image_url must", "share_image_url", msg.BUILDER_HTTPS),
    (r"^venue\.map_url must", "venue_map_url", msg.BUILDER_HTTPS),
    (r"^venue\.url must", "venue_url", msg.BUILDER_HTTPS),
    (r"^url must", "url", msg.BUILDER_HTTPS),
    (r"^contact\.organizer_email must", "organizer_email", msg.BUILDER_EMAIL),
    (r"^reminder \S+ would be sent", "reminder-0-days_before", msg.BUILDER_REMINDER_LATE),
    (r"^reminders: the same reminder", "reminder-0-days_before", msg.BUILDER_REMINDER_TWICE),
    (r"^reminders:", "reminder-0-days_before", msg.EDITOR_COUNT_NEEDED),
    (r"^retention_days", "retention_days", msg.BUILDER_RETENTION),
    (r"is longer than", "title", msg.BUILDER_TOO_LONG),
)


def explain(problem: str) -> dict[str, str]:
    """The form field a complaint of the event file is about, and the Japanese that says so."""
    for pattern, field, said in _KNOWN:
        if re.search(pattern, problem):
            return {field: said}
    return {"title": gettext(msg.BUILDER_OTHER).format(problem=problem)}
