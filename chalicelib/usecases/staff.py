"""Who may use the organizer pages, and for what: owners, staff and door staff, managed in the browser.

Roles nest: door staff check people in and search at the door and see nothing else; staff also
see registrations, export lists and write to registrants; owners also manage staff, API keys and
announcements. The deployment's organizer list (the stage file's `organizers`) seeds the first
owners, so a fresh deployment is never locked out; a stored role for one of them overrides the seed,
and removing one stores that they were removed. The role is read on every request, so a change or
a removal takes effect at once, sessions included. The last owner can be neither removed nor demoted,
even by two owners demoting each other at once: every change is written conditioned on the roles'
version it read, so concurrent changes happen one after the other and the second sees the first.
Staff and door staff may be limited to chosen events (an 受付 volunteer for one study session sees
nothing of the others); owners always see every event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from chalicelib.domain.clock import iso
from chalicelib.store import schema
from chalicelib.store.dynamo import Item, Table
from chalicelib.store.retry import PATIENT, transact_or_lose


class Role(StrEnum):
    """What someone may do on the organizer pages (each includes the ones below it)."""

    OWNER = "owner"
    STAFF = "staff"
    DOOR = "door"


_RANK = {Role.DOOR: 1, Role.STAFF: 2, Role.OWNER: 3}
_REMOVED = "removed"  # stored for a seeded owner who was removed, so the seed no longer applies


def allows(role: Role | None, needed: Role) -> bool:
    """True if `role` may do what `needed` may."""
    return role is not None and _RANK[role] >= _RANK[needed]


@dataclass(frozen=True)
class Member:
    """One person with a role."""

    email: str
    role: Role
    added_by: str = ""  # '' for a seed from the deployment's settings
    added_at: str = ""
    events: frozenset[str] = frozenset()  # the events they may open (empty: every event; sign_in.Session.may_open)


def members(table: Table, seeds: frozenset[str]) -> list[Member]:
    """Everyone with a role: stored ones and the seeds nobody changed, owners first, then by address."""
    stored = {
        row[schema.SK].removeprefix(schema.STAFF_PREFIX): row
        for row in table.query(
            "pk = :pk AND begins_with(sk, :prefix)",
            {":pk": schema.event_pk(schema.SITE_SLUG), ":prefix": schema.STAFF_PREFIX},
        )
    }
    found = [_member(email, row) for email, row in stored.items() if row.get("role") != _REMOVED]
    found += [Member(email, Role.OWNER) for email in seeds if email not in stored]
    return sorted(found, key=lambda m: (-_RANK[m.role], m.email))


def _member(email: str, row: Item) -> Member:
    events = frozenset(str(slug) for slug in row.get("events", []))
    return Member(email, Role(row["role"]), str(row.get("added_by", "")), str(row.get("added_at", "")), events)


def member_of(table: Table, seeds: frozenset[str], email: str) -> Member | None:
    """One address's role and events now (None: may not use the organizer pages)."""
    address = email.strip().lower()
    row = table.get(schema.staff_key(address))
    if row is not None:
        return None if row.get("role") == _REMOVED else _member(address, row)
    return Member(address, Role.OWNER) if address in seeds else None


def role_of(table: Table, seeds: frozenset[str], email: str) -> Role | None:
    """The role of one address now (None: may not use the organizer pages)."""
    found = member_of(table, seeds, email)
    return found.role if found else None


class Change(StrEnum):
    """How a change to someone's role ended."""

    SAVED = "saved"
    LAST_OWNER = "last_owner"  # it would leave nobody able to manage staff


def set_role(
    table: Table,
    seeds: frozenset[str],
    email: str,
    role: Role | None,
    by: str,
    now: datetime,
    events: frozenset[str] = frozenset(),
) -> Change:
    """Give `email` a role (for `events` only, if any are named), or take it away (None).

    Never leaves the deployment without an owner; an owner is never limited to events.
    """
    address = email.strip().lower()

    def attempt() -> Change:
        version = int((table.get(schema.roles_key()) or {}).get("version", 0))
        owners = [m.email for m in members(table, seeds) if m.role is Role.OWNER]
        if owners == [address] and role is not Role.OWNER:
            return Change.LAST_OWNER
        _write_role(table, address, role, by, now, events, version)
        return Change.SAVED

    changed = PATIENT.run(attempt, f"changing the role of {address}")
    if changed is Change.SAVED and role is None:
        end_sessions(table, address)
    return changed


def _write_role(
    table: Table, address: str, role: Role | None, by: str, now: datetime, events: frozenset[str], version: int
) -> None:
    """Store one role, only if no other change of roles came since `version` was read (else LostRace)."""
    item: dict[str, object] = {
        **schema.staff_key(address),
        "role": role.value if role else _REMOVED,
        "added_by": by,
        "added_at": iso(now),
    }
    if role in (Role.STAFF, Role.DOOR) and events:
        item["events"] = sorted(events)
    moved_on = {
        "Update": {
            "Key": schema.roles_key(),
            "UpdateExpression": "SET version = :next",
            "ConditionExpression": "(attribute_not_exists(version) AND :read = :zero) OR version = :read",
            "ExpressionAttributeValues": {":next": version + 1, ":read": version, ":zero": 0},
        }
    }
    transact_or_lose(table, [{"Put": {"Item": item}}, moved_on])


def end_sessions(table: Table, email: str) -> None:
    """Every open session of `email` ends: someone removed and added again signs in again."""
    rows = table.query(
        "pk = :pk AND begins_with(sk, :prefix)",
        {":pk": schema.event_pk(schema.SITE_SLUG), ":prefix": schema.SESSION_PREFIX},
    )
    for row in rows:
        if str(row.get("email", "")).lower() == email:
            table.delete({schema.PK: row[schema.PK], schema.SK: row[schema.SK]})
