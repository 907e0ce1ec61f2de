"""A yes-or-no question beside an order number ("Are you calling about your order ...?", "I heard ..., is
that right?") answered with the yes key alone, or with a whole order number typed instead."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ivr import answers
from tests.conftest import MONDAY_10AM_NEW_YORK as NOW
from tests.integration.test_ivr_menu import (
    KINDLE,
    REGULAR,
    answer,
    call,
    gather_of,
    heard,
    latest_order,
    order,
    session_of,
)

ECHO_SPOKEN = "112-4455667-2345678."  # another of the regular customer's orders, as a recogniser writes it


def keyed_or_yes(reply: Any) -> None:
    """The question takes several keys ended by # or a short pause, not one key alone."""
    gather = gather_of(reply)
    assert gather.get("numDigits") is None
    assert (gather.get("finishOnKey"), gather.get("timeout")) == ("#", "3")
    assert gather.get("input") == "dtmf speech"


def sentence(app: Flask, number: str) -> str:
    return answers.order_sentence(order(app, number), NOW.date())


# --- "Are you calling about your order of ...?" ------------------------------------------------------------


def test_the_offer_takes_several_keys_ended_by_hash_or_a_short_pause(shop: Flask, client: FlaskClient) -> None:
    keyed_or_yes(call(shop, client, REGULAR))


@pytest.mark.parametrize("keys", ["1", "1#"])
def test_the_yes_key_alone_at_the_offer_reads_the_offered_order(
    shop: Flask,
    client: FlaskClient,
    keys: str,
) -> None:
    # Twilio sends the keys without the # that ended them.
    found = answer(shop, client, call(shop, client, REGULAR), caller=REGULAR, Digits=keys.rstrip("#"))
    latest = latest_order(shop, REGULAR)
    assert heard(found).startswith(answers.order_sentence(latest, NOW.date()))


def test_an_order_number_typed_at_the_offer_is_that_order_not_a_yes(shop: Flask, client: FlaskClient) -> None:
    assert latest_order(shop, REGULAR).number != "112-4455667-1234567"
    found = answer(shop, client, call(shop, client, REGULAR), caller=REGULAR, Digits=KINDLE)
    assert heard(found).startswith(sentence(shop, "112-4455667-1234567"))
    steps = session_of(shop).get_steps()
    assert [(s["kind"], s.get("result")) for s in steps if s["kind"] in {"offer", "reference"}] == [
        ("reference", KINDLE)
    ]


def test_an_unknown_number_typed_at_the_offer_gets_the_number_questions_second_chance(
    shop: Flask,
    client: FlaskClient,
) -> None:
    missed = answer(shop, client, call(shop, client, REGULAR), caller=REGULAR, Digits="11299999999999999")
    assert heard(missed).startswith("I couldn't find an order with that number.")
    assert "node=track_order&mode=ref" in (gather_of(missed).get("action") or "")


@pytest.mark.parametrize(("key", "then"), [("2", "To track an order, press 1"), ("0", "Nobody is on duty")])
def test_the_offers_other_keys_still_mean_what_they_did(
    shop: Flask,
    client: FlaskClient,
    key: str,
    then: str,
) -> None:
    reply = answer(shop, client, call(shop, client, REGULAR), caller=REGULAR, Digits=key)
    assert then in heard(reply)


def test_an_order_number_typed_at_the_spanish_offer_is_that_order(shop: Flask, client: FlaskClient) -> None:
    offer = answer(shop, client, call(shop, client, REGULAR), caller=REGULAR, Digits="9")
    assert heard(offer).startswith("Gracias por llamar a Callme Shop. ¿Llama por su pedido de")
    keyed_or_yes(offer)
    found = answer(shop, client, offer, caller=REGULAR, Digits=KINDLE)
    spanish = answers.order_sentence(order(shop, "112-4455667-1234567"), NOW.date(), language="es")
    assert heard(found).startswith(spanish)


# --- "I heard 1 1 2 ..., is that right?" -------------------------------------------------------------------


def read_back(app: Flask, client: FlaskClient, said: str = ECHO_SPOKEN) -> Any:
    ask = answer(app, client, call(app, client), Digits="1")
    check = answer(app, client, ask, SpeechResult=said, Confidence="0.41")
    assert heard(check).startswith("I heard 1 1 2")
    return check


def test_the_read_back_takes_several_keys_ended_by_hash_or_a_short_pause(shop: Flask, client: FlaskClient) -> None:
    keyed_or_yes(read_back(shop, client))


def test_the_yes_key_alone_at_the_read_back_looks_up_the_number_heard(shop: Flask, client: FlaskClient) -> None:
    found = answer(shop, client, read_back(shop, client), Digits="1")
    assert heard(found).startswith(sentence(shop, "112-4455667-2345678"))


def test_a_number_typed_at_the_read_back_is_looked_up_instead_of_the_one_heard(
    shop: Flask,
    client: FlaskClient,
) -> None:
    found = answer(shop, client, read_back(shop, client), Digits=KINDLE)
    assert heard(found).startswith(sentence(shop, "112-4455667-1234567"))
    assert "pending" not in session_of(shop).get_state()
    lookups = [s["reference"] for s in session_of(shop).get_steps() if s["kind"] == "lookup"]
    assert lookups == [KINDLE]


def test_no_at_the_read_back_still_asks_again(shop: Flask, client: FlaskClient) -> None:
    again = answer(shop, client, read_back(shop, client), Digits="2")
    assert heard(again).startswith("Okay, let's try that again.")
    assert "mode=ref" in (gather_of(again).get("action") or "")
