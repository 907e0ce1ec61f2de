"""scheduler heartbeats

Revision ID: 0010
Revises: 0009

Each dispatcher process (in a web worker or `flask scheduler`) notes when it finished its last
dispatch pass; /healthz warns when no process has done so lately.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scheduler_heartbeats",
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("started_at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_pass_at", core.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column("stopped_at", core.db.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scheduler_heartbeats")),
    )


def downgrade() -> None:
    op.drop_table("scheduler_heartbeats")
