"""A deployment stage: what an organizer writes in `deploy/stages/<stage>.toml`, checked field by field."""

from __future__ import annotations

import ipaddress
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chalicelib.domain.site import SiteIdentity, SiteIdentityError, checked

STAGES_DIR = Path(__file__).resolve().parent / "stages"
# Stack names allow letters, digits and hyphens; keep stage names short and plain.
STAGE_NAME = re.compile(r"^[a-z][a-z0-9-]{0,23}$")
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")
_ADDRESS = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$")
_ACM_ARN = re.compile(r"^arn:aws[a-z-]*:acm:us-east-1:\d{12}:certificate/[0-9a-f-]+$")
_KNOWN = {
    "region",
    "sender",
    "organizer_email",
    "ses_max_send_rate",
    "allow_ses_sandbox",
    "log_retention_days",
    "events",
    "custom_domain",
    "rate_limit_per_ip",
    "rate_limit_posts",
    "rate_limit_sign_in",
    "rate_limit_exempt",
    "organizers",
    "sandbox_recipients",
    "site",
    "tracing",
}
_SITE_FIELDS = ("name", "name_en", "privacy_url", "phone", "share_image_url", "logo")
# The values CloudWatch Logs accepts for a log group's retention.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922)


# Per client address and 5 minutes, only where a flood does harm: the forms' POSTs (registering, the link
# again, a registrant's changes) and organizer sign-in. Pages are never counted. Municipal staff reach the
# internet through their prefecture's 自治体情報セキュリティクラウド, so one address can carry a whole
# prefecture: an announcement that brings 300 registrations from it in five minutes stays well inside.
DEFAULT_POST_LIMIT = 1000
DEFAULT_SIGN_IN_LIMIT = 100
MIN_RATE_LIMIT = 10  # AWS WAF's smallest rate-based limit


class StageError(ValueError):
    """A stage file is missing or invalid; the message names the field and what is expected."""


@dataclass(frozen=True)
class CustomDomain:
    """An organizer's own host name for the site, with its certificate (and Route 53 zone, if AWS holds the DNS)."""

    name: str
    certificate_arn: str
    hosted_zone_id: str | None = None


@dataclass(frozen=True)
class Stage:
    """Everything a deploy needs that differs between organizers and stages."""

    name: str
    region: str
    sender: str
    organizer_email: str
    ses_max_send_rate: float = 1.0
    allow_ses_sandbox: bool = False
    log_retention_days: int = 30
    events: str = ""  # a file pattern; empty publishes nothing (a new stage must not show the sample event)
    custom_domain: CustomDomain | None = None
    rate_limit_posts: int = DEFAULT_POST_LIMIT  # form POSTs per 5 minutes from one address; 0: no limit
    rate_limit_sign_in: int = DEFAULT_SIGN_IN_LIMIT  # sign-in POSTs per 5 minutes from one address; 0: no limit
    rate_limit_exempt: tuple[str, ...] = ()  # CIDR blocks never limited (a prefecture's egress, the venue)
    organizers: tuple[str, ...] = ()  # who may sign in to /organizer; empty means organizer_email alone
    sandbox_recipients: tuple[str, ...] = ()  # trial stages in the SES sandbox: the verified addresses it may mail
    site: SiteIdentity = field(default_factory=SiteIdentity)  # [site]: name, privacy policy, phone, share picture
    tracing: bool = False  # AWS X-Ray for the functions and the API (about US$5 per million traces past the free tier)

    @property
    def stack_name(self) -> str:
        """The CloudFormation stack that holds this stage: its state lives in the account, not on a laptop."""
        return f"uketsuke-{self.name}"

    @property
    def signs_in(self) -> tuple[str, ...]:
        """Who may sign in to the organizer pages: the listed organizers, or else the organizer address."""
        return self.organizers or (self.organizer_email,)

    @property
    def sandbox_mailed(self) -> tuple[str, ...]:
        """Whom a trial stage in the SES sandbox may mail: its organizers and its listed recipients."""
        return tuple(dict.fromkeys((*self.signs_in, *self.sandbox_recipients)))

    @property
    def sender_domain(self) -> str:
        """The domain part of the sender address (SES verifies a domain or a single address)."""
        return self.sender.rsplit("@", 1)[1]


def stage_path(name: str) -> Path:
    """Where the stage called `name` is described."""
    return STAGES_DIR / f"{name}.toml"


def read_stage(name: str, path: Path | None = None) -> Stage:
    """Read and check a stage file; a missing file says how to create one."""
    if not STAGE_NAME.match(name):
        raise StageError(f"stage name {name!r}: use lower-case letters, digits and hyphens, starting with a letter")
    path = path or stage_path(name)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise StageError(
            f"{path} does not exist: copy deploy/stages/example.toml to it and fill in your region and addresses"
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise StageError(f"{path}: not valid TOML ({exc})") from exc
    try:
        return parse_stage(name, data)
    except StageError as exc:
        raise StageError(f"{path}: {exc}") from exc


def parse_stage(name: str, data: Mapping[str, Any]) -> Stage:
    """Build a Stage from parsed TOML, naming the first field that is wrong."""
    unknown = sorted(set(data) - _KNOWN)
    if unknown:
        raise StageError(f"unknown field {unknown[0]!r}; the fields are: {', '.join(sorted(_KNOWN))}")
    region = _text(data, "region", "an AWS region such as ap-northeast-1")
    if not REGION.match(region):
        raise StageError(f"region must be an AWS region such as ap-northeast-1, got {region!r}")
    rate = data.get("ses_max_send_rate", 1.0)
    if isinstance(rate, bool) or not isinstance(rate, int | float) or rate <= 0:
        raise StageError(f"ses_max_send_rate must be a number of e-mails per second above 0, got {rate!r}")
    retention = data.get("log_retention_days", 30)
    if retention not in LOG_RETENTION_DAYS or isinstance(retention, bool):
        raise StageError(f"log_retention_days must be one of {', '.join(map(str, LOG_RETENTION_DAYS))}")
    if data.get("rate_limit_per_ip", 0) != 0:
        raise StageError(
            "rate_limit_per_ip counted every request, so a prefecture's shared address could be locked out: remove"
            " it (form POSTs and sign-ins are limited by default), or set rate_limit_posts and rate_limit_sign_in"
        )
    off = "rate_limit_per_ip" in data  # `rate_limit_per_ip = 0` turned throttling off, and still does
    sandbox = data.get("allow_ses_sandbox", False)
    if not isinstance(sandbox, bool):
        raise StageError("allow_ses_sandbox must be true or false")
    tracing = data.get("tracing", False)
    if not isinstance(tracing, bool):
        raise StageError("tracing must be true or false")
    return Stage(
        name=name,
        region=region,
        sender=_address(data, "sender"),
        organizer_email=_address(data, "organizer_email"),
        ses_max_send_rate=float(rate),
        allow_ses_sandbox=sandbox,
        log_retention_days=int(retention),
        events=_events(data.get("events", "")),
        custom_domain=_custom_domain(data.get("custom_domain")),
        rate_limit_posts=0 if off else _limit(data, "rate_limit_posts", DEFAULT_POST_LIMIT),
        rate_limit_sign_in=0 if off else _limit(data, "rate_limit_sign_in", DEFAULT_SIGN_IN_LIMIT),
        rate_limit_exempt=_networks(data.get("rate_limit_exempt", [])),
        organizers=_addresses("organizers", data.get("organizers", [])),
        sandbox_recipients=_addresses("sandbox_recipients", data.get("sandbox_recipients", [])),
        site=_site(data.get("site", {})),
        tracing=tracing,
    )


def _site(value: Any) -> SiteIdentity:
    """The [site] table: how the site presents itself (every field optional)."""
    if not isinstance(value, dict):
        raise StageError("site must be a table: [site] with name, name_en, privacy_url, phone, share_image_url")
    unknown = sorted(set(value) - set(_SITE_FIELDS))
    if unknown:
        raise StageError(f"[site] has no field {unknown[0]!r}; the fields are: {', '.join(_SITE_FIELDS)}")
    if not isinstance(value.get("logo", False), bool):
        raise StageError("[site] logo must be true or false (the picture itself: manage.py set-logo)")
    if not all(isinstance(v, str) for k, v in value.items() if k != "logo"):
        raise StageError("[site] fields are text, in quotes")
    try:
        return checked(**value)
    except SiteIdentityError as exc:
        raise StageError(str(exc)) from exc


def _limit(data: Mapping[str, Any], name: str, default: int) -> int:
    """A rate limit: requests per 5 minutes from one address, or 0 for none."""
    limit = data.get(name, default)
    if isinstance(limit, bool) or not isinstance(limit, int) or (limit != 0 and limit < MIN_RATE_LIMIT):
        raise StageError(f"{name} must be 0 (no limit) or a whole number of requests from {MIN_RATE_LIMIT} up")
    return limit


def _networks(value: Any) -> tuple[str, ...]:
    """Client addresses never limited, as CIDR blocks (an address alone is its own block)."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise StageError('rate_limit_exempt must be a list of addresses or CIDR blocks, e.g. ["203.0.113.0/24"]')
    blocks = []
    for text in value:
        try:
            blocks.append(str(ipaddress.ip_network(text.strip(), strict=False)))
        except ValueError as exc:
            raise StageError(f"rate_limit_exempt: {text!r} is not an IP address or CIDR block") from exc
    return tuple(blocks)


def _addresses(field: str, value: Any) -> tuple[str, ...]:
    """A list of e-mail addresses, checked one by one."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise StageError(f'{field} must be a list of e-mail addresses, e.g. ["office@example.jp"]')
    for address in value:
        if not _ADDRESS.match(address.strip()):
            raise StageError(f"{field}: {address!r} is not an e-mail address")
    return tuple(address.strip() for address in value)


def _events(value: Any) -> str:
    """The event files' pattern: a path or glob inside the repository, or empty for none."""
    if not isinstance(value, str):
        raise StageError('events must be a file pattern such as "events/my-seminar.toml" or "events/*.toml"')
    return value.strip()


def _text(data: Mapping[str, Any], field: str, expected: str, default: str | None = None) -> str:
    value = data.get(field, default)
    if not isinstance(value, str) or not value.strip():
        raise StageError(f"{field} is required: {expected}")
    return value.strip()


def _address(data: Mapping[str, Any], field: str) -> str:
    value = _text(data, field, "an e-mail address such as office@example.jp")
    if not _ADDRESS.match(value):
        raise StageError(f"{field} must be a plain e-mail address such as office@example.jp, got {value!r}")
    return value


def _custom_domain(value: Any) -> CustomDomain | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise StageError("custom_domain must be a table with name and certificate_arn")
    name = _text(value, "name", "the host name, such as uketsuke.example.jp").lower()
    if not _DOMAIN.match(name):
        raise StageError(f"custom_domain.name must be a host name such as uketsuke.example.jp, got {name!r}")
    certificate = _text(value, "certificate_arn", "an ACM certificate ARN in us-east-1")
    if not _ACM_ARN.match(certificate):
        raise StageError(
            "custom_domain.certificate_arn must be an ACM certificate in us-east-1 "
            f"(the API's edge endpoint needs it there), got {certificate!r}"
        )
    zone = value.get("hosted_zone_id")
    if zone is not None and (not isinstance(zone, str) or not re.match(r"^Z[A-Z0-9]{1,31}$", zone)):
        raise StageError(
            f"custom_domain.hosted_zone_id must be a Route 53 zone id such as Z0123456789ABC, got {zone!r}"
        )
    return CustomDomain(name=name, certificate_arn=certificate, hosted_zone_id=zone)
