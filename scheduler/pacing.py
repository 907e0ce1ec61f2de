"""Calls-per-second pacing shared by every dispatcher process, kept in the database.

A token bucket with a bucket of one is the generic cell rate algorithm: one number, the earliest time
the next call may start. Taking a slot advances it by the interval from max(now, itself) in a single
statement, which the database serialises, so N processes together never start calls faster than the
rate, and while a backlog exists the slots follow each other back to back, using all of it.

Slots alone do not keep the provider's count: it counts a call when its request reaches it, and a
send can reach it late (a process woken late, a slow network, a pause in the provider's own reading),
next to the sends of later slots. What keeps the count is the window rule: the send CPS places after a
call must reach the provider a full second after that call did. Three things together keep it:
- the slot is taken right before calls.create, so nothing but the request itself follows it;
- the interval carries MARGIN seconds per CPS slots, which absorbs ordinary lateness;
- a send answered more than MARGIN after its slot (so it may have reached the provider that late)
  moves the schedule on by its excess (`settle`); no slot is handed out more than HORIZON ahead,
  so the slot CPS places later is still unassigned when that happens, whatever the number of
  dispatchers.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from callback.models import PacingBucket

BUCKET = "outbound_calls"
# Seconds of lateness per window of CPS slots that need no correction: CPS slots span 1 + MARGIN
# seconds, so 98% of the rate is used.
MARGIN = 0.02
# No slot starts more than this after it is taken. A send answered within 1 + MARGIN - HORIZON
# seconds of its slot is then always settled before the slot CPS places later is handed out.
HORIZON = 0.5


def interval(cps: float) -> float:
    """Seconds between two slots: CPS of them span one second plus the margin."""
    return (1.0 + MARGIN) / cps


def take_slot(
    session: Session, cps: float, now: datetime, bucket: str = BUCKET, horizon: float = HORIZON
) -> float | None:
    """Reserve the next call slot; returns its start (epoch seconds, perhaps in the future), or None
    when it would start more than `horizon` from now (wait and ask again: `wait_before_asking`)."""
    step = interval(cps)
    now_s = now.timestamp()
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    # GREATEST on PostgreSQL, two-argument MAX on SQLite: both the scalar "larger of".
    larger = func.greatest if dialect == "postgresql" else func.max
    # One statement, one round trip: the first slot creates the row, every later one moves it.
    statement = (
        insert(PacingBucket)
        .values(name=bucket, next_slot=now_s + step)
        .on_conflict_do_update(
            index_elements=[PacingBucket.name],
            set_={"next_slot": larger(PacingBucket.next_slot, now_s) + step},
            where=PacingBucket.next_slot <= now_s + horizon,
        )
        .returning(PacingBucket.next_slot)
    )
    slot_end = session.execute(statement).scalar_one_or_none()
    session.commit()
    return None if slot_end is None else float(slot_end) - step


def wait_before_asking(session: Session, now: datetime, bucket: str = BUCKET) -> float:
    """Seconds until the next slot comes within HORIZON (after take_slot said None)."""
    return max(0.0, next_slot(session, bucket) - HORIZON - now.timestamp())


def settle(session: Session, slot: float, answered: datetime, usual: float = 0.0, bucket: str = BUCKET) -> float:
    """After calls.create: if its answer came more than MARGIN later than `usual` after the slot, the
    provider may have counted the call that much late; later slots move on by the excess. Returns
    the seconds moved.

    `usual` is a part of every send's time known to fall after the provider counted the call: a
    delay every send has shifts every call alike and crowds no second. The dispatcher passes the
    shortest round trip it has seen lately (the floor every send pays); a median let a loaded sandbox
    count 11 calls in one second, and nothing at all would halve the rate at 10 CPS against Twilio's
    round trip of 100 ms and more.
    """
    excess = answered.timestamp() - slot - usual - MARGIN
    if excess <= 0:
        return 0.0  # the usual case: no round trip
    dialect = session.get_bind().dialect.name
    larger = func.greatest if dialect == "postgresql" else func.max
    # From max(next slot, now): if the schedule ran dry meanwhile, the next slot is now, and the
    # sends of the slots handed out since this one could otherwise still crowd its second.
    session.execute(
        update(PacingBucket)
        .where(PacingBucket.name == bucket)
        .values(next_slot=larger(PacingBucket.next_slot, answered.timestamp()) + excess)
    )
    session.commit()
    return excess


def next_slot(session: Session, bucket: str = BUCKET) -> float:
    """When the next slot would start, for tests and metrics."""
    return float(session.scalar(select(PacingBucket.next_slot).where(PacingBucket.name == bucket)) or 0.0)
