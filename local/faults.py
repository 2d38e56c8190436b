"""A fault layer in front of DynamoDB Local: transactions cancelled for conflicts, as real DynamoDB cancels them.

DynamoDB Local serializes concurrent transactions and never cancels one for a conflict. Real DynamoDB
cancels a TransactWriteItems whose items another transaction holds, with the reason
`TransactionConflict` for the item in question and `None` for the others (TransactWriteItems, in the
DynamoDB API Reference). This wrapper does that to a chosen share of transactions, before they reach
the engine, so nothing of a cancelled one is written. Used by the tests and `make bench`; nothing in
production wraps its client.
"""

from __future__ import annotations

import random
import threading
from typing import Any

from botocore.exceptions import ClientError


class ConflictingClient:
    """A DynamoDB client that cancels transactions for a conflict: the `first` ones, then `share` of the rest."""

    def __init__(self, client: Any, share: float = 0.0, seed: int | None = None, first: int = 0) -> None:
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"share must be between 0 and 1, got {share}")
        self._client = client
        self.share = share
        self.first = first
        self._random = random.Random(seed)  # noqa: S311 (fault injection, not a secret)
        self._lock = threading.Lock()
        self.transactions = 0
        self.cancelled = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def transact_write_items(self, **kwargs: Any) -> Any:
        """Cancel this transaction for a conflict (with the chosen probability), else send it on."""
        items = kwargs["TransactItems"]
        with self._lock:
            self.transactions += 1
            conflict = self.transactions <= self.first or self._random.random() < self.share
            held = self._random.randrange(len(items))
            if conflict:
                self.cancelled += 1
        if not conflict:
            return self._client.transact_write_items(**kwargs)
        reasons = [
            {"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"}
            if index == held
            else {"Code": "None"}
            for index in range(len(items))
        ]
        codes = ", ".join(reason["Code"] for reason in reasons)
        error = {
            "Error": {
                "Code": "TransactionCanceledException",
                "Message": f"Transaction cancelled, please refer cancellation reasons for specific reasons [{codes}]",
            },
            "CancellationReasons": reasons,
        }
        raise ClientError(error, "TransactWriteItems")  # type: ignore[arg-type]
