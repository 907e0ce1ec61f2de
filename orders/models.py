"""The built-in store's tables: orders and returns as the shop's last import described them."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, UtcDateTime
from orders.records import (
    CARRIER_LENGTH,
    METHOD_LENGTH,
    NUMBER_LENGTH,
    PHONE_LENGTH,
    STATUS_LENGTH,
    TRACKING_LENGTH,
)


class Order(Base):
    """An order, its shipment and its items, keyed by the shop's order number."""

    __tablename__ = "orders"
    __table_args__ = (
        # "Recent orders for this caller": equality on phone, then newest first, from one index.
        Index("ix_orders_phone_placed_at", "phone", "placed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(NUMBER_LENGTH), unique=True)
    # The number without punctuation or case (orders.port.order_key): what a keypad can type.
    number_key: Mapped[str] = mapped_column(String(NUMBER_LENGTH), unique=True)
    phone: Mapped[str | None] = mapped_column(String(PHONE_LENGTH))
    status: Mapped[str] = mapped_column(String(STATUS_LENGTH))
    carrier: Mapped[str | None] = mapped_column(String(CARRIER_LENGTH))
    tracking_number: Mapped[str | None] = mapped_column(String(TRACKING_LENGTH))
    placed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    shipped_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    estimated_delivery: Mapped[date | None] = mapped_column(Date)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # [{"title": ..., "quantity": ...}]: always read and written whole, never queried inside.
    items: Mapped[str] = mapped_column(Text, default="[]")
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Return(Base):
    """A return (RMA) of an order and its refund."""

    __tablename__ = "returns"

    id: Mapped[int] = mapped_column(primary_key=True)
    rma: Mapped[str] = mapped_column(String(NUMBER_LENGTH), unique=True)
    # The RMA as a keypad types it (orders.port.rma_key): no punctuation, no "RMA" prefix.
    rma_key: Mapped[str] = mapped_column(String(NUMBER_LENGTH), unique=True)
    # No foreign key: returns and orders arrive in any order, and a return may outlive its order's row.
    order_number: Mapped[str] = mapped_column(String(NUMBER_LENGTH))
    order_key: Mapped[str] = mapped_column(String(NUMBER_LENGTH), index=True)
    status: Mapped[str] = mapped_column(String(STATUS_LENGTH))
    # Integer minor units (cents, or yen, or fils): exact on both backends, where SQLite would hold a
    # NUMERIC as a float; the currency's minor unit turns it back into an amount.
    refund_amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    received_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    refund_issued_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    refund_method: Mapped[str | None] = mapped_column(String(METHOD_LENGTH))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
