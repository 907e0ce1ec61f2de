"""The agent console's browser phone: the Twilio Voice SDK bundle our build step makes loads in Chromium."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant

BUNDLE = Path(__file__).resolve().parents[2] / "static" / "vendor" / "twilio-voice.min.js"

pytestmark = pytest.mark.browser


def test_the_bundle_is_built_and_gives_the_console_a_device_it_can_build_from_our_token(
    browser: Any, live_server: str
) -> None:
    assert BUNDLE.is_file(), "static/vendor/twilio-voice.min.js is missing: run `make assets` (npm + esbuild)"
    context = browser.new_context(base_url=live_server)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # Served by the app itself, no CDN involved. (The SDK then fetches its ring tones from Twilio, which
    # this closed machine cannot reach; the console's own page allows Twilio's hosts for that.)
    page.set_content("<!doctype html><title>phone</title>")
    page.add_script_tag(url=f"{live_server}/static/vendor/twilio-voice.min.js")
    assert page.evaluate("typeof window.Twilio.Device") == "function"
    token = AccessToken("AC" + "1" * 32, "SK" + "2" * 32, "s" * 32, identity="bilal", ttl=3600)
    token.add_grant(VoiceGrant(incoming_allow=True))
    state = page.evaluate(
        "token => { const device = new window.Twilio.Device(token, {logLevel: 'silent'}); return device.state; }",
        token.to_jwt(),
    )
    # Built, not registered: registering is what talks to Twilio, which a test never reaches.
    assert state == "unregistered"
    assert errors == []
    context.close()
