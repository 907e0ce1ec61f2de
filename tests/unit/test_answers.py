"""What the phone menu says about orders and returns: sentences a person would say, dates in words."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from ivr.answers import (
    describe_items,
    items_phrase,
    money,
    opening_time,
    order_sentence,
    ordinal,
    plural_title,
    return_sentence,
    spoken_title,
    when,
)
from orders.port import ORDER_STATUSES, RETURN_STATUSES, ItemInfo, OrderInfo, ReturnInfo

TODAY = date(2026, 11, 23)  # a Monday
# The estimated delivery, against today: the tense of the sentence follows it.
ESTIMATES = {"future": date(2026, 11, 27), "today": TODAY, "past": date(2026, 11, 20), "missing": None}


def at(day: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, 15, 0, tzinfo=UTC)


def order(status: str, *items: ItemInfo, **fields: object) -> OrderInfo:
    base: dict[str, object] = {
        "number": "112-4455667-1234567",
        "status": status,
        "placed_at": at(18),
        "items": items or (ItemInfo("Kindle Paperwhite"),),
        "carrier": "UPS",
    }
    base.update(fields)
    return OrderInfo(**base)  # type: ignore[arg-type]


def a_return(status: str, **fields: object) -> ReturnInfo:
    base: dict[str, object] = {"rma": "RMA-2026-00123", "order_number": "112-4455667-1234567", "status": status}
    base.update(fields)
    return ReturnInfo(**base)  # type: ignore[arg-type]


# -- dates --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "text"),
    [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"), (11, "11th"), (12, "12th"), (13, "13th"), (21, "21st")]
    + [(22, "22nd"), (23, "23rd")],
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
        (at(27), "on Friday, November 27th"),
        (date(2025, 12, 1), "on Monday, December 1st, 2025"),
        (None, "recently"),
    ],
)
def test_dates_are_said_in_words(value: date | None, text: str) -> None:
    assert when(value, TODAY) == text


NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("local", "text"),
    [
        (datetime(2026, 11, 23, 9, 0, tzinfo=NEW_YORK), "at 9 AM"),
        (datetime(2026, 11, 23, 13, 45, tzinfo=NEW_YORK), "at 1:45 PM"),
        (datetime(2026, 11, 24, 9, 30, tzinfo=NEW_YORK), "tomorrow at 9:30 AM"),
        (datetime(2026, 11, 26, 12, 0, tzinfo=NEW_YORK), "on Thursday at 12 PM"),
        (datetime(2026, 11, 29, 10, 0, tzinfo=NEW_YORK), "on Sunday at 10 AM"),
        (datetime(2026, 11, 30, 9, 0, tzinfo=NEW_YORK), "on Monday, November 30th at 9 AM"),
    ],
)
def test_opening_times_are_said_as_a_person_would(local: datetime, text: str) -> None:
    assert opening_time(local, TODAY) == text


def test_an_opening_time_is_read_in_its_own_zone_not_utc() -> None:
    # 9 AM in New York is 14:00 UTC: the caller hears the hour on their clock.
    local = datetime(2026, 11, 24, 14, 0, tzinfo=UTC).astimezone(NEW_YORK)
    assert opening_time(local, TODAY) == "tomorrow at 9 AM"


# -- orders: every status, with the estimate ahead, today, behind or unknown ---------------------------

ORDER_SENTENCES = {
    ("processing", "future"): "Your Kindle Paperwhite was ordered on Wednesday, November 18th and is being prepared. "
    "It should arrive on Friday, November 27th.",
    ("processing", "today"): "Your Kindle Paperwhite was ordered on Wednesday, November 18th and is still being "
    "prepared. It was expected today, and it's running late. I'm sorry about that.",
    ("processing", "past"): "Your Kindle Paperwhite was ordered on Wednesday, November 18th and is still being "
    "prepared. It was expected on Friday, November 20th, and it's running late. I'm sorry about that.",
    ("processing", "missing"): "Your Kindle Paperwhite was ordered on Wednesday, November 18th and is being prepared. "
    "We'll know the delivery date once it ships.",
    ("shipped", "future"): "Your Kindle Paperwhite shipped on Saturday, November 21st with U P S. "
    "It should arrive on Friday, November 27th.",
    ("shipped", "today"): "Your Kindle Paperwhite shipped on Saturday, November 21st with U P S. "
    "It should arrive today.",
    ("shipped", "past"): "Your Kindle Paperwhite shipped on Saturday, November 21st with U P S. "
    "It was expected on Friday, November 20th, and it's running late. I'm sorry about that.",
    ("shipped", "missing"): "Your Kindle Paperwhite shipped on Saturday, November 21st with U P S.",
    ("delayed", "future"): "I'm sorry: your Kindle Paperwhite is delayed. It should now arrive on Friday, "
    "November 27th.",
    ("delayed", "today"): "I'm sorry: your Kindle Paperwhite is delayed. It should now arrive today.",
    ("delayed", "past"): "Your Kindle Paperwhite was expected on Friday, November 20th, and it's running late. "
    "I'm sorry; we don't have a new date yet.",
    ("delayed", "missing"): "I'm sorry: your Kindle Paperwhite is delayed, and we don't have a new date yet.",
}
# Once it is out for delivery, delivered or canceled, the estimate no longer matters.
SETTLED = {
    "out_for_delivery": "Good news: your Kindle Paperwhite is out for delivery with U P S and should arrive today.",
    "delivered": "Your Kindle Paperwhite was delivered yesterday.",
    "canceled": "Your Kindle Paperwhite was canceled. If you were charged, the refund is on its way.",
}
ORDER_SENTENCES |= {(status, key): said for status, said in SETTLED.items() for key in ESTIMATES}


def test_every_order_status_is_covered() -> None:
    assert {status for status, _ in ORDER_SENTENCES} == set(ORDER_STATUSES)


@pytest.mark.parametrize(("status", "estimate"), sorted(ORDER_SENTENCES))
def test_every_order_status_has_a_sentence_in_the_tense_of_its_estimate(status: str, estimate: str) -> None:
    shipped = at(21) if status != "processing" else None
    delivered = at(22) if status == "delivered" else None
    info = order(status, shipped_at=shipped, delivered_at=delivered, estimated_delivery=ESTIMATES[estimate])
    assert order_sentence(info, TODAY) == ORDER_SENTENCES[(status, estimate)]


@pytest.mark.parametrize(
    ("info", "expected"),
    [
        (order("delivered"), "Your Kindle Paperwhite has been delivered."),
        (order("delivered", delivered_at=at(23)), "Your Kindle Paperwhite was delivered today."),
        (order("shipped", carrier=None, shipped_at=at(22)), "Your Kindle Paperwhite shipped yesterday."),
        (order("shipped", carrier="USPS"), "Your Kindle Paperwhite shipped recently with the postal service."),
        (order("shipped", carrier="fedex", shipped_at=at(22)), "Your Kindle Paperwhite shipped yesterday with FedEx."),
        (order("shipped", carrier="DHL", shipped_at=at(22)), "Your Kindle Paperwhite shipped yesterday with D H L."),
        (
            order("shipped", carrier="OnTrac", shipped_at=at(22)),
            "Your Kindle Paperwhite shipped yesterday with OnTrac.",
        ),
        (
            order("out_for_delivery", carrier=None),
            "Good news: your Kindle Paperwhite is out for delivery and should arrive today.",
        ),
        (order("returned_to_sender"), "Your Kindle Paperwhite is returned to sender."),
    ],
)
def test_missing_dates_and_carriers_are_left_out_not_guessed(info: OrderInfo, expected: str) -> None:
    assert order_sentence(info, TODAY) == expected


def test_a_late_order_apologises_once() -> None:
    for status in ("processing", "shipped", "delayed"):
        said = order_sentence(order(status, shipped_at=at(21), estimated_delivery=date(2026, 11, 20)), TODAY)
        assert said.count("sorry") == 1, said


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        (
            (ItemInfo("USB cable", 2),),
            "Your two USB cables were ordered on Wednesday, November 18th and are still being prepared. "
            "They were expected on Friday, November 20th, and they're running late. I'm sorry about that.",
        ),
        (
            (ItemInfo("Echo Dot (5th Gen)", 2), ItemInfo("Smart Plug")),
            "Your order of two Echo Dots and one other item was placed on Wednesday, November 18th and is still "
            "being prepared. It was expected on Friday, November 20th, and it's running late. I'm sorry about that.",
        ),
        (
            (ItemInfo("Bose QuietComfort Headphones"),),
            "Your Bose QuietComfort Headphones were ordered on Wednesday, November 18th and are still being "
            "prepared. They were expected on Friday, November 20th, and they're running late. I'm sorry about that.",
        ),
    ],
)
def test_the_verb_agrees_with_what_was_ordered(items: tuple[ItemInfo, ...], expected: str) -> None:
    info = order("processing", *items, estimated_delivery=date(2026, 11, 20))
    assert order_sentence(info, TODAY) == expected


def test_plural_items_agree_in_every_status() -> None:
    cables = (ItemInfo("USB cable", 2),)
    assert order_sentence(order("delivered", *cables), TODAY) == "Your two USB cables have been delivered."
    assert order_sentence(order("canceled", *cables), TODAY) == (
        "Your two USB cables were canceled. If you were charged, the refund is on its way."
    )
    assert order_sentence(order("out_for_delivery", *cables), TODAY) == (
        "Good news: your two USB cables are out for delivery with U P S and should arrive today."
    )
    assert order_sentence(order("delayed", *cables), TODAY) == (
        "I'm sorry: your two USB cables are delayed, and we don't have a new date yet."
    )
    assert order_sentence(order("processing", *cables), TODAY) == (
        "Your two USB cables were ordered on Wednesday, November 18th and are being prepared. "
        "We'll know the delivery date once they ship."
    )


# -- what was ordered, said aloud ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("items", "phrase", "subject"),
    [
        ((ItemInfo("Kindle Paperwhite"),), "a Kindle Paperwhite", "your Kindle Paperwhite"),
        ((ItemInfo("Echo Dot (5th Gen)"),), "an Echo Dot", "your Echo Dot"),
        ((ItemInfo("USB cable", 2),), "two USB cables", "your two USB cables"),
        ((ItemInfo("HDMI Cable"),), "an HDMI Cable", "your HDMI Cable"),
        ((ItemInfo("USB-C Cable"),), "a USB-C Cable", "your USB-C Cable"),
        ((ItemInfo("Universal Remote"),), "a Universal Remote", "your Universal Remote"),
        ((ItemInfo("Xbox Wireless Controller"),), "an Xbox Wireless Controller", "your Xbox Wireless Controller"),
        ((ItemInfo("8 Inch Tablet"),), "an 8 Inch Tablet", "your 8 Inch Tablet"),
        ((ItemInfo("18 Volt Drill"),), "an 18 Volt Drill", "your 18 Volt Drill"),
        ((ItemInfo("2 Slice Toaster"),), "a 2 Slice Toaster", "your 2 Slice Toaster"),
        ((ItemInfo("F-150 Model Truck"),), "an F-150 Model Truck", "your F-150 Model Truck"),
        ((ItemInfo("Box of Chocolates"),), "a Box of Chocolates", "your Box of Chocolates"),
        ((ItemInfo("Pair of Shoes", 2),), "two Pairs of Shoes", "your two Pairs of Shoes"),
        ((ItemInfo("Apple AirPods Pro"),), "Apple AirPods Pro", "your Apple AirPods Pro"),
        ((ItemInfo("Storage Box", 3),), "three Storage Boxes", "your three Storage Boxes"),
        ((ItemInfo("AA Battery 24-Pack", 10),), "ten AA Batteries", "your ten AA Batteries"),
        ((ItemInfo("Wireless Mouse", 2),), "two Wireless Mice", "your two Wireless Mice"),
        (
            (ItemInfo("Bose QuietComfort Headphones", 2),),
            "two Bose QuietComfort Headphones",
            "your two Bose QuietComfort Headphones",
        ),
        ((ItemInfo("Echo Dot", 12),), "12 Echo Dots", "your 12 Echo Dots"),
        ((ItemInfo("Echo Dot Kids"),), "an Echo Dot Kids", "your Echo Dot Kids"),
        (
            (ItemInfo("Nintendo Switch OLED", 2),),
            "two Nintendo Switch OLED units",
            "your two Nintendo Switch OLED units",
        ),
        (
            (ItemInfo("Echo Dot (5th Gen)", 2), ItemInfo("Smart Plug")),
            "two Echo Dots and one other item",
            "your order of two Echo Dots and one other item",
        ),
        (
            (ItemInfo("Echo Dot"), ItemInfo("USB cable", 2), ItemInfo("Case")),
            "an Echo Dot and three other items",
            "your order of an Echo Dot and three other items",
        ),
        ((), "some items", "your order"),
    ],
)
def test_items_are_counted_in_words_and_named_as_said(items: tuple[ItemInfo, ...], phrase: str, subject: str) -> None:
    info = OrderInfo(number="1", status="shipped", placed_at=at(18), items=items)
    assert items_phrase(info) == phrase
    assert describe_items(info) == subject


@pytest.mark.parametrize(
    ("title", "spoken"),
    [
        ("Echo Dot (5th Gen)", "Echo Dot"),
        ("Kindle Paperwhite 16GB - Black", "Kindle Paperwhite"),
        ("Fire TV Stick 4K", "Fire TV Stick"),
        ("Instant Pot Duo 7-in-1", "Instant Pot Duo"),
        ("Logitech MX Master 3S", "Logitech MX Master"),
        ("Echo Dot 5th Gen", "Echo Dot"),
        ("Yoga Mat, Non-Slip, 6mm", "Yoga Mat"),
        ("Yoga Mat 6 mm", "Yoga Mat"),
        ("AA Battery 24-Pack", "AA Battery"),
        ("Coffee Pods (Pack of 2)", "Coffee Pods"),
        ("Phone Case | Clear", "Phone Case"),
        ("Coffee Pods, Pack of 50", "Coffee Pods"),
        ("Tea Towels Set of 4", "Tea Towels"),
        ("PlayStation 5", "PlayStation 5"),
        ("Apple Watch Series 9", "Apple Watch Series 9"),
        ("4K", "4K"),
    ],
)
def test_titles_lose_what_nobody_says_aloud(title: str, spoken: str) -> None:
    assert spoken_title(title) == spoken


@pytest.mark.parametrize(
    ("title", "plural"),
    [
        ("Echo Dot", "Echo Dots"),
        ("Storage Box", "Storage Boxes"),
        ("AA Battery", "AA Batteries"),
        ("Nintendo Switch", "Nintendo Switches"),
        ("Glass", "Glasses"),
        ("Camera Lens", "Camera Lenses"),
        ("Bose Headphones", "Bose Headphones"),
        ("Apple AirPods Pro", "Apple AirPods Pro"),
        ("Smart TV", "Smart TVs"),
        ("Chef's Knife", "Chef's Knives"),
        ("Key", "Keys"),
        ("Nintendo Switch OLED", None),
        ("Echo Dot Kids", None),
        ("Echo Show 8", None),
        ("PlayStation 5", None),
        ("Wi-Fi", None),
        ("Box of Chocolates", "Boxes of Chocolates"),
        ("Pair of Shoes", "Pairs of Shoes"),
        ("Stainless Steel Thermos", "Stainless Steel Thermoses"),
        ("Potato", "Potatoes"),
        ("Men's T-Shirt", "Men's T-Shirts"),
    ],
)
def test_the_head_noun_is_made_plural_or_left_alone_when_unsure(title: str, plural: str | None) -> None:
    assert plural_title(title) == plural


# -- money --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "currency", "said"),
    [
        ("24.99", "USD", "24 dollars and 99 cents"),
        ("20", "USD", "20 dollars"),
        ("1", "USD", "1 dollar"),
        ("1.01", "USD", "1 dollar and 1 cent"),
        ("0.99", "USD", "99 cents"),
        ("0", "USD", "0 dollars"),
        ("1299.5", None, "1,299 dollars and 50 cents"),
        ("21.05", "CAD", "21 Canadian dollars and 5 cents"),
        ("20.50", "EUR", "20 euros and 50 cents"),
        ("20.50", "GBP", "20 British pounds and 50 pence"),
        ("1500", "JPY", "1,500 Japanese yen"),
        ("12.345", "KWD", "12.345 Kuwaiti dinars"),
        ("150.25", "MXN", "150 Mexican pesos and 25 centavos"),
        ("40.10", "CHF", "40.10 Swiss francs"),
        ("40", "CHF", "40 Swiss francs"),
    ],
)
def test_amounts_are_read_as_people_read_them(amount: str, currency: str | None, said: str) -> None:
    assert money(Decimal(amount), currency) == said


# -- returns ------------------------------------------------------------------------------------------

RETURN_SENTENCES = {
    "requested": "We have your return request. We'll email you a shipping label shortly.",
    "label_sent": "We've emailed you a prepaid shipping label. Once you drop the parcel off, we'll take it from there.",
    "in_transit": "Your return is on its way back to us. We'll let you know as soon as it arrives.",
    "received": "We received your return on Friday, November 20th. Your refund of 89 dollars and 99 cents is being "
    "processed and usually follows within three business days.",
    "refunded": "Your refund of 129 dollars and 99 cents was issued on Saturday, November 21st to your original "
    "payment method. It should show on Friday, November 27th, depending on your bank.",
    "rejected": "I'm sorry: this return was not accepted. We've emailed you the reason.",
}


@pytest.mark.parametrize("status", RETURN_STATUSES)
def test_every_return_status_has_a_sentence(status: str) -> None:
    info = a_return(
        status,
        refund_amount=Decimal("89.99") if status == "received" else Decimal("129.99"),
        currency="USD",
        received_at=at(20),
        refund_issued_at=at(21) if status == "refunded" else None,
        refund_method="original_payment" if status == "refunded" else None,
    )
    assert return_sentence(info, TODAY) == RETURN_SENTENCES[status]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"status": "received"}, "We've received your return. Your refund is being processed and usually follows "
         "within three business days."),
        ({"status": "refunded", "refund_amount": Decimal("20"), "currency": "USD"},
         "Your refund of 20 dollars has been issued to your original payment method."),
        ({"status": "refunded", "refund_issued_at": at(22), "refund_method": "store_credit",
          "refund_amount": Decimal("20"), "currency": "USD"},
         "Your refund of 20 dollars was issued yesterday as store credit."),
        ({"status": "refunded", "refund_issued_at": at(20), "refund_method": "paypal"},
         "Your refund was issued on Friday, November 20th to your PayPal account. It should show today."),
        ({"status": "refunded", "refund_issued_at": at(22), "refund_method": "gift_card"},
         "Your refund was issued yesterday on a gift card."),
        ({"status": "refunded", "refund_issued_at": at(23), "refund_method": "card"},
         "Your refund was issued today to your card. It should show on Monday, November 30th, depending on "
         "your bank."),
        ({"status": "refunded", "refund_issued_at": at(10), "refund_method": "wire"},
         "Your refund was issued on Tuesday, November 10th to your bank account."),
        # Methods as order systems spell them; one we cannot name is not said as another.
        ({"status": "refunded", "refund_issued_at": at(22), "refund_method": "Store Credit"},
         "Your refund was issued yesterday as store credit."),
        ({"status": "refunded", "refund_issued_at": at(22), "refund_method": "gift-card"},
         "Your refund was issued yesterday on a gift card."),
        ({"status": "refunded", "refund_issued_at": at(22), "refund_method": "crypto"},
         "Your refund was issued yesterday."),
        # Nothing paid back: no amount, no bank, no date to wait for.
        ({"status": "refunded", "refund_issued_at": at(22), "refund_amount": Decimal("0"), "currency": "USD"},
         "Your return has been processed. No refund was due on it."),
        ({"status": "received", "refund_amount": Decimal("0"), "currency": "USD"},
         "We've received your return. Your refund is being processed and usually follows within three business "
         "days."),
        ({"status": "on_hold"}, "Your return is on hold."),
    ],
)  # fmt: skip
def test_refunds_say_how_much_where_and_when_they_show(fields: dict[str, object], expected: str) -> None:
    info = a_return(**fields)  # type: ignore[arg-type]
    assert return_sentence(info, TODAY) == expected


# -- the caller's day, not UTC's ----------------------------------------------------------------------


def test_a_moment_falls_on_its_day_in_the_callers_zone() -> None:
    late_evening = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 9 PM on the 22nd in New York
    assert when(late_evening, TODAY) == "today"
    assert when(late_evening, TODAY, zone=NEW_YORK) == "yesterday"
    assert when(late_evening, TODAY, language="es", zone=NEW_YORK) == "ayer"


def test_sentences_say_their_dates_in_the_zone_they_are_given() -> None:
    delivered = order("delivered", delivered_at=datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
    assert order_sentence(delivered, TODAY, zone=NEW_YORK) == "Your Kindle Paperwhite was delivered yesterday."
    # Issued on Saturday evening in New York (Sunday in UTC): five business days run Monday to Friday.
    refund = a_return("refunded", refund_issued_at=datetime(2026, 11, 22, 1, 0, tzinfo=UTC), refund_method="card")
    assert return_sentence(refund, TODAY, zone=NEW_YORK) == (
        "Your refund was issued on Saturday, November 21st to your card. "
        "It should show on Friday, November 27th, depending on your bank."
    )


@pytest.mark.parametrize("title", ["Box of Chocolates", "Set of Knives", "Stainless Steel Thermos"])
def test_one_thing_whose_title_ends_in_a_plural_takes_a_singular_verb(title: str) -> None:
    delivered = order("delivered", ItemInfo(title), delivered_at=at(22))
    assert order_sentence(delivered, TODAY) == f"Your {title} was delivered yesterday."
