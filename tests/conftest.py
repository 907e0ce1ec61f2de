"""Shared fixtures: a fixed clock, a database on each backend, the app and its clients."""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from core.clock import FixedClock
from core.db import Base, Database, make_engine
from tests.helpers import SharedTemplateCode, empty_postgres_tables, sqlite_with_schema

# A Monday, 10:00 in New York: inside the default queues' business hours.
MONDAY_10AM_NEW_YORK = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def _worker_database(url: str) -> str:
    """Under pytest-xdist, a database of the worker's own on the test server (created once), so that
    workers never empty each other's tables or hear each other's NOTIFY; else `url` itself.

    TEST_DATABASE_URL is pointed at it too, for the processes a test starts (scheduler, gunicorn)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not url or not worker:
        return url
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"{base.database}_{worker}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}) is None:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    own = base.set(database=name).render_as_string(hide_password=False)
    os.environ["TEST_DATABASE_URL"] = own
    return own


POSTGRES_URL = _worker_database(os.environ.get("TEST_DATABASE_URL", ""))

# Every app the tests build (and every process they start) may wait on its database this long per
# request (DATABASE_TIMEOUT_SECONDS, 2 s in production): on a loaded 2-core CI machine an ordinary
# POST /api/callbacks on SQLite once took longer and answered 503, failing a test about client
# addresses. The budget itself is tested with its own value (test_database_outage.py), which wins.
os.environ.setdefault("DATABASE_TIMEOUT_SECONDS", "10")


def pytest_configure(config: pytest.Config) -> None:
    """CI promises PostgreSQL: refuse to run a suite that would quietly leave it out."""
    if os.environ.get("REQUIRE_POSTGRES") == "1" and not POSTGRES_URL:
        raise pytest.UsageError("REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set (use scripts/with-postgres.sh)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without a PostgreSQL server, PostgreSQL-only tests are deselected (CI always has one)."""
    if POSTGRES_URL:
        return
    keep = [item for item in items if item.get_closest_marker("postgres") is None]
    dropped = [item for item in items if item.get_closest_marker("postgres") is not None]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test that takes `backend` on SQLite, and on PostgreSQL when one is provided; a test
    marked postgres on PostgreSQL alone, one marked sqlite_only on SQLite alone."""
    if "backend" in metafunc.fixturenames:
        if metafunc.definition.get_closest_marker("postgres") is not None:
            backends = ["postgresql"]  # deselected without a server (pytest_collection_modifyitems)
        else:
            both = POSTGRES_URL and metafunc.definition.get_closest_marker("sqlite_only") is None
            backends = ["sqlite"] + (["postgresql"] if both else [])
        metafunc.parametrize("backend", backends, scope="session")


import agents.models  # noqa: E402,F401 - register the tables
import callback.models  # noqa: E402,F401
import ivr.models  # noqa: E402,F401
import orders.models  # noqa: E402,F401
import recordings.models  # noqa: E402,F401
import reports.models  # noqa: E402,F401


@pytest.fixture(scope="session", autouse=True)
def _cheap_password_hashes() -> Iterator[None]:
    """Staff passwords hashed and checked with argon2id at its cheapest cost instead of production's.

    Production's RFC 9106 parameters (64 MiB, 3 passes, 4 lanes) take some 170 ms a hash or a check on a
    2-core machine, and some 500 tests sign a staff member in (a hash, then a check): minutes of the run.
    The hashes are still salted argon2id, checked by the same code; only their cost is not under test
    (as Django's test settings do with its password hashers).
    """
    from argon2 import PasswordHasher

    from agents import staff

    cheap = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    staff._unusable_hash.cache_clear()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(staff, "_hasher", lambda: cheap)
        yield
    staff._unusable_hash.cache_clear()


@pytest.fixture(scope="session", autouse=True)
def _phone_trees_parsed_once() -> Iterator[None]:
    """Each phone tree text is parsed from YAML once per run; every later read gets a deep copy of it.

    create_app loads the phone tree, and PyYAML's pure-Python parser takes 50 ms or more on the default
    tree: most of create_app's time, in the ~1,500 tests that build an app. Keyed by the text itself, so a
    test that writes its own tree gets what it wrote; a text that fails to parse is not kept, and fails again.
    """
    from ivr import tree

    read = tree._read_yaml
    parsed: dict[tuple[str, str], tuple[Any, list[str]]] = {}

    def read_once(text: str, source: str) -> tuple[Any, list[str]]:
        if (text, source) not in parsed:
            parsed[text, source] = read(text, source)
        data, duplicates = parsed[text, source]
        return copy.deepcopy(data), list(duplicates)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tree, "_read_yaml", read_once)
        yield


@pytest.fixture(scope="session", autouse=True)
def _templates_compiled_once() -> Iterator[None]:
    """Every Flask app of the run shares one cache of compiled Jinja templates (see SharedTemplateCode)."""
    from flask import Flask

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Flask, "jinja_options", {**Flask.jinja_options, "bytecode_cache": SharedTemplateCode()})
        yield


@pytest.fixture(scope="session", autouse=True)
def _url_builders_compiled_once() -> Iterator[None]:
    """Werkzeug's URL builder for a rule is compiled once per run, not once per app of every test.

    Each rule of each new app compiles two small Python functions (some 15 ms an app for its 76 rules,
    most of create_app now). The function depends only on the rule's text and parsed parts (it takes the
    rule itself as an argument), so every app can use the same one; a rule with defaults, whose builder
    also depends on its converters, is compiled as before.
    """
    from werkzeug.routing.rules import Rule

    compile_builder = Rule._compile_builder
    built: dict[tuple[Any, ...], Any] = {}

    def compiled_once(self: Rule, append_unknown: bool = True) -> Any:
        if self.defaults:
            return compile_builder(self, append_unknown)
        key = (self.rule, tuple(self._trace), append_unknown)
        if key not in built:
            built[key] = compile_builder(self, append_unknown)
        return built[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Rule, "_compile_builder", compiled_once)
        yield


@pytest.fixture
def clock() -> FixedClock:
    """A clock standing still on a Monday morning in New York."""
    return FixedClock(MONDAY_10AM_NEW_YORK)


@pytest.fixture(scope="session")
def _postgres_schema() -> Iterator[str]:
    """Create the schema once per run on the test PostgreSQL server."""
    engine = make_engine(POSTGRES_URL)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    engine.dispose()
    yield POSTGRES_URL


@pytest.fixture(scope="session")
def _postgres_cleaner(_postgres_schema: str) -> Iterator[Engine]:
    """One engine for the whole run that empties the PostgreSQL tables after each test."""
    engine = make_engine(_postgres_schema, pool_size=1, pool_pre_ping=True)
    yield engine
    engine.dispose()


@pytest.fixture
def database_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    """An empty database with the schema: a fresh SQLite file, or the PostgreSQL one emptied."""
    if backend == "sqlite":
        yield sqlite_with_schema(tmp_path / "test.sqlite3")
        return
    url = request.getfixturevalue("_postgres_schema")
    cleaner: Engine = request.getfixturevalue("_postgres_cleaner")
    yield url
    with cleaner.begin() as conn:
        empty_postgres_tables(conn)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """A Database on the test backend, outside any app."""
    database = Database(make_engine(database_url))
    yield database
    database.engine.dispose()


@pytest.fixture
def session(db: Database) -> Iterator[Session]:
    """A session on the test database with the default queues in place."""
    from agents.service import ensure_default_queues

    with db.sessions() as s:
        ensure_default_queues(s, "+15005550006")
        yield s


@pytest.fixture
def app(database_url: str, clock: FixedClock):
    """The whole app on the test database, with default queues, at the fixed time."""
    from agents.service import ensure_default_queues
    from app import create_app
    from core.db import get_db

    application = create_app(
        {
            "app_env": "testing",
            "database_url": database_url,
            "public_base_url": "https://shop.example",
            # The request's database budget (2 s in production) is tested on its own, with its own value
            # (test_database_outage.py); on a loaded 2-core machine an ordinary webhook on PostgreSQL
            # once took longer and answered the fallback apology, failing a test about something else.
            "database_timeout_seconds": 10.0,
        },
        clock=clock,
    )
    with get_db(application).sessions() as s:
        ensure_default_queues(s, "+15005550006")
    yield application
    get_db(application).engine.dispose()


@pytest.fixture
def client(app):
    """A test client of the app."""
    return app.test_client()


@pytest.fixture
def admin_headers() -> dict[str, str]:
    """The development admin token, as a bearer header."""
    from core.config import DEV_ADMIN_TOKEN

    return {"Authorization": f"Bearer {DEV_ADMIN_TOKEN}"}


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's headless Chromium; a missing browser fails loudly rather than skipping the tests."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"Chromium is missing at {CHROMIUM}, and the browser tests need it. Run `make test`, which installs "
            "it (scripts/system-deps.sh, as root), or install it yourself: sudo apt-get install chromium",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
