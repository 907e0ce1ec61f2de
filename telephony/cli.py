"""Flask CLI commands: `flask sandbox` runs the local Twilio sandbox, `flask twilio` manages numbers."""

from __future__ import annotations

from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from telephony.port import TelephonyError

twilio_cli = AppGroup("twilio", help="Talk to Twilio (or the sandbox when TWILIO_API_BASE is set).")


def _settings() -> Any:
    """The app's frozen Settings."""
    return current_app.config["SETTINGS"]


@click.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=5010, show_default=True, type=int, help="Port to listen on.")
@with_appcontext
def sandbox_command(host: str, port: int) -> None:
    """Run the local Twilio-compatible sandbox until interrupted."""
    from telephony.sandbox import SandboxServer

    settings = _settings()
    server = SandboxServer(settings, host=host, port=port)
    click.echo(f"Twilio sandbox on {server.base_url} (speed x{settings.sandbox_speed})")
    click.echo(f"  softphone:        {server.base_url}/sandbox/")
    click.echo(f"  REST API:         {server.base_url}/2010-04-01/Accounts/{settings.twilio_account_sid}/")
    click.echo(f"  point the app at: TWILIO_API_BASE={server.base_url}")
    for number in sorted(n.phone_number for n in server.world.numbers.values()):
        click.echo(f"  number {number} -> {server.world.number_for(number).voice_url or '(no voice URL)'}")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("sandbox stopped")


@twilio_cli.command("configure-number")
@click.argument("e164")
def configure_number_command(e164: str) -> None:
    """Point an owned number's voice URL, status callback and voice fallback URL at PUBLIC_BASE_URL's
    webhooks (the fallback answers callers with an apology when the voice URL fails)."""
    from core.fallback import fallback_url
    from core.webhooks import Webhooks
    from telephony.twilio_adapter import telephony_from_settings

    settings = _settings()
    hooks = Webhooks(settings.public_base_url)
    try:
        number = telephony_from_settings(settings).configure_number(
            e164, hooks.incoming(), hooks.inbound_status(), voice_fallback_url=fallback_url(settings.public_base_url)
        )
    except TelephonyError as exc:
        raise click.ClickException(f"could not configure {e164}: {exc}") from exc
    click.echo(f"{number.phone_number} ({number.sid})")
    click.echo(f"  voice URL:       {number.voice_url}")
    click.echo(f"  status callback: {number.status_callback}")
    click.echo(f"  fallback URL:    {number.voice_fallback_url}")


def init_app(app: Flask) -> None:
    """Register the telephony commands on the app's CLI."""
    app.cli.add_command(sandbox_command)
    app.cli.add_command(twilio_cli)
