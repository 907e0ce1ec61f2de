"""SQLAlchemy engine and sessions: one engine per app, one session per request or job."""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any, cast

from flask import Flask, g, has_app_context, has_request_context
from sqlalchemy import DateTime, MetaData, TypeDecorator, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection, CursorResult, Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql.expression import Executable

from core.clock import as_utc

# Explicit constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base for every model of the project."""

    metadata = MetaData(naming_convention=NAMING)


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp that is always aware UTC going in and coming out, on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware UTC time")
        return as_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else as_utc(value)


def rows_changed(session: Session, statement: Executable) -> int:
    """Run an UPDATE or DELETE and say how many rows it changed: the test of a conditional claim."""
    result = cast(CursorResult[Any], session.execute(statement))
    return int(result.rowcount or 0)


# How long a job or a command waits for SQLite's write lock; a web request waits what is left of its budget.
SQLITE_BUSY_SECONDS = 30
# A PostgreSQL server that does not accept a connection within this many seconds is down (libpq's
# minimum is 2); a job finds out at its next tick, a request answers its fallback.
POSTGRES_CONNECT_SECONDS = 2
# A server gone behind a network partition sends no reset: an idle connection (the pool's, the wake-up
# listener's) would wait on it for ever, by the kernel's defaults for hours. TCP keepalives probe an idle
# connection after 30 s and give up after three unanswered probes 10 s apart; data sent and never
# acknowledged gives up after 30 s (tcp_user_timeout, Linux). libpq's own parameters, for every connection.
POSTGRES_KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
    "tcp_user_timeout": 30_000,
}


class DatabaseTimeout(sa_exc.TimeoutError):
    """The database did not answer within the web request's budget (see `start_budget`)."""


# What "the database is unavailable" looks like from here: refused or lost connections, a lock or a
# statement that outlasted its timeout, no free connection in the pool, or the request's budget spent.
# Constraint violations and SQL errors are bugs, not outages, and are not among them.
UNAVAILABLE: tuple[type[Exception], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,
)


def is_unavailable(error: BaseException) -> bool:
    """Whether an exception means the database is down or too slow, rather than a bug."""
    return isinstance(error, UNAVAILABLE)


def outage_cause(error: BaseException) -> str:
    """An outage in one line for the log, where a traceback would only bury it: the driver's own words
    ("connection to server at ... failed: Connection refused"), their first line."""
    origin = getattr(error, "orig", None) or error.__cause__ or error
    return (str(origin).strip().splitlines() or [type(error).__name__])[0][:300]


# A pooled PostgreSQL connection that sat unused this long is checked before use (a server restarted
# meanwhile has closed it); one in steady use is not, which spares a busy webhook a round trip.
PING_AFTER_IDLE_SECONDS = 1.0
# A request's statements may outlast its budget by this share of it, so that one standing
# statement_timeout per connection serves every request without a SET LOCAL each.
BUDGET_SLACK = 0.1


def start_budget(seconds: float) -> None:
    """Give the current request `seconds` of database time in all: past it, statements are refused
    (DatabaseTimeout), a SQLite lock is waited for only until then, and a PostgreSQL statement is
    cancelled by the server when it runs out (statement_timeout, give or take BUDGET_SLACK)."""
    g.db_deadline = time.monotonic() + seconds
    g.db_budget_ms = max(1, math.ceil(seconds * 1000))


def _deadline() -> float | None:
    if not has_app_context():
        return None
    deadline: float | None = g.get("db_deadline")
    return deadline


def _remaining_ms(deadline: float) -> int:
    """Milliseconds left of the request's budget; DatabaseTimeout once it is spent."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise DatabaseTimeout("the database did not answer within the request's time budget")
    return max(1, math.ceil(left * 1000))


def _sqlite_budget(conn: Connection, cursor: Any, *_args: Any) -> None:
    """Before each statement: wait for a lock at most what is left of the request's budget (a job
    waits SQLITE_BUSY_SECONDS). A PRAGMA on an open connection costs microseconds, no I/O."""
    deadline = _deadline()
    info = conn.info
    if deadline is None:
        if info.pop("budgeted", False):
            cursor.connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}")
        return
    cursor.connection.execute(f"PRAGMA busy_timeout={_remaining_ms(deadline)}")
    info["budgeted"] = True


def _postgres_budget_check(_conn: Connection, *_args: Any) -> None:
    """Before each statement: none starts once the request's budget is spent."""
    deadline = _deadline()
    if deadline is not None:
        _remaining_ms(deadline)


def _postgres_budget_begin(conn: Connection) -> None:
    """A request's transaction: the server cancels any statement still running when its budget ends.
    The connection's standing timeout (set at checkout) does it while little of the budget is spent;
    later in a request, a SET LOCAL (until the transaction ends) shortens it to what is left."""
    deadline = _deadline()
    if deadline is None:
        return
    left = _remaining_ms(deadline)
    standing = conn.connection.info.get(STANDING_TIMEOUT)
    if standing is not None and left >= standing * (1 - BUDGET_SLACK):
        return
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(f"SET LOCAL statement_timeout = {left}")
    finally:
        cursor.close()


# How long past its budget a request waits on a PostgreSQL server that does not answer at all before the
# connection is cut on our side: longer than the server's own statement_timeout takes to cancel a slow
# statement (BUDGET_SLACK), which leaves the connection fit for the next request.
CUT_AFTER_SECONDS = 0.25


def _budgeted_connect(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
    """The engine's do_connect hook: psycopg connections whose every wait on the server (statements,
    COMMIT, the pool's checks) ends with the request's budget."""
    return _budgeted_connection_class().connect(*cargs, **cparams)


@functools.cache
def _budgeted_connection_class() -> Any:
    """Built on first use: psycopg is imported only by an app on PostgreSQL."""
    import psycopg
    from psycopg import errors

    class BudgetedConnection(psycopg.Connection):
        """A server that stops answering mid-request (frozen, a stalled disk or VM, a network gone dark)
        cannot cancel its own statements: statement_timeout never fires, and the request would wait
        until it wakes (the issue measured 15 s). A wait on the server made for a web request ends when
        its budget does (and CUT_AFTER_SECONDS), the connection is closed (its state is unknown, it is
        never reused) and an OperationalError follows, so the request answers its fallback in time."""

        def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
            deadline = _deadline()
            if deadline is None or timeout is not None:
                return super().wait(gen, interval=interval, timeout=timeout)
            left = max(0.001, deadline + CUT_AFTER_SECONDS - time.monotonic())
            try:
                return super().wait(gen, interval=interval, timeout=left)
            except errors._WaitTimeout as exc:  # noqa: SLF001 - psycopg's own "wait ran out"
                self.pgconn.finish()
                raise errors.OperationalError(
                    "the database did not answer within the request's time budget; connection closed"
                ) from exc

    return BudgetedConnection


# Where a pooled connection remembers its session's statement_timeout (None: the server's default).
STANDING_TIMEOUT = "callme_statement_timeout_ms"
CHECKED_IN = "callme_checked_in"


def _postgres_checkout(dbapi_error: type[Exception]) -> Callable[[Any, Any, Any], None]:
    """The pool's checkout hook: give a connection the statement_timeout of its user (a budgeted
    request's budget, else the server's default) and check a connection that sat idle; at most one
    round trip, none for a connection in steady use by the same kind of work."""

    def checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        info = record.info
        wanted = g.get("db_budget_ms") if _deadline() is not None else None
        idle = time.monotonic() - info.get(CHECKED_IN, -math.inf)
        if info.get(STANDING_TIMEOUT, "unknown") == wanted and idle < PING_AFTER_IDLE_SECONDS:
            return
        setting = "DEFAULT" if wanted is None else str(int(wanted))
        try:
            # Outside any transaction, so no rollback can undo it; the SET is the idle check too.
            autocommit = dbapi_connection.autocommit
            dbapi_connection.autocommit = True
            with dbapi_connection.cursor() as cursor:
                cursor.execute(f"SET statement_timeout = {setting}")
            dbapi_connection.autocommit = autocommit
        except dbapi_error as error:
            # The pool throws this connection away and hands out another (as pool_pre_ping does).
            raise sa_exc.DisconnectionError(str(error)) from error
        info[STANDING_TIMEOUT] = wanted

    return checkout


def _note_checkin(_dbapi_connection: Any, record: Any) -> None:
    record.info[CHECKED_IN] = time.monotonic()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """Create an engine tuned for the backend: WAL and a busy timeout on SQLite; on both, web requests
    wait on the database no longer than their budget (start_budget)."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_SECONDS, "check_same_thread": False}, **kwargs)
        event.listen(engine, "before_cursor_execute", _sqlite_budget)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # WAL lets the scheduler write while web requests read; foreign keys are off by default.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            # With WAL, NORMAL syncs at checkpoints instead of every commit: the file cannot be
            # corrupted, and only a power cut (not a killed process) can lose the last commits.
            # It takes an fsync off every webhook, which was most of their cost.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}")
            cursor.close()

        return engine
    if url.startswith("postgresql"):
        connect_args = kwargs.pop("connect_args", {})
        connect_args.setdefault("connect_timeout", POSTGRES_CONNECT_SECONDS)
        for name, value in POSTGRES_KEEPALIVES.items():
            connect_args.setdefault(name, value)
        # A request waits for a pooled connection no longer than a connection takes to fail.
        kwargs.setdefault("pool_timeout", POSTGRES_CONNECT_SECONDS)
        # No pool_pre_ping: the checkout hook checks idle connections, not each one every time.
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        event.listen(engine, "do_connect", _budgeted_connect)
        event.listen(engine, "before_cursor_execute", _postgres_budget_check)
        event.listen(engine, "begin", _postgres_budget_begin)
        event.listen(engine.pool, "checkout", _postgres_checkout(engine.dialect.loaded_dbapi.Error))
        event.listen(engine.pool, "checkin", _note_checkin)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def holds_connection(session: Session) -> bool:
    """Whether the session's transaction has reached the database (a statement ran or a flush did),
    so that only its COMMIT or ROLLBACK ends it; a session that only holds objects has not."""
    return bool(session.info.get(_CONNECTED))


_CONNECTED = "callme_connected"


@event.listens_for(Session, "after_begin")
def _connected(session: Session, _transaction: Any, _connection: Connection) -> None:
    session.info[_CONNECTED] = True


@event.listens_for(Session, "after_transaction_end")
def _released(session: Session, transaction: Any) -> None:
    if transaction.parent is None:  # the outermost one: the session has no connection any more
        session.info.pop(_CONNECTED, None)


class Database:
    """The app's engine and session factory, reachable from views as `db.session`."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        # Each statement its own transaction: no BEGIN and no COMMIT or ROLLBACK to wait for.
        self._autocommit_engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._autocommit = sessionmaker(self._autocommit_engine, expire_on_commit=False)

    @contextmanager
    def autocommit(self) -> Iterator[Session]:
        """A session whose every statement commits by itself: for reads that need no snapshot and
        single statements (the dispatcher's last look before dialling, its pacing slot), each a
        round trip less twice over on PostgreSQL."""
        with self._autocommit() as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A connection whose every statement commits by itself, without the ORM: for the phone menu's
        reads and single-statement writes, where a webhook's time is counted in round trips and the
        ORM's bookkeeping costs more than the query (an order's status, a new call's menu session).

        A web request keeps one such connection until its teardown (a checkout and its return cost a
        third of a query); one that failed is closed at once, and the next use gets another."""
        if not has_request_context():
            with self._autocommit_engine.connect() as connection:
                yield connection
            return
        connection = g.get("db_reading")
        if connection is None:
            connection = g.db_reading = self._autocommit_engine.connect()
        try:
            yield connection
        except BaseException:
            g.pop("db_reading", None)
            connection.close()
            raise

    @contextmanager
    def begin(self) -> Iterator[Session]:
        """A session in a transaction, for jobs and CLI commands: commit on success, else roll back."""
        with self.sessions() as session, session.begin():
            yield session

    @property
    def session(self) -> Session:
        """The current request's session, opened on first use and closed at teardown."""
        if "db_session" not in g:
            g.db_session = self.sessions()
        session: Session = g.db_session
        return session


def init_app(app: Flask, database_url: str) -> Database:
    """Attach a Database to the app and close request sessions at teardown."""
    if database_url.startswith("sqlite:///"):
        from pathlib import Path

        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    database = Database(make_engine(database_url))
    app.extensions["db"] = database

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()
        reading = g.pop("db_reading", None)
        if reading is not None:
            reading.close()

    return database


def get_db(app: Flask) -> Database:
    """The Database attached to an app."""
    database: Database = app.extensions["db"]
    return database
