"""Helpers the fixtures share: a database with the models' schema made once and copied for each test, and
compiled templates kept for every app of the run."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Hashable
from pathlib import Path
from types import CodeType

from jinja2.bccache import Bucket, BytecodeCache
from sqlalchemy import Connection

import agents.models  # noqa: F401 - register the tables
import callback.models  # noqa: F401
import ivr.models  # noqa: F401
import orders.models  # noqa: F401
import recordings.models  # noqa: F401
import reports.models  # noqa: F401
from core.db import Base, make_engine

_template: Path | None = None


def _schema_template() -> Path:
    """The SQLite file with the schema that every test's database is copied from, made on first use."""
    global _template
    if _template is None:
        folder = Path(tempfile.mkdtemp(prefix="callme-schema-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        path = folder / "schema.sqlite3"
        engine = make_engine(f"sqlite:///{path}")
        Base.metadata.create_all(engine)
        with engine.connect() as conn:
            # Move everything out of the write-ahead log into the file itself, which is all that is copied.
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        wal = path.with_name(path.name + "-wal")
        assert not wal.exists() or wal.stat().st_size == 0, "the schema template kept part of itself in its WAL"
        _template = path
    return _template


def sqlite_with_schema(path: Path) -> str:
    """Put a new SQLite database with the models' schema and no rows at `path`; returns its URL.

    create_all takes some 50 ms a file, on every one of some 1,500 tests; copying one made at the start
    takes under a millisecond and gives the same tables, indexes and settings (WAL is kept in the file).
    """
    shutil.copyfile(_schema_template(), path)
    return f"sqlite:///{path}"


def empty_postgres_tables(conn: Connection) -> None:
    """Delete every row of the models' tables and restart their id sequences, as a new schema has them.

    TRUNCATE ... RESTART IDENTITY does the same, but costs some 60 ms on PostgreSQL however few rows the
    test left (it makes new files for every table); deleting the few rows, in one round trip, costs a few.
    """
    tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
    deletes = "".join(f'DELETE FROM "{name}"; ' for name in tables)
    names = ", ".join(f"'{name}'" for name in tables)
    # The sequences TRUNCATE ... RESTART IDENTITY restarts: those owned by the tables' columns (serial
    # columns depend on them with deptype 'a', identity columns with 'i'), each back to its start value.
    restart = (
        "SELECT setval(seq.oid, ps.seqstart, false) FROM pg_class seq "
        "JOIN pg_sequence ps ON ps.seqrelid = seq.oid "
        "JOIN pg_depend dep ON dep.objid = seq.oid AND dep.classid = 'pg_class'::regclass "
        "AND dep.deptype IN ('a', 'i') "
        "JOIN pg_class tab ON tab.oid = dep.refobjid "
        f"WHERE tab.relnamespace = current_schema()::regnamespace AND tab.relname IN ({names})"
    )
    # Several statements and no parameters: one round trip to the server.
    conn.exec_driver_sql(deletes + restart)


class SharedTemplateCode(BytecodeCache):
    """Jinja's compiled templates, kept in memory for every environment of the run that is set up alike.

    Each test builds its own Flask app, whose Jinja environment would lex, parse and compile every template
    it renders again (some 7 ms a template). A template's code depends on its source (Jinja checks a
    checksum of it) and on the environment's settings (syntax, extensions, autoescape, finalize), which are
    part of the key here: an environment set up differently compiles its own.
    """

    def __init__(self) -> None:
        self._code: dict[tuple[Hashable, ...], tuple[str, CodeType]] = {}

    @staticmethod
    def _key(bucket: Bucket) -> tuple[Hashable, ...]:
        env = bucket.environment
        autoescape = env.autoescape
        return (
            bucket.key,
            type(env).__qualname__,
            tuple(sorted(env.extensions)),
            getattr(autoescape, "__qualname__", None) if callable(autoescape) else autoescape,
            getattr(env.finalize, "__qualname__", None) if env.finalize is not None else None,
            env.block_start_string,
            env.block_end_string,
            env.variable_start_string,
            env.variable_end_string,
            env.comment_start_string,
            env.comment_end_string,
            env.line_statement_prefix,
            env.line_comment_prefix,
            env.trim_blocks,
            env.lstrip_blocks,
            env.newline_sequence,
            env.keep_trailing_newline,
            env.optimized,
            tuple(sorted(env.filters)),
            tuple(sorted(env.tests)),
        )

    def load_bytecode(self, bucket: Bucket) -> None:
        """Hand the bucket the code compiled before from the same source, if any."""
        kept = self._code.get(self._key(bucket))
        if kept is not None and kept[0] == bucket.checksum:
            bucket.code = kept[1]

    def dump_bytecode(self, bucket: Bucket) -> None:
        """Keep the code just compiled (code objects are immutable: sharing them is safe)."""
        if bucket.code is not None:
            self._code[self._key(bucket)] = (bucket.checksum, bucket.code)
