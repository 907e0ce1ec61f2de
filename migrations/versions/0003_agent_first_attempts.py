"""agent first attempts

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 04:31:43.647532

Marks the attempts placed with the agent-first strategy, so the reaper and the status callback know
that the call we placed rang the agent, not the customer.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("call_attempts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("agent_first", sa.Boolean(), server_default=sa.text("false"), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("call_attempts", schema=None) as batch_op:
        batch_op.drop_column("agent_first")
