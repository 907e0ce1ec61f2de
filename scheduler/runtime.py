"""Builds the dispatcher, reaper and jobs from an app; hands views the callable that wakes it."""

from __future__ import annotations

import logging
from datetime import timedelta

import click
from flask import Flask

from core.db import get_db
from recordings import service as recordings
from scheduler.dispatcher import Dispatcher
from scheduler.jobs import Jobs
from scheduler.reaper import Reaper

log = logging.getLogger(__name__)


def build_jobs(app: Flask, blocking: bool = False) -> Jobs:
    """Jobs wired to the app's database, telephony, clock and settings."""
    settings = app.config["SETTINGS"]
    telephony = app.extensions["telephony"]
    clock = app.extensions["clock"]
    database = get_db(app)
    dispatcher = Dispatcher(database, telephony, clock, settings)
    reaper = Reaper(database, telephony, clock, caller_id=settings.twilio_caller_id)
    store = app.extensions["audio_store"]

    def fetch_recordings() -> recordings.FetchPass:
        return recordings.fetch_due(database.sessions, telephony, store, clock.now())

    def retain_recordings() -> int:
        return retention_pass(app)

    return Jobs(
        dispatcher,
        reaper,
        blocking=blocking,
        fetch_recordings=fetch_recordings,
        retain_recordings=retain_recordings,
    )


def retention_pass(app: Flask) -> int:
    """Delete the recordings older than RECORDING_RETENTION_DAYS (files, provider copies, rows); logs each."""
    settings = app.config["SETTINGS"]
    before = app.extensions["clock"].now() - timedelta(days=settings.recording_retention_days)
    with get_db(app).sessions() as session:
        deleted = recordings.purge(session, app.extensions["audio_store"], before, app.extensions["telephony"])
    log.info("recording retention", extra={"before": before.isoformat(), "deleted": deleted})
    return deleted


def init_app(app: Flask) -> None:
    """With SCHEDULER=on, run the jobs inside this web process (the default of `make run`)."""
    # Not inside a `flask` command (init-db, sandbox, scheduler itself...): those build the app too,
    # and a dispatcher hidden in each of them would be a surprise.
    if app.config["SETTINGS"].scheduler and click.get_current_context(silent=True) is None:
        jobs = build_jobs(app)
        app.extensions["jobs"] = jobs
        # Views and webhooks wake the dispatcher through this callable, never by importing us.
        app.extensions["wake_dispatcher"] = jobs.wake
        jobs.start()
