"""staff accounts, the audit log, and dispositions on requests

Revision ID: 0006
Revises: 0005

People sign in as agents, supervisors or admins (an agent's account may be linked to their agent
record); every status change, admin action and sign-in is written to the audit log; an agent's
wrap-up leaves a disposition and a note on the request.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from core.db import UtcDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("last_login_at", UtcDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["agent_id"], ["agents.id"], name="fk_staff_users_agent_id_agents"),
        sa.PrimaryKeyConstraint("id", name="pk_staff_users"),
        sa.UniqueConstraint("email", name="uq_staff_users_email"),
        sa.UniqueConstraint("agent_id", name="uq_staff_users_agent_id"),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("actor_staff_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=254), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("target", sa.String(length=254), nullable=False),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("address", sa.String(length=45), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_staff_id"], ["staff_users.id"], name="fk_audit_events_actor_staff_id_staff_users"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_audit_events"),
    )
    op.create_index("ix_audit_events_at", "audit_events", ["at"])
    op.create_index("ix_audit_events_action_target_at", "audit_events", ["action", "target", "at"])
    op.create_index("ix_audit_events_action_address_at", "audit_events", ["action", "address", "at"])

    # add_column in place (no batch copy): SQLite adds a nullable column without rebuilding the
    # table, and a rebuild would lose the DESC of the waiting index.
    op.add_column("callback_requests", sa.Column("disposition", sa.String(length=20), nullable=True))
    op.add_column("callback_requests", sa.Column("note", sa.Text(), nullable=True))
    op.add_column("callback_requests", sa.Column("disposed_at", UtcDateTime(timezone=True), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        # SQLite cannot add a foreign key to a table after the fact, but it takes one inline in
        # ADD COLUMN (Alembic would ask for a batch copy instead).
        op.execute(
            "ALTER TABLE callback_requests ADD COLUMN disposed_by_staff_id INTEGER "
            "CONSTRAINT fk_callback_requests_disposed_by_staff_id_staff_users REFERENCES staff_users (id)"
        )
    else:
        op.add_column("callback_requests", sa.Column("disposed_by_staff_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            "fk_callback_requests_disposed_by_staff_id_staff_users",
            "callback_requests",
            "staff_users",
            ["disposed_by_staff_id"],
            ["id"],
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(
            "fk_callback_requests_disposed_by_staff_id_staff_users", "callback_requests", type_="foreignkey"
        )
    # SQLite (3.35+) drops a plain column in place; a column with a REFERENCES clause it cannot,
    # so that one goes through a batch copy, as the earlier downgrades do.
    for column in ("disposed_at", "note", "disposition"):
        op.drop_column("callback_requests", column)
    with op.batch_alter_table("callback_requests") as batch_op:
        batch_op.drop_column("disposed_by_staff_id")
    op.drop_index("ix_audit_events_action_address_at", table_name="audit_events")
    op.drop_index("ix_audit_events_action_target_at", table_name="audit_events")
    op.drop_index("ix_audit_events_at", table_name="audit_events")
    op.drop_table("audit_events")
    op.drop_table("staff_users")
