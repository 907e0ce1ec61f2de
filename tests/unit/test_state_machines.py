"""The life cycles of callback requests and agents refuse illegal moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agents.models import AGENT_TRANSITIONS, Agent, IllegalAgentTransition, Queue
from callback.models import TRANSITIONS, CallbackRequest, IllegalTransition

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def a_request(status: str = "queued") -> CallbackRequest:
    return CallbackRequest(
        phone="+12015550123",
        name="Ann",
        queue_id=1,
        status=status,
        attempts=0,
        created_at=NOW,
        updated_at=NOW,
        expires_at=NOW + timedelta(hours=24),
    )


def test_a_waiting_request_can_be_canceled_once_and_again_without_error() -> None:
    req = a_request()
    assert req.cancel(NOW) is True
    assert req.status == "canceled"
    assert req.cancel(NOW) is False


@pytest.mark.parametrize("status", ["connected", "completed", "failed", "expired"])
def test_a_request_past_dialing_cannot_be_canceled(status: str) -> None:
    with pytest.raises(IllegalTransition):
        a_request(status).cancel(NOW)


def test_a_request_being_dialled_can_still_be_canceled() -> None:
    req = a_request("dialing")
    req.cancel(NOW)
    assert req.status == "canceled"


def test_a_full_successful_life_ends_completed() -> None:
    req = a_request()
    req.start_dialing(agent_id=7, now=NOW)
    req.answered(NOW)
    req.bridged(NOW)
    req.complete(NOW)
    assert (req.status, req.outcome) == ("completed", "completed")


def test_not_reached_with_a_next_attempt_waits_to_retry() -> None:
    req = a_request()
    req.start_dialing(agent_id=7, now=NOW)
    req.not_reached("busy", NOW, NOW + timedelta(minutes=2))
    assert req.status == "retry_wait"
    assert req.next_attempt_at == NOW + timedelta(minutes=2)
    assert req.agent_id is None


def test_not_reached_without_a_next_attempt_fails() -> None:
    req = a_request()
    req.start_dialing(agent_id=7, now=NOW)
    req.not_reached("no-answer", NOW, None)
    assert req.status == "failed"


def test_releasing_a_claim_puts_the_request_back_in_line() -> None:
    req = a_request()
    req.start_dialing(agent_id=7, now=NOW)
    req.release(NOW)
    assert (req.status, req.attempts, req.agent_id) == ("queued", 0, None)


def test_a_bound_fails_a_waiting_request_with_its_reason() -> None:
    req = a_request()
    req.fail("daily_call_limit", NOW)
    assert (req.status, req.outcome, req.next_attempt_at) == ("failed", "daily_call_limit", None)


def test_only_waiting_requests_can_be_rescheduled() -> None:
    req = a_request("retry_wait")
    req.reschedule(NOW + timedelta(hours=2), NOW)
    assert req.status == "queued"
    assert req.next_attempt_at is None
    with pytest.raises(IllegalTransition):
        a_request("dialing").reschedule(None, NOW)


@pytest.mark.parametrize("final", ["completed", "failed", "canceled", "expired"])
def test_final_states_have_no_way_out(final: str) -> None:
    assert TRANSITIONS[final] == frozenset()


def test_due_time_is_the_latest_of_slot_and_back_off() -> None:
    req = a_request()
    assert req.due_at == NOW
    req.not_before = NOW + timedelta(hours=1)
    req.next_attempt_at = NOW + timedelta(hours=2)
    assert req.due_at == NOW + timedelta(hours=2)


@pytest.mark.parametrize("kept", ["not_before", "next_attempt_at"])
def test_a_caller_holding_on_the_line_is_due_whatever_their_requests_slot_or_back_off(kept: str) -> None:
    req = a_request("retry_wait" if kept == "next_attempt_at" else "queued")
    setattr(req, kept, NOW + timedelta(hours=3))
    assert not req.due_by(NOW + timedelta(hours=1)) and req.due_at == NOW + timedelta(hours=3)
    req.hold_call_sid = "CA" + "1" * 32
    assert req.due_by(NOW) and req.due_at == NOW  # due since they arrived, in the line's order
    req.hold_call_sid = None  # they hung up: their request waits for its own time again
    assert not req.due_by(NOW + timedelta(hours=1)) and getattr(req, kept) == NOW + timedelta(hours=3)


def test_a_request_never_expires_while_its_caller_holds_on_the_line() -> None:
    req = a_request()
    later = req.expires_at + timedelta(minutes=1)
    assert req.past_expiry(later)
    req.hold_call_sid = "CA" + "1" * 32
    assert not req.past_expiry(later)
    req.hold_call_sid = None  # they stopped holding: the expiry applies again
    assert req.past_expiry(later)


@pytest.mark.parametrize(
    ("phone", "holding", "in_line"),
    [("+12015550123", False, True), ("call:123456789012345", False, False), ("call:123456789012345", True, True)],
    ids=["a callback", "a message nobody will dial", "a caller holding"],
)
def test_in_line_is_a_holder_or_a_number_we_may_dial(phone: str, holding: bool, in_line: bool) -> None:
    req = a_request()
    req.phone = phone
    req.hold_call_sid = "CA" + "1" * 32 if holding else None
    assert req.in_line is in_line


def an_agent(status: str) -> Agent:
    return Agent(name="Bo", phone="+12015550100", status=status, status_since=NOW, created_at=NOW)


def test_an_agent_signs_in_and_out() -> None:
    agent = an_agent("offline")
    assert agent.move_to("available", NOW + timedelta(seconds=5)) is True
    assert agent.status_since == NOW + timedelta(seconds=5)
    assert agent.move_to("available", NOW) is False
    agent.move_to("offline", NOW)
    assert agent.status == "offline"


@pytest.mark.parametrize(("start", "target"), [("on_call", "offline"), ("offline", "on_call"), ("away", "reserved")])
def test_an_agent_cannot_jump_between_unrelated_states(start: str, target: str) -> None:
    with pytest.raises(IllegalAgentTransition):
        an_agent(start).move_to(target, NOW)


def test_every_agent_state_has_a_way_back_to_available() -> None:
    for state, targets in AGENT_TRANSITIONS.items():
        reachable = {state} | targets
        assert "available" in reachable or any("available" in AGENT_TRANSITIONS[t] for t in targets), state


def test_an_agent_endpoint_is_a_number_or_a_client_identity() -> None:
    assert an_agent("offline").endpoint == "+12015550100"
    assert Agent(name="C", client="chen", status="offline").endpoint == "client:chen"


@pytest.mark.parametrize(("attempts", "delay"), [(1, 120), (2, 600), (3, 1800), (7, 1800)])
def test_retry_back_off_follows_the_queue_schedule_and_repeats_its_last_step(attempts: int, delay: int) -> None:
    queue = Queue(name="orders", display_name="Orders", caller_id="+1", backoff_seconds="120,600,1800")
    assert queue.retry_delay(attempts) == timedelta(seconds=delay)
