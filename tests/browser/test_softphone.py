"""A caller on the sandbox's softphone page, in Chromium: rings the shop, presses 1 for tracking, keys a 17-digit
order number one button at a time, then #, and hears its status read."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from orders.fake import FakeOrderLookup
from orders.port import GuardedLookup
from tests.browser.test_agent_console import ORDER  # the order both pages' callers ask about
from tests.e2e.conftest import System, start_system

pytestmark = pytest.mark.browser

CALLER = "+12015550177"
# The keypad is pressed by a browser, not a script: telephone time runs only 4 times faster than real time
# here, so the 7 s digit timeout of the order-number prompt is 1.75 real seconds between two clicks.
SPEED = 4.0
# Prompts take real seconds at that speed (the menu, then its Spanish offer, before the Gather listens).
WAIT_MS = 30_000


@pytest.fixture
def running(tmp_path: Path) -> Iterator[System]:
    """The app and the sandbox, with one known order."""
    system, stop = start_system(tmp_path)
    system.app.extensions["order_lookup"] = GuardedLookup(FakeOrderLookup([ORDER]))
    system.sandbox.world.clock.speed = SPEED
    try:
        yield system
    finally:
        stop()


def test_a_caller_keys_an_order_number_on_the_softphone_and_hears_its_status(browser: Any, running: System) -> None:
    problems: list[str] = []
    context = browser.new_context(base_url=running.sandbox_url, viewport={"width": 1024, "height": 900})
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    try:
        page.goto("/sandbox/")
        page.fill("#me", CALLER)
        page.locator("#me").dispatch_event("change")
        page.get_by_role("button", name="Call", exact=True).click()

        call = page.locator(".call").first
        now = call.locator(".now")
        # The main menu is said and listened for: press 1 for tracking.
        expect(now).to_contain_text(re.compile(r"press 1.*waiting for your keys", re.IGNORECASE), timeout=WAIT_MS)
        call.get_by_role("button", name="1", exact=True).click()
        expect(now).to_contain_text(re.compile(r"order number.*waiting for your keys", re.IGNORECASE), timeout=WAIT_MS)

        digits = ORDER.number.replace("-", "")
        for count, key in enumerate(digits, start=1):
            call.get_by_role("button", name=key, exact=True).click()
            # The prompt keeps listening, and the page shows the keys it has so far.
            expect(now).to_contain_text(f"Keys so far: {digits[:count]}", timeout=WAIT_MS)
        call.get_by_role("button", name="#", exact=True).click()

        timeline = call.locator("ol.timeline")
        expect(timeline).to_contain_text(f"Heard keys {digits} then #", timeout=WAIT_MS)
        expect(timeline).to_contain_text(re.compile(r"Says: .*out for delivery", re.IGNORECASE), timeout=WAIT_MS)
        # On a phone the call card, its keypad and its speech box fit the screen: nothing to scroll sideways.
        page.set_viewport_size({"width": 390, "height": 844})
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        assert not problems, problems
    finally:
        context.close()
