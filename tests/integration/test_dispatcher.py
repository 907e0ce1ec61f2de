"""The dispatcher and the reaper on a real database, with the in-memory telephony fake and a fixed clock."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session

from agents.models import Agent
from agents.service import update_queue
from callback import calls, service
from callback.models import CallAttempt, CallbackRequest
from callback.policy import Limits
from core.clock import FixedClock
from core.config import Settings
from core.db import Database
from core.phone import PhonePolicy
from core.webhooks import FRAGMENT
from scheduler import pacing
from scheduler.dispatcher import Dispatcher
from scheduler.reaper import Reaper, ReaperPolicy
from telephony.fake import FakeTelephony
from telephony.port import NETWORK_ERROR, TelephonyError
from tests import factories

SETTINGS = Settings(app_env="testing", public_base_url="https://shop.example", twilio_cps=1000.0)


@pytest.fixture
def fake() -> FakeTelephony:
    return FakeTelephony()


@pytest.fixture
def dispatcher(db: Database, fake: FakeTelephony, clock: FixedClock, session: Session) -> Dispatcher:
    # `session` first: it creates the default queues.
    return Dispatcher(db, fake, clock, SETTINGS, sleep=lambda _s: None)


@pytest.fixture
def reaper(db: Database, fake: FakeTelephony, clock: FixedClock) -> Reaper:
    return Reaper(db, fake, clock)


def fresh(session: Session, obj: object) -> None:
    session.expire_all()
    session.refresh(obj)


def test_a_free_agent_gets_the_oldest_request_of_their_queue(
    session: Session, clock: FixedClock, dispatcher: Dispatcher, fake: FakeTelephony
) -> None:
    now = clock.now()
    agent = factories.agent(session, now)
    newer = factories.request(session, now, age=timedelta(minutes=5))
    older = factories.request(session, now, age=timedelta(minutes=9))
    assert dispatcher.run_once() == 2 - 1  # one agent, one call
    fresh(session, older)
    fresh(session, newer)
    assert (older.status, older.attempts, older.agent_id) == ("dialing", 1, agent.id)
    assert newer.status == "queued"
    placed = list(fake.calls.values())
    assert [c.info.to for c in placed] == [older.phone]
    assert placed[0].url == f"https://shop.example/voice/callback/answer?attempt={older.call_attempts[0].id}#{FRAGMENT}"
    assert placed[0].status_events == ("initiated", "ringing", "answered", "completed")
    assert placed[0].machine_detection == "DetectMessageEnd"
    fresh(session, agent)
    assert agent.status == "reserved"


def test_priority_beats_age(session: Session, clock: FixedClock, dispatcher: Dispatcher) -> None:
    now = clock.now()
    factories.agent(session, now)
    factories.request(session, now, age=timedelta(hours=1))
    urgent = factories.request(session, now, age=timedelta(minutes=1), priority=1)
    dispatcher.run_once()
    fresh(session, urgent)
    assert urgent.status == "dialing"


def test_the_longest_idle_agent_goes_first(session: Session, clock: FixedClock, dispatcher: Dispatcher) -> None:
    now = clock.now()
    recent = factories.agent(session, now - timedelta(minutes=1))
    idle = factories.agent(session, now - timedelta(minutes=30))
    req = factories.request(session, now)
    dispatcher.run_once()
    fresh(session, req)
    assert req.agent_id == idle.id != recent.id


def test_an_agent_only_takes_requests_of_their_queues(
    session: Session, clock: FixedClock, dispatcher: Dispatcher
) -> None:
    now = clock.now()
    factories.agent(session, now, queues=("returns",))
    orders = factories.request(session, now, topic="orders", age=timedelta(hours=1))
    returns = factories.request(session, now, topic="returns")
    dispatcher.run_once()
    fresh(session, orders)
    fresh(session, returns)
    assert (orders.status, returns.status) == ("queued", "dialing")


def test_requests_that_are_not_due_or_outside_hours_wait(
    session: Session, clock: FixedClock, dispatcher: Dispatcher
) -> None:
    now = clock.now()
    factories.agent(session, now, queues=("orders", "returns"))
    later = factories.request(session, now, not_before=now + timedelta(hours=1))
    backing_off = factories.request(session, now, status="retry_wait", next_attempt_at=now + timedelta(minutes=2))
    update_queue(session, "returns", {"hours": "closed"})
    closed = factories.request(session, now, topic="returns")
    assert dispatcher.run_once() == 0
    clock.advance(minutes=3)
    assert dispatcher.run_once() == 1
    for req in (later, backing_off, closed):
        fresh(session, req)
    assert (later.status, backing_off.status, closed.status) == ("queued", "dialing", "queued")


def test_busy_or_away_agents_get_nothing(session: Session, clock: FixedClock, dispatcher: Dispatcher) -> None:
    now = clock.now()
    for status in ("away", "offline", "on_call", "wrap_up", "reserved"):
        factories.agent(session, now, status=status)
    factories.request(session, now)
    assert dispatcher.run_once() == 0


def test_wrap_up_ends_on_time_and_expired_requests_expire(
    session: Session, clock: FixedClock, dispatcher: Dispatcher
) -> None:
    now = clock.now()
    agent = factories.agent(session, now, status="wrap_up")
    agent.busy_until = now + timedelta(seconds=30)
    session.commit()
    stale = factories.request(session, now, age=timedelta(hours=25))
    stale.expires_at = now - timedelta(hours=1)
    session.commit()
    dispatcher.housekeeping()
    fresh(session, agent)
    fresh(session, stale)
    assert (agent.status, stale.status) == ("wrap_up", "expired")
    clock.advance(seconds=31)
    dispatcher.housekeeping()
    fresh(session, agent)
    assert agent.status == "available"


def test_a_wake_up_pass_leaves_housekeeping_to_the_tick_which_does_it(
    session: Session, clock: FixedClock, dispatcher: Dispatcher
) -> None:
    now = clock.now()
    agent = factories.agent(session, now, status="wrap_up")
    agent.busy_until = now - timedelta(seconds=1)  # wrap-up over, nobody has said so yet
    session.commit()
    factories.request(session, now)
    assert dispatcher.run_pending(housekeeping=False) == 0  # a request arrived: nobody is free
    assert dispatcher.run_pending() == 1  # the tick ends the wrap-up, and the agent is dialled


def test_an_invalid_number_fails_the_request_and_frees_the_agent(
    session: Session, clock: FixedClock, dispatcher: Dispatcher, fake: FakeTelephony
) -> None:
    now = clock.now()
    agent = factories.agent(session, now)
    req = factories.request(session, now)
    fake.fail_next(TelephonyError(21211, "Invalid 'To' Phone Number", status=400))
    dispatcher.run_once()
    fresh(session, req)
    fresh(session, agent)
    assert (req.status, req.outcome, agent.status) == ("failed", "invalid_number", "available")


def test_a_refused_create_is_not_counted_and_waits_a_little(
    session: Session, clock: FixedClock, dispatcher: Dispatcher, fake: FakeTelephony
) -> None:
    now = clock.now()
    agent = factories.agent(session, now)
    req = factories.request(session, now)
    fake.fail_next(TelephonyError(20429, "Too Many Requests", retryable=True, status=429))
    assert dispatcher.run_once() == 1
    fresh(session, req)
    fresh(session, agent)
    assert (req.status, req.attempts, agent.status) == ("queued", 0, "available")
    assert req.next_attempt_at == now + timedelta(seconds=30)
    assert dispatcher.run_once() == 0  # not before the pause
    clock.advance(seconds=31)
    assert dispatcher.run_once() == 1
    assert len(fake.calls) == 1


def test_a_create_that_timed_out_is_left_for_the_reaper_and_not_redialled(
    session: Session, clock: FixedClock, dispatcher: Dispatcher, reaper: Reaper, fake: FakeTelephony
) -> None:
    now = clock.now()
    factories.agent(session, now)
    req = factories.request(session, now)
    fake.fail_next(TelephonyError(NETWORK_ERROR, "read timed out", retryable=True))
    dispatcher.run_once()
    fresh(session, req)
    assert req.status == "dialing"
    assert dispatcher.run_once() == 0  # the agent stays reserved; nobody dials the request again
    clock.advance(seconds=61)
    assert reaper.run_once()["unplaced"] == 1
    fresh(session, req)
    assert (req.status, req.attempts) == ("queued", 0)
    assert dispatcher.run_once() == 1


def test_the_reaper_closes_an_attempt_whose_status_callbacks_were_lost(
    session: Session, clock: FixedClock, dispatcher: Dispatcher, reaper: Reaper, fake: FakeTelephony
) -> None:
    now = clock.now()
    agent = factories.agent(session, now)
    req = factories.request(session, now)
    dispatcher.run_once()
    sid = next(iter(fake.calls))
    fake.set_status(sid, "busy")
    clock.advance(seconds=30)
    assert reaper.run_once()["finished"] == 0  # not silent long enough yet
    clock.advance(seconds=61)
    assert reaper.run_once()["finished"] == 1
    fresh(session, req)
    fresh(session, agent)
    assert (req.status, req.outcome, agent.status) == ("retry_wait", "busy", "available")
    assert reaper.run_once()["finished"] == 0  # idempotent


def test_a_live_call_is_checked_but_left_alone(
    session: Session, clock: FixedClock, dispatcher: Dispatcher, reaper: Reaper, fake: FakeTelephony
) -> None:
    now = clock.now()
    factories.agent(session, now)
    req = factories.request(session, now)
    dispatcher.run_once()
    fake.set_status(next(iter(fake.calls)), "in-progress")
    clock.advance(seconds=120)
    assert reaper.run_once()["finished"] == 0
    fresh(session, req)
    assert req.status == "dialing"


def test_a_stranded_reserved_agent_is_released(session: Session, clock: FixedClock, reaper: Reaper) -> None:
    agent = factories.agent(session, clock.now() - timedelta(minutes=5), status="reserved")
    assert reaper.run_once()["released"] == 1
    fresh(session, agent)
    assert agent.status == "available"


def test_status_callbacks_apply_once_and_in_order(session: Session, clock: FixedClock, dispatcher: Dispatcher) -> None:
    now = clock.now()
    agent = factories.agent(session, now)
    req = factories.request(session, now)
    dispatcher.run_once()
    session.expire_all()  # the dispatcher changed these rows in its own sessions, as webhooks see them
    attempt = session.scalars(select(CallAttempt)).one()
    calls.on_status(session, clock, attempt, "no-answer", 3)
    calls.on_status(session, clock, attempt, "ringing", 1)  # late and stale: ignored
    calls.on_status(session, clock, attempt, "no-answer", 3)  # a retry: ignored
    fresh(session, req)
    fresh(session, agent)
    assert (req.status, req.attempts, attempt.call_status, agent.status) == (
        "retry_wait",
        1,
        "no-answer",
        "available",
    )
    assert req.next_attempt_at == now + timedelta(seconds=120)


def test_pacing_spaces_slots_by_the_rate(session: Session, clock: FixedClock) -> None:
    starts = [pacing.take_slot(session, 4.0, clock.now(), horizon=float("inf")) for _ in range(5)]
    gaps = [round(b - a, 6) for a, b in zip(starts, starts[1:], strict=False)]  # type: ignore[operator]
    assert gaps == [0.255] * 4  # 1/4 s plus the margin's 0.02 s over four slots
    assert starts[0] == clock.now().timestamp()
    clock.advance(seconds=10)  # idle time is not banked: no burst after a pause
    after = [pacing.take_slot(session, 4.0, clock.now()) for _ in range(2)]
    assert after == [clock.now().timestamp(), clock.now().timestamp() + 0.255]


@pytest.fixture
def many_dispatchers(db: Database, clock: FixedClock, session: Session) -> Iterator[list[Dispatcher]]:
    shared = FakeTelephony()  # one provider, as in production: call SIDs are unique across processes
    yield [Dispatcher(db, shared, clock, SETTINGS, sleep=lambda _s: None) for _ in range(4)]


def run_side_by_side(dispatchers: list[Dispatcher], timeout: float) -> list[BaseException]:
    """One pass of each dispatcher, all at once in threads, as separate processes would; what they raised."""
    errors: list[BaseException] = []

    def run(dispatcher: Dispatcher) -> None:
        try:
            dispatcher.run_once()
        except BaseException as exc:  # noqa: BLE001 - returned to the caller's assertion
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(d,)) for d in dispatchers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return errors


def test_concurrent_dispatchers_never_take_the_same_request_or_agent(
    session: Session, clock: FixedClock, many_dispatchers: list[Dispatcher]
) -> None:
    now = clock.now()
    agents = [factories.agent(session, now - timedelta(seconds=i)) for i in range(6)]
    for i in range(10):
        factories.request(session, now, age=timedelta(seconds=i))
    assert run_side_by_side(many_dispatchers, timeout=30) == []
    session.expire_all()
    dialing = session.scalars(select(CallbackRequest).where(CallbackRequest.status == "dialing")).all()
    attempts = session.scalars(select(CallAttempt)).all()
    placed = list(many_dispatchers[0].telephony.calls.values())  # type: ignore[attr-defined]
    assert len(dialing) == len(attempts) == len(placed) == len(agents)
    assert len({a.request_id for a in attempts}) == len(attempts)
    assert len({a.agent_id for a in attempts}) == len(attempts)
    assert {a.status for a in session.scalars(select(Agent))} == {"reserved"}


def a_season_of_requests(session: Session, now: datetime, finished: int, waiting: int) -> None:
    """History as a line has it after some months: many finished requests, a few waiting, on one queue."""
    queue_id = factories.queue(session, "orders").id
    rows = [
        {
            "phone": f"+1202555{n:04d}",
            "name": "Customer",
            "queue_id": queue_id,
            "status": "completed" if n < finished else "queued",
            "outcome": "completed" if n < finished else None,
            "created_at": now - timedelta(minutes=finished + waiting - n),
            "updated_at": now,
            "expires_at": now + timedelta(hours=24),
        }
        for n in range(finished + waiting)
    ]
    session.execute(insert(CallbackRequest), rows)
    session.commit()


def test_picking_the_next_request_walks_the_waiting_index_never_the_table(
    session: Session, dispatcher: Dispatcher, clock: FixedClock
) -> None:
    engine = session.get_bind()
    postgres = engine.dialect.name == "postgresql"
    if postgres:
        # The planner weighs indexes by the table's statistics: give it a table worth planning for, and
        # fresh statistics, rather than whatever an earlier test (or autovacuum) left it to guess from.
        a_season_of_requests(session, clock.now(), finished=3000, waiting=200)
        session.connection().exec_driver_sql("ANALYZE callback_requests")
    seen: list[tuple[str, object]] = []

    def remember(conn, cursor, statement, parameters, context, executemany):
        if "FROM callback_requests" in statement and "LIMIT" in statement:
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", remember)
    try:
        dispatcher.next_request(session, [factories.queue(session, "orders").id], clock.now())
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    statement, parameters = seen[0]
    connection = session.connection()
    if postgres:
        rows = connection.exec_driver_sql(f"EXPLAIN {statement}", parameters)  # type: ignore[arg-type]
        plan = " ".join(str(row[0]) for row in rows)
        assert "ix_callback_waiting_order" in plan and "Seq Scan" not in plan and "Sort" not in plan, plan
    else:
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)  # type: ignore[arg-type]
        plan = " ".join(str(row[-1]) for row in rows)
        assert "ix_callback_waiting_order" in plan and "SCAN callback_requests" not in plan, plan


def test_a_call_made_just_before_a_crash_is_found_and_kept_not_redialled(
    session: Session, clock: FixedClock, dispatcher: Dispatcher, reaper: Reaper, fake: FakeTelephony
) -> None:
    now = clock.now()
    factories.agent(session, now)
    req = factories.request(session, now)
    with dispatcher.db.sessions() as claiming:
        claim = dispatcher.claim(claiming)
    assert claim is not None
    # The dispatcher placed the call and died before saving its SID; every webhook was lost too.
    placed = fake.place_call(req.phone, "+15005550006", "https://shop.example/voice/callback/answer")
    clock.advance(seconds=61)
    assert reaper.run_once()["unplaced"] == 0
    session.expire_all()
    attempt = session.scalars(select(CallAttempt)).one()
    assert attempt.call_sid == placed.sid and attempt.ended_at is None
    fake.set_status(placed.sid, "no-answer")
    clock.advance(seconds=91)
    assert reaper.run_once()["finished"] == 1
    fresh(session, req)
    assert (req.status, req.attempts) == ("retry_wait", 1)
    assert len(fake.calls) == 1


def test_the_reaper_releases_nothing_while_the_provider_cannot_say(
    session: Session, clock: FixedClock, dispatcher: Dispatcher, reaper: Reaper, fake: FakeTelephony
) -> None:
    now = clock.now()
    factories.agent(session, now)
    req = factories.request(session, now)
    with dispatcher.db.sessions() as claiming:
        assert dispatcher.claim(claiming) is not None
    clock.advance(seconds=61)
    fake.fail_next(TelephonyError(NETWORK_ERROR, "timed out", retryable=True))
    assert reaper.run_once()["unplaced"] == 0
    fresh(session, req)
    assert req.status == "dialing"  # not put back in line on a guess
    assert reaper.run_once()["unplaced"] == 1


def test_jobs_built_from_current_app_run_their_retention_outside_the_app_context(app: Flask) -> None:
    from flask import current_app

    from scheduler.runtime import build_jobs

    with app.app_context():
        jobs = build_jobs(current_app)  # as `flask scheduler` builds them
    assert jobs.retain_recordings is not None
    assert jobs.retain_recordings() == 0  # in a job's thread: no application context


def test_a_wake_up_pass_reaches_calls_create_in_few_statements(
    session: Session, clock: FixedClock, dispatcher: Dispatcher, fake: FakeTelephony, db: Database
) -> None:
    """What a free agent waits for is mostly round trips: a wake-up pass (no housekeeping) reads the
    queues, agents and line, claims, takes its pacing slot and reads the request once more before
    calls.create. Counted here so that a change which adds statements to that path is seen."""
    now = clock.now()
    factories.agent(session, now)
    factories.request(session, now, age=timedelta(minutes=5))
    sent: list[str] = []
    before_create: list[int] = []
    listener = lambda _conn, _cursor, sql, *_args: sent.append(" ".join(sql.split()[:6]))  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    create = fake.place_call

    def counted(*args, **kwargs):
        before_create.append(len(sent))
        return create(*args, **kwargs)

    fake.place_call = counted  # type: ignore[method-assign]
    try:
        assert dispatcher.run_once(housekeeping=False) == 1
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    # Before calls.create: the pause, 4 reads to find the pair, 10 statements to claim it (reservations,
    # the bounds, the attempt), the last look, the pacing slot. There were 22 on PostgreSQL before.
    assert before_create and before_create[0] <= 17, "\n".join(sent[: before_create[0]])


def test_fifty_idle_agents_of_a_quiet_queue_do_not_hide_a_free_agent_of_a_busy_one(
    session: Session, clock: FixedClock, dispatcher: Dispatcher
) -> None:
    now = clock.now()
    for minutes in range(60):  # idle longer than anyone, with nothing to do
        factories.agent(session, now - timedelta(hours=2, minutes=minutes), queues=("returns",))
    orders_agent = factories.agent(session, now)
    req = factories.request(session, now)
    assert dispatcher.run_once() == 1
    fresh(session, req)
    assert (req.status, req.agent_id) == ("dialing", orders_agent.id)


def test_a_cancel_while_the_call_is_being_placed_hangs_the_call_up(
    session: Session, db: Database, clock: FixedClock, dispatcher: Dispatcher, fake: FakeTelephony
) -> None:
    now = clock.now()
    agent = factories.agent(session, now)
    req = factories.request(session, now)
    place_call = fake.place_call

    def customer_cancels_meanwhile(*args: Any, **kwargs: Any) -> Any:
        # The customer presses Cancel while calls.create is on its way: no SID is known to hang up yet.
        with db.sessions() as other:
            service.cancel(other, clock, req.ref, telephony=fake)
        return place_call(*args, **kwargs)

    fake.place_call = customer_cancels_meanwhile  # type: ignore[method-assign]
    assert dispatcher.run_once() == 1
    (call,) = fake.calls.values()
    assert [update["status"] for update in call.updates] == ["completed"]  # hung up at once
    fresh(session, req)
    assert req.status == "canceled"
    # The status callback of the hung-up call closes the attempt and frees the agent, as after any cancel.
    attempt = req.call_attempts[0]
    calls.on_status(session, clock, attempt, "canceled", sequence=None)
    session.commit()
    fresh(session, agent)
    assert agent.status != "reserved"


def test_a_cancel_after_the_sid_is_saved_is_hung_up_by_the_cancel(
    session: Session, db: Database, clock: FixedClock, dispatcher: Dispatcher, fake: FakeTelephony
) -> None:
    now = clock.now()
    factories.agent(session, now)
    req = factories.request(session, now)
    assert dispatcher.run_once() == 1
    (call,) = fake.calls.values()
    with db.sessions() as other:
        service.cancel(other, clock, req.ref, telephony=fake)
    assert [update["status"] for update in call.updates] == ["completed"]


def test_a_refusal_of_no_known_kind_fails_the_request_after_a_few_tries_uncounted(
    session: Session, clock: FixedClock, dispatcher: Dispatcher, fake: FakeTelephony
) -> None:
    now = clock.now()
    agent = factories.agent(session, now)
    req = factories.request(session, now)
    # A trial account calling an unverified number: every try is refused alike.
    unverified = TelephonyError(
        21219, "The number is unverified. Trial accounts may only call verified numbers.", status=400
    )
    tries = 0
    for _ in range(10):
        fake.fail_next(unverified)
        tries += dispatcher.run_once()
        clock.advance(seconds=31)
        fresh(session, req)
        if req.status != "queued":
            break
    assert tries == 3
    fresh(session, agent)
    assert (req.status, req.outcome, req.attempts, agent.status) == ("failed", "provider_refused", 0, "available")
    assert [a.outcome for a in req.call_attempts] == ["refused"] * 3
    assert not fake.calls


def test_a_request_made_on_friday_evening_is_called_on_monday_not_expired_over_the_weekend(
    session: Session, clock: FixedClock, dispatcher: Dispatcher, fake: FakeTelephony
) -> None:
    # The default queues are open mon-fri 09:00-17:00 in New York; the clock stands on a Monday at 10:00.
    clock.advance(days=4, hours=8)  # Friday 18:00: closed until Monday
    asked, _ = service.request_callback(
        session,
        clock,
        PhonePolicy(default_region="US", allowed_countries=("US",)),
        Limits(),
        service.CallbackInput(phone="+12015550199", name="Ann", topic="orders", consent=True),
    )
    factories.agent(session, clock.now())
    clock.advance(days=2, hours=15, minutes=5)  # Monday 09:05
    assert dispatcher.run_pending() == 1  # housekeeping (which expires requests) ran first
    fresh(session, asked)
    assert asked.status == "dialing"


def test_a_retry_that_falls_after_closing_waits_for_the_next_opening(
    session: Session, clock: FixedClock, dispatcher: Dispatcher, fake: FakeTelephony
) -> None:
    clock.advance(days=4, hours=6, minutes=59)  # Friday 16:59
    asked, _ = service.request_callback(
        session,
        clock,
        PhonePolicy(default_region="US", allowed_countries=("US",)),
        Limits(),
        service.CallbackInput(phone="+12015550198", name="Ann", topic="orders", consent=True),
    )
    agent = factories.agent(session, clock.now())
    assert dispatcher.run_once() == 1
    fresh(session, asked)
    attempt = asked.call_attempts[0]
    for status in ("ringing", "no-answer"):  # Friday 16:59: the retry's back-off ends after closing
        calls.on_status(session, clock, attempt, status, sequence=None)
    session.commit()
    fresh(session, asked)
    assert asked.status in {"queued", "retry_wait"}  # waiting for its next try, not given up
    # What the status page says: the opening that call will come at, not the back-off's end after closing.
    told = service.standing(session, asked, clock.now()).scheduled_for
    assert told is not None and told.astimezone(asked.queue.business_hours.zone).strftime("%a %H:%M") == "Mon 09:00"
    fresh(session, agent)
    agent.status = "available"
    session.commit()
    clock.advance(days=2, hours=16, minutes=11)  # Monday 09:10
    assert dispatcher.run_pending() == 1
    fresh(session, asked)
    assert (asked.status, asked.attempts) == ("dialing", 2)


def test_the_calling_now_text_is_in_the_requests_language(
    session: Session, db: Database, clock: FixedClock, fake: FakeTelephony
) -> None:
    texting = Dispatcher(db, fake, clock, replace(SETTINGS, sms_notifications=True), sleep=lambda _s: None)
    factories.agent(session, clock.now())
    factories.request(session, clock.now(), language="es")
    assert texting.run_once() == 1
    (message,) = fake.messages
    assert message.body.startswith("Le estamos llamando")


def test_after_closing_only_callers_holding_on_the_line_are_served(
    session: Session, clock: FixedClock, dispatcher: Dispatcher, fake: FakeTelephony
) -> None:
    now = clock.now()
    update_queue(session, "orders", {"hours": "closed"})
    web = factories.request(session, now, age=timedelta(hours=1))  # older, but waits for the opening
    holder_sid = fake.place_call("+12015550177", "+15005550006", "https://shop.example/voice/incoming").sid
    fake.set_status(holder_sid, "in-progress")  # the caller's own call, holding in <Enqueue>
    holder = factories.request(session, now, source="ivr", hold_call_sid=holder_sid)
    factories.agent(session, now)
    assert dispatcher.run_once() == 1
    fresh(session, holder)
    fresh(session, web)
    assert (holder.status, web.status) == ("dialing", "queued")
    (redirect,) = fake.calls[holder_sid].updates
    assert "connect-holder" in (redirect["url"] or "")
    assert dispatcher.run_once() == 0  # the agent is taken, and the web request waits for the morning


def test_a_holders_wait_after_closing_counts_holders_only_and_not_the_night(
    session: Session, clock: FixedClock
) -> None:
    now = clock.now()
    update_queue(session, "orders", {"hours": "closed"})
    for _ in range(3):
        factories.request(session, now, age=timedelta(hours=1))  # web requests waiting for the opening
    factories.request(session, now, source="ivr", hold_call_sid="CA" + "7" * 32, age=timedelta(minutes=5))
    holder = factories.request(session, now, source="ivr", hold_call_sid="CA" + "8" * 32)
    factories.agent(session, now, status="on_call")
    standing = service.standing(session, holder, now)
    assert standing.position == 1
    assert standing.estimated_wait_seconds is not None and standing.estimated_wait_seconds < 3600


@pytest.mark.parametrize("asked_before_the_call", [True, False])
def test_a_holder_found_gone_gives_up_only_what_their_call_added(
    session: Session, clock: FixedClock, dispatcher: Dispatcher, fake: FakeTelephony, asked_before_the_call: bool
) -> None:
    from ivr.models import IvrSession

    now = clock.now()
    holder_sid = fake.place_call("+12015550178", "+15005550006", "https://shop.example/voice/incoming").sid
    fake.hangup(holder_sid)  # they hung up just before an agent came free: the redirect answers 21220
    age = timedelta(hours=1) if asked_before_the_call else timedelta(0)
    req = factories.request(session, now, phone="+12015550178", hold_call_sid=holder_sid, age=age)
    call = IvrSession(call_sid=holder_sid, caller=req.phone, called="+15005550006", started_at=now, updated_at=now)
    call.node = "main"
    session.add(call)
    session.commit()
    factories.agent(session, now)
    dispatcher.run_once()
    fresh(session, req)
    if asked_before_the_call:
        # Their web callback stayed in line, and the free agent takes it: they are called back.
        assert (req.status, req.hold_call_sid) == ("dialing", None)
        assert [c.info.to for c in fake.calls.values()].count("+12015550178") == 2
    else:
        assert (req.status, req.outcome) == ("canceled", "hung_up_on_hold")


def test_a_caller_we_cannot_call_back_is_never_dialled_only_put_through_while_holding(
    session: Session, clock: FixedClock, dispatcher: Dispatcher, fake: FakeTelephony
) -> None:
    now = clock.now()
    factories.agent(session, now)
    # A withheld caller who left a message: the placeholder keeps one request per call, and is no number.
    message = factories.request(session, now, phone="call:123456789012345", source="ivr", age=timedelta(hours=1))
    web = factories.request(session, now)
    assert dispatcher.run_once() == 1
    fresh(session, message)
    fresh(session, web)
    assert (message.status, web.status) == ("queued", "dialing")
    assert [c.info.to for c in fake.calls.values()] == [web.phone]


def test_a_claim_waiting_long_for_its_pacing_slot_is_not_released_under_it_nor_dialled_twice(
    session: Session, clock: FixedClock, db: Database, fake: FakeTelephony
) -> None:
    """At 0.01 calls a second a slot comes every 102 s, longer than the reaper's 60 s for a claim never
    placed. The waiting dispatcher vouches for its claim, so the reaper (running meanwhile) leaves it be;
    each customer is rung once, for an attempt still open."""
    reaper = Reaper(db, fake, clock)
    released: list[int] = []

    def sleep(seconds: float) -> None:
        clock.advance(seconds=seconds)
        released.append(reaper.run_once()["unplaced"])  # the reaper's job runs every few seconds meanwhile

    slow = Dispatcher(db, fake, clock, replace(SETTINGS, twilio_cps=0.01), sleep=sleep)
    first = factories.request(session, clock.now(), age=timedelta(minutes=2), phone="+12015550101")
    second = factories.request(session, clock.now(), age=timedelta(minutes=1), phone="+12015550102")
    factories.agent(session, clock.now())
    factories.agent(session, clock.now())
    assert slow.run_once() == 2
    assert sum(released) == 0
    assert sorted(c.info.to for c in fake.calls.values()) == [first.phone, second.phone]
    for call in fake.calls.values():
        attempt = session.scalar(select(CallAttempt).where(CallAttempt.call_sid == call.info.sid))
        assert attempt is not None and attempt.ended_at is None and attempt.outcome is None


def test_a_claim_closed_while_it_waited_for_its_slot_rings_nobody(
    session: Session, clock: FixedClock, db: Database, fake: FakeTelephony
) -> None:
    """Whatever closed it (here the reaper, after the dispatcher froze past its vouching), the request is
    already back in line: ringing the customer for the closed attempt would go uncounted, again and again."""
    req = factories.request(session, clock.now())
    factories.agent(session, clock.now())
    with db.autocommit() as pacing_session:  # another dispatcher took the slot now: the next is 102 s away
        assert pacing.take_slot(pacing_session, 0.01, clock.now()) is not None

    def frozen(seconds: float) -> None:
        clock.advance(seconds=seconds + 120)  # no vouching for two minutes
        assert Reaper(db, fake, clock).run_once()["unplaced"] == 1

    # The closed claim rings nobody; the request, back in line, is claimed again and rung once for that.
    assert Dispatcher(db, fake, clock, replace(SETTINGS, twilio_cps=0.01), sleep=frozen).run_once() == 2
    fresh(session, req)
    assert [(a.outcome, a.call_sid is None) for a in req.call_attempts] == [("not_placed", True), (None, False)]
    assert [c.info.sid for c in fake.calls.values()] == [req.call_attempts[1].call_sid]
    assert (req.status, req.attempts) == ("dialing", 1)


def test_the_reaper_waits_longer_than_a_send_may_take() -> None:
    assert ReaperPolicy.for_settings(10.0).unplaced_after == timedelta(seconds=60)
    assert ReaperPolicy.for_settings(90.0).unplaced_after == timedelta(seconds=180)
