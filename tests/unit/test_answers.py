"""What the phone menu says about orders and returns: sentences a person would say, dates in words."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from ivr.answers import order_sentence, ordinal, return_sentence, when
from orders.port import ItemInfo, OrderInfo, ReturnInfo

TODAY = date(2026, 11, 23)  # a Monday


def at(day: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("day", "text"),
    [
        (1, "1st"),
        (2, "2nd"),
        (3, "3rd"),
        (4, "4th"),
        (11, "11th"),
        (12, "12th"),
        (13, "13th"),
        (21, "21st"),
        (22, "22nd"),
        (23, "23rd"),
    ],
)
def test_ordinals_read_as_people_say_them(day: int, text: str) -> None:
    assert ordinal(day) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (date(2026, 11, 23), "today"),
        (date(2026, 11, 22), "yesterday"),
        (date(2026, 11, 24), "tomorrow"),
        (date(2026, 11, 20), "on Friday, November 20th"),
        (date(2025, 12, 1), "on Monday, December 1st, 2025"),
        (None, "recently"),
    ],
)
def test_dates_are_said_in_words(value: date | None, text: str) -> None:
    assert when(value, TODAY) == text


def order(status: str, **fields: object) -> OrderInfo:
    base: dict[str, object] = {
        "number": "112-4455667-1234567",
        "status": status,
        "placed_at": at(18),
        "items": (ItemInfo("Kindle Paperwhite"),),
        "carrier": "UPS",
    }
    base.update(fields)
    return OrderInfo(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("info", "expected"),
    [
        (
            order("processing", estimated_delivery=date(2026, 11, 27)),
            "Your Kindle Paperwhite was ordered on Wednesday, November 18th and is being prepared. "
            "It should arrive on Friday, November 27th.",
        ),
        (
            order("shipped", shipped_at=at(21), estimated_delivery=date(2026, 11, 25)),
            "Your Kindle Paperwhite shipped on Saturday, November 21st with U P S. "
            "It should arrive on Wednesday, November 25th.",
        ),
        (
            order("out_for_delivery"),
            "Good news: your Kindle Paperwhite is out for delivery with U P S and should arrive today.",
        ),
        (order("delivered", delivered_at=at(22)), "Your Kindle Paperwhite was delivered yesterday."),
        (
            order("delayed", estimated_delivery=date(2026, 11, 30)),
            "I'm sorry: your Kindle Paperwhite is delayed. The new estimate is Monday, November 30th.",
        ),
        (order("delayed"), "I'm sorry: your Kindle Paperwhite is delayed. We don't have a new date yet."),
        (order("canceled"), "Your Kindle Paperwhite was canceled. If you were charged, the refund is on its way."),
    ],
)
def test_every_order_status_has_a_sentence(info: OrderInfo, expected: str) -> None:
    assert order_sentence(info, TODAY) == expected


def test_several_items_are_summed_up() -> None:
    info = order(
        "delivered", delivered_at=at(20), items=(ItemInfo("Echo Dot"), ItemInfo("USB cable", 2), ItemInfo("Case"))
    )
    assert (
        order_sentence(info, TODAY)
        == "Your order of Echo Dot and 2 other items was delivered on Friday, November 20th."
    )


def a_return(status: str, **fields: object) -> ReturnInfo:
    base: dict[str, object] = {"rma": "RMA-2026-00123", "order_number": "112-4455667-1234567", "status": status}
    base.update(fields)
    return ReturnInfo(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("info", "words"),
    [
        (a_return("requested"), "We have your return request"),
        (a_return("label_sent"), "prepaid shipping label"),
        (a_return("in_transit"), "on its way back to us"),
        (a_return("received", received_at=at(20)), "We received your return on Friday, November 20th."),
        (a_return("rejected"), "was not accepted"),
    ],
)
def test_every_return_status_has_a_sentence(info: ReturnInfo, words: str) -> None:
    assert words in return_sentence(info, TODAY)


def test_a_refund_says_how_much_when_where_and_when_it_shows() -> None:
    info = a_return(
        "refunded",
        refund_amount=Decimal("129.99"),
        currency="USD",
        refund_issued_at=at(21),
        refund_method="original_payment",
    )
    assert return_sentence(info, TODAY) == (
        "Your refund of 129 dollars and 99 cents was issued on Saturday, November 21st to your original payment "
        "method. It should show on Saturday, November 28th, depending on your bank."
    )


def test_store_credit_is_there_at_once() -> None:
    info = a_return(
        "refunded", refund_amount=Decimal("20"), currency="USD", refund_issued_at=at(22), refund_method="store_credit"
    )
    assert return_sentence(info, TODAY) == "Your refund of 20 dollars was issued yesterday to store credit."


def test_an_offered_order_is_named_as_a_person_would() -> None:
    from ivr.answers import items_phrase

    assert items_phrase(order("shipped")) == "a Kindle Paperwhite"
    assert (
        items_phrase(order("shipped", items=(ItemInfo("Echo Dot"), ItemInfo("Plug")))) == "an Echo Dot and 1 other item"
    )
    assert items_phrase(order("shipped", items=(ItemInfo("USB cables", 2),))) == "2 USB cables"
