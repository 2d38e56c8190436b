"""Whether this deployment can send an event's mail from an address: the stack allows it, and SES verified it.

The functions' role may send only as the identities the stage named when it was deployed
(deploy/package.send_identities: each sender address and its domain). An event saved in the browser with
another sender would meet AccessDenied on every mail, so saving it is refused instead, with the reason,
before anyone registers. SES must also have verified the address or its domain for sending ("Verified
identities" in the SES Developer Guide): an unverified one is refused at once for the same reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum
from typing import Any

from botocore.exceptions import ClientError


class SenderRefusal(StrEnum):
    """Why an event's sender cannot be used."""

    NOT_IN_STACK = "not_in_stack"  # the role may not send as it: a deploy must name it first
    NOT_VERIFIED = "not_verified"  # SES has not verified the address or its domain for sending


Verified = Callable[[str], bool]


def identities_of(address: str) -> tuple[str, str]:
    """The two identities SES may authorize a sender against: the address and its domain."""
    lowered = address.strip().lower()
    return lowered, lowered.rpartition("@")[2]


def refusal(address: str, allowed: Iterable[str], verified: Verified) -> SenderRefusal | None:
    """Why mail cannot go out from `address` (None: it can), given the stack's identities and SES's word."""
    known = {identity.lower() for identity in allowed}
    candidates = [identity for identity in identities_of(address) if identity in known]
    if not candidates:
        return SenderRefusal.NOT_IN_STACK
    if not any(verified(identity) for identity in candidates):
        return SenderRefusal.NOT_VERIFIED
    return None


def ses_verified(client: Any) -> Verified:
    """Asks SES (API v2 GetEmailIdentity) whether an identity is verified for sending in this account."""

    def verified(identity: str) -> bool:
        try:
            answer = client.get_email_identity(EmailIdentity=identity)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "NotFoundException":
                return False
            raise
        # AWS's own word for "mail may go out from it" (SES API v2 GetEmailIdentity). moto never sets it:
        # the local engines answer through local/engines.moto_verified instead.
        return bool(answer.get("VerifiedForSendingStatus"))

    return verified
