"""A key pressed, or words spoken, while a <Gather>'s prompt plays stops the prompt, as on Twilio."""

from __future__ import annotations

import requests
from sandbox_harness import OUR_NUMBER, Control, WebhookApp, events

from telephony.twilio_adapter import TwilioTelephony

# A long prompt, then a second sentence: barging in during the first means the second is never said.
PROMPT = (
    '<Response><Gather input="dtmf speech" numDigits="1" action="/chosen" timeout="5"{attrs}>'
    "<Say>{long}</Say><Say>Para español, oprima 9.</Say></Gather></Response>"
).replace("{long}", " ".join(["To track an order, press 1."] * 8))


def _said(call: dict) -> list[str]:
    return [e["text"] for e in events(call, "say")]


def _run(telephony: TwilioTelephony, hooks: WebhookApp, control: Control, number: str, attrs: str = "") -> dict:
    hooks.on("/chosen", "<Response><Hangup/></Response>")
    sid = telephony.place_call(number, OUR_NUMBER, hooks.on("/answer", PROMPT.replace("{attrs}", attrs))).sid
    return control.wait_final(sid)


def test_a_key_pressed_during_the_prompt_stops_it(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    control.phone("+14155550500", steps=[{"digits": "1", "barge_in": True}])
    call = _run(telephony, hooks, control, "+14155550500")
    assert len(events(call, "barge_in")) == 1
    assert "Para español, oprima 9." not in _said(call)
    assert hooks.requests_to("/chosen")[0].form["Digits"] == "1"


def test_a_caller_who_waits_for_the_end_hears_it_all(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    control.phone("+14155550501", steps=[{"digits": "1"}])
    call = _run(telephony, hooks, control, "+14155550501")
    assert events(call, "barge_in") == [] and _said(call)[-1] == "Para español, oprima 9."
    assert hooks.requests_to("/chosen")[0].form["Digits"] == "1"


def test_speech_stops_the_prompt_unless_barge_in_is_off(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    control.phone("+14155550502", steps=[{"speech": "track my order", "barge_in": True}])
    spoken = _run(telephony, hooks, control, "+14155550502")
    assert len(events(spoken, "barge_in")) == 1 and "Para español, oprima 9." not in _said(spoken)

    control.phone("+14155550503", steps=[{"speech": "track my order", "barge_in": True}])
    kept = _run(telephony, hooks, control, "+14155550503", attrs=' bargeIn="false"')
    assert events(kept, "barge_in") == [] and _said(kept)[-1] == "Para español, oprima 9."
    assert hooks.requests_to("/chosen")[-1].form["SpeechResult"] == "Track my order."


def test_a_person_at_the_softphone_interrupts_the_prompt_with_a_key(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    me = "+14155550504"
    control.phone(me, interactive=True)
    hooks.on("/chosen", "<Response><Hangup/></Response>")
    sid = telephony.place_call(me, OUR_NUMBER, hooks.on("/answer", PROMPT.replace("{attrs}", ""))).sid
    control.wait_status(sid, "ringing")
    requests.post(f"{control.base_url}/sandbox/calls/{sid}/answer", timeout=5)
    control.wait_status(sid, "in-progress")
    requests.post(f"{control.base_url}/sandbox/calls/{sid}/input", json={"digits": "1"}, timeout=5)
    call = control.wait_final(sid)
    assert len(events(call, "barge_in")) == 1 and "Para español, oprima 9." not in _said(call)


def test_barge_in_must_be_true_or_false(control: Control) -> None:
    bad = requests.put(
        f"{control.base_url}/sandbox/phones/+14155550505",
        json={"steps": [{"digits": "1", "barge_in": "yes"}]},
        timeout=5,
    )
    assert bad.status_code == 400 and "barge_in" in bad.json()["error"]
