"""The scheduler as operators run it: `flask scheduler` stopped by SIGTERM, and `flask run` with SCHEDULER=on."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from callback.models import SchedulerHeartbeat
from core.db import get_db
from tests.e2e.conftest import System, start_system
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.fixture
def quiet_system(tmp_path: Path) -> Iterator[System]:
    """The app and sandbox with no scheduler of their own: another process dispatches."""
    system, stop = start_system(tmp_path, scheduler=False)
    yield system
    stop()


def start(args: list[str], env: dict[str, str], out: Path) -> subprocess.Popen[bytes]:
    """A `flask` process in a session of its own (so a reloader's child is stopped with it)."""
    with out.open("wb") as sink:
        return subprocess.Popen(
            [str(BIN / "flask"), "--app", "app", *args],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process and its children, then make sure they are gone."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def heartbeats(system: System) -> list[SchedulerHeartbeat]:
    with get_db(system.app).sessions() as session:
        return list(session.scalars(select(SchedulerHeartbeat)))


def test_sigterm_lets_the_call_in_flight_be_placed_and_takes_no_new_claim(quiet_system: System, tmp_path: Path) -> None:
    system = quiet_system
    # calls.create takes five seconds: long enough to stop the scheduler in the middle of it.
    system.faults(api_latency_ms=5000)
    for phone in ("+12015550101", "+12015550102", "+12015550201", "+12015550202"):
        system.phone(phone, answer="human", steps=[{"digits": "1"}], hangup_after=3000)
    system.add_agent("+12015550101")
    first = system.ask("+12015550201")
    out = tmp_path / "scheduler.out"
    proc = start(["scheduler"], {**system.environment(), "LOG_FORMAT": "json", "LOG_LEVEL": "INFO"}, out)
    try:
        claimed = system.wait(lambda: system.attempts(first), 20, "the scheduler never claimed the request")
        assert claimed[0].call_sid is None  # calls.create is still waiting on the provider
        # Another free agent and another request while the pass is busy: it would take them next.
        system.add_agent("+12015550102")
        second = system.ask("+12015550202")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0, out.read_text()
    finally:
        stop_group(proc)

    output = out.read_text()
    # With LOG_FORMAT=json every line the process writes is one JSON object, its start and stop too.
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    said = [line["message"] for line in lines]
    assert "scheduler running (SIGTERM or Ctrl-C to stop)" in said, said
    assert (
        "scheduler stopping: the pass in flight finishes, no new claim is taken" in said and "scheduler stopped" in said
    )
    placed = system.attempts(first)
    assert len(placed) == 1 and placed[0].call_sid is not None, "the call in flight was not seen through"
    assert [c["sid"] for c in system.calls(to="+12015550201")] == [placed[0].call_sid]
    assert system.request(second).status == "queued" and system.attempts(second) == []
    assert system.calls(to="+12015550202") == []
    [beat] = heartbeats(system)
    assert beat.name == f"{socket.gethostname()}:{proc.pid}" and beat.stopped_at is not None


def run_args(port: int, debug: bool) -> list[str]:
    return [*(["--debug"] if debug else []), "run", "--port", str(port)]


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "with the reloader"])
def test_flask_run_with_scheduler_on_dispatches_in_its_serving_process_only(
    quiet_system: System, tmp_path: Path, debug: bool
) -> None:
    system = quiet_system
    for phone in ("+12015550111", "+12015550211"):
        system.phone(phone, answer="human", steps=[{"digits": "1"}], hangup_after=3000)
    system.add_agent("+12015550111")
    ref = system.ask("+12015550211")
    out = tmp_path / "run.out"
    port = free_port()
    proc = start(run_args(port, debug), {**system.environment(), "SCHEDULER": "on"}, out)
    try:
        system.wait(lambda: [a.call_sid for a in system.attempts(ref) if a.call_sid], 30, "flask run never dialled")
        system.wait(lambda: any(b.last_pass_at for b in heartbeats(system)), 10, "no pass noted")
        [beat] = heartbeats(system)  # one process dispatches, never the reloader's watcher too
        pid = int(beat.name.rsplit(":", 1)[1])
        if debug:
            assert pid != proc.pid, "the reloader's watcher runs the jobs"
        else:
            assert pid == proc.pid
    finally:
        stop_group(proc)
    assert len(system.calls(to="+12015550211")) == 1
