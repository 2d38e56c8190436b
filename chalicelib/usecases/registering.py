"""Taking a seat: one DynamoDB transaction per registration, correct under any concurrency.

The transaction holds four writes that succeed or fail together:
  1. the event's seat counter, only if the event is open, before its deadline and below capacity;
  2. the e-mail guard, only if this address has not registered for this event;
  3. the registration itself;
  4. the confirmation e-mail in the outbox.
Nothing is read first, so there is no window between a check and a write for a race to use.

When the event is full and keeps a waiting list, the registrant joins it instead, in a second
transaction conditioned on the event still being full (changes.py cancels; waitlist.py moves the line up).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from chalicelib import telemetry
from chalicelib.domain.attendee import Attendee
from chalicelib.domain.clock import iso, iso_precise
from chalicelib.domain.event import REASON_EVENT_CANCELLED, STATUS_OPEN, Event
from chalicelib.domain.ids import IdGenerator, derived_id, new_id
from chalicelib.domain.ledger import Claim, Ledger, claim, claim_names
from chalicelib.domain.questions import answers_of
from chalicelib.domain.registration import RegistrationStatus
from chalicelib.store import schema
from chalicelib.store.dynamo import CancelReason, Item, Table, TransactionCancelled, put_new
from chalicelib.store.retry import BRIEF, LostRace, RetryPolicy, StillContended
from chalicelib.usecases import choices
from chalicelib.usecases.address_guards import guard_item, resend_confirmation
from chalicelib.usecases.outbox import MailKind, confirmation_id, mail_item, put_new_mail, status_mail_id
from chalicelib.usecases.registrations import get_registration
from chalicelib.usecases.waitlist import upgrade_ledger


class Outcome(StrEnum):
    """How a registration attempt ended."""

    REGISTERED = "registered"
    WAITLISTED = "waitlisted"
    APPLIED = "applied"  # a lottery application, waiting for the draw
    DRAWING = "drawing"  # the lottery's applications closed and its draw has not run yet
    ALREADY_REGISTERED = "already_registered"
    FULL = "full"
    CLOSED = "closed"
    NOT_FOUND = "not_found"
    BUSY = "busy"  # every retry lost its race (DynamoDB cancelled it for conflicts): nothing was written
    CHOICE_FULL = "choice_full"  # an answer with a capacity (懇親会 30名) has none left: nothing was written
    RESUBMITTED = "resubmitted"  # this submission (form page) registered someone already: nothing was written


@dataclass(frozen=True)
class OnBehalf:
    """A registration staff take for someone (phone, FAX, the counter, a walk-in at the door).

    It follows the seat ledger like any other, but not the form's calendar: staff may add someone
    after the deadline or once the event is closed, as long as a seat (or a place) is there.
    """

    by: str  # the staff member's address
    channel: str  # how the request came: assisted.Channel
    send_mail: bool = True  # the confirmation goes out (never without an address)
    walk_in: bool = False  # a seat now and checked in, in the same write; never a place in line
    seat_only: bool = False  # a seat or nothing (a cancelled registration taken back): never a place in line
    # More writes for the same transaction, given the registration's id (the audit entry).
    also: Callable[[str], list[dict[str, Any]]] = lambda registration_id: []

    @property
    def needs_a_seat(self) -> bool:
        """A seat now or nothing: no place in line, no lottery application."""
        return self.walk_in or self.seat_only


@dataclass(frozen=True)
class RegistrationResult:
    """The answer to one registration attempt."""

    outcome: Outcome
    registration_id: str = ""
    confirmation_resent: bool = False


class Path(StrEnum):
    """The ways a registration can go in, each one transaction with its own conditions."""

    RESERVED = Claim.RESERVED.value  # a seat reserved for the attendee's category
    GENERAL = Claim.GENERAL.value  # a seat nobody reserved
    WAITLIST = Claim.WAITLIST.value  # a place in the waiting list
    APPLICATION = "application"  # an application for a lottery's draw: takes nothing from the ledger yet


def register(
    table: Table,
    event: Event,
    attendee: Attendee,
    submission_id: str,
    now: datetime,
    ids: IdGenerator = new_id,
    retry: RetryPolicy = BRIEF,
    on_behalf: OnBehalf | None = None,
) -> RegistrationResult:
    """Take a seat for `attendee` atomically (or a place in line, or a lottery application).

    No read comes first: each path's conditions are the ledger's rule (ledger.claim), checked by
    DynamoDB. `submission_id` makes retries of one submission idempotent, and lets it register one
    person only: sent again with another address it is RESUBMITTED.
    """
    # One registration per submission: the id is fixed by the submission, so the same form sent again
    # with other details meets the registration it already made, and nothing is written.
    registration_id = derived_id("registration", event.slug, submission_id)
    expires = int(event.personal_data_expires_at.timestamp())
    pool = event.pool_of(answers_of(attendee.answers))
    held: Item | None = None  # the address's guard, when it has a registration already

    def attempt() -> RegistrationResult:
        nonlocal registration_id, held
        refused: RegistrationResult | None = None
        for path in _paths(event, attendee.category, now, on_behalf):
            actions = path_actions(
                path, event.slug, attendee, registration_id, submission_id, now, expires, on_behalf, pool
            )
            actions += choices.take(event.slug, event.questions, attendee.answers)
            try:
                table.transact(actions)
                telemetry.count(_COUNTED_AS[path])
                return RegistrationResult(_OUTCOME_OF[path], registration_id)
            except TransactionCancelled as cancelled:
                exc = _aligned(cancelled, path)
                guard = _held_guard(exc)
                if guard is not None and guard.get("submission_id") == submission_id:
                    # The same submission again (double click, retried request): same answer, no new mail.
                    return _answered_before(table, event.slug, guard)
                held = guard or held
                if choices.refused_an_answer(cancelled, actions):
                    return RegistrationResult(Outcome.CHOICE_FULL)
                if _only_the_id_was_taken(exc):
                    if _made_by(exc, submission_id):
                        return RegistrationResult(Outcome.RESUBMITTED)
                    registration_id = ids()  # another submission's id (50 bits collided): draw one at random
                    raise LostRace from exc
                if not exc.only_condition_failures:
                    raise LostRace from exc  # a conflict or throttling: nothing was written
                if _stored_by_older_code(exc):
                    upgrade_ledger(table, event.slug)  # its maps are keyed the old way: store them as now
                    raise LostRace from exc
                refused = _explain_refusal(exc, guard, now, on_behalf is not None, pool)
                if refused.outcome not in (Outcome.FULL, Outcome.CHOICE_FULL):
                    return refused
                # Full on this path (or in the mode chosen): the next one (any seat, then the line) may take them.
        if refused is not None and (not event.waitlist or (on_behalf and on_behalf.needs_a_seat)):
            return refused
        # With a waiting list every path said full, so a seat freed between the tries: go round again.
        raise LostRace

    try:
        result = retry.run(attempt, f"registration {registration_id} for {event.slug}")
    except StillContended:
        return RegistrationResult(Outcome.BUSY)  # the same request a moment later goes through
    if held is not None and result.outcome in _TOLD_BY_MAIL:
        # The address has a registration: its owner hears so by mail, whatever the page said.
        resent = resend_confirmation(table, event.slug, held, now, ids)
        if result.outcome is Outcome.ALREADY_REGISTERED:
            result = dataclasses.replace(result, confirmation_resent=resent)
    return result


# Answers after which a registered address gets its confirmation again (rate-limited): the page says
# nothing of the registration (unless a seat or a place was there to give), the mail does.
_TOLD_BY_MAIL = (Outcome.ALREADY_REGISTERED, Outcome.FULL, Outcome.CLOSED, Outcome.DRAWING, Outcome.CHOICE_FULL)


_COUNTED_AS = {
    Path.RESERVED: telemetry.Metric.REGISTRATIONS,
    Path.GENERAL: telemetry.Metric.REGISTRATIONS,
    Path.WAITLIST: telemetry.Metric.WAITING_LIST_JOINS,
    Path.APPLICATION: telemetry.Metric.LOTTERY_APPLICATIONS,
}
_OUTCOME_OF = {
    Path.RESERVED: Outcome.REGISTERED,
    Path.GENERAL: Outcome.REGISTERED,
    Path.WAITLIST: Outcome.WAITLISTED,
    Path.APPLICATION: Outcome.APPLIED,
}


def _paths(event: Event, category: str, now: datetime, on_behalf: OnBehalf | None = None) -> list[Path]:
    """The paths to try, in order: a reserved seat (if the category has one), any seat, then the line."""
    walk_in = on_behalf is not None and on_behalf.needs_a_seat
    if event.takes_applications(now) and not walk_in:
        return [Path.APPLICATION]
    paths = [Path.RESERVED] if event.reservations(now).get(category, 0) > 0 else []
    paths.append(Path.GENERAL)
    if event.waitlist and not walk_in:
        paths.append(Path.WAITLIST)
    return paths


def _aligned(exc: TransactionCancelled, path: Path) -> TransactionCancelled:
    """The cancellation's reasons in the order of a path that writes the event item (an application does not)."""
    if path is Path.APPLICATION:
        return TransactionCancelled([CancelReason("None", None), *exc.reasons])
    return exc


def _stored_by_older_code(exc: TransactionCancelled) -> bool:
    """The event item's ledger is still in the storage older code wrote, which no condition here matches."""
    item = exc.reasons[0].item
    return item is not None and Ledger.from_item(item).legacy


def _only_the_id_was_taken(exc: TransactionCancelled) -> bool:
    """The seat and the address were fine; only the registration (and so its mail) id exists already."""
    event, guard, registration = exc.reasons[:3]
    return event.code == guard.code == "None" and registration.code == "ConditionalCheckFailed"


def _made_by(exc: TransactionCancelled, submission_id: str) -> bool:
    """The registration holding the id was made by this very submission (a form sent again)."""
    existing = exc.reasons[2].item or {}
    return existing.get("submission_id") == submission_id


def _held_guard(exc: TransactionCancelled) -> Item | None:
    """The address's guard as it was, when the address already has a registration."""
    guard = exc.reasons[1]
    return guard.item if guard.code == "ConditionalCheckFailed" and guard.item else None


# Registration is open (and a lottery event gives seats only once it is drawn); the ledger adds its room.
_OPEN = (
    "#status = :open AND closes_at > :now AND attribute_not_exists(unpublished_at)"
    " AND (attribute_not_exists(draw_at) OR attribute_exists(drawn_at))"
)
# Staff add people after the deadline too (at the door, say): only an event called off refuses them.
_NOT_CALLED_OFF = "(attribute_not_exists(closed_reason) OR closed_reason <> :called_off)"


def _event_update(path: Path, on_behalf: OnBehalf | None = None, pooled: bool = False) -> tuple[str, str]:
    """The event item's update and condition for one path."""
    update, room = claim(Claim(path.value), pooled)
    return update, f"{_NOT_CALLED_OFF if on_behalf else _OPEN} AND {room}"


_EVENT_VALUES = {":one": 1, ":zero": 0, ":open": STATUS_OPEN, ":called_off": REASON_EVENT_CANCELLED}


def path_actions(
    path: Path,
    slug: str,
    attendee: Attendee,
    registration_id: str,
    submission_id: str,
    now: datetime,
    expires_at: int,
    on_behalf: OnBehalf | None = None,
    pool: str = "",
) -> list[dict[str, Any]]:
    """The writes of one path: the event's counters, the address guard, the registration, its mail.

    `pool`: a hybrid event's mode the attendee chose (its seats and its line), '' in any other event.
    The items holding personal data carry `expires_at` (epoch seconds), so DynamoDB deletes them then.
    On someone's behalf: who took it and how, checked in at once for a walk-in, the mail only if
    wanted and possible, and the caller's extra writes (its audit entry) after the rest.
    """
    registration = _registration_item(slug, attendee, registration_id, submission_id, now)
    registration[schema.TTL_ATTRIBUTE] = expires_at
    guard = {**guard_item(slug, attendee, registration_id, submission_id, now), schema.TTL_ATTRIBUTE: expires_at}
    if on_behalf is not None:
        registration.update(added_by=on_behalf.by, channel=on_behalf.channel)
        if on_behalf.walk_in:
            registration.update(checked_in_at=iso(now), checked_in_by=on_behalf.by)
    actions = _path_writes(path, slug, attendee, registration, guard, registration_id, now, on_behalf, pool)
    if on_behalf is not None:
        if not (on_behalf.send_mail and attendee.email):
            actions = [a for a in actions if not _is_mail(a)]
        actions += on_behalf.also(registration_id)
    return actions


def _is_mail(action: dict[str, Any]) -> bool:
    return str(action.get("Put", {}).get("Item", {}).get(schema.SK, "")).startswith(schema.MAIL_PREFIX)


def _path_writes(
    path: Path,
    slug: str,
    attendee: Attendee,
    registration: dict[str, Any],
    guard: dict[str, Any],
    registration_id: str,
    now: datetime,
    on_behalf: OnBehalf | None,
    pool: str,
) -> list[dict[str, Any]]:
    if path is Path.APPLICATION:
        # An application takes nothing and leaves the event item alone, so a lottery's rush never meets the one
        # item every seat change writes: the cached details say it is before the draw (_paths), and an
        # application that lands after the draw read them is drawn by the next run (lottery.draw).
        # `applicant` stays when the draw moves them on: the draw's order is always over the same people.
        registration.update(status=RegistrationStatus.APPLIED.value, applicant=True)
        mail = mail_item(
            slug, status_mail_id(MailKind.APPLIED, registration_id), MailKind.APPLIED, now, registration_id
        )
        return [put_new(guard), put_new(registration), put_new_mail(mail)]
    update, condition = _event_update(path, on_behalf, bool(pool))
    used = update + condition
    # DynamoDB refuses names and values an expression does not use, so only those go along.
    named = {"#status": "status", **claim_names(attendee.category, pool, bool(pool))}
    names = {name: value for name, value in named.items() if name in used}
    values = {name: value for name, value in _EVENT_VALUES.items() if name in used}
    if ":now" in used:
        values[":now"] = iso(now)
    check: dict[str, Any] = {
        "Key": schema.event_key(slug),
        "ConditionExpression": condition,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }
    event_action = {"Update": {**check, "UpdateExpression": update}}
    actions: list[dict[str, Any]] = []
    if path is Path.WAITLIST:
        # Places are ordered by when they were taken (to the microsecond), then by id.
        place = schema.wait_key(slug, iso_precise(now), registration_id)
        registration.update(status=RegistrationStatus.WAITLISTED.value, wait_sk=place[schema.SK], waited_at=iso(now))
        actions.append(put_new(schema.wait_place(place, registration_id, attendee.category, pool)))
        kind, mail_id = MailKind.WAITLISTED, status_mail_id(MailKind.WAITLISTED, registration_id)
    else:
        kind, mail_id = MailKind.CONFIRMATION, confirmation_id(registration_id)
    return [
        event_action,
        put_new(guard),
        put_new(registration),
        *actions,
        put_new_mail(mail_item(slug, mail_id, kind, now, registration_id)),
    ]


def registration_actions(
    event: Event, attendee: Attendee, registration_id: str, submission_id: str, now: datetime
) -> list[dict[str, Any]]:
    """The four writes of a registration for a seat nobody reserved, as one transaction's actions."""
    expires = int(event.personal_data_expires_at.timestamp())
    return path_actions(Path.GENERAL, event.slug, attendee, registration_id, submission_id, now, expires)


def _registration_item(
    slug: str, attendee: Attendee, registration_id: str, submission_id: str, now: datetime
) -> dict[str, Any]:
    return {
        **schema.registration_key(slug, registration_id),
        "registration_id": registration_id,
        "event_slug": slug,
        **dataclasses.asdict(attendee),
        "status": RegistrationStatus.CONFIRMED.value,
        "created_at": iso(now),
        "submission_id": submission_id,
    }


def _answered_before(table: Table, slug: str, guard: Item) -> RegistrationResult:
    """The answer the first send of this submission got (its registration as it is now)."""
    existing = get_registration(table, slug, guard["registration_id"])
    status = existing.status if existing else RegistrationStatus.CONFIRMED.value
    outcome = {"waitlisted": Outcome.WAITLISTED, "applied": Outcome.APPLIED}.get(status, Outcome.REGISTERED)
    return RegistrationResult(outcome, guard["registration_id"])


def _explain_refusal(
    exc: TransactionCancelled, guard: Item | None, now: datetime, by_staff: bool = False, pool: str = ""
) -> RegistrationResult:
    """Turn the cancellation reasons (with the items as they were) into an answer.

    `guard`: the address's registration guard, if it has one. The form says "already registered" only
    when a seat or a place was there to give (which a new address would have got); otherwise it
    answers what any address hears, so the form cannot tell who registered. Staff are always told.
    `by_staff`: the registration did not depend on the form's calendar, only on a seat (or place).
    `pool`: the hybrid event's mode asked for; its seats all taken (others not) is a full answer, not a full event.
    """
    event_reason = exc.reasons[0]
    if guard is not None and (by_staff or event_reason.code != "ConditionalCheckFailed"):
        return RegistrationResult(Outcome.ALREADY_REGISTERED, guard["registration_id"])
    event = event_reason.item
    if event is None or (event.get("unpublished_at") and not by_staff):
        return RegistrationResult(Outcome.NOT_FOUND)
    if event.get("closed_reason") == REASON_EVENT_CANCELLED:
        return RegistrationResult(Outcome.CLOSED)
    if not by_staff and (event.get("status") != STATUS_OPEN or event.get("closes_at", "") <= iso(now)):
        return RegistrationResult(Outcome.CLOSED)
    if event.get("draw_at") and not event.get("drawn_at"):
        return RegistrationResult(Outcome.DRAWING)
    ledger = Ledger.from_item(event)
    if pool and not ledger.pool_has_room(pool) and ledger.seats_left:
        return RegistrationResult(Outcome.CHOICE_FULL)  # the other mode has seats: the form says which is full
    return RegistrationResult(Outcome.FULL)  # no seat, or others are waiting for one
