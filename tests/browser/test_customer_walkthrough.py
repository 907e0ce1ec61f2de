"""A customer's harder moments in a real browser, at desktop and phone width, each screenshotted in
/tmp/callme-customer-walk: the form with errors, a form that expired while they typed, a double click, a
Spanish browser, and a time the topic turned out to be closed at."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.test_callback_page import DESKTOP, PHONE, fill_form, fits, tab

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/callme-customer-walk")
WIDTHS = pytest.mark.parametrize("width", [DESKTOP, PHONE])


def shot(page: Any, name: str, width: int) -> None:
    SHOTS.mkdir(exist_ok=True)
    fits(page, width)
    page.screenshot(path=SHOTS / f"{name}-{width}.png", full_page=True)


def set_hours(tmp_path: Path, topic: str, hours: str) -> None:
    """What an operator does while the customer's page is open: the live server's topic gets these hours."""
    from agents.service import update_queue
    from core.db import Database, make_engine

    db = Database(make_engine(f"sqlite:///{tmp_path / 'live.sqlite3'}"))
    with db.sessions() as s:
        update_queue(s, topic, {"hours": hours})
    db.engine.dispose()


@WIDTHS
def test_the_form_with_errors(browser: Any, live_server: str, width: int) -> None:
    with tab(browser, live_server, width) as page:
        page.goto("/callback")
        page.get_by_label("Phone number").fill("(201) 555-01")
        page.get_by_role("button", name="Call me back").click()
        expect(page.locator("#error-summary")).to_be_focused()
        shot(page, "errors", width)


@WIDTHS
def test_a_form_that_expired_while_typing_keeps_what_was_typed(browser: Any, live_server: str, width: int) -> None:
    with tab(browser, live_server, width) as page:
        fill_form(page)
        page.get_by_label("At a time I choose").check()
        day, time = page.get_by_label("Day", exact=True), page.get_by_label("Time", exact=True)
        day.select_option(index=1)
        time.select_option(index=20)
        chosen_day, chosen_time = day.input_value(), time.input_value()
        page.context.clear_cookies()  # the session (and the token's secret) is gone, as after hours away
        page.get_by_role("button", name="Call me back").click()

        summary = page.locator("#error-summary")
        expect(summary).to_contain_text(
            "This form has expired, so it wasn't sent. Everything you typed is still here: please send it again."
        )
        expect(summary).to_be_focused()
        expect(page.get_by_label("Phone number")).to_have_value("(201) 555-0123")
        expect(page.get_by_label("Your name")).to_have_value("Ann Lee")
        expect(page.get_by_label("What is it about?")).to_have_value("orders")
        expect(page.get_by_label("Order number")).to_have_value("112-4455667-1234567")
        expect(page.get_by_label("At a time I choose")).to_be_checked()
        expect(day).to_have_value(chosen_day)
        expect(time).to_have_value(chosen_time)
        expect(page.get_by_label("I agree to be called")).to_be_checked()
        shot(page, "expired", width)

        # Sent again as it stands, it is taken.
        page.get_by_role("button", name="Call me back").click()
        expect(page.locator("#status-words")).to_contain_text("You're booked")


@WIDTHS
def test_the_status_page_after_a_double_click(browser: Any, live_server: str, width: int) -> None:
    with tab(browser, live_server, width) as page:
        fill_form(page)
        page.get_by_role("button", name="Call me back").dblclick()
        expect(page).to_have_url(re.compile(r"/callback/[A-Za-z0-9_-]{16,}$"))
        expect(page.locator("#status-words")).to_contain_text("You're in line")
        expect(page.locator("#error-summary")).to_have_count(0)
        shot(page, "double-click", width)


@WIDTHS
def test_a_spanish_us_browser_gets_its_form_and_status_page_in_spanish(
    browser: Any, live_server: str, width: int
) -> None:
    with tab(browser, live_server, width, locale="es-US") as page:
        page.goto("/callback")
        expect(page.locator("html")).to_have_attribute("lang", "es")
        page.get_by_label("Número de teléfono").fill("(201) 555-0123")
        page.get_by_label("Su nombre").fill("Ana López")
        page.get_by_label("¿Sobre qué es?").select_option("orders")
        page.get_by_label("Acepto que me llamen").check()
        shot(page, "es-form", width)
        page.get_by_role("button", name="Llámenme").click()
        expect(page.locator("#status-words")).to_have_text("Está en la fila. Le llamaremos cuando sea su turno.")
        shot(page, "es-status", width)


@WIDTHS
@pytest.mark.parametrize(
    ("locale", "expected"),
    [
        (
            "en-US",
            "Our hours are Monday to Friday, 9:00 AM to 5:00 PM; Saturday, 10:00 AM to 2:00 PM, New York time. "
            "Please choose another time.",
        ),
        (
            "es-US",
            "Nuestro horario es de lunes a viernes, de 9:00 a 17:00; sábado, de 10:00 a 14:00, "
            "hora de Nueva York. Elija otra hora.",
        ),
    ],
    ids=["en", "es"],
)
def test_a_time_the_topic_closed_at_meanwhile_is_explained_with_its_hours(
    browser: Any, live_server: str, tmp_path: Path, width: int, locale: str, expected: str
) -> None:
    with tab(browser, live_server, width, locale=locale) as page:
        page.goto("/callback")
        page.locator("#phone").fill("(201) 555-0123")
        page.locator("#name").fill("Ann Lee")
        page.locator("#topic").select_option("returns")
        page.locator("#consent").check()
        page.locator("input[name=when][value=slot]").check()
        page.locator("#day").select_option(index=1)
        page.locator("#slot").select_option(index=6)  # 3:00 AM, offered while the topic was open 24/7
        set_hours(tmp_path, "returns", "mon-fri 09:00-17:00; sat 10:00-14:00")
        page.locator("button[type=submit]").click()
        error = page.locator("#slot-error")
        expect(error).to_contain_text(expected)
        shot(page, f"closed-{locale}", width)
