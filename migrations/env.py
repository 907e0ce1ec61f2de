"""Alembic environment: the engine comes from the app (core.migrate), the metadata from the models."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

import agents.models  # noqa: F401 - registers the tables on Base.metadata
import callback.models  # noqa: F401
import ivr.models  # noqa: F401
import orders.models  # noqa: F401
import recordings.models  # noqa: F401
import reports.models  # noqa: F401
from core.db import Base

target_metadata = Base.metadata
# The advisory lock key migrations hold on PostgreSQL (any constant of the app's own: "callme" in hex).
MIGRATION_LOCK = 0x63616C6C6D65


def run_migrations_online() -> None:
    """Run the migrations on the engine handed over in the config's attributes."""
    engine = context.config.attributes["engine"]
    with engine.connect() as connection:
        # SQLite cannot ALTER most things in place; batch mode copies the table instead.
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # Several hosts run init-db on one deploy: one migrates, the others wait here, then find
                # the schema at head (DDL is transactional, and the lock ends with the transaction).
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            context.run_migrations()
        connection.commit()


run_migrations_online()
