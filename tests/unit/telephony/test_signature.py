"""The webhook signature check, against twilio-python's own test vectors."""

from __future__ import annotations

import pytest
from flask import Flask
from twilio.request_validator import RequestValidator
from werkzeug.datastructures import MultiDict

from core.config import Settings
from telephony.signature import public_url, signature_is_valid, twilio_signature_required

TOKEN = "12345"
URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
GOOD = {"X-Twilio-Signature": "RSOYDt4T1cUTdK1PDd93/VVr8B8="}
PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
    "Caller": "+14158675309",
}


@pytest.mark.parametrize(
    ("url", "signature"),
    [
        (URL, "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        ("https://mycompany.com:443/myapp.php?foo=1&bar=2", "kvajT1Ptam85bY51eRf/AJRuM3w="),
        ("http://mycompany.com:80/myapp.php?foo=1&bar=2", "0ZXoZLH/DfblKGATFgpif+LLRf4="),
        ("http://mycompany.com:1234/myapp.php?foo=1&bar=2", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="),
    ],
)
def test_the_published_vectors_are_accepted(url: str, signature: str) -> None:
    assert signature_is_valid(TOKEN, url, PARAMS, signature)


def test_the_default_port_may_be_present_or_absent() -> None:
    assert signature_is_valid(
        TOKEN, "https://mycompany.com:443/myapp.php?foo=1&bar=2", PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    )


def test_repeated_parameters_are_signed_with_every_value() -> None:
    params = MultiDict(
        [
            ("Sid", "CA123"),
            ("SidAccount", "AC123"),
            ("Digits", "5678"),
            ("Digits", "1234"),
            ("Digits", "1234"),
        ]
    )
    assert signature_is_valid(TOKEN, URL, params, "IK+Dwps556ElfBT0I3Rgjkr1wJU=")


def test_a_json_body_is_checked_through_its_hash() -> None:
    body = '{"property": "value", "boolean": true}'
    url = URL + "&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
    assert signature_is_valid(TOKEN, url, body, "a9nBmqA0ju/hNViExpshrM61xv4=")


@pytest.mark.parametrize(
    "change",
    [
        {"Digits": "1235"},
        {"Extra": "x"},
    ],
)
def test_a_changed_parameter_breaks_the_signature(change: dict[str, str]) -> None:
    assert not signature_is_valid(TOKEN, URL, {**PARAMS, **change}, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")


def test_a_wrong_token_or_missing_signature_is_refused() -> None:
    assert not signature_is_valid("54321", URL, PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")
    assert not signature_is_valid(TOKEN, URL, PARAMS, "")


def test_the_public_url_keeps_the_query_string_and_drops_a_trailing_slash() -> None:
    assert public_url("https://mycompany.com/", "/myapp.php", "foo=1&bar=2") == URL
    assert public_url("https://mycompany.com", "/voice", "") == "https://mycompany.com/voice"


def _webhook_app(settings: Settings) -> Flask:
    app = Flask(__name__)
    app.config["SETTINGS"] = settings

    @app.route("/myapp.php", methods=["GET", "POST"])
    @twilio_signature_required
    def hook() -> str:
        return "<Response/>"

    return app


def test_the_decorator_accepts_a_request_signed_for_the_public_url(settings: Settings) -> None:
    client = _webhook_app(settings).test_client()
    # The test client's host is localhost, as behind a proxy: the public base URL must win.
    response = client.post(
        "/myapp.php?foo=1&bar=2", data=PARAMS, headers={"X-Twilio-Signature": "RSOYDt4T1cUTdK1PDd93/VVr8B8="}
    )
    assert response.status_code == 200


def test_the_decorator_answers_403_to_a_bad_or_missing_signature(settings: Settings) -> None:
    client = _webhook_app(settings).test_client()
    assert client.post("/myapp.php?foo=1&bar=2", data=PARAMS).status_code == 403
    tampered = {**PARAMS, "Digits": "9999"}
    response = client.post("/myapp.php?foo=1&bar=2", data=tampered, headers=GOOD)
    assert response.status_code == 403


def test_the_decorator_checks_get_requests_on_the_url_alone(settings: Settings) -> None:
    client = _webhook_app(settings).test_client()
    url = "https://mycompany.com/myapp.php?foo=1&bar=2"
    signature = RequestValidator(TOKEN).compute_signature(url, {})
    assert client.get("/myapp.php?foo=1&bar=2", headers={"X-Twilio-Signature": signature}).status_code == 200
    assert client.get("/myapp.php?foo=1&bar=3", headers={"X-Twilio-Signature": signature}).status_code == 403
