"""An agent at the console in a real browser, with the whole system running: the app with its dispatcher and
the Twilio sandbox. A customer asks on the form, the agent's phone rings, the screen pop shows who and why,
the call ends, the agent wraps it up. At desktop width and at a phone's."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from agents.desk import DOUBTED_CALLER_ID_NOTE
from agents.staff import add_staff
from core.clock import SystemClock
from core.db import get_db
from orders.fake import FakeOrderLookup
from orders.port import GuardedLookup, OrderInfo
from tests.e2e.conftest import SHOP_NUMBER, System, start_system

pytestmark = pytest.mark.browser

PASSWORD = "browser-agent-password"
CUSTOMER = "+12015550123"
ANA_PHONE = "+12015550201"
BOB_PHONE = "+12015550202"
ORDER = OrderInfo(
    number="112-4455667-1234567",
    status="out_for_delivery",
    placed_at=datetime(2026, 11, 18, 12, 0, tzinfo=UTC),
    carrier="UPS",
    estimated_delivery=date(2026, 11, 25),
)
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def running(tmp_path: Path) -> Iterator[System]:
    """The app (scheduler on) and the sandbox, with two agents who have staff accounts and one known order."""
    system, stop = start_system(tmp_path)
    system.app.extensions["order_lookup"] = GuardedLookup(FakeOrderLookup([ORDER]))
    for phone, email in ((ANA_PHONE, "ana@example.com"), (BOB_PHONE, "bob@example.com")):
        agent_id = system.add_agent(phone, status="offline")
        with get_db(system.app).sessions() as session:
            add_staff(session, SystemClock(), email, email.split("@")[0].title(), "agent", PASSWORD, agent_id=agent_id)
    try:
        yield system
    finally:
        stop()


def new_tab(browser: Any, system: System, viewport: dict[str, int], problems: list[str]) -> Any:
    """A fresh browser (own cookies) on the app; script errors and failed app requests are collected."""
    context = browser.new_context(base_url=system.app_url, viewport=viewport, locale="en-US")
    context.set_default_timeout(10_000)
    tab = context.new_page()
    tab.on("pageerror", lambda error: problems.append(f"page error: {error}"))

    def on_response(response: Any) -> None:
        # Only the app's own requests: the embedded sandbox softphone polls phones that may not exist.
        if response.url.startswith(system.app_url) and response.status >= 400:
            if response.request.resource_type != "document":
                problems.append(f"{response.request.resource_type} {response.url} answered {response.status}")

    tab.on("response", on_response)
    return tab


def sign_in(tab: Any, email: str) -> None:
    tab.goto("/agent")
    expect(tab).to_have_url(re.compile(r"/login\?next=%2Fagent$|/login\?next=/agent$"))
    tab.get_by_label("Email").fill(email)
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Sign in").click()
    expect(tab).to_have_url(re.compile(r"/agent$"))


@pytest.mark.parametrize("width", VIEWPORTS)
def test_an_agent_takes_a_callback_from_the_form_and_wraps_it_up(browser: Any, running: System, width: str) -> None:
    problems: list[str] = []
    viewport = VIEWPORTS[width]
    # The customer answers and presses 1; Ana's phone answers, she presses 1 and hangs up after a while.
    running.phone(CUSTOMER, answer="human", steps=[{"digits": "1"}])
    running.phone(ANA_PHONE, answer="human", steps=[{"digits": "1"}], hangup_after=120)

    ana = new_tab(browser, running, viewport, problems)
    sign_in(ana, "ana@example.com")
    expect(ana.locator("#status-summary")).to_contain_text("Offline since")
    ana.get_by_role("button", name="Available").click()
    expect(ana.locator("#status-summary")).to_contain_text("Available since")
    expect(ana.get_by_role("button", name="Available")).to_have_attribute("aria-pressed", "true")
    expect(ana.locator("#call-phase")).to_have_text("No call right now.")

    customer = new_tab(browser, running, viewport, problems)
    customer.goto("/callback")
    customer.get_by_label("Country").select_option("US")
    customer.get_by_label("Phone number").fill("(201) 555-0123")
    customer.get_by_label("Your name").fill("Ann Lee")
    customer.get_by_label("What is it about?").select_option("orders")
    customer.get_by_label("Order number").fill(ORDER.number)
    customer.get_by_label("I agree to be called").check()
    customer.get_by_role("button", name="Call me back").click()
    expect(customer).to_have_url(re.compile(r"/callback/[A-Za-z0-9_-]{16,}$"))

    # The screen pop, without a reload, while the call is live.
    expect(ana.locator("#pop")).to_be_visible(timeout=15_000)
    expect(ana.locator("#pop-name")).to_have_text("Ann Lee")
    expect(ana.locator("#pop-phone")).to_have_text("+1 201-555-0123")
    expect(ana.locator("#pop-phone-note")).to_be_hidden()  # a web request: nothing to doubt
    expect(ana.locator("#pop-topic")).to_have_text("Orders, tracking and delivery")
    expect(ana.locator("#pop-order")).to_contain_text(f"{ORDER.number}: out for delivery, with UPS")
    expect(ana.locator("#call-phase")).to_have_text("On the call", timeout=15_000)
    expect(ana.locator("#wrap-up-card")).to_be_visible()
    ana.screenshot(path=f"/tmp/callme-agent-call-{width}.png", full_page=True)

    # Ana's phone hangs up; the call ends and she wraps it up.
    expect(ana.locator("#call-phase")).to_have_text("No call right now.", timeout=20_000)
    ana.get_by_label("How did it go?").select_option("follow_up")
    ana.get_by_label("Note").fill("Parcel late; UPS trace opened.")
    ana.get_by_role("button", name="Save wrap-up").click()

    # The page's other live region (the poll's "Connection lost, retrying…") is there too, empty.
    expect(ana.get_by_role("status").filter(has_text="Saved: Ann Lee")).to_be_visible()
    today = ana.locator("#today li")
    expect(today).to_have_count(1)
    expect(today.first).to_contain_text("Ann Lee")
    expect(today.first).to_contain_text("Talked")
    expect(today.first).to_contain_text("Needs a follow-up")
    expect(today.first).to_contain_text("Parcel late; UPS trace opened.")
    expect(ana.locator("#wrap-up-card")).to_be_hidden()
    ana.screenshot(path=f"/tmp/callme-agent-after-{width}.png", full_page=True)

    # Bob sees none of it.
    bob = new_tab(browser, running, viewport, problems)
    sign_in(bob, "bob@example.com")
    expect(bob.locator("#call-phase")).to_have_text("No call right now.")
    expect(bob.locator("#today-empty")).to_be_visible()
    expect(bob.locator("#today li")).to_have_count(0)
    expect(bob.get_by_text("Ann Lee")).to_have_count(0)

    # Signed out, the console sends the browser to sign in.
    stranger = new_tab(browser, running, viewport, problems)
    stranger.goto("/agent")
    expect(stranger).to_have_url(re.compile(r"/login"))

    for tab in (ana, customer, bob, stranger):
        tab.context.close()
    assert not problems, "the browser reported errors:\n" + "\n".join(problems)


def test_the_screen_pop_says_when_the_carrier_could_not_verify_the_callers_number(
    browser: Any, running: System
) -> None:
    """A caller put through from the phone menu whose caller ID failed the carrier's SHAKEN/STIR check: the
    agent reads, next to the number, that the caller may not be its owner."""
    problems: list[str] = []
    running.phone(ANA_PHONE, answer="human", steps=[{"digits": "1"}], hangup_after=60)
    ana = new_tab(browser, running, VIEWPORTS["phone"], problems)
    sign_in(ana, "ana@example.com")
    ana.get_by_role("button", name="Available").click()
    expect(ana.get_by_role("button", name="Available")).to_have_attribute("aria-pressed", "true")

    response = requests.post(
        f"{running.sandbox_url}/sandbox/calls",
        json={
            "from": CUSTOMER,
            "to": SHOP_NUMBER,
            "steps": [{"speech": "representative"}],
            "verstat": "No-TN-Validation",
        },
        timeout=5,
    )
    assert response.status_code == 201, response.text

    expect(ana.locator("#pop")).to_be_visible(timeout=15_000)
    expect(ana.locator("#pop-phone")).to_have_text("+1 201-555-0123")
    note = ana.locator("#pop-phone-note")
    expect(note).to_be_visible()
    expect(note).to_have_text(DOUBTED_CALLER_ID_NOTE)
    ana.screenshot(path="/tmp/callme-agent-doubted-caller-id.png", full_page=True)
    ana.context.close()
    assert not problems, "the browser reported errors:\n" + "\n".join(problems)


def test_two_tabs_and_a_reload_lose_no_wrap_up_and_overwrite_none(browser: Any, running: System) -> None:
    problems: list[str] = []
    running.phone(CUSTOMER, answer="human", steps=[{"digits": "1"}])
    running.phone(ANA_PHONE, answer="human", steps=[{"digits": "1"}], hangup_after=20)
    first = new_tab(browser, running, VIEWPORTS["desktop"], problems)
    sign_in(first, "ana@example.com")
    first.get_by_role("button", name="Available").click()
    second = first.context.new_page()  # the same browser, signed in: a second tab
    second.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    second.goto("/agent")
    running.ask(CUSTOMER, name="Ann Lee")
    for tab in (first, second):
        expect(tab.locator("#wrap-up-card")).to_be_visible(timeout=30_000)
    expect(first.locator("#call-phase")).to_have_text("No call right now.", timeout=40_000)

    # Typed in the second tab, then a reload: the words are back, and said to be unsaved.
    second.get_by_label("Note").fill("Customer wants a refund instead")
    second.reload()
    expect(second.get_by_label("Note")).to_have_value("Customer wants a refund instead")
    second.wait_for_timeout(2500)  # more than a poll: the word stays until the agent types
    expect(second.locator("#wrap-up-held")).to_be_visible()
    expect(second.locator("#wrap-up-held")).to_contain_text("Your unsaved wrap-up is back")

    # The first tab saves; the second, drawn before that save, cannot write over it.
    first.get_by_label("How did it go?").select_option("follow_up")
    first.get_by_label("Note").fill("Parcel late; UPS trace opened.")
    first.get_by_role("button", name="Save wrap-up").click()
    expect(first.get_by_role("status").filter(has_text="Saved: Ann Lee")).to_be_visible()
    second.get_by_label("How did it go?").select_option("resolved")
    second.get_by_role("button", name="Save wrap-up").click()
    expect(second.get_by_text("This call's wrap-up was saved meanwhile")).to_be_visible()
    # What the second tab had typed is not lost unseen: shown, and still there after a poll.
    left = second.locator("#drafts-left")
    expect(left).to_contain_text("Customer wants a refund instead")
    second.wait_for_timeout(2500)
    expect(left).to_be_visible()
    today = second.locator("#today li").first
    expect(today).to_contain_text("Needs a follow-up")
    expect(today).to_contain_text("Parcel late; UPS trace opened.")

    # Today's calls are not rebuilt under a keyboard user's focus every second.
    link = second.locator("#today li a").first
    link.focus()
    second.wait_for_timeout(2500)
    assert second.evaluate("document.activeElement && document.activeElement.closest('#today') !== null")

    first.context.close()
    assert not problems, "the browser reported errors:\n" + "\n".join(problems)


def test_a_server_that_stops_answering_is_said_on_the_console(browser: Any, running: System) -> None:
    problems: list[str] = []
    tab = new_tab(browser, running, VIEWPORTS["desktop"], problems)
    sign_in(tab, "ana@example.com")
    expect(tab.locator("#status-summary")).to_contain_text("Offline since")
    hanging: list[Any] = []
    tab.route("**/agent/state", lambda route: hanging.append(route))  # never answered
    expect(tab.locator("#console-connection")).to_contain_text("Connection lost", timeout=30_000)
    tab.unroute("**/agent/state")
    expect(tab.locator("#console-connection")).to_have_text("", timeout=15_000)
    tab.context.close()
    assert not problems, "the browser reported errors:\n" + "\n".join(problems)


def test_the_console_changes_status_and_saves_a_wrap_up_in_place_even_through_a_lost_connection(
    browser: Any, running: System
) -> None:
    """Never a page load: it would drop a browser-phone call, and one made offline lands on the browser's
    error page. A wrap-up saved while the connection is down is kept and saved by itself once it is back."""
    problems: list[str] = []
    running.phone(CUSTOMER, answer="human", steps=[{"digits": "1"}])
    running.phone(ANA_PHONE, answer="human", steps=[{"digits": "1"}], hangup_after=200)  # 10 s
    tab = new_tab(browser, running, VIEWPORTS["desktop"], problems)
    sign_in(tab, "ana@example.com")
    tab.evaluate("window.__samePage = true")
    tab.get_by_role("button", name="Available").click()
    expect(tab.locator("#status-summary")).to_contain_text("Available since")
    running.ask(CUSTOMER, name="Ann Lee")
    expect(tab.locator("#call-phase")).to_have_text("On the call", timeout=30_000)
    tab.get_by_role("button", name="Away").click()  # a break once this call ends
    expect(tab.get_by_role("status").filter(has_text="you'll be away when it ends")).to_be_visible()
    expect(tab.locator("#call-phase")).to_have_text("No call right now.", timeout=40_000)
    # The call over and the agent away, what was said about the wish is no longer news.
    expect(tab.locator("#status-summary")).to_contain_text("Away since", timeout=10_000)
    expect(tab.locator("#console-messages")).to_have_text("", timeout=5_000)

    # Screen readers are told of a change, not of every poll: the live regions stay still while idle.
    tab.evaluate(
        """() => { window.__changes = 0;
        const seen = new MutationObserver((records) => { window.__changes += records.length; });
        for (const id of ["status-summary", "call-phase"]) {
          seen.observe(document.getElementById(id), {childList: true, characterData: true, subtree: true});
        } }"""
    )
    tab.wait_for_timeout(3000)
    assert tab.evaluate("window.__changes") == 0

    tab.get_by_label("How did it go?").select_option("resolved")
    tab.get_by_label("Note").fill("Refund sent.")
    tab.context.set_offline(True)
    tab.get_by_role("button", name="Save wrap-up").click()
    expect(tab.get_by_role("alert").filter(has_text="Not saved yet")).to_be_visible()
    tab.context.set_offline(False)
    today = tab.locator("#today li").first
    expect(today).to_contain_text("Refund sent.", timeout=15_000)
    expect(today).to_contain_text("Resolved")
    assert tab.evaluate("window.__samePage === true"), "the console was loaded again"
    tab.context.close()
    problems = [p for p in problems if "net::ERR_INTERNET_DISCONNECTED" not in p]
    assert not problems, "the browser reported errors:\n" + "\n".join(problems)


def test_a_call_left_without_a_wrap_up_when_the_next_came_is_listed_until_it_has_one(
    browser: Any, running: System
) -> None:
    problems: list[str] = []
    second = "+12015550124"
    for number in (CUSTOMER, second):
        running.phone(number, answer="human", steps=[{"digits": "1"}])
    running.phone(ANA_PHONE, answer="human", steps=[{"digits": "1"}], hangup_after=20)
    tab = new_tab(browser, running, VIEWPORTS["desktop"], problems)
    sign_in(tab, "ana@example.com")
    tab.get_by_role("button", name="Available").click()
    expect(tab.locator("#status-summary")).to_contain_text("Available since")
    running.ask(CUSTOMER, name="Ann Lee")
    expect(tab.locator("#wrap-up-for")).to_contain_text("Ann Lee", timeout=30_000)
    running.ask(second, name="Bo Diaz")  # Ann's wrap-up not written: her wrap-up time runs out by itself
    expect(tab.locator("#wrap-up-for")).to_contain_text("Bo Diaz", timeout=30_000)

    left = tab.locator("#wrap-ups-left")
    expect(left).to_contain_text("Wrap-up still to write for: Ann Lee")
    left.get_by_role("link", name=re.compile("Ann Lee")).click()
    tab.get_by_label("How did it go?").select_option("resolved")
    tab.get_by_role("button", name="Save wrap-up").click()
    tab.goto("/agent")
    expect(tab.locator("#today li").filter(has_text="Ann Lee")).to_contain_text("Resolved")
    expect(left).to_be_hidden()
    tab.context.close()
    assert not problems, "the browser reported errors:\n" + "\n".join(problems)
