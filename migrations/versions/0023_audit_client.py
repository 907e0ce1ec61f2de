"""each audit line's client, so that the sign-in limit per address counts an IPv6 /64 as one client

Revision ID: 0023
Revises: 0022

The sign-in limit of 20 wrong passwords per address in 15 minutes counted raw addresses: one IPv6
subscriber, given a whole /64, could move to a fresh address for every 20 guesses. The callback limits
already count an IPv6 address's /64 (core.clients.client_key); audit lines now carry that client key,
and the limit counts it through ix_audit_events_action_client_at, which replaces the address index.

Existing lines get their client from their address: the same rule as core.clients.client_key, written
out here as it stood at this revision, because a migration must not change when the app's code does.
"""

from __future__ import annotations

import ipaddress

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def _client(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address.strip()[:45]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def upgrade() -> None:
    op.add_column("audit_events", sa.Column("client", sa.String(45), nullable=True))
    bind = op.get_bind()
    # One statement per distinct address, not per line: a line has few of them, however long its log.
    addresses = bind.execute(sa.text("SELECT DISTINCT address FROM audit_events WHERE address IS NOT NULL")).scalars()
    for address in list(addresses):
        bind.execute(
            sa.text("UPDATE audit_events SET client = :client WHERE address = :address"),
            {"client": _client(address) or None, "address": address},
        )
    op.drop_index("ix_audit_events_action_address_at", table_name="audit_events")
    op.create_index("ix_audit_events_action_client_at", "audit_events", ["action", "client", "at"])


def downgrade() -> None:
    op.drop_index("ix_audit_events_action_client_at", table_name="audit_events")
    op.create_index("ix_audit_events_action_address_at", "audit_events", ["action", "address", "at"])
    # Not batch mode on SQLite (a copy of the table): SQLite (3.35+) drops the column in place, as in 0021.
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE audit_events DROP COLUMN client")
    else:
        op.drop_column("audit_events", "client")
