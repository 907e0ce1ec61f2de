"""Callback use cases: ask, look up, cancel, reschedule, where a request stands in line, and a
supervisor's cancel, call next and move to another queue."""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, case, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agents import audit
from agents.models import STAFFED, Agent, Queue, agent_queues, on_a_break
from callback.estimate import Staffing, mean_handle_seconds, wait_for_position
from callback.models import ACTIVE, WAITING, CallAttempt, CallbackRequest, IllegalTransition
from callback.policy import (
    Limits,
    check_active,
    check_ask,
    check_do_not_call,
    check_not_ours,
    check_slot,
    serialise_asks,
)
from core import phone as phones
from core.clients import client_key
from core.clock import Clock
from core.db import rows_changed
from core.errors import Conflict, DomainError, InvalidInput, LimitExceeded, NotFound
from core.text import has_control_characters, without_invisible
from telephony.port import Telephony, TelephonyError

if TYPE_CHECKING:
    from agents.staff import StaffUser

log = logging.getLogger(__name__)

_ORDER_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,39}$")
# Spaces and dashes between an order number's groups, as people copy it: one dash in the form we keep.
_ORDER_SEPARATORS = re.compile(r"[\s-]+")
# What new_ref() produces; anything else is not worth a database query.
_REF = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
# Recent calls that feed the handle-time average: enough to be stable, few enough to follow change.
HANDLE_TIME_SAMPLE = 50


@dataclass(frozen=True)
class CallbackInput:
    """What a customer (or the IVR, or an API client) asks for."""

    phone: str
    name: str
    topic: str
    consent: bool
    order_number: str | None = None
    not_before: datetime | None = None
    region: str | None = None
    source: str = "web"
    client_ip: str | None = None
    # The language the callback will be made in ("en", "es"): stored with the request in one commit.
    language: str = "en"
    # Proof that the ask comes from the browser that made a request: the random id of the form it
    # posted (kept hashed with a request it creates), and the references its signed cookie lists.
    form_id: str | None = None
    own_refs: frozenset[str] = frozenset()


def form_digest(form_id: str) -> str:
    """What a request keeps of the form id that made it: enough to recognise the form, not to forge it."""
    return hashlib.sha256(form_id.encode()).hexdigest()


def made_by(request: CallbackRequest, data: CallbackInput) -> bool:
    """Whether `data` comes from the browser that made `request` (its cookie lists it, or it posted the same form)."""
    return _same_maker(request, data.own_refs, form_digest(data.form_id) if data.form_id else None)


def _same_maker(request: CallbackRequest, own_refs: frozenset[str], digest: str | None) -> bool:
    if request.ref in own_refs:
        return True
    return bool(digest and request.form_digest and hmac.compare_digest(request.form_digest, digest))


class PhoneRefused(InvalidInput):
    """The phone policy's refusal of the number asked for; .region is the number's country when that is why."""

    def __init__(self, rejected: phones.PhoneRejected) -> None:
        super().__init__(f"phone_{rejected.code}", rejected.message, "phone")
        self.region = rejected.region


@dataclass(frozen=True)
class Standing:
    """Where a request stands: people ahead of it and the expected wait in seconds."""

    position: int | None
    estimated_wait_seconds: int | None
    scheduled_for: datetime | None


def request_callback(
    session: Session,
    clock: Clock,
    policy: phones.PhonePolicy,
    limits: Limits,
    data: CallbackInput,
) -> tuple[CallbackRequest, bool]:
    """Queue a callback; returns (request, created). An active duplicate is returned, not repeated.

    The duplicate is returned for the caller to act on, never to show: whoever knows a number must
    not learn the reference of that number's request (see callback.api.refuse_duplicate).
    """
    now = clock.now()
    if data.consent is not True:
        raise InvalidInput("consent_required", "Please agree to be called so we can ring you.", "consent")
    try:
        number = phones.normalize(data.phone or "", policy, data.region)
    except phones.PhoneRejected as exc:
        raise PhoneRefused(exc) from exc
    check_not_ours(session, number)
    name = _name(data.name)
    if not name:
        raise InvalidInput("name_required", "Please tell us your name.", "name")
    if has_control_characters(name):
        raise InvalidInput("bad_name", "Your name has characters we can't read. Please type it again.", "name")
    if len(name) > 80:
        raise InvalidInput("name_too_long", "Please keep your name under 80 characters.", "name")
    topic = (data.topic or "").strip().lower()
    queue = None if has_control_characters(topic) else session.scalar(select(Queue).where(Queue.name == topic))
    if queue is None:
        raise InvalidInput("unknown_topic", "Please choose what your call is about.", "topic")
    order_number = _order_number(data.order_number)
    not_before = check_slot(queue, data.not_before, now)
    ask = _Ask(
        number,
        name,
        queue,
        order_number,
        not_before,
        data.source,
        client_key(data.client_ip),
        data.language,
        form_digest(data.form_id) if data.form_id else None,
        data.own_refs,
    )
    try:
        return _judge(session, limits, ask, now)
    except IntegrityError:
        # Someone outside our lock (a caller in the phone menu) queued this number and topic a moment
        # ago; judged again, this ask is the duplicate it now is.
        session.rollback()
        return _judge(session, limits, ask, now)


def _order_number(typed: str | None) -> str | None:
    """An order number as people copy it ('#112-4455667-1234567', '112 4455667 1234567') in the form we
    keep ('112-4455667-1234567'); None when left blank. Refused if it is still not an order number."""
    text = (typed or "").strip().removeprefix("#")
    order_number = "-".join(part for part in _ORDER_SEPARATORS.split(text) if part)
    if not order_number:
        return None
    if not _ORDER_NUMBER.fullmatch(order_number):
        raise InvalidInput(
            "bad_order_number",
            "An order number has only letters, digits and dashes (for example 112-4455667-1234567).",
            "order_number",
        )
    return order_number


def _name(typed: str | None) -> str:
    """A name as typed, with its spaces tidied and the invisible leftovers of pasting dropped."""
    return " ".join(without_invisible(typed or "").split())


@dataclass(frozen=True)
class _Ask:
    """A validated ask, ready to be judged against the limits."""

    phone: str
    name: str
    queue: Queue
    order_number: str | None
    not_before: datetime | None
    source: str
    client: str | None
    language: str = "en"
    form_digest: str | None = None
    own_refs: frozenset[str] = frozenset()


def _judge(session: Session, limits: Limits, ask: _Ask, now: datetime) -> tuple[CallbackRequest, bool]:
    """Count, check and record one ask under the number's lock; (request, created) as request_callback."""
    try:
        serialise_asks(session, ask.phone, ask.client)
        if ask.form_digest and ask.source == "api":
            made = _made_with_key(session, ask)
            if made is not None:
                session.commit()
                log.info("callback asked for again with its Idempotency-Key", extra={"request": made.id})
                return made, False
        existing = _active_for(session, ask.phone, ask.queue.id)
        if existing is not None and _same_maker(existing, ask.own_refs, ask.form_digest):
            # Its maker again (a double click, or a second look from the same browser): no new ask, so
            # nothing to count, and no limit stands between them and their own request.
            session.commit()
            log.info("callback asked for again by its maker", extra={"request": existing.id})
            return existing, False
        check_ask(session, limits, ask.phone, ask.client, now, found_active=existing is not None)
    except DomainError as error:
        if error.code == "do_not_call":
            # Within the limits (check_ask judged them first), and counted by them from now on.
            refused = _ask_row(ask, now)
            refused.close_as_refused_ask()
            session.add(refused)
            session.commit()
        else:
            session.rollback()  # let go of the lock now, not when the page is rendered
        raise
    row = _ask_row(ask, now, form_digest=existing is None)
    if existing is not None:
        row.close_as_repeated_ask()
    session.add(row)
    if existing is None:
        session.flush()
        record_quote(session, row, now)
    session.commit()
    if existing is not None:
        log.info("callback asked for again", extra={"request": existing.id, "queue": ask.queue.name})
        return existing, False
    log.info(
        "callback queued",
        extra={"request": row.id, "queue": ask.queue.name, "source": ask.source, "scheduled": bool(ask.not_before)},
    )
    return row, True


def _ask_row(ask: _Ask, now: datetime, form_digest: bool = False) -> CallbackRequest:
    """The row one ask leaves: a request, or (closed at once by the caller) an ask kept for the limits."""
    return CallbackRequest(
        phone=ask.phone,
        name=ask.name,
        queue_id=ask.queue.id,
        order_number=ask.order_number,
        source=ask.source,
        client_ip=ask.client,
        status="queued",
        created_at=now,
        updated_at=now,
        not_before=ask.not_before,
        expires_at=ask.queue.expiry(ask.not_before or now),
        language=ask.language,
        form_digest=ask.form_digest if form_digest else None,
    )


def _made_with_key(session: Session, ask: _Ask) -> CallbackRequest | None:
    """The request an API ask with this Idempotency-Key made, whatever became of it since (a retry after
    a cancel must not make a second one); a key used before for another number or topic is refused."""
    made = session.scalar(
        select(CallbackRequest).where(CallbackRequest.form_digest == ask.form_digest).order_by(CallbackRequest.id)
    )
    if made is None:
        return None
    if made.phone != ask.phone or made.queue_id != ask.queue.id:
        raise InvalidInput(
            "idempotency_key_reused",
            "This Idempotency-Key was used for an ask with another number or topic: use a new key for each ask.",
            "Idempotency-Key",
        )
    return made


def _active_for(session: Session, phone: str, queue_id: int) -> CallbackRequest | None:
    return session.scalar(
        select(CallbackRequest).where(
            CallbackRequest.phone == phone,
            CallbackRequest.queue_id == queue_id,
            CallbackRequest.status.in_(ACTIVE),
        )
    )


def get(session: Session, ref: str) -> CallbackRequest:
    """Find a request by its public reference."""
    request = None
    if _REF.fullmatch(ref):
        request = session.scalar(select(CallbackRequest).where(CallbackRequest.ref == ref))
    if request is None:
        raise NotFound("not_found", "We couldn't find that callback request.")
    return request


def cancel(session: Session, clock: Clock, ref: str, telephony: Telephony | None = None) -> CallbackRequest:
    """Cancel a request, hanging up its call if the phone is ringing; canceling twice is fine."""
    request = get(session, ref)
    try:
        changed = request.cancel(clock.now())
    except IllegalTransition as exc:
        raise Conflict("cannot_cancel", _cannot("cancel", request)) from exc
    if not changed:
        return request
    live = _live_calls(session, request)
    session.commit()
    log.info("callback canceled", extra={"request": request.id})
    _hang_up(telephony, request, live)
    return request


def _live_calls(session: Session, request: CallbackRequest) -> list[str]:
    """The SIDs of the request's calls still going on (ringing, most likely), to hang up on a cancel.

    Read fresh, after the request's canceled status is written: a dispatcher saving a new call's SID
    reads the request's status under its row lock (scheduler.dispatcher._record_call), so either it
    sees the cancel and hangs up, or its SID is committed before this read and we hang up."""
    session.flush()
    sids = session.scalars(
        select(CallAttempt.call_sid).where(
            CallAttempt.request_id == request.id, CallAttempt.ended_at.is_(None), CallAttempt.call_sid.is_not(None)
        )
    )
    return [sid for sid in sids if sid]


def _hang_up(telephony: Telephony | None, request: CallbackRequest, live: list[str]) -> None:
    """Hang up a canceled request's calls, after the cancel is committed."""
    for call_sid in live if telephony is not None else []:
        # The status callback that follows closes the attempt and frees the agent.
        try:
            telephony.hangup(call_sid)  # type: ignore[union-attr]
        except TelephonyError as error:
            log.warning(
                "could not hang up a canceled callback's call", extra={"request": request.id, "error": str(error)}
            )


def reschedule(session: Session, clock: Clock, ref: str, not_before: datetime | None) -> CallbackRequest:
    """Move a waiting request to another slot (None: as soon as possible)."""
    request = get(session, ref)
    now = clock.now()
    slot = check_slot(request.queue, not_before, now)
    try:
        request.reschedule(slot, now)
    except IllegalTransition as exc:
        raise Conflict("cannot_reschedule", _cannot("reschedule", request)) from exc
    request.expires_at = request.queue.expiry(slot or now)
    session.commit()
    log.info("callback rescheduled", extra={"request": request.id, "scheduled": bool(slot)})
    return request


def _cannot(verb: str, request: CallbackRequest) -> str:
    if request.status in {"dialing", "connecting", "connected"}:
        return f"We're calling you right now, so this request can't be {verb}ed any more."
    return f"This request is {request.status.replace('_', ' ')}, so it can't be {verb}ed."


def position(session: Session, request: CallbackRequest, now: datetime) -> int | None:
    """How many waiting requests will be served before this one by its queue's agents: those of its own
    queue ahead of it, and those ahead of it in the other queues its agents also serve, each counted by
    the share of that queue's agents who serve this one (`sharing`). For a caller holding on the line
    while the queue is closed, how many other holders of the queue: only they are served."""
    if request.status not in WAITING:
        return None
    due = max(request.due_at, now)
    r = CallbackRequest
    ahead = (
        or_(
            r.priority > request.priority,
            and_(
                r.priority == request.priority,
                or_(r.created_at < request.created_at, and_(r.created_at == request.created_at, r.id < request.id)),
            ),
        ),
        r.id != request.id,
    )
    if _holding_after_hours(request, now):
        holders = session.scalar(
            select(func.count())
            .select_from(r)
            .where(r.queue_id == request.queue_id, r.status.in_(WAITING), r.hold_call_sid.is_not(None), *ahead)
        )
        return int(holders or 0)
    return _line_ahead(session, request.queue, due, now, ahead)


def waiting_count(session: Session, queue: Queue, now: datetime) -> int:
    """How many requests a new ASAP request would find ahead of it in this queue's line: those in line
    and due now, by the rules `position` counts with (CallbackRequest.in_line, due_by, `sharing`)."""
    return _line_ahead(session, queue, now, now, ())


def _line_ahead(
    session: Session, queue: Queue, due: datetime, now: datetime, ahead: tuple[ColumnElement[bool], ...]
) -> int:
    """The requests in line and due at `due` that match `ahead`, in this queue and the queues sharing its
    agents, weighted by their shares; rounded up (a share of a person ahead is someone ahead)."""
    shares = sharing(session, queue, now)
    r = CallbackRequest
    rows = session.execute(
        select(r.queue_id, func.count())
        .where(r.queue_id.in_(shares), r.status.in_(WAITING), r.in_line, r.due_by(due), *ahead)
        .group_by(r.queue_id)
    ).all()
    weighted = sum(count * shares[queue_id] for queue_id, count in rows)
    return math.ceil(round(weighted, 6))


def sharing(session: Session, queue: Queue, now: datetime) -> dict[int, float]:
    """The queues whose requests take this queue's agents, each with the share of its work that falls on
    them. An agent is given the first request in line of all their queues (scheduler.dispatcher), so a
    queue whose agents also serve another topic moves at the pace of both: of a queue served by two
    agents, one of them also ours, half the requests ahead are ahead of ours too. This queue is 1; a
    queue closed when ours is next served (now, or at our opening when we are closed) takes nobody's
    time (its holders aside, which this leaves out): at night, the topics that open with ours compete."""
    aq = agent_queues.c
    present = or_(Agent.status.in_(STAFFED), on_a_break())
    ours = select(aq.agent_id).join(Agent, Agent.id == aq.agent_id).where(aq.queue_id == queue.id, present)
    rows = session.execute(
        select(aq.queue_id, func.count(), func.sum(case((aq.agent_id.in_(ours), 1), else_=0)))
        .join(Agent, Agent.id == aq.agent_id)
        .where(present, aq.queue_id != queue.id, aq.queue_id.in_(select(aq.queue_id).where(aq.agent_id.in_(ours))))
        .group_by(aq.queue_id)
    ).all()
    shares = {queue_id: int(shared) / total for queue_id, total, shared in rows if total and shared}
    # session.get: the queues are most often loaded already (the form lists them all), so no query.
    served_at = queue.business_hours.next_open(now) or now
    open_then = {qid: share for qid, share in shares.items() if _is_open(session.get(Queue, qid), served_at)}
    return {queue.id: 1.0, **open_then}


def _is_open(queue: Queue | None, now: datetime) -> bool:
    return queue is not None and queue.business_hours.is_open(now)


def staffing(session: Session, queue: Queue) -> Staffing:
    """The queue's staffed and free agents and its recent handle time: the mean talk time of its last
    HANDLE_TIME_SAMPLE talked calls, plus wrap-up (the queue's default with too few of them).

    Read in callers' webhooks and every quote, so it costs the same on a year-old line as on a new one:
    the calls are those made in the queue (CallAttempt.queue_id), read newest first from
    ix_call_attempts_queue_talked, never by walking back through every other queue's calls.
    """
    rows = session.execute(
        select(Agent.status, func.count())
        .join(agent_queues, agent_queues.c.agent_id == Agent.id)
        # Away counts only as a break (back before long), not as the line's away after a missed call.
        .where(agent_queues.c.queue_id == queue.id, or_(Agent.status.in_(STAFFED), on_a_break()))
        .group_by(Agent.status)
    ).all()
    counts = {status: count for status, count in rows}
    talk = session.scalars(
        select(CallAttempt.talk_seconds)
        .where(CallAttempt.queue_id == queue.id, CallAttempt.talk_seconds.is_not(None))
        .order_by(CallAttempt.id.desc())
        .limit(HANDLE_TIME_SAMPLE)
    ).all()
    handle = mean_handle_seconds(
        [int(t) for t in talk if t is not None], queue.wrap_up_seconds, queue.default_handle_seconds
    )
    return Staffing(
        staffed=sum(n for status, n in counts.items() if status in STAFFED),
        free=counts.get("available", 0),
        handle_seconds=handle,
        away=counts.get("away", 0),
    )


def standing(session: Session, request: CallbackRequest, now: datetime) -> Standing:
    """Position and estimated wait, counting from the next opening when the queue is closed."""
    if request.status not in WAITING:
        wait = 0 if request.status in ACTIVE else None
        return Standing(None, wait, None)
    due = request.due_at
    if due > now:
        # A booked slot (or a retry's back-off): the answer is the time itself, or the opening after
        # it when the line is closed then (a back-off from 4:59 PM ends after closing; nobody calls
        # before the morning). Never a caller on the line: holding makes a request due (due_by).
        at = request.queue.business_hours.next_open(due)
        if at is None:
            return Standing(position(session, request, now), None, None)
        return Standing(position(session, request, now), int((at - now).total_seconds()), at)
    ahead = position(session, request, now)
    estimate = wait_for_position(ahead or 0, staffing(session, request.queue))
    if estimate is None:
        return Standing(ahead, None, None)
    if request.hold_call_sid:
        # On the line: served as agents free up, open or closed (scheduler.dispatcher), not at opening.
        return Standing(ahead, estimate, None)
    opening = request.queue.business_hours.next_open(now)
    if opening is None:
        return Standing(ahead, None, None)
    return Standing(ahead, int((opening - now).total_seconds()) + estimate, None)


def _holding_after_hours(request: CallbackRequest, now: datetime) -> bool:
    return bool(request.hold_call_sid) and not request.queue.business_hours.is_open(now)


def record_quote(session: Session, request: CallbackRequest, now: datetime) -> None:
    """Keep the wait we tell the customer now, counted from the request's creation, for the figures."""
    if request.quoted_wait_seconds is not None:
        return  # the first quote is the promise; a caller joining again does not rewrite it
    wait = standing(session, request, now).estimated_wait_seconds
    if wait is not None:
        request.quoted_wait_seconds = wait + max(0, int((now - request.created_at).total_seconds()))


def waiting_with_attempts(session: Session, queue: Queue, attempts: int) -> int:
    """How many of the queue's waiting requests have had `attempts` calls or more (a lowered
    max_attempts ends them at their next turn)."""
    r = CallbackRequest
    count = session.scalar(
        select(func.count()).select_from(r).where(r.queue_id == queue.id, r.status.in_(WAITING), r.attempts >= attempts)
    )
    return int(count or 0)


def queue_wait(session: Session, queue: Queue, now: datetime, from_opening: bool = False) -> int | None:
    """The expected wait of a new ASAP request in this queue, for the form: counted from now, or with
    `from_opening` from the queue's next opening (said after "opens at ..., then")."""
    estimate = wait_for_position(waiting_count(session, queue, now), staffing(session, queue))
    opening = queue.business_hours.next_open(now)
    if estimate is None or opening is None:
        return None
    return estimate if from_opening else int((opening - now).total_seconds()) + estimate


def slots(queue: Queue, now: datetime, days: int = 7) -> list[datetime]:
    """Bookable slot starts in the queue's hours for the next `days` days, from the next half hour."""
    start = now + timedelta(minutes=15)
    return list(queue.business_hours.slots(start, days))


# -- a supervisor's hand on a request (the /admin/requests pages) -----------------------------------
#
# Each change is one conditional UPDATE on the status the rule was judged on, as `line.claim` does:
# a dispatcher that claims the request in the meantime wins, and the supervisor is told so, rather
# than one write undoing the other. The audit line is written in the same transaction.

CANCELED_BY_STAFF = "canceled_by_staff"
# Where the customer is on the phone with us: a supervisor does not cut them off.
_ON_THE_LINE = ("connecting", "connected")


def staff_request(session: Session, request_id: int) -> CallbackRequest:
    """A request by its id, as the supervisors' pages name it."""
    request = session.get(CallbackRequest, request_id)
    if request is None:
        raise NotFound("not_found", "There is no such request.")
    return request


def staff_cancel(
    session: Session,
    clock: Clock,
    request_id: int,
    telephony: Telephony | None,
    *,
    actor: StaffUser | None = None,
    address: str | None = None,
) -> CallbackRequest:
    """Cancel an active request for the customer, hanging up a call still ringing them.

    Refused once the customer has answered (connecting, connected) or while they hold on the line:
    a supervisor does not cut off a person who is on the phone with us; the request closes with
    the call. A request being dialled is canceled and its ringing call hung up, as for the customer.
    """
    request = staff_request(session, request_id)
    _refuse_on_the_line(request, "canceled")
    if request.status not in ACTIVE:
        raise Conflict("not_active", f"This request is already {_words(request.status)}: there is nothing to cancel.")
    now = clock.now()
    was = request.status
    _change_if(
        session,
        request,
        (was,),
        "canceled",
        status="canceled",
        outcome=CANCELED_BY_STAFF,
        next_attempt_at=None,
        updated_at=now,
    )
    live = _live_calls(session, request)
    _audit(session, "request.cancel", request, {"from": was}, actor, address, now)
    session.commit()
    log.info("callback canceled by staff", extra={"request": request.id, "was": was})
    _hang_up(telephony, request, live)
    return request


def prioritise(
    session: Session,
    clock: Clock,
    request_id: int,
    *,
    actor: StaffUser | None = None,
    address: str | None = None,
) -> CallbackRequest:
    """Call a waiting request next: a priority above every other waiting request of its queue.

    A retry's back-off (`next_attempt_at`) is cleared, since the supervisor wants the call now, but
    the bounds a customer can trust still hold: `line.claim` spaces calls to one number and counts
    them as for any request. A booked slot (`not_before` still ahead) is the customer's own wish,
    so it is refused, not overridden: nobody who asked for 3 pm is rung at 10 am without asking.
    The queue's business hours still apply: outside them, it is first when the line opens.
    """
    request = staff_request(session, request_id)
    _refuse_unless_waiting(request, "called next")
    now = clock.now()
    if request.not_before is not None and request.not_before > now:
        when = request.not_before.astimezone(request.queue.business_hours.zone).strftime("%a %d %b, %H:%M %Z")
        raise Conflict(
            "booked",
            f"The customer booked a call for {when} and asked not to be called before then. "
            "Call next works once the slot has come.",
        )
    r = CallbackRequest
    top = session.scalar(
        select(func.max(r.priority)).where(r.queue_id == request.queue_id, r.status.in_(WAITING), r.id != request.id)
    )
    priority = request.priority if top is None else max(request.priority, top + 1)
    before = {"priority": request.priority, "status": request.status, "next_attempt_at": request.next_attempt_at}
    _change_if(
        session,
        request,
        WAITING,
        "called next",
        status="queued",
        priority=priority,
        next_attempt_at=None,
        updated_at=now,
    )
    after = {"priority": request.priority, "status": request.status, "next_attempt_at": None}
    _audit(session, "request.prioritise", request, {"before": before, "after": after}, actor, address, now)
    session.commit()
    log.info("callback put first in line", extra={"request": request.id, "priority": priority})
    return request


def move(
    session: Session,
    clock: Clock,
    request_id: int,
    queue_name: str,
    *,
    actor: StaffUser | None = None,
    address: str | None = None,
) -> CallbackRequest:
    """Move a waiting request to another queue, keeping its place there by arrival time.

    Its `created_at` travels with it, and its priority goes back to 0: a priority earned in the old
    line (call next, an agent lost) says nothing about the new one. Refused for a caller holding on
    the line (they wait in the old queue's <Enqueue>), and when the number already has an active
    request in the new queue (one per number and queue, as the unique index says).
    """
    request = staff_request(session, request_id)
    queue = session.scalar(select(Queue).where(Queue.name == queue_name))
    if queue is None:
        raise InvalidInput("unknown_queue", "Please choose a queue.", "queue")
    _refuse_unless_waiting(request, "moved")
    if queue.id == request.queue_id:
        raise Conflict("same_queue", f"This request is already in {queue.display_name}.", "queue")
    other = _active_for(session, request.phone, queue.id)
    if other is not None:
        raise _already_there(queue, other.id)
    now = clock.now()
    old = request.queue
    try:
        _change_if(session, request, WAITING, "moved", queue_id=queue.id, priority=0, updated_at=now)
    except IntegrityError:
        session.rollback()  # the number joined that queue a moment ago (the phone menu, say)
        raise _already_there(queue, None) from None
    _audit(session, "request.move", request, {"from": old.name, "to": queue.name}, actor, address, now)
    session.commit()
    log.info("callback moved", extra={"request": request.id, "from": old.name, "to": queue.name})
    return request


def _already_there(queue: Queue, other_id: int | None) -> Conflict:
    which = f" (request {other_id})" if other_id is not None else ""
    return Conflict(
        "already_in_queue",
        f"This number already has an active request in {queue.display_name}{which}. "
        "A number may wait only once in each queue: cancel one of them first.",
        "queue",
    )


def _words(status: str) -> str:
    return status.replace("_", " ")


def _refuse_on_the_line(request: CallbackRequest, done: str) -> None:
    """Refuse a change while the customer is on the phone with us (answered, talking, holding)."""
    if request.status in _ON_THE_LINE:
        raise Conflict(
            "on_the_line",
            f"The customer is on the phone with us right now, so this request can't be {done}. "
            "It closes when the call ends.",
        )
    if request.hold_call_sid and request.status in (*WAITING, "dialing"):
        raise Conflict(
            "holding",
            f"The customer is holding on the line, so this request can't be {done}. "
            "They are put through to the next free agent, or leave the line by hanging up.",
        )


def _refuse_unless_waiting(request: CallbackRequest, done: str) -> None:
    """Only a request waiting in line (queued, or waiting to retry) may be reordered or moved."""
    if request.status == "dialing":
        raise Conflict("being_called", f"We're calling this customer right now, so this request can't be {done}.")
    if request.status in _ON_THE_LINE:
        raise Conflict(
            "on_the_line", f"The customer is on the phone with us right now, so this request can't be {done}."
        )
    if request.status not in WAITING:
        raise Conflict(
            "not_waiting",
            f"This request is {_words(request.status)}: only a request waiting in line can be {done}.",
        )
    if done == "moved" and request.hold_call_sid:
        _refuse_on_the_line(request, done)


def _change_if(
    session: Session, request: CallbackRequest, statuses: tuple[str, ...], done: str, **values: object
) -> None:
    """Write `values` only if the request is still in one of `statuses`, else refuse (the dispatcher
    claimed it, or the customer canceled, since the page was read)."""
    r = CallbackRequest
    changed = rows_changed(session, update(r).where(r.id == request.id, r.status.in_(statuses)).values(**values))
    session.refresh(request)
    if not changed:
        refusal = Conflict(
            "changed_meanwhile",
            f"This request just became {_words(request.status)}, so it can't be {done} now. "
            "Reload the page to see where it stands.",
        )
        session.rollback()
        raise refusal


def _audit(
    session: Session,
    action: str,
    request: CallbackRequest,
    details: dict[str, object],
    actor: StaffUser | None,
    address: str | None,
    now: datetime,
) -> None:
    audit.record(session, action, f"request {request.id}", details, actor=actor, address=address, at=now)


# --- forgetting a customer --------------------------------------------------------------------------

# What a forgotten request keeps in place of the customer's name and number. The phone placeholder
# does not start with "+", so it is not CallbackRequest.dialable and is never dialled.
FORGOTTEN_NAME = "(forgotten)"
FORGOTTEN_PHONE = "forgotten"
FORGOTTEN = "forgotten"


def forgotten(request: CallbackRequest) -> bool:
    """Whether the request's personal data was erased at the customer's demand (`forget`)."""
    return request.phone == FORGOTTEN_PHONE


def forget(session: Session, clock: Clock, ref: str, *, actor: str = audit.SYSTEM) -> CallbackRequest:
    """Erase a request's personal data at the customer's demand, keeping the row for the figures.

    The name and number become placeholders; the order number, IVR context, wrap-up note and client
    address are erased, and so are the caller's number and steps in its phone-menu sessions. A request
    still waiting is canceled first (nobody calls a customer who asked to be forgotten); one being
    called or on the line is refused: try again once the call is over. Recordings are the recordings
    service's (recordings.service.forget_request). Audited; the caller commits.
    """
    from ivr.models import IvrSession

    request = get(session, ref)
    if request.status in ("dialing", *_ON_THE_LINE) or (request.hold_call_sid and request.status in ACTIVE):
        raise Conflict(
            "on_the_line",
            f"This request is {_words(request.status)}: the customer is being called or is on the line. "
            "Forget it once the call is over.",
        )
    now = clock.now()
    was = request.status
    if request.status in WAITING:
        request.status = "canceled"
        request.outcome = FORGOTTEN
        request.next_attempt_at = None
        # A request's updated_at is when it last moved: for one that had ended, when it ended, which
        # the figures and the board read (a failure in the last hour); erasing it is not a move.
        request.updated_at = now
    request.name = FORGOTTEN_NAME
    request.phone = FORGOTTEN_PHONE
    request.order_number = None
    request.ivr_context = None
    request.note = None
    request.client_ip = None
    menus = session.scalars(select(IvrSession).where(IvrSession.request_id == request.id)).all()
    for menu in menus:
        menu.caller = FORGOTTEN_PHONE
        menu.steps = "[]"
        menu.state = "{}"
    audit.record(
        session,
        "request.forget",
        f"request {request.id}",
        {"from": was, "to": request.status, "ivr_sessions": len(menus)},
        actor=actor,
        at=now,
    )
    log.info("callback request forgotten", extra={"request": request.id, "was": was})
    return request


# --- the customer's form and status page ------------------------------------------------------------

# How long a customer's cancel can be taken back from the status page; the request keeps its place
# in line (its arrival time and priority are untouched), so undoing soon after costs nobody anything.
UNDO_CANCEL = timedelta(minutes=5)
CANCELED_BY_CUSTOMER = "canceled_by_customer"


def problems(session: Session, policy: phones.PhonePolicy, data: CallbackInput, now: datetime) -> list[DomainError]:
    """Every reason the form's `data` would be refused, field by field, so a page can list them all at once.

    The same rules request_callback applies (which still judges the ask itself, with the limits and
    duplicates that only it can see under the number's lock); each field is checked on its own. The
    do-not-call list is not among them: request_callback judges it after the limits have counted the
    ask, so nobody learns, free and unlimited (an unticked consent box stores nothing), whether a number's
    owner asked never to be called.
    """
    found: list[DomainError] = []
    try:
        number = phones.normalize(data.phone or "", policy, data.region)
        check_not_ours(session, number)
    except phones.PhoneRejected as exc:
        found.append(PhoneRefused(exc))
    except DomainError as error:
        found.append(error)
    name = _name(data.name)
    if not name:
        found.append(InvalidInput("name_required", "Please tell us your name.", "name"))
    elif has_control_characters(name):
        found.append(InvalidInput("bad_name", "Your name has characters we can't read. Please type it again.", "name"))
    elif len(name) > 80:
        found.append(InvalidInput("name_too_long", "Please keep your name under 80 characters.", "name"))
    topic = (data.topic or "").strip().lower()
    queue = None if has_control_characters(topic) else session.scalar(select(Queue).where(Queue.name == topic))
    if queue is None:
        found.append(InvalidInput("unknown_topic", "Please choose what your call is about.", "topic"))
    try:
        _order_number(data.order_number)
    except InvalidInput as error:
        found.append(error)
    if queue is not None:
        try:
            check_slot(queue, data.not_before, now)
        except DomainError as error:
            found.append(error)
    if data.consent is not True:
        found.append(InvalidInput("consent_required", "Please agree to be called so we can ring you.", "consent"))
    return found


def callback_times(queue: Queue, now: datetime, days: int = 7, step_minutes: int = 30) -> list[datetime]:
    """Bookable times (UTC) in the queue's hours from the next quarter hour on, every half hour.

    A time is when we start calling, so the last one of a window is its last half-hour start before
    closing (16:30 for 09:00-17:00; 23:30 when open all day).
    """
    hours = queue.business_hours
    zone = hours.zone
    start = now + timedelta(minutes=15)
    step = timedelta(minutes=step_minutes)
    first = start.astimezone(zone).date()
    found: list[datetime] = []
    for offset in range(days + 1):
        day = first + timedelta(days=offset)
        for opening, closing in hours.windows[day.weekday()]:
            moment = datetime.combine(day, opening, zone).astimezone(start.tzinfo)
            end = datetime.combine(day, closing, zone).astimezone(start.tzinfo)
            while moment < end:
                if start <= moment <= now + timedelta(days=days) and hours.is_open(moment):
                    found.append(moment)
                moment += step
    return sorted(set(found))


def undo_cancel(session: Session, clock: Clock, ref: str, limits: Limits) -> CallbackRequest:
    """Take back the customer's own cancel within UNDO_CANCEL: the request waits again, in its old place.

    One conditional UPDATE, so an undo never revives a request canceled by anyone else, too long
    ago, or expired meanwhile; nor a second one for a number and topic that asked again since (the
    unique index on active requests refuses it). Waiting again is judged as a new ask would be, under
    the number's lock: not for a number put on the do-not-call list since, nor past the number's
    active requests (what it asked for meanwhile counts).
    """
    request = get(session, ref)
    now = clock.now()
    if can_undo_cancel(request, now) is None:
        # Too late, not the customer's cancel, or canceled while we were ringing (that call is still
        # being closed): the request stays canceled.
        raise Conflict("too_late_to_undo", "This cancel can no longer be undone. Please ask for a new callback.")
    try:
        serialise_asks(session, request.phone, None)
        if _active_for(session, request.phone, request.queue_id) is not None:
            raise Conflict(
                "asked_again", "This number has asked about this topic again since, so this request stays canceled."
            )
        check_do_not_call(session, request.phone)
        check_active(session, limits, request.phone)
    except Conflict:
        session.rollback()
        raise
    except InvalidInput as error:
        session.rollback()
        raise Conflict(
            "do_not_call", "This number is on our do-not-call list now, so this request stays canceled."
        ) from error
    except LimitExceeded as error:
        session.rollback()
        raise Conflict(
            "too_many_active",
            "This number already has as many callbacks waiting as it may, so this request stays canceled.",
        ) from error
    r = CallbackRequest
    try:
        changed = rows_changed(
            session,
            update(r)
            .where(
                r.id == request.id,
                r.status == "canceled",
                r.outcome == CANCELED_BY_CUSTOMER,
                r.updated_at >= now - UNDO_CANCEL,
                r.expires_at > now,
            )
            .values(status="queued", outcome=None, agent_id=None, updated_at=now),
        )
    except IntegrityError:
        session.rollback()
        raise Conflict(
            "asked_again", "This number has asked about this topic again since, so this request stays canceled."
        ) from None
    if not changed:
        session.rollback()
        raise Conflict("too_late_to_undo", "This cancel can no longer be undone. Please ask for a new callback.")
    session.commit()
    session.refresh(request)
    log.info("callback cancel undone", extra={"request": request.id})
    return request


def can_undo_cancel(request: CallbackRequest, now: datetime) -> datetime | None:
    """Until when the customer may still undo this request's cancel (None: they may not)."""
    if request.status != "canceled" or request.outcome != CANCELED_BY_CUSTOMER or request.expires_at <= now:
        return None
    if any(a.ended_at is None for a in request.call_attempts):
        return None
    until = request.updated_at + UNDO_CANCEL
    return until if until > now else None
