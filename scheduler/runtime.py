"""Builds the dispatcher, reaper and jobs from an app; hands views the callable that wakes it."""

from __future__ import annotations

import click
from flask import Flask

from core.db import get_db
from scheduler.dispatcher import Dispatcher
from scheduler.jobs import Jobs
from scheduler.reaper import Reaper


def build_jobs(app: Flask, blocking: bool = False) -> Jobs:
    """Jobs wired to the app's database, telephony, clock and settings."""
    settings = app.config["SETTINGS"]
    telephony = app.extensions["telephony"]
    clock = app.extensions["clock"]
    database = get_db(app)
    dispatcher = Dispatcher(database, telephony, clock, settings)
    reaper = Reaper(database, telephony, clock, caller_id=settings.twilio_caller_id)
    return Jobs(dispatcher, reaper, blocking=blocking)


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
