"""`make bench`: cold start, cost per registration, flash crowd, reminder and reconfirmation fan-out, package size.

Runs on DynamoDB Local and moto on this machine. Machines here are shared and noisy, so every
figure is a count, or a ratio of two things measured alternately in the same run.
Writes the table to bench/results.md with the machine it came from.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.md"
TABLE = "uketsuke-bench"
SENDER = "noreply@uketsuke.bench"


@dataclass(frozen=True)
class Figure:
    """One row of the results table."""

    name: str
    value: str
    goal: str
    met: bool | None  # None: a figure without a goal


def median_ratio(a: list[float], b: list[float]) -> float:
    """Median of the pairwise ratios a[i]/b[i] (pairs were measured back to back)."""
    return statistics.median(x / y for x, y in zip(a, b, strict=True))


def alternate(runs: int, *measures: Callable[[int], float]) -> list[list[float]]:
    """Run measurements in turn, A B A B ..., so drift in machine speed hits each alike."""
    series: list[list[float]] = [[] for _ in measures]
    for i in range(runs):
        for timings, measure in zip(series, measures, strict=True):
            timings.append(measure(i))
    return series


def timed(action: Callable[[], Any]) -> float:
    """Seconds one call takes."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


# --- the figures -------------------------------------------------------------------------------


def cold_start(env: dict[str, str], package: Path, runs: int = 20) -> list[Figure]:
    """Fresh processes as Lambda starts them: import our app from the unzipped package and serve its first
    page, vs a bare Chalice app with the same clients; and the same package without its bytecode."""
    without_bytecode = package.with_name("without-bytecode")
    shutil.copytree(package, without_bytecode, ignore=shutil.ignore_patterns("__pycache__"))

    def process(module: str, code: Path) -> Callable[[int], float]:
        command = [sys.executable, "-m", module]
        # The package comes first on the path, as /var/task does in Lambda; the bench's helpers after it.
        # Lambda cannot write bytecode into its read-only /var/task, so neither may these processes.
        child = {**env, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
        return lambda _: timed(lambda: subprocess.run(command, cwd=code, env=child, check=True))

    sides = (
        process("bench.cold_app", package),
        process("bench.cold_bare", package),
        process("bench.cold_app", without_bytecode),
    )
    for side in sides:
        side(0)  # warm the OS file cache for each
    ours, bare, compiling = alternate(runs, *sides)
    ratio = median_ratio(ours, bare)

    def detail(timings: list[float]) -> str:
        ms = {name: statistics.median(series) * 1000 for name, series in (("ours", timings), ("bare", bare))}
        return f"{median_ratio(timings, bare):.2f} (ours {ms['ours']:.0f} ms, bare {ms['bare']:.0f} ms)"

    return [
        Figure(
            "cold start: import + first request, ratio to bare Chalice + boto3 clients",
            detail(ours),
            "≤ 1.10",
            ratio <= 1.10,
        ),
        Figure(
            "cold start of the same package without its compiled bytecode (what Lambda would compile)",
            detail(compiling),
            "",
            None,
        ),
    ]


def integration_key(services: Any) -> dict[str, str]:
    """An API key for the bench's integration, with room for a flash crowd's calls in one minute."""
    from chalicelib.usecases import api_keys

    _, token = api_keys.issue(
        services.table, "bench", api_keys.EVERY_EVENT, "bench@example.jp", services.clock.now(), services.ids, 1_000_000
    )
    return {"Authorization": f"Bearer {token}"}


def registration_cost(slug: str) -> list[Figure]:
    """AWS calls of one warm registration, and its time as a ratio to one bare PutItem on the same engine."""
    from chalice.test import Client

    import app as app_module
    from chalicelib.config.services import build_services
    from chalicelib.domain.attendee import Attendee
    from chalicelib.usecases.registering import registration_actions
    from chalicelib.web.bots import form_token
    from local.instruments import CallLog

    services = build_services()
    app_module.use_services(services)
    event = services.events.get(slug)
    assert event is not None, slug
    body = {
        "name": "磐梯 太郎",
        "kana": "バンダイ タロウ",
        "organization": "磐梯町役場",
        "category": "other",
        "consent": True,
    }
    headers = {"Content-Type": "application/json", **integration_key(services)}
    with Client(app_module.app) as client:

        def register(n: int) -> float:
            payload = json.dumps({**body, "email": f"cost{n}@example.jp"})
            started = time.perf_counter()
            response = client.http.post(f"/api/events/{slug}/registrations", headers=headers, body=payload)
            elapsed = time.perf_counter() - started
            assert response.status_code == 201, response.body
            return elapsed

        register(-1)  # a warm container: details cached, clients connected
        calls = CallLog(services.table.client)
        register(-2)
        operations = list(calls.operations)

        def put(n: int) -> float:
            item = {"pk": {"S": f"BENCH#{n}"}, "sk": {"S": "PUT"}, "payload": {"S": "x" * 400}}
            return timed(lambda: services.table.client.put_item(TableName=services.table.name, Item=item))

        def least_seat(n: int) -> float:
            """The least any registration can write: a seat counter under its cap and one new item, atomically."""
            counter = {
                "Key": {"pk": "BENCH#least", "sk": "COUNTER"},
                "UpdateExpression": "ADD taken :one",
                "ConditionExpression": "attribute_not_exists(taken) OR taken < :cap",
                "ExpressionAttributeValues": {":one": 1, ":cap": 1_000_000},
            }
            record = {"Item": {"pk": f"BENCH#{n}", "sk": "LEAST", "payload": "x" * 400}}
            actions = [{"Update": counter}, {"Put": {**record, "ConditionExpression": "attribute_not_exists(pk)"}}]
            return timed(lambda: services.table.transact(actions))

        def bare_transaction(n: int) -> float:
            """The same four writes a registration makes, sent straight to DynamoDB."""
            person = Attendee(f"参加者{n}", "サンカシャ", "町", "", f"bare{n}@example.jp", "other")
            actions = registration_actions(event, person, f"BARE{n:06d}", f"BARE{n:06d}", services.clock.now())
            return timed(lambda: services.table.transact(actions))

        def register_form(n: int) -> float:
            """The attendee's path: the form's POST, as a browser sends it (a token minted 10 s before)."""
            submission = f"F{n + 10:09d}"  # the form's id format: ten capitals or digits
            minted = services.clock.now() - timedelta(seconds=10)
            fields = {
                **{k: str(v) for k, v in body.items() if k != "consent"},
                "consent": "yes",
                "email": f"form{n}@example.jp",
                "submission_id": submission,
                "form_token": form_token(services.signer, slug, submission, minted),
            }
            started = time.perf_counter()
            response = client.http.post(
                f"/events/{slug}", headers={"Content-Type": "application/x-www-form-urlencoded"}, body=urlencode(fields)
            )
            elapsed = time.perf_counter() - started
            assert response.status_code == 303, response.body
            return elapsed

        register_form(-1)
        registrations, puts, least = alternate(200, register, put, least_seat)
        again, transactions = alternate(100, lambda n: register(n + 1000), bare_transaction)
        forms, bare = alternate(100, lambda n: register_form(n + 2000), lambda n: bare_transaction(n + 2000))
    ratio = median_ratio(registrations, puts)
    floor = median_ratio(least, puts)
    overhead = median_ratio(again, transactions)
    form_overhead = median_ratio(forms, bare)
    # The JSON API checks the integration's key first (one read, one counted write); the seats are never read.
    key_check = ["GetItem", "UpdateItem"]
    seat_calls = operations[len(key_check) :] if operations[: len(key_check)] == key_check else operations
    reads_before = seat_calls.index("TransactWriteItems") if "TransactWriteItems" in seat_calls else len(seat_calls)
    return [
        Figure(
            "AWS calls per registration through the JSON API (warm, happy path)",
            f"{len(operations)}: {', '.join(operations)}",
            "the key's check (GetItem, UpdateItem), then 1 transaction",
            operations == [*key_check, "TransactWriteItems"],
        ),
        Figure("DynamoDB reads of the seats before the transaction", str(reads_before), "0", reads_before == 0),
        Figure(
            "form registration, ratio to the same transaction sent bare (our code's share on the attendee's path)",
            f"{form_overhead:.2f} (form {statistics.median(forms) * 1000:.1f} ms,"
            f" transaction {statistics.median(bare) * 1000:.1f} ms)",
            "≤ 1.15",
            form_overhead <= 1.15,
        ),
        Figure(
            "JSON API registration, ratio to one bare PutItem round trip (information: the engine's own ratios)",
            f"{ratio:.2f} (registration {statistics.median(registrations) * 1000:.1f} ms,"
            f" PutItem {statistics.median(puts) * 1000:.1f} ms)",
            "",
            None,
        ),
        Figure(
            "the least a seat can cost here: counter + one item in one transaction, sent bare, ratio to PutItem",
            f"{floor:.2f} ({statistics.median(least) * 1000:.1f} ms)",
            "",
            None,
        ),
        Figure(
            "JSON API registration, ratio to the same transaction sent bare (the key's check adds two calls)",
            f"{overhead:.2f} (transaction {statistics.median(transactions) * 1000:.1f} ms)",
            "",
            None,
        ),
    ]


# DynamoDB's documented limits the ceilings are computed from ("Constraints" and "Best practices for
# designing and using partition keys"): a partition, and so any one item, takes at most 1,000 write
# units a second; DynamoDB splits a busy item collection by sort key (no local index here), so what
# bounds one event is the item every one of its seat changes writes.
ITEM_WRITE_UNITS_PER_SECOND = 1000


def write_units(sample: Any, now: datetime) -> list[Figure]:
    """Write units of each path, counted by DynamoDB's rules, and the throughput one event can take."""
    from chalicelib.config.services import build_services
    from chalicelib.domain.attendee import Attendee
    from chalicelib.store import capacity, schema
    from chalicelib.store.dynamo import Table, WriteMeter
    from chalicelib.usecases.changes import cancel
    from chalicelib.usecases.checkin import check_in
    from chalicelib.usecases.publishing import publish_event
    from chalicelib.usecases.registering import register
    from chalicelib.usecases.reminders import send_due_reminders

    services = build_services()
    meter = WriteMeter()
    table = Table(services.table.client, services.table.name, meter)
    seats = dataclasses.replace(sample, slug="units", capacity=1, reminders=())
    # Still taking applications: the draw is ahead, before registration closes.
    lottery = dataclasses.replace(sample, slug="units-lottery", draw_at=now + timedelta(minutes=10))
    for event in (seats, lottery):
        publish_event(services.table, event, now)

    def person(n: int) -> Attendee:
        return Attendee(f"参加者{n}", "サンカシャ", "町", "", f"units{n}@example.jp", "other")

    def units(action: Callable[[], Any]) -> tuple[float, float]:
        meter.reset()
        action()
        return meter.table, meter.indexes

    taken: list[str] = []
    seat = units(lambda: taken.append(register(table, seats, person(0), "UNITS0", now).registration_id))
    waiting = units(lambda: register(table, seats, person(1), "UNITS1", now))
    sent: list[list[dict[str, Any]]] = []
    transact = services.table.client.transact_write_items

    def recording(**kwargs: Any) -> Any:
        sent.append(kwargs["TransactItems"])
        return transact(**kwargs)

    services.table.client.transact_write_items = recording  # type: ignore[method-assign]
    application = units(lambda: register(table, lottery, person(2), "UNITS2", now))
    services.table.client.transact_write_items = transact  # type: ignore[method-assign]
    event_item = {"pk": {"S": "EVENT#units-lottery"}, "sk": {"S": "EVENT"}}
    shares = any(body.get("Key") == event_item for items in sent for action in items for body in action.values())
    cancellation = units(lambda: cancel(table, seats, taken[0], now))  # the one waiting moves up
    item = services.table.client.get_item(TableName=table.name, Key={"pk": {"S": "EVENT#units"}, "sk": {"S": "EVENT"}})
    hot = capacity.item_units(item["Item"], item["Item"], transactional=True)
    confirmed = [
        row
        for row in services.table.query(
            "pk = :pk AND begins_with(sk, :reg)", {":pk": "EVENT#units", ":reg": schema.REG_PREFIX}
        )
        if row.get("status") == "confirmed"
    ]
    arrival = units(lambda: check_in(table, "units", confirmed[0]["registration_id"], "bench", now))
    # Ten registrants, and a reminder scheduled only now (the reminders step has fanned out every other).
    crowd = dataclasses.replace(sample, slug="units-reminder", capacity=10, reminders=())
    publish_event(services.table, crowd, now)
    for n in range(10):
        register(services.table, crowd, person(100 + n), f"UNITS{100 + n}", now)
    with_reminder = dataclasses.replace(crowd, reminders=sample.reminders[:1])
    publish_event(services.table, with_reminder, now)
    due = min(with_reminder.reminder_schedule().values())
    fanned = units(lambda: send_due_reminders(table, due + timedelta(seconds=1)))
    reminded = (fanned[0] / 10, fanned[1] / 10)
    per_second = ITEM_WRITE_UNITS_PER_SECOND / hot

    def shown(figure: tuple[float, float]) -> str:
        return f"{figure[0] + figure[1]:g} ({figure[0]:g} table + {figure[1]:g} index)"

    return [
        Figure("write units per seat registration", shown(seat), "≤ 6", seat[0] + seat[1] <= 6),
        Figure("write units per waiting-list join", shown(waiting), "", None),
        Figure("write units per lottery application", shown(application), "", None),
        Figure("write units per cancellation that moves the next person up", shown(cancellation), "", None),
        Figure("write units per check-in", shown(arrival), "", None),
        Figure("write units per reminder, per registrant (10 registrants)", shown(reminded), "", None),
        Figure(
            "seat registrations one event can take a second: 1,000 units/s per item ÷ units per write of the "
            f"event's item ({hot} in a transaction)",
            f"{per_second:.0f}/s",
            "≥ 400/s",
            per_second >= 400,
        ),
        Figure(
            "lottery applications one event can take a second: an application writes no item another one writes",
            "not bounded by one item" if not shares else f"{per_second:.0f}/s (they check the event's item)",
            "≥ 1,000/s",
            not shares,
        ),
        Figure(
            "waiting-list joins and cancellations one event can take a second (they write the same item)",
            f"{per_second:.0f}/s (shared with seat registrations)",
            "",
            None,
        ),
    ]


def flash_crowd(
    env: dict[str, str], slug: str, requests: int = 1000, seats: int = 100, conflicts: float = 0.0
) -> list[Figure]:
    """1,000 concurrent registrations for 100 seats over HTTP against the app's local server.

    `conflicts` is the share of transactions the fault layer cancels, as real DynamoDB cancels those
    that meet another on the same item. A 503 ("busy", nothing written) is sent again after its
    Retry-After, as an integration would; its latency includes the wait.
    """
    from chalicelib.config.services import build_services
    from chalicelib.usecases.catalog import get_event
    from local.engines import free_port

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.serve", str(port)],
        cwd=ROOT,
        env={**env, "BENCH_CONFLICT_SHARE": str(conflicts)},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    key = integration_key(build_services())
    busy: list[int] = []
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"

        def register(n: int) -> tuple[str, float]:
            data = json.dumps(
                {
                    "name": f"参加者{n}",
                    "kana": "サンカシャ",
                    "organization": "町",
                    "category": "other",
                    "email": f"crowd{n}@example.jp",
                    "consent": True,
                }
            ).encode()
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/events/{slug}/registrations",
                data=data,
                headers={"Content-Type": "application/json", **key},
                method="POST",
            )
            started = time.perf_counter()
            while True:
                try:
                    with urllib.request.urlopen(request, timeout=60) as response:
                        outcome = json.loads(response.read()).get("status", str(response.status))
                except urllib.error.HTTPError as error:
                    outcome = str(error.code)
                    if error.code == 503:
                        busy.append(1)
                        time.sleep(float(error.headers.get("Retry-After", "1")))
                        continue
                return outcome, time.perf_counter() - started

        with ThreadPoolExecutor(max_workers=100) as pool:
            results = list(pool.map(register, range(requests)))
    finally:
        server.terminate()
        server.wait(timeout=10)
    outcomes = [outcome for outcome, _ in results]
    latencies = sorted(latency for _, latency in results)
    state = get_event(build_services().table, slug)
    confirmed = outcomes.count("registered")
    waiting = outcomes.count("waitlisted")
    errors = sum(1 for outcome in outcomes if outcome.isdigit() and int(outcome) >= 500)  # a 503 was retried
    p50 = latencies[len(latencies) // 2] * 1000
    p99 = latencies[int(len(latencies) * 0.99) - 1] * 1000
    counter = state.seats_taken if state else -1
    crowd = f"flash crowd, {conflicts:.0%} of transactions cancelled for conflicts"
    return [
        Figure(
            f"{crowd}: {requests} concurrent registrations for {seats} seats, confirmed / counter",
            f"{confirmed} / {counter}",
            f"{seats} / {seats}",
            confirmed == counter == seats,
        ),
        Figure(
            f"{crowd}: the others, in the waiting list",
            str(waiting),
            str(requests - seats),
            waiting == requests - seats and state is not None and state.waiting == waiting,
        ),
        Figure(f"{crowd}: server errors (5xx other than a 503 busy)", str(errors), "0", errors == 0),
        Figure(f"{crowd}: 503 busy answers, each sent again after Retry-After", str(len(busy)), "", None),
        Figure(f"{crowd}: latency p50 / p99", f"{p50:.0f} ms / {p99:.0f} ms", "", None),
    ]


def reminders(
    slug: str, due: datetime, registrants: int = 10_000, sample: int = 280, rate: float = 14.0
) -> list[Figure]:
    """Fan-out time for 10,000 registrants, and the send rate achieved against the configured SES rate."""
    from chalicelib.config.services import build_services
    from chalicelib.mail.pacing import SharedPace
    from chalicelib.mail.ses import TransientSendError
    from chalicelib.store import schema
    from chalicelib.usecases.outbox import MailStatus
    from chalicelib.usecases.reminders import send_due_reminders
    from local.instruments import seat_many

    services = build_services()
    seat_many(services.table, slug, registrants)
    started = time.perf_counter()
    [fan_out] = send_due_reminders(services.table, due)
    fan_out_seconds = time.perf_counter() - started

    mail_ids = [
        row[schema.SK].removeprefix(schema.MAIL_PREFIX)
        for row in services.table.query(
            "pk = :pk AND begins_with(sk, :p)",
            {":pk": schema.event_pk(slug), ":p": schema.MAIL_PREFIX + "reminder-"},
            projection="sk",
        )
    ]

    def send(limiter: SharedPace, batch: list[str]) -> tuple[float, int, int]:
        """Mails per second achieved, mails sent, throttling errors."""
        postman = dataclasses.replace(services.postman, limiter=limiter)
        started = time.perf_counter()
        try:
            sent = postman.deliver_many([(slug, mail_id) for mail_id in batch]).count(MailStatus.SENT)
        except TransientSendError:  # a throttled SES: reported rather than retried
            return 0.0, 0, 1
        return sent / (time.perf_counter() - started), sent, 0

    # SES's default production quota is 14/s: can delivery keep to it, without going over?
    achieved, _, throttled = send(SharedPace(services.table, rate), mail_ids[:sample])
    ratio = achieved / rate
    # And how fast could it go unpaced on this machine (where DynamoDB Local and moto share the cores)?
    ceiling, _, _ = send(SharedPace(services.table, 1_000_000), mail_ids[sample : sample * 2])
    return [
        Figure(
            f"reminders: fan-out for {registrants:,} registrants",
            f"{fan_out_seconds:.1f} s ({fan_out.created:,} mails)",
            "< 60 s",
            fan_out_seconds < 60 and fan_out.created == registrants,
        ),
        Figure(
            f"reminders: send rate achieved / configured ({sample} mails at {rate:g}/s)",
            f"{ratio:.2f} ({achieved:.1f}/s)",
            "0.9–1.0",
            0.9 <= ratio <= 1.0,
        ),
        Figure("reminders: throttling errors from SES", str(throttled), "0", throttled == 0),
        Figure("delivery unpaced on this machine (headroom over the configured rate)", f"{ceiling:.1f}/s", "", None),
    ]


def reconfirmation(slug: str, sample: Any, holders: int = 10_000, waiting: int = 1_000) -> list[Figure]:
    """出欠の再確認 for 10,000 seat holders: the asking fan-out, then releasing every unanswered seat while
    1,000 people wait (the worst case: nobody answered); and DynamoDB's write units per released seat,
    counted on a smaller event of the same shape (counting reads each item first, which would skew the time)."""
    from chalicelib.config.services import build_services
    from chalicelib.domain.event import RECONFIRM_ASK
    from chalicelib.store.dynamo import Table, WriteMeter
    from chalicelib.usecases import reconfirmation as attendance

    services = build_services()
    asked_at = datetime(2027, 1, 10, 2, 0, tzinfo=UTC)  # after seat_many's registrations were made
    release_at = asked_at + timedelta(days=1)

    def prepared(name: str, seats: int, line: int) -> Any:
        event = dataclasses.replace(
            sample, slug=name, capacity=seats, reminders=(), reconfirm_at=asked_at, release_unconfirmed_at=release_at
        )
        _seated_and_waiting(services.table, event, seats, line)
        return event

    event = prepared(slug, holders, waiting)
    started = time.perf_counter()
    asked = attendance.run_due(services.table, event, RECONFIRM_ASK, asked_at)
    ask_seconds = time.perf_counter() - started
    started = time.perf_counter()
    released = attendance.release_unanswered(services.table, event, release_at)
    release_seconds = time.perf_counter() - started
    moved_up = waiting - _still_waiting(services.table, slug)

    counted = prepared(f"{slug}-units", 320, 32)
    meter = WriteMeter()
    units_released = attendance.release_unanswered(
        Table(services.table.client, services.table.name, meter), counted, release_at
    )
    per_seat = meter.total / max(len(units_released), 1)
    return [
        Figure(
            f"reconfirmation: asking {holders:,} seat holders (fan-out)",
            f"{ask_seconds:.1f} s ({asked:,} mails)",
            "< 60 s",
            ask_seconds < 60 and asked == holders,
        ),
        Figure(
            f"reconfirmation: releasing {len(released):,} unanswered seats while {waiting:,} wait",
            f"{release_seconds:.1f} s ({moved_up:,} moved up)",
            "< 300 s, all released, the line emptied",
            release_seconds < 300 and len(released) == holders and moved_up == waiting,
        ),
        Figure(
            "reconfirmation: write units per released seat (its move-up included; 320 seats, 32 waiting)",
            f"{per_seat:.1f}",
            "",
            None,
        ),
    ]


def _seated_and_waiting(table: Any, event: Any, seats: int, waiting: int) -> None:
    """`seats` confirmed and `waiting` in line, written directly, with the event's ledger counting them."""
    from chalicelib.domain.ledger import TAKEN, WAITING_IN, slot
    from chalicelib.store import schema
    from chalicelib.usecases.publishing import publish_event
    from local.instruments import seat_many

    publish_event(table, event, event.reconfirm_at)
    seat_many(table, event.slug, seats)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda n: _wait(table, event.slug, n), range(waiting)))
    table.update(
        schema.event_key(event.slug),
        f"SET seats_taken = :seated, committed = :seated, waiting = :waiting, {TAKEN}.#c = :seated,"
        f" {WAITING_IN}.#c = :waiting",
        values={":seated": seats, ":waiting": waiting},
        names={"#c": slot("other")},
    )


def _still_waiting(table: Any, slug: str) -> int:
    from chalicelib.store import schema

    return int((table.get(schema.event_key(slug)) or {}).get("waiting", 0))


def _wait(table: Any, slug: str, n: int) -> None:
    """One person waiting (registration and place), written directly as seat_many writes seats."""
    from chalicelib.store import schema

    registration_id = f"WAIT{n:06d}"
    joined = f"2027-01-10T01:00:{n // 1000:02d}.{n % 1000:06d}Z"
    place = schema.wait_key(slug, joined, registration_id)
    table.put(schema.wait_place(place, registration_id, "other"))
    table.put(
        {
            **schema.registration_key(slug, registration_id),
            "registration_id": registration_id,
            "event_slug": slug,
            "name": f"待つ人{n}",
            "email": f"waiting{n}@example.jp",
            "category": "other",
            "status": "waitlisted",
            "wait_sk": place[schema.SK],
            "created_at": "2027-01-10T01:00:00Z",
            "lang": "ja",
        }
    )


def build_package(out: Path) -> tuple[Path, Path]:
    """The Lambda zip exactly as `make deploy` builds it (example stage), and where it was unzipped."""
    from deploy.package import build
    from deploy.stage import read_stage

    archive = build(read_stage("example"), out).zip_path
    unzipped = out / "unzipped"
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(unzipped)
    return archive, unzipped


def package_size(archive: Path) -> list[Figure]:
    """The size of the Lambda zip, and that it leaves boto3 to the runtime."""
    size = archive.stat().st_size / 1_000_000
    with zipfile.ZipFile(archive) as zipped:
        vendored_boto3 = any(name.startswith("boto3/") for name in zipped.namelist())
    return [
        Figure(
            "Lambda zip size",
            f"{size:.2f} MB (boto3 vendored: {'yes' if vendored_boto3 else 'no'})",
            "≤ 5 MB",
            size <= 5 and not vendored_boto3,
        )
    ]


# --- running it all -----------------------------------------------------------------------------


def machine() -> str:
    """Where the figures came from."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    memory = next(
        (line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")), "0"
    )
    from local.engines import dynamodb_local_dir

    return (
        f"{os.cpu_count()} cores ({model}), {int(memory) / 1024 / 1024:.0f} GiB, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}, {dynamodb_local_dir().name}"
    )


def render(figures: list[Figure], started: datetime) -> str:
    """The results as a Markdown table."""
    mark = {True: "yes", False: "**no**", None: ""}
    lines = [
        f"# Benchmark results ({started:%Y-%m-%d %H:%M} UTC)",
        "",
        f"Machine: {machine()}",
        "",
        "| figure | value | goal | met |",
        "|---|---|---|---|",
    ]
    lines += [f"| {f.name} | {f.value} | {f.goal} | {mark[f.met]} |" for f in figures]
    lines += [
        "",
        "Ratios are medians of pairs measured back to back in this one run; DynamoDB is AWS's DynamoDB",
        "Local and SES is moto, both on this machine, so absolute times say little about AWS.",
    ]
    return "\n".join(lines) + "\n"


def main() -> int:
    """Start the engines, measure, print and write the results."""
    from chalicelib.config import settings as names
    from chalicelib.domain.clock import SystemClock
    from chalicelib.domain.event_file import read_event_file
    from chalicelib.store.dynamo import Table
    from chalicelib.store.schema import table_definition
    from chalicelib.usecases.publishing import publish_event
    from local import engines
    from local.run import demo_timing

    started = SystemClock().now()
    with (
        tempfile.TemporaryDirectory(prefix="uketsuke-bench-") as scratch,
        engines.dynamodb_local() as dynamodb,
        engines.moto_server() as moto,
    ):
        archive, package = build_package(Path(scratch))
        env = {
            **os.environ,
            **engines.engine_environment(dynamodb, moto),
            names.TABLE_NAME: TABLE,
            names.PUBLIC_BASE_URL: "http://localhost:8000",
            names.DEFAULT_SENDER: SENDER,
            names.SES_MAX_SEND_RATE: "1000",
            names.LINK_KEY: "bench-only-link-key-0123456789abcdef",
        }
        os.environ.update(env)
        client = engines.local_client("dynamodb", dynamodb)
        engines.create_table(client, table_definition(TABLE))
        engines.verify_sender(moto, SENDER)
        table = Table(client, TABLE)
        sample = demo_timing(read_event_file(str(ROOT / "events" / "cdo-seminar.toml")), started)
        crowds = [(f"flash-{share * 100:.0f}", 100) for share in (0.0, 0.3, 0.6)]
        for slug, capacity in (
            ("cdo-seminar", 50),
            ("cost", 1000),
            *crowds,
            ("reminders", 20_000),
            ("reconfirm", 10_000),
        ):
            # Only the reminders event has reminders, so the fan-out measures its 10,000 alone.
            event = dataclasses.replace(
                sample, slug=slug, capacity=capacity, reminders=sample.reminders if slug == "reminders" else ()
            )
            publish_event(table, event, started)
        first_reminder_due = min(sample.reminder_schedule().values())

        steps: list[tuple[str, Callable[[], list[Figure]]]] = [
            ("cold start", lambda: cold_start(env, package)),
            ("registration cost", lambda: registration_cost("cost")),
            *(
                (
                    f"flash crowd, {share:.0%} conflicts",
                    lambda share=share: flash_crowd(env, f"flash-{share * 100:.0f}", conflicts=share),
                )
                for share in (0.0, 0.3, 0.6)
            ),
            ("reminders", lambda: reminders("reminders", first_reminder_due + timedelta(seconds=1))),
            ("reconfirmation", lambda: reconfirmation("reconfirm", sample)),
            ("write units", lambda: write_units(sample, started)),
            ("package size", lambda: package_size(archive)),
        ]
        figures: list[Figure] = []
        for step, run in steps:
            print(f"measuring {step} ...", file=sys.stderr, flush=True)
            figures += run()
    text = render(figures, started)
    RESULTS.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
