"""The agent-first strategy: ring the agent, who hears the context and presses 1; then ring the customer.

Some shops prefer it: no customer ever waits on the line for an agent. The call we place is the
agent's; the customer's is its <Dial> leg, so Twilio's answering-machine detection cannot apply and
a customer who does not answer is simply "not reached". Like the customer-first flow, every step is
idempotent and ends through calls.finish_attempt, which the reaper shares.
"""

from __future__ import annotations

import logging

from sqlalchemy.orm import Session

from callback.calls import FINAL_CALL_STATUSES, Next, schedule_retry, wrap_up
from callback.models import CallAttempt
from core.clock import Clock

log = logging.getLogger(__name__)


def on_agent_pickup(session: Session, clock: Clock, attempt: CallAttempt) -> Next:
    """The agent answered: offer them the callback (they press 1 to ring the customer)."""
    now = clock.now()
    req = attempt.request
    if attempt.ended_at is not None or req.status != "dialing":
        return Next("hangup", req, attempt.agent)
    attempt.answered_at = attempt.answered_at or now
    agent = attempt.agent
    if agent is not None and agent.status == "reserved":
        agent.move_to("on_call", now)
    session.commit()
    return Next("offer", req, agent)


def on_agent_accept(session: Session, clock: Clock, attempt: CallAttempt, digits: str | None) -> Next:
    """The agent pressed a key: 1 rings the customer, anything else passes this callback on."""
    req = attempt.request
    if attempt.ended_at is not None or req.status != "dialing":
        return Next("hangup", req, attempt.agent)
    if (digits or "").startswith("1"):
        attempt.confirmed_at = attempt.confirmed_at or clock.now()
        session.commit()
        return Next("dial_customer", req, attempt.agent)
    attempt.agent_outcome = "declined" if digits else "no_input"
    session.commit()
    return Next("agent_goodbye", req, attempt.agent)


def on_customer_pickup(session: Session, clock: Clock, attempt: CallAttempt, customer_leg_sid: str | None) -> Next:
    """The customer answered the agent's Dial: they are connected (the greeting plays first)."""
    now = clock.now()
    req = attempt.request
    if req.status == "connected":
        return Next("greet", req)  # Twilio retried the greeting
    if attempt.ended_at is not None or req.status != "dialing":
        return Next("hangup", req)
    attempt.agent_call_sid = customer_leg_sid or attempt.agent_call_sid
    req.answered(now)
    req.bridged(now)
    attempt.bridged_at = now
    session.commit()
    return Next("greet", req)


def on_customer_dial_done(
    session: Session, clock: Clock, attempt: CallAttempt, dial_status: str, duration: int | None
) -> Next:
    """The customer's leg ended: the conversation is over, or the customer was not reached."""
    now = clock.now()
    req = attempt.request
    if attempt.bridged_at is not None and dial_status in {"completed", "answered"}:
        attempt.talk_seconds = duration if duration is not None else attempt.talk_seconds
        attempt.outcome = attempt.agent_outcome = "completed"
        if req.status == "connected":
            req.complete(now)
        wrap_up(session, attempt.agent, attempt, now)
        session.commit()
        return Next("agent_thanks", req)
    if req.status == "dialing" and dial_status in FINAL_CALL_STATUSES:
        attempt.outcome = dial_status
        attempt.agent_outcome = "completed"
        schedule_retry(req, dial_status, now)
        session.commit()
        log.info("agent-first: customer not reached", extra={"attempt": attempt.id, "outcome": dial_status})
        return Next("customer_not_reached", req)
    session.commit()
    return Next("hangup", req)
