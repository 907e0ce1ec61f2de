"""Demo data for `make run`: round-the-clock queues and a few agents, loaded idempotently."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents import service
from agents.models import Agent
from core.clock import Clock
from core.config import Settings
from core.phone import PhonePolicy
from orders.demo import DEMO_CUSTOMER, load_demo_orders

DEMO_AGENTS = (
    {"name": "Alice Moreau", "phone": "+12015550101", "queues": ["orders", "returns"]},
    {"name": "Bilal Khan", "client": "bilal", "queues": ["orders", "payments", "account"]},
    {"name": "Chen Wei", "phone": "+12015550103", "queues": ["devices", "other", "returns"]},
)


def load_demo(session: Session, clock: Clock, settings: Settings) -> Iterator[str]:
    """Open every queue around the clock and add the demo agents, signed in; yields what it did."""
    for queue in service.list_queues(session):
        # A demo has to work whenever someone tries it, so its queues never close.
        service.update_queue(session, queue.name, {"hours": "24/7", "timezone": "America/New_York"})
    yield "demo queues open 24/7"
    policy = PhonePolicy(default_region=settings.default_region, allowed_countries=settings.allowed_countries)
    for spec in DEMO_AGENTS:
        endpoint = Agent.phone == spec["phone"] if "phone" in spec else Agent.client == spec["client"]
        agent = session.scalar(select(Agent).where(endpoint))
        if agent is None:
            agent = service.add_agent(
                session,
                clock,
                policy,
                str(spec["name"]),
                list(spec["queues"]),
                phone=spec.get("phone"),  # type: ignore[arg-type]
                client=spec.get("client"),  # type: ignore[arg-type]
            )
            yield f"demo agent {agent.id}: {agent.name} ({agent.endpoint})"
        if agent.status == "offline":
            service.set_status(session, clock, agent.id, "available")
    yield f"demo orders and returns: {load_demo_orders(session, clock)} (call in from {DEMO_CUSTOMER} to be recognised)"
