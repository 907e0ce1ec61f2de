"""An injectable clock, so rules about time are testable without patching datetime."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Protocol

# The days a person may ask the figures and searches about. Beyond them a date is a slip (9999-12-31),
# and the day after it is no date at all: every date a page or command reads is held to these.
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2100, 12, 31)
DAYS_IN_REACH = f"between {FIRST_DAY.year} and {LAST_DAY.year}"


def in_reach(day: date) -> bool:
    """Whether a date asked about is one the product reads (FIRST_DAY to LAST_DAY)."""
    return FIRST_DAY <= day <= LAST_DAY


class Clock(Protocol):
    """Something that tells the current UTC time."""

    def now(self) -> datetime: ...


class SystemClock:
    """The real clock: timezone-aware UTC."""

    def now(self) -> datetime:
        """Return the current UTC time."""
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until moved; for tests and benchmarks."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self._at = at

    def now(self) -> datetime:
        """Return the frozen time."""
        return self._at

    def advance(self, **delta: float) -> None:
        """Move the clock forward by a timedelta's keyword arguments."""
        self._at += timedelta(**delta)

    def set(self, at: datetime) -> None:
        """Jump to a given aware time."""
        self._at = at


def as_utc(value: datetime) -> datetime:
    """Read a stored time as UTC: SQLite hands back naive datetimes for aware columns."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
