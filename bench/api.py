"""`POST /api/callbacks` benchmark: requests accepted per second and their latency, 4 gunicorn workers.

One run: a fresh database (--database sqlite|postgresql, see bench/common.py) with the default queues;
gunicorn serving the real app (gthread, 4 workers x 4 threads, SCHEDULER=off: only web requests run,
nothing is dialled); `--clients` threads, one requests.Session each, post `--requests` callback
requests, each for a new number (so no rate limit or duplicate check refuses one), after an untimed
warm-up. Every answer must be 201, or the run fails. Prints the throughput (accepted per second of the
timed phase) and the median and p99 latency at the client.

Run: .venv/bin/python bench/api.py [--database sqlite|postgresql] [--requests 1500] [--clients 8]
"""

from __future__ import annotations

import argparse
import os
import queue
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents.service import ensure_default_queues  # noqa: E402
from bench.common import Gunicorn, fresh_database, on_term, percentile, write_json  # noqa: E402
from core.db import Database, make_engine  # noqa: E402

SID = "AC" + "d" * 32
SHOP = "+15005550006"


def post_all(url: str, phones: list[str], clients: int, time_limit: float) -> tuple[list[float], int, float]:
    """Post one callback request per phone from `clients` threads; returns the latencies of the accepted
    ones, how many were refused with 503 (the app's answer when the database is over its time budget:
    the client is told to come back, nothing is lost) and the elapsed seconds."""
    todo: queue.SimpleQueue[str] = queue.SimpleQueue()
    for phone in phones:
        todo.put(phone)
    latencies: list[float] = []
    errors: list[str] = []
    refused = [0]
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    deadline = time.monotonic() + time_limit

    def client() -> None:
        with requests.Session() as http:
            start.wait()
            while time.monotonic() < deadline:
                try:
                    phone = todo.get_nowait()
                except queue.Empty:
                    return
                body = {"phone": phone, "name": "Bench", "topic": "orders", "consent": True}
                began = time.perf_counter()
                try:
                    response = http.post(f"{url}/api/callbacks", json=body, timeout=30)
                    problem = (
                        "" if response.status_code == 201 else f"HTTP {response.status_code}: {response.text[:200]}"
                    )
                except requests.RequestException as exc:
                    problem = f"{exc.__class__.__name__}: {exc}"
                elapsed = time.perf_counter() - began
                with lock:
                    if problem.startswith("HTTP 503"):
                        refused[0] += 1
                    elif problem:
                        errors.append(problem)
                    else:
                        latencies.append(elapsed)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    start.wait()
    for thread in threads:
        thread.join(time_limit + 60)
    seconds = time.perf_counter() - began
    if errors:
        raise SystemExit(f"{len(errors)} of {len(phones)} requests failed, e.g.\n  " + "\n  ".join(errors[:5]))
    return latencies, refused[0], seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--json", help="write the figures to this file (bench/all.py reads it)")
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--time-limit", type=float, default=90.0)
    args = parser.parse_args()
    on_term()
    with (
        tempfile.TemporaryDirectory(prefix="callme-bench-api-") as tmp,
        fresh_database(args.database, Path(tmp)) as url,
    ):
        database = Database(make_engine(url))
        with database.sessions() as session:
            ensure_default_queues(session, SHOP)
        database.engine.dispose()
        server = Gunicorn(
            Path(tmp),
            "app:create_app()",
            args.workers,
            args.threads,
            APP_ENV="testing",
            DATABASE_URL=url,
            TWILIO_ACCOUNT_SID=SID,
            TWILIO_AUTH_TOKEN="bench-api-token",
            TWILIO_CALLER_ID=SHOP,
            CALLBACK_LIMIT_PER_IP_PER_HOUR="10000000",
            CALLBACK_LIMIT_PER_NUMBER_PER_DAY="10000000",
        )
        try:
            server.wait_ready()
            warm = [f"+1201570{n:04d}" for n in range(args.warmup)]
            post_all(server.url, warm, args.clients, args.time_limit)
            phones = [f"+120158{n:05d}" for n in range(args.requests)]
            latencies, refused, seconds = post_all(server.url, phones, args.clients, args.time_limit)
        except BaseException:
            print(f"--- gunicorn log (tail) ---\n{server.log_tail()}", file=sys.stderr)
            raise
        finally:
            server.stop()
    rate = len(latencies) / seconds
    median, p99 = statistics.median(latencies), percentile(latencies, 0.99)
    cut = f", stopped at the time limit after {len(latencies)}" if len(latencies) + refused < args.requests else ""
    print(
        f"POST /api/callbacks on {args.database}, gunicorn {args.workers} workers x {args.threads} threads, "
        f"{args.clients} clients, {os.cpu_count()} CPUs: {rate:.0f} accepted/s, median {median * 1000:.1f} ms, "
        f"p99 {p99 * 1000:.1f} ms ({len(latencies)} accepted, {refused} refused with 503{cut})"
    )
    write_json(
        args.json, {"api.rate": rate, "api.median_ms": median * 1000, "api.p99_ms": p99 * 1000, "api.refused": refused}
    )


if __name__ == "__main__":
    main()
