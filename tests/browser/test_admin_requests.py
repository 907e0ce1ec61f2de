"""A supervisor in a real browser: filters the requests, opens one, calls it next, moves it to returns."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from agents.models import Queue
from callback.models import CallbackRequest
from core.db import Database, make_engine
from tests import factories
from tests.factories import STAFF_PASSWORD

pytestmark = pytest.mark.browser

# Desktop, and a phone held upright.
WIDTHS = {"desktop": 1280, "phone": 390}


@pytest.fixture
def live_db(live_server: str, tmp_path: Path) -> Any:
    """The live server's database (the browser conftest keeps it in this test's tmp_path)."""
    database = Database(make_engine(f"sqlite:///{tmp_path / 'live.sqlite3'}"))
    yield database
    database.engine.dispose()


def waiting_requests(database: Database) -> int:
    """Three waiting orders requests and a finished one; returns the id of the newest waiting one."""
    now = datetime.now(UTC)
    with database.sessions() as session:
        orders = session.query(Queue).filter_by(name="orders").one()
        rows = [
            CallbackRequest(
                phone=phone,
                name=name,
                queue=orders,
                status=status,
                created_at=now - timedelta(minutes=age),
                updated_at=now,
                expires_at=now + timedelta(hours=24),
            )
            for phone, name, status, age in (
                ("+12015550101", "Bea Early", "queued", 40),
                ("+12015550102", "Cal Middle", "retry_wait", 25),
                ("+12015550103", "Dee Done", "completed", 20),
                ("+12015550123", "Ann Lee", "queued", 5),
            )
        ]
        session.add_all(rows)
        session.commit()
        return rows[-1].id


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_a_supervisor_filters_opens_calls_next_and_moves_a_request(page: Any, live_db: Database, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    request_id = waiting_requests(live_db)
    with live_db.sessions() as session:
        email = factories.staff(session, datetime.now(UTC), "supervisor", email="sam@example.com").email
    page.goto("/admin/requests")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/admin/requests$"))
    expect(page.locator(".results-count")).to_have_text("4 requests")
    page.screenshot(path=f"/tmp/requests-list-{width}.png", full_page=True)

    page.get_by_label("Status").select_option("active")
    page.get_by_label("Queue").select_option("orders")
    page.get_by_role("button", name="Show requests").click()

    expect(page).to_have_url(re.compile(r"status=active"))
    expect(page.locator(".results-count")).to_have_text("3 requests")
    expect(page.locator(".result").first).to_contain_text("Ann Lee")
    expect(page.get_by_label("Status")).to_have_value("active")  # the filters stay as chosen
    page.screenshot(path=f"/tmp/requests-filtered-{width}.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    page.get_by_role("link", name="Ann Lee").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Request {request_id}: Ann Lee")
    page.get_by_role("button", name="Call next").click()

    expect(page.get_by_role("status")).to_contain_text("Ann Lee is first in line for Orders, tracking and delivery")
    expect(page.locator("#history")).to_be_visible()
    page.screenshot(path=f"/tmp/requests-called-next-{width}.png", full_page=True)

    page.get_by_label("Move to").select_option(label="Returns and refunds")
    page.get_by_role("button", name="Move").click()

    expect(page.get_by_role("status")).to_contain_text(f"Request {request_id} (Ann Lee) is now in Returns and refunds")
    expect(page.locator("dd", has_text=re.compile(r"^Returns and refunds$"))).to_be_visible()
    page.screenshot(path=f"/tmp/requests-moved-{width}.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    with live_db.sessions() as session:
        moved = session.get(CallbackRequest, request_id)
        assert moved is not None and moved.queue.name == "returns" and moved.priority == 0

    # Canceling asks first: the summary opens the question, only its answer cancels.
    page.get_by_text("Cancel this request", exact=True).click()
    expect(page.get_by_text("Cancel Ann Lee's callback?")).to_be_visible()
    page.get_by_role("button", name="Yes, cancel it").click()
    expect(page.get_by_role("status")).to_contain_text(f"Request {request_id} (Ann Lee) is canceled")
