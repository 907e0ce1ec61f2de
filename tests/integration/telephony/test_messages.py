"""Text messages through the twilio SDK: queued, sent, then delivered or not, with signed status callbacks."""

from __future__ import annotations

import requests
from sandbox_harness import ACCOUNT_SID, AUTH_TOKEN, OUR_NUMBER, Control, WebhookApp, wait_until

from telephony.sandbox import SandboxServer
from telephony.twilio_adapter import TwilioTelephony, build_client


def test_a_text_is_sent_then_delivered_with_a_signed_callback_for_each_step(
    telephony: TwilioTelephony, sandbox: SandboxServer, hooks: WebhookApp
) -> None:
    message = telephony.send_sms(
        "+14155550600", OUR_NUMBER, "Your callback is booked", status_callback=hooks.url("/sms-status")
    )
    assert message.status == "queued"
    callbacks = hooks.wait_for("/sms-status", 2)
    assert [hit.form["MessageStatus"] for hit in callbacks] == ["sent", "delivered"]
    first = callbacks[0].form
    assert first["MessageSid"] == first["SmsSid"] == message.sid and first["SmsStatus"] == "sent"
    assert first["AccountSid"] == ACCOUNT_SID and first["To"] == "+14155550600" and first["From"] == OUR_NUMBER
    assert "ErrorCode" not in callbacks[1].form
    assert all(hit.signature_ok for hit in callbacks)
    client = build_client(ACCOUNT_SID, AUTH_TOKEN, api_base=sandbox.base_url, timeout=5)
    stored = client.messages(message.sid).fetch()
    assert stored.status == "delivered" and stored.date_sent is not None and stored.error_code is None
    assert [m.status for m in client.messages.list(to="+14155550600")] == ["delivered"]


def test_a_text_to_a_failing_phone_is_undelivered_with_twilios_error_code(
    telephony: TwilioTelephony, sandbox: SandboxServer, hooks: WebhookApp, control: Control
) -> None:
    control.phone("+14155550601", answer="fail")
    message = telephony.send_sms("+14155550601", OUR_NUMBER, "Hello", status_callback=hooks.url("/sms-status"))
    callbacks = hooks.wait_for("/sms-status", 2)
    assert [hit.form["MessageStatus"] for hit in callbacks] == ["sent", "undelivered"]
    assert callbacks[1].form["ErrorCode"] == "30003"
    client = build_client(ACCOUNT_SID, AUTH_TOKEN, api_base=sandbox.base_url, timeout=5)
    stored = client.messages(message.sid).fetch()
    assert stored.status == "undelivered" and stored.error_code == 30003 and stored.error_message


def test_a_text_that_cannot_be_sent_fails_without_being_sent(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    control.phone("+14155550602", sms="failed")
    telephony.send_sms("+14155550602", OUR_NUMBER, "Hello", status_callback=hooks.url("/sms-status"))
    failed = hooks.wait_for("/sms-status")[0].form
    assert failed["MessageStatus"] == "failed" and failed["ErrorCode"] == "30008"
    page = requests.get(f"{control.base_url}/sandbox/messages", params={"phone": "+14155550602"}, timeout=5)
    messages = page.json()["messages"]
    assert [e["status"] for e in messages[0]["timeline"] if e["type"] == "status"] == ["queued", "failed"]
    assert len(hooks.requests_to("/sms-status")) == 1


def test_a_text_without_a_callback_still_progresses_and_a_failing_callback_is_logged(
    telephony: TwilioTelephony, sandbox: SandboxServer, hooks: WebhookApp, control: Control
) -> None:
    quiet = telephony.send_sms("+14155550603", OUR_NUMBER, "No callback")
    hooks.on("/sms-status", lambda form: ("", 500))
    loud = telephony.send_sms("+14155550603", OUR_NUMBER, "Callback fails", status_callback=hooks.url("/sms-status"))
    hooks.wait_for("/sms-status", 2)
    client = build_client(ACCOUNT_SID, AUTH_TOKEN, api_base=sandbox.base_url, timeout=5)
    wait_until(lambda: client.messages(quiet.sid).fetch().status == "delivered", what="quiet text delivered")
    assert client.messages(loud.sid).fetch().status == "delivered"

    def loud_webhooks() -> list[int]:
        messages = requests.get(f"{control.base_url}/sandbox/messages", timeout=5).json()["messages"]
        timeline = next(m for m in messages if m["sid"] == loud.sid)["timeline"]
        return [e["status"] for e in timeline if e["type"] == "webhook"]

    # The answer is logged just after the app's server saw the request.
    assert wait_until(lambda: len(loud_webhooks()) == 2, what="two logged callbacks")
    assert loud_webhooks() == [500, 500]
