"""Identifiers: random, unguessable, and readable aloud at the reception desk."""

from __future__ import annotations

import secrets
from collections.abc import Callable

# Crockford's base32: no I, L, O, U, so a number read out at the reception desk is unambiguous.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


IdGenerator = Callable[[], str]


def new_id(length: int = 10) -> str:
    """A random id of `length` base32 characters (10 characters = 50 bits: unguessable)."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))
