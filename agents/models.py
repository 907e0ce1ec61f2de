"""Queues (topics) and agents, with the agent availability state machine."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import (
    Boolean,
    Column,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    and_,
    event,
    insert,
    inspect,
    not_,
    or_,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from core.db import Base, UtcDateTime
from core.hours import BusinessHours


class IllegalAgentTransition(Exception):
    """An agent status change the state machine does not allow."""


agent_queues = Table(
    "agent_queues",
    Base.metadata,
    Column("agent_id", ForeignKey("agents.id", ondelete="CASCADE"), primary_key=True),
    Column("queue_id", ForeignKey("queues.id", ondelete="CASCADE"), primary_key=True),
)


DEFAULT_TIMEZONE = "America/New_York"
DEFAULT_HOURS = "mon-fri 09:00-17:00"


def primary_language(code: str) -> str:
    """The language of a tag without its region or script, lower case: "en-US" -> "en", "ES" -> "es"."""
    return code.strip().split("-")[0].split("_")[0].lower()


# Language codes as staff read them (the whisper and the agent's screen are in English).
LANGUAGE_NAMES = {"en": "English", "es": "Spanish"}


def language_name(code: str) -> str:
    """A language code as staff read it: "es-MX" -> "Spanish"; an unknown code as it is."""
    return LANGUAGE_NAMES.get(primary_language(code), code)


class Queue(Base):
    """A topic customers choose, served by its agents, with its own hours and retry policy."""

    __tablename__ = "queues"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    caller_id: Mapped[str] = mapped_column(String(20))
    timezone: Mapped[str] = mapped_column(String(64), default=DEFAULT_TIMEZONE)
    hours: Mapped[str] = mapped_column(Text, default=DEFAULT_HOURS)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    # Seconds to wait before attempt 2, 3, ...; the last value repeats.
    backoff_seconds: Mapped[str] = mapped_column(String(200), default="120,600,1800")
    expiry_hours: Mapped[int] = mapped_column(Integer, default=24)
    wrap_up_seconds: Mapped[int] = mapped_column(Integer, default=30)
    # Talk time assumed for the wait estimate until the queue has its own history.
    default_handle_seconds: Mapped[int] = mapped_column(Integer, default=300)
    dial_strategy: Mapped[str] = mapped_column(String(20), default="customer_first")
    recording: Mapped[bool] = mapped_column(Boolean, default=False)
    # The service-level target: a request connected within this many seconds of being due counts as
    # answered in time (reports.figures.service_level).
    service_level_seconds: Mapped[int] = mapped_column(Integer, default=900, server_default=text("900"))
    # The languages its agents speak, as codes ("en,es"): a caller who chose another language in the
    # phone menu is told the agent may not speak it, and so is the agent.
    languages: Mapped[str] = mapped_column(String(40), default="en", server_default=text("'en'"))

    agents: Mapped[list[Agent]] = relationship(secondary=agent_queues, back_populates="queues")

    @property
    def business_hours(self) -> BusinessHours:
        """The parsed opening hours in the queue's time zone."""
        return BusinessHours.parse(self.hours, self.timezone)

    def expiry(self, start: datetime) -> datetime:
        """When a request due at `start` is given up if no call reached the customer: after
        `expiry_hours` of opening time, so a night or a weekend closed does not use up its life (a
        request made on Friday evening is still there on Monday). A queue that does not open that long
        within the year (closed for good) counts the hours on the clock."""
        open_for = timedelta(hours=self.expiry_hours)
        return self.business_hours.after_open_time(start, open_for) or start + open_for

    @property
    def backoff(self) -> list[int]:
        """The back-off schedule as seconds."""
        return [int(part) for part in self.backoff_seconds.split(",") if part.strip()]

    @property
    def spoken(self) -> tuple[str, ...]:
        """The language codes its agents speak, in the order given."""
        return tuple(code.strip() for code in self.languages.split(",") if code.strip()) or ("en",)

    def speaks(self, language: str) -> bool:
        """Whether its agents speak `language` (a code like "es"): by the language, whatever the region,
        so agents listed as "en-US" speak to a caller who chose "en"."""
        return primary_language(language) in {primary_language(code) for code in self.spoken}

    def spoken_words(self) -> str:
        """The languages its agents speak, as staff read them: "English or Spanish"."""
        return " or ".join(language_name(code) for code in dict.fromkeys(map(primary_language, self.spoken)))

    def retry_delay(self, attempts_made: int) -> timedelta:
        """How long to wait after `attempts_made` failed attempts before the next one."""
        schedule = self.backoff or [300]
        return timedelta(seconds=schedule[min(max(attempts_made, 1), len(schedule)) - 1])


AGENT_STATUSES = ("offline", "available", "reserved", "on_call", "wrap_up", "away")

# Who may move where. reserved/on_call are driven by the dispatcher, never by a person.
AGENT_TRANSITIONS: dict[str, frozenset[str]] = {
    "offline": frozenset({"available", "away"}),
    "available": frozenset({"reserved", "away", "offline"}),
    "reserved": frozenset({"on_call", "available", "away"}),
    "on_call": frozenset({"wrap_up"}),
    "wrap_up": frozenset({"available", "away", "offline"}),
    "away": frozenset({"available", "offline"}),
}

# Statuses in which an agent counts as staffing their queues (for wait estimates).
STAFFED = frozenset({"available", "reserved", "on_call", "wrap_up"})
# How the line's own reasons begin when it sets an agent away (callback.line): a missed call, a number the
# phone service refused. Such an away lasts until someone makes the agent available again, which may be
# never (a dead phone, someone gone home), so it is not a break that the agent will come back from.
MISSED_A_CALL = "missed a call"
NUMBER_REFUSED = "their phone number was refused"
LINE_AWAY_REASONS = (MISSED_A_CALL, NUMBER_REFUSED)


class Agent(Base):
    """A person who takes calls, at a phone number or a browser client identity."""

    __tablename__ = "agents"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    client: Mapped[str | None] = mapped_column(String(80), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="offline", index=True)
    status_since: Mapped[datetime] = mapped_column(UtcDateTime)
    # When wrap-up ends; the queue of the call just handled decides how long it lasts.
    busy_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Why the status last changed, in words an agent or supervisor can read ("missed a call ...").
    status_reason: Mapped[str | None] = mapped_column(String(200))
    # What the agent asked to be while the line held them for a call (a break, signing out): set when
    # the line lets them go (agents.service.after_call). One of AFTER_CALL, or None.
    after_call_status: Mapped[str | None] = mapped_column(String(16))
    # Who asked for it, when not the agent ("set by Sam (supervisor)"): the status_reason it will have.
    after_call_reason: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)

    queues: Mapped[list[Queue]] = relationship(secondary=agent_queues, back_populates="agents", order_by=Queue.name)

    @property
    def endpoint(self) -> str:
        """What Twilio dials: an E.164 number or 'client:identity'."""
        return self.phone if self.phone else f"client:{self.client}"

    def move_to(self, status: str, now: datetime, reason: str | None = None) -> bool:
        """Change status if the state machine allows it; returns False when already there."""
        if status not in AGENT_STATUSES:
            raise IllegalAgentTransition(f"unknown status {status!r}")
        if status == self.status:
            return False
        if status not in AGENT_TRANSITIONS[self.status]:
            raise IllegalAgentTransition(f"an agent who is {self.status} cannot become {status}")
        self.status = status
        self.status_since = now
        self.status_reason = reason
        return True


def on_a_break() -> ColumnElement[bool]:
    """Away by their own choice or a supervisor's (a break, a meeting): back before long. Not an away
    the line set after a missed call or a refused number (LINE_AWAY_REASONS)."""
    set_by_line = or_(*(Agent.status_reason.like(f"{reason}%") for reason in LINE_AWAY_REASONS))
    return and_(Agent.status == "away", or_(Agent.status_reason.is_(None), not_(set_by_line)))


class AgentStatusChange(Base):
    """An agent entered a status at a moment: the history that occupancy and the board's "since" read.

    One row per change; a status lasts until the agent's next row. Written for every change, by the
    ORM hook below for `Agent.move_to` and by `log_status` for the line's conditional bulk updates.
    """

    __tablename__ = "agent_status_changes"
    __table_args__ = (Index("ix_agent_status_changes_agent_at", "agent_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agent_id: Mapped[int] = mapped_column(ForeignKey("agents.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)

    agent: Mapped[Agent] = relationship()


def log_status(session: Session, agent_ids: list[int], status: str, at: datetime) -> None:
    """Record that these agents entered `status` at `at` (for changes made by a bulk UPDATE)."""
    if agent_ids:
        session.execute(insert(AgentStatusChange), [{"agent_id": i, "status": status, "at": at} for i in agent_ids])


@event.listens_for(Session, "before_flush")
def _log_orm_status_changes(session: Session, _context: object, _instances: object) -> None:
    """Every status an agent object takes through the ORM is written to the history with it."""
    for obj in [*session.new, *session.dirty]:
        if isinstance(obj, Agent) and _status_changed(obj):
            session.add(AgentStatusChange(agent=obj, status=obj.status, at=obj.status_since))


def _status_changed(agent: Agent) -> bool:
    """Whether the agent is new or its status changed since it was loaded."""
    state = inspect(agent)
    return bool(state.pending or state.transient or state.attrs.status.history.has_changes())


def language_words(language: str, queue: Queue) -> str:
    """The customer's language for the agent: "Spanish", and a warning when the queue's agents do not
    speak it ("Spanish (this team speaks English)")."""
    name = language_name(language)
    return name if queue.speaks(language) else f"{name} (this team speaks {queue.spoken_words()})"
