"""Answers with a capacity (懇親会 30名, 託児 5名): counted in the registration's own transaction.

The counters live in one item per event (`EVENT#CHOICES`), apart from the seat ledger, so an event
without capped answers writes nothing more and the hot ledger item stays small. A registration
that holds a capped answer adds one to its counter, only if it is below the capacity, in the same
transaction as its seat: under any concurrency no answer is held by more than its capacity. A
cancellation takes one off in its own transaction. Capped answers cannot be changed afterwards
(the event file requires editable = false for them), so nothing else moves the counters.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from chalicelib.domain.attendee import Attendee
from chalicelib.domain.event_state import EventState
from chalicelib.domain.questions import FIELD_PREFIX, Question, answers_of, caps, held, slot
from chalicelib.store import schema
from chalicelib.store.dynamo import TransactionCancelled
from chalicelib.text import messages as msg
from chalicelib.text.i18n import gettext

COUNTS = "taken"  # the item's map: counter -> registrations holding it


def counters_exist(slug: str) -> dict[str, Any]:
    """The write that gives the event its counters item (publishing; leaves any counts as they are)."""
    return {
        "Key": schema.choices_key(slug),
        "UpdateExpression": f"SET {COUNTS} = if_not_exists({COUNTS}, :none)",
        "ExpressionAttributeValues": {":none": {}},
    }


def take(slug: str, asked: Sequence[Question], answers_stored: str) -> list[dict[str, Any]]:
    """The transaction action that counts these answers' capped choices, each only below its capacity."""
    chosen = held(asked, answers_of(answers_stored))
    if not chosen:
        return []
    capped = caps(asked)
    names = {f"#c{n}": key for n, key in enumerate(chosen)}
    sets = ", ".join(f"{COUNTS}.#c{n} = if_not_exists({COUNTS}.#c{n}, :zero) + :one" for n in range(len(chosen)))
    below = " AND ".join(
        f"(attribute_not_exists({COUNTS}.#c{n}) OR {COUNTS}.#c{n} < :cap{n})" for n in range(len(chosen))
    )
    values: dict[str, Any] = {":zero": 0, ":one": 1, **{f":cap{n}": capped[key] for n, key in enumerate(chosen)}}
    return [
        {
            "Update": {
                "Key": schema.choices_key(slug),
                "UpdateExpression": f"SET {sets}",
                "ConditionExpression": f"attribute_exists({COUNTS}) AND {below}",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }
    ]


def release(slug: str, asked: Sequence[Question], answers_stored: str) -> list[dict[str, Any]]:
    """The transaction action that gives back a cancelled registration's capped choices."""
    return release_all(slug, asked, [answers_stored])


def release_all(slug: str, asked: Sequence[Question], answers_stored: Sequence[str]) -> list[dict[str, Any]]:
    """The one action that gives back the capped choices of several registrations (a transaction may touch
    the counters item once)."""
    given_back = Counter(key for stored in answers_stored for key in held(asked, answers_of(stored)))
    if not given_back:
        return []
    names = {f"#c{n}": key for n, key in enumerate(given_back)}
    # No condition: a cancellation must never fail on a counter (one missing counts from 0).
    sets = ", ".join(f"{COUNTS}.#c{n} = if_not_exists({COUNTS}.#c{n}, :n{n}) - :n{n}" for n in range(len(names)))
    return [
        {
            "Update": {
                "Key": schema.choices_key(slug),
                "UpdateExpression": f"SET {sets}",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": {f":n{n}": count for n, count in enumerate(given_back.values())},
            }
        }
    ]


def move(slug: str, asked: Sequence[Question], before_stored: str, after_stored: str) -> list[dict[str, Any]]:
    """The one write that moves a registration's capped answers (corrections): new ones only below capacity.

    One Update, as a transaction may touch the counters item once: the answers given up go down, the
    answers taken go up only while below their capacity (refused: CorrectOutcome.CHOICE_FULL).
    """
    before, after = held(asked, answers_of(before_stored)), held(asked, answers_of(after_stored))
    given_up, taken = [k for k in before if k not in after], [k for k in after if k not in before]
    if not given_up and not taken:
        return []
    capped = caps(asked)
    names = {f"#c{n}": key for n, key in enumerate((*given_up, *taken))}
    down = [f"{COUNTS}.#c{n} = if_not_exists({COUNTS}.#c{n}, :one) - :one" for n in range(len(given_up))]
    up_at = range(len(given_up), len(names))
    up = [f"{COUNTS}.#c{n} = if_not_exists({COUNTS}.#c{n}, :zero) + :one" for n in up_at]
    below = [f"(attribute_not_exists({COUNTS}.#c{n}) OR {COUNTS}.#c{n} < :cap{n})" for n in up_at]
    values: dict[str, Any] = {":one": 1, **({":zero": 0} if up else {})}
    values.update({f":cap{n}": capped[names[f"#c{n}"]] for n in up_at})
    update: dict[str, Any] = {
        "Key": schema.choices_key(slug),
        "UpdateExpression": "SET " + ", ".join((*down, *up)),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }
    if below:
        update["ConditionExpression"] = f"attribute_exists({COUNTS}) AND " + " AND ".join(below)
    return [{"Update": update}]


def refused_an_answer(exc: TransactionCancelled, actions: list[dict[str, Any]]) -> bool:
    """The transaction failed because a capped answer had no room left (not for the seat or the address)."""
    return any(
        is_choice_write(action) and reason.code == "ConditionalCheckFailed"
        for action, reason in zip(actions, exc.reasons, strict=False)
    )


def is_choice_write(action: dict[str, Any]) -> bool:
    """True for the counters' write in a transaction (to tell a full answer from a full event)."""
    return str(action.get("Update", {}).get("Key", {}).get(schema.SK, "")) == schema.CHOICES_SK


def full_answers(state: EventState, attendee: Attendee, language: str = "ja") -> dict[str, str]:
    """For a registration refused as CHOICE_FULL: which of its answers (a hybrid event's mode too) have
    no room left in `state` (read after the refusal), and what to say."""
    spoken = state.in_language(language)
    asked, places = spoken.event.questions, spoken.answers_left()
    answers = answers_of(attendee.answers)
    errors: dict[str, str] = {}
    for q in asked:
        answer = answers.get(q.key)
        labels = {c.key: c.label for c in q.choices}
        for key in answer if isinstance(answer, list) else [answer]:
            if isinstance(key, str) and places.get(slot(q.key, key)) == 0:
                errors[FIELD_PREFIX + q.key] = gettext(msg.CHOICE_FULL).format(choice=labels.get(key, key))
    return errors
