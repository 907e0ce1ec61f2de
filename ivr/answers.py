"""What the IVR says about an order or a return: sentences a person would say, dates in words."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

CARRIERS = {"ups": "U P S", "usps": "the postal service", "fedex": "FedEx", "dhl": "D H L"}
REFUND_METHODS = {
    "original_payment": "your original payment method",
    "card": "your card",
    "credit_card": "your card",
    "store_credit": "store credit",
    "gift_card": "a gift card",
    "paypal": "PayPal",
}
# How long a refund takes to show, by method, in business days (what shops tell customers).
REFUND_DAYS = {"store_credit": 0, "gift_card": 0, "paypal": 1}
DEFAULT_REFUND_DAYS = 5


def ordinal(day: int) -> str:
    """1 -> '1st', 22 -> '22nd', 13 -> '13th'."""
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def when(value: date | datetime | None, today: date, language: str = "en") -> str:
    """'today', 'yesterday', 'tomorrow', 'on Friday, November 20th' (year only when not this one)."""
    if value is None:
        return "recently"
    day = _day(value)
    delta = (day - today).days
    if delta == 0:
        return "today"
    if delta == -1:
        return "yesterday"
    if delta == 1:
        return "tomorrow"
    text = f"on {day:%A}, {day:%B} {ordinal(day.day)}"
    return text if day.year == today.year else f"{text}, {day.year}"


def opening_time(local: datetime, today: date, language: str = "en") -> str:
    """When we open, in the zone `local` is in: "at 9 AM", "tomorrow at 9:30 AM", "on Monday at 9 AM"."""
    clock_words = local.strftime("%-I:%M %p").replace(":00 ", " ")
    if local.date() == today:
        return f"at {clock_words}"
    if local.date() == today + timedelta(days=1):
        return f"tomorrow at {clock_words}"
    return f"on {local.strftime('%A')} at {clock_words}"


def _carrier(name: str | None) -> str:
    if not name:
        return "the carrier"
    return CARRIERS.get(name.lower(), name)


def items_phrase(order: Any, language: str = "en") -> str:
    """'a Kindle Paperwhite', '2 USB cables', 'an Echo Dot and 1 other item': for "an order for ..."."""
    items = list(getattr(order, "items", None) or [])
    if not items:
        return "some items"
    first = items[0]
    head = f"{first.quantity} {first.title}" if first.quantity > 1 else f"{_article(first.title)} {first.title}"
    if len(items) == 1:
        return head
    return f"{head} and {len(items) - 1} other item{'s' if len(items) > 2 else ''}"


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeio" else "a"


def describe_items(order: Any, language: str = "en") -> str:
    """'your Kindle Paperwhite', 'your 2 USB cables', 'your Kindle and 2 other items'."""
    items = list(getattr(order, "items", None) or [])
    if not items:
        return "your order"
    first = items[0].title
    if len(items) == 1:
        # "Your order of 2 USB cables was ...": the verb stays singular whatever the quantity.
        return f"your {first}" if items[0].quantity == 1 else f"your order of {items[0].quantity} {first}"
    # "Your order of ... was delivered": the verb stays singular however many items there are.
    return f"your order of {first} and {len(items) - 1} other item{'s' if len(items) > 2 else ''}"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def order_sentence(order: Any, today: date, language: str = "en") -> str:
    """The status of an order, as a person would say it."""
    return _cap(_order_sentence(order, today))


def _order_sentence(order: Any, today: date) -> str:
    what = describe_items(order)
    status = order.status
    if status == "processing":
        return f"{what} was ordered {when(order.placed_at, today)} and is being prepared. " + (
            f"It should arrive {when(order.estimated_delivery, today)}." if order.estimated_delivery else ""
        )
    if status == "shipped":
        arrival = f" It should arrive {when(order.estimated_delivery, today)}." if order.estimated_delivery else ""
        return f"{what} shipped {when(order.shipped_at, today)} with {_carrier(order.carrier)}.{arrival}"
    if status == "out_for_delivery":
        return f"Good news: {what} is out for delivery with {_carrier(order.carrier)} and should arrive today."
    if status == "delivered":
        return f"{what} was delivered {when(order.delivered_at, today)}."
    if status == "delayed":
        new = (
            f" The new estimate is {when(order.estimated_delivery, today).removeprefix('on ')}."
            if (order.estimated_delivery)
            else " We don't have a new date yet."
        )
        return f"I'm sorry: {what} is delayed.{new}"
    if status == "canceled":
        return f"{what} was canceled. If you were charged, the refund is on its way."
    return f"{what} is {status.replace('_', ' ')}."


def _money(amount: Any, currency: str | None) -> str:
    value = Decimal(str(amount))
    dollars = int(value)
    cents = int((value - dollars) * 100)
    unit = {"USD": "dollars", "CAD": "Canadian dollars", "EUR": "euros", "GBP": "pounds"}.get(
        (currency or "USD").upper(), currency or "dollars"
    )
    return f"{dollars} {unit}" + (f" and {cents} cents" if cents else "")


def return_sentence(ret: Any, today: date, language: str = "en") -> str:
    """The status of a return and its refund, as a person would say it."""
    status = ret.status
    if status == "requested":
        return "We have your return request. We'll email you a shipping label shortly."
    if status == "label_sent":
        return "We've emailed you a prepaid shipping label. Once you drop the parcel off, we'll take it from there."
    if status == "in_transit":
        return "Your return is on its way back to us. We'll let you know as soon as it arrives."
    if status == "received":
        return (
            f"We received your return {when(ret.received_at, today)}. "
            "Your refund is being processed and usually follows within 3 business days."
        )
    if status == "refunded":
        method = REFUND_METHODS.get((ret.refund_method or "").lower(), "your original payment method")
        days = REFUND_DAYS.get((ret.refund_method or "").lower(), DEFAULT_REFUND_DAYS)
        amount = f"of {_money(ret.refund_amount, ret.currency)} " if ret.refund_amount is not None else ""
        issued = ret.refund_issued_at
        sentence = f"Your refund {amount}was issued {when(issued, today)} to {method}."
        if days and issued is not None:
            shows = _day(issued) + timedelta(days=days + 2 * (days // 5))
            if shows >= today:
                sentence += f" It should show {when(shows, today)}, depending on your bank."
            return sentence
        return sentence
    if status == "rejected":
        return "I'm sorry: this return was not accepted. We've emailed you the reason."
    return f"Your return is {status.replace('_', ' ')}."
