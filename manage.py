"""Organizer commands: the organizer pages' work from a console, plus loading events and creating the table.

  python manage.py load-events events/*.toml
  python manage.py export-event cdo-seminar [-o cdo-seminar.toml]   (the event file back, to load elsewhere)
  python manage.py list cdo-seminar [--state confirmed] [--search ばんだい]
  python manage.py export cdo-seminar --list door --format xlsx [-o door.xlsx]   (--list survey: the アンケート)
  python manage.py check-in cdo-seminar 7K3M9-QXD2A        (a registration number, or a name to search)
  python manage.py broadcast cdo-seminar --subject 件名 --body-file body.txt [--audience confirmed] [--yes]
  python manage.py create-table

The table is the stage's (`--stage prod`: read from its stack, with your AWS credentials), the one
UKETSUKE_TABLE_NAME names, or else the one a running `make run` serves on this machine.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from chalicelib.config.settings import TABLE_NAME, SettingsError
from chalicelib.domain.clock import SystemClock, parse_iso
from chalicelib.domain.event import Event
from chalicelib.domain.ids import IdGenerator, new_id
from chalicelib.domain.site import SiteIdentityError
from chalicelib.mail.render import Links, render_broadcast
from chalicelib.store.dynamo import Table
from chalicelib.store.schema import table_definition
from chalicelib.text import messages as msg
from chalicelib.text.display import format_datetime
from chalicelib.usecases import broadcast, checkin, exports, roster, survey_answers
from chalicelib.usecases.catalog import get_event
from chalicelib.usecases.publishing import load_event_files

T = TypeVar("T")
# How often `broadcast` looks at its progress while the outbox sends.
POLL_SECONDS = 2.0


class Refused(Exception):
    """The command cannot do what was asked; the message says why and what to do instead."""


def progress(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """A progress bar on the terminal (to stderr, so files and pipes on stdout stay clean)."""
    from tqdm import tqdm

    yield from tqdm(items, desc=description, total=total, unit="件", file=sys.stderr, disable=None)


def load_events(table: Table, paths: list[str]) -> int:
    """Publish each event file and say what the table now holds; if any file is bad, load none."""
    loaded = load_event_files(table, paths, SystemClock().now())
    for problem in loaded.problems:
        print(problem, file=sys.stderr)
    if loaded.problems:
        print(f"{len(loaded.problems)} event file(s) have problems; nothing was loaded.", file=sys.stderr)
        return 1
    for publication in loaded.publications:
        print(publication.describe())
    return 0


def export_event(table: Table, slug: str, output: str | None) -> int:
    """Write the event as an event file that loads back unchanged (stdout, or a file)."""
    from chalicelib.domain.event_file import to_toml

    text = to_toml(_event(table, slug))
    if output is None:
        sys.stdout.write(text)
    else:
        Path(output).write_text(text, encoding="utf-8")
        print(f"wrote {output}", file=sys.stderr)
    return 0


def _event(table: Table, slug: str) -> Event:
    state = get_event(table, slug)
    if state is None:
        raise Refused(f"no event {slug!r} in table {table.name}: load it with `manage.py load-events`")
    return state.event


def _entries(table: Table, slug: str) -> list[roster.Entry]:
    return list(progress(roster.entries(table, slug), "reading registrations"))


def list_registrations(table: Table, slug: str, state: str, search: str) -> int:
    """Print counts, then one line per matching registration (tab-separated, for grep and spreadsheets)."""
    event = _event(table, slug)
    everyone = _entries(table, slug)
    counts = roster.count(everyone)
    summary = "  ".join(f"{msg.STATUS_LABELS[s]} {counts.by_status[s]}" for s in ("confirmed", "waitlisted", "applied"))
    print(
        f"{event.title}\n{summary}  {msg.STATUS_LABELS['cancelled']} {counts.by_status['cancelled']}"
        f"  {msg.STATUS_LABELS['checked_in']} {counts.checked_in}  (定員 {event.capacity})"
    )
    for e in roster.search(roster.in_state(everyone, state), search):
        a = e.registration.attendee
        status = msg.STATUS_LABELS.get(e.registration.status, e.registration.status)
        arrived = "受付済み" if e.checked_in_at else ""
        print("\t".join((e.registration.number, a.kana, a.name, a.organization, status, arrived)))
    return 0


def export_list(table: Table, slug: str, kind: str, fmt: str, output: str | None) -> int:
    """Write one of the event's lists (door, 名刺交換, waiting, accommodation, staff actions, survey answers)."""
    event = _event(table, slug)
    if kind == survey_answers.LIST:
        rows = survey_answers.export(table, event)
        path = Path(output or f"{event.slug}-survey.{fmt}")
    else:
        rows = exports.listing(table, event, exports.ListKind(kind))
        path = Path(output or exports.filename(event, exports.ListKind(kind), fmt))
    if fmt == "xlsx":
        path.write_bytes(exports.to_xlsx(rows, event.title))
    else:
        path.write_bytes(exports.to_csv(rows).encode("utf-8"))
    print(f"{path}: {len(rows) - 1} rows")
    return 0


def check_in(table: Table, slug: str, who: str, by: str, now: datetime) -> int:
    """Check in by registration number, or by a name, フリガナ or address that matches one person."""
    event = _event(table, slug)
    everyone = _entries(table, slug)
    wanted = roster.normalise(who)
    found = [e for e in everyone if roster.normalise(e.registration.registration_id) == wanted]
    found = found or roster.search(everyone, who)
    if not found:
        raise Refused(f"nobody matches {who!r}")
    if len(found) > 1:
        lines = "\n".join(f"  {e.registration.number}  {e.registration.attendee.name}" for e in found[:20])
        raise Refused(f"{len(found)} people match {who!r}; give a registration number:\n{lines}")
    person = found[0].registration
    result = checkin.check_in(table, slug, person.registration_id, by, now)
    text = msg.CHECK_IN_RESULT[result.outcome.value].format(status=msg.STATUS_LABELS.get(result.status, result.status))
    when = f"（{format_datetime(parse_iso(result.at), event.tz)}・{result.by}）" if result.at else ""
    print(f"{person.number} {person.attendee.name}: {text}{when}")
    return 0 if result.outcome is checkin.CheckInOutcome.CHECKED_IN else 1


def send_broadcast(
    table: Table,
    slug: str,
    fields: dict[str, str],
    by: str,
    now: datetime,
    confirm: Callable[[str], str] | None,
    wait: bool,
    ids: IdGenerator = new_id,
) -> int:
    """Show the message and its number of recipients, ask, then queue, fan out and follow the sending."""
    event = _event(table, slug)
    checked = broadcast.check(fields, event, now)
    if checked.errors:
        raise Refused("\n".join(f"{name}: {text}" for name, text in checked.errors.items()))
    chosen = broadcast.recipients(_entries(table, slug), checked.draft, event)
    if not chosen:
        raise Refused(msg.BROADCAST_NO_RECIPIENTS)
    sample = render_broadcast(event, chosen[0].registration, checked.draft.subject, checked.draft.body, Links(""))
    print(f"件名: {sample.subject}\n\n{sample.text}\n---\n{len(chosen)}名に送ります。")
    if confirm is not None and confirm("送信しますか？ (yes/no): ").strip().lower() not in ("yes", "y"):
        print("送信しませんでした。")
        return 1
    broadcast_id = ids()
    broadcast.queue(table, slug, broadcast_id, checked.draft, by, now)
    # Fanned out here at once rather than at the schedule's next minute; both together create each mail once.
    broadcast.fan_out_due(table, now)
    if wait:
        _follow(table, slug, broadcast_id)
    print(f"broadcast {broadcast_id}: {len(chosen)} mail(s) queued")
    return 0


def _follow(table: Table, slug: str, broadcast_id: str) -> None:
    """A progress bar of the mails sent, until all are done."""
    from tqdm import tqdm

    state = broadcast.progress(table, slug, broadcast_id)
    total = state.recipients if state else 0
    with tqdm(total=total, desc="sending", unit="通", file=sys.stderr, disable=None) as bar:
        while state is not None and state.done < total:
            time.sleep(POLL_SECONDS)
            state = broadcast.progress(table, slug, broadcast_id)
            bar.update((state.done if state else total) - bar.n)


def set_logo(table: Table, path: Path | None, remove: bool, now: datetime) -> int:
    """Store (or remove) the logo every page shows beside the site's name; pages show it within 5 minutes."""
    from chalicelib.usecases import branding

    if remove:
        branding.remove_logo(table)
        print("logo removed")
        return 0
    if path is None:
        print("give the picture's file, or --remove", file=sys.stderr)
        return 2
    kind = branding.store_logo(table, path.read_bytes(), now)
    print(f"logo set: {path} ({kind}); pages show it within 5 minutes")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="manage.py", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--stage", help="a deployed stage (deploy/stages/NAME.toml); default: UKETSUKE_TABLE_NAME")
    commands = parser.add_subparsers(dest="command", required=True)
    load = commands.add_parser("load-events", help="create or update events from TOML files")
    load.add_argument("paths", nargs="+", metavar="FILE")
    event = commands.add_parser("export-event", help="write an event back as an event file (TOML)")
    event.add_argument("slug")
    event.add_argument("-o", "--output", help="file to write (default: standard output)")
    commands.add_parser("create-table", help="create the DynamoDB table (local engines; deploys create their own)")
    listing = commands.add_parser("list", help="counts and registrations of an event")
    listing.add_argument("slug")
    listing.add_argument("--state", default="", choices=["", *msg.STATUS_LABELS])
    listing.add_argument("--search", default="", help="name, フリガナ, 所属 or e-mail (any kana, any width)")
    out = commands.add_parser("export", help="the door, 名刺交換 or waiting list as CSV or XLSX")
    out.add_argument("slug")
    out.add_argument(
        "--list", dest="kind", default="door", choices=[*(k.value for k in exports.ListKind), survey_answers.LIST]
    )
    out.add_argument("--format", dest="fmt", default="xlsx", choices=["csv", "xlsx"])
    out.add_argument("-o", "--output", help="file to write (default: SLUG-LIST.FORMAT)")
    door = commands.add_parser("check-in", help="record an arrival at the door")
    door.add_argument("slug")
    door.add_argument("who", help="registration number, or a name/フリガナ/address matching one person")
    door.add_argument("--by", default=f"console:{getpass.getuser()}", help="who is at the desk (recorded)")
    logo = commands.add_parser("set-logo", help="show a logo beside the site's name (PNG, JPEG, GIF or WebP, 32 KB)")
    logo.add_argument("file", nargs="?", type=Path, help="the picture (leave out with --remove)")
    logo.add_argument("--remove", action="store_true", help="show no logo any more")
    send = commands.add_parser("broadcast", help="e-mail a message to registrants (asks before sending)")
    send.add_argument("slug")
    send.add_argument("--subject", required=True)
    send.add_argument("--body-file", required=True, type=Path, help="a UTF-8 text file holding the message")
    send.add_argument("--audience", default=broadcast.ALL, choices=broadcast.AUDIENCES)
    send.add_argument("--category", default="", help="only this category (its key in the event file)")
    send.add_argument("--by", default=f"console:{getpass.getuser()}", help="recorded as the sender")
    send.add_argument("--yes", action="store_true", help="send without asking")
    send.add_argument("--no-wait", action="store_true", help="queue and return without following the sending")
    return parser


def _table(stage: str | None, client: Callable[[], Any]) -> Table:
    """The stage's table, the running make run's, or the one UKETSUKE_TABLE_NAME names (in that order).

    A running make run is used whenever no other table is named, or when the one named is its own
    (what it prints): through the region and key its DynamoDB Local keeps the table under, whatever
    this terminal's AWS settings are.
    """
    if stage:
        import boto3

        from deploy.cloudformation import Deployer
        from deploy.stage import read_stage

        settings = read_stage(stage)
        session = boto3.session.Session(region_name=settings.region)
        outputs = Deployer(session.client("cloudformation"), session.client("s3"), settings.region).outputs(
            settings.stack_name
        )
        return Table(session.client("dynamodb"), outputs["TableName"])
    from local.stack import running_stack

    name = os.environ.get(TABLE_NAME, "").strip()
    stack = running_stack()
    if stack is not None and name in ("", stack.table):
        print(f"using the running make run: table {stack.table} in DynamoDB Local at {stack.dynamodb}", file=sys.stderr)
        return Table(stack.client(), stack.table)
    if name:
        return Table(client(), name)
    raise SettingsError(
        f"no table to use: start `make run` (its table is found by itself), pass --stage for a deployed "
        f"stage, or set {TABLE_NAME}"
    )


def main(argv: list[str] | None = None, confirm: Callable[[str], str] | None = input) -> int:
    """Entry point."""
    args = _parser().parse_args(argv)
    import boto3
    from botocore.exceptions import NoRegionError

    from deploy.stage import StageError

    try:
        table = _table(args.stage, lambda: boto3.client("dynamodb"))
        now = SystemClock().now()
        if args.command == "create-table":
            table.client.create_table(**table_definition(table.name))
            print(f"created table {table.name}")
            return 0
        if args.command == "load-events":
            return load_events(table, args.paths)
        if args.command == "export-event":
            return export_event(table, args.slug, args.output)
        if args.command == "list":
            return list_registrations(table, args.slug, args.state, args.search)
        if args.command == "export":
            return export_list(table, args.slug, args.kind, args.fmt, args.output)
        if args.command == "check-in":
            return check_in(table, args.slug, args.who, args.by, now)
        if args.command == "set-logo":
            return set_logo(table, args.file, args.remove, now)
        fields = {
            "subject": args.subject,
            "body": args.body_file.read_text(encoding="utf-8"),
            "audience": args.audience,
            "category": args.category,
        }
        return send_broadcast(table, args.slug, fields, args.by, now, None if args.yes else confirm, not args.no_wait)
    except (SettingsError, StageError, SiteIdentityError) as exc:
        print(exc, file=sys.stderr)
        return 2
    except NoRegionError:
        print("no AWS region is set: set AWS_REGION (or AWS_DEFAULT_REGION), or pass --stage", file=sys.stderr)
        return 2
    except (Refused, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
