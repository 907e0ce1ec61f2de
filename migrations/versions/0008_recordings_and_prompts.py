"""recordings copied home from the provider, and the shop's own prompts

Revision ID: 0008
Revises: 0007

A recorded conversation or an after-hours message is reported by the provider, fetched,
transcoded, verified and stored here before the provider's copy is deleted; a prompt is the shop's
own audio (a greeting, the hold music) in telephony format.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.db import UtcDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "prompts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=200), nullable=False),
        sa.Column("duration_seconds", sa.Float(), nullable=False),
        sa.Column("level_dbfs", sa.Float(), nullable=False),
        sa.Column("original_name", sa.String(length=200), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_prompts"),
        sa.UniqueConstraint("name", name="uq_prompts_name"),
    )
    op.create_table(
        "recordings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("attempt_id", sa.Integer(), nullable=True),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("provider_sid", sa.String(length=40), nullable=False),
        sa.Column("provider_call_sid", sa.String(length=40), nullable=True),
        sa.Column("provider_url", sa.String(length=500), nullable=True),
        sa.Column("provider_duration_seconds", sa.Integer(), nullable=True),
        sa.Column("channels", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.Column("next_try_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("storage_key", sa.String(length=200), nullable=True),
        sa.Column("format", sa.String(length=8), nullable=True),
        sa.Column("duration_seconds", sa.Float(), nullable=True),
        sa.Column("bytes", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("stored_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("provider_deleted_at", UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["agent_id"], ["agents.id"], name="fk_recordings_agent_id_agents", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["attempt_id"], ["call_attempts.id"], name="fk_recordings_attempt_id_call_attempts", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["callback_requests.id"],
            name="fk_recordings_request_id_callback_requests",
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_recordings"),
        sa.UniqueConstraint("provider_sid", name="uq_recordings_provider_sid"),
        sa.UniqueConstraint("public_id", name="uq_recordings_public_id"),
    )
    op.create_index("ix_recordings_agent_id", "recordings", ["agent_id"])
    op.create_index("ix_recordings_created", "recordings", ["created_at"])
    op.create_index(
        "ix_recordings_pending",
        "recordings",
        ["next_try_at"],
        sqlite_where=sa.text("state = 'pending'"),
        postgresql_where=sa.text("state = 'pending'"),
    )
    op.create_index("ix_recordings_request_id", "recordings", ["request_id"])
    op.create_index(
        "ix_recordings_undeleted",
        "recordings",
        ["next_try_at"],
        sqlite_where=sa.text("state = 'stored' AND provider_deleted_at IS NULL"),
        postgresql_where=sa.text("state = 'stored' AND provider_deleted_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("recordings")
    op.drop_table("prompts")
