"""A supervisor watches the live board in a real browser while the whole system runs (the app with its
dispatcher, and the Twilio sandbox): a callback is asked for, called and connected, and the board follows
each step within two seconds without a reload. An agent is refused the board. Desktop and phone widths."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from agents.staff import add_staff
from core.clock import SystemClock
from core.db import Database, get_db, make_engine
from tests import factories
from tests.browser.test_accessibility import clean
from tests.browser.test_callback_page import tab
from tests.e2e.conftest import System, start_system
from tests.factories import STAFF_PASSWORD

pytestmark = pytest.mark.browser

PASSWORD = "browser-board-password"
CUSTOMER = "+12015550123"
OTHER_CUSTOMER = "+12015550124"
ANA_PHONE = "+12015550201"
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
# The board's promise: what happens on the line shows within two seconds (it polls every second).
WITHIN = 2_000


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[System, int]]:
    """The app (scheduler on) and the sandbox; Ana, an agent signed out, and a supervisor, Sam."""
    # A long ring timeout, so the customer can take a while to answer: the board has a "being called"
    # phase long enough to be seen (the sandbox runs 20 times faster than the clock).
    system, stop = start_system(tmp_path, ring_timeout_seconds=120)
    ana = system.add_agent(ANA_PHONE, status="offline")
    with get_db(system.app).sessions() as session:
        add_staff(session, SystemClock(), "ana@example.com", "Ana", "agent", PASSWORD, agent_id=ana)
        add_staff(session, SystemClock(), "sam@example.com", "Sam", "supervisor", PASSWORD)
    try:
        yield system, ana
    finally:
        stop()


def new_tab(browser: Any, system: System, viewport: dict[str, int], problems: list[str]) -> Any:
    """A fresh browser (own cookies) on the app; script errors and the app's failed requests are collected."""
    context = browser.new_context(base_url=system.app_url, viewport=viewport, locale="en-US")
    context.set_default_timeout(10_000)
    tab = context.new_page()
    tab.on("pageerror", lambda error: problems.append(f"page error: {error}"))

    def on_console(message: Any) -> None:
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(f"console: {message.text}")

    def on_response(response: Any) -> None:
        if response.status >= 400 and response.request.resource_type != "document":
            problems.append(f"{response.request.resource_type} {response.url} answered {response.status}")

    tab.on("console", on_console)
    tab.on("response", on_response)
    return tab


def sign_in(tab: Any, email: str, path: str = "/board") -> None:
    tab.goto(path)
    expect(tab).to_have_url(re.compile(r"/login\?next="))
    tab.get_by_label("Email").fill(email)
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Sign in").click()
    expect(tab).to_have_url(re.compile(re.escape(path) + "$"))


@pytest.mark.parametrize("width", VIEWPORTS)
def test_a_supervisor_watches_a_callback_asked_for_called_and_connected(
    browser: Any, running: tuple[System, int], width: str
) -> None:
    system, ana = running
    problems: list[str] = []
    # The customer answers after 100 telephone seconds (5 real ones) and presses 1; Ana answers, presses 1
    # to take the call, and talks for 200 telephone seconds (10 real ones).
    system.phone(CUSTOMER, answer="human", answer_after=100, steps=[{"digits": "1"}])
    system.phone(ANA_PHONE, answer="human", steps=[{"digits": "1"}], hangup_after=200)

    sam = new_tab(browser, system, VIEWPORTS[width], problems)
    sign_in(sam, "sam@example.com")
    board = sam.locator("#board")
    ana_row = sam.locator(f"#agent-{ana}")
    expect(sam.get_by_role("heading", name="Live board")).to_be_visible()
    expect(sam.locator("#queue-orders-waiting")).to_have_text("0")
    expect(sam.locator("#queue-orders-open")).to_have_text("Open")
    expect(sam.locator("#alerts-none")).to_have_text("Nothing needs a person right now.")
    expect(ana_row).to_contain_text("Offline")
    expect(ana_row).to_contain_text("No call")
    expect(sam.locator("#queue-orders-agents")).to_have_text("1 offline")

    # (a) A customer asks for a callback while nobody takes calls: it waits, and the board says so.
    ref = system.ask(CUSTOMER)
    expect(sam.locator("#queue-orders-waiting")).to_have_text("1", timeout=WITHIN)
    expect(sam.locator("#queue-orders-longest")).to_have_text(re.compile(r"^\d+ s$"), timeout=WITHIN)
    alert = sam.locator("#alerts li", has_text="Orders, tracking and delivery has")
    expect(alert).to_contain_text(
        "Orders, tracking and delivery has 1 person waiting and nobody taking calls (0 away, 1 offline).",
        timeout=WITHIN,
    )
    expect(alert).to_have_attribute("role", "alert")  # newly critical: announced once
    expect(alert.get_by_role("link", name="See the agents")).to_have_attribute("href", "/admin/agents")
    expect(sam.locator("#alerts-none")).to_be_hidden()
    # Another customer asks about a return, a queue nobody serves: that alert is the news now, and the
    # first one, unchanged, is not announced again.
    system.ask(OTHER_CUSTOMER, topic="returns")
    returns_alert = sam.locator("#alerts li", has_text="Returns and refunds has 1 person waiting")
    expect(returns_alert).to_have_attribute("role", "alert", timeout=WITHIN)
    expect(alert).not_to_have_attribute("role", "alert")
    expect(sam.locator("#queue-returns-waiting")).to_have_text("1")
    sam.screenshot(path=f"/tmp/board-waiting-{width}.png", full_page=True)

    # (b) Ana becomes available (as her console's button does, through the same service): the dispatcher
    # claims the request for her and calls the customer.
    assert system.api("POST", f"/api/agents/{ana}/status", json={"status": "available"}).status_code == 200
    system.wait_status(ref, "dialing", timeout=5)
    expect(sam.locator("#queue-orders-calls")).to_have_text("1", timeout=WITHIN)
    expect(sam.locator("#queue-orders-waiting")).to_have_text("0", timeout=WITHIN)
    expect(ana_row).to_contain_text("Reserved for a call", timeout=WITHIN)
    expect(sam.locator("#queue-orders-agents")).to_contain_text("1 reserved for a call")
    expect(ana_row).to_contain_text("Calling the customer", timeout=WITHIN)
    request_id = system.request(ref).id
    call_link = ana_row.get_by_role("link", name="Casey Jones")
    expect(call_link).to_have_attribute("href", f"/admin/requests/{request_id}")
    expect(alert).to_have_count(0, timeout=WITHIN)  # someone takes calls for orders now
    expect(sam.locator("#alerts li")).to_have_count(1)
    expect(returns_alert).to_be_visible()
    sam.screenshot(path=f"/tmp/board-dialing-{width}.png", full_page=True)

    # (c) The customer answers and presses 1, Ana takes the call: they are talking.
    system.wait_status(ref, "connected", timeout=15)
    expect(ana_row).to_contain_text("Talking", timeout=WITHIN)
    expect(ana_row.locator(".badge")).to_have_text("On a call", timeout=WITHIN)
    expect(sam.locator("#queue-orders-calls")).to_have_text("1")
    expect(sam.locator("#queue-orders-agents")).to_contain_text("1 on a call", timeout=WITHIN)
    sam.screenshot(path=f"/tmp/board-connected-{width}.png", full_page=True)
    assert sam.evaluate("document.documentElement.scrollWidth") <= VIEWPORTS[width]["width"]

    # Ana hangs up: the call is over and off the board.
    system.wait_status(ref, "completed", timeout=20)
    expect(sam.locator("#queue-orders-calls")).to_have_text("0", timeout=WITHIN)
    expect(ana_row).to_contain_text("No call", timeout=WITHIN)

    # The whole time, the page was never reloaded: the script drew every step.
    assert sam.evaluate("performance.getEntriesByType('navigation').length") == 1
    assert sam.evaluate("performance.getEntriesByType('navigation')[0].type") == "navigate"

    # The connection drops: the board says so politely and greys out, then recovers by itself.
    sam.route("**/board/state", lambda route: route.abort())
    expect(sam.locator("#board-connection")).to_have_text("Connection lost, retrying…", timeout=WITHIN)
    expect(board).to_have_class(re.compile(r"\bstale\b"))
    sam.unroute("**/board/state")
    expect(sam.locator("#board-connection")).to_have_text("", timeout=WITHIN)
    expect(board).not_to_have_class(re.compile(r"\bstale\b"))

    # The tab is hidden (another window on top): it stops asking, and asks at once when shown again.
    polls: list[str] = []
    sam.on("request", lambda request: polls.append(request.url) if "/board/state" in request.url else None)
    sam.evaluate(
        "Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});"
        "document.dispatchEvent(new Event('visibilitychange'))"
    )
    sam.wait_for_timeout(1_500)  # let a poll already on its way land
    polls.clear()
    sam.wait_for_timeout(3_000)
    assert polls == []
    sam.evaluate(
        "Object.defineProperty(document, 'hidden', {configurable: true, get: () => false});"
        "document.dispatchEvent(new Event('visibilitychange'))"
    )
    sam.wait_for_timeout(2_500)
    assert 1 <= len(polls) <= 4  # back to one a second, never a pile of them

    sam.context.close()
    assert not problems, "the browser reported errors:\n" + "\n".join(problems)


def test_an_agent_is_refused_the_board(browser: Any, running: tuple[System, int]) -> None:
    system, _ana = running
    problems: list[str] = []
    tab = new_tab(browser, system, VIEWPORTS["desktop"], problems)
    sign_in(tab, "ana@example.com", path="/agent")

    response = tab.goto("/board")

    assert response is not None and response.status == 403
    expect(tab.get_by_role("heading", name="This page is not for your role")).to_be_visible()
    expect(tab.locator("#board")).to_have_count(0)
    expect(tab.get_by_role("navigation", name="Staff").get_by_role("link", name="Board")).to_have_count(0)
    state = tab.evaluate("fetch('/board/state').then(r => r.status)")
    assert state == 403
    tab.context.close()
    # The refusals above are the point of this test; nothing else may have gone wrong.
    assert all("/board" in problem and "403" in problem for problem in problems), problems


@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])
def test_the_board_says_what_each_number_counts_and_passes_axe(
    browser: Any, live_server: str, tmp_path: Path, width: int
) -> None:
    """Without the whole system: the app alone (the live server), a waiting callback, the board's words."""
    database = Database(make_engine(f"sqlite:///{tmp_path / 'live.sqlite3'}"))
    now = datetime.now(UTC)
    with database.sessions() as session:
        email = factories.staff(session, now, "supervisor", email="sam@example.com").email
        factories.request(session, now, age=timedelta(minutes=3))
    database.engine.dispose()

    with tab(browser, live_server, width, bypass_csp=True) as sam:
        sam.goto("/board")
        sam.get_by_label("Email").fill(email)
        sam.get_by_label("Password").fill(STAFF_PASSWORD)
        sam.get_by_role("button", name="Sign in").click()
        expect(sam.locator("#queue-orders-waiting")).to_have_text("1")

        waiting = sam.get_by_role("columnheader", name=re.compile(r"^Waiting callbacks"))
        expect(waiting).to_have_accessible_description(re.compile(r"^Callbacks due now that nobody is calling yet"))
        if width > 1000:  # the table's headers are on screen; on a phone each card labels its numbers
            expect(waiting.locator(".explain")).to_have_text("due now, not yet being called")
        help = sam.locator("#board-help")
        expect(help.locator("#define-waiting")).to_be_hidden()
        help.get_by_text("What the numbers mean").click()
        expect(help.locator("#define-waiting")).to_be_visible()
        expect(help.locator("#define-longest")).to_contain_text("counted from when they asked")
        assert sam.evaluate("document.documentElement.scrollWidth") <= width
        sam.screenshot(path=f"/tmp/board-help-{width}.png", full_page=True)
        # The board redraws its rows every second: the words stay, and nothing on the page breaks axe.
        sam.wait_for_timeout(1_500)
        expect(help.locator("#define-waiting")).to_be_visible()
        clean(sam, "the board with its definitions open")
