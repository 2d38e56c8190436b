"""The organizer's own text in another language ([en], [zh], …): what a Translation holds, and applying it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.questions import Wording


@dataclass(frozen=True)
class Talk:
    """One item of the programme."""

    title: str
    speaker: str = ""
    affiliation: str = ""


@dataclass(frozen=True)
class Translation:
    """The organizer's own text in another language (`[en]` in the event file); what it leaves out stays
    as written."""

    title: str = ""
    summary: str = ""
    fee: str = ""
    organizers: tuple[str, ...] = ()
    cooperators: tuple[str, ...] = ()
    venue_name: str = ""
    venue_address: str = ""
    organizer_name: str = ""
    sender_name: str = ""
    categories: tuple[tuple[str, str], ...] = ()  # (key, label), for the categories it names
    programme: tuple[Talk, ...] = ()  # empty, or one per programme item in the same order
    # Not in [en], where each question and field rule carries its English itself (label_en, hint_en):
    questions: tuple[tuple[str, Wording], ...] = ()  # (question key, its words), for the questions it words
    survey: tuple[tuple[str, Wording], ...] = ()  # the same for the survey's questions
    form: tuple[tuple[str, tuple[str, str]], ...] = ()  # (field, (label, hint)) for the fields the organizer named

    def texts(self) -> set[str]:
        """Every text it gives."""
        talks = (t for talk in self.programme for t in (talk.title, talk.speaker, talk.affiliation))
        singles = (self.title, self.summary, self.fee, self.venue_name, self.venue_address, self.organizer_name)
        worded = (t for _, wording in (*self.questions, *self.survey) for t in wording.texts())
        fields = (t for _, pair in self.form for t in pair)
        every = (
            *singles,
            *self.organizers,
            *self.cooperators,
            *dict(self.categories).values(),
            *talks,
            *worded,
            *fields,
        )
        return {t for t in every if t}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Translation:
        """Inverse of dataclasses.asdict()."""
        return cls(
            **{
                **data,
                "organizers": tuple(data["organizers"]),
                "cooperators": tuple(data["cooperators"]),
                "categories": tuple((key, label) for key, label in data["categories"]),
                "programme": tuple(Talk(**talk) for talk in data["programme"]),
                "questions": tuple((key, Wording.from_dict(w)) for key, w in data.get("questions", ())),
                "survey": tuple((key, Wording.from_dict(w)) for key, w in data.get("survey", ())),
                "form": tuple((field, (pair[0], pair[1])) for field, pair in data.get("form", ())),
            }
        )


def programme_in(programme: tuple[Talk, ...], translated: tuple[Talk, ...]) -> tuple[Talk, ...]:
    """The programme with each item's translated words where the organizer gave them."""
    if not translated:
        return programme
    return tuple(
        Talk(
            title=theirs.title or talk.title,
            speaker=theirs.speaker or talk.speaker,
            affiliation=theirs.affiliation or talk.affiliation,
        )
        for talk, theirs in zip(programme, translated, strict=True)  # the parser checked they pair up
    )
