"""What happens to a callback while its call is live: answers, confirmation, agent legs, outcomes.

Every function here is driven by a Twilio webhook (or by the reaper, which asks Twilio what a lost
webhook would have said), so each one is idempotent: Twilio retries webhooks and status callbacks can
arrive late or twice, and applying one again must change nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from agents.models import Agent, agent_queues
from callback.models import CallAttempt, CallbackRequest
from core.clock import Clock
from core.db import rows_changed

log = logging.getLogger(__name__)

FINAL_CALL_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
MACHINE_ANSWERS = frozenset({"machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax"})
YES_WORDS = frozenset({"yes", "yeah", "yep", "sure", "okay", "ok", "please", "connect", "one", "1"})
NO_WORDS = frozenset({"no", "nope", "nah", "not", "don't", "dont", "stop", "cancel"})


@dataclass(frozen=True)
class Next:
    """What the caller should hear next: an action and, for a dial, the agent to ring."""

    # hangup | voicemail | confirm | dial | whisper | declined | try_later | callback_later | goodbye_thanks
    action: str
    request: CallbackRequest | None = None
    agent: Agent | None = None


def load_attempt(
    session: Session, attempt_id: int, call_sid: str | None, agent_leg: bool = False
) -> CallAttempt | None:
    """The attempt a webhook is about; learns the call SID if the dispatcher crashed before saving it."""
    attempt = session.get(CallAttempt, attempt_id, with_for_update=_row_lock(session))
    if attempt is None or not call_sid:
        return attempt
    if agent_leg:
        return attempt
    if attempt.call_sid is None:
        attempt.call_sid = call_sid
    elif attempt.call_sid != call_sid:
        # A webhook for another call naming this attempt: not ours to act on.
        log.warning("webhook call SID does not match its attempt", extra={"attempt": attempt_id})
        return None
    return attempt


def _row_lock(session: Session) -> bool:
    # PostgreSQL: serialise concurrent webhooks of one attempt. SQLite serialises writers anyway.
    return session.get_bind().dialect.name == "postgresql"


def on_answer(session: Session, clock: Clock, attempt: CallAttempt, answered_by: str | None) -> Next:
    """The customer's phone was answered: by a person (ask to confirm), a machine, or too late."""
    now = clock.now()
    req = attempt.request
    attempt.answered_at = attempt.answered_at or now
    attempt.answered_by = answered_by or attempt.answered_by
    if attempt.ended_at is not None or req.status == "canceled":
        session.commit()
        return Next("hangup", req)
    if answered_by in MACHINE_ANSWERS:
        attempt.outcome = "machine"
        session.commit()
        return Next("voicemail", req)
    if req.status == "dialing":
        req.answered(now)
    session.commit()
    return Next("confirm" if req.status == "connecting" else "hangup", req)


def _words(speech: str | None) -> set[str]:
    return {w.strip(".,!?").lower() for w in (speech or "").split()}


def is_yes(digits: str | None, speech: str | None) -> bool:
    """Whether the customer pressed 1 or said yes (or something that means it)."""
    if digits:
        return digits.strip().startswith("1")
    words = _words(speech)
    return bool(words & YES_WORDS) and not words & NO_WORDS


def is_no(digits: str | None, speech: str | None) -> bool:
    """Whether the customer clearly refused: another key than 1, or a "no" in what they said."""
    if digits:
        return not digits.strip().startswith("1")
    return bool(_words(speech) & NO_WORDS)


def on_confirm(session: Session, clock: Clock, attempt: CallAttempt, digits: str | None, speech: str | None) -> Next:
    """The customer answered the question "shall we connect you?"."""
    req = attempt.request
    if req.status != "connecting" or attempt.ended_at is not None:
        return Next("hangup", req)
    if is_yes(digits, speech):
        attempt.confirmed_at = attempt.confirmed_at or clock.now()
        session.commit()
        return Next("dial", req, attempt.agent)
    if is_no(digits, speech):
        # A clear "no": we promise not to call again, so the request ends here rather than being
        # retried, and the agent held for the call is free at once instead of after the goodbye.
        now = clock.now()
        attempt.outcome = "declined"
        req.cancel(now)
        req.outcome = "declined"
        req.agent_id = None
        _release(session, attempt.agent, attempt, now)
        session.commit()
        return Next("declined", req)
    # Words we could not make out are not a refusal: treat them as silence and try again later.
    attempt.outcome = "no_confirmation"
    session.commit()
    return Next("try_later", req)


def on_holder_connect(session: Session, clock: Clock, attempt: CallAttempt) -> Next:
    """A holding caller was taken out of the line for their agent: they are on the phone already."""
    now = clock.now()
    req = attempt.request
    if req.status == "dialing":
        req.answered(now)
        # Out of the line for good: a later hang-up must not read as "hung up on hold".
        req.hold_call_sid = None
        attempt.answered_at = attempt.answered_at or now
        attempt.confirmed_at = attempt.confirmed_at or now
        attempt.answered_by = "human"
        session.commit()
    if req.status != "connecting" or attempt.ended_at is not None:
        return Next("hangup", req)
    return Next("dial", req, attempt.agent)


def on_agent_answer(session: Session, clock: Clock, attempt: CallAttempt, agent_call_sid: str | None) -> Next:
    """The agent picked up (Twilio fetches the whisper): customer and agent are about to talk."""
    now = clock.now()
    req = attempt.request
    if req.status == "connected" and agent_call_sid and agent_call_sid == attempt.agent_call_sid:
        return Next("whisper", req, attempt.agent)  # Twilio retried the whisper: already bridged
    if req.status != "connecting" or attempt.ended_at is not None:
        # Canceled or given up meanwhile: the agent must not be put through to nobody (or to a
        # customer whose request says otherwise). Hanging up the whisper ends the agent's leg.
        session.commit()
        return Next("hangup", req, attempt.agent)
    attempt.agent_call_sid = agent_call_sid or attempt.agent_call_sid
    req.bridged(now)
    attempt.bridged_at = now
    agent = attempt.agent
    if agent is not None and agent.status == "reserved":
        agent.move_to("on_call", now)
    session.commit()
    return Next("whisper", req, attempt.agent)


def on_dial_done(
    session: Session,
    clock: Clock,
    attempt: CallAttempt,
    dial_status: str,
    duration: int | None,
    dial_call_sid: str | None = None,
    customer_status: str | None = None,
) -> Next:
    """The agent leg ended: the conversation is over, or the agent never took it."""
    now = clock.now()
    req = attempt.request
    if attempt.bridged_at is not None and dial_status in {"completed", "answered"}:
        attempt.talk_seconds = duration if duration is not None else attempt.talk_seconds
        attempt.agent_outcome = "completed"
        attempt.outcome = "completed"
        if req.status == "connected":
            req.complete(now)
        wrap_up(session, attempt.agent, attempt, now)
        session.commit()
        return Next("goodbye_thanks", req)
    if req.status not in {"connecting", "connected"}:
        session.commit()
        return Next("hangup", req)
    if dial_call_sid and dial_call_sid == attempt.agent_call_sid and attempt.bridged_at is None:
        # Twilio retried this Dial action: it was handled, answer the same without moving anyone again.
        return _replay_dial_done(attempt)
    if customer_status in FINAL_CALL_STATUSES and attempt.bridged_at is None:
        # The customer hung up while the agent rang: not the agent's fault, and nobody is left to
        # connect. The status callback (or the reaper) closes the attempt and frees the agent.
        attempt.agent_outcome = "canceled"
        session.commit()
        return Next("hangup", req)
    missed = attempt.agent
    attempt.agent_outcome = dial_status or "no-answer"
    attempt.agent_call_sid = dial_call_sid or attempt.agent_call_sid
    if attempt.bridged_at is None:
        # The agent never picked up: they are away until they say otherwise.
        if missed is not None and missed.status == "reserved":
            missed.move_to("away", now)
            log.info("agent missed a call and is now away", extra={"agent_id": missed.id, "attempt": attempt.id})
    else:
        # The agent picked up but dropped during the whisper: the customer never heard them.
        attempt.agent_outcome = "dropped"
        attempt.bridged_at = None
        if missed is not None and missed.status == "on_call":
            missed.move_to("wrap_up", now)
            missed.busy_until = now
        req.unbridged(now)
    session.flush()
    replacement = reserve_free_agent(session, req.queue_id, now)
    if replacement is not None:
        # Through the relationships, so this session's attempt.agent is the replacement too.
        attempt.agent = replacement
        req.agent = replacement
        session.commit()
        return Next("dial", req, replacement)
    # Nobody else is free. The request goes back in line, first, when this call ends (finish_attempt),
    # not now: while the customer still hears our apology, a freed agent must not dial them again.
    attempt.outcome = "agent_missed"
    session.commit()
    return Next("callback_later", req)


def _replay_dial_done(attempt: CallAttempt) -> Next:
    req = attempt.request
    if attempt.outcome == "agent_missed":
        return Next("callback_later", req)
    agent = attempt.agent
    if req.status == "connecting" and agent is not None and agent.status == "reserved":
        return Next("dial", req, agent)
    return Next("hangup", req)


def reserve_free_agent(session: Session, queue_id: int, now: datetime) -> Agent | None:
    """Atomically take the longest-idle available agent of a queue, or None."""
    candidates = session.scalars(
        select(Agent.id)
        .join(agent_queues, agent_queues.c.agent_id == Agent.id)
        .where(agent_queues.c.queue_id == queue_id, Agent.status == "available")
        .order_by(Agent.status_since, Agent.id)
        .limit(5)
    ).all()
    for agent_id in candidates:
        taken = rows_changed(
            session,
            update(Agent)
            .where(Agent.id == agent_id, Agent.status == "available")
            .values(status="reserved", status_since=now),
        )
        if taken == 1:
            agent = session.get(Agent, agent_id)
            if agent is not None:
                session.refresh(agent)
            return agent
    return None


def on_status(
    session: Session,
    clock: Clock,
    attempt: CallAttempt,
    call_status: str,
    sequence: int | None,
    duration: int | None = None,
) -> None:
    """Apply a status callback of the customer leg, once, in order."""
    if sequence is not None:
        if sequence <= attempt.last_sequence:
            return  # a retry or an out-of-order callback: already applied or superseded
        attempt.last_sequence = sequence
    now = clock.now()
    attempt.call_status = call_status
    if call_status == "ringing":
        attempt.ringing_at = attempt.ringing_at or now
    if call_status in FINAL_CALL_STATUSES:
        finish_attempt(session, clock, attempt, call_status, duration)
    session.commit()


def finish_attempt(
    session: Session, clock: Clock, attempt: CallAttempt, call_status: str, duration: int | None = None
) -> None:
    """Close an attempt for good and move its request and agent on (the caller commits)."""
    if attempt.ended_at is not None:
        return
    now = clock.now()
    attempt.ended_at = now
    attempt.call_status = call_status
    req = attempt.request
    agent = attempt.agent
    if req.status == "connected":
        req.complete(now)
        attempt.outcome = "completed"
        if attempt.talk_seconds is None and duration is not None and attempt.bridged_at is not None:
            attempt.talk_seconds = duration
        wrap_up(session, agent, attempt, now)
    elif (unanswered := agent_first_unanswered(attempt)) is not None:
        # Agent-first and the agent never rang the customer: the customer was not called, so the
        # attempt does not count; an agent who did not pick up is away.
        attempt.outcome = attempt.agent_outcome = unanswered
        req.release(now)
        if unanswered == "agent_missed" and agent is not None and agent.status == "reserved":
            agent.move_to("away", now)
        _release(session, agent, attempt, now)
    elif req.status in {"dialing", "connecting"}:
        attempt.outcome = _not_reached_outcome(attempt, call_status)
        if attempt.outcome == "agent_missed" and callable_number(req):
            # The customer was reached and wanted to talk; only the agent was missing.
            req.requeue_first(now)
        else:
            schedule_retry(req, attempt.outcome, now)
        _release(session, agent, attempt, now)
    else:
        # Canceled or declined meanwhile: only the agent needs freeing.
        attempt.outcome = attempt.outcome or ("canceled" if req.status == "canceled" else call_status)
        _release(session, agent, attempt, now)
    log.info(
        "attempt finished",
        extra={"attempt": attempt.id, "ref": req.ref, "outcome": attempt.outcome, "request_status": req.status},
    )


def agent_first_unanswered(attempt: CallAttempt) -> str | None:
    """Agent-first, ended before the agent rang the customer: "agent_missed" or "agent_declined"."""
    if not attempt.agent_first or attempt.request.status != "dialing" or attempt.confirmed_at is not None:
        return None
    return "agent_missed" if attempt.answered_at is None else "agent_declined"


def _not_reached_outcome(attempt: CallAttempt, call_status: str) -> str:
    if attempt.outcome in {"machine", "declined", "no_confirmation", "agent_missed"}:
        return attempt.outcome
    if attempt.confirmed_at is not None:
        return "customer_hung_up"
    if attempt.answered_at is not None:
        return "no_confirmation"
    return call_status if call_status != "completed" else "no_confirmation"


def callable_number(req: CallbackRequest) -> bool:
    """Whether we may dial this request's number (a withheld caller's placeholder is not one)."""
    return req.phone.startswith("+")


def schedule_retry(req: CallbackRequest, outcome: str, now: datetime) -> None:
    """After a failed attempt: try again after the queue's back-off, or give up (failed or expired)."""
    if not callable_number(req):
        req.not_reached(outcome, now, None)
        return
    queue = req.queue
    if req.attempts >= queue.max_attempts:
        req.not_reached(outcome, now, None)
        return
    next_at = now + queue.retry_delay(req.attempts)
    if next_at >= req.expires_at:
        req.outcome = outcome
        req.agent_id = None
        req.expire(now)
        return
    req.not_reached(outcome, now, next_at)


def _held_elsewhere(session: Session, agent: Agent, attempt: CallAttempt) -> bool:
    """Whether the agent already belongs to another open attempt (freed and claimed again meanwhile)."""
    other = session.scalar(
        select(CallAttempt.id)
        .where(CallAttempt.agent_id == agent.id, CallAttempt.ended_at.is_(None), CallAttempt.id != attempt.id)
        .limit(1)
    )
    return other is not None


def _release(session: Session, agent: Agent | None, attempt: CallAttempt, now: datetime) -> None:
    """Free an agent who was held for this attempt's call that did not happen (or has ended)."""
    if agent is None or agent.status not in {"reserved", "on_call"} or _held_elsewhere(session, agent, attempt):
        return
    if agent.status == "reserved":
        agent.move_to("available", now)
    else:
        agent.move_to("wrap_up", now)
        agent.busy_until = now


def wrap_up(session: Session, agent: Agent | None, attempt: CallAttempt, now: datetime) -> None:
    """After a conversation the agent wraps up for the queue's wrap-up time."""
    if agent is None or _held_elsewhere(session, agent, attempt):
        return
    if agent.status == "reserved":
        agent.move_to("on_call", now)
    if agent.status == "on_call":
        agent.move_to("wrap_up", now)
        agent.busy_until = now + timedelta(seconds=attempt.request.queue.wrap_up_seconds)
