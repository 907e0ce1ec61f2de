"""index of the phone-menu calls still going on, by caller

Revision ID: 0024
Revises: 0023

Before dialling a customer the line asks whether their number is in the phone menu with us right now
(callback.line._on_the_line): a call placed then meets call waiting or a busy line and uses up one of
their attempts. The index is partial, so it holds the few calls not yet ended, whatever the history.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_ivr_sessions_live_caller",
        "ivr_sessions",
        ["caller"],
        sqlite_where=sa.text("ended_at IS NULL"),
        postgresql_where=sa.text("ended_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_ivr_sessions_live_caller", table_name="ivr_sessions")
