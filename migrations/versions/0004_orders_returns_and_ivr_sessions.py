"""orders returns and ivr sessions

The built-in order and return store the phone menu reads, and one row per inbound call's trip
through the menu; and the SID of a caller holding on the line in the shared queue.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 04:43:21.545672
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import core.db


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN and CREATE INDEX, no batch: on SQLite a batch copies the table, and the copy
    # would recreate ix_callback_waiting_order without its DESC.
    op.add_column("callback_requests", sa.Column("hold_call_sid", sa.String(length=40), nullable=True))
    op.create_index("uq_callback_requests_hold_call_sid", "callback_requests", ["hold_call_sid"], unique=True)
    op.create_table('orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('number_key', sa.String(length=40), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('carrier', sa.String(length=40), nullable=True),
    sa.Column('tracking_number', sa.String(length=64), nullable=True),
    sa.Column('placed_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('shipped_at', core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('estimated_delivery', sa.Date(), nullable=True),
    sa.Column('delivered_at', core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('items', sa.Text(), nullable=False),
    sa.Column('updated_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orders')),
    sa.UniqueConstraint('number', name=op.f('uq_orders_number')),
    sa.UniqueConstraint('number_key', name=op.f('uq_orders_number_key'))
    )
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.create_index('ix_orders_phone_placed_at', ['phone', 'placed_at'], unique=False)

    op.create_table('returns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rma', sa.String(length=40), nullable=False),
    sa.Column('rma_key', sa.String(length=40), nullable=False),
    sa.Column('order_number', sa.String(length=40), nullable=False),
    sa.Column('order_key', sa.String(length=40), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('refund_amount_minor', sa.BigInteger(), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('received_at', core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('refund_issued_at', core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('refund_method', sa.String(length=40), nullable=True),
    sa.Column('updated_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_returns')),
    sa.UniqueConstraint('rma', name=op.f('uq_returns_rma')),
    sa.UniqueConstraint('rma_key', name=op.f('uq_returns_rma_key'))
    )
    with op.batch_alter_table('returns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_returns_order_key'), ['order_key'], unique=False)

    op.create_table('ivr_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('call_sid', sa.String(length=40), nullable=False),
    sa.Column('caller', sa.String(length=32), nullable=False),
    sa.Column('called', sa.String(length=32), nullable=False),
    sa.Column('started_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', core.db.UtcDateTime(timezone=True), nullable=True),
    sa.Column('node', sa.String(length=64), nullable=False),
    sa.Column('state', sa.Text(), nullable=False),
    sa.Column('steps', sa.Text(), nullable=False),
    sa.Column('topic', sa.String(length=40), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=True),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['request_id'], ['callback_requests.id'], name=op.f('fk_ivr_sessions_request_id_callback_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ivr_sessions')),
    sa.UniqueConstraint('call_sid', name=op.f('uq_ivr_sessions_call_sid'))
    )
    with op.batch_alter_table('ivr_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ivr_sessions_outcome'), ['outcome'], unique=False)
        batch_op.create_index(batch_op.f('ix_ivr_sessions_started_at'), ['started_at'], unique=False)




def downgrade() -> None:
    op.drop_index("uq_callback_requests_hold_call_sid", table_name="callback_requests")
    with op.batch_alter_table("callback_requests", schema=None) as batch_op:
        batch_op.drop_column("hold_call_sid")

    with op.batch_alter_table('ivr_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ivr_sessions_started_at'))
        batch_op.drop_index(batch_op.f('ix_ivr_sessions_outcome'))

    op.drop_table('ivr_sessions')
    with op.batch_alter_table('returns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_returns_order_key'))

    op.drop_table('returns')
    with op.batch_alter_table('orders', schema=None) as batch_op:
        batch_op.drop_index('ix_orders_phone_placed_at')

    op.drop_table('orders')
