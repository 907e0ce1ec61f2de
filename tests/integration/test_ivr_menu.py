"""The phone menu's promises and wording, in English and Spanish, through its signed webhooks."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from agents.models import Agent, Queue
from callback import twiml as callback_twiml
from callback.models import CallbackRequest
from core.clock import FixedClock
from core.db import get_db
from ivr import answers
from ivr.models import IvrSession
from orders.port import OrderInfo
from tests import factories
from tests.conftest import MONDAY_10AM_NEW_YORK as NOW
from tests.integration.test_ivr_webhooks import BASE, form, post, verbs

REGULAR = "+12015550123"  # the demo customer, with recent orders
STRANGER = "+12015550166"  # no orders on file
KINDLE = "11244556671234567"  # a shipped demo order
SPANISH_OFFER = "Para español, oprima 9 o diga español."


def says(response) -> list[ET.Element]:
    """Every <Say>, top level or inside a <Gather>, in order."""
    assert response.status_code == 200, response.data
    return list(ET.fromstring(response.data).iter("Say"))


def heard(response) -> str:
    """Everything the caller hears from one reply, as one text."""
    return " ".join((say.text or "").strip() for say in says(response))


def gather_of(response) -> ET.Element:
    found = ET.fromstring(response.data).find("Gather")
    assert found is not None, response.data
    return found


def path_of(url: str | None) -> str:
    """A URL the app gave Twilio, as the path Twilio posts to (never the fragment)."""
    return (url or "").removeprefix(BASE).split("#")[0]


def call(app: Flask, client: FlaskClient, caller: str = STRANGER):
    return post(app, client, "/voice/incoming", form(From=caller))


def answer(app: Flask, client: FlaskClient, response, caller: str = STRANGER, **fields: str):
    """Answer the <Gather> of `response` (an empty answer is silence)."""
    return post(app, client, path_of(gather_of(response).get("action")), form(From=caller, **fields))


def session_of(app: Flask) -> IvrSession:
    with get_db(app).sessions() as session:
        return session.scalars(select(IvrSession)).one()


def latest_order(app: Flask, phone: str) -> OrderInfo:
    """The order a recognised caller is asked about: their latest."""
    orders: list[OrderInfo] = app.extensions["order_lookup"].orders_for_phone(phone, NOW - timedelta(days=60))
    return orders[0]


def order(app: Flask, number: str) -> OrderInfo:
    found: OrderInfo | None = app.extensions["order_lookup"].order(number)
    assert found is not None
    return found


def staff(app: Flask, status: str, queue: str = "orders") -> None:
    with get_db(app).sessions() as session:
        factories.agent(session, NOW, queues=(queue,), status=status)


# --- an unknown number: one more chance, then a person -------------------------------------------------------


def test_an_unknown_order_number_gets_one_more_chance_then_a_person(shop: Flask, client: FlaskClient) -> None:
    menu = call(shop, client)
    ask = answer(shop, client, menu, Digits="1")
    # Keyed and ended by #: a number given whole, however short (not the start of one, cut off).
    first = answer(shop, client, ask, Digits="12345", FinishedOnKey="#")
    assert heard(first).startswith("I couldn't find an order with that number. Please check it")
    assert "mode=ref" in (gather_of(first).get("action") or "")
    second = answer(shop, client, first, Digits="99999999999999999", FinishedOnKey="#")
    said = heard(second)
    assert said.startswith("I couldn't find that one either, so let me get you to someone who can look into it.")
    assert "Nobody is on duty right now." in said and "press 1, or say call me back" in said
    for reply in (first, second):
        assert "Sorry" not in heard(reply)  # one apology at a time, and "I couldn't find" needs none
    steps = session_of(shop).get_steps()
    assert [s["result"] for s in steps if s["kind"] == "lookup"] == [None, None]


def test_a_number_found_at_the_second_try_is_read_out(shop: Flask, client: FlaskClient) -> None:
    ask = answer(shop, client, call(shop, client), Digits="1")
    first = answer(shop, client, ask, Digits="12345")
    found = answer(shop, client, first, Digits=KINDLE)
    assert answers.order_sentence(order(shop, "112-4455667-1234567"), NOW.date()) in heard(found)


# --- silence and answers we cannot use ---------------------------------------------------------------------


def test_silence_and_an_unusable_answer_are_reprompted_in_different_words_then_passed_on(
    shop: Flask, client: FlaskClient
) -> None:
    menu = call(shop, client)
    quiet = answer(shop, client, menu)
    wrong = answer(shop, client, quiet, Digits="7")
    assert heard(quiet).startswith("Are you still there? To track an order, press 1.")
    assert heard(wrong).startswith("Sorry, I didn't get that. You can say things like where's my package")
    again = answer(shop, client, answer(shop, client, wrong))
    said = heard(again)
    assert said.startswith("Let me get someone to help you.")
    # The reason replaces the transfer's own sentence: one "let me get you" is enough.
    assert "Let me get you to someone on our orders team." not in said
    assert "mode=unstaffed" in (gather_of(again).get("action") or "")  # nobody on duty: no hold offered


@pytest.mark.parametrize(("spanish", "lookup"), [(False, ""), (True, ""), (False, "1"), (True, "2")])
def test_a_silent_caller_never_hears_the_same_words_twice_in_a_row(
    shop: Flask, client: FlaskClient, spanish: bool, lookup: str
) -> None:
    reply = call(shop, client)
    if spanish:
        reply = answer(shop, client, reply, Digits="9")
    if lookup:
        reply = answer(shop, client, reply, Digits=lookup)
    heard_in_turn = [heard(reply)]
    while "Gather" in [v.tag for v in verbs(reply)] and "node=agent" not in (gather_of(reply).get("action") or ""):
        reply = answer(shop, client, reply)
        heard_in_turn.append(heard(reply))
    assert len(heard_in_turn) == 4, heard_in_turn  # the question, two more tries, then a person
    for before, after in zip(heard_in_turn, heard_in_turn[1:], strict=False):
        # Each try in other words: the silence words once ("Are you still there?"), then the question itself.
        assert after.split(". ")[0] != before.split(". ")[0], (before, after)
    assert sum(said.startswith(("Are you still there?", "¿Sigue ahí?")) for said in heard_in_turn) == 1


def test_silence_after_an_unclear_answer_to_the_answer_is_not_the_apology_again(
    shop: Flask, client: FlaskClient
) -> None:
    asked = answer(shop, client, call(shop, client), Digits="1")
    found = answer(shop, client, asked, Digits=KINDLE)
    unclear = answer(shop, client, found, SpeechResult="hmm the blue one", Confidence="0.9")
    assert heard(unclear).startswith("Sorry, I didn't catch that."), heard(unclear)
    quiet = answer(shop, client, unclear)
    assert heard(quiet).startswith("Is there anything else?"), heard(quiet)


def test_a_lookup_asks_differently_after_silence_than_after_words_it_could_not_read(
    shop: Flask, client: FlaskClient
) -> None:
    ask = answer(shop, client, call(shop, client), Digits="1")
    quiet = answer(shop, client, ask)
    unreadable = answer(shop, client, quiet, SpeechResult="It's the blue one, I think.", Confidence="0.91")
    assert heard(quiet).startswith("Are you still there? Please key in your order number")
    assert heard(unreadable).startswith("Sorry, I didn't catch a number.")


# --- a recognised caller --------------------------------------------------------------------------------------


def test_a_recognised_caller_is_asked_about_their_latest_order_in_the_greeting(
    shop: Flask, client: FlaskClient
) -> None:
    latest = latest_order(shop, REGULAR)
    today = NOW.date()
    greeting = call(shop, client, REGULAR)
    said = heard(greeting)
    assert said.startswith(
        "Thanks for calling Callme Shop. Are you calling about your order of "
        f"{answers.items_phrase(latest)}, placed {answers.when(latest.placed_at, today)}? Press 1 or say yes."
    )
    assert says(greeting)[-1].text == SPANISH_OFFER
    yes = answer(shop, client, greeting, REGULAR, SpeechResult="Yes, that's the one.")
    assert heard(yes).startswith(answers.order_sentence(latest, today))
    assert "node=after_order" in (gather_of(yes).get("action") or "")


def test_a_recognised_caller_who_says_no_hears_the_menu_and_is_not_asked_again(
    shop: Flask, client: FlaskClient
) -> None:
    no = answer(shop, client, call(shop, client, REGULAR), REGULAR, Digits="2")
    assert heard(no).startswith("Okay. To track an order, press 1")
    ask = answer(shop, client, no, REGULAR, Digits="1")
    assert heard(ask).startswith("Please key in your order number")


def test_a_recognised_caller_may_answer_the_greeting_with_a_menu_choice(shop: Flask, client: FlaskClient) -> None:
    refund = answer(shop, client, call(shop, client, REGULAR), REGULAR, SpeechResult="I'm calling about a refund.")
    assert heard(refund).startswith("Please key in the order number of the item you sent back")


def test_a_recognised_caller_who_chooses_spanish_is_asked_about_their_order_in_spanish(
    shop: Flask, client: FlaskClient
) -> None:
    latest = latest_order(shop, REGULAR)
    today = NOW.date()
    spanish = answer(shop, client, call(shop, client, REGULAR), REGULAR, Digits="9")
    assert heard(spanish).startswith(
        "Gracias por llamar a Callme Shop. ¿Llama por su pedido de "
        f"{answers.items_phrase(latest, language='es')}, hecho {answers.when(latest.placed_at, today, language='es')}?"
    )
    yes = answer(shop, client, spanish, REGULAR, SpeechResult="Sí.")
    assert heard(yes).startswith(answers.order_sentence(latest, today, language="es"))


# --- Spanish -------------------------------------------------------------------------------------------------


def test_the_menu_offers_spanish_in_spanish(shop: Flask, client: FlaskClient) -> None:
    menu = call(shop, client)
    english, spanish = says(menu)
    assert english.get("voice") == "Polly.Joanna" and english.get("language") == "en-US"
    assert spanish.text == SPANISH_OFFER
    assert spanish.get("voice") == "Polly.Lupe" and spanish.get("language") == "es-US"
    assert gather_of(menu).get("language") == "en-US"
    assert "español" in (gather_of(menu).get("hints") or "")


@pytest.mark.parametrize("choice", [{"Digits": "9"}, {"SpeechResult": "Español.", "Confidence": "0.87"}])
def test_a_caller_who_chooses_spanish_is_spoken_to_and_understood_in_spanish(
    shop: Flask, client: FlaskClient, choice: dict[str, str]
) -> None:
    menu = answer(shop, client, call(shop, client), **choice)
    assert heard(menu).startswith("Gracias por llamar a Callme Shop. Para saber dónde está su pedido, oprima 1")
    *spanish, english = says(menu)
    assert all(s.get("voice") == "Polly.Lupe" and s.get("language") == "es-US" for s in spanish)
    assert gather_of(menu).get("language") == "es-US"
    # English is offered in English; Spanish, chosen already, is not offered again.
    assert english.text == "For English, press 8, or say English." and english.get("voice") == "Polly.Joanna"
    assert SPANISH_OFFER not in heard(menu)
    assert session_of(shop).language == "es"
    ask = answer(shop, client, menu, SpeechResult="Quiero saber dónde está mi pedido.", Confidence="0.9")
    assert heard(ask).startswith("Marque su número de pedido")
    spoken = "uno uno dos, cuatro cuatro cinco cinco seis seis siete, uno dos tres cuatro cinco seis siete"
    found = answer(shop, client, ask, SpeechResult=spoken)
    kindle = order(shop, "112-4455667-1234567")
    assert heard(found).startswith(answers.order_sentence(kindle, NOW.date(), language="es"))
    assert "Para escucharlo de nuevo, oprima 1" in heard(found)
    # The agent, should the caller ask for one, is told what they heard in English.
    assert answers.order_sentence(kindle, NOW.date()) in session_of(shop).summary()


def test_a_spanish_caller_not_found_twice_is_passed_on_in_spanish(shop: Flask, client: FlaskClient) -> None:
    ask = answer(shop, client, answer(shop, client, call(shop, client), Digits="9"), Digits="1")
    first = answer(shop, client, ask, Digits="12345", FinishedOnKey="#")
    assert heard(first).startswith("No encontré ningún pedido con ese número.")
    second = answer(shop, client, first, Digits="54321", FinishedOnKey="#")
    said = heard(second)
    assert said.startswith("Tampoco encontré ese número, así que le comunico con alguien que pueda revisarlo.")
    assert "En este momento no hay nadie atendiendo." in said


def test_a_spanish_caller_sent_to_a_queue_without_spanish_is_told_so_and_so_is_the_agent(
    shop: Flask, client: FlaskClient
) -> None:
    offer = answer(shop, client, answer(shop, client, call(shop, client), Digits="9"), Digits="0")
    said = heard(offer)
    assert "Es posible que la persona que le atienda solo hable inglés." in said
    assert "Para conservar su lugar y que le llamemos" in said
    done = answer(shop, client, offer, SpeechResult="Llámenme, por favor.")
    assert heard(done).startswith("Listo. Le llamaremos a este número. Conserva su lugar en la fila")
    with get_db(shop).sessions() as session:
        req = session.scalars(select(CallbackRequest)).one()
        assert req.language == "es"  # so the call back is in Spanish
        whisper = callback_twiml.context_words(req)
    assert "The caller chose Spanish." in whisper
    assert "They were told the agent may speak only English." in whisper


def test_a_queue_with_spanish_speakers_says_nothing_about_english(shop: Flask, client: FlaskClient) -> None:
    with get_db(shop).sessions() as session:
        session.scalars(select(Queue).where(Queue.name == "orders")).one().languages = "en,es"
        session.commit()
    offer = answer(shop, client, answer(shop, client, call(shop, client), Digits="9"), Digits="0")
    assert "inglés" not in heard(offer)
    answer(shop, client, offer, Digits="1")
    with get_db(shop).sessions() as session:
        context = json.loads(session.scalars(select(CallbackRequest)).one().ivr_context or "{}")
    assert "The caller chose Spanish." in context["summary"] and "only English" not in context["summary"]


# --- problem reports and requests the menu does not offer -----------------------------------------------------


def test_a_problem_in_the_callers_words_reaches_the_orders_team_with_the_words_whispered(
    shop: Flask, client: FlaskClient
) -> None:
    staff(shop, "available")
    words = "The box came today and the screen is cracked. It arrived damaged."
    connect = answer(shop, client, call(shop, client), SpeechResult=words, Confidence="0.93")
    said = heard(connect)
    assert said.startswith("I'm sorry to hear that. Let me get you to someone on our orders team")
    number = ET.fromstring(connect.data).find("Dial/Number")
    assert number is not None
    screen = post(shop, client, path_of(number.get("url")), form("CA" + "7" * 32, AnsweredBy="human"))
    assert f"The caller reports a damaged item: “{words.rstrip('.')}”." in heard(screen)
    with get_db(shop).sessions() as session:
        req = session.scalars(select(CallbackRequest)).one()
        assert req.queue.name == "orders"


def test_a_request_the_menu_does_not_offer_goes_to_a_person(shop: Flask, client: FlaskClient) -> None:
    words = "I need to change the email address on my account."
    offer = answer(shop, client, call(shop, client), SpeechResult=words, Confidence="0.9")
    said = heard(offer)
    assert said.startswith("Let me get you to someone who can help with that. Nobody is on duty right now.")
    assert "node=agent_orders" in (gather_of(offer).get("action") or "")
    assert (
        session_of(shop).summary()
        == f"In the phone menu they asked for something it does not offer: “{words.rstrip('.')}”."
    )


def test_a_caller_who_asks_for_a_moment_is_given_it_without_a_strike(shop: Flask, client: FlaskClient) -> None:
    menu = call(shop, client)
    waited = answer(shop, client, menu, SpeechResult="Hold on, let me turn the TV down.", Confidence="0.8")
    assert heard(waited).startswith("Sure, take your time. To track an order, press 1")
    assert "Sorry" not in heard(waited)
    # Not counted as an answer we could not use: the next two are asked again before a person.
    wrong = answer(shop, client, waited, Digits="7")
    assert heard(wrong).startswith("Sorry, I didn't get that.")
    assert "node=main" in (gather_of(answer(shop, client, wrong, Digits="8")).get("action") or "")


def test_a_caller_looking_for_their_order_number_is_given_time_then_found(shop: Flask, client: FlaskClient) -> None:
    ask = answer(shop, client, call(shop, client), Digits="1")
    waited = answer(shop, client, ask, SpeechResult="Hang on, let me find the email.", Confidence="0.9")
    assert heard(waited).startswith("Sure, take your time. Please key in your order number")
    found = answer(shop, client, waited, Digits=KINDLE)
    assert heard(found).startswith("Your Kindle Paperwhite")


def test_a_recognised_caller_who_asks_for_a_moment_is_asked_about_their_order_again(
    shop: Flask, client: FlaskClient
) -> None:
    offer = call(shop, client, REGULAR)
    waited = answer(shop, client, offer, caller=REGULAR, SpeechResult="Hold on a second.", Confidence="0.9")
    said = heard(waited)
    assert said.startswith("Sure, take your time. Are you calling about your order of")
    assert "mode=offer" in (gather_of(waited).get("action") or "")
    agent = answer(shop, client, waited, caller=REGULAR, SpeechResult="Hold on, I need an agent.", Confidence="0.9")
    assert "take your time" not in heard(agent)  # a choice made while asking for a moment is a choice


def test_time_is_given_three_times_at_one_question_then_it_counts_as_no_answer(
    shop: Flask, client: FlaskClient
) -> None:
    reply = call(shop, client)
    for _ in range(3):
        reply = answer(shop, client, reply, SpeechResult="One moment.", Confidence="0.9")
        assert heard(reply).startswith("Sure, take your time.")
    reply = answer(shop, client, reply, SpeechResult="One moment.", Confidence="0.9")
    assert heard(reply).startswith("Sorry, I didn't get that.")


def test_a_spanish_caller_who_asks_for_a_moment_is_given_it_in_spanish(shop: Flask, client: FlaskClient) -> None:
    spanish = answer(shop, client, call(shop, client), Digits="9")
    waited = answer(shop, client, spanish, SpeechResult="Un momentito, por favor.", Confidence="0.8")
    assert heard(waited).startswith("Claro, tómese su tiempo.")


def test_noise_is_asked_again_not_sent_to_a_person(shop: Flask, client: FlaskClient) -> None:
    noise = answer(shop, client, call(shop, client), SpeechResult="Uh.", Confidence="0.2")
    assert heard(noise).startswith("Sorry, I didn't get that.")
    assert "node=main" in (gather_of(noise).get("action") or "")


# --- speech as Twilio sends it --------------------------------------------------------------------------------


@pytest.mark.parametrize("confidence", [None, "0", "0.0", "0.92"])
def test_a_whole_spoken_order_number_is_trusted_when_no_low_confidence_is_reported(
    shop: Flask, client: FlaskClient, confidence: str | None
) -> None:
    ask = answer(shop, client, call(shop, client), Digits="1")
    extra = {"Confidence": confidence} if confidence is not None else {}
    found = answer(shop, client, ask, SpeechResult="My order number is 112-4455667-1234567.", **extra)
    assert heard(found).startswith("Your Kindle Paperwhite")


def test_a_low_reported_confidence_reads_the_number_back(shop: Flask, client: FlaskClient) -> None:
    ask = answer(shop, client, call(shop, client), Digits="1")
    check = answer(shop, client, ask, SpeechResult="112-4455667-1234567.", Confidence="0.41")
    assert heard(check) == "I heard 1 1 2, 4 4 5 5 6 6 7, 1 2 3 4 5 6 7. Is that right? Press 1 for yes, or 2 for no."
    no = answer(shop, client, check, Digits="2")
    assert heard(no).startswith("Okay, let's try that again. Please key in the number")
    assert "Sorry" not in heard(no)
    found = answer(shop, client, no, Digits=KINDLE)
    assert heard(found).startswith("Your Kindle Paperwhite")


# --- busy, or nobody there -----------------------------------------------------------------------------------


def test_nobody_signed_in_is_not_called_busy(shop: Flask, client: FlaskClient) -> None:
    offer = answer(shop, client, call(shop, client), Digits="0")
    said = heard(offer)
    assert "Nobody is on duty right now. You're number 1 in line." in said and "busy" not in said


def test_with_nobody_signed_in_no_hold_is_offered_and_a_caller_who_asks_hears_why(
    shop: Flask, client: FlaskClient
) -> None:
    offer = answer(shop, client, call(shop, client), Digits="0")
    said = heard(offer)
    assert said.endswith("To give us a different number, press 2.") and "hold" not in said
    gather = gather_of(offer)
    assert "hold" not in (gather.get("hints") or "")
    for asks in ({"Digits": "3"}, {"SpeechResult": "I'll hold.", "Confidence": "0.9"}):
        refused = answer(shop, client, offer, **asks)
        assert heard(refused).startswith(
            "I can't put you on hold while nobody is on duty, but we can call you back. Nobody is on duty right now."
        )
    done = answer(shop, client, refused, Digits="1")
    assert heard(done).startswith("Done. We'll call you back at this number.")
    with get_db(shop).sessions() as session:
        req = session.scalars(select(CallbackRequest)).one()
        assert (req.status, req.hold_call_sid) == ("queued", None)


@pytest.mark.parametrize(
    ("status", "words", "then"),
    [("away", "Give me a minute.", "Everyone is busy right now."), (None, "Hold on a second.", "Nobody is on duty")],
)
def test_a_caller_who_asks_for_a_moment_at_the_busy_offer_is_given_it(
    shop: Flask, client: FlaskClient, status: str | None, words: str, then: str
) -> None:
    if status:
        staff(shop, status)
    offer = answer(shop, client, call(shop, client), Digits="0")
    waited = answer(shop, client, offer, SpeechResult=words, Confidence="0.9")
    assert heard(waited).startswith(f"Sure, take your time. {then}")
    assert "no_match" not in session_of(shop).get_state()
    done = answer(shop, client, waited, Digits="1")
    assert heard(done).startswith("Done. We'll call you back at this number.")


def test_agents_on_a_break_are_busy_to_a_caller_who_may_hold_for_them(shop: Flask, client: FlaskClient) -> None:
    staff(shop, "away")
    offer = answer(shop, client, call(shop, client), Digits="0")
    said = heard(offer)
    assert "Everyone is busy right now. You're number 1 in line." in said and "To hold, press 3" in said
    held = answer(shop, client, offer, Digits="3")
    assert [v.tag for v in verbs(held)] == ["Say", "Enqueue", "Hangup"]


def test_a_holder_whose_line_is_left_with_nobody_signed_in_keeps_their_place_as_a_callback(
    shop: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    staff(shop, "on_call")
    held = answer(shop, client, answer(shop, client, call(shop, client), Digits="0"), Digits="3")
    enqueue = verbs(held)[1]
    wait, done = path_of(enqueue.get("waitUrl")), path_of(enqueue.get("action"))

    def sign_out(status: str) -> None:
        with get_db(shop).sessions() as session:
            for agent in session.scalars(select(Agent)):
                agent.status = status
            session.commit()

    sign_out("offline")
    for _ in range(2):  # nobody signed in, but not for long: a moment's absence is waited out
        assert "Leave" not in [v.tag for v in verbs(hold_wait(shop, client, wait))]
        clock.advance(seconds=60)
    sign_out("available")  # back before two minutes: the count starts again next time
    assert "Leave" not in [v.tag for v in verbs(hold_wait(shop, client, wait))]
    sign_out("offline")
    assert "Leave" not in [v.tag for v in verbs(hold_wait(shop, client, wait))]
    clock.advance(seconds=119)
    assert "Leave" not in [v.tag for v in verbs(hold_wait(shop, client, wait))]
    clock.advance(seconds=1)
    assert [v.tag for v in verbs(hold_wait(shop, client, wait))] == ["Leave"]

    left = post(shop, client, done, form(QueueResult="leave", QueueTime="300"))
    assert heard(left) == (
        "Sorry, nobody is on duty to take your call right now. You keep your place in line, and we'll "
        "call you back at this number as soon as someone is free. Goodbye."
    )
    assert [v.tag for v in verbs(left)] == ["Say", "Hangup"]
    with get_db(shop).sessions() as session:
        req = session.scalars(select(CallbackRequest)).one()
        assert (req.status, req.hold_call_sid, req.phone) == ("queued", None, STRANGER)
    assert session_of(shop).outcome == "callback"


def test_everyone_on_a_call_is_busy_and_the_wait_is_said(shop: Flask, client: FlaskClient) -> None:
    staff(shop, "on_call")
    offer = answer(shop, client, call(shop, client), Digits="0")
    said = heard(offer)
    assert "Everyone is busy right now. You're number 1 in line, and the wait is about" in said
    assert "minutes." in said or "one minute." in said


def test_a_callback_confirms_the_place_in_line_in_plain_words(shop: Flask, client: FlaskClient) -> None:
    with get_db(shop).sessions() as session:
        factories.request(session, NOW, age=timedelta(minutes=5))
    offer = answer(shop, client, call(shop, client), Digits="0")
    assert "You're number 2 in line." in heard(offer)
    done = answer(shop, client, offer, Digits="1")
    assert heard(done) == (
        "Done. We'll call you back at this number. You keep your place in line, with one person ahead of you. "
        "Thanks for calling. Goodbye."
    )


# --- on hold --------------------------------------------------------------------------------------------------


def hold_wait(app: Flask, client: FlaskClient, wait_path: str):
    return post(app, client, wait_path, form(QueuePosition="1", QueueTime="30", CurrentQueueSize="1"))


def test_on_hold_the_place_is_said_only_when_it_changes_with_music_between(
    shop: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    staff(shop, "away")  # on a break: back later, so a caller may hold
    with get_db(shop).sessions() as session:
        ahead = factories.request(session, NOW, age=timedelta(minutes=5))
    offer = answer(shop, client, call(shop, client), Digits="0")
    held = answer(shop, client, offer, Digits="3")
    enqueue = verbs(held)[1]
    wait = path_of(enqueue.get("waitUrl"))

    first = hold_wait(shop, client, wait)
    assert heard(first) == "Thanks for holding. You're number 2 in line."
    play = verbs(first)[-1]
    # About 45 seconds of music (the generated loop is 13.5 s) before Twilio asks again.
    assert play.tag == "Play" and play.get("loop") == "3"

    clock.advance(seconds=45)
    quiet = hold_wait(shop, client, wait)
    assert [v.tag for v in verbs(quiet)] == ["Play"]

    with get_db(shop).sessions() as session:
        req = session.get(CallbackRequest, ahead.id)
        assert req is not None
        req.status, req.outcome = "canceled", "canceled_by_customer"
        session.commit()
    clock.advance(seconds=45)
    moved = hold_wait(shop, client, wait)
    assert heard(moved) == "You're next in line."  # thanked once, at the first announcement


def test_a_spanish_holder_hears_the_announcements_in_spanish(shop: Flask, client: FlaskClient) -> None:
    staff(shop, "away")
    offer = answer(shop, client, answer(shop, client, call(shop, client), Digits="9"), Digits="0")
    held = answer(shop, client, offer, SpeechResult="Espero.")
    assert heard(held) == "De acuerdo, espere en la línea. Le comunicaremos en cuanto alguien esté libre."
    first = hold_wait(shop, client, path_of(verbs(held)[1].get("waitUrl")))
    assert heard(first) == "Gracias por esperar. Usted es el siguiente en la fila."
    assert says(first)[0].get("language") == "es-US"


def test_a_spanish_caller_is_told_in_spanish_why_a_number_cannot_be_called(shop: Flask, client: FlaskClient) -> None:
    offer = answer(shop, client, answer(shop, client, call(shop, client), Digits="9"), Digits="0")
    ask = answer(shop, client, offer, Digits="2")
    assert heard(ask) == "Marque el número al que debemos llamarle, con el código de área, y luego la tecla numeral."
    refused = answer(shop, client, ask, Digits="12")
    said = heard(refused)
    assert said.endswith("Marque el número al que debemos llamarle y luego la tecla numeral.")
    assert "number" not in said  # the reason is in Spanish too


def test_the_agents_screen_shows_the_problem_in_the_callers_words_and_their_language(
    shop: Flask, client: FlaskClient
) -> None:
    from agents import desk

    menu = answer(shop, client, call(shop, client), Digits="9")
    words = "El paquete llegó roto."
    answer(shop, client, answer(shop, client, menu, SpeechResult=words), Digits="1")
    with shop.app_context(), get_db(shop).sessions() as session:
        req = session.scalars(select(CallbackRequest)).one()
        found = desk.menu_findings(session, req)
    assert found is not None
    assert found["path"] == ["Main menu", "To the orders team"]  # as staff read it, not the file's node names
    assert found["summary"].startswith(
        f"The caller reports a damaged item: “{words.rstrip('.')}”. The caller chose Spanish."
    )
    assert words in found["said"]


def test_a_spanish_caller_saying_their_return_number_among_words_is_understood(
    shop: Flask, client: FlaskClient
) -> None:
    spanish = answer(shop, client, call(shop, client), Digits="9")
    ask = answer(shop, client, spanish, Digits="2")
    # Spanish words around the reference must not be read as its letters ("es el" is not "S L").
    found = answer(shop, client, ask, SpeechResult="es el RMA 700114", Confidence="0.93")
    assert heard(found).startswith("Recibimos su devolución el sábado 21 de noviembre.")


@pytest.mark.parametrize(
    ("spanish", "answer_fields"),
    [
        (False, {"Digits": "0"}),
        (False, {"SpeechResult": "representative", "Confidence": "0.9"}),
        (False, {"SpeechResult": "can I just talk to a real person please", "Confidence": "0.9"}),
        (True, {"SpeechResult": "quiero hablar con una persona", "Confidence": "0.9"}),
    ],
)
def test_asking_for_a_person_at_the_order_number_question_is_put_through(
    shop: Flask, client: FlaskClient, spanish: bool, answer_fields: dict[str, str]
) -> None:
    menu = call(shop, client)
    if spanish:
        menu = answer(shop, client, menu, Digits="9")
    ask = answer(shop, client, menu, Digits="1")
    assert "node=track_order" in (gather_of(ask).get("action") or "")  # the order number question
    reply = answer(shop, client, ask, **answer_fields)
    said = heard(reply)
    # Nobody is on duty in this shop: the hand-over offers a callback, and no number was read back or sought.
    assert "mode=unstaffed" in (gather_of(reply).get("action") or ""), said
    assert "1 2 3" not in said and "Entendí" not in said and "couldn't find" not in said


# --- what the menus tell callers to say, and the keys they name ------------------------------------------


@pytest.mark.parametrize("said", ["Mi pedido.", "Mi orden", "Llamo por mi pedido", "Es sobre mi pedido."])
def test_a_spanish_caller_who_says_mi_pedido_as_the_menu_tells_them_tracks_an_order(
    shop: Flask, client: FlaskClient, said: str
) -> None:
    menu = answer(shop, client, call(shop, client), Digits="9")
    assert "diga mi pedido" in heard(menu)
    ask = answer(shop, client, menu, SpeechResult=said, Confidence="0.92")
    assert "node=track_order" in (gather_of(ask).get("action") or ""), heard(ask)


@pytest.mark.parametrize(
    ("spanish", "said", "node"),
    [
        (False, "One.", "track_order"),
        (False, "1", "track_order"),
        (False, "Press one.", "track_order"),
        (False, "Two.", "return_status"),
        (False, "option 2", "return_status"),
        (True, "Uno.", "track_order"),
        (True, "Oprima dos.", "return_status"),
        (True, "Número uno, por favor.", "track_order"),
    ],
)
def test_an_option_number_said_at_the_main_menu_chooses_that_option(
    shop: Flask, client: FlaskClient, spanish: bool, said: str, node: str
) -> None:
    menu = call(shop, client)
    if spanish:
        menu = answer(shop, client, menu, Digits="9")
    chosen = answer(shop, client, menu, SpeechResult=said, Confidence="0.93")
    assert f"node={node}" in (gather_of(chosen).get("action") or ""), heard(chosen)


@pytest.mark.parametrize("said", ["Seven.", "Press five."])
def test_an_option_number_the_menu_does_not_have_is_not_understood(shop: Flask, client: FlaskClient, said: str) -> None:
    again = answer(shop, client, call(shop, client), SpeechResult=said, Confidence="0.93")
    assert heard(again).startswith("Sorry, I didn't get that.")


def test_nine_said_after_an_answer_ends_the_call_as_pressing_it_does(shop: Flask, client: FlaskClient) -> None:
    found = answer(shop, client, answer(shop, client, call(shop, client), Digits="1"), Digits=KINDLE)
    bye = answer(shop, client, found, SpeechResult="Nine.", Confidence="0.9")
    assert [v.tag for v in verbs(bye)][-1] == "Hangup", heard(bye)


@pytest.mark.parametrize(
    ("spanish", "said"),
    [
        (False, "No."),
        (False, "Nope."),
        (False, "I'm done."),
        (False, "That's everything."),
        (False, "Nah, I'm good."),
        (False, "I'm good."),
        (True, "No."),
        (True, "Ya terminé."),
    ],
)
def test_a_no_or_im_done_after_an_answer_ends_the_call(
    shop: Flask, client: FlaskClient, spanish: bool, said: str
) -> None:
    menu = call(shop, client)
    if spanish:
        menu = answer(shop, client, menu, Digits="9")
    found = answer(shop, client, answer(shop, client, menu, Digits="1"), Digits=KINDLE)
    bye = answer(shop, client, found, SpeechResult=said, Confidence="0.9")
    assert [v.tag for v in verbs(bye)][-1] == "Hangup", heard(bye)
    assert heard(bye).endswith(("Goodbye.", "Adiós."))


@pytest.mark.parametrize("said", ["Repítalo.", "Repítalo, por favor."])
def test_repitalo_after_an_answer_reads_it_again(shop: Flask, client: FlaskClient, said: str) -> None:
    menu = answer(shop, client, call(shop, client), Digits="9")
    found = answer(shop, client, answer(shop, client, menu, Digits="1"), Digits=KINDLE)
    again = answer(shop, client, found, SpeechResult=said, Confidence="0.9")
    spanish = answers.order_sentence(order(shop, "112-4455667-1234567"), NOW.date(), language="es")
    assert heard(again).startswith(spanish), heard(again)


def test_an_order_number_with_letters_said_aloud_is_read_back_then_found(app: Flask, client: FlaskClient) -> None:
    from orders.port import ItemInfo
    from orders.store import save

    with get_db(app).sessions() as session:
        placed = NOW - timedelta(days=2)
        save(
            session,
            [OrderInfo(number="W-10045", status="processing", placed_at=placed, items=(ItemInfo("Yoga Mat"),))],
            NOW,
        )
        session.commit()
    asked = answer(app, client, call(app, client), Digits="1")
    read_back = answer(app, client, asked, SpeechResult="W 1 0 0 4 5", Confidence="0.9")
    assert heard(read_back).startswith("I heard W 1 0 0 4 5")
    found = answer(app, client, read_back, SpeechResult="Yes.")
    assert "Yoga Mat" in heard(found)


# -- a second review of callers' phrasings ----------------------------------------------------------


def _after_order(app: Flask, client: FlaskClient):
    return answer(app, client, answer(app, client, call(app, client), Digits="1"), Digits=KINDLE)


@pytest.mark.parametrize("said", ["No, one more thing.", "No, I'm not done.", "That's not right.", "No, wait."])
def test_after_an_answer_a_no_with_more_to_say_is_never_hung_up_on(shop: Flask, client: FlaskClient, said: str) -> None:
    reply = answer(shop, client, _after_order(shop, client), SpeechResult=said, Confidence="0.9")
    assert "Goodbye" not in heard(reply) and "Hangup" not in [v.tag for v in verbs(reply)]


@pytest.mark.parametrize("said", ["Nope.", "No thanks.", "No, that's all."])
def test_after_an_answer_a_plain_no_ends_the_call(shop: Flask, client: FlaskClient, said: str) -> None:
    reply = answer(shop, client, _after_order(shop, client), SpeechResult=said, Confidence="0.9")
    assert heard(reply) == "Thanks for calling Callme Shop. Goodbye."


def _after_answer(app: Flask, client: FlaskClient, lookup: str, spanish: bool):
    """The menu after an order's (lookup "1") or a return's ("2") answer, in English or Spanish."""
    menu = call(app, client)
    if spanish:
        menu = answer(app, client, menu, Digits="9")
    ask = answer(app, client, menu, Digits=lookup)
    if lookup == "1":
        return answer(app, client, ask, Digits=KINDLE)
    return answer(app, client, ask, SpeechResult="RMA 700114", Confidence="0.93")


@pytest.mark.parametrize("lookup", ["1", "2"])
@pytest.mark.parametrize(
    ("said", "spanish"),
    [
        ("Great, thanks.", False),
        ("Perfect, thank you.", False),
        ("That's all.", False),
        ("Okay, thank you so much. Bye.", False),
        ("That's all I needed, thanks.", False),
        ("Awesome, have a good day.", False),
        ("Hasta luego.", True),
        ("Gracias, eso es todo.", True),
        ("Perfecto, gracias.", True),
        ("Muchas gracias, muy amable.", True),
        ("Ok, gracias, que tenga buen día.", True),
    ],
)
def test_an_everyday_closing_after_an_answer_ends_the_call_politely_at_once(
    shop: Flask, client: FlaskClient, lookup: str, said: str, spanish: bool
) -> None:
    after = _after_answer(shop, client, lookup, spanish)
    assert "To hear that again, press 1." in heard(after) or "Para escucharlo de nuevo, oprima 1." in heard(after)
    bye = answer(shop, client, after, SpeechResult=said, Confidence="0.9")
    assert heard(bye) in ("Thanks for calling Callme Shop. Goodbye.", "Gracias por llamar a Callme Shop. Adiós.")
    assert [v.tag for v in verbs(bye)] == ["Say", "Hangup"]
    assert session_of(shop).outcome == "contained"


@pytest.mark.parametrize(
    "said", ["Thanks, but I have another question.", "Thank you, can I talk to someone?", "Thanks, what was that?"]
)
def test_thanks_with_more_to_say_after_an_answer_is_not_a_goodbye(shop: Flask, client: FlaskClient, said: str) -> None:
    reply = answer(shop, client, _after_order(shop, client), SpeechResult=said, Confidence="0.9")
    assert "Hangup" not in [v.tag for v in verbs(reply)], heard(reply)


def test_after_an_order_a_return_or_a_problem_goes_where_it_would_from_the_menu(
    shop: Flask, client: FlaskClient
) -> None:
    refund = answer(shop, client, _after_order(shop, client), SpeechResult="And where's my refund?")
    assert "order number of the item you sent back" in heard(refund)
    # A return not made yet is the returns team's to start.
    returns = answer(shop, client, _after_order(shop, client), SpeechResult="I also want to return something.")
    assert heard(returns).startswith("Let me get you to someone on our returns team."), heard(returns)
    missing = answer(shop, client, _after_order(shop, client), SpeechResult="It hasn't arrived.")
    assert heard(missing).startswith("I'm sorry to hear that.")


def test_at_the_read_back_uh_huh_is_yes_and_a_key_pressed_twice_is_that_key(shop: Flask, client: FlaskClient) -> None:
    spoken = {"SpeechResult": "1 1 2 4 4 5 5 6 6 7 1 2 3 4 5 6 7", "Confidence": "0.4"}
    for reply_fields in ({"SpeechResult": "Uh-huh."}, {"Digits": "11"}):
        ask = answer(shop, client, answer(shop, client, call(shop, client), Digits="1"), **spoken)
        assert heard(ask).startswith("I heard")
        assert "Kindle" in heard(answer(shop, client, ask, **reply_fields))


def test_at_the_offer_a_yes_with_a_date_is_a_yes(shop: Flask, client: FlaskClient) -> None:
    yes = answer(shop, client, call(shop, client, REGULAR), caller=REGULAR, SpeechResult="Yes, the one from 2026.")
    assert not heard(yes).startswith("I heard") and "Your" in heard(yes)


def test_at_the_offer_a_different_one_asks_for_its_number(shop: Flask, client: FlaskClient) -> None:
    other = answer(
        shop, client, call(shop, client, REGULAR), caller=REGULAR, SpeechResult="No, a different one.", Confidence="0.9"
    )
    assert heard(other).startswith("Please key in your order number")


def test_words_after_a_spoken_number_are_not_letters_of_it(shop: Flask, client: FlaskClient) -> None:
    asked = answer(shop, client, call(shop, client), Digits="1")
    reply = answer(shop, client, asked, SpeechResult="1 2 3 4 5, I think.", Confidence="0.9")
    assert heard(reply).startswith("I heard 1 2 3 4 5.")


def test_a_refund_asked_right_after_hearing_an_order_is_that_orders_return_when_it_has_one(
    shop: Flask, client: FlaskClient
) -> None:
    asked = answer(shop, client, call(shop, client), Digits="1")
    found = answer(shop, client, asked, Digits="11244556674567890")  # delivered, and returned for a refund
    refund = answer(shop, client, found, SpeechResult="and what about my refund?", Confidence="0.9")
    said = heard(refund)
    assert "refund" in said.lower() and "key in" not in said.lower(), said  # no number asked again
    assert "node=after_return" in (gather_of(refund).get("action") or ""), said
    # An order with no return: the number is asked for, as it may be another order's return they mean.
    found = answer(shop, client, answer(shop, client, call(shop, client), Digits="1"), Digits=KINDLE)
    asked_again = answer(shop, client, found, SpeechResult="and what about my refund?", Confidence="0.9")
    assert "node=return_status" in (gather_of(asked_again).get("action") or ""), heard(asked_again)


@pytest.mark.parametrize(
    ("said", "node"),
    [
        ("Where's my order, and I want a refund.", "track_order"),
        ("Where's my refund and where's my other order?", "return_status"),
    ],
)
def test_two_requests_in_one_breath_serve_the_first_not_sorry(
    shop: Flask, client: FlaskClient, said: str, node: str
) -> None:
    reply = answer(shop, client, call(shop, client), SpeechResult=said, Confidence="0.9")
    assert f"node={node}" in (gather_of(reply).get("action") or ""), heard(reply)
    assert not heard(reply).startswith("Sorry"), heard(reply)


def test_the_second_of_two_requests_is_served_after_the_first_has_its_answer(shop: Flask, client: FlaskClient) -> None:
    asked = answer(
        shop, client, call(shop, client), SpeechResult="Where's my order, and I want a refund.", Confidence="0.9"
    )
    found = answer(shop, client, asked, Digits="11244556674567890")  # delivered, and returned for a refund
    said = heard(found)
    # The order, then straight on to the refund they also asked about: that order's return.
    assert "Now, the other thing you asked about." in said, said
    assert said.index("Now, the other thing") > said.lower().index("delivered"), said
    assert "node=after_return" in (gather_of(found).get("action") or ""), said
    # Once served, never again: after the refund comes the usual "anything else?".
    again = answer(shop, client, found, Digits="1")
    assert "other thing" not in heard(again)


@pytest.mark.parametrize(
    "said",
    [
        "I want my refund and where's my package?",
        "¿Dónde está mi reembolso y también dónde está mi pedido?",
        "where's my order and also my refund",
        "track my order plus I need a refund",
    ],
)
def test_the_second_request_follows_the_first_whichever_is_served_first(
    shop: Flask, client: FlaskClient, said: str
) -> None:
    spanish = said.startswith("¿")
    start = answer(shop, client, call(shop, client), Digits="9") if spanish else call(shop, client)
    asked = answer(shop, client, start, SpeechResult=said, Confidence="0.9")
    first = (gather_of(asked).get("action") or "").split("node=")[1].split("&")[0]
    assert first in ("track_order", "return_status"), heard(asked)
    found = answer(shop, client, asked, Digits="11244556674567890")  # delivered, and returned for a refund
    # The other request next: the order's number asked for after the refund; after the order, its refund.
    then = "node=track_order" if first == "return_status" else "node=after_return"
    assert then in (gather_of(found).get("action") or ""), heard(found)
    other = "Ahora, lo otro que nos preguntó." if spanish else "Now, the other thing you asked about."
    assert other in heard(found), heard(found)


def test_one_request_alone_goes_on_to_anything_else(shop: Flask, client: FlaskClient) -> None:
    asked = answer(shop, client, call(shop, client), SpeechResult="where's my order", Confidence="0.9")
    found = answer(shop, client, asked, Digits=KINDLE)
    assert "node=after_order" in (gather_of(found).get("action") or "") and "other thing" not in heard(found)
