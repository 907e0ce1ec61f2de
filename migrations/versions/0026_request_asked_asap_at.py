"""when a request booked for later was changed to "as soon as possible"

Revision ID: 0026
Revises: 0025

The wait, the speed of answer and the service level count from when the customer wanted the call: when
they asked, or the slot they booked. A booking moved to "as soon as possible" dropped its slot, and the
wait was counted from the first ask, hours before the customer wanted anything: a call put through five
minutes after "call me now" was a 65-minute answer that missed the service level. The moment of that
change is kept.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("callback_requests", sa.Column("asked_asap_at", core.db.UtcDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # As 0015: SQLite (3.35+) drops a plain column in place; batch mode would copy the table.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE callback_requests DROP COLUMN asked_asap_at")
    else:
        op.drop_column("callback_requests", "asked_asap_at")
