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
    # Not batch mode on SQLite: it copies the table, and dropping the old one with foreign keys on
    # fails (or cascades) for the rows that point at it. SQLite (3.35+) drops a plain column in place.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE callback_requests DROP COLUMN form_digest")
    else:
        op.drop_column("callback_requests", "form_digest")
