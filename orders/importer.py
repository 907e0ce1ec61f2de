"""`orders import`: read order and return records from JSON Lines or CSV, load the good ones, name the bad.

JSON Lines (.jsonl, .ndjson, or any other name): one record per line, blank lines skipped.

    {"type": "order", "number": "112-4455667-1234567", "phone": "+12015550123", "status": "shipped",
     "carrier": "UPS", "tracking_number": "1Z999AA10123456784", "placed_at": "2026-11-20T14:05:00Z",
     "shipped_at": "2026-11-21T09:30:00Z", "estimated_delivery": "2026-11-25", "delivered_at": null,
     "items": [{"title": "Kindle Paperwhite", "quantity": 1}]}
    {"type": "return", "rma": "RMA-700112", "order_number": "112-4455667-1234567", "status": "refunded",
     "refund_amount": 149.99, "currency": "USD", "received_at": "2026-11-18T16:00:00Z",
     "refund_issued_at": "2026-11-19T10:00:00Z", "refund_method": "original_payment"}

- An order needs `number`, `status` (processing, shipped, out_for_delivery, delivered, delayed,
  canceled) and `placed_at`; a return needs `rma`, `order_number` and `status` (requested, label_sent,
  in_transit, received, refunded, rejected). Everything else may be left out or null.
- Instants (`*_at`) are ISO 8601 with a time zone (`Z` or `+01:00`); `estimated_delivery` is a date.
- `phone` is normalised to E.164; a number without `+` is read in DEFAULT_REGION.
- `refund_amount` is a number or a numeric string in `currency` (ISO 4217, required with an amount),
  exact to the currency's minor unit (two decimals for USD, none for JPY).
- `items` is a list of `{"title", "quantity"}`; quantity defaults to 1.
- Unknown fields are refused, so a misspelt field name cannot drop data silently.

CSV (.csv): a header row naming the columns, which are the record fields above in any order and any
subset that includes `type`; one file may mix orders and returns, an empty cell is an absent field.
`items` is written `Kindle Paperwhite x 1; USB-C cable x 2` (" x N" may be left out for one; "×"
works too) or, for titles containing ";" or ending in " x N", as the JSON list itself.

Each record is upserted: an order by its number, a return by its RMA, compared without punctuation
or case. The record replaces everything stored for it (a field it leaves out is emptied), a later
line wins over an earlier one, and a return may come before its order or without it. Good records
are committed in batches, so a long import never holds the database for long and running it again
is always safe; each bad line is reported with its line number and reason and nothing of it is loaded.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from core.clock import Clock
from core.phone import PhonePolicy
from orders import store
from orders.port import OrderInfo, order_key, rma_key
from orders.records import ANYWHERE, ORDER_FIELDS, RETURN_FIELDS, Record, RecordError, parse_record

FORMATS = ("auto", "jsonl", "csv")
CSV_COLUMNS = tuple(dict.fromkeys(ORDER_FIELDS + RETURN_FIELDS))

# "Kindle Paperwhite x 2", "Echo Dot ×3": the last " x N" is the quantity.
_ITEM = re.compile(r"^(?P<title>.+?)\s+[x×]\s*(?P<quantity>\d+)$", re.IGNORECASE)


@dataclass(frozen=True)
class LineError:
    """A line that was not loaded, and why."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class ImportSummary:
    """What an import did: distinct orders and returns loaded, and every bad line."""

    orders: int = 0
    returns: int = 0
    errors: list[LineError] = field(default_factory=list)

    def __str__(self) -> str:
        text = f"loaded {self.orders} order{_s(self.orders)} and {self.returns} return{_s(self.returns)}"
        if self.errors:
            text += f"; {len(self.errors)} bad line{_s(len(self.errors))} not loaded"
        return text


def import_file(
    session: Session, path: Path, clock: Clock, policy: PhonePolicy = ANYWHERE, fmt: str = "auto"
) -> ImportSummary:
    """Load a JSON Lines or CSV file into the built-in store, committing the good records."""
    return load(session, read_file(path, policy, fmt), clock)


def load(session: Session, entries: Iterable[Record | LineError], clock: Clock) -> ImportSummary:
    """Upsert the records, collect the errors, commit every batch; returns the summary."""
    summary = ImportSummary()
    orders: set[str] = set()
    returns: set[str] = set()
    batch: list[Record] = []
    for entry in entries:
        if isinstance(entry, LineError):
            summary.errors.append(entry)
            continue
        if isinstance(entry, OrderInfo):
            orders.add(order_key(entry.number))
        else:
            returns.add(rma_key(entry.rma))
        batch.append(entry)
        if len(batch) >= store.BATCH:
            _commit(session, batch, clock)
    _commit(session, batch, clock)
    summary.orders, summary.returns = len(orders), len(returns)
    return summary


def _commit(session: Session, batch: list[Record], clock: Clock) -> None:
    """Save and commit one batch, then empty it."""
    if batch:
        store.save(session, batch, clock.now())
        session.commit()
        batch.clear()


def read_file(path: Path, policy: PhonePolicy = ANYWHERE, fmt: str = "auto") -> Iterator[Record | LineError]:
    """The records and bad lines of a file, in file order; `fmt` "auto" goes by the file name."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    if fmt == "csv" or (fmt == "auto" and path.suffix.lower() == ".csv"):
        with path.open(encoding="utf-8-sig", newline="") as text:
            yield from read_csv(text, policy)
    else:
        with path.open("rb") as lines:
            yield from read_jsonl(lines, policy)


def read_jsonl(lines: Iterable[bytes | str], policy: PhonePolicy = ANYWHERE) -> Iterator[Record | LineError]:
    """Parse JSON Lines: one record per line, blank lines skipped, each bad line reported by number."""
    for number, raw in enumerate(lines, start=1):
        try:
            text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        except UnicodeDecodeError:
            yield LineError(number, "not UTF-8 text")
            continue
        # A file saved by Excel or Notepad may start with a byte order mark.
        text = text.removeprefix("\ufeff").strip() if number == 1 else text.strip()
        if not text:
            continue
        try:
            data = json.loads(text, parse_float=Decimal)
        except ValueError as error:
            yield LineError(number, f"not valid JSON: {error}")
            continue
        yield _parsed(number, data, policy)


def read_csv(text: Iterable[str], policy: PhonePolicy = ANYWHERE) -> Iterator[Record | LineError]:
    """Parse CSV with a header row; a line number is where its record starts (cells may span lines)."""
    reader = csv.reader(text)
    try:
        header = [name.strip() for name in next(reader, [])]
        if not header:
            return
        if problem := _header_problem(header):
            # A wrong header makes every row wrong the same way: say it once, at line 1.
            yield LineError(1, problem)
            return
        last = reader.line_num
        for row in reader:
            start, last = last + 1, reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if any(cell.strip() for cell in row[len(header) :]):
                yield LineError(start, f"{len(row)} cells, but the header names {len(header)} columns")
                continue
            cells: dict[str, Any] = {
                name: cell for name, cell in zip(header, row, strict=False) if name and cell.strip()
            }
            try:
                if "items" in cells:
                    cells["items"] = items_from_text(cells["items"])
            except RecordError as error:
                yield LineError(start, str(error))
                continue
            yield _parsed(start, cells, policy)
    except UnicodeDecodeError:
        yield LineError(reader.line_num + 1, "not UTF-8 text; the rest of the file was not read")
    except csv.Error as error:
        yield LineError(reader.line_num, f"unreadable CSV ({error}); the rest of the file was not read")


def items_from_text(text: str) -> list[Any]:
    """A CSV items cell as a list of {"title", "quantity"}: "Kindle x 1; Cable x 2", or JSON."""
    text = text.strip()
    if text.startswith("["):
        try:
            value = json.loads(text)
        except ValueError as error:
            raise RecordError(f"items: not valid JSON: {error}") from error
        if not isinstance(value, list):
            raise RecordError("items: must be a list")
        return value
    items: list[Any] = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        match = _ITEM.match(part)
        items.append({"title": match["title"], "quantity": int(match["quantity"])} if match else {"title": part})
    return items


def _header_problem(header: list[str]) -> str | None:
    """What is wrong with a CSV header, if anything."""
    if "type" not in header:
        return "the header has no 'type' column (each row says 'order' or 'return')"
    # Blank names are the empty trailing columns spreadsheets like to export.
    if unknown := [name for name in header if name and name not in CSV_COLUMNS]:
        return f"unknown column(s): {', '.join(repr(n) for n in unknown)}; known: {', '.join(CSV_COLUMNS)}"
    if repeated := sorted({name for name in header if name and header.count(name) > 1}):
        return f"column(s) named twice: {', '.join(repeated)}"
    return None


def _parsed(line: int, data: object, policy: PhonePolicy) -> Record | LineError:
    """One record, or the line's error."""
    try:
        return parse_record(data, policy)
    except RecordError as error:
        return LineError(line, str(error))


def _s(count: int) -> str:
    return "" if count == 1 else "s"
