"""A customer asks for a callback and the system calls them: every outcome, over real HTTP."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from sqlalchemy import select

from agents.service import update_queue
from callback.models import CallbackRequest
from core.db import get_db
from tests.e2e.conftest import System

CUSTOMER = "+12015550123"
AGENT = "+12015550188"
AGENT_2 = "+12015550199"
FINAL_CALL = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})


# Helpers the shared conftest does not have --------------------------------------------------------


def set_queue(system: System, name: str = "orders", **changes: Any) -> None:
    """Change a queue's settings (back-off, attempts) before the scenario starts."""
    with get_db(system.app).sessions() as session:
        update_queue(session, name, changes)


def expire_in(system: System, ref: str, seconds: float) -> None:
    """Move a request's expiry close: the API offers no way to ask for a short-lived request."""
    with get_db(system.app).sessions() as session:
        req = session.scalar(select(CallbackRequest).where(CallbackRequest.ref == ref))
        assert req is not None
        req.expires_at = datetime.now(UTC) + timedelta(seconds=seconds)
        session.commit()


def customer_calls(system: System) -> list[dict[str, Any]]:
    """The calls placed to the customer, oldest first."""
    return sorted(system.calls(to=CUSTOMER), key=lambda c: (c["date_created"], c["sid"]))


def said(system: System, sid: str) -> str:
    """Everything the sandbox said on one call, in order."""
    return " ".join(e.get("text", "") for e in system.call(sid)["timeline"] if e["type"] == "say")


def all_calls_over(system: System) -> list[dict[str, Any]]:
    """Wait until no call of the sandbox is live any more; returns every call."""
    result: list[dict[str, Any]] = system.wait(
        lambda: (calls := system.calls()) and all(c["status"] in FINAL_CALL for c in calls) and calls,
        message="a call is still live",
    )
    return result


def shows(system: System, ref: str, status: str, attempts: int, words: str) -> None:
    """The JSON API and the customer's status page tell the same story."""
    api = system.api("GET", f"/api/callbacks/{ref}")
    assert api.status_code == 200
    assert (api.json()["status"], api.json()["attempts"]) == (status, attempts)
    page = requests.get(f"{system.app_url}/callback/{ref}", timeout=5)
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert words in text
    assert f"<dt>Calls so far</dt><dd>{attempts}</dd>" in text


# Scenarios ---------------------------------------------------------------------------------------


def test_a_customer_who_answers_and_presses_1_talks_to_the_agent(system: System) -> None:
    system.phone(CUSTOMER, answer="human", steps=[{"digits": "1"}])
    system.phone(AGENT, answer="human", steps=[{"digits": "1"}], hangup_after=60)
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
    # The agent's leg was dialled from the customer's call, and heard the whisper.
    agent_legs = system.calls(to=AGENT)
    assert [leg["parent_call_sid"] for leg in agent_legs] == [customer_calls[0]["sid"]]
    assert "The customer gave the name: Casey Jones" in " ".join(
        e.get("text", "") for e in system.call(agent_legs[0]["sid"])["timeline"] if e["type"] == "say"
    )
    shows(system, ref, "completed", 1, "All done: you spoke with one of our agents")


def test_an_answering_machine_gets_a_message_and_the_request_is_retried(system: System) -> None:
    set_queue(system, backoff_seconds="2")
    system.phone(CUSTOMER, answer="machine")
    system.phone(AGENT, answer="human", steps=[{"digits": "1"}], hangup_after=60)
    agent_id = system.add_agent(AGENT)
    ref = system.ask(CUSTOMER)
    # The first call exists: the customer will be there, in person, for the next one.
    system.wait(lambda: len(customer_calls(system)) == 1, message="the customer was never called")
    system.phone(CUSTOMER, answer="human", steps=[{"digits": "1"}])

    waiting = system.wait_status(ref, "retry_wait")
    assert (waiting.attempts, waiting.outcome, waiting.agent_id) == (1, "machine", None)
    shows(system, ref, "retry_wait", 1, "We reached your voicemail and left a message. We'll try again")
    assert system.agent(agent_id).status == "available"  # not held through the back-off

    req = system.wait_status(ref, "completed")
    assert req.attempts == 2
    first, second = system.attempts(ref)
    assert (first.outcome, first.agent_outcome) == ("machine", None)
    assert first.answered_by is not None and first.answered_by.startswith("machine")
    assert (second.outcome, second.answered_by) == ("completed", "human")
    all_calls_over(system)
    placed = customer_calls(system)
    assert [c["sid"] for c in placed] == [first.call_sid, second.call_sid]
    voicemail = said(system, placed[0]["sid"])
    assert "We'll try you again soon" in voicemail and "press 1" not in voicemail
    # Only the call a person answered rang the agent.
    assert [leg["parent_call_sid"] for leg in system.calls(to=AGENT)] == [second.call_sid]


@pytest.mark.parametrize(
    ("behaviour", "outcome", "words"),
    [
        ({"answer": "busy"}, "busy", []),
        ({"answer": "no-answer"}, "no-answer", []),
        (
            {"answer": "human", "steps": []},
            "no_confirmation",
            ["press 1 or say yes", "Sorry, I didn't hear anything"],
        ),
    ],
    ids=["busy", "no-answer", "silent-through-both-prompts"],
)
def test_a_customer_not_reached_is_retried_then_the_request_fails(
    system: System, behaviour: dict[str, Any], outcome: str, words: list[str]
) -> None:
    set_queue(system, max_attempts=2)
    system.phone(CUSTOMER, **behaviour)
    agent_id = system.add_agent(AGENT)
    ref = system.ask(CUSTOMER)
    req = system.wait_status(ref, "failed", timeout=60)
    attempts = system.attempts(ref)
    assert (req.attempts, req.outcome) == (2, outcome)
    assert [a.outcome for a in attempts] == [outcome, outcome]
    assert all(a.ended_at is not None and a.bridged_at is None for a in attempts)
    assert system.agent(agent_id).status == "available"
    all_calls_over(system)
    placed = customer_calls(system)
    assert [c["sid"] for c in placed] == [a.call_sid for a in attempts]  # one call per attempt
    assert {c["status"] for c in placed} == ({"completed"} if words else {outcome})
    for number, call in enumerate(placed, start=1):
        heard = said(system, call["sid"])
        assert all(w in heard for w in words) if words else heard == ""
        if words:
            # Another call is promised only while one is left: the last call says none will come.
            last = number == len(placed)
            assert ("We'll try you again a little later" in heard) == (not last)
            assert ("We won't call you again about this request" in heard) == last
    assert system.calls(to=AGENT) == []  # the agent's phone never rang


def test_a_voicemail_on_the_last_attempt_is_not_promised_another_call(system: System) -> None:
    set_queue(system, max_attempts=1)
    system.phone(CUSTOMER, answer="machine")
    agent_id = system.add_agent(AGENT)
    ref = system.ask(CUSTOMER)
    req = system.wait_status(ref, "failed", timeout=30)
    assert (req.attempts, req.outcome) == (1, "machine")
    all_calls_over(system)
    (placed,) = customer_calls(system)
    voicemail = said(system, placed["sid"])
    assert "We could not reach you, and we won't call again about this request" in voicemail
    assert "try you again" not in voicemail and "ask for a callback again on our website" in voicemail
    assert system.agent(agent_id).status == "available"


def test_retries_exhausted_fail_the_request_after_max_attempts(system: System) -> None:
    system.phone(CUSTOMER, answer="busy")
    agent_id = system.add_agent(AGENT)
    ref = system.ask(CUSTOMER)
    req = system.wait_status(ref, "failed", timeout=30)
    attempts = system.attempts(ref)
    assert (req.attempts, req.outcome, req.agent_id) == (3, "busy", None)
    assert [a.outcome for a in attempts] == ["busy"] * 3
    assert system.agent(agent_id).status == "available"
    all_calls_over(system)
    assert len(customer_calls(system)) == 3
    shows(system, ref, "failed", 3, "We couldn't reach you after several tries")


@pytest.mark.parametrize("answer", [{"speech": "no thanks"}, {"digits": "2"}], ids=["says-no", "presses-2"])
def test_a_customer_who_declines_is_not_connected_nor_called_again(system: System, answer: dict[str, str]) -> None:
    system.phone(CUSTOMER, answer="human", steps=[answer])
    agent_id = system.add_agent(AGENT)
    ref = system.ask(CUSTOMER)
    req = system.wait_status(ref, "canceled")
    assert (req.attempts, req.outcome, req.agent_id) == (1, "declined", None)
    system.wait(lambda: system.attempts(ref)[0].ended_at is not None, message="the attempt was never closed")
    (attempt,) = system.attempts(ref)
    assert (attempt.outcome, attempt.confirmed_at, attempt.bridged_at) == ("declined", None, None)
    assert system.agent(agent_id).status == "available"
    all_calls_over(system)
    (call,) = customer_calls(system)
    assert "We won't connect you now" in said(system, call["sid"])
    assert system.calls(to=AGENT) == []
    shows(system, ref, "canceled", 1, "You told us not to connect you, so we won't call again")


@pytest.mark.parametrize(
    "words", ["I want to talk to an agent", "no, I want to talk to someone"], ids=["asks-for-agent", "no-then-person"]
)
def test_a_customer_who_asks_for_an_agent_in_words_is_put_through(system: System, words: str) -> None:
    # Asked "to talk to an agent now, press 1 or say yes", asking for one is a yes; a "no" before it
    # refuses the machine, not the agent (it used to cancel the request for good).
    system.phone(CUSTOMER, answer="human", steps=[{"speech": words}])
    system.phone(AGENT, answer="human", steps=[{"digits": "1"}], hangup_after=60)
    system.add_agent(AGENT)
    ref = system.ask(CUSTOMER)
    req = system.wait_status(ref, "completed")
    assert req.attempts == 1
    all_calls_over(system)
    assert len(system.calls(to=AGENT)) == 1 and len(customer_calls(system)) == 1


def test_an_agent_who_does_not_answer_goes_away_and_the_next_free_agent_takes_the_call(system: System) -> None:
    system.phone(CUSTOMER, answer="human", steps=[{"digits": "1"}])
    system.phone(AGENT, answer="no-answer")
    system.phone(AGENT_2, answer="human", steps=[{"digits": "1"}], hangup_after=60)
    missed_id = system.add_agent(AGENT)  # longest idle: rung first
    second_id = system.add_agent(AGENT_2)
    ref = system.ask(CUSTOMER)
    req = system.wait_status(ref, "completed")
    (attempt,) = system.attempts(ref)
    assert req.attempts == 1
    assert (attempt.outcome, attempt.agent_outcome, attempt.agent_id) == ("completed", "completed", second_id)
    assert system.agent(missed_id).status == "away"
    system.wait(lambda: system.agent(second_id).status == "available", message="agent 2 never left wrap-up")
    all_calls_over(system)
    (call,) = customer_calls(system)
    assert call["sid"] == attempt.call_sid
    (missed_leg,) = system.calls(to=AGENT)
    (taken_leg,) = system.calls(to=AGENT_2)
    assert (missed_leg["parent_call_sid"], missed_leg["status"]) == (call["sid"], "no-answer")
    assert (taken_leg["parent_call_sid"], taken_leg["status"]) == (call["sid"], "completed")
    assert attempt.agent_call_sid == taken_leg["sid"]


def test_with_no_other_agent_the_customer_is_told_and_requeued_first_in_line(system: System) -> None:
    system.phone(CUSTOMER, answer="human", steps=[{"digits": "1"}])
    system.phone(AGENT, answer="no-answer")
    agent_id = system.add_agent(AGENT)
    ref = system.ask(CUSTOMER)
    system.wait(lambda: system.agent(agent_id).status == "away", message="the agent never went away")
    all_calls_over(system)
    req = system.wait_status(ref, "queued")
    assert (req.attempts, req.outcome, req.priority, req.agent_id) == (1, "agent_missed", 1, None)
    (attempt,) = system.attempts(ref)
    assert (attempt.outcome, attempt.agent_outcome) == ("agent_missed", "no_answer")
    assert attempt.ended_at is not None and attempt.confirmed_at is not None
    (call,) = customer_calls(system)
    assert "You keep your place at the front of the line" in said(system, call["sid"])
    (leg,) = system.calls(to=AGENT)
    assert leg["status"] == "no-answer"
    shows(system, ref, "queued", 1, "You're at the front of the line")

    # The agent is back: the request is dialled again and this time they talk.
    system.phone(AGENT, answer="human", steps=[{"digits": "1"}], hangup_after=60)
    assert system.api("POST", f"/api/agents/{agent_id}/status", json={"status": "available"}).status_code == 200
    req = system.wait_status(ref, "completed")
    assert req.attempts == 2
    assert [a.outcome for a in system.attempts(ref)] == ["agent_missed", "completed"]
    all_calls_over(system)
    assert len(customer_calls(system)) == 2 and len(system.calls(to=AGENT)) == 2


def test_a_customer_who_hangs_up_while_the_agent_rings_is_retried_and_the_agent_freed(system: System) -> None:
    set_queue(system, backoff_seconds="600")  # keep the retry out of the picture
    system.phone(CUSTOMER, answer="human", steps=[{"digits": "1"}])
    system.phone(AGENT, answer="no-answer")
    agent_id = system.add_agent(AGENT)
    ref = system.ask(CUSTOMER)
    leg = system.wait(lambda: next(iter(system.calls(to=AGENT, status="ringing")), None), message="agent never rang")
    (call,) = customer_calls(system)
    assert requests.post(f"{system.sandbox_url}/sandbox/calls/{call['sid']}/hangup", timeout=5).status_code == 200

    req = system.wait_status(ref, "retry_wait")
    assert (req.attempts, req.outcome, req.agent_id) == (1, "customer_hung_up", None)
    (attempt,) = system.attempts(ref)
    assert attempt.outcome == "customer_hung_up" and attempt.bridged_at is None
    # The agent did nothing wrong: free again, not away.
    system.wait(lambda: system.agent(agent_id).status == "available", message="the agent was not freed")
    all_calls_over(system)
    assert system.call(leg["sid"])["status"] == "canceled"
    assert len(customer_calls(system)) == 1
    shows(system, ref, "retry_wait", 1, "The call ended before you were connected to an agent. We'll call you again")


def test_a_request_expires_instead_of_being_retried_past_its_expiry(system: System) -> None:
    set_queue(system, backoff_seconds="600")
    system.phone(CUSTOMER, answer="busy")
    agent_id = system.add_agent(AGENT, status="offline")
    ref = system.ask(CUSTOMER)
    expire_in(system, ref, 60)  # the next try (in 600 s) would come too late
    assert system.api("POST", f"/api/agents/{agent_id}/status", json={"status": "available"}).status_code == 200
    req = system.wait_status(ref, "expired")
    assert (req.attempts, req.outcome, req.agent_id) == (1, "expired", None)
    assert [a.outcome for a in system.attempts(ref)] == ["busy"]
    assert system.agent(agent_id).status == "available"
    all_calls_over(system)
    assert len(customer_calls(system)) == 1
    shows(system, ref, "expired", 1, "This request expired before we could reach you")


def test_canceling_while_the_phone_rings_connects_nobody_and_frees_the_agent(system: System) -> None:
    system.phone(CUSTOMER, answer="human", answer_after=15, steps=[{"digits": "1"}])
    agent_id = system.add_agent(AGENT)
    ref = system.ask(CUSTOMER)
    system.wait(lambda: system.calls(to=CUSTOMER, status="ringing"), message="the customer's phone never rang")
    assert system.request(ref).status == "dialing"
    canceled = system.api("DELETE", f"/api/callbacks/{ref}")
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"

    system.wait(lambda: system.attempts(ref)[0].ended_at is not None, message="the attempt was never closed")
    req = system.request(ref)
    (attempt,) = system.attempts(ref)
    assert (req.status, req.attempts, req.outcome) == ("canceled", 1, "canceled_by_customer")
    assert attempt.outcome == "canceled" and attempt.confirmed_at is None and attempt.bridged_at is None
    assert system.agent(agent_id).status == "available"
    all_calls_over(system)
    (call,) = customer_calls(system)
    assert call["status"] == "canceled"  # the ringing phone was hung up, not left to ring out
    assert said(system, call["sid"]) == ""  # nobody asked them anything
    assert system.calls(to=AGENT) == []
    shows(system, ref, "canceled", 1, "You canceled this callback")
