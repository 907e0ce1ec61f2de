"""Supervisors and admins in a real browser: sign in, edit a queue, list a number, set an agent away."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from agents.models import Agent, Queue
from agents.staff import StaffUser
from callback.models import CallbackRequest
from core.db import Database, make_engine
from tests import factories
from tests.factories import STAFF_PASSWORD

pytestmark = pytest.mark.browser

# Desktop, and a phone held upright.
WIDTHS = {"desktop": 1024, "phone": 390}


@pytest.fixture
def live_db(live_server: str, tmp_path: Path) -> Any:
    """The live server's database (the browser conftest keeps it in this test's tmp_path)."""
    database = Database(make_engine(f"sqlite:///{tmp_path / 'live.sqlite3'}"))
    yield database
    database.engine.dispose()


def staff_member(database: Database, role: str) -> str:
    """A staff account with `role`; returns its email."""
    with database.sessions() as session:
        return factories.staff(session, datetime.now(UTC), role, email=f"{role}@example.com").email


def sign_in(page: Any, path: str, email: str) -> None:
    """Open `path`, get sent to the sign-in page, sign in, and land back on `path`."""
    page.goto(path)
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(path) + "$"))


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_an_admin_changes_a_queues_wrap_up_and_lists_a_number(page: Any, live_db: Database, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    email = staff_member(live_db, "admin")
    sign_in(page, "/admin/queues", email)

    orders = page.locator("#queue-orders")
    expect(orders).to_contain_text("30 s")
    page.get_by_role("link", name="Edit Orders, tracking and delivery").click()
    wrap_up = page.get_by_label("Wrap-up after each call (seconds)")
    expect(wrap_up).to_have_value("30")
    wrap_up.fill("-5")
    page.get_by_role("button", name="Save Orders, tracking and delivery").click()

    expect(page.locator("#wrap_up_seconds-error")).to_have_text("Wrap up seconds cannot be negative.")
    expect(wrap_up).to_have_attribute("aria-invalid", "true")
    page.screenshot(path=f"/tmp/callme-admin-queue-error-{width}.png", full_page=True)
    wrap_up.fill("45")
    page.get_by_role("button", name="Save Orders, tracking and delivery").click()

    expect(page).to_have_url(re.compile(r"/admin/queues$"))
    expect(page.get_by_role("status")).to_have_text("Orders, tracking and delivery: settings saved.")
    expect(orders.locator("dd", has_text=re.compile(r"^45 s$"))).to_be_visible()
    page.screenshot(path=f"/tmp/callme-admin-queues-{width}.png", full_page=True)
    with live_db.sessions() as session:
        queue = session.query(Queue).filter_by(name="orders").one()
        assert queue.wrap_up_seconds == 45

    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Do-not-call").click()
    page.get_by_label("Phone number").fill("(201) 555-0199")
    page.get_by_label("Reason (optional)").fill("asked on the phone")
    page.get_by_role("button", name="Never call this number").click()

    expect(page.get_by_role("status")).to_have_text("+12015550199 will not be called.")
    expect(page.locator("#dnc-12015550199")).to_contain_text("asked on the phone")
    page.screenshot(path=f"/tmp/callme-admin-dnc-{width}.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Staff").click()
    page.get_by_label("Email").fill("nadia@example.com")
    page.get_by_label("Name").fill("Nadia New")
    page.get_by_label("Role", exact=True).select_option("supervisor")
    page.get_by_label("Password").fill("short")
    page.get_by_role("button", name="Add staff member").click()
    expect(page.locator("#password-error")).to_contain_text("at least 12 characters")
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Add staff member").click()

    expect(page.get_by_role("status")).to_have_text("Nadia New can now sign in as nadia@example.com.")
    page.screenshot(path=f"/tmp/callme-admin-staff-{width}.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_a_supervisor_sets_an_agent_away(page: Any, live_db: Database, width: int) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    now = datetime.now(UTC)
    with live_db.sessions() as session:
        orders = session.query(Queue).filter_by(name="orders").one()
        agent = Agent(
            name="Ann Agent",
            phone="+12015550111",
            status="available",
            status_since=now,
            created_at=now,
            queues=[orders],
        )
        session.add(agent)
        req = CallbackRequest(
            phone="+12015550123",
            name="Ann Lee",
            queue=orders,
            status="queued",
            created_at=now,
            updated_at=now,
            expires_at=now + timedelta(hours=24),
        )
        session.add(req)
        session.commit()
        agent_id, request_id = agent.id, req.id
    email = staff_member(live_db, "supervisor")
    sign_in(page, "/admin/agents", email)

    card = page.locator(f"#agent-{agent_id}")
    expect(card.locator(".badge")).to_have_text("Available")
    expect(card.get_by_role("button", name="Available")).to_be_disabled()
    page.screenshot(path=f"/tmp/callme-admin-agents-before-{width}.png", full_page=True)
    card.get_by_role("button", name="Away").click()

    expect(page.get_by_role("status")).to_have_text("Ann Agent is now away.")
    expect(card.locator(".badge")).to_have_text("Away")
    expect(card.get_by_role("button", name="Away")).to_be_disabled()
    page.screenshot(path=f"/tmp/callme-admin-agents-{width}.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    with live_db.sessions() as session:
        assert session.get(Agent, agent_id).status == "away"  # type: ignore[union-attr]

    page.get_by_role("navigation", name="Staff").get_by_role("link", name="Requests").click()
    page.get_by_label("Reference or last digits of the phone").fill("0123")
    page.get_by_role("button", name="Show requests").click()
    expect(page.locator(".results-count")).to_have_text("1 request")
    page.get_by_role("link", name="Ann Lee").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(f"Request {request_id}: Ann Lee")
    expect(page.get_by_text("Orders, tracking and delivery", exact=True)).to_be_visible()
    page.screenshot(path=f"/tmp/callme-admin-request-{width}.png", full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_disabling_an_account_asks_first_and_can_be_undone(page: Any, live_db: Database) -> None:
    email = staff_member(live_db, "admin")
    staff_member(live_db, "agent")
    sign_in(page, "/admin/staff", email)
    agent = page.locator("li.card").filter(has_text="agent@example.com")
    with live_db.sessions() as session:
        name = session.scalars(select(StaffUser.name).where(StaffUser.email == "agent@example.com")).one()
    asked: list[str] = []

    def answer(dialog: Any, accept: bool) -> None:
        asked.append(dialog.message)
        dialog.accept() if accept else dialog.dismiss()

    page.once("dialog", lambda dialog: answer(dialog, False))
    agent.get_by_role("button", name=f"Disable {name}").click()
    assert asked and asked[0].startswith(f"Disable {name}?")
    expect(agent).not_to_contain_text("disabled")  # said no: nothing sent

    page.once("dialog", lambda dialog: answer(dialog, True))
    agent.get_by_role("button", name=f"Disable {name}").click()
    expect(page.get_by_role("status")).to_contain_text("can no longer sign in")
    expect(agent).to_contain_text("disabled")
    agent.get_by_role("button", name=f"Enable {name}").click()
    expect(page.get_by_role("status")).to_contain_text("can sign in again")
    expect(agent.get_by_role("button", name=f"Disable {name}")).to_be_visible()
