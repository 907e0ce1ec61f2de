"""The scheduler's jobs while the database is down: a line when it goes, a reminder a minute, one when it is back."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import OperationalError

from scheduler.jobs import OUTAGE_REMINDER, OutageLog


def refused() -> OperationalError:
    return OperationalError(
        "SELECT 1", {}, Exception('connection to server at "db" failed: Connection refused\nIs it up?')
    )


def test_an_outage_is_one_line_without_traceback_then_a_reminder_a_minute_then_one_line_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [datetime(2026, 12, 2, 12, 0, tzinfo=UTC)]
    outage = OutageLog(clock=lambda: now[0])
    with caplog.at_level(logging.INFO, logger="scheduler.jobs"):
        for _ in range(59):  # a dispatch pass a second, the reaper and the recordings every 5 s
            outage.failed("dispatch pass", refused())
            outage.failed("reaper pass", refused())
            now[0] += timedelta(seconds=1)
        now[0] += OUTAGE_REMINDER
        outage.failed("dispatch pass", refused())
        outage.succeeded()
        outage.succeeded()
    lines = [(r.levelname, r.getMessage(), r.exc_info) for r in caplog.records]
    assert [(level, message) for level, message, _ in lines] == [
        ("WARNING", "database unavailable: jobs wait for it, nothing is lost"),
        ("WARNING", "database unavailable: jobs wait for it, nothing is lost"),
        ("INFO", "database available again"),
    ]
    assert all(exc_info is None for _, _, exc_info in lines)
    first = caplog.records[0]
    assert first.__dict__["error"].startswith("connection to server at") and "\n" not in first.__dict__["error"]
    assert caplog.records[2].__dict__["unavailable_seconds"] == 59 + OUTAGE_REMINDER.seconds


def test_a_bug_is_logged_with_its_traceback_every_time(caplog: pytest.LogCaptureFixture) -> None:
    outage = OutageLog()
    with caplog.at_level(logging.INFO, logger="scheduler.jobs"):
        for _ in range(3):
            try:
                raise KeyError("agent")
            except KeyError as error:
                outage.failed("dispatch pass", error)
        outage.succeeded()  # no outage to end: nothing said
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [("ERROR", "dispatch pass failed")] * 3
    assert all(r.exc_info is not None for r in caplog.records)
