"""An in-memory OrderLookup for tests of the phone menu: same matching rules as the real adapters."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from orders.port import (
    RECENT_LIMIT,
    LookupUnavailable,
    OrderInfo,
    ReturnInfo,
    names_a_return,
    order_key,
    recent_count,
    rma_key,
)


class FakeOrderLookup:
    """Orders and returns held in dicts; `unavailable = True` makes every lookup fail like a dead service."""

    def __init__(self, records: Iterable[OrderInfo | ReturnInfo] = ()) -> None:
        self.orders: dict[str, OrderInfo] = {}
        self.returns: dict[str, ReturnInfo] = {}
        self.unavailable = False
        self.add(*records)

    def add(self, *records: OrderInfo | ReturnInfo) -> None:
        """Add or replace orders (by number) and returns (by RMA), as the import would."""
        for record in records:
            if isinstance(record, OrderInfo):
                self.orders[order_key(record.number)] = record
            else:
                self.returns[rma_key(record.rma)] = record

    def order(self, number: str) -> OrderInfo | None:
        """The order with this number (punctuation and case ignored), or None."""
        self._check()
        return self.orders.get(order_key(number)) if order_key(number) else None

    def orders_for_phone(self, e164: str, since: datetime, limit: int = RECENT_LIMIT) -> list[OrderInfo]:
        """Orders for this phone placed at or after `since`, most recent first, at most `limit`."""
        self._check()
        found = [o for o in self.orders.values() if o.phone == e164 and o.placed_at >= since]
        return sorted(found, key=lambda o: o.placed_at, reverse=True)[: recent_count(limit)]

    def return_for(self, rma_or_order_number: str) -> ReturnInfo | None:
        """The order's most recently added return, or the return with this RMA, or None; the RMA
        first when the query says it is one (orders.port.names_a_return)."""
        self._check()
        key = order_key(rma_or_order_number)
        if not key:
            return None
        matches = [r for r in self.returns.values() if order_key(r.order_number) == key]
        by_order = matches[-1] if matches else None
        by_rma = self.returns.get(rma_key(rma_or_order_number))
        if names_a_return(rma_or_order_number):
            return by_rma or by_order
        return by_order or by_rma

    def _check(self) -> None:
        if self.unavailable:
            raise LookupUnavailable("the fake order service is switched off")
