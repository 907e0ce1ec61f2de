"""Every order and return state read out in English and in Spanish, by keypad and by speech, through the sandbox.

One call per language, kind and way of answering: the caller checks one number after another ("another
order"), as callers with several parcels do. Keys are pressed in groups, as a person reads a number off an
email (the sandbox collects them until # as Twilio does); speech is turned into digits and punctuation by
the sandbox's recogniser, with a confidence the test pins (sure, or not reported at all).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from agents.models import DEFAULT_TIMEZONE
from ivr import answers
from orders.port import OrderInfo, ReturnInfo
from tests.e2e.conftest import System
from tests.e2e.test_ivr_calls import STRANGER, call_in, demo_records, heard, shop, wait_session_closed

__all__ = ["shop"]  # the fixture, shared with the other phone-menu tests

# The demo queues answer in the shop's zone: a delivery's "yesterday" is the day there.
ZONE = ZoneInfo(DEFAULT_TIMEZONE)
NUMBER_WORDS = {
    "en": "zero one two three four five six seven eight nine".split(),
    "es": "cero uno dos tres cuatro cinco seis siete ocho nueve".split(),
}
SAID: dict[str, dict[str, str | None]] = {
    "en": {"spanish": None, "track": "where's my package", "returns": "I want to check on my refund",
           "another": "another one", "another_return": "another one", "bye": "that's all, thanks"},
    "es": {"spanish": "español", "track": "dónde está mi pedido", "returns": "quiero saber de mi reembolso",
           "another": "otro pedido", "another_return": "otra devolución", "bye": "eso es todo, gracias"},
}  # fmt: skip
ORDER_STATES = ("processing", "shipped", "out_for_delivery", "delivered", "delayed", "canceled")
RETURN_STATES = ("requested", "label_sent", "in_transit", "received", "refunded", "rejected")


def _digits(number: str) -> str:
    return "".join(ch for ch in number if ch.isdigit())


def _keyed(digits: str) -> list[dict[str, Any]]:
    """A 17-digit number keyed in three groups (3-7-7, as it is printed), then #."""
    return [{"digits": digits[:3]}, {"digits": digits[3:10]}, {"digits": digits[10:] + "#"}]


def _spoken(digits: str, language: str, index: int) -> dict[str, Any]:
    words = NUMBER_WORDS[language]
    groups = (digits[:3], digits[3:10], digits[10:])
    text = ", ".join(" ".join(words[int(d)] for d in group) for group in groups)
    # Every other number comes without a Confidence, as some recognisers send it: a whole number is trusted.
    return {"speech": text, "confidence": None if index % 2 else 0.92}


def _script(language: str, by: str, kind: str, numbers: list[str]) -> list[dict[str, Any]]:
    said = SAID[language]
    steps: list[dict[str, Any]] = []
    if language == "es":
        steps.append({"digits": "9"} if by == "keypad" else {"speech": said["spanish"], "confidence": 0.9})
    if by == "keypad":
        steps.append({"digits": "1" if kind == "order" else "2"})
    else:
        steps.append({"speech": said["track" if kind == "order" else "returns"], "confidence": 0.9})
    for index, number in enumerate(numbers):
        if index:
            again = said["another" if kind == "order" else "another_return"]
            steps.append({"digits": "2"} if by == "keypad" else {"speech": again, "confidence": 0.9})
        steps.extend(_keyed(number) if by == "keypad" else [_spoken(number, language, index)])
    steps.append({"digits": "9"} if by == "keypad" else {"speech": said["bye"], "confidence": 0.9})
    return steps


@pytest.mark.parametrize("by", ["keypad", "speech"])
@pytest.mark.parametrize("language", ["en", "es"])
def test_every_order_state_is_read_out(shop: System, language: str, by: str) -> None:
    orders = [next(r for r in demo_records() if isinstance(r, OrderInfo) and r.status == s) for s in ORDER_STATES]
    call = call_in(shop, STRANGER, _script(language, by, "order", [_digits(o.number) for o in orders]), timeout=120)
    said = heard(call)
    today = datetime.now(ZONE).date()
    for order in orders:
        assert answers.order_sentence(order, today, language=language, zone=ZONE) in said, order.status
    assert "I heard" not in said and "Entendí" not in said  # no number had to be read back
    ivr = wait_session_closed(shop, call)
    assert ivr.language == language and ivr.outcome == "contained"


@pytest.mark.parametrize("by", ["keypad", "speech"])
@pytest.mark.parametrize("language", ["en", "es"])
def test_every_return_state_is_read_out(shop: System, language: str, by: str) -> None:
    returns = [next(r for r in demo_records() if isinstance(r, ReturnInfo) and r.status == s) for s in RETURN_STATES]
    numbers = [_digits(r.order_number) for r in returns]
    call = call_in(shop, STRANGER, _script(language, by, "return", numbers), timeout=120)
    said = heard(call)
    today = datetime.now(ZONE).date()
    for ret in returns:
        assert answers.return_sentence(ret, today, language=language, zone=ZONE) in said, ret.status
    ivr = wait_session_closed(shop, call)
    assert ivr.language == language and ivr.outcome == "contained"
