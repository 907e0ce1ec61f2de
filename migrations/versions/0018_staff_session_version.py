"""a staff account's session version, so that signing out ends its sessions

Revision ID: 0018
Revises: 0017

A staff session lived only in its signed cookie, so signing out ended nothing that a copy of the cookie
could not bring back. A session now carries the account's version, which signing out, a new password
or role and disabling move on. Every account starts at 0; a cookie issued before this revision carries
no version at all, so everyone signed in is signed out once, by the upgrade.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # In place on both backends: a NOT NULL column with a constant default needs no table copy.
    op.add_column("staff_users", sa.Column("session_version", sa.Integer(), server_default=sa.text("0"), nullable=False))


def downgrade() -> None:
    # Not batch mode on SQLite: it copies the table, and dropping the old one with foreign keys on
    # fails (or cascades) for the rows that point at it (audit lines, agents). SQLite (3.35+) drops a
    # plain column in place.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE staff_users DROP COLUMN session_version")
    else:
        op.drop_column("staff_users", "session_version")
