"""The agent-first strategy: ring the agent, who hears the context and presses 1; then ring the customer.

Some shops prefer it: no customer ever waits on the line for an agent. The call we place is the
agent's (its AgentLeg is written with the claim); the customer's is its <Dial> leg, so Twilio's
a customer who does not answer is simply "not reached". Both voicemails are caught by answering-machine
detection: the agent's on the call we place, the customer's on their <Number> (Twilio runs it on a <Dial>
leg before the greeting is fetched); a customer's voicemail is left the customer-first flow's message and
counts as "not reached" (outcome "machine"), and the agent is told and let go. The customer is
called only after the agent accepts, and only if the line's bounds allow it then. Like the
customer-first flow, every step is idempotent and ends through calls.finish_attempt, which the reaper
shares.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from callback import line
from callback.calls import (
    FINAL_CALL_STATUSES,
    MACHINE_ANSWERS,
    Next,
    agent_first_miss,
    bridge_reported,
    finish_attempt,
)
from callback.models import AgentLeg, CallAttempt
from core.clock import Clock

log = logging.getLogger(__name__)


def _leg(attempt: CallAttempt) -> AgentLeg | None:
    return attempt.agent_legs[0] if attempt.agent_legs else None


def on_agent_pickup(session: Session, clock: Clock, attempt: CallAttempt, answered_by: str | None = None) -> Next:
    """The agent answered: offer them the callback (they press 1 to ring the customer)."""
    now = clock.now()
    req = attempt.request
    leg = _leg(attempt)
    if leg is not None:
        leg.answered_at = leg.answered_at or now
        leg.call_sid = leg.call_sid or attempt.call_sid
        leg.answered_by = answered_by or leg.answered_by
    if attempt.ended_at is not None or req.status != "dialing":
        session.commit()
        return Next("hangup", req, attempt.agent, leg)
    attempt.answered_at = attempt.answered_at or now
    if answered_by in MACHINE_ANSWERS:
        if leg is not None:
            leg.outcome = leg.outcome or "voicemail"
        attempt.agent_outcome = "voicemail"
        session.commit()
        return Next("hangup", req, attempt.agent, leg)
    agent = attempt.agent
    line.take_call(agent, now)
    session.commit()
    return Next("offer", req, agent, leg)


def on_agent_accept(
    session: Session, clock: Clock, attempt: CallAttempt, digits: str | None, bounds: line.Bounds
) -> Next:
    """The agent pressed a key: 1 rings the customer (if the bounds allow a call now); else a pass."""
    now = clock.now()
    req = attempt.request
    leg = _leg(attempt)
    if attempt.ended_at is not None or req.status != "dialing":
        return Next("hangup", req, attempt.agent, leg)
    if not (digits or "").startswith("1"):
        attempt.agent_outcome = "declined" if digits else "no_input"
        if leg is not None:
            leg.outcome = leg.outcome or ("declined" if digits else "no_answer")
        session.commit()
        return Next("agent_goodbye", req, attempt.agent, leg)
    verdict = line.dial_customer_now(session, attempt, now, bounds)
    if not verdict.ok:
        # The customer was called too recently (or too often): not now, and not the agent's fault.
        attempt.agent_outcome = "bound"
        if verdict.fail:
            req.fail(verdict.fail, now)
        else:
            req.release(now)
            req.next_attempt_at = verdict.until
        if leg is not None:
            leg.outcome = leg.outcome or "canceled"
        session.commit()
        return Next("customer_not_callable", req, attempt.agent, leg)
    attempt.confirmed_at = attempt.confirmed_at or now
    attempt.accepted_at = attempt.accepted_at or now
    if leg is not None:
        leg.accepted_at = leg.accepted_at or now
    session.commit()
    return Next("dial_customer", req, attempt.agent, leg)


def on_customer_pickup(
    session: Session, clock: Clock, attempt: CallAttempt, customer_leg_sid: str | None, answered_by: str | None = None
) -> Next:
    """The customer's phone answered the agent's Dial: a person is greeted, then put through to the agent;
    a machine is left the voicemail message, and the attempt is "not reached" when the leg ends.

    The request is "connected" from the greeting (the customer is on the line for their agent), but the
    bridge follows the greeting, and only the Dial action says whether it happened: bridged_at is
    written there (on_customer_dial_done), never here, so a hang-up during the greeting counts nowhere
    as a connection."""
    now = clock.now()
    req = attempt.request
    if req.status == "connected":
        return Next("greet", req)  # Twilio retried the greeting
    if attempt.outcome == "machine" and attempt.ended_at is None:
        return Next("voicemail", req)  # Twilio retried the voicemail's request
    if attempt.ended_at is not None or req.status != "dialing" or attempt.accepted_at is None:
        return Next("hangup", req)
    attempt.answered_by = answered_by or attempt.answered_by
    if answered_by in MACHINE_ANSWERS:
        # The same rule as the customer-first answer (calls.on_answer): the request stays "dialing",
        # and the Dial action, when the message ends, schedules the retry and frees the agent.
        attempt.outcome = "machine"
        session.commit()
        return Next("voicemail", req)
    attempt.agent_call_sid = customer_leg_sid or attempt.agent_call_sid
    req.answered(now)
    req.bridged(now)
    attempt.greeted_at = attempt.greeted_at or now
    session.commit()
    return Next("greet", req)


def on_customer_dial_done(
    session: Session,
    clock: Clock,
    attempt: CallAttempt,
    dial_status: str,
    duration: int | None,
    dial_bridged: str | None = None,
    agent_call_status: str | None = None,
    bounds: line.Bounds = line.DEFAULT_BOUNDS,
) -> Next:
    """The customer's leg ended: the conversation is over, or the customer was not reached.

    The greeting plays before the bridge: a customer who hangs up during it ends the Dial "completed"
    with DialBridged=false, having talked to nobody. Only a bridge reported here is a connection, and
    it is recorded as beginning at the greeting (the customer's put_through_at).

    `agent_call_status` is the CallStatus of the agent's own call, which the Dial action carries: over
    already ("completed"), the agent hung up and took the customer's leg with them (while it rang or
    during the greeting), which is the agent's miss, not the customer's."""
    now = clock.now()
    req = attempt.request
    leg = _leg(attempt)
    greeted = attempt.greeted_at is not None
    bridged = greeted and bridge_reported(dial_status, dial_bridged, greeted)
    if (
        not bridged
        and agent_call_status in FINAL_CALL_STATUSES
        and dial_status in {"completed", "canceled"}
        and attempt.outcome != "machine"
        and req.status in {"dialing", "connected"}
        and attempt.ended_at is None
    ):
        return _agent_left(session, clock, attempt, leg, now, bounds)
    if not bridged and req.status == "connected" and attempt.ended_at is None:
        return _hung_up_in_greeting(session, clock, attempt, leg, now, bounds)
    if bridged:
        attempt.bridged_at = attempt.bridged_at or attempt.greeted_at
        attempt.talk_seconds = duration if duration is not None else attempt.talk_seconds
        attempt.outcome = attempt.agent_outcome = "completed"
        if leg is not None and leg.ended_at is None:
            leg.outcome, leg.ended_at, leg.talk_seconds = "accepted", now, duration
            leg.bridged_at = leg.bridged_at or leg.put_through_at
        if req.status == "connected":
            req.complete(now)
        if agent_call_status in FINAL_CALL_STATUSES or attempt.call_status in FINAL_CALL_STATUSES:
            line.wrap_up(session, attempt.agent, attempt, now)
        # Else the customer hung up first, and the agent's own call still plays its goodbye: they stay on
        # the call until it ends (finish_attempt wraps them up then), so that no next call rings a phone
        # still in use (busy, or a call waiting, and the agent set away for it).
        _close_if_call_ended(session, clock, attempt, bounds)
        session.commit()
        return Next("agent_thanks", req)
    if req.status == "dialing" and dial_status in FINAL_CALL_STATUSES | {"answered"}:
        # "completed" without a greeting: the customer's leg ended before it was bridged (or their
        # voicemail answered and was left the message).
        if attempt.outcome == "machine":
            outcome = "machine"
        elif dial_status in FINAL_CALL_STATUSES - {"completed"}:
            outcome = dial_status
        else:
            outcome = "no_confirmation"
        attempt.outcome = outcome
        attempt.agent_outcome = "completed"
        if leg is not None and leg.ended_at is None:
            leg.outcome, leg.ended_at = "accepted", now
        line.schedule_retry(session, req, outcome, now, bounds)
        session.commit()
        log.info("agent-first: customer not reached", extra={"attempt": attempt.id, "outcome": outcome})
        return Next("customer_voicemail" if outcome == "machine" else "customer_not_reached", req)
    session.commit()
    return Next("hangup", req)


def _close_if_call_ended(session: Session, clock: Clock, attempt: CallAttempt, bounds: line.Bounds) -> None:
    """The agent's call may have ended before its Dial action came (its status callback first, held
    until the bridge was known): close the attempt now rather than leave it to the reaper."""
    if attempt.ended_at is None and attempt.call_status in FINAL_CALL_STATUSES:
        finish_attempt(session, clock, attempt, attempt.call_status, bounds=bounds)


def _agent_left(
    session: Session, clock: Clock, attempt: CallAttempt, leg: AgentLeg | None, now: datetime, bounds: line.Bounds
) -> Next:
    """The agent accepted, then hung up before the customer was put through to them: away, as after any
    miss; the customer (rung, or greeted and left with nobody) keeps the front of the line (the call
    counts among their attempts, as every call placed does; callback.calls.agent_first_dropped is the
    same rule when no Dial action comes)."""
    req = attempt.request
    attempt.outcome = attempt.agent_outcome = "agent_missed"
    if req.status == "connected":
        req.unbridged(now)
    line.requeue_first(session, req, agent_first_miss(attempt), now, bounds)
    if leg is not None and leg.ended_at is None:
        leg.outcome, leg.ended_at = "dropped", now
    if leg is not None:
        line.agent_missed(session, leg, req.queue, now)
    _close_if_call_ended(session, clock, attempt, bounds)
    session.commit()
    log.info("agent-first: the agent hung up before the customer was put through", extra={"attempt": attempt.id})
    return Next("hangup", req)


def _hung_up_in_greeting(
    session: Session, clock: Clock, attempt: CallAttempt, leg: AgentLeg | None, now: datetime, bounds: line.Bounds
) -> Next:
    """The customer answered and hung up during the greeting: nobody talked, so the call is a miss like
    any call that did not reach them (retried after the back-off, counted), and the agent did their part.
    Nothing was bridged, so nothing counts it as a connection."""
    req = attempt.request
    attempt.outcome = "customer_hung_up"
    attempt.agent_outcome = "completed"
    if leg is not None and leg.ended_at is None:
        leg.outcome, leg.ended_at = "accepted", now
    if req.status == "connected":
        req.unbridged(now)
    if req.status == "connecting":
        line.schedule_retry(session, req, "customer_hung_up", now, bounds)
    _close_if_call_ended(session, clock, attempt, bounds)
    session.commit()
    log.info("agent-first: customer hung up during the greeting", extra={"attempt": attempt.id})
    return Next("customer_hung_up", req)
