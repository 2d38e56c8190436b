"""Reading an event's registrations: one by id, or all in a state, page by page."""

from __future__ import annotations

from chalicelib.domain.registration import Registration, RegistrationStatus
from chalicelib.store import schema
from chalicelib.store.dynamo import Item, Table


def get_registration(table: Table, slug: str, registration_id: str) -> Registration | None:
    """One registration, or None."""
    item = table.get(schema.registration_key(slug, registration_id))
    return Registration.from_item(item) if item else None


def registrations_in(table: Table, slug: str, status: RegistrationStatus, *fields: str) -> list[Item]:
    """Every registration of the event in `status`, with its id and `fields` only, read page by page."""
    rows = table.query(
        "pk = :pk AND begins_with(sk, :prefix)",
        {":pk": schema.event_pk(slug), ":prefix": schema.REG_PREFIX},
        projection=", ".join(("registration_id", "#status", *fields)),
        names={"#status": "status"},
    )
    return [row for row in rows if row.get("status") == status.value]


def confirmed_registration_ids(table: Table, slug: str) -> list[str]:
    """Ids of every registration that holds a seat."""
    return [row["registration_id"] for row in registrations_in(table, slug, RegistrationStatus.CONFIRMED)]
