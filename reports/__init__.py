"""What supervisors and operators read: the line now (live), the figures of a period, /metrics."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the board, the figures page and command, and /metrics."""
    from reports import board, cli, figures_views, metrics

    app.register_blueprint(board.bp)
    app.register_blueprint(figures_views.bp)
    cli.init_app(app)
    metrics.init_app(app)
