"""The agent console's poll (every second, for every agent) reads an agent's calls through indexes that
hold only what it asks for, so it costs the same on the agent's first day as after a year of calls."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from agents import desk
from agents.models import Agent
from callback.models import AgentLeg, CallAttempt
from core.clock import FixedClock
from tests import factories
from tests.integration.test_live import query_plans, statements


def history(session: Session, clock: FixedClock, agent: Agent, calls: int = 60) -> None:
    """`calls` finished calls of the agent over the past weeks, each talked."""
    for n in range(calls):
        at = clock.now() - timedelta(hours=n + 1)
        req = factories.request(session, at, status="completed", age=timedelta(0))
        attempt = CallAttempt(request_id=req.id, agent_id=agent.id, created_at=at, ended_at=at, bridged_at=at)
        session.add(attempt)
        session.flush()
        session.add(
            AgentLeg(
                attempt_id=attempt.id,
                agent_id=agent.id,
                rung_at=at,
                answered_at=at,
                accepted_at=at,
                bridged_at=at,
                ended_at=at + timedelta(minutes=3),
                outcome="accepted",
            )
        )
    session.commit()


def plans(session: Session, sent: list[tuple[str, Any]]) -> list[tuple[str, str]]:
    """(statement, plan) of every SELECT that reads agent_legs."""
    return [
        (" ".join(statement.split())[:200], plan)
        for statement, plan in query_plans(session, sent)
        if "FROM agent_legs" in statement
    ]


@pytest.mark.parametrize("status", ["available", "wrap_up"])
def test_the_consoles_poll_reads_an_agents_calls_without_sorting_their_history(
    session: Session, clock: FixedClock, status: str
) -> None:
    agent = factories.agent(session, clock.now(), status=status)
    history(session, clock, agent)
    if status == "wrap_up":
        agent.busy_until = clock.now() + timedelta(seconds=20)
        session.commit()

    with statements(session) as sent:
        desk.current_call(session, agent)
        desk._last_taken(session, agent)

    read = plans(session, sent)
    assert read, "the poll read no legs"
    for statement, plan in read:
        # Every read of the legs goes through an index in the order it wants: never a sort of all the
        # agent's legs to find the newest one (SQLite's temporary B-tree, PostgreSQL's Sort node; an
        # Incremental Sort only orders the ties of the index's own order, under the LIMIT).
        assert "TEMP B-TREE" not in plan and not re.search(r"(?<!Incremental )\bSort\b", plan), (statement, plan)
        assert re.search(r"USING (COVERING )?INDEX|Index (Only )?Scan", plan), (statement, plan)
