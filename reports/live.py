"""The line right now: what the board shows and what /metrics' gauges report, read in one place.

Each figure here is a count of rows as they stand, not a running total, so every web worker and
every dispatcher process sees the same line whoever changed it.

The board polls this every second and Prometheus scrapes it, however long the history: every read
goes through an index (tests/integration/test_live.py asks both databases for their query plans), and
each kind of count is one statement for all queues together, not one per queue.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from agents.models import AGENT_STATUSES, STAFFED, Agent, Queue, agent_queues
from agents.service import AFTER_CALL_WORDS
from callback import line
from callback import service as callbacks
from callback.models import WAITING, AgentLeg, CallAttempt, CallbackRequest
from reports.figures import shop_zone

# Requests being called or talked to right now.
IN_PROGRESS = ("dialing", "connecting", "connected")
# "Failed in the last hour" on the board.
RECENT_FAILURES = timedelta(hours=1)


@dataclass(frozen=True)
class QueueNow:
    """One queue as it stands."""

    name: str
    display_name: str
    open: bool
    waiting: int  # callbacks due now, not yet being called
    scheduled: int  # callbacks waiting for a later slot or a retry's back-off
    holding: int  # callers on the line itself, in <Enqueue>
    messages: int  # messages kept for the shop from callers we cannot call back: never dialled, a person acts
    longest_wait_seconds: int | None  # the longest anyone due now has waited since they became due
    quoted_wait_seconds: int | None  # what a new customer asking now would be told
    agents: dict[str, int]  # agents of this queue by status (every status, zeros included)
    calls_in_progress: int
    failed_last_hour: int


@dataclass(frozen=True)
class CallNow:
    """The call an agent is on (or being rung for)."""

    request_id: int
    queue: str
    customer: str
    status: str
    since: datetime


@dataclass(frozen=True)
class AgentNow:
    """One agent as they stand."""

    id: int
    name: str
    status: str
    since: datetime
    reason: str | None
    queues: list[str]
    call: CallNow | None
    # What they asked to be once the line lets them go ("Away when this call ends"), if anything.
    after_call: str | None = None


@dataclass(frozen=True)
class Alert:
    """Something a person should look at now."""

    kind: str  # dialling_paused | closed_with_waiting | nobody_staffed | failed_recently
    severity: str  # critical | warning
    message: str
    queue: str | None = None


@dataclass(frozen=True)
class LineNow:
    """The whole line at one moment."""

    at: datetime
    queues: list[QueueNow]
    agents: list[AgentNow]
    alerts: list[Alert] = field(default_factory=list)
    dialling_paused: bool = False
    timezone: str = "UTC"  # the shop's zone (reports.figures.shop_zone), for clock times on the board

    def as_json(self) -> dict[str, Any]:
        """Plain JSON types, times as ISO 8601 in UTC."""

        def convert(value: Any) -> Any:
            if isinstance(value, datetime):
                return value.isoformat()
            if isinstance(value, dict):
                return {k: convert(v) for k, v in value.items()}
            if isinstance(value, list):
                return [convert(v) for v in value]
            return value

        return {
            "at": self.at.isoformat(),
            "dialling_paused": self.dialling_paused,
            "timezone": self.timezone,
            "queues": [convert(asdict(q)) for q in self.queues],
            "agents": [convert(asdict(a)) for a in self.agents],
            "alerts": [asdict(a) for a in self.alerts],
        }


def line_now(session: Session, now: datetime, gauges_only: bool = False) -> LineNow:
    """Read the line: every queue, every agent, and the alerts that follow from them.

    `gauges_only` (a scrape of /metrics): the counts alone, without the wait a new customer would be
    quoted, the agents one by one and their calls, which no gauge reports."""
    queues = list(session.scalars(select(Queue).order_by(Queue.id)))
    pause = line.dialling_paused(session, now)
    requests = _request_counts(session, now)
    agents_by_queue = _agent_counts(session)
    failed = _failed_since(session, now - RECENT_FAILURES)
    queue_rows = [
        _queue_now(
            session,
            queue,
            now,
            requests.get(queue.id, _RequestCounts()),
            agents_by_queue.get(queue.id, Counter()),
            failed.get(queue.id, 0),
            quote=not gauges_only,
        )
        for queue in queues
    ]
    agents = [] if gauges_only else _agents_now(session, {q.id: q.name for q in queues})
    # Every clock time on the board is read in the shop's zone: its first queue's, as the figures say it.
    zone = shop_zone(queues)
    alerts: list[Alert] = []
    if pause is not None:
        until = pause.paused_until.astimezone(zone).strftime("%H:%M %Z")
        alerts.append(
            Alert(
                "dialling_paused",
                "critical",
                f"Dialling is paused by the phone provider (error {pause.code}): {pause.reason}. "
                f"It retries by itself at {until}.",
            )
        )
    for q in queue_rows:
        alerts.extend(_queue_alerts(q))
    return LineNow(
        at=now,
        queues=queue_rows,
        agents=agents,
        alerts=alerts,
        dialling_paused=pause is not None,
        timezone=str(zone.key),
    )


@dataclass
class _RequestCounts:
    """One queue's active requests, counted apart."""

    waiting: int = 0
    scheduled: int = 0
    holding: int = 0
    in_progress: int = 0
    messages: int = 0
    oldest: datetime | None = None  # when the longest-waiting of those due now or holding began to wait


def _request_counts(session: Session, now: datetime) -> dict[int, _RequestCounts]:
    """Every queue's active requests in one statement: waiting, booked for later, holding, being called.

    Read through the index on status (ix_callback_status_updated), which both databases use for
    `status IN (...)` with bound values; SQLite would not match the partial indexes of active requests
    to it, as it matches those only to a condition spelled out in the query's text.
    """
    r = CallbackRequest
    due_now = and_(
        or_(r.not_before.is_(None), r.not_before <= now),
        or_(r.next_attempt_at.is_(None), r.next_attempt_at <= now),
    )
    rows = session.execute(
        select(
            r.queue_id,
            r.status,
            r.hold_call_sid.is_not(None).label("holding"),
            due_now.label("due"),
            r.in_line.label("in_line"),
            func.count(),
            func.min(func.coalesce(r.not_before, r.asked_asap_at, r.created_at)),
        )
        .where(r.status.in_(WAITING + IN_PROGRESS))
        .group_by(r.queue_id, r.status, "holding", "due", "in_line")
    ).all()
    counts: dict[int, _RequestCounts] = {}
    for queue_id, status, is_holding, is_due, in_line, count, earliest in rows:
        c = counts.setdefault(queue_id, _RequestCounts())
        if status in IN_PROGRESS:
            c.in_progress += count
            continue
        if not in_line:
            # A message from a caller we cannot call back: never dialled (CallbackRequest.in_line), so
            # nobody waits on it; a person is to hear it.
            c.messages += count
            continue
        if is_holding:
            c.holding += count
        elif is_due:
            c.waiting += count
        else:
            c.scheduled += count
        if (is_holding or is_due) and earliest is not None:
            c.oldest = earliest if c.oldest is None else min(c.oldest, earliest)
    return counts


def _agent_counts(session: Session) -> dict[int, Counter[str]]:
    """Every queue's agents by status, in one statement."""
    counts: dict[int, Counter[str]] = {}
    for queue_id, status, n in session.execute(
        select(agent_queues.c.queue_id, Agent.status, func.count())
        .join(Agent, agent_queues.c.agent_id == Agent.id)
        .group_by(agent_queues.c.queue_id, Agent.status)
    ):
        counts.setdefault(queue_id, Counter())[status] = n
    return counts


def _failed_since(session: Session, since: datetime) -> dict[int, int]:
    """Every queue's requests that ended failed since `since`: one range of ix_callback_status_updated."""
    r = CallbackRequest
    rows = session.execute(
        select(r.queue_id, func.count()).where(r.status == "failed", r.updated_at >= since).group_by(r.queue_id)
    ).all()
    return {queue_id: int(n) for queue_id, n in rows}


def _queue_now(
    session: Session,
    queue: Queue,
    now: datetime,
    counts: _RequestCounts,
    agents: Counter[str],
    failed: int,
    quote: bool = True,
) -> QueueNow:
    oldest = counts.oldest
    return QueueNow(
        name=queue.name,
        display_name=queue.display_name,
        open=queue.business_hours.is_open(now),
        waiting=counts.waiting,
        scheduled=counts.scheduled,
        holding=counts.holding,
        messages=counts.messages,
        longest_wait_seconds=max(0, int((now - oldest).total_seconds())) if oldest is not None else None,
        quoted_wait_seconds=callbacks.queue_wait(session, queue, now) if quote else None,
        agents={status: int(agents.get(status, 0)) for status in AGENT_STATUSES},
        calls_in_progress=counts.in_progress,
        failed_last_hour=failed,
    )


def _queue_alerts(q: QueueNow) -> list[Alert]:
    alerts = []
    people = q.waiting + q.holding
    if not q.open and q.holding:
        alerts.append(
            Alert(
                "closed_with_waiting",
                "critical",
                f"{q.display_name} is closed with {_people(q.holding)} holding on the line.",
                q.name,
            )
        )
    elif not q.open and q.waiting:
        alerts.append(
            Alert(
                "closed_with_waiting",
                "warning",
                f"{q.display_name} is closed with {_people(q.waiting)} waiting; they will be called when it opens.",
                q.name,
            )
        )
    staffed = sum(q.agents[s] for s in STAFFED)
    if q.open and people and not staffed:
        away, offline = q.agents["away"], q.agents["offline"]
        alerts.append(
            Alert(
                "nobody_staffed",
                "critical",
                f"{q.display_name} has {_people(people)} waiting and nobody taking calls "
                f"({away} away, {offline} offline).",
                q.name,
            )
        )
    if q.failed_last_hour:
        alerts.append(
            Alert(
                "failed_recently",
                "warning",
                f"{q.display_name}: {q.failed_last_hour} request{'' if q.failed_last_hour == 1 else 's'} "
                "failed in the last hour.",
                q.name,
            )
        )
    return alerts


def _people(n: int) -> str:
    return f"{n} {'person' if n == 1 else 'people'}"


def _agents_now(session: Session, queue_names: dict[int, str]) -> list[AgentNow]:
    agents = list(session.scalars(select(Agent).options(selectinload(Agent.queues)).order_by(Agent.name, Agent.id)))
    calls = _current_calls(session, queue_names)
    return [
        AgentNow(
            id=a.id,
            name=a.name,
            status=a.status,
            since=a.status_since,
            reason=a.status_reason,
            queues=[q.name for q in a.queues],
            call=calls.get(a.id),
            after_call=AFTER_CALL_WORDS.get(a.after_call_status or ""),
        )
        for a in agents
    ]


def _current_calls(session: Session, queue_names: dict[int, str]) -> dict[int, CallNow]:
    """Each agent's open call: the leg ringing or bridging them, else the attempt claimed for them.

    A claim counts only while the claiming agent is still held for it (reserved) and has not been rung
    on it yet: once their leg ended (missed, declined) the attempt moves on to the next agent, and the
    first one, now away, is on no call (agents.desk.current_call reads the console the same way).
    """
    r = CallbackRequest
    # The open attempts (a partial index holds them) and their legs, by the legs' index on attempt_id:
    # said as "of the open attempts", so SQLite does not read every leg ever rung to find the open ones.
    # Ordered here rather than in SQL, where ordering by id would have SQLite walk the tables in id order.
    open_attempts = select(CallAttempt.id).where(CallAttempt.ended_at.is_(None))
    rows = session.execute(
        select(AgentLeg.id, AgentLeg.agent_id, r.id, r.queue_id, r.name, r.status, AgentLeg.rung_at)
        .join(CallAttempt, AgentLeg.attempt_id == CallAttempt.id)
        .join(r, CallAttempt.request_id == r.id)
        .where(
            AgentLeg.attempt_id.in_(open_attempts),
            AgentLeg.ended_at.is_(None),
            AgentLeg.agent_id.is_not(None),
            CallAttempt.ended_at.is_(None),
        )
    ).all()
    rung_before = (
        select(AgentLeg.id)
        .where(AgentLeg.attempt_id == CallAttempt.id, AgentLeg.agent_id == CallAttempt.agent_id)
        .exists()
    )
    claimed = session.execute(
        select(CallAttempt.id, CallAttempt.agent_id, r.id, r.queue_id, r.name, r.status, CallAttempt.created_at)
        .join(r, CallAttempt.request_id == r.id)
        .join(Agent, Agent.id == CallAttempt.agent_id)
        .where(CallAttempt.ended_at.is_(None), Agent.status == "reserved", ~rung_before)
    ).all()
    calls: dict[int, CallNow] = {}
    # Claims first, then legs, each oldest first: an agent being rung for a call is on that call,
    # whoever claimed it, and on their latest.
    for _id, agent_id, request_id, queue_id, name, status, since in [*sorted(claimed), *sorted(rows)]:
        if agent_id is None:  # filtered out above; the column itself may be empty
            continue
        calls[agent_id] = CallNow(request_id, queue_names.get(queue_id, ""), name, status, since)
    return calls
