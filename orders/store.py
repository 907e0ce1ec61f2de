"""The built-in SQL store: the lookup port over the orders and returns tables, and the import's upsert."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, exc, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Row
from sqlalchemy.orm import Session

from core.db import outage_cause
from orders.models import Order, Return
from orders.port import (
    RECENT_LIMIT,
    ItemInfo,
    LookupUnavailable,
    OrderInfo,
    ReturnInfo,
    names_a_return,
    order_key,
    recent_count,
    rma_key,
)
from orders.records import Record, minor_digits

log = logging.getLogger(__name__)

# Rows per INSERT: a few thousand bound parameters, inside every SQLite build's limit.
BATCH = 500


ORDER_COLUMNS = tuple(Order.__table__.columns)
RETURN_COLUMNS = tuple(Return.__table__.columns)

# Built once: these run inside a caller's webhook, where building the statement cost a third as much
# as running it. Plain rows, not ORM objects: the identity map and object construction cost more
# than the query itself.
_ORDER = select(*ORDER_COLUMNS).where(Order.number_key == bindparam("key"))
_ORDERS_FOR_PHONE = (
    select(*ORDER_COLUMNS)
    .where(Order.phone == bindparam("phone"), Order.placed_at >= bindparam("since"))
    .order_by(Order.placed_at.desc(), Order.id.desc())
    .limit(bindparam("limit"))
)
_RETURN_BY_RMA = select(*RETURN_COLUMNS).where(Return.rma_key == bindparam("key"))
_LATEST_RETURN_OF_ORDER = (
    select(*RETURN_COLUMNS).where(Return.order_key == bindparam("key")).order_by(Return.id.desc()).limit(1)
)


class SqlOrderStore:
    """OrderLookup over the built-in tables; each lookup reads on its own short connection.

    `connections` opens one: the app gives `Database.reading` (no transaction, no ORM: a lookup is one
    round trip inside a caller's webhook); a session factory works too."""

    def __init__(self, connections: Callable[[], AbstractContextManager[Connection | Session]]) -> None:
        self._connections = connections

    def order(self, number: str) -> OrderInfo | None:
        """The order with this number (punctuation and case ignored), or None."""
        key = order_key(number)
        if not key:
            return None
        with self._reading() as connection:
            row = connection.execute(_ORDER, {"key": key}).first()
            return None if row is None else order_info(row)

    def orders_for_phone(self, e164: str, since: datetime, limit: int = RECENT_LIMIT) -> list[OrderInfo]:
        """Orders for this phone placed at or after `since`, most recent first, at most `limit`."""
        if since.tzinfo is None:
            raise ValueError("since must be an aware datetime")
        with self._reading() as connection:
            rows = connection.execute(_ORDERS_FOR_PHONE, {"phone": e164, "since": since, "limit": recent_count(limit)})
            return [order_info(row) for row in rows]

    def return_for(self, rma_or_order_number: str) -> ReturnInfo | None:
        """The latest return of the order with this number, or the return with this RMA, or None;
        the RMA first when the query says it is one (orders.port.names_a_return)."""
        by_rma, by_order = rma_key(rma_or_order_number), order_key(rma_or_order_number)
        if not by_order:
            return None
        tries = [(_LATEST_RETURN_OF_ORDER, by_order), (_RETURN_BY_RMA, by_rma)]
        if names_a_return(rma_or_order_number):
            tries.reverse()
        with self._reading() as connection:
            for statement, key in tries:
                row = connection.execute(statement, {"key": key}).first()
                if row is not None:
                    return return_info(row)
            return None

    @contextmanager
    def _reading(self) -> Iterator[Connection | Session]:
        """A connection whose database failures become LookupUnavailable, so the caller is transferred."""
        try:
            with self._connections() as connection:
                yield connection
        except (exc.DBAPIError, exc.TimeoutError) as error:
            # An outage, not a bug: one line, without a traceback.
            log.warning("order store unavailable: %s", outage_cause(error))
            raise LookupUnavailable("the order database did not answer") from error


def save(session: Session, records: Iterable[Record], now: datetime) -> tuple[int, int]:
    """Insert or replace orders by number and returns by RMA (the caller commits); returns (orders, returns)."""
    # Last record wins per key, as in a file read top to bottom; PostgreSQL also refuses one
    # INSERT ... ON CONFLICT that touches the same row twice.
    orders: dict[str, dict[str, Any]] = {}
    returns: dict[str, dict[str, Any]] = {}
    for record in records:
        if isinstance(record, OrderInfo):
            row = order_row(record, now)
            orders[row["number_key"]] = row
        else:
            row = return_row(record, now)
            returns[row["rma_key"]] = row
    _upsert(session, Order, "number_key", list(orders.values()))
    _upsert(session, Return, "rma_key", list(returns.values()))
    return len(orders), len(returns)


def _upsert(session: Session, model: type[Order] | type[Return], key: str, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT ... ON CONFLICT (key) DO UPDATE, in batches: one statement per batch, atomic per row."""
    dialect = session.get_bind().dialect.name
    insert: Any = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}.get(dialect)
    if insert is None:
        raise NotImplementedError(f"the order import supports SQLite and PostgreSQL, not {dialect}")
    for start in range(0, len(rows), BATCH):
        statement = insert(model).values(rows[start : start + BATCH])
        replaced = {name: statement.excluded[name] for name in rows[0] if name != key}
        session.execute(statement.on_conflict_do_update(index_elements=[key], set_=replaced))


def order_row(info: OrderInfo, now: datetime) -> dict[str, Any]:
    """The orders row of an order: every field replaced, absent ones emptied."""
    return {
        "number": info.number,
        "number_key": order_key(info.number),
        "phone": info.phone,
        "status": info.status,
        "carrier": info.carrier,
        "tracking_number": info.tracking_number,
        "placed_at": info.placed_at,
        "shipped_at": info.shipped_at,
        "estimated_delivery": info.estimated_delivery,
        "delivered_at": info.delivered_at,
        "items": json.dumps([{"title": item.title, "quantity": item.quantity} for item in info.items]),
        "updated_at": now,
    }


def return_row(info: ReturnInfo, now: datetime) -> dict[str, Any]:
    """The returns row of a return, with the refund in minor units."""
    minor = None
    if info.refund_amount is not None and info.currency is not None:
        minor = int(info.refund_amount.scaleb(minor_digits(info.currency)))
    return {
        "rma": info.rma,
        "rma_key": rma_key(info.rma),
        "order_number": info.order_number,
        "order_key": order_key(info.order_number),
        "status": info.status,
        "refund_amount_minor": minor,
        "currency": info.currency,
        "received_at": info.received_at,
        "refund_issued_at": info.refund_issued_at,
        "refund_method": info.refund_method,
        "updated_at": now,
    }


def order_info(row: Order | Row[Any]) -> OrderInfo:
    """What the phone menu reads of an orders row."""
    return OrderInfo(
        number=row.number,
        status=row.status,
        placed_at=row.placed_at,
        phone=row.phone,
        carrier=row.carrier,
        tracking_number=row.tracking_number,
        shipped_at=row.shipped_at,
        estimated_delivery=row.estimated_delivery,
        delivered_at=row.delivered_at,
        items=tuple(ItemInfo(item["title"], item["quantity"]) for item in json.loads(row.items or "[]")),
    )


def return_info(row: Return | Row[Any]) -> ReturnInfo:
    """What the phone menu reads of a returns row."""
    amount = None
    if row.refund_amount_minor is not None and row.currency is not None:
        amount = Decimal(row.refund_amount_minor).scaleb(-minor_digits(row.currency))
    return ReturnInfo(
        rma=row.rma,
        order_number=row.order_number,
        status=row.status,
        refund_amount=amount,
        currency=row.currency,
        received_at=row.received_at,
        refund_issued_at=row.refund_issued_at,
        refund_method=row.refund_method,
    )
