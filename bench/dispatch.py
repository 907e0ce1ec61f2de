"""Dispatcher benchmark: prints ratios measured in one run (README quotes them).

1. Time from an agent becoming available (admin API call) to calls.create reaching the sandbox: median
   and p99, with the dispatcher running in the app process as `make run` runs it, and with the web app
   under gunicorn (SCHEDULER=off) and one, then four, `flask --app app scheduler` processes beside it,
   as production runs them.
2. Time to claim the next request with 1,000 and with 1,000,000 requests queued, and their ratio.
3. Calls per second reached with a backlog, against the configured CPS.

Each on SQLite (a file) or PostgreSQL (--database postgresql: a fresh database on the server of
TEST_DATABASE_URL, see bench/common.py).

Run: .venv/bin/python bench/dispatch.py [--database sqlite|postgresql] [--rounds 30] [--big 1000000] [--cps 5]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import select, text, update
from werkzeug.serving import make_server

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents.models import Agent  # noqa: E402
from agents.service import ensure_default_queues, update_queue  # noqa: E402
from app import create_app  # noqa: E402
from bench.common import (
    Gunicorn,
    Process,
    app_env,
    fresh_database,
    held_port,
    on_term,
    percentile,
    schedulers,
    write_json,
)  # noqa: E402
from callback.models import CallbackRequest  # noqa: E402
from core.clock import SystemClock  # noqa: E402
from core.config import Settings  # noqa: E402
from core.db import Database, get_db, make_engine  # noqa: E402
from scheduler.dispatcher import Dispatcher  # noqa: E402
from telephony.fake import FakeTelephony  # noqa: E402
from telephony.sandbox import SandboxServer  # noqa: E402

SID = "AC" + "b" * 32
TOKEN = "bench-token"
SHOP = "+15005550006"


SETTINGS_KEYS = (
    "APP_ENV",
    "DATABASE_URL",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_CALLER_ID",
    "TWILIO_API_BASE",
    "TWILIO_CPS",
    "CALLBACK_LIMIT_PER_IP_PER_HOUR",
    "CALLBACK_LIMIT_PER_NUMBER_PER_DAY",
)


def sandbox_for(app_url: str, speed: float = 50.0) -> SandboxServer:
    logging.getLogger("werkzeug").disabled = True  # no access log line per poll of /sandbox/calls
    return SandboxServer(
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


def start(url: str, cps: float, speed: float = 50.0) -> tuple[str, SandboxServer, Any]:
    """The app (with its in-process scheduler) and the sandbox, on loopback ports."""
    logging.getLogger("werkzeug").disabled = True
    with held_port() as port:
        app_url = f"http://127.0.0.1:{port}"
        sandbox = sandbox_for(app_url, speed)
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
    app.extensions["bench_server"] = server
    return app_url, sandbox, app


def stop(app: Any, sandbox: SandboxServer) -> None:
    """Stop what start() started: the scheduler, the sandbox, the server, the engine."""
    app.extensions["jobs"].shutdown()
    sandbox.stop()
    app.extensions["bench_server"].shutdown()
    get_db(app).engine.dispose()


def outbound(sandbox: SandboxServer) -> list[float]:
    listed = requests.get(f"{sandbox.base_url}/sandbox/calls", timeout=10).json()
    calls = listed["calls"] if isinstance(listed, dict) else listed
    return sorted(
        datetime.fromisoformat(c["date_created"]).timestamp() for c in calls if c["direction"] == "outbound-api"
    )


def queue_busy_requests(http: requests.Session, app_url: str, sandbox_url: str, count: int, prefix: str) -> None:
    """`count` requests whose customers are busy: each call ends at once, and the backoff is an hour."""
    for n in range(count):
        phone = f"{prefix}{n:04d}" if count > 1 else prefix
        http.put(f"{sandbox_url}/sandbox/phones/{phone}", json={"answer": "busy"}, timeout=5)
        body = {"phone": phone, "name": "Bench", "topic": "orders", "consent": True}
        response = http.post(f"{app_url}/api/callbacks", json=body, timeout=10)
        assert response.status_code == 201, response.text


def measure_rounds(http: requests.Session, app_url: str, sandbox: SandboxServer, rounds: int) -> list[float]:
    """One agent and one new request per round: the agent goes away, a request for a busy customer is
    queued, the agent becomes available, and the round's figure is the seconds until the sandbox receives
    calls.create. The request is made only while the agent is away, so no call can be placed before the
    clock starts (an agent freed by the previous call would otherwise be dialled out at once). The first
    round is a warm-up (the dispatchers' first pass, connections opened) and is not counted."""
    admin = {"Authorization": "Bearer dev-admin-token"}
    agent = http.post(
        f"{app_url}/api/agents", json={"name": "Bench", "phone": "+12015550111", "queues": "orders"}, headers=admin
    ).json()
    status_url = f"{app_url}/api/agents/{agent['id']}/status"
    latencies = []
    for n in range(rounds):
        # Wait until the previous busy call has freed the agent, then take them off the line.
        deadline = time.monotonic() + 20
        while http.post(status_url, json={"status": "away"}, headers=admin).status_code != 200:
            if time.monotonic() > deadline:
                raise RuntimeError("agent never came back")
            time.sleep(0.01)
        queue_busy_requests(http, app_url, sandbox.base_url, 1, f"+1201557{n:04d}")
        time.sleep(0.05)
        started = time.time()
        http.post(status_url, json={"status": "available"}, headers=admin)
        deadline = time.monotonic() + 20
        while len(placed := outbound(sandbox)) <= n:
            if time.monotonic() > deadline:
                raise RuntimeError("no call placed within 20 s of the agent becoming available")
            time.sleep(0.002)
        if len(placed) != n + 1:
            raise RuntimeError(f"round {n}: {len(placed)} calls placed, expected {n + 1}")
        latencies.append(placed[-1] - started)
    return latencies[1:]


def agent_to_call_latency(backend: str, rounds: int) -> list[float]:
    """Seconds from 'agent available' to the sandbox receiving calls.create, per round (in-process scheduler)."""
    with tempfile.TemporaryDirectory() as tmp, fresh_database(backend, Path(tmp)) as url:
        app_url, sandbox, app = start(url, cps=1000.0)
        http = requests.Session()
        try:
            return measure_rounds(http, app_url, sandbox, rounds + 1)
        finally:
            stop(app, sandbox)


def agent_to_call_latency_processes(backend: str, rounds: int, dispatchers: int) -> list[float]:
    """The same with gunicorn (2 workers, SCHEDULER=off) and `dispatchers` scheduler processes."""
    with tempfile.TemporaryDirectory() as tmp, fresh_database(backend, Path(tmp)) as url:
        database = Database(make_engine(url))
        with database.sessions() as session:
            ensure_default_queues(session, SHOP)
            update_queue(session, "orders", {"hours": "24/7", "wrap_up_seconds": 0, "backoff_seconds": "3600"})
        database.engine.dispose()
        with held_port() as port:
            sandbox = sandbox_for(f"http://127.0.0.1:{port}")
        env = app_env(
            APP_ENV="testing",
            DATABASE_URL=url,
            PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
            TWILIO_ACCOUNT_SID=SID,
            TWILIO_AUTH_TOKEN=TOKEN,
            TWILIO_CALLER_ID=SHOP,
            TWILIO_API_BASE=sandbox.base_url,
            TWILIO_CPS="1000",
            CALLBACK_LIMIT_PER_IP_PER_HOUR="1000000",
            CALLBACK_LIMIT_PER_NUMBER_PER_DAY="1000000",
        )
        web = Gunicorn(Path(tmp), "app:create_app()", 2, 8, port=port, **{k: env[k] for k in SETTINGS_KEYS})
        procs: list[Process] = [web]
        try:
            web.wait_ready()
            procs += schedulers(Path(tmp), dispatchers, env)
            http = requests.Session()
            return measure_rounds(http, web.url, sandbox, rounds + 1)
        except BaseException:
            for proc in procs:
                print(f"--- {proc.log_path.name} (tail) ---\n{proc.log_tail()}", file=sys.stderr)
            raise
        finally:
            for proc in procs:
                proc.stop()
            sandbox.stop()


def fill(database: Database, count: int) -> None:
    """Queue `count` requests over six queues in one INSERT ... SELECT (10% booked for later): a recursive
    counter on SQLite, generate_series on PostgreSQL (a million rows in well under a minute on both)."""
    now = datetime.now(UTC)
    postgres = database.engine.dialect.name == "postgresql"
    numbers = (
        "SELECT i FROM generate_series(1, :count) AS n(i)"
        if postgres
        else "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :count) SELECT i FROM n"
    )
    stamp = "CAST({} AS timestamptz)" if postgres else "{}"
    params: dict[str, object] = {"count": count}
    for name, moment in (
        ("created", now - timedelta(minutes=30)),
        ("later", now + timedelta(days=2)),
        ("expires", now + timedelta(days=3)),
    ):
        params[name] = moment if postgres else moment.strftime("%Y-%m-%d %H:%M:%S.%f")
    with database.begin() as session:
        queue_ids = [row[0] for row in session.execute(text("SELECT id FROM queues ORDER BY id"))]
        params["q0"] = queue_ids[0]
        created, later, expires = (stamp.format(f":{name}") for name in ("created", "later", "expires"))
        session.execute(
            text(
                f"""
                INSERT INTO callback_requests
                    (ref, phone, name, queue_id, source, status, priority, attempts, created_at, updated_at,
                     not_before, expires_at)
                SELECT 'r' || i, '+1' || (3000000000 + i), 'Bench', :q0 + (i % 6), 'api', 'queued', 0, 0,
                       {created}, {created}, CASE WHEN i % 10 = 0 THEN {later} ELSE NULL END, {expires}
                FROM ({numbers}) AS counter
                """
            ),
            params,
        )
    with database.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))


def claim_seconds(backend: str, count: int, repeats: int = 200) -> tuple[float, float]:
    """Median seconds for one claim (pick + reserve + attempt row) with `count` requests queued, and the
    seconds the set-up (the INSERT of `count` rows) took."""
    with tempfile.TemporaryDirectory() as tmp, fresh_database(backend, Path(tmp)) as url:
        engine = make_engine(url)
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
        began = time.perf_counter()
        fill(database, count)
        setup = time.perf_counter() - began
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
        return statistics.median(timings), setup


def cps_reached(backend: str, cps: float, calls: int) -> float:
    """Calls per second placed through the sandbox while a backlog exists."""
    with tempfile.TemporaryDirectory() as tmp, fresh_database(backend, Path(tmp)) as url:
        app_url, sandbox, app = start(url, cps=cps)
        try:
            admin = {"Authorization": "Bearer dev-admin-token"}
            http = requests.Session()
            queue_busy_requests(http, app_url, sandbox.base_url, calls, "+1201558")
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
            return (len(placed) - 1) / (placed[-1] - placed[0])
        finally:
            stop(app, sandbox)


def latency_line(what: str, latencies: list[float], figures: dict[str, float], key: str) -> None:
    median, p99 = statistics.median(latencies), percentile(latencies, 0.99)
    figures[f"{key}.median_ms"], figures[f"{key}.p99_ms"] = median * 1000, p99 * 1000
    print(
        f"agent available -> calls.create at the sandbox, {what}: median {median * 1000:.1f} ms, "
        f"p99 {p99 * 1000:.1f} ms ({len(latencies)} rounds; goal: median <= 50 ms on PostgreSQL)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--json", help="write the figures to this file (bench/all.py reads it)")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--big", type=int, default=1_000_000)
    parser.add_argument("--cps", type=float, default=5.0)
    parser.add_argument("--calls", type=int, default=40)
    args = parser.parse_args()
    logging.disable(logging.INFO)
    on_term()
    figures: dict[str, float] = {}
    print(f"dispatcher benchmark on {args.database}", flush=True)

    latency_line(
        "scheduler in the web process", agent_to_call_latency(args.database, args.rounds), figures, "dispatch.inproc"
    )
    for dispatchers in (1, 4):
        latencies = agent_to_call_latency_processes(args.database, args.rounds, dispatchers)
        what = f"gunicorn + {dispatchers} scheduler process{'es' if dispatchers > 1 else ''}"
        latency_line(what, latencies, figures, f"dispatch.{dispatchers}proc")

    small, _ = claim_seconds(args.database, args.small)
    big, setup = claim_seconds(args.database, args.big)
    figures.update({"claim.small_ms": small * 1000, "claim.big_ms": big * 1000, "claim.ratio": big / small})
    print(
        f"claim the next request: {small * 1000:.2f} ms with {args.small:,} queued, "
        f"{big * 1000:.2f} ms with {args.big:,} queued, ratio {big / small:.2f} (goal: about 1; "
        f"{args.big:,} rows inserted in {setup:.1f} s)",
        flush=True,
    )

    reached = cps_reached(args.database, args.cps, args.calls)
    figures.update({"pacing.cps": reached, "pacing.share": reached / args.cps})
    print(
        f"pacing: {reached:.2f} calls/s reached for {args.cps:.2f} configured, "
        f"{reached / args.cps:.1%} of the limit (goal: 95% to 100%)"
    )
    write_json(args.json, figures)


if __name__ == "__main__":
    main()
