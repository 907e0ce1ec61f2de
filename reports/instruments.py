"""The counters and histograms of /metrics, and where they are counted.

Metric names and labels are a public contract (dashboards and alerts are built on them): never rename.

Counters and histograms are process-local; under gunicorn and `flask scheduler` prometheus_client's
multi-process mode adds them up across processes (see reports.metrics). The gauges are not here: they
are read from the database at scrape time (reports.metrics.LineCollector), so every process agrees.

What the database says and what the counters say must agree, so the life-cycle counters are counted
from the ORM's own flushes, never from the code paths that happen to change a row:

- `callme_requests_total{queue,outcome}`: a callback request reaching a final status it cannot leave;
  `outcome` is that status (completed, failed, canceled, expired: four values, whatever the detailed
  reason in `CallbackRequest.outcome`). An ask that found an active request ("duplicate_ask") is not a
  request. Equals `SELECT queue, status, count(*) FROM callback_requests WHERE status IN (final) AND
  outcome IS DISTINCT FROM 'duplicate_ask' GROUP BY queue, status` over the requests finished since
  start, each request once with the status it ended in.

  A customer's own cancel ("canceled_by_customer") is the one final status that can be left: the
  customer may undo it for callback.service.UNDO_CANCEL, and the request waits again. A Prometheus
  counter cannot take back what it counted (a fall reads as a restart of the process), so that cancel
  is counted when it can no longer be undone, by `count_settled_cancels` at each scrape of /metrics: a
  cancel, an undo and another cancel count one cancel, UNDO_CANCEL after the last; a cancel undone and
  later completed counts one completion and no cancel. Every other final status is final at once.
- `callme_calls_placed_total{queue,result}`: a call attempt ending (`ended_at` set); `result` is the
  attempt's outcome when its transaction commits (completed, busy, no_answer, machine, declined,
  agent_missed, not_placed, canceled, invalid_number, ...: the values of `CallAttempt.outcome`, about
  fifteen, "unknown" if none). Attempts never placed (canceled or refused before ringing) are counted
  with their result, so the sum over results is every attempt closed.
- `callme_wait_to_connect_seconds{queue}`: an attempt getting `bridged_at` (customer and agent
  talking): bridged_at - max(created_at, not_before) of its request. `bridged_at` is written once
  Twilio confirms the bridge (the Dial action), valued at when the customer was put through (the
  agent's acceptance; agent-first, the customer's greeting): never at the acceptance or the greeting
  themselves, after which the customer may still hang up unconnected and be called again, so a
  request is observed once, on the call that connected it.

`queue` is the request's queue when the event happens (a request moved later keeps its past counts).

A flush only stages them in `session.info`; they are counted when the outermost transaction commits
and dropped when it (or the savepoint that flushed them) rolls back, so work that is undone is never
counted. An ORM-enabled bulk UPDATE of callback requests to a final status (the dispatcher's expiry
in `line.end_wrap_ups_and_expire`, a supervisor's conditional cancel) does not flush objects: it is
seen as it executes (`_on_orm_execute`). Only bulk UPDATEs of requests are watched; attempts change
through the ORM. Raw SQL (`text("UPDATE ...")`) is not seen, so none must finish a request.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from prometheus_client import Counter, Histogram
from sqlalchemy import Insert, Result, Update, event, func, inspect, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, UOWTransaction
from sqlalchemy.sql.elements import BindParameter

from agents.models import Queue
from callback.models import ASKS_KEPT_FOR_LIMITS, FINAL, CallAttempt, CallbackRequest, wanted_from
from callback.service import CANCELED_BY_CUSTOMER, UNDO_CANCEL
from core.db import rows_changed
from reports.models import MetricMark

# The gauges, read from the database at scrape time by reports.metrics (names here with the rest).
REQUESTS_WAITING = "callme_requests_waiting"
CALLERS_HOLDING = "callme_callers_holding"
AGENTS = "callme_agents"
DIALLING_PAUSED = "callme_dialling_paused"

REQUESTS = Counter(
    "callme_requests_total",
    "Callback requests finished, by queue and final status (completed, failed, canceled, expired).",
    ["queue", "outcome"],
)
CALLS_PLACED = Counter(
    "callme_calls_placed_total",
    "Call attempts closed, by queue and the attempt's outcome.",
    ["queue", "result"],
)
WEBHOOKS = Counter(
    "callme_webhooks_total",
    "Twilio webhooks answered, by URL rule and HTTP status.",
    ["route", "status"],
)
PROVIDER_ERRORS = Counter(
    "callme_provider_errors_total",
    "Errors of the telephony provider met while placing or steering calls, by provider error code "
    "(0: network error or timeout).",
    ["code"],
)
# Twilio gives up on a webhook after 15 seconds.
WEBHOOK_SECONDS = Histogram(
    "callme_webhook_seconds",
    "Time to answer a Twilio webhook, by URL rule.",
    ["route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0),
)
DISPATCH_SECONDS = Histogram(
    "callme_dispatch_seconds",
    "From an agent free for a due request (the later of the two) to calls.create returning.",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0),
)
WAIT_TO_CONNECT_SECONDS = Histogram(
    "callme_wait_to_connect_seconds",
    "From a request's place in the line (created, or its chosen slot) to talking to an agent, by queue.",
    ["queue"],
    buckets=(10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0, 7200.0, 14400.0, 28800.0, 86400.0),
)

# Every metric family of /metrics, by type: the public contract.
FAMILIES: dict[str, str] = {
    REQUESTS_WAITING: "gauge",
    CALLERS_HOLDING: "gauge",
    AGENTS: "gauge",
    DIALLING_PAUSED: "gauge",
    **{c._name: "counter" for c in (REQUESTS, CALLS_PLACED, WEBHOOKS, PROVIDER_ERRORS)},
    **{h._name: "histogram" for h in (WEBHOOK_SECONDS, DISPATCH_SECONDS, WAIT_TO_CONNECT_SECONDS)},
}
_SUFFIXES = {"gauge": ("",), "counter": ("_total",), "histogram": ("_bucket", "_sum", "_count")}


def sample_names() -> set[str]:
    """Every sample name /metrics can expose (what a dashboard or an alert may query)."""
    return {family + suffix for family, kind in FAMILIES.items() for suffix in _SUFFIXES[kind]}


_STAGED = "callme_metrics_staged"
_install_lock = threading.Lock()
_installed = False


@dataclass(frozen=True)
class _RequestEnded:
    queue: str
    status: str
    count: int = 1


@dataclass(frozen=True)
class _AttemptEnded:
    attempt_id: int
    queue: str
    outcome: str | None


@dataclass(frozen=True)
class _AttemptOutcome:
    attempt_id: int
    outcome: str | None


@dataclass(frozen=True)
class _Bridged:
    queue: str
    seconds: float


_Event = _RequestEnded | _AttemptEnded | _AttemptOutcome | _Bridged


# -- direct instruments (events that happened, whatever the database does next) ----------------------


def provider_error(code: int) -> None:
    """The provider refused or failed a request (calls.create, a call update)."""
    PROVIDER_ERRORS.labels(code=str(code)).inc()


def dispatched(free_since: datetime, placed: datetime) -> None:
    """A call was placed for an agent and request that were both ready since `free_since`."""
    DISPATCH_SECONDS.observe(max(0.0, (placed - free_since).total_seconds()))


def webhook(route: str, status: int, seconds: float) -> None:
    """A Twilio webhook was answered."""
    WEBHOOKS.labels(route=route, status=str(status)).inc()
    WEBHOOK_SECONDS.labels(route=route).observe(seconds)


def zero_fill(queues: Iterable[str]) -> None:
    """Create the per-queue request series at zero (a series born at 1 hides its first increase)."""
    for queue in queues:
        for status in FINAL:
            REQUESTS.labels(queue=queue, outcome=status)
        WAIT_TO_CONNECT_SECONDS.labels(queue=queue)


# -- the life-cycle counters, from the ORM's flushes ---------------------------------------------------


def install() -> None:
    """Listen to every Session's flushes and transactions (once per process)."""
    global _installed
    with _install_lock:
        if _installed:
            return
        # Load the old value when a status is set on an unloaded attribute, so a move into a final
        # status is always told from a write of the same status.
        for attribute in (CallbackRequest.status, CallAttempt.ended_at, CallAttempt.bridged_at):
            event.listen(attribute, "set", _ignore_set, active_history=True)
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "do_orm_execute", _on_orm_execute)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_soft_rollback", _after_soft_rollback)
        event.listen(Session, "after_transaction_end", _after_transaction_end)
        _installed = True


def _ignore_set(_target: Any, value: Any, _old: Any, _initiator: Any) -> Any:
    return value


def _stage(session: Session, events: list[_Event]) -> None:
    if events:
        tag = session.get_nested_transaction()
        session.info.setdefault(_STAGED, []).extend((tag, e) for e in events)


def _after_flush(session: Session, _context: UOWTransaction) -> None:
    events: list[_Event] = []
    for obj in session.new:
        if isinstance(obj, CallbackRequest):
            if _final_now(obj.status, obj.outcome):
                events.append(_RequestEnded(_request_queue(session, obj), obj.status))
        elif isinstance(obj, CallAttempt):
            if obj.ended_at is not None:
                events.append(_AttemptEnded(obj.id, _attempt_queue(session, obj), obj.outcome))
            if obj.bridged_at is not None:
                events.append(_bridged(session, obj))
    for obj in session.dirty:
        if isinstance(obj, CallbackRequest):
            old, new = _change(obj, "status")
            if old not in FINAL and _final_now(new, obj.outcome):
                events.append(_RequestEnded(_request_queue(session, obj), str(new)))
        elif isinstance(obj, CallAttempt):
            old_end, new_end = _change(obj, "ended_at")
            if old_end is None and new_end is not None:
                events.append(_AttemptEnded(obj.id, _attempt_queue(session, obj), obj.outcome))
            elif _changed(obj, "outcome"):
                # An outcome written after the end, in the same transaction, is the one counted.
                events.append(_AttemptOutcome(obj.id, obj.outcome))
            old_bridge, new_bridge = _change(obj, "bridged_at")
            if old_bridge is None and new_bridge is not None:
                events.append(_bridged(session, obj))
    _stage(session, events)


_UNSET = object()


def _final_now(status: Any, outcome: Any) -> bool:
    """Whether a request entering `status` with `outcome` has finished for good: counted as it commits.

    Not an ask kept only for the limits (a repeat, a do-not-call number), and not a customer's own
    cancel, which may still be undone (count_settled_cancels counts it once it cannot)."""
    return (
        status in FINAL
        and outcome not in ASKS_KEPT_FOR_LIMITS
        and not (status == "canceled" and outcome == CANCELED_BY_CUSTOMER)
    )


def _change(obj: object, key: str) -> tuple[Any, Any]:
    """(old, new) of an attribute changed since the last flush, or (_UNSET, _UNSET) if unchanged."""
    history = inspect(obj).attrs[key].history
    if not history.added:
        return _UNSET, _UNSET
    old = history.deleted[0] if history.deleted else None
    return old, history.added[0]


def _changed(obj: object, key: str) -> bool:
    return bool(inspect(obj).attrs[key].history.added)


def _request_queue(session: Session, req: CallbackRequest) -> str:
    queue = req.__dict__.get("queue")
    if isinstance(queue, Queue) and queue.id == req.queue_id:  # loaded, and not moved since
        return queue.name
    name = session.connection().scalar(select(Queue.name).where(Queue.id == req.queue_id))
    return name or "unknown"


def _attempt_queue(session: Session, attempt: CallAttempt) -> str:
    req = attempt.__dict__.get("request")
    if isinstance(req, CallbackRequest):
        return _request_queue(session, req)
    name = session.connection().scalar(
        select(Queue.name)
        .join(CallbackRequest, CallbackRequest.queue_id == Queue.id)
        .where(CallbackRequest.id == attempt.request_id)
    )
    return name or "unknown"


def _bridged(session: Session, attempt: CallAttempt) -> _Bridged:
    """The wait of the customer whose call this attempt bridged to an agent."""
    req = attempt.__dict__.get("request")
    if isinstance(req, CallbackRequest):
        queue, since = _request_queue(session, req), req.wanted_at
    else:
        r = CallbackRequest
        row = (
            session.connection()
            .execute(
                select(Queue.name, r.created_at, r.not_before, r.asked_asap_at)
                .join(Queue, r.queue_id == Queue.id)
                .where(r.id == attempt.request_id)
            )
            .one()
        )
        queue, since = row[0], wanted_from(row[1], row[2], row[3])
    assert attempt.bridged_at is not None
    return _Bridged(queue, max(0.0, (attempt.bridged_at - since).total_seconds()))


# -- bulk UPDATEs of requests ---------------------------------------------------------------------------


def _on_orm_execute(state: ORMExecuteState) -> Result[Any] | None:
    """An ORM UPDATE of callback requests to a final status: find its rows first and count those.

    The rows are read (on PostgreSQL, locked) with the UPDATE's own criteria, then the UPDATE is run
    limited to them, so exactly the rows read are changed: a row that starts to match in between is
    left for the next UPDATE instead of being changed uncounted. The caller's result (its rowcount)
    is the UPDATE's own.
    """
    if not state.is_update or state.bind_mapper is None or state.bind_mapper.class_ is not CallbackRequest:
        return None
    statement = cast(Update, state.statement)
    status = _value_set(statement, "status")
    if status not in FINAL:
        return None
    r = CallbackRequest
    query = select(r.id, r.queue_id, r.status, r.outcome).order_by(r.id)
    if statement.whereclause is not None:
        query = query.where(statement.whereclause)
    if state.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(of=r)
    rows = state.session.execute(query).all()
    result = state.invoke_statement(statement=statement.where(r.id.in_([row.id for row in rows])))
    outcome = _value_set(statement, "outcome")
    ending = [
        row
        for row in rows
        if row.status not in FINAL and _final_now(status, outcome if outcome is not _UNSET else row.outcome)
    ]
    if ending:
        ids = {row.queue_id for row in ending}
        names = {q.id: q.name for q in state.session.execute(select(Queue.id, Queue.name).where(Queue.id.in_(ids)))}
        _stage(state.session, [_RequestEnded(names.get(row.queue_id, "unknown"), str(status)) for row in ending])
    return result


def _value_set(statement: Update, key: str) -> Any:
    """The literal value an UPDATE sets a column to, or _UNSET (not set, or not a plain value)."""
    for column, value in (getattr(statement, "_values", None) or {}).items():
        name = column if isinstance(column, str) else getattr(column, "key", None)
        if name == key:
            return value.value if isinstance(value, BindParameter) else _UNSET
    return _UNSET


def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released: its work commits (or not) with the transaction around it
    staged: list[tuple[SessionTransaction | None, _Event]] = session.info.pop(_STAGED, [])
    ended: dict[int, tuple[str, str | None]] = {}
    for _tag, e in staged:
        if isinstance(e, _RequestEnded):
            REQUESTS.labels(queue=e.queue, outcome=e.status).inc(e.count)
        elif isinstance(e, _AttemptEnded):
            ended[e.attempt_id] = (e.queue, e.outcome)
        elif isinstance(e, _AttemptOutcome):
            if e.attempt_id in ended:
                ended[e.attempt_id] = (ended[e.attempt_id][0], e.outcome)
        else:
            WAIT_TO_CONNECT_SECONDS.labels(queue=e.queue).observe(e.seconds)
    for queue, outcome in ended.values():
        CALLS_PLACED.labels(queue=queue, result=outcome or "unknown").inc()


def _after_soft_rollback(session: Session, previous: SessionTransaction) -> None:
    staged: list[tuple[SessionTransaction | None, _Event]] | None = session.info.get(_STAGED)
    if not staged:
        return
    if not previous.nested:
        session.info.pop(_STAGED, None)
        return
    # A savepoint rolled back: forget what was flushed inside it (or inside savepoints within it).
    session.info[_STAGED] = [(tag, e) for tag, e in staged if not _within(tag, previous)]


def _within(tag: SessionTransaction | None, savepoint: SessionTransaction) -> bool:
    while tag is not None:
        if tag is savepoint:
            return True
        tag = tag.parent
    return False


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        # Ended without a commit (closed, or rolled back): nothing staged in it happened.
        session.info.pop(_STAGED, None)


# -- customers' cancels, once they can no longer be undone -----------------------------------------------

SETTLED_CANCELS = "customer_cancels"


def count_settled_cancels(session: Session, now: datetime) -> int:
    """Count the customers' cancels that can no longer be undone since the last count, in any process.

    A cancel made at t can be undone until t + UNDO_CANCEL (callback.service.undo_cancel asks for
    `updated_at >= now - UNDO_CANCEL`), so those with updated_at before now - UNDO_CANCEL are settled.
    The shared mark (reports.models.MetricMark) says up to when they were counted; moving it is one
    conditional UPDATE from the value read, so of two processes scraping at once one counts the
    stretch and the other nothing. It moves only when something settled, so most scrapes only read.
    The counts are staged like any other and counted as this commits. Returns how many were counted.
    """
    settled = now - UNDO_CANCEL
    previous = session.scalar(select(MetricMark.at).where(MetricMark.name == SETTLED_CANCELS))
    if previous is not None and previous >= settled:
        return 0
    r = CallbackRequest
    query = (
        select(Queue.name, func.count())
        .select_from(r)
        .join(Queue, Queue.id == r.queue_id)
        .where(r.status == "canceled", r.updated_at < settled, r.outcome == CANCELED_BY_CUSTOMER)
        .group_by(Queue.name)
    )
    if previous is not None:
        query = query.where(r.updated_at >= previous)
    counts = session.execute(query).all()
    if previous is not None and not counts:
        session.rollback()  # nothing settled since the mark: it stays, and no scrape writes for nothing
        return 0
    if previous is None:
        # No mark yet (a database made from the models, not by the migration that sets one): every
        # settled cancel in it is counted once, by whoever inserts the mark.
        moved = rows_changed(session, _insert_missing(session).values(name=SETTLED_CANCELS, at=settled))
    else:
        moved = rows_changed(
            session,
            update(MetricMark).where(MetricMark.name == SETTLED_CANCELS, MetricMark.at == previous).values(at=settled),
        )
    if not moved:
        session.rollback()  # another process counted this stretch
        return 0
    _stage(session, [_RequestEnded(name, "canceled", int(n)) for name, n in counts])
    session.commit()
    return sum(int(n) for _name, n in counts)


def _insert_missing(session: Session) -> Insert:
    """INSERT of the mark that does nothing when another process inserted it first."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(MetricMark).on_conflict_do_nothing(index_elements=["name"])
    return sqlite.insert(MetricMark).on_conflict_do_nothing(index_elements=["name"])
