"""Recording media and deletion: HTTP Basic auth on media, WAV by default, DELETE, and the media fault rule."""

from __future__ import annotations

import io
import shutil
import wave

import pytest
import requests
from sandbox_harness import ACCOUNT_SID, AUTH_TOKEN, OUR_NUMBER, Control, WebhookApp
from twilio.base.exceptions import TwilioRestException
from twilio.rest import Client

from telephony.sandbox import SandboxServer
from telephony.twilio_adapter import TwilioTelephony, build_client

SAY = "<Response><Say>Hello from Callme</Say><Pause length='3'/></Response>"
AUTH = (ACCOUNT_SID, AUTH_TOKEN)


@pytest.fixture
def client(sandbox: SandboxServer) -> Client:
    """The twilio SDK, pointed at the sandbox."""
    return build_client(ACCOUNT_SID, AUTH_TOKEN, api_base=sandbox.base_url, timeout=5)


def recorded_call(telephony: TwilioTelephony, hooks: WebhookApp, control: Control, to: str, client: Client) -> str:
    """Place a Record=true call, wait for its end, and return its recording's SID."""
    info = telephony.place_call(to, OUR_NUMBER, hooks.on("/answer", SAY), record=True)
    control.wait_final(info.sid)
    listed = client.recordings.list(call_sid=info.sid)
    assert len(listed) == 1
    return str(listed[0].sid)


def media_url(sandbox: SandboxServer, sid: str, extension: str = "") -> str:
    return f"{sandbox.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Recordings/{sid}{extension}"


def test_media_needs_basic_auth_and_is_wav_without_an_extension(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control, sandbox: SandboxServer, client: Client
) -> None:
    sid = recorded_call(telephony, hooks, control, "+14155550700", client)
    url = media_url(sandbox, sid)
    anonymous = requests.get(url, timeout=5)
    assert anonymous.status_code == 401 and anonymous.json()["code"] == 20003
    assert anonymous.headers["WWW-Authenticate"].startswith("Basic")
    assert requests.get(url, auth=(ACCOUNT_SID, "wrong-token"), timeout=5).status_code == 401
    assert requests.get(url, auth=("AC" + "b" * 32, AUTH_TOKEN), timeout=5).status_code == 401
    for extension in ("", ".wav"):
        audio = requests.get(url + extension, auth=AUTH, timeout=5)
        assert audio.status_code == 200 and audio.headers["Content-Type"] == "audio/x-wav"
        with wave.open(io.BytesIO(audio.content)) as wav:
            assert (wav.getframerate(), wav.getsampwidth(), wav.getnchannels()) == (8000, 2, 1)
    # Metadata stays behind the REST API's own auth, and names the media URL without an extension.
    assert client.recordings(sid).fetch().media_url == url
    assert requests.get(url + ".ogg", auth=AUTH, timeout=5).status_code == 404
    other_account = url.replace(ACCOUNT_SID, "AC" + "c" * 32)
    assert requests.get(other_account, auth=AUTH, timeout=5).status_code == 404


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="MP3 media needs ffmpeg")
def test_media_is_mp3_with_the_mp3_extension(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control, sandbox: SandboxServer, client: Client
) -> None:
    sid = recorded_call(telephony, hooks, control, "+14155550701", client)
    assert requests.get(media_url(sandbox, sid, ".mp3"), timeout=5).status_code == 401
    audio = requests.get(media_url(sandbox, sid, ".mp3"), auth=AUTH, timeout=5)
    assert audio.status_code == 200 and audio.headers["Content-Type"] == "audio/mpeg"
    # An MP3 stream starts with an ID3 tag or a frame sync.
    assert audio.content[:3] == b"ID3" or audio.content[0] == 0xFF


def test_delete_removes_the_recording_and_its_media(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control, sandbox: SandboxServer, client: Client
) -> None:
    sid = recorded_call(telephony, hooks, control, "+14155550702", client)
    assert requests.get(media_url(sandbox, sid), auth=AUTH, timeout=5).status_code == 200
    raw = requests.delete(media_url(sandbox, sid, ".json"), timeout=5)
    assert raw.status_code == 401  # DELETE is a REST request: it needs the credentials too.
    assert client.recordings(sid).delete() is True
    with pytest.raises(TwilioRestException) as fetched:
        client.recordings(sid).fetch()
    assert fetched.value.status == 404 and fetched.value.code == 20404
    assert requests.get(media_url(sandbox, sid), auth=AUTH, timeout=5).status_code == 404
    gone = requests.delete(media_url(sandbox, sid, ".json"), auth=AUTH, timeout=5)
    assert gone.status_code == 404 and gone.json()["code"] == 20404
    held = requests.get(f"{sandbox.base_url}/sandbox/recordings", timeout=5).json()["recordings"]
    assert sid not in [r["sid"] for r in held]


def test_the_production_adapter_downloads_and_deletes_through_the_sandbox(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control, client: Client
) -> None:
    sid = recorded_call(telephony, hooks, control, "+14155550703", client)
    audio = telephony.fetch_recording(sid)
    assert audio[:4] == b"RIFF" and audio[8:12] == b"WAVE"
    assert telephony.delete_recording(sid) is True
    # Already gone: the adapter reads Twilio's 404 as "nothing to delete".
    assert telephony.delete_recording(sid) is False


def test_the_media_fault_fails_exactly_the_first_n_downloads(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control, sandbox: SandboxServer, client: Client
) -> None:
    sid = recorded_call(telephony, hooks, control, "+14155550704", client)
    rule = requests.post(f"{sandbox.base_url}/sandbox/faults/recording_media", json={"status": 500, "count": 2})
    assert rule.status_code == 201
    assert rule.json()["recording_media"] == [{"status": 500, "code": None, "message": None, "count": 2, "sid": None}]
    url = media_url(sandbox, sid)
    # An unauthenticated download is refused before the rule is consulted, so it does not count.
    assert requests.get(url, timeout=5).status_code == 401
    answers = [requests.get(url, auth=AUTH, timeout=5) for _ in range(3)]
    assert [a.status_code for a in answers] == [500, 500, 200]
    assert answers[0].json()["code"] == 20500
    assert answers[2].content[:4] == b"RIFF"
    assert requests.get(f"{sandbox.base_url}/sandbox/faults", timeout=5).json()["recording_media"] == []


def test_a_media_fault_can_name_one_recording_and_the_adapter_sees_it_as_retryable(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control, sandbox: SandboxServer, client: Client
) -> None:
    first = recorded_call(telephony, hooks, control, "+14155550705", client)
    second = recorded_call(telephony, hooks, control, "+14155550706", client)
    body = {"status": 503, "count": 1, "sid": second}
    assert requests.post(f"{sandbox.base_url}/sandbox/faults/recording_media", json=body, timeout=5).status_code == 201
    assert requests.get(media_url(sandbox, first), auth=AUTH, timeout=5).status_code == 200
    failed = requests.get(media_url(sandbox, second), auth=AUTH, timeout=5)
    assert failed.status_code == 503 and failed.json()["code"] == 20503
    assert requests.get(media_url(sandbox, second), auth=AUTH, timeout=5).status_code == 200


def test_media_fault_rules_are_validated(sandbox: SandboxServer) -> None:
    url = f"{sandbox.base_url}/sandbox/faults/recording_media"
    for bad in ({"status": 200}, {"count": 0}, {"sid": "CA123"}, {"status": 500, "colour": "red"}):
        answer = requests.post(url, json=bad, timeout=5)
        assert answer.status_code == 400 and "error" in answer.json(), bad
    replaced = requests.put(f"{sandbox.base_url}/sandbox/faults", json={"recording_media": [{"count": 1}]}, timeout=5)
    assert replaced.status_code == 200
    assert replaced.json()["recording_media"][0]["status"] == 500
