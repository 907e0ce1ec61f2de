"""Injected answers to calls.create: any Twilio error before a call exists, or a call created behind an error."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from sandbox_harness import ACCOUNT_SID, AUTH_TOKEN, OUR_NUMBER, Control, WebhookApp, events
from twilio.base.exceptions import TwilioRestException

from core.config import Settings
from telephony.port import TelephonyError
from telephony.sandbox import SandboxServer
from telephony.twilio_adapter import build_client, telephony_from_settings

CUSTOMER = "+14155550900"


def _faults(sandbox: SandboxServer, body: dict[str, Any]) -> dict[str, Any]:
    response = requests.put(f"{sandbox.base_url}/sandbox/faults", json=body, timeout=5)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.mark.parametrize(
    ("rule", "status", "code"),
    [
        ({"status": 401}, 401, 20003),
        ({"status": 400, "code": 21215}, 400, 21215),
        ({"status": 400, "code": 21216}, 400, 21216),
        ({"status": 429}, 429, 20429),
        ({"status": 500}, 500, 20500),
        ({"status": 503}, 503, 20503),
    ],
)
def test_the_next_creates_answer_any_twilio_error_and_make_no_call(
    sandbox: SandboxServer, hooks: WebhookApp, rule: dict[str, Any], status: int, code: int
) -> None:
    _faults(sandbox, {"calls_create": [{**rule, "count": 2}]})
    client = build_client(ACCOUNT_SID, AUTH_TOKEN, api_base=sandbox.base_url, timeout=5)
    for _ in range(2):
        with pytest.raises(TwilioRestException) as caught:
            client.calls.create(to=CUSTOMER, from_=OUR_NUMBER, url=hooks.url("/answer"))
        assert caught.value.status == status and caught.value.code == code and caught.value.msg
    assert client.calls.list(to=CUSTOMER) == []
    # The rule is used up: the third create goes through.
    assert client.calls.create(to=CUSTOMER, from_=OUR_NUMBER, url=hooks.url("/answer")).status == "queued"
    assert requests.get(f"{sandbox.base_url}/sandbox/faults", timeout=5).json()["calls_create"] == []


def test_a_rule_for_one_number_answers_every_create_to_it_and_only_to_it(
    sandbox: SandboxServer, hooks: WebhookApp
) -> None:
    _faults(sandbox, {"calls_create": [{"status": 400, "code": 21215, "to": "+442071234567"}]})
    client = build_client(ACCOUNT_SID, AUTH_TOKEN, api_base=sandbox.base_url, timeout=5)
    for _ in range(3):
        with pytest.raises(TwilioRestException) as caught:
            client.calls.create(to="+442071234567", from_=OUR_NUMBER, url=hooks.url("/answer"))
        assert caught.value.code == 21215
    assert client.calls.create(to=CUSTOMER, from_=OUR_NUMBER, url=hooks.url("/answer")).sid.startswith("CA")


def test_a_call_created_behind_a_5xx_rings_and_sends_its_webhooks(
    sandbox: SandboxServer, settings: Settings, hooks: WebhookApp, control: Control
) -> None:
    added = requests.post(
        f"{sandbox.base_url}/sandbox/faults/calls_create",
        json={"after_create": True, "status": 503, "count": 1},
        timeout=5,
    )
    assert added.status_code == 201 and added.json()["calls_create"][0]["count"] == 1
    telephony = telephony_from_settings(replace(settings, twilio_api_base=sandbox.base_url))
    with pytest.raises(TelephonyError) as caught:
        telephony.place_call(
            CUSTOMER,
            OUR_NUMBER,
            hooks.on("/answer", "<Response><Say>Hi</Say></Response>"),
            status_callback=hooks.url("/status"),
        )
    assert caught.value.status == 503 and caught.value.code == 20503 and caught.value.retryable
    # The app does not know it, but the call exists and goes on as any other.
    answer = hooks.wait_for("/answer")[0].form
    [found] = telephony.find_calls(CUSTOMER, OUR_NUMBER, since=datetime.now(UTC) - timedelta(hours=1))
    assert found.sid == answer["CallSid"]
    call = control.wait_final(found.sid)
    assert call["status"] == "completed" and events(call, "fault")[0]["http_status"] == 503
    assert [h.form["CallStatus"] for h in hooks.wait_for("/status", 4)][-1] == "completed"


def test_a_create_answered_after_the_clients_timeout_still_makes_the_call(
    sandbox: SandboxServer, settings: Settings, hooks: WebhookApp, control: Control
) -> None:
    _faults(sandbox, {"calls_create": [{"after_create": True, "delay_ms": 1500, "count": 1}]})
    telephony = telephony_from_settings(replace(settings, twilio_api_base=sandbox.base_url, twilio_timeout_seconds=0.3))
    with pytest.raises(TelephonyError) as caught:
        telephony.place_call(CUSTOMER, OUR_NUMBER, hooks.on("/answer", "<Response><Say>Hi</Say></Response>"))
    assert caught.value.retryable and caught.value.status is None
    sid = hooks.wait_for("/answer")[0].form["CallSid"]
    assert control.wait_final(sid)["status"] == "completed"
    assert events(control.call(sid), "fault")[0]["delay_ms"] == 1500


@pytest.mark.parametrize(
    "rule",
    [{"code": 21215}, {"status": 400}, {"status": 200}, {"status": 500, "count": 0}, {"after_create": True}, {"x": 1}],
)
def test_rules_that_cannot_be_honoured_are_refused(sandbox: SandboxServer, rule: dict[str, Any]) -> None:
    response = requests.post(f"{sandbox.base_url}/sandbox/faults/calls_create", json=rule, timeout=5)
    assert response.status_code == 400 and response.json()["error"]
    replaced = requests.put(f"{sandbox.base_url}/sandbox/faults", json={"calls_create": [rule]}, timeout=5)
    assert replaced.status_code == 400


def test_a_call_still_waiting_for_its_cps_turn_is_found_by_the_lost_call_lookup(
    settings: Settings, hooks: WebhookApp
) -> None:
    # At 0.2 calls a second the second call waits in Twilio's queue, not yet dialled: it has no StartTime,
    # so a StartTime filter would miss it and the reaper would dial the customer a second time.
    slow = replace(settings, sandbox_cps=0.2)
    sandbox = SandboxServer(slow).start()
    try:
        telephony = telephony_from_settings(replace(slow, twilio_api_base=sandbox.base_url))
        since = datetime.now(UTC) - timedelta(seconds=2)
        answer = hooks.on("/answer", "<Response><Say>Hi</Say></Response>")
        first = telephony.place_call(CUSTOMER, OUR_NUMBER, answer)
        second = telephony.place_call(CUSTOMER, OUR_NUMBER, answer)
        assert telephony.fetch_call(second.sid).start_time is None  # queued behind the first
        assert {call.sid for call in telephony.find_calls(CUSTOMER, OUR_NUMBER, since)} == {first.sid, second.sid}
        # Calls created before the instant asked about are not this attempt's.
        later = datetime.now(UTC) + timedelta(seconds=2)
        assert telephony.find_calls(CUSTOMER, OUR_NUMBER, later) == []
    finally:
        sandbox.stop()
