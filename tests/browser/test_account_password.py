"""A staff member changes their own password in a real browser, from the link every staff page carries."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from core.db import Database, make_engine
from tests import factories
from tests.browser.test_accessibility import clean
from tests.browser.test_callback_page import tab
from tests.factories import STAFF_PASSWORD

pytestmark = pytest.mark.browser

NEW = "a new and rather longer passphrase"


@pytest.mark.parametrize("width", [1280, 390], ids=["desktop", "phone"])
def test_a_supervisor_changes_their_password_and_stays_signed_in(
    browser: Any, live_server: str, tmp_path: Path, width: int
) -> None:
    database = Database(make_engine(f"sqlite:///{tmp_path / 'live.sqlite3'}"))
    with database.sessions() as session:
        email = factories.staff(session, datetime.now(UTC), "supervisor", email="sam@example.com").email
    database.engine.dispose()

    with tab(browser, live_server, width, bypass_csp=True) as sam:
        sam.goto("/board")
        sam.get_by_label("Email").fill(email)
        sam.get_by_label("Password").fill(STAFF_PASSWORD)
        sam.get_by_role("button", name="Sign in").click()
        expect(sam).to_have_url(re.compile(r"/board$"))
        sam.get_by_role("link", name="Password").click()
        expect(sam.get_by_role("heading", name="Your password")).to_be_visible()
        assert sam.evaluate("document.documentElement.scrollWidth") <= width

        # A slip first: the two new ones differ. The error is tied to its field for a screen reader.
        sam.get_by_label("Current password").fill(STAFF_PASSWORD)
        sam.get_by_label("New password", exact=True).fill(NEW)
        sam.get_by_label("New password again").fill(NEW + "!")
        sam.get_by_role("button", name="Change password").click()
        expect(sam.get_by_label("New password again")).to_have_accessible_description(
            re.compile("The two new passwords are not the same.")
        )
        clean(sam, "the password page with an error")

        sam.get_by_label("Current password").fill(STAFF_PASSWORD)
        sam.get_by_label("New password", exact=True).fill(NEW)
        sam.get_by_label("New password again").fill(NEW)
        sam.get_by_role("button", name="Change password").click()
        expect(sam.get_by_role("status")).to_contain_text("Your password is changed")
        sam.screenshot(path=f"/tmp/account-password-{width}.png", full_page=True)
        clean(sam, "the password page after the change")
        # Still signed in here.
        sam.goto("/board")
        expect(sam).to_have_url(re.compile(r"/board$"))
