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
- IVR callers: `--ivr` calls into the shop's number (`POST /sandbox/calls`); 35% hang up in the menu (at
  the greeting, or after pressing 1 for order tracking); 65% ask for a person, by pressing 0 or (one in
  five) by saying so. They are put through at once when an agent of the queue is free; when everyone is
  busy the menu says their place and the wait and offers a callback that keeps their place (1 or "call
  me back"), another number (2) or holding (3 or "hold"), and they answer as scripted: 40% a callback by
  key, 15% by speech, 45% hold (a quarter of them by speech). A holder hears music and their place until
  an agent takes them out of the line, or hangs up once their patience runs out (log-normal, median 3
  simulated minutes, 30 s to 20 minutes, from joining the line). The phone scripts have no "hang up
  after N seconds on hold" (their `hangup_after` counts from the answer and would cut the conversation
  with the agent too), so a watcher thread plays that caller's hand through the sandbox's hang-up
  button (`POST /sandbox/calls/{sid}/hangup`) when the timeline still shows them in the line.
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
- how the IVR callers ended, from the app's IVR sessions and requests: put through to a person at
  once, put through after holding, as a callback (asked by key or by speech), hung up in the menu, hung
  up on hold; and how many heard the busy offer (the sandbox's timelines);
- the invariants, each checked at the end: no request lost (every 201 has its row, every IVR callback
  its request, every caller who asked for a callback at the offer -- by the sandbox's timeline -- ended
  as one, and each request is finished), none dialled twice for one attempt (the sandbox's calls.create per
  customer equal the attempts with a call, and one completion per request at most), no agent on two
  calls (each agent phone's legs, from the sandbox's timelines, never overlap), CPS never exceeded (no
  one-second window of calls.create holds more than TWILIO_CPS).
It exits 1 if an invariant fails. A seed (`--seed`) makes the day's arrivals and behaviours repeatable.

Run: scripts/with-postgres.sh .venv/bin/python bench/peak_day.py [--speed 120] [--web 1000] [--ivr 250]
"""

from __future__ import annotations

import argparse
import heapq
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
    fresh_database,
    head_commit,
    held_port,
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


# What IVR callers say when they speak instead of keying: phrasings of the default tree's intents, some
# in the callers' own words ("I want to talk to a person"), each recognised by the menu.
ASK_FOR_PERSON = ("representative", "talk to a person", "I want to talk to a person", "customer service", "operator")
ASK_FOR_CALLBACK = ("call me back", "please call me back", "have someone call me", "ring me back")
ASK_TO_HOLD = ("I'll hold", "hold", "I'll wait")


def hold_patience(rng: random.Random) -> float:
    """How long a holder stays in the line before hanging up, in telephone seconds: log-normal, median 3
    minutes, clipped to 30 s..20 minutes."""
    return min(1200.0, max(30.0, rng.lognormvariate(math.log(180), 0.8)))


@dataclass
class Caller:
    """One IVR caller's script: what they press or say each time the menu listens, and their patience."""

    steps: list[dict[str, Any]]
    asks_by: str = ""  # how they ask for a person: "key" or "speech" ("": they hang up in the menu)
    offer: str = ""  # their answer when everyone is busy: "callback" or "hold"
    offer_by: str = ""  # "key" or "speech"
    patience: float | None = None  # holders: telephone seconds in the line before they hang up


def ivr_caller(roll: float, rng: random.Random) -> Caller:
    """The script of a caller whose `roll` (0..1) chose what they came for; `rng` draws the rest.

    The menu listens first at the main menu (0 or words for a person), then, only when nobody is free, at
    the busy offer (1 or "call me back" for a callback, 3 or "hold" to hold); a caller put through at once
    never hears the offer, and their second step is left unused."""
    if roll >= 0.65:
        # Hang up at the greeting, or after choosing order tracking (before keying a number).
        return Caller([{"hangup": True}] if roll < 0.82 else [{"digits": "1"}, {"hangup": True}])
    asks_by = "speech" if rng.random() < 0.2 else "key"
    ask = {"speech": rng.choice(ASK_FOR_PERSON)} if asks_by == "speech" else {"digits": "0"}
    choice = rng.random()
    if choice < 0.40:
        return Caller([ask, {"digits": "1"}], asks_by, "callback", "key")
    if choice < 0.55:
        return Caller([ask, {"speech": rng.choice(ASK_FOR_CALLBACK)}], asks_by, "callback", "speech")
    by_speech = rng.random() < 0.25
    answer = {"speech": rng.choice(ASK_TO_HOLD)} if by_speech else {"digits": "3"}
    return Caller([ask, answer], asks_by, "hold", "speech" if by_speech else "key", hold_patience(rng))


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
    ivr_calls: dict[str, Caller] = field(default_factory=dict)  # by the inbound call's SID
    gave_up: int = 0  # holders the bench hung up when their patience ran out
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
        with held_port() as port:  # the sandbox binds its own port meanwhile, never the app's
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


# A call's statuses once it is over (the sandbox's, as Twilio's).
CALL_ENDED = ("completed", "busy", "failed", "no-answer", "canceled")


class Patience(threading.Thread):
    """Hangs up each holder still in the line when their patience runs out.

    The sandbox's phone scripts cannot say "hang up after N seconds on hold": their `hangup_after` counts
    from the answer and goes on through the talk with the agent. So this thread is the holder's hand: it
    reads the call's timeline (the moment it joined the line, whether it left it) and presses the hang-up
    button of the sandbox (`POST /sandbox/calls/{sid}/hangup`) at the join plus the patience."""

    def __init__(self, sandbox: str, speed: float, day: Day) -> None:
        super().__init__(daemon=True)
        self.sandbox, self.speed, self.day = sandbox, speed, day
        self.cond = threading.Condition()
        self.due: list[tuple[float, str, float]] = []  # (when to look, call SID, patience in telephone s)
        self.closing = False

    def watch(self, sid: str, patience: float) -> None:
        with self.cond:
            heapq.heappush(self.due, (time.time() + 0.2, sid, patience))
            self.cond.notify()

    def close(self) -> None:
        """No more calls to watch: the thread ends once the last holder has left the line."""
        with self.cond:
            self.closing = True
            self.cond.notify()

    def run(self) -> None:
        with requests.Session() as http:
            while True:
                with self.cond:
                    while not self.due or self.due[0][0] > time.time():
                        if not self.due and self.closing:
                            return
                        self.cond.wait(self.due[0][0] - time.time() if self.due else None)
                    _, sid, patience = heapq.heappop(self.due)
                try:
                    again = self.look(http, sid, patience)
                except (requests.RequestException, ValueError, KeyError):
                    again = time.time() + 0.2  # a loaded sandbox: look again shortly
                if again is not None:
                    with self.cond:
                        heapq.heappush(self.due, (again, sid, patience))

    def look(self, http: requests.Session, sid: str, patience: float) -> float | None:
        """When to look at the call again; None once it is put through, over, or hung up here."""
        call = http.get(f"{self.sandbox}/sandbox/calls/{sid}", timeout=30).json()
        if call["status"] in CALL_ENDED:
            return None
        moves = [e for e in call["timeline"] if e["type"] in ("enqueue", "dial")]
        if not moves:
            return time.time() + 0.2  # still in the menu
        last = moves[-1]
        if last["type"] != "enqueue" or last.get("action") != "join":
            return None  # put through to an agent, at once or out of the line
        deadline = datetime.fromisoformat(last["at"]).timestamp() + patience / self.speed
        if time.time() < deadline:
            return deadline
        http.post(f"{self.sandbox}/sandbox/calls/{sid}/hangup", timeout=30)
        with self.day.lock:
            self.day.gave_up += 1
        return None


def run_day(fleet: Fleet, rng: random.Random) -> tuple[Day, float, list[str], Patience]:
    """Set up phones and agents, then play the day; returns what the clients saw, the day's start
    (time.time()), the agents' phones and the holders' watcher (still watching those in the line)."""
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

    # The day's plan: (second of the day, kind, phone, the IVR caller's script).
    plan: list[tuple[float, str, str, Caller | None]] = []
    for n, x in enumerate(arrivals(args.web, rng)):
        phone = f"+1202555{n:04d}"
        put_phone(http, sandbox, phone, customer())
        plan.append((x * day_seconds, "web", phone, None))
    # What callers answer once they asked for a person comes from a generator of its own, so the day's
    # generator draws what it drew before these answers existed: a seed's arrivals, customers and what
    # each caller came for are unchanged.
    choices = random.Random(f"{args.seed}/ivr")
    for n, x in enumerate(arrivals(args.ivr, rng)):
        phone = f"+1203555{n:04d}"
        put_phone(http, sandbox, phone, customer())
        plan.append((x * day_seconds, "ivr", phone, ivr_caller(rng.random(), choices)))
    plan.sort(key=lambda item: item[0])

    for agent_id in agent_ids[: args.agents]:
        if not set_status(http, app_url, agent_id, "available"):
            raise SystemExit(f"agent {agent_id} could not be made available")

    day = Day()
    patience = Patience(sandbox, args.speed, day)
    todo: queue.SimpleQueue[tuple[float, str, str, Caller | None] | None] = queue.SimpleQueue()
    for item in plan:
        todo.put(item)
    for _ in range(CLIENTS):
        todo.put(None)
    start = time.time() + 1.0

    def client() -> None:
        with requests.Session() as mine:
            while (item := todo.get()) is not None:
                due, kind, phone, caller = item
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
                        assert caller is not None
                        body = {"from": phone, "to": SHOP, "steps": caller.steps}
                        response = mine.post(f"{sandbox}/sandbox/calls", json=body, timeout=60)
                        with day.lock:
                            if response.ok:
                                day.ivr_started += 1
                                day.ivr_calls[response.json()["sid"]] = caller
                            else:
                                day.errors.append(f"POST /sandbox/calls: {response.status_code} {response.text[:120]}")
                        if response.ok and caller.patience is not None:
                            patience.watch(response.json()["sid"], caller.patience)
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
    patience.start()
    for thread in threads:
        thread.start()
    for thread in threads[:-1]:
        thread.join(day_seconds + 180)
    stop.set()
    patience.close()
    return day, start, agent_phones, patience


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
            day, start, agent_phones, patience = run_day(fleet, rng)
            played = time.monotonic() - began
            waited = drain(fleet, args.drain)
            patience.join(30)  # the last holders have left the line by now
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
                    CallbackRequest.outcome,
                )
            )
        )
        ivr_callbacks = session.scalar(
            select(func.count()).select_from(IvrSession).where(IvrSession.outcome == "callback")
        )
        ivr_with_request = session.scalar(
            select(func.count())
            .select_from(IvrSession)
            .join(CallbackRequest, CallbackRequest.id == IvrSession.request_id)
            .where(IvrSession.outcome == "callback")
        )
        sessions = {
            row.call_sid: row
            for row in session.execute(
                select(
                    IvrSession.call_sid,
                    IvrSession.outcome,
                    IvrSession.request_id,
                    CallbackRequest.outcome.label("request_outcome"),
                ).outerjoin(CallbackRequest, CallbackRequest.id == IvrSession.request_id)
            )
        }
        stuck = [
            f"{r.ref} {r.status} attempts {r.attempts} not_before {r.not_before}"
            for r in session.scalars(select(CallbackRequest).where(CallbackRequest.status.not_in(FINAL)))
        ]
        now = datetime.now(UTC)
        period = report_figures.Instants(since, now + timedelta(seconds=1))
        figures = report_figures.report(session, period, None, now).total
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
    # How the IVR callers ended, by the app's sessions and requests; whether they heard the busy offer
    # and answered it, by the sandbox's timelines (the client's side of the call).
    put_through = {a.call_sid for a in attempts if a.bridged_at is not None}
    endings: Counter[str] = Counter()
    callback_by: Counter[str] = Counter()
    offered, asked, lost_asks = 0, 0, []
    heard = offer_heard(fleet.sandbox.base_url, list(day.ivr_calls))
    for sid, caller in day.ivr_calls.items():
        row = sessions.get(sid)
        ending = ivr_ending(row.outcome if row else None, row.request_outcome if row else None, sid in put_through)
        endings[ending] += 1
        if ending == "as a callback":
            # Asked by key or by speech; else no answer the menu could use, after which it calls them back.
            callback_by[f"by {caller.offer_by}" if caller.offer == "callback" else "no answer"] += 1
        offered += heard[sid] is not None
        if heard[sid] and caller.offer == "callback":
            asked += 1
            if row is None or row.outcome != "callback" or row.request_id is None:
                lost_asks.append(sid)
    ways = [ending for ending in ENDINGS if endings[ending]] + sorted(set(endings) - set(ENDINGS))
    line(
        "IVR callers, how they ended",
        "; ".join(
            f"{ending} {endings[ending]}"
            + (
                " (" + ", ".join(f"{k} {v}" for k, v in sorted(callback_by.items())) + ")"
                if ending == "as a callback" and callback_by
                else ""
            )
            for ending in ways
        ),
        "ivr.endings",
        dict(endings),
    )
    persons = [c for c in day.ivr_calls.values() if c.asks_by]
    line(
        "IVR callers who asked for a person",
        f"{len(persons)} ({sum(c.asks_by == 'speech' for c in persons)} by speech); {offered} heard everyone "
        f"busy and the callback offer, {asked} of them asked for a callback; the bench hung up "
        f"{day.gave_up} holders whose patience ran out",
        "ivr.offered",
        offered,
    )
    line("requests by status", ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))
    # A failed request is a customer who never answered, not a lost one: say which.
    outcomes = Counter(f"{r.source} {r.status}: {r.outcome}" for r in requests_rows if r.status != "completed")
    line("why the others ended", ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())) or "none")
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
            not missing and ivr_callbacks == ivr_with_request and not lost_asks and unfinished == 0,
            f"{len(accepted)} accepted, {len(missing)} missing; {ivr_callbacks} IVR callbacks from the phone "
            f"menu, {ivr_with_request} with a request; {asked} callers asked for one at the busy offer, "
            f"{len(lost_asks)} of them without one; {unfinished} not finished at the end",
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


# The ways an IVR call ends, in the order they are printed.
ENDINGS = ("to a person at once", "after holding", "as a callback", "hung up in the menu", "hung up on hold")


def ivr_ending(outcome: str | None, request_outcome: str | None, put_through: bool) -> str:
    """How an IVR call ended, from its session's outcome, its request's outcome and whether the call
    itself was bridged to an agent (a holder taken out of the line is; a callback's call is another)."""
    if outcome == "transferred":
        return "to a person at once"
    if outcome == "callback":
        return "as a callback"
    if outcome == "hold":
        if put_through:
            return "after holding"
        if request_outcome == "hung_up_on_hold":
            return "hung up on hold"
        return f"held, then {request_outcome or 'nothing'}"  # e.g. the line failed: kept as a callback
    if outcome in (None, "abandoned", "contained"):
        return "hung up in the menu"
    return str(outcome)


def offer_heard(sandbox: str, sids: list[str]) -> dict[str, bool | None]:
    """For each call: None if it never heard the busy offer, else whether the caller answered it
    (keys or words after the offer's <Gather> began), from the sandbox's timelines."""
    heard: dict[str, bool | None] = {}
    with requests.Session() as http:
        for sid in sids:
            timeline = http.get(f"{sandbox}/sandbox/calls/{sid}", timeout=30).json()["timeline"]
            offers = [
                n for n, e in enumerate(timeline) if e["type"] == "gather" and "mode=callback" in e.get("action", "")
            ]
            heard[sid] = None if not offers else any(e["type"] == "input" for e in timeline[offers[0] :])
    return heard


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
