"""E-mail content: pure rendering (context in, subject/text/HTML/attachments out) and MIME assembly.

Nothing here talks to SES; mail/ses.py is the only place that sends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib import templating
from chalicelib.domain.attendee import single_line
from chalicelib.domain.event import ONLINE, Event
from chalicelib.domain.questions import answers_of
from chalicelib.domain.registration import Registration, RegistrationStatus
from chalicelib.mail.calendar import build_ics
from chalicelib.mail.qr import qr_filename, qr_png
from chalicelib.text.i18n import N_, gettext
from chalicelib.text.messages import MAIL_KIND_LABELS, POOL_LABELS

SUBJECT_CONFIRMATION = N_("【お申し込み完了】{title}")
SUBJECT_REMINDER = N_("【{when}開催】{title}")
SUBJECT_CLOSED = N_("【受付終了】{title}（{taken}/{capacity}名）")
SUBJECT_WAITLISTED = N_("【キャンセル待ち受付・{position}番目】{title}")
SUBJECT_PROMOTED = N_("【参加確定】{title}（キャンセル待ちから繰り上げ）")
SUBJECT_CANCELLED = N_("【お申し込み取り消し】{title}")
SUBJECT_APPLIED = N_("【抽選申込受付】{title}")
SUBJECT_FEEDBACK = {
    "bounce": N_("【配信エラー】{title}：受付番号{number}の方へメールが届きません"),
    "complaint": N_("【迷惑メール報告】{title}：受付番号{number}の方がメールを迷惑メールとして報告しました"),
}
SUBJECT_CONTACT_NEEDED = N_("【連絡が必要】{title}：受付番号{number}の方に「{kind}」を電話などでお知らせください")
SUBJECT_BLOCKED = N_("【メールを止めています】{title}：SESが送信を受け付けません（送信元の設定を確かめてください）")
SUBJECT_UNSENDABLE = N_("【送信できないメール】{title}：受付番号{number}の方への「{kind}」を送れませんでした")
SUBJECT_DRAW_WON = N_("【当選・参加確定】{title}")
SUBJECT_DRAW_LOST = N_("【抽選結果・キャンセル待ち{position}番目】{title}")
SUBJECT_SIGN_IN = N_("【イベント受付】主催者ページへのサインイン")
SUBJECT_BROADCAST = N_("【{title}】{subject}")
SUBJECT_CHANGE = N_("【開催内容の変更】{title}")
SUBJECT_EVENT_CANCELLED = N_("【中止】{title}")
SUBJECT_ADDRESS_CHANGED = N_("【メールアドレスの変更】{title}")


@dataclass(frozen=True)
class Attachment:
    """A file attached to an e-mail."""

    filename: str
    content_type: str  # "text/calendar"
    data: bytes
    method: str = ""  # a calendar's iTIP method (RFC 6047), said in its Content-Type as well


@dataclass(frozen=True)
class RenderedMail:
    """Everything a recipient reads, before it is wrapped for sending."""

    subject: str
    text: str
    html: str
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class Links:
    """Public URLs a mail points to."""

    event_url: str
    manage_url: str = ""  # the registrant's own page (signed); empty in mails to the organizer
    check_in_url: str = ""  # what the seat mails' QR code holds: the door's check-in page (signed)
    attend_url: str = ""  # the reconfirmation's 参加します page (signed); empty in mails to the organizer
    decline_url: str = ""  # its 行けなくなりました page (signed)
    survey_url: str = ""  # the survey's page (signed), while it takes this registrant's answer


# Mails about a held seat take `sequence`: the calendar entry's revision (announcements.py raises it).


def render_confirmation(
    event: Event, registration: Registration, links: Links, now: datetime, sequence: int = 0
) -> RenderedMail:
    """The mail that tells a registrant their seat is theirs."""
    subject = gettext(SUBJECT_CONFIRMATION).format(title=event.title)
    return _seat_mail("confirmation", subject, event, registration, links, now, sequence)


def render_promoted(
    event: Event, registration: Registration, links: Links, now: datetime, sequence: int = 0
) -> RenderedMail:
    """A seat freed and went to this person from the waiting list: everything a confirmation carries."""
    subject = gettext(SUBJECT_PROMOTED).format(title=event.title)
    return _seat_mail("promoted", subject, event, registration, links, now, sequence)


def render_draw_won(
    event: Event, registration: Registration, links: Links, now: datetime, sequence: int = 0
) -> RenderedMail:
    """The lottery gave this applicant a seat: everything a confirmation carries."""
    subject = gettext(SUBJECT_DRAW_WON).format(title=event.title)
    return _seat_mail("draw_won", subject, event, registration, links, now, sequence)


def render_waitlisted(
    event: Event, registration: Registration, links: Links, position: int, drawn: bool = False
) -> RenderedMail:
    """The registrant waits at `position` (after joining, or after losing the draw); no calendar file yet."""
    context = {"event": event, "registration": registration, "links": links, "position": position, "calendar": False}
    template, subject = ("draw_lost", SUBJECT_DRAW_LOST) if drawn else ("waitlisted", SUBJECT_WAITLISTED)
    return RenderedMail(
        subject=gettext(subject).format(title=event.title, position=position),
        text=templating.render(f"mail/{template}.txt", **context),
        html=templating.render(f"mail/{template}.html", **context),
    )


def render_applied(event: Event, registration: Registration, links: Links) -> RenderedMail:
    """The lottery application is in; the draw's time is when they will hear."""
    context = {"event": event, "registration": registration, "links": links, "calendar": False}
    return RenderedMail(
        subject=gettext(SUBJECT_APPLIED).format(title=event.title),
        text=templating.render("mail/applied.txt", **context),
        html=templating.render("mail/applied.html", **context),
    )


def render_cancelled(
    event: Event, registration: Registration, links: Links, now: datetime, held_seat: bool = False, sequence: int = 1
) -> RenderedMail:
    """The registration (a seat or a place in the waiting list) is cancelled.

    A seat's mails put the event in the registrant's calendar, so its cancellation takes it out again
    (`sequence`: above the revision the calendar holds).
    """
    context = {"event": event, "registration": registration, "links": links}
    return RenderedMail(
        subject=gettext(SUBJECT_CANCELLED).format(title=event.title),
        text=templating.render("mail/cancelled.txt", **context),
        html=templating.render("mail/cancelled.html", **context),
        attachments=(calendar_removal(event, registration, links, now, sequence),) if held_seat else (),
    )


@dataclass(frozen=True)
class Earlier:
    """The date, time and venue a change notice says the event had before."""

    starts_at: datetime
    ends_at: datetime
    venue_name: str
    venue_address: str


def render_change_notice(
    event: Event,
    registration: Registration,
    links: Links,
    earlier: Earlier,
    about: tuple[str, ...],
    note: str,
    now: datetime,
    sequence: int,
) -> RenderedMail:
    """The date, time or venue changed: what it was, the event as it is now, and (with a seat) the updated entry."""
    seated = registration.status == RegistrationStatus.CONFIRMED.value
    context = {
        "event": event,
        "registration": registration,
        "links": links,
        "before": earlier,
        "about": about,
        "note": note,
        "seated": seated,
        "calendar": seated,
    }
    return RenderedMail(
        subject=gettext(SUBJECT_CHANGE).format(title=event.title),
        text=templating.render("mail/change_notice.txt", **context),
        html=templating.render("mail/change_notice.html", **context),
        attachments=(_calendar(event, registration, links, now, sequence),) if seated else (),
    )


def render_address_changed(event: Event, registration: Registration, links: Links) -> RenderedMail:
    """To the old address: staff moved this registration to another address (masked); no personal link."""
    context = {"event": event, "registration": registration, "links": links}
    return RenderedMail(
        subject=gettext(SUBJECT_ADDRESS_CHANGED).format(title=event.title),
        text=templating.render("mail/address_changed.txt", **context),
        html=templating.render("mail/address_changed.html", **context),
    )


def render_event_cancelled(
    event: Event, registration: Registration, links: Links, note: str, now: datetime, sequence: int
) -> RenderedMail:
    """The organizer called the event off; a seat's calendar entry is removed."""
    seated = registration.status == RegistrationStatus.CONFIRMED.value
    context = {"event": event, "registration": registration, "links": links, "note": note, "seated": seated}
    return RenderedMail(
        subject=gettext(SUBJECT_EVENT_CANCELLED).format(title=event.title),
        text=templating.render("mail/event_cancelled.txt", **context),
        html=templating.render("mail/event_cancelled.html", **context),
        attachments=(calendar_removal(event, registration, links, now, sequence),) if seated else (),
    )


def calendar_removal(
    event: Event, registration: Registration, links: Links, now: datetime, sequence: int
) -> Attachment:
    """The calendar file that takes a seat's entry out of the registrant's calendar (a CANCEL above `sequence`)."""
    data = build_ics(event, registration.registration_id, links.event_url, now, sequence, cancelled=True)
    return Attachment("event.ics", "text/calendar", data, method="CANCEL")


def _seat_mail(
    template: str,
    subject: str,
    event: Event,
    registration: Registration,
    links: Links,
    now: datetime,
    sequence: int = 0,
) -> RenderedMail:
    context = {"event": event, "registration": registration, "links": links, "calendar": True}
    context["qr_file"] = _qr_file(registration, links)
    return RenderedMail(
        subject=subject,
        text=templating.render(f"mail/{template}.txt", **context),
        html=templating.render(f"mail/{template}.html", **context),
        attachments=_seat_attachments(event, registration, links, now, sequence),
    )


def _seat_attachments(
    event: Event, registration: Registration, links: Links, now: datetime, sequence: int = 0
) -> tuple[Attachment, ...]:
    """What every mail about a held seat carries: the calendar file and, when there is one, the door's QR code."""
    calendar = _calendar(event, registration, links, now, sequence)
    if not links.check_in_url:
        return (calendar,)
    # Attached, not shown by an <img> in the HTML: an image beside a mail's few lines of text is what
    # spam filters score (SpamAssassin's HTML_IMAGE_ONLY_*, 0.6 to 2.8); mail programs show it all the same.
    return (calendar, Attachment(_qr_file(registration, links), "image/png", qr_png(links.check_in_url)))


def _qr_file(registration: Registration, links: Links) -> str:
    """The attached QR code's file name, which the mail names; empty when the mail carries none."""
    return qr_filename(registration.number) if links.check_in_url else ""


def reminder_when(event: Event, due: datetime) -> str:
    """明日 / 本日 / まもなく, from the reminder's due time and the event's local start date."""
    days = (event.starts_at.astimezone(event.tz).date() - due.astimezone(event.tz).date()).days
    return gettext({0: N_("本日"), 1: N_("明日")}.get(days, N_("まもなく")))


def release_ahead(event: Event, registration: Registration, now: datetime) -> datetime | None:
    """When this person's seat will be released if they do not reconfirm; None if it will not be."""
    release = event.release_unconfirmed_at
    if release is None or now >= release or registration.reconfirmed_at:
        return None
    return release


def render_reminder(
    event: Event, registration: Registration, links: Links, due: datetime, now: datetime, sequence: int = 0
) -> RenderedMail:
    """A reminder before the event, carrying everything the confirmation carried."""
    when = reminder_when(event, due)
    context = {
        "event": event,
        "registration": registration,
        "links": links,
        "when": when,
        "calendar": True,
        "release_at": release_ahead(event, registration, now),  # only a seat that may still go carries the warning
        "qr_file": _qr_file(registration, links),
    }
    return RenderedMail(
        subject=gettext(SUBJECT_REMINDER).format(when=when, title=event.title),
        text=templating.render("mail/reminder.txt", **context),
        html=templating.render("mail/reminder.html", **context),
        attachments=_seat_attachments(event, registration, links, now, sequence),
    )


def render_closed_notice(event: Event, reason: str, seats_taken: int, capacity: int, links: Links) -> RenderedMail:
    """Tells the organizer, once per closing, that registration closed, why, and how full it was."""
    context = {"event": event, "reason": reason, "seats_taken": seats_taken, "capacity": capacity, "links": links}
    return RenderedMail(
        subject=gettext(SUBJECT_CLOSED).format(title=event.title, taken=seats_taken, capacity=capacity),
        text=templating.render("mail/closed_notice.txt", **context),
        html=templating.render("mail/closed_notice.html", **context),
    )


def _calendar(event: Event, registration: Registration, links: Links, now: datetime, sequence: int = 0) -> Attachment:
    # A seat online: the calendar entry is where they will be, オンライン and the meeting's address.
    seated_online = registration.status == RegistrationStatus.CONFIRMED.value and event.joins_online(
        answers_of(registration.attendee.answers)
    )
    meeting = event.online.url if seated_online and event.online else ""
    data = build_ics(
        event,
        registration.registration_id,
        links.event_url,
        now,
        sequence,
        meeting=meeting,
        online=gettext(POOL_LABELS[ONLINE]),
    )
    return Attachment(filename="event.ics", content_type="text/calendar", data=data)


def build_mime(mail: RenderedMail, sender: str, sender_name: str, to: str, reply_to: str = "") -> bytes:
    """Wrap a rendered mail as a MIME message: text and HTML alternatives plus attachments."""
    # The email package is imported here: only the mail sender needs it, not every Lambda's cold start.
    from email.headerregistry import Address
    from email.message import EmailMessage
    from email.policy import SMTP

    message = EmailMessage(policy=SMTP)
    # Header values pass through single_line so no CR/LF can ever start a new header.
    message["Subject"] = single_line(mail.subject)
    message["From"] = Address(display_name=single_line(sender_name), addr_spec=sender)
    # Address only (no user-typed name in a header), in angle brackets: a bare To beside HTML and an image is
    # one of SpamAssassin's rules (TO_NO_BRKTS_HTML_IMG, 1.0). Address() checks it is one address first.
    message["To"] = f"<{Address(addr_spec=to).addr_spec}>"
    if reply_to:
        message["Reply-To"] = Address(addr_spec=reply_to)
    message.set_content(mail.text, subtype="plain", charset="utf-8")
    message.add_alternative(mail.html, subtype="html", charset="utf-8")
    for attachment in mail.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        # A text attachment (the .ics) says its charset, so calendars read the organizer's Japanese right.
        params = {"charset": "utf-8"} if maintype == "text" else None
        if params is not None and attachment.method:
            params["method"] = attachment.method
        message.add_attachment(
            attachment.data, maintype=maintype, subtype=subtype, filename=attachment.filename, params=params
        )
    return message.as_bytes()


def render_feedback_notice(
    event: Event, registration: Registration, feedback: str, detail: str, links: Links
) -> RenderedMail:
    """Tells the organizer that mail to a registrant bounced for good or was reported, and that no more is sent."""
    context = {"event": event, "registration": registration, "feedback": feedback, "detail": detail, "links": links}
    return RenderedMail(
        subject=gettext(SUBJECT_FEEDBACK[feedback]).format(title=event.title, number=registration.number),
        text=templating.render("mail/feedback_notice.txt", **context),
        html=templating.render("mail/feedback_notice.html", **context),
    )


def render_unsendable_notice(
    event: Event, number: str, kind: str, links: Links, no_address: bool = False, blocked: str = ""
) -> RenderedMail:
    """Tells the organizer that one mail to a registrant could not be built and will not be sent.

    Only the registration number and the kind of mail: the stored details may be what is broken.
    `no_address`: the person has no e-mail address (registered by phone): they are on the event's list of
    people to contact until someone marks them reached.
    `blocked`: SES's error when it refuses the event's mail for a setting (its sender, the account): the mail
    is held until the fix and `make replay-mail` (docs/operations.md says how).
    """
    label = gettext(MAIL_KIND_LABELS.get(kind, kind))
    context = {
        "event": event,
        "number": number,
        "kind": label,
        "links": links,
        "no_address": no_address,
        "blocked": blocked,
        "sender": event.contact.sender,
    }
    subject = SUBJECT_BLOCKED if blocked else SUBJECT_CONTACT_NEEDED if no_address else SUBJECT_UNSENDABLE
    return RenderedMail(
        subject=gettext(subject).format(title=event.title, number=number, kind=label),
        text=templating.render("mail/unsendable_notice.txt", **context),
        html=templating.render("mail/unsendable_notice.html", **context),
    )


def render_sign_in(link: str, valid_minutes: int) -> RenderedMail:
    """An organizer's one-time sign-in link."""
    context = {"link": link, "valid_minutes": valid_minutes}
    return RenderedMail(
        subject=gettext(SUBJECT_SIGN_IN),
        text=templating.render("mail/sign_in.txt", **context),
        html=templating.render("mail/sign_in.html", **context),
    )


def render_broadcast(event: Event, registration: Registration, subject: str, body: str, links: Links) -> RenderedMail:
    """An organizer's message to a registrant, with the event's name and their own link around it."""
    context = {"event": event, "registration": registration, "body": body, "links": links}
    return RenderedMail(
        subject=gettext(SUBJECT_BROADCAST).format(title=event.title, subject=subject),
        text=templating.render("mail/broadcast.txt", **context),
        html=templating.render("mail/broadcast.html", **context),
    )
