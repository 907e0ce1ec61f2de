"""Recordings the sandbox makes: <Dial record>, a recording started on a live call through the REST API, and <Record>.

Audio checks read the WAV with the `wave` module: what a side says is a tone for as long as it speaks (0.4 s a
word), silence elsewhere. Offsets inside a recording are exact (they are computed from the same clock as the
recording's start); only where a call ends depends on the machine's scheduling.
"""

from __future__ import annotations

import array
import io
import time
import wave
from typing import Any

import pytest
import requests
from sandbox_harness import ACCOUNT_SID, AUTH_TOKEN, OUR_NUMBER, Control, WebhookApp, events, wait_until
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from telephony.sandbox import SandboxServer
from telephony.twilio_adapter import TwilioTelephony, build_client

AUTH = (ACCOUNT_SID, AUTH_TOKEN)
AGENT = "+14155550800"
CALLER = "+14155550801"
LONG_WHISPER = " ".join(["word"] * 20)  # 8 telephone seconds of whisper


@pytest.fixture
def client(sandbox: SandboxServer) -> Client:
    """The twilio SDK, pointed at the sandbox."""
    return build_client(ACCOUNT_SID, AUTH_TOKEN, api_base=sandbox.base_url, timeout=5)


class Audio:
    """A downloaded WAV file, one sample list per channel."""

    def __init__(self, data: bytes) -> None:
        with wave.open(io.BytesIO(data)) as wav:
            self.rate, self.width, self.count = wav.getframerate(), wav.getsampwidth(), wav.getnchannels()
            self.frames = wav.getnframes()
            samples = array.array("h", wav.readframes(self.frames))
        self.channels = [samples[i :: self.count] for i in range(self.count)]

    @property
    def seconds(self) -> float:
        return self.frames / self.rate

    def loud(self, channel: int, start: float, end: float) -> bool:
        """True if the channel sounds through all of [start, end] (every 0.1 s slice has signal)."""
        samples = self.channels[channel]
        t = start
        while t < end - 1e-9:
            chunk = samples[int(t * self.rate) : int(min(end, t + 0.1) * self.rate)]
            if not chunk or max(abs(s) for s in chunk) < 1000:
                return False
            t += 0.1
        return True

    def silent(self, channel: int, start: float, end: float) -> bool:
        """True if the channel is silent through all of [start, end]."""
        chunk = self.channels[channel][int(start * self.rate) : int(end * self.rate)]
        return bool(chunk) and max(abs(s) for s in chunk) == 0

    def first_sound(self, channel: int) -> float:
        samples = self.channels[channel]
        return next(i for i, s in enumerate(samples) if s != 0) / self.rate

    def runs(self, channel: int) -> list[tuple[float, float]]:
        """Each stretch of sound on the channel, as (start, length) in seconds (gaps under 0.05 s join)."""
        found: list[list[float]] = []
        samples = self.channels[channel]
        for index in range(0, len(samples), 80):  # 10 ms steps
            if any(samples[index : index + 80]):
                at = index / self.rate
                if found and at - found[-1][1] <= 0.05:
                    found[-1][1] = at + 0.01
                else:
                    found.append([at, at + 0.01])
        return [(start, round(end - start, 2)) for start, end in found]

    def last_sound(self, channel: int) -> float:
        samples = self.channels[channel]
        return next(i for i in range(len(samples) - 1, -1, -1) if samples[i] != 0) / self.rate


def download(url: str) -> Audio:
    assert requests.get(url, timeout=5).status_code == 401
    answer = requests.get(url, auth=AUTH, timeout=5)
    assert answer.status_code == 200, answer.text
    return Audio(answer.content)


def recording_hits(hooks: WebhookApp, path: str, count: int) -> list[dict[str, Any]]:
    hits = hooks.wait_for(path, count)
    assert all(hit.signature_ok for hit in hits), "recording status callbacks are signed like every webhook"
    return [hit.form for hit in hits]


def whisper_dial(hooks: WebhookApp, record: str) -> None:
    hooks.on(
        "/voice/incoming",
        f'<Response><Dial record="{record}" action="/dial-done" recordingStatusCallback="/rec" '
        f'recordingStatusCallbackEvent="in-progress completed">'
        f'<Number url="/whisper">{AGENT}</Number></Dial></Response>',
    )
    hooks.on(
        "/whisper",
        f'<Response><Gather input="speech" action="/accepted"><Say>{LONG_WHISPER}</Say></Gather><Hangup/></Response>',
    )
    hooks.on("/accepted", "<Response/>")


def test_a_dual_dial_recording_has_the_caller_then_the_agent_and_not_the_whisper(
    hooks: WebhookApp, control: Control
) -> None:
    # Bridged: the caller is silent 1 s, speaks 8 words (3.2 s), waits 2 s and hangs up (6.2 s);
    # the agent says "accept" to the whisper, then 0.5 s in says 8 words (3.2 s).
    control.phone(
        AGENT,
        answer_after=1,
        steps=[
            {"speech": "accept"},
            {"wait": 0.5},
            {"speech": "hello Ann how can I help you today"},
            {"wait": 30},
            {"hangup": True},
        ],
    )
    whisper_dial(hooks, "record-from-answer-dual")
    steps = [{"wait": 1}, {"speech": "my order number is one one two four"}, {"wait": 2}, {"hangup": True}]
    caller_sid = control.call_in(CALLER, steps=steps)
    control.wait_final(caller_sid)
    started, completed = recording_hits(hooks, "/rec", 2)
    assert started["RecordingStatus"] == "in-progress" and completed["RecordingStatus"] == "completed"
    assert started["RecordingSid"] == completed["RecordingSid"] and completed["RecordingSid"].startswith("RE")
    for form in (started, completed):
        # The recording belongs to the parent (caller) leg, as Twilio's always does.
        assert form["CallSid"] == caller_sid and form["AccountSid"] == ACCOUNT_SID
        assert form["RecordingSource"] == "DialVerb" and form["RecordingChannels"] == "2"
        assert form["RecordingTrack"] == "both" and form["RecordingStartTime"].endswith("+0000")
        assert form["RecordingUrl"].endswith(f"/Accounts/{ACCOUNT_SID}/Recordings/{form['RecordingSid']}")
    duration = int(completed["RecordingDuration"])
    # The bridge lasted 6.2 s (a busy machine may notice the hang-up a little late); the 8 s whisper and the
    # agent's answer to it (15.6 s with the bridge) are not in the file.
    assert 6 <= duration <= 10
    # The caller hung up, so the Dial action is told (its TwiML unused), with the recording.
    done = hooks.wait_for("/dial-done")[0].form
    assert done["RecordingSid"] == completed["RecordingSid"] and done["RecordingUrl"] == completed["RecordingUrl"]
    assert done["RecordingDuration"] == completed["RecordingDuration"]

    audio = download(completed["RecordingUrl"])
    assert (audio.rate, audio.width, audio.count) == (8000, 2, 2)
    assert abs(audio.seconds - duration) <= 1
    # Channel 1 is the caller: silent for 1 s, then 3.2 s of speech, then silence.
    assert audio.silent(0, 0.0, 0.95) and audio.loud(0, 1.05, 4.15) and audio.silent(0, 4.25, 5.9)
    # Channel 2 is the agent: speech from 0.5 s to 3.7 s, nothing of the whisper or of "accept".
    assert audio.silent(1, 0.0, 0.45) and audio.loud(1, 0.55, 3.65) and audio.silent(1, 3.75, 5.9)
    assert audio.first_sound(1) == pytest.approx(0.5, abs=0.01)
    assert audio.last_sound(0) == pytest.approx(4.2, abs=0.01)
    # RequestedChannels=1 mixes the two sides into one channel of the same length.
    one = requests.get(completed["RecordingUrl"], params={"RequestedChannels": "1"}, auth=AUTH, timeout=5)
    mixed = Audio(one.content)
    assert mixed.count == 1 and mixed.frames == audio.frames
    assert mixed.loud(0, 0.55, 4.15) and mixed.silent(0, 4.25, 5.9)


def test_a_mono_dial_recording_mixes_both_sides(hooks: WebhookApp, control: Control) -> None:
    control.phone(
        AGENT,
        answer_after=1,
        steps=[{"speech": "accept"}, {"wait": 3}, {"speech": "one two three"}, {"wait": 30}, {"hangup": True}],
    )
    whisper_dial(hooks, "record-from-answer")
    caller_sid = control.call_in(CALLER, steps=[{"speech": "hi there"}, {"wait": 6}, {"hangup": True}])
    control.wait_final(caller_sid)
    completed = recording_hits(hooks, "/rec", 2)[1]
    assert completed["RecordingChannels"] == "1" and completed["RecordingSource"] == "DialVerb"
    audio = download(completed["RecordingUrl"] + ".wav")
    assert audio.count == 1 and abs(audio.seconds - int(completed["RecordingDuration"])) <= 1
    two = requests.get(completed["RecordingUrl"], params={"RequestedChannels": "2"}, auth=AUTH, timeout=5)
    assert two.status_code == 400 and two.json()["code"] == 16113
    # One channel: the caller's 0.8 s from the start, then the agent's 1.2 s from 3 s, silence between and after.
    assert audio.loud(0, 0.05, 0.75) and audio.silent(0, 0.85, 2.95)
    assert audio.loud(0, 3.05, 4.15) and audio.silent(0, 4.25, 6.5)


def test_record_from_ringing_covers_the_ringing_and_the_whisper(hooks: WebhookApp, control: Control) -> None:
    control.phone(
        AGENT,
        answer_after=4,
        steps=[{"speech": "accept"}, {"speech": "good morning"}, {"wait": 1}, {"hangup": True}],
    )
    whisper_dial(hooks, "record-from-ringing-dual")
    caller_sid = control.call_in(CALLER, steps=[{"wait": 30}, {"hangup": True}])
    caller = control.wait_final(caller_sid)
    completed = recording_hits(hooks, "/rec", 2)[1]
    # 4 s of ringing, the 8 s whisper, the agent's 0.4 s "accept" and 1 s of speech timeout, then 0.8 s + 1 s.
    assert int(completed["RecordingDuration"]) >= 14
    audio = download(completed["RecordingUrl"])
    assert audio.count == 2 and audio.silent(1, 0.0, 3.9)
    # The agent's answer to the whisper ("accept", 0.4 s) is in the file this time, after the ringing and the
    # whisper, then what it said once bridged ("good morning", 0.8 s).
    (accept, accept_length), (_, said_length) = audio.runs(1)
    assert accept >= 12.0
    assert accept_length == pytest.approx(0.4, abs=0.02) and said_length == pytest.approx(0.8, abs=0.02)
    assert audio.silent(0, 0.0, audio.seconds - 0.05)
    assert [e for e in events(caller, "record") if e["action"] == "stop"]


def test_an_unanswered_dial_records_nothing_from_answer(hooks: WebhookApp, control: Control) -> None:
    control.phone(AGENT, answer="no-answer")
    whisper_dial(hooks, "record-from-answer-dual")
    control.wait_final(control.call_in(CALLER, steps=[{"wait": 60}]), timeout=15)
    done = hooks.wait_for("/dial-done")[0].form
    assert done["DialCallStatus"] == "no-answer" and "RecordingUrl" not in done
    assert hooks.requests_to("/rec") == []


def test_a_recording_started_through_the_rest_api_has_both_directions_of_the_call(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control, client: Client
) -> None:
    customer = "+14155550810"
    # Bridged: the customer speaks 1 s in for 1.6 s and hangs up 5.6 s in; the agent speaks 3 s in for 2.4 s.
    control.phone(customer, steps=[{"wait": 1}, {"speech": "customer says four words"}, {"wait": 3}, {"hangup": True}])
    control.phone(
        AGENT, steps=[{"wait": 3}, {"speech": "agent says six words right here"}, {"wait": 20}, {"hangup": True}]
    )
    twiml = f"<Response><Pause length='5'/><Dial><Number>{AGENT}</Number></Dial></Response>"
    info = telephony.place_call(customer, OUR_NUMBER, hooks.on("/answer", twiml))
    control.wait_status(info.sid, "in-progress")
    created = client.calls(info.sid).recordings.create(
        recording_channels="dual",
        recording_status_callback=hooks.url("/rec"),
        recording_status_callback_event=["in-progress", "completed"],
    )
    assert created.status == "in-progress" and created.source == "StartCallRecordingAPI"
    assert created.channels == 2 and created.track == "both" and created.call_sid == info.sid
    assert created.sid.startswith("RE")
    listed = client.recordings(created.sid).fetch()
    assert listed.status == "in-progress"
    call = control.wait_final(info.sid)
    started, completed = recording_hits(hooks, "/rec", 2)
    assert (started["RecordingStatus"], completed["RecordingStatus"]) == ("in-progress", "completed")
    assert completed["RecordingSid"] == created.sid and completed["CallSid"] == info.sid
    assert completed["RecordingSource"] == "StartCallRecordingAPI" and completed["RecordingChannels"] == "2"
    # It ended with the call: from the request (during the 5 s pause) to the customer's hang-up, so it is
    # shorter than the call by about the part of the pause before the request.
    duration = int(completed["RecordingDuration"])
    assert 6 <= duration <= int(call["duration"])
    assert client.recordings(created.sid).fetch().status == "completed"
    audio = download(completed["RecordingUrl"])
    assert audio.count == 2 and abs(audio.seconds - duration) <= 1
    customer_from, customer_to = audio.first_sound(0), audio.last_sound(0)
    agent_from = audio.first_sound(1)
    # Channel 1 is what the customer said, channel 2 what it heard (the agent), each for as long as it spoke.
    assert customer_to - customer_from == pytest.approx(1.6, abs=0.01)
    assert agent_from - customer_from == pytest.approx(2.0, abs=0.01)
    assert audio.loud(0, customer_from + 0.05, customer_to - 0.05) and audio.silent(1, 0.0, agent_from - 0.01)


def test_a_rest_recording_can_be_stopped_and_is_refused_on_a_call_not_in_progress(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control, client: Client
) -> None:
    customer = "+14155550811"
    info = telephony.place_call(customer, OUR_NUMBER, hooks.on("/answer", "<Response><Pause length='600'/></Response>"))
    control.wait_status(info.sid, "in-progress")
    created = client.calls(info.sid).recordings.create(recording_track="inbound", recording_channels="dual")
    # One track is always a one-channel file.
    assert created.channels == 1 and created.track == "inbound"
    time.sleep(0.1)
    stopped = client.calls(info.sid).recordings("Twilio.CURRENT").update(status="stopped")
    assert stopped.sid == created.sid and stopped.status == "completed" and int(stopped.duration) >= 1
    with pytest.raises(TwilioRestException) as nothing_live:
        client.calls(info.sid).recordings("Twilio.CURRENT").update(status="stopped")
    assert nothing_live.value.status == 404
    client.calls(info.sid).update(status="completed")
    call = control.wait_final(info.sid)
    assert int(stopped.duration) < int(call["duration"]) + 1
    with pytest.raises(TwilioRestException) as refused:
        client.calls(info.sid).recordings.create()
    assert refused.value.status == 400 and refused.value.code == 21220
    with pytest.raises(TwilioRestException) as bad:
        client.calls("CA" + "0" * 32).recordings.create()
    assert bad.value.status == 404
    assert [r.sid for r in client.calls(info.sid).recordings.list()] == [created.sid]
    client.calls(info.sid).recordings(created.sid).delete()
    assert client.calls(info.sid).recordings.list() == []


def test_a_recording_the_port_stops_ends_there_while_the_call_goes_on(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control, client: Client
) -> None:
    """What the app does when an agent's leg ends unbridged: the customer's call goes on, its recording
    stops now (Status=stopped), is reported completed, and holds nothing of what follows."""
    customer = "+14155550812"
    info = telephony.place_call(customer, OUR_NUMBER, hooks.on("/answer", "<Response><Pause length='600'/></Response>"))
    control.wait_status(info.sid, "in-progress")
    sid = telephony.start_recording(info.sid, status_callback=hooks.url("/rec"), dual=True)
    time.sleep(0.2)

    telephony.stop_recording(info.sid, sid)

    [stopped] = recording_hits(hooks, "/rec", 1)
    assert (stopped["RecordingSid"], stopped["RecordingStatus"], stopped["CallSid"]) == (sid, "completed", info.sid)
    assert client.calls(info.sid).fetch().status == "in-progress"
    later = telephony.start_recording(info.sid, status_callback=hooks.url("/rec"), dual=True)
    time.sleep(0.2)
    client.calls(info.sid).update(status="completed")
    control.wait_final(info.sid)
    first, second = recording_hits(hooks, "/rec", 2)
    assert (first["RecordingSid"], second["RecordingSid"]) == (sid, later)
    assert client.recordings(sid).fetch().status == "completed"


def test_record_verb_posts_its_parameters_and_its_status_callbacks(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    customer = "+14155550812"
    # Ten words (4 s) after a 2 s silence, then # to finish.
    control.phone(customer, steps=[{"wait": 2}, {"speech": " ".join(["message"] * 10)}, {"digits": "#"}])
    hooks.on("/recorded", "<Response><Hangup/></Response>")
    twiml = (
        '<Response><Record action="/recorded" timeout="5" finishOnKey="#" recordingStatusCallback="/rec" '
        'recordingStatusCallbackEvent="in-progress completed absent"/></Response>'
    )
    info = telephony.place_call(customer, OUR_NUMBER, hooks.on("/answer", twiml))
    control.wait_final(info.sid)
    action = hooks.wait_for("/recorded")[0].form
    assert action["Digits"] == "#" and action["RecordingDuration"] == "4"
    assert action["RecordingUrl"].endswith(action["RecordingSid"]) and action["CallSid"] == info.sid
    started, completed = recording_hits(hooks, "/rec", 2)
    assert (started["RecordingStatus"], completed["RecordingStatus"]) == ("in-progress", "completed")
    assert started["RecordingSid"] == completed["RecordingSid"] == action["RecordingSid"]
    assert completed["RecordingSource"] == "RecordVerb" and completed["RecordingChannels"] == "1"
    assert completed["RecordingDuration"] == "4"
    # trim-silence (the default): the 2 s before the message are cut; the file is the message.
    audio = download(action["RecordingUrl"])
    assert audio.count == 1 and audio.seconds == pytest.approx(4.0, abs=0.01) and audio.loud(0, 0.0, 4.0)


def test_record_without_trimming_keeps_the_silences_and_max_length_caps_it(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    customer = "+14155550813"
    control.phone(customer, steps=[{"wait": 2}, {"speech": " ".join(["message"] * 10)}])
    hooks.on("/recorded", "<Response><Hangup/></Response>")
    twiml = '<Response><Record action="/recorded" timeout="3" trim="do-not-trim"/></Response>'
    info = telephony.place_call(customer, OUR_NUMBER, hooks.on("/answer", twiml))
    control.wait_final(info.sid)
    action = hooks.wait_for("/recorded")[0].form
    # 2 s of silence, 4 s of message, and the 3 s of silence that ended it.
    assert 8 <= int(action["RecordingDuration"]) <= 12 and action["Digits"] == ""
    audio = download(action["RecordingUrl"])
    assert audio.silent(0, 0.0, audio.first_sound(0) - 0.01)
    assert 1.9 <= audio.first_sound(0) <= 3.0
    assert audio.last_sound(0) - audio.first_sound(0) == pytest.approx(4.0, abs=0.01)

    capped = "+14155550814"
    control.phone(capped, steps=[{"speech": " ".join(["message"] * 10)}])
    hooks.on("/capped", "<Response><Hangup/></Response>")
    twiml = '<Response><Record action="/capped" maxLength="2"/></Response>'
    control.wait_final(telephony.place_call(capped, OUR_NUMBER, hooks.on("/answer2", twiml)).sid)
    assert hooks.wait_for("/capped")[0].form["RecordingDuration"] == "2"


def test_an_empty_record_is_absent_and_skips_the_action(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control, sandbox: SandboxServer
) -> None:
    customer = "+14155550815"
    control.phone(customer, steps=[])
    twiml = (
        '<Response><Record action="/recorded" timeout="2" recordingStatusCallback="/rec" '
        'recordingStatusCallbackEvent="absent"/><Say>No message</Say></Response>'
    )
    info = telephony.place_call(customer, OUR_NUMBER, hooks.on("/answer", twiml))
    call = control.wait_final(info.sid)
    (absent,) = recording_hits(hooks, "/rec", 1)
    assert absent["RecordingStatus"] == "absent" and absent["RecordingSource"] == "RecordVerb"
    assert absent["CallSid"] == info.sid and absent["RecordingSid"].startswith("RE")
    assert hooks.requests_to("/recorded") == []
    assert [e["text"] for e in events(call, "say")] == ["No message"]
    held = requests.get(f"{sandbox.base_url}/sandbox/recordings", params={"call_sid": info.sid}, timeout=5)
    assert held.json()["recordings"] == []


def test_sandbox_recordings_lists_what_is_held_with_its_file(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control, sandbox: SandboxServer
) -> None:
    customer = "+14155550816"
    hooks.on("/answer", "<Response><Say>Hello from Callme</Say><Pause length='3'/></Response>")
    info = telephony.place_call(customer, OUR_NUMBER, hooks.url("/answer"), record=True)
    control.wait_final(info.sid)
    held = wait_until(
        lambda: requests.get(f"{sandbox.base_url}/sandbox/recordings", timeout=5).json()["recordings"],
        what="a recording",
    )
    (recording,) = held
    assert recording["call_sid"] == info.sid and recording["status"] == "completed"
    assert recording["sample_rate"] == 8000 and recording["bytes"] > 44
    assert recording["seconds"] == pytest.approx(int(recording["duration"]), abs=1)
    media = requests.get(recording["media_url"], auth=AUTH, timeout=5)
    assert len(media.content) == recording["bytes"]
    assert Audio(media.content).frames == recording["frames"]


def test_record_true_with_dual_channels_puts_what_the_call_heard_on_channel_two(
    hooks: WebhookApp, control: Control, client: Client
) -> None:
    customer = "+14155550817"
    control.phone(customer, steps=[])
    created = client.calls.create(
        to=customer,
        from_=OUR_NUMBER,
        url=hooks.on("/answer", "<Response><Say>Hello from Callme</Say><Pause length='3'/></Response>"),
        record=True,
        recording_channels="dual",
        recording_status_callback=hooks.url("/rec"),
    )
    control.wait_final(created.sid)
    (completed,) = recording_hits(hooks, "/rec", 1)
    assert completed["RecordingSource"] == "OutboundAPI" and completed["RecordingChannels"] == "2"
    audio = download(completed["RecordingUrl"])
    assert audio.count == 2
    # The silent customer's channel is silence; the <Say> it heard (3 words, 1.2 s) is on channel 2.
    assert audio.silent(0, 0.0, audio.seconds)
    assert audio.last_sound(1) - audio.first_sound(1) == pytest.approx(1.2, abs=0.01)
