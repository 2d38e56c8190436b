"""Idempotency keys for the JSON API, as payment APIs keep them.

A client that may send a request twice (a timeout, a retry) names it with an `Idempotency-Key`
header. The first request with a key is carried out and its answer (status and body) kept for
KEPT_FOR; the same request with the same key gets that very answer again, however often. The same
key with a different request is refused, as is a key whose first request is still being carried out.

Timeline of one key:
  1. begin    a conditional put claims the key with the request's fingerprint (or finds it taken);
  2. the registration runs (its own transaction is idempotent too: the key names the submission);
  3. finish   the answer is stored on the key's item.
A process that dies between 1 and 3 leaves the key claimed; after IN_PROGRESS_FOR another request
with the same key and fingerprint takes it over and carries the request out (step 2 is idempotent).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from chalicelib.domain.clock import iso
from chalicelib.store import schema
from chalicelib.store.dynamo import ConditionFailed, Table

# Printable ASCII without spaces, 1 to 255 characters: UUIDs, ULIDs, hex digests and the like.
KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,255}")
KEPT_FOR = timedelta(hours=24)
IN_PROGRESS_FOR = timedelta(seconds=60)


class KeyReused(Exception):
    """The key was first used with a different request."""


class StillInProgress(Exception):
    """The first request with this key has not finished yet; try again shortly."""


@dataclass(frozen=True)
class Answer:
    """A stored answer: what the first request with the key was told."""

    status: int
    body: dict[str, Any]


def fingerprint(slug: str, request: Any) -> str:
    """What identifies a request: its event and its body, whatever the order of its fields."""
    canonical = json.dumps([slug, request], sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def submission_id(key: str) -> str:
    """The registration's submission id for a key: the same key always names the same submission."""
    digest = hashlib.sha256(key.encode("ascii")).digest()
    return base64.b32encode(digest).decode("ascii").rstrip("=")[:26]


def begin(table: Table, slug: str, key: str, print_: str, now: datetime) -> Answer | None:
    """Claim the key for this request (None: carry it out), or the answer it already has.

    Raises KeyReused for another request under the same key, StillInProgress while the first runs.
    """
    item_key = _key(slug, key)
    try:
        table.put(
            {
                **item_key,
                "fingerprint": print_,
                "started_at": iso(now),
                schema.TTL_ATTRIBUTE: int((now + KEPT_FOR).timestamp()),
            },
            # A new key, or one kept longer than promised (TTL deletes lazily), or a first run that died.
            condition="attribute_not_exists(pk) OR #ttl < :now_epoch"
            " OR (fingerprint = :print AND attribute_not_exists(answer) AND started_at < :stale)",
            names={"#ttl": schema.TTL_ATTRIBUTE},
            values={
                ":now_epoch": int(now.timestamp()),
                ":print": print_,
                ":stale": iso(now - IN_PROGRESS_FOR),
            },
        )
        return None
    except ConditionFailed as exc:
        found = exc.item or table.get(item_key) or {}
    if found.get("fingerprint") != print_:
        raise KeyReused(key)
    if "answer" not in found:
        raise StillInProgress(key)
    return Answer(int(found["status"]), json.loads(found["answer"]))


def finish(table: Table, slug: str, key: str, answer: Answer) -> None:
    """Keep the answer the first request with the key was given."""
    table.update(
        _key(slug, key),
        "SET #status = :status, answer = :answer",
        values={":status": answer.status, ":answer": json.dumps(answer.body, ensure_ascii=False)},
        names={"#status": "status"},
    )


def abandon(table: Table, slug: str, key: str, print_: str) -> None:
    """Free the key of a request that ended without an answer worth keeping (busy: the client sends it again)."""
    with contextlib.suppress(ConditionFailed):  # answered meanwhile, or not ours: nothing to free
        table.delete(
            _key(slug, key),
            condition="fingerprint = :print AND attribute_not_exists(answer)",
            values={":print": print_},
        )


def _key(slug: str, key: str) -> dict[str, str]:
    return schema.idempotency_key(slug, hashlib.sha256(key.encode("ascii")).hexdigest())
