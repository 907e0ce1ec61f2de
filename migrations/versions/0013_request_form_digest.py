"""the digest of the form that made a callback request

Revision ID: 0013
Revises: 0012

A double click posts the callback form twice; the second post finds the request the first made. The
form carries a random id, kept hashed with the request, so a post of the same form is known as its
maker's (and led to its page) while anyone else who knows the number is not. Older requests have none.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("callback_requests", sa.Column("form_digest", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("callback_requests") as batch:
        batch.drop_column("form_digest")
