"""the recording started for an agent leg

Revision ID: 0019
Revises: 0018

A queue that records starts one recording on the customer's call when an agent accepts. Its SID is
kept on the agent's leg: a retried webhook does not start a second one, and a leg that ends without
a bridge stops its own recording, so the next agent's conversation is never in the first agent's file.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("agent_legs", sa.Column("recording_sid", sa.String(length=40), nullable=True))


def downgrade() -> None:
    # SQLite (3.35+) drops a plain column in place; batch mode would copy a table others refer to.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE agent_legs DROP COLUMN recording_sid")
    else:
        op.drop_column("agent_legs", "recording_sid")
