"""The site's identity: its name, privacy policy, phone contact and the picture shown when a link is shared.

Set per deployment (the stage file's [site] table, read from the environment by config/settings.py);
an event may bring its own picture. Every field is optional: without them the site is イベント受付.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PHONE = re.compile(r"^\+?[0-9][0-9\- ()]{5,20}$")
MAX_NAME = 60


class SiteIdentityError(ValueError):
    """A field of the site's identity is malformed; the message says which and how."""


@dataclass(frozen=True)
class SiteIdentity:
    """How the site presents itself on every page."""

    name: str = ""  # '' is the default name, イベント受付
    name_en: str = ""  # the English name ('' falls back to `name`, then to the default)
    privacy_url: str = ""
    phone: str = ""
    share_image_url: str = ""  # Open Graph / Twitter card picture for pages that have none of their own
    logo: str = ""  # the organizer's logo as a data: URI (usecases/branding.py), shown beside the name
    # The deployment shows a logo: only then do pages read it (one more read on a container's first page).
    has_logo: bool = False

    def name_in(self, language: str) -> str:
        """The name for readers of `language`, or '' for the default."""
        return (self.name_en or self.name) if language == "en" else self.name


def checked(
    name: str = "",
    name_en: str = "",
    privacy_url: str = "",
    phone: str = "",
    share_image_url: str = "",
    logo: bool = False,
) -> SiteIdentity:
    """A SiteIdentity whose every field is well formed, or SiteIdentityError naming the first that is not."""
    for field, value in (("name", name), ("name_en", name_en)):
        if len(value) > MAX_NAME or any(ch in value for ch in "\r\n\t<>"):
            raise SiteIdentityError(f"site {field} must be one line of at most {MAX_NAME} characters")
    for field, value in (("privacy_url", privacy_url), ("share_image_url", share_image_url)):
        if value and not public_url(value):
            raise SiteIdentityError(f"site {field} must be an https:// address, got {value!r}")
    if phone and not _PHONE.match(phone):
        raise SiteIdentityError(f"site phone must be digits with - ( ) or spaces, e.g. 0241-74-1234, got {phone!r}")
    return SiteIdentity(name.strip(), name_en.strip(), privacy_url, phone.strip(), share_image_url, has_logo=logo)


def public_url(value: str) -> bool:
    """An https:// address with a host and no spaces or quotes (it goes into links and meta tags)."""
    return bool(re.match(r"^https://[A-Za-z0-9.\-]+(:[0-9]+)?(/[^\s\"'<>]*)?$", value))


MAX_LOGO_BYTES = 32 * 1024  # every page carries it inline: small enough for a phone on a slow line
_PICTURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def logo_type(data: bytes) -> str:
    """The picture's type, read from its first bytes (never from a file name), or SiteIdentityError.

    SVG is refused: it is a document that can carry script, and nothing here needs to draw one.
    """
    if len(data) > MAX_LOGO_BYTES:
        raise SiteIdentityError(f"the logo is {len(data):,} bytes; at most {MAX_LOGO_BYTES:,} (every page carries it)")
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    for magic, kind in _PICTURES:
        if data.startswith(magic):
            return kind
    raise SiteIdentityError("the logo must be a PNG, JPEG, GIF or WebP picture")
