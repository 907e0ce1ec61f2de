"""Several app workers and four dispatcher processes on one PostgreSQL database, under load.

500 callbacks, 20 agents, gunicorn with 4 workers answering Twilio's webhooks, 4 `flask scheduler`
processes competing for the same requests. Every request must be completed exactly once, no customer
dialled twice for one attempt, no agent on two calls at once, and the calls-per-second limit kept.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select, text

from agents.models import Agent
from agents.service import ensure_default_queues, update_queue
from callback.models import CallAttempt, CallbackRequest
from core.config import Settings
from core.db import Base, Database, make_engine
from telephony.sandbox import SandboxServer
from tests.e2e.conftest import ACCOUNT_SID, AUTH_TOKEN, SHOP_NUMBER
from tests.ports import free_port

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
REQUESTS = 500
AGENTS = 20
DISPATCHERS = 4
CPS = 20.0
SPEED = 25.0


def wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return
        except (requests.ConnectionError, requests.Timeout):
            pass
        time.sleep(0.1)
    raise AssertionError(f"{url} did not come up")


@pytest.fixture
def fleet(_postgres_schema: str) -> Iterator[dict[str, Any]]:
    """Sandbox, gunicorn (4 workers) and 4 dispatcher processes, all on the test PostgreSQL."""
    database_url = _postgres_schema
    truncate(database_url)
    app_port = free_port()
    app_url = f"http://127.0.0.1:{app_port}"
    sandbox = SandboxServer(
        Settings(
            app_env="testing",
            public_base_url=app_url,
            twilio_account_sid=ACCOUNT_SID,
            twilio_auth_token=AUTH_TOKEN,
            twilio_caller_id=SHOP_NUMBER,
            sandbox_speed=SPEED,
            sandbox_cps=1000.0,  # measure the app's pacing, not the sandbox's
        )
    ).start()
    env = {
        **os.environ,
        "APP_ENV": "testing",
        "DATABASE_URL": database_url,
        "PUBLIC_BASE_URL": app_url,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_CALLER_ID": SHOP_NUMBER,
        "TWILIO_API_BASE": sandbox.base_url,
        "TWILIO_CPS": str(CPS),
        "SCHEDULER": "off",
        "LOG_LEVEL": "WARNING",
        "CALLBACK_LIMIT_PER_IP_PER_HOUR": "100000",
    }
    database = Database(make_engine(database_url))
    with database.sessions() as session:
        ensure_default_queues(session, SHOP_NUMBER)
        update_queue(session, "orders", {"hours": "24/7", "wrap_up_seconds": 0, "backoff_seconds": "1"})
    web = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--bind",
            f"127.0.0.1:{app_port}",
            "--workers",
            "4",
            "--threads",
            "8",
            "--log-level",
            "warning",
            "app:create_app()",
        ],
        cwd=ROOT,
        env=env,
    )
    procs = [web]
    try:
        wait_http(app_url + "/healthz")
        for _ in range(DISPATCHERS):
            procs.append(
                subprocess.Popen(
                    [str(BIN / "flask"), "--app", "app", "scheduler"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL
                )
            )
        yield {"app_url": app_url, "sandbox": sandbox, "database": database, "env": env}
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        sandbox.stop()
        database.engine.dispose()
        truncate(database_url)


def truncate(url: str) -> None:
    """Empty every table, so this test and the others never see each other's rows."""
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            text(f"TRUNCATE {', '.join(t.name for t in Base.metadata.sorted_tables)} RESTART IDENTITY CASCADE")
        )
    engine.dispose()


def test_four_dispatchers_and_four_workers_complete_500_callbacks_exactly_once(fleet: dict[str, Any]) -> None:
    app_url, sandbox, database = fleet["app_url"], fleet["sandbox"], fleet["database"]
    admin = {"Authorization": "Bearer dev-admin-token"}
    session_http = requests.Session()
    agent_phones = [f"+1201555{8000 + i:04d}" for i in range(AGENTS)]
    customers = [f"+1201556{i:04d}" for i in range(REQUESTS)]
    for phone in agent_phones:
        body = {"answer": "human", "steps": [{"digits": "1"}], "hangup_after": 60}
        assert session_http.put(f"{sandbox.base_url}/sandbox/phones/{phone}", json=body, timeout=5).ok
    for phone in customers:
        body = {"answer": "human", "steps": [{"digits": "1"}]}
        assert session_http.put(f"{sandbox.base_url}/sandbox/phones/{phone}", json=body, timeout=5).ok
    for phone in customers:
        created = session_http.post(
            f"{app_url}/api/callbacks",
            json={"phone": phone, "name": "Load Test", "topic": "orders", "consent": True},
            timeout=10,
        )
        assert created.status_code == 201, created.text
    for phone in agent_phones:
        agent = session_http.post(
            f"{app_url}/api/agents",
            json={"name": "Agent", "phone": phone, "queues": ["orders"]},
            headers=admin,
            timeout=10,
        ).json()
        assert session_http.post(
            f"{app_url}/api/agents/{agent['id']}/status", json={"status": "available"}, headers=admin, timeout=10
        ).ok

    deadline = time.monotonic() + 300
    with database.sessions() as session:
        while time.monotonic() < deadline:
            done = session.scalar(
                select(func.count()).select_from(CallbackRequest).where(CallbackRequest.status == "completed")
            )
            # A request completes on its Dial action; its call's last status callback may come a
            # moment later and only then closes the attempt: wait for both.
            still_open = session.scalar(
                select(func.count()).select_from(CallAttempt).where(CallAttempt.ended_at.is_(None))
            )
            if done == REQUESTS and still_open == 0:
                break
            session.rollback()
            time.sleep(1)
        statuses = dict(
            session.execute(select(CallbackRequest.status, func.count()).group_by(CallbackRequest.status)).all()
        )
        assert statuses == {"completed": REQUESTS}, statuses
        attempts = session.scalars(select(CallAttempt)).all()
        # An overloaded machine may make a customer wait too long for a prompt, and a retry is then
        # fair; what must never happen is two calls for one attempt or an attempt without its call.
        placed_per_phone: dict[str, int] = defaultdict(int)
        phones = dict(session.execute(select(CallbackRequest.id, CallbackRequest.phone)).all())
        for attempt in attempts:
            assert attempt.call_sid is not None and attempt.ended_at is not None
            placed_per_phone[phones[attempt.request_id]] += 1
        completed_attempts = [a for a in attempts if a.outcome == "completed"]
        assert len(completed_attempts) == REQUESTS
        assert len({a.request_id for a in completed_attempts}) == REQUESTS, "a request was completed twice"
        assert session.scalar(select(func.count()).select_from(Agent).where(Agent.status == "on_call")) == 0

    listed = session_http.get(f"{sandbox.base_url}/sandbox/calls", timeout=30).json()
    calls = listed["calls"] if isinstance(listed, dict) else listed
    outbound = [c for c in calls if c["direction"] == "outbound-api"]
    per_customer: dict[str, int] = defaultdict(int)
    for call in outbound:
        per_customer[call["to"]] += 1
    assert per_customer == placed_per_phone, "a customer was dialled twice for one attempt"

    # The provider's view of the pace: no second of wall-clock time saw more than CPS new calls.
    moments = sorted(datetime.fromisoformat(c["date_created"]).timestamp() for c in outbound)
    worst = max(sum(1 for t in moments[i:] if t < start + 1.0) for i, start in enumerate(moments))
    assert worst <= CPS, f"{worst} calls in one second, limit {CPS}"

    # No agent was ever on two calls: each agent's legs follow each other without overlapping.
    legs: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for call in calls:
        if call["direction"] != "outbound-dial":
            continue
        timeline = session_http.get(f"{sandbox.base_url}/sandbox/calls/{call['sid']}", timeout=10).json()["timeline"]
        moments = [datetime.fromisoformat(e["at"]).timestamp() for e in timeline if e["type"] == "status"]
        legs[call["to"]].append((min(moments), max(moments)))
    for phone, spans in legs.items():
        spans.sort()
        for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
            assert start >= end, f"agent {phone} had two calls at once"
    assert sum(len(v) for v in legs.values()) >= REQUESTS
