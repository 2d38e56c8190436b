"""Organizer commands: `python manage.py load-events events/*.toml`, `python manage.py create-table`."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime

from chalicelib.catalog import get_event, publish_event
from chalicelib.clock import SystemClock
from chalicelib.display import format_datetime, format_span
from chalicelib.dynamo import Table
from chalicelib.events import Event, EventFileError, read_event_file
from chalicelib.settings import Settings, SettingsError
from chalicelib.table import table_definition
from chalicelib.waitlist import settle


def load_events(table: Table, paths: list[str]) -> int:
    """Publish each event file; report every bad file, then fail if there was one."""
    events: list[Event] = []
    failed = 0
    for path in paths:
        try:
            events.append(read_event_file(path))
        except (EventFileError, OSError) as exc:
            print(f"{path}: {exc}", file=sys.stderr)
            failed += 1
    if failed:
        print(f"{failed} event file(s) have problems; nothing was loaded.", file=sys.stderr)
        return 1
    now = SystemClock().now()
    for event in events:
        print(describe_publication(table, event, now))
    return 0


def describe_publication(table: Table, event: Event, now: datetime) -> str:
    """Publish one event with its reminders and say what the table now holds."""
    state = publish_event(table, event, now)
    # More seats than before: the people waiting longest take them now, and are told by e-mail.
    moved_up = settle(table, event.slug, now)
    if moved_up:
        state = get_event(table, event.slug) or state
    reminders = ", ".join(format_datetime(due, event.tz) for due in event.reminder_schedule().values())
    status = "closed" if state.closed else "open"
    warning = ""
    if state.seats_taken > event.capacity:
        warning = (
            f"\n  warning: {state.seats_taken} seats are already taken, more than the new capacity; no one is removed"
        )
    return (
        f"{event.slug}: {event.title}\n"
        f"  {format_span(event.starts_at, event.ends_at, event.tz)} / {state.seats_taken} of {event.capacity} seats"
        f" taken / registration {status} until {format_datetime(event.registration_closes_at, event.tz)}\n"
        f"  reminders: {reminders or 'none'}{warning}"
        + (f"\n  {len(moved_up)} moved up from the waiting list" if moved_up else "")
        + (f"\n  {state.waiting} waiting" if state.waiting else "")
    )


def main(argv: list[str] | None = None) -> int:
    """Entry point."""
    parser = argparse.ArgumentParser(prog="manage.py", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    load = commands.add_parser("load-events", help="create or update events from TOML files")
    load.add_argument("paths", nargs="+", metavar="FILE")
    commands.add_parser("create-table", help="create the DynamoDB table (local engines; deploys create their own)")
    args = parser.parse_args(argv)

    import boto3

    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    client = boto3.client("dynamodb")
    if args.command == "create-table":
        client.create_table(**table_definition(settings.table_name))
        print(f"created table {settings.table_name}")
        return 0
    return load_events(Table(client, settings.table_name), args.paths)


if __name__ == "__main__":
    sys.exit(main())
