"""Outbound calls through the real twilio SDK against the sandbox: outcomes and status callbacks."""

from __future__ import annotations

import time

from sandbox_harness import OUR_NUMBER, Control, WebhookApp, events

from telephony.twilio_adapter import TwilioTelephony

SAY = "<Response><Say>Hello from Callme</Say></Response>"


def test_a_human_answers_and_every_requested_status_callback_arrives_in_order(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    control.phone("+14155550100", answer="human", answer_after=2)
    info = telephony.place_call(
        "+14155550100",
        OUR_NUMBER,
        hooks.on("/answer", SAY),
        status_callback=hooks.url("/status"),
    )
    assert info.status == "queued" and info.direction == "outbound-api"
    control.wait_final(info.sid)
    callbacks = hooks.wait_for("/status", 4)
    assert [hit.form["CallStatus"] for hit in callbacks] == [
        "initiated",
        "ringing",
        "in-progress",
        "completed",
    ]
    assert [hit.form["SequenceNumber"] for hit in callbacks] == ["0", "1", "2", "3"]
    assert all(hit.form["CallbackSource"] == "call-progress-events" for hit in callbacks)
    assert all(hit.signature_ok for hit in hooks.hits)
    completed = callbacks[-1].form
    assert completed["CallSid"] == info.sid and completed["Direction"] == "outbound-api"
    assert int(completed["CallDuration"]) >= 1 and completed["Timestamp"].endswith("+0000")
    answer = hooks.requests_to("/answer")[0].form
    assert answer["CallStatus"] == "in-progress" and answer["From"] == OUR_NUMBER
    fetched = telephony.fetch_call(info.sid)
    assert fetched.status == "completed" and fetched.duration == int(completed["CallDuration"])
    assert fetched.start_time is not None and fetched.end_time is not None


def test_answering_machine_detection_reports_a_machine_to_the_answer_webhook(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    control.phone("+14155550101", answer="machine")
    info = telephony.place_call(
        "+14155550101", OUR_NUMBER, hooks.on("/answer", SAY), machine_detection="DetectMessageEnd"
    )
    control.wait_final(info.sid)
    assert hooks.requests_to("/answer")[0].form["AnsweredBy"] == "machine_end_beep"
    assert telephony.fetch_call(info.sid).answered_by == "machine_end_beep"


def test_answering_machine_detection_reports_a_human(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    info = telephony.place_call("+14155550102", OUR_NUMBER, hooks.on("/answer", SAY), machine_detection="Enable")
    control.wait_final(info.sid)
    assert hooks.requests_to("/answer")[0].form["AnsweredBy"] == "human"


def test_a_busy_phone_ends_busy_without_requesting_the_answer_url(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    control.phone("+14155550103", answer="busy")
    info = telephony.place_call(
        "+14155550103", OUR_NUMBER, hooks.on("/answer", SAY), status_callback=hooks.url("/status")
    )
    assert control.wait_final(info.sid)["status"] == "busy"
    assert hooks.wait_for("/status", 3)[-1].form["CallStatus"] == "busy"
    assert hooks.requests_to("/answer") == []


def test_an_unanswered_phone_ends_no_answer_after_the_ring_timeout(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    control.phone("+14155550104", answer="no-answer")
    info = telephony.place_call("+14155550104", OUR_NUMBER, hooks.on("/answer", SAY), timeout=10)
    call = control.wait_final(info.sid)
    assert call["status"] == "no-answer" and call["duration"] == "0"


def test_a_phone_answering_after_the_timeout_is_no_answer(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    control.phone("+14155550105", answer="human", answer_after=20)
    info = telephony.place_call("+14155550105", OUR_NUMBER, hooks.on("/answer", SAY), timeout=5)
    assert control.wait_final(info.sid)["status"] == "no-answer"


def test_a_failing_line_ends_failed_without_ringing(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    control.phone("+14155550106", answer="fail")
    info = telephony.place_call(
        "+14155550106", OUR_NUMBER, hooks.on("/answer", SAY), status_callback=hooks.url("/status")
    )
    assert control.wait_final(info.sid)["status"] == "failed"
    assert [h.form["CallStatus"] for h in hooks.wait_for("/status", 2)] == ["initiated", "failed"]


def test_hanging_up_a_ringing_call_cancels_it(telephony: TwilioTelephony, hooks: WebhookApp, control: Control) -> None:
    control.phone("+14155550107", answer="human", answer_after=30)
    info = telephony.place_call("+14155550107", OUR_NUMBER, hooks.on("/answer", SAY))
    control.wait_status(info.sid, "ringing")
    ended = telephony.hangup(info.sid)
    assert ended.status == "canceled"
    assert hooks.requests_to("/answer") == []


def test_hanging_up_a_live_call_completes_it(telephony: TwilioTelephony, hooks: WebhookApp, control: Control) -> None:
    info = telephony.place_call(
        "+14155550108", OUR_NUMBER, hooks.on("/answer", "<Response><Pause length='60'/></Response>")
    )
    deadline = time.monotonic() + 5
    while not events(control.call(info.sid), "pause") and time.monotonic() < deadline:
        time.sleep(0.01)
    assert telephony.hangup(info.sid).status == "completed"
    timeline = control.call(info.sid)["timeline"]
    assert any(e["type"] == "hangup" and e["by"] == "api" for e in timeline)
