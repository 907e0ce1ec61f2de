"""The telephony CLI commands, run through Flask's CLI runner against a live sandbox."""

from __future__ import annotations

from dataclasses import replace

from flask import Flask
from sandbox_harness import ACCOUNT_SID, AUTH_TOKEN, OUR_NUMBER

from core.config import Settings
from core.webhooks import FRAGMENT
from telephony.cli import init_app
from telephony.sandbox import SandboxServer
from telephony.twilio_adapter import build_client


def _app(settings: Settings) -> Flask:
    app = Flask("cli-test")
    app.config["SETTINGS"] = settings
    init_app(app)
    return app


def test_configure_number_points_the_number_at_the_public_webhooks(sandbox: SandboxServer, settings: Settings) -> None:
    settings = replace(settings, twilio_api_base=sandbox.base_url, public_base_url="https://callme.example")
    result = _app(settings).test_cli_runner().invoke(args=["twilio", "configure-number", OUR_NUMBER])
    assert result.exit_code == 0, result.output
    client = build_client(ACCOUNT_SID, AUTH_TOKEN, api_base=sandbox.base_url, timeout=5)
    number = client.incoming_phone_numbers.list(phone_number=OUR_NUMBER)[0]
    # The app's connection overrides ride along as the fragment (core.webhooks).
    assert number.voice_url == f"https://callme.example/voice/incoming#{FRAGMENT}"
    assert number.status_callback == f"https://callme.example/voice/status#{FRAGMENT}"


def test_configure_number_fails_cleanly_for_a_number_not_owned(sandbox: SandboxServer, settings: Settings) -> None:
    settings = replace(settings, twilio_api_base=sandbox.base_url)
    result = _app(settings).test_cli_runner().invoke(args=["twilio", "configure-number", "+14155550999"])
    assert result.exit_code != 0 and "could not configure" in result.output


def test_the_sandbox_command_is_registered_with_its_options(settings: Settings) -> None:
    result = _app(settings).test_cli_runner().invoke(args=["sandbox", "--help"])
    assert result.exit_code == 0 and "--port" in result.output and "--host" in result.output
