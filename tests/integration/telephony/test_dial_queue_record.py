"""<Dial> with whisper and action, <Enqueue>/<Dial><Queue> with hold music, and <Record>."""

from __future__ import annotations

import requests
from sandbox_harness import ACCOUNT_SID, AUTH_TOKEN, OUR_NUMBER, Control, WebhookApp, events

from telephony.twilio_adapter import TwilioTelephony

AGENT = "+14155550300"


def test_dial_whispers_to_the_agent_then_bridges_and_posts_the_dial_result(hooks: WebhookApp, control: Control) -> None:
    control.phone(AGENT, answer_after=2, hangup_after=10)
    hooks.on(
        "/voice/incoming",
        f'<Response><Dial action="/dial-done" timeout="20"><Number url="/whisper">{AGENT}</Number></Dial></Response>',
    )
    hooks.on("/whisper", "<Response><Say>Customer Ann about order 1124</Say></Response>")
    hooks.on("/dial-done", "<Response><Say>Thanks</Say></Response>")
    sid = control.call_in("+14155550301")
    caller = control.wait_final(sid)
    result = hooks.wait_for("/dial-done")[0].form
    assert result["DialCallStatus"] == "completed" and result["DialCallSid"].startswith("CA")
    assert result["DialBridged"] == "true" and int(result["DialCallDuration"]) >= 10
    leg = control.call(result["DialCallSid"])
    assert leg["parent_call_sid"] == sid and leg["direction"] == "outbound-dial" and leg["to"] == AGENT
    assert events(leg, "say")[0]["text"] == "Customer Ann about order 1124"
    whisper = hooks.requests_to("/whisper")[0].form
    assert whisper["CallSid"] == leg["sid"] and whisper["ParentCallSid"] == sid
    assert events(caller, "say")[-1]["text"] == "Thanks"
    assert all(hit.signature_ok for hit in hooks.hits)


def test_a_busy_agent_gives_dial_call_status_busy(hooks: WebhookApp, control: Control) -> None:
    control.phone(AGENT, answer="busy")
    hooks.on("/voice/incoming", f'<Response><Dial action="/dial-done">{AGENT}</Dial></Response>')
    control.wait_final(control.call_in("+14155550302"))
    result = hooks.wait_for("/dial-done")[0].form
    assert result["DialCallStatus"] == "busy" and result["DialBridged"] == "false"


def test_an_agent_who_does_not_answer_gives_no_answer_and_the_call_continues(
    hooks: WebhookApp, control: Control
) -> None:
    control.phone("client:alice", answer="no-answer")
    hooks.on(
        "/voice/incoming",
        '<Response><Dial timeout="5"><Client>alice</Client></Dial><Say>Nobody is free</Say></Response>',
    )
    call = control.wait_final(control.call_in("+14155550303"))
    assert events(call, "say")[-1]["text"] == "Nobody is free"
    result = [e for e in events(call, "dial") if e["action"] == "result"][0]
    assert result["dial_call_status"] == "no-answer"


def test_an_agent_whose_whisper_hangs_up_answered_but_was_not_connected(hooks: WebhookApp, control: Control) -> None:
    control.phone(AGENT, steps=[])
    hooks.on(
        "/voice/incoming",
        f'<Response><Dial action="/dial-done"><Number url="/whisper">{AGENT}</Number></Dial></Response>',
    )
    hooks.on(
        "/whisper",
        '<Response><Gather numDigits="1" timeout="2"><Say>Press 1 to accept</Say></Gather><Hangup/></Response>',
    )
    control.wait_final(control.call_in("+14155550304"))
    result = hooks.wait_for("/dial-done")[0].form
    # At Twilio an answered leg is "completed" whether or not it was bridged; DialBridged tells them apart.
    assert result["DialCallStatus"] == "completed" and result["DialBridged"] == "false"
    leg = control.wait_final(result["DialCallSid"])
    assert leg["status"] == "completed" and result["DialCallDuration"] == leg["duration"]


def test_a_queued_caller_hears_hold_music_until_an_agent_dials_the_queue(hooks: WebhookApp, control: Control) -> None:
    hooks.on(
        "/voice/incoming",
        '<Response><Enqueue waitUrl="/hold" action="/left-queue">support</Enqueue><Say>Bye</Say></Response>',
    )
    hooks.on("/hold", "<Response><Say>Please hold</Say><Pause length='2'/></Response>")
    hooks.on("/left-queue", "<Response><Say>Thank you for calling</Say></Response>")
    caller_sid = control.call_in("+14155550305", hangup_after=600)
    polls = hooks.wait_for("/hold", 2)
    assert polls[0].form["QueuePosition"] == "1" and polls[0].form["CurrentQueueSize"] == "1"
    assert int(polls[1].form["QueueTime"]) >= 2
    control.phone(AGENT, steps=[{"wait": 5}, {"hangup": True}])
    hooks.on("/agent", '<Response><Dial action="/agent-done"><Queue>support</Queue></Dial></Response>')
    hooks.on("/agent-done", "<Response/>")
    agents_line = "+15005550007"
    bought = requests.post(
        f"{control.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/IncomingPhoneNumbers.json",
        data={"PhoneNumber": agents_line, "VoiceUrl": hooks.url("/agent")},
        auth=(ACCOUNT_SID, AUTH_TOKEN),
        timeout=5,
    )
    assert bought.status_code == 201
    control.call_in(AGENT, to=agents_line)
    left = hooks.wait_for("/left-queue", 1, timeout=10)[0].form
    assert left["QueueResult"] == "bridged" and left["QueueSid"].startswith("QU")
    caller = control.wait_final(caller_sid)
    assert [e["text"] for e in events(caller, "say")][-1] == "Thank you for calling"
    agent_done = hooks.wait_for("/agent-done")[0].form
    assert agent_done["DialCallSid"] == caller_sid and agent_done["DialBridged"] == "true"


def test_record_posts_a_recording_the_app_can_download_as_wav(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    control.phone("+14155550306", steps=[{"speech": "my parcel arrived damaged please call me back"}])
    hooks.on("/recorded", "<Response><Say>Got it</Say></Response>")
    twiml = '<Response><Say>Leave a message</Say><Record action="/recorded" timeout="3"/></Response>'
    info = telephony.place_call("+14155550306", OUR_NUMBER, hooks.on("/answer", twiml))
    control.wait_final(info.sid)
    form = hooks.requests_to("/recorded")[0].form
    assert form["RecordingSid"].startswith("RE") and int(form["RecordingDuration"]) >= 1
    assert form["RecordingUrl"].endswith(f"/Accounts/{ACCOUNT_SID}/Recordings/{form['RecordingSid']}")
    audio = requests.get(form["RecordingUrl"] + ".wav", auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=5)
    assert audio.status_code == 200 and audio.content[:4] == b"RIFF" and audio.content[8:12] == b"WAVE"
