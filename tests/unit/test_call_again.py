"""Whether a customer not reached is called again, and what the end of such a call promises them."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest

from agents.models import Queue
from callback import policy, twiml
from callback.models import CallbackRequest

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)


def request(
    phone: str = "+12015550123", attempts: int = 1, max_attempts: int = 3, hours_left: float = 24
) -> CallbackRequest:
    """A request whose call is ending without reaching anyone, in a queue backing off 120 s, 600 s, 1800 s."""
    queue = Queue(name="orders", display_name="Orders", max_attempts=max_attempts, backoff_seconds="120,600,1800")
    req = CallbackRequest(
        phone=phone,
        name="Casey Jones",
        status="dialing",
        attempts=attempts,
        language="en",
        expires_at=NOW + timedelta(hours=hours_left),
    )
    req.queue = queue
    return req


def test_no_call_is_left_after_the_last_attempt_nor_past_the_expiry_nor_to_a_withheld_number() -> None:
    assert policy.retry_at(request(attempts=2, max_attempts=3), NOW) == NOW + timedelta(seconds=600)
    assert policy.retry_at(request(attempts=3, max_attempts=3), NOW) is None
    assert policy.retry_at(request(attempts=1, hours_left=0.01), NOW) is None  # 36 s left, 120 s back-off
    assert policy.retry_at(request(phone="anonymous"), NOW) is None


def says(xml: str) -> str:
    return " ".join(say.text or "" for say in ET.fromstring(xml).iter("Say"))


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_last_calls_words_promise_no_other_call(language: str) -> None:
    req = request()
    req.language = language
    promise = {"en": "try you again", "es": "Le volveremos a llamar"}[language]
    none = {"en": "won't call", "es": "no volveremos a llamarle"}[language]
    website = {"en": "on our website", "es": "en nuestra web"}[language]
    for xml in (
        twiml.confirm(req, "Acme", "https://x/confirm", then=twiml.NextCall(False)),
        twiml.confirm(req, "Acme", "https://x/confirm", again=True, then=twiml.NextCall(False)),
        twiml.voicemail(req, "Acme", "+15005550006", then=twiml.NextCall(False)),
        twiml.goodbye("Sorry, I didn't catch that. " + twiml.later(False), language),
    ):
        words = says(xml)
        assert promise not in words and none in words.lower() and website in words
    for xml in (
        twiml.confirm(req, "Acme", "https://x/confirm", then=twiml.NextCall(True)),
        twiml.voicemail(req, "Acme", "+15005550006", then=twiml.NextCall(True)),
        twiml.goodbye("Sorry, I didn't catch that. " + twiml.later(True), language),
    ):
        words = says(xml)
        assert promise in words and none not in words.lower()
