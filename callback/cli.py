"""Operator commands for the do-not-call list."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from agents import audit
from callback import dnc
from core import phone as phones
from core.db import get_db

dnc_cli = AppGroup("dnc", help="Manage the do-not-call list.")


def init_app(app: Flask) -> None:
    """Register the `dnc` command group."""
    app.cli.add_command(dnc_cli)


def _normalize(number: str) -> str:
    settings = current_app.config["SETTINGS"]
    # Any real number may be listed, whatever the customer country allowlist says.
    policy = phones.PhonePolicy(default_region=settings.default_region, allowed_countries=())
    try:
        return phones.normalize(number, policy)
    except phones.PhoneRejected as exc:
        raise click.ClickException(exc.message) from exc


@dnc_cli.command("add")
@click.argument("number")
@click.option("--reason", default=None)
def add_command(number: str, reason: str | None) -> None:
    """Never call NUMBER; its active callbacks are canceled."""
    e164 = _normalize(number)
    with get_db(current_app).sessions() as session:
        clock = current_app.extensions["clock"]
        canceled = dnc.add(session, clock, e164, reason, current_app.extensions["telephony"])
        details = {"reason": reason, "canceled_requests": canceled}
        audit.record(session, "dnc.add", f"dnc {e164}", details, actor=audit.cli_actor(), at=clock.now())
        session.commit()
    click.echo(f"{e164} added" + (f"; {canceled} active callback(s) canceled" if canceled else ""))


@dnc_cli.command("remove")
@click.argument("number")
def remove_command(number: str) -> None:
    """Allow NUMBER to be called again."""
    e164 = _normalize(number)
    with get_db(current_app).sessions() as session:
        removed = dnc.remove(session, e164)
        if removed:
            clock = current_app.extensions["clock"]
            audit.record(session, "dnc.remove", f"dnc {e164}", actor=audit.cli_actor(), at=clock.now())
            session.commit()
    click.echo(f"{e164} {'removed' if removed else 'was not listed'}")


@dnc_cli.command("list")
def list_command() -> None:
    """Show the list."""
    with get_db(current_app).sessions() as session:
        for entry in dnc.entries(session):
            click.echo(f"{entry.phone}\t{entry.added_at.isoformat()}\t{entry.reason or ''}")
