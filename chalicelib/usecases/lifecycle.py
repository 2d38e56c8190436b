"""An event's stages after it is saved: a draft published (once, confirmed), a draft deleted, an ended event archived.

A draft is written hidden in the very write that creates it (publishing.publish_event), so the public,
the API and registration never see it; publishing it removes both marks in one conditional write.
Only a draft that nobody registered for can be deleted, and then every item of the event goes.
"""

from __future__ import annotations

from datetime import datetime

from chalicelib.domain.clock import iso
from chalicelib.store import schema
from chalicelib.store.dynamo import ConditionFailed, Table
from chalicelib.usecases.catalog import ARCHIVED, DRAFT, UNPUBLISHED


def publish_draft(table: Table, slug: str) -> bool:
    """Make a draft public (page, list, API, registration); False if it is not a draft (published already)."""
    try:
        table.update(schema.event_key(slug), f"REMOVE {DRAFT}, {UNPUBLISHED}", condition=f"attribute_exists({DRAFT})")
    except ConditionFailed:
        return False
    return True


def delete_draft(table: Table, slug: str) -> bool:
    """Delete a draft and everything stored under it; False (nothing deleted) unless it is a draft nobody holds."""
    try:
        # Marked first, conditioned on being a draft with no seat or place: a registration cannot slip in
        # (drafts take none), and a publish racing this one finds the mark gone and fails.
        table.update(
            schema.event_key(slug),
            f"REMOVE {DRAFT}",
            condition=f"attribute_exists({DRAFT}) AND seats_taken = :zero AND waiting = :zero",
            values={":zero": 0},
        )
    except ConditionFailed:
        return False
    for row in table.query("pk = :pk", {":pk": schema.event_pk(slug)}):
        table.delete({schema.PK: row[schema.PK], schema.SK: row[schema.SK]})
    return True


def archive(table: Table, slug: str, now: datetime) -> bool:
    """Put an ended event away (the dashboard lists it apart); False unless it has ended."""
    try:
        table.update(
            schema.event_key(slug),
            f"SET {ARCHIVED} = :now",
            condition="attribute_exists(pk) AND #due <= :now",
            values={":now": iso(now)},
            names={"#due": schema.DUE},
        )
    except ConditionFailed:
        return False
    return True
