"""The Twilio adapter: URL rebasing, settings, and the mapping of SDK failures to TelephonyError."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import requests
from twilio.http import HttpClient
from twilio.http.response import Response

from core.config import Settings
from telephony.port import TelephonyError
from telephony.twilio_adapter import RebasedHttpClient, TwilioTelephony, build_client, telephony_from_settings


def test_twilio_urls_are_rebased_onto_the_sandbox_keeping_path_and_query() -> None:
    client = RebasedHttpClient("http://127.0.0.1:5010", timeout=3)
    url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Calls.json?PageSize=2&Page=1"
    assert client.rebase(url) == "http://127.0.0.1:5010/2010-04-01/Accounts/AC1/Calls.json?PageSize=2&Page=1"
    assert client.rebase("https://messaging.twilio.com/v1/Services").startswith("http://127.0.0.1:5010/v1/")
    assert client.rebase("https://example.com/x") == "https://example.com/x"
    assert client.timeout == 3


def test_an_api_base_that_is_not_a_url_is_refused() -> None:
    with pytest.raises(ValueError):
        RebasedHttpClient("127.0.0.1:5010")


def test_the_adapter_is_built_from_settings_with_a_timeout() -> None:
    settings = Settings(
        twilio_account_sid="AC" + "1" * 32,
        twilio_auth_token="token",
        twilio_api_base="http://127.0.0.1:5010",
        twilio_timeout_seconds=4.0,
    )
    telephony = telephony_from_settings(settings)
    http_client = telephony.client.http_client
    assert isinstance(http_client, RebasedHttpClient) and http_client.timeout == 4.0
    real = build_client("AC" + "1" * 32, "token", timeout=2.0)
    assert not isinstance(real.http_client, RebasedHttpClient) and real.http_client.timeout == 2.0


class CannedHttpClient(HttpClient):
    """Answers every request with one canned response, or raises one exception."""

    def __init__(self, status: int = 200, body: Any = None, error: Exception | None = None) -> None:
        super().__init__(logging.getLogger(__name__), False)
        self.status = status
        self.body = body
        self.error = error
        self.requests: list[dict[str, Any]] = []

    def request(
        self,
        method: str,
        url: str,
        params: Any = None,
        data: Any = None,
        headers: Any = None,
        auth: Any = None,
        timeout: Any = None,
        allow_redirects: bool = False,
    ) -> Response:
        self.requests.append({"method": method, "url": url, "data": data, "params": params})
        if self.error:
            raise self.error
        return Response(self.status, json.dumps(self.body))


def _telephony(http_client: HttpClient) -> TwilioTelephony:
    from twilio.rest import Client

    return TwilioTelephony(Client("AC" + "1" * 32, "token", http_client=http_client))


def _error(code: int, status: int) -> dict[str, Any]:
    return {
        "code": code,
        "message": "boom",
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


@pytest.mark.parametrize(
    ("status", "code", "retryable"),
    [(429, 20429, True), (503, 20503, True), (500, 20500, True), (400, 21211, False), (401, 20003, False)],
)
def test_twilio_errors_become_telephony_errors_that_know_if_a_retry_helps(
    status: int, code: int, retryable: bool
) -> None:
    telephony = _telephony(CannedHttpClient(status, _error(code, status)))
    with pytest.raises(TelephonyError) as caught:
        telephony.place_call("+14155550100", "+15005550006", "https://app/voice")
    assert (caught.value.code, caught.value.retryable, caught.value.status) == (code, retryable, status)


def test_a_timeout_is_a_retryable_network_error() -> None:
    telephony = _telephony(CannedHttpClient(error=requests.ReadTimeout("slow")))
    with pytest.raises(TelephonyError) as caught:
        telephony.fetch_call("CA" + "0" * 32)
    assert caught.value.code == 0 and caught.value.retryable


def test_place_call_sends_twilios_parameter_names() -> None:
    http = CannedHttpClient(
        201,
        {
            "sid": "CA" + "0" * 32,
            "status": "queued",
            "direction": "outbound-api",
            "to": "+14155550100",
            "from": "+15005550006",
            "duration": None,
        },
    )
    info = _telephony(http).place_call(
        "+14155550100",
        "+15005550006",
        "https://app/voice",
        status_callback="https://app/status",
        timeout=20,
        machine_detection="DetectMessageEnd",
    )
    sent = http.requests[0]["data"]
    assert sent["To"] == "+14155550100" and sent["From"] == "+15005550006" and sent["Url"] == "https://app/voice"
    assert sent["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
    assert sent["Timeout"] == 20 and sent["MachineDetection"] == "DetectMessageEnd"
    assert "Record" not in sent and "FallbackUrl" not in sent
    assert info.status == "queued" and info.from_ == "+15005550006"


def test_recording_time_limit_and_async_amd_are_sent_under_twilios_names() -> None:
    http = CannedHttpClient(201, {"sid": "CA" + "0" * 32, "status": "queued", "direction": "outbound-api"})
    _telephony(http).place_call(
        "+14155550100",
        "+15005550006",
        "https://app/voice",
        time_limit=120,
        record=True,
        recording_status_callback="https://app/recording",
        async_amd_status_callback="https://app/amd",
    )
    sent = http.requests[0]["data"]
    assert sent["TimeLimit"] == 120 and sent["Record"] == "true"
    assert sent["RecordingStatusCallback"] == "https://app/recording"
    # AsyncAmd needs MachineDetection: the adapter turns it on when the caller did not.
    assert sent["MachineDetection"] == "Enable" and sent["AsyncAmd"] == "true"
    assert sent["AsyncAmdStatusCallback"] == "https://app/amd" and sent["AsyncAmdStatusCallbackMethod"] == "POST"


def test_send_sms_passes_the_status_callback() -> None:
    http = CannedHttpClient(201, {"sid": "SM" + "0" * 32, "status": "queued", "to": "+14155550100", "from": "+1"})
    _telephony(http).send_sms("+14155550100", "+15005550006", "Hi", status_callback="https://app/sms-status")
    assert http.requests[0]["data"]["StatusCallback"] == "https://app/sms-status"


def test_stop_recording_sets_the_calls_recording_to_stopped() -> None:
    call, recording = "CA" + "2" * 32, "RE" + "3" * 32
    http = CannedHttpClient(200, {"sid": recording, "call_sid": call, "status": "stopped"})

    _telephony(http).stop_recording(call, recording)

    [sent] = http.requests
    assert sent["method"] == "POST"
    assert sent["url"].endswith(f"/Accounts/AC{'1' * 32}/Calls/{call}/Recordings/{recording}.json")
    assert sent["data"] == {"Status": "stopped"}


def test_stop_recording_refuses_what_is_not_a_recording_sid_without_asking_twilio() -> None:
    http = CannedHttpClient(200, {})
    with pytest.raises(TelephonyError) as refused:
        _telephony(http).stop_recording("CA" + "2" * 32, "Twilio.CURRENT")
    assert refused.value.code == 20404 and http.requests == []
