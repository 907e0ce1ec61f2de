"""A screened <Dial>: the whisper runs on the agent's leg, AMD on a <Number>, DialBridged; Enqueue left by REST."""

from __future__ import annotations

import pytest
from sandbox_harness import Control, WebhookApp, events, wait_until

from telephony.sandbox import SandboxServer
from telephony.twilio_adapter import TwilioTelephony

AGENT = "+14155550700"
DIAL = f'<Response><Dial action="/dial-done" timeout="20"><Number url="/whisper">{AGENT}</Number></Dial></Response>'
SCREEN = (
    '<Response><Gather input="dtmf speech" numDigits="1" timeout="3" action="/screen">'
    "<Say>Customer Ann about order 1124. Press 1 or say accept.</Say></Gather><Hangup/></Response>"
)


def _accept(form: dict[str, str]) -> str:
    """The app's screening answer: an empty document bridges, <Hangup/> declines."""
    accepted = form.get("Digits") == "1" or "accept" in form.get("SpeechResult", "")
    return "<Response/>" if accepted else "<Response><Hangup/></Response>"


def _screened_call(hooks: WebhookApp, control: Control, caller: str, **caller_options: object) -> str:
    hooks.on("/voice/incoming", DIAL)
    hooks.on("/whisper", SCREEN)
    hooks.on("/screen", _accept)
    hooks.on("/dial-done", "<Response><Say>The agent could not take it</Say></Response>")
    return control.call_in(caller, **caller_options)


@pytest.mark.parametrize(
    "steps",
    [
        [{"digits": "1"}, {"wait": 3}, {"hangup": True}],
        [{"speech": "yes accept"}, {"wait": 3}, {"hangup": True}],
    ],
    ids=["pressed-1", "said-accept"],
)
def test_an_agent_who_accepts_in_the_whisper_is_bridged(
    hooks: WebhookApp, control: Control, steps: list[dict[str, object]]
) -> None:
    control.phone(AGENT, steps=steps)
    caller = _screened_call(hooks, control, "+14155550701")
    control.wait_final(caller)
    result = hooks.wait_for("/dial-done")[0].form
    assert result["DialCallStatus"] == "completed" and result["DialBridged"] == "true"
    screen = hooks.requests_to("/screen")[0].form
    # The whisper's Gather ran on the agent's leg, and its action was requested about that leg.
    assert screen["CallSid"] == result["DialCallSid"] and screen["ParentCallSid"] == caller
    assert screen["Direction"] == "outbound-dial" and screen["CallStatus"] == "in-progress"
    leg = control.wait_final(result["DialCallSid"])
    assert [e["with_call"] for e in events(leg, "dial") if e["action"] == "bridged"] == [caller]
    assert result["DialCallDuration"] == leg["duration"] and int(leg["duration"]) >= 3
    assert all(hit.signature_ok for hit in hooks.hits)


@pytest.mark.parametrize(
    ("behaviour", "screened"),
    [
        ({"steps": [{"digits": "2"}]}, True),  # declines with a key: the Gather action answers <Hangup/>
        ({"steps": []}, False),  # silent: the Gather times out and the whisper's <Hangup/> runs
        ({"steps": [], "hangup_after": 2}, False),  # hangs up while the whisper still speaks
    ],
    ids=["declined", "silent", "hung-up"],
)
def test_an_agent_who_does_not_accept_was_answered_but_not_bridged(
    hooks: WebhookApp, control: Control, behaviour: dict[str, object], screened: bool
) -> None:
    control.phone(AGENT, **behaviour)
    caller_sid = _screened_call(hooks, control, "+14155550702")
    caller = control.wait_final(caller_sid)
    result = hooks.wait_for("/dial-done")[0].form
    assert result["DialCallStatus"] == "completed" and result["DialBridged"] == "false"
    assert bool(hooks.requests_to("/screen")) is screened
    leg = control.wait_final(result["DialCallSid"])
    assert leg["status"] == "completed" and result["DialCallDuration"] == leg["duration"]
    assert not [e for e in events(leg, "dial") if e["action"] == "bridged"]
    # The caller is still on the line and hears what the Dial action answered.
    assert events(caller, "say")[-1]["text"] == "The agent could not take it"


def test_an_agent_hanging_up_after_n_seconds_of_whisper_reports_that_legs_duration(
    hooks: WebhookApp, control: Control
) -> None:
    control.phone(AGENT, hangup_after=4)
    hooks.on("/voice/incoming", DIAL)
    hooks.on("/whisper", "<Response><Say>Customer Ann</Say><Pause length='30'/></Response>")
    control.wait_final(control.call_in("+14155550703"))
    result = hooks.wait_for("/dial-done")[0].form
    assert result["DialCallStatus"] == "completed" and result["DialBridged"] == "false"
    # Well under the 30 s pause the whisper would have played: the hang-up cut it short.
    assert 4 <= int(result["DialCallDuration"]) < 30
    leg = control.call(result["DialCallSid"])
    assert [(e["by"], e["reason"]) for e in events(leg, "hangup")] == [("party", "hangup_after")]


def test_a_caller_who_hangs_up_during_the_whisper_ends_the_leg_and_the_action_is_only_notified(
    hooks: WebhookApp, control: Control
) -> None:
    control.phone(AGENT, steps=[])
    hooks.on("/voice/incoming", DIAL)
    hooks.on("/whisper", "<Response><Say>Customer Ann</Say><Pause length='60'/></Response>")
    hooks.on("/dial-done", "<Response><Say>Never heard</Say></Response>")
    caller_sid = control.call_in("+14155550704", hangup_after=6)
    caller = control.wait_final(caller_sid)
    result = hooks.wait_for("/dial-done")[0].form
    assert result["DialCallStatus"] == "completed" and result["DialBridged"] == "false"
    assert result["CallSid"] == caller_sid and result["CallStatus"] == "completed"
    leg = control.wait_final(result["DialCallSid"])
    # The leg ended with the caller, long before its 60 s whisper was over.
    assert leg["status"] == "completed" and int(leg["duration"]) < 20
    assert [e["by"] for e in events(leg, "hangup")] == ["parent"]
    assert caller["status"] == "completed" and not [e for e in events(caller, "say") if e["text"] == "Never heard"]


def test_a_redirect_inside_the_whisper_is_followed_on_the_agents_leg(hooks: WebhookApp, control: Control) -> None:
    control.phone(AGENT, steps=[{"wait": 2}, {"hangup": True}])
    hooks.on("/voice/incoming", DIAL)
    hooks.on("/whisper", "<Response><Redirect>/whisper-2</Redirect></Response>")
    hooks.on("/whisper-2", "<Response><Say>Customer Ann about order 1124</Say></Response>")
    control.wait_final(control.call_in("+14155550705"))
    result = hooks.wait_for("/dial-done")[0].form
    assert result["DialBridged"] == "true"
    second = hooks.requests_to("/whisper-2")[0].form
    assert second["CallSid"] == result["DialCallSid"]
    assert events(control.call(result["DialCallSid"]), "say")[0]["text"] == "Customer Ann about order 1124"


def test_an_unanswered_leg_is_never_bridged(hooks: WebhookApp, control: Control) -> None:
    control.phone(AGENT, answer="no-answer")
    hooks.on("/voice/incoming", DIAL.replace('timeout="20"', 'timeout="5"'))
    control.wait_final(control.call_in("+14155550706"))
    result = hooks.wait_for("/dial-done")[0].form
    assert result["DialCallStatus"] == "no-answer" and result["DialBridged"] == "false"
    assert hooks.requests_to("/whisper") == []


@pytest.mark.parametrize(
    ("behaviour", "detection", "answered_by"),
    [
        ({"answer": "machine"}, "DetectMessageEnd", "machine_end_beep"),
        ({"answer": "machine"}, "Enable", "machine_start"),
        ({"answer": "human"}, "Enable", "human"),
    ],
)
def test_number_machine_detection_puts_answered_by_in_the_whisper_request(
    hooks: WebhookApp, control: Control, behaviour: dict[str, object], detection: str, answered_by: str
) -> None:
    control.phone(AGENT, **behaviour)
    number = f'<Number machineDetection="{detection}" amdStatusCallback="/amd" url="/whisper">{AGENT}</Number>'
    hooks.on("/voice/incoming", f'<Response><Dial action="/dial-done">{number}</Dial></Response>')
    hooks.on("/whisper", "<Response><Hangup/></Response>")
    control.wait_final(control.call_in("+14155550707"))
    result = hooks.wait_for("/dial-done")[0].form
    whisper = hooks.requests_to("/whisper")[0].form
    assert whisper["AnsweredBy"] == answered_by and whisper["CallSid"] == result["DialCallSid"]
    amd = hooks.wait_for("/amd")[0].form
    assert amd["AnsweredBy"] == answered_by and amd["CallSid"] == result["DialCallSid"]
    assert int(amd["MachineDetectionDuration"]) > 0 and all(hit.signature_ok for hit in hooks.hits)
    assert control.call(result["DialCallSid"])["answered_by"] == answered_by
    assert result["DialCallStatus"] == "completed" and result["DialBridged"] == "false"


def test_client_has_no_machine_detection(hooks: WebhookApp, control: Control) -> None:
    control.phone("client:alice", answer="machine", steps=[{"wait": 1}, {"hangup": True}])
    client = '<Client machineDetection="Enable" url="/whisper">alice</Client>'
    hooks.on("/voice/incoming", f'<Response><Dial action="/dial-done">{client}</Dial></Response>')
    hooks.on("/whisper", "<Response><Say>Hello agent</Say></Response>")
    control.wait_final(control.call_in("+14155550708"))
    assert "AnsweredBy" not in hooks.wait_for("/whisper")[0].form
    assert hooks.wait_for("/dial-done")[0].form["DialBridged"] == "true"


def test_a_queued_caller_redirected_by_the_api_reports_redirected_to_the_enqueue_action(
    telephony: TwilioTelephony, sandbox: SandboxServer, hooks: WebhookApp, control: Control
) -> None:
    hooks.on(
        "/voice/incoming",
        '<Response><Enqueue waitUrl="/hold" action="/left">support</Enqueue><Say>After the queue</Say></Response>',
    )
    hooks.on("/hold", "<Response><Say>Please hold</Say><Pause length='2'/></Response>")
    hooks.on("/left", "<Response><Say>Ignored</Say></Response>")
    hooks.on("/moved", "<Response><Say>Your agent is ready</Say></Response>")
    caller_sid = control.call_in("+14155550709", hangup_after=600)
    hooks.wait_for("/hold", 2)
    telephony.update_call(caller_sid, url=hooks.url("/moved"))
    caller = control.wait_final(caller_sid)
    left = hooks.wait_for("/left")[0]
    assert left.form["QueueResult"] == "redirected" and left.form["QueueSid"].startswith("QU")
    assert int(left.form["QueueTime"]) >= 2 and left.form["CallSid"] == caller_sid
    moved = hooks.wait_for("/moved")[0]
    assert hooks.hits.index(left) < hooks.hits.index(moved)
    # The action's TwiML is ignored, and the redirect's document runs instead of what followed <Enqueue>.
    assert [e["text"] for e in events(caller, "say") if e["text"] != "Please hold"] == ["Your agent is ready"]
    wait_until(lambda: sandbox.world.queues["support"].members == [], what="the queue emptied")
