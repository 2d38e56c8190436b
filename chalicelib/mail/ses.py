"""Amazon SES: the one place that sends, sorting its answers into retry-later, held and never-again.

Everything above this module sees a `Mailer`: tests and the local runner hand in another one. mail/pacing.py
keeps the account's send rate.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from mypy_boto3_sesv2 import SESV2Client

# SES answers that will not change if the same mail is sent again.
_PERMANENT_SES_ERRORS = frozenset({"MessageRejected", "BadRequestException", "InvalidParameterValue"})
# SES answers that no mail like this one gets past until someone changes a setting (SES API v2 SendEmail's
# errors, and IAM's AccessDenied for a sender the role may not use): retrying only loops, so the mail is held.
_BLOCKING_SES_ERRORS = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "AccountSuspendedException",
        "MailFromDomainNotVerifiedException",
        "NotFoundException",  # the configuration set is gone
        "SendingPausedException",
    }
)


class TransientSendError(Exception):
    """SES or the network failed in a way that a retry can fix."""


class PermanentSendError(Exception):
    """SES refused this particular mail; retrying will not help."""


class BlockedSendError(PermanentSendError):
    """SES refuses every mail like this until an operator fixes a setting (the sender, the account)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


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
            if code in _BLOCKING_SES_ERRORS:
                raise BlockedSendError(code) from exc
            if code in _PERMANENT_SES_ERRORS:
                raise PermanentSendError(code) from exc
            raise TransientSendError(code or "unknown SES error") from exc
        except BotoCoreError as exc:  # connection reset, timeout, endpoint unreachable
            raise TransientSendError(type(exc).__name__) from exc


# What Amazon SES refuses, from its documentation (MessageTag; service quotas; "SES does not support
# SMTPUTF8"). moto accepts all of it, so without this check a suite could pass that real SES fails.
_TAG_TEXT = re.compile(r"[A-Za-z0-9_-]{1,256}")
MAX_RAW_BYTES = 40 * 1024 * 1024  # the v2 API's limit for a whole message, after base64 encoding
MAX_TAGS = 50


class SesContract:
    """A Mailer that refuses, before sending, what SES would refuse; every sender in the app goes through one."""

    def __init__(self, inner: Mailer) -> None:
        self._inner = inner

    def send(self, raw: bytes, sender: str, to: str, tags: Mapping[str, str] | None = None) -> str:
        """Send through the inner Mailer, or raise PermanentSendError naming the rule SES would apply."""
        problem = contract_problem(raw, sender, to, tags or {})
        if problem:
            raise PermanentSendError(f"SES would refuse this mail: {problem}")
        return self._inner.send(raw, sender, to, tags)


def contract_problem(raw: bytes, sender: str, to: str, tags: Mapping[str, str]) -> str:
    """What about this mail SES would refuse ("" if nothing)."""
    for role, address in (("sender", sender), ("recipient", to)):
        local, at, domain = address.rpartition("@")
        if not at or not local or not domain:
            return f"the {role} address has no local part or domain"
        if not address.isascii():
            return f"the {role} address is not ASCII (SES has no SMTPUTF8; domains go in their IDNA form)"
        if len(local) > 64:
            return f"the {role} address has more than 64 characters before the @"
    if len(tags) > MAX_TAGS:
        return f"more than {MAX_TAGS} message tags"
    for name, value in tags.items():
        if not _TAG_TEXT.fullmatch(name) or not _TAG_TEXT.fullmatch(value):
            return f"message tag {name!r}={value!r} holds more than ASCII letters, digits, _ and - (or over 256)"
    encoded = (len(raw) + 2) // 3 * 4
    if encoded > MAX_RAW_BYTES:
        return f"the message is {encoded:,} bytes after base64 encoding (at most {MAX_RAW_BYTES:,})"
    return ""
