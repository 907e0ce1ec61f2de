"""Migrations match the models on every backend; operator commands do what they say."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from core.clock import FixedClock
from core.config import Settings
from core.db import Base, make_engine
from tests.conftest import POSTGRES_URL

FLASK = str(Path(sys.executable).with_name("flask"))
ROOT = Path(__file__).resolve().parents[2]
EXPRESSION_INDEXES = ("ix_callback_waiting_order", "ix_callback_holding_order")


@pytest.fixture
def empty_url(backend: str, tmp_path: Path) -> Iterator[str]:
    """A database with no schema at all: a new SQLite file, or a new PostgreSQL database."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    name = f"callme_{uuid.uuid4().hex[:10]}"
    admin = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def fresh_app(empty_url: str, clock: FixedClock) -> Iterator[Flask]:
    from app import create_app
    from core.db import get_db

    application = create_app({"app_env": "testing", "database_url": empty_url}, clock=clock)
    yield application
    get_db(application).engine.dispose()


def test_init_db_creates_the_schema_and_queues_and_is_safe_twice(fresh_app: Flask, empty_url: str) -> None:
    runner = fresh_app.test_cli_runner()
    first = runner.invoke(args=["init-db"])
    assert first.exit_code == 0, first.output
    assert "created queues: orders, returns, payments, account, devices, other" in first.output
    second = runner.invoke(args=["init-db"])
    assert second.exit_code == 0, second.output
    assert "created queues" not in second.output


@pytest.mark.postgres  # several hosts share a PostgreSQL database; a SQLite file is one host's
def test_init_db_on_several_hosts_at_once_migrates_once(empty_url: str) -> None:
    """A deploy runs init-db on every host at the same moment: each must succeed, and the schema and
    queues come out once. Processes, as on hosts (Alembic's environment is one per process)."""
    env = {
        **{k: v for k, v in os.environ.items() if k.lower() not in {f.name for f in fields(Settings)}},
        "APP_ENV": "testing",
        "DATABASE_URL": empty_url,
        "LOG_LEVEL": "WARNING",
    }
    hosts = [
        subprocess.Popen(
            [FLASK, "--app", "app", "init-db"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        for _ in range(3)
    ]
    outputs = [host.communicate(timeout=120)[0].decode() for host in hosts]

    assert [host.returncode for host in hosts] == [0, 0, 0], outputs
    assert sum("created queues" in output for output in outputs) >= 1
    engine = make_engine(empty_url)
    try:
        with engine.connect() as connection:
            names = list(connection.execute(text("SELECT name FROM queues")).scalars())
            heads = list(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    finally:
        engine.dispose()
    assert len(names) == len(set(names)) == 6 and len(heads) == 1


def _schema_diff(url: str, backend: str) -> list[Any]:
    """What Alembic finds between the database at `url` and the models (nothing, when they agree)."""
    engine = make_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        if backend == "sqlite":
            # Alembic cannot reflect SQLite's expression indexes (priority DESC), so it always sees
            # those as changed; check them directly instead.
            for name in EXPRESSION_INDEXES:
                sql = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = :name"), {"name": name})
                assert "priority DESC" in sql.scalar_one()
            diff = [d for d in diff if not (d[0] in {"add_index", "remove_index"} and d[1].name in EXPRESSION_INDEXES)]
    engine.dispose()
    return list(diff)


def test_migrations_produce_exactly_the_models_schema(fresh_app: Flask, empty_url: str, backend: str) -> None:
    assert fresh_app.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    assert _schema_diff(empty_url, backend) == []


def test_a_database_migrated_before_0007_and_0008_gained_their_late_indexes_gets_them(
    empty_url: str, backend: str
) -> None:
    from core.migrate import upgrade

    engine = make_engine(empty_url)
    upgrade(engine, "0013")
    with engine.begin() as conn:  # as 0007 and 0008 were when such a database applied them
        conn.execute(text("DROP INDEX ix_callback_created"))
        conn.execute(text("DROP INDEX ix_recordings_undeleted"))
    upgrade(engine)
    engine.dispose()
    assert _schema_diff(empty_url, backend) == []


def test_agents_add_prints_the_new_id_and_the_list_shows_it(fresh_app: Flask) -> None:
    runner = fresh_app.test_cli_runner()
    runner.invoke(args=["init-db"])
    result = runner.invoke(
        args=["agents", "add", "--name", "Ada Park", "--phone", "+12015550155", "--queues", "orders,returns"]
    )
    assert result.exit_code == 0, result.output
    agent_id = int(result.output.strip())
    listed = runner.invoke(args=["agents", "list"]).output
    assert f"{agent_id}\tAda Park\t+12015550155\torders,returns\toffline" in listed
    assert runner.invoke(args=["agents", "status", str(agent_id), "available"]).exit_code == 0
    assert "available" in runner.invoke(args=["agents", "list"]).output


def test_agents_add_explains_a_bad_queue(fresh_app: Flask) -> None:
    runner = fresh_app.test_cli_runner()
    runner.invoke(args=["init-db"])
    result = runner.invoke(args=["agents", "add", "--name", "Ada", "--client", "ada", "--queues", "nope"])
    assert result.exit_code != 0
    assert "Unknown queue(s): nope." in result.output


def test_queues_can_be_edited_from_the_command_line(fresh_app: Flask) -> None:
    runner = fresh_app.test_cli_runner()
    runner.invoke(args=["init-db"])
    result = runner.invoke(
        args=[
            "queues",
            "set",
            "returns",
            "--hours",
            "mon-sat 08:00-20:00",
            "--timezone",
            "Europe/London",
            "--max-attempts",
            "4",
            "--backoff",
            "60,300",
            "--wrap-up",
            "45",
            "--caller-id",
            "+442071838750",
        ]
    )
    assert result.exit_code == 0, result.output
    listed = runner.invoke(args=["queues", "list"]).output
    line = next(row for row in listed.splitlines() if row.startswith("returns\t"))
    for expected in (
        "tz=Europe/London",
        "hours=mon-sat 08:00-20:00",
        "max_attempts=4",
        "backoff=60,300",
        "wrap_up=45",
        "caller_id=+442071838750",
    ):
        assert expected in line
    bad = runner.invoke(args=["queues", "set", "returns", "--hours", "whenever"])
    assert bad.exit_code != 0 and "no opening times" in bad.output


@pytest.mark.parametrize("caller_id", ["12345", "not a number", "+999"])
def test_a_caller_id_that_is_no_number_is_refused_on_the_command_line(fresh_app: Flask, caller_id: str) -> None:
    """Twilio refuses a call from it (21210), which pauses dialling for every queue: refused here instead."""
    runner = fresh_app.test_cli_runner()
    runner.invoke(args=["init-db"])
    bad = runner.invoke(args=["queues", "set", "orders", "--caller-id", caller_id])
    assert bad.exit_code != 0 and "Caller ID" in bad.output
    national = runner.invoke(args=["queues", "set", "orders", "--caller-id", "(201) 555-0100"])
    assert national.exit_code == 0, national.output
    assert "caller_id=+12015550100" in runner.invoke(args=["queues", "list"]).output


def test_the_do_not_call_list_is_managed_from_the_command_line(fresh_app: Flask) -> None:
    runner = fresh_app.test_cli_runner()
    runner.invoke(args=["init-db"])
    assert "+12015550123 added" in runner.invoke(args=["dnc", "add", "(201) 555-0123", "--reason", "asked"]).output
    assert "+12015550123" in runner.invoke(args=["dnc", "list"]).output
    assert "removed" in runner.invoke(args=["dnc", "remove", "+12015550123"]).output
    assert "+12015550123" not in runner.invoke(args=["dnc", "list"]).output


def test_demo_data_loads_twice_without_duplicates(fresh_app: Flask) -> None:
    runner = fresh_app.test_cli_runner()
    runner.invoke(args=["init-db"])
    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert first.output.count("demo agent") == 3
    second = runner.invoke(args=["demo"])
    assert second.output.count("demo agent") == 0
    assert runner.invoke(args=["agents", "list"]).output.count("available") == 3


def test_a_new_queue_can_be_created_with_only_its_name(fresh_app: Flask) -> None:
    runner = fresh_app.test_cli_runner()
    runner.invoke(args=["init-db"])
    result = runner.invoke(args=["queues", "set", "wholesale", "--create"])
    assert result.exit_code == 0, result.output
    listed = runner.invoke(args=["queues", "list"]).output
    assert "wholesale" in listed


def test_this_seasons_migrations_go_back_and_forth_keeping_every_row(empty_url: str, backend: str) -> None:
    """Downgrading the newest to 0012 and upgrading again loses no agent, queue link, request or attempt: SQLite's
    batch mode would copy and drop tables that other rows point at."""
    from alembic import command

    from core.migrate import alembic_config, upgrade

    engine = make_engine(empty_url)
    upgrade(engine)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO queues (name, display_name, caller_id, timezone, hours, max_attempts, backoff_seconds,"
                " expiry_hours, wrap_up_seconds, default_handle_seconds, dial_strategy, recording,"
                " service_level_seconds, languages)"
                " VALUES ('orders', 'Orders', '+15005550006', 'UTC', '24/7', 3, '300', 24, 30, 240,"
                " 'customer_first', false, 900, 'en')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO agents (name, phone, status, status_since, created_at)"
                " VALUES ('Ana', '+12015550101', 'available', :now, :now)"
            ),
            {"now": "2026-11-30 10:00:00+00:00"},
        )
        conn.execute(text("INSERT INTO agent_queues (agent_id, queue_id) SELECT a.id, q.id FROM agents a, queues q"))
    counts = "SELECT (SELECT count(*) FROM agents), (SELECT count(*) FROM agent_queues), (SELECT count(*) FROM queues)"
    with engine.connect() as conn:
        before = tuple(conn.execute(text(counts)).one())

    command.downgrade(alembic_config(engine), "0012")
    with engine.connect() as conn:
        assert tuple(conn.execute(text(counts)).one()) == before == (1, 1, 1)
    upgrade(engine)
    with engine.connect() as conn:
        assert tuple(conn.execute(text(counts)).one()) == before
    engine.dispose()
    assert _schema_diff(empty_url, backend) == []


def _insert_agent_first_call(conn: Any, ref: str, status: str, ended: str | None, greeted: str) -> int:
    """An agent-first request and its attempt and leg as 0016 kept them: the greeting wrote bridged_at."""
    conn.execute(
        text(
            "INSERT INTO callback_requests (ref, phone, name, queue_id, source, status, priority, attempts,"
            " created_at, updated_at, expires_at)"
            " SELECT :ref, '+12015550123', 'Ann', id, 'web', :status, 0, 1, :made, :made, :expires FROM queues"
        ),
        {"ref": ref, "status": status, "made": "2026-11-30 09:00:00+00:00", "expires": "2026-12-01 09:00:00+00:00"},
    )
    attempt_id = conn.execute(
        text(
            "INSERT INTO call_attempts (request_id, agent_first, created_at, accepted_at, bridged_at, ended_at)"
            " SELECT id, true, :made, :made, :greeted, :ended FROM callback_requests WHERE ref = :ref RETURNING id"
        ),
        {"ref": ref, "made": "2026-11-30 10:00:00+00:00", "greeted": greeted, "ended": ended},
    ).scalar_one()
    conn.execute(
        text(
            "INSERT INTO agent_legs (attempt_id, rung_at, accepted_at, bridged_at, ended_at)"
            " VALUES (:attempt, :made, :made, :greeted, :ended)"
        ),
        {"attempt": attempt_id, "made": "2026-11-30 10:00:00+00:00", "greeted": greeted, "ended": ended},
    )
    return int(attempt_id)


def test_0017_keeps_an_agent_first_greeting_apart_from_an_unconfirmed_bridge_and_back(
    empty_url: str, backend: str
) -> None:
    """Before 0017 the greeting wrote bridged_at: a finished call keeps it (its greeting, and its bridge),
    a call still on the line keeps only its greeting until its Dial action confirms the bridge."""
    from alembic import command

    from core.migrate import alembic_config, upgrade

    engine = make_engine(empty_url)
    upgrade(engine, "0016")
    greeted = "2026-11-30 10:00:30+00:00"
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO queues (name, display_name, caller_id, timezone, hours, max_attempts, backoff_seconds,"
                " expiry_hours, wrap_up_seconds, default_handle_seconds, dial_strategy, recording,"
                " service_level_seconds, languages)"
                " VALUES ('orders', 'Orders', '+15005550006', 'UTC', '24/7', 3, '300', 24, 30, 240,"
                " 'agent_first', false, 900, 'en')"
            )
        )
        talked = _insert_agent_first_call(conn, "done", "completed", "2026-11-30 10:05:00+00:00", greeted)
        on_line = _insert_agent_first_call(conn, "live", "connected", None, greeted)
    attempts = "SELECT id, greeted_at IS NOT NULL, bridged_at IS NOT NULL FROM call_attempts ORDER BY id"
    legs = "SELECT attempt_id, bridged_at IS NOT NULL FROM agent_legs ORDER BY attempt_id"

    upgrade(engine)
    with engine.connect() as conn:
        assert [tuple(row) for row in conn.execute(text(attempts))] == [(talked, True, True), (on_line, True, False)]
        assert [tuple(row) for row in conn.execute(text(legs))] == [(talked, True), (on_line, False)]
        greeted_at = conn.execute(text("SELECT greeted_at FROM call_attempts WHERE id = :id"), {"id": on_line})
        assert str(greeted_at.scalar_one()).startswith("2026-11-30 10:00:30")
    command.downgrade(alembic_config(engine), "0016")
    with engine.connect() as conn:
        bridged = "SELECT id, bridged_at IS NOT NULL FROM call_attempts ORDER BY id"
        assert [tuple(row) for row in conn.execute(text(bridged))] == [(talked, True), (on_line, True)]
        assert [tuple(row) for row in conn.execute(text(legs))] == [(talked, True), (on_line, True)]
    upgrade(engine)
    engine.dispose()
    assert _schema_diff(empty_url, backend) == []


def test_0018_gives_every_existing_staff_account_a_session_version_and_goes_back(empty_url: str, backend: str) -> None:
    """Accounts made before 0018 start at version 0 (their cookies carry none, so they are signed out);
    going back keeps the accounts and the audit lines that point at them."""
    from alembic import command

    from core.migrate import alembic_config, upgrade

    engine = make_engine(empty_url)
    upgrade(engine, "0016")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO staff_users (email, name, role, password_hash, active, created_at)"
                " VALUES ('ana@example.com', 'Ana', 'admin', 'x', true, :now)"
            ),
            {"now": "2026-11-30 10:00:00+00:00"},
        )
        conn.execute(
            text(
                "INSERT INTO audit_events (at, actor_staff_id, actor, action, target)"
                " SELECT :now, id, email, 'login.ok', email FROM staff_users"
            ),
            {"now": "2026-11-30 10:00:00+00:00"},
        )
    upgrade(engine, "0018")
    with engine.connect() as conn:
        assert list(conn.execute(text("SELECT email, session_version FROM staff_users"))) == [("ana@example.com", 0)]
    command.downgrade(alembic_config(engine), "0016")
    with engine.connect() as conn:
        counts = conn.execute(text("SELECT (SELECT count(*) FROM staff_users), (SELECT count(*) FROM audit_events)"))
        assert tuple(counts.one()) == (1, 1)
    upgrade(engine)
    engine.dispose()
    assert _schema_diff(empty_url, backend) == []


def test_0021_gives_every_existing_call_its_requests_queue_and_goes_back(empty_url: str, backend: str) -> None:
    """Calls made before 0021 count in the handle time of their request's queue, talked or not; going
    back keeps every call (and the agent leg that points at one)."""
    from alembic import command

    from core.migrate import alembic_config, upgrade

    engine = make_engine(empty_url)
    upgrade(engine, "0020")
    with engine.begin() as conn:
        for name in ("orders", "returns"):
            conn.execute(
                text(
                    "INSERT INTO queues (name, display_name, caller_id, timezone, hours, max_attempts,"
                    " backoff_seconds, expiry_hours, wrap_up_seconds, default_handle_seconds, dial_strategy,"
                    " recording, service_level_seconds, languages)"
                    " VALUES (:name, :name, '+15005550006', 'UTC', '24/7', 3, '300', 24, 30, 240,"
                    " 'customer_first', false, 900, 'en')"
                ),
                {"name": name},
            )
        for ref, name in (("a", "orders"), ("b", "returns"), ("c", "orders")):
            conn.execute(
                text(
                    "INSERT INTO callback_requests (ref, phone, name, queue_id, source, status, priority, attempts,"
                    " created_at, updated_at, expires_at)"
                    " SELECT :ref, '+12015550123', 'Ann', id, 'web', 'completed', 0, 1, :made, :made, :made"
                    " FROM queues WHERE name = :name"
                ),
                {"ref": ref, "name": name, "made": "2026-11-30 09:00:00+00:00"},
            )
        for ref, talk in (("a", 120), ("b", 300), ("c", None), ("a", 60)):
            conn.execute(
                text(
                    "INSERT INTO call_attempts (request_id, created_at, talk_seconds)"
                    " SELECT id, :made, :talk FROM callback_requests WHERE ref = :ref"
                ),
                {"ref": ref, "talk": talk, "made": "2026-11-30 10:00:00+00:00"},
            )
        conn.execute(
            text("INSERT INTO agent_legs (attempt_id, rung_at) SELECT min(id), :made FROM call_attempts"),
            {"made": "2026-11-30 10:00:00+00:00"},
        )
    calls = "SELECT a.talk_seconds, q.name FROM call_attempts a LEFT JOIN queues q ON q.id = a.queue_id ORDER BY a.id"

    upgrade(engine)
    with engine.connect() as conn:
        assert [tuple(row) for row in conn.execute(text(calls))] == [
            (120, "orders"),
            (300, "returns"),
            (None, "orders"),
            (60, "orders"),
        ]
    command.downgrade(alembic_config(engine), "0020")
    with engine.connect() as conn:
        counts = conn.execute(text("SELECT (SELECT count(*) FROM call_attempts), (SELECT count(*) FROM agent_legs)"))
        assert tuple(counts.one()) == (4, 1)
    upgrade(engine)
    engine.dispose()
    assert _schema_diff(empty_url, backend) == []


def test_0023_files_every_existing_audit_line_under_its_client_and_goes_back(empty_url: str, backend: str) -> None:
    """Lines written before 0023 count for the sign-in limit per client from the start: an IPv4 address is
    its own client, an IPv6 address its /64; going back keeps every line."""
    from alembic import command

    from core.migrate import alembic_config, upgrade

    engine = make_engine(empty_url)
    upgrade(engine, "0022")
    addresses = ["203.0.113.7", "2001:db8:1:2::10", "2001:db8:1:2:ffff::1", "::ffff:198.51.100.4", None]
    with engine.begin() as conn:
        for address in addresses:
            conn.execute(
                text(
                    "INSERT INTO audit_events (at, actor, action, target, address)"
                    " VALUES (:at, 'anonymous', 'login.fail', 'ana@example.com', :address)"
                ),
                {"at": "2026-11-30 10:00:00+00:00", "address": address},
            )
    upgrade(engine)
    with engine.connect() as conn:
        assert [row[0] for row in conn.execute(text("SELECT client FROM audit_events ORDER BY id"))] == [
            "203.0.113.7",
            "2001:db8:1:2::/64",
            "2001:db8:1:2::/64",
            "198.51.100.4",
            None,
        ]
    command.downgrade(alembic_config(engine), "0022")
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_events")).scalar() == len(addresses)
    upgrade(engine)
    engine.dispose()
    assert _schema_diff(empty_url, backend) == []
