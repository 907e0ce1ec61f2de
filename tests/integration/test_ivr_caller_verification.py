"""The carrier's verdict on the caller ID (Twilio's StirVerstat): a number that may be spoofed does not
bring up the orders placed from it."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from ivr.flow import caller_id_doubted
from tests.integration.test_ivr_menu import REGULAR, answer, heard, session_of
from tests.integration.test_ivr_webhooks import form, post

OFFER = "Are you calling about your order"


def ring(app: Flask, client: FlaskClient, verstat: str | None):
    extra = {"StirVerstat": verstat} if verstat is not None else {}
    return post(app, client, "/voice/incoming", form(From=REGULAR, **extra))


@pytest.mark.parametrize(
    ("verstat", "doubted"),
    [
        ("", False),  # no PASSporT: most of the world's calls, the caller ID as before
        ("TN-Validation-Passed-A", False),
        ("tn-validation-passed-a", False),
        ("TN-Validation-Passed-B", True),
        ("TN-Validation-Passed-C", True),
        ("TN-Validation-Failed-A", True),
        ("TN-Validation-Failed", True),
        ("No-TN-Validation", True),
        ("something new", True),
    ],
)
def test_only_full_attestation_or_no_verdict_trusts_the_caller_id(verstat: str, doubted: bool) -> None:
    assert caller_id_doubted(verstat) is doubted


@pytest.mark.parametrize("verstat", [None, "TN-Validation-Passed-A"])
def test_a_caller_id_the_carrier_vouches_for_or_says_nothing_of_is_recognised(
    shop: Flask, client: FlaskClient, verstat: str | None
) -> None:
    assert OFFER in heard(ring(shop, client, verstat))


@pytest.mark.parametrize("verstat", ["TN-Validation-Failed-A", "TN-Validation-Passed-C", "No-TN-Validation"])
def test_a_doubtful_caller_id_hears_the_menu_and_is_asked_for_the_number_not_offered_the_order(
    shop: Flask, client: FlaskClient, verstat: str
) -> None:
    greeting = ring(shop, client, verstat)
    assert OFFER not in heard(greeting)
    assert "To track an order, press 1" in heard(greeting)
    # Choosing to track an order asks for its number: the orders of the number are never read out.
    ask = answer(shop, client, greeting, caller=REGULAR, Digits="1")
    assert heard(ask).startswith("Please key in your order number")
    assert session_of(shop).get_state().get("offer") is None
