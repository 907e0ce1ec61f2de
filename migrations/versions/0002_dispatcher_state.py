"""dispatcher state

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 04:01:55.657313

What the dispatcher needs: attempt progress for idempotent webhooks and the reaper, agent wrap-up
ends, the shared calls-per-second schedule, and the waiting index in dispatch order (priority first).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pacing_buckets",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("next_slot", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_pacing_buckets")),
    )
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("busy_until", core.db.UtcDateTime(timezone=True), nullable=True))

    with op.batch_alter_table("call_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("call_status", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("last_sequence", sa.Integer(), server_default=sa.text("-1"), nullable=False))
        batch_op.add_column(sa.Column("placed_at", core.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("confirmed_at", core.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("bridged_at", core.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("checked_at", core.db.UtcDateTime(timezone=True), nullable=True))
        batch_op.create_index(
            "ix_call_attempts_open",
            ["created_at"],
            unique=False,
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        )

    with op.batch_alter_table("callback_requests", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_callback_waiting_order",
            sqlite_where=sa.text("status IN ('queued', 'retry_wait')"),
            postgresql_where=sa.text("status IN ('queued', 'retry_wait')"),
        )
        batch_op.create_index(
            "ix_callback_waiting_order",
            ["queue_id", sa.literal_column("priority DESC"), "created_at", "id"],
            unique=False,
            sqlite_where=sa.text("status IN ('queued', 'retry_wait')"),
            postgresql_where=sa.text("status IN ('queued', 'retry_wait')"),
        )



def downgrade() -> None:
    with op.batch_alter_table("callback_requests", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_callback_waiting_order",
            sqlite_where=sa.text("status IN ('queued', 'retry_wait')"),
            postgresql_where=sa.text("status IN ('queued', 'retry_wait')"),
        )
        batch_op.create_index(
            "ix_callback_waiting_order",
            ["queue_id", "priority", "created_at", "id"],
            unique=False,
            sqlite_where=sa.text("status IN ('queued', 'retry_wait')"),
            postgresql_where=sa.text("status IN ('queued', 'retry_wait')"),
        )

    with op.batch_alter_table("call_attempts", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_call_attempts_open",
            sqlite_where=sa.text("ended_at IS NULL"),
            postgresql_where=sa.text("ended_at IS NULL"),
        )
        batch_op.drop_column("checked_at")
        batch_op.drop_column("bridged_at")
        batch_op.drop_column("confirmed_at")
        batch_op.drop_column("placed_at")
        batch_op.drop_column("last_sequence")
        batch_op.drop_column("call_status")

    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_column("busy_until")

    op.drop_table("pacing_buckets")
