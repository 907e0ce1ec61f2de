"""Test harness for the sandbox: a webhook server that checks signatures, and the control API client."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from flask import Flask, Response, request
from twilio.request_validator import RequestValidator

ACCOUNT_SID = "AC" + "a" * 32
AUTH_TOKEN = "sandbox-test-token"
OUR_NUMBER = "+15005550006"
SPEED = 50.0

# The werkzeug servers' access logs drown the useful output of a failing test.
logging.getLogger("werkzeug").setLevel(logging.WARNING)

Handler = Callable[[dict[str, str]], "str | tuple[str, int] | Response"]


@dataclass
class Hit:
    """One webhook request the app received."""

    path: str
    method: str
    form: dict[str, str]
    signature_ok: bool


@dataclass
class WebhookApp:
    """A webhook server whose routes tests set; it checks every signature as the real app would."""

    base_url: str = ""
    routes: dict[str, Handler | str] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        """Absolute URL of a path on this server."""
        return self.base_url + path

    def on(self, path: str, answer: Handler | str) -> str:
        """Answer `path` with fixed TwiML or a function of the form; returns the absolute URL."""
        self.routes[path] = answer
        return self.url(path)

    def requests_to(self, path: str) -> list[Hit]:
        """The hits on one path, in arrival order."""
        with self.lock:
            return [hit for hit in self.hits if hit.path == path]

    def wait_for(self, path: str, count: int = 1, timeout: float = 5.0) -> list[Hit]:
        """Wait until `path` got at least `count` requests."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            hits = self.requests_to(path)
            if len(hits) >= count:
                return hits
            time.sleep(0.01)
        raise AssertionError(f"{path} got {len(self.requests_to(path))} requests, expected {count}")


def webhook_flask(hooks: WebhookApp) -> Flask:
    app = Flask("webhooks")
    validator = RequestValidator(AUTH_TOKEN)

    @app.route("/<path:path>", methods=["GET", "POST"])
    def any_path(path: str) -> Response:
        full_path = "/" + path
        query = request.query_string.decode()
        url = hooks.base_url + full_path + (f"?{query}" if query else "")
        params = request.form if request.method == "POST" else {}
        ok = validator.validate(url, params, request.headers.get("X-Twilio-Signature", ""))
        form = dict(request.form) if request.method == "POST" else dict(request.args)
        with hooks.lock:
            hooks.hits.append(Hit(full_path, request.method, form, ok))
        answer = hooks.routes.get(full_path, "<Response/>")
        result = answer(form) if callable(answer) else answer
        if isinstance(result, Response):
            return result  # anything other than TwiML, such as audio for a <Play>
        body, status = result if isinstance(result, tuple) else (result, 200)
        return Response(body, status=status, mimetype="text/xml")

    return app


@dataclass
class Control:
    """The sandbox's /sandbox/ endpoints."""

    base_url: str

    def phone(self, address: str, **behaviour: Any) -> None:
        """Give a virtual phone a behaviour."""
        response = requests.put(f"{self.base_url}/sandbox/phones/{address}", json=behaviour, timeout=5)
        assert response.status_code == 200, response.text

    def call_in(self, from_: str, to: str = OUR_NUMBER, **extra: Any) -> str:
        """Start an inbound call from a virtual phone; returns its sid."""
        response = requests.post(f"{self.base_url}/sandbox/calls", json={"from": from_, "to": to, **extra}, timeout=5)
        assert response.status_code == 201, response.text
        return response.json()["sid"]

    def call(self, sid: str) -> dict[str, Any]:
        """A call with its timeline."""
        response = requests.get(f"{self.base_url}/sandbox/calls/{sid}", timeout=5)
        assert response.status_code == 200, response.text
        return response.json()

    def wait_final(self, sid: str, timeout: float = 10.0) -> dict[str, Any]:
        """Wait until the call has a final status; returns it with its timeline."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            call = self.call(sid)
            if call["status"] in {"completed", "busy", "failed", "no-answer", "canceled"}:
                return call
            time.sleep(0.02)
        raise AssertionError(f"call {sid} still {self.call(sid)['status']} after {timeout}s")

    def wait_status(self, sid: str, status: str, timeout: float = 10.0) -> dict[str, Any]:
        """Wait until the call reaches `status`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            call = self.call(sid)
            if call["status"] == status:
                return call
            time.sleep(0.01)
        raise AssertionError(f"call {sid} is {self.call(sid)['status']}, never {status}")


def events(call: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    """The timeline events of one type."""
    return [event for event in call["timeline"] if event["type"] == kind]


def wait_until(predicate: Callable[[], Any], timeout: float = 5.0, what: str = "condition") -> Any:
    """Poll until `predicate()` is truthy and return it (for what the sandbox logs just after answering)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            break
        time.sleep(0.01)
    assert value, f"{what} not reached within {timeout}s"
    return value
