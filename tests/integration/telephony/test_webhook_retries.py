"""Connection overrides (#ct, #rt, #tt, #rc, #rp): the sandbox times out and retries webhooks as Twilio
documents (https://www.twilio.com/docs/usage/webhooks/webhooks-connection-overrides), never sends the
fragment, and a retry is the same signed request."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests
from sandbox_harness import AUTH_TOKEN, OUR_NUMBER, Control, WebhookApp, events, wait_until

from core.webhooks import FRAGMENT, Webhooks
from telephony.sandbox.webhooks import ConnectionOverrides, InvalidOverride, sign
from telephony.signature import signature_is_valid
from telephony.twilio_adapter import TwilioTelephony
from tests.ports import free_port

SAY = "<Response><Say>Thank you</Say></Response>"


def _dead_url(path: str) -> str:
    """A URL on a loopback port nobody listens on: connecting is refused at once."""
    return f"http://127.0.0.1:{free_port()}{path}"


def _attempts(call: dict[str, Any], path: str) -> list[dict[str, Any]]:
    return [e for e in events(call, "webhook") if e["url"].split("?")[0].endswith(path)]


def _faults(control: Control, **faults: Any) -> None:
    response = requests.put(f"{control.base_url}/sandbox/faults", json=faults, timeout=5)
    assert response.status_code == 200, response.text


def _answered_call(telephony: TwilioTelephony, control: Control, url: str, phone: str, **extra: Any) -> dict[str, Any]:
    control.phone(phone, answer_after=0.2)
    sid = telephony.place_call(phone, OUR_NUMBER, url, fallback_url="", **extra).sid
    return control.wait_final(sid)


# Parsing ------------------------------------------------------------------------------------------


def test_no_fragment_means_twilios_defaults_one_retry_on_a_connection_failure_only() -> None:
    defaults = ConnectionOverrides.parse("")
    assert (defaults.ct, defaults.rt, defaults.tt, defaults.rc) == (None, None, None, 1)
    assert defaults.retries("ct") and not any(defaults.retries(f) for f in ("rt", "4xx", "5xx"))


def test_the_apps_fragment_parses_to_what_it_says() -> None:
    parsed = ConnectionOverrides.parse(FRAGMENT)
    assert (parsed.ct, parsed.rt, parsed.tt, parsed.rc) == (2000, 6000, 15000, 2)
    assert parsed.retries("ct") and parsed.retries("rt") and parsed.retries("5xx") and not parsed.retries("4xx")
    assert ConnectionOverrides.parse("rp=all").retries("4xx")
    # Edge and SNI are accepted; anything else in a fragment is no override and is left alone.
    assert ConnectionOverrides.parse("e=dublin&sni=y&page=3") == ConnectionOverrides()


@pytest.mark.parametrize(
    ("fragment", "code"),
    [("rp=sometimes", 11243), ("ct=50", 11200), ("rt=15001", 11200), ("rc=6", 11200), ("tt=abc", 11200)],
)
def test_values_twilio_would_refuse_are_refused(fragment: str, code: int) -> None:
    with pytest.raises(InvalidOverride) as refused:
        ConnectionOverrides.parse(fragment)
    assert refused.value.code == code


def test_a_bad_override_fails_the_webhook_without_sending_it(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    url = hooks.on("/answer", SAY) + "#rp=never"
    call = _answered_call(telephony, control, url, "+14155550801")
    (attempt,) = _attempts(call, "/answer")
    assert attempt["code"] == 11243 and attempt["status"] == 0
    assert hooks.requests_to("/answer") == []


# Retries ------------------------------------------------------------------------------------------


def test_a_refused_connection_is_retried_once_by_default(telephony: TwilioTelephony, control: Control) -> None:
    call = _answered_call(telephony, control, _dead_url("/answer"), "+14155550802")
    attempts = _attempts(call, "/answer")
    assert [a["attempt"] for a in attempts] == [1, 2]
    assert attempts[0]["retrying"] == "ct" and "retrying" not in attempts[1]


def test_rc_sets_how_many_times_a_refused_connection_is_retried(telephony: TwilioTelephony, control: Control) -> None:
    call = _answered_call(telephony, control, _dead_url("/answer") + "#rc=3&ct=500", "+14155550803")
    assert [a["attempt"] for a in _attempts(call, "/answer")] == [1, 2, 3, 4]
    call = _answered_call(telephony, control, _dead_url("/answer") + "#rc=0", "+14155550804")
    assert [a["attempt"] for a in _attempts(call, "/answer")] == [1]


def test_a_server_error_is_retried_only_when_rp_says_5xx(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    answers = iter([("oops", 500), SAY, ("oops", 500), SAY])
    hooks.on("/answer", lambda form: next(answers))
    _answered_call(telephony, control, hooks.url("/answer") + "#rp=ct,5xx", "+14155550805")
    first = hooks.wait_for("/answer", 2)
    assert first[0].form == first[1].form
    _answered_call(telephony, control, hooks.url("/answer"), "+14155550806")
    assert len(hooks.requests_to("/answer")) == 3  # the default policy does not retry a 500


def test_a_client_error_is_not_retried_unless_rp_says_4xx(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    hooks.on("/answer", lambda form: ("nope", 404))
    _answered_call(telephony, control, hooks.url("/answer") + "#rc=2&rp=ct,rt,5xx", "+14155550807")
    assert len(hooks.requests_to("/answer")) == 1
    _answered_call(telephony, control, hooks.url("/answer") + "#rc=2&rp=4xx", "+14155550808")
    assert len(hooks.requests_to("/answer")) == 1 + 3


def test_a_read_timeout_is_retried_with_rp_rt_and_the_retry_is_the_same_signed_request(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    second = threading.Event()
    seen: list[dict[str, str]] = []

    def answer(form: dict[str, str]) -> str:
        seen.append(form)
        if len(seen) == 1:
            second.wait(10)  # The first request hangs until the retry has arrived: it timed out.
            return SAY
        second.set()
        return SAY

    hooks.on("/answer", answer)
    call = _answered_call(telephony, control, hooks.url("/answer?step=1") + "#rt=1500&rp=ct,rt", "+14155550809")
    attempts = _attempts(call, "/answer")
    assert [(a["attempt"], a["status"]) for a in attempts] == [(1, 0), (2, 200)]
    assert attempts[0]["error"] == "timeout" and attempts[0]["retrying"] == "rt"
    hits = hooks.requests_to("/answer")
    assert len(hits) == 2 and hits[0].form == hits[1].form and all(hit.signature_ok for hit in hits)
    # The fragment never reaches the server; the timeline keeps the URL requested and the overrides apart.
    assert attempts[0]["url"].endswith("/answer?step=1") and attempts[0]["overrides"] == "rt=1500&rp=ct,rt"


def test_a_read_timeout_is_not_retried_by_default(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    release = threading.Event()
    hooks.on("/answer", lambda form: (release.wait(10), SAY)[1])
    try:
        call = _answered_call(telephony, control, hooks.url("/answer") + "#rt=500", "+14155550810")
    finally:
        release.set()
    attempts = _attempts(call, "/answer")
    assert [(a["attempt"], a["status"], a["error"]) for a in attempts] == [(1, 0, "timeout")]
    assert any(e["code"] == 11200 for e in events(call, "error"))


def test_the_total_time_cuts_the_retries_short(telephony: TwilioTelephony, hooks: WebhookApp, control: Control) -> None:
    release = threading.Event()
    hooks.on("/answer", lambda form: (release.wait(10), SAY)[1])
    try:
        call = _answered_call(telephony, control, hooks.url("/answer") + "#rt=600&tt=1000&rc=5&rp=rt", "+14155550811")
    finally:
        release.set()
    attempts = _attempts(call, "/answer")
    # 600 ms, then the 400 ms left: two attempts of the five retries allowed, about a second in all.
    assert [a["attempt"] for a in attempts] == [1, 2]
    assert attempts[-1].get("total_timeout") is True
    assert sum(a["elapsed_ms"] for a in attempts) < 2500  # far below the 3.6 s of six attempts


def test_status_callbacks_follow_their_own_overrides(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    answers = iter([("busy", 503)] + [""] * 10)
    hooks.on("/status", lambda form: next(answers) or "<Response/>")
    call = _answered_call(
        telephony,
        control,
        hooks.on("/answer", SAY),
        "+14155550812",
        status_callback=hooks.url("/status") + "#rp=5xx",
        status_events=("completed",),
    )
    hits = hooks.wait_for("/status", 2)
    assert hits[0].form == hits[1].form and hits[0].form["CallStatus"] == "completed"

    def status_attempts() -> list[dict[str, Any]]:
        return [e for e in events(control.call(call["sid"]), "webhook") if e["kind"] == "status"]

    statuses = wait_until(lambda: len(status_attempts()) >= 2 and status_attempts(), what="both status attempts")
    assert statuses[0]["retrying"] == "5xx" and "warning" not in statuses[0]  # retried, so not lost
    assert statuses[1]["attempt"] == 2 and statuses[1]["status"] == 200


# The drop fault and signatures ----------------------------------------------------------------------


def test_a_dropped_answer_is_a_read_timeout_after_the_app_has_acted(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    _faults(control, webhook_drop_first={"/answer": 1})
    call = _answered_call(telephony, control, hooks.on("/answer", SAY) + "#rp=rt", "+14155550813")
    attempts = _attempts(call, "/answer")
    assert [(a["attempt"], a["status"], a.get("dropped")) for a in attempts] == [(1, 0, True), (2, 200, None)]
    assert len(hooks.requests_to("/answer")) == 2  # the app saw both, and acted on both
    # The count is spent: the next call's answer arrives.
    call = _answered_call(telephony, control, hooks.url("/answer") + "#rp=rt", "+14155550814")
    assert [a["attempt"] for a in _attempts(call, "/answer")] == [1]


def test_the_drop_fault_is_validated(control: Control) -> None:
    for bad in (
        {"webhook_drop_first": {"answer": 1}},
        {"webhook_drop_first": {"/a": -1}},
        {"webhook_sign_fragment": 1},
    ):
        response = requests.put(f"{control.base_url}/sandbox/faults", json=bad, timeout=5)
        assert response.status_code == 400, bad
    _faults(control, webhook_drop_first={"*": 2}, webhook_sign_fragment=True)
    shown = requests.get(f"{control.base_url}/sandbox/faults", timeout=5).json()
    assert shown["webhook_drop_first"] == {"*": 2} and shown["webhook_sign_fragment"] is True


@pytest.mark.parametrize("sign_fragment", [False, True])
def test_the_apps_validator_accepts_a_retried_webhook_however_twilio_signed_it(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control, sign_fragment: bool
) -> None:
    _faults(control, webhook_drop_first={"/voice/callback/answer": 1}, webhook_sign_fragment=sign_fragment)
    url = Webhooks(hooks.base_url).callback("answer", attempt=7)
    hooks.on("/voice/callback/answer", SAY)
    call = _answered_call(telephony, control, url, "+14155550815")
    attempts = _attempts(call, "/voice/callback/answer")
    assert [a["attempt"] for a in attempts] == [1, 2]  # dropped, then retried (the app's rp has rt)
    hits = hooks.requests_to("/voice/callback/answer")
    assert len(hits) == 2 and hits[0].form == hits[1].form
    # What the app's check sees: the URL it rebuilds (no fragment) and the signature the sandbox sent.
    requested = url.split("#")[0]
    sent = sign(AUTH_TOKEN, url if sign_fragment else requested, hits[1].form)
    assert signature_is_valid(AUTH_TOKEN, requested, hits[1].form, sent)
    # The harness checks the bare URL, so it tells which way the sandbox signed.
    assert all(hit.signature_ok is (not sign_fragment) for hit in hits)


def test_the_validator_accepts_only_our_own_fragments() -> None:
    url = Webhooks("https://callme.example").ivr("input", node="main")
    requested = url.split("#")[0]
    params = {"CallSid": "CA1", "Digits": "1"}
    assert signature_is_valid(AUTH_TOKEN, requested, params, sign(AUTH_TOKEN, requested, params))
    assert signature_is_valid(AUTH_TOKEN, requested, params, sign(AUTH_TOKEN, url, params))
    assert not signature_is_valid(AUTH_TOKEN, requested, params, sign(AUTH_TOKEN, requested + "#rc=5", params))
    assert not signature_is_valid(AUTH_TOKEN, requested, params, sign(AUTH_TOKEN, requested + "?x=1", params))
