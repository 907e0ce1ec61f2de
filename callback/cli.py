"""Operator commands for the do-not-call list, and forgetting a request at the customer's demand."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from agents import audit
from callback import dnc
from callback import service as callbacks
from core import phone as phones
from core.db import get_db
from core.errors import DomainError

dnc_cli = AppGroup("dnc", help="Manage the do-not-call list.")
requests_cli = AppGroup("requests", help="Callback requests: forget one at the customer's demand.")


def init_app(app: Flask) -> None:
    """Register the `dnc` and `requests` command groups."""
    app.cli.add_command(dnc_cli)
    app.cli.add_command(requests_cli)


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


# A reference is URL-safe base64, so one in 64 begins with "-": taken as the reference, not as an
# unknown option ("No such option: -X" would send the operator looking for a typo that is not there).
@requests_cli.command("forget", context_settings={"ignore_unknown_options": True})
@click.argument("ref")
def forget_command(ref: str) -> None:
    """Erase request REF's personal data and delete its recordings (ours and the provider's).

    The row stays, without name, number, order, notes or address, so the figures still add up.
    """
    from recordings import service as recordings
    from recordings.storage import StorageError

    clock = current_app.extensions["clock"]
    with get_db(current_app).sessions() as session:
        try:
            request = callbacks.get(session, ref.strip())
        except DomainError as exc:
            raise click.ClickException(f"{exc.message} (give the whole reference the customer was given)") from exc
        try:
            # The request first, committed: one still being called is refused before anything is deleted.
            callbacks.forget(session, clock, request.ref, actor=audit.cli_actor())
        except DomainError as exc:
            session.rollback()
            raise click.ClickException(exc.message) from exc
        session.commit()
        try:
            # Then each recording, committed one by one (a file or Twilio's copy cannot be rolled back).
            removed = recordings.forget_request(
                session,
                current_app.extensions["audio_store"],
                current_app.extensions["telephony"],
                request.id,
                now=clock.now(),
            )
        except StorageError as exc:
            raise click.ClickException(f"request {request.id} forgotten, but {exc}") from exc
    click.echo(f"request {request.id} forgotten; {removed} recording(s) deleted")
