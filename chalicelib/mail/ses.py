"""Amazon SES: the one place that sends, sorting SES's answers into retry-later and never-again, and pacing sends.

Everything above this module sees a `Mailer`: tests and the local runner hand in another one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client

# SES answers that will not change if the same mail is sent again.
_PERMANENT_SES_ERRORS = frozenset({"MessageRejected", "BadRequestException", "InvalidParameterValue"})


class TransientSendError(Exception):
    """SES or the network failed in a way that a retry can fix."""


class PermanentSendError(Exception):
    """SES refused this particular mail; retrying will not help."""


class Mailer(Protocol):
    """Sends one raw MIME message and returns the provider's message id."""

    def send(self, raw: bytes, sender: str, to: str, tags: Mapping[str, str] | None = None) -> str: ...


class SesMailer:
    """The Mailer for Amazon SES (v2 API)."""

    def __init__(self, client: SESV2Client, configuration_set: str | None = None) -> None:
        self._client = client
        self._configuration_set = configuration_set

    def send(self, raw: bytes, sender: str, to: str, tags: Mapping[str, str] | None = None) -> str:
        """Send through SES, sorting its errors into transient and permanent."""
        kwargs: dict[str, Any] = {
            "FromEmailAddress": sender,
            "Destination": {"ToAddresses": [to]},
            "Content": {"Raw": {"Data": raw}},
        }
        if tags:
            # SES hands the tags back with bounces and complaints: that is how feedback finds its mail.
            kwargs["EmailTags"] = [{"Name": name, "Value": value} for name, value in tags.items()]
        if self._configuration_set:
            kwargs["ConfigurationSetName"] = self._configuration_set
        try:
            return self._client.send_email(**kwargs)["MessageId"]
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in _PERMANENT_SES_ERRORS:
                raise PermanentSendError(code) from exc
            raise TransientSendError(code or "unknown SES error") from exc
        except BotoCoreError as exc:  # connection reset, timeout, endpoint unreachable
            raise TransientSendError(type(exc).__name__) from exc


class RateLimiter:
    """Spaces calls at least 1/rate seconds apart, so sends stay within the SES quota."""

    def __init__(
        self,
        rate_per_second: float,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._interval = 1.0 / rate_per_second
        self._monotonic = monotonic
        self._sleep = sleep
        self._next = 0.0
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Block until the next send is allowed; safe to call from several threads."""
        with self._lock:  # hand out send slots one by one; sleep outside the lock
            now = self._monotonic()
            slot = max(now, self._next)
            self._next = slot + self._interval
        if slot > now:
            self._sleep(slot - now)
