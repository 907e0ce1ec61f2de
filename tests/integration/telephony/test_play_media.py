"""<Play> fetches its file as Twilio does: the caller hears all of it, `loop` times; a bad file is skipped."""

from __future__ import annotations

import io
import wave

from flask import Response
from sandbox_harness import OUR_NUMBER, Control, WebhookApp, events

from telephony.twilio_adapter import TwilioTelephony


def wav(seconds: float, rate: int = 8000) -> Response:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\0\0" * int(seconds * rate))
    return Response(buffer.getvalue(), mimetype="audio/wav")


def play_then_hang_up(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control, to: str, media: Response, loop: int = 1
) -> dict:
    music = hooks.on("/music.wav", lambda form: media)
    twiml = f'<Response><Play loop="{loop}">{music}</Play><Say>After the music</Say><Hangup/></Response>'
    sid = telephony.place_call(to, OUR_NUMBER, hooks.on("/answer", twiml)).sid
    return control.wait_final(sid)


def test_a_play_lasts_as_long_as_its_file_times_its_loops(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    call = play_then_hang_up(telephony, hooks, control, "+14155550300", wav(7.5), loop=2)
    (play,) = events(call, "play")
    assert play["seconds"] == 7.5 and play["loop"] == 2
    assert int(call["duration"]) >= 15  # fifteen telephone seconds of music, then the sentence
    assert events(call, "say")[0]["text"] == "After the music"


def test_the_file_is_fetched_once_and_remembered(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    for number in ("+14155550301", "+14155550302"):
        play_then_hang_up(telephony, hooks, control, number, wav(1.0))
    assert len(hooks.requests_to("/music.wav")) == 1


def test_a_file_that_cannot_be_fetched_is_warning_11200_and_the_call_goes_on(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    call = play_then_hang_up(telephony, hooks, control, "+14155550303", Response("gone", status=404))
    assert [w["code"] for w in events(call, "warning")] == [11200]
    assert events(call, "play") == []
    assert events(call, "say")[0]["text"] == "After the music"


def test_a_file_that_is_not_audio_is_warning_13420(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    call = play_then_hang_up(telephony, hooks, control, "+14155550304", Response("<html/>", mimetype="text/html"))
    assert [w["code"] for w in events(call, "warning")] == [13420]
    assert events(call, "say")[0]["text"] == "After the music"
