"""Mistyped mail domains caught before they cost a seat: "did you mean …@gmail.com?".

A typo in the address leaves a seat taken by nobody: the confirmation, the personal link and every
reminder go nowhere. So the form asks once when the domain is one or two keystrokes away from a
mail service many people in Japan use (carriers' mail included). It never blocks: the person picks
the suggestion or keeps what they typed. A domain that is itself well known is never questioned.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from chalicelib.domain.attendee import FormResult
from chalicelib.text import messages as msg
from chalicelib.text.i18n import gettext as t

# Widely used mail domains (free mail, carriers, ISPs). A typed domain this close to one of them,
# and not itself on the list, is probably a typo of it.
WELL_KNOWN = (
    "gmail.com",
    "googlemail.com",
    "yahoo.co.jp",
    "ymail.ne.jp",
    "yahoo.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "outlook.jp",
    "outlook.com",
    "hotmail.com",
    "hotmail.co.jp",
    "live.jp",
    "live.com",
    "msn.com",
    "aol.com",
    "docomo.ne.jp",
    "ezweb.ne.jp",
    "au.com",
    "softbank.ne.jp",
    "i.softbank.jp",
    "ymobile.ne.jp",
    "rakuten.jp",
    "nifty.com",
    "biglobe.ne.jp",
    "ocn.ne.jp",
    "so-net.ne.jp",
    "excite.co.jp",
)
# Real domains a naive distance would "correct" into a well-known one.
_ALSO_REAL = frozenset({"mail.com", "email.com", "gmx.com", "me.jp", "live.ca", "aol.jp", "au.org"})
_KNOWN = frozenset(WELL_KNOWN) | _ALSO_REAL
# Domains shorter than this (ai.com, au.org, …) are one edit from too many real ones to question.
_SHORTEST = 8

CHOICE_FIELD = "email_choice"  # the person's answer: SUGGESTED or TYPED
CHECKED_FIELD = "email_checked"  # the address the answer was given for
SUGGESTION_VALUE = "email_suggestion"  # shown again with the form's values
SUGGESTED, TYPED = "suggested", "typed"


def _distance(a: str, b: str, limit: int) -> int:
    """Edits (insert, delete, replace, swap two neighbours) from a to b; limit + 1 when more."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] = []
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], before[j - 2] + 1)
        before, row = row, current
    return row[-1]


def suggest(address: str) -> str:
    """The address with its domain corrected to a well-known one it is likely a typo of; "" when none."""
    local, at, domain = address.rpartition("@")
    if not at or not local:
        return ""
    meant = _meant(domain.lower())
    return f"{local}@{meant}" if meant else ""


@lru_cache(maxsize=4096)
def _meant(domain: str) -> str:
    """The well-known domain `domain` is a near miss of, or "" (kept per container: most people share a few)."""
    if domain in _KNOWN or len(domain) < _SHORTEST:
        return ""
    # Two edits only for longer domains: shorter ones are near too many real others.
    limit = 1 if len(domain) < 10 else 2
    best = min(WELL_KNOWN, key=lambda known: _distance(domain, known, limit))
    return best if _distance(domain, best, limit) <= limit else ""


def review(form: FormResult, raw: Mapping[str, Any]) -> FormResult:
    """Hold a valid form whose address looks mistyped until the person chooses; apply their choice."""
    if form.attendee is None:
        return form
    typed = form.attendee.email
    suggestion = suggest(typed)
    if not suggestion:
        return form
    choice = raw.get(CHOICE_FIELD) if raw.get(CHECKED_FIELD) == typed else None
    if choice == TYPED:
        return form
    if choice == SUGGESTED:
        corrected = dataclasses.replace(form.attendee, email=suggestion)
        return FormResult(values={**form.values, "email": suggestion}, errors={}, attendee=corrected)
    problem = t(msg.EMAIL_TYPO).format(typed=typed.rpartition("@")[2], suggested=suggestion.rpartition("@")[2])
    return FormResult(
        values={**form.values, SUGGESTION_VALUE: suggestion}, errors={CHOICE_FIELD: problem}, attendee=None
    )
