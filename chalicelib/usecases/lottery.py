"""The lottery: applications until the draw, then one replayable shuffle decides who is seated and who waits.

The seed is recorded on the event before anyone is drawn, so a second run (or a rerun after a crash)
draws the same order and only finishes what is left; the published seed lets anyone replay it. The
event is marked drawn only once every applicant has been seated or put in line: an applicant whose
draw keeps losing races stops the run (later applicants must not take a seat ahead of them), and the
next scheduled run carries on from there.
"""

from __future__ import annotations

import contextlib
import logging
import random
import secrets
from datetime import datetime

from chalicelib.domain.clock import iso, iso_precise
from chalicelib.domain.event import Event
from chalicelib.domain.registration import RegistrationStatus
from chalicelib.store import schema
from chalicelib.store.dynamo import ConditionFailed, Table
from chalicelib.store.retry import PATIENT, RetryPolicy, StillContended, transact_or_lose
from chalicelib.usecases.outbox import MailKind
from chalicelib.usecases.registrations import get_registration, registrations_in
from chalicelib.usecases.waitlist import pool_of, read_ledger, status_change, write_ledger

log = logging.getLogger(__name__)


class DrawsUnfinished(RuntimeError):
    """Some lotteries could not finish their draw this run; the next run carries on (their slugs are listed)."""


def draw(table: Table, event: Event, now: datetime, seed: str | None = None, retry: RetryPolicy = PATIENT) -> list[str]:
    """Run the lottery once: winners take seats, the others wait in drawn order. Returns the drawn order.

    After the draw, it draws the applications that landed late and returns those.
    Raises StillContended, without marking the event drawn, if an applicant's draw kept losing races.
    """
    item = table.get(schema.event_key(event.slug))
    if item is None:
        return []
    if item.get("drawn_at"):
        # Applications never touch the event item, so one can land just after the draw read them: it is
        # drawn now, after everyone drawn before it (a seat if one is free, else the end of the line).
        late = _still_applied(table, event.slug)
        stamp = iso_precise(now)
        for index, registration_id in enumerate(late):
            _draw_one(table, event, registration_id, f"{stamp}-late-{index:06d}", now, retry)
        return late
    recorded = _record_seed(table, event.slug, seed or secrets.token_hex(16))
    order = drawn_order(table, event.slug, recorded)
    stamp = iso_precise(event.draw_at or now)
    for index, registration_id in enumerate(order):
        _draw_one(table, event, registration_id, f"{stamp}-{index:06d}", now, retry)
    # From now on the event gives seats first come, first served (and its line moves up).
    # A concurrent run may have finished first: it drew the very same order.
    with contextlib.suppress(ConditionFailed):
        table.update(
            schema.event_key(event.slug),
            "SET drawn_at = :now",
            values={":now": iso(now)},
            condition="attribute_not_exists(drawn_at)",
        )
    return order


def draw_due(table: Table, events: list[Event], now: datetime, retry: RetryPolicy = PATIENT) -> dict[str, int]:
    """Run every lottery whose draw time has come and that has not been drawn; how many each drew.

    One lottery that cannot finish does not hold up the others; the run then fails, naming it.
    """
    drawn: dict[str, int] = {}
    unfinished: list[str] = []
    for event in events:
        if event.draw_at is None or event.draw_at > now:
            continue
        try:
            drawn[event.slug] = len(draw(table, event, now, retry=retry))
        except StillContended:
            log.exception("the draw of %s did not finish; the next run carries on", event.slug)
            unfinished.append(event.slug)
    if unfinished:
        raise DrawsUnfinished(", ".join(unfinished))
    return drawn


def drawn_order(table: Table, slug: str, seed: str) -> list[str]:
    """Every application shuffled by `seed`: the same seed and applications always give the same order."""
    applicants = sorted(
        row["registration_id"]
        for row in table.query(
            "pk = :pk AND begins_with(sk, :prefix)",
            {":pk": schema.event_pk(slug), ":prefix": schema.REG_PREFIX},
            projection="registration_id, applicant",
        )
        if row.get("applicant")
    )
    random.Random(seed).shuffle(applicants)  # noqa: S311 (a fair, replayable draw: the seed is published)
    return applicants


def _still_applied(table: Table, slug: str) -> list[str]:
    """Applications not drawn yet, first sent first."""
    waiting = registrations_in(table, slug, RegistrationStatus.APPLIED, "created_at")
    return [row["registration_id"] for row in sorted(waiting, key=lambda r: (r["created_at"], r["registration_id"]))]


def _record_seed(table: Table, slug: str, seed: str) -> str:
    """Store the draw's seed once; whoever stored it first decides it for every run."""
    try:
        table.update(
            schema.event_key(slug),
            "SET draw_seed = :seed",
            values={":seed": seed},
            condition="attribute_not_exists(draw_seed)",
        )
        return seed
    except ConditionFailed as exc:
        if exc.item and exc.item.get("draw_seed"):
            return str(exc.item["draw_seed"])
        item = table.get(schema.event_key(slug))
        return str(item["draw_seed"]) if item else seed


def _draw_one(
    table: Table, event: Event, registration_id: str, order_key: str, now: datetime, retry: RetryPolicy
) -> None:
    """Seat one applicant if the ledger allows (in their pool), else put them in line; nothing if already done."""
    slug = event.slug

    def attempt() -> None:
        registration = get_registration(table, slug, registration_id)
        if registration is None or registration.status != RegistrationStatus.APPLIED.value:
            return  # drawn by an earlier run, or withdrawn
        ledger = read_ledger(table, slug)
        category, pool = registration.attendee.category, pool_of(event, registration.attendee)
        applied = RegistrationStatus.APPLIED
        if ledger.can_seat(category, pool):
            ledger = ledger.seat(category, pool)
            seated = RegistrationStatus.CONFIRMED
            actions = status_change(slug, registration_id, applied, seated, MailKind.DRAW_WON, now)
        else:
            ledger = ledger.wait(category, 1, pool)
            place = schema.wait_key(slug, order_key, registration_id)
            actions = [
                {
                    "Put": {
                        "Item": schema.wait_place(place, registration_id, category, pool),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                *status_change(
                    slug,
                    registration_id,
                    applied,
                    RegistrationStatus.WAITLISTED,
                    MailKind.DRAW_LOST,
                    now,
                    wait_sk=place[schema.SK],
                ),
            ]
        transact_or_lose(table, [write_ledger(slug, ledger), *actions])

    retry.run(attempt, f"drawing {registration_id} of {slug}")
