"""`flask --app app scheduler`: the dispatcher and reaper in a process of their own."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Register the `scheduler` command."""
    app.cli.add_command(scheduler_command)


@click.command("scheduler")
@click.option(
    "--dispatch-seconds",
    type=click.FloatRange(min=0.1),
    default=1.0,
    show_default=True,
    help="The tick: a dispatch pass at least this often (wake-ups bring it forward).",
)
@with_appcontext
def scheduler_command(dispatch_seconds: float) -> None:
    """Run the dispatcher (every second, and when woken) and the reaper (every 5 s) until SIGTERM or Ctrl-C."""
    from scheduler.runtime import build_jobs

    jobs = build_jobs(current_app, dispatch_seconds=dispatch_seconds)
    stop = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        # Only a flag here: the main thread, not the signal handler, waits for the pass in flight.
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    jobs.start()
    # Logged, not echoed: with LOG_FORMAT=json every line the process writes is one JSON object.
    log.info(
        "scheduler running (SIGTERM or Ctrl-C to stop)",
        extra={"dispatch_seconds": dispatch_seconds, "reaper_seconds": 5, "woken_by_notify": jobs.listener is not None},
    )
    while not stop.wait(1.0):
        pass
    log.info("scheduler stopping: the pass in flight finishes, no new claim is taken")
    jobs.shutdown()
    log.info("scheduler stopped")
