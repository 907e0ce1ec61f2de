"""Alembic environment: the engine comes from the app (core.migrate), the metadata from the models."""

from __future__ import annotations

from alembic import context

import agents.models  # noqa: F401 - registers the tables on Base.metadata
import callback.models  # noqa: F401
import ivr.models  # noqa: F401
import orders.models  # noqa: F401
import recordings.models  # noqa: F401
from core.db import Base

target_metadata = Base.metadata


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
            context.run_migrations()
        connection.commit()


run_migrations_online()
