"""Each queue's time zone as the phone menu reads it on every answer: kept for a few seconds.

An order's dates are said in the day of the shop's team ("it was delivered yesterday"), so the menu
needs the topic queue's zone on most answers. A zone changes a few times in a shop's life; a query per
answer costs a round trip on every webhook. Each process keeps what it read for ZONE_TTL_SECONDS, so
a zone changed on the admin page is heard on calls within that time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.engine import Connection

from agents.models import Queue

ZONE_TTL_SECONDS = 10.0


class QueueZones:
    """Queue name -> time zone, read through `connections` and kept for `ttl` seconds."""

    def __init__(
        self,
        connections: Callable[[], AbstractContextManager[Connection]],
        ttl: float = ZONE_TTL_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._connections = connections
        self._ttl = ttl
        self._monotonic = monotonic
        self._known: dict[str, tuple[float, tzinfo]] = {}
        self._lock = threading.Lock()

    def zone(self, name: str | None) -> tzinfo:
        """The zone of queue `name`: UTC for no queue, an unknown one, or a zone this machine lacks."""
        if not name:
            return UTC
        now = self._monotonic()
        with self._lock:
            known = self._known.get(name)
        if known is not None and now - known[0] < self._ttl:
            return known[1]
        with self._connections() as connection:
            timezone = connection.scalar(select(Queue.timezone).where(Queue.name == name))
        zone = _zone(timezone)
        with self._lock:
            self._known[name] = (now, zone)
        return zone


def _zone(timezone: str | None) -> tzinfo:
    if not timezone:
        return UTC
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC
