"""Transaction-scoped locks on names, alike on SQLite and PostgreSQL: for rules that count rows, then add one.

A limit that counts recent rows and then inserts its own is a race: two transactions judged at once
each count the other out and both get in. Whoever takes the lock on the names first judges alone
until its transaction ends; the others wait, then count what it wrote.
"""

from __future__ import annotations

import zlib

from sqlalchemy import text
from sqlalchemy.orm import Session

_ADVISORY_LOCK = text("SELECT pg_advisory_xact_lock(CAST(:ns AS integer), CAST(:key AS integer))")


def serialise(session: Session, *names: tuple[int, str]) -> None:
    """Make this transaction the only one holding these (namespace, name) locks until it ends.

    PostgreSQL takes a transaction-scoped advisory lock per name, in the order given: callers always
    give their namespaces in one fixed order, so two transactions never wait on each other in a
    circle. A namespace is a constant of the caller's own, which keeps its locks apart from any
    other's on the same database; names are hashed to 32 bits, so two names may share a lock, which
    costs a wait, never a wrong count. SQLite has one writer at a time anyway: taking the write lock
    now (BEGIN IMMEDIATE, or the transaction already holds it after a write) means everything counted
    below stays true until the commit.
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        for namespace, name in names:
            session.execute(_ADVISORY_LOCK, {"ns": namespace, "key": _key(name)})
    elif connection.dialect.name == "sqlite":
        raw = connection.connection.dbapi_connection
        # pysqlite opens its transaction only at the first write, so reads so far held no lock.
        if raw is not None and not raw.in_transaction:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def _key(value: str) -> int:
    """A stable signed 32-bit key for an advisory lock."""
    return zlib.crc32(value.encode()) - 2**31
