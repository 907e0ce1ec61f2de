"""Dispatcher benchmark: prints ratios measured in one run (README quotes them).

1. Time from an agent becoming available (admin API call) to calls.create reaching the sandbox,
   with the dispatcher running in the app process as `make run` runs it: median and p99.
2. Time to claim the next request with 1,000 and with 1,000,000 requests queued, and their ratio.
3. Calls per second reached with a backlog, against the configured CPS.

Run: .venv/bin/python bench/dispatch.py [--rounds 40] [--big 1000000] [--cps 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests
from sqlalchemy import select, text, update
from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents.models import Agent  # noqa: E402
from agents.service import ensure_default_queues, update_queue  # noqa: E402
from app import create_app  # noqa: E402
from callback.models import CallbackRequest  # noqa: E402
from core.clock import SystemClock  # noqa: E402
from core.config import Settings  # noqa: E402
from core.db import Base, Database, get_db, make_engine  # noqa: E402
from scheduler.dispatcher import Dispatcher  # noqa: E402
from telephony.fake import FakeTelephony  # noqa: E402
from telephony.sandbox import SandboxServer  # noqa: E402

SID = "AC" + "b" * 32
TOKEN = "bench-token"
SHOP = "+15005550006"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(workdir: Path, cps: float, speed: float = 50.0) -> tuple[str, SandboxServer, object]:
    """The app (with its in-process scheduler) and the sandbox, on loopback ports."""
    port = free_port()
    app_url = f"http://127.0.0.1:{port}"
    sandbox = SandboxServer(
        Settings(
            app_env="testing",
            public_base_url=app_url,
            twilio_account_sid=SID,
            twilio_auth_token=TOKEN,
            twilio_caller_id=SHOP,
            sandbox_speed=speed,
            sandbox_cps=1000.0,
        )
    ).start()
    url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    app = create_app(
        {
            "app_env": "testing",
            "database_url": url,
            "public_base_url": app_url,
            "twilio_account_sid": SID,
            "twilio_auth_token": TOKEN,
            "twilio_caller_id": SHOP,
            "twilio_api_base": sandbox.base_url,
            "twilio_cps": cps,
            "scheduler": True,
            "log_level": "WARNING",
            "callback_limit_per_ip_per_hour": 1_000_000,
            "callback_limit_per_number_per_day": 1_000_000,
        }
    )
    with get_db(app).sessions() as session:
        ensure_default_queues(session, SHOP)
        update_queue(session, "orders", {"hours": "24/7", "wrap_up_seconds": 0, "backoff_seconds": "3600"})
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return app_url, sandbox, app


def outbound(sandbox: SandboxServer) -> list[float]:
    listed = requests.get(f"{sandbox.base_url}/sandbox/calls", timeout=10).json()
    calls = listed["calls"] if isinstance(listed, dict) else listed
    return sorted(
        datetime.fromisoformat(c["date_created"]).timestamp() for c in calls if c["direction"] == "outbound-api"
    )


def agent_to_call_latency(rounds: int) -> list[float]:
    """Seconds from 'agent available' to the sandbox receiving calls.create, per round."""
    with tempfile.TemporaryDirectory() as tmp:
        app_url, sandbox, app = start(Path(tmp), cps=1000.0)
        admin = {"Authorization": "Bearer dev-admin-token"}
        http = requests.Session()
        for n in range(rounds):
            phone = f"+1201557{n:04d}"
            http.put(f"{sandbox.base_url}/sandbox/phones/{phone}", json={"answer": "busy"}, timeout=5)
            body = {"phone": phone, "name": "Bench", "topic": "orders", "consent": True}
            assert http.post(f"{app_url}/api/callbacks", json=body, timeout=5).status_code == 201
        agent = http.post(
            f"{app_url}/api/agents", json={"name": "Bench", "phone": "+12015550111", "queues": "orders"}, headers=admin
        ).json()
        status_url = f"{app_url}/api/agents/{agent['id']}/status"
        latencies = []
        for n in range(rounds):
            # Wait until the previous busy call has freed the agent, then take them off the line.
            deadline = time.monotonic() + 10
            while http.post(status_url, json={"status": "away"}, headers=admin).status_code != 200:
                if time.monotonic() > deadline:
                    raise RuntimeError("agent never came back")
                time.sleep(0.01)
            time.sleep(0.05)
            started = time.time()
            http.post(status_url, json={"status": "available"}, headers=admin)
            while len(placed := outbound(sandbox)) <= n:
                time.sleep(0.002)
            latencies.append(placed[-1] - started)
        app.extensions["jobs"].shutdown()  # type: ignore[attr-defined]
        sandbox.stop()
        return latencies


def fill(database: Database, count: int) -> None:
    """Queue `count` requests over six queues in one INSERT ... SELECT (10% booked for later)."""
    now = datetime.now(UTC)
    with database.begin() as session:
        queue_ids = [row[0] for row in session.execute(text("SELECT id FROM queues ORDER BY id"))]
        session.execute(
            text(
                """
                WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count)
                INSERT INTO callback_requests
                    (ref, phone, name, queue_id, source, status, priority, attempts, created_at, updated_at,
                     not_before, expires_at)
                SELECT 'r' || i, '+1' || (3000000000 + i), 'Bench', :q0 + (i % 6), 'api', 'queued', 0, 0,
                       :created, :created, CASE WHEN i % 10 = 0 THEN :later ELSE NULL END, :expires
                FROM n
                """
            ),
            {
                "count": count,
                "q0": queue_ids[0],
                "created": (now - timedelta(minutes=30)).strftime("%Y-%m-%d %H:%M:%S.%f"),
                "later": (now + timedelta(days=2)).strftime("%Y-%m-%d %H:%M:%S.%f"),
                "expires": (now + timedelta(days=3)).strftime("%Y-%m-%d %H:%M:%S.%f"),
            },
        )
        session.execute(text("ANALYZE"))


def claim_seconds(count: int, repeats: int = 200) -> float:
    """Median seconds for one claim (pick + reserve + attempt row) with `count` requests queued."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'claim.sqlite3'}"
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        database = Database(engine)
        with database.sessions() as session:
            ensure_default_queues(session, SHOP)
            for name in ("orders", "returns", "payments", "account", "devices", "other"):
                update_queue(session, name, {"hours": "24/7"})
            now = datetime.now(UTC)
            from agents.models import Queue

            session.add(
                Agent(
                    name="Bench",
                    phone="+12015550111",
                    status="available",
                    status_since=now,
                    created_at=now,
                    queues=list(session.scalars(select(Queue))),
                )
            )
            session.commit()
        fill(database, count)
        dispatcher = Dispatcher(database, FakeTelephony(), SystemClock(), Settings(app_env="testing"))
        timings = []
        for _ in range(repeats):
            with database.sessions() as session:
                started = time.perf_counter()
                claim = dispatcher.claim(session)
                timings.append(time.perf_counter() - started)
            assert claim is not None
            with database.begin() as session:  # undo, outside the timing, so every claim sees the same queue
                session.execute(update(Agent).values(status="available"))
                session.execute(
                    update(CallbackRequest)
                    .where(CallbackRequest.id == claim.request_id)
                    .values(status="queued", agent_id=None, attempts=0)
                )
                session.execute(text("DELETE FROM call_attempts"))
        engine.dispose()
        return statistics.median(timings)


def cps_reached(cps: float, calls: int) -> float:
    """Calls per second placed through the sandbox while a backlog exists."""
    with tempfile.TemporaryDirectory() as tmp:
        app_url, sandbox, app = start(Path(tmp), cps=cps)
        admin = {"Authorization": "Bearer dev-admin-token"}
        http = requests.Session()
        for n in range(calls):
            phone = f"+1201558{n:04d}"
            http.put(f"{sandbox.base_url}/sandbox/phones/{phone}", json={"answer": "busy"}, timeout=5)
            body = {"phone": phone, "name": "Bench", "topic": "orders", "consent": True}
            assert http.post(f"{app_url}/api/callbacks", json=body, timeout=5).status_code == 201
        for n in range(calls):
            agent = http.post(
                f"{app_url}/api/agents",
                json={"name": "Bench", "phone": f"+1201559{n:04d}", "queues": "orders"},
                headers=admin,
            ).json()
            http.post(f"{app_url}/api/agents/{agent['id']}/status", json={"status": "available"}, headers=admin)
        deadline = time.monotonic() + calls / cps * 3 + 10
        while len(placed := outbound(sandbox)) < calls and time.monotonic() < deadline:
            time.sleep(0.1)
        app.extensions["jobs"].shutdown()  # type: ignore[attr-defined]
        sandbox.stop()
        return (len(placed) - 1) / (placed[-1] - placed[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--cps", type=float, default=5.0)
    parser.add_argument("--calls", type=int, default=40)
    args = parser.parse_args()
    import logging

    logging.disable(logging.INFO)

    latencies = sorted(agent_to_call_latency(args.rounds))
    median = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, round(0.99 * (len(latencies) - 1)))]
    print(
        f"agent available -> calls.create at the sandbox: median {median * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms "
        f"({len(latencies)} rounds; goal: median <= 100 ms)"
    )

    small = claim_seconds(args.small)
    big = claim_seconds(args.big)
    print(
        f"claim the next request: {small * 1000:.2f} ms with {args.small:,} queued, "
        f"{big * 1000:.2f} ms with {args.big:,} queued, ratio {big / small:.2f} (goal: about 1)"
    )

    reached = cps_reached(args.cps, args.calls)
    print(
        f"pacing: {reached:.2f} calls/s reached for {args.cps:.2f} configured, "
        f"{reached / args.cps:.1%} of the limit (goal: 95% to 100%)"
    )


if __name__ == "__main__":
    main()
