"""Composing outbox mail: one registry says, for each kind, who receives it, in which states, and how it reads.

A mail is composed when it is sent, not when it was queued, from the event and registration as they
are then: a waiting-list notice for someone who has since moved up, or a reminder after a
cancellation, is dropped (Undeliverable), and a confirmation re-sent to someone now waiting says
where they wait. Adding a kind of mail means one MailKind and one entry in RECIPES.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from chalicelib.domain.attendee import email_key
from chalicelib.domain.clock import Clock, parse_iso
from chalicelib.domain.event import Event
from chalicelib.domain.links import LinkSigner, attendance_path, personal_path, signed_check_in_path, survey_path
from chalicelib.domain.questions import answers_of
from chalicelib.domain.registration import Registration, RegistrationStatus
from chalicelib.mail import render as r
from chalicelib.mail.attendance import render_reconfirm, render_released
from chalicelib.mail.render import Links, RenderedMail
from chalicelib.store import schema
from chalicelib.store.dynamo import Item, Table
from chalicelib.text import i18n
from chalicelib.text import messages as msg
from chalicelib.usecases import announcements, broadcast, catalog, sign_in, survey_answers
from chalicelib.usecases.outbox import MailKind
from chalicelib.usecases.registrations import get_registration
from chalicelib.usecases.waitlist import position


class Undeliverable(Exception):
    """The mail no longer makes sense to send (its event or registration is gone, or its state moved on)."""


class NoAddress(Undeliverable):
    """The registrant has no address (staff registered them by phone): the organizer must tell them."""


@dataclass(frozen=True)
class Envelope:
    """Who a mail goes to and who it is from."""

    to: str
    sender: str
    sender_name: str
    reply_to: str = ""


class Recipient(StrEnum):
    """Whom a kind of mail is addressed to."""

    REGISTRANT = "registrant"  # in their language, with their personal link and check-in code
    ORGANIZER = "organizer"  # the event's organizer_email, about the event or one registration
    PREVIOUS_ADDRESS = "previous_address"  # the address a registration had before staff changed it (item's `to`)


@dataclass(frozen=True)
class Facts:
    """What a renderer may use: the event and registration as they are now, the item, its links, the time."""

    table: Table
    event: Event
    registration: Registration | None
    item: Item
    links: Links
    now: datetime
    revision: Callable[[], int] | None = None  # the Composer's cached read of the calendar entries' revision

    def sequence(self) -> int:
        """The revision of the event's calendar entries (raised by each announced change)."""
        return self.revision() if self.revision else announcements.sequence(self.table, self.event.slug)

    def place(self) -> int:
        """The registrant's place in line, read only by the mails that show it."""
        wait_sk = self.registration.wait_sk if self.registration else ""
        return position(self.table, self.event.slug, wait_sk) if wait_sk else 0


@dataclass(frozen=True)
class Recipe:
    """One kind of mail: its recipient, the registration states it is still sent in, and its renderer."""

    to: Recipient
    render: Callable[[Facts], RenderedMail]
    sent_while: frozenset[RegistrationStatus] = frozenset()
    # Read the details from the table, not the per-container cache: the mail exists to tell what just changed.
    fresh_details: bool = False
    # Read the calendar revision from the table: a CANCEL carrying a revision older than the calendar's
    # is ignored by calendar apps (RFC 5546), where an older PUBLISH only leaves the newer entry in place.
    fresh_revision: bool = False


_ACTIVE = frozenset({RegistrationStatus.CONFIRMED, RegistrationStatus.WAITLISTED, RegistrationStatus.APPLIED})
_SEATED = frozenset({RegistrationStatus.CONFIRMED})
_WAITING = frozenset({RegistrationStatus.WAITLISTED})


def _person(f: Facts) -> Registration:
    assert f.registration is not None
    return f.registration


def _confirmation(f: Facts) -> RenderedMail:
    """A confirmation, or (re-sent to someone no longer seated) what their registration now is."""
    person = _person(f)
    if person.status == RegistrationStatus.APPLIED.value:
        return r.render_applied(f.event, person, f.links)
    if person.status == RegistrationStatus.WAITLISTED.value:
        return r.render_waitlisted(f.event, person, f.links, f.place())
    return r.render_confirmation(f.event, person, f.links, f.now, f.sequence())


def _broadcast(f: Facts) -> RenderedMail:
    message = broadcast.get(f.table, f.event.slug, f.item["broadcast_id"])
    if message is None:
        raise Undeliverable("the broadcast no longer exists")
    return r.render_broadcast(f.event, _person(f), message["subject"], message["body"], f.links)


def _announcement(f: Facts) -> tuple[Item, str]:
    """The broadcast item of an announcement and the organizer's note in it."""
    message = broadcast.get(f.table, f.event.slug, f.item["broadcast_id"])
    if message is None:
        raise Undeliverable("the announcement no longer exists")
    language = f.registration.lang if f.registration else "ja"
    return message, announcements.note_in(message, language)


def broadcast_preview(event: Event, person: Registration, draft: broadcast.Draft, event_url: str) -> RenderedMail:
    """An organizer's message as its first recipient will read it (their personal link left out)."""
    return r.render_broadcast(event, person, draft.subject, draft.body, Links(event_url=event_url))


def announcement_preview(
    table: Table, event: Event, request: announcements.Request, person: Registration, event_url: str, now: datetime
) -> RenderedMail:
    """A change notice or the cancellation as its first recipient will read it, with the revision it will carry."""
    links, revision = Links(event_url=event_url), request.seen + 1
    if request.kind == broadcast.CHANGE and request.change is not None:
        was = earlier(request.change.before.fields())
        note = request.note_for(person.lang)
        return r.render_change_notice(event, person, links, was, request.change.about, note, now, revision)
    return r.render_event_cancelled(event, person, links, request.note_for(person.lang), now, revision)


def earlier(before: Mapping[str, Any]) -> r.Earlier:
    """What a change notice says the event was, from the stored record of what registrants were told."""
    return r.Earlier(
        parse_iso(before["starts_at"]), parse_iso(before["ends_at"]), before["venue_name"], before["venue_address"]
    )


def _change_notice(f: Facts) -> RenderedMail:
    message, note = _announcement(f)
    about = tuple(message.get("about", ()))
    # The revision now, not the notice's: a later change's entry must not be replaced by this older one.
    was = earlier(message["before"])
    return r.render_change_notice(f.event, _person(f), f.links, was, about, note, f.now, f.sequence())


def _event_cancelled(f: Facts) -> RenderedMail:
    _, note = _announcement(f)
    return r.render_event_cancelled(f.event, _person(f), f.links, note, f.now, f.sequence())


def _reconfirm(f: Facts) -> RenderedMail:
    person = _person(f)
    if person.reconfirmed_at:
        raise Undeliverable("they said they come already")
    return render_reconfirm(f.event, person, f.links, f.now, again=bool(f.item.get("again")))


def _closed_notice(f: Facts) -> RenderedMail:
    item = f.item
    return r.render_closed_notice(f.event, item["reason"], int(item["seats_taken"]), int(item["capacity"]), f.links)


def _feedback_notice(f: Facts) -> RenderedMail:
    return r.render_feedback_notice(f.event, _person(f), f.item["feedback"], f.item["feedback_detail"], f.links)


def _unsendable_notice(f: Facts) -> RenderedMail:
    number = f.registration.number if f.registration else ""
    no_address = bool(f.item.get("no_address"))
    blocked = str(f.item.get("blocked", ""))
    return r.render_unsendable_notice(f.event, number, f.item["unsendable_kind"], f.links, no_address, blocked)


RECIPES: dict[MailKind, Recipe] = {
    MailKind.CONFIRMATION: Recipe(Recipient.REGISTRANT, _confirmation, _ACTIVE),
    MailKind.APPLIED: Recipe(
        Recipient.REGISTRANT,
        lambda f: r.render_applied(f.event, _person(f), f.links),
        frozenset({RegistrationStatus.APPLIED}),
    ),
    MailKind.DRAW_WON: Recipe(
        Recipient.REGISTRANT, lambda f: r.render_draw_won(f.event, _person(f), f.links, f.now), _SEATED
    ),
    MailKind.DRAW_LOST: Recipe(
        Recipient.REGISTRANT,
        lambda f: r.render_waitlisted(f.event, _person(f), f.links, f.place(), drawn=True),
        _WAITING,
    ),
    MailKind.REMINDER: Recipe(
        Recipient.REGISTRANT,
        lambda f: r.render_reminder(
            f.event, _person(f), f.links, parse_iso(f.item["reminder_due"]), f.now, f.sequence()
        ),
        _SEATED,
    ),
    MailKind.PROMOTED: Recipe(
        Recipient.REGISTRANT, lambda f: r.render_promoted(f.event, _person(f), f.links, f.now, f.sequence()), _SEATED
    ),
    MailKind.WAITLISTED: Recipe(
        Recipient.REGISTRANT, lambda f: r.render_waitlisted(f.event, _person(f), f.links, f.place()), _WAITING
    ),
    MailKind.CANCELLED: Recipe(
        Recipient.REGISTRANT,
        lambda f: r.render_cancelled(
            f.event, _person(f), f.links, f.now, held_seat=bool(f.item.get("held_seat")), sequence=f.sequence() + 1
        ),
        frozenset({RegistrationStatus.CANCELLED}),
        fresh_revision=True,
    ),
    MailKind.BROADCAST: Recipe(Recipient.REGISTRANT, _broadcast, _ACTIVE),
    MailKind.CHANGE_NOTICE: Recipe(Recipient.REGISTRANT, _change_notice, _ACTIVE, fresh_details=True),
    MailKind.EVENT_CANCELLED: Recipe(Recipient.REGISTRANT, _event_cancelled, _ACTIVE, fresh_details=True),
    MailKind.ADDRESS_CHANGED: Recipe(
        Recipient.PREVIOUS_ADDRESS, lambda f: r.render_address_changed(f.event, _person(f), f.links)
    ),
    MailKind.RECONFIRM: Recipe(Recipient.REGISTRANT, _reconfirm, _SEATED),
    MailKind.RELEASED: Recipe(
        Recipient.REGISTRANT,
        lambda f: render_released(f.event, _person(f), f.links, f.now, f.sequence() + 1),
        frozenset({RegistrationStatus.CANCELLED}),
        fresh_revision=True,
    ),
    MailKind.CLOSED_NOTICE: Recipe(Recipient.ORGANIZER, _closed_notice),
    MailKind.FEEDBACK_NOTICE: Recipe(Recipient.ORGANIZER, _feedback_notice),
    MailKind.UNSENDABLE_NOTICE: Recipe(Recipient.ORGANIZER, _unsendable_notice),
}


@dataclass
class Composer:
    """Turns an outbox item into the mail to send now, with its envelope; reads, never writes."""

    table: Table
    events: catalog.EventDetails
    signer: LinkSigner
    clock: Clock
    base_url: str
    default_sender: str
    # slug -> (when read, revision): a reminder fan-out of thousands of mails reads it once per TTL.
    _revisions: dict[str, tuple[datetime, int]] = field(default_factory=dict)

    def _revision(self, slug: str, fresh: bool) -> Callable[[], int]:
        """The calendar entries' revision, read lazily: through the details' TTL, or fresh for announcements."""

        def read() -> int:
            now = self.clock.now()
            cached = self._revisions.get(slug)
            if fresh or cached is None or now - cached[0] >= catalog.DETAILS_TTL:
                cached = (now, announcements.sequence(self.table, slug))
                self._revisions[slug] = cached
            return cached[1]

        return read

    def __call__(self, slug: str, item: Item) -> tuple[RenderedMail, Envelope]:
        """The mail for `item` as it should read now; Undeliverable if it should no longer be sent."""
        if item["kind"] == MailKind.SIGN_IN.value:
            return self._sign_in(item)
        recipe = RECIPES[MailKind(item["kind"])]
        if recipe.fresh_details:
            state = catalog.get_event(self.table, slug)
            event = state.event if state else None
        else:
            event = self.events.get(slug)
        if event is None:
            raise Undeliverable("the event no longer exists")
        registration = self._registration(slug, item)
        links = Links(event_url=f"{self.base_url}/events/{slug}")
        sender = event.contact.sender or self.default_sender
        now = self.clock.now()
        revision = self._revision(slug, recipe.fresh_details or recipe.fresh_revision)
        if recipe.to is Recipient.ORGANIZER:
            rendered = recipe.render(Facts(self.table, event, registration, item, links, now, revision))
            if item.get("blocked"):  # SES refused the event's own sender: the stage's, which the role may use
                sender = self.default_sender
            return rendered, Envelope(event.contact.organizer_email, sender, sender_name(event))
        if registration is None:
            raise Undeliverable("a mail to a registrant names no registration")
        if recipe.to is Recipient.PREVIOUS_ADDRESS:
            return self._to_previous_address(recipe, event, registration, item, links, now, sender)
        self._check_still_wanted(MailKind(item["kind"]), recipe, registration)
        rid = registration.registration_id
        at_the_door = not event.joins_online(answers_of(registration.attendee.answers))
        links = Links(
            event_url=links.event_url,
            manage_url=self.base_url + personal_path(self.signer, slug, rid, event.ends_at),
            # Someone taking part online never comes to 受付: their mails carry no door QR code.
            check_in_url=self.base_url + signed_check_in_path(self.signer, slug, rid, event.ends_at)
            if at_the_door
            else "",
            attend_url=self.base_url + attendance_path(self.signer, slug, rid, event.ends_at, "yes"),
            decline_url=self.base_url + attendance_path(self.signer, slug, rid, event.ends_at, "no"),
            # The thank-you after the event asks for the survey while it takes this person's answer.
            survey_url=self.base_url + survey_path(self.signer, slug, rid, event.ends_at)
            if survey_answers.refusal(event, registration, now) is None
            else "",
        )
        event = event.in_language(registration.lang)  # their language, also for the organizer's own text
        with i18n.speaking(registration.lang):
            rendered = recipe.render(Facts(self.table, event, registration, item, links, now, revision))
        return rendered, Envelope(
            registration.attendee.email, sender, sender_name(event), event.contact.organizer_email
        )

    def _to_previous_address(
        self,
        recipe: Recipe,
        event: Event,
        registration: Registration,
        item: Item,
        links: Links,
        now: datetime,
        sender: str,
    ) -> tuple[RenderedMail, Envelope]:
        """Tell the address a registration used to have, in the registrant's language, without a personal link."""
        previous = str(item.get("to", ""))
        if not previous or self.table.get(schema.suppression_key(email_key(previous))) is not None:
            raise Undeliverable("no previous address to tell, or it bounced before")
        event = event.in_language(registration.lang)
        with i18n.speaking(registration.lang):
            rendered = recipe.render(Facts(self.table, event, registration, item, links, now))
        return rendered, Envelope(previous, sender, sender_name(event), event.contact.organizer_email)

    def _registration(self, slug: str, item: Item) -> Registration | None:
        """The registration the mail is about, if any; Undeliverable if it is gone or erased."""
        if not item.get("registration_id"):
            return None
        registration = get_registration(self.table, slug, item["registration_id"])
        if registration is None:
            raise Undeliverable("the registration no longer exists")
        if registration.erased:
            raise Undeliverable("the registrant had their personal data erased")
        return registration

    def _check_still_wanted(self, kind: MailKind, recipe: Recipe, registration: Registration) -> None:
        if not registration.attendee.email:
            raise NoAddress("staff registered this person without an e-mail address")
        if self.table.get(schema.suppression_key(registration.attendee.email_key)) is not None:
            raise Undeliverable("the address bounced or complained before; nothing more is sent to it")
        status = RegistrationStatus(registration.status)
        if status not in recipe.sent_while:
            raise Undeliverable(f"a {kind.value} mail is not sent to a registration that is {status.value}")

    def _sign_in(self, item: Item) -> tuple[RenderedMail, Envelope]:
        """An organizer's sign-in link (no event): the HMAC is made now, from the nonce the outbox item holds."""
        valid_until = parse_iso(item["created_at"]) + sign_in.SIGN_IN_VALID
        token = sign_in.sign_in_token(self.signer, item["nonce"], valid_until)
        link = f"{self.base_url}{sign_in.sign_in_path(item['nonce'], token)}"
        rendered = r.render_sign_in(link, int(sign_in.SIGN_IN_VALID.total_seconds() // 60))
        return rendered, Envelope(item["to"], self.default_sender, i18n.gettext(msg.SITE_NAME))


def sender_name(event: Event) -> str:
    """The name the mail comes from: the organizer's choice, else the event's title."""
    return event.contact.sender_name or event.title
