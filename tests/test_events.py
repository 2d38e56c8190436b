"""Organizer event files: the sample parses as the press release says; mistakes get clear errors."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from chalicelib.domain.event import Category, Event, EventFileError, ReminderSpec, Talk, Translation
from chalicelib.domain.event_file import parse_event, read_event_file, to_toml
from chalicelib.domain.event_state import Availability, EventState
from manage import main as manage_main
from tests.conftest import SAMPLE_EVENT, World


def sample_data() -> dict[str, Any]:
    return tomllib.loads(SAMPLE_EVENT.read_text(encoding="utf-8"))


def test_the_sample_is_the_press_releases_event(sample_event: Event) -> None:
    assert sample_event.slug == "cdo-seminar"
    assert sample_event.starts_at == datetime(2027, 1, 20, 6, 0, tzinfo=UTC)  # 15:00 JST
    assert sample_event.ends_at == datetime(2027, 1, 20, 9, 0, tzinfo=UTC)  # 18:00 JST
    assert sample_event.venue.name == "小川ビル4階（スペースパートナー）"
    assert sample_event.venue.address == "東京都千代田区神田錦町2丁目11番地7"
    assert sample_event.organizers == ("一般社団法人CDO Club Japan", "一般社団法人Publitech")
    assert sample_event.cooperators == ("スペースパートナー",)
    assert sample_event.fee == "無料"
    assert [c.label for c in sample_event.categories][:3] == ["地方議員", "地方公務員", "市町村長"]
    assert len(sample_event.categories) == 5
    assert [t.title[:3] for t in sample_event.programme] == ["講演1", "講演2", "質疑・"]


def test_default_reminders_are_the_day_before_at_10_and_the_morning_of() -> None:
    data = sample_data()
    del data["reminders"]
    schedule = parse_event(data).reminder_schedule()
    assert schedule == {
        "d1-1000": datetime(2027, 1, 19, 1, 0, tzinfo=UTC),
        "d0-0800": datetime(2027, 1, 19, 23, 0, tzinfo=UTC),
    }


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"slug": "Bad Slug"}, "lowercase letters"),
        ({"capacity": 0}, "capacity must be a whole number"),
        ({"capacity": "50"}, "capacity must be a whole number"),
        ({"ends_at": datetime(2027, 1, 20, 14, 0)}, "ends_at must be after starts_at"),
        ({"starts_at": "tomorrow"}, "starts_at must be a date and time"),
        ({"registration_closes_at": datetime(2027, 1, 21, 0, 0)}, "must not be after starts_at"),
        ({"timezone": "Mars/Olympus"}, "not a known IANA time zone"),
        ({"categories": []}, "at least one"),
        # A misspelt name at any level is refused, with the nearest name it could be.
        (
            {"registration_close_at": datetime(2027, 1, 19, 12, 0)},
            "registration_close_at cannot be given here (did you mean registration_closes_at?)",
        ),
        (
            {"venue": {"name": "x", "address": "y", "adress": "z"}},
            "[venue]: adress cannot be given here (did you mean address?)",
        ),
        ({"contact": {"organizer_email": "a@example.jp", "sendr": "b@example.jp"}}, "(did you mean sender?)"),
        (
            {"categories": [{"key": "a", "label": "A", "reserverd": 1}]},
            "[[categories]]: reserverd cannot be given here",
        ),
        ({"programme": [{"title": "t", "speeker": "s"}]}, "(did you mean speaker?)"),
        ({"reminders": [{"days_before": 1, "at": "10:00", "minute_before": 5}]}, "(did you mean minutes_before?)"),
        (
            # Two keys whose six-character ledger slots collide (found by search): refused, not merged.
            {"categories": [{"key": "k7671", "label": "A"}, {"key": "k20777", "label": "B"}]},
            "the keys 'k7671' and 'k20777' would share one seat counter",
        ),
        ({"venue": None}, "[venue] section is required"),
        ({"title": ""}, "title must not be empty"),
        ({"reminders": [{"days_before": 1}]}, 'at = "HH:MM"'),
        ({"reminders": [{"minutes_before": 0}]}, "minutes_before"),
        ({"reminders": [{"days_before": 0, "at": "16:00"}]}, "at or after the start"),
        # Found by the builder's fuzzing: so far back the date ran off the calendar (OverflowError, a 500).
        ({"reminders": [{"days_before": 740001, "at": "10:00"}]}, "days_before must be at most 366"),
        ({"reminders": [{"minutes_before": 10**12}]}, "minutes_before must be a whole number from 1 to"),
        ({"readings": {"磐梯町": "bandai"}}, "[readings] '磐梯町': a reading is the word"),
        ({"readings": {"CDO": "しーでぃーおー"}}, "[readings] 'CDO'"),
    ],
)
def test_mistakes_in_an_event_file_are_named(change: dict[str, Any], message: str) -> None:
    data = sample_data()
    for name, value in change.items():
        if value is None:
            del data[name]
        else:
            data[name] = value
    with pytest.raises(EventFileError, match=re.escape(message)):
        parse_event(data)


def test_the_organizers_english_is_shown_to_english_readers_and_what_it_leaves_out_stays(sample_event: Event) -> None:
    english = sample_event.in_language("en")
    assert english.title.startswith("Municipal CDO Study Session")
    assert english.venue.name == "Ogawa Building, 4th floor (Space Partner)"
    assert english.venue.map_url == sample_event.venue.map_url  # not text: the same for everyone
    assert [c.label for c in english.categories][:3] == ["Local council member", "Local government official", "Mayor"]
    assert english.programme[1].speaker == "Naotoshi Sugawara" and english.fee == "Free"
    assert sample_event.in_language("ja") is sample_event
    data = sample_data()
    talks = [{}, {"speaker": "N. S."}, {}]
    data["en"] = {"title": "Only the title", "categories": {"mayor": "Mayor"}, "programme": talks}
    partial = parse_event(data).in_language("en")
    assert partial.title == "Only the title" and partial.summary == sample_event.summary
    assert [c.label for c in partial.categories][2:4] == ["Mayor", sample_event.categories[3].label]
    assert partial.programme[1] == dataclasses.replace(sample_event.programme[1], speaker="N. S.")


@pytest.mark.parametrize(
    ("english", "message"),
    [
        ("Municipal CDO Study Session", "[en] must be a section"),
        ({"titel": "x"}, "[en]: titel cannot be given here (did you mean title?); it takes title, summary"),
        ({"venue": {"name": "x", "map_url": "y"}}, "[en.venue]: map_url cannot be given here; it takes name, address"),
        ({"venue": "Ogawa Building"}, "en.venue must be written as a [en.venue] section"),
        ({"categories": {"citizen": "Citizen"}}, "[en.categories]: no category has the key 'citizen'"),
        ({"categories": {"mayor": 3}}, "[en.categories]: the label of 'mayor' must be text"),
        ({"programme": [{"title": "Talk 1"}]}, "[[en.programme]] must give the programme's 3 items in the same order"),
        ({"programme": [{}, {}, {"speeker": "x"}]}, "[en.programme]: speeker cannot be given here"),
        ({"organizers": "CDO Club Japan"}, "en.organizers must be a list of texts"),
        ({"title": 1}, "en.title must be text in quotes"),
    ],
)
def test_mistakes_in_the_english_section_are_named(english: Any, message: str) -> None:
    data = sample_data()
    data["en"] = english
    with pytest.raises(EventFileError, match=re.escape(message)):
        parse_event(data)


def test_invalid_toml_is_reported(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text('title = "unterminated', encoding="utf-8")
    with pytest.raises(EventFileError, match="not valid TOML"):
        read_event_file(str(broken))


def test_storage_round_trip_keeps_everything(sample_event: Event) -> None:
    assert Event.from_json(sample_event.to_json()) == sample_event


def test_availability(sample_event: Event) -> None:
    now = datetime(2027, 1, 10, tzinfo=UTC)
    assert EventState(sample_event, seats_taken=49).availability(now) is Availability.OPEN
    assert EventState(sample_event, seats_taken=50).availability(now) is Availability.FULL
    assert EventState(sample_event, seats_taken=0, closed=True).availability(now) is Availability.CLOSED
    assert (
        EventState(sample_event, seats_taken=0).availability(sample_event.registration_closes_at) is Availability.CLOSED
    )


def test_load_events_command_publishes_and_reloads_without_resetting_seats(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("UKETSUKE_TABLE_NAME", world.table.name)
    monkeypatch.setenv("UKETSUKE_PUBLIC_BASE_URL", "http://localhost:8000")
    monkeypatch.setenv("UKETSUKE_DEFAULT_SENDER", "noreply@example.jp")
    assert manage_main(["load-events", str(SAMPLE_EVENT)]) == 0
    world.table.update({"pk": "EVENT#cdo-seminar", "sk": "EVENT"}, "SET seats_taken = :n", values={":n": 7})
    assert manage_main(["load-events", str(SAMPLE_EVENT)]) == 0
    out = capsys.readouterr().out
    assert "cdo-seminar: 自治体CDO勉強会" in out and "7 of 50 seats taken" in out


def test_load_events_command_loads_nothing_if_any_file_is_bad(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("UKETSUKE_TABLE_NAME", world.table.name)
    monkeypatch.setenv("UKETSUKE_PUBLIC_BASE_URL", "http://localhost:8000")
    monkeypatch.setenv("UKETSUKE_DEFAULT_SENDER", "noreply@example.jp")
    bad = tmp_path / "bad.toml"
    bad.write_text(SAMPLE_EVENT.read_text(encoding="utf-8").replace("capacity = 50", "capacity = -1"), encoding="utf-8")
    assert manage_main(["load-events", str(SAMPLE_EVENT), str(bad)]) == 1
    assert "bad.toml: capacity must be a whole number" in capsys.readouterr().err
    assert world.table.get({"pk": "EVENT#cdo-seminar", "sk": "EVENT"}) is None


def test_missing_settings_say_which_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.delenv("UKETSUKE_TABLE_NAME", raising=False)
    monkeypatch.setattr("local.stack.STACK_FILE", str(tmp_path / "none.json"))  # and no make run running
    assert manage_main(["load-events", str(SAMPLE_EVENT)]) == 2
    assert "or set UKETSUKE_TABLE_NAME" in capsys.readouterr().err


def test_an_event_file_value_that_is_not_text_is_refused_naming_its_key() -> None:
    with SAMPLE_EVENT.open("rb") as handle:
        data = tomllib.load(handle)
    data["venue"]["name"] = "会場\ufffe"
    with pytest.raises(EventFileError, match=r"venue\.name: holds a character that is not text"):
        parse_event(data)


def a_rich_event(sample: Event) -> Event:
    """Everything the format can say, with text that needs escaping."""
    tz = sample.tz
    text = 'He said "hello"\\ then\nleft\tagain \x7f 𠮷 ＆'
    talks = (Talk(title=text, speaker="S", affiliation="A"), Talk(title="Q&A"))
    english = Translation(
        title="Title",
        summary="Summary",
        organizers=("Org",),
        venue_name="Hall",
        organizer_name="Office",
        categories=(("地方", "Local"), ("other", "Other")),
        programme=(Talk(title="One", speaker="Spk"), Talk(title="Two")),
    )
    return dataclasses.replace(
        sample,
        slug="rich-event",
        summary=text,
        url="https://example.jp/e?a=1&b=2",
        categories=(Category("地方", "地方の方", reserved=3), Category("other", "その他")),
        programme=talks,
        reminders=(ReminderSpec(days_before=2, at="09:30"), ReminderSpec(minutes_before=45)),
        waitlist=False,
        draw_at=sample.starts_at - timedelta(days=10),
        quota_release_at=sample.starts_at - timedelta(days=3),
        cancellation_closes_at=sample.starts_at - timedelta(hours=2),
        retention_days=90,
        fee="",
        cooperators=(),
        translations=(("en", english),),
        doors_open_at=datetime(2027, 1, 20, 14, 45, tzinfo=tz),
    )


@pytest.mark.parametrize("kind", ["sample", "rich", "no reminders"])
def test_an_event_exported_as_toml_loads_back_unchanged(sample_event: Event, kind: str) -> None:
    event = {
        "sample": sample_event,
        "rich": a_rich_event(sample_event),
        "no reminders": dataclasses.replace(sample_event, reminders=()),
    }[kind]
    assert parse_event(tomllib.loads(to_toml(event))) == event


def test_export_event_writes_a_file_that_load_events_reads_back(
    world: World, published: Event, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UKETSUKE_TABLE_NAME", world.table.name)
    path = tmp_path / "exported.toml"
    assert manage_main(["export-event", published.slug, "-o", str(path)]) == 0
    assert read_event_file(str(path)) == published


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"starts_at": "0001-01-01T00:00:00"}, "between the years 2000 and 2999"),
        ({"ends_at": "9999-12-31T00:00:00"}, "between the years 2000 and 2999"),
        ({"capacity": 10**4999}, "from 1 to 100000"),  # 5,000 digits
        ({"venue": {"name": "会場", "address": "東京", "map_url": "javascript:alert(1)"}}, "https://"),
        ({"venue": {"name": "会場", "address": "東京", "url": "data:text/html,x"}}, "https://"),
        ({"url": "javascript:alert(1)"}, "https://"),
    ],
)
def test_values_that_could_break_pages_or_dates_are_refused_by_name(
    sample_event: Event, change: dict[str, Any], said: str
) -> None:
    import datetime as dt

    data = tomllib.loads(to_toml(sample_event))
    for key, value in change.items():
        data[key] = dt.datetime.fromisoformat(value) if key.endswith("_at") else value
    with pytest.raises(EventFileError, match=re.escape(said)):
        parse_event(data)


def test_an_event_file_nested_thousands_deep_is_refused_not_crashed() -> None:
    from chalicelib.domain.event_file import parse_event_text

    with pytest.raises(EventFileError, match="nested too deeply"):
        parse_event_text("x = " + "[" * 3000 + "]" * 3000)
    with pytest.raises(EventFileError, match="not valid TOML"):
        parse_event_text("capacity = " + "9" * 5000)  # past Python's 4,300 digits for a number read from text


@pytest.mark.parametrize("title", ["\x1b[1m勉強会", "改行\nのある題", "タブ\tと\x7fDEL"])
def test_a_title_with_control_characters_still_writes_a_file_that_reads_back(sample_event: Event, title: str) -> None:
    event = dataclasses.replace(sample_event, title=title)
    assert parse_event(tomllib.loads(to_toml(event))) == event  # found by the builder's fuzz
