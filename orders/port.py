"""The order lookup port: what the phone menu may ask about orders and returns, and the answers' shapes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol

ORDER_STATUSES = ("processing", "shipped", "out_for_delivery", "delivered", "delayed", "canceled")
RETURN_STATUSES = ("requested", "label_sent", "in_transit", "received", "refunded", "rejected")

# A caller with a long history still hears about a handful of orders, never a list read for minutes.
RECENT_LIMIT = 20

_NOT_ALNUM = re.compile(r"[^0-9A-Z]")


class LookupUnavailable(Exception):
    """The order data can't be reached right now: say so and transfer, never drop the call."""


@dataclass(frozen=True)
class ItemInfo:
    """One line of an order: what was bought and how many."""

    title: str
    quantity: int = 1


@dataclass(frozen=True)
class OrderInfo:
    """An order as the phone menu reads it back."""

    number: str
    status: str
    placed_at: datetime
    phone: str | None = None
    carrier: str | None = None
    tracking_number: str | None = None
    shipped_at: datetime | None = None
    estimated_delivery: date | None = None
    delivered_at: datetime | None = None
    items: tuple[ItemInfo, ...] = ()


@dataclass(frozen=True)
class ReturnInfo:
    """A return and its refund as the phone menu reads them back."""

    rma: str
    order_number: str
    status: str
    refund_amount: Decimal | None = None
    currency: str | None = None
    received_at: datetime | None = None
    refund_issued_at: datetime | None = None
    refund_method: str | None = None


class OrderLookup(Protocol):
    """Where the phone menu finds orders and returns; raises LookupUnavailable when it can't ask."""

    def order(self, number: str) -> OrderInfo | None:
        """The order with this number (punctuation and case ignored), or None."""
        ...

    def orders_for_phone(self, e164: str, since: datetime) -> list[OrderInfo]:
        """Orders for this phone placed at or after `since`, most recent first, at most RECENT_LIMIT."""
        ...

    def return_for(self, rma_or_order_number: str) -> ReturnInfo | None:
        """The return with this RMA, else the latest return of the order with this number, or None."""
        ...


def order_key(number: str) -> str:
    """How order numbers are compared: letters and digits only, upper case, so keypad digits match."""
    # A caller keys 11244556671234567# for 112-4455667-1234567: the keypad has no dash.
    return _NOT_ALNUM.sub("", number.upper())


def rma_key(rma: str) -> str:
    """How RMAs are compared: as order numbers, and a leading 'RMA' is optional (callers key digits)."""
    key = order_key(rma)
    return key.removeprefix("RMA") or key
