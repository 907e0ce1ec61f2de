"""A customer asks for a callback in a real browser: the form, the status page, cancel and undo, the day and
time picker in their own time zone, errors all at once, the keyboard alone, Spanish, live updates, and a phone."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import requests
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

DESKTOP, PHONE = 1280, 390


@contextmanager
def tab(
    browser: Any,
    base_url: str,
    width: int = DESKTOP,
    locale: str = "en-US",
    timezone: str = "America/New_York",
    **options: Any,
) -> Iterator[Any]:
    """A fresh browser (its own cookies) at `width`, in `locale` and `timezone`, that fails the test on any
    script error, or failed script, style or fetch (a page's own 4xx, the form's 422, is no failure)."""
    context = browser.new_context(
        base_url=base_url,
        viewport={"width": width, "height": 900},
        locale=locale,
        timezone_id=timezone,
        extra_http_headers={"Accept-Language": locale},
        **options,
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "console",
        lambda m: (
            problems.append(f"console: {m.text}")
            if m.type == "error" and not m.text.startswith("Failed to load resource")
            else None
        ),
    )
    page.on(
        "response",
        lambda r: (
            problems.append(f"{r.url} answered {r.status}")
            if r.status >= 400 and r.request.resource_type != "document"
            else None
        ),
    )
    try:
        yield page
        assert not problems, "the browser reported errors:\n" + "\n".join(problems)
    finally:
        context.close()


def fill_form(page: Any, phone: str = "(201) 555-0123") -> None:
    """Everything a customer types, as they would: by the labels they read."""
    page.goto("/callback")
    page.get_by_label("Country").select_option("US")
    page.get_by_label("Phone number").fill(phone)
    page.get_by_label("Your name").fill("Ann Lee")
    page.get_by_label("What is it about?").select_option("orders")
    page.get_by_label("Order number").fill("112-4455667-1234567")
    page.get_by_label("I agree to be called").check()


def fits(page: Any, width: int) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
def test_a_customer_asks_follows_cancels_after_a_question_and_undoes(
    browser: Any, live_server: str, width: int
) -> None:
    with tab(browser, live_server, width) as page:
        fill_form(page)
        fits(page, width)
        page.screenshot(path=f"/tmp/customer-form-{width}.png", full_page=True)
        page.get_by_role("button", name="Call me back").click()

        expect(page).to_have_url(re.compile(r"/callback/[A-Za-z0-9_-]{16,}$"))
        expect(page.locator("#status-words")).to_contain_text("You're in line")
        expect(page.get_by_text("Ann Lee, +1 201-555-0123")).to_be_visible()  # whole: this browser typed it
        expect(page.locator("#position")).to_have_text("You're next")
        expect(page.get_by_text("Orders, tracking and delivery (order 112-4455667-1234567)")).to_be_visible()
        fits(page, width)
        page.screenshot(path=f"/tmp/customer-status-{width}.png", full_page=True)

        page.get_by_role("link", name="Cancel my callback").click()
        expect(page.get_by_role("heading", name="Cancel your callback?")).to_be_visible()
        expect(page.get_by_text("You can undo this for 5 minutes, and keep your place in line.")).to_be_visible()
        fits(page, width)
        page.screenshot(path=f"/tmp/customer-cancel-{width}.png", full_page=True)
        page.get_by_role("button", name="Yes, cancel it").click()

        expect(page.locator("#status-words")).to_have_text("You canceled this callback. We won't call.")
        expect(page.get_by_role("link", name="Cancel my callback")).to_have_count(0)
        expect(page.locator("dt", has_text="We'll call")).to_have_count(0)
        fits(page, width)
        page.screenshot(path=f"/tmp/customer-canceled-{width}.png", full_page=True)

        page.get_by_role("button", name="Undo: keep my callback").click()
        expect(page.locator("#status-words")).to_contain_text("You're in line")
        expect(page.locator("#position")).to_have_text("You're next")


def test_a_double_click_on_call_me_back_sends_one_post_and_lands_on_the_status_page(
    browser: Any, live_server: str
) -> None:
    with tab(browser, live_server) as page:
        fill_form(page, phone="(201) 555-0144")
        posts: list[str] = []
        page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
        page.get_by_role("button", name="Call me back").dblclick()
        expect(page).to_have_url(re.compile(r"/callback/[A-Za-z0-9_-]{16,}$"))
        expect(page.locator("#status-words")).to_contain_text("You're in line")
        assert len(posts) == 1
        page.go_back()  # the form again, whether fresh or as it was left: its button works
        expect(page.get_by_role("button", name="Call me back")).to_be_enabled()
        # and what it shows follows the topic Chromium put back: that topic's wait alone.
        expect(page.get_by_label("What is it about?")).to_have_value("orders")
        expect(page.locator("#waits li:visible")).to_have_count(1)


def test_no_thanks_on_the_question_keeps_the_callback(browser: Any, live_server: str) -> None:
    with tab(browser, live_server) as page:
        fill_form(page)
        page.get_by_role("button", name="Call me back").click()
        page.get_by_role("link", name="Cancel my callback").click()
        page.get_by_role("link", name="No, keep my callback").click()
        expect(page.locator("#status-words")).to_contain_text("You're in line")


@pytest.mark.parametrize("width", [DESKTOP, PHONE])
def test_a_customer_books_a_day_and_a_time_in_their_own_time_zone(browser: Any, live_server: str, width: int) -> None:
    with tab(browser, live_server, width, timezone="America/Los_Angeles") as page:
        fill_form(page)
        day, time = page.get_by_label("Day", exact=True), page.get_by_label("Time", exact=True)
        expect(time).to_be_hidden()
        page.get_by_label("At a time I choose").check()
        expect(day).to_be_visible()
        expect(time).to_be_visible()
        # The browser's zone, named: the page was drawn again once it knew it.
        expect(page.locator("#slot-hint")).to_contain_text("United States (Los Angeles) Time")

        days = day.locator("option").all_inner_texts()
        assert 7 <= len(days) <= 8, days
        assert all(re.fullmatch(r"[A-Z][a-z]+day, [A-Z][a-z]+ \d{1,2}", d) for d in days), days
        day.select_option(label=days[2])
        times = [t.replace("\u202f", " ") for t in time.locator("option").all_inner_texts()]
        assert len(times) == 48 and times[0] == "12:00 AM" and times[-1] == "11:30 PM", times  # open round the clock
        time.select_option(index=times.index("3:30 PM"))
        fits(page, width)
        page.screenshot(path=f"/tmp/customer-picker-{width}.png", full_page=True)
        page.get_by_role("button", name="Call me back").click()

        words = page.locator("#status-words")
        expect(words).to_have_text(re.compile(rf"^You're booked: we'll call you on {days[2]} at 3:30\s?PM\.$"))
        expect(page.get_by_text("United States (Los Angeles) Time").first).to_be_visible()
        expect(page.locator("#position")).to_have_count(0)  # a time, not "You're next / about 219 minutes"
        fits(page, width)
        page.screenshot(path=f"/tmp/customer-booked-{width}.png", full_page=True)

        # The reschedule picker is the same: a day, then a time.
        expect(page.get_by_label("Day", exact=True)).to_be_visible()
        page.get_by_role("button", name="Call me as soon as possible instead").click()
        expect(words).to_contain_text("You're in line")


def test_an_empty_form_shows_every_problem_at_once_and_the_summary_takes_focus(browser: Any, live_server: str) -> None:
    with tab(browser, live_server) as page:
        page.goto("/callback")
        page.get_by_role("button", name="Call me back").click()
        summary = page.locator("#error-summary")
        expect(summary).to_be_focused()
        expect(summary).to_have_attribute("role", "alert")
        expect(summary.get_by_role("heading")).to_have_text("Please fix 4 problems before we can call you:")
        expect(summary.get_by_role("link")).to_have_text(
            [
                "Please enter a phone number.",
                "Please tell us your name.",
                "Please choose what your call is about.",
                "Please agree to be called so we can ring you.",
            ]
        )
        for field in ("phone", "name", "topic", "consent"):
            expect(page.locator(f"#{field}-error")).to_be_visible()
        page.screenshot(path="/tmp/customer-errors-1280.png", full_page=True)
        summary.get_by_role("link", name="Please tell us your name.").click()
        expect(page.get_by_label("Your name")).to_be_focused()


def test_a_wrong_number_is_explained_next_to_the_field_and_nothing_typed_is_lost(
    browser: Any, live_server: str
) -> None:
    with tab(browser, live_server, PHONE) as page:
        fill_form(page, phone="(201) 555-01")
        page.get_by_role("button", name="Call me back").click()

        phone = page.get_by_label("Phone number")
        error = page.locator("#phone-error")
        expect(error).to_be_visible()
        expect(error).to_have_text(re.compile(r"too short.*area code", re.IGNORECASE))
        expect(phone).to_have_attribute("aria-invalid", "true")
        expect(phone).to_have_attribute("aria-describedby", re.compile(r"\bphone-error\b"))
        expect(page.locator(".field", has=phone).locator("#phone-error")).to_have_count(1)
        expect(phone).to_have_value("(201) 555-01")
        expect(page.get_by_label("Your name")).to_have_value("Ann Lee")
        expect(page.get_by_label("What is it about?")).to_have_value("orders")
        expect(page.get_by_label("I agree to be called")).to_be_checked()
        fits(page, PHONE)
        for control in ("Phone number", "Your name", "What is it about?"):
            box = page.get_by_label(control).bounding_box()
            assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE, (control, box)
        page.screenshot(path=f"/tmp/customer-errors-{PHONE}.png", full_page=True)


def _tab_to(page: Any, selector: str, limit: int = 40) -> None:
    """Press Tab until `selector` has focus: proof it is reachable by keyboard, in a sensible order."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("s => document.activeElement && document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_the_keyboard_alone_asks_cancels_and_undoes(browser: Any, live_server: str) -> None:
    with tab(browser, live_server) as page:
        page.goto("/callback")
        _tab_to(page, "#phone")
        page.keyboard.type("2015550123")
        _tab_to(page, "#name")
        page.keyboard.type("Kim Keys")
        _tab_to(page, "#topic")
        page.keyboard.press("ArrowDown")  # the first topic
        _tab_to(page, "#consent")
        page.keyboard.press("Space")
        _tab_to(page, "button[type=submit]")
        page.keyboard.press("Enter")
        expect(page.locator("#status-words")).to_contain_text("You're in line")

        _tab_to(page, "a.button.danger")
        page.keyboard.press("Enter")
        # A link followed by keyboard is a navigation: wait for the question's page before tabbing on it.
        page.wait_for_url("**/cancel")
        expect(page.locator("button.danger")).to_be_visible()
        _tab_to(page, "button.danger")
        page.keyboard.press("Enter")
        expect(page.locator("#status-words")).to_contain_text("You canceled this callback")
        _tab_to(page, ".undo button")
        page.keyboard.press("Enter")
        expect(page.locator("#status-words")).to_contain_text("You're in line")


def test_a_spanish_browser_gets_spanish_pages(browser: Any, live_server: str) -> None:
    with tab(browser, live_server, PHONE, locale="es-ES", timezone="Europe/Madrid") as page:
        page.goto("/callback")
        expect(page.locator("html")).to_have_attribute("lang", "es")
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Olvídese de la música de espera: le llamamos nosotros"
        )
        page.get_by_label("Número de teléfono").fill("(201) 555-0123")
        page.get_by_label("Su nombre").fill("Ana López")
        page.get_by_label("¿Sobre qué es?").select_option("orders")
        page.get_by_label("Acepto que me llamen").check()
        page.screenshot(path=f"/tmp/customer-form-es-{PHONE}.png", full_page=True)
        page.get_by_role("button", name="Llámenme").click()
        expect(page.locator("#status-words")).to_have_text("Está en la fila. Le llamaremos cuando sea su turno.")
        expect(page.get_by_text("hora de España (Madrid)").first).to_be_visible()
        fits(page, PHONE)
        page.screenshot(path=f"/tmp/customer-status-es-{PHONE}.png", full_page=True)


def test_a_change_seen_by_the_status_page_is_announced_politely(browser: Any, live_server: str) -> None:
    with tab(browser, live_server) as page:
        # The page's timers run on a clock the test moves: its 10 s poll comes when the test says, not after
        # 10 real seconds. Time still flows for everything else on the page.
        page.clock.install()
        fill_form(page)
        page.get_by_role("button", name="Call me back").click()
        expect(page.locator("#status-words")).to_contain_text("You're in line")
        live = page.locator("#live")
        expect(live).to_have_attribute("aria-live", "polite")
        expect(live).to_have_text("")
        ref = page.url.rsplit("/", 1)[-1]
        assert requests.delete(f"{live_server}/api/callbacks/{ref}", timeout=5).status_code == 200

        # Within a poll (10 s), without a reload: the headline changes and is said once, politely.
        page.clock.run_for(10_000)
        expect(live).to_have_text("You canceled this callback. We won't call.", timeout=5_000)
        expect(page.locator("#status-words")).to_have_text("You canceled this callback. We won't call.")
        expect(page.get_by_role("link", name="Cancel my callback")).to_have_count(0)


def test_after_a_refused_change_the_page_keeps_itself_current_with_its_picker_and_the_keyboards_place(
    browser: Any, live_server: str, tmp_path: Any
) -> None:
    """A refused change draws the page at the form's address; the page still refreshes from its own, and a
    status change puts in a working day-and-time picker and leaves focus where the customer had it."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from callback.models import CallbackRequest
    from core.db import make_engine

    with tab(browser, live_server) as page:
        page.clock.install()
        fill_form(page)
        page.get_by_role("button", name="Call me back").click()
        expect(page.locator("#status-words")).to_contain_text("You're in line")
        status_url = page.url
        # A time that passed while the page stood open.
        page.locator("#rs-slot option").first.evaluate(
            "(o) => { o.value = new Date(Date.now() - 3600e3).toISOString(); o.selected = true; }"
        )
        page.get_by_role("button", name="Call me at this time").click()
        expect(page.get_by_role("alert").filter(has_text="already passed")).to_be_visible()
        # What a reload or a bookmark opens: the status page, not a 405 (status.js, at the page's end, says so).
        expect(page).to_have_url(status_url)

        engine = make_engine(f"sqlite:///{tmp_path / 'live.sqlite3'}")
        with engine.begin() as connection:
            connection.execute(
                update(CallbackRequest)
                .where(CallbackRequest.ref == status_url.rsplit("/", 1)[-1])
                .values(
                    status="retry_wait",
                    outcome="busy",
                    attempts=1,
                    next_attempt_at=datetime.now(UTC) + timedelta(minutes=30),
                )
            )
        engine.dispose()
        cancel = page.get_by_role("link", name="Cancel my callback")
        cancel.focus()
        page.clock.run_for(10_000)
        expect(page.locator("#status-words")).to_contain_text("We tried to call you", timeout=5_000)
        expect(page.get_by_label("Day", exact=True)).to_be_visible()  # the picker set up again in the fresh copy
        assert page.get_by_label("Time", exact=True).locator("option").count() > 0
        expect(page.get_by_role("link", name="Cancel my callback")).to_be_focused()


def test_a_long_name_without_spaces_stays_inside_a_phones_screen(browser: Any, live_server: str) -> None:
    with tab(browser, live_server, width=PHONE) as page:
        fill_form(page)
        page.get_by_label("Your name").fill("Maximiliana" * 7)
        page.get_by_role("button", name="Call me back").click()
        expect(page.locator("#status-words")).to_contain_text("You're in line")
        fits(page, PHONE)
