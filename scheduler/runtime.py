"""Builds the dispatcher, reaper and jobs from an app; hands views the callable that wakes it."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import timedelta

import click
from flask import Flask
from flask.helpers import get_debug_flag

from core.db import get_db
from recordings import service as recordings
from scheduler import heartbeat, wakeups
from scheduler.dispatcher import Dispatcher
from scheduler.jobs import Jobs
from scheduler.reaper import Reaper, ReaperPolicy

log = logging.getLogger(__name__)


def build_jobs(app: Flask, blocking: bool = False, dispatch_seconds: float = 1.0, sender: str | None = None) -> Jobs:
    """Jobs wired to the app's database, telephony, clock and settings; on PostgreSQL they also
    listen for other processes' wake-ups (skipping the app's own, `sender`, which wakes them directly)."""
    # The app itself, not `current_app`: the jobs run in threads that have no application context.
    app = app._get_current_object() if hasattr(app, "_get_current_object") else app
    settings = app.config["SETTINGS"]
    telephony = app.extensions["telephony"]
    clock = app.extensions["clock"]
    database = get_db(app)
    dispatcher = Dispatcher(database, telephony, clock, settings)
    reaper = Reaper(
        database,
        telephony,
        clock,
        ReaperPolicy.for_settings(settings.twilio_timeout_seconds, settings.staff_session_hours),
        caller_id=settings.twilio_caller_id,
        bounds=dispatcher.bounds,
    )
    store = app.extensions["audio_store"]

    def fetch_recordings() -> recordings.FetchPass:
        return recordings.fetch_due(database.sessions, telephony, store, clock.now())

    def retain_recordings() -> int:
        return retention_pass(app)

    jobs = Jobs(
        dispatcher,
        reaper,
        blocking=blocking,
        dispatch_seconds=dispatch_seconds,
        fetch_recordings=fetch_recordings,
        retain_recordings=retain_recordings,
        heartbeat=heartbeat.Heartbeat(database, clock),
    )
    if wakeups.on_postgresql(database.engine):
        jobs.listener = wakeups.Listener(wakeups.conninfo(database.engine), jobs.wake, ignore_sender=sender)
    return jobs


def retention_pass(app: Flask) -> int:
    """Delete the recordings older than RECORDING_RETENTION_DAYS (files, provider copies, rows); logs each."""
    settings = app.config["SETTINGS"]
    now = app.extensions["clock"].now()
    before = now - timedelta(days=settings.recording_retention_days)
    with get_db(app).sessions() as session:
        deleted = recordings.purge(session, app.extensions["audio_store"], before, app.extensions["telephony"], now=now)
    log.info("recording retention", extra={"before": before.isoformat(), "deleted": deleted})
    return deleted


def init_app(app: Flask) -> None:
    """With SCHEDULER=on, run the jobs inside this web process (the default of `make run`); hand views
    the callable that wakes the dispatcher, here and, on PostgreSQL, in every other process."""
    settings = app.config["SETTINGS"]
    sender = wakeups.new_sender()
    wakes: list[Callable[[], None]] = []
    if settings.scheduler and _serves_requests_here():
        jobs = build_jobs(app, sender=sender)
        app.extensions["jobs"] = jobs
        wakes.append(jobs.wake)
        jobs.start()
        log.info("scheduler running in this web process", extra={"pid": os.getpid()})
    engine = get_db(app).engine
    if wakeups.on_postgresql(engine):
        # Dispatchers in other processes (`flask scheduler`, other workers) hear of it too.
        wakes.append(wakeups.Notifier(engine, sender).notify)
    if wakes:

        def wake_dispatcher() -> None:
            for wake in wakes:
                wake()

        # Views and webhooks wake the dispatcher through this callable, never by importing us.
        app.extensions["wake_dispatcher"] = wake_dispatcher


def _serves_requests_here() -> bool:
    """Whether this process serves the app: under a WSGI server (gunicorn), or `flask run`'s server.

    Other `flask` commands (init-db, sandbox, scheduler itself...) build the app too, and a dispatcher
    hidden in each of them would be a surprise. `flask run` with the reloader (--debug) runs twice: the
    first process only watches the files and restarts its child (WERKZEUG_RUN_MAIN), which serves.
    """
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return True
    if ctx.command.name != "run":
        return False
    reload = ctx.params.get("reload")
    if reload is None:
        reload = get_debug_flag()
    return not reload or os.environ.get("WERKZEUG_RUN_MAIN") == "true"
