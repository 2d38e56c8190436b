"""The organizer's console commands, on the same table and rules as the organizer pages."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chalicelib.domain.event import Event
from chalicelib.domain.registration import display_number
from chalicelib.usecases import broadcast
from chalicelib.usecases.catalog import get_event
from chalicelib.usecases.registering import register
from local.stack import LocalStack, announce_stack
from manage import main
from tests.conftest import SAMPLE_EVENT, World, attendee, numbered, registration_id_of


@pytest.fixture
def console(world: World, published: Event, monkeypatch: pytest.MonkeyPatch) -> World:
    monkeypatch.setenv("UKETSUKE_TABLE_NAME", world.table.name)
    now, ids = world.clock.now(), world.services.ids
    register(world.table, published, attendee(), "S1", now, ids)
    register(world.table, published, numbered(2), "S2", now, ids)  # also 磐梯町役場
    return world


def test_list_prints_counts_and_tab_separated_rows(console: World, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list", "cdo-seminar", "--search", "ばんだい"]) == 0
    out = capsys.readouterr().out
    assert "参加確定 2" in out and "(定員 50)" in out
    [row] = [line for line in out.splitlines() if "\t" in line]
    assert row.split("\t")[:3] == [display_number(registration_id_of("S1")), "バンダイ タロウ", "磐梯 太郎"]


def test_export_writes_xlsx_and_excel_safe_csv(
    console: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from openpyxl import load_workbook

    xlsx = tmp_path / "door.xlsx"
    assert main(["export", "cdo-seminar", "--list", "door", "-o", str(xlsx)]) == 0
    sheet = load_workbook(xlsx).active
    assert sheet is not None and sheet["A1"].value == "受付番号" and sheet.max_row == 3
    data = tmp_path / "meishi.csv"
    assert main(["export", "cdo-seminar", "--list", "meishi", "--format", "csv", "-o", str(data)]) == 0
    raw = data.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert rows[0][0] == "氏名" and len(rows) == 3
    assert "meishi.csv: 2 rows" in capsys.readouterr().out


def test_check_in_by_number_or_unique_name_and_only_once(console: World, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-in", "cdo-seminar", display_number(registration_id_of("S1")), "--by", "desk-1"]) == 0
    assert "磐梯 太郎: 受付しました" in capsys.readouterr().out
    assert main(["check-in", "cdo-seminar", "ばんだい たろう", "--by", "desk-2"]) == 1
    again = capsys.readouterr().out
    assert "受付済みです（" in again and "・desk-1）" in again  # when, and who was at the desk
    assert main(["check-in", "cdo-seminar", "磐梯町"]) == 1  # two people work there
    assert "2 people match" in capsys.readouterr().err
    assert main(["check-in", "cdo-seminar", "nobody"]) == 1


def test_broadcast_shows_the_mail_asks_and_queues_once(
    console: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = tmp_path / "body.txt"
    body.write_text("資料を事前にお送りします。", encoding="utf-8")
    args = ["broadcast", "cdo-seminar", "--subject", "資料のご案内", "--body-file", str(body), "--no-wait"]
    assert main(args, confirm=lambda _: "no") == 1
    out = capsys.readouterr().out
    assert "2名に送ります" in out and "資料を事前にお送りします。" in out and "送信しませんでした" in out
    assert broadcast.history(console.table, "cdo-seminar") == []
    assert main(args, confirm=lambda _: "yes") == 0
    [sent] = broadcast.history(console.table, "cdo-seminar")
    progress = broadcast.progress(console.table, "cdo-seminar", sent["broadcast_id"])
    assert progress is not None and progress.recipients == 2 and sum(progress.by_mail_status.values()) == 2
    assert main([*args[:-1], "--audience", "waitlisted", "--yes"]) == 1  # nobody waits
    assert "当てはまる方がいない" in capsys.readouterr().err


def test_a_missing_table_says_what_to_set(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.delenv("UKETSUKE_TABLE_NAME", raising=False)
    monkeypatch.setattr("local.stack.STACK_FILE", str(tmp_path / "none.json"))  # no make run on this machine
    assert main(["list", "cdo-seminar"]) == 2
    err = capsys.readouterr().err
    assert "start `make run`" in err and "--stage" in err and "UKETSUKE_TABLE_NAME" in err


def test_load_events_finds_the_running_make_run_by_itself(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.delenv("UKETSUKE_TABLE_NAME", raising=False)
    stack_file = tmp_path / "local-stack.json"
    monkeypatch.setattr("local.stack.STACK_FILE", str(stack_file))
    # What make run announces: its DynamoDB Local, its table, its process (this one stands in for it).
    announce_stack(LocalStack(world.engines.dynamodb, world.table.name, os.getpid()), str(stack_file))
    assert main(["load-events", str(SAMPLE_EVENT)]) == 0
    out = capsys.readouterr()
    assert f"using the running make run: table {world.table.name}" in out.err
    assert "cdo-seminar: 自治体CDO勉強会" in out.out  # what it loaded
    assert get_event(world.table, "cdo-seminar") is not None
    # A make run that has stopped is not used: its table is gone with it.
    announce_stack(LocalStack(world.engines.dynamodb, world.table.name, _a_finished_process()), str(stack_file))
    assert main(["load-events", str(SAMPLE_EVENT)]) == 2
    assert "start `make run`" in capsys.readouterr().err


def _a_finished_process() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_no_region_says_what_to_set_instead_of_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("UKETSUKE_TABLE_NAME", "uketsuke-somewhere")
    assert main(["list", "cdo-seminar"]) == 2
    assert "no AWS region is set" in capsys.readouterr().err


def test_every_command_reaches_the_running_make_run_whatever_this_terminals_aws_settings(
    world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # A second terminal: its own AWS key and region (under which DynamoDB Local would show no such table),
    # and the table name make run printed, as someone following its output would set it.
    stack_file = tmp_path / "local-stack.json"
    monkeypatch.setattr("local.stack.STACK_FILE", str(stack_file))
    announce_stack(LocalStack(world.engines.dynamodb, world.table.name, os.getpid()), str(stack_file))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAANOTHERTERMINAL")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "another")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    monkeypatch.setenv("AWS_REGION", "us-west-2")
    for named in ("", world.table.name):
        monkeypatch.setenv("UKETSUKE_TABLE_NAME", named)
        assert main(["load-events", str(SAMPLE_EVENT)]) == 0
        assert main(["list", "cdo-seminar"]) == 0
        assert main(["export-event", "cdo-seminar", "-o", str(tmp_path / "back.toml")]) == 0
        out = capsys.readouterr()
        assert out.err.count(f"using the running make run: table {world.table.name}") == 3
        assert "自治体CDO勉強会" in out.out and "(定員 50)" in out.out
