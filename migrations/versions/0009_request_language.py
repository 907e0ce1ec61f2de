"""the language a callback request was made in

Revision ID: 0009
Revises: 0008

The customer's pages follow the browser's language; the call we place speaks the language the
request was made in. Existing requests were all made in English.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # In place on both backends: a NOT NULL column with a constant default needs no table copy.
    op.add_column(
        "callback_requests",
        sa.Column("language", sa.String(length=8), server_default=sa.text("'en'"), nullable=False),
    )


def downgrade() -> None:
    with op.batch_alter_table("callback_requests") as batch:
        batch.drop_column("language")
