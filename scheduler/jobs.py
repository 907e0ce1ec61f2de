"""APScheduler wiring: the dispatcher every second (and on demand), the reaper every few seconds.

The job store is memory: the database, not APScheduler, is the queue, so any number of scheduler
processes can run these jobs side by side (claims are atomic, the reaper is idempotent).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler

from scheduler.dispatcher import Dispatcher
from scheduler.reaper import Reaper

log = logging.getLogger(__name__)

DISPATCH_JOB = "dispatch"
REAPER_JOB = "reaper"


class Jobs:
    """The scheduler and the two jobs it runs; `wake()` asks for a dispatch pass at once."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        reaper: Reaper,
        blocking: bool = False,
        dispatch_seconds: float = 1.0,
        reaper_seconds: float = 5.0,
    ) -> None:
        self.dispatcher = dispatcher
        self.reaper = reaper
        self.scheduler: BaseScheduler = (
            BlockingScheduler(timezone=UTC) if blocking else BackgroundScheduler(timezone=UTC)
        )
        self.scheduler.add_job(
            self._dispatch,
            "interval",
            seconds=dispatch_seconds,
            id=DISPATCH_JOB,
            replace_existing=True,
            max_instances=1,
            coalesce=True,
        )
        self.scheduler.add_job(
            self._reap,
            "interval",
            seconds=reaper_seconds,
            id=REAPER_JOB,
            replace_existing=True,
            max_instances=1,
            coalesce=True,
        )

    def start(self) -> None:
        """Start the jobs (a blocking scheduler returns only when stopped)."""
        self.scheduler.start()

    def shutdown(self) -> None:
        """Stop the jobs, letting a running pass finish."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=True)

    def wake(self) -> None:
        """Run a dispatch pass now instead of at the next tick."""
        self.dispatcher.wake()
        # A running pass loops once more by itself; otherwise the job is brought forward to now.
        if self.scheduler.running and not self.dispatcher.busy:
            self.scheduler.modify_job(DISPATCH_JOB, next_run_time=datetime.now(UTC))

    def _dispatch(self) -> None:
        try:
            self.dispatcher.run_pending()
        except Exception:  # noqa: BLE001 - one bad pass must not kill the job; the next tick retries
            log.exception("dispatch pass failed")

    def _reap(self) -> None:
        try:
            self.reaper.run_once()
        except Exception:  # noqa: BLE001 - same: log, and try again next time
            log.exception("reaper pass failed")
