"""Fixtures for the telephony unit tests (no network, no database)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# The project root must be importable however pytest was started (plain `pytest` does not add the cwd).
ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from core.config import Settings  # noqa: E402
from telephony.fake import FakeTelephony  # noqa: E402

AUTH_TOKEN = "12345"


@pytest.fixture
def fake() -> FakeTelephony:
    """An in-memory telephony owning +15005550006."""
    return FakeTelephony()


@pytest.fixture
def settings() -> Settings:
    """Settings for a webhook app published at https://mycompany.com."""
    return Settings(
        app_env="testing",
        public_base_url="https://mycompany.com",
        twilio_account_sid="AC" + "1" * 32,
        twilio_auth_token=AUTH_TOKEN,
    )
