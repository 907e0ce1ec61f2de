"""The virtual world by hand: the softphone page and an interactive phone answered, keyed and hung up."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from sandbox_harness import OUR_NUMBER, Control, WebhookApp, events

from telephony.twilio_adapter import TwilioTelephony


def test_the_softphone_page_is_served_with_the_accounts_numbers(control: Control) -> None:
    page = requests.get(f"{control.base_url}/sandbox/", timeout=5)
    assert page.status_code == 200 and OUR_NUMBER in page.text and "Hang up" in page.text


def test_a_person_answers_presses_a_key_and_hangs_up_by_hand(
    telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    me = "+14155550400"
    control.phone(me, interactive=True)
    hooks.on("/pressed", "<Response><Pause length='300'/></Response>")
    twiml = '<Response><Gather numDigits="1" action="/pressed" timeout="60"><Say>Press 1</Say></Gather></Response>'
    sid = telephony.place_call(me, OUR_NUMBER, hooks.on("/answer", twiml)).sid
    listed = control.wait_status(sid, "ringing")
    assert listed["status"] == "ringing"
    assert requests.post(f"{control.base_url}/sandbox/calls/{sid}/answer", timeout=5).status_code == 200
    control.wait_status(sid, "in-progress")
    requests.post(f"{control.base_url}/sandbox/calls/{sid}/input", json={"digits": "1"}, timeout=5)
    assert hooks.wait_for("/pressed")[0].form["Digits"] == "1"
    requests.post(f"{control.base_url}/sandbox/calls/{sid}/hangup", timeout=5)
    call = control.wait_final(sid)
    assert call["status"] == "completed" and events(call, "hangup")[0]["by"] == "party"


def test_bad_phone_behaviours_are_refused_with_a_reason(control: Control) -> None:
    response = requests.put(f"{control.base_url}/sandbox/phones/+14155550401", json={"answer": "maybe"}, timeout=5)
    assert response.status_code == 400 and "answer must be one of" in response.json()["error"]
    response = requests.put(
        f"{control.base_url}/sandbox/phones/+14155550401", json={"steps": [{"dance": 1}]}, timeout=5
    )
    assert response.status_code == 400


def test_reset_forgets_calls_and_phones(telephony: TwilioTelephony, hooks: WebhookApp, control: Control) -> None:
    control.phone("+14155550402", answer="busy")
    telephony.place_call("+14155550402", OUR_NUMBER, hooks.on("/a", "<Response/>"))
    assert requests.post(f"{control.base_url}/sandbox/reset", timeout=5).json() == {"reset": True}
    assert requests.get(f"{control.base_url}/sandbox/calls", timeout=5).json() == {"calls": []}
    assert requests.get(f"{control.base_url}/sandbox/phones", timeout=5).json() == {"phones": {}}


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A page of the shared headless Chromium (one Playwright per test process)."""
    page = browser.new_page()
    try:
        yield page
    finally:
        page.close()


def test_a_person_plays_the_customer_in_the_browser(
    page: Any, telephony: TwilioTelephony, hooks: WebhookApp, control: Control
) -> None:
    me = "+14155550410"
    page.set_default_timeout(5000)
    page.goto(f"{control.base_url}/sandbox/")
    page.fill("#me", me)
    page.get_by_role("button", name="Ring here").click()
    page.get_by_text("ring here until you answer").wait_for()
    hooks.on("/pressed", "<Response><Pause length='600'/></Response>")
    twiml = (
        '<Response><Gather numDigits="1" action="/pressed" timeout="600">'
        "<Say>Press 1 for an agent</Say></Gather></Response>"
    )
    # Generous ring and gather timeouts: at SANDBOX_SPEED a human-paced click must still be in time.
    sid = telephony.place_call(me, OUR_NUMBER, hooks.on("/answer", twiml), timeout=600).sid
    page.get_by_role("button", name="Answer", exact=True).click()
    page.locator(".now", has_text="Press 1 for an agent").wait_for()
    # A refresh while the person types must not wipe what they typed.
    page.fill(".say input", "half a sentence")
    page.wait_for_timeout(1300)
    assert page.input_value(".say input") == "half a sentence"
    page.get_by_role("button", name="1", exact=True).click()
    assert hooks.wait_for("/pressed")[0].form["Digits"] == "1"
    page.locator(".timeline li", has_text="You pressed 1").wait_for()
    page.get_by_role("button", name="Hang up").click()
    page.locator(".now", has_text="Call ended: completed").wait_for()
    assert control.wait_final(sid)["status"] == "completed"
