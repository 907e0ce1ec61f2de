"""APScheduler wiring: the dispatcher every second (and on demand), the reaper every few seconds,
recordings brought home every few seconds, and the recordings' retention once a day.

The job store is memory: the database, not APScheduler, is the queue, so any number of scheduler
processes can run these jobs side by side (claims are atomic, the reaper is idempotent). On
PostgreSQL a listener (scheduler.wakeups) brings the dispatch pass forward when another process
notifies a change; each finished pass is noted by the heartbeat (scheduler.heartbeat) for /healthz.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy.exc import SQLAlchemyError

from core.db import is_unavailable, outage_cause
from scheduler.dispatcher import Dispatcher
from scheduler.heartbeat import Heartbeat
from scheduler.reaper import Reaper
from scheduler.wakeups import Listener

log = logging.getLogger(__name__)

DISPATCH_JOB = "dispatch"
REAPER_JOB = "reaper"
RECORDINGS_JOB = "recordings"
RETENTION_JOB = "recording_retention"
WRAP_UP_JOB = "dispatch_at_wrap_up_end"
WAKE_JOB = "dispatch_on_wake_up"
# Every dispatcher process hears every wake-up. The first live one (heartbeat rank 0) passes at once,
# the next this much later, and so on: on a small machine the passes that would find the work taken
# no longer take the CPU from the one that dials, and if the first is busy or gone the next one acts.
WAKE_STAGGER_SECONDS = 0.025
# While the database is unavailable, every job fails at every run: said once, then again this often.
OUTAGE_REMINDER = timedelta(minutes=1)


class OutageLog:
    """How the jobs' failures reach the log. A bug is logged with its traceback, each time. The database
    being unavailable (core.db.is_unavailable) is not a bug, and every job would fail at every run until
    it returns (a traceback a second, 40 MB an hour): one WARNING line without traceback when it goes,
    a reminder every OUTAGE_REMINDER while it stays, and one INFO line when it comes back."""

    def __init__(self, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._since: datetime | None = None
        self._said: datetime | None = None

    def failed(self, job: str, error: BaseException) -> None:
        if not is_unavailable(error):
            log.error("%s failed", job, exc_info=error)
            return
        now = self.clock()
        with self._lock:
            if self._said is not None and now - self._said < OUTAGE_REMINDER:
                return
            self._since = self._since or now
            self._said = now
            since = self._since
        cause = outage_cause(error)
        log.warning(
            "database unavailable: jobs wait for it, nothing is lost",
            extra={"job": job, "error": cause, "unavailable_since": since.isoformat()},
        )

    def succeeded(self) -> None:
        if self._since is None:
            return
        with self._lock:
            since, self._since, self._said = self._since, None, None
        if since is not None:
            seconds = round((self.clock() - since).total_seconds())
            log.info("database available again", extra={"unavailable_seconds": seconds})


class Jobs:
    """The scheduler and the jobs it runs; `wake()` asks for a dispatch pass at once."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        reaper: Reaper,
        blocking: bool = False,
        dispatch_seconds: float = 1.0,
        reaper_seconds: float = 5.0,
        fetch_recordings: Callable[[], object] | None = None,
        retain_recordings: Callable[[], object] | None = None,
        recordings_seconds: float = 5.0,
        retention_first_delay: timedelta = timedelta(minutes=1),
        listener: Listener | None = None,
        heartbeat: Heartbeat | None = None,
    ) -> None:
        self.dispatcher = dispatcher
        self.reaper = reaper
        self.listener = listener
        self.heartbeat = heartbeat
        self.dispatch_seconds = dispatch_seconds
        self.fetch_recordings = fetch_recordings
        self.retain_recordings = retain_recordings
        self.outage = OutageLog()
        self.scheduler: BaseScheduler = (
            BlockingScheduler(timezone=UTC) if blocking else BackgroundScheduler(timezone=UTC)
        )
        self._every(self._dispatch, DISPATCH_JOB, seconds=dispatch_seconds)
        self._every(self._reap, REAPER_JOB, seconds=reaper_seconds)
        if fetch_recordings is not None:
            self._every(self._fetch_recordings, RECORDINGS_JOB, seconds=recordings_seconds)
        if retain_recordings is not None:
            # Daily, first shortly after start: a process restarted every night still purges.
            self._every(
                self._retain_recordings,
                RETENTION_JOB,
                days=1,
                next_run_time=datetime.now(UTC) + retention_first_delay,
            )

    def _every(self, job: Callable[[], None], job_id: str, **trigger: Any) -> None:
        """A recurring job: never two of it at once, and missed runs folded into one."""
        self.scheduler.add_job(
            job, "interval", id=job_id, replace_existing=True, max_instances=1, coalesce=True, **trigger
        )

    def start(self) -> None:
        """Start the jobs (a blocking scheduler returns only when stopped)."""
        if self.heartbeat is not None:
            self.heartbeat.start()
        if self.listener is not None:
            self.listener.start()
        self.scheduler.start()

    def shutdown(self) -> None:
        """Stop the jobs: no new claim is taken, and the passes running finish before this returns."""
        self.dispatcher.stop()
        if self.listener is not None:
            self.listener.stop()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        if self.heartbeat is not None:
            self.heartbeat.stop()

    def wake(self) -> None:
        """Run a dispatch pass now (or after this process's stagger) instead of at the next tick."""
        self.dispatcher.wake()
        # A running pass loops once more by itself (it looks again after letting go of its lock).
        # Otherwise a one-off pass starts (WAKE_STAGGER_SECONDS x rank from now): bringing the interval
        # job forward instead would be skipped while its last run is still finishing (max_instances).
        if self.scheduler.running and not self.dispatcher.busy:
            rank = self.heartbeat.rank if self.heartbeat is not None else 0
            run_date = datetime.now(UTC) + timedelta(seconds=rank * WAKE_STAGGER_SECONDS)
            # One pending wake-up pass at most: a later wake-up moves it rather than adding another
            # (a staggered pass left from the last wake-up would crowd this one's first process).
            # Several may run at once (one still noting its heartbeat): the dispatcher's own lock
            # keeps them to one pass, and APScheduler would otherwise skip the new one.
            self.scheduler.add_job(
                self._dispatch,
                "date",
                run_date=run_date,
                misfire_grace_time=None,
                args=(False,),
                id=WAKE_JOB,
                replace_existing=True,
                max_instances=4,
            )

    def _dispatch(self, housekeeping: bool = True) -> None:
        try:
            self.dispatcher.run_pending(housekeeping)
        except Exception as error:  # noqa: BLE001 - one bad pass must not kill the job; the next tick retries
            self.outage.failed("dispatch pass", error)
            return  # a failing pass is not a heartbeat: /healthz should notice
        self.outage.succeeded()
        if self.heartbeat is not None:
            self.heartbeat.beat()
        self._pass_at_wrap_up_end()

    def _pass_at_wrap_up_end(self) -> None:
        """An agent whose wrap-up time runs out is free with nobody to say so: pass at that moment
        rather than at the next tick (only when it comes before the tick; a later pass looks again)."""
        try:
            end = self.dispatcher.next_wrap_up_end()
        except SQLAlchemyError:
            return  # the tick is still there
        if end is None or not self.scheduler.running:
            return
        delay = (end - self.dispatcher.clock.now()).total_seconds()
        if 0 < delay < self.dispatch_seconds:
            self.scheduler.add_job(
                self._dispatch,
                "date",
                run_date=datetime.now(UTC) + timedelta(seconds=delay),
                id=WRAP_UP_JOB,
                replace_existing=True,
                misfire_grace_time=None,
            )

    def _reap(self) -> None:
        try:
            self.reaper.run_once()
        except Exception as error:  # noqa: BLE001 - same: log, and try again next time
            self.outage.failed("reaper pass", error)

    def _fetch_recordings(self) -> None:
        assert self.fetch_recordings is not None
        try:
            self.fetch_recordings()
        except Exception as error:  # noqa: BLE001 - the recordings wait in the database for the next pass
            self.outage.failed("recordings pass", error)

    def _retain_recordings(self) -> None:
        assert self.retain_recordings is not None
        try:
            self.retain_recordings()
        except Exception as error:  # noqa: BLE001 - tomorrow's run deletes what today's could not
            self.outage.failed("recording retention", error)
