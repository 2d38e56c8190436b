"""`make run`: the whole service on this machine, with the real local engines.

Starts DynamoDB Local and moto, creates the table, loads events/, verifies the sender, serves the
app on http://localhost:8000, plays EventBridge (ticks the schedules) and the DynamoDB stream
trigger (delivers outbox mail), and shows every e-mail at http://localhost:8025. Ctrl-C stops all.

Stopping (Ctrl-C, or SIGTERM from `kill`) only sets a flag: the loop and the postman check it between
units of work, so a mail being sent is finished and marked, no further mail is claimed (it stays in the
outbox for the next start), the servers close, and DynamoDB Local stops last. No exception is raised
from a signal handler: one raised inside a thread pool's wait can leave its locks held for good.
With `--data DIR` the table lives in DIR and the next start takes it up again, unsent mail included.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import glob
import logging
import math
import os
import secrets
import signal
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from chalicelib.config import settings as env_names
from chalicelib.config.settings import Settings
from chalicelib.domain.clock import SystemClock
from chalicelib.domain.event import Event, EventFileError, ReminderSpec
from chalicelib.domain.event_file import read_event_file
from chalicelib.mail.postman import describe_error
from chalicelib.store.schema import table_definition
from chalicelib.text.display import format_datetime
from local import engines
from local.stack import LocalStack, announce_stack, withdraw_stack

TABLE = "uketsuke-local"
SENDER = "noreply@uketsuke.local"
# Who may sign in to /organizer locally (set UKETSUKE_ORGANIZERS to use other addresses).
ORGANIZER = "organizer@uketsuke.local"
STREAM_POLL_SECONDS = 1.0


def demo_timing(event: Event, now: datetime) -> Event:
    """The same event, moved so a local session sees reminders and closing happen.

    Starts two hours from now; reminders go out 5 and 10 minutes from now; registration
    closes 15 minutes from now.
    """
    start = datetime.fromtimestamp(math.ceil(now.timestamp() / 300) * 300, now.tzinfo) + timedelta(hours=2)
    shift = start - event.starts_at
    minutes_to_start = int((start - now).total_seconds() // 60)
    return dataclasses.replace(
        event,
        starts_at=start,
        ends_at=event.ends_at + shift,
        doors_open_at=event.doors_open_at + shift if event.doors_open_at else None,
        registration_closes_at=now + timedelta(minutes=15),
        reminders=(
            ReminderSpec(minutes_before=minutes_to_start - 5),
            ReminderSpec(minutes_before=minutes_to_start - 10),
        ),
    )


def schedule_event(now: datetime) -> dict[str, Any]:
    """What EventBridge hands a scheduled Lambda."""
    return {
        "version": "0",
        "id": f"local-{int(now.timestamp())}",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "000000000000",
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": engines.REGION,
        "resources": [],
        "detail": {},
    }


# Connections the local server lets wait while it is busy. Chalice's server listens with Python's
# default of 5, so a burst of visitors (a shared link, a load test) was refused; the kernel caps this.
LISTEN_BACKLOG = 1024


def serve_site(app: Any, host: str, port: int) -> Any:
    """Chalice's local server for `app`, with a listen backlog a burst of visitors fits into.

    A path no route has gets the site's 404 page, as the stack's gateway responses give it on AWS
    (Chalice's local server answers API Gateway's bare 403 JSON).
    """
    from chalice.config import Config
    from chalice.local import (
        ChaliceRequestHandler,
        CustomLocalChalice,
        ForbiddenError,
        LocalDevServer,
        create_local_server,
    )

    from chalicelib.web.edge import HEADERS, NOT_FOUND, edge_page

    class SiteRequestHandler(ChaliceRequestHandler):
        """Chalice's handler, answering an unknown path with the site's page (as the gateway response does)."""

        def _send_error_response(self, error: Any) -> None:
            if isinstance(error, ForbiddenError):  # Chalice's stand-in for API Gateway's "no such route"
                self._send_http_response(404, dict(HEADERS), edge_page(NOT_FOUND, ""))
            else:
                super()._send_error_response(error)

    config = Config.create(chalice_stage="local", app_name="uketsuke")
    # Chalice re-classes the app for its local server; a second server (tests) must not do it again.
    if isinstance(app, CustomLocalChalice):
        site = LocalDevServer(app, config, host, port, handler_cls=SiteRequestHandler)
    else:
        site = create_local_server(app, config, host, port)
        site.server.RequestHandlerClass = functools.partial(SiteRequestHandler, app_object=app, config=config)
    site.server.socket.listen(LISTEN_BACKLOG)  # listening again only changes the backlog
    return site


def run_schedules(app_module: Any, now: datetime) -> dict[str, dict[str, int]]:
    """One EventBridge tick: invoke every scheduled function as Lambda would; returns what each did.

    A job that fails is reported and the others still run, as separate Lambda functions would.
    """
    from chalice.app import ScheduledEventConfig

    # Every schedule the app registers (chalicelib/jobs/), so a new one is ticked here without being listed twice.
    app = app_module.app
    names = [source.name for source in app.event_sources if isinstance(source, ScheduledEventConfig)]
    done: dict[str, dict[str, int]] = {}
    for name in names:
        try:
            done[name] = app.handler_map[name](schedule_event(now), None)
        except Exception as exc:  # as on AWS: this run of the job failed, the next tick tries again
            print(f"{name}: failed this tick ({describe_error(exc)}); the next tick tries again", file=sys.stderr)
    return done


def main(argv: list[str] | None = None) -> int:
    """Run until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(prog="make run", description=__doc__)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--mail-port", type=int, default=8025)
    parser.add_argument("--tick", type=float, default=60.0, help="seconds between schedule ticks (AWS: 60)")
    parser.add_argument("--as-written", action="store_true", help="load event files with their own dates")
    parser.add_argument(
        "--data", type=Path, help="keep the table (and unsent mail) in this folder; the next start takes it up again"
    )
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's per-request lines
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):  # Ctrl-C and `kill` alike: finish what is under way, stop
        signal.signal(signum, lambda *_: stopping.set())
    try:
        with engines.dynamodb_local(data_dir=args.data) as dynamodb, engines.moto_server() as moto:
            os.environ.update(engines.engine_environment(dynamodb, moto))
            try:
                run(args, dynamodb, moto, stopping)
            finally:
                withdraw_stack()  # nothing to load into any more
    except engines.EngineError as exc:
        print(f"make run: {exc}", file=sys.stderr)
        return 1
    print("\nStopped: web server, mail viewer, moto and DynamoDB Local are shut down.")
    return 0


def run(args: argparse.Namespace, dynamodb: str, moto: str, stopping: threading.Event) -> None:
    """Set everything up, then tick and deliver mail until `stopping` is set."""
    import app as app_module  # after the environment points at the local engines
    from chalicelib.config.services import build_services
    from chalicelib.usecases.publishing import load_event

    base_url = f"http://localhost:{args.port}"
    os.environ.update(
        {
            env_names.TABLE_NAME: TABLE,
            env_names.PUBLIC_BASE_URL: base_url,
            env_names.DEFAULT_SENDER: SENDER,
            env_names.LINK_KEY: link_key(args.data),
            env_names.ORGANIZERS: os.environ.get(env_names.ORGANIZERS) or ORGANIZER,
        }
    )
    stream_arn = engines.create_table(engines.local_client("dynamodb", dynamodb), table_definition(TABLE))
    announce_stack(LocalStack(dynamodb, TABLE, os.getpid()))
    services = build_services(Settings.from_env())
    services.stopping = stopping.is_set  # the postman claims no further mail once Ctrl-C is pressed
    services.sender_verified = engines.moto_verified(moto)  # moto's way of saying an identity is verified
    app_module.use_services(services)

    now = SystemClock().now()
    senders = {SENDER}
    for path in sorted(glob.glob("events/*.toml")):
        try:
            event = read_event_file(path)
        except EventFileError as exc:
            print(f"{path}: {exc} (skipped)", file=sys.stderr)
            continue
        if not args.as_written:
            event = demo_timing(event, now)
        if event.contact.sender:
            senders.add(event.contact.sender)
        print(load_event(services.table, event, now).describe())
        print(f"  demo: registration closes {format_datetime(event.registration_closes_at, event.tz)}")
    for sender in sorted(senders):
        engines.verify_sender(moto, sender)

    web = serve_site(app_module.app, "127.0.0.1", args.port)
    from local import mailview

    viewer = mailview.serve("127.0.0.1", args.mail_port, lambda: [m.raw_data for m in engines.sent_messages()])
    for server in (web.server, viewer):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    organizers = os.environ[env_names.ORGANIZERS]
    kept = f"; kept in {args.data}" if args.data else ""
    print(
        f"\n  uketsuke     {base_url}\n  organizers   {base_url}/organizer (sign in as {organizers};"
        f" the link arrives in the mail viewer)\n  mail viewer  http://localhost:{args.mail_port}\n"
        f"  DynamoDB     {dynamodb} (table {TABLE}{kept}; `make load-events` and manage.py find it by themselves,"
        " and the site shows what they load within 30 seconds)\n"
        "  Ctrl-C stops everything.\n",
        flush=True,
    )
    try:
        serve_until_stopped(app_module, engines.StreamPump(dynamodb, stream_arn), args.tick, stopping)
    finally:
        web.server.shutdown()
        web.server.server_close()
        viewer.shutdown()
        viewer.server_close()


def serve_until_stopped(app_module: Any, pump: engines.StreamPump, tick: float, stopping: threading.Event) -> None:
    """Play EventBridge and the stream trigger: tick the schedules, deliver new outbox mail, until stopped."""
    next_tick = 0.0
    unsent: list[dict[str, Any]] = []
    while not stopping.is_set():
        if time.monotonic() >= next_tick:
            for name, result in run_schedules(app_module, SystemClock().now()).items():
                _report(name, result)
            next_tick = time.monotonic() + tick
        if stopping.is_set():
            break
        unsent += pump.poll()
        if unsent:
            try:
                app_module.app.handler_map["deliver_mail"]({"Records": unsent}, None)
                unsent = []
            except Exception as exc:  # as Lambda does: keep the batch and retry it
                cause = exc.__cause__ or exc
                print(f"deliver_mail: {exc} ({describe_error(cause)}); retrying", file=sys.stderr)
        stopping.wait(STREAM_POLL_SECONDS)


def link_key(data: Path | None) -> str:
    """The personal links' key: new for each run, or kept with the data so that earlier links still work."""
    if data is None:
        return secrets.token_urlsafe(32)  # the table goes with the run, and so do its links
    path = data / "link-key"
    if not path.exists():
        data.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(32), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


def _report(name: str, result: dict[str, int]) -> None:
    if any(result.values()):
        print(f"[{datetime.now().strftime('%H:%M:%S')}] {name}: {result}")


if __name__ == "__main__":
    sys.exit(main())
