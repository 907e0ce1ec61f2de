"""Peak-day benchmark: a compressed business day on PostgreSQL, end to end through the sandbox over HTTP.

Set-up (all on loopback): a fresh PostgreSQL database on the server of TEST_DATABASE_URL (run under
scripts/with-postgres.sh); the Twilio sandbox in this process at SANDBOX_SPEED `--speed` (every ring,
prompt and conversation runs that many times faster); the real app under gunicorn, 4 workers x 8
threads, SCHEDULER=off; 2 dispatcher processes (`flask --app app scheduler`); TWILIO_CPS=10;
MIN_SECONDS_BETWEEN_CALLS=10 (real seconds: 20 simulated minutes).

The day: `--day-minutes` simulated minutes (8 hours by default) pass in day-minutes * 60 / speed real
seconds (4 minutes at the default speed 120). Arrivals follow a daily curve (a morning and an afternoon
bump over a floor) with a surge (3x, a tenth of the day, starting at 45%):
- web requests: `POST /api/callbacks` from `--web` customers, open-loop (each sent at its time by a pool
  of client threads, however slow the answers);
- IVR callers: `--ivr` calls into the shop's number (`POST /sandbox/calls`); 65% press 0 for a person
  (an agent now if one is free, else 1 for a callback), 35% hang up in the menu (at the greeting, or
  after pressing 1 for order tracking).
Customers: 83% answer and press 1, 12% never answer (retried with the queue's backoff, then failed),
5% are busy. Agents: `--agents` virtual agents on duty all day, `--surge-agents` more during the surge
(from 50 to 100 by default), created and set available and away through the admin API; they accept the
whisper (press 1) and hang up after a handle time drawn per call from a log-normal distribution (median
4 minutes, 1 to 15 minutes, telephone time; re-drawn every second for a few agents through
`PUT /sandbox/phones`). Queues are open 24/7 with no wrap-up, retries after 10 s then 20 s (real), and
a service-level target of `--sl-minutes` simulated minutes (stored in real seconds).

After the day the run drains (no new arrivals) until no request is waiting and no call is open, at
most `--drain` seconds, then prints:
- requests accepted per second at the surge (answers 201 to requests sent in the surge window), their
  median and p99 latency, and the same over the whole day;
- dial latency: from the dispatcher's claim (call_attempts.created_at) to calls.create reaching the
  sandbox (the call's date_created there), median and p99 -- it includes the wait for a CPS token;
- share of the CPS used: calls placed per second against TWILIO_CPS in the surge window and in the
  busiest 10 seconds;
- service level and average speed of answer from reports.figures (the one definition the figures
  page and `flask figures` use) over the day's requests; the app's own times are real seconds (only
  the telephone runs faster), so they are shown in real seconds and in simulated minutes (x speed);
- the quoted-wait error (mean absolute error and bias) in telephone time: the quotes are telephone
  seconds (handle times as the provider reports them), the waits are converted (see quote_error);
- the invariants, each checked at the end: no request lost (every 201 has its row, every IVR callback
  its request, and each is finished), none dialled twice for one attempt (the sandbox's calls.create per
  customer equal the attempts with a call, and one completion per request at most), no agent on two
  calls (each agent phone's legs, from the sandbox's timelines, never overlap), CPS never exceeded (no
  one-second window of calls.create holds more than TWILIO_CPS).
It exits 1 if an invariant fails. A seed (`--seed`) makes the day's arrivals and behaviours repeatable.

Run: scripts/with-postgres.sh .venv/bin/python bench/peak_day.py [--speed 120] [--web 1000] [--ivr 250]
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import queue
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import func, select, update

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents.models import Queue  # noqa: E402
from agents.service import ensure_default_queues, update_queue  # noqa: E402
from bench.common import (  # noqa: E402
    Gunicorn,
    Process,
    app_env,
    free_port,
    fresh_database,
    head_commit,
    on_term,
    percentile,
    postgres_url,
    schedulers,
    write_json,
)
from callback.models import FINAL, CallAttempt, CallbackRequest  # noqa: E402
from core.config import Settings  # noqa: E402
from core.db import Database, make_engine  # noqa: E402
from ivr.models import IvrSession  # noqa: E402
from reports import figures as report_figures  # noqa: E402
from telephony.sandbox import SandboxServer  # noqa: E402

SID = "AC" + "e" * 32
TOKEN = "bench-peak-day-token"
SHOP = "+15005550006"
ADMIN = {"Authorization": "Bearer dev-admin-token"}
QUEUES = ("orders", "returns", "payments", "account", "devices", "other")
SURGE = (0.45, 0.55)  # the surge's share of the day
SURGE_FACTOR = 3.0
CLIENTS = 24  # client threads sending the day's web requests and calls


def curve(x: float) -> float:
    """Relative arrival rate at moment x of the day (0..1): a floor, two bumps, a surge."""
    bumps = 0.35 + math.exp(-(((x - 0.25) / 0.12) ** 2)) + 0.8 * math.exp(-(((x - 0.72) / 0.12) ** 2))
    return bumps * (SURGE_FACTOR if SURGE[0] <= x < SURGE[1] else 1.0)


def arrivals(count: int, rng: random.Random) -> list[float]:
    """`count` moments of the day (0..1), drawn from curve() by rejection, sorted."""
    top = max(curve(i / 1000) for i in range(1000))
    moments: list[float] = []
    while len(moments) < count:
        x = rng.random()
        if rng.random() * top <= curve(x):
            moments.append(x)
    return sorted(moments)


def handle_seconds(rng: random.Random) -> float:
    """A handle time in telephone seconds: log-normal, median 4 minutes, clipped to 1..15 minutes."""
    return min(900.0, max(60.0, rng.lognormvariate(math.log(240), 0.5)))


@dataclass
class Sent:
    """One web request as the client saw it."""

    due: float  # seconds from the start of the day at which it was meant to go
    sent: float
    latency: float
    status: int
    ref: str | None


@dataclass
class Day:
    """What the clients did and saw during the day."""

    web: list[Sent] = field(default_factory=list)
    ivr_started: int = 0
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Fleet:
    """Sandbox, gunicorn and dispatcher processes on one fresh PostgreSQL database."""

    def __init__(self, workdir: Path, url: str, args: argparse.Namespace) -> None:
        self.args = args
        database = Database(make_engine(url))
        self.database = database
        with database.sessions() as session:
            ensure_default_queues(session, SHOP)
            for name in QUEUES:
                update_queue(session, name, {"hours": "24/7", "wrap_up_seconds": 0, "backoff_seconds": "10,20"})
            target = max(1, round(args.sl_minutes * 60 / args.speed))
            session.execute(update(Queue).values(service_level_seconds=target))
            session.commit()
        port = free_port()
        self.sandbox = SandboxServer(
            Settings(
                app_env="testing",
                public_base_url=f"http://127.0.0.1:{port}",
                twilio_account_sid=SID,
                twilio_auth_token=TOKEN,
                twilio_caller_id=SHOP,
                sandbox_speed=args.speed,
                sandbox_cps=1000.0,  # measure the app's pacing, not the sandbox's
            )
        ).start()
        settings = {
            "APP_ENV": "testing",
            "DATABASE_URL": url,
            "TWILIO_ACCOUNT_SID": SID,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_CALLER_ID": SHOP,
            "TWILIO_API_BASE": self.sandbox.base_url,
            "TWILIO_CPS": str(args.cps),
            "CALLBACK_LIMIT_PER_IP_PER_HOUR": "10000000",
            "CALLBACK_LIMIT_PER_NUMBER_PER_DAY": "10000000",
            # 120 s between two calls to one number is 4 simulated hours at speed 120: compress it too.
            "MIN_SECONDS_BETWEEN_CALLS": str(args.min_gap),
        }
        self.web = Gunicorn(workdir, "app:create_app()", 4, 8, port=port, **settings)
        self.procs: list[Process] = [self.web]
        self.web.wait_ready()
        env = app_env(PUBLIC_BASE_URL=self.web.url, **settings)
        self.procs += schedulers(workdir, 2, env)

    def stop(self) -> None:
        for proc in self.procs:
            proc.stop()
        self.sandbox.stop()
        self.database.engine.dispose()

    def logs(self) -> str:
        return "\n".join(f"--- {p.log_path.name} (tail) ---\n{p.log_tail(15)}" for p in self.procs)


def put_phone(http: requests.Session, sandbox: str, phone: str, behaviour: dict[str, Any]) -> None:
    response = http.put(f"{sandbox}/sandbox/phones/{phone}", json=behaviour, timeout=10)
    if not response.ok:
        raise SystemExit(f"PUT /sandbox/phones/{phone}: {response.status_code} {response.text[:200]}")


def set_status(http: requests.Session, app_url: str, agent_id: str, status: str, patience: float = 60.0) -> bool:
    """Set an agent's status, retrying while the agent is on a call (an agent goes away between calls)."""
    deadline = time.monotonic() + patience
    while True:
        response = http.post(f"{app_url}/api/agents/{agent_id}/status", json={"status": status}, headers=ADMIN)
        if response.status_code == 200:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)


def run_day(fleet: Fleet, rng: random.Random) -> tuple[Day, float, list[str]]:
    """Set up phones and agents, then play the day; returns what the clients saw, the day's start
    (time.time()) and the agents' phones."""
    args = fleet.args
    sandbox, app_url = fleet.sandbox.base_url, fleet.web.url
    http = requests.Session()
    day_seconds = args.day_minutes * 60 / args.speed

    agent_phones = [f"+1201555{9000 + i:04d}" for i in range(args.agents + args.surge_agents)]
    for phone in agent_phones:
        behaviour = {"answer": "human", "steps": [{"digits": "1"}], "hangup_after": handle_seconds(rng)}
        put_phone(http, sandbox, phone, behaviour)
    agent_ids = []
    for n, phone in enumerate(agent_phones):
        created = http.post(
            f"{app_url}/api/agents",
            json={"name": f"Agent {n}", "phone": phone, "queues": list(QUEUES)},
            headers=ADMIN,
            timeout=10,
        )
        if created.status_code != 201:
            raise SystemExit(f"POST /api/agents: {created.status_code} {created.text[:200]}")
        agent_ids.append(created.json()["id"])

    def customer() -> dict[str, Any]:
        roll = rng.random()
        if roll < 0.12:
            return {"answer": "no-answer"}
        if roll < 0.17:
            return {"answer": "busy"}
        return {"answer": "human", "steps": [{"digits": "1"}]}

    # The day's plan: (second of the day, kind, phone, inbound steps).
    plan: list[tuple[float, str, str, list[dict[str, Any]]]] = []
    for n, x in enumerate(arrivals(args.web, rng)):
        phone = f"+1202555{n:04d}"
        put_phone(http, sandbox, phone, customer())
        plan.append((x * day_seconds, "web", phone, []))
    for n, x in enumerate(arrivals(args.ivr, rng)):
        phone = f"+1203555{n:04d}"
        put_phone(http, sandbox, phone, customer())
        roll = rng.random()
        if roll < 0.65:
            steps: list[dict[str, Any]] = [{"digits": "0"}, {"digits": "1"}]
        elif roll < 0.82:
            steps = [{"hangup": True}]
        else:
            steps = [{"digits": "1"}, {"hangup": True}]
        plan.append((x * day_seconds, "ivr", phone, steps))
    plan.sort(key=lambda item: item[0])

    for agent_id in agent_ids[: args.agents]:
        if not set_status(http, app_url, agent_id, "available"):
            raise SystemExit(f"agent {agent_id} could not be made available")

    day = Day()
    todo: queue.SimpleQueue[tuple[float, str, str, list[dict[str, Any]]] | None] = queue.SimpleQueue()
    for item in plan:
        todo.put(item)
    for _ in range(CLIENTS):
        todo.put(None)
    start = time.time() + 1.0

    def client() -> None:
        with requests.Session() as mine:
            while (item := todo.get()) is not None:
                due, kind, phone, steps = item
                time.sleep(max(0.0, start + due - time.time()))
                sent = time.time() - start
                began = time.perf_counter()
                try:
                    if kind == "web":
                        body = {"phone": phone, "name": "Peak Day", "topic": "orders", "consent": True}
                        response = mine.post(f"{app_url}/api/callbacks", json=body, timeout=60)
                        latency = time.perf_counter() - began
                        ref = response.json().get("id") if response.status_code == 201 else None
                        with day.lock:
                            day.web.append(Sent(due, sent, latency, response.status_code, ref))
                            if response.status_code not in (201, 503):  # 503: refused, the client knows
                                day.errors.append(f"POST /api/callbacks: {response.status_code} {response.text[:120]}")
                    else:
                        body = {"from": phone, "to": SHOP, "steps": steps}
                        response = mine.post(f"{sandbox}/sandbox/calls", json=body, timeout=60)
                        with day.lock:
                            if response.ok:
                                day.ivr_started += 1
                            else:
                                day.errors.append(f"POST /sandbox/calls: {response.status_code} {response.text[:120]}")
                except requests.RequestException as exc:
                    with day.lock:
                        day.errors.append(f"{kind}: {exc.__class__.__name__}: {exc}")
                        if kind == "web":
                            day.web.append(Sent(due, sent, time.perf_counter() - began, 0, None))

    def staffing() -> None:
        """The surge's extra agents come on at its start and go away (between calls) at its end."""
        surge_ids = agent_ids[args.agents :]
        with requests.Session() as mine:
            time.sleep(max(0.0, start + SURGE[0] * day_seconds - time.time()))
            for agent_id in surge_ids:
                set_status(mine, app_url, agent_id, "available")
            time.sleep(max(0.0, start + SURGE[1] * day_seconds - time.time()))
            for agent_id in surge_ids:
                set_status(mine, app_url, agent_id, "away", patience=30)

    stop = threading.Event()

    def handle_times() -> None:
        """Every second a few agents get a new handle time, so calls vary within an agent too."""
        with requests.Session() as mine:
            while not stop.wait(1.0):
                for phone in rng.sample(agent_phones, k=min(8, len(agent_phones))):
                    behaviour = {"answer": "human", "steps": [{"digits": "1"}], "hangup_after": handle_seconds(rng)}
                    mine.put(f"{sandbox}/sandbox/phones/{phone}", json=behaviour, timeout=10)

    threads = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
    threads += [threading.Thread(target=staffing, daemon=True), threading.Thread(target=handle_times, daemon=True)]
    for thread in threads:
        thread.start()
    for thread in threads[:-1]:
        thread.join(day_seconds + 180)
    stop.set()
    return day, start, agent_phones


def drain(fleet: Fleet, limit: float) -> float:
    """Wait until nothing is waiting or on a call (at most `limit` seconds); returns the seconds waited."""
    began = time.monotonic()
    with fleet.database.sessions() as session:
        while time.monotonic() - began < limit:
            unfinished = session.scalar(
                select(func.count()).select_from(CallbackRequest).where(CallbackRequest.status.not_in(FINAL))
            )
            still_open = session.scalar(
                select(func.count()).select_from(CallAttempt).where(CallAttempt.ended_at.is_(None))
            )
            session.rollback()
            if not unfinished and not still_open:
                break
            time.sleep(1)
    return time.monotonic() - began


def quote_error(created: datetime, connected: datetime, quoted_seconds: int, speed: float) -> float:
    """One quote's error (actual wait - quoted wait, as reports.figures.quote_errors), in telephone seconds.

    The quote is telephone time already: the estimator (callback.estimate) works from the handle times
    the provider reports (DialCallDuration) and a connect overhead in telephone seconds. The wait is
    measured on the app's clock, which is real time while the telephone runs `speed` times faster: in
    telephone seconds it is `speed` times longer. (The app's clock stays real: its pacing, reaper and
    heartbeats are machine times, and the reaper compares it with the provider's own timestamps.)
    """
    return (connected - created).total_seconds() * speed - quoted_seconds


def sliding_max(moments: list[float], width: float) -> int:
    """The most moments in any window [t, t + width)."""
    worst, j = 0, 0
    for i, first in enumerate(moments):
        j = max(j, i)
        while j < len(moments) and moments[j] < first + width:
            j += 1
        worst = max(worst, j - i)
    return worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--speed", type=float, default=120.0, help="SANDBOX_SPEED")
    parser.add_argument("--day-minutes", type=float, default=480.0, help="simulated minutes in the day")
    parser.add_argument("--web", type=int, default=1000, help="web requests (POST /api/callbacks) in the day")
    parser.add_argument("--ivr", type=int, default=250, help="IVR callers in the day")
    parser.add_argument("--agents", type=int, default=50, help="agents on duty all day")
    parser.add_argument("--surge-agents", type=int, default=50, help="more agents during the surge")
    parser.add_argument("--cps", type=float, default=10.0, help="TWILIO_CPS")
    parser.add_argument("--sl-minutes", type=float, default=20.0, help="service-level target, simulated minutes")
    parser.add_argument("--drain", type=float, default=150.0, help="seconds at most to finish after the day")
    parser.add_argument(
        "--min-gap", type=int, default=10, help="MIN_SECONDS_BETWEEN_CALLS, real seconds (20 simulated minutes)"
    )
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()
    postgres_url()
    on_term()
    logging.getLogger("werkzeug").disabled = True
    rng = random.Random(args.seed)
    day_seconds = args.day_minutes * 60 / args.speed
    print(
        f"peak day: commit {head_commit()}; {os.cpu_count()} CPUs; PostgreSQL; gunicorn 4 workers x 8 threads, "
        f"2 dispatcher processes, TWILIO_CPS={args.cps:g}, SANDBOX_SPEED={args.speed:g}: "
        f"{args.day_minutes:g} simulated minutes in {day_seconds:.0f} s; {args.web} web requests, "
        f"{args.ivr} IVR callers, {args.agents} agents (+{args.surge_agents} in the surge); seed {args.seed}",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="callme-peak-day-") as tmp, fresh_database("postgresql", Path(tmp)) as url:
        fleet = Fleet(Path(tmp), url, args)
        try:
            since = datetime.now(UTC) - timedelta(seconds=1)
            began = time.monotonic()
            day, start, agent_phones = run_day(fleet, rng)
            played = time.monotonic() - began
            waited = drain(fleet, args.drain)
            print(f"day played in {played:.0f} s, drained in {waited:.0f} s", flush=True)
            ok = report(fleet, args, day, start, since, agent_phones)
        except BaseException:
            print(fleet.logs(), file=sys.stderr)
            raise
        finally:
            fleet.stop()
    if not ok:
        raise SystemExit(1)


def report(
    fleet: Fleet, args: argparse.Namespace, day: Day, start: float, since: datetime, agent_phones: list[str]
) -> bool:
    """Print the figures and check the invariants; True when every invariant holds."""
    day_seconds = args.day_minutes * 60 / args.speed
    surge_from, surge_to = SURGE[0] * day_seconds, SURGE[1] * day_seconds
    out: dict[str, Any] = {}
    lines: list[str] = []

    def line(label: str, value: str, key: str | None = None, raw: Any = None) -> None:
        lines.append(f"  {label:<44} {value}")
        if key is not None:
            out[key] = raw

    def ms(values: list[float]) -> str:
        if not values:
            return "-"
        return f"median {statistics.median(values) * 1000:.0f} ms, p99 {percentile(values, 0.99) * 1000:.0f} ms"

    accepted = [s for s in day.web if s.status == 201]
    at_surge = [s for s in accepted if surge_from <= s.due < surge_to]
    offered_at_surge = [s for s in day.web if surge_from <= s.due < surge_to]
    surge_rate = len(at_surge) / (surge_to - surge_from)
    line(
        "web requests accepted/s at the surge",
        f"{surge_rate:.1f}/s ({len(at_surge)} of {len(offered_at_surge)} sent in {surge_to - surge_from:.0f} s), "
        f"{ms([s.latency for s in at_surge])}",
        "surge.accepted_per_s",
        surge_rate,
    )
    out["surge.p99_ms"] = percentile([s.latency for s in at_surge], 0.99) * 1000 if at_surge else None
    late = [s.sent - s.due for s in day.web]
    line(
        "web requests over the day",
        f"{len(accepted)} of {len(day.web)} accepted ({sum(s.status == 503 for s in day.web)} refused with 503), "
        f"{ms([s.latency for s in accepted])}; "
        f"sent late by the clients: p99 {percentile(late, 0.99) * 1000 if late else 0:.0f} ms",
    )
    line("IVR calls placed into the menu", f"{day.ivr_started} of {args.ivr}")

    listed = requests.get(f"{fleet.sandbox.base_url}/sandbox/calls", timeout=60).json()
    calls = listed["calls"] if isinstance(listed, dict) else listed
    outbound = [c for c in calls if c["direction"] == "outbound-api"]
    created_at = {c["sid"]: datetime.fromisoformat(c["date_created"]).timestamp() for c in outbound}
    moments = sorted(created_at.values())

    with fleet.database.sessions() as session:
        attempts = list(session.scalars(select(CallAttempt)))
        requests_rows = list(
            session.execute(
                select(
                    CallbackRequest.id,
                    CallbackRequest.ref,
                    CallbackRequest.phone,
                    CallbackRequest.status,
                    CallbackRequest.source,
                )
            )
        )
        ivr_callbacks = session.scalar(
            select(func.count()).select_from(IvrSession).where(IvrSession.outcome == "callback")
        )
        ivr_with_request = session.scalar(
            select(func.count())
            .select_from(IvrSession)
            .where(IvrSession.outcome == "callback", IvrSession.request_id.is_not(None))
        )
        stuck = [
            f"{r.ref} {r.status} attempts {r.attempts} not_before {r.not_before}"
            for r in session.scalars(select(CallbackRequest).where(CallbackRequest.status.not_in(FINAL)))
        ]
        now = datetime.now(UTC)
        figures = report_figures.report(session, since, now + timedelta(seconds=1), None, now).total
        quoted = session.execute(
            select(CallbackRequest.created_at, func.min(CallAttempt.bridged_at), CallbackRequest.quoted_wait_seconds)
            .join(CallAttempt, CallAttempt.request_id == CallbackRequest.id)
            .where(CallbackRequest.created_at >= since, CallbackRequest.quoted_wait_seconds.is_not(None))
            .group_by(CallbackRequest.id)
            .having(func.min(CallAttempt.bridged_at).is_not(None))
        ).all()
    # The query keeps only requests with a quote and a bridge (the Nones are the columns' types).
    pairs = [(c, b, q) for c, b, q in quoted if b is not None and q is not None]
    quote_errors = [quote_error(created, bridged, quote, args.speed) for created, bridged, quote in pairs]
    quotes = [float(quote) for _, _, quote in pairs]
    assert figures is not None

    dial = [
        created_at[a.call_sid] - a.created_at.timestamp()
        for a in attempts
        if a.call_sid is not None and a.call_sid in created_at
    ]
    line("dial latency (claim -> calls.create)", f"{ms(dial)} over {len(dial)} calls")
    out["dial.median_ms"] = statistics.median(dial) * 1000 if dial else None
    out["dial.p99_ms"] = percentile(dial, 0.99) * 1000 if dial else None

    in_surge = [t for t in moments if start + surge_from <= t < start + surge_to]
    surge_cps = len(in_surge) / (surge_to - surge_from)
    busiest = sliding_max(moments, 10.0) / 10.0
    line(
        "share of the CPS used",
        f"surge {surge_cps:.2f} calls/s = {surge_cps / args.cps:.0%} of {args.cps:g}; busiest 10 s "
        f"{busiest:.1f}/s = {busiest / args.cps:.0%}; {len(outbound)} calls placed in all",
        "cps.surge_share",
        surge_cps / args.cps,
    )
    out["cps.busiest10_share"] = busiest / args.cps

    def sim_minutes(seconds: float | None) -> str:
        return "-" if seconds is None else f"{seconds / 60:.1f} simulated min"

    def real_and_sim(seconds: float | None) -> str:
        if seconds is None:
            return "-"
        return f"{seconds:.1f} s real = {seconds * args.speed / 60:.1f} simulated min"

    sl = figures.service_level
    line(
        f"service level (reports.figures, T = {args.sl_minutes:g} sim. min)",
        f"{sl:.1%}" if sl is not None else "-",
        "service_level",
        sl,
    )
    line("average speed of answer (reports.figures)", real_and_sim(figures.average_speed_of_answer_seconds))
    mae = statistics.fmean(abs(e) for e in quote_errors) if quote_errors else None
    bias = statistics.fmean(quote_errors) if quote_errors else None
    line(
        "quoted wait error (telephone time)",
        f"MAE {sim_minutes(mae)}, bias {sim_minutes(bias)} over {len(quote_errors)} quotes "
        f"(mean quote {sim_minutes(statistics.fmean(quotes) if quotes else None)})",
        "quote.mae_s",
        mae,
    )
    out["quote.bias_s"] = bias
    statuses = Counter(row.status for row in requests_rows)
    sources = Counter(row.source for row in requests_rows)
    line("requests by status", ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))
    line("requests by source", ", ".join(f"{k} {v}" for k, v in sorted(sources.items())))
    if stuck:
        line("not finished at the end (first 5)", "; ".join(stuck[:5]))
    stored_anyway = sources.get("api", 0) - len(accepted)
    line(
        "POST /api/callbacks refused (503) yet stored",
        f"{stored_anyway} (requests in the database from the API beyond the {len(accepted)} answered 201)",
        "refused_yet_stored",
        stored_anyway,
    )

    # --- invariants ---
    checks: list[tuple[str, bool, str]] = []
    refs = {row.ref for row in requests_rows}
    missing = [s.ref for s in accepted if s.ref not in refs]
    unfinished = sum(v for k, v in statuses.items() if k not in FINAL)
    checks.append(
        (
            "no request lost",
            not missing and ivr_callbacks == ivr_with_request and unfinished == 0,
            f"{len(accepted)} accepted, {len(missing)} missing; {ivr_callbacks} IVR callbacks, "
            f"{ivr_with_request} with a request; {unfinished} not finished at the end",
        )
    )
    phone_of = {row.id: row.phone for row in requests_rows}
    # An IVR caller put through to an agent at once has an attempt on their own inbound call: no dial.
    inbound = {c["sid"] for c in calls if c["direction"] == "inbound"}
    dialled = [a for a in attempts if a.call_sid is not None and a.call_sid not in inbound and not a.agent_first]
    sids = [a.call_sid for a in dialled]
    per_phone_attempts: dict[str, int] = defaultdict(int)
    for a in dialled:
        per_phone_attempts[phone_of[a.request_id]] += 1
    per_phone_calls: dict[str, int] = defaultdict(int)
    customers = set(phone_of.values())
    for c in outbound:
        if c["to"] in customers:
            per_phone_calls[c["to"]] += 1
    completions = Counter(a.request_id for a in attempts if a.outcome == "completed")
    twice = {p for p in set(per_phone_calls) | set(per_phone_attempts) if per_phone_calls[p] != per_phone_attempts[p]}
    checks.append(
        (
            "none dialled twice for one attempt",
            not twice and len(sids) == len(set(sids)) and max(completions.values(), default=0) <= 1,
            f"{sum(per_phone_calls.values())} calls.create to customers for {len(sids)} attempts that dialled; "
            f"{len(twice)} customers whose calls and attempts differ; "
            f"most completions of one request {max(completions.values(), default=0)}",
        )
    )
    overlaps, legs = agent_overlaps(fleet.sandbox.base_url, calls, set(agent_phones))
    checks.append(("no agent on two calls", overlaps == 0, f"{legs} agent legs, {overlaps} overlapping"))
    worst = sliding_max(moments, 1.0)
    checks.append(
        ("CPS never exceeded", worst <= args.cps, f"most calls.create in one second {worst}, limit {args.cps:g}")
    )
    if day.errors:
        checks.append(("every client request answered", False, f"{len(day.errors)} errors, e.g. {day.errors[0]}"))

    print("\nfigures:")
    print("\n".join(lines))
    print("invariants:")
    for name, held, detail in checks:
        print(f"  {'OK  ' if held else 'FAIL'} {name}: {detail}")
        out[f"invariant.{name}"] = held
    write_json(args.json, out)
    return all(held for _, held, _ in checks)


def agent_overlaps(sandbox: str, calls: list[dict[str, Any]], agent_phones: set[str]) -> tuple[int, int]:
    """(overlapping pairs, legs) of the agents' phones, from each leg's first and last status moment."""
    spans: dict[str, list[tuple[float, float]]] = defaultdict(list)
    fetch: Callable[[str], Any] = lambda sid: requests.get(f"{sandbox}/sandbox/calls/{sid}", timeout=30).json()  # noqa: E731
    with requests.Session():
        for call in calls:
            if call["to"] not in agent_phones:
                continue
            timeline = fetch(call["sid"])["timeline"]
            stamps = [datetime.fromisoformat(e["at"]).timestamp() for e in timeline if e["type"] == "status"]
            if stamps:
                spans[call["to"]].append((min(stamps), max(stamps)))
    overlaps = 0
    for legs in spans.values():
        legs.sort()
        overlaps += sum(1 for (_, end), (begin, _) in zip(legs, legs[1:], strict=False) if begin < end)
    return overlaps, sum(len(v) for v in spans.values())


if __name__ == "__main__":
    main()
