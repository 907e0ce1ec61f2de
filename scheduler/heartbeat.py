"""Each dispatcher process notes its last dispatch pass in the database, for /healthz.

A process is `host:pid`; its row says when it started, when it last finished a pass and whether it
stopped cleanly. /healthz reads the newest pass of any process: the question it answers is "is
anyone dispatching?", which no single process can answer about itself.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from callback.models import SchedulerHeartbeat
from core.clock import Clock
from core.db import Database, rows_changed

log = logging.getLogger(__name__)

# The dispatcher passes every second: ten seconds without one is no hiccup.
STALE_AFTER = timedelta(seconds=10)
# Rows of processes gone this long are forgotten when a process starts.
FORGET_AFTER = timedelta(days=1)
# A pass is noted at most this often: every process passes on every wake-up, and a write per pass
# per process competes with the pass that is dialling, while /healthz needs no finer news.
NOTE_EVERY = timedelta(seconds=1)
# A process that noted a pass this recently, and has not stopped, is dispatching (the tick is 1 s,
# and a pass is noted at most every NOTE_EVERY, so about every 2 s).
LIVE_WITHIN = timedelta(seconds=5)

HealthCheck = Callable[[Session, datetime], "dict[str, object] | None"]


def process_name() -> str:
    """This process, as an operator finds it: `host:pid`."""
    return f"{socket.gethostname()}:{os.getpid()}"[-120:]


class Heartbeat:
    """Writes this process's row: at start, after each dispatch pass, and at a clean stop."""

    def __init__(self, db: Database, clock: Clock, name: str | None = None) -> None:
        self.db = db
        self.clock = clock
        self.name = name or process_name()
        self._noted: datetime | None = None
        # This process's place among the live dispatchers, by name (0 when alone or first); the jobs
        # stagger their wake-up passes by it, so that one process, not all at once, answers a wake-up.
        self.rank = 0

    def start(self) -> None:
        """Claim this process's row (a pid may be reused) and forget long-gone processes."""
        now = self.clock.now()
        self._write(lambda session: self._start(session, now))

    def _start(self, session: Session, now: datetime) -> None:
        last_seen = func.coalesce(SchedulerHeartbeat.last_pass_at, SchedulerHeartbeat.started_at)
        session.execute(delete(SchedulerHeartbeat).where(last_seen < now - FORGET_AFTER))
        row = session.get(SchedulerHeartbeat, self.name)
        if row is None:
            session.add(SchedulerHeartbeat(name=self.name, started_at=now))
        else:
            row.started_at, row.last_pass_at, row.stopped_at = now, None, None

    def beat(self) -> None:
        """A dispatch pass just finished (noted unless one was noted less than NOTE_EVERY ago)."""
        now = self.clock.now()
        if self._noted is not None and now - self._noted < NOTE_EVERY:
            return
        self._noted = now
        self._write(lambda session: self._beat(session, now))

    def _beat(self, session: Session, now: datetime) -> None:
        noted = rows_changed(
            session, update(SchedulerHeartbeat).where(SchedulerHeartbeat.name == self.name).values(last_pass_at=now)
        )
        if not noted:
            # No row: the process started while the database was down (start() could not write it),
            # or its row was forgotten. Dispatching, it must show on /healthz all the same.
            session.add(SchedulerHeartbeat(name=self.name, started_at=now, last_pass_at=now))
            session.flush()
        live = list(
            session.scalars(
                select(SchedulerHeartbeat.name)
                .where(SchedulerHeartbeat.stopped_at.is_(None), SchedulerHeartbeat.last_pass_at >= now - LIVE_WITHIN)
                .order_by(SchedulerHeartbeat.name)
            )
        )
        self.rank = live.index(self.name) if self.name in live else len(live)

    def stop(self) -> None:
        """This process stops dispatching, on purpose."""
        now = self.clock.now()
        self._write(
            lambda session: session.execute(
                update(SchedulerHeartbeat).where(SchedulerHeartbeat.name == self.name).values(stopped_at=now)
            )
        )

    def _write(self, change: Callable[[Session], object]) -> None:
        try:
            with self.db.begin() as session:
                change(session)
        except SQLAlchemyError as error:
            # The heartbeat reports; it must never stop the dispatching it reports on.
            log.warning("scheduler heartbeat not written", extra={"scheduler_process": self.name, "error": str(error)})


def report(session: Session, now: datetime) -> dict[str, object]:
    """For /healthz, always: the newest dispatch pass of any process, how long ago, and by whom."""
    newest = session.execute(
        select(SchedulerHeartbeat.name, SchedulerHeartbeat.last_pass_at)
        .where(SchedulerHeartbeat.last_pass_at.is_not(None))
        .order_by(SchedulerHeartbeat.last_pass_at.desc())
        .limit(1)
    ).first()
    if newest is None:
        return {"last_pass": None}
    return {
        "last_pass": newest.last_pass_at.isoformat(),
        "seconds_ago": max(0, int((now - newest.last_pass_at).total_seconds())),
        "process": newest.name,
    }


def health_check(expected: bool) -> HealthCheck:
    """For /healthz: a warning when no process has finished a dispatch pass for STALE_AFTER.

    `expected` (SCHEDULER=on here) warns even before any process has ever run; otherwise a database
    that never saw a dispatcher is taken as one that does not use this check (tests, tools)."""

    def check(session: Session, now: datetime) -> dict[str, object] | None:
        newest = session.execute(
            select(SchedulerHeartbeat.name, SchedulerHeartbeat.last_pass_at, SchedulerHeartbeat.stopped_at)
            .where(SchedulerHeartbeat.last_pass_at.is_not(None))
            .order_by(SchedulerHeartbeat.last_pass_at.desc())
            .limit(1)
        ).first()
        if newest is None:
            anyone = session.scalar(select(func.count()).select_from(SchedulerHeartbeat))
            if not expected and not anyone:
                return None
            return {"check": "scheduler", "message": "no dispatcher has finished a pass yet", "last_pass": None}
        age = now - newest.last_pass_at
        if age <= STALE_AFTER:
            return None
        stopped = f", and it stopped at {newest.stopped_at.isoformat()}" if newest.stopped_at else ""
        return {
            "check": "scheduler",
            "message": (
                f"no dispatch pass for {int(age.total_seconds())} s: the last was by {newest.name}{stopped}; "
                "requests wait until a scheduler runs"
            ),
            "last_pass": newest.last_pass_at.isoformat(),
            "process": newest.name,
        }

    return check
