"""Wake-ups: who wakes the dispatcher, and how a wake crosses processes (LISTEN/NOTIFY on PostgreSQL)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from core.clock import FixedClock
from core.db import POSTGRES_KEEPALIVES, Database, get_db, make_engine
from scheduler.heartbeat import NOTE_EVERY, Heartbeat
from scheduler.wakeups import APPLICATION_NAME, Listener, Notifier, conninfo
from tests.conftest import POSTGRES_URL
from tests.integration.test_ivr_webhooks import form, post
from tests.ports import free_port


class Wakes:
    """Counts the wakes a listener delivers, and waits for them."""

    def __init__(self) -> None:
        self.count = 0
        self._changed = threading.Condition()

    def __call__(self) -> None:
        with self._changed:
            self.count += 1
            self._changed.notify_all()

    def wait_for(self, count: int, timeout: float = 5.0) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self.count >= count, timeout)


@pytest.fixture
def listening(_postgres_schema: str) -> Iterator[Callable[..., tuple[Listener, Wakes]]]:
    """Start listeners on the test PostgreSQL; each is stopped at the end."""
    started: list[Listener] = []
    engine = make_engine(_postgres_schema)

    def listen(**options: object) -> tuple[Listener, Wakes]:
        wakes = Wakes()
        listener = Listener(conninfo(engine), wakes, **options)  # type: ignore[arg-type]
        listener.start()
        started.append(listener)
        assert listener.listening.wait(10)
        return listener, wakes

    yield listen
    for listener in started:
        listener.stop()
    engine.dispose()


@pytest.mark.postgres
def test_a_notification_wakes_every_listener_but_not_for_its_own_sender(
    listening: Callable[..., tuple[Listener, Wakes]],
) -> None:
    engine = make_engine(POSTGRES_URL)
    _, mine = listening(ignore_sender="web-1")
    _, other = listening()
    Notifier(engine, "web-1").notify()
    assert other.wait_for(1)
    time.sleep(0.3)  # ample for the same notification to reach the first listener
    assert mine.count == 0
    Notifier(engine, "web-2").notify()
    assert mine.wait_for(1) and other.wait_for(2)
    engine.dispose()


@pytest.mark.postgres
def test_a_notification_inside_a_rolled_back_transaction_wakes_nobody(
    listening: Callable[..., tuple[Listener, Wakes]],
) -> None:
    engine = make_engine(POSTGRES_URL)
    _, wakes = listening()
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_notify('callme_dispatch', 'x')"))
        conn.rollback()
    Notifier(engine, "after").notify()
    assert wakes.wait_for(1)
    time.sleep(0.3)
    assert wakes.count == 1
    engine.dispose()


@pytest.mark.postgres
def test_a_listener_whose_connection_is_killed_reconnects_and_wakes_once_for_what_it_missed(
    listening: Callable[..., tuple[Listener, Wakes]],
) -> None:
    engine = make_engine(POSTGRES_URL)
    listener, wakes = listening(first_backoff=0.05)
    with engine.connect() as conn:
        killed = conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = :name AND datname = current_database()"
            ),
            {"name": APPLICATION_NAME},
        ).all()
    assert killed == [(True,)]
    assert wakes.wait_for(1, timeout=10), "no wake after reconnecting"
    assert listener.reconnections == 1 and listener.listening.is_set()
    Notifier(engine, "web").notify()
    assert wakes.wait_for(2)
    engine.dispose()


def test_a_listener_that_cannot_reach_the_database_keeps_trying_without_raising_and_stops() -> None:
    wakes = Wakes()
    listener = Listener(f"postgresql://nobody@127.0.0.1:{free_port()}/none", wakes, first_backoff=0.05)
    listener.start()
    time.sleep(0.5)  # several refused attempts
    assert not listener.listening.is_set() and listener._thread is not None and listener._thread.is_alive()
    began = time.monotonic()
    listener.stop()
    assert not listener._thread.is_alive() and time.monotonic() - began < 2
    assert wakes.count == 0


# -- the web side: who wakes ------------------------------------------------------------------------


def test_a_callback_request_notifies_other_processes_on_postgresql_only(
    app: Flask, client: FlaskClient, backend: str, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        # One process: nobody else to tell, and no jobs run in this one (SCHEDULER=off).
        assert "wake_dispatcher" not in app.extensions
        return
    listen = request.getfixturevalue("listening")
    _, wakes = listen()
    body = {"phone": "+12015550123", "name": "Ann Lee", "topic": "orders", "consent": True}
    assert client.post("/api/callbacks", json=body).status_code == 201
    assert wakes.wait_for(1)


def test_a_wake_reaches_both_the_jobs_here_and_the_other_processes(
    database_url: str, backend: str, request: pytest.FixtureRequest
) -> None:
    from app import create_app

    application = create_app({"app_env": "testing", "database_url": database_url, "scheduler": True})
    jobs = application.extensions["jobs"]
    woken: list[bool] = []
    jobs.dispatcher.wake = lambda: woken.append(True)
    try:
        if backend == "postgresql":
            _, wakes = request.getfixturevalue("listening")()
        with application.app_context():
            from core.web import wake_dispatcher

            wake_dispatcher()
        assert woken == [True]
        if backend == "postgresql":
            assert wakes.wait_for(1)
            # This app's own listener skipped the notification it sent: it had woken its jobs directly.
            time.sleep(0.3)
            assert woken == [True]
    finally:
        jobs.shutdown()
        get_db(application).engine.dispose()


@pytest.mark.parametrize("choice", ["3", "1"], ids=["hold", "callback at this number"])
def test_a_caller_joining_the_line_from_the_phone_menu_wakes_the_dispatcher(
    app: Flask, client: FlaskClient, choice: str
) -> None:
    woken: list[bool] = []
    app.extensions["wake_dispatcher"] = lambda: woken.append(True)
    post(app, client, "/voice/incoming", form())
    post(app, client, "/voice/ivr/input?node=main", form(Digits="0"))
    assert woken == []
    post(app, client, "/voice/ivr/input?node=agent_orders&mode=callback", form(Digits=choice))
    assert woken == [True]


def test_dispatchers_take_their_turn_at_a_wake_up_by_their_place_among_the_live_ones(db: Database) -> None:
    clock = FixedClock(datetime(2026, 11, 30, 12, 0, tzinfo=UTC))
    beats = [Heartbeat(db, clock, name=name) for name in ("box:30", "box:10", "box:20")]
    for beat in beats:
        beat.start()
        beat.beat()
    second = FixedClock(clock.now() + NOTE_EVERY)
    for beat in beats:  # a second later, all three have noted a pass
        beat.clock = second
        beat.beat()
    assert [b.rank for b in beats] == [2, 0, 1]
    beats[1].stop()  # the first one leaves: the others move up
    third = FixedClock(second.now() + NOTE_EVERY)
    for beat in (beats[0], beats[2]):
        beat.clock = third
        beat.beat()
    assert (beats[0].rank, beats[2].rank) == (1, 0)


@pytest.mark.postgres
def test_the_pool_and_the_listener_probe_an_idle_connection_so_a_partitioned_server_is_noticed(
    listening: Callable[..., tuple[Listener, Wakes]],
) -> None:
    # Without keepalives an idle connection to a server gone behind a partition waits for hours.
    expected = {name: str(value) for name, value in POSTGRES_KEEPALIVES.items()}
    engine = make_engine(POSTGRES_URL)
    with engine.connect() as conn:
        pooled = conn.connection.dbapi_connection.info.get_parameters()  # type: ignore[union-attr]
    assert {name: pooled.get(name) for name in expected} == expected
    engine.dispose()
    listener, _ = listening()
    assert listener.connection_parameters is not None
    assert {name: listener.connection_parameters.get(name) for name in expected} == expected
