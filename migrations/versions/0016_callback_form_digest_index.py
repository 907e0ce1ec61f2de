"""an index over the digests of the forms and Idempotency-Keys that made requests

Revision ID: 0016
Revises: 0015

An API retry with the Idempotency-Key of an earlier ask gets the request that ask made, even once it
was canceled or done; finding it by the key's digest needs an index (partial: most requests have none).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_callback_form_digest",
        "callback_requests",
        ["form_digest"],
        sqlite_where=sa.text("form_digest IS NOT NULL"),
        postgresql_where=sa.text("form_digest IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_callback_form_digest", table_name="callback_requests")
