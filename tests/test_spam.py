"""Mail that is never mistaken for spam: every kind, in every language, scores under 1.0 in SpamAssassin.

SpamAssassin's own rules (the Debian package, local tests only: no network lists, no learned Bayes) score
each mail as SES would hand it on, with the Date and Message-ID it adds. Mail programs and providers use
rules like these; a registrant who never sees their confirmation has no seat at the door.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta

import pytest

from chalicelib.domain.event import ONLINE, Event, Online
from chalicelib.domain.registration import Registration
from chalicelib.mail import render as r
from chalicelib.mail.attendance import render_reconfirm, render_released
from chalicelib.mail.compose import RECIPES, Recipient, sender_name
from chalicelib.text.i18n import LANGUAGES, speaking
from chalicelib.usecases.outbox import MailKind
from tests import spam
from tests.conftest import registration

pytestmark = pytest.mark.slow

THRESHOLD = 1.0
# SpamAssassin's MIXED_ES (1.0: "too many es are not es") takes Vietnamese's ê, ế, ề… for the look-alike
# letters spammers use, and fires on long Vietnamese mails. Writing them decomposed (e + combining marks)
# would dodge it but renders badly in some fonts: the one rule not counted, for Vietnamese only, and said
# so in the notes. Everything else must keep those mails under the threshold too.
LANGUAGE_RULES = {"vi": {"MIXED_ES": 1.0}}
SENDER = "seminar@example.jp"
LINKS = r.Links(
    event_url="https://events.example.jp/events/cdo-seminar",
    manage_url="https://events.example.jp/r/7K3M9QXD2A?sig=Zm9vYmFyYmF6cXV4",
    check_in_url="https://events.example.jp/check-in/7K3M9QXD2A?sig=cXV4YmF6YmFyZm9v",
    attend_url="https://events.example.jp/attend/7K3M9QXD2A?sig=YmF6cXV4Zm9vYmFy",
    decline_url="https://events.example.jp/decline/7K3M9QXD2A?sig=cXV4Zm9vYmFyYmF6",
    survey_url="https://events.example.jp/survey/7K3M9QXD2A?sig=Zm9vcXV4YmF6YmFy",
)
ORGANIZER_LINKS = r.Links(event_url="https://events.example.jp/organizer/events/cdo-seminar")


def short(event: Event) -> Event:
    """The smallest event a builder makes: no programme, fee, map, doors time or sender name (the title's, one word)."""
    venue = dataclasses.replace(event.venue, map_url="")
    contact = dataclasses.replace(event.contact, sender_name="")
    return dataclasses.replace(
        event, programme=(), fee="", doors_open_at=None, venue=venue, summary="勉強会です。", contact=contact
    )


def online(event: Event) -> Event:
    """The event held online: seat mails carry the meeting's address and instructions."""
    online = Online(mode=ONLINE, url="https://meet.example.jp/j/123456789", instructions="開始10分前から入室できます。")
    return dataclasses.replace(event, online=online)


def person(status: str, lang: str, **details: str) -> Registration:
    """Taro's registration in `status`, in `lang`."""
    return dataclasses.replace(registration(**details), status=status, lang=lang, wait_sk="")


def every_mail(event: Event, lang: str, registrants_only: bool = False) -> dict[str, r.RenderedMail]:
    """One of each kind of mail uketsuke sends (and each variant that changes its text), rendered in `lang`.

    `registrants_only`: leave out the organizer's mails (notices and the sign-in link), which are in their language.
    """
    now = event.starts_at - timedelta(days=10)
    lottery = dataclasses.replace(event, draw_at=event.starts_at - timedelta(days=14))
    asking = dataclasses.replace(
        event,
        reconfirm_at=event.starts_at - timedelta(days=7),
        release_unconfirmed_at=event.starts_at - timedelta(days=3),
    )
    seated, waiting = person("confirmed", lang), person("waitlisted", lang)
    applied, cancelled = person("applied", lang), person("cancelled", lang)
    earlier = r.Earlier(
        event.starts_at - timedelta(days=7), event.ends_at - timedelta(days=7), "旧会場", "東京都港区1-1"
    )
    note = "会場が変わりました。お間違えのないようお越しください。"
    mails: dict[str, Callable[[], r.RenderedMail]] = {
        MailKind.CONFIRMATION: lambda: r.render_confirmation(event, seated, LINKS, now),
        f"{MailKind.CONFIRMATION}/no-address-details": lambda: r.render_confirmation(
            event, person("confirmed", lang, organization="", job_title="", question=""), LINKS, now
        ),
        MailKind.REMINDER: lambda: r.render_reminder(event, seated, LINKS, event.starts_at - timedelta(days=1), now),
        MailKind.PROMOTED: lambda: r.render_promoted(event, seated, LINKS, now),
        MailKind.DRAW_WON: lambda: r.render_draw_won(lottery, seated, LINKS, now),
        MailKind.DRAW_LOST: lambda: r.render_waitlisted(lottery, waiting, LINKS, 3, drawn=True),
        MailKind.WAITLISTED: lambda: r.render_waitlisted(event, waiting, LINKS, 3),
        MailKind.APPLIED: lambda: r.render_applied(lottery, applied, LINKS),
        MailKind.CANCELLED: lambda: r.render_cancelled(event, cancelled, LINKS, now, held_seat=True),
        f"{MailKind.CANCELLED}/waiting": lambda: r.render_cancelled(event, cancelled, LINKS, now),
        MailKind.BROADCAST: lambda: r.render_broadcast(
            event, seated, "当日の資料について", "当日の資料を事前にお送りします。\nお手元でご覧ください。", LINKS
        ),
        MailKind.CHANGE_NOTICE: lambda: r.render_change_notice(
            event, seated, LINKS, earlier, ("venue", "starts_at"), note, now, 1
        ),
        MailKind.EVENT_CANCELLED: lambda: r.render_event_cancelled(
            event, seated, LINKS, "講師の急病のため中止いたします。", now, 1
        ),
        MailKind.ADDRESS_CHANGED: lambda: r.render_address_changed(event, seated, ORGANIZER_LINKS),
        MailKind.RECONFIRM: lambda: render_reconfirm(asking, seated, LINKS, now),
        f"{MailKind.RECONFIRM}/again": lambda: render_reconfirm(asking, seated, LINKS, now, again=True),
        MailKind.RELEASED: lambda: render_released(asking, cancelled, LINKS, now, 1),
        MailKind.CLOSED_NOTICE: lambda: r.render_closed_notice(event, "capacity", 60, 60, ORGANIZER_LINKS),
        MailKind.FEEDBACK_NOTICE: lambda: r.render_feedback_notice(
            event, seated, "bounce", "550 5.1.1 user unknown", ORGANIZER_LINKS
        ),
        f"{MailKind.FEEDBACK_NOTICE}/complaint": lambda: r.render_feedback_notice(
            event, seated, "complaint", "abuse", ORGANIZER_LINKS
        ),
        MailKind.UNSENDABLE_NOTICE: lambda: r.render_unsendable_notice(
            event, "7K3M9-QXD2A", "confirmation", ORGANIZER_LINKS
        ),
        f"{MailKind.UNSENDABLE_NOTICE}/no-address": lambda: r.render_unsendable_notice(
            event, "7K3M9-QXD2A", "reminder", ORGANIZER_LINKS, no_address=True
        ),
        f"{MailKind.UNSENDABLE_NOTICE}/blocked": lambda: r.render_unsendable_notice(
            event,
            "7K3M9-QXD2A",
            "confirmation",
            ORGANIZER_LINKS,
            blocked="MessageRejected: Email address is not verified.",
        ),
        MailKind.SIGN_IN: lambda: r.render_sign_in("https://events.example.jp/organizer/sign-in?token=Zm9vYmFy", 15),
    }
    organizers = {MailKind.SIGN_IN, *(kind for kind, recipe in RECIPES.items() if recipe.to == Recipient.ORGANIZER)}
    if registrants_only:
        mails = {name: make for name, make in mails.items() if name.partition("/")[0] not in organizers}
    with speaking(lang):
        return {name: make() for name, make in mails.items()}


def not_counted(language: str, verdict: spam.Verdict) -> float:
    """The score of the rules that misread `language` itself, which the threshold leaves out."""
    misread = LANGUAGE_RULES.get(language, {})
    return sum(score for rule, score in misread.items() if rule in verdict.rules)


def test_the_catalogue_has_every_kind_of_mail(sample_event: Event) -> None:
    """A new kind of mail is scored too: the catalogue below must name it."""
    names = every_mail(sample_event, "ja")
    assert {name.partition("/")[0] for name in names} == {kind.value for kind in MailKind}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_mail_scores_under_one_in_every_language(sample_event: Event, language: str) -> None:
    """The sample event, an online one and the smallest one, every kind of mail: all under 1.0."""
    cases: list[tuple[str, bytes]] = []
    for label, event in (("sample", sample_event), ("online", online(sample_event)), ("short", short(sample_event))):
        for name, mail in every_mail(event, language).items():
            mime = r.build_mime(mail, SENDER, sender_name(event), "taro.bandai@example.jp")
            cases.append((f"{label}/{language}/{name}", spam.as_sent(mime)))
    scored = spam.verdicts([message for _, message in cases])
    over = {
        name: verdict
        for (name, _), verdict in zip(cases, scored, strict=True)
        if verdict.score - not_counted(language, verdict) >= THRESHOLD
    }
    assert not over, "\n".join(f"{name}: {v.score} {', '.join(v.rules)}" for name, v in over.items())
