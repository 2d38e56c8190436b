"""The attendee: what people type into the form, normalised, and exactly what is wrong with it."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.questions import FIELD_PREFIX, Question, answers_of
from chalicelib.domain.questions import check as check_answers
from chalicelib.domain.questions import stored as stored_answers
from chalicelib.text import messages as msg
from chalicelib.text.i18n import DEFAULT as JAPANESE
from chalicelib.text.i18n import gettext as t
from chalicelib.text.scalars import is_text, readable

MAX_LENGTHS = {
    "name": 50,
    "kana": 100,
    "organization": 100,
    "job_title": 50,
    "email": 254,
    "question": 1000,
    "needs_note": 500,
}
# 合理的配慮: what a registrant may ask the organizer to prepare (the form's check boxes, the API's
# `needs`), in the order staff read them. Disability-related, so 要配慮個人情報 under the APPI: asked
# only with consent, shown only to organizers, erased with the rest (usecases/privacy.py).
ACCOMMODATIONS = ("wheelchair", "sign_language", "captioning", "seating", "companion")
NEEDS_FIELD_PREFIX = "needs_"  # the form's check box for each: needs_wheelchair=yes, …
REQUIRED_FIELDS = ("name", "kana", "organization", "email")
_MAX_LOCAL_PART = 64  # RFC 5321 4.5.3.1.1
_TRUE_WORDS = frozenset({"yes", "on", "true", "1"})

_WHITESPACE_RUN = re.compile(r"\s+")
# Bidirectional overrides could make a name display differently from what is stored.
_INVISIBLE = dict.fromkeys(list(range(0x202A, 0x202F)) + list(range(0x2066, 0x206A)) + [0x200B, 0xFEFF])
PHONE_PATTERN = re.compile(r"^\+?[0-9()\- ]{6,20}$")  # 0242-73-2111, +81 242 73 2111, (0242)73-2111
KATAKANA_PATTERN = re.compile(r"^[\u30A1-\u30FA\u30FC-\u30FE\u30FB ]+$")


@dataclass(frozen=True)
class Attendee:
    """A validated, normalised registration request."""

    name: str
    kana: str
    organization: str
    job_title: str
    email: str
    category: str
    question: str = ""
    lang: str = "ja"  # the language they registered in: their mails are written in it
    needs: str = ""  # ACCOMMODATIONS asked for, comma-separated in that order ('' for none)
    needs_note: str = ""  # anything else staff should prepare, in the registrant's words
    meishi_consent: str = ""  # "yes": agreed to appear on the 名刺交換 list (asked only if the event asks)
    answers: str = ""  # the event's own questions answered, as stored (domain/questions.py)
    phone: str = ""  # staff only: how to reach someone registered without an address (never shown to them)

    @property
    def needs_list(self) -> tuple[str, ...]:
        """The accommodations asked for."""
        return tuple(self.needs.split(",")) if self.needs else ()

    @property
    def email_key(self) -> str:
        """The address as compared for duplicates: see email_key()."""
        return email_key(self.email)


def email_key(address: str) -> str:
    """An address as compared for duplicates: ASCII letters case-insensitively, nothing else folded.

    Mail servers treat the part before the @ as they like; folding only A-Z keeps distinct addresses
    distinct (casefold would make straße and strasse one). Domains arrive lower-cased by validation.
    """
    return "".join(ch.lower() if ch.isascii() else ch for ch in address)


def sending_address(address: str) -> str:
    """The address as mail servers need it: the domain in its IDNA ASCII form (例え.jp -> xn--r8jz45g.jp)."""
    local, _, domain = address.rpartition("@")
    if domain.isascii():
        return address
    import idna  # email-validator's own dependency; only the mail sender meets a non-ASCII domain

    return f"{local}@{idna.encode(domain, uts46=True).decode('ascii')}"


@dataclass(frozen=True)
class FormResult:
    """Either an attendee or field errors, plus the normalised values to show again."""

    values: dict[str, str]
    errors: dict[str, str]
    attendee: Attendee | None


def single_line(value: str) -> str:
    """Fold line breaks and whitespace runs to one space and drop control and bidi characters."""
    value = _WHITESPACE_RUN.sub(" ", value.translate(_INVISIBLE))
    return "".join(ch for ch in value if unicodedata.category(ch) != "Cc").strip()


def clean_line(value: str) -> str:
    """NFKC-normalise one line of typed text (full-width to half-width), then single_line() it."""
    return single_line(unicodedata.normalize("NFKC", value))


def clean_paragraphs(value: str) -> str:
    """Like clean_line, but keeps line breaks (normalised to \\n) for free-text answers."""
    lines = value.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(clean_line(line) for line in lines).strip()


# Hiragana and katakana are one block apart in Unicode (ぁ U+3041 … ゖ U+3096 and ァ U+30A1 … ヶ U+30F6).
_HIRAGANA_TO_KATAKANA = {code: code + 0x60 for code in range(0x3041, 0x3097)}


def to_katakana(value: str) -> str:
    """Hiragana to katakana; everything else unchanged."""
    return value.translate(_HIRAGANA_TO_KATAKANA)


def required_fields(lang: str) -> tuple[str, ...]:
    """What a registrant must give: a reading of the name only when registering in Japanese.

    A name in Latin letters (John Smith) has no katakana reading to give; the door list sorts those
    by the name itself (reading_order).
    """
    return REQUIRED_FIELDS if lang == JAPANESE else tuple(f for f in REQUIRED_FIELDS if f != "kana")


def validate_registration(
    raw: Mapping[str, Any],
    categories: Sequence[str],
    lang: str = "ja",
    address_optional: bool = False,
    modes: Mapping[str, str] | None = None,
    asked: Sequence[Question] = (),
    kept_answers: str = "",
    labels: Mapping[str, str] | None = None,
) -> FormResult:
    """Validate form or JSON input against an event's categories; messages come in the current language.

    `address_optional`: staff registering someone by phone or at the counter may leave the address out.
    `modes`: the event's shaping of its form (Event.rules()), field to required/optional/hidden.
    `asked`: the event's own questions to answer now; `kept_answers`: answers stored before, which stay
    for questions not asked now (removed since, or not the registrant's to change).
    """
    values: dict[str, str] = {}
    errors: dict[str, str] = {}

    for field in ("name", "kana", "organization", "job_title", "email", "question", "category", "needs_note"):
        value = raw.get(field, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            errors[field] = msg.field_error(msg.NOT_TEXT, field, labels)
            value = ""
        elif not is_text(value):
            errors[field] = msg.field_error(msg.NOT_UNICODE, field, labels)
            value = readable(value)  # shown again to the person, so it must be encodable
        values[field] = clean_paragraphs(value) if field in ("question", "needs_note") else clean_line(value)

    values["kana"] = to_katakana(values["kana"])

    required = set(required_fields(lang))
    for field, mode in (modes or {}).items():
        if mode == "hidden":
            required.discard(field)
            values[field] = ""  # not asked: nothing is kept, whatever was sent
            errors.pop(field, None)
        elif mode == "optional":
            required.discard(field)
        elif mode == "required" and (field != "kana" or lang == JAPANESE):
            required.add(field)  # a name in Latin letters has no reading to give, whatever the form says
    for field in [f for f in (*REQUIRED_FIELDS, "job_title", "question") if f in required]:
        if field == "email" and address_optional:
            continue
        if field not in errors and not values[field]:
            errors[field] = msg.field_error(msg.REQUIRED, field, labels)
    for field, limit in MAX_LENGTHS.items():
        length = len(values[field])
        if field not in errors and length > limit:
            errors[field] = msg.field_error(msg.TOO_LONG, field, labels, limit=limit, length=length)

    if "kana" not in errors and values["kana"] and not KATAKANA_PATTERN.match(values["kana"]):
        errors["kana"] = t(msg.KANA_ONLY)

    if "email" not in errors and (values["email"] or not address_optional):
        email, problem = _check_email(values["email"])
        values["email"] = email
        if problem:
            errors["email"] = problem

    if "category" not in errors:
        if not values["category"]:
            errors["category"] = msg.field_error(msg.REQUIRED_CHOICE, "category", labels)
        elif values["category"] not in categories:
            errors["category"] = t(msg.UNKNOWN_CATEGORY)

    # A telephone number, for staff registering someone by phone only (the public form never asks one).
    phone = raw.get("phone", "") if address_optional else ""
    values["phone"] = phone.strip() if isinstance(phone, str) else ""
    if values["phone"] and not PHONE_PATTERN.match(values["phone"]):
        errors["phone"] = msg.PHONE_INVALID

    agreed = raw.get("meishi_consent")
    values["meishi_consent"] = "yes" if agreed is True or str(agreed).strip().lower() in _TRUE_WORDS else ""

    needs, problem = _needs(raw)
    values.update({NEEDS_FIELD_PREFIX + key: "yes" for key in needs})
    if problem:
        errors["needs"] = problem

    consent = raw.get("consent")
    consented = consent is True or (isinstance(consent, str) and consent.strip().lower() in _TRUE_WORDS)
    values["consent"] = "yes" if consented else ""
    if not consented:
        errors["consent"] = t(msg.CONSENT_NEEDED)

    answered = check_answers(raw, asked, answers_of(kept_answers))
    values.update(answered.values)
    ordered = {field: errors[field] for field in msg.FIELD_LABELS if field in errors}
    ordered.update(answered.errors)  # the event's own questions come after the standard fields, as on the form
    if ordered:
        return FormResult(values=values, errors=ordered, attendee=None)
    attendee = Attendee(
        name=values["name"],
        kana=values["kana"],
        organization=values["organization"],
        job_title=values["job_title"],
        email=values["email"],
        category=values["category"],
        question=values["question"],
        lang=lang,
        needs=",".join(needs),
        needs_note=values["needs_note"],
        meishi_consent=values["meishi_consent"],
        answers=stored_answers(answered.answers),
        phone=values["phone"],
    )
    return FormResult(values=values, errors={}, attendee=attendee)


def _needs(raw: Mapping[str, Any]) -> tuple[list[str], str]:
    """The accommodations asked for, in ACCOMMODATIONS order: a JSON list `needs`, or the form's check boxes."""
    given = raw.get("needs")
    if given is None or given == "":
        chosen = {key for key in ACCOMMODATIONS if str(raw.get(NEEDS_FIELD_PREFIX + key, "")).lower() in _TRUE_WORDS}
        return [key for key in ACCOMMODATIONS if key in chosen], ""
    if not isinstance(given, list) or not all(isinstance(key, str) for key in given):
        return [], t(msg.NEEDS_NOT_A_LIST)
    unknown = [key for key in given if key not in ACCOMMODATIONS]
    if unknown:
        return [], t(msg.NEEDS_UNKNOWN).format(value=unknown[0][:40], known=", ".join(ACCOMMODATIONS))
    return [key for key in ACCOMMODATIONS if key in given], ""


def validate_address(value: Any) -> tuple[str, str]:
    """An address typed on its own: (normalised, problem), by exactly the form's checks of its email field."""
    form = validate_registration({"email": value}, ())
    return form.values["email"], form.errors.get("email", "")


def _check_email(value: str) -> tuple[str, str]:
    """Return (normalised address, problem); syntax only: no DNS look-up in the request path."""
    # Imported on first use: compiling its RFC grammar costs ~40 ms, which every Lambda of this
    # app (schedules and the mail sender too) would otherwise pay on a cold start.
    from email_validator import EmailNotValidError, validate_email

    if "@" not in value:
        return value, t(msg.EMAIL_NO_AT)
    local = value.rpartition("@")[0]
    if not local.isascii():
        return value, t(msg.EMAIL_LOCAL_NOT_ASCII)  # SES does not support SMTPUTF8: such a mail could never go
    if len(local) > _MAX_LOCAL_PART:
        return value, t(msg.EMAIL_LOCAL_TOO_LONG).format(length=len(local))
    try:
        # The domain is kept as people read it (例え.jp); sending_address() gives mail servers its ASCII form.
        result = validate_email(value, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError:
        return value, t(msg.EMAIL_INVALID)
    return result.normalized, ""


# What a registrant may correct on their own page; the address is the registration's identity.
EDITABLE_FIELDS = (
    "name",
    "kana",
    "organization",
    "job_title",
    "category",
    "needs",
    "needs_note",
    "meishi_consent",
    "answers",
    "phone",
)


def validate_changes(
    raw: Mapping[str, Any],
    categories: Sequence[str],
    current: Attendee,
    modes: Mapping[str, str] | None = None,
    asked: Sequence[Question] = (),
    labels: Mapping[str, str] | None = None,
) -> FormResult:
    """Validate corrections to a registration with exactly the rules of the form.

    `asked`: the questions the registrant may change (the others' answers stay as they are).
    """
    # The unchanged fields come from the registration itself, so one set of rules decides everything.
    kept = {"email": current.email, "question": current.question, "consent": "yes", "phone": current.phone}
    submitted = {field: raw.get(field, "") for field in EDITABLE_FIELDS}
    boxes = {NEEDS_FIELD_PREFIX + key: raw.get(NEEDS_FIELD_PREFIX + key, "") for key in ACCOMMODATIONS}
    answers = {name: value for name, value in raw.items() if name.startswith(FIELD_PREFIX)}
    merged = {**submitted, **boxes, **answers, **kept}
    return validate_registration(
        merged, categories, current.lang, modes=modes, asked=asked, kept_answers=current.answers, labels=labels
    )


def reading_order(attendee: Attendee, registration_id: str) -> tuple[int, str, str]:
    """Where a person stands in lists read at the door: by reading (アイウエオ順), then those with none by name."""
    if attendee.kana:
        return (0, attendee.kana, registration_id)
    return (1, unicodedata.normalize("NFKC", attendee.name).casefold(), registration_id)
