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


@pytest.mark.parametrize(
    "said",
    ["Okay.", "OK.", "I think so.", "That's right.", "Sounds right.", "Correct.", "Yeah, I believe so.", "I guess so."],
)
def test_everyday_agreement_at_the_read_back_is_a_yes(shop: Flask, client: FlaskClient, said: str) -> None:
    found = answer(shop, client, read_back(shop, client), SpeechResult=said, Confidence="0.9")
    assert heard(found).startswith(sentence(shop, "112-4455667-2345678")), heard(found)


@pytest.mark.parametrize(
    "said", ["No, I don't think so.", "I don't think so.", "Okay, no, that's wrong.", "Nope, that's wrong."]
)
def test_a_no_in_everyday_words_at_the_read_back_is_still_a_no(shop: Flask, client: FlaskClient, said: str) -> None:
    again = answer(shop, client, read_back(shop, client), SpeechResult=said, Confidence="0.9")
    assert heard(again).startswith("Okay, let's try that again."), heard(again)


@pytest.mark.parametrize("said", ["Okey.", "Vale.", "Creo que sí.", "Está bien.", "Me parece bien."])
def test_everyday_agreement_at_the_spanish_read_back_is_a_yes(shop: Flask, client: FlaskClient, said: str) -> None:
    ask = answer(shop, client, answer(shop, client, call(shop, client), Digits="9"), Digits="1")
    spoken = "uno uno dos, cuatro cuatro cinco cinco seis seis siete, dos tres cuatro cinco seis siete ocho"
    check = answer(shop, client, ask, SpeechResult=spoken, Confidence="0.41")
    assert heard(check).startswith("Entendí 1 1 2"), heard(check)
    found = answer(shop, client, check, SpeechResult=said, Confidence="0.9")
    spanish = answers.order_sentence(order(shop, "112-4455667-2345678"), NOW.date(), language="es")
    assert heard(found).startswith(spanish), heard(found)


def test_no_at_the_read_back_still_asks_again(shop: Flask, client: FlaskClient) -> None:
    again = answer(shop, client, read_back(shop, client), Digits="2")
    assert heard(again).startswith("Okay, let's try that again.")
    assert "mode=ref" in (gather_of(again).get("action") or "")


def offer_answered(app: Flask, client: FlaskClient, said: str, spanish: bool = False) -> Any:
    """The recognised caller's offer, answered in words (in Spanish: after choosing it at the offer)."""
    offer = call(app, client, REGULAR)
    if spanish:
        offer = answer(app, client, offer, caller=REGULAR, Digits="9")
    return answer(app, client, offer, caller=REGULAR, SpeechResult=said, Confidence="0.9")


def action_of(reply: Any) -> str:
    return gather_of(reply).get("action") or ""


# --- words at the offer: a number, a no with a request, another order, "what?" ----------------------------


@pytest.mark.parametrize(
    "said",
    [
        "112-4455667-1234567.",
        "one one two four four five five six six seven one two three four five six seven",
        "No, it's 112-4455667-1234567.",
        "My order number is 112-4455667-1234567.",
    ],
)
def test_an_order_number_said_at_the_offer_is_that_order_not_a_yes(shop: Flask, client: FlaskClient, said: str) -> None:
    found = offer_answered(shop, client, said)
    assert heard(found).startswith(sentence(shop, "112-4455667-1234567"))


@pytest.mark.parametrize(
    ("said", "node", "spanish"),
    [
        ("No, I need to talk to someone.", "agent_orders", False),
        ("No, representative.", "agent_orders", False),
        ("No, I'm calling about a refund.", "return_status", False),
        ("Nope, I'm calling about my refund.", "return_status", False),
        # A return not made yet is the returns team's to start, not one to look up.
        ("Nope, I want to return something.", "agent_returns", False),
        ("No, quiero hablar con alguien.", "agent_orders", True),
        ("No, es por un reembolso.", "return_status", True),
    ],
)
def test_a_no_at_the_offer_with_what_the_caller_wants_goes_there(
    shop: Flask, client: FlaskClient, said: str, node: str, spanish: bool
) -> None:
    reply = offer_answered(shop, client, said, spanish)
    assert f"node={node}" in action_of(reply), heard(reply)
    assert not heard(reply).startswith(("Okay.", "De acuerdo.", "Sorry"))


@pytest.mark.parametrize("said", ["No.", "No thanks."])
def test_a_plain_no_at_the_offer_still_hears_the_menu(shop: Flask, client: FlaskClient, said: str) -> None:
    menu = offer_answered(shop, client, said)
    assert heard(menu).startswith("Okay. To track an order, press 1")


@pytest.mark.parametrize(
    ("said", "spanish"),
    [
        ("A different order.", False),
        ("I'm calling about a different order.", False),
        ("No, another order.", False),
        ("It's about another order", False),
        ("It's a different order", False),
        ("Otro pedido.", True),
        ("No, es otro pedido.", True),
    ],
)
def test_another_order_named_at_the_offer_asks_for_its_number_not_a_complaint(
    shop: Flask, client: FlaskClient, said: str, spanish: bool
) -> None:
    ask = offer_answered(shop, client, said, spanish)
    assert "node=track_order" in action_of(ask) and "mode=ref" in action_of(ask), heard(ask)
    assert heard(ask).startswith(("Please key in your order number", "Marque su número de pedido"))


@pytest.mark.parametrize(
    ("said", "spanish"),
    [
        ("Can you repeat that?", False),
        ("Say that again", False),
        ("What?", False),
        ("¿Cómo?", True),
        ("Repítalo", True),
    ],
)
def test_asking_to_hear_the_offer_again_repeats_it_without_counting_a_miss(
    shop: Flask, client: FlaskClient, said: str, spanish: bool
) -> None:
    again = offer_answered(shop, client, said, spanish)
    assert heard(again).startswith(("Are you calling about your order", "¿Llama por su pedido")), heard(again)
    assert "mode=offer" in action_of(again)
    assert "no_match" not in session_of(shop).get_state()


# --- words at the read-back: a number, a person, "say that again", silence ---------------------------------


@pytest.mark.parametrize("said", ["No, it's 112-4455667-1234567.", "112-4455667-1234567"])
def test_an_order_number_said_at_the_read_back_is_looked_up_instead_of_the_one_heard(
    shop: Flask, client: FlaskClient, said: str
) -> None:
    found = answer(shop, client, read_back(shop, client), SpeechResult=said, Confidence="0.9")
    assert heard(found).startswith(sentence(shop, "112-4455667-1234567"))


@pytest.mark.parametrize("fields", [{"Digits": "0"}, {"SpeechResult": "Representative", "Confidence": "0.9"}])
def test_asking_for_a_person_at_the_read_back_is_put_through(
    shop: Flask, client: FlaskClient, fields: dict[str, str]
) -> None:
    reply = answer(shop, client, read_back(shop, client), **fields)
    assert "node=agent_orders" in action_of(reply), heard(reply)


@pytest.mark.parametrize("fields", [{"SpeechResult": "Say that again", "Confidence": "0.9"}, {}])
def test_say_that_again_or_silence_at_the_read_back_asks_it_again_not_a_no(
    shop: Flask, client: FlaskClient, fields: dict[str, str]
) -> None:
    again = answer(shop, client, read_back(shop, client), **fields)
    assert heard(again).startswith("I heard 1 1 2"), heard(again)
    assert "mode=confirm" in action_of(again)
    found = answer(shop, client, again, Digits="1")
    assert heard(found).startswith(sentence(shop, "112-4455667-2345678"))


def test_silence_at_the_read_back_again_and_again_is_passed_on(shop: Flask, client: FlaskClient) -> None:
    reply = read_back(shop, client)
    for _ in range(2):
        reply = answer(shop, client, reply)
        assert heard(reply).startswith("I heard 1 1 2")
    reply = answer(shop, client, reply)
    assert "node=agent_orders" in action_of(reply), heard(reply)


# --- not knowing the number ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("said", "spanish"),
    [
        ("I don't know my order number.", False),
        ("I don't have it.", False),
        ("I can't find the number", False),
        ("No sé mi número de pedido.", True),
        ("No lo tengo.", True),
    ],
)
def test_a_caller_who_does_not_know_the_order_number_is_put_through_at_once(
    shop: Flask, client: FlaskClient, said: str, spanish: bool
) -> None:
    menu = call(shop, client)
    if spanish:
        menu = answer(shop, client, menu, Digits="9")
    ask = answer(shop, client, menu, Digits="1")
    reply = answer(shop, client, ask, SpeechResult=said, Confidence="0.9")
    assert heard(reply).startswith(
        ("That's okay. Let me get you to someone", "No se preocupe. Le comunico con alguien")
    ), heard(reply)
    assert "node=agent_orders" in action_of(reply)


# --- a yes with a problem: the order is theirs, the problem says where to go -----------------------------


def whisper_of(app: Flask) -> str:
    """What the agent is told of the call so far."""
    return session_of(app).summary()


@pytest.mark.parametrize(
    ("said", "spanish", "node"),
    [
        ("Yes, but it arrived damaged.", False, "problem_report"),
        ("Yes, it came broken.", False, "problem_report"),
        ("Yeah, it's the wrong item.", False, "problem_report"),
        ("Yes, but it never arrived.", False, "problem_report"),
        ("Yes, and the box was crushed.", False, "problem_report"),
        ("Yes, I want to return it.", False, "agent_returns"),
        ("Sí, pero llegó roto.", True, "problem_report"),
        ("Sí, pero me llegó otra cosa.", True, "problem_report"),
    ],
)
def test_a_yes_with_a_problem_at_the_offer_goes_where_the_problem_goes_with_the_order(
    shop: Flask, client: FlaskClient, said: str, spanish: bool, node: str
) -> None:
    offered = latest_order(shop, REGULAR).number
    reply = offer_answered(shop, client, said, spanish)
    assert f"node={node}" in action_of(reply), heard(reply)
    assert not heard(reply).startswith(("Your order", "Su pedido")), heard(reply)
    if node == "problem_report":
        assert whisper_of(shop).startswith("The caller reports") and offered in whisper_of(shop), whisper_of(shop)


@pytest.mark.parametrize("said", ["Yes.", "Yes, that's the one.", "Yeah, that's right.", "Yes please."])
def test_a_plain_yes_at_the_offer_still_reads_the_order(shop: Flask, client: FlaskClient, said: str) -> None:
    found = offer_answered(shop, client, said)
    assert heard(found).startswith(answers.order_sentence(latest_order(shop, REGULAR), NOW.date())), heard(found)


@pytest.mark.parametrize("said", ["Yes, but it arrived damaged.", "That's right, but it came broken."])
def test_a_yes_with_a_problem_at_the_read_back_goes_where_the_problem_goes_with_the_number(
    shop: Flask, client: FlaskClient, said: str
) -> None:
    reply = answer(shop, client, read_back(shop, client), SpeechResult=said, Confidence="0.9")
    assert "node=problem_report" in action_of(reply), heard(reply)
    assert "112-4455667-2345678" in whisper_of(shop) and "a damaged item" in whisper_of(shop), whisper_of(shop)
    assert "pending" not in session_of(shop).get_state()


# --- another topic at the number question, as at the main menu ------------------------------------------


def number_question(app: Flask, client: FlaskClient, key: str = "1", spanish: bool = False) -> Any:
    """The order (key 1) or return (key 2) number question, in English or Spanish."""
    menu = call(app, client)
    if spanish:
        menu = answer(app, client, menu, Digits="9")
    return answer(app, client, menu, Digits=key)


@pytest.mark.parametrize(
    ("key", "said", "spanish", "node"),
    [
        ("1", "Actually, I want to return something.", False, "agent_returns"),
        ("1", "I need a refund.", False, "return_status"),
        ("1", "Agent, please.", False, "agent_orders"),
        ("1", "It arrived damaged.", False, "problem_report"),
        ("1", "En realidad quiero devolver algo.", True, "agent_returns"),
        ("1", "Quiero un reembolso.", True, "return_status"),
        # "Press 2 for returns" looks a return up: one not made yet is the returns team's to start.
        ("2", "I want to start a return.", False, "agent_returns"),
        ("2", "I haven't sent it back yet.", False, "agent_returns"),
        ("2", "How do I return something?", False, "agent_returns"),
        ("2", "Where's my package?", False, "track_order"),
        ("2", "Quiero hacer una devolución.", True, "agent_returns"),
        ("2", "Todavía no lo he devuelto.", True, "agent_returns"),
    ],
)
def test_another_topic_at_the_number_question_goes_there_as_at_the_main_menu(
    shop: Flask, client: FlaskClient, key: str, said: str, spanish: bool, node: str
) -> None:
    reply = answer(shop, client, number_question(shop, client, key, spanish), SpeechResult=said, Confidence="0.9")
    assert f"node={node}" in action_of(reply), heard(reply)
    assert not heard(reply).startswith(("Sorry", "Perdone")), heard(reply)


@pytest.mark.parametrize("said", ["Two.", "It's the blue one, I think."])
def test_words_that_choose_nothing_else_at_the_number_question_still_ask_for_the_number(
    shop: Flask, client: FlaskClient, said: str
) -> None:
    reply = answer(shop, client, number_question(shop, client), SpeechResult=said, Confidence="0.9")
    assert heard(reply).startswith("Sorry, I didn't catch a number."), heard(reply)
    assert "node=track_order&mode=ref" in action_of(reply)


@pytest.mark.parametrize("spanish", [False, True])
def test_an_order_with_no_return_yet_given_for_a_return_goes_to_the_returns_team_at_once(
    shop: Flask, client: FlaskClient, spanish: bool
) -> None:
    reply = answer(shop, client, number_question(shop, client, "2", spanish), Digits=KINDLE)
    assert "node=agent_returns" in action_of(reply), heard(reply)
    assert heard(reply).startswith(
        ("I don't see a return for that order yet", "Todavía no veo ninguna devolución para ese pedido")
    ), heard(reply)
    assert "No return has been started for order 112-4455667-1234567 yet." in whisper_of(shop)


@pytest.mark.parametrize("spanish", [False, True])
def test_a_canceled_order_given_for_its_refund_says_where_the_refund_stands_not_to_start_a_return(
    shop: Flask, client: FlaskClient, spanish: bool
) -> None:
    reply = answer(shop, client, number_question(shop, client, "2", spanish), Digits="11244556676789012")
    said = heard(reply)
    assert said.startswith(("Your Kindle Paperwhite Leather Cover was canceled.", "Su Kindle Paperwhite")), said
    assert ("the refund is on its way" in said) or ("el reembolso ya está en camino" in said)
    assert "node=agent_returns" not in action_of(reply) and "start" not in said


@pytest.mark.parametrize(
    ("said", "spanish", "node"),
    [
        ("I want to return something.", False, "agent_returns"),
        ("I'd like to return these shoes.", False, "agent_returns"),
        ("Where's my refund?", False, "return_status"),
        ("I sent something back last week.", False, "return_status"),
        ("Quiero devolver algo.", True, "agent_returns"),
        ("¿Dónde está mi reembolso?", True, "return_status"),
    ],
)
def test_a_return_to_start_at_the_main_menu_goes_to_the_returns_team_one_to_check_is_looked_up(
    shop: Flask, client: FlaskClient, said: str, spanish: bool, node: str
) -> None:
    menu = call(shop, client)
    if spanish:
        menu = answer(shop, client, menu, Digits="9")
    reply = answer(shop, client, menu, SpeechResult=said, Confidence="0.9")
    assert f"node={node}" in action_of(reply), heard(reply)


# --- a whole number said at a menu: used, not asked for again ---------------------------------------------


@pytest.mark.parametrize(
    ("said", "spanish"),
    [
        ("My order number is 112-4455667-1234567.", False),
        ("112-4455667-1234567.", False),
        ("one one two four four five five six six seven one two three four five six seven", False),
        ("Mi número de pedido es 112-4455667-1234567.", True),
    ],
)
def test_a_whole_order_number_said_at_the_main_menu_is_looked_up_at_once(
    shop: Flask, client: FlaskClient, said: str, spanish: bool
) -> None:
    menu = call(shop, client)
    if spanish:
        menu = answer(shop, client, menu, Digits="9")
    found = answer(shop, client, menu, SpeechResult=said, Confidence="0.9")
    language = "es" if spanish else "en"
    kindle = answers.order_sentence(order(shop, "112-4455667-1234567"), NOW.date(), language=language)
    assert heard(found).startswith(kindle), heard(found)
    assert "node=after_order" in action_of(found)


@pytest.mark.parametrize(
    "said", ["I'm calling about order 112-4455667-1234567.", "Where is my order 112-4455667-1234567?"]
)
def test_an_order_number_amid_other_words_at_the_main_menu_is_read_back_not_asked_for(
    shop: Flask, client: FlaskClient, said: str
) -> None:
    # Words around a number make it less sure, as at the number question: read back, then looked up.
    check = answer(shop, client, call(shop, client), SpeechResult=said, Confidence="0.9")
    assert heard(check).startswith("I heard 1 1 2, 4 4 5 5 6 6 7, 1 2 3 4 5 6 7."), heard(check)
    found = answer(shop, client, check, Digits="1")
    assert heard(found).startswith(sentence(shop, "112-4455667-1234567")), heard(found)


def test_a_number_said_at_the_main_menu_that_stops_short_of_an_order_number_is_kept_and_its_rest_asked_for(
    shop: Flask, client: FlaskClient
) -> None:
    check = answer(shop, client, call(shop, client), SpeechResult="My order number is 112-4455-667.", Confidence="0.9")
    assert heard(check).startswith("I have 1 1 2, 4 4 5 5 6 6 7 so far. Please go on"), heard(check)
    assert "node=track_order&mode=ref" in action_of(check)
    assert session_of(shop).node == "track_order"


def test_a_short_number_with_words_after_it_is_read_back_as_given(shop: Flask, client: FlaskClient) -> None:
    check = answer(
        shop, client, call(shop, client), SpeechResult="My order number is 112-4455-667, I think.", Confidence="0.9"
    )
    assert heard(check).startswith("I heard 1 1 2 4 4 5 5 6 6 7."), heard(check)
    assert "node=track_order&mode=confirm" in action_of(check)


def test_a_return_number_said_at_the_main_menu_with_the_returns_choice_is_looked_up_as_a_return(
    shop: Flask, client: FlaskClient
) -> None:
    reply = answer(shop, client, call(shop, client), SpeechResult="My return number is RMA 700114.", Confidence="0.9")
    assert "node=return_status" in action_of(reply) or "node=after_return" in action_of(reply), heard(reply)
    assert not heard(reply).startswith("Please key in"), heard(reply)


def test_another_order_said_with_its_number_after_an_answer_is_looked_up_at_once(
    shop: Flask, client: FlaskClient
) -> None:
    first = answer(shop, client, number_question(shop, client), Digits=KINDLE)
    again = answer(shop, client, first, SpeechResult=f"Another order: {ECHO_SPOKEN}", Confidence="0.9")
    assert heard(again).startswith("I heard 1 1 2, 4 4 5 5 6 6 7, 2 3 4 5 6 7 8."), heard(again)
    found = answer(shop, client, again, Digits="1")
    assert heard(found).startswith(sentence(shop, "112-4455667-2345678")), heard(found)


@pytest.mark.parametrize("said", ["Español.", "En español, por favor."])
def test_spanish_asked_for_at_the_number_question_asks_it_again_in_spanish(
    shop: Flask, client: FlaskClient, said: str
) -> None:
    reply = answer(shop, client, number_question(shop, client), SpeechResult=said, Confidence="0.9")
    assert heard(reply).startswith("Marque su número de pedido"), heard(reply)
    assert "node=track_order" in action_of(reply)
    found = answer(shop, client, reply, Digits=KINDLE)
    assert heard(found).startswith("Su Kindle Paperwhite"), heard(found)
