"""agent legs, call bounds and provider pauses

Revision ID: 0005
Revises: 0004

Every agent rung becomes a row of its own (screened: only an acceptance is bridged); an attempt
records when the customer's number was dialled and when an agent accepted; an agent keeps the
reason of their last status change; dialling can be paused for every process after an
account-level refusal by the provider.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.db import UtcDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # add_column in place (no batch copy): SQLite adds a nullable column without rebuilding the
    # table, and a rebuild would lose the DESC of the waiting index.
    op.add_column("call_attempts", sa.Column("dialled_at", UtcDateTime(timezone=True), nullable=True))
    op.add_column("call_attempts", sa.Column("accepted_at", UtcDateTime(timezone=True), nullable=True))
    op.add_column("agents", sa.Column("status_reason", sa.String(length=200), nullable=True))
    # Attempts placed before this revision were all calls to the customer, but for the transfers.
    op.execute(
        "UPDATE call_attempts SET dialled_at = COALESCE(placed_at, created_at) "
        "WHERE agent_first = false AND call_sid IS NOT NULL "
        "AND call_sid NOT IN (SELECT call_sid FROM ivr_sessions)"
    )
    op.create_table(
        "agent_legs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("call_sid", sa.String(length=40), nullable=True),
        sa.Column("rung_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("answered_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("accepted_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("bridged_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("answered_by", sa.String(length=24), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("talk_seconds", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"]),
        sa.ForeignKeyConstraint(["attempt_id"], ["call_attempts.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_agent_legs_attempt_id", "agent_legs", ["attempt_id"])
    op.create_index("ix_agent_legs_agent_rung", "agent_legs", ["agent_id", "rung_at"])
    op.create_table(
        "provider_pauses",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("paused_until", UtcDateTime(timezone=True), nullable=False),
        sa.Column("since", UtcDateTime(timezone=True), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("code", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("provider_pauses")
    op.drop_index("ix_agent_legs_agent_rung", table_name="agent_legs")
    op.drop_index("ix_agent_legs_attempt_id", table_name="agent_legs")
    op.drop_table("agent_legs")
    with op.batch_alter_table("agents") as batch_op:
        batch_op.drop_column("status_reason")
    with op.batch_alter_table("call_attempts") as batch_op:
        batch_op.drop_column("accepted_at")
        batch_op.drop_column("dialled_at")
