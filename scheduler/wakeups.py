"""Wake-ups across processes: web processes NOTIFY, dispatcher processes LISTEN (PostgreSQL only).

A change that a dispatcher should act on at once (a request arrived, an agent became free, a caller
joined the line) is committed by a web process; the dispatcher may run in another process. On
PostgreSQL the web process then sends `NOTIFY callme_dispatch`, and every dispatcher process holds a
connection that LISTENs on the channel and wakes its jobs. The notification is sent after the change
committed, on a connection of its own, so a dispatcher woken by it always sees the change (and a
change rolled back notifies nobody). On SQLite there is one process, which wakes its jobs directly.

Notifications are a shortcut, never the only way: one lost (a listener reconnecting, a notifier
whose database hiccupped) costs at most the one-second tick, which stays as the safety net.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable

import psycopg
from psycopg.conninfo import make_conninfo
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from core.db import POSTGRES_KEEPALIVES

log = logging.getLogger(__name__)

CHANNEL = "callme_dispatch"
# The listener's connection as pg_stat_activity shows it, so an operator (or a test) can find it.
APPLICATION_NAME = "callme-wakeups"


def on_postgresql(engine: Engine) -> bool:
    """Whether the database carries notifications between processes."""
    return engine.dialect.name == "postgresql"


def conninfo(engine: Engine) -> str:
    """The engine's URL as libpq takes it (without SQLAlchemy's `+psycopg`)."""
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


def new_sender() -> str:
    """A name for one app's notifications, so its own listener can skip what it already woke for."""
    return uuid.uuid4().hex[:16]


class Notifier:
    """Sends `NOTIFY callme_dispatch` on a pooled connection of its own, as a transaction of its own."""

    def __init__(self, engine: Engine, sender: str) -> None:
        self.engine = engine
        self.sender = sender

    def notify(self) -> None:
        """Tell every listening dispatcher to run a pass; call it after the change has committed."""
        try:
            # Autocommit: the one statement is its transaction (no BEGIN or COMMIT to wait for), and
            # PostgreSQL delivers the notification as it ends.
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("SELECT pg_notify(:channel, :sender)"), {"channel": CHANNEL, "sender": self.sender})
        except SQLAlchemyError as error:
            # The change is committed; only its haste is lost: the next tick finds it.
            log.warning("dispatcher not notified; the next tick will see the change", extra={"error": str(error)})


class Listener:
    """A daemon thread that LISTENs on the channel and calls `on_wake` for each notification.

    Its connection is dedicated and in autocommit (LISTEN takes effect at once, and no transaction
    is held open). If the connection drops, it reconnects with a back-off, waking once after each
    reconnection since notifications sent meanwhile were lost; it never raises into the scheduler.
    """

    def __init__(
        self,
        dsn: str,
        on_wake: Callable[[], None],
        ignore_sender: str | None = None,
        poll_seconds: float = 0.5,
        check_seconds: float = 10.0,
        first_backoff: float = 0.5,
        longest_backoff: float = 15.0,
    ) -> None:
        self.dsn = dsn
        self.on_wake = on_wake
        self.ignore_sender = ignore_sender
        self.poll_seconds = poll_seconds
        self.check_seconds = check_seconds
        self.first_backoff = first_backoff
        self.longest_backoff = longest_backoff
        self.listening = threading.Event()
        self.reconnections = 0
        # What the live connection was opened with (libpq's parameters other than its defaults).
        self.connection_parameters: dict[str, str] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start listening in the background."""
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="callme-wakeups", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop listening (within about poll_seconds) and close the connection."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.listening.clear()

    def _run(self) -> None:
        backoff = self.first_backoff
        connected_before = False
        while not self._stop.is_set():
            try:
                with psycopg.connect(
                    make_conninfo(self.dsn, **POSTGRES_KEEPALIVES),
                    autocommit=True,
                    connect_timeout=10,
                    application_name=APPLICATION_NAME,
                ) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    self.connection_parameters = conn.info.get_parameters()
                    self.listening.set()
                    backoff = self.first_backoff
                    if connected_before:
                        self.reconnections += 1
                        log.info("wake-up listener reconnected")
                        self._wake()  # whatever was notified while we were away
                    connected_before = True
                    self._listen(conn)
            except Exception as error:  # noqa: BLE001 - any failure: reconnect later, never crash the scheduler
                self.listening.clear()
                if self._stop.is_set():
                    return
                log.warning(
                    "wake-up listener lost its connection; the tick dispatches meanwhile",
                    extra={"error": str(error), "retry_in": backoff},
                )
                self._stop.wait(backoff)
                backoff = min(backoff * 2, self.longest_backoff)
        self.listening.clear()

    def _listen(self, conn: psycopg.Connection) -> None:
        idle = 0.0
        while not self._stop.is_set():
            woke = False
            for notify in conn.notifies(timeout=self.poll_seconds):
                if notify.payload != self.ignore_sender:
                    woke = True
                    break
            if woke:
                # One pass covers every notification already queued behind this one.
                for _queued in conn.notifies(timeout=0):
                    pass
                self._wake()
                idle = 0.0
                continue
            idle += self.poll_seconds
            if idle >= self.check_seconds:
                # A connection cut without a reset would wait for ever: ask the server now and then.
                conn.execute("SELECT 1")
                idle = 0.0

    def _wake(self) -> None:
        try:
            self.on_wake()
        except Exception:  # noqa: BLE001 - a failing wake must not end the listening
            log.exception("wake-up failed")
