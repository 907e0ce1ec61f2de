"""Demo data for `make run`: round-the-clock queues and a few agents, loaded idempotently."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents import service, staff
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

# Staff accounts for trying the console and the admin pages; these passwords exist only in development.
# The agent account takes Alice Moreau's calls (the first demo agent).
DEMO_STAFF = (
    {"email": "agent@example.com", "name": "Alice Moreau", "role": "agent", "password": "agent-dev-password"},
    {
        "email": "supervisor@example.com",
        "name": "Sam Supervisor",
        "role": "supervisor",
        "password": "supervisor-dev-password",
    },
    {"email": "admin@example.com", "name": "Ada Admin", "role": "admin", "password": "admin-dev-password"},
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
    yield from _load_demo_staff(session, clock, settings)
    yield f"demo orders and returns: {load_demo_orders(session, clock)} (call in from {DEMO_CUSTOMER} to be recognised)"


def _load_demo_staff(session: Session, clock: Clock, settings: Settings) -> Iterator[str]:
    """The demo's staff accounts, in development only: their passwords are published."""
    if not settings.is_development:
        yield "demo staff accounts skipped (APP_ENV=production: add staff with `flask staff add`)"
        return
    first_agent = session.scalar(select(Agent).where(Agent.phone == DEMO_AGENTS[0]["phone"]))
    for spec in DEMO_STAFF:
        if staff.get_by_email(session, spec["email"]) is None:
            agent_id = first_agent.id if spec["role"] == "agent" and first_agent is not None else None
            account = staff.add_staff(
                session, clock, spec["email"], spec["name"], spec["role"], spec["password"], agent_id, actor="demo"
            )
            yield f"demo staff {account.id}: {account.email} ({account.role}), password {spec['password']}"
