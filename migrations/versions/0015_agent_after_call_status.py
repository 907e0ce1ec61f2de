"""what an agent asked to be while the line held them for a call

Revision ID: 0015
Revises: 0014

An agent who asks for a break (or signs out) while reserved for a call or on one keeps the call; the
wish is kept on the agent and carried out when the line lets them go. Sign-outs were read back from the
audit log until now; a sign-out noted there for an agent still on a call (none in practice: calls end
within minutes) is simply not carried over.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("agents", sa.Column("after_call_status", sa.String(length=16), nullable=True))


def downgrade() -> None:
    # Not batch mode on SQLite: it copies the table, and dropping the old one with foreign keys on
    # fails (or cascades) for the rows that point at it. SQLite (3.35+) drops a plain column in place.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE agents DROP COLUMN after_call_status")
    else:
        op.drop_column("agents", "after_call_status")
