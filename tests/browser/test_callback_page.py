"""A customer asks for a callback in a real browser: the form, the status page, cancel, slots, errors, mobile."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

SCREENSHOT_FORM = "/tmp/callme-form.png"
SCREENSHOT_STATUS = "/tmp/callme-status.png"
SCREENSHOT_ERROR = "/tmp/callme-form-error.png"
SCREENSHOT_MOBILE = "/tmp/callme-form-mobile.png"


def fill_form(page: Any, phone: str = "(201) 555-0123") -> None:
    """Everything a customer types, as they would: by the labels they read."""
    page.goto("/callback")
    page.get_by_label("Country").select_option("US")
    page.get_by_label("Phone number").fill(phone)
    page.get_by_label("Your name").fill("Ann Lee")
    page.get_by_label("What is it about?").select_option("orders")
    page.get_by_label("Order number").fill("112-4455667-1234567")
    page.get_by_label("I agree to be called").check()


def test_a_customer_asks_for_a_callback_follows_it_and_cancels_it(page: Any) -> None:
    fill_form(page)
    page.screenshot(path=SCREENSHOT_FORM, full_page=True)
    page.get_by_role("button", name="Call me back").click()

    expect(page).to_have_url(re.compile(r"/callback/[A-Za-z0-9_-]{16,}$"))
    expect(page.locator("#status-words")).to_contain_text("You're in line")
    expect(page.get_by_text("Ann Lee at +1******0123")).to_be_visible()
    expect(page.locator("#position")).to_have_text("You're next")
    expect(page.get_by_text("Orders, tracking and delivery (order 112-4455667-1234567)")).to_be_visible()
    page.screenshot(path=SCREENSHOT_STATUS, full_page=True)

    page.get_by_role("button", name="Cancel my callback").click()

    expect(page.locator("#status-words")).to_have_text("You canceled this callback. We won't call.")
    expect(page.get_by_role("button", name="Cancel my callback")).to_have_count(0)


def test_a_customer_books_a_time_from_the_picker(page: Any) -> None:
    fill_form(page)
    slot = page.get_by_label("Time", exact=True)
    expect(slot).to_be_hidden()

    page.get_by_label("At a time I choose").check()

    expect(slot).to_be_visible()
    labels = slot.locator("option").all_inner_texts()
    assert len(labels) > 3, labels
    label = re.compile(r"(\w{3}) (\d{2}) (\w{3}), (\d{2}:\d{2} \w+)")  # "Tue 24 Nov, 15:30 EST"
    assert all(label.fullmatch(text) for text in labels), labels
    chosen = labels[3]
    slot.select_option(label=chosen)
    page.get_by_role("button", name="Call me back").click()

    expect(page.locator("#status-words")).to_contain_text("You're in line")
    expect(page.get_by_text("Scheduled for")).to_be_visible()
    # The status page spells the same time out: "Tuesday 24 November, 15:30 EST".
    weekday, day, month, time = label.fullmatch(chosen).groups()  # type: ignore[union-attr]
    expect(page.locator("#scheduled")).to_have_text(re.compile(rf"^{weekday}\w* {day} {month}\w*, {time}$"))


def test_a_wrong_number_is_explained_next_to_the_field_and_nothing_typed_is_lost(page: Any) -> None:
    fill_form(page, phone="(201) 555-01")
    page.get_by_role("button", name="Call me back").click()

    phone = page.get_by_label("Phone number")
    error = page.locator("#phone-error")
    expect(error).to_be_visible()
    expect(error).to_have_text(re.compile(r"too short.*area code", re.IGNORECASE))
    expect(phone).to_have_attribute("aria-invalid", "true")
    expect(phone).to_have_attribute("aria-describedby", re.compile(r"\bphone-error\b"))
    # The error sits in the phone field's own box, not somewhere else on the page.
    expect(page.locator(".field", has=phone).locator("#phone-error")).to_have_count(1)
    expect(phone).to_have_value("(201) 555-01")
    expect(page.get_by_label("Your name")).to_have_value("Ann Lee")
    expect(page.get_by_label("What is it about?")).to_have_value("orders")
    expect(page.get_by_label("Order number")).to_have_value("112-4455667-1234567")
    expect(page.get_by_label("I agree to be called")).to_be_checked()
    expect(page).to_have_url(re.compile(r"/callback$"))
    page.screenshot(path=SCREENSHOT_ERROR, full_page=True)


def test_the_form_fits_a_phone_screen(page: Any) -> None:
    page.set_viewport_size({"width": 375, "height": 740})
    fill_form(page, phone="(201) 555-01")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.screenshot(path=SCREENSHOT_MOBILE, full_page=True)

    page.get_by_role("button", name="Call me back").click()  # the error state is wider: it must fit too
    expect(page.locator("#phone-error")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    for control in ("Phone number", "Your name", "What is it about?"):
        box = page.get_by_label(control).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375, (control, box)

    page.get_by_label("Phone number").fill("(201) 555-0123")
    page.get_by_role("button", name="Call me back").click()
    expect(page.locator("#status-words")).to_contain_text("You're in line")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
