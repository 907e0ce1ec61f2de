"""A number is not an identity: what the agent is told of a phone-menu caller whose caller ID matched
someone's open request, and the row an ask that found such a request leaves. No database."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest

from agents.models import Queue
from callback import twiml
from callback.models import CALLER_ID_DOUBTED, DUPLICATE_ASK, MATCHED_CALLER_ID, PHONE_CALLER, CallbackRequest

NOW = datetime(2026, 11, 30, 15, 0, tzinfo=UTC)


def request(phone: str, context: dict[str, object] | None = None, **fields: object) -> CallbackRequest:
    queue = Queue(name="orders", display_name="Orders", max_attempts=3, backoff_seconds="120")
    values: dict[str, object] = {"name": PHONE_CALLER, "source": "ivr", "attempts": 0, "language": "en"}
    req = CallbackRequest(
        phone=phone,
        status="connecting",
        expires_at=NOW + timedelta(hours=24),
        ivr_context=json.dumps(context) if context is not None else None,
        **{**values, **fields},
    )
    req.queue = queue
    return req


def test_a_caller_whose_caller_id_matched_an_open_request_is_whispered_as_an_unverified_inbound_caller() -> None:
    caller = request("call:5555555555555", {"summary": "", MATCHED_CALLER_ID: "+12015550177"})
    words = twiml.context_words(caller)
    assert words.startswith(
        "A caller from the phone menu, calling from 2 0 1 5 5 5 0 1 7 7. Their caller ID matches an open "
        "callback request, but caller ID is not verified, so this may not be that customer. Topic: orders."
    )


@pytest.mark.parametrize(
    ("phone", "context", "expected"),
    [
        ("call:5555555555555", {MATCHED_CALLER_ID: "+12015550177"}, "+12015550177"),
        ("call:5555555555555", {"summary": "withheld"}, None),  # a withheld caller: nothing matched
        ("call:5555555555555", {MATCHED_CALLER_ID: "anonymous"}, None),
        ("+12015550166", {MATCHED_CALLER_ID: "+12015550177"}, None),  # a dialable number is its own
        ("call:5555555555555", None, None),
    ],
)
def test_only_a_placeholder_request_carries_an_unverified_caller_id(
    phone: str, context: dict[str, object] | None, expected: str | None
) -> None:
    assert request(phone, context).unverified_caller_id == expected


def test_a_garbled_context_carries_no_caller_id() -> None:
    req = request("call:5555555555555")
    req.ivr_context = "{not json"
    assert req.unverified_caller_id is None
    assert twiml.context_words(req).startswith("A caller from the phone menu. Topic: orders.")


def test_a_caller_id_the_carrier_doubted_is_whispered_with_that_doubt() -> None:
    caller = request("+12015550166", {"summary": "", CALLER_ID_DOUBTED: True})
    assert caller.caller_id_doubted
    assert twiml.context_words(caller).startswith(
        "A caller from the phone menu, calling from 2 0 1 5 5 5 0 1 6 6. The carrier could not verify that "
        "caller ID, so it may not be theirs. Topic: orders."
    )


@pytest.mark.parametrize(
    "context",
    [None, {"summary": ""}, {CALLER_ID_DOUBTED: False}, {CALLER_ID_DOUBTED: "yes"}, ["not", "a", "dict"]],
)
def test_only_the_handovers_own_mark_says_the_caller_id_was_doubted(context: object) -> None:
    caller = request("+12015550166")
    caller.ivr_context = json.dumps(context) if context is not None else None
    assert not caller.caller_id_doubted
    assert twiml.context_words(caller).startswith(
        "A caller from the phone menu, calling from 2 0 1 5 5 5 0 1 6 6. Topic"
    )


def test_a_customers_own_callback_is_still_whispered_as_the_callback_it_is() -> None:
    web = request("+12015550177", name="Victim Person", source="api", order_number="112-4455667-1234567")
    assert twiml.context_words(web).startswith("A callback. The customer gave the name: Victim Person.")


def test_an_ask_that_found_a_request_is_stored_closed_for_the_limits_to_count() -> None:
    row = request("+12015550177")
    row.close_as_repeated_ask()
    assert (row.status, row.outcome) == ("canceled", DUPLICATE_ASK)


# --- who the per-client limit counts in the phone menu --------------------------------------------------------


def test_withheld_callers_are_each_a_client_of_their_own_call() -> None:
    from callback.policy import phone_client_key

    first, second = phone_client_key(None, "CA" + "1" * 32), phone_client_key(None, "CA" + "2" * 32)
    assert first != second and "anonymous" not in first
    assert len(first) <= 45  # CallbackRequest.client_ip


def test_a_phone_that_calls_again_is_one_client_whatever_the_call() -> None:
    from callback.policy import phone_client_key

    assert phone_client_key("+12015550166", "CA" + "1" * 32) == phone_client_key("+12015550166", "CA" + "2" * 32)
    assert phone_client_key("+12015550166", "CA" + "1" * 32) != phone_client_key("+12015550177", "CA" + "1" * 32)


@pytest.mark.parametrize(("placed", "screened", "offered"), [(0, None, None), (1, None, 2), (2, 2, 3)])
def test_the_agent_is_told_which_call_to_the_customer_this_is(
    placed: int, screened: int | None, offered: int | None
) -> None:
    """Customer-first screens the agent on a call already placed (and counted); agent-first offers the
    call before placing it, so it is the next one."""
    web = request("+12015550123", name="Casey Jones", source="web", attempts=placed)
    screen_words = twiml.context_words(web)
    offer_words = " ".join(say.text or "" for say in ET.fromstring(twiml.offer_to_agent(web, "/x")).iter("Say"))
    for words, number in ((screen_words, screened), (offer_words, offered)):
        if number is None:
            assert "This is call" not in words
        else:
            assert f"This is call {number} to them." in words
