"""The line right now (reports.live) and the agents' status history it and the figures rest on."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from agents.models import AgentStatusChange
from agents.service import list_queues
from callback import line
from callback.models import AgentLeg, CallAttempt
from core.clock import FixedClock
from reports import instruments
from reports.live import line_now
from tests import factories


def _queue(now_line, name):
    return next(q for q in now_line.queues if q.name == name)


def test_waiting_holding_scheduled_and_in_progress_are_counted_apart(session: Session, clock: FixedClock) -> None:
    now = clock.now()
    factories.agent(session, now, status="on_call")
    factories.request(session, now, age=timedelta(minutes=12))
    factories.request(session, now, age=timedelta(minutes=3))
    factories.request(session, now, not_before=now + timedelta(hours=2))
    factories.request(session, now, hold_call_sid="CA" + "1" * 32, age=timedelta(minutes=20))
    factories.request(session, now, status="dialing")
    factories.request(session, now, status="failed", age=timedelta(minutes=30))
    factories.request(session, now, topic="returns", age=timedelta(minutes=1))

    orders = _queue(line_now(session, now), "orders")

    assert (orders.waiting, orders.scheduled, orders.holding) == (2, 1, 1)
    assert orders.calls_in_progress == 1
    assert orders.longest_wait_seconds == 20 * 60  # the holder, waiting since their call came in
    assert orders.failed_last_hour == 1
    assert orders.agents["on_call"] == 1 and orders.agents["available"] == 0
    assert orders.open


def test_an_empty_line_has_no_wait_and_no_alerts(session: Session, clock: FixedClock) -> None:
    state = line_now(session, clock.now())

    assert all(q.waiting == 0 and q.longest_wait_seconds is None for q in state.queues)
    assert state.alerts == [] and not state.dialling_paused


def test_alerts_name_what_a_person_must_look_at(session: Session, clock: FixedClock) -> None:
    now = clock.now()
    factories.agent(session, now, status="away")
    factories.request(session, now)
    factories.request(session, now, status="failed")
    line.pause_dialling(session, 20003, "Authenticate", now)
    session.commit()

    state = line_now(session, now)
    kinds = {(a.kind, a.queue) for a in state.alerts}

    assert ("dialling_paused", None) in kinds
    assert ("nobody_staffed", "orders") in kinds
    assert ("failed_recently", "orders") in kinds
    assert state.dialling_paused
    staffed_alert = next(a for a in state.alerts if a.kind == "nobody_staffed")
    assert "1 person waiting" in staffed_alert.message and "1 away" in staffed_alert.message


def test_a_closed_queue_with_a_holder_is_critical(session: Session, clock: FixedClock) -> None:
    now = clock.now()
    factories.queue(session, "orders").hours = "closed"
    factories.request(session, now, hold_call_sid="CA" + "2" * 32)
    session.commit()

    alert = next(a for a in line_now(session, now).alerts if a.kind == "closed_with_waiting")

    assert alert.severity == "critical" and alert.queue == "orders"


def test_an_agent_shows_the_call_they_are_on(session: Session, clock: FixedClock) -> None:
    now = clock.now()
    agent = factories.agent(session, now, status="reserved")
    req = factories.request(session, now, status="dialing", agent_id=agent.id)
    session.add(CallAttempt(request_id=req.id, agent_id=agent.id, created_at=now))
    session.commit()

    shown = next(a for a in line_now(session, now).agents if a.id == agent.id)

    assert shown.call is not None and shown.call.request_id == req.id and shown.call.queue == "orders"
    assert line_now(session, now).as_json()["agents"][0]["call"]["request_id"] == req.id


def test_every_status_change_is_kept_whether_by_the_orm_or_by_a_claim(session: Session, clock: FixedClock) -> None:
    now = clock.now()
    agent = factories.agent(session, now)
    req = factories.request(session, now)
    bounds = line.Bounds(min_seconds_between_calls=0, max_calls_per_number_per_day=10)

    assert line.claim(session, agent.id, req.id, now + timedelta(seconds=5), bounds) is not None
    session.refresh(agent)
    agent.move_to("on_call", now + timedelta(seconds=40))
    session.commit()

    history = session.execute(
        select(AgentStatusChange.status, AgentStatusChange.at)
        .where(AgentStatusChange.agent_id == agent.id)
        .order_by(AgentStatusChange.id)
    ).all()
    assert [(s, (at - now).total_seconds()) for s, at in history] == [
        ("available", 0),
        ("reserved", 5),
        ("on_call", 40),
    ]


def test_an_agent_who_missed_the_call_is_not_shown_on_it(session: Session, clock: FixedClock) -> None:
    now = clock.now()
    first = factories.agent(session, now, status="away")
    second = factories.agent(session, now, status="reserved")
    req = factories.request(session, now, status="connecting", agent_id=second.id)
    attempt = CallAttempt(request_id=req.id, agent_id=first.id, created_at=now)
    session.add(attempt)
    session.flush()
    # The first agent was rung and missed it; the customer is now being put through to the second.
    session.add(AgentLeg(attempt_id=attempt.id, agent_id=first.id, rung_at=now, ended_at=now, outcome="no_answer"))
    session.add(AgentLeg(attempt_id=attempt.id, agent_id=second.id, rung_at=now + timedelta(seconds=20)))
    session.commit()

    shown = {a.id: a for a in line_now(session, now).agents}

    call = shown[second.id].call
    assert shown[first.id].call is None
    assert call is not None and call.request_id == req.id and call.since == now + timedelta(seconds=20)


def test_the_line_carries_the_shops_zone_and_the_pause_in_its_clock(session: Session, clock: FixedClock) -> None:
    now = clock.now()
    line.pause_dialling(session, 20003, "Authenticate", now)
    session.commit()

    state = line_now(session, now)
    paused = next(a for a in state.alerts if a.kind == "dialling_paused")

    assert state.timezone == "America/New_York" and state.as_json()["timezone"] == "America/New_York"
    assert "EST" in paused.message and "error 20003" in paused.message


def test_the_board_reads_clock_times_in_the_first_queues_zone_as_the_figures_do(
    session: Session, clock: FixedClock
) -> None:
    # "account" is first by name, "orders" first made: the shop's zone is the first made queue's.
    factories.queue(session, "account").timezone = "Europe/London"
    session.commit()

    state = line_now(session, clock.now())

    # Listed in the shop's order (first made first), as the form and the figures list them, not by name.
    assert [q.name for q in state.queues] == [q.name for q in list_queues(session)]
    assert state.queues[0].name == "orders"
    assert state.timezone == "America/New_York"


# --- what reading the line costs as history grows -------------------------------------------------------

# The tables that grow with every request: a poll of the board, or a scrape, must never read one whole.
HISTORY = ("callback_requests", "call_attempts", "agent_legs")


@contextmanager
def statements(session: Session) -> Iterator[list[tuple[str, Any]]]:
    """Every statement sent on the session's connection meanwhile, with its parameters."""
    sent: list[tuple[str, Any]] = []
    engine = session.get_bind()

    def keep(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", keep)


def query_plans(session: Session, sent: list[tuple[str, Any]]) -> list[tuple[str, str]]:
    """(statement, the database's query plan for it) of every SELECT sent.

    PostgreSQL is told to avoid sequential scans (as its planner would, with history in the tables, when an
    index serves): one that remains is one no index can serve."""
    found = []
    with session.get_bind().connect() as conn:  # type: ignore[union-attr]
        postgres = conn.dialect.name == "postgresql"
        if postgres:
            # Plans follow the statistics: fresh ones for every table, not whatever autovacuum happened to
            # gather (or not) while earlier tests ran, so the plan is the same on every run.
            conn.exec_driver_sql("ANALYZE")
            conn.exec_driver_sql("SET enable_seqscan = off")
        for statement, parameters in sent:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            prefix = "EXPLAIN " if postgres else "EXPLAIN QUERY PLAN "
            plan = " / ".join(str(row[-1]) for row in conn.exec_driver_sql(prefix + statement, parameters))
            found.append((statement, plan))
        if postgres:
            conn.exec_driver_sql("RESET enable_seqscan")
    return found


def full_reads(session: Session, sent: list[tuple[str, Any]]) -> list[str]:
    """The history tables each statement would read whole, by the database's own query plan. On SQLite an
    ordered scan that stops at its LIMIT (the newest calls of a queue, for the wait estimate) reads only
    what it returns."""
    found = []
    postgres = session.get_bind().dialect.name == "postgresql"
    for statement, plan in query_plans(session, sent):
        for table in HISTORY:
            whole = (
                re.search(rf"Seq Scan on {table}\b", plan)
                if postgres
                else re.search(rf"\bSCAN {table}\b(?! USING)", plan) and " LIMIT " not in statement
            )
            if whole:
                found.append(f"{table}: {' '.join(statement.split())[:160]} -> {plan}")
    return found


def a_day_of_history(session: Session, clock: FixedClock) -> None:
    """Finished requests with their calls and agent legs, a few waiting, one being called."""
    now = clock.now()
    agent = factories.agent(session, now, status="reserved")
    for status in ("completed", "failed", "canceled", "expired") * 5:
        req = factories.request(session, now, status=status, age=timedelta(hours=3))
        attempt = CallAttempt(request_id=req.id, agent_id=agent.id, created_at=now, ended_at=now)
        session.add(attempt)
        session.flush()
        session.add(AgentLeg(attempt_id=attempt.id, agent_id=agent.id, rung_at=now, ended_at=now))
    factories.request(session, now, age=timedelta(minutes=5))
    factories.request(session, now, topic="returns", hold_call_sid="CA" + "3" * 32)
    busy = factories.request(session, now, status="dialing", agent_id=agent.id)
    session.add(CallAttempt(request_id=busy.id, agent_id=agent.id, created_at=now))
    session.commit()


def test_a_poll_of_the_board_reads_the_history_only_through_indexes(session: Session, clock: FixedClock) -> None:
    a_day_of_history(session, clock)

    with statements(session) as sent:
        line_now(session, clock.now())

    assert full_reads(session, sent) == []
    # One statement per kind of count for every queue together, not one per queue.
    assert sum(1 for statement, _ in sent if "callback_requests.updated_at >=" in statement) == 1


def test_counting_settled_cancels_at_a_scrape_reads_through_an_index(session: Session, clock: FixedClock) -> None:
    a_day_of_history(session, clock)
    instruments.count_settled_cancels(session, clock.now())  # the first count sets the mark
    clock.advance(minutes=10)

    with statements(session) as sent:
        instruments.count_settled_cancels(session, clock.now())

    assert sent and full_reads(session, sent) == []
