"""The builder's mistakes in Japanese, each beside its field: the event file's own complaints, translated.

`parse_event` names the file's field in English (as `manage.py load-events` prints it); the builder
shows the same rule in the organizer's words, beside the form field that holds it. A complaint no
pattern knows still says what the file says, after a Japanese sentence, beside the title.
"""

from __future__ import annotations

import re

from chalicelib.text import builder_messages as bmsg
from chalicelib.text import messages as msg
from chalicelib.text.i18n import gettext

REQUIRED = bmsg.BUILDER_REQUIRED
ONLINE_URL_NEEDED = bmsg.BUILDER_ONLINE_URL_NEEDED
DRAW_AT_NEEDED = bmsg.BUILDER_DRAW_AT_NEEDED
UNKNOWN_CHOICE = bmsg.BUILDER_UNKNOWN_CHOICE
TWO_CHOICES = bmsg.BUILDER_TWO_CHOICES
MOMENT_NEEDED = msg.EDITOR_MOMENT_NEEDED
MOMENT_INVALID = msg.EDITOR_MOMENT_INVALID
COUNT_NEEDED = msg.EDITOR_COUNT_NEEDED
READING_KANA = bmsg.BUILDER_READING_KANA

# (the file's complaint, the form field, what to say): the first that matches.
_KNOWN: tuple[tuple[str, str, str], ...] = (
    (r"^slug ", "slug", bmsg.BUILDER_SLUG),
    (r"^ends_at must be after", "ends_at", bmsg.BUILDER_ENDS_BEFORE),
    (r"^registration_closes_at must not be after", "registration_closes_at", bmsg.BUILDER_CLOSES_AFTER_START),
    (r"^cancellation_closes_at must not be after", "cancellation_closes_at", bmsg.BUILDER_CANCEL_AFTER_END),
    (r"^draw_at must not be after", "draw_at", bmsg.BUILDER_DRAW_AFTER_CLOSE),
    (r"^reconfirm_at must be before", "reconfirm_at", bmsg.BUILDER_RECONFIRM_AFTER_START),
    (r"^release_unconfirmed_at needs", "release_unconfirmed_at", bmsg.BUILDER_RELEASE_NEEDS_RECONFIRM),
    (r"^release_unconfirmed_at must be after", "release_unconfirmed_at", bmsg.BUILDER_RELEASE_BEFORE_RECONFIRM),
    (r"^release_unconfirmed_at must be before", "release_unconfirmed_at", bmsg.BUILDER_RELEASE_AFTER_START),
    (r"^\[survey\] needs at least one question", "survey_closes_at", bmsg.BUILDER_SURVEY_QUESTION_NEEDED),
    (r"^survey\.closes_at must be after", "survey_closes_at", bmsg.BUILDER_SURVEY_CLOSES_BEFORE_START),
    (r"^survey\.closes_at must be before", "survey_closes_at", bmsg.BUILDER_SURVEY_CLOSES_AFTER_ERASURE),
    (r"^\[\[survey\.questions\]\]", "survey-0-label", bmsg.BUILDER_SURVEY_QUESTION),
    (r"^capacity must be", "capacity", bmsg.BUILDER_CAPACITY),
    (r"^categories: the reserved seats", "category-0-reserved", bmsg.BUILDER_RESERVED_OVER),
    (r"^categories must list", "category-0-label", bmsg.BUILDER_CATEGORY_NEEDED),
    (r"^\[online\]: url must", "online_url", bmsg.BUILDER_HTTPS),
    (r"^\[online\]: a hybrid event needs", "venue_capacity", bmsg.BUILDER_HYBRID_SEATS),
    (r"^\[online\]: venue_capacity \+ online_capacity", "venue_capacity", bmsg.BUILDER_HYBRID_SUM),
    (r"^share_image_url must", "share_image_url", bmsg.BUILDER_HTTPS),
    (r"^venue\.map_url must", "venue_map_url", bmsg.BUILDER_HTTPS),
    (r"^venue\.url must", "venue_url", bmsg.BUILDER_HTTPS),
    (r"^url must", "url", bmsg.BUILDER_HTTPS),
    (r"^contact\.organizer_email must", "organizer_email", bmsg.BUILDER_EMAIL),
    (r"^reminder \S+ would be sent", "reminder-0-days_before", bmsg.BUILDER_REMINDER_LATE),
    (r"^reminders: the same reminder", "reminder-0-days_before", bmsg.BUILDER_REMINDER_TWICE),
    (r"^reminders:", "reminder-0-days_before", msg.EDITOR_COUNT_NEEDED),
    (r"^retention_days", "retention_days", bmsg.BUILDER_RETENTION),
    (r"is longer than", "title", bmsg.BUILDER_TOO_LONG),
)


def explain(problem: str) -> dict[str, str]:
    """The form field a complaint of the event file is about, and the Japanese that says so."""
    for pattern, field, said in _KNOWN:
        if re.search(pattern, problem):
            return {field: said}
    return {"title": gettext(bmsg.BUILDER_OTHER).format(problem=problem)}
