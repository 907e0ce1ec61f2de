"""Callback requests, their call attempts, and the do-not-call list."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import Boolean, ColumnElement, Float, ForeignKey, Index, Integer, String, Text, and_, or_, select, text
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, aliased, mapped_column, relationship

import agents.staff  # noqa: F401 - registers staff_users, which disposed_by_staff_id refers to
from agents.models import Agent, Queue
from core.db import Base, UtcDateTime

ACTIVE = ("queued", "dialing", "connecting", "connected", "retry_wait")
WAITING = ("queued", "retry_wait")
FINAL = ("completed", "failed", "canceled", "expired")
# The outcome of an ask that found an active request for its number and topic: stored canceled only
# so the rate limits count it (callback.service._judge); not a request, so no figure or metric counts it.
DUPLICATE_ASK = "duplicate_ask"
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


def wanted_from(created_at: datetime, not_before: datetime | None) -> datetime:
    """When a request's customer wanted the call from: when they asked, or the later time they booked."""
    return max(created_at, not_before) if not_before is not None else created_at


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
        return wanted_from(self.created_at, self.not_before)

    @property
    def due_at(self) -> datetime:
        """When the request may next be dialled (ignoring business hours)."""
        candidates = [t for t in (self.not_before, self.next_attempt_at) if t is not None]
        return max(candidates) if candidates else self.created_at

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
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("callback_requests.id"), index=True)
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
        """When the agent now on the line accepted: the last acceptance not ended unbridged. An agent
        who accepted and dropped before the bridge (outcome "dropped") did not talk; the next one did."""
        accepted = [leg.accepted_at for leg in self.agent_legs if leg.accepted_at and leg.outcome in {None, "accepted"}]
        return max(accepted, default=None)


AGENT_LEG_OUTCOMES = ("accepted", "no_answer", "declined", "dropped", "voicemail", "busy", "failed", "canceled")


class AgentLeg(Base):
    """One agent rung for an attempt: screened, so only an acceptance puts the customer through."""

    __tablename__ = "agent_legs"
    __table_args__ = (Index("ix_agent_legs_agent_rung", "agent_id", "rung_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("call_attempts.id"), index=True)
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"))
    call_sid: Mapped[str | None] = mapped_column(String(40))
    rung_at: Mapped[datetime] = mapped_column(UtcDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Confirmed by Twilio (DialBridged=true, or the customer's greeting in agent-first).
    bridged_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    answered_by: Mapped[str | None] = mapped_column(String(24))
    outcome: Mapped[str | None] = mapped_column(String(16))
    talk_seconds: Mapped[int | None] = mapped_column(Integer)

    attempt: Mapped[CallAttempt] = relationship(back_populates="agent_legs")
    agent: Mapped[Agent | None] = relationship()

    @hybrid_property
    def talked(self) -> bool:
        """Whether the agent talked with the customer on this leg: it was bridged, or (customer-first,
        where the customer is already on the line) it was accepted and is still live, since Twilio
        confirms that bridge only when it ends. Agent-first, the agent accepts before we ring the
        customer, who may never answer: only the bridge counts."""
        if self.bridged_at is not None:
            return True
        return self.accepted_at is not None and self.ended_at is None and not self.attempt.agent_first

    @talked.inplace.expression
    @classmethod
    def _talked_expression(cls) -> ColumnElement[bool]:
        # Its own alias of the attempts, so a query that joins them already does not swallow it.
        attempt = aliased(CallAttempt)
        agent_first = select(attempt.agent_first).where(attempt.id == cls.attempt_id).scalar_subquery()
        return or_(
            cls.bridged_at.is_not(None), and_(cls.accepted_at.is_not(None), cls.ended_at.is_(None), ~agent_first)
        )


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
