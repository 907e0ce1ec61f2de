"""Running the jobs: the heartbeat /healthz reads, stopping between claims, and wakes never lost."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from callback.models import CallbackRequest, SchedulerHeartbeat
from core.clock import FixedClock
from core.db import Database, get_db
from scheduler.dispatcher import Dispatcher
from scheduler.heartbeat import STALE_AFTER, Heartbeat, health_check
from scheduler.jobs import Jobs
from scheduler.reaper import Reaper
from telephony.fake import FakeTelephony
from tests import factories
from tests.integration.test_dispatcher import SETTINGS


@pytest.fixture
def fake() -> FakeTelephony:
    return FakeTelephony()


@pytest.fixture
def dispatcher(db: Database, fake: FakeTelephony, clock: FixedClock, session: Session) -> Dispatcher:
    return Dispatcher(db, fake, clock, SETTINGS, sleep=lambda _s: None)


# -- the heartbeat and /healthz ---------------------------------------------------------------------


def test_no_dispatcher_ever_is_only_a_warning_where_one_is_expected(session: Session, clock: FixedClock) -> None:
    assert health_check(expected=False)(session, clock.now()) is None
    warning = health_check(expected=True)(session, clock.now())
    assert warning is not None and warning["check"] == "scheduler" and warning["last_pass"] is None


@pytest.mark.parametrize(("app_env", "warned"), [("production", True), ("development", False)])
def test_a_production_web_process_expects_a_dispatcher_somewhere(
    db: Database, database_url: str, app_env: str, warned: bool
) -> None:
    """The README's layout: web workers with SCHEDULER off and `flask scheduler` on its own. If that one
    never started, production's /healthz says so; a developer's machine is not expected to run one."""
    from app import create_app

    settings: dict[str, Any] = {"app_env": app_env, "database_url": database_url, "scheduler": False}
    if app_env == "production":
        settings.update(
            secret_key="q0Hk2vS9eWm4TzR7bN1xP6cLa8Ud3Jf5",
            admin_api_token="Z7mQ2rW9tY4uI1oP6aS3dF8gH5jK0lXc",
            twilio_account_sid="AC" + "1" * 32,
            twilio_auth_token="9f2c41e07ab35d86c1e4f0a27b93d5e8",
            public_base_url="https://callme.example.com",
        )
    app = create_app(settings)

    health = app.test_client().get("/healthz").get_json()

    messages = [warning["message"] for warning in health.get("warnings", [])]
    assert (health["status"] == "warning") is warned
    assert ("no dispatcher has finished a pass yet" in messages) is warned


def test_a_recent_pass_is_healthy_and_an_old_one_names_the_process(
    db: Database, session: Session, clock: FixedClock
) -> None:
    beat = Heartbeat(db, clock, name="box:41")
    beat.start()
    assert health_check(expected=False)(session, clock.now()) is not None  # started, no pass yet
    beat.beat()
    assert health_check(expected=True)(session, clock.now() + STALE_AFTER) is None
    warning = health_check(expected=False)(session, clock.now() + STALE_AFTER + timedelta(seconds=1))
    assert warning is not None and warning["process"] == "box:41" and "box:41" in str(warning["message"])
    beat.stop()
    warning = health_check(expected=False)(session, clock.now() + timedelta(minutes=5))
    assert warning is not None and "stopped" in str(warning["message"])


def test_a_process_restarted_with_the_same_pid_starts_afresh_and_long_gone_ones_are_forgotten(
    db: Database, session: Session, clock: FixedClock
) -> None:
    Heartbeat(db, clock, name="box:7").start()
    Heartbeat(db, clock, name="box:7").beat()
    Heartbeat(db, clock, name="box:7").stop()
    later = FixedClock(clock.now() + timedelta(days=2))
    Heartbeat(db, later, name="box:8").start()
    rows = session.scalars(select(SchedulerHeartbeat)).all()
    assert [(r.name, r.last_pass_at, r.stopped_at) for r in rows] == [("box:8", None, None)]


def test_healthz_warns_when_no_pass_is_recent(app: Flask, clock: FixedClock) -> None:
    client = app.test_client()
    quiet = client.get("/healthz").get_json()
    assert (quiet["status"], quiet["scheduler"]) == ("ok", {"last_pass": None})
    beat = Heartbeat(get_db(app), FixedClock(clock.now() - timedelta(minutes=1)), name="sched:1")
    beat.start()
    beat.beat()
    body = client.get("/healthz").get_json()
    assert body["status"] == "warning" and body["database"] == "ok"
    assert [w["check"] for w in body["warnings"]] == ["scheduler"]
    Heartbeat(get_db(app), clock, name="sched:1").beat()
    healthy = client.get("/healthz").get_json()
    assert healthy["status"] == "ok"
    # Healthy, it still says when and where the last pass was.
    assert healthy["scheduler"] == {"last_pass": clock.now().isoformat(), "seconds_ago": 0, "process": "sched:1"}


def test_a_process_started_while_the_database_was_down_shows_once_it_dispatches(app: Flask, clock: FixedClock) -> None:
    # Its start() could not write its row; a pass, once the database is back, must still be seen.
    Heartbeat(get_db(app), clock, name="late:9").beat()
    body = app.test_client().get("/healthz").get_json()
    assert body["status"] == "ok"
    assert body["scheduler"] == {"last_pass": clock.now().isoformat(), "seconds_ago": 0, "process": "late:9"}


def test_a_pass_notes_the_heartbeat_and_a_failing_pass_does_not(
    db: Database, session: Session, clock: FixedClock, dispatcher: Dispatcher, fake: FakeTelephony
) -> None:
    jobs = Jobs(dispatcher, Reaper(db, fake, clock), heartbeat=Heartbeat(db, clock, name="here:1"))
    jobs.heartbeat.start()  # type: ignore[union-attr]
    jobs._dispatch()
    assert session.get(SchedulerHeartbeat, "here:1").last_pass_at == clock.now()  # type: ignore[union-attr]
    clock.advance(seconds=30)

    def broken(housekeeping: bool = True) -> int:
        raise RuntimeError("database gone")

    dispatcher.run_once = broken  # type: ignore[method-assign]
    jobs._dispatch()
    session.expire_all()
    assert session.get(SchedulerHeartbeat, "here:1").last_pass_at == clock.now() - timedelta(seconds=30)  # type: ignore[union-attr]


# -- stopping -------------------------------------------------------------------------------------


def test_a_stop_mid_pass_dials_the_claim_in_hand_and_takes_no_other(
    session: Session, clock: FixedClock, dispatcher: Dispatcher, fake: FakeTelephony
) -> None:
    for _ in range(2):
        factories.agent(session, clock.now())
        factories.request(session, clock.now())
    place_call = fake.place_call

    def place_then_stop(*args: Any, **kwargs: Any) -> Any:
        dispatcher.stop()  # SIGTERM arrives while the provider is answering
        return place_call(*args, **kwargs)

    fake.place_call = place_then_stop  # type: ignore[method-assign]
    assert dispatcher.run_pending() == 1
    assert len(fake.calls) == 1
    statuses = sorted(session.scalars(select(CallbackRequest.status)))
    assert statuses == ["dialing", "queued"]
    assert dispatcher.run_pending() == 0  # stopped for good


# -- wakes ----------------------------------------------------------------------------------------


def test_a_wake_while_the_last_pass_is_still_finishing_is_not_lost(
    db: Database, session: Session, clock: FixedClock, dispatcher: Dispatcher, fake: FakeTelephony
) -> None:
    finishing = threading.Event()
    release = threading.Event()

    class SlowHeartbeat(Heartbeat):
        def beat(self) -> None:
            finishing.set()
            release.wait(10)  # the pass is over, its job is not: APScheduler still counts it running

    # No tick during the test: only wakes run passes.
    jobs = Jobs(
        dispatcher, Reaper(db, fake, clock), dispatch_seconds=300, heartbeat=SlowHeartbeat(db, clock, name="slow:1")
    )
    jobs.start()
    try:
        jobs.wake()
        assert finishing.wait(10)
        factories.agent(session, clock.now())
        factories.request(session, clock.now())
        jobs.wake()
        deadline = threading.Event()
        for _ in range(100):
            if fake.calls:
                break
            deadline.wait(0.05)
        assert len(fake.calls) == 1, "the wake was lost while the last pass's job finished"
    finally:
        release.set()
        jobs.shutdown()


def test_an_agent_whose_wrap_up_runs_out_is_dialled_then_not_at_the_next_tick(
    db: Database, session: Session, fake: FakeTelephony
) -> None:
    from agents.service import update_queue
    from core.clock import SystemClock

    clock = SystemClock()
    update_queue(session, "orders", {"hours": "24/7"})
    agent = factories.agent(session, clock.now(), status="wrap_up")
    agent.busy_until = clock.now() + timedelta(seconds=0.5)
    factories.request(session, clock.now())
    session.commit()
    dispatcher = Dispatcher(db, fake, clock, SETTINGS)
    # The first tick is three seconds away: the wrap-up ends long before it.
    jobs = Jobs(dispatcher, Reaper(db, fake, clock), dispatch_seconds=3)
    jobs.start()
    try:
        jobs.wake()  # a pass now finds nobody free, and books one for the end of the wrap-up
        waited = threading.Event()
        for _ in range(50):
            if fake.calls:
                break
            waited.wait(0.05)
        assert len(fake.calls) == 1, "not dialled within 2.5 s, before the first tick"
        assert jobs.scheduler.get_job("dispatch_at_wrap_up_end") is None
    finally:
        jobs.shutdown()
