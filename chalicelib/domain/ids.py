"""Identifiers: random, unguessable, and readable aloud at the reception desk."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable

# Crockford's base32: no I, L, O, U, so a number read out at the reception desk is unambiguous.
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


IdGenerator = Callable[[], str]


def new_id(length: int = 10) -> str:
    """A random id of `length` base32 characters (10 characters = 50 bits: unguessable)."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def derived_id(*parts: str, length: int = 10) -> str:
    """An id fixed by `parts` (the same parts give the same id), in new_id's alphabet and length."""
    number = int.from_bytes(hashlib.sha256("\n".join(parts).encode("utf-8")).digest(), "big")
    return "".join(_ALPHABET[(number >> (5 * place)) & 31] for place in range(length))
