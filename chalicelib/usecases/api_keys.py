"""API keys: the JSON API answers only integrations an organizer has let in, each with a key of its own.

An organizer issues a key with a name (what it is for) and a scope (every event, or one). The key
is shown once; the table keeps only a SHA-256 digest of its secret part, so a copy of the table lets
nobody in. A revoked key stops working at once. Each key may make RATE_PER_MINUTE calls a minute,
counted in the table, so one leaked key cannot fill an event's seats in seconds. A key issued with
UNLIMITED is not counted: only the test suite issues such keys (generated requests must reach past
the key check on a stopped clock); organizers' pages and the console never do.

A key reads `uk_<id>_<secret>`: the id finds the stored digest, the secret (256 random bits) is
compared with it in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from chalicelib.domain.attendee import clean_line
from chalicelib.domain.clock import iso
from chalicelib.domain.ids import IdGenerator
from chalicelib.store import schema
from chalicelib.store.dynamo import ConditionFailed, Item, Table
from chalicelib.text import messages as msg
from chalicelib.text.i18n import gettext
from chalicelib.usecases import catalog

EVERY_EVENT = "*"
RATE_PER_MINUTE = 120
# A key's rate of 0: no limit, and no counter written per call.
UNLIMITED = 0
NAME_LIMIT = 80
_TOKEN = re.compile(r"uk_([0-9A-Z]{10})_([A-Za-z0-9_-]{43})")


class Access(StrEnum):
    """What a request's key allows."""

    ALLOWED = "allowed"
    MISSING = "missing"  # no key sent
    REFUSED = "refused"  # unknown, mistyped, revoked, or for another event: one answer for all
    TOO_MANY = "too_many"  # over RATE_PER_MINUTE this minute


@dataclass(frozen=True)
class ApiKey:
    """A key as organizers see it: never its secret."""

    key_id: str
    name: str
    scope: str  # EVERY_EVENT or one event's slug
    created_at: str
    created_by: str
    revoked_at: str = ""

    @classmethod
    def from_item(cls, item: Item) -> ApiKey:
        """Build from a table item."""
        return cls(
            key_id=str(item["key_id"]),
            name=str(item["name"]),
            scope=str(item["scope"]),
            created_at=str(item["created_at"]),
            created_by=str(item.get("created_by", "")),
            revoked_at=str(item.get("revoked_at", "")),
        )


def issue(
    table: Table,
    name: str,
    scope: str,
    by: str,
    now: datetime,
    ids: IdGenerator,
    rate_per_minute: int = RATE_PER_MINUTE,
) -> tuple[ApiKey, str]:
    """A new key for `scope` (EVERY_EVENT or a slug); returns it and the token, which is never stored."""
    key_id = ids()
    secret = secrets.token_urlsafe(32)
    item = {
        **schema.api_key_key(key_id),
        "key_id": key_id,
        "name": name,
        "scope": scope,
        "digest": _digest(secret),
        "created_at": iso(now),
        "created_by": by,
        "rate_per_minute": rate_per_minute,
    }
    table.put(item, condition="attribute_not_exists(pk)")
    return ApiKey.from_item(item), f"uk_{key_id}_{secret}"


@dataclass(frozen=True)
class Request:
    """The organizer's form for a new key, checked: the name and scope asked for, and what is wrong."""

    name: str
    scope: str
    errors: dict[str, str]


def check_request(table: Table, fields: dict[str, str]) -> Request:
    """A key needs a name (what it is for, at most NAME_LIMIT characters) and every event or one that exists."""
    name, scope = clean_line(fields.get("name", "")), fields.get("scope", EVERY_EVENT)
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = msg.API_KEY_NAME_NEEDED
    elif len(name) > NAME_LIMIT:
        errors["name"] = gettext(msg.API_KEY_NAME_TOO_LONG).format(limit=NAME_LIMIT, length=len(name))
    if scope != EVERY_EVENT and catalog.get_event(table, scope) is None:
        errors["scope"] = msg.API_KEY_SCOPE_UNKNOWN
    return Request(name, scope, errors)


def revoke(table: Table, key_id: str, by: str, now: datetime) -> bool:
    """Stop a key at once; False if there is no such key or it was revoked already."""
    try:
        table.update(
            schema.api_key_key(key_id),
            "SET revoked_at = :now, revoked_by = :by",
            values={":now": iso(now), ":by": by},
            condition="attribute_exists(pk) AND attribute_not_exists(revoked_at)",
        )
    except ConditionFailed:
        return False
    return True


def listed(table: Table) -> list[ApiKey]:
    """Every key issued, newest first (revoked ones too: organizers see what was let in, and when)."""
    rows = table.query(
        "pk = :pk AND begins_with(sk, :prefix)",
        {":pk": schema.event_pk(schema.SITE_SLUG), ":prefix": schema.API_KEY_PREFIX},
    )
    return sorted((ApiKey.from_item(row) for row in rows), key=lambda k: k.created_at, reverse=True)


def check(table: Table, authorization: str | None, slug: str, now: datetime) -> Access:
    """Whether the `Authorization: Bearer <key>` header lets a call about event `slug` through now."""
    if not authorization:
        return Access.MISSING
    scheme, _, token = authorization.partition(" ")
    found = _TOKEN.fullmatch(token.strip()) if scheme.lower() == "bearer" else None
    if found is None:
        return Access.REFUSED
    key_id, secret = found.groups()
    item = table.get(schema.api_key_key(key_id))
    if item is None or item.get("revoked_at") or item.get("scope") not in (EVERY_EVENT, slug):
        return Access.REFUSED
    if not hmac.compare_digest(str(item["digest"]), _digest(secret)):
        return Access.REFUSED
    limit = int(item.get("rate_per_minute", RATE_PER_MINUTE))
    if limit == UNLIMITED:
        return Access.ALLOWED
    return Access.ALLOWED if _counted(table, key_id, now, limit) else Access.TOO_MANY


def _counted(table: Table, key_id: str, now: datetime, limit: int) -> bool:
    """Count this call in the key's minute; False once the minute's calls are used up."""
    minute = int(now.timestamp() // 60)
    try:
        table.update(
            schema.api_key_rate_key(key_id, minute),
            "ADD calls :one SET expires_at = :ttl",
            values={":one": 1, ":limit": limit, ":ttl": (minute + 2) * 60},
            condition="attribute_not_exists(calls) OR calls < :limit",
        )
    except ConditionFailed:
        return False
    return True


def _digest(secret: str) -> str:
    # The secret has 256 random bits: a plain hash is as strong as a slow one would be, and cheap per call.
    return hashlib.sha256(secret.encode("ascii")).hexdigest()
