"""Calls-per-second pacing shared by every dispatcher process, kept in the database.

A token bucket with a bucket of one is the generic cell rate algorithm: one number, the earliest time
the next call may start. Taking a slot advances it by 1/CPS from max(now, itself) in a single UPDATE,
which the database serialises, so N processes together never exceed the rate, and while a backlog
exists the slots follow each other back to back, using all of it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from callback.models import PacingBucket

BUCKET = "outbound_calls"
# Slots are 2% longer than 1/CPS: network jitter between us and the provider can then never squeeze
# CPS + 1 calls into one of the provider's seconds, and 98% of the rate is still used.
JITTER_MARGIN = 1.02


def take_slot(session: Session, cps: float, now: datetime, bucket: str = BUCKET) -> float:
    """Reserve the next call slot; returns its start (epoch seconds), which may be in the future."""
    interval = JITTER_MARGIN / cps
    now_s = now.timestamp()
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(PacingBucket).values(name=bucket, next_slot=0.0).on_conflict_do_nothing())
    # GREATEST on PostgreSQL, two-argument MAX on SQLite: both the scalar "larger of".
    larger = func.greatest if dialect == "postgresql" else func.max
    slot_end = session.execute(
        update(PacingBucket)
        .where(PacingBucket.name == bucket)
        .values(next_slot=larger(PacingBucket.next_slot, now_s) + interval)
        .returning(PacingBucket.next_slot)
    ).scalar_one()
    session.commit()
    return float(slot_end) - interval


def next_slot(session: Session, bucket: str = BUCKET) -> float:
    """When the next slot would start, for tests and metrics."""
    return float(session.scalar(select(PacingBucket.next_slot).where(PacingBucket.name == bucket)) or 0.0)
