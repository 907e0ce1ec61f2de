"""When a customer counts as put through to an agent: only a bridge Twilio confirms, in both dial strategies.

A customer-first call is put through when the agent accepts; an agent-first call when the customer, rung
for an agent who already accepted, answers and hears the greeting. Either way the bridge follows, and only
the Dial action (DialBridged) says it happened: a customer who hangs up in between talked to nobody.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from callback.calls import bridge_reported
from callback.models import AgentLeg, CallAttempt

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
ACCEPTED = NOW - timedelta(seconds=20)
GREETED = NOW - timedelta(seconds=5)


@pytest.mark.parametrize(
    ("dial_status", "dial_bridged", "put_through", "bridged"),
    [
        # Twilio says so: believe it, whatever else is known.
        ("completed", "true", True, True),
        ("completed", "false", True, False),  # hung up during the greeting, or right after accepting
        ("answered", "false", True, False),
        ("completed", "true", False, True),
        # Without DialBridged, only a leg put through and answered can have been bridged.
        ("completed", None, True, True),
        ("answered", None, True, True),
        ("completed", None, False, False),
        ("no-answer", None, True, False),
        ("busy", None, False, False),
        ("canceled", None, True, False),
    ],
)
def test_a_dial_action_reports_a_bridge_only_when_twilio_says_so_or_it_must_have_happened(
    dial_status: str, dial_bridged: str | None, put_through: bool, bridged: bool
) -> None:
    assert bridge_reported(dial_status, dial_bridged, put_through) is bridged


def call(agent_first: bool, greeted: datetime | None = None, leg_ended: datetime | None = None) -> CallAttempt:
    """An attempt whose agent accepted (agent-first: before the customer was rung), not bridged yet."""
    attempt = CallAttempt(agent_first=agent_first, created_at=NOW, accepted_at=ACCEPTED, greeted_at=greeted)
    AgentLeg(attempt=attempt, rung_at=NOW, accepted_at=ACCEPTED, ended_at=leg_ended)
    return attempt


def test_customer_first_is_put_through_at_the_agents_acceptance() -> None:
    attempt = call(agent_first=False)
    (leg,) = attempt.agent_legs
    assert attempt.put_through_at == leg.put_through_at == ACCEPTED
    assert leg.talked  # live, and on the line with the customer since the acceptance


def test_agent_first_is_put_through_at_the_greeting_not_at_the_agents_acceptance() -> None:
    ringing = call(agent_first=True)
    (leg,) = ringing.agent_legs
    assert ringing.put_through_at is None and leg.put_through_at is None
    assert not leg.talked  # the agent accepted; the customer's phone is still ringing

    greeted = call(agent_first=True, greeted=GREETED)
    (leg,) = greeted.agent_legs
    assert greeted.put_through_at == leg.put_through_at == GREETED
    assert leg.talked


def test_a_leg_that_ended_unbridged_after_the_greeting_was_no_conversation() -> None:
    attempt = call(agent_first=True, greeted=GREETED, leg_ended=NOW)
    (leg,) = attempt.agent_legs
    assert attempt.bridged_at is None and leg.bridged_at is None
    assert not leg.talked


def test_a_dropped_acceptance_does_not_put_a_customer_first_call_through() -> None:
    attempt = call(agent_first=False)
    attempt.agent_legs[0].outcome = "dropped"
    assert attempt.put_through_at is None
