"""the languages a queue's agents speak, and the language of a phone-menu call

Revision ID: 0011
Revises: 0010

The phone menu speaks English and Spanish; a caller who chose Spanish is told when the queue's
agents may speak only English, so a queue says which languages its agents speak ("en,es"). Every
queue so far had English-speaking agents, and every phone-menu call so far was in English.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # In place on both backends: a NOT NULL column with a constant default needs no table copy.
    op.add_column(
        "queues", sa.Column("languages", sa.String(length=40), server_default=sa.text("'en'"), nullable=False)
    )
    op.add_column(
        "ivr_sessions", sa.Column("language", sa.String(length=8), server_default=sa.text("'en'"), nullable=False)
    )


def downgrade() -> None:
    with op.batch_alter_table("ivr_sessions") as batch:
        batch.drop_column("language")
    with op.batch_alter_table("queues") as batch:
        batch.drop_column("languages")
