"""Calls create options through the twilio SDK: TimeLimit, Record=true and asynchronous AMD."""

from __future__ import annotations

import io
import time
import wave

import requests
from sandbox_harness import ACCOUNT_SID, AUTH_TOKEN, OUR_NUMBER, Control, WebhookApp, events

from telephony.sandbox import SandboxServer
from telephony.twilio_adapter import TwilioTelephony, build_client

HOLD = "<Response><Pause length='600'/></Response>"
SAY = "<Response><Say>Hello from Callme</Say><Pause length='3'/></Response>"


def test_time_limit_completes_a_call_that_many_seconds_after_it_is_answered(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    # Answering after 20 s proves the limit counts from the answer, not from the create.
    control.phone("+14155550500", answer_after=20)
    info = telephony.place_call(
        "+14155550500", OUR_NUMBER, hooks.on("/answer", HOLD), time_limit=10, status_callback=hooks.url("/status")
    )
    call = control.wait_final(info.sid)
    # Some slack above the limit: at SANDBOX_SPEED one telephone second is only 20 ms of a busy machine's time.
    assert call["status"] == "completed" and 10 <= int(call["duration"]) <= 20
    assert len(hooks.requests_to("/answer")) == 1
    hangups = events(call, "hangup")
    assert [(e["by"], e["time_limit"]) for e in hangups] == [("time_limit", 10)]
    completed = hooks.wait_for("/status", 4)[-1].form
    assert completed["CallStatus"] == "completed" and completed["CallDuration"] == call["duration"]


def test_time_limit_ends_a_bridged_dial_too(telephony: TwilioTelephony, hooks: WebhookApp, control: Control) -> None:
    control.phone("+14155550502", answer_after=1)
    twiml = "<Response><Dial>+14155550503</Dial></Response>"
    info = telephony.place_call("+14155550502", OUR_NUMBER, hooks.on("/answer", twiml), time_limit=8)
    call = control.wait_final(info.sid)
    assert call["status"] == "completed" and events(call, "hangup")[0]["by"] == "time_limit"
    assert 8 <= int(call["duration"]) <= 18


def test_an_invalid_time_limit_is_refused(sandbox: SandboxServer, hooks: WebhookApp) -> None:
    client = build_client(ACCOUNT_SID, AUTH_TOKEN, api_base=sandbox.base_url, timeout=5)
    response = requests.post(
        f"{sandbox.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json",
        data={"To": "+14155550504", "From": OUR_NUMBER, "Url": hooks.url("/a"), "TimeLimit": "0"},
        auth=(ACCOUNT_SID, AUTH_TOKEN),
        timeout=5,
    )
    assert response.status_code == 400 and response.json()["code"] == 21218
    assert client.calls.list(to="+14155550504") == []


def test_a_recorded_call_reports_its_recording_to_both_callbacks_and_serves_a_real_wav(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    info = telephony.place_call(
        "+14155550510",
        OUR_NUMBER,
        hooks.on("/answer", SAY),
        status_callback=hooks.url("/status"),
        record=True,
        recording_status_callback=hooks.url("/recording"),
    )
    call = control.wait_final(info.sid)
    completed = hooks.wait_for("/status", 4)[-1].form
    assert completed["CallStatus"] == "completed"
    recording = hooks.wait_for("/recording")[0].form
    assert recording["RecordingStatus"] == "completed" and recording["RecordingSource"] == "OutboundAPI"
    assert recording["CallSid"] == info.sid and recording["RecordingSid"].startswith("RE")
    assert completed["RecordingSid"] == recording["RecordingSid"]
    assert completed["RecordingUrl"] == recording["RecordingUrl"]
    # The whole call is recorded: the recording lasts as long as the call.
    assert recording["RecordingDuration"] == completed["RecordingDuration"] == call["duration"]
    assert all(hit.signature_ok for hit in hooks.hits)
    # Media needs the account's HTTP Basic credentials, as on an account that enforces auth for media.
    assert requests.get(recording["RecordingUrl"] + ".wav", timeout=5).status_code == 401
    audio = requests.get(recording["RecordingUrl"] + ".wav", auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=5)
    assert audio.status_code == 200 and audio.headers["Content-Type"].startswith("audio/")
    with wave.open(io.BytesIO(audio.content)) as wav:
        seconds = wav.getnframes() / wav.getframerate()
    assert abs(seconds - int(recording["RecordingDuration"])) <= 1


def test_without_a_recording_callback_the_recording_is_listed_and_readable(
    telephony: TwilioTelephony, sandbox: SandboxServer, hooks: WebhookApp, control: Control
) -> None:
    info = telephony.place_call("+14155550511", OUR_NUMBER, hooks.on("/answer", SAY), record=True)
    control.wait_final(info.sid)
    client = build_client(ACCOUNT_SID, AUTH_TOKEN, api_base=sandbox.base_url, timeout=5)
    listed = client.recordings.list(call_sid=info.sid)
    assert len(listed) == 1 and listed[0].source == "OutboundAPI" and listed[0].status == "completed"
    assert [r.sid for r in client.calls(info.sid).recordings.list()] == [listed[0].sid]
    fetched = client.recordings(listed[0].sid).fetch()
    assert fetched.call_sid == info.sid and int(fetched.duration or 0) >= 3 and fetched.date_created is not None
    assert fetched.media_url is not None
    assert requests.get(fetched.media_url, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=5).content[:4] == b"RIFF"


def test_an_unanswered_recorded_call_has_no_recording(
    telephony: TwilioTelephony, sandbox: SandboxServer, hooks: WebhookApp, control: Control
) -> None:
    control.phone("+14155550512", answer="busy")
    info = telephony.place_call(
        "+14155550512", OUR_NUMBER, hooks.on("/answer", SAY), record=True, status_callback=hooks.url("/status")
    )
    control.wait_final(info.sid)
    busy = hooks.wait_for("/status", 3)[-1].form
    assert busy["CallStatus"] == "busy" and "RecordingUrl" not in busy
    client = build_client(ACCOUNT_SID, AUTH_TOKEN, api_base=sandbox.base_url, timeout=5)
    assert client.recordings.list(call_sid=info.sid) == []


def test_async_amd_answers_at_once_and_posts_the_result_to_its_own_callback(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    control.phone("+14155550520", answer="machine")
    info = telephony.place_call(
        "+14155550520",
        OUR_NUMBER,
        hooks.on("/answer", HOLD),
        machine_detection="DetectMessageEnd",
        async_amd_status_callback=hooks.url("/amd"),
    )
    amd = hooks.wait_for("/amd")[0]
    answer = hooks.requests_to("/answer")[0]
    # The app got the call before detection finished, and without AnsweredBy.
    assert hooks.hits.index(answer) < hooks.hits.index(amd)
    assert "AnsweredBy" not in answer.form and answer.form["CallStatus"] == "in-progress"
    assert set(amd.form) == {"CallSid", "AccountSid", "AnsweredBy", "MachineDetectionDuration"}
    assert amd.form["CallSid"] == info.sid and amd.form["AnsweredBy"] == "machine_end_beep"
    assert int(amd.form["MachineDetectionDuration"]) > 0
    assert amd.signature_ok and answer.signature_ok
    assert telephony.fetch_call(info.sid).answered_by == "machine_end_beep"
    telephony.hangup(info.sid)


def test_async_amd_reports_a_human(telephony: TwilioTelephony, hooks: WebhookApp, control: Control) -> None:
    info = telephony.place_call(
        "+14155550521", OUR_NUMBER, hooks.on("/answer", SAY), async_amd_status_callback=hooks.url("/amd")
    )
    assert hooks.wait_for("/amd")[0].form["AnsweredBy"] == "human"
    call = control.wait_final(info.sid)
    assert [e["answered_by"] for e in events(call, "amd")] == ["human"]


def test_async_amd_is_abandoned_when_the_call_ends_first(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    control.phone("+14155550522", answered_by="unknown")
    info = telephony.place_call(
        "+14155550522",
        OUR_NUMBER,
        hooks.on("/answer", "<Response><Hangup/></Response>"),
        machine_detection="Enable",
        async_amd_status_callback=hooks.url("/amd"),
    )
    assert control.wait_final(info.sid)["status"] == "completed"
    deadline = time.monotonic() + 2
    while not events(control.call(info.sid), "amd") and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [e["result"] for e in events(control.call(info.sid), "amd")] == ["abandoned"]
    assert hooks.requests_to("/amd") == []
