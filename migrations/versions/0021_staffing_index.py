"""each call's queue on its attempt, and an index of a queue's talked calls, for the recent handle time

Revision ID: 0021
Revises: 0020

callback.service.staffing reads a queue's recent handle time (its last 50 talked calls) in callers'
webhooks and every quote. The queue was the request's, so the query joined every attempt to its request
and walked the attempts backwards until 50 of that queue's turned up: through every other queue's calls,
and for a rarely used queue through nearly the whole history (about 195 ms a call on PostgreSQL with
213,000 attempts). With the queue on the attempt, ix_call_attempts_queue_talked (queue_id, id,
talk_seconds; only the talked calls) gives those 50 from the index alone, however old the line.

Existing attempts get the queue their request is in now: for all but the few requests staff moved
after a call, the queue the call was made in. The column stays nullable: SQLite adds a NOT NULL column
without a default only by copying the table, and other tables point at this one (see 0017).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

FOREIGN_KEY = "fk_call_attempts_queue_id_queues"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot add a foreign key to a table after the fact, but it takes one inline in ADD COLUMN
        # (Alembic would ask for a batch copy instead), as in 0006.
        op.execute(
            f"ALTER TABLE call_attempts ADD COLUMN queue_id INTEGER CONSTRAINT {FOREIGN_KEY} REFERENCES queues (id)"
        )
    else:
        op.add_column("call_attempts", sa.Column("queue_id", sa.Integer(), nullable=True))
        op.create_foreign_key(FOREIGN_KEY, "call_attempts", "queues", ["queue_id"], ["id"])
    op.execute(
        "UPDATE call_attempts SET queue_id ="
        " (SELECT queue_id FROM callback_requests WHERE callback_requests.id = call_attempts.request_id)"
    )
    op.create_index(
        "ix_call_attempts_queue_talked",
        "call_attempts",
        ["queue_id", "id", "talk_seconds"],
        sqlite_where=sa.text("talk_seconds IS NOT NULL"),
        postgresql_where=sa.text("talk_seconds IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_call_attempts_queue_talked", table_name="call_attempts")
    # Not batch mode on SQLite: it copies the table, and dropping the old one fails (or cascades) for the
    # rows that point at it (agent legs, recordings). SQLite (3.35+) drops the column in place.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE call_attempts DROP COLUMN queue_id")
    else:
        op.drop_constraint(FOREIGN_KEY, "call_attempts", type_="foreignkey")
        op.drop_column("call_attempts", "queue_id")
