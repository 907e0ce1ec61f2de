"""Staffing benchmark: what one `callback.service.staffing` costs on a day-old line and a year-old one.

staffing() is read in callers' webhooks (the phone menu's handover), the status page and every quote:
its cost must not grow with the line's history. One run fills a fresh database (--database
sqlite|postgresql, see bench/common.py) with `--small` finished calls, one request each, over five
queues, and times staffing() per queue; then adds calls up to `--big` and times it again. The queues:

- orders: the busy one (about 60% of the calls);
- returns: a middling one (about 20%);
- espanol: a rarely used one (one call in 200; a Spanish line, say);
- devices: a dormant one, whose only calls are the first 100 of the history (a seasonal line).

Three in five calls were talked (talk_seconds set); the others went unanswered. Each figure is the median
of up to `--repeats` calls, and of no more than `--seconds` of them per queue, so the run stops by itself.
For reference it also times the query staffing() made before 0021 (the attempts joined to their
requests, ORDER BY the attempt's id DESC LIMIT 50), which read backwards through every other queue's calls.

Run: .venv/bin/python bench/staffing.py [--database sqlite|postgresql] [--small 2000] [--big 200000]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select, text
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents.models import Agent, Queue  # noqa: E402
from agents.service import ensure_default_queues, update_queue  # noqa: E402
from bench.common import fresh_database, on_term, write_json  # noqa: E402
from callback.models import CallAttempt, CallbackRequest  # noqa: E402
from callback.service import HANDLE_TIME_SAMPLE, staffing  # noqa: E402
from core.db import Database, make_engine  # noqa: E402

SHOP = "+15005550006"
QUEUES = ("orders", "returns", "espanol", "devices")
DORMANT_CALLS = 100


def queue_of_call(ids: dict[str, int]) -> str:
    """The SQL that gives call number `i` its queue (see the module's docstring)."""
    return (
        f"CASE WHEN i <= {DORMANT_CALLS} THEN {ids['devices']}"
        f" WHEN i % 200 = 0 THEN {ids['espanol']}"
        f" WHEN i % 10 < 6 THEN {ids['orders']}"
        f" WHEN i % 10 < 8 THEN {ids['returns']}"
        f" ELSE {ids['payments']} END"
    )


def fill(database: Database, first: int, last: int) -> None:
    """Calls number `first` to `last` (and a finished request for each) in two INSERT ... SELECT: a
    recursive counter on SQLite, generate_series on PostgreSQL."""
    postgres = database.engine.dialect.name == "postgresql"
    numbers = (
        "SELECT i FROM generate_series(CAST(:first AS integer), CAST(:last AS integer)) AS n(i)"
        if postgres
        else "WITH RECURSIVE n(i) AS (SELECT :first UNION ALL SELECT i + 1 FROM n WHERE i < :last) SELECT i FROM n"
    )
    # A year of calls, oldest first; the time plays no part in the query, only in being realistic.
    now = datetime.now(UTC)
    made = "CAST(:made AS timestamptz)" if postgres else ":made"
    params: dict[str, object] = {"first": first, "last": last}
    stamp = now - timedelta(days=365)
    params["made"] = stamp if postgres else stamp.strftime("%Y-%m-%d %H:%M:%S.%f")
    with database.begin() as session:
        ids = {name: id_ for id_, name in session.execute(text("SELECT id, name FROM queues"))}
        queue = queue_of_call(ids)
        session.execute(
            text(
                f"""
                INSERT INTO callback_requests
                    (id, ref, phone, name, queue_id, source, status, priority, attempts, created_at, updated_at,
                     expires_at, outcome)
                SELECT i, 'r' || i, '+1' || (3000000000 + i), 'Bench', {queue}, 'api', 'completed', 0, 1,
                       {made}, {made}, {made}, 'completed'
                FROM ({numbers}) AS counter
                """
            ),
            params,
        )
        session.execute(
            text(
                f"""
                INSERT INTO call_attempts (id, request_id, queue_id, created_at, dialled_at, ended_at, talk_seconds)
                SELECT i, i, {queue}, {made}, {made}, {made},
                       CASE WHEN i % 5 < 3 THEN 60 + (i * 37) % 600 ELSE NULL END
                FROM ({numbers}) AS counter
                """
            ),
            params,
        )
    # As autovacuum leaves a table that has grown: statistics, and on PostgreSQL the visibility map that
    # lets an index-only scan skip the table.
    with database.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE" if postgres else "ANALYZE"))


def former_query(session: Session, queue: Queue) -> list[int | None]:
    """The recent talk times as staffing() read them before 0021: through the requests' queue."""
    return list(
        session.scalars(
            select(CallAttempt.talk_seconds)
            .join(CallbackRequest, CallAttempt.request_id == CallbackRequest.id)
            .where(CallbackRequest.queue_id == queue.id, CallAttempt.talk_seconds.is_not(None))
            .order_by(CallAttempt.id.desc())
            .limit(HANDLE_TIME_SAMPLE)
        )
    )


def median_ms(
    database: Database, name: str, work: Callable[[Session, Queue], object], repeats: int, budget: float
) -> float:
    """Median milliseconds of `work` for the queue `name`, each in its own session (as a webhook reads)."""
    timings: list[float] = []
    stop = time.monotonic() + budget
    while len(timings) < repeats and (len(timings) < 5 or time.monotonic() < stop):
        with database.sessions() as session:
            queue = session.scalars(select(Queue).where(Queue.name == name)).one()
            started = time.perf_counter()
            work(session, queue)
            timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1000


def measure(database: Database, size: str, args: argparse.Namespace, figures: dict[str, float]) -> None:
    """staffing() of each queue, and the former query, with the calls filled so far (`size`: small, big)."""
    for name in QUEUES:
        now = median_ms(database, name, staffing, args.repeats, args.seconds)
        before = median_ms(database, name, former_query, args.repeats, args.seconds)
        figures[f"staffing.{size}.{name}_ms"] = now
        figures[f"staffing.{size}.{name}.former_ms"] = before
        print(
            f"  {name:8} staffing() {now:7.2f} ms   (the former handle-time query alone: {before:8.2f} ms)", flush=True
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--json", help="write the figures to this file (bench/all.py reads it)")
    parser.add_argument("--small", type=int, default=2_000)
    parser.add_argument("--big", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=3.0, help="at most this long per figure (5 calls at least)")
    args = parser.parse_args()
    logging.disable(logging.INFO)
    on_term()
    figures: dict[str, float] = {}
    print(f"staffing benchmark on {args.database}", flush=True)
    with tempfile.TemporaryDirectory() as tmp, fresh_database(args.database, Path(tmp)) as url:
        engine = make_engine(url)
        database = Database(engine)
        with database.sessions() as session:
            ensure_default_queues(session, SHOP)
            update_queue(session, "espanol", {"display_name": "Español", "languages": "es"}, create=True)
            now = datetime.now(UTC)
            for name in QUEUES:  # two agents signed in to each queue, one of them free
                for status in ("available", "on_call"):
                    session.add(
                        Agent(
                            name=f"{name} {status}",
                            status=status,
                            status_since=now,
                            created_at=now,
                            queues=[session.scalars(select(Queue).where(Queue.name == name)).one()],
                        )
                    )
            session.commit()
        began = time.perf_counter()
        fill(database, 1, args.small)
        print(f"{args.small:,} calls ({time.perf_counter() - began:.1f} s to insert):", flush=True)
        measure(database, "small", args, figures)
        began = time.perf_counter()
        fill(database, args.small + 1, args.big)
        print(f"{args.big:,} calls ({time.perf_counter() - began:.1f} s to insert):", flush=True)
        measure(database, "big", args, figures)
        engine.dispose()
    print(f"ratio {args.big:,} / {args.small:,} calls:", flush=True)
    for name in QUEUES:
        ratio = figures[f"staffing.big.{name}_ms"] / figures[f"staffing.small.{name}_ms"]
        former = figures[f"staffing.big.{name}.former_ms"] / figures[f"staffing.small.{name}.former_ms"]
        figures[f"staffing.ratio.{name}"] = ratio
        figures[f"staffing.ratio.{name}.former"] = former
        print(f"  {name:8} staffing() {ratio:6.2f}x   (the former query: {former:7.2f}x)   goal: about 1x", flush=True)
    write_json(args.json, figures)


if __name__ == "__main__":
    main()
