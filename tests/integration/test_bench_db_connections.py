"""What a pooled PostgreSQL connection costs a request (found by the benchmarks): no check and no SET per
request in steady use, yet the request's budget still bounds its statements at the server, jobs keep the
server's own timeout, and a connection the server closed while idle is never handed to anyone."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from flask import Flask, g
from sqlalchemy import text

import core.db
from core.db import Database, make_engine, start_budget

pytestmark = pytest.mark.postgres


@pytest.fixture
def one_connection(_postgres_schema: str) -> Iterator[Database]:
    """A Database whose pool holds a single connection, so every use below reuses it."""
    database = Database(make_engine(_postgres_schema, pool_size=1, max_overflow=0))
    yield database
    database.engine.dispose()


def timeout_ms(database: Database) -> int:
    """The statement_timeout the server applies to the next statement, in milliseconds."""
    with database.sessions() as session:
        shown = str(session.scalar(text("SELECT current_setting('statement_timeout')")))
    units = {"ms": 1, "s": 1000, "min": 60_000}
    number = shown.rstrip("absefimn")
    return int(number) * units.get(shown[len(number) :], 1)


def backend_pid(database: Database) -> int:
    with database.sessions() as session:
        return int(session.scalar(text("SELECT pg_backend_pid()")) or 0)


def test_a_request_is_bounded_by_its_budget_and_a_job_after_it_by_the_servers_default(
    one_connection: Database,
) -> None:
    server_default = timeout_ms(one_connection)
    with Flask(__name__).app_context():
        start_budget(2.0)
        assert timeout_ms(one_connection) == 2000
    assert timeout_ms(one_connection) == server_default


def test_late_in_its_budget_a_request_gets_only_what_is_left(one_connection: Database) -> None:
    with Flask(__name__).app_context():
        start_budget(2.0)
        assert timeout_ms(one_connection) == 2000
        g.db_deadline = time.monotonic() + 0.5  # most of the budget spent
        assert 0 < timeout_ms(one_connection) <= 500


def test_a_connection_the_server_closed_while_idle_is_replaced_before_use(
    one_connection: Database, _postgres_schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = backend_pid(one_connection)
    other = make_engine(_postgres_schema)
    with other.connect() as conn:
        assert conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": before})
    other.dispose()
    monkeypatch.setattr(core.db, "PING_AFTER_IDLE_SECONDS", 0.0)  # it has been idle "long enough"
    assert backend_pid(one_connection) != before
