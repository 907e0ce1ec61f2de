"""Callback requests, their call attempts, and the do-not-call list."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Connection,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    and_,
    event,
    or_,
    select,
    text,
)
from sqlalchemy.ext.hybrid import hybrid_method, hybrid_property
from sqlalchemy.orm import Mapped, Mapper, aliased, mapped_column, relationship

import agents.staff  # noqa: F401 - registers staff_users, which disposed_by_staff_id refers to
from agents.models import Agent, Queue
from core.db import Base, UtcDateTime

ACTIVE = ("queued", "dialing", "connecting", "connected", "retry_wait")
WAITING = ("queued", "retry_wait")
FINAL = ("completed", "failed", "canceled", "expired")
# The outcome of an ask that found an active request for its number and topic: stored canceled only
# so the rate limits count it (CallbackRequest.close_as_repeated_ask); not a request, so no figure or
# metric counts it.
DUPLICATE_ASK = "duplicate_ask"
# The outcome of an ask for a number on the do-not-call list, kept the same way: the limits count it
# before the answer says so, or asking would tell anyone, free and without end, whose owner asked never
# to be called (CallbackRequest.close_as_refused_ask).
REFUSED_ASK = "do_not_call_ask"
# The asks kept only for the limits: no request, so no figure, metric or list of requests counts them.
ASKS_KEPT_FOR_LIMITS = (DUPLICATE_ASK, REFUSED_ASK)
# The name of a request made in the phone menu: the caller gave none (callback.twiml says who they are).
PHONE_CALLER = "Phone caller"
# The key of a phone-menu caller's IVR context that keeps the caller ID they presented when it matched
# another open request of that number and topic (their own request then has a placeholder number).
MATCHED_CALLER_ID = "matched_caller_id"
# The key, in a phone-menu caller's IVR session state and in their request's IVR context, of the carrier's
# doubt about their caller ID (SHAKEN/STIR: ivr.flow.caller_id_doubted): staff are told it may not be theirs.
CALLER_ID_DOUBTED = "caller_id_doubted"
# How an agent sums up a call at wrap-up (stored on the request with a note).
DISPOSITIONS = ("resolved", "follow_up", "call_back_later", "wrong_queue", "other")

# Legal moves of a request; everything else is refused by the model.
TRANSITIONS: dict[str, frozenset[str]] = {
    # queued -> failed: a bound a customer can trust was reached (too many calls to the number).
    "queued": frozenset({"dialing", "canceled", "expired", "queued", "failed"}),
    "dialing": frozenset({"connecting", "retry_wait", "failed", "canceled", "expired", "queued"}),
    # Back to "queued" from connecting: the customer was reached but the agent was lost.
    "connecting": frozenset({"connected", "retry_wait", "failed", "canceled", "expired", "queued"}),
    # Back to "connecting" from connected: the agent dropped before the customer heard them.
    "connected": frozenset({"completed", "connecting"}),
    "retry_wait": frozenset({"queued", "dialing", "canceled", "expired", "failed"}),
    "completed": frozenset(),
    "failed": frozenset(),
    "canceled": frozenset(),
    "expired": frozenset(),
}

_ACTIVE_SQL = "status IN ('queued', 'dialing', 'connecting', 'connected', 'retry_wait')"
# Waiting and holding on the line; spelled out in the dispatcher's query too (SQLite matches partial indexes by text).
_HOLDING_SQL = "status IN ('queued', 'retry_wait') AND hold_call_sid IS NOT NULL"


class IllegalTransition(Exception):
    """A status change the request's life cycle does not allow."""


def new_ref() -> str:
    """An unguessable public reference: 128 random bits, URL-safe."""
    return secrets.token_urlsafe(16)


def wanted_from(created_at: datetime, not_before: datetime | None, asked_asap_at: datetime | None = None) -> datetime:
    """When a request's customer wanted the call from: when they asked, the later time they booked, or,
    for a booking they changed to "as soon as possible", the moment they did."""
    if not_before is not None:
        return max(created_at, not_before)
    return max(created_at, asked_asap_at) if asked_asap_at is not None else created_at


class CallbackRequest(Base):
    """A customer's request to be called back, from the web, the API or the IVR."""

    __tablename__ = "callback_requests"
    __table_args__ = (
        # One active request per number and topic, enforced by the database so two racing posts
        # cannot both get in.
        Index(
            "uq_callback_active_phone_queue",
            "phone",
            "queue_id",
            unique=True,
            sqlite_where=text(_ACTIVE_SQL),
            postgresql_where=text(_ACTIVE_SQL),
        ),
        # The dispatcher's and the position query's order: waiting requests of a queue by priority
        # and arrival. Partial, so finished requests (the vast majority) cost nothing.
        Index(
            "ix_callback_waiting_order",
            "queue_id",
            text("priority DESC"),
            "created_at",
            "id",
            sqlite_where=text("status IN ('queued', 'retry_wait')"),
            postgresql_where=text("status IN ('queued', 'retry_wait')"),
        ),
        # The same order over the callers holding on the line, the only ones served while a queue is
        # closed (scheduler.dispatcher): a handful of rows, however many web requests wait for the morning.
        Index(
            "ix_callback_holding_order",
            "queue_id",
            text("priority DESC"),
            "created_at",
            "id",
            sqlite_where=text(_HOLDING_SQL),
            postgresql_where=text(_HOLDING_SQL),
        ),
        Index("ix_callback_phone_created", "phone", "created_at"),
        # A unique index, not a constraint: SQLite adds an index in place, a constraint by copying the
        # table (and a copy would lose the DESC of the waiting index above).
        Index("uq_callback_requests_hold_call_sid", "hold_call_sid", unique=True),
        Index("ix_callback_ip_created", "client_ip", "created_at"),
        # The supervisors' list (newest first) and the figures of a period both read by creation time.
        Index("ix_callback_created", "created_at", "id"),
        # Requests by status, and when they last moved: the board's "failed in the last hour", its counts
        # of the requests waiting or being called (on SQLite too, which matches a partial index only to a
        # query that spells out its condition), and the customers' cancels that /metrics counts once they
        # can no longer be undone (reports.live, reports.instruments). queue_id last: counts per queue
        # are read from the index alone.
        Index("ix_callback_status_updated", "status", "updated_at", "queue_id"),
        # An API retry finds the request its Idempotency-Key made, whatever became of it since.
        Index(
            "ix_callback_form_digest",
            "form_digest",
            sqlite_where=text("form_digest IS NOT NULL"),
            postgresql_where=text("form_digest IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(32), unique=True, default=new_ref)
    phone: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(80))
    queue_id: Mapped[int] = mapped_column(ForeignKey("queues.id"))
    order_number: Mapped[str | None] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(8), default="web")
    client_ip: Mapped[str | None] = mapped_column(String(45))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    priority: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    not_before: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # When a booking was changed to "as soon as possible" (reschedule): the wait counts from then.
    asked_asap_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    ivr_context: Mapped[str | None] = mapped_column(Text)
    # A caller holding on the line (in <Enqueue>) instead of waiting for a callback: their call's SID.
    hold_call_sid: Mapped[str | None] = mapped_column(String(40))
    outcome: Mapped[str | None] = mapped_column(String(40))
    # The wait we quoted when the request was made, in seconds from created_at (None: we could not
    # say, as when nobody staffs the queue). reports.figures weighs it against the wait they had.
    quoted_wait_seconds: Mapped[int | None] = mapped_column(Integer)
    # The agent's wrap-up: one of DISPOSITIONS and a free-text note, with who wrote it and when.
    disposition: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    disposed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    disposed_by_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    # The language the request was made in (a code of callback.words.LANGUAGES, "en" or "es"): the
    # pages it reads and the words of the call we place.
    language: Mapped[str] = mapped_column(String(8), default="en", server_default=text("'en'"))
    # SHA-256 of the random id of the form that made the request (web only): a second post of that
    # same form (a double click) is its maker's, while one who merely knows the number cannot show it.
    form_digest: Mapped[str | None] = mapped_column(String(64))

    queue: Mapped[Queue] = relationship(lazy="joined")
    agent: Mapped[Agent | None] = relationship()
    call_attempts: Mapped[list[CallAttempt]] = relationship(back_populates="request", order_by="CallAttempt.id")

    @property
    def wanted_at(self) -> datetime:
        """When the customer wanted the call from (wanted_from): the wait, the speed of answer and the
        service level count from it, never from the booking of a later slot."""
        return wanted_from(self.created_at, self.not_before, self.asked_asap_at)

    @property
    def due_at(self) -> datetime:
        """When the request may next be served (ignoring business hours): the later of its slot and its
        back-off; for a caller holding on the line, its arrival, whatever its own time (see due_by)."""
        candidates = [t for t in (self.not_before, self.next_attempt_at) if t is not None]
        if self.hold_call_sid is not None or not candidates:
            return self.created_at
        return max(candidates)

    @hybrid_method
    def due_by(self, moment: datetime) -> bool:
        """Whether the request may be served at `moment` (business hours aside): a caller holding on the
        line always, since they are on the phone in the line's order now (a slot they booked or the
        back-off after a missed call are about when to call them); any other once its time has come."""
        return self.due_at <= moment

    @due_by.expression
    @classmethod
    def _due_by_expression(cls, moment: datetime) -> ColumnElement[bool]:
        return or_(
            cls.hold_call_sid.is_not(None),
            and_(
                or_(cls.not_before.is_(None), cls.not_before <= moment),
                or_(cls.next_attempt_at.is_(None), cls.next_attempt_at <= moment),
            ),
        )

    @hybrid_method
    def past_expiry(self, moment: datetime) -> bool:
        """Whether the request has outlived its expiry at `moment`: never while its caller holds on the
        line (they are waiting on the phone; once they stop, the expiry applies again)."""
        return self.hold_call_sid is None and self.expires_at <= moment

    @past_expiry.expression
    @classmethod
    def _past_expiry_expression(cls, moment: datetime) -> ColumnElement[bool]:
        return and_(cls.hold_call_sid.is_(None), cls.expires_at <= moment)

    def _move(self, status: str, now: datetime) -> None:
        if status not in TRANSITIONS[self.status]:
            raise IllegalTransition(f"a {self.status} request cannot become {status}")
        self.status = status
        self.updated_at = now

    @hybrid_property
    def dialable(self) -> bool:
        """Whether we may dial the number: only E.164 numbers. A phone-menu caller we cannot call back
        (withheld, abroad) has a placeholder ("call:...") that keeps one request per call."""
        return self.phone.startswith("+")

    @dialable.inplace.expression
    @classmethod
    def _dialable_expression(cls) -> ColumnElement[bool]:
        return cls.phone.like("+%")

    @property
    def unverified_caller_id(self) -> str | None:
        """The caller ID a phone-menu caller presented that matched another open request of that number
        and topic, kept for staff to read as what it is: unverified (anyone can send any caller ID).
        Their own request has a placeholder number, so this one is never dialled; None otherwise."""
        if self.dialable:
            return None
        number = self._context().get(MATCHED_CALLER_ID)
        return number if isinstance(number, str) and number.startswith("+") else None

    @property
    def caller_id_doubted(self) -> bool:
        """Whether the carrier doubted the caller ID of the phone-menu call that made this request (a
        failed or partial SHAKEN/STIR attestation): the number may be someone else's, so staff are told."""
        return self._context().get(CALLER_ID_DOUBTED) is True

    def _context(self) -> dict[str, object]:
        """The phone menu's context of the request (empty for one made elsewhere, or unreadable)."""
        if not self.ivr_context:
            return {}
        try:
            context = json.loads(self.ivr_context)
        except ValueError:
            return {}
        return context if isinstance(context, dict) else {}

    def close_as_repeated_ask(self) -> None:
        """A new row for an ask that found an active request for its number and topic: closed at once,
        kept only so the limits count it like any other ask (otherwise trying numbers and topics to find
        other people's requests would cost nothing)."""
        self.status, self.outcome = "canceled", DUPLICATE_ASK

    def close_as_refused_ask(self) -> None:
        """A new row for an ask refused because its number is on the do-not-call list: closed at once, kept
        only so the limits count it before the refusal is said (as close_as_repeated_ask)."""
        self.status, self.outcome = "canceled", REFUSED_ASK

    @hybrid_property
    def in_line(self) -> bool:
        """Whether a waiting request is in the line agents are given from: a caller holding on it, or a
        callback to a number we may dial. A message from a caller we cannot call back (a "call:"
        placeholder) waits for a person to hear it, not in line: it is never dialled, nobody is ahead
        of anyone because of it. The one rule for the dispatcher, a place in line and the busy offer."""
        return self.hold_call_sid is not None or self.dialable

    @in_line.inplace.expression
    @classmethod
    def _in_line_expression(cls) -> ColumnElement[bool]:
        return or_(cls.hold_call_sid.is_not(None), cls.dialable)

    def cancel(self, now: datetime) -> bool:
        """Cancel at the customer's wish; False if it was already canceled."""
        if self.status == "canceled":
            return False
        if "canceled" not in TRANSITIONS[self.status]:
            raise IllegalTransition(f"a {self.status} request can no longer be canceled")
        self._move("canceled", now)
        self.outcome = "canceled_by_customer"
        return True

    def reschedule(self, not_before: datetime | None, now: datetime) -> None:
        """Move a waiting request to a new time slot (None: as soon as possible)."""
        if self.status not in WAITING:
            raise IllegalTransition(f"a {self.status} request cannot be rescheduled")
        if not_before is None and self.not_before is not None:
            self.asked_asap_at = max(now, self.created_at)  # wanted from now, not from the first ask
        self.not_before = not_before
        self.next_attempt_at = None
        self._move("queued", now)

    def start_dialing(self, agent_id: int, now: datetime) -> None:
        """Claimed for an agent (callback.line.claim does this in SQL and counts the calls placed)."""
        self._move("dialing", now)
        self.agent_id = agent_id

    def answered(self, now: datetime) -> None:
        """The customer picked up; we are confirming and ringing the agent."""
        self._move("connecting", now)

    def bridged(self, now: datetime) -> None:
        """Customer and agent are talking."""
        self._move("connected", now)

    def unbridged(self, now: datetime) -> None:
        """The agent hung up during the whisper: the customer is still waiting for someone."""
        self._move("connecting", now)

    def complete(self, now: datetime) -> None:
        """The conversation ended normally."""
        self._move("completed", now)
        self.outcome = "completed"

    def not_reached(self, outcome: str, now: datetime, next_attempt_at: datetime | None) -> None:
        """An attempt did not reach the customer: retry later, or fail when none is left."""
        self.outcome = outcome
        self.agent_id = None
        if next_attempt_at is None:
            self._move("failed", now)
        else:
            self._move("retry_wait", now)
            self.next_attempt_at = next_attempt_at

    def requeue_first(self, now: datetime) -> None:
        """The customer was reached but lost their agent: back in line, ahead of everyone."""
        self._move("queued", now)
        self.agent_id = None
        self.priority += 1
        self.next_attempt_at = None

    def release(self, now: datetime) -> None:
        """Undo a claim whose customer was never called: back in line (callback.line recounts calls)."""
        if self.status != "dialing":
            raise IllegalTransition(f"a {self.status} request has no claim to release")
        self._move("queued", now)
        self.agent_id = None

    def fail(self, reason: str, now: datetime) -> None:
        """Give up for good, with the reason a supervisor reads (a call bound, a bad number)."""
        self._move("failed", now)
        self.outcome = reason
        self.agent_id = None
        self.next_attempt_at = None

    def expire(self, now: datetime) -> None:
        """The request outlived its expiry without reaching the customer."""
        self._move("expired", now)
        self.outcome = "expired"


class CallAttempt(Base):
    """One outbound call placed for a request, kept for history, metrics and reconciliation."""

    __tablename__ = "call_attempts"
    __table_args__ = (
        # The reaper's question: which attempts are still open? Finished ones are left out.
        Index(
            "ix_call_attempts_open",
            "created_at",
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
        # A queue's recent handle time (callback.service.staffing): its last talked calls, newest first,
        # read from this index alone, so 50 entries whatever the line's history and however rarely the
        # queue is called. Partial: the calls nobody talked on (about half) are not in it.
        Index(
            "ix_call_attempts_queue_talked",
            "queue_id",
            "id",
            "talk_seconds",
            sqlite_where=text("talk_seconds IS NOT NULL"),
            postgresql_where=text("talk_seconds IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("callback_requests.id"), index=True)
    # The queue the request was in when the call was made: written once, at insert (_in_request_queue),
    # and kept when staff move the request later, since the call was that queue's agents' work. The
    # request's queue_id, copied so a queue's calls are found without reading through every other
    # queue's (ix_call_attempts_queue_talked). NULL only in a row inserted by hand without it: 0021 filled
    # the older rows, and a NOT NULL column would have cost SQLite a copy of the table.
    queue_id: Mapped[int | None] = mapped_column(ForeignKey("queues.id"))
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    call_sid: Mapped[str | None] = mapped_column(String(40), unique=True)
    # The <Dial> leg's SID: the agent's in customer-first, the customer's in agent-first.
    agent_call_sid: Mapped[str | None] = mapped_column(String(40))
    # Agent-first: the call we placed rang the agent, who then rang the customer.
    agent_first: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    # The customer leg's last known Twilio status, and the newest status callback applied.
    call_status: Mapped[str | None] = mapped_column(String(16))
    last_sequence: Mapped[int] = mapped_column(Integer, default=-1, server_default=text("-1"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    placed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ringing_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Agent-first: when the customer answered in person and the greeting began. The bridge to the agent
    # follows the greeting, so the customer is not connected yet: they may hang up while it plays.
    greeted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # When customer and agent were put through (put_through_at), written only once Twilio confirms the
    # bridge (the Dial action's DialBridged) or the call ends connected: never for a bridge that did not
    # happen, so everything counted from it (callme_wait_to_connect_seconds, the figures) counts it once.
    bridged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # When the reaper last asked the provider about this call, so long calls are not polled every pass.
    checked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    answered_by: Mapped[str | None] = mapped_column(String(24))
    outcome: Mapped[str | None] = mapped_column(String(24))
    agent_outcome: Mapped[str | None] = mapped_column(String(24))
    talk_seconds: Mapped[int | None] = mapped_column(Integer)
    # When a call to the customer's number was placed (or was about to be: set under the claim, and
    # cleared only when the provider proves no call was made). Every bound a customer can trust counts
    # these; an IVR transfer or a holder put through has none, since the customer called us.
    dialled_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # When an agent pressed 1 (or said "accept") to take this call: nothing is completed without it.
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    request: Mapped[CallbackRequest] = relationship(back_populates="call_attempts")
    agent: Mapped[Agent | None] = relationship()
    agent_legs: Mapped[list[AgentLeg]] = relationship(back_populates="attempt", order_by="AgentLeg.id")

    @property
    def is_open(self) -> bool:
        """Whether the attempt still waits for news from the provider."""
        return self.ended_at is None

    @property
    def live_acceptance(self) -> datetime | None:
        """When the agent now on the line accepted (see live_acceptance_of)."""
        return live_acceptance_of((leg.accepted_at, leg.outcome) for leg in self.agent_legs)

    @property
    def put_through_at(self) -> datetime | None:
        """When the customer now on the line was put through to an agent (see put_through_time)."""
        return put_through_time(
            self.agent_first, self.greeted_at, ((leg.accepted_at, leg.outcome) for leg in self.agent_legs)
        )


# The rules of when a customer was put through, on plain values: the ORM's attempts use them, and so do
# the figures, which read rows without the ORM (reports.figures) for speed.


def live_acceptance_of(legs: Iterable[tuple[datetime | None, str | None]]) -> datetime | None:
    """When the agent now on the line accepted, from an attempt's legs as (accepted_at, outcome): the last
    acceptance not ended unbridged. An agent who accepted and dropped before the bridge (outcome
    "dropped") did not talk; the next one did."""
    return max((at for at, outcome in legs if at is not None and outcome in {None, "accepted"}), default=None)


def put_through_time(
    agent_first: bool, greeted_at: datetime | None, legs: Iterable[tuple[datetime | None, str | None]]
) -> datetime | None:
    """When the customer now on the line was put through to an agent, before Twilio confirms the bridge
    that follows: customer-first, the live acceptance; agent-first, the greeting (the agent accepted
    before the customer was even rung), and the legs are not read."""
    return greeted_at if agent_first else live_acceptance_of(legs)


@event.listens_for(CallAttempt, "before_insert")
def _in_request_queue(_mapper: Mapper[CallAttempt], _connection: Connection, attempt: CallAttempt) -> None:
    """Every attempt is written with its request's queue, whoever creates it and however (request_id or
    request=): a subquery in the INSERT itself, so it costs no round trip and cannot be forgotten."""
    if attempt.queue_id is None:
        # A SQL expression assigned to an attribute is rendered into the INSERT (and the value read back
        # when next asked for).
        of_request = select(CallbackRequest.queue_id).where(CallbackRequest.id == attempt.request_id)
        attempt.queue_id = of_request.scalar_subquery()


AGENT_LEG_OUTCOMES = ("accepted", "no_answer", "declined", "dropped", "voicemail", "busy", "failed", "canceled")


class AgentLeg(Base):
    """One agent rung for an attempt: screened, so only an acceptance puts the customer through."""

    __tablename__ = "agent_legs"
    __table_args__ = (
        # An agent's legs newest first (their latest call, today's calls), ties by id: the console's poll
        # reads them in the index's own order, never sorting the agent's history.
        Index("ix_agent_legs_agent_rung", "agent_id", "rung_at", "id"),
        # The console's every-second question, "is a call ringing or live for this agent?": only the open
        # legs, a handful, whatever the agent's history (without it, an idle agent's poll read every leg
        # they ever had).
        Index(
            "ix_agent_legs_open",
            "agent_id",
            "id",
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
        # The agent's last conversation (the console's "last call"): bridged legs only, newest first.
        Index(
            "ix_agent_legs_agent_bridged",
            "agent_id",
            "bridged_at",
            "id",
            sqlite_where=text("bridged_at IS NOT NULL"),
            postgresql_where=text("bridged_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("call_attempts.id"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    call_sid: Mapped[str | None] = mapped_column(String(40))
    rung_at: Mapped[datetime] = mapped_column(UtcDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # This leg's put_through_at, once Twilio confirms the bridge (DialBridged=true) or the call ends connected.
    bridged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    answered_by: Mapped[str | None] = mapped_column(String(24))
    outcome: Mapped[str | None] = mapped_column(String(16))
    talk_seconds: Mapped[int | None] = mapped_column(Integer)
    # The provider's recording of this agent's conversation (queues that record), once started: one per
    # leg, stopped if the leg ends unbridged, so a next agent's conversation is never in it.
    recording_sid: Mapped[str | None] = mapped_column(String(40))

    attempt: Mapped[CallAttempt] = relationship(back_populates="agent_legs")
    agent: Mapped[Agent | None] = relationship()

    @property
    def put_through_at(self) -> datetime | None:
        """When this leg's agent and the customer were put through, before Twilio confirms the bridge:
        customer-first, the agent's acceptance; agent-first, the customer's greeting."""
        return self.attempt.greeted_at if self.attempt.agent_first else self.accepted_at

    @hybrid_property
    def talked(self) -> bool:
        """Whether the agent talked with the customer on this leg: it was bridged, or it is still live and
        was put through (customer-first: accepted, with the customer already on the line; agent-first:
        the customer answered and was greeted), since Twilio confirms the bridge only when it ends.
        Agent-first, an acceptance alone is no conversation: the customer may never answer."""
        if self.bridged_at is not None:
            return True
        return self.accepted_at is not None and self.ended_at is None and self.put_through_at is not None

    @talked.inplace.expression
    @classmethod
    def _talked_expression(cls) -> ColumnElement[bool]:
        # Its own alias of the attempts, so a query that joins them already does not swallow it.
        attempt = aliased(CallAttempt)
        put_through = (
            select(attempt.id)
            .where(attempt.id == cls.attempt_id, or_(attempt.agent_first.is_(False), attempt.greeted_at.is_not(None)))
            .exists()
        )
        return or_(cls.bridged_at.is_not(None), and_(cls.accepted_at.is_not(None), cls.ended_at.is_(None), put_through))


class ProviderPause(Base):
    """Dialling paused after an account-level refusal or an outage of the provider, shared by every
    dispatcher process; one row per provider account ("dialling")."""

    __tablename__ = "provider_pauses"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    paused_until: Mapped[datetime] = mapped_column(UtcDateTime)
    since: Mapped[datetime] = mapped_column(UtcDateTime)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    code: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(300), default="")


class PacingBucket(Base):
    """The shared calls-per-second schedule: the earliest time the next call may be placed."""

    __tablename__ = "pacing_buckets"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    # Seconds since the epoch as a float, so the slot can be advanced in one UPDATE on any backend.
    next_slot: Mapped[float] = mapped_column(Float, default=0.0)


class SchedulerHeartbeat(Base):
    """One row per dispatcher process (`host:pid`): when it started, finished its last dispatch pass
    and stopped, so /healthz can tell whether anyone is still dispatching."""

    __tablename__ = "scheduler_heartbeats"

    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_pass_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class DoNotCall(Base):
    """A number that has asked never to be called; the form and API refuse it."""

    __tablename__ = "do_not_call"

    phone: Mapped[str] = mapped_column(String(20), primary_key=True)
    reason: Mapped[str | None] = mapped_column(String(200))
    added_at: Mapped[datetime] = mapped_column(UtcDateTime)
