"""`flask --app app figures`: the figures of a period as a table, CSV or JSON."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the command."""
