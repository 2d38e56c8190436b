"""Deployment settings, read once from the environment: the one place that names each variable."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from chalicelib.domain.site import SiteIdentity, SiteIdentityError, checked

# Environment variable names. The deploy's template (deploy/template.py), the local runner and the tests set these.
TABLE_NAME = "UKETSUKE_TABLE_NAME"
# The stage's name: the dimension of its metrics (chalicelib/telemetry.py); "local" when unset.
STAGE_NAME = "UKETSUKE_STAGE"
DEFAULT_SENDER = "UKETSUKE_DEFAULT_SENDER"
PUBLIC_BASE_URL = "UKETSUKE_PUBLIC_BASE_URL"
SES_MAX_SEND_RATE = "UKETSUKE_SES_MAX_SEND_RATE"
SES_CONFIGURATION_SET = "UKETSUKE_SES_CONFIGURATION_SET"
# The SES identities the functions' role may send as (each sender and its domain), separated by commas:
# an event saved with a sender outside them is refused (usecases/senders.py). Unset: the default sender's.
SEND_IDENTITIES = "UKETSUKE_SEND_IDENTITIES"
# The personal links' signing key: a Secrets Manager secret (deployed), or the key itself (local runs, tests).
LINK_KEY_SECRET = "UKETSUKE_LINK_KEY_SECRET"  # noqa: S105 (the variable's name, not a secret)
LINK_KEY = "UKETSUKE_LINK_KEY"
# Who may sign in to the organizer pages: e-mail addresses separated by commas (deploy/stages/<stage>.toml).
ORGANIZERS = "UKETSUKE_ORGANIZERS"
# How the site presents itself (deploy/stages/<stage>.toml, [site]): all optional.
SITE_NAME = "UKETSUKE_SITE_NAME"
SITE_NAME_EN = "UKETSUKE_SITE_NAME_EN"
PRIVACY_URL = "UKETSUKE_PRIVACY_URL"
CONTACT_PHONE = "UKETSUKE_CONTACT_PHONE"
SHARE_IMAGE_URL = "UKETSUKE_SHARE_IMAGE_URL"
SITE_LOGO = "UKETSUKE_SITE_LOGO"  # "on": pages show the logo manage.py set-logo stored
# The Lambda function that computes ふりがな when an event is saved (deployed with its dictionary as a layer,
# deploy/readings.py). Unset: computed in the process, where SudachiPy is installed (make run, manage.py).
READINGS_FUNCTION = "UKETSUKE_READINGS_FUNCTION"

# Account-level SES default for new production accounts is 14 messages/second; a
# sandbox account has 1/s. Organizers set their own quota's value.
_DEFAULT_SEND_RATE = 1.0


class SettingsError(RuntimeError):
    """A required setting is missing or malformed; the message says which and how to fix it."""


@dataclass(frozen=True)
class Settings:
    """What one deployment needs to know about itself."""

    table_name: str
    # Only mail needs it (links in e-mails); pages take their prefix from the request itself.
    public_base_url: str | None
    default_sender: str
    ses_max_send_rate: float = _DEFAULT_SEND_RATE
    ses_configuration_set: str | None = None
    link_key_secret: str | None = None
    link_key: str | None = None
    organizers: frozenset[str] = frozenset()
    site: SiteIdentity = field(default_factory=SiteIdentity)
    send_identities: frozenset[str] = frozenset()  # empty: the default sender and its domain
    stage: str = "local"  # the deployed stage's name: its metrics' dimension
    readings_function: str | None = None

    @property
    def sendable_identities(self) -> frozenset[str]:
        """The identities mail may go out as: those the stack named, or else the default sender's."""
        address = self.default_sender.strip().lower()
        return self.send_identities or frozenset({address, address.rpartition("@")[2]})

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Build settings from environment variables, failing with a message that names the variable."""
        env = os.environ if env is None else env
        table = _required(env, TABLE_NAME)
        base_url = env.get(PUBLIC_BASE_URL, "").strip().rstrip("/") or None
        sender = _required(env, DEFAULT_SENDER)
        raw_rate = env.get(SES_MAX_SEND_RATE, "").strip()
        try:
            rate = float(raw_rate) if raw_rate else _DEFAULT_SEND_RATE
        except ValueError as exc:
            raise SettingsError(
                f"{SES_MAX_SEND_RATE} must be a number of e-mails per second, got {raw_rate!r}"
            ) from exc
        if rate <= 0:
            raise SettingsError(f"{SES_MAX_SEND_RATE} must be above 0, got {raw_rate!r}")
        return cls(
            table_name=table,
            public_base_url=base_url,
            default_sender=sender,
            ses_max_send_rate=rate,
            ses_configuration_set=env.get(SES_CONFIGURATION_SET) or None,
            link_key_secret=env.get(LINK_KEY_SECRET) or None,
            link_key=env.get(LINK_KEY) or None,
            organizers=parse_organizers(env.get(ORGANIZERS, "")),
            site=_site(env),
            send_identities=parse_organizers(env.get(SEND_IDENTITIES, "")),
            stage=env.get(STAGE_NAME, "").strip() or "local",
            readings_function=env.get(READINGS_FUNCTION, "").strip() or None,
        )


def _site(env: Mapping[str, str]) -> SiteIdentity:
    try:
        return checked(
            name=env.get(SITE_NAME, ""),
            name_en=env.get(SITE_NAME_EN, ""),
            privacy_url=env.get(PRIVACY_URL, ""),
            phone=env.get(CONTACT_PHONE, ""),
            share_image_url=env.get(SHARE_IMAGE_URL, ""),
            logo=env.get(SITE_LOGO, "").strip().lower() in ("on", "true", "1", "yes"),
        )
    except SiteIdentityError as exc:
        raise SettingsError(str(exc)) from exc


def parse_organizers(text: str) -> frozenset[str]:
    """The organizers' addresses, compared without regard to case or surrounding spaces."""
    return frozenset(address.strip().lower() for address in text.split(",") if address.strip())


def require_public_base_url(settings: Settings) -> str:
    """The site's public URL, which every link in an e-mail starts with."""
    if not settings.public_base_url:
        raise SettingsError(f"{PUBLIC_BASE_URL} is not set: e-mails need the site's public URL for their links")
    return settings.public_base_url


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise SettingsError(f"{name} is not set: the deployed stack sets it; locally, `make run` does")
    return value
