"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 03:39:20.712018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db


revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("client", sa.String(length=80), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("status_since", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("created_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agents")),
        sa.UniqueConstraint("client", name=op.f("uq_agents_client")),
        sa.UniqueConstraint("phone", name=op.f("uq_agents_phone")),
    )
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agents_status"), ["status"], unique=False)

    op.create_table(
        "do_not_call",
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("added_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("phone", name=op.f("pk_do_not_call")),
    )
    op.create_table(
        "queues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("display_name", sa.String(length=80), nullable=False),
        sa.Column("caller_id", sa.String(length=20), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("hours", sa.Text(), nullable=False),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("backoff_seconds", sa.String(length=200), nullable=False),
        sa.Column("expiry_hours", sa.Integer(), nullable=False),
        sa.Column("wrap_up_seconds", sa.Integer(), nullable=False),
        sa.Column("default_handle_seconds", sa.Integer(), nullable=False),
        sa.Column("dial_strategy", sa.String(length=20), nullable=False),
        sa.Column("recording", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_queues")),
        sa.UniqueConstraint("name", name=op.f("uq_queues_name")),
    )
    op.create_table(
        "agent_queues",
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name=op.f("fk_agent_queues_agent_id_agents"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["queue_id"], ["queues.id"], name=op.f("fk_agent_queues_queue_id_queues"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("agent_id", "queue_id", name=op.f("pk_agent_queues")),
    )
    op.create_table(
        "callback_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ref", sa.String(length=32), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("queue_id", sa.Integer(), nullable=False),
        sa.Column("order_number", sa.String(length=40), nullable=True),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("client_ip", sa.String(length=45), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("not_before", core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("next_attempt_at", core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("expires_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("ivr_context", sa.Text(), nullable=True),
        sa.Column("outcome", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name=op.f("fk_callback_requests_agent_id_agents")),
        sa.ForeignKeyConstraint(["queue_id"], ["queues.id"], name=op.f("fk_callback_requests_queue_id_queues")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback_requests")),
        sa.UniqueConstraint("ref", name=op.f("uq_callback_requests_ref")),
    )
    with op.batch_alter_table("callback_requests", schema=None) as batch_op:
        batch_op.create_index("ix_callback_ip_created", ["client_ip", "created_at"], unique=False)
        batch_op.create_index("ix_callback_phone_created", ["phone", "created_at"], unique=False)
        batch_op.create_index(
            "ix_callback_waiting_order",
            ["queue_id", "priority", "created_at", "id"],
            unique=False,
            sqlite_where=sa.text("status IN ('queued', 'retry_wait')"),
            postgresql_where=sa.text("status IN ('queued', 'retry_wait')"),
        )
        batch_op.create_index(
            "uq_callback_active_phone_queue",
            ["phone", "queue_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('queued', 'dialing', 'connecting', 'connected', 'retry_wait')"),
            postgresql_where=sa.text("status IN ('queued', 'dialing', 'connecting', 'connected', 'retry_wait')"),
        )

    op.create_table(
        "call_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("call_sid", sa.String(length=40), nullable=True),
        sa.Column("agent_call_sid", sa.String(length=40), nullable=True),
        sa.Column("created_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("ringing_at", core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("answered_at", core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("ended_at", core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("answered_by", sa.String(length=24), nullable=True),
        sa.Column("outcome", sa.String(length=24), nullable=True),
        sa.Column("agent_outcome", sa.String(length=24), nullable=True),
        sa.Column("talk_seconds", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name=op.f("fk_call_attempts_agent_id_agents")),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["callback_requests.id"],
            name=op.f("fk_call_attempts_request_id_callback_requests"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_attempts")),
        sa.UniqueConstraint("call_sid", name=op.f("uq_call_attempts_call_sid")),
    )
    with op.batch_alter_table("call_attempts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_call_attempts_request_id"), ["request_id"], unique=False)



def downgrade() -> None:
    with op.batch_alter_table("call_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_call_attempts_request_id"))

    op.drop_table("call_attempts")
    with op.batch_alter_table("callback_requests", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_callback_active_phone_queue",
            sqlite_where=sa.text("status IN ('queued', 'dialing', 'connecting', 'connected', 'retry_wait')"),
            postgresql_where=sa.text("status IN ('queued', 'dialing', 'connecting', 'connected', 'retry_wait')"),
        )
        batch_op.drop_index(
            "ix_callback_waiting_order",
            sqlite_where=sa.text("status IN ('queued', 'retry_wait')"),
            postgresql_where=sa.text("status IN ('queued', 'retry_wait')"),
        )
        batch_op.drop_index("ix_callback_phone_created")
        batch_op.drop_index("ix_callback_ip_created")

    op.drop_table("callback_requests")
    op.drop_table("agent_queues")
    op.drop_table("queues")
    op.drop_table("do_not_call")
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agents_status"))

    op.drop_table("agents")
