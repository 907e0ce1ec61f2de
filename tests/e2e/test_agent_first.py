"""Agent-first queues: the agent's phone rings first, the agent presses 1, then the customer is called."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from agents.service import update_queue
from callback.models import CallbackRequest
from core.db import get_db
from tests.e2e.conftest import System
from tests.e2e.test_scripted_hour import metric, metrics

CUSTOMER = "+12015550123"
AGENT = "+12015550188"


def agent_first(system: System, **changes: str) -> None:
    with get_db(system.app).sessions() as session:
        update_queue(session, "orders", {"dial_strategy": "agent_first", **changes})


def due_now(system: System, ref: str) -> None:
    """End a request's back-off now: the scenario changes the customer's phone in between."""
    with get_db(system.app).sessions() as session:
        req = session.scalar(select(CallbackRequest).where(CallbackRequest.ref == ref))
        assert req is not None
        req.next_attempt_at = datetime.now(UTC)
        session.commit()


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
    # The agent who rang them is told why the customer was not reached.
    (placed,) = system.calls(direction="outbound-api")

    def told() -> str:
        return " ".join(e.get("text", "") for e in system.call(placed["sid"])["timeline"] if e["type"] == "say")

    system.wait(lambda: "Thank you." in told(), message="the agent was never told")
    assert "The customer's line was busy." in told() and "didn't answer" not in told()


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
    timeline = system.call(leg["sid"])["timeline"]
    left = " ".join(e.get("text", "") for e in timeline if e["type"] == "say")
    assert "returning your call" in left and "Connecting you to an agent" not in left
    # Left after the voicemail's greeting (DetectMessageEnd), so it is recorded whole, not said over it.
    answered_by = [e["answered_by"] for e in timeline if e.get("answered_by")]
    assert answered_by and all(a.startswith("machine_end") for a in answered_by), answered_by
    (placed,) = system.calls(direction="outbound-api")
    told = " ".join(e.get("text", "") for e in system.call(placed["sid"])["timeline"] if e["type"] == "say")
    assert "voicemail answered" in told
    system.wait(lambda: system.agent(agent_id).status == "available", message="agent was not let go")


def test_a_customer_who_hangs_up_during_the_greeting_is_connected_once_when_called_again(system: System) -> None:
    """The greeting plays before the bridge: hanging up during it is a miss, not a connection, so
    /metrics counts the wait to connect once, on the call that bridged, as the database has it."""
    agent_first(system, backoff_seconds="600")  # the second call waits for the phone's new behaviour
    system.phone(AGENT, answer="human", steps=[{"digits": "1"}], hangup_after=60)
    # Detection listens for 2 s, then the greeting plays: gone 1 s into it.
    system.phone(CUSTOMER, answer="human", hangup_after=3)
    agent_id = system.add_agent(AGENT)
    before = metrics(system)
    ref = system.ask(CUSTOMER)

    req = system.wait_status(ref, "retry_wait", timeout=40)
    (missed,) = system.attempts(ref)
    assert (missed.outcome, req.outcome, missed.bridged_at) == ("customer_hung_up", "customer_hung_up", None)
    assert missed.greeted_at is not None
    assert metric(metrics(system), "callme_wait_to_connect_seconds_count", queue="orders") == metric(
        before, "callme_wait_to_connect_seconds_count", queue="orders"
    )

    system.phone(CUSTOMER, answer="human", hangup_after=30)
    system.wait(lambda: system.agent(agent_id).status == "available", message="agent was not freed")
    due_now(system, ref)
    req = system.wait_status(ref, "completed", timeout=40)
    after = metrics(system)

    first, second = system.attempts(ref)
    assert (first.outcome, second.outcome, req.attempts) == ("customer_hung_up", "completed", 2)
    assert first.bridged_at is None and second.bridged_at == second.greeted_at
    counted = metric(after, "callme_wait_to_connect_seconds_count", queue="orders") - metric(
        before, "callme_wait_to_connect_seconds_count", queue="orders"
    )
    waited = metric(after, "callme_wait_to_connect_seconds_sum", queue="orders") - metric(
        before, "callme_wait_to_connect_seconds_sum", queue="orders"
    )
    assert counted == 1
    assert second.bridged_at is not None
    assert abs(waited - (second.bridged_at - req.created_at).total_seconds()) < 1e-6


def test_an_agent_is_not_rung_for_the_next_customer_while_their_last_call_still_says_goodbye(
    system: System,
) -> None:
    # The customer hangs up first; the agent's own call goes on ("The customer hung up. Thank you.").
    # With no wrap-up time the agent is free only once that call has ended, so the next call never
    # rings a phone still in use (a busy line, or a call waiting, would set them away for nothing).
    agent_first(system, wrap_up_seconds=0)  # type: ignore[arg-type]
    second = "+12015550124"
    for number in (CUSTOMER, second):
        system.phone(number, answer="human", hangup_after=20)
    system.phone(AGENT, answer="human", steps=[{"digits": "1", "barge_in": True}], hangup_after=300)
    agent_id = system.add_agent(AGENT)
    refs = [system.ask(CUSTOMER), system.ask(second)]
    for ref in refs:
        system.wait_status(ref, "completed", timeout=90)
    first_call, second_call = sorted(system.calls(to=AGENT), key=lambda c: (c["date_created"], c["sid"]))[:2]
    ended = max(datetime.fromisoformat(e["at"]) for e in system.call(first_call["sid"])["timeline"])
    assert datetime.fromisoformat(second_call["date_created"]) >= ended, (first_call, second_call)
    heard = [e.get("text", "") for e in system.call(first_call["sid"])["timeline"] if e["type"] == "say"]
    assert any("The customer hung up" in said for said in heard), heard
    system.wait(lambda: system.agent(agent_id).status == "available", message="agent never left wrap-up")
