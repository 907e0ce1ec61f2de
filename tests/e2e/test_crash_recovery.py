"""A dispatcher killed at any instant loses no request and dials nobody twice; lost webhooks are reconciled."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from core.clock import SystemClock
from core.db import get_db
from scheduler.dispatcher import Dispatcher
from scheduler.reaper import Reaper, ReaperPolicy
from tests.e2e.conftest import System, start_system

ROOT = Path(__file__).resolve().parents[2]
CUSTOMER = "+12015550123"
AGENT = "+12015550188"
# Short enough for a test, long enough that a healthy dispatcher is never mistaken for a dead one.
FAST_REAPER = ReaperPolicy(
    unplaced_after=timedelta(seconds=2),
    silent_after=timedelta(seconds=2),
    recheck_every=timedelta(seconds=1),
    stranded_after=timedelta(seconds=2),
)


@pytest.fixture
def quiet_system(tmp_path: Path, database_url: str) -> Iterator[System]:
    """App and sandbox with no dispatcher running, on each backend: the test decides who dispatches."""
    running, stop = start_system(tmp_path, database_url, scheduler=False)
    yield running
    stop()


def crash_dispatcher(system: System, point: str) -> None:
    """Run a dispatcher process that SIGKILLs itself at `point`; fail unless it died that way."""
    env = {**os.environ, **system.environment()}
    result = subprocess.run(
        [sys.executable, str(ROOT / "tests/e2e/crashing_dispatcher.py"), point],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == -9, f"exit {result.returncode}: {result.stderr[-2000:]}"


def recover(system: System, ref: str, final: str = "completed", timeout: float = 30.0) -> None:
    """A new dispatcher and reaper take over until the request reaches `final`."""
    telephony = system.app.extensions["telephony"]
    database = get_db(system.app)
    dispatcher = Dispatcher(database, telephony, SystemClock(), system.settings)
    reaper = Reaper(database, telephony, SystemClock(), FAST_REAPER)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # Looked at after each of them: the queues retry after one second here, so on a slow machine a
        # dispatcher pass right after the reaper's could already place the next attempt of a request
        # the reaper had just settled.
        for step in (reaper.run_once, dispatcher.run_pending):
            step()
            if system.request(ref).status == final:
                return
        time.sleep(0.2)
    raise AssertionError(f"request is {system.request(ref).status}, never {final}")


def scene(system: System) -> str:
    system.phone(CUSTOMER, answer="human", steps=[{"digits": "1"}])
    system.phone(AGENT, answer="human", steps=[{"digits": "1"}], hangup_after=60)
    system.add_agent(AGENT)
    return system.ask(CUSTOMER)


def test_killed_inside_the_claim_transaction_nothing_is_half_claimed(quiet_system: System) -> None:
    ref = scene(quiet_system)
    crash_dispatcher(quiet_system, "mid_claim")
    assert quiet_system.request(ref).status == "queued"  # the database rolled the claim back
    assert quiet_system.attempts(ref) == []
    recover(quiet_system, ref)
    assert len(quiet_system.calls(to=CUSTOMER)) == 1
    assert quiet_system.request(ref).attempts == 1


def test_killed_after_claiming_before_dialling_the_request_is_dialled_once(quiet_system: System) -> None:
    ref = scene(quiet_system)
    crash_dispatcher(quiet_system, "after_claim")
    assert quiet_system.request(ref).status == "dialing"
    assert quiet_system.calls(to=CUSTOMER) == []
    recover(quiet_system, ref)
    attempts = quiet_system.attempts(ref)
    assert [a.outcome for a in attempts] == ["not_placed", "completed"]
    assert len(quiet_system.calls(to=CUSTOMER)) == 1
    assert quiet_system.request(ref).attempts == 1  # the call that never happened does not count


def test_killed_after_dialling_before_saving_the_call_the_call_goes_on_and_is_not_repeated(
    quiet_system: System,
) -> None:
    ref = scene(quiet_system)
    crash_dispatcher(quiet_system, "after_create")
    # The call exists at the provider; its own webhooks tell the app its SID and carry it through.
    recover(quiet_system, ref)
    attempts = quiet_system.attempts(ref)
    assert len(attempts) == 1 and attempts[0].call_sid is not None
    assert attempts[0].outcome == "completed"
    assert len(quiet_system.calls(to=CUSTOMER)) == 1


def test_lost_status_callbacks_are_reconciled_by_asking_the_provider(quiet_system: System) -> None:
    quiet_system.phone(CUSTOMER, answer="busy")
    quiet_system.add_agent(AGENT)
    ref = quiet_system.ask(CUSTOMER)
    quiet_system.faults(drop_status_callback_rate=1.0)
    recover(quiet_system, ref, final="retry_wait")
    req = quiet_system.request(ref)
    assert (req.outcome, req.attempts) == ("busy", 1)
    assert len(quiet_system.calls(to=CUSTOMER)) == 1


def test_killed_after_dialling_with_every_webhook_lost_the_call_is_found_not_repeated(quiet_system: System) -> None:
    quiet_system.phone(CUSTOMER, answer="no-answer")
    quiet_system.add_agent(AGENT)
    ref = quiet_system.ask(CUSTOMER)
    quiet_system.faults(drop_status_callback_rate=1.0)  # and no answer: no webhook at all carries the SID
    crash_dispatcher(quiet_system, "after_create")
    recover(quiet_system, ref, final="retry_wait")
    (attempt,) = quiet_system.attempts(ref)
    assert attempt.call_sid is not None and attempt.outcome == "no-answer"
    assert len(quiet_system.calls(to=CUSTOMER)) == 1
