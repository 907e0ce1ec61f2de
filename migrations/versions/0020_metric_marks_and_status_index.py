"""the reports' counter mark, and requests by status and last move for the board and /metrics

Revision ID: 0020
Revises: 0019

`callme_requests_total{outcome="canceled"}` counts a customer's own cancel when its undo window has
passed (reports.instruments.count_settled_cancels); `metric_marks` keeps, for every process, the moment up
to which those have been counted. The mark starts at the upgrade: cancels made before it were counted
when they were made, by the code of the time.

ix_callback_status_updated (status, updated_at, queue_id) serves the board's "failed in the last hour"
(PostgreSQL read the whole table for it, once per queue, at every poll), its counts of the requests
waiting and being called, and the settled cancels above.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    marks = op.create_table(
        "metric_marks",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("at", core.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_metric_marks")),
    )
    op.bulk_insert(marks, [{"name": "customer_cancels", "at": datetime.now(UTC)}])
    op.create_index("ix_callback_status_updated", "callback_requests", ["status", "updated_at", "queue_id"])


def downgrade() -> None:
    op.drop_index("ix_callback_status_updated", table_name="callback_requests")
    op.drop_table("metric_marks")
