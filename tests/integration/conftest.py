"""Fixtures the integration tests of the phone menu share."""

from __future__ import annotations

import pytest
from flask import Flask

from core.db import get_db
from orders.demo import load_demo_orders


@pytest.fixture
def shop(app: Flask) -> Flask:
    """The app with the demo orders and returns loaded."""
    with get_db(app).sessions() as session:
        load_demo_orders(session)
    return app
