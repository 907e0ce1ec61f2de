"""Agent-first queues: the agent's phone rings first, the agent presses 1, then the customer is called."""

from __future__ import annotations

from agents.service import update_queue
from core.db import get_db
from tests.e2e.conftest import System

CUSTOMER = "+12015550123"
AGENT = "+12015550188"


def agent_first(system: System) -> None:
    with get_db(system.app).sessions() as session:
        update_queue(session, "orders", {"dial_strategy": "agent_first"})


def test_the_agent_accepts_then_the_customer_is_connected(system: System) -> None:
    agent_first(system)
    system.phone(AGENT, answer="human", steps=[{"digits": "1"}], hangup_after=60)
    system.phone(CUSTOMER, answer="human", hangup_after=30)
    agent_id = system.add_agent(AGENT)
    ref = system.ask(CUSTOMER)
    req = system.wait_status(ref, "completed")
    (attempt,) = system.attempts(ref)
    assert attempt.agent_first and attempt.outcome == "completed" and req.attempts == 1
    assert attempt.talk_seconds is not None and attempt.talk_seconds > 0
    (placed,) = system.calls(direction="outbound-api")
    assert placed["to"] == AGENT  # the call we placed rang the agent first
    (leg,) = system.calls(to=CUSTOMER)
    assert leg["parent_call_sid"] == placed["sid"]
    heard = " ".join(e.get("text", "") for e in system.call(placed["sid"])["timeline"] if e["type"] == "say")
    assert "The customer gave the name: Casey Jones" in heard and "Press 1 to call them now" in heard
    greeted = " ".join(e.get("text", "") for e in system.call(leg["sid"])["timeline"] if e["type"] == "say")
    assert "returning your call" in greeted
    system.wait(lambda: system.agent(agent_id).status == "available", message="agent never left wrap-up")


def test_an_agent_who_does_not_answer_is_away_and_the_customer_was_never_called(system: System) -> None:
    agent_first(system)
    system.phone(AGENT, answer="no-answer")
    agent_id = system.add_agent(AGENT)
    ref = system.ask(CUSTOMER)
    system.wait(lambda: system.agent(agent_id).status == "away", timeout=30, message="agent never went away")
    req = system.wait_status(ref, "queued")
    (attempt,) = system.attempts(ref)
    assert (attempt.outcome, req.attempts) == ("agent_missed", 0)  # not the customer's attempt
    assert system.calls(to=CUSTOMER) == []


def test_a_customer_who_does_not_answer_is_retried_later(system: System) -> None:
    agent_first(system)
    system.phone(AGENT, answer="human", steps=[{"digits": "1"}], hangup_after=120)
    system.phone(CUSTOMER, answer="busy")
    agent_id = system.add_agent(AGENT)
    ref = system.ask(CUSTOMER)
    req = system.wait_status(ref, "retry_wait", "failed")
    attempt = system.attempts(ref)[0]
    assert (attempt.outcome, req.attempts) == ("busy", 1)
    system.wait(lambda: system.agent(agent_id).status == "available", message="agent was not freed")


def test_a_customers_voicemail_is_left_a_message_retried_and_the_agent_let_go(system: System) -> None:
    agent_first(system)
    system.phone(AGENT, answer="human", steps=[{"digits": "1"}], hangup_after=120)
    system.phone(CUSTOMER, answer="machine")
    agent_id = system.add_agent(AGENT)
    ref = system.ask(CUSTOMER)
    req = system.wait_status(ref, "retry_wait", timeout=40)
    (attempt,) = system.attempts(ref)
    assert (attempt.outcome, req.outcome, req.attempts) == ("machine", "machine", 1)
    assert attempt.bridged_at is None
    (leg,) = system.calls(to=CUSTOMER)
    left = " ".join(e.get("text", "") for e in system.call(leg["sid"])["timeline"] if e["type"] == "say")
    assert "returning your call" in left and "Connecting you to an agent" not in left
    (placed,) = system.calls(direction="outbound-api")
    told = " ".join(e.get("text", "") for e in system.call(placed["sid"])["timeline"] if e["type"] == "say")
    assert "voicemail answered" in told
    system.wait(lambda: system.agent(agent_id).status == "available", message="agent was not let go")
