"""GET /metrics in the Prometheus text format (prometheus_client, multi-process aware)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register /metrics and the instrumentation."""
