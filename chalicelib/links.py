"""Personal links: a registrant's own page, reachable without an account through a signed, expiring token.

The token is an HMAC-SHA256 over the event, the registration and the expiry, keyed by a secret
that lives in Secrets Manager (or, locally, the environment) and never in the repository. It is
checked in constant time. Anyone holding the link can see and change that one registration, so it
only ever travels in e-mails to the registrant and in the redirect after registering.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# Links keep working a while after the event, for a late cancellation notice or a deletion request.
VALID_AFTER_EVENT = timedelta(days=30)
_MIN_KEY_BYTES = 32


class LinkKeyError(ValueError):
    """The configured key is too short to sign links safely."""


@dataclass(frozen=True)
class LinkSigner:
    """Makes and checks personal-link tokens with one secret key."""

    key: bytes

    def __post_init__(self) -> None:
        if len(self.key) < _MIN_KEY_BYTES:
            raise LinkKeyError(f"the link key must be at least {_MIN_KEY_BYTES} bytes")

    def token(self, slug: str, registration_id: str, expires: datetime) -> str:
        """A token for one registration, valid until `expires`."""
        stamp = int(expires.astimezone(UTC).timestamp())
        return f"{stamp:x}.{self._mac(slug, registration_id, stamp)}"

    def verify(self, slug: str, registration_id: str, token: str, now: datetime) -> bool:
        """True only for an unexpired token made for this very registration."""
        stamp_text, _, mac = token.partition(".")
        try:
            stamp = int(stamp_text, 16)
        except ValueError:
            return False
        expected = self._mac(slug, registration_id, stamp)
        # Compare first, in constant time, then look at the expiry: no early exit that leaks timing.
        return hmac.compare_digest(expected.encode("ascii"), mac.encode("ascii", "replace")) and stamp > int(
            now.timestamp()
        )

    def _mac(self, slug: str, registration_id: str, stamp: int) -> str:
        message = f"uketsuke-link\n{slug}\n{registration_id}\n{stamp}".encode()
        digest = hmac.new(self.key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def link_expiry(event_ends_at: datetime) -> datetime:
    """Until when a registration's personal link works."""
    return event_ends_at + VALID_AFTER_EVENT


def registration_path(slug: str, registration_id: str, token: str) -> str:
    """Path of a registrant's own page (the site's prefix goes in front)."""
    return f"/events/{slug}/registrations/{registration_id}?token={token}"
