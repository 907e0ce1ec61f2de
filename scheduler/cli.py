"""`flask --app app scheduler`: the dispatcher and reaper in a process of their own."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext


def init_app(app: Flask) -> None:
    """Register the `scheduler` command."""
    app.cli.add_command(scheduler_command)


@click.command("scheduler")
@with_appcontext
def scheduler_command() -> None:
    """Run the dispatcher (every second) and the reaper (every 5 s) until interrupted."""
    from scheduler.runtime import build_jobs

    jobs = build_jobs(current_app, blocking=True)
    click.echo("scheduler running: dispatcher every 1 s, reaper every 5 s (Ctrl-C to stop)")
    try:
        jobs.start()
    except (KeyboardInterrupt, SystemExit):
        jobs.shutdown()
