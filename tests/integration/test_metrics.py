"""GET /metrics: who may read it, gauges equal to the database, counters counted where things happen."""

from __future__ import annotations

import os
import runpy
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask
from flask.testing import FlaskClient
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select, update
from twilio.request_validator import RequestValidator
from werkzeug.test import TestResponse

from agents.models import AGENT_STATUSES, Queue
from agents.service import update_queue
from callback import line, service
from callback.models import AgentLeg, CallAttempt, CallbackRequest
from callback.policy import Limits
from core.clock import FixedClock
from core.db import get_db, rows_changed
from core.phone import PhonePolicy
from scheduler.dispatcher import Dispatcher
from telephony.fake import FakeTelephony
from telephony.port import TelephonyError
from tests import factories

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "metrics-" + "k" * 40
# The public contract: every one of these is exported, whatever has happened yet.
EXPORTED = {
    "callme_requests_waiting": "gauge",
    "callme_callers_holding": "gauge",
    "callme_agents": "gauge",
    "callme_dialling_paused": "gauge",
    "callme_requests": "counter",
    "callme_calls_placed": "counter",
    "callme_webhooks": "counter",
    "callme_provider_errors": "counter",
    "callme_webhook_seconds": "histogram",
    "callme_dispatch_seconds": "histogram",
    "callme_wait_to_connect_seconds": "histogram",
}

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def parse(text: str) -> Samples:
    """Every sample of a scrape, by name and labels."""
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def scrape(client: FlaskClient) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    return parse(response.text)


def value(samples: Samples, name: str, **labels: str) -> float:
    """A sample's value; a series not created yet reads as zero, as Prometheus would take it."""
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def app_with(database_url: str, clock: FixedClock, **settings: object) -> Flask:
    from app import create_app

    return create_app(
        {"app_env": "testing", "database_url": database_url, "public_base_url": "https://shop.example", **settings},
        clock=clock,
    )


def post_signed(client: FlaskClient, app: Flask, path: str, params: Mapping[str, str]) -> TestResponse:
    settings = app.config["SETTINGS"]
    url = settings.public_base_url.rstrip("/") + path
    signature = RequestValidator(settings.twilio_auth_token).compute_signature(url, dict(params))
    response = client.post(path, data=dict(params), headers={"X-Twilio-Signature": signature})
    assert response.status_code in {200, 204}, response.text
    return response


# Who may read it ------------------------------------------------------------------------------------


def test_with_a_token_only_its_bearer_may_read_the_metrics(database_url: str, clock: FixedClock) -> None:
    client = app_with(database_url, clock, metrics_token=TOKEN).test_client()

    missing = client.get("/metrics")
    wrong = client.get("/metrics", headers={"Authorization": "Bearer " + "x" * len(TOKEN)})
    basic = client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"})
    right = client.get(
        "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}, environ_base={"REMOTE_ADDR": "10.0.0.5"}
    )

    for refused in (missing, wrong, basic):
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        assert "callme_" not in refused.text
    assert right.status_code == 200
    assert right.headers["Content-Type"] == CONTENT_TYPE_LATEST
    assert "callme_agents" in right.text


def test_without_a_token_only_this_machine_may_read_the_metrics(app: Flask, client: FlaskClient) -> None:
    assert app.config["SETTINGS"].metrics_token == ""

    ipv4 = client.get("/metrics")  # the test client comes from 127.0.0.1
    ipv6 = client.get("/metrics", environ_base={"REMOTE_ADDR": "::1"})
    remote = client.get("/metrics", environ_base={"REMOTE_ADDR": "10.0.0.5"})

    assert (ipv4.status_code, ipv6.status_code) == (200, 200)
    assert remote.status_code == 403
    assert "METRICS_TOKEN" in remote.text


def test_behind_a_trusted_proxy_the_forwarded_client_decides(database_url: str, clock: FixedClock) -> None:
    client = app_with(database_url, clock, trusted_proxies=1).test_client()
    forwarded = {"X-Forwarded-For": "203.0.113.9"}

    assert client.get("/metrics", headers=forwarded).status_code == 403  # the proxy is local, the client not
    assert client.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"}).status_code == 200


def test_every_metric_of_the_contract_is_exported_with_its_type(client: FlaskClient) -> None:
    response = client.get("/metrics")
    families = {f.name: f.type for f in text_string_to_metric_families(response.text)}

    for name, kind in EXPORTED.items():
        assert families.get(name) == kind, name


# Gauges: the line as the database has it -----------------------------------------------------------


def test_the_gauges_are_the_line_as_the_database_has_it(app: Flask, client: FlaskClient, clock: FixedClock) -> None:
    now = clock.now()
    with get_db(app).sessions() as session:
        factories.agent(session, now)
        factories.agent(session, now)
        factories.agent(session, now, queues=("orders", "returns"), status="away")
        factories.request(session, now, age=timedelta(minutes=4))
        factories.request(session, now, age=timedelta(minutes=2))
        factories.request(session, now, status="retry_wait", next_attempt_at=now - timedelta(seconds=1))
        factories.request(session, now, not_before=now + timedelta(hours=2))  # scheduled: not waiting yet
        factories.request(session, now, status="dialing")
        factories.request(session, now, hold_call_sid="CA" + uuid.uuid4().hex)
        factories.request(session, now, topic="returns", hold_call_sid="CA" + uuid.uuid4().hex)
        factories.request(session, now, topic="returns", hold_call_sid="CA" + uuid.uuid4().hex)
        line.pause_dialling(session, 20003, "Authenticate", now)
        session.commit()
        queues = list(session.scalars(select(Queue.name)))

    samples = scrape(client)

    assert value(samples, "callme_requests_waiting", queue="orders") == 3
    assert value(samples, "callme_callers_holding", queue="orders") == 1
    assert value(samples, "callme_requests_waiting", queue="returns") == 0
    assert value(samples, "callme_callers_holding", queue="returns") == 2
    assert value(samples, "callme_agents", queue="orders", status="available") == 2
    assert value(samples, "callme_agents", queue="orders", status="away") == 1
    assert value(samples, "callme_agents", queue="returns", status="away") == 1
    assert value(samples, "callme_dialling_paused") == 1
    # Every queue and every status, zeros included, so a dashboard never shows a gap.
    agent_series = {labels for (name, labels) in samples if name == "callme_agents"}
    assert agent_series == {(("queue", q), ("status", s)) for q in queues for s in AGENT_STATUSES}


def test_dialling_is_not_paused_once_the_pause_is_over(app: Flask, client: FlaskClient, clock: FixedClock) -> None:
    with get_db(app).sessions() as session:
        line.pause_dialling(session, 20003, "Authenticate", clock.now())
        session.commit()
    assert value(scrape(client), "callme_dialling_paused") == 1
    clock.advance(minutes=1)
    assert value(scrape(client), "callme_dialling_paused") == 0


# Counters: counted where things happen, once they are committed --------------------------------------


def test_a_completed_call_driven_by_its_webhooks_counts_once(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    now = clock.now()
    sid = "CA" + uuid.uuid4().hex
    with get_db(app).sessions() as session:
        agent = factories.agent(session, now, status="reserved")
        req = factories.request(session, now, status="dialing", attempts=1, agent_id=agent.id, age=timedelta(minutes=7))
        attempt = CallAttempt(
            request_id=req.id, agent_id=agent.id, call_sid=sid, created_at=now, placed_at=now, dialled_at=now
        )
        session.add(attempt)
        session.commit()
        attempt_id, request_id = attempt.id, req.id
    before = scrape(client)

    post_signed(client, app, f"/voice/callback/answer?attempt={attempt_id}", {"CallSid": sid, "AnsweredBy": "human"})
    post_signed(client, app, f"/voice/callback/confirm?attempt={attempt_id}", {"CallSid": sid, "Digits": "1"})
    with get_db(app).sessions() as session:
        leg_id = session.scalars(select(AgentLeg.id).where(AgentLeg.attempt_id == attempt_id)).one()
    legs = f"attempt={attempt_id}&leg={leg_id}"
    post_signed(client, app, f"/voice/callback/screen?{legs}", {"CallSid": "CAleg", "AnsweredBy": "human"})
    post_signed(client, app, f"/voice/callback/screen-answer?{legs}", {"CallSid": "CAleg", "Digits": "1"})
    dial_done = {
        "CallSid": sid,
        "DialCallStatus": "completed",
        "DialCallDuration": "95",
        "DialCallSid": "CAleg",
        "DialBridged": "true",
    }
    post_signed(client, app, f"/voice/callback/dial-done?{legs}", dial_done)
    status = {"CallSid": sid, "CallStatus": "completed", "SequenceNumber": "5", "CallDuration": "120"}
    post_signed(client, app, f"/voice/callback/status?attempt={attempt_id}", status)
    post_signed(client, app, f"/voice/callback/status?attempt={attempt_id}", status)  # Twilio retries it
    after = scrape(client)

    with get_db(app).sessions() as session:
        row = session.get(CallbackRequest, request_id)
        done = session.get(CallAttempt, attempt_id)
        assert row is not None and done is not None
        assert (row.status, done.outcome, done.ended_at is not None) == ("completed", "completed", True)
    assert delta(before, after, "callme_requests_total", queue="orders", outcome="completed") == 1
    assert delta(before, after, "callme_calls_placed_total", queue="orders", result="completed") == 1
    # Waited 7 minutes from asking to talking to the agent.
    assert delta(before, after, "callme_wait_to_connect_seconds_count", queue="orders") == 1
    assert delta(before, after, "callme_wait_to_connect_seconds_sum", queue="orders") == 7 * 60
    assert delta(before, after, "callme_wait_to_connect_seconds_bucket", queue="orders", le="300.0") == 0
    assert delta(before, after, "callme_wait_to_connect_seconds_bucket", queue="orders", le="600.0") == 1
    # Webhooks by URL rule and status, never by raw path.
    assert delta(before, after, "callme_webhooks_total", route="/voice/callback/answer", status="200") == 1
    assert delta(before, after, "callme_webhooks_total", route="/voice/callback/status", status="204") == 2
    assert delta(before, after, "callme_webhook_seconds_count", route="/voice/callback/screen-answer") == 1
    assert not any("attempt=" in dict(labels).get("route", "") for _name, labels in after)


def _path(url: str) -> str:
    """The path and query of a webhook URL the app gave Twilio (without its base and fragment)."""
    return url.split("https://shop.example", 1)[1].split("#", 1)[0]


def _agent_first_call(
    app: Flask, client: FlaskClient, clock: FixedClock, dispatcher: Dispatcher, fake: FakeTelephony, bridged: bool
) -> None:
    """One agent-first call, placed by the dispatcher and driven by Twilio's webhooks: the agent presses 1,
    the customer answers and hears the greeting, then either talks (DialBridged=true) or hangs up during
    the greeting (DialBridged=false)."""
    before = set(fake.calls)
    assert dispatcher.run_once() == 1
    (sid,) = set(fake.calls) - before
    answer = _path(fake.calls[sid].url)
    attempt_id = int(answer.split("attempt=", 1)[1])
    post_signed(client, app, answer, {"CallSid": sid, "AnsweredBy": "human"})
    post_signed(client, app, f"/voice/callback/agent-accept?attempt={attempt_id}", {"CallSid": sid, "Digits": "1"})
    clock.advance(seconds=12)  # the customer's phone rings
    ringing = scrape(client)
    greeting = {"CallSid": "CC" + sid[2:], "ParentCallSid": sid, "AnsweredBy": "human"}
    heard = post_signed(client, app, f"/voice/callback/customer-greeting?attempt={attempt_id}", greeting)
    assert "Connecting you" in heard.text
    # The greeting is no connection yet: the customer may hang up before the bridge.
    assert delta(ringing, scrape(client), "callme_wait_to_connect_seconds_count", queue="orders") == 0
    clock.advance(seconds=90 if bridged else 2)
    done = {
        "CallSid": sid,
        "DialCallStatus": "completed",
        "DialCallDuration": "90" if bridged else "2",
        "DialCallSid": "CC" + sid[2:],
        "DialBridged": "true" if bridged else "false",
    }
    post_signed(client, app, f"/voice/callback/customer-done?attempt={attempt_id}", done)
    ended = {"CallSid": sid, "CallStatus": "completed", "SequenceNumber": "4", "CallDuration": "120"}
    post_signed(client, app, f"/voice/callback/status?attempt={attempt_id}", ended)
    # Counted when Twilio says the two were bridged, and only then.
    assert delta(ringing, scrape(client), "callme_wait_to_connect_seconds_count", queue="orders") == int(bridged)


def test_an_agent_first_customer_who_hangs_up_in_the_greeting_is_counted_connected_once_on_the_call_that_bridged(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    fake = FakeTelephony()
    dispatcher = _dispatcher(app, clock, fake)
    asked = clock.now() - timedelta(minutes=7)
    with get_db(app).sessions() as session:
        update_queue(session, "orders", {"dial_strategy": "agent_first", "backoff_seconds": "60"})
        factories.agent(session, clock.now())
        req = factories.request(session, clock.now(), age=timedelta(minutes=7))
        request_id = req.id
    before = scrape(client)

    _agent_first_call(app, client, clock, dispatcher, fake, bridged=False)
    with get_db(app).sessions() as session:
        row = session.get(CallbackRequest, request_id)
        assert row is not None and (row.status, row.outcome) == ("retry_wait", "customer_hung_up")
    missed = scrape(client)
    assert delta(before, missed, "callme_wait_to_connect_seconds_count", queue="orders") == 0

    clock.advance(minutes=2)  # past the back-off: called again, and this time they talk
    second_greeting = clock.now() + timedelta(seconds=12)
    _agent_first_call(app, client, clock, dispatcher, fake, bridged=True)
    after = scrape(client)

    with get_db(app).sessions() as session:
        row = session.get(CallbackRequest, request_id)
        assert row is not None and (row.status, row.attempts) == ("completed", 2)
        first, second = row.call_attempts
        assert (first.outcome, first.bridged_at) == ("customer_hung_up", None)
        assert (second.outcome, second.bridged_at) == ("completed", second_greeting)
    waited = (second_greeting - asked).total_seconds()
    assert delta(before, after, "callme_wait_to_connect_seconds_count", queue="orders") == 1
    assert delta(before, after, "callme_wait_to_connect_seconds_sum", queue="orders") == waited
    assert delta(before, after, "callme_requests_total", queue="orders", outcome="completed") == 1
    assert delta(before, after, "callme_calls_placed_total", queue="orders", result="customer_hung_up") == 1
    assert delta(before, after, "callme_calls_placed_total", queue="orders", result="completed") == 1


def _customer_first_call(
    app: Flask, client: FlaskClient, clock: FixedClock, dispatcher: Dispatcher, fake: FakeTelephony, bridged: bool
) -> None:
    """One customer-first call: the customer presses 1, the agent accepts, and they talk (DialBridged=true),
    or the customer hangs up in the second between the acceptance and the bridge (DialBridged=false)."""
    before = set(fake.calls)
    assert dispatcher.run_once() == 1
    (sid,) = set(fake.calls) - before
    answer = _path(fake.calls[sid].url)
    attempt_id = int(answer.split("attempt=", 1)[1])
    post_signed(client, app, answer, {"CallSid": sid, "AnsweredBy": "human"})
    post_signed(client, app, f"/voice/callback/confirm?attempt={attempt_id}", {"CallSid": sid, "Digits": "1"})
    with get_db(app).sessions() as session:
        leg_id = max(session.scalars(select(AgentLeg.id).where(AgentLeg.attempt_id == attempt_id)))
    legs = f"attempt={attempt_id}&leg={leg_id}"
    clock.advance(seconds=15)
    ringing = scrape(client)
    post_signed(client, app, f"/voice/callback/screen?{legs}", {"CallSid": f"CAleg{leg_id}", "AnsweredBy": "human"})
    post_signed(client, app, f"/voice/callback/screen-answer?{legs}", {"CallSid": f"CAleg{leg_id}", "Digits": "1"})
    # The acceptance is no connection yet either.
    assert delta(ringing, scrape(client), "callme_wait_to_connect_seconds_count", queue="orders") == 0
    clock.advance(seconds=90 if bridged else 1)
    done = {
        "CallSid": sid,
        "CallStatus": "in-progress" if bridged else "completed",
        "DialCallStatus": "completed",
        "DialCallDuration": "90" if bridged else "1",
        "DialCallSid": f"CAleg{leg_id}",
        "DialBridged": "true" if bridged else "false",
    }
    post_signed(client, app, f"/voice/callback/dial-done?{legs}", done)
    ended = {"CallSid": sid, "CallStatus": "completed", "SequenceNumber": "4", "CallDuration": "120"}
    post_signed(client, app, f"/voice/callback/status?attempt={attempt_id}", ended)
    assert delta(ringing, scrape(client), "callme_wait_to_connect_seconds_count", queue="orders") == int(bridged)


def test_a_customer_first_customer_who_hangs_up_before_the_bridge_is_counted_connected_once_too(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    fake = FakeTelephony()
    dispatcher = _dispatcher(app, clock, fake)
    asked = clock.now() - timedelta(minutes=7)
    with get_db(app).sessions() as session:
        update_queue(session, "orders", {"backoff_seconds": "60"})
        factories.agent(session, clock.now())
        request_id = factories.request(session, clock.now(), age=timedelta(minutes=7)).id
    before = scrape(client)

    _customer_first_call(app, client, clock, dispatcher, fake, bridged=False)
    clock.advance(minutes=2)
    accepted = clock.now() + timedelta(seconds=15)
    _customer_first_call(app, client, clock, dispatcher, fake, bridged=True)
    after = scrape(client)

    with get_db(app).sessions() as session:
        row = session.get(CallbackRequest, request_id)
        assert row is not None and (row.status, row.attempts) == ("completed", 2)
        assert [(a.outcome, a.bridged_at) for a in row.call_attempts] == [
            ("customer_hung_up", None),
            ("completed", accepted),
        ]
    assert delta(before, after, "callme_wait_to_connect_seconds_count", queue="orders") == 1
    assert (
        delta(before, after, "callme_wait_to_connect_seconds_sum", queue="orders") == (accepted - asked).total_seconds()
    )


def test_a_canceled_request_counts_and_a_duplicate_ask_does_not(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    policy = PhonePolicy(default_region="US", allowed_countries=("US", "CA"))
    limits = Limits(active_per_number=2, per_number_per_day=5, per_ip_per_hour=10)
    ask = service.CallbackInput(phone="+12015550199", name="Ann Lee", topic="returns", consent=True)
    before = scrape(client)
    with get_db(app).sessions() as session:
        req, created = service.request_callback(session, clock, policy, limits, ask)
        _, again = service.request_callback(session, clock, policy, limits, ask)
        assert (created, again) == (True, False)
        duplicates = session.scalars(select(CallbackRequest).where(CallbackRequest.outcome == "duplicate_ask")).all()
        assert [d.status for d in duplicates] == ["canceled"]  # in the database, but not a request
        after_duplicate = scrape(client)
        service.cancel(session, clock, req.ref)
        service.cancel(session, clock, req.ref)  # canceling twice is fine, and counts once
    clock.advance(seconds=service.UNDO_CANCEL.total_seconds() + 1)  # the customer may no longer undo it
    after = scrape(client)

    assert delta(before, after_duplicate, "callme_requests_total", queue="returns", outcome="canceled") == 0
    assert delta(before, after, "callme_requests_total", queue="returns", outcome="canceled") == 1


def test_a_customers_cancel_counts_once_it_can_no_longer_be_undone(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    with get_db(app).sessions() as session:
        req = factories.request(session, clock.now(), topic="payments")
        before = scrape(client)
        service.cancel(session, clock, req.ref)
        clock.advance(seconds=service.UNDO_CANCEL.total_seconds())  # the last moment it may be undone
        while_undoable = scrape(client)
        clock.advance(seconds=1)
        settled = scrape(client)
        again = scrape(client)  # each scrape counts only what settled since the one before

    assert delta(before, while_undoable, "callme_requests_total", queue="payments", outcome="canceled") == 0
    assert delta(before, settled, "callme_requests_total", queue="payments", outcome="canceled") == 1
    assert delta(settled, again, "callme_requests_total", queue="payments", outcome="canceled") == 0


def test_a_cancel_undone_and_made_again_counts_once(app: Flask, client: FlaskClient, clock: FixedClock) -> None:
    limits = Limits.from_settings(app.config["SETTINGS"])
    with get_db(app).sessions() as session:
        req = factories.request(session, clock.now(), topic="payments")
        before = scrape(client)
        service.cancel(session, clock, req.ref)
        clock.advance(minutes=1)
        service.undo_cancel(session, clock, req.ref, limits)
        clock.advance(minutes=1)
        service.cancel(session, clock, req.ref)
        clock.advance(hours=1)
    after = scrape(client)

    assert delta(before, after, "callme_requests_total", queue="payments", outcome="canceled") == 1


def test_a_cancel_undone_then_completed_counts_only_as_completed(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    limits = Limits.from_settings(app.config["SETTINGS"])
    with get_db(app).sessions() as session:
        agent = factories.agent(session, clock.now(), queues=("payments",))
        req = factories.request(session, clock.now(), topic="payments")
        before = scrape(client)
        service.cancel(session, clock, req.ref)
        clock.advance(minutes=1)
        service.undo_cancel(session, clock, req.ref, limits)
        now = clock.now()
        req.start_dialing(agent.id, now)
        req.answered(now)
        req.bridged(now)
        req.complete(now + timedelta(minutes=4))
        session.commit()
        clock.advance(hours=1)
    after = scrape(client)

    assert delta(before, after, "callme_requests_total", queue="payments", outcome="canceled") == 0
    assert delta(before, after, "callme_requests_total", queue="payments", outcome="completed") == 1


def test_a_settled_cancel_is_counted_once_whichever_process_scrapes(
    app: Flask, client: FlaskClient, database_url: str, clock: FixedClock
) -> None:
    other = app_with(database_url, clock).test_client()  # another web worker on the same database
    with get_db(app).sessions() as session:
        req = factories.request(session, clock.now(), topic="account")
        before = scrape(client)
        service.cancel(session, clock, req.ref)
    clock.advance(minutes=10)
    first, second = scrape(other), scrape(client)

    # Both processes count into this test's one registry: a second count would show here.
    assert delta(before, second, "callme_requests_total", queue="account", outcome="canceled") == 1
    assert delta(first, second, "callme_requests_total", queue="account", outcome="canceled") == 0


def test_work_rolled_back_is_never_counted(app: Flask, client: FlaskClient, clock: FixedClock) -> None:
    now = clock.now()
    before = scrape(client)
    with get_db(app).sessions() as session:
        req = factories.request(session, now, topic="payments")
        req.cancel(now)
        session.flush()
        session.rollback()
        savepoint = session.begin_nested()
        req.cancel(now)
        session.flush()
        savepoint.rollback()
        session.commit()
        rolled_back = scrape(client)
        assert req.status == "queued"
        req.cancel(now)
        session.commit()
    clock.advance(hours=1)  # a customer's cancel counts once it can no longer be undone
    after = scrape(client)

    assert delta(before, rolled_back, "callme_requests_total", queue="payments", outcome="canceled") == 0
    assert delta(before, after, "callme_requests_total", queue="payments", outcome="canceled") == 1


def test_a_bulk_update_to_a_final_status_counts_the_rows_it_changed_once_committed(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    now = clock.now()
    r = CallbackRequest
    with get_db(app).sessions() as session:
        waiting = factories.request(session, now, topic="account")
        gone = factories.request(session, now, topic="account", status="canceled")
        ids = [waiting.id, gone.id]
        before = scrape(client)
        cancel = update(r).where(r.id.in_(ids)).values(status="canceled", outcome="canceled_by_staff", updated_at=now)
        assert rows_changed(session, cancel.where(r.status.in_(("queued",)))) == 1  # the caller's rowcount
        session.rollback()
        rolled_back = scrape(client)
        # Unconditional: the row canceled already is written again but was not finished now.
        assert rows_changed(session, cancel) == 2
        session.commit()
        assert rows_changed(session, cancel.where(r.status.in_(("queued",)))) == 0
        session.commit()
    after = scrape(client)

    assert delta(before, rolled_back, "callme_requests_total", queue="account", outcome="canceled") == 0
    assert delta(before, after, "callme_requests_total", queue="account", outcome="canceled") == 1


def test_a_supervisors_cancel_counts(app: Flask, client: FlaskClient, clock: FixedClock) -> None:
    with get_db(app).sessions() as session:
        req = factories.request(session, clock.now(), topic="payments")
        before = scrape(client)
        service.staff_cancel(session, clock, req.id, None)
        assert req.status == "canceled"
    after = scrape(client)

    assert delta(before, after, "callme_requests_total", queue="payments", outcome="canceled") == 1


def _dispatcher(app: Flask, clock: FixedClock, fake: FakeTelephony) -> Dispatcher:
    settings = replace(app.config["SETTINGS"], twilio_cps=1000.0)
    return Dispatcher(get_db(app), fake, clock, settings, sleep=lambda _s: None)


def test_requests_the_dispatcher_expires_in_bulk_are_counted(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    now = clock.now()
    with get_db(app).sessions() as session:
        stale = [factories.request(session, now, topic="devices", age=timedelta(hours=25)) for _ in range(2)]
        factories.request(session, now, topic="devices")  # still in time
    before = scrape(client)

    _dispatcher(app, clock, FakeTelephony()).housekeeping()
    after = scrape(client)

    with get_db(app).sessions() as session:
        assert [session.get(CallbackRequest, r.id).status for r in stale] == ["expired", "expired"]  # type: ignore[union-attr]
    assert delta(before, after, "callme_requests_total", queue="devices", outcome="expired") == 2


def test_dispatch_time_runs_from_agent_and_request_ready_to_the_call_placed(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    now = clock.now()
    with get_db(app).sessions() as session:
        factories.agent(session, now - timedelta(seconds=30), queues=("account",))  # free for 30 s
        factories.request(session, now, topic="account", age=timedelta(minutes=5))  # due for 5 minutes
    before = scrape(client)

    assert _dispatcher(app, clock, FakeTelephony()).run_once() == 1
    after = scrape(client)

    assert delta(before, after, "callme_dispatch_seconds_count") == 1
    assert delta(before, after, "callme_dispatch_seconds_sum") == 30


def test_a_provider_refusal_is_counted_by_code_with_its_consequences(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    now = clock.now()
    fake = FakeTelephony()
    fake.fail_next(TelephonyError(21211, "Invalid 'To' Phone Number", status=400))
    with get_db(app).sessions() as session:
        factories.agent(session, now, queues=("other",))
        factories.request(session, now, topic="other")
    before = scrape(client)

    _dispatcher(app, clock, fake).run_once()
    after = scrape(client)

    assert delta(before, after, "callme_provider_errors_total", code="21211") == 1
    assert delta(before, after, "callme_requests_total", queue="other", outcome="failed") == 1
    assert delta(before, after, "callme_calls_placed_total", queue="other", result="invalid_number") == 1
    assert delta(before, after, "callme_dispatch_seconds_count") == 0  # no call was placed


def test_a_refused_webhook_is_counted_under_its_rule_and_other_pages_are_not(
    client: FlaskClient,
) -> None:
    before = scrape(client)
    assert client.post("/voice/ivr/input", data={"CallSid": "CA1"}).status_code == 403  # unsigned
    assert client.get("/healthz").status_code == 200
    after = scrape(client)

    assert delta(before, after, "callme_webhooks_total", route="/voice/ivr/input", status="403") == 1
    assert delta(before, after, "callme_webhook_seconds_count", route="/voice/ivr/input") == 1
    assert not any(dict(labels).get("route") == "/healthz" for _name, labels in after)


# Several processes ------------------------------------------------------------------------------------

_COUNT_IN_A_PROCESS = """
from reports import instruments
instruments.provider_error(21211)
instruments.webhook("/voice/incoming", 200, 0.02)
"""

_SCRAPE_IN_A_PROCESS = """
import sys
from datetime import UTC, datetime
from app import create_app
from core.clock import FixedClock
app = create_app(
    {"app_env": "testing", "database_url": sys.argv[1], "public_base_url": "https://shop.example"},
    clock=FixedClock(datetime(2026, 11, 23, 15, 0, tzinfo=UTC)),
)
response = app.test_client().get("/metrics")
assert response.status_code == 200, response.status_code
sys.stdout.write(response.get_data(as_text=True))
"""


def test_counts_of_several_processes_are_added_up_in_multiprocess_mode(
    app: Flask, database_url: str, tmp_path: Path
) -> None:
    multiproc = tmp_path / "prometheus"
    multiproc.mkdir()
    # prometheus_client picks its storage when first imported: only a fresh process can switch.
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(multiproc), "PYTHONPATH": str(ROOT)}

    def run(code: str, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code), *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    # The two counting processes run side by side (as gunicorn's workers do): each import of the app takes
    # a few seconds, and a 2-core machine can spend them at once.
    counting = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(_COUNT_IN_A_PROCESS)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for process in counting:
        _out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
    assert len(list(multiproc.glob("counter_*.db"))) == 2  # one file per process
    samples = parse(run(_SCRAPE_IN_A_PROCESS, database_url))

    assert value(samples, "callme_provider_errors_total", code="21211") == 2
    assert value(samples, "callme_webhooks_total", route="/voice/incoming", status="200") == 2
    assert value(samples, "callme_webhook_seconds_count", route="/voice/incoming") == 2
    assert value(samples, "callme_agents", queue="orders", status="available") == 0  # the gauges, once
    assert value(samples, "callme_requests_total", queue="orders", outcome="completed") == 0


def test_gunicorn_marks_a_dead_workers_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    dead, alive = tmp_path / "gauge_livesum_4242.db", tmp_path / "gauge_livesum_4343.db"
    dead.write_bytes(b"")
    alive.write_bytes(b"")
    config = runpy.run_path(str(ROOT / "ops" / "gunicorn_conf.py"))

    config["child_exit"](None, SimpleNamespace(pid=4242))

    assert (dead.exists(), alive.exists()) == (False, True)
