"""The sandbox's REST API as the twilio SDK sends and parses it: shapes, errors, paging, numbers, texts."""

from __future__ import annotations

import time
from datetime import timedelta
from email.utils import parsedate_to_datetime

import pytest
import requests
from sandbox_harness import ACCOUNT_SID, AUTH_TOKEN, OUR_NUMBER, Control, WebhookApp
from twilio.base.exceptions import TwilioRestException

from core.config import Settings
from telephony.port import TelephonyError
from telephony.sandbox import SandboxServer
from telephony.twilio_adapter import TwilioTelephony, build_client

SAY = "<Response><Say>Hi</Say></Response>"


def test_a_created_call_has_every_field_the_sdk_reads_with_twilios_formats(
    sandbox: SandboxServer, hooks: WebhookApp
) -> None:
    auth = (ACCOUNT_SID, AUTH_TOKEN)
    url = f"{sandbox.base_url}/2010-04-01/Accounts/{ACCOUNT_SID}/Calls.json"
    response = requests.post(
        url, data={"To": "+14155550100", "From": OUR_NUMBER, "Url": hooks.url("/a")}, auth=auth, timeout=5
    )
    assert response.status_code == 201
    body = response.json()
    assert body["sid"].startswith("CA") and len(body["sid"]) == 34
    assert body["status"] == "queued" and body["direction"] == "outbound-api"
    assert body["api_version"] == "2010-04-01" and body["to_formatted"] == "(415) 555-0100"
    assert parsedate_to_datetime(body["date_created"]).utcoffset() == timedelta(0)
    assert body["date_created"].endswith("+0000")
    for key in (
        "parent_call_sid",
        "phone_number_sid",
        "start_time",
        "end_time",
        "duration",
        "price",
        "answered_by",
        "forwarded_from",
        "group_sid",
        "caller_name",
        "queue_time",
        "trunk_sid",
        "uri",
        "subresource_uris",
        "from",
        "from_formatted",
        "price_unit",
        "account_sid",
    ):
        assert key in body
    assert not {"type", "title"} & set(body)


@pytest.mark.parametrize(
    ("to", "from_", "code"),
    [("", OUR_NUMBER, 21201), ("12345", OUR_NUMBER, 21211), ("+14155550100", "+14155559999", 21210)],
)
def test_bad_numbers_raise_twilio_rest_exceptions_with_twilios_codes(
    sandbox: SandboxServer, to: str, from_: str, code: int
) -> None:
    client = build_client(ACCOUNT_SID, AUTH_TOKEN, api_base=sandbox.base_url, timeout=5)
    with pytest.raises(TwilioRestException) as caught:
        client.calls.create(to=to, from_=from_, url="https://example.com/a")
    assert caught.value.status == 400 and caught.value.code == code


def test_wrong_credentials_are_refused_with_20003(sandbox: SandboxServer) -> None:
    client = build_client(ACCOUNT_SID, "not-the-token", api_base=sandbox.base_url, timeout=5)
    with pytest.raises(TwilioRestException) as caught:
        client.calls("CA" + "0" * 32).fetch()
    assert caught.value.status == 401 and caught.value.code == 20003


def test_a_failing_list_request_still_maps_to_twilios_code(sandbox: SandboxServer, settings: Settings) -> None:
    from dataclasses import replace

    from telephony.twilio_adapter import telephony_from_settings

    wrong = replace(settings, twilio_api_base=sandbox.base_url, twilio_auth_token="wrong")
    with pytest.raises(TelephonyError) as caught:
        telephony_from_settings(wrong).configure_number(OUR_NUMBER, "https://x/v", "https://x/s")
    assert caught.value.code == 20003 and not caught.value.retryable


def test_an_unknown_call_is_a_20404(telephony: TwilioTelephony) -> None:
    with pytest.raises(TelephonyError) as caught:
        telephony.fetch_call("CA" + "0" * 32)
    assert caught.value.code == 20404 and caught.value.status == 404 and not caught.value.retryable


def test_redirecting_a_call_that_is_not_in_progress_is_21220(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    control.phone("+14155550110", answer="no-answer")
    info = telephony.place_call("+14155550110", OUR_NUMBER, hooks.on("/a", SAY))
    with pytest.raises(TelephonyError) as caught:
        telephony.update_call(info.sid, url=hooks.url("/b"))
    assert caught.value.code == 21220
    telephony.hangup(info.sid)


def test_the_sdk_pages_through_calls_filtered_by_number(
    sandbox: SandboxServer, hooks: WebhookApp, control: Control
) -> None:
    client = build_client(ACCOUNT_SID, AUTH_TOKEN, api_base=sandbox.base_url, timeout=5)
    control.phone("+14155550111", answer="busy")
    sids = {client.calls.create(to="+14155550111", from_=OUR_NUMBER, url=hooks.url("/a")).sid for _ in range(5)}
    client.calls.create(to="+14155550112", from_=OUR_NUMBER, url=hooks.url("/a"))
    listed = client.calls.list(to="+14155550111", page_size=2)
    assert {call.sid for call in listed} == sids
    page = client.calls.page(to="+14155550111", page_size=2)
    assert len(list(page)) == 2 and page.next_page_url is not None
    assert all(call.to == "+14155550111" for call in page.next_page())


def test_an_injected_api_error_is_a_retryable_telephony_error(
    telephony: TwilioTelephony, sandbox: SandboxServer, hooks: WebhookApp
) -> None:
    requests.put(f"{sandbox.base_url}/sandbox/faults", json={"api_error_rate": 1.0}, timeout=5)
    with pytest.raises(TelephonyError) as caught:
        telephony.place_call("+14155550113", OUR_NUMBER, hooks.url("/a"))
    assert caught.value.retryable and caught.value.status == 500
    requests.put(f"{sandbox.base_url}/sandbox/faults", json={}, timeout=5)
    assert telephony.place_call("+14155550113", OUR_NUMBER, hooks.url("/a")).status == "queued"


def test_configure_number_points_the_number_at_the_app(telephony: TwilioTelephony, sandbox: SandboxServer) -> None:
    number = telephony.configure_number(
        OUR_NUMBER, "https://app.example/voice/incoming", "https://app.example/voice/status"
    )
    assert number.voice_url == "https://app.example/voice/incoming"
    client = build_client(ACCOUNT_SID, AUTH_TOKEN, api_base=sandbox.base_url, timeout=5)
    stored = client.incoming_phone_numbers(number.sid).fetch()
    assert stored.status_callback == "https://app.example/voice/status" and stored.voice_method == "POST"
    with pytest.raises(TelephonyError):
        telephony.configure_number("+14155550199", "https://x/voice", "https://x/status")


def test_a_bought_number_can_be_listed_by_phone_number(sandbox: SandboxServer) -> None:
    client = build_client(ACCOUNT_SID, AUTH_TOKEN, api_base=sandbox.base_url, timeout=5)
    bought = client.incoming_phone_numbers.create(phone_number="+14155550150", voice_url="https://x/v")
    found = client.incoming_phone_numbers.list(phone_number="+14155550150")
    assert [n.sid for n in found] == [bought.sid] and found[0].voice_url == "https://x/v"
    assert bought.date_created is not None


def test_a_text_message_is_stored_and_readable_back(telephony: TwilioTelephony, sandbox: SandboxServer) -> None:
    message = telephony.send_sms("+14155550100", OUR_NUMBER, "Your callback is booked")
    assert message.sid.startswith("SM") and message.status == "queued"
    client = build_client(ACCOUNT_SID, AUTH_TOKEN, api_base=sandbox.base_url, timeout=5)
    stored = client.messages(message.sid).fetch()
    assert stored.body == "Your callback is booked" and stored.to == "+14155550100"
    assert [m.sid for m in client.messages.list(to="+14155550100")] == [message.sid]


def test_calls_over_the_cps_limit_wait_their_turn(hooks: WebhookApp, settings: Settings) -> None:
    from dataclasses import replace

    server = SandboxServer(replace(settings, sandbox_cps=10.0)).start()
    try:
        client = build_client(ACCOUNT_SID, AUTH_TOKEN, api_base=server.base_url, timeout=5)
        sids = [client.calls.create(to=f"+1415555012{i}", from_=OUR_NUMBER, url=hooks.url("/a")).sid for i in range(4)]
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not all(
            any(e["status"] == "initiated" for e in server.world.calls[sid].timeline if e["type"] == "status")
            for sid in sids
        ):
            time.sleep(0.01)
        starts = sorted(
            next(e["at"] for e in server.world.calls[sid].timeline if e.get("status") == "initiated") for sid in sids
        )
        assert len(starts) == 4
        # Four calls at 10 CPS take at least 0.3 s to start, however fast they were created.
        first, last = (parsedate_iso(starts[0]), parsedate_iso(starts[-1]))
        assert (last - first) >= 0.25
    finally:
        server.stop()


def parsedate_iso(value: str) -> float:
    """Seconds since the epoch of an ISO timestamp."""
    from datetime import datetime

    return datetime.fromisoformat(value).timestamp()
