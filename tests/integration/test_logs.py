"""Quiet, useful logs (issue 13, item 4).

- every line about a callback request carries `request_id`, `attempt_id` and `call_sid` as fields, in
  text and in JSON, and never the request's reference (the secret that opens its status page);
- the twilio SDK's request dumps are DEBUG lines; an interval job's skipped tick is not a warning;
- the polling routes are out of the access logs (werkzeug's and gunicorn's) unless LOG_POLLING_REQUESTS.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from twilio.request_validator import RequestValidator
from werkzeug.serving import make_server

from callback.models import CallAttempt
from core import logs
from core.clock import FixedClock
from core.db import get_db
from telephony.twilio_adapter import build_client
from tests import factories
from tests.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
BASE = "https://shop.example"


def build(database_url: str, clock: FixedClock, **settings: Any) -> Flask:
    from agents.service import ensure_default_queues
    from app import create_app

    app = create_app({"app_env": "testing", "database_url": database_url, "public_base_url": BASE, **settings}, clock)
    with get_db(app).sessions() as s:
        ensure_default_queues(s, "+15005550006")
    return app


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    yield
    logs.keep_polling(False)
    logs.configure("text", "INFO")


# -- the request's fields ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_webhooks_lines_carry_request_attempt_and_call_sid_never_the_reference(
    log_format: str, database_url: str, clock: FixedClock, capfd: pytest.CaptureFixture[str]
) -> None:
    app = build(database_url, clock, log_format=log_format)
    with get_db(app).sessions() as session:
        req = factories.request(session, clock.now(), status="dialing")
        attempt = CallAttempt(request_id=req.id, call_sid="CA" + "1" * 32, created_at=clock.now())
        session.add(attempt)
        session.commit()
        request_id, attempt_id, ref = req.id, attempt.id, req.ref
    capfd.readouterr()
    # A webhook naming the attempt with another call's SID: the app logs a warning that itself names
    # only the attempt; the webhook's context adds the call SID and the request it loaded.
    path = f"/voice/callback/status?attempt={attempt_id}"
    other_call = "CA" + "2" * 32
    form = {"CallSid": other_call, "CallStatus": "completed", "Direction": "outbound-api"}
    signature = RequestValidator(app.config["SETTINGS"].twilio_auth_token).compute_signature(BASE + path, form)
    assert app.test_client().post(path, data=form, headers={"X-Twilio-Signature": signature}).status_code == 204
    err = capfd.readouterr().err
    line = next(x for x in err.splitlines() if "does not match its attempt" in x)
    if log_format == "json":
        fields = json.loads(line)
        assert (fields["request_id"], fields["attempt_id"], fields["call_sid"]) == (request_id, attempt_id, other_call)
        assert "attempt" not in fields  # the older name is printed under the field's name
    else:
        assert line.endswith(f"request_id={request_id} attempt_id={attempt_id} call_sid={other_call}")
    assert ref not in err
    get_db(app).engine.dispose()


def test_lines_outside_a_context_print_their_extra_fields_and_the_context_ends_with_it(
    capfd: pytest.CaptureFixture[str],
) -> None:
    logs.configure("text", "INFO")
    log = logging.getLogger("tests.logs")
    with logs.bound(call_sid="CA9", attempt_id=None):
        logs.bind(request_id=12)
        log.info("inside")
    log.info("outside", extra={"request": 5, "note": "two words"})
    err = capfd.readouterr().err.splitlines()
    assert err[0].endswith("inside request_id=12 call_sid=CA9")
    assert err[1].endswith('outside request_id=5 note="two words"')


# -- quiet by default -----------------------------------------------------------------------------------------


def test_the_twilio_sdks_request_dumps_are_debug_lines(capfd: pytest.CaptureFixture[str]) -> None:
    client = build_client("AC" + "3" * 32, "token", api_base=f"http://127.0.0.1:{free_port()}", timeout=1)

    def attempt_a_call() -> None:
        with pytest.raises(Exception):  # noqa: B017, PT011 - nothing listens there: any failure will do
            client.calls.create(to="+12015550123", from_="+15005550006", url="https://x.example/a")

    logs.configure("text", "INFO")
    attempt_a_call()
    quiet = capfd.readouterr().err
    logs.configure("text", "DEBUG")
    attempt_a_call()
    debug = capfd.readouterr().err
    assert "Twilio API Request" not in quiet
    assert "DEBUG twilio.http_client: -- BEGIN Twilio API Request --" in debug


def test_a_skipped_tick_is_not_a_warning_other_scheduler_warnings_are(capfd: pytest.CaptureFixture[str]) -> None:
    def run_ticks() -> None:
        scheduler = BackgroundScheduler()
        # A pass that outlasts its interval: the next runs are skipped while it goes on.
        scheduler.add_job(lambda: time.sleep(0.5), "interval", seconds=0.1, id="tick", max_instances=1)
        scheduler.start()
        time.sleep(0.9)
        scheduler.shutdown(wait=True)

    logs.configure("text", "INFO")
    run_ticks()
    logging.getLogger("apscheduler.executors.default").warning("Run time of job was missed by 0:00:05")
    quiet = capfd.readouterr().err
    logs.configure("text", "DEBUG")
    run_ticks()
    debug = capfd.readouterr().err
    assert "skipped" not in quiet and "was missed by" in quiet
    assert "DEBUG apscheduler.scheduler: Execution of job" in debug and "skipped" in debug


def test_polling_routes_are_polls_and_pages_are_not() -> None:
    polls = [
        ("GET", "/agent/state", ""),
        ("GET", "/board/state", ""),
        ("GET", "/sandbox/calls", ""),
        ("GET", "/sandbox/calls/CA123", ""),
        ("GET", "/sandbox/phones/+12015550123", ""),
        ("GET", "/sandbox/messages", ""),
        ("GET", "/callback/" + "r" * 22, "cors"),
    ]
    pages = [
        ("GET", "/agent", ""),
        ("GET", "/board", ""),
        ("POST", "/sandbox/calls", ""),
        ("GET", "/sandbox/", ""),
        ("GET", "/callback/" + "r" * 22, "navigate"),
        ("GET", "/callback/" + "r" * 22, ""),
        ("GET", "/callback/" + "r" * 22 + "/cancel", "cors"),
    ]
    assert all(logs.is_polling(*p) for p in polls)
    assert not any(logs.is_polling(*p) for p in pages)


def _serve(app: Flask) -> tuple[str, Any]:
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return f"http://127.0.0.1:{port}", server


def _visit(url: str) -> None:
    for path in ("/board/state", "/agent/state", "/healthz"):
        requests.get(url + path, timeout=5, allow_redirects=False)
    time.sleep(0.3)  # werkzeug writes its line after the answer


def test_the_development_servers_access_lines_leave_out_polls_unless_kept(
    database_url: str, clock: FixedClock, capfd: pytest.CaptureFixture[str]
) -> None:
    app = build(database_url, clock)
    url, server = _serve(app)
    werkzeug = logging.getLogger("werkzeug")
    level = werkzeug.level
    werkzeug.setLevel(logging.INFO)  # the sandbox's tests quiet it for the whole session
    try:
        capfd.readouterr()
        _visit(url)
        quiet = capfd.readouterr().err
        logs.keep_polling(True)
        _visit(url)
        kept = capfd.readouterr().err
    finally:
        werkzeug.setLevel(level)
        server.shutdown()
        get_db(app).engine.dispose()
    assert "GET /healthz" in quiet and "/board/state" not in quiet and "/agent/state" not in quiet
    assert "GET /board/state" in kept and "GET /agent/state" in kept


def _gunicorn_access_log(tmp_path: Path, keep: bool) -> str:
    port = free_port()
    access = tmp_path / f"access-{keep}.log"
    env = {
        **os.environ,
        "APP_ENV": "testing",
        "ALLOW_TESTING": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'gunicorn.sqlite3'}",
        "LOG_POLLING_REQUESTS": "1" if keep else "",
        "LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "ops/gunicorn_conf.py", "--bind", f"127.0.0.1:{port}"]
        + ["--workers", "1", "--access-logfile", str(access), "app:create_app()"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(url + "/healthz", timeout=5)
                break
            except requests.RequestException:
                time.sleep(0.1)
        ref = "Q" * 22
        for path in ("/board/state", "/agent/state"):
            requests.get(url + path, timeout=5, allow_redirects=False)
        requests.get(f"{url}/callback/{ref}", headers={"Sec-Fetch-Mode": "cors"}, timeout=5)
        requests.get(f"{url}/callback/{ref}", headers={"Sec-Fetch-Mode": "navigate"}, timeout=5)
    finally:
        process.terminate()
        process.wait(timeout=30)
    text = access.read_text()
    assert ref not in text  # the status page's reference is redacted in gunicorn's lines too
    return text


def test_gunicorns_access_log_leaves_out_polls_unless_kept(tmp_path: Path) -> None:
    quiet = _gunicorn_access_log(tmp_path, keep=False)
    kept = _gunicorn_access_log(tmp_path, keep=True)
    assert "GET /healthz" in quiet and "/board/state" not in quiet and "/agent/state" not in quiet
    # The status page opened is logged; its own refresh (a script's fetch) is not.
    assert quiet.count("GET /callback/<ref>") == 1
    assert "GET /board/state" in kept and "GET /agent/state" in kept and kept.count("GET /callback/<ref>") == 2


def test_gunicorns_own_lines_are_json_too_when_asked(tmp_path: Path) -> None:
    """LOG_FORMAT=json promises one JSON object per line: gunicorn's boot and shutdown lines included."""
    port = free_port()
    env = {
        **os.environ,
        "APP_ENV": "testing",
        "ALLOW_TESTING": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'gunicorn.sqlite3'}",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", "ops/gunicorn_conf.py", "--bind", f"127.0.0.1:{port}"]
        + ["--workers", "1", "app:create_app()"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5)
                break
            except requests.RequestException:
                time.sleep(0.1)
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    lines = [line for line in output.splitlines() if line.strip()]
    assert any("Booting worker" in line for line in lines), output
    for line in lines:
        record = json.loads(line)  # fails on any line that is not one JSON object
        assert {"ts", "level", "logger", "message"} <= set(record)


@pytest.mark.parametrize(
    "line",
    [
        '127.0.0.1 - - "GET /callback/{ref}?asked=asap HTTP/1.1" 200',
        '127.0.0.1 - - "GET /api/callbacks/{ref} HTTP/1.1" 200',
        '127.0.0.1 - - "GET /admin/requests?q={ref} HTTP/1.1" 302',  # a supervisor's search by reference
        '127.0.0.1 - - "GET /admin/requests?status=active&q={ref}&queue=orders HTTP/1.1" 200',
        '127.0.0.1 - - "GET /api/recordings?request={ref} HTTP/1.1" 200',
    ],
)
def test_a_reference_in_a_urls_path_or_query_never_reaches_a_line(line: str) -> None:
    ref = "Zq3_kR8x-Lm2Pn9VbT4wYg"
    redacted = logs.redact(line.format(ref=ref))
    assert ref not in redacted and "<ref>" in redacted
    # Words that only look like a query are left alone.
    assert logs.redact("GET /admin/requests?q=0123&queue=orders") == "GET /admin/requests?q=0123&queue=orders"
