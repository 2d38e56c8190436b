"""Organizer sign-in: a one-time e-mail link, then a session that expires; no password exists anywhere.

1. An organizer types their address. Each request gets a link of its own: one transaction counts
   the request (at most SIGN_IN_LIMIT per address per SIGN_IN_VALID, so the form cannot flood an
   inbox), stores a one-time sign-in item and queues the sign-in mail in the outbox. Someone else
   asking for an organizer's address only adds links to that organizer's inbox, every one of which
   works, so nobody can use the form to keep an organizer out. For an address the deployment does not
   list, the same three writes happen (the mail marked never to be sent, the address kept only as a
   digest), so neither the page nor its timing tells who the organizers are.
2. The mail's link carries the item's random nonce and an HMAC over it with its expiry. Opening
   it shows a button; only the POST uses the link, so a mail scanner that fetches links cannot.
3. Using it marks the item used (conditionally: a second use fails) and starts a session: a
   stored item plus a cookie holding its id and an HMAC over id and expiry. Both must agree, so a
   forged cookie fails the HMAC and signing out (deleting the item) ends the session at once.
Every form an organizer posts also carries a token bound to the session (CSRF).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from chalicelib.domain.clock import iso, parse_iso
from chalicelib.domain.links import LinkSigner, local_path
from chalicelib.store import schema
from chalicelib.store.dynamo import ConditionFailed, Table, TransactionCancelled
from chalicelib.usecases.outbox import MailKind, MailStatus, mail_item, put_new_mail
from chalicelib.usecases.staff import Role

SIGN_IN_VALID = timedelta(minutes=15)
# Links one address can be sent per SIGN_IN_VALID: enough for a few tries, too few to flood an inbox.
SIGN_IN_LIMIT = 5
SESSION_LENGTH = timedelta(hours=12)  # a day at the reception desk, not a week
COOKIE = "uketsuke_session"
_PURPOSE_SIGN_IN = "sign-in"
_PURPOSE_SESSION = "session"
_PURPOSE_CSRF = "csrf"


@dataclass(frozen=True)
class Session:
    """A signed-in organizer."""

    session_id: str
    email: str
    expires: datetime
    role: Role | None = None  # read on every request (usecases/staff.py), never stored with the session
    events: frozenset[str] = frozenset()  # the events staff are limited to, read with the role (empty: all)

    def may_open(self, slug: str) -> bool:
        """Whether this session may open the event's pages (owners always; others their events, or all)."""
        return self.role is Role.OWNER or not self.events or slug in self.events


def return_path(candidate: str) -> str:
    """Where to go after signing in: an organizer page this site serves, never another site."""
    return local_path(candidate, within="/organizer", fallback="/organizer")


class SignInRequest(StrEnum):
    """What asking for a sign-in link did (the page says the same in every case)."""

    QUEUED = "queued"  # a link is on its way to a listed organizer
    NOT_LISTED = "not_listed"  # the same writes, but nothing is mailed
    LIMIT_REACHED = "limit_reached"  # SIGN_IN_LIMIT links went to this address within SIGN_IN_VALID


def request_sign_in(
    table: Table, organizers: frozenset[str], email: str, now: datetime, then: str = "/organizer"
) -> SignInRequest:
    """Queue a sign-in link of its own for a listed organizer; for any other address do the same work, mail nothing.

    `then` is the organizer page they were opening (a scanned QR code, say): the link leads back there.
    The caller has refused a `then` that return_path() would not keep.
    """
    address = email.strip().lower()
    listed = address in organizers
    digest = schema.email_digest(address)
    nonce = secrets.token_urlsafe(24)
    ttl = {schema.TTL_ATTRIBUTE: int((now + timedelta(days=1)).timestamp())}
    window = int(now.timestamp() // SIGN_IN_VALID.total_seconds())
    count = {
        "Update": {
            "Key": schema.sign_in_count_key(digest, window),
            "UpdateExpression": "ADD requests :one SET expires_at = :ttl",
            "ConditionExpression": "attribute_not_exists(requests) OR requests < :limit",
            "ExpressionAttributeValues": {":one": 1, ":limit": SIGN_IN_LIMIT, ":ttl": ttl[schema.TTL_ATTRIBUTE]},
        }
    }
    who = {"email": address} if listed else {"email_digest": digest}
    sign_in = {
        **schema.sign_in_key(nonce),
        **who,
        "listed": listed,
        "valid_until": iso(now + SIGN_IN_VALID),
        "then": return_path(then),
        **ttl,
    }
    to = {"to": address} if listed else {"email_digest": digest}
    mail = {**mail_item(schema.SITE_SLUG, f"sign-in-{nonce}", MailKind.SIGN_IN, now, nonce=nonce, **to), **ttl}
    if not listed:
        # Never sent: not pending (the postman claims only pending mail) and not in the queue of work.
        mail.update(status=MailStatus.SKIPPED.value)
        del mail[schema.QUEUE], mail[schema.DUE]
    try:
        table.transact([count, {"Put": {"Item": sign_in}}, put_new_mail(mail)])
    except TransactionCancelled as exc:
        if exc.only_condition_failures:
            return SignInRequest.LIMIT_REACHED
        raise
    return SignInRequest.QUEUED if listed else SignInRequest.NOT_LISTED


def sign_in_token(signer: LinkSigner, nonce: str, valid_until: datetime) -> str:
    """The HMAC that makes a sign-in link usable."""
    return signer.stamp(_PURPOSE_SIGN_IN, (nonce,), valid_until)


def sign_in_path(nonce: str, token: str) -> str:
    """Path of a sign-in link (the site's prefix goes in front)."""
    return f"/organizer/sign-in/{nonce}?token={token}"


def link_is_genuine(signer: LinkSigner, nonce: str, token: str, now: datetime) -> bool:
    """True for an unexpired sign-in link this deployment made (used or not: only using it tells)."""
    valid_until = signer.read(_PURPOSE_SIGN_IN, (nonce,), token)
    return valid_until is not None and valid_until > now


def use_sign_in(table: Table, signer: LinkSigner, nonce: str, token: str, now: datetime) -> tuple[Session, str] | None:
    """Spend a sign-in link and start a session; with the page to go to. None if forged, expired or used."""
    if not link_is_genuine(signer, nonce, token, now):
        return None
    try:
        item = table.update(
            schema.sign_in_key(nonce),
            "SET used_at = :now",
            values={":now": iso(now), ":yes": True},
            condition="attribute_exists(pk) AND attribute_not_exists(used_at) AND valid_until > :now"
            " AND (attribute_not_exists(listed) OR listed = :yes)",
        )
    except ConditionFailed:
        return None
    return start_session(table, str(item["email"]), now), return_path(str(item.get("then", "")))


def start_session(table: Table, email: str, now: datetime) -> Session:
    """A new session for someone whose sign-in link was just spent."""
    session = Session(session_id=secrets.token_urlsafe(24), email=email, expires=now + SESSION_LENGTH)
    table.put(
        {
            **schema.session_key(session.session_id),
            "email": session.email,
            "created_at": iso(now),
            "valid_until": iso(session.expires),
            schema.TTL_ATTRIBUTE: int(session.expires.timestamp()),
        }
    )
    return session


def cookie_value(signer: LinkSigner, session: Session) -> str:
    """What the session cookie holds: the session id and an HMAC over it and its expiry."""
    return f"{session.session_id}.{signer.stamp(_PURPOSE_SESSION, (session.session_id,), session.expires)}"


def set_cookie_header(value: str, path: str, max_age: timedelta) -> str:
    """A Set-Cookie value scripts cannot read and other sites' forms do not send."""
    return f"{COOKIE}={value}; Path={path}; Max-Age={int(max_age.total_seconds())}; HttpOnly; Secure; SameSite=Lax"


def read_session(table: Table, signer: LinkSigner, cookie: str, now: datetime) -> Session | None:
    """The session a cookie stands for, if it is genuine, unexpired and not signed out."""
    session_id, _, stamp = cookie.partition(".")
    if not session_id or not stamp:
        return None
    expires = signer.read(_PURPOSE_SESSION, (session_id,), stamp)
    if expires is None or expires <= now:
        return None
    item = table.get(schema.session_key(session_id))
    if item is None or parse_iso(str(item["valid_until"])) <= now:
        return None
    return Session(session_id=session_id, email=str(item["email"]), expires=expires)


def sign_out(table: Table, session: Session) -> None:
    """End the session everywhere: the cookie alone no longer opens anything."""
    table.delete(schema.session_key(session.session_id))


def csrf_token(signer: LinkSigner, session: Session) -> str:
    """The token every organizer form carries: only pages served to this session have it."""
    return signer.stamp(_PURPOSE_CSRF, (session.session_id,), session.expires)


def csrf_ok(signer: LinkSigner, session: Session, token: str) -> bool:
    """True if a posted form came from a page served to this session."""
    return signer.read(_PURPOSE_CSRF, (session.session_id,), token) == session.expires
