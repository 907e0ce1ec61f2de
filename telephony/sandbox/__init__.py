"""A local Twilio-compatible server: REST API, call engine, TwiML interpreter and virtual phones."""

from __future__ import annotations

from telephony.sandbox.app import create_sandbox_app
from telephony.sandbox.server import SandboxServer

__all__ = ["SandboxServer", "create_sandbox_app"]
