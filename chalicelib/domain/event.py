"""Events: what an organizer describes (an event file, see event_file/); event_state.py keeps the live state."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from chalicelib.domain.clock import iso, parse_iso
from chalicelib.domain.questions import Choice, Question, Wording
from chalicelib.domain.survey import Survey

# Re-exported: Talk and Translation were first defined here, and callers import them from here.
from chalicelib.domain.translation import Talk as Talk
from chalicelib.domain.translation import Translation as Translation
from chalicelib.domain.translation import programme_in
from chalicelib.text.i18n import DEFAULT as DEFAULT_LANGUAGE
from chalicelib.text.i18n import translated

DEFAULT_TIMEZONE = "Asia/Tokyo"
# Long enough for the organizer's follow-up (materials, a survey), short enough to hold little.
DEFAULT_RETENTION_DAYS = 30
MAX_RETENTION_DAYS = 3650
SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
HHMM_PATTERN = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class EventFileError(ValueError):
    """An event description is invalid; the message names the field and what is expected."""


# The form's fields an organizer may shape ([form.<field>] in the event file): name, e-mail and
# 参加区分 are always asked, and always required.
SHAPEABLE_FIELDS = ("kana", "organization", "job_title", "question")
REQUIRED, OPTIONAL, HIDDEN = "required", "optional", "hidden"
FIELD_MODES = (REQUIRED, OPTIONAL, HIDDEN)


@dataclass(frozen=True)
class FieldRule:
    """How the form asks one standard field: required, optional or not at all, and in whose words."""

    field: str
    mode: str = ""  # '' keeps the field's default (フリガナ and 所属 required, 役職 and 質問 optional)
    label: str = ""  # '' keeps the standard label
    hint: str = ""  # '' keeps the standard hint
    label_en: str = ""
    hint_en: str = ""


ONLINE, HYBRID = "online", "hybrid"
ATTENDANCE = "attendance"  # the built-in question of a hybrid event: 会場 (venue) or オンライン (online)
VENUE = "venue"  # the answer to ATTENDANCE of someone at the venue (ONLINE: someone online)


@dataclass(frozen=True)
class Online:
    """How to join online: shown only to people holding a seat, never on the public page or the API."""

    mode: str  # ONLINE: everyone joins online; HYBRID: each registrant chooses (the ATTENDANCE question)
    url: str  # the meeting's address
    instructions: str = ""
    instructions_en: str = ""
    venue_capacity: int = 0  # HYBRID: seats at the venue
    online_capacity: int = 0  # HYBRID: places online


@dataclass(frozen=True)
class Category:
    """One 参加区分 an attendee can choose."""

    key: str
    label: str
    reserved: int = 0  # seats only this category may take (until the event's quota_release_at)


@dataclass(frozen=True)
class Venue:
    """Where the event takes place."""

    name: str
    address: str
    map_url: str = ""
    url: str = ""


@dataclass(frozen=True)
class ReminderSpec:
    """When a reminder goes out, relative to the event start."""

    days_before: int | None = None
    at: str | None = None  # "HH:MM" in the event's time zone, with days_before
    minutes_before: int | None = None

    @property
    def key(self) -> str:
        """Stable name of this reminder: reloading the event file keeps its sent state."""
        if self.minutes_before is not None:
            return f"m{self.minutes_before}"
        return f"d{self.days_before}-{(self.at or '').replace(':', '')}"

    def due(self, starts_at: datetime, tz: ZoneInfo) -> datetime:
        """The moment this reminder is due, in UTC."""
        if self.minutes_before is not None:
            return starts_at - timedelta(minutes=self.minutes_before)
        local_day: date = starts_at.astimezone(tz).date() - timedelta(days=self.days_before or 0)
        hour, minute = (int(part) for part in (self.at or "00:00").split(":"))
        return datetime.combine(local_day, time(hour, minute), tzinfo=tz).astimezone(UTC)


# The attendance schedule's steps (stored as reminder items beside the reminders, whose keys never look like these).
RECONFIRM_ASK, RECONFIRM_AGAIN, RECONFIRM_RELEASE = "reconfirm", "reconfirm-again", "release"
REPORT_KEPT = "report"  # the 実施報告 kept as counts before the registrations are erased

# The day before at 10:00 and the morning of the event (issue 2's default).
DEFAULT_REMINDERS = (ReminderSpec(days_before=1, at="10:00"), ReminderSpec(days_before=0, at="08:00"))


@dataclass(frozen=True)
class Contact:
    """Who mails come from and who answers questions."""

    organizer_email: str
    sender: str = ""  # empty: the deployment's default sender
    sender_name: str = ""
    organizer_name: str = ""


@dataclass(frozen=True)
class Event:
    """An event as the organizer described it. Times are aware datetimes in UTC."""

    slug: str
    title: str
    summary: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    venue: Venue
    capacity: int
    registration_closes_at: datetime
    categories: tuple[Category, ...]
    contact: Contact
    doors_open_at: datetime | None = None
    organizers: tuple[str, ...] = ()
    cooperators: tuple[str, ...] = ()
    fee: str = ""
    programme: tuple[Talk, ...] = ()
    reminders: tuple[ReminderSpec, ...] = DEFAULT_REMINDERS
    url: str = ""
    waitlist: bool = True  # when full, new registrants join a waiting list and move up as seats free
    share_image_url: str = ""  # the picture shown when the event's link is shared ('' : the site's)
    # The form asks 配慮が必要なこと (合理的配慮); on unless the organizer turns it off.
    accommodation_question: bool = True
    # The form asks leave to list people for 名刺交換; the 名刺交換 list then holds only those who agreed.
    meishi_consent_question: bool = False
    certificates: bool = False  # 参加証明: a checked-in person may print one from their page (organizers: all)
    survey: Survey | None = None  # [survey]: アンケート after the event (None: none)
    form: tuple[FieldRule, ...] = ()  # [form.<field>]: the organizer's shaping of the standard fields
    questions: tuple[Question, ...] = ()  # [[questions]]: the event's own questions, in the form's order
    online: Online | None = None  # [online]: an online or hybrid event's meeting (seat holders only)
    cancellation_closes_at: datetime | None = None  # None: registrants may cancel until the start
    quota_release_at: datetime | None = None  # unused reserved seats become everyone's then (None: never)
    draw_at: datetime | None = None  # a lottery: applications until then, then a draw (None: first come)
    reconfirm_at: datetime | None = None  # 出欠の再確認: seat holders are asked then if they still come (None: never)
    release_unconfirmed_at: datetime | None = None  # seats not reconfirmed by then go to the line (None: never)
    retention_days: int = DEFAULT_RETENTION_DAYS  # personal data is deleted this many days after the end
    translations: tuple[tuple[str, Translation], ...] = ()  # (language, the organizer's text in it)
    readings: tuple[tuple[str, str], ...] = ()  # [readings]: ふりがな of the organizer's words (word, reading)

    def in_language(self, language: str) -> Event:
        """The event as a reader of `language` sees it: the organizer's translation where they wrote one."""
        text = dict(self.translations).get(language)
        form = _form_in(self.form, language, dict(text.form) if text else {})
        wordings = dict(text.questions) if text else {}
        asked = tuple(_asked_in(q, language, wordings.get(q.key)) for q in self.questions)
        survey = self.survey.in_language(language, dict(text.survey) if text else {}) if self.survey else None
        online = self.online
        if online is not None and language == "en" and online.instructions_en:
            online = replace(online, instructions=online.instructions_en)
        if text is None:
            changed = (form, asked, online, survey) != (self.form, self.questions, self.online, self.survey)
            return replace(self, form=form, questions=asked, online=online, survey=survey) if changed else self
        labels = dict(text.categories)
        return replace(
            self,
            title=text.title or self.title,
            summary=text.summary or self.summary,
            fee=text.fee or self.fee,
            organizers=text.organizers or self.organizers,
            cooperators=text.cooperators or self.cooperators,
            venue=replace(
                self.venue, name=text.venue_name or self.venue.name, address=text.venue_address or self.venue.address
            ),
            contact=replace(
                self.contact,
                organizer_name=text.organizer_name or self.contact.organizer_name,
                sender_name=text.sender_name or self.contact.sender_name,
            ),
            categories=tuple(replace(c, label=labels.get(c.key, c.label)) for c in self.categories),
            programme=programme_in(self.programme, text.programme),
            form=form,
            questions=asked,
            online=online,
            survey=survey,
        )

    def own_texts(self) -> list[str]:
        """The organizer's own words that attendee pages show (as this event holds them), longest first."""
        texts = [self.title, self.summary, self.fee, self.venue.name, self.venue.address, self.contact.organizer_name]
        texts += [*self.organizers, *self.cooperators, *(c.label for c in self.categories)]
        texts += [t for talk in self.programme for t in (talk.title, talk.speaker, talk.affiliation)]
        texts += [t for rule in self.form for t in (rule.label, rule.hint)]
        # Not the hybrid event's own question: its words are the site's, in every language (_asked_in).
        asked = [q for q in self.questions if q.key != ATTENDANCE] + list(self.survey.questions if self.survey else ())
        texts += [t for q in asked for t in (q.label, q.hint, *(c.label for c in q.choices))]
        texts += [self.online.instructions] if self.online else []
        return sorted({t for t in texts if t}, key=len, reverse=True)

    def rules(self) -> dict[str, FieldRule]:
        """The organizer's rule for each shaped field (fields without one keep their defaults)."""
        return {rule.field: rule for rule in self.form}

    def joins_online(self, answers: Mapping[str, Any]) -> bool:
        """True if a registration with these answers takes part online (all do in an online event)."""
        if self.online is None:
            return False
        return self.online.mode == ONLINE or answers.get(ATTENDANCE) == ONLINE

    def pools(self) -> dict[str, int]:
        """A hybrid event's pools (参加枠) and their seats, 会場 then オンライン; none for any other event."""
        if self.online is None or self.online.mode != HYBRID:
            return {}
        return {VENUE: self.online.venue_capacity, ONLINE: self.online.online_capacity}

    def pool_of(self, answers: Mapping[str, Any]) -> str:
        """The pool a registration with these answers holds its seat or place in ('' in an event without pools)."""
        chosen = answers.get(ATTENDANCE)
        return chosen if isinstance(chosen, str) and chosen in self.pools() else ""

    def field_labels(self) -> dict[str, str]:
        """Field to the organizer's own label, for the fields they renamed (in_language() gives the English ones)."""
        return {rule.field: rule.label for rule in self.form if rule.label}

    def label_for(self, field: str) -> str:
        """The organizer's own label for a standard field, or '' where the standard one stands."""
        return self.field_labels().get(field, "")

    def field_modes(self) -> dict[str, str]:
        """Field to required/optional/hidden, for the fields whose default the organizer changed."""
        return {rule.field: rule.mode for rule in self.form if rule.mode}

    @property
    def personal_data_expires_at(self) -> datetime:
        """When DynamoDB's TTL deletes this event's registrations (APPI: keep no longer than needed)."""
        return self.ends_at + timedelta(days=self.retention_days)

    @property
    def report_kept_at(self) -> datetime:
        """When the 実施報告 is kept as counts: a day before the registrations are erased (at the end, if sooner)."""
        return max(self.ends_at, self.personal_data_expires_at - timedelta(days=1))

    def reservations(self, now: datetime) -> dict[str, int]:
        """Seats reserved per category key at `now` (none once they are released)."""
        if self.quota_release_at is not None and now >= self.quota_release_at:
            return {}
        return {c.key: c.reserved for c in self.categories if c.reserved}

    def takes_applications(self, now: datetime) -> bool:
        """True while a lottery takes applications, before its draw."""
        return self.draw_at is not None and now < self.draw_at

    @property
    def cancellation_deadline(self) -> datetime:
        """Until when a registrant may cancel (and so free a seat for the waiting list)."""
        return self.cancellation_closes_at or self.starts_at

    @property
    def tz(self) -> ZoneInfo:
        """The event's time zone."""
        return ZoneInfo(self.timezone)

    def category_label(self, key: str) -> str:
        """Label of a category key, or the key itself if the organizer removed it since."""
        return next((c.label for c in self.categories if c.key == key), key)

    def reminder_schedule(self) -> dict[str, datetime]:
        """Due time of each configured reminder, by key."""
        return {spec.key: spec.due(self.starts_at, self.tz) for spec in self.reminders}

    def attendance_schedule(self) -> dict[str, datetime]:
        """When seat holders are asked to reconfirm, asked again (those who did not answer), and released."""
        if self.reconfirm_at is None:
            return {}
        schedule = {RECONFIRM_ASK: self.reconfirm_at}
        if self.release_unconfirmed_at is not None:
            # Halfway to the release: the one reminder that warns before a seat is given away.
            schedule[RECONFIRM_AGAIN] = self.reconfirm_at + (self.release_unconfirmed_at - self.reconfirm_at) / 2
            schedule[RECONFIRM_RELEASE] = self.release_unconfirmed_at
        return schedule

    def to_json(self) -> str:
        """Serialise for storage in the event item."""
        data = asdict(self)
        moments = ("starts_at", "ends_at", "registration_closes_at", "doors_open_at", "cancellation_closes_at")
        for name in (*moments, "quota_release_at", "draw_at", "reconfirm_at", "release_unconfirmed_at"):
            data[name] = iso(data[name]) if data[name] else None
        data["survey"] = self.survey.to_dict() if self.survey else None
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Event:
        """Inverse of to_json()."""
        data = json.loads(text)
        return cls(
            slug=data["slug"],
            title=data["title"],
            summary=data["summary"],
            starts_at=parse_iso(data["starts_at"]),
            ends_at=parse_iso(data["ends_at"]),
            timezone=data["timezone"],
            venue=Venue(**data["venue"]),
            capacity=data["capacity"],
            registration_closes_at=parse_iso(data["registration_closes_at"]),
            categories=tuple(Category(**c) for c in data["categories"]),
            contact=Contact(**data["contact"]),
            doors_open_at=parse_iso(data["doors_open_at"]) if data["doors_open_at"] else None,
            organizers=tuple(data["organizers"]),
            cooperators=tuple(data["cooperators"]),
            fee=data["fee"],
            programme=tuple(Talk(**t) for t in data["programme"]),
            reminders=tuple(ReminderSpec(**r) for r in data["reminders"]),
            url=data.get("url", ""),
            share_image_url=data.get("share_image_url", ""),
            waitlist=data.get("waitlist", True),
            accommodation_question=data.get("accommodation_question", True),
            meishi_consent_question=data.get("meishi_consent_question", False),
            certificates=data.get("certificates", False),
            survey=Survey.from_dict(data["survey"]) if data.get("survey") else None,
            form=tuple(FieldRule(**rule) for rule in data.get("form", [])),
            online=Online(**data["online"]) if data.get("online") else None,
            questions=tuple(_question_from(q) for q in data.get("questions", [])),
            cancellation_closes_at=_moment_or_none(data.get("cancellation_closes_at")),
            quota_release_at=_moment_or_none(data.get("quota_release_at")),
            draw_at=_moment_or_none(data.get("draw_at")),
            reconfirm_at=_moment_or_none(data.get("reconfirm_at")),
            release_unconfirmed_at=_moment_or_none(data.get("release_unconfirmed_at")),
            retention_days=data.get("retention_days", DEFAULT_RETENTION_DAYS),
            translations=tuple((lang, Translation.from_dict(text)) for lang, text in data.get("translations", [])),
            readings=tuple((word, reading) for word, reading in data.get("readings", [])),
        )


def _question_from(data: Mapping[str, Any]) -> Question:
    # Details stored before a hybrid event's modes became seat pools capped 会場/オンライン as answers:
    # the pools count them now, so such a cap is dropped rather than counted twice.
    uncapped = data["key"] == ATTENDANCE
    return Question(
        **{**data, "choices": tuple(Choice(**{**c, **({"capacity": 0} if uncapped else {})}) for c in data["choices"])}
    )


def _moment_or_none(text: str | None) -> datetime | None:
    return parse_iso(text) if text else None


STATUS_OPEN = "open"


STATUS_CLOSED = "closed"
# The closed_reason of an event its organizer called off: it never opens again (announcements.py).
REASON_EVENT_CANCELLED = "event_cancelled"


def _form_in(form: tuple[FieldRule, ...], language: str, words: Mapping[str, tuple[str, str]]) -> tuple[FieldRule, ...]:
    """The form's own words for readers of `language`: label_en/hint_en in English, the section's elsewhere."""
    if language == "en":
        words = {r.field: (r.label_en, r.hint_en) for r in form}
    if not words:
        return form
    worded = [(r, words.get(r.field, ("", ""))) for r in form]
    return tuple(replace(r, label=label or r.label, hint=hint or r.hint) for r, (label, hint) in worded)


def _asked_in(question: Question, language: str, wording: Wording | None = None) -> Question:
    """A question as readers of `language` see it; the hybrid event's own question in the site's words."""
    if question.key == ATTENDANCE and language not in (DEFAULT_LANGUAGE, "en"):  # English: its label_en
        choices = tuple((c.key, translated(language, c.label)) for c in question.choices)
        wording = Wording(translated(language, question.label), "", choices)
    return question.in_language(language, wording)
