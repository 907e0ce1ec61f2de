"""Hostile input over HTTP gets a 4xx or a TwiML answer, never a 500 and never a long read.

Bodies too large, JSON nested 200,000 deep, odd bearer tokens, an order service that answers with a
bomb, a voice webhook that breaks, and transcripts written to be slow.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask, Response
from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator
from werkzeug.serving import make_server

from core.clock import FixedClock
from core.db import get_db
from orders.http import HttpOrderLookup
from orders.port import LookupUnavailable

BASE = "https://shop.example"
DEEP = "[" * 200_000 + "]" * 200_000
ASK = {"phone": "+12015550123", "name": "Ann Lee", "topic": "orders", "consent": True}


@contextmanager
def serving(app: Any) -> Iterator[str]:
    """Serve a WSGI app on a free port of 127.0.0.1 in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


def build(database_url: str, clock: FixedClock, **settings: Any) -> Flask:
    from agents.service import ensure_default_queues
    from app import create_app

    # The request's database budget is tested on its own (test_database_outage.py); here, as in the
    # shared app fixture, it is generous: a loaded 2-core machine once took over 2 s for a first ask.
    config = {"app_env": "testing", "database_url": database_url, "public_base_url": BASE}
    app = create_app({**config, "database_timeout_seconds": 10.0, **settings}, clock)
    with get_db(app).sessions() as s:
        ensure_default_queues(s, "+15005550006")
    return app


def signed(app: Flask, client: FlaskClient, path: str, **form: str) -> Any:
    """A webhook as Twilio sends it, signed with the app's auth token."""
    fields = {
        "CallSid": "CA" + "7" * 32,
        "AccountSid": "AC" + "0" * 32,
        "From": "+12015550166",
        "To": "+15005550006",
        "CallStatus": "in-progress",
        "Direction": "inbound",
        **form,
    }
    token = app.config["SETTINGS"].twilio_auth_token
    signature = RequestValidator(token).compute_signature(BASE + path, fields)
    return client.post(path, data=fields, headers={"X-Twilio-Signature": signature})


def twiml(response: Any) -> list[ET.Element]:
    """The verbs of a TwiML answer, parsed."""
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.mimetype == "text/xml"
    root = ET.fromstring(response.data)
    assert root.tag == "Response"
    return list(root)


def spoken(verbs: list[ET.Element]) -> str:
    return " ".join(el.text or "" for verb in verbs for el in verb.iter() if el.tag == "Say")


# -- bodies -----------------------------------------------------------------------------------------------


def test_a_huge_body_is_refused_413_from_its_content_length_without_reading_it(app: Flask) -> None:
    with serving(app) as url:
        port = int(url.rsplit(":", 1)[1])
        answers: list[tuple[str, float]] = []

        def post() -> None:
            started = time.monotonic()
            with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
                conn.sendall(
                    b"POST /api/callbacks HTTP/1.1\r\nHost: shop\r\nContent-Type: application/json\r\n"
                    b'Content-Length: 104857600\r\n\r\n{"phone": "'
                )
                status = conn.recv(200).split(b"\r\n", 1)[0].decode()
            answers.append((status, time.monotonic() - started))

        posts = [threading.Thread(target=post) for _ in range(4)]
        for thread in posts:
            thread.start()
        for thread in posts:
            thread.join(15)
    assert len(answers) == 4
    for status, seconds in answers:
        assert " 413 " in status and seconds < 2


def test_a_form_over_the_limit_is_413(client: FlaskClient) -> None:
    response = client.post("/callback", data={"name": "x" * 70_000})
    assert response.status_code == 413


def test_the_api_says_413_in_its_error_shape(client: FlaskClient) -> None:
    response = client.post("/api/callbacks", data="x" * 70_000, content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"


@pytest.mark.parametrize("body", [DEEP[:60_000], '{"a":' * 10_000 + "1" + "}" * 10_000])
def test_deeply_nested_json_is_malformed_input_not_a_crash(client: FlaskClient, body: str) -> None:
    response = client.post("/api/callbacks", data=body, content_type="application/json")
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "bad_json"


def test_deeply_nested_json_to_the_admin_api_is_a_4xx(client: FlaskClient, admin_headers: dict[str, str]) -> None:
    response = client.post("/api/agents", data=DEEP[:60_000], content_type="application/json", headers=admin_headers)
    assert 400 <= response.status_code < 500


@pytest.mark.parametrize("token", ["Bearer tökén", "Bearer \u202edev-admin-token", "Bearer ☎☎☎"])
def test_a_non_ascii_bearer_token_is_401(client: FlaskClient, token: str) -> None:
    response = client.get("/api/agents", headers={"Authorization": token.encode().decode("latin-1")})
    assert response.status_code == 401


# -- the order service ------------------------------------------------------------------------------------


def order_bomb() -> Flask:
    """An order service that answers every question with JSON nested 200,000 levels deep."""
    service = Flask("order-bomb")

    @service.get("/<path:anything>")
    def bomb(anything: str) -> Response:
        return Response('{"orders": ' + DEEP[:400_000] + "}", mimetype="application/json")

    return service


def test_an_order_service_answering_deep_json_is_lookup_unavailable() -> None:
    with serving(order_bomb()) as url:
        lookup = HttpOrderLookup(url)
        with pytest.raises(LookupUnavailable):
            lookup.order("112-4455667-1234567")
        with pytest.raises(LookupUnavailable):
            lookup.return_for("RMA-700112")


def test_a_caller_hears_a_transfer_not_an_application_error_when_the_order_service_misbehaves(
    database_url: str, clock: FixedClock
) -> None:
    with serving(order_bomb()) as url:
        app = build(database_url, clock, order_api_url=url)
        client = app.test_client()
        # /voice/incoming looks up the caller's recent orders; tracking looks up the order keyed in.
        assert twiml(signed(app, client, "/voice/incoming"))
        assert twiml(signed(app, client, "/voice/ivr/input?node=main", Digits="1"))
        answer = twiml(signed(app, client, "/voice/ivr/input?node=track_order&mode=ref", Digits="11244556671234567"))
        assert "can't" in spoken(answer).lower() or "cannot" in spoken(answer).lower()
        get_db(app).engine.dispose()


# -- the last resort of every voice webhook ----------------------------------------------------------------


class BrokenTree:
    """Stands in for the phone tree and fails on any use, as an unforeseen bug would."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"the tree broke reading {name}")


def test_an_unexpected_error_in_a_voice_webhook_answers_an_apology_in_twiml(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    app.extensions["ivr_tree"] = BrokenTree()
    with caplog.at_level(logging.ERROR):
        verbs = twiml(signed(app, client, "/voice/incoming"))
    assert [v.tag for v in verbs] == ["Say", "Hangup"]
    assert "Sorry" in spoken(verbs)
    assert any("CA" + "7" * 32 in r.getMessage() for r in caplog.records)


def test_with_a_fallback_line_an_inbound_caller_is_put_through_to_it(database_url: str, clock: FixedClock) -> None:
    app = build(database_url, clock, voice_fallback_number="+12125550188")
    app.extensions["ivr_tree"] = BrokenTree()
    client = app.test_client()
    verbs = twiml(signed(app, client, "/voice/incoming"))
    assert [v.tag for v in verbs] == ["Say", "Dial"]
    assert (verbs[1].text or "").strip() == "+12125550188"
    # An agent's leg (a whisper, say) is never dialled onwards: it hears the apology and hangs up.
    leg = twiml(signed(app, client, "/voice/incoming", Direction="outbound-dial", CallSid="CA" + "8" * 32))
    assert [v.tag for v in leg] == ["Say", "Hangup"]
    get_db(app).engine.dispose()


def test_a_forged_webhook_is_still_403_not_twiml(app: Flask, client: FlaskClient) -> None:
    response = client.post("/voice/incoming", data={"CallSid": "CA1"}, headers={"X-Twilio-Signature": "forged"})
    assert response.status_code == 403


def test_a_slow_to_parse_transcript_is_cut_short(app: Flask, client: FlaskClient) -> None:
    signed(app, client, "/voice/incoming")
    signed(app, client, "/voice/ivr/input?node=main", Digits="1")
    started = time.monotonic()
    answer = signed(app, client, "/voice/ivr/input?node=track_order&mode=ref", SpeechResult="oh " * 10_000 + "one")
    assert twiml(answer)
    assert time.monotonic() - started < 2


def test_json_bodies_that_are_fine_still_parse(client: FlaskClient) -> None:
    assert client.post("/api/callbacks", data=json.dumps(ASK), content_type="application/json").status_code == 201


# -- logs -----------------------------------------------------------------------------------------------


def test_with_json_logs_no_customer_reference_is_logged(
    database_url: str, clock: FixedClock, capfd: pytest.CaptureFixture[str]
) -> None:
    app = build(database_url, clock, log_format="json", log_level="DEBUG")
    client = app.test_client()
    ref = client.post("/api/callbacks", json=ASK).get_json()["id"]
    client.post("/api/callbacks", json=ASK)  # asked again
    client.get(f"/callback/{ref}")
    client.delete(f"/api/callbacks/{ref}")
    # The development server's access lines name the path; any line that does is redacted.
    logging.getLogger("tests.access").warning('127.0.0.1 - - "GET /callback/%s HTTP/1.1" 200 -', ref)
    # A secret passed along as an extra field prints as its repr does.
    token = app.config["SETTINGS"].admin_api_token
    logging.getLogger("tests.access").warning("admin call", extra={"token": token})
    lines = capfd.readouterr().err
    assert '"callback queued"' in lines and '"callback canceled"' in lines
    assert ref not in lines and token not in lines
    assert "/callback/<ref>" in lines
    get_db(app).engine.dispose()
