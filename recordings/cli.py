"""Operator commands for call recordings: `flask recordings purge --before DATE`, `flask recordings fetch`."""

from __future__ import annotations

from datetime import UTC, datetime, time

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from agents import audit
from core.db import get_db
from recordings import service
from recordings.storage import AudioStore
from telephony.port import Telephony

recordings_cli = AppGroup("recordings", help="Call recordings: fetch pending ones now, purge old ones.")


def init_app(app: Flask) -> None:
    """Register the `recordings` command group."""
    app.cli.add_command(recordings_cli)


def parse_before(text: str, now: datetime) -> datetime:
    """A date (midnight UTC) or an ISO time with its offset, not in the future; ClickException otherwise."""
    value = text.strip()
    try:
        if len(value) == 10:
            moment = datetime.combine(datetime.strptime(value, "%Y-%m-%d").date(), time(), tzinfo=UTC)
        else:
            moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not a date: give one such as 2026-08-31 (midnight UTC) or 2026-08-31T12:00:00+00:00",
            param_hint="--before",
        ) from None
    if moment.tzinfo is None:
        raise click.BadParameter("give the time's offset, such as 2026-08-31T12:00:00+00:00", param_hint="--before")
    if moment > now:
        raise click.BadParameter(
            f"{value} is in the future: that would delete recordings made today", param_hint="--before"
        )
    return moment.astimezone(UTC)


def _store() -> AudioStore:
    store: AudioStore = current_app.extensions["audio_store"]
    return store


def _telephony() -> Telephony:
    telephony: Telephony = current_app.extensions["telephony"]
    return telephony


@recordings_cli.command("purge")
@click.option("--before", "before_text", required=True, metavar="DATE", help="Delete recordings made before this.")
def purge_command(before_text: str) -> None:
    """Delete every recording made before DATE: its file, any copy left at the provider, its row."""
    clock = current_app.extensions["clock"]
    before = parse_before(before_text, clock.now())
    with get_db(current_app).sessions() as session:
        deleted = service.purge(session, _store(), before, _telephony(), now=clock.now())
        audit.record(
            session,
            "recording.purge",
            "recordings",
            {"before": before.isoformat(), "deleted": deleted},
            actor=audit.cli_actor(),
            at=clock.now(),
        )
        session.commit()
    click.echo(f"{deleted} recording(s) made before {before.isoformat()} deleted")


@recordings_cli.command("fetch")
@click.option("--retry-failed", is_flag=True, help="First put the recordings that failed too often back in line.")
def fetch_command(retry_failed: bool) -> None:
    """Bring home the recordings due now (what the scheduler's job does every few seconds)."""
    clock = current_app.extensions["clock"]
    if retry_failed:
        with get_db(current_app).sessions() as session:
            again = service.retry_failed(session, clock.now())
            session.commit()
        click.echo(f"{again} failed recording(s) back in line")
    done = service.fetch_due(get_db(current_app).sessions, _telephony(), _store(), clock.now(), limit=1000)
    click.echo(
        f"{done.stored} stored, {done.deleted_at_provider} deleted at the provider, "
        f"{done.retried} to retry, {done.failed} failed"
    )
