"""A customer asks for a callback and the system calls them: every outcome, over real HTTP."""

from __future__ import annotations

from tests.e2e.conftest import System

CUSTOMER = "+12015550123"
AGENT = "+12015550188"
AGENT_2 = "+12015550199"


def test_a_customer_who_answers_and_presses_1_talks_to_the_agent(system: System) -> None:
    system.phone(CUSTOMER, answer="human", steps=[{"digits": "1"}])
    system.phone(AGENT, answer="human", hangup_after=20)
    agent_id = system.add_agent(AGENT)
    ref = system.ask(CUSTOMER)
    req = system.wait_status(ref, "completed")
    attempts = system.attempts(ref)
    assert req.attempts == 1 and len(attempts) == 1
    attempt = attempts[0]
    assert (attempt.outcome, attempt.agent_outcome, attempt.answered_by) == ("completed", "completed", "human")
    assert attempt.talk_seconds is not None and attempt.talk_seconds >= 2
    # The agent wraps up, then is free again.
    system.wait(lambda: system.agent(agent_id).status == "available", message="agent never left wrap-up")
    customer_calls = system.calls(to=CUSTOMER)
    assert len(customer_calls) == 1
    timeline = system.call(customer_calls[0]["sid"])["timeline"]
    said = " ".join(e.get("text", "") for e in timeline if e["type"] == "say")
    assert "press 1 or say yes" in said
