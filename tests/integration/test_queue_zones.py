"""The queue time zones the phone menu reads: kept for a few seconds, then read again."""

from __future__ import annotations

from datetime import UTC
from zoneinfo import ZoneInfo

from sqlalchemy import update
from sqlalchemy.orm import Session

from agents.models import Queue
from agents.zones import ZONE_TTL_SECONDS, QueueZones
from core.db import Database


class Ticks:
    """A monotonic clock moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_zone_is_read_once_then_again_after_it_expires(db: Database, session: Session) -> None:
    ticks = Ticks()
    reads: list[int] = []

    def counted():
        reads.append(1)
        return db.reading()

    zones = QueueZones(counted, monotonic=ticks)
    session.execute(update(Queue).where(Queue.name == "orders").values(timezone="America/Chicago"))
    session.commit()
    assert zones.zone("orders") == ZoneInfo("America/Chicago")
    session.execute(update(Queue).where(Queue.name == "orders").values(timezone="Europe/Madrid"))
    session.commit()
    ticks.now += ZONE_TTL_SECONDS - 0.5
    assert zones.zone("orders") == ZoneInfo("America/Chicago") and len(reads) == 1
    ticks.now += 1
    # Changed on the admin page: heard on calls within ZONE_TTL_SECONDS.
    assert zones.zone("orders") == ZoneInfo("Europe/Madrid") and len(reads) == 2


def test_no_queue_an_unknown_queue_or_an_unknown_zone_mean_utc(db: Database, session: Session) -> None:
    zones = QueueZones(db.reading)
    assert zones.zone(None) == UTC and zones.zone("") == UTC
    assert zones.zone("no-such-queue") == UTC
    # A zone this machine's tz database lacks (set before an upgrade, say): dates in UTC, not a crash.
    session.execute(update(Queue).where(Queue.name == "orders").values(timezone="Mars/Olympus_Mons"))
    session.commit()
    assert zones.zone("orders") == UTC
