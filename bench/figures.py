"""Figures benchmark: how long the supervisors' figures take on a busy week (README quotes it).

Fills a fresh database with a week of a busy line (6 queues, one in another time zone, 40 agents; by
default 5,500 requests a day with their call attempts, agent legs and the agents' status history, and
phone-menu sessions), then times `reports.figures.report` for yesterday and for the last 7 days, every
queue and all together, as the page computes them. With --before REV it also loads reports/figures.py
as it was at git revision REV (the ORM reader it replaced), times that once per period and checks that
both give the very same figures (as JSON, to the last digit).

Each on SQLite (a file) or PostgreSQL (--database postgresql: a fresh database on the server of
TEST_DATABASE_URL, see bench/common.py).

Run: .venv/bin/python bench/figures.py [--database sqlite|postgresql] [--per-day 5500] [--before REV]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from pathlib import Path
from types import ModuleType
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents.models import Agent, AgentStatusChange, Queue, agent_queues  # noqa: E402
from agents.service import ensure_default_queues  # noqa: E402
from bench.common import ROOT, fresh_database, on_term, write_json  # noqa: E402
from callback.models import DUPLICATE_ASK, AgentLeg, CallAttempt, CallbackRequest  # noqa: E402
from core.db import make_engine  # noqa: E402
from ivr.models import HUNG_UP, IvrSession  # noqa: E402
from reports import figures  # noqa: E402

SHOP = "+15005550006"
AGENTS = 40
# "now": Tuesday 24 November 2026, 17:00 in New York, so today is under way (requests still open, calls
# on the line) and the last 7 days are six whole days and this one.
NOW = datetime(2026, 11, 24, 22, 0, tzinfo=UTC)
# A queue in another zone: its days (and so its columns) start three hours after the others'.
OTHER_ZONE = ("devices", "America/Los_Angeles")
# How requests end: (share, status, outcome). The rest are completed.
ENDINGS = (
    (0.07, "failed", "no-answer"),
    (0.045, "canceled", "canceled_by_customer"),
    (0.01, "canceled", "declined"),
    (0.01, "canceled", "hung_up_on_hold"),
    (0.005, "canceled", "do_not_call"),
    (0.01, "canceled", None),  # a supervisor's cancel
    (0.03, "expired", "expired"),
    (0.02, "canceled", DUPLICATE_ASK),
)
IVR_OUTCOMES = (("contained", 0.4), ("transferred", 0.1), ("callback", 0.2), ("hold", 0.1), ("abandoned", 0.2))


class Week:
    """A week of a busy line, made row by row in memory and written in bulk (a service per request would
    take longer than the benchmark)."""

    def __init__(self, session: Session, per_day: int, seed: int = 7) -> None:
        self.rng = random.Random(seed)
        self.session = session
        self.per_day = per_day
        self.requests: list[dict[str, Any]] = []
        self.attempts: list[dict[str, Any]] = []
        self.legs: list[dict[str, Any]] = []
        self.statuses: list[dict[str, Any]] = []
        self.sessions: list[dict[str, Any]] = []
        ensure_default_queues(session, SHOP)
        session.execute(update(Queue).where(Queue.name == OTHER_ZONE[0]).values(timezone=OTHER_ZONE[1]))
        session.commit()
        self.queues = list(session.scalars(select(Queue).order_by(Queue.id)))
        start = NOW - timedelta(days=8)
        agent_ids = []
        for n in range(AGENTS):
            agent = Agent(
                name=f"Agent {n}", phone=f"+1201555{n:04d}", status="available", status_since=start, created_at=start
            )
            agent.queues = self.rng.sample(self.queues, 2)
            session.add(agent)
            session.flush()
            agent_ids.append(agent.id)
        session.commit()
        self.members = {
            queue_id: [a for a, q in session.execute(select(agent_queues)) if q == queue_id]
            for queue_id in (q.id for q in self.queues)
        }
        self.free_at = dict.fromkeys(agent_ids, start)
        self.next_attempt_id = 1
        self.next_leg_id = 1

    def fill(self) -> dict[str, int]:
        """Write the week; the counts of what was written."""
        today = NOW.astimezone(ZoneInfo("America/New_York")).date()
        for back in range(7, -1, -1):  # a day more than the week, so the week starts with calls under way
            self._day(today - timedelta(days=back))
        self.statuses.sort(key=lambda row: row["at"])
        for model, rows in (
            (CallbackRequest, self.requests),
            (CallAttempt, self.attempts),
            (AgentLeg, self.legs),
            (AgentStatusChange, self.statuses),
            (IvrSession, self.sessions),
        ):
            for begin in range(0, len(rows), 5_000):
                self.session.execute(insert(model), rows[begin : begin + 5_000])
        self.session.commit()
        return {
            "requests": len(self.requests),
            "attempts": len(self.attempts),
            "legs": len(self.legs),
            "statuses": len(self.statuses),
            "ivr": len(self.sessions),
        }

    def _day(self, day: date) -> None:
        rng = self.rng
        made = []
        for _ in range(self.per_day):
            queue = self.queues[min(int(rng.expovariate(0.6)), len(self.queues) - 1)]
            # Most requests in the shop's open hours, a peak mid-morning, a few at night.
            hour = min(23.99, max(0.0, rng.gauss(12.5, 3.5)))
            local = datetime.combine(day, day_time(0), queue.business_hours.zone) + timedelta(hours=hour)
            created = local.astimezone(UTC)
            if created < NOW:
                made.append((created, queue))
        made.sort(key=lambda item: item[0])
        for created, queue in made:
            self._request(created, queue)
        for _ in range(self.per_day // 3):
            local = datetime.combine(day, day_time(0), self.queues[0].business_hours.zone)
            started = (local + timedelta(hours=min(23.9, max(0.0, rng.gauss(12.5, 3.5))))).astimezone(UTC)
            if started < NOW:
                self._ivr(started)

    def _request(self, created: datetime, queue: Queue) -> None:
        rng = self.rng
        request_id = len(self.requests) + 1
        not_before = created + timedelta(hours=rng.randint(1, 4)) if rng.random() < 0.05 else None
        due = not_before or created
        row: dict[str, Any] = {
            "id": request_id,
            "ref": f"bench{request_id:011d}",
            "phone": f"+1301{request_id:07d}",
            "name": "Bench Customer",
            "queue_id": queue.id,
            "source": rng.choice(("web", "web", "api", "ivr")),
            "status": "completed",
            "outcome": "completed",
            "created_at": created,
            "updated_at": created,
            "not_before": not_before,
            "expires_at": created + timedelta(hours=24),
            "quoted_wait_seconds": rng.randint(60, 1800) if rng.random() < 0.8 else None,
            "attempts": 0,
            "priority": 0,
            "language": "en",
        }
        self.requests.append(row)
        draw = rng.random()
        ending: tuple[str, str | None] = ("completed", "completed")
        for share, status, outcome in ENDINGS:
            if draw < share:
                ending = (status, outcome)
                break
            draw -= share
        row["status"], row["outcome"] = ending
        if ending[1] == DUPLICATE_ASK:
            return
        if ending[0] in ("canceled", "expired"):
            row["updated_at"] = due + timedelta(seconds=rng.randint(30, 3 * 3600))
            return
        tries = rng.choice((1, 2, 3)) if ending[0] == "failed" else rng.choice((0, 0, 0, 1, 2))
        at = due
        for _ in range(tries):  # calls nobody answered
            at = self._call(request_id, queue, at, answered=False) + timedelta(minutes=10)
        if ending[0] == "completed":
            self._call(request_id, queue, at, answered=True)
        self._as_of_now(request_id, row)

    def _as_of_now(self, request_id: int, row: dict[str, Any]) -> None:
        """What became of the request by now: calls still to come are dropped (it waits in line), a call
        under way is ringing or talking (put through, its bridge not confirmed yet)."""
        mine = [a for a in self.attempts[-4:] if a["request_id"] == request_id]
        future = [a for a in mine if a["created_at"] >= NOW]
        if future:
            gone = {a["id"] for a in future}
            del self.attempts[len(self.attempts) - len(future) :]
            while self.legs and self.legs[-1]["attempt_id"] in gone:
                self.legs.pop()
            mine = mine[: len(mine) - len(future)]
        row["attempts"] = len(mine)
        last = mine[-1] if mine else None
        if last is not None and last["ended_at"] > NOW:
            leg = self.legs[-1] if self.legs and self.legs[-1]["attempt_id"] == last["id"] else None
            if leg is not None and leg["accepted_at"] <= NOW:
                row["status"] = "connected"
                leg.update(bridged_at=None, ended_at=None, outcome=None)
            else:
                row["status"] = "dialing"
                if leg is not None:
                    self.legs.pop()
            row["outcome"] = None
            last.update(bridged_at=None, ended_at=None, talk_seconds=None, outcome=None, call_status="in-progress")
            row["updated_at"] = last["created_at"]
        elif future:
            row["status"], row["outcome"] = ("retry_wait" if mine else "queued"), None
            row["updated_at"] = last["ended_at"] if last is not None else row["created_at"]
        elif last is not None:
            row["updated_at"] = last["ended_at"]

    def _call(self, request_id: int, queue: Queue, due: datetime, answered: bool) -> datetime:
        """One call of a request, by the member agent free first; when it ended."""
        rng = self.rng
        agent = min(self.members[queue.id], key=lambda a: self.free_at[a])
        start = max(due, self.free_at[agent]) + timedelta(seconds=rng.randint(1, 20))
        attempt_id = self.next_attempt_id
        self.next_attempt_id += 1
        # One call in twenty names no agent on the attempt: the agent is the one whose leg was accepted.
        named = agent if rng.random() >= 0.05 else None
        attempt: dict[str, Any] = {
            "id": attempt_id,
            "request_id": request_id,
            "agent_id": named,
            "call_sid": f"CA{attempt_id:032d}",
            "created_at": start,
            "placed_at": start,
            "dialled_at": start,
            "agent_first": False,
            "last_sequence": -1,
        }
        self.attempts.append(attempt)
        self._status(agent, "reserved", start)
        if not answered:
            end = start + timedelta(seconds=rng.randint(20, 45))
            attempt.update(ended_at=end, outcome="no-answer", call_status="no-answer")
            self._status(agent, "available", end)
            self.free_at[agent] = end
            return end
        bridged = start + timedelta(seconds=rng.randint(25, 50))
        talk = rng.randint(60, 600)
        end = bridged + timedelta(seconds=talk)
        attempt.update(
            answered_at=start + timedelta(seconds=20),
            bridged_at=bridged,
            ended_at=end,
            talk_seconds=talk if rng.random() < 0.9 else None,
            outcome="completed",
            call_status="completed",
            accepted_at=bridged,
        )
        self.legs.append(
            {
                "id": self.next_leg_id,
                "attempt_id": attempt_id,
                "agent_id": agent,
                "call_sid": f"CL{self.next_leg_id:032d}",
                "rung_at": bridged - timedelta(seconds=8),
                "answered_at": bridged - timedelta(seconds=4),
                "accepted_at": bridged,
                "bridged_at": bridged,
                "ended_at": end,
                "outcome": "accepted",
            }
        )
        self.next_leg_id += 1
        self._status(agent, "on_call", bridged)
        self._status(agent, "wrap_up", end)
        free = end + timedelta(seconds=rng.randint(5, 90))
        self._status(agent, "available", free)
        self.free_at[agent] = free
        return end

    def _status(self, agent: int, status: str, at: datetime) -> None:
        if at < NOW:
            self.statuses.append({"agent_id": agent, "status": status, "at": at})

    def _ivr(self, started: datetime) -> None:
        rng = self.rng
        outcome = rng.choices([o for o, _ in IVR_OUTCOMES], [w for _, w in IVR_OUTCOMES])[0]
        steps = [{"at": started.isoformat(timespec="seconds"), "node": "root", "kind": "menu"}]
        if outcome == "hold" and rng.random() < 0.3:
            steps.append({"at": started.isoformat(timespec="seconds"), "kind": HUNG_UP})
        n = len(self.sessions) + 1
        self.sessions.append(
            {
                "call_sid": f"CI{n:032d}",
                "caller": "+13015550000",
                "called": SHOP,
                "started_at": started,
                "updated_at": started + timedelta(seconds=90),
                "ended_at": started + timedelta(seconds=90),
                "node": "root",
                "state": "{}",
                "steps": json.dumps(steps),
                "topic": None if outcome in ("contained", "abandoned") else rng.choice(self.queues).name,
                "outcome": outcome,
                "language": "en",
            }
        )


def module_at(revision: str) -> ModuleType:
    """reports/figures.py as it was at a git revision, imported under another name."""
    source = subprocess.run(
        ["git", "show", f"{revision}:reports/figures.py"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    folder = Path(tempfile.mkdtemp(prefix="callme-figures-before-"))
    path = folder / "figures_before.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("figures_before", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["figures_before"] = module  # dataclasses look their module up while being made
    spec.loader.exec_module(module)
    return module


def timed(compute: Callable[[], Any], rounds: int) -> tuple[float, Any]:
    """The median seconds of `rounds` runs, and the last run's result."""
    seconds, result = [], None
    for _ in range(rounds):
        began = time.perf_counter()
        result = compute()
        seconds.append(time.perf_counter() - began)
    return statistics.median(seconds), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--json", help="write the figures to this file (bench/all.py reads it)")
    parser.add_argument("--per-day", type=int, default=5_500, help="requests made a day")
    parser.add_argument("--rounds", type=int, default=3, help="runs of the new reader per period (median)")
    parser.add_argument("--before", default="", help="a git revision whose reports/figures.py to time and compare")
    args = parser.parse_args()
    logging.disable(logging.INFO)
    on_term()
    results: dict[str, float] = {}
    print(f"figures benchmark on {args.database}", flush=True)
    before = module_at(args.before) if args.before else None
    with tempfile.TemporaryDirectory() as tmp, fresh_database(args.database, Path(tmp)) as url:
        engine = make_engine(url)
        try:
            began = time.perf_counter()
            with Session(engine) as session:
                counts = Week(session, args.per_day).fill()
            print(
                f"filled in {time.perf_counter() - began:.0f} s: {counts['requests']:,} requests, "
                f"{counts['attempts']:,} call attempts, {counts['legs']:,} agent legs, "
                f"{counts['statuses']:,} agent status changes, {counts['ivr']:,} phone-menu sessions",
                flush=True,
            )
            for key, period in (("day", figures.Preset("yesterday", NOW)), ("week", figures.Preset("last7", NOW))):
                with Session(engine) as session:
                    try:
                        seconds, new = timed(lambda: figures.report(session, period, None, NOW), args.rounds)  # noqa: B023
                    except figures.TooManyRequests as refused:
                        print(f"{period.name}: refused ({refused})", flush=True)
                        continue
                assert new.total is not None
                results[f"figures.{key}.requests"] = new.total.offered
                results[f"figures.{key}_ms"] = seconds * 1000
                line = (
                    f"{period.name}: {new.total.offered:,} requests, {seconds * 1000:.0f} ms (median of {args.rounds})"
                )
                if before is not None:
                    with Session(engine) as session:
                        old_seconds, old = timed(lambda: before.report(session, period, None, NOW), 1)  # noqa: B023
                    same = old.as_json() == new.as_json()
                    results[f"figures.{key}.before_ms"] = old_seconds * 1000
                    results[f"figures.{key}.speedup"] = old_seconds / seconds
                    line += (
                        f"; before ({args.before}): {old_seconds * 1000:.0f} ms, {old_seconds / seconds:.0f}x faster;"
                        f" same figures: {'yes' if same else 'NO'}"
                    )
                    if not same:
                        print(line, flush=True)
                        raise SystemExit(
                            f"the figures differ:\n{json.dumps(old.as_json())}\n{json.dumps(new.as_json())}"
                        )
                print(line, flush=True)
        finally:
            engine.dispose()
    write_json(args.json, results)


if __name__ == "__main__":
    main()
