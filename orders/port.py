"""The order lookup port: what the phone menu may ask about orders and returns, and the answers' shapes."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")

ORDER_STATUSES = ("processing", "shipped", "out_for_delivery", "delivered", "delayed", "canceled")
RETURN_STATUSES = ("requested", "label_sent", "in_transit", "received", "refunded", "rejected")

# A caller with a long history still hears about a handful of orders, never a list read for minutes.
RECENT_LIMIT = 20


def recent_count(limit: int) -> int:
    """How many recent orders a lookup asked for `limit` returns at most: never over RECENT_LIMIT."""
    return max(0, min(limit, RECENT_LIMIT))


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

    def orders_for_phone(self, e164: str, since: datetime, limit: int = RECENT_LIMIT) -> list[OrderInfo]:
        """Orders for this phone placed at or after `since`, most recent first, at most `limit`."""
        ...

    def return_for(self, rma_or_order_number: str) -> ReturnInfo | None:
        """The return with this RMA, else the latest return of the order with this number, or None."""
        ...


class GuardedLookup:
    """Any OrderLookup, with every failure turned into LookupUnavailable.

    An adapter's bug or an answer nobody foresaw must cost the caller an "I can't look that up right
    now" and a transfer, never a 500 to Twilio (which ends the call with an application error).
    """

    def __init__(self, inner: OrderLookup) -> None:
        self.inner = inner

    def order(self, number: str) -> OrderInfo | None:
        """The inner lookup's order, or LookupUnavailable."""
        return self._ask(lambda: self.inner.order(number))

    def orders_for_phone(self, e164: str, since: datetime, limit: int = RECENT_LIMIT) -> list[OrderInfo]:
        """The inner lookup's recent orders, or LookupUnavailable."""
        return self._ask(lambda: self.inner.orders_for_phone(e164, since, limit))

    def return_for(self, rma_or_order_number: str) -> ReturnInfo | None:
        """The inner lookup's return, or LookupUnavailable."""
        return self._ask(lambda: self.inner.return_for(rma_or_order_number))

    def _ask(self, question: Callable[[], T]) -> T:
        try:
            return question()
        except LookupUnavailable:
            raise
        except Exception as error:  # noqa: BLE001 - whatever it was, the caller hears the same
            log.exception("order lookup failed unexpectedly")
            raise LookupUnavailable(f"{error.__class__.__name__}: {error}"[:300]) from error


def order_key(number: str) -> str:
    """How order numbers are compared: letters and digits only, upper case, so keypad digits match."""
    # A caller keys 11244556671234567# for 112-4455667-1234567: the keypad has no dash.
    return _NOT_ALNUM.sub("", number.upper())


def names_a_return(query: str) -> bool:
    """Whether a return's lookup says it is a return number ("RMA-1001", "rma 1001"): then it is looked
    up as an RMA first. Anything else is taken as an order number first, which is what the menu asks
    callers to key, and then as an RMA: numberings overlap (order 1001, and RMA-1001 of another order),
    and reading out a stranger's refund is the worse mistake."""
    return order_key(query).startswith("RMA")


def rma_key(rma: str) -> str:
    """How RMAs are compared: as order numbers, and a leading 'RMA' is optional (callers key digits)."""
    key = order_key(rma)
    return key.removeprefix("RMA") or key
