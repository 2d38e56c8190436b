"""`make run` always stops: SIGTERM or Ctrl-C, at idle or in the middle of a batch of mail.

The runner is started as `make run` starts it (python -m local.run), in a session of its own as a
terminal would, with its table kept in a folder. Within 10 s of the signal every process it started
is gone, and the table, opened again from that folder, holds every mail: sent ones marked sent, the
rest still waiting in the outbox, none left claimed half-way.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from chalicelib.domain.clock import SystemClock
from chalicelib.store import schema
from chalicelib.store.dynamo import Table
from chalicelib.usecases.catalog import get_event
from chalicelib.usecases.registering import register
from local import engines
from local.run import TABLE
from local.stack import STACK_FILE_VARIABLE, LocalStack, running_stack
from tests.conftest import ROOT, Sequence, numbered, sent_until_answered

STOPS_WITHIN = 10.0  # seconds from the signal until every process is gone
PEOPLE = 600


@dataclass
class Runner:
    """One `make run` process and what it announced."""

    process: subprocess.Popen[bytes]
    stack: LocalStack
    data: Path
    log: Path

    def table(self) -> Table:
        return Table(self.stack.client(), self.stack.table)

    def processes(self) -> list[int]:
        """Every process still alive that this run started: itself, and DynamoDB Local on its folder."""
        alive = [self.process.pid] if self.process.poll() is None else []
        return alive + [pid for pid in _pids_mentioning(str(self.data.resolve())) if pid != self.process.pid]

    def stop(self, signum: int) -> float:
        """Send `signum` as a terminal (Ctrl-C: to the whole foreground group) or `kill` would; seconds to stop."""
        started = time.monotonic()
        if signum == signal.SIGINT:
            os.killpg(self.process.pid, signal.SIGINT)
        else:
            self.process.send_signal(signum)
        deadline = started + STOPS_WITHIN
        while time.monotonic() < deadline and self.processes():
            time.sleep(0.1)
        took = time.monotonic() - started
        assert not self.processes(), f"still running {took:.1f} s after the signal: {self.processes()}"
        assert self.process.returncode == 0, self.log.read_text(errors="replace")[-2000:]
        return took


def _pids_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if text in command:
                found.append(int(entry.name))
    return found


@pytest.fixture
def make_run(tmp_path: Path) -> Iterator[Runner]:
    """The runner on free ports, its table kept in tmp_path/data; killed at the end whatever happened."""
    data, log, stack_file = tmp_path / "data", tmp_path / "run.log", tmp_path / "stack.json"
    # Its own environment, as a terminal has: not the test session's engines or table.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "UKETSUKE_"))}
    env.update({STACK_FILE_VARIABLE: str(stack_file), "UKETSUKE_SES_MAX_SEND_RATE": "20", "PYTHONUNBUFFERED": "1"})
    command = [sys.executable, "-m", "local.run", "--port", str(engines.free_port())]
    command += ["--mail-port", str(engines.free_port()), "--data", str(data), "--tick", "3600"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    runner = None
    try:
        deadline = time.monotonic() + 120
        while (stack := running_stack(str(stack_file))) is None or b"Ctrl-C stops" not in log.read_bytes():
            assert process.poll() is None, log.read_text(errors="replace")
            assert time.monotonic() < deadline, "make run did not start within 120 s"
            time.sleep(0.2)
        runner = Runner(process, stack, data, log)
        yield runner
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        for pid in _pids_mentioning(str(data.resolve())):
            os.kill(pid, signal.SIGKILL)


def mail_states(table: Table) -> Counter[str]:
    """How many outbox mails the event has in each state."""
    rows = table.query(
        "pk = :pk AND begins_with(sk, :mail)", {":pk": schema.event_pk("cdo-seminar"), ":mail": schema.MAIL_PREFIX}
    )
    return Counter(str(row["status"]) for row in rows)


@pytest.mark.slow
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "Ctrl-C"])
def test_make_run_stops_at_idle(make_run: Runner, signum: int) -> None:
    assert make_run.stop(signum) < STOPS_WITHIN
    assert b"Stopped: web server, mail viewer, moto and DynamoDB Local are shut down." in make_run.log.read_bytes()


@pytest.mark.slow
def test_make_run_stops_in_the_middle_of_a_batch_of_mail_and_keeps_what_it_did_not_send(make_run: Runner) -> None:
    table = make_run.table()
    state = get_event(table, "cdo-seminar")
    assert state is not None
    ids, now = Sequence("M"), SystemClock().now()  # make run moved the event to close 15 minutes from its start
    with ThreadPoolExecutor(max_workers=8) as pool:  # 50 seats, then 550 on the waiting list: 600 mails
        list(
            pool.map(
                lambda n: sent_until_answered(lambda: register(table, state.event, numbered(n), f"S{n}", now, ids)),
                range(PEOPLE),
            )
        )
    deadline = time.monotonic() + 120  # as for the start: a deadline for a loaded machine, not a measure
    while mail_states(table)["sent"] < 30:  # at 20 a second: the batch is under way, most of it still to go
        assert time.monotonic() < deadline, f"mail did not go out: {mail_states(table)}"
        time.sleep(0.2)
    make_run.stop(signal.SIGTERM)

    with engines.dynamodb_local(data_dir=make_run.data) as endpoint:  # the next start of the same table
        kept = mail_states(Table(engines.local_client("dynamodb", endpoint), TABLE))
    assert sum(kept.values()) == PEOPLE, kept
    assert kept["sent"] >= 30 and kept["pending"] > 0, kept  # stopped half-way, the rest still to send
    assert set(kept) == {"sent", "pending"}, kept  # nothing left claimed ("sending") or given up on
