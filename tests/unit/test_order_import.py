"""Order and return records: what the import accepts, what it refuses and why, line by line (no database)."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from core.phone import PhonePolicy
from orders.demo import DEMO_FILE
from orders.importer import ImportSummary, LineError, items_from_text, read_csv, read_file, read_jsonl
from orders.port import ORDER_STATUSES, RETURN_STATUSES, ItemInfo, OrderInfo, ReturnInfo, order_key, rma_key
from orders.records import RecordError, parse_order, parse_record, parse_return, to_json

ORDER: dict[str, Any] = {
    "type": "order",
    "number": "112-4455667-1234567",
    "phone": "+12015550123",
    "status": "shipped",
    "carrier": "UPS",
    "tracking_number": "1Z999AA10123456784",
    "placed_at": "2026-11-20T14:05:00Z",
    "shipped_at": "2026-11-21T09:30:00Z",
    "estimated_delivery": "2026-11-25",
    "delivered_at": None,
    "items": [{"title": "Kindle Paperwhite", "quantity": 1}],
}
RETURN: dict[str, Any] = {
    "type": "return",
    "rma": "RMA-700112",
    "order_number": "112-4455667-1234567",
    "status": "refunded",
    "refund_amount": Decimal("149.99"),
    "currency": "USD",
    "received_at": "2026-11-18T16:00:00Z",
    "refund_issued_at": "2026-11-19T10:00:00Z",
    "refund_method": "original_payment",
}


def order(**changes: Any) -> dict[str, Any]:
    """The example order with some fields changed (None removes nothing: it is JSON null)."""
    return {**ORDER, **changes}


def refund(**changes: Any) -> dict[str, Any]:
    """The example return with some fields changed."""
    return {**RETURN, **changes}


def reason(data: dict[str, Any], policy: PhonePolicy | None = None) -> str:
    """Why a record is refused."""
    with pytest.raises(RecordError) as refused:
        parse_record(data, policy or PhonePolicy(allowed_countries=()))
    return str(refused.value)


def test_a_complete_order_is_read_with_utc_times_a_date_and_its_items() -> None:
    parsed = parse_record(order(placed_at="2026-11-20T09:05:00-05:00"))
    assert parsed == OrderInfo(
        number="112-4455667-1234567",
        status="shipped",
        placed_at=datetime(2026, 11, 20, 14, 5, tzinfo=UTC),
        phone="+12015550123",
        carrier="UPS",
        tracking_number="1Z999AA10123456784",
        shipped_at=datetime(2026, 11, 21, 9, 30, tzinfo=UTC),
        estimated_delivery=date(2026, 11, 25),
        delivered_at=None,
        items=(ItemInfo("Kindle Paperwhite", 1),),
    )


def test_a_complete_return_is_read_with_an_exact_amount() -> None:
    parsed = parse_record(refund())
    assert isinstance(parsed, ReturnInfo)
    assert parsed.refund_amount == Decimal("149.99") and parsed.currency == "USD"
    assert parsed.refund_issued_at == datetime(2026, 11, 19, 10, tzinfo=UTC)


def test_an_order_needs_only_number_status_and_placed_at() -> None:
    minimal = parse_record({"type": "order", "number": "A-1", "status": "processing", "placed_at": "2026-11-20T14:05Z"})
    assert isinstance(minimal, OrderInfo)
    assert minimal.phone is None and minimal.items == () and minimal.carrier is None


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"number": "1"}, "type: required, 'order' or 'return'"),
        ({"type": "shipment"}, "type: 'shipment' is not 'order' or 'return'"),
        (order(number=None), "number: required"),
        (order(number="  "), "number: required"),
        (order(number="---"), "number: '---' has no letters or digits"),
        (order(number="9" * 41), "number: longer than 40 characters"),
        (order(number=1124455667), "number: must be a string, not a number"),
        (order(status=None), "status: required"),
        (order(placed_at=None), "placed_at: required"),
        (refund(rma=None), "rma: required"),
        (refund(order_number=""), "order_number: required"),
        (refund(status=None), "status: required"),
    ],
)
def test_missing_or_empty_required_fields_are_named(record: dict[str, Any], expected: str) -> None:
    assert reason(record) == expected


@pytest.mark.parametrize("status", ORDER_STATUSES)
def test_every_order_status_of_the_issue_is_accepted(status: str) -> None:
    assert parse_order(order(status=status)).status == status


@pytest.mark.parametrize("status", RETURN_STATUSES)
def test_every_return_status_of_the_issue_is_accepted(status: str) -> None:
    assert parse_return(refund(status=status)).status == status


@pytest.mark.parametrize("status", ["Shipped", "in_transit", "out for delivery", "cancelled", "refunded"])
def test_order_statuses_are_spelt_exactly(status: str) -> None:
    assert reason(order(status=status)).startswith(f"status: {status!r} is not one of processing, shipped,")


@pytest.mark.parametrize("status", ["Refunded", "shipped", "label sent", "returned"])
def test_return_statuses_are_spelt_exactly(status: str) -> None:
    assert reason(refund(status=status)).startswith(f"status: {status!r} is not one of requested, label_sent,")


def test_an_unknown_field_is_refused_so_a_typo_cannot_drop_data() -> None:
    assert reason(order(tracking="1Z")) == "unknown field(s) for an order: tracking"
    assert reason(refund(number="1")) == "unknown field(s) for a return: number"


def test_the_order_service_may_send_fields_the_records_do_not_define() -> None:
    extended = order(customer_name="Ada", items=[{"title": "Kindle", "quantity": 1, "sku": "B0"}])
    del extended["type"]
    assert parse_order(extended, extra_fields=True).items == (ItemInfo("Kindle", 1),)


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("placed_at", "2026-11-20", "has no time zone"),
        ("placed_at", "2026-11-20T14:05:00", "has no time zone"),
        ("shipped_at", "21/11/2026 09:30", "is not an ISO 8601 date and time"),
        ("delivered_at", "yesterday", "is not an ISO 8601 date and time"),
        ("estimated_delivery", "2026-11-25T12:00:00Z", "is not an ISO 8601 date (YYYY-MM-DD)"),
        ("estimated_delivery", "Nov 25", "is not an ISO 8601 date (YYYY-MM-DD)"),
        # "No date" placeholders: refused by name (one is past the last instant UTC can hold), not a crash.
        ("shipped_at", "9999-12-31T23:59:59-05:00", "is not a real date"),
        ("delivered_at", "0001-01-01T00:30:00+01:00", "is not a real date"),
        ("estimated_delivery", "9999-12-31", "is not a real date"),
    ],
)
def test_dates_and_times_are_iso_8601_and_instants_carry_a_time_zone(field: str, value: str, expected: str) -> None:
    message = reason(order(**{field: value}))
    assert message.startswith(f"{field}: {value!r}") and expected in message


def test_times_out_of_order_are_refused() -> None:
    assert reason(order(shipped_at="2026-11-19T09:30:00Z")) == "shipped_at: before placed_at"
    delivered = order(status="delivered", delivered_at="2026-11-21T08:00:00Z")
    assert reason(delivered) == "delivered_at: before shipped_at"


@pytest.mark.parametrize(
    ("phone", "e164"),
    [("+12015550123", "+12015550123"), ("(201) 555-0123", "+12015550123"), ("+44 20 7183 8750", "+442071838750")],
)
def test_phones_are_normalised_to_e164_from_any_country(phone: str, e164: str) -> None:
    assert parse_order(order(phone=phone)).phone == e164


def test_a_phone_without_a_country_code_is_read_in_the_default_region() -> None:
    assert parse_order(order(phone="020 7183 8750"), PhonePolicy(default_region="GB", allowed_countries=())).phone == (
        "+442071838750"
    )


@pytest.mark.parametrize("phone", ["+15551234567", "555-0123", "not a phone", "+1 900 555 0123"])
def test_numbers_that_are_not_real_phones_are_refused(phone: str) -> None:
    assert reason(order(phone=phone)).startswith(f"phone: {phone!r} is not usable:")


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (Decimal("24.99"), "USD", Decimal("24.99")),
        ("24.99", "usd", Decimal("24.99")),
        (25, "EUR", Decimal("25.00")),
        (Decimal("24.990"), "USD", Decimal("24.99")),
        (1500, "JPY", Decimal("1500")),
        ("12.345", "KWD", Decimal("12.345")),
        (0, "USD", Decimal("0.00")),
    ],
)
def test_refunds_are_exact_to_the_currency_minor_unit(amount: object, currency: str, expected: Decimal) -> None:
    parsed = parse_return(refund(refund_amount=amount, currency=currency))
    assert parsed.refund_amount == expected and parsed.currency == currency.upper()


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"refund_amount": Decimal("24.999")},
            "refund_amount: 24.999 has more than 2 decimal places for USD",
        ),
        ({"refund_amount": "12.5", "currency": "JPY"}, "refund_amount: '12.5' has more than 0 decimal places for JPY"),
        ({"refund_amount": -5}, "refund_amount: -5 is not an amount between 0 and 1,000,000,000"),
        ({"refund_amount": "$24.99"}, "refund_amount: '$24.99' is not a number"),
        ({"refund_amount": "NaN"}, "refund_amount: 'NaN' is not an amount between 0 and 1,000,000,000"),
        ({"refund_amount": True}, "refund_amount: must be a number, not a boolean"),
        ({"currency": None}, "refund_amount: needs a currency"),
        ({"currency": "US$"}, "currency: 'US$' is not a three-letter ISO 4217 code"),
        ({"currency": "ABC"}, "currency: 'ABC' is not a three-letter ISO 4217 code"),
    ],
)
def test_bad_refund_amounts_and_currencies_are_refused(changes: dict[str, Any], expected: str) -> None:
    assert reason(refund(**changes)) == expected


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([{"title": "Kindle"}], "ok"),
        ({"title": "Kindle"}, "items: must be a list of {title, quantity}, not an object"),
        (["Kindle"], "items[1]: must be an object with title and quantity"),
        ([{"title": "Kindle"}, {"quantity": 2}], "items[2].title: required"),
        ([{"title": "Kindle", "quantity": 0}], "items[1].quantity: 0 is not a whole number from 1 to 10,000"),
        ([{"title": "Kindle", "quantity": 1.5}], "items[1].quantity: 1.5 is not"),
        ([{"title": "Kindle", "qty": 2}], "items[1]: unknown field(s): qty"),
    ],
)
def test_items_are_a_list_of_titles_and_whole_quantities(items: object, expected: str) -> None:
    # Through JSON, as the import reads it, so numbers arrive as they would from a file.
    data = json.loads(json.dumps(order(items=items), default=str), parse_float=Decimal)
    if expected == "ok":
        assert parse_order(data).items == (ItemInfo("Kindle", 1),)
    else:
        assert reason(data).startswith(expected)


def test_text_with_control_characters_is_refused() -> None:
    assert reason(order(carrier="UPS\x00")) == "carrier: contains control characters"


def test_every_demo_record_round_trips_through_its_json_line() -> None:
    records = list(read_file(DEMO_FILE))
    assert not [r for r in records if isinstance(r, LineError)]
    for record in records:
        assert not isinstance(record, LineError)
        assert parse_record(json.loads(to_json(record), parse_float=Decimal)) == record


def test_the_demo_data_has_orders_and_returns_in_every_status() -> None:
    records = list(read_file(DEMO_FILE))
    assert {r.status for r in records if isinstance(r, OrderInfo)} == set(ORDER_STATUSES)
    assert {r.status for r in records if isinstance(r, ReturnInfo)} == set(RETURN_STATUSES)
    # The issue's own example: "I see an order placed on November 20th for a Kindle Paperwhite."
    kindle = [r for r in records if isinstance(r, OrderInfo) and r.phone == "+12015550123" and r.items]
    assert any(r.placed_at.date() == date(2026, 11, 20) and r.items[0].title == "Kindle Paperwhite" for r in kindle)


def test_json_lines_report_each_bad_line_by_its_number_and_keep_the_good_ones() -> None:
    lines = [
        json.dumps(ORDER).encode(),
        b"",
        b"{not json",
        b"[1, 2]",
        json.dumps(order(number="B-2", status="lost")).encode(),
        b"\xff\xfe garbage",
        json.dumps(refund(refund_amount=149.99)).encode(),
    ]
    entries = list(read_jsonl(lines))
    errors = [e for e in entries if isinstance(e, LineError)]
    assert [str(e) for e in errors] == [
        "line 3: not valid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
        "line 4: not a JSON object",
        "line 5: status: 'lost' is not one of processing, shipped, out_for_delivery, delivered, delayed, canceled",
        "line 6: not UTF-8 text",
    ]
    good = [e for e in entries if not isinstance(e, LineError)]
    assert [type(g).__name__ for g in good] == ["OrderInfo", "ReturnInfo"]
    # A JSON number reaches the record as the exact decimal written, never as a binary float.
    assert isinstance(good[1], ReturnInfo) and good[1].refund_amount == Decimal("149.99")


def test_a_byte_order_mark_at_the_start_of_a_json_lines_file_is_ignored() -> None:
    assert isinstance(next(read_jsonl([b"\xef\xbb\xbf" + json.dumps(ORDER).encode()])), OrderInfo)


CSV_FILE = """\
type,number,phone,status,carrier,placed_at,estimated_delivery,items,rma,order_number,refund_amount,currency
order,112-4455667-1234567,(201) 555-0123,shipped,UPS,2026-11-20T14:05:00Z,2026-11-25,Kindle x 1; USB-C cable x 2,,,,
return,,,refunded,,,,,RMA-700112,112-4455667-1234567,149.99,USD
order,A-2,,sent,,2026-11-20T14:05:00Z,,,,,,
order,A-3,,delivered,,2026-11-20T14:05:00Z,,"[{""title"": ""Box; large"", ""quantity"": 3}]",,,,
order,A-4,,processing,,2026-11-20T14:05:00Z,,"Gift card
x 2",,,,
order,A-5,,processing,,2026-11-20T14:05:00Z,,,,,,,surplus
"""


def test_csv_rows_become_records_with_items_in_either_notation() -> None:
    entries = list(read_csv(io.StringIO(CSV_FILE)))
    first, second, _bad, fourth, fifth, _surplus = entries
    assert isinstance(first, OrderInfo) and first.phone == "+12015550123"
    assert first.items == (ItemInfo("Kindle", 1), ItemInfo("USB-C cable", 2))
    assert isinstance(second, ReturnInfo) and second.refund_amount == Decimal("149.99")
    assert isinstance(fourth, OrderInfo) and fourth.items == (ItemInfo("Box; large", 3),)
    # A quoted cell may span lines; its record still counts as one.
    assert isinstance(fifth, OrderInfo) and fifth.items == (ItemInfo("Gift card", 2),)


def test_csv_errors_name_the_line_where_the_record_starts() -> None:
    errors = [str(e) for e in read_csv(io.StringIO(CSV_FILE)) if isinstance(e, LineError)]
    assert errors == [
        "line 4: status: 'sent' is not one of processing, shipped, out_for_delivery, delivered, delayed, canceled",
        "line 8: 13 cells, but the header names 12 columns",
    ]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("number,status,placed_at", "line 1: the header has no 'type' column"),
        ("type,number,status,tracking", "line 1: unknown column(s): 'tracking'"),
        ("type,number,number,status", "line 1: column(s) named twice: number"),
    ],
)
def test_a_bad_csv_header_is_one_error_and_nothing_is_read(header: str, expected: str) -> None:
    entries = list(read_csv(io.StringIO(f"{header}\norder,1,shipped,2026-11-20T14:05:00Z\n")))
    assert len(entries) == 1 and str(entries[0]).startswith(expected)


def test_empty_trailing_csv_columns_from_spreadsheets_are_ignored() -> None:
    text = "type,number,status,placed_at,,\norder,A-1,processing,2026-11-20T14:05:00Z,,\n"
    assert [type(e).__name__ for e in read_csv(io.StringIO(text))] == ["OrderInfo"]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("Kindle Paperwhite x 1", [{"title": "Kindle Paperwhite", "quantity": 1}]),
        ("Echo Dot X2; Smart Plug", [{"title": "Echo Dot", "quantity": 2}, {"title": "Smart Plug"}]),
        ("Cable 2m × 3;", [{"title": "Cable 2m", "quantity": 3}]),
        ("Box of 3", [{"title": "Box of 3"}]),
        ('[{"title": "A; B", "quantity": 2}]', [{"title": "A; B", "quantity": 2}]),
    ],
)
def test_the_csv_items_cell_reads_title_x_quantity_or_json(cell: str, expected: list[dict[str, Any]]) -> None:
    assert items_from_text(cell) == expected


@pytest.mark.parametrize(
    ("typed", "as_order", "as_rma"),
    [
        ("112-4455667-1234567", "11244556671234567", "11244556671234567"),
        ("11244556671234567", "11244556671234567", "11244556671234567"),
        ("rma-700112", "RMA700112", "700112"),
        ("RMA 700112", "RMA700112", "700112"),
        ("RMA", "RMA", "RMA"),
    ],
)
def test_numbers_are_compared_without_punctuation_or_case_and_the_rma_prefix_is_optional(
    typed: str, as_order: str, as_rma: str
) -> None:
    assert order_key(typed) == as_order and rma_key(typed) == as_rma


def test_the_summary_reads_as_a_sentence() -> None:
    assert str(ImportSummary(1, 0, [])) == "loaded 1 order and 0 returns"
    assert str(ImportSummary(12, 7, [LineError(3, "x")])) == "loaded 12 orders and 7 returns; 1 bad line not loaded"
