"""Operator commands: create or upgrade the schema, load demo data."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from core.db import get_db
from core.migrate import upgrade


def init_app(app: Flask) -> None:
    """Register `init-db` and `demo`."""
    app.cli.add_command(init_db_command)
    app.cli.add_command(demo_command)


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create or upgrade the schema and the default queues (safe to run again)."""
    from agents.service import ensure_default_queues

    settings = current_app.config["SETTINGS"]
    database = get_db(current_app)
    upgrade(database.engine)
    with database.sessions() as session:
        created = ensure_default_queues(session, settings.twilio_caller_id)
    click.echo(f"database ready at {database.engine.url.render_as_string(hide_password=True)}")
    if created:
        click.echo(f"created queues: {', '.join(created)}")


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Load demo agents (idempotent), for `make run`."""
    from core.demo import load_demo

    database = get_db(current_app)
    with database.sessions() as session:
        for line in load_demo(session, current_app.extensions["clock"], current_app.config["SETTINGS"]):
            click.echo(line)
