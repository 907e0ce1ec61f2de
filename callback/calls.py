"""What happens to a callback while its call is live: answers, confirmation, screened agent legs, outcomes.

Every agent leg is screened: the agent hears who is waiting and why and must press 1 (or say
"accept") to take the call. Only an accepted leg is bridged, and only a bridge Twilio confirms
(`DialBridged=true`) completes a request. Silence, a voicemail, another key or a hang-up is a miss:
the agent goes away with the reason kept, and the customer on the line is offered the next free agent.

Every function here is driven by a Twilio webhook (or by the reaper, which asks Twilio what a lost
webhook would have said), so each one is idempotent: Twilio retries webhooks and status callbacks can
arrive late or twice, and applying one again must change nothing. The line's rules (reserving,
releasing, requeueing, bounds) belong to `callback.line`; this module decides *when* to apply them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from agents import audit
from agents.models import Agent
from callback import dnc, line
from callback.models import AgentLeg, CallAttempt, CallbackRequest
from callback.policy import BOOKING_HORIZON
from core.clock import Clock
from ivr import speech as words
from ivr.speech import yes_no

log = logging.getLogger(__name__)

# The attempt's outcome when the customer answered and asked to be called another time.
ASKED_LATER = "asked_later"
# The do-not-call list's reason, and the audit line's actor, when the customer asked on our call.
STOPPED_ON_THE_CALL = "asked on our call never to be called again"
CUSTOMER = "customer"

FINAL_CALL_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
MACHINE_ANSWERS = frozenset({"machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax"})
# How a Dial leg that was never bridged ended, in AgentLeg outcomes.
_UNANSWERED = {"no-answer": "no_answer", "busy": "busy", "failed": "failed", "canceled": "canceled"}


@dataclass(frozen=True)
class Next:
    """What the caller should hear next: an action and, for a dial, the agent and leg to ring."""

    # hangup | voicemail | confirm | confirm_again | dial | declined | try_later | callback_later |
    # no_callback | goodbye_thanks | screen | screen_again | bridge | agent_hangup | customer_gone
    action: str
    request: CallbackRequest | None = None
    agent: Agent | None = None
    leg: AgentLeg | None = None
    again: bool = False


def load_attempt(
    session: Session, attempt_id: int, call_sid: str | None, agent_leg: bool = False
) -> CallAttempt | None:
    """The attempt a webhook is about; learns the call SID if the dispatcher crashed before saving it."""
    attempt = session.get(CallAttempt, attempt_id, with_for_update=_row_lock(session))
    if attempt is None or not call_sid or agent_leg:
        return attempt
    if attempt.call_sid is None:
        attempt.call_sid = call_sid
    elif attempt.call_sid != call_sid:
        # A webhook for another call naming this attempt: not ours to act on.
        log.warning("webhook call SID does not match its attempt", extra={"attempt": attempt_id})
        return None
    return attempt


def load_leg(session: Session, attempt: CallAttempt, leg_id: int | None) -> AgentLeg | None:
    """The agent leg a webhook names, or (for URLs given before legs had ids) the attempt's latest."""
    if leg_id is not None:
        leg = session.get(AgentLeg, leg_id)
        return leg if leg is not None and leg.attempt_id == attempt.id else None
    return attempt.agent_legs[-1] if attempt.agent_legs else None


def _row_lock(session: Session) -> bool:
    # PostgreSQL: serialise concurrent webhooks of one attempt. SQLite serialises writers anyway.
    return session.get_bind().dialect.name == "postgresql"


# -- the customer's side -------------------------------------------------------------------------


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


def on_confirm(
    session: Session,
    clock: Clock,
    attempt: CallAttempt,
    digits: str | None,
    speech: str | None,
    again: bool = False,
    repeated: bool = False,
    waited: bool = False,
) -> Next:
    """The customer answered the question "shall we connect you?" (press 1 or say yes). `repeated`: who
    is calling was said again already; `waited`: they were given a moment already."""
    req = attempt.request
    if req.status != "connecting" or attempt.ended_at is not None:
        return Next("hangup", req)
    if attempt.confirmed_at is not None:
        # Twilio retried the confirmation: ring the same leg again, never a second agent.
        open_leg = next((leg for leg in reversed(attempt.agent_legs) if leg.ended_at is None), None)
        if open_leg is not None:
            return Next("dial", req, open_leg.agent, open_leg)
    said, language = (speech or "").strip(), req.language or "en"
    heard = said and not (digits or "").strip()
    now = clock.now()
    if heard and words.asks_to_stop(said, language=language):
        return _stopped(session, clock, attempt)
    if heard and not repeated and words.asks_who(said, language=language):
        return Next("confirm_repeat", req)  # "who is this?": who is calling and why, once more
    if heard and words.asks_for_later(said, language=language):
        # "Not now, call me back in an hour", "I'm driving": the call is wanted, not now. It ends as a call
        # that did not reach them (finish_attempt), promised another only if one is left, and not before
        # the time they asked for (the back-off alone would ring a driver back in two minutes).
        attempt.outcome = ASKED_LATER
        call_back_at(req, words.later_in(said, language=language), now)
        session.commit()
        return Next("later", req)
    if heard and not waited and words.asks_for_time(said, language=language):
        return Next("confirm_wait", req)  # "hold on, let me get somewhere quiet"
    answer = yes_no(digits, speech, language=language)
    if heard and answer is not True and words.asks_for_a_person(said, language=language):
        # Asked whether to talk to an agent, "I want to talk to an agent" is a yes, and "no, a person
        # please" refuses the machine, not the agent.
        answer = True
    if heard and answer is None and words.says_ready(said, language=language):
        answer = True  # "okay, I'm back"
    if heard and answer is None and words.says_settled(said, language=language):
        answer = False  # "I already sorted it out, thanks", "never mind"
    if answer is True:
        attempt.confirmed_at = attempt.confirmed_at or now
        agent = attempt.agent
        if agent is None:
            return Next("hangup", req)
        leg = line.ring_agent(session, attempt, agent, now)
        session.commit()
        return Next("dial", req, agent, leg)
    if answer is False:
        # A clear "no": we promise not to call again, so the request ends here rather than being
        # retried, and the agent held for the call is free at once instead of after the goodbye.
        attempt.outcome = "declined"
        req.cancel(now)
        req.outcome = "declined"
        req.agent_id = None
        line.release_agent(session, attempt.agent, attempt, now)
        session.commit()
        return Next("declined", req)
    if not again:
        return Next("confirm_again", req)  # "I'm not sure", "hold on", a stray key: ask once more
    # Still nothing we could make out: not a refusal; the call ends and is tried again later.
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
        if attempt.agent is not None:
            line.ring_agent(session, attempt, attempt.agent, now)
        session.commit()
    if req.status != "connecting" or attempt.ended_at is not None:
        return Next("hangup", req)
    open_leg = next((leg for leg in reversed(attempt.agent_legs) if leg.ended_at is None), None)
    if open_leg is None:
        return Next("hangup", req)
    return Next("dial", req, open_leg.agent, open_leg)


# -- the agent's side: screening -------------------------------------------------------------------


def _stopped(session: Session, clock: Clock, attempt: CallAttempt) -> Next:
    """ "Stop calling me": this request ends, the agent held for it is free, and the number goes on the
    do-not-call list, which cancels its other requests (a conversation under way is left to finish)."""
    now = clock.now()
    req = attempt.request
    attempt.outcome = "declined"
    line.release_agent(session, attempt.agent, attempt, now)
    req.agent_id = None
    audit.record(session, "dnc.add", f"dnc {req.phone}", {"reason": STOPPED_ON_THE_CALL}, actor=CUSTOMER, at=now)
    dnc.add(session, clock, req.phone, STOPPED_ON_THE_CALL)
    log.info("customer asked never to be called again", extra={"attempt": attempt.id, "request_id": req.id})
    return Next("stopped", req)


def on_screen(session: Session, clock: Clock, leg: AgentLeg, call_sid: str | None, answered_by: str | None) -> Next:
    """The agent's phone was answered (Twilio fetches the whisper): screen them, or hang up."""
    now = clock.now()
    attempt = leg.attempt
    req = attempt.request
    leg.call_sid = leg.call_sid or call_sid
    leg.answered_at = leg.answered_at or now
    leg.answered_by = answered_by or leg.answered_by
    if leg.ended_at is not None or leg.outcome is not None:
        session.commit()
        return Next("agent_hangup", req, leg.agent, leg)
    if answered_by in MACHINE_ANSWERS:
        leg.outcome = "voicemail"  # the Dial action sends the agent away and tries the next one
        session.commit()
        return Next("agent_hangup", req, leg.agent, leg)
    if req.status not in {"connecting", "connected"} or attempt.ended_at is not None:
        leg.outcome = "canceled"
        session.commit()
        return Next("customer_gone", req, leg.agent, leg)
    session.commit()
    return Next("screen", req, leg.agent, leg)


def on_screen_answer(
    session: Session,
    clock: Clock,
    leg: AgentLeg,
    digits: str | None,
    speech: str | None,
    again: bool = False,
    silent: bool = False,
) -> Next:
    """The agent answered the screen: 1 or "accept" puts the customer through; anything else is a miss."""
    now = clock.now()
    attempt = leg.attempt
    req = attempt.request
    if leg.accepted_at is not None and leg.ended_at is None:
        return Next("bridge", req, leg.agent, leg, again=True)  # Twilio retried the acceptance
    if leg.ended_at is not None or leg.outcome is not None:
        return Next("agent_hangup", req, leg.agent, leg)
    if req.status != "connecting" or attempt.ended_at is not None:
        leg.outcome = "canceled"
        session.commit()
        return Next("customer_gone", req, leg.agent, leg)
    answer = None if silent else yes_no(digits, speech, no_key="")
    if answer is None and digits:
        answer = False  # the screen offers one key: any other is a pass
    if answer is True:
        leg.accepted_at = now
        attempt.accepted_at = attempt.accepted_at or now
        attempt.agent = leg.agent
        req.agent = leg.agent
        req.bridged(now)
        agent = leg.agent
        line.take_call(agent, now)
        session.commit()
        return Next("bridge", req, agent, leg)
    if answer is False:
        leg.outcome = "declined"
        session.commit()
        return Next("agent_hangup", req, leg.agent, leg)
    if not again and not silent:
        return Next("screen_again", req, leg.agent, leg)
    leg.outcome = "no_answer"  # answered, and then nothing we could take as an acceptance
    session.commit()
    return Next("agent_hangup", req, leg.agent, leg)


def on_dial_done(
    session: Session,
    clock: Clock,
    attempt: CallAttempt,
    leg: AgentLeg | None,
    dial_status: str,
    duration: int | None,
    dial_call_sid: str | None = None,
    customer_status: str | None = None,
    dial_bridged: str | None = None,
    bounds: line.Bounds = line.DEFAULT_BOUNDS,
) -> Next:
    """The agent leg ended (Dial action): the conversation is over, or the agent never took it
    (`bounds`: MIN_SECONDS_BETWEEN_CALLS and MAX_CALLS_PER_NUMBER_PER_DAY, by default their defaults)."""
    step = _on_dial_done(
        session, clock, attempt, leg, dial_status, duration, dial_call_sid, customer_status, dial_bridged, bounds
    )
    if attempt.ended_at is None and attempt.call_status in FINAL_CALL_STATUSES:
        # The customer's call ended first and its status callback waited for this: close it now.
        finish_attempt(session, clock, attempt, attempt.call_status, bounds=bounds)
        session.commit()
    return step


def _on_dial_done(
    session: Session,
    clock: Clock,
    attempt: CallAttempt,
    leg: AgentLeg | None,
    dial_status: str,
    duration: int | None,
    dial_call_sid: str | None,
    customer_status: str | None,
    dial_bridged: str | None,
    bounds: line.Bounds,
) -> Next:
    now = clock.now()
    req = attempt.request
    if leg is None:
        return Next("hangup", req)
    if leg.ended_at is not None:
        return _replay_dial_done(session, attempt, leg, now, bounds)  # Twilio retried this Dial action
    leg.ended_at = now
    leg.call_sid = leg.call_sid or dial_call_sid
    bridged = bridge_reported(dial_status, dial_bridged, leg.accepted_at is not None)
    talked = talk_after_screen(duration, leg.answered_at, leg.accepted_at) if bridged else None
    if bridged and leg.accepted_at is not None and _dropped_at_once(talked, customer_status):
        # Pressed 1, then gone at once (a pocket press, a mobile lost as it was bridged): the customer,
        # still on the line, heard "Connecting you now" and then nobody. That is no conversation: the
        # agent missed it, and the customer is put through to another agent or kept at the front of the line.
        log.info("agent hung up as soon as bridged", extra={"attempt": attempt.id, "leg": leg.id, "talk": talked})
        leg.outcome, leg.talk_seconds = "dropped", talked
        bridged = False
    elif bridged and leg.accepted_at is not None:
        leg.outcome = "accepted"
        leg.bridged_at = leg.accepted_at
        leg.talk_seconds = talked
        attempt.bridged_at = attempt.bridged_at or leg.accepted_at
        attempt.agent_call_sid = leg.call_sid
        attempt.talk_seconds = talked if talked is not None else attempt.talk_seconds
        attempt.outcome = attempt.agent_outcome = "completed"
        if req.status == "connected":
            req.complete(now)
        line.wrap_up(session, leg.agent, attempt, now)
        session.commit()
        return Next("goodbye_thanks", req)
    if bridged:
        log.error("Twilio bridged an agent leg nobody accepted", extra={"attempt": attempt.id, "leg": leg.id})
    customer_left = customer_status in FINAL_CALL_STATUSES
    # The customer hung up while the agent rang or heard the screen: Twilio ended the agent's leg for
    # them, and the leg is the customer's leaving, not the agent's miss (what the agent did before it,
    # a decline or their voicemail, stays theirs).
    leg.outcome = leg.outcome or ("canceled" if customer_left else _unbridged_outcome(dial_status))
    attempt.agent_outcome = leg.outcome
    if req.status == "connected":
        req.unbridged(now)  # accepted, but the bridge never happened: nobody has talked yet
    if leg.outcome == "canceled" or customer_left or req.status != "connecting":
        # The customer left (or the request ended) while the agent rang: not the agent's fault, and
        # nobody is left to connect. The status callback (or the reaper) closes the attempt.
        line.release_agent(session, leg.agent, attempt, now)
        session.commit()
        return Next("hangup", req)
    line.agent_missed(session, leg, req.queue, now)
    session.flush()
    replacement = line.next_agent(session, attempt, now)
    if replacement is not None:
        new_leg = line.ring_agent(session, attempt, replacement, now)
        session.commit()
        return Next("dial", req, replacement, new_leg, again=True)
    # Nobody else is free. The request goes back in line, first, when this call ends (finish_attempt),
    # not now: while the customer still hears our apology, a freed agent must not dial them again.
    attempt.outcome = "agent_missed"
    session.commit()
    return Next("callback_later" if line.call_left(session, req, now, bounds) else "no_callback", req)


# A bridge shorter than this, ended by the agent while the customer stays on the line, was no conversation.
SHORTEST_CONVERSATION_SECONDS = 5


def _dropped_at_once(talked: int | None, customer_status: str | None) -> bool:
    """Whether an accepted leg's bridge ended too soon to have been a conversation, on the agent's side:
    the customer is still on the line (their call goes on after the Dial) and they talked for less than
    SHORTEST_CONVERSATION_SECONDS. A customer who hangs up at once chose to."""
    on_the_line = customer_status is not None and customer_status not in FINAL_CALL_STATUSES
    return on_the_line and talked is not None and talked < SHORTEST_CONVERSATION_SECONDS


def bridge_reported(dial_status: str, dial_bridged: str | None, put_through: bool) -> bool:
    """Whether a Dial action says its leg was bridged (customer and agent talked): `DialBridged` when
    Twilio sends it; without it, only a leg that was put through (customer-first, the agent accepted;
    agent-first, the customer was greeted) and answered can have been. Nothing else is a connection:
    the wait to connect, the figures' connected requests and a completion are all counted from it."""
    if dial_bridged in {"true", "false"}:
        return dial_bridged == "true"
    return put_through and dial_status in {"completed", "answered"}


def _unbridged_outcome(dial_status: str) -> str:
    """Why an agent leg that was never bridged ended."""
    if dial_status in _UNANSWERED:
        return _UNANSWERED[dial_status]
    # Answered (completed): hung up during the screen, right after accepting, or at once on picking up
    # (before the machine detection that comes ahead of the screen was done, so no screen was fetched):
    # the agent's phone was answered, and the agent hung up before taking the call.
    return "dropped"


def _replay_dial_done(
    session: Session, attempt: CallAttempt, leg: AgentLeg, now: datetime, bounds: line.Bounds
) -> Next:
    req = attempt.request
    if leg.outcome == "accepted":
        return Next("goodbye_thanks", req)
    newer = next((later for later in attempt.agent_legs if later.id > leg.id and later.ended_at is None), None)
    if newer is not None:
        return Next("dial", req, newer.agent, newer, again=True)
    if attempt.outcome == "agent_missed":
        return Next("callback_later" if line.call_left(session, req, now, bounds) else "no_callback", req)
    return Next("hangup", req)


# -- the customer's call ends ---------------------------------------------------------------------


def on_status(
    session: Session,
    clock: Clock,
    attempt: CallAttempt,
    call_status: str,
    sequence: int | None,
    duration: int | None = None,
    bounds: line.Bounds = line.DEFAULT_BOUNDS,
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
        finish_attempt(session, clock, attempt, call_status, duration, wait_for_bridge=True, bounds=bounds)
    session.commit()


def finish_attempt(
    session: Session,
    clock: Clock,
    attempt: CallAttempt,
    call_status: str,
    duration: int | None = None,
    wait_for_bridge: bool = False,
    bounds: line.Bounds = line.DEFAULT_BOUNDS,
) -> None:
    """Close an attempt for good and move its request and agent on (the caller commits).

    With `wait_for_bridge` (a status callback), an attempt whose agent accepted but whose bridge
    Twilio has not confirmed yet stays open: the customer may have hung up in the second between the
    acceptance and the bridge, and only the Dial action (DialBridged) can tell. It closes the attempt
    when it comes (or the reaper does, later, if it never does).
    """
    if attempt.ended_at is not None:
        return
    if wait_for_bridge and attempt.request.status == "connected" and not _bridge_confirmed(attempt):
        attempt.call_status = call_status
        return
    now = clock.now()
    attempt.ended_at = now
    attempt.call_status = call_status
    req = attempt.request
    agent = attempt.agent
    _close_legs(attempt, req, now, call_status)
    if req.status == "connected":
        # Connected means the customer was put through (an agent accepted; agent-first, the customer was
        # greeted): the conversation happened (its Dial action was lost), and began then, as a confirmed
        # bridge records it (the figures and the wait to connect count from it).
        req.complete(now)
        attempt.outcome = "completed"
        attempt.bridged_at = attempt.bridged_at or attempt.put_through_at
        if attempt.talk_seconds is None and attempt.bridged_at is not None:
            # The call's own duration runs from the customer's answer (the question, the ring, the screen):
            # the conversation is what followed the put-through, until the call's end (the answer plus
            # that duration; now, for a status callback that came without one).
            ended = now
            if duration is not None and attempt.answered_at is not None:
                ended = min(now, attempt.answered_at + timedelta(seconds=duration))
            attempt.talk_seconds = max(0, round((ended - attempt.bridged_at).total_seconds()))
        line.wrap_up(session, agent, attempt, now)
    elif (unanswered := agent_first_unanswered(attempt)) is not None:
        # Agent-first and the agent never rang the customer: the customer was not called, so the
        # attempt does not count; an agent who missed the call is away.
        # The agent's own side, as its webhooks recorded it (voicemail, no input, declined), is kept.
        attempt.outcome = unanswered
        attempt.agent_outcome = attempt.agent_outcome or unanswered
        req.release(now)
        leg = attempt.agent_legs[-1] if attempt.agent_legs else None
        if leg is not None and leg.outcome not in {None, "accepted", "canceled"}:
            line.agent_missed(session, leg, req.queue, now)
        line.release_agent(session, agent, attempt, now)
    elif agent_first_dropped(attempt):
        # Agent-first: the agent accepted and their call ended while the customer's phone was ringing
        # (a change of mind, a dropped mobile). Their call carried the customer's, so the agent is the
        # one who missed it: away, as after any miss, and the customer, rung only to be cut off, keeps
        # the front of the line rather than losing one of their calls.
        attempt.outcome = attempt.agent_outcome = "agent_missed"
        line.requeue_first(session, req, agent_first_miss(attempt), now, bounds)
        leg = attempt.agent_legs[-1] if attempt.agent_legs else None
        if leg is not None:
            line.agent_missed(session, leg, req.queue, now)
        line.release_agent(session, agent, attempt, now)
    elif req.status in {"dialing", "connecting"}:
        attempt.outcome = _not_reached_outcome(attempt, call_status)
        if attempt.outcome == "agent_missed":
            # The customer was reached and wanted to talk; only the agent was missing.
            line.requeue_first(session, req, "agent_missed", now, bounds)
        elif attempt.dialled_at is None and attempt.outcome == "customer_hung_up":
            # A caller from the phone menu who hung up before an agent answered: they left the line
            # (a request of theirs from before the call stays in it).
            line.caller_hung_up(session, req, attempt.call_sid, "caller_hung_up", now)
        else:
            line.schedule_retry(session, req, attempt.outcome, now, bounds)
        line.release_agent(session, agent, attempt, now)
    else:
        # Canceled or declined meanwhile: only the agent needs freeing. Or, agent-first, the conversation
        # ended before the agent's own call did (the customer hung up first): their wrap-up begins now.
        attempt.outcome = attempt.outcome or ("canceled" if req.status == "canceled" else call_status)
        if attempt.outcome == "completed":
            line.wrap_up(session, agent, attempt, now)
        else:
            line.release_agent(session, agent, attempt, now)
    log.info(
        "attempt finished",
        extra={"attempt": attempt.id, "request_id": req.id, "outcome": attempt.outcome, "request_status": req.status},
    )


def talk_after_screen(duration: int | None, answered_at: datetime | None, accepted_at: datetime | None) -> int | None:
    """How long customer and agent talked, from Twilio's DialCallDuration of the agent's leg.

    That duration runs from the agent's answer, so it includes the screen (the whisper of who is calling
    and "press 1"), which the customer spends waiting, not talking: the seconds from the answer to the
    acceptance are taken off, or the talk and handle times (and the waits quoted from them) run high."""
    if duration is None:
        return None
    if answered_at is None or accepted_at is None:
        return duration
    screen = max(0, round((accepted_at - answered_at).total_seconds()))
    return max(0, duration - screen)


def _bridge_confirmed(attempt: CallAttempt) -> bool:
    """Whether Twilio has said the customer and the agent were bridged: only the Dial action does (a
    leg's bridged_at is written from it), never the acceptance or the greeting that come before."""
    return any(leg.bridged_at is not None for leg in attempt.agent_legs)


def _close_legs(attempt: CallAttempt, req: CallbackRequest, now: object, call_status: str) -> None:
    """Agent legs still open when the customer's call ends end with it."""
    for leg in attempt.agent_legs:
        if leg.ended_at is not None:
            continue
        leg.ended_at = now  # type: ignore[assignment]
        if leg.accepted_at is not None and req.status == "connected":
            leg.outcome = leg.outcome or "accepted"
            leg.bridged_at = leg.bridged_at or leg.put_through_at
        elif attempt.agent_first:
            # The agent's own call: completed means their phone was answered, however soon it hung up
            # (before the machine detection that precedes the screen was done, answered_at is unset).
            answered = leg.answered_at is not None or call_status == "completed"
            leg.outcome = leg.outcome or _UNANSWERED.get(call_status, "dropped" if answered else "no_answer")
        else:
            leg.outcome = leg.outcome or "canceled"


def agent_first_unanswered(attempt: CallAttempt) -> str | None:
    """Agent-first, ended before the agent rang the customer: "agent_declined" when they pressed another
    key, else "agent_missed" (no answer, their voicemail, or silence at the offer)."""
    if not attempt.agent_first or attempt.request.status != "dialing" or attempt.confirmed_at is not None:
        return None
    return "agent_declined" if attempt.agent_outcome == "declined" else "agent_missed"


# The request's outcome when an agent-first agent's call dropped while the customer's phone still rang:
# the customer never answered, so they must not be told "you answered" (the attempt's own outcome stays
# agent_missed, the agent's miss, for the figures).
AGENT_DROPPED = "agent_dropped"


def agent_first_miss(attempt: CallAttempt) -> str:
    """What an agent-first customer whose agent left before the bridge is told: they had answered and
    been greeted (agent_missed), or their phone was still ringing (AGENT_DROPPED). The attempt's
    answered_at is the agent's answer there, not theirs."""
    return "agent_missed" if attempt.greeted_at is not None else AGENT_DROPPED


def agent_first_dropped(attempt: CallAttempt) -> bool:
    """Agent-first, the agent's call over after they accepted, while the customer's leg still rang: no
    Dial action said the customer was not reached (that would have moved the request on already) and
    no machine answered. The agent's call ending ends the customer's leg with it."""
    return (
        attempt.agent_first
        and attempt.request.status == "dialing"
        and attempt.confirmed_at is not None
        and attempt.outcome != "machine"
    )


# When someone who asked us to call later named no time ("not now", "I'm driving"): not sooner than this.
ASKED_LATER_AT_LEAST = timedelta(minutes=30)


def call_back_at(req: CallbackRequest, asked: int | str | None, now: datetime) -> datetime:
    """Hold the request's next call until the time its customer asked for on our call (speech.later_in:
    minutes from now, "tomorrow", or None for no time named), within the booking horizon; its expiry
    moves with it, as a booking's does. Returns that time."""
    hours = req.queue.business_hours
    if asked == "tomorrow":
        local = now.astimezone(hours.zone)
        midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), hours.zone)
        at = hours.next_open(midnight) or midnight  # its opening, or midnight when it opens all night
    else:
        wanted = now + (timedelta(minutes=asked) if isinstance(asked, int) else ASKED_LATER_AT_LEAST)
        # On a five-minute mark, as the time is said to them ("at 11:25"), and never before the time asked.
        at = wanted.replace(second=0, microsecond=0) + timedelta(minutes=-wanted.minute % 5)
        at += timedelta(minutes=5) if at < wanted else timedelta(0)
    at = min(at.astimezone(now.tzinfo), now + BOOKING_HORIZON)
    req.not_before = at
    req.expires_at = max(req.expires_at, req.queue.expiry(at))
    return at


def _not_reached_outcome(attempt: CallAttempt, call_status: str) -> str:
    if attempt.outcome in {"machine", "declined", "no_confirmation", "agent_missed", ASKED_LATER}:
        return attempt.outcome
    if attempt.confirmed_at is not None:
        return "customer_hung_up"
    if attempt.answered_at is not None:
        return "no_confirmation"
    return call_status if call_status != "completed" else "no_confirmation"
