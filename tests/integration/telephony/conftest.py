"""Fixtures: a sandbox on a free port, a tiny webhook app on another, and the adapter between them."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

# The project root and this folder's harness must be importable however pytest was started.
HERE = Path(__file__).resolve().parent
for path in (HERE.parents[2], HERE):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from sandbox_harness import (  # noqa: E402
    ACCOUNT_SID,
    AUTH_TOKEN,
    OUR_NUMBER,
    SPEED,
    Control,
    WebhookApp,
    webhook_flask,
)
from werkzeug.serving import make_server  # noqa: E402

from core.config import Settings  # noqa: E402
from telephony.sandbox import SandboxServer  # noqa: E402
from telephony.twilio_adapter import TwilioTelephony, telephony_from_settings  # noqa: E402


@pytest.fixture
def hooks() -> Iterator[WebhookApp]:
    """The app's side: a webhook server on a free port."""
    hooks = WebhookApp()
    server = make_server("127.0.0.1", 0, webhook_flask(hooks), threaded=True)
    hooks.base_url = f"http://127.0.0.1:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield hooks
    server.shutdown()
    server.server_close()


@pytest.fixture
def settings(hooks: WebhookApp) -> Settings:
    """Settings for a fast sandbox whose own number points at the webhook server."""
    return Settings(
        app_env="testing",
        public_base_url=hooks.base_url,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_caller_id=OUR_NUMBER,
        twilio_timeout_seconds=5.0,
        sandbox_speed=SPEED,
        sandbox_cps=1000.0,
    )


@pytest.fixture
def sandbox(settings: Settings) -> Iterator[SandboxServer]:
    """A sandbox server on a free port."""
    server = SandboxServer(settings).start()
    yield server
    server.stop()


@pytest.fixture
def telephony(sandbox: SandboxServer, settings: Settings) -> TwilioTelephony:
    """The production adapter, pointed at the sandbox through TWILIO_API_BASE."""
    return telephony_from_settings(replace(settings, twilio_api_base=sandbox.base_url))


@pytest.fixture
def control(sandbox: SandboxServer) -> Control:
    """The sandbox's control endpoints."""
    return Control(sandbox.base_url)
