"""<Gather> as Twilio runs it: keys collected over several presses, speech returned as its recogniser writes it,
speechTimeout, speechModel, language and partial results."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests
from sandbox_harness import OUR_NUMBER, Control, WebhookApp, events, wait_until

from telephony.twilio_adapter import TwilioTelephony

ORDER = "11244556671234567"


def _gather(attributes: str, prompt: str = "Your order number, please") -> str:
    gather = f'<Gather action="/got" {attributes}><Say>{prompt}</Say></Gather>'
    return f"<Response>{gather}<Say>Nothing heard</Say></Response>"


def _run(telephony: TwilioTelephony, hooks: WebhookApp, control: Control, to: str, twiml: str) -> dict[str, Any]:
    hooks.on("/got", "<Response/>")
    sid = telephony.place_call(to, OUR_NUMBER, hooks.on("/answer", twiml)).sid
    return control.wait_final(sid)


# Keys ---------------------------------------------------------------------------------------------------------


def test_keys_pressed_in_several_steps_make_one_entry_until_the_finish_key(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    control.phone("+14155550600", steps=[{"digits": "112"}, {"digits": "4455667"}, {"digits": "1234567#"}])
    call = _run(telephony, hooks, control, "+14155550600", _gather('timeout="5"'))
    (got,) = hooks.requests_to("/got")
    assert got.form["Digits"] == ORDER and got.form["FinishedOnKey"] == "#" and got.signature_ok
    assert events(call, "input")[-1]["digits"] == ORDER


def test_a_pause_shorter_than_the_timeout_keeps_the_keys_coming(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    control.phone("+14155550601", steps=[{"digits": "11"}, {"wait": 3}, {"digits": "2w4#"}])
    _run(telephony, hooks, control, "+14155550601", _gather('timeout="5"'))
    assert hooks.requests_to("/got")[0].form["Digits"] == "1124"


def test_the_digit_timeout_sends_the_keys_so_far_and_later_keys_reach_the_next_gather(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    # 3 s of silence after "11" ends the first Gather; the rest of the 8 s pause runs into the second.
    control.phone("+14155550602", steps=[{"digits": "11"}, {"wait": 8}, {"digits": "9"}])
    hooks.on("/got", '<Response><Gather action="/next" timeout="10" numDigits="1"/></Response>')
    hooks.on("/next", "<Response/>")
    sid = telephony.place_call("+14155550602", OUR_NUMBER, hooks.on("/answer", _gather('timeout="3"'))).sid
    control.wait_final(sid)
    first = hooks.requests_to("/got")[0].form
    assert first["Digits"] == "11" and first["FinishedOnKey"] == ""
    assert hooks.requests_to("/next")[0].form["Digits"] == "9"


def test_num_digits_ends_the_gather_and_keys_after_it_are_dropped(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    control.phone("+14155550603", steps=[{"digits": "1"}, {"digits": "2345"}])
    call = _run(telephony, hooks, control, "+14155550603", _gather('numDigits="3" timeout="5"'))
    assert hooks.requests_to("/got")[0].form["Digits"] == "123"
    assert {"digits": "45"} in [e.get("ignored") for e in events(call, "input")]


def test_another_finish_key_and_an_invalid_one(telephony: TwilioTelephony, hooks: WebhookApp, control: Control) -> None:
    control.phone("+14155550604", steps=[{"digits": "12#3*"}])
    _run(telephony, hooks, control, "+14155550604", _gather('finishOnKey="*" timeout="5"'))
    form = hooks.requests_to("/got")[0].form
    assert form["Digits"] == "12#3" and form["FinishedOnKey"] == "*"

    control.phone("+14155550605", steps=[{"digits": "12#"}])
    call = _run(telephony, hooks, control, "+14155550605", _gather('finishOnKey="ab" timeout="5"'))
    assert [e["code"] for e in events(call, "warning")] == [13310]
    assert hooks.requests_to("/got")[1].form["Digits"] == "12"


def test_a_person_keys_a_number_one_button_at_a_time_and_sees_the_keys_so_far(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    me = "+14155550606"
    control.phone(me, interactive=True)
    hooks.on("/got", "<Response/>")
    # A long digit timeout: a person between two keys is not a script, and the sandbox runs at SANDBOX_SPEED.
    sid = telephony.place_call(me, OUR_NUMBER, hooks.on("/answer", _gather('timeout="600"'))).sid
    control.wait_status(sid, "ringing")
    requests.post(f"{control.base_url}/sandbox/calls/{sid}/answer", timeout=5)
    wait_until(lambda: events(control.call(sid), "gather"), what="the gather")

    def shows(keys: str) -> Callable[[], bool]:
        return lambda: bool(control.call(sid)["keys_so_far"] == keys)

    for count in range(1, 5):
        requests.post(f"{control.base_url}/sandbox/calls/{sid}/input", json={"digits": "4455"[count - 1]}, timeout=5)
        wait_until(shows("4455"[:count]), what=f"keys {'4455'[:count]} collected")
    assert hooks.requests_to("/got") == []
    requests.post(f"{control.base_url}/sandbox/calls/{sid}/input", json={"digits": "#"}, timeout=5)
    assert hooks.wait_for("/got")[0].form["Digits"] == "4455"
    assert control.call(sid)["keys_so_far"] is None


# Speech -------------------------------------------------------------------------------------------------------


def test_speech_is_punctuated_with_numbers_in_digits(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    said = (
        "my order number is one one two dash four four five five six six seven dash one two three four five six seven"
    )
    control.phone("+14155550610", steps=[{"speech": said}])
    call = _run(telephony, hooks, control, "+14155550610", _gather('input="speech" speechTimeout="auto"'))
    form = hooks.requests_to("/got")[0].form
    assert form["SpeechResult"] == "My order number is 112-4455667-1234567."
    heard = events(call, "input")[-1]
    assert heard["speech"] == said and heard["speech_result"] == form["SpeechResult"]
    assert heard["confidence"] == form.get("Confidence")


def test_spanish_speech_in_a_spanish_gather(telephony: TwilioTelephony, hooks: WebhookApp, control: Control) -> None:
    control.phone("+14155550611", steps=[{"speech": "donde esta mi pedido"}, {"speech": "uno uno dos cuatro cuatro"}])
    hooks.on("/got", _gather('input="speech" language="es-US"', "Su número").replace("/got", "/again"))
    hooks.on("/again", "<Response/>")
    twiml = _gather('input="speech" language="es-US" speechTimeout="auto"', "Diga")
    sid = telephony.place_call("+14155550611", OUR_NUMBER, hooks.on("/answer", twiml)).sid
    call = control.wait_final(sid)
    assert hooks.requests_to("/got")[0].form["SpeechResult"] == "¿Dónde está mi pedido?"
    assert hooks.requests_to("/again")[0].form["SpeechResult"] == "11244."
    assert [e["language"] for e in events(call, "gather")] == ["es-US", "es-US"]


def test_a_step_pins_the_confidence_leaves_it_out_or_asks_for_its_words_verbatim(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    steps = [
        {"speech": "agent please", "confidence": 0.42},
        {"speech": "agent please", "confidence": None},
        {"speech": "agent please", "verbatim": True, "confidence": 0.9},
    ]
    control.phone("+14155550612", steps=steps)
    hooks.on("/got", lambda form: _gather('input="speech"'))
    sid = telephony.place_call("+14155550612", OUR_NUMBER, hooks.on("/answer", _gather('input="speech"'))).sid
    control.wait_final(sid, timeout=20)
    forms = [hit.form for hit in hooks.requests_to("/got")][:3]
    assert [(f["SpeechResult"], f.get("Confidence")) for f in forms] == [
        ("Agent please.", "0.42"),
        ("Agent please.", None),
        ("agent please", "0.9"),
    ]


def test_a_bad_speech_step_is_refused(control: Control) -> None:
    for bad in (
        {"speech": "hi", "confidence": 2},
        {"speech": "hi", "verbatim": "yes"},
        {"speech": "hi", "loud": 1},
        {"speech": "hi", "pause": -1},
        {"speech": "hi", "pause": "long"},
    ):
        response = requests.put(f"{control.base_url}/sandbox/phones/+14155550613", json={"steps": [bad]}, timeout=5)
        assert response.status_code == 400, bad


def test_confidence_varies_between_calls_and_repeats_for_the_same_call_and_words(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    def confidences(to: str) -> list[str | None]:
        control.phone(to, steps=[{"speech": "where is my parcel"}])
        before = len(hooks.requests_to("/got"))
        _run(telephony, hooks, control, to, _gather('input="speech"'))
        return [hit.form.get("Confidence") for hit in hooks.requests_to("/got")[before:]]

    phones = [f"+1415555062{n}" for n in range(6)]
    heard = [confidences(phone) for phone in phones]
    assert heard[0] == confidences(phones[0])
    values = [float(c) for (c,) in heard if c is not None]
    assert len(set(values)) >= 3 and all(0.55 <= v <= 0.97 for v in values)


def test_speech_models_are_recorded_and_shape_the_confidence(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    control.phone("+14155550630", steps=[{"speech": "returns"}])
    call = _run(telephony, hooks, control, "+14155550630", _gather('input="speech" speechModel="googlev2_telephony"'))
    # Google's STT V2 reports 0.0 for "no confidence", which Twilio passes on.
    assert hooks.requests_to("/got")[0].form["Confidence"] == "0"
    assert events(call, "gather")[0]["speech_model"] == "googlev2_telephony"

    control.phone("+14155550631", steps=[{"speech": "returns"}])
    call = _run(telephony, hooks, control, "+14155550631", _gather('input="speech" speechModel="sharp_ears"'))
    assert [e["code"] for e in events(call, "warning")] == [13334]
    assert hooks.requests_to("/got")[1].form["SpeechResult"] == "Returns."


def test_speech_timeout_is_the_silence_that_ends_speech(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    # Two words (0.8 s), then the caller hangs up 15 s after answering: 1 s of silence ends speech in time,
    # 30 s does not, and without speechTimeout the 40 s timeout is the silence that ends it.
    for phone, attributes, posted in (
        ("+14155550640", 'speechTimeout="1"', True),
        ("+14155550641", 'speechTimeout="auto"', True),
        ("+14155550642", 'speechTimeout="30"', False),
        ("+14155550643", 'timeout="40"', False),
    ):
        control.phone(phone, steps=[{"speech": "agent please"}], hangup_after=15, answer_after=1)
        before = len(hooks.requests_to("/got"))
        twiml = f'<Response><Gather action="/got" input="speech" {attributes}/></Response>'
        _run(telephony, hooks, control, phone, twiml)
        assert (len(hooks.requests_to("/got")) > before) is posted, attributes


def test_a_pause_mid_sentence_shorter_than_speech_timeout_is_one_utterance_and_a_longer_one_two(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    # "one one two ... (2 s) ... four four": one result under speechTimeout="3"; under "auto" (a natural
    # pause) the first piece is sent, and the rest is the caller's answer to the next question.
    steps = [{"speech": "one one two", "pause": 2}, {"speech": "four four five"}]
    control.phone("+14155550646", steps=steps)
    _run(telephony, hooks, control, "+14155550646", _gather('input="speech" speechTimeout="3"'))
    assert hooks.requests_to("/got")[-1].form["SpeechResult"] == "112445."
    control.phone("+14155550647", steps=steps)
    hooks.on("/got", '<Response><Gather action="/next" input="speech" speechTimeout="3"/></Response>')
    hooks.on("/next", "<Response/>")
    sid = telephony.place_call(
        "+14155550647", OUR_NUMBER, hooks.on("/answer", _gather('input="speech" speechTimeout="auto"'))
    ).sid
    control.wait_final(sid)
    assert hooks.requests_to("/got")[-1].form["SpeechResult"] == "112."
    assert hooks.requests_to("/next")[-1].form["SpeechResult"] == "445."


def test_bad_speech_timeouts_warn_and_fall_back_to_the_timeout(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    control.phone("+14155550644", steps=[{"speech": "agent"}])
    call = _run(telephony, hooks, control, "+14155550644", _gather('input="speech" speechTimeout="soon" timeout="1"'))
    control.phone("+14155550645", steps=[{"speech": "agent"}])
    twiml = _gather('input="speech" speechTimeout="auto" speechModel="phone_call" timeout="1"')
    call_with_model = _run(telephony, hooks, control, "+14155550645", twiml)
    assert [e["code"] for e in events(call, "warning")] == [13327]
    assert [e["code"] for e in events(call_with_model, "warning")] == [13335]
    assert len(hooks.requests_to("/got")) == 2


def test_partial_results_are_posted_word_by_word_and_signed(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    control.phone("+14155550650", steps=[{"speech": "where is my order"}])
    hooks.on("/partial", "")
    twiml = _gather('input="speech" speechTimeout="auto" partialResultCallback="/partial"')
    sid = telephony.place_call("+14155550650", OUR_NUMBER, hooks.on("/answer", twiml)).sid
    hooks.on("/got", "<Response/>")
    control.wait_final(sid)
    partials = hooks.wait_for("/partial", 4)
    assert all(hit.signature_ok and hit.method == "POST" and hit.form["CallSid"] == sid for hit in partials)
    assert [hit.form["UnstableSpeechResult"] for hit in partials] == [
        "Where",
        "Where is",
        "Where is my",
        "Where is my order",
    ]
    assert [hit.form["SequenceNumber"] for hit in partials] == ["1", "2", "3", "4"]
    stability = [float(hit.form["Stability"]) for hit in partials]
    assert stability == sorted(stability) and all(0 < s < 1 for s in stability)
    assert hooks.requests_to("/got")[0].form["SpeechResult"] == "Where is my order?"
