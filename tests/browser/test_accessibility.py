"""axe-core on every customer page and on the sandbox's softphone, at desktop and phone width: no serious or
critical violation. axe-core comes from npm (package.json devDependencies; `make test` installs it)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.test_callback_page import DESKTOP, PHONE, fill_form, tab

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WIDTHS = [DESKTOP, PHONE]


def violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations of the page as it stands (WCAG 2.x A and AA, best practice)."""
    if not AXE.is_file():
        pytest.fail(f"axe-core is missing at {AXE}: run `npm ci` (make test does)", pytrace=False)
    page.add_script_tag(path=str(AXE))
    found: list[dict[str, Any]] = page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ["violations"]});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ")),
            }));
        }"""
    )
    return [v for v in found if v["impact"] in ("serious", "critical")]


def clean(page: Any, what: str) -> None:
    found = violations(page)
    said = "; ".join(f"{v['id']} ({v['impact']}): {v['help']} at {v['nodes']}" for v in found)
    assert found == [], f"{what}: {said}"


def test_the_check_finds_a_known_violation(browser: Any) -> None:
    """Proof the check can fail: an image without words and an unlabelled field are critical."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.set_content('<html lang="en"><title>t</title><main><img src="x.png"><input type="text"></main></html>')
        assert {v["id"] for v in violations(page)} >= {"image-alt", "label"}
    finally:
        context.close()


@pytest.fixture
def axe_tab(browser: Any, live_server: str) -> Iterator[Any]:
    """Open tabs whose Content-Security-Policy lets the test inject axe-core (the pages' own stays)."""

    def opened(width: int, **options: Any) -> Any:
        return tab(browser, live_server, width, bypass_csp=True, **options)

    yield opened


@pytest.mark.parametrize("width", WIDTHS)
def test_the_form_empty_and_with_every_error(axe_tab: Any, width: int) -> None:
    with axe_tab(width) as page:
        page.goto("/callback")
        clean(page, "the form")
        page.get_by_label("At a time I choose").check()
        page.get_by_label("What is it about?").select_option("orders")
        clean(page, "the form with the day and time pickers")
        page.get_by_label("What is it about?").select_option("")
        page.get_by_role("button", name="Call me back").click()
        expect(page.locator("#error-summary")).to_be_visible()
        clean(page, "the form with every error")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_status_page_in_line_booked_canceled_and_the_question(axe_tab: Any, width: int) -> None:
    with axe_tab(width) as page:
        fill_form(page)
        page.get_by_role("button", name="Call me back").click()
        expect(page.locator("#status-words")).to_contain_text("You're in line")
        clean(page, "the status page in line")

        page.get_by_role("button", name="Call me at this time").click()
        expect(page.locator("#status-words")).to_contain_text("You're booked")
        clean(page, "the status page of a booked call")

        page.get_by_role("link", name="Cancel my callback").click()
        expect(page.get_by_role("heading", name="Cancel your callback?")).to_be_visible()
        clean(page, "the cancel question")

        page.get_by_role("button", name="Yes, cancel it").click()
        expect(page.get_by_role("button", name="Undo: keep my callback")).to_be_visible()
        clean(page, "the canceled page with its undo")


@pytest.mark.parametrize("width", WIDTHS)
def test_a_duplicate_a_limit_and_a_missing_page(axe_tab: Any, live_server: str, width: int) -> None:
    with axe_tab(width) as page:
        # Two requests, the same again (back to its page), then a third topic: past the active limit.
        for topic in ("orders", "returns", "orders", "payments"):
            fill_form(page)
            page.get_by_label("What is it about?").select_option(topic)
            page.get_by_role("button", name="Call me back").click()
        expect(page.locator("#error-summary")).to_contain_text("as many callbacks waiting as it may")
        clean(page, "the limit message with this browser's links")

    with axe_tab(width) as stranger:
        fill_form(stranger)
        stranger.get_by_role("button", name="Call me back").click()
        expect(stranger.locator("#notice")).to_contain_text("You already asked us to call about")
        clean(stranger, "the duplicate notice")
        stranger.goto("/callback/no-such-request")
        clean(stranger, "the not-found page")


@pytest.mark.parametrize("width", WIDTHS)
def test_the_spanish_pages(axe_tab: Any, width: int) -> None:
    with axe_tab(width, locale="es-ES", timezone="Europe/Madrid") as page:
        page.goto("/callback")
        expect(page.locator("html")).to_have_attribute("lang", "es")
        clean(page, "the Spanish form")
        page.get_by_role("button", name="Llámenme").click()
        clean(page, "the Spanish form with every error")


@pytest.fixture(scope="module")
def sandbox_url() -> Iterator[str]:
    """The sandbox (the local Twilio stand-in) and its softphone page."""
    from core.config import Settings
    from telephony.sandbox.server import SandboxServer

    server = SandboxServer(
        Settings(
            app_env="testing",
            twilio_account_sid="AC" + "e" * 32,
            twilio_auth_token="sandbox-token",
            twilio_caller_id="+15005550006",
        )
    ).start()
    try:
        yield server.base_url
    finally:
        server.stop()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_softphone(browser: Any, sandbox_url: str, width: int) -> None:
    assert requests.get(f"{sandbox_url}/sandbox/", timeout=5).status_code == 200
    with tab(browser, sandbox_url, width, bypass_csp=True) as page:
        page.goto("/sandbox/")
        expect(page.locator("body")).to_contain_text(re.compile(r"\S"))
        clean(page, "the softphone")
