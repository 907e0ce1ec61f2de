"""Back to the main menu from anywhere in the phone menu, by saying so or with the * key, in English and Spanish."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient

from ivr.tree import DEFAULT_TREE, parse_tree
from tests.integration.test_ivr_menu import (
    KINDLE,
    REGULAR,
    answer,
    call,
    gather_of,
    heard,
    session_of,
    staff,
)

MAIN_PROMPT = {"en": "To track an order, press 1 or say track my order.", "es": "Para saber dónde está su pedido"}
SAID = {
    "en": ["Main menu.", "Start over.", "Go back.", "Can you take me back to the main menu?"],
    "es": ["Menú principal.", "Volver al inicio.", "Quiero volver al menú principal.", "Empezar de nuevo."],
}


def at_main_menu(reply: Any, language: str = "en") -> bool:
    action = gather_of(reply).get("action") or ""
    return "node=main" in action and "mode=" not in action and heard(reply).startswith(MAIN_PROMPT[language])


def in_spanish(app: Flask, client: FlaskClient, caller: str = "+12015550166") -> Any:
    return answer(app, client, call(app, client, caller), caller=caller, Digits="9")


# Each place a caller can be asked something, reached in the caller's language: (name, how to get there).
Reach = Callable[[Flask, FlaskClient, str], Any]


def _start(app: Flask, client: FlaskClient, language: str) -> Any:
    return call(app, client) if language == "en" else in_spanish(app, client)


def _number_question(app: Flask, client: FlaskClient, language: str) -> Any:
    return answer(app, client, _start(app, client, language), Digits="1")


def _read_back(app: Flask, client: FlaskClient, language: str) -> Any:
    spoken = "one one two four four" if language == "en" else "uno uno dos cuatro cuatro"
    return answer(app, client, _number_question(app, client, language), SpeechResult=spoken, Confidence="0.3")


def _after_answer(app: Flask, client: FlaskClient, language: str) -> Any:
    return answer(app, client, _number_question(app, client, language), Digits=KINDLE)


def _returns_question(app: Flask, client: FlaskClient, language: str) -> Any:
    return answer(app, client, _start(app, client, language), Digits="2")


def _busy_offer(app: Flask, client: FlaskClient, language: str) -> Any:
    staff(app, "on_call")
    return answer(app, client, _start(app, client, language), Digits="0")


PLACES: dict[str, Reach] = {
    "main menu": _start,
    "order number question": _number_question,
    "number read back": _read_back,
    "after the answer": _after_answer,
    "return number question": _returns_question,
    "busy offer": _busy_offer,
}


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize(("language", "said"), [(lang, s) for lang, phrases in SAID.items() for s in phrases])
def test_saying_main_menu_anywhere_goes_back_to_the_main_menu(
    shop: Flask,
    client: FlaskClient,
    place: str,
    language: str,
    said: str,
) -> None:
    there = PLACES[place](shop, client, language)
    back = answer(shop, client, there, SpeechResult=said, Confidence="0.9")
    assert at_main_menu(back, language), heard(back)
    assert "Sorry" not in heard(back) and "Perdone" not in heard(back)
    steps = session_of(shop).get_steps()
    assert steps[-1]["kind"] == "main_menu" and steps[-1]["speech"] == said


@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("language", ["en", "es"])
def test_the_star_key_anywhere_goes_back_to_the_main_menu(
    shop: Flask,
    client: FlaskClient,
    place: str,
    language: str,
) -> None:
    back = answer(shop, client, PLACES[place](shop, client, language), Digits="*")
    assert at_main_menu(back, language), heard(back)


def test_a_recognised_callers_offer_hears_main_menu_too(shop: Flask, client: FlaskClient) -> None:
    offer = call(shop, client, REGULAR)
    assert "Are you calling about your order" in heard(offer)
    back = answer(shop, client, offer, caller=REGULAR, SpeechResult="Start over.", Confidence="0.9")
    assert at_main_menu(back)
    # ... and is not asked again on the way to tracking: the number question comes next.
    ask = answer(shop, client, back, caller=REGULAR, Digits="1")
    assert heard(ask).startswith("Please key in your order number")


def test_back_at_the_main_menu_nothing_is_counted_against_the_caller(
    shop: Flask,
    client: FlaskClient,
) -> None:
    ask = _number_question(shop, client, "en")
    missed = answer(shop, client, ask, SpeechResult="Purple.", Confidence="0.9")
    missed = answer(shop, client, missed, SpeechResult="Purple.", Confidence="0.9")
    back = answer(shop, client, missed, SpeechResult="Main menu.", Confidence="0.9")
    again = answer(shop, client, back, Digits="1")
    # The limits start again: one more unusable answer is a reprompt, not a hand-over.
    retry = answer(shop, client, again, SpeechResult="Purple.", Confidence="0.9")
    assert "mode=ref" in (gather_of(retry).get("action") or "")
    assert "pending" not in session_of(shop).get_state()


@pytest.mark.parametrize(
    ("place", "language", "said", "meant"),
    [
        # Not a way back: a callback, which the person the main menu offers offers in turn.
        ("main menu", "en", "Call me back.", "Let me get you to someone on our orders team."),
        # A return to start: the returns team, who start it.
        ("main menu", "en", "I want to send it back.", "Let me get you to someone on our returns team."),
        ("main menu", "en", "Where's my package?", "Please key in your order number"),
        ("main menu", "es", "Quiero devolver un producto.", "Le comunico con alguien de nuestro equipo de devoluc"),
        ("after the answer", "es", "Otra vez.", "Para escucharlo de nuevo, oprima 1."),
        ("after the answer", "es", "De nuevo.", "Para escucharlo de nuevo, oprima 1."),
        ("busy offer", "en", "Call me back.", "Done. We'll call you back at this number."),
    ],
)
def test_words_with_back_or_again_in_them_keep_their_own_meaning(
    shop: Flask,
    client: FlaskClient,
    place: str,
    language: str,
    said: str,
    meant: str,
) -> None:
    reply = answer(shop, client, PLACES[place](shop, client, language), SpeechResult=said, Confidence="0.9")
    assert session_of(shop).get_steps()[-1]["kind"] != "main_menu"
    assert meant in heard(reply), heard(reply)


def test_a_menu_that_gives_the_star_key_or_main_menu_an_option_of_its_own_keeps_it(
    shop: Flask,
    client: FlaskClient,
) -> None:
    data = yaml.safe_load(DEFAULT_TREE.read_text(encoding="utf-8"))
    goodbye = next(o for o in data["nodes"]["after_order"]["options"] if o["intent"] == "goodbye")
    goodbye["digit"] = "*"  # "if that's everything, press star": goodbye
    data["nodes"]["main"]["options"].append({"intent": "main_menu", "goto": "track_order"})
    shop.extensions["ivr_tree"] = parse_tree(data)
    bye = answer(shop, client, _after_answer(shop, client, "en"), Digits="*")
    assert heard(bye) == "Thanks for calling Callme Shop. Goodbye."
    ask = answer(shop, client, call(shop, client, "+12015550177"), caller="+12015550177", SpeechResult="Main menu.")
    assert heard(ask).startswith("Please key in your order number")
