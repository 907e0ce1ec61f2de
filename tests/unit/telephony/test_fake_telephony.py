"""The in-memory Telephony other tests rely on behaves like the port promises."""

from __future__ import annotations

import pytest

from telephony.fake import FakeTelephony
from telephony.port import Telephony, TelephonyError


def test_the_fake_implements_the_port(fake: FakeTelephony) -> None:
    assert isinstance(fake, Telephony)


def test_a_placed_call_is_queued_and_remembers_what_was_asked(fake: FakeTelephony) -> None:
    info = fake.place_call(
        "+14155550100",
        "+15005550006",
        "https://app/voice/answer",
        status_callback="https://app/voice/status",
        timeout=25,
        machine_detection="Enable",
    )
    assert info.status == "queued" and info.direction == "outbound-api"
    assert info.sid.startswith("CA") and len(info.sid) == 34
    placed = fake.calls[info.sid]
    assert placed.timeout == 25 and placed.machine_detection == "Enable"
    assert placed.status_events == ("initiated", "ringing", "answered", "completed")


def test_a_call_from_a_number_not_owned_is_refused_with_21210(fake: FakeTelephony) -> None:
    with pytest.raises(TelephonyError) as caught:
        fake.place_call("+14155550100", "+14155559999", "https://app/voice")
    assert caught.value.code == 21210 and not caught.value.retryable


def test_injected_errors_are_raised_once_each(fake: FakeTelephony) -> None:
    fake.fail_next(TelephonyError(20429, "Too Many Requests", retryable=True))
    with pytest.raises(TelephonyError) as caught:
        fake.place_call("+14155550100", "+15005550006", "https://app/voice")
    assert caught.value.retryable
    assert fake.place_call("+14155550100", "+15005550006", "https://app/voice").status == "queued"


def test_hanging_up_a_ringing_call_cancels_it_and_a_live_one_completes(fake: FakeTelephony) -> None:
    ringing = fake.place_call("+14155550100", "+15005550006", "https://app/voice")
    assert fake.hangup(ringing.sid).status == "canceled"
    live = fake.place_call("+14155550101", "+15005550006", "https://app/voice")
    fake.set_status(live.sid, "in-progress", answered_by="human")
    ended = fake.hangup(live.sid)
    assert ended.status == "completed" and ended.answered_by == "human" and ended.end_time


def test_redirecting_a_call_that_is_not_live_fails_with_21220(fake: FakeTelephony) -> None:
    call = fake.place_call("+14155550100", "+15005550006", "https://app/voice")
    with pytest.raises(TelephonyError) as caught:
        fake.update_call(call.sid, url="https://app/other")
    assert caught.value.code == 21220


def test_fetching_an_unknown_call_fails_with_20404(fake: FakeTelephony) -> None:
    with pytest.raises(TelephonyError) as caught:
        fake.fetch_call("CA" + "f" * 32)
    assert caught.value.code == 20404


def test_messages_and_numbers_are_kept(fake: FakeTelephony) -> None:
    message = fake.send_sms("+14155550100", "+15005550006", "Your callback is booked")
    assert fake.messages == [message] and message.status == "queued"
    number = fake.configure_number("+15005550006", "https://app/voice/incoming", "https://app/voice/status")
    assert fake.numbers["+15005550006"] == number and number.voice_url.endswith("/incoming")
    with pytest.raises(TelephonyError):
        fake.configure_number("+14155550100", "https://app/voice/incoming", "https://app/voice/status")


def test_a_stopped_recording_is_remembered(fake: FakeTelephony) -> None:
    sid = fake.start_recording("CA1", status_callback="https://app/rec")
    fake.stop_recording("CA1", sid)
    assert fake.stopped_recordings == [("CA1", sid)]
