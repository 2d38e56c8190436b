"""The organizer's logo: stored once (manage.py set-logo), shown inline on every page beside the site's name.

It is kept as the picture's bytes (base64) with the type read from those bytes, and pages carry it
as a data: URI, so no binary response ever has to pass API Gateway. The size limit keeps every page light.
"""

from __future__ import annotations

import base64
from datetime import datetime

from chalicelib.domain.clock import iso
from chalicelib.domain.site import logo_type
from chalicelib.store import schema
from chalicelib.store.dynamo import Table


def store_logo(table: Table, data: bytes, now: datetime) -> str:
    """Keep the logo (checked: PNG, JPEG, GIF or WebP, small); returns its type. SiteIdentityError if unfit."""
    kind = logo_type(data)
    table.put(
        {**schema.logo_key(), "content_type": kind, "data": base64.b64encode(data).decode("ascii"), "set_at": iso(now)}
    )
    return kind


def remove_logo(table: Table) -> None:
    """Show no logo any more."""
    table.delete(schema.logo_key())


def logo_uri(table: Table) -> str:
    """The logo as a data: URI for an img element ('' when there is none)."""
    item = table.get(schema.logo_key())
    if item is None:
        return ""
    return f"data:{item['content_type']};base64,{item['data']}"
