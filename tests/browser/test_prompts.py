"""An admin uploads the shop's greeting in a real browser and finds it listed, with a player, at both widths."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from core.db import Database, make_engine
from tests import factories
from tests.factories import STAFF_PASSWORD
from tests.unit.test_prompts import silent_file, tone_file

pytestmark = pytest.mark.browser

WIDTHS = {"desktop": 1280, "phone": 390}


@pytest.fixture(autouse=True)
def audio_under_tmp(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep the live server's prompt files in this test's folder (set before the server is built)."""
    monkeypatch.setenv("RECORDINGS_DIR", str(tmp_path / "audio"))
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))


@pytest.fixture
def live_db(live_server: str, tmp_path: Path) -> Any:
    database = Database(make_engine(f"sqlite:///{tmp_path / 'live.sqlite3'}"))
    yield database
    database.engine.dispose()


def sign_in_as_admin(page: Any, database: Database) -> None:
    with database.sessions() as session:
        email = factories.staff(session, datetime.now(UTC), "admin", email="admin@example.com").email
    page.goto("/admin/prompts")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(STAFF_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/admin/prompts$"))


@pytest.mark.parametrize("width", WIDTHS.values(), ids=WIDTHS.keys())
def test_an_admin_uploads_a_greeting_and_sees_it_listed_with_a_player(
    page: Any, live_db: Database, tmp_path: Path, width: int
) -> None:
    page.set_viewport_size({"width": width, "height": 900})
    sign_in_as_admin(page, live_db)
    expect(page.get_by_role("navigation", name="Staff").get_by_role("link", name="Prompts")).to_be_visible()

    silent = tmp_path / "quiet.wav"
    silent.write_bytes(silent_file())
    page.get_by_label("Name", exact=True).fill("greeting")
    page.get_by_label("Audio file").set_input_files(str(silent))
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("#audio-error")).to_have_text("This file is silent: there is nothing to play.")
    expect(page.get_by_label("Audio file")).to_have_attribute("aria-invalid", "true")
    page.screenshot(path=f"/tmp/prompts-refused-{width}.png", full_page=True)

    hello = tmp_path / "hello.mp3"
    hello.write_bytes(tone_file(seconds=2.0, fmt="mp3", pad=0.5))
    page.get_by_label("Name", exact=True).fill("greeting")
    page.get_by_label("Audio file").set_input_files(str(hello))
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_role("status")).to_contain_text("Prompt greeting added: 2.0 seconds.")
    card = page.locator("#prompt-greeting")
    expect(card).to_contain_text("2.0 seconds")
    expect(card).to_contain_text("-20.0 dBFS")
    expect(card).to_contain_text("hello.mp3")
    player = card.locator("audio[controls]")
    box, card_box = player.bounding_box(), card.bounding_box()
    assert box["x"] + box["width"] <= card_box["x"] + card_box["width"] - 8  # inside the card, not on its edge
    expect(player).to_have_attribute("preload", "none")
    expect(player).to_have_attribute("src", re.compile(r"^/audio/prompts/greeting\.wav\?v=[0-9a-f]{12}$"))
    # The player's source really is audio the browser can load (the page fixture fails on a 4xx).
    duration = player.evaluate(
        "a => new Promise((ok, fail) => { a.onloadedmetadata = () => ok(a.duration); a.onerror = fail; a.load(); })"
    )
    assert 1.9 <= duration <= 2.1
    page.screenshot(path=f"/tmp/prompts-listed-{width}.png", full_page=True)

    page.get_by_role("button", name="Remove greeting").click()
    expect(page.get_by_role("status")).to_contain_text("Prompt greeting removed.")
    expect(page.locator("#prompt-greeting")).to_have_count(0)
