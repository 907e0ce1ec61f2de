"""TwiML scenarios: the sandbox runs the app's documents as Twilio would, webhooks signed every time."""

from __future__ import annotations

import time

import requests
from sandbox_harness import OUR_NUMBER, Control, WebhookApp, events

from telephony.sandbox.webhooks import MIN_REAL_TIMEOUT
from telephony.twilio_adapter import TwilioTelephony

MENU = """<Response>
  <Gather input="dtmf speech" numDigits="1" action="/menu" timeout="3">
    <Say>Press 1 or say track my order</Say>
  </Gather>
  <Say>We did not hear you</Say>
</Response>"""


def _place(telephony: TwilioTelephony, hooks: WebhookApp, to: str, path: str, twiml: str, **kw: object) -> str:
    return telephony.place_call(to, OUR_NUMBER, hooks.on(path, twiml), **kw).sid  # type: ignore[arg-type]


def test_gather_posts_the_pressed_digit_to_a_relative_action(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    control.phone("+14155550200", steps=[{"digits": "1"}])
    hooks.on("/menu", "<Response><Say>Your order shipped</Say><Hangup/></Response>")
    sid = _place(telephony, hooks, "+14155550200", "/answer", MENU)
    call = control.wait_final(sid)
    menu = hooks.requests_to("/menu")[0].form
    assert menu["Digits"] == "1" and menu["CallSid"] == sid and menu["CallStatus"] == "in-progress"
    assert [e["text"] for e in events(call, "say")] == ["Press 1 or say track my order", "Your order shipped"]
    assert all(hit.signature_ok for hit in hooks.hits)


def test_gather_posts_speech_as_a_recogniser_writes_it(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    control.phone("+14155550201", steps=[{"speech": "track my order", "confidence": 0.81}])
    hooks.on("/menu", "<Response/>")
    control.wait_final(_place(telephony, hooks, "+14155550201", "/answer", MENU))
    form = hooks.requests_to("/menu")[0].form
    assert form["SpeechResult"] == "Track my order." and form["Confidence"] == "0.81"
    assert "Digits" not in form


def test_digits_stop_at_the_finish_key_which_is_reported_apart(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    control.phone("+14155550202", steps=[{"wait": 1}, {"digits": "11243#9"}])
    twiml = '<Response><Gather action="/order" timeout="5"><Say>Order number</Say></Gather></Response>'
    hooks.on("/order", "<Response/>")
    control.wait_final(_place(telephony, hooks, "+14155550202", "/answer", twiml))
    form = hooks.requests_to("/order")[0].form
    assert form["Digits"] == "11243" and form["FinishedOnKey"] == "#"


def test_no_input_falls_through_to_the_next_verb(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    control.phone("+14155550203", steps=[])
    call = control.wait_final(_place(telephony, hooks, "+14155550203", "/answer", MENU))
    assert hooks.requests_to("/menu") == []
    assert events(call, "say")[-1]["text"] == "We did not hear you"
    assert events(call, "input") == [{**events(call, "input")[0], "result": "timeout"}]


def test_action_on_empty_result_posts_the_action_without_input(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    twiml = '<Response><Gather action="/empty" actionOnEmptyResult="true" timeout="2"/></Response>'
    hooks.on("/empty", "<Response/>")
    control.wait_final(_place(telephony, hooks, "+14155550204", "/answer", twiml))
    form = hooks.wait_for("/empty")[0].form
    assert "Digits" not in form and form["CallStatus"] == "in-progress"


def test_a_caller_hanging_up_mid_gather_ends_the_call_without_an_action(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    control.phone("+14155550205", steps=[{"wait": 1}, {"hangup": True}])
    sid = _place(telephony, hooks, "+14155550205", "/answer", MENU, status_callback=hooks.url("/status"))
    call = control.wait_final(sid)
    assert call["status"] == "completed"
    assert hooks.requests_to("/menu") == []
    assert any(e["type"] == "hangup" and e["by"] == "party" for e in call["timeline"])
    assert hooks.wait_for("/status", 4)[-1].form["CallStatus"] == "completed"


def test_a_webhook_answering_500_without_fallback_ends_the_call_with_11200(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    sid = _place(telephony, hooks, "+14155550206", "/answer", ("oops", 500))  # type: ignore[arg-type]
    call = control.wait_final(sid)
    assert call["status"] == "completed"
    assert [e["code"] for e in events(call, "error")] == [11200]
    assert events(call, "webhook")[0]["status"] == 500


def test_a_failing_webhook_uses_the_fallback_url_with_the_error(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    hooks.on("/broken", ("oops", 500))
    hooks.on("/fallback", "<Response><Say>Sorry, try later</Say></Response>")
    info = telephony.place_call("+14155550207", OUR_NUMBER, hooks.url("/broken"), fallback_url=hooks.url("/fallback"))
    call = control.wait_final(info.sid)
    fallback = hooks.requests_to("/fallback")[0].form
    assert fallback["ErrorCode"] == "11200" and fallback["ErrorUrl"] == hooks.url("/broken")
    assert events(call, "say")[0]["text"] == "Sorry, try later"


def test_a_webhook_slower_than_twilios_timeout_is_an_11200(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    def slow(form: dict[str, str]) -> str:
        time.sleep(MIN_REAL_TIMEOUT + 0.5)  # over Twilio's 15 s (and the sandbox's real-time floor)
        return "<Response><Say>Too late</Say></Response>"

    sid = _place(telephony, hooks, "+14155550208", "/answer", slow)  # type: ignore[arg-type]
    call = control.wait_final(sid)
    assert [e["code"] for e in events(call, "error")] == [11200]
    assert events(call, "webhook")[0]["error"] == "timeout"
    assert not [e for e in events(call, "say") if e["text"] == "Too late"]


def test_a_document_that_is_not_xml_ends_the_call_with_12100(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    call = control.wait_final(_place(telephony, hooks, "+14155550209", "/answer", "<Response><Say>Hi</Response"))
    assert [e["code"] for e in events(call, "error")] == [12100]
    assert events(call, "say")[-1].get("application_error") is True


def test_an_unknown_verb_ends_the_call_with_12100_before_anything_runs(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    twiml = "<Response><Say>Hi</Say><Shout>Hey</Shout></Response>"
    call = control.wait_final(_place(telephony, hooks, "+14155550210", "/answer", twiml))
    assert [e["code"] for e in events(call, "error")] == [12100]
    assert [e.get("application_error") for e in events(call, "say")] == [True]


def test_redirect_fetches_the_next_document_and_pause_takes_telephone_time(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    hooks.on("/next", "<Response><Pause length='2'/><Say>Done</Say></Response>")
    twiml = "<Response><Redirect method='POST'>/next</Redirect><Say>never</Say></Response>"
    call = control.wait_final(_place(telephony, hooks, "+14155550211", "/answer", twiml))
    assert [e["text"] for e in events(call, "say")] == ["Done"]
    assert events(call, "pause")[0]["length"] == 2 and int(call["duration"]) >= 2


def test_the_api_redirects_a_live_call_to_new_twiml(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    sid = _place(telephony, hooks, "+14155550212", "/answer", "<Response><Pause length='120'/></Response>")
    control.wait_status(sid, "in-progress")
    hooks.on("/moved", "<Response><Say>Moved</Say></Response>")
    telephony.update_call(sid, url=hooks.url("/moved"))
    call = control.wait_final(sid)
    assert events(call, "redirect")[0]["by"] == "api"
    assert events(call, "say")[0]["text"] == "Moved"


def test_an_inbound_call_runs_the_numbers_voice_url_and_reports_completion(hooks: WebhookApp, control: Control) -> None:
    hooks.on("/voice/incoming", MENU)
    hooks.on("/menu", "<Response><Say>Goodbye</Say></Response>")
    sid = control.call_in("+14155550213", steps=[{"digits": "2"}])
    call = control.wait_final(sid)
    first = hooks.requests_to("/voice/incoming")[0].form
    assert first["Direction"] == "inbound" and first["CallStatus"] == "ringing" and first["To"] == OUR_NUMBER
    assert hooks.requests_to("/menu")[0].form["Digits"] == "2"
    status = hooks.wait_for("/voice/status")[0].form
    assert status["CallStatus"] == "completed" and status["CallSid"] == sid
    assert call["direction"] == "inbound" and all(hit.signature_ok for hit in hooks.hits)


def test_an_inbound_calls_shaken_stir_verdict_reaches_its_webhooks_as_twilio_sends_it(
    hooks: WebhookApp, control: Control
) -> None:
    """Twilio presents StirVerstat on an incoming call that carried a PASSporT, and nothing on one that did not."""
    hooks.on("/voice/incoming", "<Response><Say>Hello</Say></Response>")
    control.wait_final(control.call_in("+14155550216", verstat="TN-Validation-Failed-A"))
    control.wait_final(control.call_in("+14155550217"))
    verified, unverified = (hit.form for hit in hooks.requests_to("/voice/incoming")[:2])
    assert verified["StirVerstat"] == "TN-Validation-Failed-A" and verified["From"] == "+14155550216"
    assert "StirVerstat" not in unverified
    assert all(hit.signature_ok for hit in hooks.hits)
    refused = requests.post(
        f"{control.base_url}/sandbox/calls", json={"from": "+14155550218", "to": OUR_NUMBER, "verstat": 7}, timeout=5
    )
    assert refused.status_code == 400


def test_reject_as_first_verb_leaves_an_inbound_call_unanswered(hooks: WebhookApp, control: Control) -> None:
    hooks.on("/voice/incoming", '<Response><Reject reason="busy"/></Response>')
    call = control.wait_final(control.call_in("+14155550214"))
    assert call["status"] == "busy" and call["start_time"] is None


def test_a_timeline_lists_what_happened_in_order(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    control.phone("+14155550215", steps=[{"digits": "1"}])
    hooks.on("/menu", "<Response><Hangup/></Response>")
    call = control.wait_final(_place(telephony, hooks, "+14155550215", "/answer", MENU))
    kinds = [e["type"] for e in call["timeline"]]
    for expected in ("status", "webhook", "gather", "say", "input", "hangup"):
        assert expected in kinds
    assert kinds.index("gather") < kinds.index("input") < kinds.index("hangup")
