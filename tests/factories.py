"""Test data builders: agents, callback requests in a given state and their calls, with few keystrokes."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.models import Agent, Queue
from agents.staff import StaffUser, add_staff
from callback.models import CallAttempt, CallbackRequest
from core.clock import FixedClock

# Factory numbers start at 7000 so they never collide with the numbers tests type by hand.
_numbers = count(7000)


def queue(session: Session, name: str = "orders") -> Queue:
    """A queue by name (the default queues exist in every test database)."""
    found = session.scalar(select(Queue).where(Queue.name == name))
    assert found is not None, name
    return found


def agent(session: Session, now: datetime, queues: tuple[str, ...] = ("orders",), status: str = "available") -> Agent:
    """An agent with a fresh phone number serving `queues`, in `status`."""
    created = Agent(
        name=f"Agent {next(_numbers)}",
        phone=f"+1201555{next(_numbers):04d}",
        status=status,
        status_since=now,
        created_at=now,
        queues=[queue(session, q) for q in queues],
    )
    session.add(created)
    session.commit()
    return created


def request(
    session: Session,
    now: datetime,
    topic: str = "orders",
    status: str = "queued",
    phone: str | None = None,
    age: timedelta = timedelta(0),
    **fields: object,
) -> CallbackRequest:
    """A callback request created `age` ago, in `status`."""
    created_at = now - age
    req = CallbackRequest(
        phone=phone or f"+1201555{next(_numbers):04d}",
        name="Test Customer",
        queue_id=queue(session, topic).id,
        status=status,
        created_at=created_at,
        updated_at=created_at,
        expires_at=created_at + timedelta(hours=24),
        **fields,
    )
    session.add(req)
    session.commit()
    return req


def call(
    session: Session,
    now: datetime,
    topic: str = "orders",
    talk_seconds: int | None = None,
    request_for: CallbackRequest | None = None,
) -> CallAttempt:
    """A finished call placed `now` for `request_for` (or for a new completed request of `topic`): talked
    for `talk_seconds`, or unanswered with None."""
    req = request_for or request(session, now, topic, status="completed", outcome="completed", attempts=1)
    talked = talk_seconds is not None
    attempt = CallAttempt(
        request_id=req.id,
        created_at=now,
        dialled_at=now,
        placed_at=now,
        answered_at=now if talked else None,
        ended_at=now,
        outcome="completed" if talked else "no_answer",
        talk_seconds=talk_seconds,
    )
    session.add(attempt)
    session.commit()
    return attempt


# The password every staff builder account has (12 characters or more, as add_staff requires).
STAFF_PASSWORD = "correct horse battery staple"


def staff(
    session: Session,
    now: datetime,
    role: str = "agent",
    email: str | None = None,
    agent_id: int | None = None,
    password: str = STAFF_PASSWORD,
) -> StaffUser:
    """A staff account in `role` (through the staff service, so its hash and audit line are real)."""
    address = email or f"{role}{next(_numbers)}@example.com"
    return add_staff(session, FixedClock(now), address, f"Test {role.title()}", role, password, agent_id)
