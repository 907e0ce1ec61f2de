"""The sandbox's Flask application factory."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from telephony.sandbox import control, rest
from telephony.sandbox.engine import Engine
from telephony.sandbox.wire import API_VERSION, error_body
from telephony.sandbox.world import World

logger = logging.getLogger(__name__)


@dataclass
class Sandbox:
    """The world and the engine that drives it, as one Flask extension."""

    world: World
    engine: Engine


def world_from_settings(settings: Any) -> World:
    """A world with the account from TWILIO_* settings, owning TWILIO_CALLER_ID (and SANDBOX_NUMBERS).

    TWILIO_API_KEY_SID/SECRET, when they name an API key (SK...), are accepted wherever the account's SID and
    token are, as Twilio accepts API keys for HTTP Basic authentication.
    """
    numbers = [settings.twilio_caller_id, *settings.sandbox_numbers]
    key_sid = getattr(settings, "twilio_api_key_sid", "") or ""
    key_secret = getattr(settings, "twilio_api_key_secret", "") or ""
    api_keys = {key_sid: key_secret} if key_sid.startswith("SK") and key_secret else {}
    return World(
        account_sid=settings.twilio_account_sid,
        auth_token=settings.twilio_auth_token,
        speed=settings.sandbox_speed,
        cps=settings.sandbox_cps,
        owned_numbers=[n for n in dict.fromkeys(numbers) if n],
        public_base_url=settings.public_base_url,
        api_keys=api_keys,
    )


def create_sandbox_app(settings: Any, world: World | None = None) -> Flask:
    """Build the sandbox server: Twilio's REST API, the /sandbox/ control endpoints and the softphone."""
    app = Flask(__name__)
    world = world or world_from_settings(settings)
    sandbox = Sandbox(world, Engine(world))
    app.extensions["sandbox"] = sandbox
    app.register_blueprint(rest.bp)
    app.register_blueprint(rest.recordings_bp)
    app.register_blueprint(control.bp)

    @app.before_request
    def remember_base_url() -> None:
        # Recording URLs must point back at this server, whatever host and port it was reached on.
        if not world.base_url:
            world.base_url = request.host_url.rstrip("/")

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Response | HTTPException:
        if request.path.startswith(f"/{API_VERSION}/"):
            code = 20404 if error.code == 404 else 20001
            response = jsonify(error_body(code, error.description or error.name, error.code or 500))
            response.status_code = error.code or 500
            return response
        return error

    return app
