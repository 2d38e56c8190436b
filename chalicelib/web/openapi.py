"""The JSON API described as OpenAPI 3.1, served at /api/openapi.json; property-based API tests run from it.

Built from the same facts the API uses (field limits, statuses, the key pattern), so the description
cannot drift from the code. Field rules the schema cannot say (フリガナ in katakana, a category the event
offers, an address mail servers take) answer 422 with the field named.
"""

from __future__ import annotations

from typing import Any

from chalice.app import Blueprint, Response

from chalicelib.domain.attendee import ACCOMMODATIONS, MAX_LENGTHS, required_fields
from chalicelib.domain.event import SLUG_PATTERN
from chalicelib.domain.event_state import Availability
from chalicelib.usecases.idempotency import KEY_PATTERN
from chalicelib.usecases.registering import Outcome
from chalicelib.web import http

routes = Blueprint(__name__)

_ERROR = {"$ref": "#/components/schemas/Error"}
# A character that is neither a space nor invisible (the form drops those before checking a field).
_SOMETHING_VISIBLE = r"[^\s\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]"
_ERRORS = {
    "400": ("The request cannot be read: not JSON, nested too deep, not text, or a bad Idempotency-Key.", _ERROR),
    "401": ("No API key, or one that is unknown, revoked or for another event.", _ERROR),
    "403": ("Sent from a web page of another site.", _ERROR),
    "404": ("No such event.", _ERROR),
    "429": ("This key made too many calls this minute; see Retry-After.", _ERROR),
}


def _json(description: str, schema: dict[str, Any], headers: dict[str, Any] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        answer["headers"] = headers
    return answer


def _responses(**extra: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    merged = {**_ERRORS, **{code.removeprefix("s"): value for code, value in extra.items()}}
    answers = {code: _json(text, schema) for code, (text, schema) in sorted(merged.items())}
    answers["401"]["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
    answers["429"]["headers"] = {"Retry-After": {"schema": {"type": "string"}}}
    if "503" in answers:
        answers["503"]["headers"] = {"Retry-After": {"schema": {"type": "string"}}}
    return answers


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document."""
    person: dict[str, Any] = {name: {"type": "string", "maxLength": limit} for name, limit in MAX_LENGTHS.items()}
    always = required_fields("en")  # what every registrant gives, in any language
    for name in always:
        # Something to read must remain once spaces and invisible characters are taken out.
        person[name].update(minLength=1, pattern=_SOMETHING_VISIBLE)
    person["kana"]["description"] = (
        "The reading of the name in katakana, required when registering in Japanese (the default; "
        "Accept-Language: en makes it optional, for names in Latin letters). Hiragana and half-width are "
        "converted; anything else, or none in Japanese, is refused (422)."
    )
    person["email"].update(
        format="email",
        description="ASCII before the @ (mail servers take nothing else); the domain may be in any script. An "
        "address mail servers would refuse (a reserved domain, say) is refused (422).",
    )
    person["category"] = {
        "type": "string",
        "description": "One of the event's category keys; another is refused (422).",
    }
    person["consent"] = {"const": True, "description": "Agreement to how personal data is used."}
    person["needs"] = {
        "type": "array",
        "items": {"enum": list(ACCOMMODATIONS)},
        "uniqueItems": True,
        "description": "Reasonable accommodation to prepare (shown to organizers only): any of the listed kinds.",
    }
    person["meishi_consent"] = {
        "type": "boolean",
        "description": "Agreement to appear on the list for exchanging business cards (asked only if the event does).",
    }
    person["answers"] = {
        "type": "object",
        "additionalProperties": {"type": ["string", "boolean", "array"], "items": {"type": "string"}},
        "description": "The event's own questions, by key: text, a choice's key, a list of choice keys, or "
        "true/false for a yes/no question. A missing required answer or an unknown choice is refused (422).",
    }
    person["needs_note"]["description"] = "Anything else the organizer should prepare, in the registrant's words."
    slug = {
        "name": "slug",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "pattern": SLUG_PATTERN.pattern},
    }
    outcomes = [o.value for o in Outcome]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "uketsuke",
            "version": "1",
            "description": "Registration for an event's seats, waiting list or lottery. Every call needs an API key "
            "an organizer issued (Authorization: Bearer uk_…), made from a server, not a web page.",
        },
        "components": {
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer", "bearerFormat": "uk_<id>_<secret>"}},
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["status", "message"],
                    "properties": {"status": {"type": "string"}, "message": {"type": "string"}},
                },
                "Invalid": {
                    "type": "object",
                    "required": ["status"],
                    "properties": {
                        "status": {"enum": ["invalid", "idempotency_key_reused"]},
                        "message": {"type": "string"},
                        "errors": {"type": "object", "additionalProperties": {"type": "string"}},
                    },
                },
                "Registration": {
                    "type": "object",
                    "required": [*always, "category", "consent"],
                    "properties": person,
                },
                "Registered": {
                    "type": "object",
                    "required": ["status"],
                    "properties": {
                        "status": {"enum": outcomes},
                        "registration_id": {"type": "string"},
                        "registration_number": {"type": "string"},
                        "position": {"type": ["integer", "null"], "minimum": 1},
                        "confirmation_resent": {"type": "boolean"},
                        "answers": {"type": "object", "description": 'The answers as stored (yes/no as "yes"/"no").'},
                    },
                },
                "Availability": {
                    "type": "object",
                    "required": ["slug", "title", "availability", "capacity", "seats_left"],
                    "properties": {
                        "slug": {"type": "string"},
                        "title": {"type": "string"},
                        "availability": {"enum": [a.value for a in Availability]},
                        "capacity": {"type": "integer", "minimum": 0},
                        "seats_left": {"type": "integer", "minimum": 0},
                        "modes": {
                            "type": "array",
                            "description": "A hybrid event's modes (venue, online), each with its own seats and"
                            " waiting list; empty for any other event.",
                            "items": {
                                "type": "object",
                                "required": ["mode", "capacity", "seats_left", "waiting"],
                                "properties": {
                                    "mode": {"enum": ["venue", "online"]},
                                    "capacity": {"type": "integer", "minimum": 0},
                                    "seats_left": {"type": "integer", "minimum": 0},
                                    "waiting": {"type": "integer", "minimum": 0},
                                },
                            },
                        },
                    },
                },
            },
        },
        "security": [{"apiKey": []}],
        "paths": {
            "/api/events/{slug}": {
                "get": {
                    "operationId": "getEvent",
                    "summary": "An event's availability.",
                    "parameters": [slug],
                    "responses": _responses(s200=("The event.", {"$ref": "#/components/schemas/Availability"})),
                }
            },
            "/api/events/{slug}/registrations": {
                "post": {
                    "operationId": "register",
                    "summary": "Take a seat, a place in the waiting list, or a lottery application.",
                    "parameters": [
                        slug,
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "description": "Names the request: the same request again gets the first answer "
                            "for 24 hours; another request with it is refused.",
                            "schema": {"type": "string", "pattern": f"^{KEY_PATTERN.pattern}$"},
                        },
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Registration"}}},
                    },
                    "responses": _responses(
                        s200=("Registered before: the confirmation was sent again.", _registered()),
                        s201=("Registered, waiting, or applied.", _registered()),
                        s409=(
                            "Full, closed, the draw is running, or the same key is in progress.",
                            _ERROR_OR_REGISTERED,
                        ),
                        s413=("The body is over 64 KB.", _ERROR),
                        s415=("Not sent as application/json.", _ERROR),
                        s422=("A field is wrong (each is named), or the key was used for another request.", _INVALID),
                        s503=(
                            "Too many registrations at once: nothing was registered; send the same request again after "
                            "Retry-After seconds.",
                            _ERROR,
                        ),
                    ),
                }
            },
        },
    }


def _registered() -> dict[str, Any]:
    return {"$ref": "#/components/schemas/Registered"}


_INVALID = {"$ref": "#/components/schemas/Invalid"}
_ERROR_OR_REGISTERED = {"anyOf": [_ERROR, {"$ref": "#/components/schemas/Registered"}]}


@routes.route("/api/openapi.json", methods=["GET"])
def openapi() -> Response:
    """The API's description, for people and for client generators; needs no key."""
    body = {**document(), "servers": [{"url": http.site_url(routes.current_request) or "/"}]}
    return Response(body=body, headers={"Cache-Control": "public, max-age=300"})
