"""Test data builders: agents and callback requests in a given state, with few keystrokes."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.models import Agent, Queue
from callback.models import CallbackRequest

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
