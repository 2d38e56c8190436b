"""Keeping bots off the registration form without a third-party CAPTCHA.

Three checks, none of which a person notices:
  - a honeypot field, hidden from people (and from screen readers), that only a bot fills in;
  - a signed form token bound to the event and the submission id, so every registration needs a
    fresh page (and a forged or replayed-elsewhere token fails);
  - a minimum fill time carried in that token: nobody types a whole form in under 3 seconds.
A person who trips one (a tab left open overnight, a very fast autofill) sees the form again with
everything they typed and a sentence asking them to press the button once more.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum

from chalicelib.domain.links import LinkSigner

HONEYPOT_FIELD = "website"
TOKEN_FIELD = "form_token"  # noqa: S105 (a field name, not a secret)
MIN_FILL_TIME = timedelta(seconds=3)
MAX_FORM_AGE = timedelta(hours=24)


class Form(StrEnum):
    """The forms a token may be for: one form's token never passes on another (the purpose is signed)."""

    REGISTRATION = "form"
    LINK_REQUEST = "link-request"


class Verdict(StrEnum):
    """What the checks made of a form submission."""

    PERSON = "person"
    HONEYPOT = "honeypot"
    NO_TOKEN = "no_token"  # noqa: S105 (missing, forged, or for another event or submission)
    EXPIRED = "expired"
    TOO_FAST = "too_fast"


def form_token(
    signer: LinkSigner, slug: str, submission_id: str, issued: datetime, form: Form = Form.REGISTRATION
) -> str:
    """The token a form carries: which form of which event, which submission, and when the page was served."""
    return signer.stamp(form.value, (slug, submission_id), issued)


def screen(
    signer: LinkSigner, slug: str, fields: Mapping[str, str], now: datetime, form: Form = Form.REGISTRATION
) -> Verdict:
    """Judge one submission of `form` (the registration form unless said)."""
    if fields.get(HONEYPOT_FIELD, "").strip():
        return Verdict.HONEYPOT
    issued = signer.read(form.value, (slug, fields.get("submission_id", "")), fields.get(TOKEN_FIELD, ""))
    if issued is None:
        return Verdict.NO_TOKEN
    age = now - issued
    if age > MAX_FORM_AGE:
        return Verdict.EXPIRED
    if age < MIN_FILL_TIME:
        return Verdict.TOO_FAST
    return Verdict.PERSON
