"""what the figures need: agents' status history, the quoted wait, each queue's service-level target

Revision ID: 0007
Revises: 0006

Occupancy needs to know how long each agent spent in each status, so every change is kept; the
honesty of the quoted wait needs the quote, kept when the request is made; the service level is
measured against a target each queue sets (900 seconds unless changed); the supervisors' list and
a period's figures read requests by creation time.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.db import UtcDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agent_status_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("at", UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name="fk_agent_status_changes_agent_id_agents", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_agent_status_changes"),
    )
    op.create_index("ix_agent_status_changes_agent_at", "agent_status_changes", ["agent_id", "at"])
    op.create_index("ix_agent_status_changes_at", "agent_status_changes", ["at"])
    # Each agent's present status, as the history's first row: occupancy starts counting here.
    op.execute(
        "INSERT INTO agent_status_changes (agent_id, status, at) SELECT id, status, status_since FROM agents"
    )
    # In place, as in 0006: a batch copy on SQLite would lose the DESC of the waiting index.
    op.add_column("callback_requests", sa.Column("quoted_wait_seconds", sa.Integer(), nullable=True))
    # The supervisors' list (newest first) and a period's figures read requests by creation time.
    op.create_index("ix_callback_created", "callback_requests", ["created_at", "id"])
    op.add_column(
        "queues",
        sa.Column("service_level_seconds", sa.Integer(), nullable=False, server_default=sa.text("900")),
    )


def downgrade() -> None:
    op.drop_column("queues", "service_level_seconds")
    op.drop_index("ix_callback_created", table_name="callback_requests")
    op.drop_column("callback_requests", "quoted_wait_seconds")
    op.drop_index("ix_agent_status_changes_at", table_name="agent_status_changes")
    op.drop_index("ix_agent_status_changes_agent_at", table_name="agent_status_changes")
    op.drop_table("agent_status_changes")
