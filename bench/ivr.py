"""IVR webhook benchmark: prints ratios measured in one run (README quotes them).

DESIGN.md section 5: an IVR webhook costs at most 2x a bare Flask endpoint returning fixed TwiML on the
same server. In one run this script

1. prepares a SQLite database in a temporary directory (schema, default queues, demo orders);
2. starts ONE gunicorn server on a free loopback port serving bench/wsgi.py: the real app (create_app,
   APP_ENV=testing, PUBLIC_BASE_URL = the server's own URL) plus `POST /bench/bare`, fixed TwiML with no
   database and no signature check, on the same Flask app, so both share server, hooks and worker pool;
3. sends requests signed exactly as Twilio signs them (X-Twilio-Signature over the URL and the form),
   with a voice webhook's form parameters, to four endpoints:
     bare      POST /bench/bare
     one-read  POST /bench/one-read with the Digits of a demo order: the signature check, one order read
               and the same fixed TwiML, the floor under any webhook that reads the database
     incoming  POST /voice/incoming, a fresh CallSid each time (creates an IvrSession)
     lookup    POST /voice/ivr/input?node=track_order&mode=ref with the Digits of a demo order, each on a
               call that went through /voice/incoming first (one lookup per call, as on a real call);
4. at 1, 10 and 50 concurrent callers (threads, one requests.Session each) sends a fixed number of
   requests per endpoint (stopping early at a time limit) and prints the median and p99 latency of each
   endpoint and the ratios to bare. Every answer must be 200 with the expected TwiML, or the run fails.

Each endpoint is measured in its own phase: at N callers every request in flight is of that kind, so a
ratio compares what the endpoints cost, not a blend of them. Latency is measured at the client, so it
includes loopback HTTP and the client's own work (the same for every endpoint).

Server: gunicorn gthread, 2 workers x 8 threads by default. Two workers so both cores of a small
machine serve (the GIL confines a worker to one core); threads so a request waiting on SQLite (a
commit, a lock held by the other worker, WAL fsync) does not hold up the others. SQLite takes writes from
both workers thanks to WAL and the app's busy timeout. The scheduler is off: only web requests run.

The endpoints take turns (--rounds) at each level, so a slow spell of a shared machine hits them alike.

Run: .venv/bin/python bench/ivr.py [--requests 300] [--levels 1,10,50] [--workers 2] [--threads 8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import signal
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import agents.models  # noqa: E402, F401 - every model on Base.metadata before create_all
import callback.models  # noqa: E402, F401
import ivr.models  # noqa: E402, F401
import orders.models  # noqa: E402, F401
from agents.service import ensure_default_queues  # noqa: E402
from bench.common import Gunicorn, fresh_database, write_json  # noqa: E402
from core.db import Database, make_engine  # noqa: E402
from orders.demo import DEMO_CUSTOMER, DEMO_FILE, load_demo_orders  # noqa: E402

SID = "AC" + "c" * 32
TOKEN = "bench-ivr-token"
SHOP = "+15005550006"
GOAL = 2.0
KINDS = ("bare", "one-read", "incoming", "lookup")
LOOKUP_PATH = "/voice/ivr/input?node=track_order&mode=ref"


@contextmanager
def prepare_database(workdir: Path, backend: str) -> Iterator[tuple[str, list[str]]]:
    """A fresh database on `backend` with the schema, the default queues and the demo orders; yields its
    URL and the keypad digits of every demo order."""
    digits = []
    for line in DEMO_FILE.read_text().splitlines():
        record = json.loads(line) if line.strip() else {}
        if record.get("type") == "order":
            digits.append("".join(ch for ch in record["number"] if ch.isdigit()))
    if not digits:
        raise SystemExit(f"no demo orders in {DEMO_FILE}")
    with fresh_database(backend, workdir) as url:
        engine = make_engine(url)
        with Database(engine).sessions() as session:
            ensure_default_queues(session, SHOP)
            load_demo_orders(session)
        engine.dispose()
        yield url, digits


def form(call_sid: str, status: str = "ringing", **extra: str) -> dict[str, str]:
    """What Twilio posts to a voice webhook of an inbound call."""
    return {
        "AccountSid": SID,
        "ApiVersion": "2010-04-01",
        "CallSid": call_sid,
        "CallStatus": status,
        "Called": SHOP,
        "CalledCity": "",
        "CalledCountry": "US",
        "CalledState": "",
        "CalledZip": "",
        "Caller": DEMO_CUSTOMER,
        "CallerCity": "HOBOKEN",
        "CallerCountry": "US",
        "CallerState": "NJ",
        "CallerZip": "07030",
        "Direction": "inbound",
        "From": DEMO_CUSTOMER,
        "FromCity": "HOBOKEN",
        "FromCountry": "US",
        "FromState": "NJ",
        "FromZip": "07030",
        "To": SHOP,
        "ToCity": "",
        "ToCountry": "US",
        "ToState": "",
        "ToZip": "",
        **extra,
    }


@dataclass
class Job:
    """One request to send: the path (with its query, as signed) and the form."""

    path: str
    params: dict[str, str]
    expect: str  # a fragment the TwiML must contain: proof the real path ran


@dataclass
class Phase:
    """The outcome of sending one kind of request at one concurrency."""

    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    sent: int = 0

    def add(self, other: Phase) -> None:
        self.latencies += other.latencies
        self.errors += other.errors
        self.seconds += other.seconds
        self.sent += other.sent

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


class Bench:
    def __init__(self, base_url: str, digits: list[str]) -> None:
        self.base_url = base_url
        self.validator = RequestValidator(TOKEN)
        self.digits = digits
        self.calls: queue.SimpleQueue[str] = queue.SimpleQueue()  # CallSids that went through /voice/incoming
        self.sequence = 0

    def headers(self, path: str, params: dict[str, str]) -> dict[str, str]:
        """X-Twilio-Signature exactly as Twilio computes it: the public URL as requested, and the form."""
        return {"X-Twilio-Signature": self.validator.compute_signature(self.base_url + path, params)}

    def jobs(self, kind: str, count: int) -> list[Job]:
        if kind == "bare":
            return [Job("/bench/bare", form("CA" + uuid.uuid4().hex), "<Gather") for _ in range(count)]
        if kind == "one-read":
            jobs = []
            for _ in range(count):
                self.sequence += 1
                digits = self.digits[self.sequence % len(self.digits)]
                params = form("CA" + uuid.uuid4().hex, "in-progress", Digits=digits, FinishedOnKey="#")
                jobs.append(Job("/bench/one-read", params, "<Gather"))
            return jobs
        if kind == "incoming":
            # The menu's first question: the main menu, or (a caller known by their number) their latest order.
            return [
                Job("/voice/incoming", form("CA" + uuid.uuid4().hex), "/voice/ivr/input?node=") for _ in range(count)
            ]
        jobs = []
        for _ in range(count):
            try:
                call_sid = self.calls.get_nowait()
            except queue.Empty:
                break
            self.sequence += 1
            digits = self.digits[self.sequence % len(self.digits)]
            params = form(call_sid, "in-progress", Digits=digits, FinishedOnKey="#", msg="Gather End")
            # A found order moves the caller on to after_order; a miss would re-prompt track_order.
            jobs.append(Job(LOOKUP_PATH, params, "node=after_order"))
        return jobs

    def run(self, kind: str, callers: int, count: int, time_limit: float) -> Phase:
        """Send `count` requests of one kind from `callers` threads; stop early at `time_limit` seconds."""
        todo: queue.SimpleQueue[Job] = queue.SimpleQueue()
        for job in self.jobs(kind, count):
            todo.put(job)
        phase = Phase()
        lock = threading.Lock()
        start = threading.Barrier(callers + 1)
        deadline = [0.0]

        def caller() -> None:
            with requests.Session() as http:
                start.wait()
                while time.monotonic() < deadline[0]:
                    try:
                        job = todo.get_nowait()
                    except queue.Empty:
                        return
                    headers = self.headers(job.path, job.params)
                    began = time.perf_counter()
                    try:
                        response = http.post(self.base_url + job.path, data=job.params, headers=headers, timeout=30)
                        elapsed = time.perf_counter() - began
                        problem = check(response, job.expect)
                    except requests.RequestException as exc:
                        elapsed, problem = 0.0, f"{job.path}: {exc.__class__.__name__}: {exc}"
                    with lock:
                        phase.sent += 1
                        if problem:
                            phase.errors.append(problem)
                        else:
                            phase.latencies.append(elapsed)
                            if kind == "incoming":
                                self.calls.put(job.params["CallSid"])

        threads = [threading.Thread(target=caller, daemon=True) for _ in range(callers)]
        for thread in threads:
            thread.start()
        deadline[0] = time.monotonic() + time_limit
        began = time.perf_counter()
        start.wait()
        for thread in threads:
            thread.join(time_limit + 60)
        phase.seconds = time.perf_counter() - began
        if phase.errors:
            raise SystemExit(
                f"{kind} at {callers} callers: {len(phase.errors)} of {phase.sent} requests failed, e.g.\n  "
                + "\n  ".join(phase.errors[:5])
            )
        if not phase.latencies:
            raise SystemExit(f"{kind} at {callers} callers: no request completed")
        return phase


def check(response: requests.Response, expect: str) -> str:
    """'' when the answer is 200 TwiML containing `expect`, else what is wrong with it."""
    body = response.text
    where = response.request.path_url
    if response.status_code != 200:
        return f"{where}: HTTP {response.status_code}: {body[:200]!r}"
    if not response.headers.get("Content-Type", "").startswith("text/xml"):
        return f"{where}: Content-Type {response.headers.get('Content-Type')!r}"
    if not body.startswith("<?xml") or "<Response>" not in body or not body.endswith("</Response>"):
        return f"{where}: not TwiML: {body[:200]!r}"
    if expect not in body:
        return f"{where}: TwiML without {expect!r}: {body[:300]!r}"
    return ""


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=300, help="requests per endpoint per level")
    parser.add_argument("--levels", default="1,10,50", help="concurrent callers, comma-separated")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=64, help="untimed requests per endpoint before measuring")
    parser.add_argument("--rounds", type=int, default=3, help="turns the endpoints take per level")
    parser.add_argument(
        "--time-limit", type=float, default=15.0, help="seconds at most per endpoint per level (and per warm-up)"
    )
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--json", help="write the figures to this file (bench/all.py reads it)")
    args = parser.parse_args()
    levels = [int(level) for level in args.levels.split(",")]
    # A TERM from outside still runs the finally below (and so stops gunicorn).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    figures: dict[str, float] = {}
    with (
        tempfile.TemporaryDirectory(prefix="callme-bench-ivr-") as tmp,
        prepare_database(Path(tmp), args.database) as (database_url, digits),
    ):
        server = Gunicorn(
            Path(tmp),
            "bench.wsgi:application",
            args.workers,
            args.threads,
            APP_ENV="testing",
            DATABASE_URL=database_url,
            TWILIO_ACCOUNT_SID=SID,
            TWILIO_AUTH_TOKEN=TOKEN,
            TWILIO_CALLER_ID=SHOP,
        )
        try:
            server.wait_ready()
            bench = Bench(server.url, digits)
            print(
                f"IVR webhooks against a bare endpoint returning fixed TwiML, one gunicorn server "
                f"(gthread, {args.workers} workers x {args.threads} threads, {args.database}, {os.cpu_count()} CPUs), "
                f"{args.requests} requests per endpoint per level in {args.rounds} rounds; "
                f"load average {os.getloadavg()[0]:.2f} before warm-up"
            )
            for kind in KINDS:  # every worker thread imports, connects and compiles its statements first
                bench.run(kind, args.workers * args.threads, args.warmup, args.time_limit)
            verdicts: list[tuple[int, float]] = []
            for callers in levels:
                measured = {kind: Phase() for kind in KINDS}
                # Kinds take turns, so a slow spell of the machine hits them alike rather than one of them.
                for round_ in range(args.rounds):
                    share = args.requests // args.rounds + (round_ < args.requests % args.rounds)
                    for kind in KINDS:
                        measured[kind].add(bench.run(kind, callers, share, args.time_limit / args.rounds))
                verdicts.append((callers, report(callers, measured, args.requests, figures)))
            worst = max(ratio for _, ratio in verdicts)
            met = ", ".join(f"{c}: {'met' if r <= GOAL else 'NOT met'} ({r:.2f}x)" for c, r in verdicts)
            print(
                f"\nload average {os.getloadavg()[0]:.2f} after the run (other work on the machine skews the figures)"
            )
            print(f"goal: at most {GOAL:g}x (worst ratio per level, median or p99 -> {met}); worst {worst:.2f}x")
            write_json(args.json, figures)
        except BaseException:
            print(f"--- gunicorn log (tail) ---\n{server.log_tail()}", file=sys.stderr)
            raise
        finally:
            server.stop()


def report(callers: int, measured: dict[str, Phase], wanted: int, figures: dict[str, float]) -> float:
    """Print one level and add it to `figures`; returns its worst ratio to bare."""
    bare = measured["bare"]
    bare_median, bare_p99 = statistics.median(bare.latencies), percentile(bare.latencies, 0.99)
    print(f"\n{callers} concurrent caller{'s' if callers != 1 else ''}:")
    worst = 0.0
    for kind, phase in measured.items():
        median, p99 = statistics.median(phase.latencies), percentile(phase.latencies, 0.99)
        cut = f", stopped at the time limit after {len(phase.latencies)}" if len(phase.latencies) < wanted else ""
        line = f"  {kind:<9} median {ms(median)}  p99 {ms(p99)}  {phase.throughput:6.0f} req/s{cut}"
        figures[f"ivr.{callers}.{kind}.median_ms"] = median * 1000
        figures[f"ivr.{callers}.{kind}.p99_ms"] = p99 * 1000
        if kind != "bare":
            ratio_median, ratio_p99 = median / bare_median, p99 / bare_p99
            if kind == "one-read":
                line += f"  /bare: median {ratio_median:.2f}x, p99 {ratio_p99:.2f}x (the floor: no goal)"
            else:
                worst = max(worst, ratio_median, ratio_p99)
                line += f"  /bare: median {ratio_median:.2f}x, p99 {ratio_p99:.2f}x (goal: at most {GOAL:g}x)"
            figures[f"ivr.{callers}.{kind}.ratio_median"] = ratio_median
            figures[f"ivr.{callers}.{kind}.ratio_p99"] = ratio_p99
        print(line)
    return worst


if __name__ == "__main__":
    main()
