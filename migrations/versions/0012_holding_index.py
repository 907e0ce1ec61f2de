"""an index over the callers holding on the line

Revision ID: 0012
Revises: 0011

While a queue is closed the dispatcher still serves the callers who were holding at closing time, and
only them; without this index finding them would read every request waiting for the morning.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

HOLDING = "status IN ('queued', 'retry_wait') AND hold_call_sid IS NOT NULL"


def upgrade() -> None:
    op.create_index(
        "ix_callback_holding_order",
        "callback_requests",
        ["queue_id", sa.literal_column("priority DESC"), "created_at", "id"],
        unique=False,
        sqlite_where=sa.text(HOLDING),
        postgresql_where=sa.text(HOLDING),
    )


def downgrade() -> None:
    op.drop_index("ix_callback_holding_order", table_name="callback_requests")
