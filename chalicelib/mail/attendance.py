"""The reconfirmation's mails: the question (参加します / 行けなくなりました) and the notice that a seat was released.

Pure rendering, as in render.py; compose.py decides whether each is still wanted when it is sent.
"""

from __future__ import annotations

from datetime import datetime

from chalicelib import templating
from chalicelib.domain.event import Event
from chalicelib.domain.registration import Registration
from chalicelib.mail.render import Attachment, Links, RenderedMail, calendar_removal, release_ahead
from chalicelib.text.i18n import N_, gettext

SUBJECT_RECONFIRM = N_("【出欠のご確認】{title}")
SUBJECT_RECONFIRM_AGAIN = N_("【出欠のご確認・再送】{title}")
SUBJECT_RELEASED = N_("【お席をお譲りしました】{title}")


def render_reconfirm(
    event: Event, registration: Registration, links: Links, now: datetime, again: bool = False
) -> RenderedMail:
    """Asks a seat holder whether they still come: two links, each to a page with one button."""
    context = {
        "event": event,
        "registration": registration,
        "links": links,
        "calendar": False,
        "release_at": release_ahead(event, registration, now),
        "again": again,
    }
    subject = SUBJECT_RECONFIRM_AGAIN if again else SUBJECT_RECONFIRM
    return RenderedMail(
        subject=gettext(subject).format(title=event.title),
        text=templating.render("mail/reconfirm.txt", **context),
        html=templating.render("mail/reconfirm.html", **context),
    )


def render_released(
    event: Event, registration: Registration, links: Links, now: datetime, sequence: int
) -> RenderedMail:
    """Their seat went to the line for want of an answer; their page gives it back while one is free."""
    context = {"event": event, "registration": registration, "links": links}
    removal: Attachment = calendar_removal(event, registration, links, now, sequence)
    return RenderedMail(
        subject=gettext(SUBJECT_RELEASED).format(title=event.title),
        text=templating.render("mail/released.txt", **context),
        html=templating.render("mail/released.html", **context),
        attachments=(removal,),
    )
