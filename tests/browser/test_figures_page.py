"""A supervisor reads the figures in a real browser: picks the last 7 days, sees the table and the charts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from callback.models import CallAttempt
from core.db import Database, make_engine
from tests import factories
from tests.factories import STAFF_PASSWORD

pytestmark = pytest.mark.browser

BUNDLE = Path(__file__).resolve().parents[2] / "static" / "vendor" / "chart.min.js"


@pytest.fixture
def live_db(live_server: str, tmp_path: Path) -> Any:
    """The live server's database (the browser conftest keeps it in this test's tmp_path)."""
    database = Database(make_engine(f"sqlite:///{tmp_path / 'live.sqlite3'}"))
    yield database
    database.engine.dispose()


def arrange(database: Database) -> str:
    """A supervisor, and a request of two days ago put through after ten minutes; returns the email."""
    now = datetime.now(UTC)
    with database.sessions() as session:
        made = now - timedelta(days=2)
        done = factories.request(session, made, status="completed")
        session.add(
            CallAttempt(
                request_id=done.id,
                created_at=made,
                dialled_at=made,
                bridged_at=made + timedelta(minutes=10),
                ended_at=made + timedelta(minutes=15),
                talk_seconds=300,
            )
        )
        session.commit()
        return factories.staff(session, now, "supervisor", email="supervisor@example.com").email


def sign_in(page: Any, email: str) -> None:
    page.goto("/admin/figures")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/admin/figures$"))
    # The URL changes when the page starts to arrive; its scripts (the date fields' listener among them)
    # run before "load". Typing before that once went unheard in CI.
    page.wait_for_load_state("load")


@pytest.mark.parametrize("width", [1024, 390], ids=["desktop", "phone"])
def test_a_supervisor_picks_the_last_seven_days_and_sees_the_table_and_a_drawn_chart(
    page: Any, live_db: Database, width: int
) -> None:
    assert BUNDLE.is_file(), "static/vendor/chart.min.js is missing: run `make assets` (npm + esbuild)"
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, arrange(live_db))
    # Today has nothing yet: the request was made two days ago.
    expect(page.locator("#figure-offered td").last).to_have_text("0")

    page.get_by_label("Last 7 days").check()
    page.get_by_role("button", name="Show figures").click()

    expect(page).to_have_url(re.compile(r"period=last7"))
    expect(page.get_by_label("Last 7 days")).to_be_checked()
    table = page.get_by_role("table").first
    expect(table.get_by_role("columnheader", name="All queues")).to_be_visible()
    expect(page.locator("#figure-offered td").last).to_have_text("1")
    expect(page.locator("#figure-average_speed_of_answer_seconds td").last).to_have_text("10m 00s")
    chart = page.get_by_role("img", name="Requests offered and completed, by hour")
    expect(chart).to_have_attribute("data-drawn", "true")
    box = chart.bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 100
    # Chart.js drew on the canvas: some pixel is not transparent.
    assert page.evaluate(
        """() => {
            const canvas = document.getElementById("chart-requests");
            const pixels = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data;
            return pixels.some((value, i) => i % 4 === 3 && value > 0);
        }"""
    )
    expect(page.get_by_role("img", name="Average speed of answer (minutes), by hour")).to_have_attribute(
        "data-drawn", "true"
    )
    # Nothing but the table's own scrolling region is wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_a_range_is_chosen_with_date_fields_and_the_numbers_are_also_a_table(page: Any, live_db: Database) -> None:
    sign_in(page, arrange(live_db))
    today = datetime.now(UTC).date()

    page.get_by_label("From", exact=True).fill((today - timedelta(days=3)).isoformat())
    page.get_by_label("To (inclusive)").fill(today.isoformat())
    # Changing a date chose the range by itself.
    expect(page.get_by_label("From … to …")).to_be_checked()
    page.get_by_role("button", name="Show figures").click()

    expect(page).to_have_url(re.compile(r"period=range"))
    expect(page.locator("#figure-offered td").last).to_have_text("1")
    page.get_by_text("The numbers").first.click()
    hourly = page.locator("#chart-requests-table")
    expect(hourly).to_be_visible()
    expect(hourly.locator("tbody tr")).to_have_count(24)
