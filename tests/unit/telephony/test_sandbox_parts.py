"""Sandbox parts that need no network: webhook signing, TwiML checks, behaviours, wire formats."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from twilio.request_validator import RequestValidator

from telephony.sandbox.audio import tone_wav
from telephony.sandbox.interpreter import TwimlError, parse_twiml
from telephony.sandbox.model import Behaviour, Faults
from telephony.sandbox.webhooks import sign
from telephony.sandbox.wire import error_body, formatted, is_address, new_sid, rfc2822

PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
    "Caller": "+14158675309",
}


def test_the_sandbox_signs_webhooks_exactly_like_twilios_published_vector() -> None:
    assert sign("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", PARAMS) == "RSOYDt4T1cUTdK1PDd93/VVr8B8="


def test_twilios_validator_accepts_what_the_sandbox_signs() -> None:
    url = "http://127.0.0.1:5000/voice/incoming?step=2"
    assert RequestValidator("token").validate(url, PARAMS, sign("token", url, PARAMS))


def test_sids_dates_numbers_and_errors_follow_twilios_formats() -> None:
    sid = new_sid("CA")
    assert sid.startswith("CA") and len(sid) == 34 and int(sid[2:], 16) >= 0
    assert rfc2822(datetime(2010, 8, 31, 20, 36, 28, tzinfo=UTC)) == "Tue, 31 Aug 2010 20:36:28 +0000"
    assert formatted("+14158675309") == "(415) 867-5309" and formatted("+442071234567") == "+442071234567"
    assert is_address("+14158675309") and is_address("client:alice") and not is_address("4158675309")
    assert set(error_body(21211, "bad", 400)) == {"code", "message", "more_info", "status"}


@pytest.mark.parametrize(
    "document",
    [
        "<Response><Say>Hi</Response",
        "<Reply><Say>Hi</Say></Reply>",
        "<Response><Shout>Hi</Shout></Response>",
        "<Response><Gather><Dial>+14155550100</Dial></Gather></Response>",
        "<Response><Connect><Stream url='wss://x'/></Connect></Response>",
    ],
)
def test_documents_twilio_cannot_run_are_12100(document: str) -> None:
    with pytest.raises(TwimlError) as caught:
        parse_twiml(document)
    assert caught.value.code == 12100


def test_a_valid_document_parses_with_ssml_inside_say() -> None:
    root = parse_twiml("<Response><Say>Hello <break time='1s'/> there</Say><Hangup/></Response>")
    assert [verb.tag for verb in root] == ["Say", "Hangup"]


def test_behaviours_are_validated_and_defaulted() -> None:
    behaviour = Behaviour.from_json({"answer": "machine", "steps": [{"digits": "1#"}, {"wait": 2}]})
    assert behaviour.answer == "machine" and behaviour.answer_after == 1.0 and len(behaviour.steps) == 2
    for bad in ({"answer": "maybe"}, {"steps": [{"digits": "12x"}]}, {"hangup_after": -1}, {"colour": "red"}):
        with pytest.raises(ValueError):
            Behaviour.from_json(bad)


def test_faults_are_validated() -> None:
    assert Faults.from_json({"api_error_rate": 0.5}).api_error_rate == 0.5
    with pytest.raises(ValueError):
        Faults.from_json({"api_error_rate": 2})


def test_recordings_are_real_wav_files() -> None:
    wav = tone_wav(1.5)
    assert wav[:4] == b"RIFF" and wav[8:12] == b"WAVE" and len(wav) > 8000 * 2
