"""when an agent-first customer was greeted, apart from when they were bridged

Revision ID: 0017
Revises: 0016

Agent-first, the customer hears a greeting before the bridge to the agent, and may hang up during it.
The greeting used to write `bridged_at`, so callme_wait_to_connect_seconds counted a connection that
then did not happen (and counted the request again when a later call reached them). The greeting now
has its own column, and `bridged_at` is written only once Twilio confirms the bridge.

Existing agent-first rows: a bridged_at there was the greeting's time, so it is the greeted_at too.
A call on the line during the upgrade (request still "connected", attempt open) keeps its greeting and
loses the unconfirmed bridge, which its Dial action now confirms or not. The downgrade puts those back.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.db import UtcDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# Agent-first attempts greeted whose bridge is not confirmed yet: the request is on the line, the call open.
_ON_THE_LINE = (
    "agent_first = true AND ended_at IS NULL AND greeted_at IS NOT NULL"
    " AND request_id IN (SELECT id FROM callback_requests WHERE status = 'connected')"
)


def upgrade() -> None:
    op.add_column("call_attempts", sa.Column("greeted_at", UtcDateTime(timezone=True), nullable=True))
    op.execute("UPDATE call_attempts SET greeted_at = bridged_at WHERE agent_first = true AND bridged_at IS NOT NULL")
    op.execute(
        "UPDATE agent_legs SET bridged_at = NULL"
        f" WHERE ended_at IS NULL AND attempt_id IN (SELECT id FROM call_attempts WHERE {_ON_THE_LINE})"
    )
    op.execute(f"UPDATE call_attempts SET bridged_at = NULL WHERE {_ON_THE_LINE}")


def downgrade() -> None:
    op.execute(f"UPDATE call_attempts SET bridged_at = greeted_at WHERE {_ON_THE_LINE}")
    op.execute(
        "UPDATE agent_legs SET bridged_at = (SELECT greeted_at FROM call_attempts WHERE call_attempts.id = attempt_id)"
        f" WHERE ended_at IS NULL AND attempt_id IN (SELECT id FROM call_attempts WHERE {_ON_THE_LINE})"
    )
    # Not batch mode on SQLite: it copies the table, and dropping the old one with foreign keys on
    # fails (or cascades) for the rows that point at it (agent legs, recordings). SQLite (3.35+) drops
    # a plain column in place.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE call_attempts DROP COLUMN greeted_at")
    else:
        op.drop_column("call_attempts", "greeted_at")
