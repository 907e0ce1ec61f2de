"""Status callbacks: one per event, in order, never duplicated, never retried, failures on the timeline."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from sandbox_harness import OUR_NUMBER, Control, WebhookApp, events, wait_until

from telephony.twilio_adapter import TwilioTelephony

SAY = "<Response><Say>One moment please</Say><Pause length='2'/></Response>"


def test_callbacks_of_a_call_never_overlap_even_when_the_app_is_slow(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    lock = threading.Lock()
    open_requests: dict[str, int] = {}
    overlaps: list[str] = []

    def slow_status(form: dict[str, str]) -> str:
        sid = form["CallSid"]
        with lock:
            open_requests[sid] = open_requests.get(sid, 0) + 1
            if open_requests[sid] > 1:
                overlaps.append(sid)
        time.sleep(0.05)  # A slow app: the next callback of this call must wait for this answer.
        with lock:
            open_requests[sid] -= 1
        return "<Response/>"

    hooks.on("/status", slow_status)
    numbers = [f"+1415555070{i}" for i in range(5)]
    for number in numbers:
        control.phone(number, answer_after=0.5)
    sids = [
        telephony.place_call(number, OUR_NUMBER, hooks.on("/answer", SAY), status_callback=hooks.url("/status")).sid
        for number in numbers
    ]
    for sid in sids:
        control.wait_final(sid)
    hooks.wait_for("/status", 4 * len(sids))
    assert overlaps == []
    for sid in sids:
        mine = [hit.form for hit in hooks.requests_to("/status") if hit.form["CallSid"] == sid]
        assert [form["SequenceNumber"] for form in mine] == ["0", "1", "2", "3"]
        assert [form["CallStatus"] for form in mine] == ["initiated", "ringing", "in-progress", "completed"]


def test_a_call_hung_up_by_both_ends_at_once_gets_one_completed_callback(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    numbers = [f"+1415555071{i}" for i in range(6)]
    for number in numbers:
        control.phone(number, answer_after=0.5)
    answer = hooks.on("/answer", "<Response><Pause length='600'/></Response>")
    sids = [
        telephony.place_call(number, OUR_NUMBER, answer, status_callback=hooks.url("/status")).sid for number in numbers
    ]
    for sid in sids:
        control.wait_status(sid, "in-progress")

    def party_hangs_up(sid: str) -> None:
        requests.post(f"{control.base_url}/sandbox/calls/{sid}/hangup", timeout=5)

    # The API (twice) and the person race to end each call.
    with ThreadPoolExecutor(3 * len(sids)) as pool:
        for sid in sids:
            pool.submit(telephony.hangup, sid)
            pool.submit(party_hangs_up, sid)
            pool.submit(telephony.hangup, sid)
    for sid in sids:
        control.wait_final(sid)
    hooks.wait_for("/status", 4 * len(sids))
    time.sleep(0.1)  # Let any (wrong) extra callback arrive before counting.
    for sid in sids:
        mine = [hit.form for hit in hooks.requests_to("/status") if hit.form["CallSid"] == sid]
        assert [form["CallStatus"] for form in mine] == ["initiated", "ringing", "in-progress", "completed"]
        assert [form["SequenceNumber"] for form in mine] == ["0", "1", "2", "3"]


def test_a_status_callback_answered_with_5xx_is_logged_once_and_not_retried(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    hooks.on("/status", lambda form: ("oops", 503))
    info = telephony.place_call(
        "+14155550720", OUR_NUMBER, hooks.on("/answer", SAY), status_callback=hooks.url("/status")
    )
    control.wait_final(info.sid)
    hooks.wait_for("/status", 4)

    def logged_callbacks() -> list[dict[str, object]]:
        return [e for e in events(control.call(info.sid), "webhook") if e["kind"] == "status"]

    wait_until(lambda: len(logged_callbacks()) == 4, what="four logged status callbacks")
    time.sleep(0.1)  # Time enough for a (wrong) retry to arrive.
    assert len(hooks.requests_to("/status")) == 4
    call = control.call(info.sid)
    logged = [e for e in events(call, "webhook") if e["kind"] == "status"]
    assert [(e["event"], e["status"], e["warning"]) for e in logged] == [
        ("initiated", 503, 15003),
        ("ringing", 503, 15003),
        ("answered", 503, 15003),
        ("completed", 503, 15003),
    ]
    assert [e["sequence"] for e in logged] == [0, 1, 2, 3]
    # A failing status callback changes nothing about the call itself.
    assert call["status"] == "completed" and events(call, "error") == []
