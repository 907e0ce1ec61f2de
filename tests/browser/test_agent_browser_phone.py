"""The console's browser phone and its live parts in Chromium, as an agent meets them: a call declined or
gone before it was answered leaves no dead buttons, the keyboard follows answer and take, a note being
written is kept when the line moves on, and a console that stopped updating says so.

The browser phone is Twilio's Voice SDK, which only real Twilio can ring; here a stand-in `Twilio.Device`
emits the events the SDK documents (incoming; on the call: accept, reject, cancel, disconnect, error).
The page is the app's own /agent, its scripts and styles from static/, its polls answered by the test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from core.clock import FixedClock
from tests.integration.test_agent_console import sign_in, staff_agent

# The page's own behaviour: the database only renders it, so one backend is enough.
pytestmark = [pytest.mark.browser, pytest.mark.sqlite_only]

ROOT = Path(__file__).resolve().parents[2]
ORIGIN = "http://console.test"

# What the SDK's Device and Call do, as far as the console uses them; reject() emits "reject" (SDK 2.x).
DEVICE = """
<script>
window.Twilio = {Device: function () {
  var device = this; device.handlers = {}; device.calls = [];
  device.on = function (event, handler) { device.handlers[event] = handler; };
  device.emit = function (event, arg) { if (device.handlers[event]) { device.handlers[event](arg); } };
  device.register = function () { device.emit("registered"); };
  device.updateToken = function () {};
  window.device = device;
}};
window.incomingCall = function () {
  var call = {handlers: {}, done: []};
  call.on = function (event, handler) { call.handlers[event] = handler; };
  call.emit = function (event) { if (call.handlers[event]) { call.handlers[event](); } };
  call.accept = function () { call.done.push("accept"); };
  call.reject = function () { call.done.push("reject"); call.emit("reject"); };
  call.disconnect = function () { call.done.push("disconnect"); call.emit("disconnect"); };
  call.sendDigits = function (digits) { call.done.push("digits " + digits); };
  window.call = call;
  window.device.emit("incoming", call);
};
</script>
"""


class Console:
    """The console in a tab, its /agent/state answered from `state` (None: the network is down)."""

    def __init__(self, browser: Any, html: str, state: dict[str, Any]) -> None:
        self.state: dict[str, Any] | None = state
        self.context = browser.new_context(base_url=ORIGIN)
        self.tab = self.context.new_page()
        self.tab.route(f"{ORIGIN}/**", lambda route: self._answer(route, html))
        self.tab.goto("/agent")
        self.tab.wait_for_function("!!(window.device && window.device.handlers.incoming)")

    def _answer(self, route: Any, html: str) -> None:
        path = route.request.url.removeprefix(ORIGIN).split("?")[0]
        if path == "/agent":
            route.fulfill(body=html, content_type="text/html")
        elif path == "/agent/state":
            if self.state is None:
                route.abort()
            else:
                route.fulfill(body=json.dumps(self.state), content_type="application/json")
        elif path == "/agent/token":
            body = {"token": "token", "identity": "bilal", "expires_in": 3600}
            route.fulfill(body=json.dumps(body), content_type="application/json")
        elif path.startswith("/static/") and (ROOT / path.lstrip("/")).is_file():
            kind = "text/css" if path.endswith(".css") else "application/javascript"
            route.fulfill(body=(ROOT / path.lstrip("/")).read_bytes(), content_type=kind)
        else:
            route.fulfill(status=404, body="")

    def phone_note(self) -> str:
        text: str = self.tab.inner_text("#browser-phone-state")
        return text

    def focused(self) -> str:
        text: str = self.tab.evaluate("document.activeElement.textContent")
        return text

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def console(browser: Any, client: FlaskClient, session: Session, clock: FixedClock) -> Any:
    staff_agent(session, clock, "bilal@example.com", client_id="bilal")
    sign_in(client, "bilal@example.com")
    html = client.get("/agent").get_data(as_text=True)
    assert 'data-browser-phone="on"' in html
    html = html.replace('<script src="/static/agent.js">', DEVICE + '<script src="/static/agent.js">')
    state = client.get("/agent/state").get_json()
    opened: list[Console] = []

    def open_(**changes: Any) -> Console:
        opened.append(Console(browser, html, {**state, **changes}))
        return opened[-1]

    yield open_
    for tab in opened:
        tab.close()


@pytest.mark.parametrize("how", ["declined here", "the caller gone", "an error"])
def test_a_call_that_ends_before_an_answer_leaves_no_buttons(console: Any, how: str) -> None:
    agent = console()
    assert "Ready: calls to bilal ring here." in agent.phone_note()
    agent.tab.evaluate("incomingCall()")
    assert agent.phone_note().startswith("Incoming call:")

    if how == "declined here":
        agent.tab.get_by_role("button", name="Decline").click()
    else:
        agent.tab.evaluate(f"call.emit({json.dumps('cancel' if how == 'the caller gone' else 'error')})")

    assert agent.phone_note() == "Ready: calls to bilal ring here."
    assert agent.tab.locator("#browser-phone-state button").count() == 0


def test_the_keyboard_follows_answer_take_and_hang_up(console: Any) -> None:
    agent = console()
    agent.tab.evaluate("incomingCall()")

    agent.tab.get_by_role("button", name="Answer").focus()
    agent.tab.keyboard.press("Enter")
    assert agent.focused() == "Take the call (1)"
    agent.tab.keyboard.press("Enter")
    assert agent.focused() == "Hang up"
    agent.tab.keyboard.press("Enter")

    assert agent.tab.evaluate("call.done") == ["accept", "digits 1", "disconnect"]
    assert agent.phone_note() == "Ready: calls to bilal ring here."


def test_a_note_being_written_is_kept_when_the_next_call_is_put_through(console: Any) -> None:
    ann = {"request_id": 101, "name": "Ann Lee", "topic": "Orders", "disposition": None, "note": None}
    bob = {"request_id": 102, "name": "Bob Roe", "topic": "Orders", "disposition": None, "note": None}
    agent = console(wrap_up=ann)
    agent.tab.wait_for_function("document.getElementById('wrap-up-form').action.endsWith('/101/wrap-up')")
    agent.tab.fill("#note", "Refund to the original card; promised an email by Friday")

    assert agent.state is not None
    agent.state = {**agent.state, "wrap_up": bob}  # wrap-up time ran out and the agent took the next call
    held = agent.tab.locator("#wrap-up-held")
    held.wait_for(state="visible")

    assert held.inner_text() == "Save your wrap-up for Ann Lee first; then the form moves on to Bob Roe."
    assert agent.tab.input_value("#note") == "Refund to the original card; promised an email by Friday"
    assert agent.tab.eval_on_selector("#wrap-up-form", "form => form.action").endswith("/101/wrap-up")


def test_a_form_left_untouched_moves_on_to_the_next_call(console: Any) -> None:
    ann = {"request_id": 101, "name": "Ann Lee", "topic": "Orders", "disposition": None, "note": None}
    bob = {"request_id": 102, "name": "Bob Roe", "topic": "Orders", "disposition": None, "note": None}
    agent = console(wrap_up=ann)
    agent.tab.wait_for_function("document.getElementById('wrap-up-form').action.endsWith('/101/wrap-up')")

    assert agent.state is not None
    agent.state = {**agent.state, "wrap_up": bob}

    agent.tab.wait_for_function("document.getElementById('wrap-up-form').action.endsWith('/102/wrap-up')")
    assert agent.tab.locator("#wrap-up-held").is_hidden()
    assert agent.tab.inner_text("#wrap-up-for") == "Bob Roe, Orders"


def test_a_console_that_stopped_updating_says_so_and_recovers(console: Any) -> None:
    agent = console()
    connection = agent.tab.locator("#console-connection")
    assert connection.inner_text() == ""

    saved, agent.state = agent.state, None  # the network drops: every poll fails
    agent.tab.wait_for_function("document.getElementById('console').classList.contains('stale')", timeout=10_000)
    assert connection.inner_text().startswith("Connection lost, retrying…")

    agent.state = saved
    agent.tab.wait_for_function("!document.getElementById('console').classList.contains('stale')", timeout=10_000)
    assert connection.inner_text() == ""


def test_a_signalling_blip_during_a_call_keeps_its_buttons(console: Any) -> None:
    """The SDK unregisters and registers again when its signalling connection drops for a moment, even
    with a call up: the agent must still be able to take the call."""
    agent = console()
    agent.tab.evaluate("incomingCall(); device.calls = [call]")
    agent.tab.get_by_role("button", name="Answer").click()

    agent.tab.evaluate("device.emit('unregistered'); device.emit('registered')")

    assert agent.tab.get_by_role("button", name="Take the call (1)").is_visible()
    assert agent.tab.get_by_role("button", name="Hang up").is_visible()
