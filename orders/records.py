"""The order and return record format, shared by the import and by the order service's responses."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.numbers import is_currency

from core.clock import as_utc
from core.phone import PhonePolicy, PhoneRejected, any_number, normalize
from core.text import has_control_characters
from orders.port import ORDER_STATUSES, RETURN_STATUSES, ItemInfo, OrderInfo, ReturnInfo, order_key

ORDER_FIELDS = (
    "type",
    "number",
    "phone",
    "status",
    "carrier",
    "tracking_number",
    "placed_at",
    "shipped_at",
    "estimated_delivery",
    "delivered_at",
    "items",
)
RETURN_FIELDS = (
    "type",
    "rma",
    "order_number",
    "status",
    "refund_amount",
    "currency",
    "received_at",
    "refund_issued_at",
    "refund_method",
)

# Column sizes, shared with the models: a record that passes here fits the database on every backend
# (SQLite would take longer text; PostgreSQL would refuse the whole batch).
NUMBER_LENGTH = 40
PHONE_LENGTH = 20
STATUS_LENGTH = 20
CARRIER_LENGTH = 40
TRACKING_LENGTH = 64
METHOD_LENGTH = 40
TITLE_LENGTH = 200
MAX_ITEMS = 100
MAX_QUANTITY = 10_000
# Far above any refund, far below what a BIGINT of minor units holds.
MAX_AMOUNT = Decimal(10) ** 9

# Order data may carry any real number: the country allowlist is about whom we call back, not who buys.
ANYWHERE = any_number()

# ISO 4217 currencies whose minor unit is not the cent; every other code has two decimals.
_MINOR_DIGITS = {
    **dict.fromkeys(("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI"), 0),
    **dict.fromkeys(("VND", "VUV", "XAF", "XOF", "XPF"), 0),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
}

Record = OrderInfo | ReturnInfo


class RecordError(ValueError):
    """A record that can't be loaded; the message names the field and says what is wrong."""


def minor_digits(currency: str) -> int:
    """Decimal places of a currency's minor unit: 2 for USD, 0 for JPY, 3 for KWD."""
    return _MINOR_DIGITS.get(currency, 2)


def parse_record(data: object, policy: PhonePolicy = ANYWHERE) -> Record:
    """Validate one import record (an order or a return, by its "type") or raise RecordError."""
    if not isinstance(data, Mapping):
        raise RecordError("not a JSON object")
    kind = data.get("type")
    if kind == "order":
        return parse_order(data, policy)
    if kind == "return":
        return parse_return(data)
    if kind is None:
        raise RecordError("type: required, 'order' or 'return'")
    raise RecordError(f"type: {kind!r} is not 'order' or 'return'")


def parse_order(data: Mapping[str, Any], policy: PhonePolicy = ANYWHERE, *, extra_fields: bool = False) -> OrderInfo:
    """Validate an order record; `extra_fields` ignores unknown keys (the order service may send more)."""
    fields = _Fields(data, "order", ORDER_FIELDS, extra_fields)
    number = fields.identifier("number")
    status = fields.choice("status", ORDER_STATUSES)
    placed_at = fields.instant("placed_at", required=True)
    shipped_at = fields.instant("shipped_at")
    delivered_at = fields.instant("delivered_at")
    assert placed_at is not None
    # Out-of-order times mean swapped or mis-zoned columns; reading them back would mislead the caller.
    if shipped_at and shipped_at < placed_at:
        raise RecordError("shipped_at: before placed_at")
    if delivered_at and delivered_at < (shipped_at or placed_at):
        raise RecordError(f"delivered_at: before {'shipped_at' if shipped_at else 'placed_at'}")
    return OrderInfo(
        number=number,
        status=status,
        placed_at=placed_at,
        phone=fields.phone("phone", policy),
        carrier=fields.text("carrier", CARRIER_LENGTH),
        tracking_number=fields.text("tracking_number", TRACKING_LENGTH),
        shipped_at=shipped_at,
        estimated_delivery=fields.day("estimated_delivery"),
        delivered_at=delivered_at,
        items=fields.items("items", extra_fields),
    )


def parse_return(data: Mapping[str, Any], *, extra_fields: bool = False) -> ReturnInfo:
    """Validate a return record; `extra_fields` ignores unknown keys (the order service may send more)."""
    fields = _Fields(data, "return", RETURN_FIELDS, extra_fields)
    currency = fields.currency("currency")
    return ReturnInfo(
        rma=fields.identifier("rma"),
        order_number=fields.identifier("order_number"),
        status=fields.choice("status", RETURN_STATUSES),
        refund_amount=fields.amount("refund_amount", currency),
        currency=currency,
        received_at=fields.instant("received_at"),
        refund_issued_at=fields.instant("refund_issued_at"),
        refund_method=fields.text("refund_method", METHOD_LENGTH),
    )


def to_record(info: Record) -> dict[str, Any]:
    """The record of an order or return, as the import reads it (amounts stay Decimal; see to_json)."""
    if isinstance(info, OrderInfo):
        return {
            "type": "order",
            "number": info.number,
            "phone": info.phone,
            "status": info.status,
            "carrier": info.carrier,
            "tracking_number": info.tracking_number,
            "placed_at": _instant_text(info.placed_at),
            "shipped_at": _instant_text(info.shipped_at),
            "estimated_delivery": info.estimated_delivery.isoformat() if info.estimated_delivery else None,
            "delivered_at": _instant_text(info.delivered_at),
            "items": [{"title": item.title, "quantity": item.quantity} for item in info.items],
        }
    return {
        "type": "return",
        "rma": info.rma,
        "order_number": info.order_number,
        "status": info.status,
        "refund_amount": info.refund_amount,
        "currency": info.currency,
        "received_at": _instant_text(info.received_at),
        "refund_issued_at": _instant_text(info.refund_issued_at),
        "refund_method": info.refund_method,
    }


def to_json(info: Record) -> str:
    """One JSON Lines record of an order or return."""
    return json.dumps(to_record(info), default=_json_default)


def _json_default(value: object) -> object:
    # Refunds are at most three decimals under 10**9, well inside a double's exact round trip.
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _instant_text(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat().replace("+00:00", "Z")


class _Fields:
    """Typed access to one record's fields; every failure names the field."""

    def __init__(self, data: Mapping[str, Any], kind: str, known: tuple[str, ...], extra_fields: bool) -> None:
        if data.get("type", kind) != kind:
            raise RecordError(f"type: {data.get('type')!r}, expected {kind!r}")
        unknown = sorted(set(data) - set(known))
        # A misspelt column ("tracking" for "tracking_number") would otherwise drop data silently.
        if unknown and not extra_fields:
            raise RecordError(f"unknown field(s) for {'an' if kind == 'order' else 'a'} {kind}: {', '.join(unknown)}")
        self.data = data

    def _string(self, name: str, required: bool = False) -> str | None:
        """A string field, stripped; blank or null counts as absent."""
        value = self.data.get(name)
        if value is not None and not isinstance(value, str):
            raise RecordError(f"{name}: must be a string, not {_json_type(value)}")
        stripped = (value or "").strip()
        if not stripped:
            if required:
                raise RecordError(f"{name}: required")
            return None
        if has_control_characters(stripped):
            raise RecordError(f"{name}: contains control characters")
        return stripped

    def text(self, name: str, max_length: int) -> str | None:
        """Optional free text of bounded length."""
        value = self._string(name)
        if value is not None and len(value) > max_length:
            raise RecordError(f"{name}: longer than {max_length} characters")
        return value

    def identifier(self, name: str) -> str:
        """A required order number or RMA, with at least one letter or digit to look it up by."""
        value = self._string(name, required=True)
        assert value is not None
        if len(value) > NUMBER_LENGTH:
            raise RecordError(f"{name}: longer than {NUMBER_LENGTH} characters")
        if not order_key(value):
            raise RecordError(f"{name}: {value!r} has no letters or digits")
        return value

    def choice(self, name: str, allowed: tuple[str, ...]) -> str:
        """A required value from a fixed list, spelt exactly."""
        value = self._string(name, required=True)
        if value not in allowed:
            raise RecordError(f"{name}: {value!r} is not one of {', '.join(allowed)}")
        return value

    def phone(self, name: str, policy: PhonePolicy) -> str | None:
        """An optional phone number, normalised to E.164."""
        value = self._string(name)
        if value is None:
            return None
        try:
            return normalize(value, policy)
        except PhoneRejected as error:
            raise RecordError(f"{name}: {value!r} is not usable: {error.message}") from error

    def instant(self, name: str, required: bool = False) -> datetime | None:
        """An ISO 8601 date and time with a UTC offset, read as UTC."""
        value = self._string(name, required)
        if value is None:
            return None
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError as error:
            raise RecordError(f"{name}: {value!r} is not an ISO 8601 date and time") from error
        # Without an offset "delivered at 23:30" could be the day before or after in the caller's zone.
        if parsed.tzinfo is None:
            raise RecordError(f"{name}: {value!r} has no time zone; write e.g. 2026-11-20T14:05:00Z")
        _plausible(name, value, parsed.year)  # before as_utc: 9999-12-31T23:59-05:00 is past the last UTC instant
        return as_utc(parsed)

    def day(self, name: str) -> date | None:
        """An optional ISO 8601 calendar date (YYYY-MM-DD)."""
        value = self._string(name)
        if value is None:
            return None
        try:
            day = date.fromisoformat(value)
        except ValueError as error:
            raise RecordError(f"{name}: {value!r} is not an ISO 8601 date (YYYY-MM-DD)") from error
        _plausible(name, value, day.year)
        return day

    def currency(self, name: str) -> str | None:
        """An optional ISO 4217 code, upper-cased."""
        value = self._string(name)
        if value is None:
            return None
        # Babel's CLDR list of currencies: a made-up "ABC" would be read to callers as "5 ABC".
        if len(value) != 3 or not value.isascii() or not value.isalpha() or not is_currency(value.upper()):
            raise RecordError(f"{name}: {value!r} is not a three-letter ISO 4217 code")
        return value.upper()

    def amount(self, name: str, currency: str | None) -> Decimal | None:
        """An optional non-negative amount in the currency's units, exact to its minor unit."""
        value = self.data.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
            raise RecordError(f"{name}: must be a number, not {_json_type(value)}")
        try:
            amount = Decimal(str(value).strip())
        except InvalidOperation as error:
            raise RecordError(f"{name}: {_shown(value)} is not a number") from error
        if not amount.is_finite() or amount < 0 or amount >= MAX_AMOUNT:
            raise RecordError(f"{name}: {_shown(value)} is not an amount between 0 and {MAX_AMOUNT:,}")
        if currency is None:
            raise RecordError(f"{name}: needs a currency")
        digits = minor_digits(currency)
        exact = amount.quantize(Decimal(1).scaleb(-digits))
        if exact != amount:
            raise RecordError(f"{name}: {_shown(value)} has more than {digits} decimal places for {currency}")
        return exact

    def items(self, name: str, extra_fields: bool) -> tuple[ItemInfo, ...]:
        """The order's lines: a list of {"title", "quantity"} (quantity defaults to 1)."""
        value = self.data.get(name)
        if value is None:
            return ()
        if not isinstance(value, list):
            raise RecordError(f"{name}: must be a list of {{title, quantity}}, not {_json_type(value)}")
        if len(value) > MAX_ITEMS:
            raise RecordError(f"{name}: more than {MAX_ITEMS} items")
        return tuple(_item(name, index, entry, extra_fields) for index, entry in enumerate(value, start=1))


def _item(name: str, index: int, entry: object, extra_fields: bool) -> ItemInfo:
    """One validated order line; errors say which item ("items[2].quantity")."""
    where = f"{name}[{index}]"
    if not isinstance(entry, Mapping):
        raise RecordError(f"{where}: must be an object with title and quantity")
    unknown = sorted(set(entry) - {"title", "quantity"})
    if unknown and not extra_fields:
        raise RecordError(f"{where}: unknown field(s): {', '.join(unknown)}")
    title = entry.get("title")
    if not isinstance(title, str) or not title.strip():
        raise RecordError(f"{where}.title: required")
    if len(title.strip()) > TITLE_LENGTH or has_control_characters(title):
        raise RecordError(f"{where}.title: longer than {TITLE_LENGTH} characters or has control characters")
    quantity = entry.get("quantity", 1)
    if isinstance(quantity, str) and quantity.strip().isdigit():
        quantity = int(quantity)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
        raise RecordError(f"{where}.quantity: {_shown(quantity)} is not a whole number from 1 to {MAX_QUANTITY:,}")
    return ItemInfo(title=title.strip(), quantity=quantity)


def _shown(value: object) -> str:
    """A value as it was written in the file: numbers bare, strings quoted."""
    return repr(value) if isinstance(value, str) else str(value)


# Order systems write "no date" as 0001-01-01 or 9999-12-31; read out, it would be "December 31st,
# 9999", and a few of them are past what a UTC datetime can hold. Nothing real is outside these years.
PLAUSIBLE_YEARS = range(1970, 2101)


def _plausible(name: str, value: str, year: int) -> None:
    if year not in PLAUSIBLE_YEARS:
        raise RecordError(
            f"{name}: {value!r} is not a real date (a placeholder for none? leave the field out); "
            f"years {PLAUSIBLE_YEARS.start} to {PLAUSIBLE_YEARS.stop - 1} are taken"
        )


def _json_type(value: object) -> str:
    """The JSON name of a Python value's type, for messages."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float | Decimal):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__
