"""The whole system over HTTP: the app with its scheduler, and the Twilio sandbox, on loopback ports."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Flask
from sqlalchemy import select
from werkzeug.serving import make_server

from agents.models import Agent
from callback.models import CallAttempt, CallbackRequest
from core.config import Settings
from core.db import Base, get_db, make_engine
from telephony.sandbox import SandboxServer
from tests.helpers import sqlite_with_schema
from tests.ports import free_port

ACCOUNT_SID = "AC" + "e" * 32
AUTH_TOKEN = "e2e-auth-token"
SHOP_NUMBER = "+15005550006"
# Fast enough to keep the suite short, slow enough that a loaded 2-core machine keeps up with it.
SPEED = 20.0


@dataclass
class System:
    """The running app and sandbox, with helpers to set the scene and to wait for outcomes."""

    app: Flask
    app_url: str
    sandbox: SandboxServer
    database_url: str

    @property
    def sandbox_url(self) -> str:
        return self.sandbox.base_url

    def phone(self, address: str, **behaviour: Any) -> None:
        """Give a virtual phone (customer or agent) a behaviour."""
        response = requests.put(f"{self.sandbox_url}/sandbox/phones/{address}", json=behaviour, timeout=5)
        assert response.status_code == 200, response.text

    def calls(self, **filters: str) -> list[dict[str, Any]]:
        """Every call the sandbox saw (both legs), optionally filtered by to/from."""
        listed = requests.get(f"{self.sandbox_url}/sandbox/calls", timeout=5).json()
        calls = listed["calls"] if isinstance(listed, dict) else listed
        return [c for c in calls if all(c.get(k) == v for k, v in filters.items())]

    def call(self, sid: str) -> dict[str, Any]:
        """One call with its timeline."""
        return dict(requests.get(f"{self.sandbox_url}/sandbox/calls/{sid}", timeout=5).json())

    def faults(self, **faults: float) -> None:
        """Inject sandbox faults (api_error_rate, api_latency_ms, drop_status_callback_rate, ...)."""
        assert requests.put(f"{self.sandbox_url}/sandbox/faults", json=faults, timeout=5).status_code == 200

    def api(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Call the app's HTTP API as a client would."""
        headers = kwargs.pop("headers", {})
        if path.startswith("/api/agents"):
            headers["Authorization"] = f"Bearer {self.settings.admin_api_token}"
        return requests.request(method, self.app_url + path, headers=headers, timeout=10, **kwargs)

    def environment(self) -> dict[str, str]:
        """Environment variables that make another process part of this system (e.g. a dispatcher)."""
        s = self.settings
        return {
            "APP_ENV": "testing",
            "DATABASE_URL": self.database_url,
            "PUBLIC_BASE_URL": s.public_base_url,
            "TWILIO_ACCOUNT_SID": s.twilio_account_sid,
            "TWILIO_AUTH_TOKEN": s.twilio_auth_token,
            "TWILIO_CALLER_ID": s.twilio_caller_id,
            "TWILIO_API_BASE": s.twilio_api_base,
            "TWILIO_CPS": str(s.twilio_cps),
            "RING_TIMEOUT_SECONDS": str(s.ring_timeout_seconds),
            "SCHEDULER": "off",
            "LOG_LEVEL": "WARNING",
        }

    @property
    def settings(self) -> Settings:
        settings: Settings = self.app.config["SETTINGS"]
        return settings

    def add_agent(self, phone: str, queues: str = "orders", status: str = "available") -> int:
        """Register an agent through the admin API and set their status."""
        created = self.api(
            "POST", "/api/agents", json={"name": f"Agent {phone[-4:]}", "phone": phone, "queues": queues}
        )
        assert created.status_code == 201, created.text
        agent_id = int(created.json()["id"])
        if status != "offline":
            self.set_agent_status(agent_id, status)
        return agent_id

    def set_agent_status(self, agent_id: int, status: str) -> None:
        """Change an agent's status through the admin API, as their screen or a supervisor does."""
        changed = self.api("POST", f"/api/agents/{agent_id}/status", json={"status": status})
        assert changed.status_code == 200, changed.text

    def ask(self, phone: str, topic: str = "orders", **extra: Any) -> str:
        """Ask for a callback through the JSON API; returns its reference."""
        body = {"phone": phone, "name": "Casey Jones", "topic": topic, "consent": True, **extra}
        response = self.api("POST", "/api/callbacks", json=body)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def request(self, ref: str) -> CallbackRequest:
        with get_db(self.app).sessions() as session:
            req = session.scalar(select(CallbackRequest).where(CallbackRequest.ref == ref))
            assert req is not None
            req.call_attempts  # noqa: B018 - load before the session closes
            return req

    def attempts(self, ref: str) -> list[CallAttempt]:
        with get_db(self.app).sessions() as session:
            req = session.scalar(select(CallbackRequest).where(CallbackRequest.ref == ref))
            assert req is not None
            return list(req.call_attempts)

    def agent(self, agent_id: int) -> Agent:
        with get_db(self.app).sessions() as session:
            agent = session.get(Agent, agent_id)
            assert agent is not None
            return agent

    def wait(self, what: Callable[[], Any], timeout: float = 20.0, message: str = "") -> Any:
        """Poll until `what()` is truthy; fail with `message` after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = what()
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(message or f"condition not met within {timeout}s")

    def wait_status(self, ref: str, *statuses: str, timeout: float = 20.0) -> CallbackRequest:
        """Wait until the request is in one of `statuses`."""
        result: CallbackRequest = self.wait(
            lambda: (req := self.request(ref)).status in statuses and req,
            timeout,
            f"request never became {statuses}; it is {self.request(ref).status}",
        )
        return result


def start_system(
    tmp_path: Path, database_url: str | None = None, **overrides: Any
) -> tuple[System, Callable[[], None]]:
    """Start sandbox and app (with its in-process scheduler); returns the system and a stop function."""
    from agents.service import ensure_default_queues, update_queue
    from app import create_app

    app_port = free_port()
    app_url = f"http://127.0.0.1:{app_port}"
    base = Settings(
        app_env="testing",
        public_base_url=app_url,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        twilio_caller_id=SHOP_NUMBER,
        sandbox_speed=SPEED,
        sandbox_cps=1000.0,
    )
    sandbox = SandboxServer(base).start()
    if database_url is None:
        url = sqlite_with_schema(tmp_path / "e2e.sqlite3")
    else:
        url = database_url
        engine = make_engine(url)
        Base.metadata.create_all(engine)
        engine.dispose()
    config = {
        "app_env": "testing",
        "database_url": url,
        "public_base_url": app_url,
        "twilio_account_sid": ACCOUNT_SID,
        "twilio_auth_token": AUTH_TOKEN,
        "twilio_caller_id": SHOP_NUMBER,
        "twilio_api_base": sandbox.base_url,
        "twilio_cps": 50.0,
        "ring_timeout_seconds": 20,
        "scheduler": True,
        # Scenarios retry within seconds; the bound itself is tested with its own value.
        "min_seconds_between_calls": 1,
        # The database's time budget per web request (2 s in production) is tested on its own, with the
        # database locked (test_database_outage.py); here a 2-core machine running the scheduler, the
        # sandbox and the app at once must not turn an ordinary lock wait into an apology.
        "database_timeout_seconds": 10.0,
        **overrides,
    }
    app = create_app(config)
    with get_db(app).sessions() as session:
        ensure_default_queues(session, SHOP_NUMBER)
        for name in ("orders", "returns"):
            # Round the clock, quick retries and wrap-up, so scenarios finish in seconds.
            update_queue(
                session,
                name,
                {"hours": "24/7", "backoff_seconds": "1", "wrap_up_seconds": 1, "max_attempts": 3},
            )
    server = make_server("127.0.0.1", app_port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()

    def stop() -> None:
        if "jobs" in app.extensions:
            app.extensions["jobs"].shutdown()
        server.shutdown()
        server.server_close()
        sandbox.stop()
        get_db(app).engine.dispose()

    return System(app, app_url, sandbox, url), stop


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    """A fresh app and sandbox for one test."""
    running, stop = start_system(tmp_path)
    yield running
    stop()
