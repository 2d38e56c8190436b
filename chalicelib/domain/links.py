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
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

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
        """A personal-link token for one registration, valid until `expires`."""
        return self.stamp("link", (slug, registration_id), expires)

    def verify(self, slug: str, registration_id: str, token: str, now: datetime) -> bool:
        """True only for an unexpired token made for this very registration."""
        expires = self.read("link", (slug, registration_id), token)
        return expires is not None and expires > now

    def stamp(self, purpose: str, subject: tuple[str, ...], moment: datetime) -> str:
        """A token that vouches for `moment` (an expiry, or when a form was handed out) for this subject."""
        seconds = int(moment.astimezone(UTC).timestamp())
        return f"{seconds:x}.{self._mac(purpose, subject, seconds)}"

    def read(self, purpose: str, subject: tuple[str, ...], token: str) -> datetime | None:
        """The moment a genuine token for this purpose and subject carries; None for anything else."""
        seconds_text, _, mac = token.partition(".")
        try:
            seconds = int(seconds_text, 16)
            moment = datetime.fromtimestamp(seconds, UTC)
        except (ValueError, OverflowError, OSError):
            return None
        expected = self._mac(purpose, subject, seconds)
        return moment if hmac.compare_digest(expected.encode("ascii"), mac.encode("ascii", "replace")) else None

    def _mac(self, purpose: str, subject: tuple[str, ...], seconds: int) -> str:
        # The purpose keeps a form token from ever passing as a personal link, and the reverse.
        message = "\n".join(("uketsuke", purpose, *subject, str(seconds))).encode()
        digest = hmac.new(self.key, message, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def link_expiry(event_ends_at: datetime) -> datetime:
    """Until when a registration's personal link works."""
    return event_ends_at + VALID_AFTER_EVENT


def local_path(candidate: str, within: str = "/", fallback: str = "/") -> str:
    """`candidate` if it is a path on this site under `within`, else `fallback`: never a way to another site.

    Redirects after signing in or switching language take their target from the request. Browsers
    drop tabs and line breaks from a URL and read a backslash as a slash, so `/\t/evil.com` would
    become `//evil.com`, another site. So the target must be printable ASCII of the URL alphabet
    (the pages percent-encode anything else), and it is checked again after percent-decoding, as
    often as a chain of encodings could hide something: no control character, space, backslash or
    `//` may appear at any stage.
    """
    if len(candidate) > _MAX_REDIRECT or not _URL_ALPHABET.fullmatch(candidate):
        return fallback
    seen, decoded = candidate, unquote(candidate)
    while decoded != seen:  # %252F is %2F is /: each decoding may show what the last one hid
        seen, decoded = decoded, unquote(decoded)
    for form in {candidate, decoded}:
        if "//" in form or "\\" in form or any(not ch.isprintable() or ch.isspace() for ch in form):
            return fallback
    root = within.rstrip("/")
    inside = candidate.startswith(root + "/") or (root != "" and candidate == root)
    return candidate if inside else fallback


_MAX_REDIRECT = 500
# Unreserved and reserved URL characters (RFC 3986) and percent signs; nothing else reaches a Location.
_URL_ALPHABET = re.compile(r"/[A-Za-z0-9\-._~!$&'()*+,;=:@%/?]*")


def registration_path(slug: str, registration_id: str, token: str) -> str:
    """Path of a registrant's own page (the site's prefix goes in front)."""
    return f"/events/{slug}/registrations/{registration_id}?token={token}"


def attendance_path(signer: LinkSigner, slug: str, registration_id: str, event_ends_at: datetime, answer: str) -> str:
    """The reconfirmation's page for one answer ('yes': 参加します, 'no': 行けなくなりました), with a fresh token."""
    return _signed(signer, slug, registration_id, event_ends_at, "/attendance", f"answer={answer}&")


def survey_path(signer: LinkSigner, slug: str, registration_id: str, event_ends_at: datetime) -> str:
    """The survey's page for one registration, with a fresh token."""
    return _signed(signer, slug, registration_id, event_ends_at, "/survey")


def _signed(signer: LinkSigner, slug: str, rid: str, event_ends_at: datetime, page: str, query: str = "") -> str:
    """A page of the registrant's own (`page` under their registration), signed as their personal link is."""
    token = signer.token(slug, rid, link_expiry(event_ends_at))
    return f"/events/{slug}/registrations/{rid}{page}?{query}token={token}"


def personal_path(signer: LinkSigner, slug: str, registration_id: str, event_ends_at: datetime) -> str:
    """A registrant's own page with a fresh token, valid until the link expires (the site's prefix goes in front)."""
    return _signed(signer, slug, registration_id, event_ends_at, "")


# --- check-in at the door: what the seat mails' QR code holds -----------------------------------

_CHECK_IN = "check-in"


def check_in_token(signer: LinkSigner, slug: str, registration_id: str, valid_until: datetime) -> str:
    """The HMAC a check-in QR code carries."""
    return signer.stamp(_CHECK_IN, (slug, registration_id), valid_until)


def check_in_token_is_genuine(signer: LinkSigner, slug: str, registration_id: str, token: str, now: datetime) -> bool:
    """True for an unexpired check-in token made for this registration."""
    valid_until = signer.read(_CHECK_IN, (slug, registration_id), token)
    return valid_until is not None and valid_until > now


def check_in_path(slug: str, registration_id: str, token: str = "") -> str:
    """Path of one registration's check-in page (the site's prefix goes in front)."""
    return f"/organizer/events/{slug}/check-in/{registration_id}" + (f"?token={token}" if token else "")


def signed_check_in_path(signer: LinkSigner, slug: str, registration_id: str, event_ends_at: datetime) -> str:
    """The check-in page of one registration with its token: the URL in the QR code, after the site's address."""
    token = check_in_token(signer, slug, registration_id, link_expiry(event_ends_at))
    return check_in_path(slug, registration_id, token)
