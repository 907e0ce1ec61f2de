"""The callback line, and its one owner: who is reserved for whom, who waits, and how often we call.

Everything that moves a request or an agent along the line is here: the dispatcher's claim, an agent
reserved for a transfer, released after a call that did not happen, sent to wrap-up after one that did,
or set away after a missed call; a request put back in line, scheduled for a retry, failed, or held.
The dispatcher, the reaper, the call webhooks and the phone menu call these functions and write none
of these rules themselves.

The bounds a customer can trust are enforced in `claim`, the one place a call to a customer is decided,
under the claim's locks: no request is dialled more than its queue's `max_attempts` times, no number is
called twice within `MIN_SECONDS_BETWEEN_CALLS`, and no number more than `MAX_CALLS_PER_NUMBER_PER_DAY`
times a day. They count calls placed (`CallAttempt.dialled_at`), whoever's fault the failure was.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import and_, exists, func, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from agents import audit
from agents.models import MISSED_A_CALL, NUMBER_REFUSED, Agent, Queue, agent_queues, log_status
from agents.service import after_call
from callback.models import ACTIVE, PHONE_CALLER, WAITING, AgentLeg, CallAttempt, CallbackRequest, ProviderPause
from callback.policy import may_call_again, retry_at
from core.db import rows_changed
from ivr.models import IvrSession

log = logging.getLogger(__name__)

DAY = timedelta(days=1)
# Why a request failed when its number had had MAX_CALLS_PER_NUMBER_PER_DAY calls.
DAILY_CALL_LIMIT = "daily_call_limit"
# A customer reached but whose agent was lost keeps the front of the line; at most this many agents
# are rung on one call (the first and two more) before the customer is promised a call back.
MAX_AGENTS_PER_CALL = 3
# A customer reached whose agent was lost is promised the next free agent: their request lives at least
# this much opening time longer, whatever its expiry was.
PROMISED_CALL_LIFE = timedelta(hours=2)
# Words for an agent's screen and the logs: why an agent was set away.
MISSED_WORDS = {
    "no_answer": "did not answer",
    "declined": "declined it",
    "dropped": "hung up before taking it",
    "voicemail": "voicemail answered",
    "busy": "line was busy",
    "failed": "could not be reached",
}


@dataclass(frozen=True)
class Bounds:
    """How often one number may be called, whatever the number of its requests."""

    min_seconds_between_calls: int = 120
    max_calls_per_number_per_day: int = 6

    @property
    def min_gap(self) -> timedelta:
        """The least time between the end of one call to a number and the next."""
        return timedelta(seconds=self.min_seconds_between_calls)

    @classmethod
    def from_settings(cls, settings: Any) -> Bounds:
        """MIN_SECONDS_BETWEEN_CALLS and MAX_CALLS_PER_NUMBER_PER_DAY."""
        return cls(settings.min_seconds_between_calls, settings.max_calls_per_number_per_day)


# MIN_SECONDS_BETWEEN_CALLS and MAX_CALLS_PER_NUMBER_PER_DAY at their defaults, for callers without settings
# (tests); the webhooks, the dispatcher and the reaper pass the configured ones.
DEFAULT_BOUNDS = Bounds()


@dataclass(frozen=True)
class Claim:
    """A request and an agent, reserved for each other, with the attempt that records the call."""

    attempt_id: int
    request_id: int
    agent_id: int
    # When the request was due to be called, as it stood when claimed (the dispatch-latency metric).
    due_at: datetime


@dataclass(frozen=True)
class Verdict:
    """Whether a request's customer may be called now: yes, not before `until`, or never (`fail`)."""

    ok: bool
    until: datetime | None = None
    fail: str | None = None


# -- counting -------------------------------------------------------------------------------------


def calls_placed(session: Session, request_id: int) -> int:
    """Calls placed to the customer for one request (a transfer or a holder put through is none)."""
    count = session.scalar(
        select(func.count()).where(CallAttempt.request_id == request_id, CallAttempt.dialled_at.is_not(None))
    )
    return int(count or 0)


def may_call(
    session: Session,
    req: CallbackRequest,
    now: datetime,
    bounds: Bounds,
    attempt_id: int | None = None,
    placed: int | None = None,
) -> Verdict:
    """The bounds a customer can trust, for one more call to this request's number now (`attempt_id`:
    the attempt about to place it, already open, as in agent-first once the agent accepts; `placed`:
    the request's calls_placed, when the caller has just counted them)."""
    if (calls_placed(session, req.id) if placed is None else placed) >= req.queue.max_attempts:
        return Verdict(False, fail="max_attempts")
    day_ago, gap = now - DAY, bounds.min_gap
    calls = _calls_of_number(session, req.phone, placed_since=day_ago, ended_since=now - gap)
    placed_today = [call for call in calls if call.dialled is not None and call.dialled >= day_ago]
    if len(placed_today) >= bounds.max_calls_per_number_per_day:
        return Verdict(False, fail=DAILY_CALL_LIMIT)
    if _on_the_line(session, req.phone, now, attempt_id):
        return Verdict(False, until=now + gap)  # they are talking to us (in the menu, holding) right now
    # Measured from the end of the last call, ours or theirs (a call still going on blocks the number
    # outright): stricter than between starts, and what a person means by "they just called me". A
    # phone-menu call put through to an agent counts for the gap, though not toward any count.
    ended = [call.ended for call in placed_today] + [
        call.ended for call in calls if call.with_customer and call.ended is not None and call.ended >= now - gap
    ]
    latest = max(((end or now) + gap for end in ended), default=None)
    if latest is not None and latest > now:
        return Verdict(False, until=latest)
    return Verdict(True)


# Attempts in which the customer's phone was (or is about to be) in a call with us: calls we placed,
# and phone-menu callers put through; not a claim the provider refused, nor an agent-first call that
# never got past the agent.
_WITH_CUSTOMER = or_(
    CallAttempt.dialled_at.is_not(None),
    and_(CallAttempt.answered_at.is_not(None), CallAttempt.agent_first.is_(False)),
)


# A phone-menu call whose status callback never came is not taken as live for ever: a caller still in
# the menu answers a prompt every minute or so.
MENU_CALL_LIVE = timedelta(minutes=20)


def _on_the_line(session: Session, phone: str, now: datetime, attempt_id: int | None) -> bool:
    """Whether the number is in our phone menu, holding in one of our queues, or in a call of an attempt
    still open: a call placed to it now would meet call waiting or a busy line, and use up an attempt."""
    in_menu = select(IvrSession.id).where(
        IvrSession.caller == phone, IvrSession.ended_at.is_(None), IvrSession.updated_at >= now - MENU_CALL_LIVE
    )
    holding = select(CallbackRequest.id).where(
        CallbackRequest.phone == phone, CallbackRequest.hold_call_sid.is_not(None), CallbackRequest.status.in_(WAITING)
    )
    live = (
        select(CallAttempt.id)
        .join(CallbackRequest, CallbackRequest.id == CallAttempt.request_id)
        .where(
            CallbackRequest.phone == phone,
            CallAttempt.ended_at.is_(None),
            CallAttempt.id != (attempt_id or 0),
            _WITH_CUSTOMER,
        )
    )
    return bool(session.scalar(select(or_(in_menu.exists(), holding.exists(), live.exists()))))


class _NumberCall(NamedTuple):
    dialled: datetime | None
    ended: datetime | None
    with_customer: bool


def _calls_of_number(session: Session, phone: str, placed_since: datetime, ended_since: datetime) -> list[_NumberCall]:
    """The number's calls, over all its requests, placed since `placed_since` or ended with the
    customer since `ended_since`: one query for both of may_call's questions."""
    rows = session.execute(
        select(CallAttempt.dialled_at, CallAttempt.ended_at, _WITH_CUSTOMER)
        .join(CallbackRequest, CallbackRequest.id == CallAttempt.request_id)
        .where(
            CallbackRequest.phone == phone,
            or_(CallAttempt.dialled_at >= placed_since, and_(CallAttempt.ended_at >= ended_since, _WITH_CUSTOMER)),
        )
    ).all()
    return [_NumberCall(row[0], row[1], bool(row[2])) for row in rows]


def _lock_number(session: Session, phone: str) -> None:
    """Serialise claims for one number across processes (PostgreSQL; SQLite has one writer)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:phone))"), {"phone": phone})


# -- claiming ---------------------------------------------------------------------------------------


def claim(session: Session, agent_id: int, request_id: int, now: datetime, bounds: Bounds) -> Claim | None:
    """Reserve a free agent and a waiting request for each other, within the bounds, or nothing.

    Each reservation is a conditional UPDATE only one process can win. The bounds are read after
    those writes (SQLite: under the one write lock; PostgreSQL: under a per-number advisory lock), so
    two dispatchers claiming two requests of one number cannot both pass them. A request that may
    not be called now is put off (or failed) and the agent stays free.
    """
    got_agent = rows_changed(
        session,
        update(Agent)
        .where(Agent.id == agent_id, Agent.status == "available")
        .values(status="reserved", status_since=now, status_reason=None),
    )
    if got_agent:
        log_status(session, [agent_id], "reserved", now)
    got_request = got_agent and rows_changed(
        session,
        update(CallbackRequest)
        .where(CallbackRequest.id == request_id, CallbackRequest.status.in_(WAITING))
        .values(status="dialing", agent_id=agent_id, updated_at=now),
    )
    if not (got_agent and got_request):
        session.rollback()  # another dispatcher won one of the two
        return None
    # Read afresh (the session may hold an older copy), with its queue, in one query.
    req = session.get(CallbackRequest, request_id, populate_existing=True, options=[joinedload(CallbackRequest.queue)])
    assert req is not None
    due_at = req.due_at
    agent_first = req.queue.dial_strategy == "agent_first" and not req.hold_call_sid
    # A holder is on the line already: taking them out of the queue places no call.
    dials_customer = not req.hold_call_sid
    # Counted once the request is ours: no other dispatcher can place one of its calls meanwhile.
    placed = calls_placed(session, request_id)
    if dials_customer:
        _lock_number(session, req.phone)
        verdict = may_call(session, req, now, bounds, placed=placed)
        if not verdict.ok:
            session.rollback()
            _put_off(session, request_id, verdict, now)
            return None
    attempt = CallAttempt(
        request_id=request_id,
        agent_id=agent_id,
        created_at=now,
        agent_first=agent_first,
        # Agent-first rings the customer only once the agent accepts (see `dial_customer_now`).
        dialled_at=now if dials_customer and not agent_first else None,
    )
    session.add(attempt)
    if agent_first:
        # The call we are about to place rings the agent: that is this attempt's first agent leg.
        session.add(AgentLeg(attempt=attempt, agent_id=agent_id, rung_at=now))
    session.flush()
    req.attempts = placed + (1 if attempt.dialled_at is not None else 0)
    session.commit()
    log.info("claimed", extra={"attempt": attempt.id, "request_id": request_id, "agent_id": agent_id})
    return Claim(attempt.id, request_id, agent_id, due_at)


def _put_off(session: Session, request_id: int, verdict: Verdict, now: datetime) -> None:
    """A request the bounds stop: wait until the number may be called again, or fail for good."""
    req = session.get(CallbackRequest, request_id)
    if req is None or req.status not in WAITING:
        session.rollback()
        return
    if verdict.fail:
        req.fail(verdict.fail, now)
        log.warning("request stopped by a call bound", extra={"request_id": request_id, "bound": verdict.fail})
    else:
        assert verdict.until is not None
        if verdict.until >= req.expires_at:
            req.outcome = req.outcome or "expired"
            req.expire(now)
        else:
            req.next_attempt_at = verdict.until
    session.commit()


def dial_customer_now(session: Session, attempt: CallAttempt, now: datetime, bounds: Bounds) -> Verdict:
    """Agent-first: the agent accepted; may we ring the customer now? Counts the call if so."""
    req = attempt.request
    if attempt.dialled_at is not None:
        return Verdict(True)  # Twilio retried the webhook: the call is placed already
    _lock_number(session, req.phone)
    verdict = may_call(session, req, now, bounds, attempt.id)
    if verdict.ok:
        attempt.dialled_at = now
        session.flush()
        req.attempts = calls_placed(session, req.id)
    return verdict


def unplaced(session: Session, attempt: CallAttempt, now: datetime, outcome: str = "not_placed") -> None:
    """The provider proved no call was made for this attempt: close it, uncounted, and put the
    request back in line and the agent back to work (the caller commits)."""
    attempt.ended_at = attempt.ended_at or now
    attempt.outcome = outcome
    attempt.dialled_at = None
    for leg in attempt.agent_legs:
        if leg.ended_at is None:
            leg.ended_at, leg.outcome = now, leg.outcome or "canceled"
    req = attempt.request
    session.flush()
    req.attempts = calls_placed(session, req.id)
    if req.status == "dialing":
        req.release(now)
    release_agent(session, attempt.agent, attempt, now)


# -- agents -------------------------------------------------------------------------------------


def reserve_free_agent(session: Session, queue_id: int, now: datetime, exclude: tuple[int, ...] = ()) -> Agent | None:
    """Atomically take the longest-idle available agent of a queue, or None."""
    query = (
        select(Agent.id)
        .join(agent_queues, agent_queues.c.agent_id == Agent.id)
        .where(agent_queues.c.queue_id == queue_id, Agent.status == "available")
        .order_by(Agent.status_since, Agent.id)
        .limit(5)
    )
    if exclude:
        query = query.where(Agent.id.not_in(exclude))
    for agent_id in session.scalars(query).all():
        taken = rows_changed(
            session,
            update(Agent)
            .where(Agent.id == agent_id, Agent.status == "available")
            .values(status="reserved", status_since=now, status_reason=None),
        )
        if taken == 1:
            log_status(session, [agent_id], "reserved", now)
            agent = session.get(Agent, agent_id)
            if agent is not None:
                session.refresh(agent)
            return agent
    return None


def _held_elsewhere(session: Session, agent: Agent, attempt: CallAttempt) -> bool:
    """Whether the agent already belongs to another open attempt (freed and claimed again meanwhile)."""
    other = session.scalar(
        select(CallAttempt.id)
        .where(CallAttempt.agent_id == agent.id, CallAttempt.ended_at.is_(None), CallAttempt.id != attempt.id)
        .limit(1)
    )
    return other is not None


def release_agent(session: Session, agent: Agent | None, attempt: CallAttempt, now: datetime) -> None:
    """Free an agent held for this attempt's call that did not happen (or has ended)."""
    if agent is None or agent.status not in {"reserved", "on_call"} or _held_elsewhere(session, agent, attempt):
        return
    if agent.status == "reserved":
        agent.move_to("available", now)
    else:
        agent.move_to("wrap_up", now)
        agent.busy_until = now
    after_call(session, agent, now)  # one who signed out meanwhile goes offline, not back to work


def wrap_up(session: Session, agent: Agent | None, attempt: CallAttempt, now: datetime) -> None:
    """After a conversation the agent wraps up for the queue's wrap-up time."""
    if agent is None or _held_elsewhere(session, agent, attempt):
        return
    if agent.status == "reserved":
        agent.move_to("on_call", now)
    if agent.status == "on_call":
        agent.move_to("wrap_up", now)
        agent.busy_until = now + timedelta(seconds=attempt.request.queue.wrap_up_seconds)
    after_call(session, agent, now)


def agent_missed(session: Session, leg: AgentLeg, queue: Queue, now: datetime) -> None:
    """An agent rung for a call did not take it: away, with the reason kept, until made available."""
    agent = leg.agent
    if agent is None or agent.status not in {"reserved", "on_call"}:
        return
    if _held_elsewhere(session, agent, leg.attempt):
        return
    words = MISSED_WORDS.get(leg.outcome or "", "missed it")
    reason = f"{MISSED_A_CALL} from the {queue.display_name.lower()} line ({words})"
    was = agent.status
    if agent.status == "on_call":
        agent.move_to("wrap_up", now)
    agent.move_to("away", now, reason=reason)
    agent.busy_until = None
    if after_call(session, agent, now):
        return  # they had signed out during the ring: offline, not away waiting to be made available
    _audit_away(session, agent, was, reason, now)
    log.info("agent missed a call and is now away", extra={"agent_id": agent.id, "leg": leg.id, "why": leg.outcome})


def _audit_away(session: Session, agent: Agent, was: str, reason: str, now: datetime) -> None:
    """A status change like any other: the system made it, and the audit log says so and why."""
    audit.record(session, "agent.status", f"agent {agent.id}", {"from": was, "to": "away", "reason": reason}, at=now)


def agent_unreachable(session: Session, agent: Agent | None, why: str, now: datetime) -> None:
    """The provider refused to dial an agent's own number: away until someone fixes it, so the line
    does not hand them (and fail) one customer after another."""
    if agent is None:
        return
    reason = f"{NUMBER_REFUSED} by the phone service ({why[:80]})"
    was = agent.status
    if agent.status in {"available", "reserved"}:
        agent.move_to("away", now, reason=reason)
        audit.record(
            session, "agent.status", f"agent {agent.id}", {"from": was, "to": "away", "reason": reason}, at=now
        )
        log.warning("agent's number refused; agent set away", extra={"agent_id": agent.id})


def take_call(agent: Agent | None, now: datetime) -> None:
    """An agent accepted a call (the screen, or agent-first's offer): on the call from now."""
    if agent is not None and agent.status == "reserved":
        agent.move_to("on_call", now)


def end_wrap_up(agent: Agent, now: datetime) -> bool:
    """The agent is ready before their wrap-up time is over: available now. False if not wrapping up."""
    if agent.status != "wrap_up":
        return False
    agent.move_to("available", now)
    agent.busy_until = None
    return True


def end_wrap_ups_and_expire(session: Session, now: datetime) -> None:
    """Agents whose wrap-up is over become available (or what they asked to be meanwhile); waiting
    requests past their expiry expire, except a caller's while they hold on the line."""
    _grant_wishes(session, Agent.status == "wrap_up", Agent.busy_until <= now, now=now)
    ready = session.scalars(
        update(Agent)
        .where(Agent.status == "wrap_up", Agent.busy_until <= now)
        .values(status="available", status_since=now, busy_until=None, status_reason=None)
        .returning(Agent.id)
    ).all()
    log_status(session, list(ready), "available", now)
    session.execute(
        update(CallbackRequest)
        .where(CallbackRequest.status.in_(WAITING), CallbackRequest.past_expiry(now))
        .values(status="expired", outcome="expired", updated_at=now)
    )


def release_stranded_agents(session: Session, now: datetime, held_since: datetime) -> int:
    """Agents held (reserved or on a call) since before `held_since` with no open attempt, left
    behind by a crash: back to work (a reserved one) or to wrap-up (one whose call ended unheard)."""
    open_attempt = exists().where(CallAttempt.agent_id == Agent.id, CallAttempt.ended_at.is_(None))
    released = session.scalars(
        update(Agent)
        .where(Agent.status == "reserved", Agent.status_since <= held_since, ~open_attempt)
        .values(status="available", status_since=now, status_reason=None)
        .returning(Agent.id)
    ).all()
    log_status(session, list(released), "available", now)
    wrapped = session.scalars(
        update(Agent)
        .where(Agent.status == "on_call", Agent.status_since <= held_since, ~open_attempt)
        .values(status="wrap_up", status_since=now, busy_until=now, status_reason=None)
        .returning(Agent.id)
    ).all()
    log_status(session, list(wrapped), "wrap_up", now)
    _grant_wishes(session, Agent.id.in_(list(released)), now=now)
    return len(released) + len(wrapped)


def _grant_wishes(session: Session, *where: Any, now: datetime) -> None:
    """What agents the line lets go in bulk asked to be during their call (a break, signing out): the
    few with a wish are moved one by one (agents.service.after_call), before or after the bulk update."""
    for agent in session.scalars(select(Agent).where(Agent.after_call_status.is_not(None), *where)):
        after_call(session, agent, now)
    session.flush()


def ring_agent(session: Session, attempt: CallAttempt, agent: Agent, now: datetime) -> AgentLeg:
    """Record that an agent's phone is about to ring for this attempt (the caller commits)."""
    leg = AgentLeg(attempt=attempt, agent=agent, rung_at=now)
    session.add(leg)
    attempt.agent = agent
    attempt.request.agent = agent
    session.flush()
    return leg


def next_agent(session: Session, attempt: CallAttempt, now: datetime) -> Agent | None:
    """Another free agent of the queue for a customer still on the line, within the per-call limit."""
    if len(attempt.agent_legs) >= MAX_AGENTS_PER_CALL:
        return None
    rung = tuple(leg.agent_id for leg in attempt.agent_legs if leg.agent_id is not None)
    return reserve_free_agent(session, attempt.request.queue_id, now, exclude=rung)


# -- requests -----------------------------------------------------------------------------------


def daily_room(session: Session, phone: str, at: datetime, bounds: Bounds) -> bool:
    """Whether one more call to the number at `at` keeps it within MAX_CALLS_PER_NUMBER_PER_DAY, over all
    its requests, counting the calls placed to it by now (those older than a day by then drop out)."""
    placed = session.scalar(
        select(func.count())
        .select_from(CallAttempt)
        .join(CallbackRequest, CallbackRequest.id == CallAttempt.request_id)
        .where(CallbackRequest.phone == phone, CallAttempt.dialled_at >= at - DAY)
    )
    return int(placed or 0) < bounds.max_calls_per_number_per_day


def next_call_at(session: Session, req: CallbackRequest, now: datetime, bounds: Bounds) -> datetime | None:
    """When a request whose call did not reach anyone is called again, or None: the one rule for what
    `schedule_retry` does and what the customer is told on that call. The queue's back-off, attempts and
    expiry (policy.retry_at), and the number's calls in the day: a call `claim` would refuse for the
    daily bound is never promised."""
    next_at = retry_at(req, now)
    return next_at if next_at is not None and daily_room(session, req.phone, next_at, bounds) else None


def call_left(session: Session, req: CallbackRequest, now: datetime, bounds: Bounds) -> bool:
    """Whether a customer reached whose agent was lost gets another call (the rule of `requeue_first`, and
    of "we'll call you back as soon as someone is free"): attempts left, and room in the number's day."""
    return may_call_again(req) and daily_room(session, req.phone, now + bounds.min_gap, bounds)


def schedule_retry(session: Session, req: CallbackRequest, outcome: str, now: datetime, bounds: Bounds) -> None:
    """After an attempt that did not reach anyone: try again after the queue's back-off, or give up."""
    next_at = next_call_at(session, req, now, bounds)
    if next_at is None and may_call_again(req):
        req.outcome = outcome
        req.agent_id = None
        if retry_at(req, now) is None:
            req.expire(now)  # a call is left, but its back-off runs past the expiry
        else:
            req.fail(DAILY_CALL_LIMIT, now)  # the number has had its calls for the day
        return
    req.not_reached(outcome, now, next_at)


def requeue_first(session: Session, req: CallbackRequest, outcome: str, now: datetime, bounds: Bounds) -> bool:
    """A customer reached whose agent was lost: back at the front of the line if another call is
    allowed (the bounds in `claim` still space it), else the request fails. True when requeued."""
    if not may_call_again(req):
        req.not_reached(outcome, now, None)
        return False
    if not daily_room(session, req.phone, now + bounds.min_gap, bounds):
        req.fail(DAILY_CALL_LIMIT, now)
        return False
    req.outcome = outcome
    req.requeue_first(now)
    # They were promised a call "as soon as someone is free": an expiry close by must not break it.
    owed = req.queue.business_hours.after_open_time(now, PROMISED_CALL_LIFE) or now + PROMISED_CALL_LIFE
    req.expires_at = max(req.expires_at, owed)
    return True


def active_request(session: Session, number: str, queue_id: int) -> CallbackRequest | None:
    """A number's active request in a queue (one at most, by the unique index)."""
    return session.scalar(
        select(CallbackRequest).where(
            CallbackRequest.phone == number, CallbackRequest.queue_id == queue_id, CallbackRequest.status.in_(ACTIVE)
        )
    )


def join_from_phone(
    session: Session,
    queue: Queue,
    number: str,
    arrived_at: datetime,
    context: str,
    now: datetime,
    client: str | None = None,
    ours: Callable[[CallbackRequest], bool] = lambda _req: False,
) -> CallbackRequest | None:
    """A phone-menu caller's place in the line: a new request that keeps their arrival time (callers
    and web requests share one line per topic, in arrival order), or the one this call made already
    (`ours`: Twilio retried the webhook).

    None when the number has an active request in this queue that this call did not make. A number,
    presented as the caller ID or keyed in, is no proof of whose it is: that request is not joined,
    and nothing of it (its context, language, expiry, place) is changed here or told to the caller.
    """
    existing = active_request(session, number, queue.id)
    if existing is not None:
        return existing if ours(existing) else None
    req = CallbackRequest(
        phone=number,
        name=PHONE_CALLER,
        queue_id=queue.id,
        source="ivr",
        status="queued",
        created_at=arrived_at,
        updated_at=now,
        expires_at=queue.expiry(now),
        ivr_context=context,
        # Who asked, for the per-client limit (callback.policy.phone_client_key).
        client_ip=client,
    )
    req.queue = queue
    try:
        with session.begin_nested():
            session.add(req)
    except IntegrityError:
        # The same number asking twice at once: a retried webhook (ours), or someone else's ask.
        found = active_request(session, number, queue.id)
        return found if found is not None and ours(found) else None
    return req


def repeated_ask(session: Session, queue: Queue, number: str, now: datetime, client: str | None) -> None:
    """A phone-menu ask for a callback at a number that already has an active request in this queue:
    kept, closed, so the limits count it like any other ask (CallbackRequest.close_as_repeated_ask),
    and nothing else (the caller commits)."""
    row = CallbackRequest(
        phone=number,
        name=PHONE_CALLER,
        queue_id=queue.id,
        source="ivr",
        created_at=now,
        updated_at=now,
        expires_at=now,
        client_ip=client,
    )
    row.close_as_repeated_ask()
    session.add(row)


def take_over(session: Session, req: CallbackRequest, agent: Agent, call_sid: str, now: datetime) -> AgentLeg | None:
    """A caller on the line is put through to a reserved agent: claim their request as the dispatcher
    would (one conditional UPDATE wins) and ring the agent, screened. None if the dispatcher won."""
    session.flush()
    taken = rows_changed(
        session,
        update(CallbackRequest)
        .where(CallbackRequest.id == req.id, CallbackRequest.status.in_(WAITING))
        .values(status="dialing", agent_id=agent.id, updated_at=now),
    )
    if taken != 1:
        agent.move_to("available", now)
        after_call(session, agent, now)  # let go without a call: a break they asked for starts now
        return None
    session.refresh(req)
    req.answered(now)
    # The caller called us: no call is placed, so no bound counts it (dialled_at stays empty).
    attempt = CallAttempt(
        request=req,
        agent=agent,
        call_sid=call_sid,
        created_at=now,
        placed_at=now,
        answered_at=now,
        confirmed_at=now,
        answered_by="human",
    )
    session.add(attempt)
    return ring_agent(session, attempt, agent, now)


def hold(req: CallbackRequest, call_sid: str) -> None:
    """The caller keeps their place on the line itself (in <Enqueue>) rather than as a callback: due
    now, in arrival order, whatever their request's own time, and never expiring while they hold
    (CallbackRequest.due_by, past_expiry). Their request's slot and back-off are kept for after."""
    req.hold_call_sid = call_sid


def holders_ahead(session: Session, queue_id: int, arrived_at: datetime) -> bool:
    """Whether a caller holding in the queue's line is ahead of a call that came in at `arrived_at`: a
    free agent is then theirs (the dispatcher is taking them to it), not a newcomer's to be put
    straight through to."""
    r = CallbackRequest
    ahead = (
        select(r.id)
        .where(
            r.queue_id == queue_id,
            r.status.in_(WAITING),
            r.hold_call_sid.is_not(None),
            or_(r.priority > 0, r.created_at <= arrived_at),
        )
        .exists()
    )
    return bool(session.scalar(select(ahead)))


def hold_ended(
    session: Session, req: CallbackRequest | None, result: str, now: datetime, call_sid: str | None = None
) -> None:
    """The caller left the line: a hang-up while still waiting gives up their place (see
    `caller_hung_up`; `call_sid` is the holder's call); the line failing under them (queue-full, error),
    or our <Leave> (nobody on duty), keeps it as a callback when we can call their number."""
    if result in {"bridged", "redirected", ""}:
        return  # put through to an agent: the callback flow carries on from here
    if req is None or req.status not in WAITING or not req.hold_call_sid:
        return
    if result != "hangup" and req.dialable:
        req.hold_call_sid = None
        session.commit()
        # "leave" is ours and expected; anything else is the line failing.
        level = logging.INFO if result == "leave" else logging.WARNING
        log.log(level, "hold ended by the line; kept as a callback", extra={"request_id": req.id, "result": result})
        return
    # A holder we cannot call back, taken out of a line nobody is on duty for or that failed under them,
    # is asked for a message: their request is over, and not because they hung up.
    if result == "hangup":
        caller_hung_up(session, req, call_sid, "hung_up_on_hold", now)
    else:
        caller_left(req, None, "left_unstaffed" if result == "leave" else "hold_failed", now)
    session.commit()
    log.info("holder left the line", extra={"request_id": req.id, "result": result, "request_status": req.status})


def caller_hung_up(
    session: Session, req: CallbackRequest, call_sid: str | None, outcome: str, now: datetime, call_over: bool = False
) -> None:
    """A phone-menu caller hung up while waiting for a person (holding, or while an agent rang): their
    call's path says so, whatever becomes of their request (reports.figures counts the call as
    abandoned), and they give up what the call added (`caller_left`). `call_over`: the provider said the
    call is gone, so its session ends now (its status callback may come later, or never), and the number
    is no longer on the line with us. The caller commits."""
    call = session.scalar(select(IvrSession).where(IvrSession.call_sid == call_sid)) if call_sid else None
    if call is not None:
        call.note_hung_up_waiting(now)
        if call_over:
            call.end(now)
    caller_left(req, call.started_at if call is not None else None, outcome, now)


def caller_left(req: CallbackRequest, arrived_at: datetime | None, outcome: str, now: datetime) -> None:
    """A phone-menu caller hung up while waiting for a person (holding, or while an agent rang): they
    give up what their call added. A request of theirs from before the call came in (`arrived_at`; a
    web callback, say) stays in line as it was; one the call made is canceled with `outcome`. The
    caller commits."""
    if arrived_at is not None and req.created_at < arrived_at:
        req.hold_call_sid = None
        req.agent_id = None
        if req.status not in WAITING:
            # Back in line where it was: requeue_first is the model's move back from a call, and the
            # front of the line it also grants is not the hang-up's to give.
            priority = req.priority
            req.requeue_first(now)
            req.priority = priority
        return
    req.cancel(now)
    req.outcome = outcome


# -- the provider's refusals ----------------------------------------------------------------------

PAUSE_NAME = "dialling"
# Taking a holder out of the line is a redirect of their own call (a call update), not a call placed:
# Twilio's calls-per-second limit counts calls created, and a pause of dialling does not stop it. A
# redirect the provider refuses pauses redirects on their own, with the same back-off, so a holder still
# in the line is not claimed for an agent again and again meanwhile.
REDIRECT_PAUSE_NAME = "redirecting"
PAUSE_FIRST = timedelta(seconds=30)
PAUSE_LONGEST = timedelta(minutes=10)


def dialling_paused(session: Session, now: datetime) -> ProviderPause | None:
    """The pause in force, if dialling is paused after a refusal or an outage of the provider."""
    return _paused(session, PAUSE_NAME, now)


def redirects_paused(session: Session, now: datetime) -> ProviderPause | None:
    """The pause in force, if taking holders out of the line is paused after the provider refused it."""
    return _paused(session, REDIRECT_PAUSE_NAME, now)


def _paused(session: Session, name: str, now: datetime) -> ProviderPause | None:
    pause = session.get(ProviderPause, name)
    return pause if pause is not None and pause.paused_until > now else None


def pauses(session: Session, now: datetime) -> frozenset[str]:
    """The names of the pauses in force (PAUSE_NAME, REDIRECT_PAUSE_NAME), in one read."""
    return frozenset(session.scalars(select(ProviderPause.name).where(ProviderPause.paused_until > now)))


def pause_dialling(session: Session, code: int, reason: str, now: datetime, name: str = PAUSE_NAME) -> ProviderPause:
    """Stop placing calls (or, `name` REDIRECT_PAUSE_NAME, redirecting holders) for a while, every
    process: the longer the provider keeps refusing, the longer the pause (30 s, doubling, at most 10
    minutes). The caller commits."""
    pause = session.get(ProviderPause, name, with_for_update=session.get_bind().dialect.name == "postgresql")
    if pause is None:
        pause = ProviderPause(name=name, since=now, failures=0, paused_until=now, reason="")
        session.add(pause)
    if pause.failures == 0:
        pause.since = now
    pause.failures += 1
    wait = min(PAUSE_FIRST * 2 ** (pause.failures - 1), PAUSE_LONGEST)
    pause.paused_until = now + wait
    pause.code = code
    pause.reason = reason[:300]
    return pause


def pause_redirects(session: Session, code: int, reason: str, now: datetime) -> ProviderPause:
    """Stop redirecting holders out of the line for a while (pause_dialling's back-off). The caller commits."""
    return pause_dialling(session, code, reason, now, REDIRECT_PAUSE_NAME)


def dialling_report(session: Session, now: datetime) -> dict[str, object]:
    """For /healthz, always: whether dialling is paused by the provider, and until when."""
    pause = dialling_paused(session, now)
    if pause is None:
        return {"paused": False}
    return {"paused": True, "until": pause.paused_until.isoformat(), "code": pause.code}


def health(session: Session, now: datetime) -> dict[str, object] | None:
    """For /healthz: a warning while dialling is paused by the provider, else None."""
    pause = dialling_paused(session, now)
    if pause is None:
        return None
    return {
        "check": "dialling",
        "message": f"dialling paused since {pause.since.isoformat()}: {pause.reason}",
        "code": pause.code,
        "until": pause.paused_until.isoformat(),
    }


def resume_dialling(session: Session, name: str = PAUSE_NAME) -> None:
    """The provider took a call (or, `name` REDIRECT_PAUSE_NAME, a redirect) again: the next refusal
    starts that back-off from the beginning."""
    session.execute(
        update(ProviderPause).where(ProviderPause.name == name, ProviderPause.failures > 0).values(failures=0)
    )
