"""who asked for an agent's status after their call, in words

Revision ID: 0025
Revises: 0024

A supervisor who sets an agent away or offline while the line holds them for a call leaves a wish
carried out when the call ends (after_call_status). A status set at once says who set it
(status_reason, "set by ..."); the wish did not, so the agent found themselves offline after the call
without knowing why. The reason now travels with the wish.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("agents", sa.Column("after_call_reason", sa.String(length=200), nullable=True))


def downgrade() -> None:
    # As 0015: SQLite (3.35+) drops a plain column in place; batch mode would copy the table.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE agents DROP COLUMN after_call_reason")
    else:
        op.drop_column("agents", "after_call_reason")
