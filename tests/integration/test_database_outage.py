"""When the database fails, callers hear calm words and clients are told when to come back (issue 13, item 6).

The app through Flask's test client, on each backend: a database held locked past the request's budget
(SQLite: another connection's BEGIN IMMEDIATE; PostgreSQL: an ACCESS EXCLUSIVE table lock), a PostgreSQL
server that never answers and one that refuses; the fallback URL Twilio turns to; the fallback URL set on
the number and on every call placed. tests/e2e/test_database_outage.py runs it through the sandbox.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import sqlite3
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator
from werkzeug.test import TestResponse

from core.clock import FixedClock
from core.config import Settings
from core.db import Database, get_db, make_engine
from telephony.fake import FakeTelephony
from telephony.sandbox import SandboxServer
from tests import factories
from tests.ports import free_port

BASE = "https://shop.example"
CALL_SID = "CA" + "5" * 32
SHOP_NUMBER = "+15005550006"
FALLBACK_LINE = "+12125550188"
ASK = {"phone": "+12015550123", "name": "Ana", "topic": "orders", "consent": True}
# The budget these tests give the database, and what the issue asks: every webhook answered within 5 s
# (Twilio waits 15). On an idle machine a webhook answers in the budget plus a few milliseconds; SQLite's
# busy handler counts the sleeps it asks for, not the time they take, so a starved machine stretches it.
BUDGET = 1.0
ANSWER_WITHIN = 5.0


def build(database_url: str, clock: FixedClock | None = None, seed: bool = True, **settings: Any) -> Flask:
    from agents.service import ensure_default_queues
    from app import create_app

    config = {
        "app_env": "testing",
        "database_url": database_url,
        "public_base_url": BASE,
        "database_timeout_seconds": BUDGET,
        **settings,
    }
    app = create_app(config, clock)
    if seed:
        with get_db(app).sessions() as s:
            ensure_default_queues(s, SHOP_NUMBER)
    return app


@contextmanager
def generous_budget(app: Flask) -> Iterator[None]:
    """The app's requests with a database budget no loaded machine runs out of: for a test's setup, which
    must not meet the outage's one-second budget before the outage (a starved machine once did, and the
    form's page came back as the apology, without the token the test needed)."""
    settings = app.config["SETTINGS"]
    app.config["SETTINGS"] = replace(settings, database_timeout_seconds=10.0)
    try:
        yield
    finally:
        app.config["SETTINGS"] = settings


def signed(app: Flask, client: FlaskClient, path: str, **form: str) -> TestResponse:
    """A webhook as Twilio sends it, signed with the app's auth token."""
    fields = {
        "CallSid": CALL_SID,
        "AccountSid": "AC" + "0" * 32,
        "From": "+12015550166",
        "To": SHOP_NUMBER,
        "CallStatus": "ringing",
        "Direction": "inbound",
        **form,
    }
    token = app.config["SETTINGS"].twilio_auth_token
    signature = RequestValidator(token).compute_signature(BASE + path, fields)
    return client.post(path, data=fields, headers={"X-Twilio-Signature": signature})


def verbs(response: TestResponse) -> list[ET.Element]:
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "text/xml"
    return list(ET.fromstring(response.get_data(as_text=True)))


def spoken(elements: list[ET.Element]) -> str:
    return " ".join((v.text or "") for v in elements if v.tag == "Say")


@contextmanager
def locked(database_url: str) -> Iterator[None]:
    """Another connection holds the database so that nothing can write (SQLite) or touch the callback
    and phone-menu tables (PostgreSQL) until the block ends."""
    if database_url.startswith("sqlite"):
        holder = sqlite3.connect(database_url.removeprefix("sqlite:///"), timeout=5, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        return
    engine = make_engine(database_url)
    with engine.connect() as conn:
        conn.execute(text("LOCK TABLE callback_requests, call_attempts, ivr_sessions IN ACCESS EXCLUSIVE MODE"))
        try:
            yield
        finally:
            conn.rollback()
    engine.dispose()


@contextmanager
def silent_server() -> Iterator[int]:
    """A port that accepts TCP connections and never says a word: a PostgreSQL server that hangs."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield int(listener.getsockname()[1])


def closed_port() -> int:
    return free_port()


def timed(call: Any) -> tuple[Any, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


# -- a database held locked past the budget ------------------------------------------------------------------


def test_a_webhook_answers_the_apology_within_its_budget_while_the_database_is_locked(
    database_url: str, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    app = build(database_url, clock)
    client = app.test_client()
    with locked(database_url), caplog.at_level(logging.ERROR):
        response, seconds = timed(lambda: signed(app, client, "/voice/incoming"))
    answer = verbs(response)
    assert [v.tag for v in answer] == ["Say", "Hangup"]
    assert "Sorry, something went wrong" in spoken(answer) and "call us again" in spoken(answer)
    assert seconds < ANSWER_WITHIN, f"the webhook took {seconds:.1f} s"
    # One line, with the call's SID and the cause, no traceback: an outage is not a bug.
    lines = [r for r in caplog.records if "database is unavailable" in r.getMessage()]
    assert len(lines) == 1 and getattr(lines[0], "call_sid", None) == CALL_SID and lines[0].exc_info is None
    # The database back: the same call is greeted by the menu, with no one doing anything.
    with generous_budget(app):
        again = verbs(signed(app, client, "/voice/incoming"))
    assert [v.tag for v in again][0] == "Gather"
    get_db(app).engine.dispose()


def test_with_a_fallback_number_the_caller_is_put_through_to_it_while_the_database_is_locked(
    database_url: str, clock: FixedClock
) -> None:
    app = build(database_url, clock, voice_fallback_number=FALLBACK_LINE)
    client = app.test_client()
    with locked(database_url):
        answer = verbs(signed(app, client, "/voice/incoming"))
        # A callback we placed is not put through: the line tries the customer again later.
        ours = verbs(signed(app, client, "/voice/ivr/input?node=main", Direction="outbound-api", Digits="1"))
    assert [v.tag for v in answer] == ["Say", "Dial"] and (answer[1].text or "").strip() == FALLBACK_LINE
    assert [v.tag for v in ours] == ["Say", "Hangup"]
    get_db(app).engine.dispose()


def test_the_api_answers_503_with_retry_after_and_the_form_a_friendly_page(
    database_url: str, clock: FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.integration.test_callback_pages import FORM, csrf_token

    app = build(database_url, clock)
    client = app.test_client()
    with generous_budget(app):
        before = client.post("/api/callbacks", json=ASK)
        assert before.status_code == 201
        ref = before.get_json()["id"]
        token = csrf_token(client)
    with locked(database_url), caplog.at_level(logging.ERROR):
        status = client.get(f"/api/callbacks/{ref}")
        api, api_seconds = timed(lambda: client.post("/api/callbacks", json={**ASK, "topic": "returns"}))
        form, form_seconds = timed(
            lambda: client.post("/callback", data={**FORM, "phone": "2015550124", "csrf_token": token})
        )
        # A Spanish-first browser (es-US before en) gets the apology in Spanish, as every customer page.
        spanish = client.post(
            "/callback",
            data={**FORM, "phone": "2015550125", "csrf_token": token},
            headers={"Accept-Language": "es-US,en;q=0.5"},
        )
    assert api.status_code == 503 and api.headers["Retry-After"] == "30"
    assert api.get_json()["error"]["code"] == "unavailable"
    documented = client.get("/api/openapi.json").get_json()["paths"]["/api/callbacks"]["post"]["responses"]["503"]
    assert "Retry-After" in documented["headers"]
    assert form.status_code == 503 and form.headers["Retry-After"] == "30"
    page = form.get_data(as_text=True)
    assert "having trouble" in page and "Traceback" not in page
    assert spanish.status_code == 503 and '<html lang="es">' in spanish.get_data(as_text=True)
    assert max(api_seconds, form_seconds) < ANSWER_WITHIN
    if database_url.startswith("sqlite"):
        assert status.status_code == 200  # WAL: a writer holding the lock does not hold up readers
    else:
        assert status.status_code == 503
        lines = [r.getMessage() for r in caplog.records]
        assert "GET /api/callbacks/<ref> answered 503" in " ".join(lines)
        assert not any(ref in line for line in lines)  # the reference is the status page's secret
    # Nothing accepted before is lost, and the API takes requests again by itself.
    with generous_budget(app):
        assert client.get(f"/api/callbacks/{ref}").status_code == 200
        assert client.post("/api/callbacks", json={**ASK, "topic": "returns"}).status_code == 201
    get_db(app).engine.dispose()


def test_a_request_stored_before_the_database_slows_is_answered_201_not_503(
    database_url: str, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Once the request is committed, a read that runs out of time must not tell the client it failed:
    it would ask again and be told it already had."""
    from sqlalchemy.exc import OperationalError

    from callback import api, openapi
    from callback.models import CallbackRequest

    app = build(database_url, clock)

    def too_slow(*_args: Any, **_kwargs: Any) -> Any:
        raise OperationalError("SELECT ...", {}, Exception("canceling statement due to statement timeout"))

    monkeypatch.setattr(api, "callback_json", too_slow)  # its place in line is read after the commit
    answer = app.test_client().post("/api/callbacks", json={**ASK, "language": "es"})

    assert answer.status_code == 201
    body = answer.get_json()
    assert body["status"] == "queued" and body["position"] is None and body["language"] == "es"
    # Every field of the answer's schema, as when the database is quick: a typed client must not break.
    assert set(body) == set(openapi.document("http://x")["components"]["schemas"]["Callback"]["properties"])
    assert (body["topic"], body["attempts"], body["phone"].endswith("0123")) == (ASK["topic"], 0, True)
    with get_db(app).sessions() as s:
        stored = s.scalar(select(CallbackRequest).where(CallbackRequest.ref == body["id"]))
        assert stored is not None and stored.language == "es"  # stored with its language, in one commit
    get_db(app).engine.dispose()


def test_healthz_answers_json_when_its_checks_run_out_of_database_time(
    database_url: str, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SELECT 1 answered, then a check ran out of the budget: a monitor still gets JSON, not a page."""
    from core.db import DatabaseTimeout

    app = build(database_url, clock)

    def out_of_time(*_args: Any) -> None:
        raise DatabaseTimeout("the database did not answer within the request's time budget")

    app.extensions["health_checks"] = [out_of_time]
    health = app.test_client().get("/healthz")

    assert health.status_code == 503 and health.mimetype == "application/json"
    assert health.get_json() == {"status": "unavailable", "database": "down"}
    get_db(app).engine.dispose()


# -- a PostgreSQL server that hangs or refuses (no server needed) ---------------------------------------------


@pytest.mark.parametrize("server", ["silent", "refusing"])
def test_a_postgres_server_that_hangs_or_refuses_gets_the_fallback_in_time(server: str) -> None:
    with silent_server() as silent:
        port = silent if server == "silent" else closed_port()
        app = build(f"postgresql+psycopg://callme@127.0.0.1:{port}/callme", seed=False)
        client = app.test_client()
        call, call_seconds = timed(lambda: signed(app, client, "/voice/incoming"))
        api, api_seconds = timed(lambda: client.post("/api/callbacks", json=ASK))
        health = client.get("/healthz")
    answer = verbs(call)
    assert [v.tag for v in answer] == ["Say", "Hangup"] and "Sorry" in spoken(answer)
    assert api.status_code == 503 and api.headers["Retry-After"] == "30"
    assert health.status_code == 503
    # A silent server is given the connect timeout (2 s, libpq's least), then the webhook answers.
    assert call_seconds < ANSWER_WITHIN and api_seconds < ANSWER_WITHIN, (call_seconds, api_seconds)
    get_db(app).engine.dispose()


class FreezingProxy:
    """A TCP proxy in front of PostgreSQL that can freeze: it stops passing bytes both ways while the
    connections stay open, and the kernel still takes what the app sends. The server looks as a frozen
    PostgreSQL (kill -STOP), a stalled disk or VM, or a network gone dark does: it never answers, not
    even to cancel a statement."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.running = threading.Event()
        self.running.set()
        self.closed = threading.Event()
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.closed.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            for sock in (client, upstream):
                sock.settimeout(0.05)  # the pumps look up every 50 ms, to freeze and to close
            self.sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        while not self.closed.is_set():
            self.running.wait(0.05)
            if not self.running.is_set():
                continue
            try:
                data = source.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
            if not data:
                break
            try:
                sink.sendall(data)
            except OSError:
                break
        for sock in (source, sink):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def freeze(self, seconds: float) -> None:
        """Freeze for `seconds` at most (the issue measured 15 s), so that an app that waits it out
        fails its timing assertions rather than hanging the suite."""
        self.running.clear()
        thaw = threading.Timer(seconds, self.thaw)
        thaw.daemon = True
        thaw.start()

    def thaw(self) -> None:
        self.running.set()

    def close(self) -> None:
        self.closed.set()
        self.listener.close()
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.close()


@pytest.mark.postgres
def test_a_postgres_server_that_freezes_mid_call_gets_the_fallback_in_time_and_everything_resumes(
    database_url: str,
) -> None:
    url = make_url(database_url)
    proxy = FreezingProxy(url.host or "127.0.0.1", url.port or 5432)
    try:
        app = build(url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False))
        client = app.test_client()
        before = client.post("/api/callbacks", json=ASK)
        assert before.status_code == 201
        assert verbs(signed(app, client, "/voice/incoming"))  # the pool's connections are open and in use

        proxy.freeze(15)
        call, call_seconds = timed(lambda: signed(app, client, "/voice/incoming", CallSid="CA" + "6" * 32))
        api, api_seconds = timed(lambda: client.post("/api/callbacks", json={**ASK, "phone": "+12015550124"}))
        health, health_seconds = timed(lambda: client.get("/healthz"))
        proxy.thaw()

        answer = verbs(call)
        assert [v.tag for v in answer] == ["Say", "Hangup"] and "Sorry" in spoken(answer)
        assert api.status_code == 503 and api.headers["Retry-After"] == "30"
        assert health.status_code == 503
        # The budget (1 s) and the cut after it: never the freeze's length, nor Twilio's 15 s.
        assert max(call_seconds, api_seconds, health_seconds) < ANSWER_WITHIN, (call_seconds, api_seconds)
        # Thawed, it works again by itself, and what was accepted before is there.
        assert client.get("/healthz").status_code == 200
        again = client.get(f"/api/callbacks/{before.get_json()['id']}")
        assert again.status_code == 200 and again.get_json()["status"] == "queued"
        get_db(app).engine.dispose()
    finally:
        proxy.close()


# -- the fallback URL -----------------------------------------------------------------------------------------


def test_the_fallback_url_answers_without_any_database(caplog: pytest.LogCaptureFixture) -> None:
    app = build(f"postgresql+psycopg://callme@127.0.0.1:{closed_port()}/callme", seed=False)
    client = app.test_client()
    failed = f"{BASE}/voice/callback/answer?attempt=7"
    with caplog.at_level(logging.ERROR):
        response, seconds = timed(
            lambda: signed(app, client, "/voice/fallback", ErrorCode="11200", ErrorUrl=failed, Direction="outbound-api")
        )
    answer = verbs(response)
    assert [v.tag for v in answer] == ["Say", "Hangup"] and "Sorry" in spoken(answer)
    assert seconds < 1.0
    line = next(r for r in caplog.records if "fallback URL" in r.getMessage())
    assert getattr(line, "code", None) == "11200" and getattr(line, "call_sid", None) == CALL_SID
    assert getattr(line, "url", None) == f"{BASE}/voice/callback/answer"
    # Only Twilio may ask it: a request without a valid signature is refused.
    assert client.post("/voice/fallback", data={"CallSid": CALL_SID}).status_code == 403
    get_db(app).engine.dispose()


def test_the_fallback_url_puts_a_caller_through_to_the_fallback_number() -> None:
    app = build(f"postgresql+psycopg://callme@127.0.0.1:{closed_port()}/callme", seed=False)
    app.extensions["voice_fallback_number"] = FALLBACK_LINE
    answer = verbs(signed(app, app.test_client(), "/voice/fallback", ErrorCode="11205"))
    assert [v.tag for v in answer] == ["Say", "Dial"] and (answer[1].text or "").strip() == FALLBACK_LINE
    get_db(app).engine.dispose()


@pytest.fixture
def sandbox() -> Iterator[tuple[SandboxServer, Settings]]:
    settings = Settings(
        app_env="testing",
        public_base_url="https://callme.example",
        twilio_account_sid="AC" + "f" * 32,
        twilio_auth_token="outage-auth-token",
        twilio_caller_id=SHOP_NUMBER,
        sandbox_speed=50.0,
        sandbox_cps=1000.0,
    ).completed()
    server = SandboxServer(settings).start()
    yield server, replace(settings, twilio_api_base=server.base_url)
    server.stop()


def test_configure_number_sets_the_voice_fallback_url(sandbox: tuple[SandboxServer, Settings]) -> None:
    from telephony.cli import init_app

    server, settings = sandbox
    app = Flask("configure-number")
    app.config["SETTINGS"] = settings
    init_app(app)
    result = app.test_cli_runner().invoke(args=["twilio", "configure-number", SHOP_NUMBER])
    assert result.exit_code == 0, result.output
    numbers = requests.get(
        f"{server.base_url}/2010-04-01/Accounts/{settings.twilio_account_sid}/IncomingPhoneNumbers.json",
        params={"PhoneNumber": SHOP_NUMBER},
        auth=(settings.twilio_account_sid, settings.twilio_auth_token),
        timeout=5,
    ).json()["incoming_phone_numbers"]
    assert numbers[0]["voice_fallback_url"] == "https://callme.example/voice/fallback"
    assert numbers[0]["voice_fallback_method"] == "POST"


@pytest.mark.parametrize("agent_first", [False, True])
def test_every_call_the_dispatcher_places_carries_the_fallback_url(
    db: Database, session: Session, clock: FixedClock, agent_first: bool
) -> None:
    from agents.models import Queue
    from scheduler.dispatcher import Dispatcher

    if agent_first:
        orders = session.scalar(select(Queue).where(Queue.name == "orders"))
        assert orders is not None
        orders.dial_strategy = "agent_first"
        session.commit()
    factories.agent(session, clock.now())
    factories.request(session, clock.now())
    fake = FakeTelephony()
    settings = Settings(app_env="testing", public_base_url=BASE, twilio_cps=1000.0).completed()
    assert Dispatcher(db, fake, clock, settings, sleep=lambda _s: None).run_once() == 1
    [placed] = fake.calls.values()
    assert placed.fallback_url == f"{BASE}/voice/fallback"
