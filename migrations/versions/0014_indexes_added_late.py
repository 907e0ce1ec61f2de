"""the two indexes added to migrations 0007 and 0008 after those had run somewhere

Revision ID: 0014
Revises: 0013

ix_callback_created (the supervisors' list and a period's figures read requests by creation time) and
ix_recordings_undeleted (the recordings job's due copies) were written into 0007 and 0008 after a
database could already have applied them; such a database never got them. Created here when missing,
so every database at head has them; a migration once applied is never edited again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

UNDELETED = "state = 'stored' AND provider_deleted_at IS NULL"


def _has_index(table: str, name: str) -> bool:
    return any(index["name"] == name for index in sa.inspect(op.get_bind()).get_indexes(table))


def upgrade() -> None:
    if not _has_index("callback_requests", "ix_callback_created"):
        op.create_index("ix_callback_created", "callback_requests", ["created_at", "id"])
    if not _has_index("recordings", "ix_recordings_undeleted"):
        op.create_index(
            "ix_recordings_undeleted",
            "recordings",
            ["next_try_at"],
            sqlite_where=sa.text(UNDELETED),
            postgresql_where=sa.text(UNDELETED),
        )


def downgrade() -> None:
    # Nothing to undo: 0007 and 0008 own these indexes (and drop them on their own downgrade).
    pass
