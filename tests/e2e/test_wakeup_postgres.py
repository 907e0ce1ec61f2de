"""Wake-ups across processes: the web app notifies, a `flask scheduler` process of its own dials.

The scheduler's tick is set far longer than the test, so only a wake-up (NOTIFY from the web process,
LISTEN in the scheduler's) can explain a call placed within a second of the change.
"""

from __future__ import annotations

import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import select, text

from callback.models import CallAttempt, CallbackRequest
from core.db import get_db
from scheduler.wakeups import APPLICATION_NAME
from tests.e2e.conftest import System, start_system
from tests.e2e.test_scale_postgres import truncate

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
# Far longer than the test takes: a pass brought about by the tick would come too late to count.
TICK_SECONDS = 300
ROUNDS = int(os.environ.get("WAKEUP_ROUNDS", "6"))


@pytest.fixture
def web_and_scheduler(tmp_path: Path, _postgres_schema: str) -> Iterator[tuple[System, float]]:
    """The app serving HTTP with no scheduler of its own, and `flask scheduler` in another process."""
    truncate(_postgres_schema)
    system, stop = start_system(
        tmp_path, database_url=_postgres_schema, scheduler=False, callback_limit_per_ip_per_hour=100_000
    )
    assert "jobs" not in system.app.extensions
    env = {**os.environ, **system.environment()}
    started = time.time()
    scheduler = subprocess.Popen(
        [str(BIN / "flask"), "--app", "app", "scheduler", "--dispatch-seconds", str(TICK_SECONDS)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    try:
        system.wait(lambda: listening(system) or scheduler.poll() is not None, 30, "the scheduler never listened")
        assert scheduler.poll() is None, "the scheduler process exited"
        yield system, started
    finally:
        scheduler.terminate()
        scheduler.wait(timeout=20)
        stop()
        truncate(_postgres_schema)


def listening(system: System) -> bool:
    """Whether a wake-up listener holds LISTEN on the database (its last statement says so)."""
    with get_db(system.app).engine.connect() as conn:
        rows = conn.execute(
            text("SELECT query FROM pg_stat_activity WHERE application_name = :name AND datname = current_database()"),
            {"name": APPLICATION_NAME},
        ).all()
    return any(row.query.startswith(("LISTEN", "SELECT 1")) for row in rows)


def placed_at(system: System, ref: str) -> datetime | None:
    """When the request's first call was placed (calls.create returned), if it was."""
    with get_db(system.app).sessions() as session:
        return session.scalar(
            select(CallAttempt.placed_at)
            .join(CallbackRequest, CallAttempt.request_id == CallbackRequest.id)
            .where(CallbackRequest.ref == ref)
            .order_by(CallAttempt.id)
            .limit(1)
        )


def test_a_scheduler_in_its_own_process_dials_on_the_wake_up_not_the_tick(
    web_and_scheduler: tuple[System, float],
) -> None:
    system, started = web_and_scheduler
    latencies: dict[str, list[float]] = {"request arrives": [], "agent becomes free": []}
    # The process's first call pays for its first connections (database pool, provider client):
    # a warm-up, so what is measured is the wake-up.
    system.phone("+12015556999", answer="human", steps=[{"digits": "1"}], hangup_after=3000)
    system.phone("+12015557999", answer="human", steps=[{"digits": "1"}], hangup_after=3000)
    system.add_agent("+12015556999")
    warm_up = system.ask("+12015557999")
    system.wait(lambda: placed_at(system, warm_up), 10, "the warm-up call was never placed")
    for n in range(ROUNDS):
        agent_phone, customer = f"+1201555{7000 + n:04d}", f"+1201556{7000 + n:04d}"
        # Both answer and stay on the line, so each agent is busy until the test is over.
        system.phone(agent_phone, answer="human", steps=[{"digits": "1"}], hangup_after=3000)
        system.phone(customer, answer="human", steps=[{"digits": "1"}], hangup_after=3000)
        if n % 2 == 0:
            system.add_agent(agent_phone)  # free, with nobody waiting: nothing happens yet
            time.sleep(0.05)
            before = time.time()
            ref = system.ask(customer)
            kind = "request arrives"
        else:
            ref = system.ask(customer)  # every agent is busy: it waits
            time.sleep(0.05)
            assert placed_at(system, ref) is None
            agent_id = system.add_agent(agent_phone, status="offline")
            before = time.time()
            changed = system.api("POST", f"/api/agents/{agent_id}/status", json={"status": "available"})
            assert changed.status_code == 200, changed.text
            kind = "agent becomes free"
        placed: datetime = system.wait(partial(placed_at, system, ref), 5, f"round {n}: the call was never placed")
        latencies[kind].append(placed.timestamp() - before)

    everything = sorted(latencies["request arrives"] + latencies["agent becomes free"])
    median, p99 = statistics.median(everything), everything[math.ceil(0.99 * len(everything)) - 1]
    print(
        f"\nwake-up to call placed over {len(everything)} changes: median {median * 1000:.0f} ms,"
        f" p99 {p99 * 1000:.0f} ms, worst {everything[-1] * 1000:.0f} ms; "
        + "; ".join(f"{kind}: {[round(x * 1000) for x in values]} ms" for kind, values in latencies.items())
    )
    # The tick never came: all of this happened before the scheduler's first one was due.
    assert time.time() < started + TICK_SECONDS
    assert everything[-1] < 1.0, latencies
