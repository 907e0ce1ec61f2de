"""Handing a phone-menu caller to a person when nobody can take the call now, through the signed
webhooks: callers whose number we cannot dial, callers who already had a request, retried transfers,
and the answers to the offers."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from agents.models import Agent
from callback.models import AgentLeg, CallbackRequest
from callback.views import status_words
from core.clock import FixedClock
from core.db import get_db
from tests import factories
from tests.conftest import MONDAY_10AM_NEW_YORK as NOW
from tests.integration.test_ivr_menu import (
    STRANGER,
    answer,
    call,
    gather_of,
    heard,
    path_of,
    staff,
)
from tests.integration.test_ivr_webhooks import form, post, verbs

# Numbers we cannot dial back: withheld (as Twilio and carriers spell it), too short, abroad.
UNCALLABLE = ["anonymous", "Restricted", "+266696687", "+442071838750"]
WITHHELD_SID = "CA" + "7" * 32


def closed(clock: FixedClock) -> None:
    clock.advance(hours=12)  # 10 PM in New York: the orders line is closed


def dial_in(app: Flask, client: FlaskClient, who: str, *keys: str):
    """A call from `who` that presses each of `keys` in turn at the prompt it hears."""
    reply = post(app, client, "/voice/incoming", form(WITHHELD_SID, From=who))
    for key in keys:
        fields = {"Digits": key} if key else {}
        reply = post(app, client, path_of(gather_of(reply).get("action")), form(WITHHELD_SID, From=who, **fields))
    return reply


def requests(app: Flask) -> list[CallbackRequest]:
    with get_db(app).sessions() as session:
        return list(session.scalars(select(CallbackRequest).order_by(CallbackRequest.id)))


# --- a number we cannot call back -------------------------------------------------------------------------


@pytest.mark.parametrize("who", UNCALLABLE)
@pytest.mark.parametrize("line", ["unstaffed", "closed"])
def test_a_caller_we_cannot_call_back_is_asked_for_a_number_and_never_held_on_a_line_nobody_answers(
    shop: Flask, client: FlaskClient, clock: FixedClock, who: str, line: str
) -> None:
    if line == "closed":
        closed(clock)
    offer = dial_in(shop, client, who, "0")
    said = heard(offer)
    assert "the number you're calling from, press 1" not in said
    assert "We can't call back the number you're calling from." in said and "key in the number to call" in said
    ask = dial_in(shop, client, who, "0", "1")
    # Pressing 1 asks for a number; nothing was keyed, so nothing is refused.
    assert heard(ask) == "Please key in the number we should call, including the area code, then press hash."
    reply = ask
    for _ in range(3):  # silence at the number, each time
        reply = post(shop, client, path_of(gather_of(reply).get("action")), form(WITHHELD_SID, From=who))
    tags = [v.tag for v in verbs(reply)]
    assert "Enqueue" not in tags and "Record" in tags
    assert heard(reply).startswith("Sorry, I still don't have a number we can call. After the tone, please tell us")
    assert "please say a number we can call" in heard(reply)
    assert all(r.hold_call_sid is None for r in requests(shop))


@pytest.mark.parametrize("who", ["anonymous", "+442071838750"])
def test_a_caller_we_cannot_call_back_who_keys_a_number_is_called_back_there(
    shop: Flask, client: FlaskClient, who: str
) -> None:
    done = dial_in(shop, client, who, "0", "1", "2015550177")
    assert heard(done).startswith("Done. We'll call you back at 2 0 1 5 5 5 0 1 7 7.")
    assert [(r.phone, r.status) for r in requests(shop)] == [("+12015550177", "queued")]


def test_a_spanish_caller_we_cannot_call_back_is_asked_for_a_number_in_spanish(
    shop: Flask, client: FlaskClient
) -> None:
    offer = dial_in(shop, client, "anonymous", "9", "0")
    said = heard(offer)
    assert "No podemos llamar al número desde el que llama." in said and "desde el que llama, oprima" not in said
    ask = dial_in(shop, client, "anonymous", "9", "0", "1")
    assert heard(ask).startswith("Marque el número al que debemos llamarle")


@pytest.mark.parametrize(
    ("keyed", "spanish"),
    [
        ("7875550123", "Ese número es de Puerto Rico. Solo podemos llamar a números de Estados Unidos y Canadá."),
        ("2015550", "Ese número es demasiado corto. Marque su número entero, con el código de área."),
    ],
)
def test_a_spanish_caller_hears_why_a_keyed_number_cannot_be_called_in_spanish_for_a_keypad(
    shop: Flask, client: FlaskClient, keyed: str, spanish: str
) -> None:
    refused = heard(dial_in(shop, client, "anonymous", "9", "0", "1", keyed))
    assert refused.startswith(spanish)
    assert "That number" not in refused and "Escriba" not in refused


def test_a_caller_we_cannot_call_back_may_still_hold_when_someone_is_on_duty(shop: Flask, client: FlaskClient) -> None:
    staff(shop, "on_call")
    offer = dial_in(shop, client, "anonymous", "0")
    assert "To hold, press 3" in heard(offer)
    reply = dial_in(shop, client, "anonymous", "0", "1", "", "", "")
    assert [v.tag for v in verbs(reply)] == ["Say", "Enqueue", "Hangup"]


def test_a_withheld_holder_whose_line_is_left_with_nobody_signed_in_leaves_it_for_a_message(
    shop: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    staff(shop, "on_call")
    held = dial_in(shop, client, "anonymous", "0", "3")
    enqueue = verbs(held)[1]
    wait, done = path_of(enqueue.get("waitUrl")), path_of(enqueue.get("action"))
    with get_db(shop).sessions() as session:
        for agent in session.scalars(select(Agent)):
            agent.status = "offline"
        session.commit()
    waiting = form(WITHHELD_SID, From="anonymous", QueuePosition="1", QueueTime="30")
    assert "Leave" not in [v.tag for v in verbs(post(shop, client, wait, waiting))]
    clock.advance(seconds=120)
    assert [v.tag for v in verbs(post(shop, client, wait, waiting))] == ["Leave"]
    left = post(shop, client, done, form(WITHHELD_SID, From="anonymous", QueueResult="leave", QueueTime="150"))
    assert heard(left).startswith("Nobody is on duty right now. After the tone, please tell us your name")
    assert "Record" in [v.tag for v in verbs(left)]
    assert [(r.status, r.outcome) for r in requests(shop)] == [("canceled", "left_unstaffed")]
    with shop.test_request_context():
        assert status_words(requests(shop)[0]).startswith("Nobody was on duty to take your call")


@pytest.mark.parametrize(
    ("reason", "left"),
    [
        ("missed a call from the orders line (did not answer)", True),
        ("their phone number was refused by the phone service (21215)", True),
        ("set by Sam Park (supervisor)", False),
        (None, False),
    ],
)
def test_a_holder_is_not_kept_for_an_agent_the_line_set_away_but_waits_out_a_break(
    shop: Flask, client: FlaskClient, clock: FixedClock, reason: str | None, left: bool
) -> None:
    """An away the line set (a missed call) lasts until someone makes the agent available, which may be
    never: a holder for such a line leaves it after the unstaffed wait, keeping their place as a callback.
    A break someone chose ends before long: the holder waits for it."""
    caller = "+12015550166"
    staff(shop, "on_call")
    held = dial_in(shop, client, caller, "0", "3")
    enqueue = verbs(held)[1]
    assert enqueue.tag == "Enqueue"
    wait = path_of(enqueue.get("waitUrl"))
    with get_db(shop).sessions() as session:
        for agent in session.scalars(select(Agent)):
            agent.status, agent.status_reason = "away", reason
        session.commit()
    waiting = form(WITHHELD_SID, From=caller, QueuePosition="1", QueueTime="30")
    assert "Leave" not in [v.tag for v in verbs(post(shop, client, wait, waiting))]
    clock.advance(seconds=121)
    assert ("Leave" in [v.tag for v in verbs(post(shop, client, wait, waiting))]) is left


@pytest.mark.parametrize("result", ["queue-full", "error"])
def test_a_withheld_holder_whose_hold_fails_is_asked_for_a_message_not_promised_a_callback(
    shop: Flask, client: FlaskClient, result: str
) -> None:
    staff(shop, "on_call")
    held = dial_in(shop, client, "anonymous", "0", "3")
    done = path_of(verbs(held)[1].get("action"))
    failed = post(shop, client, done, form(WITHHELD_SID, From="anonymous", QueueResult=result, QueueTime="20"))
    said = heard(failed)
    assert said.startswith("Sorry, we couldn't keep you on hold. After the tone, please tell us your name"), said
    assert "call you back" not in said
    assert "Record" in [v.tag for v in verbs(failed)]
    # Their place is over (there is no number to call), and not because they hung up.
    assert [(r.status, r.outcome) for r in requests(shop)] == [("canceled", "hold_failed")]
    with shop.test_request_context():
        assert status_words(requests(shop)[0]).startswith("Our line couldn't keep you on hold")


def test_a_holder_we_can_call_back_whose_hold_fails_keeps_the_place_as_a_callback(
    shop: Flask, client: FlaskClient
) -> None:
    staff(shop, "on_call")
    held = answer(shop, client, answer(shop, client, call(shop, client), Digits="0"), Digits="3")
    done = path_of(verbs(held)[1].get("action"))
    failed = post(shop, client, done, form(From=STRANGER, QueueResult="queue-full", QueueTime="20"))
    assert heard(failed).startswith("Sorry, we couldn't keep you on hold. We'll call you back")
    assert [r.status for r in requests(shop)] == ["queued"]


def test_past_the_callback_limit_on_a_line_nobody_answers_a_message_is_taken_not_a_hold(
    shop: Flask, client: FlaskClient
) -> None:
    for n in range(11):
        sid = f"CA{n:032d}"
        post(shop, client, "/voice/incoming", form(sid))
        post(shop, client, "/voice/ivr/input?node=main", form(sid, Digits="0"))
        post(shop, client, "/voice/ivr/input?node=agent_orders&mode=unstaffed", form(sid, Digits="2"))
        reply = post(
            shop, client, "/voice/ivr/input?node=agent_orders&mode=number", form(sid, Digits=f"20155502{n:02d}")
        )
    assert heard(reply).startswith("Sorry, we can't take another callback for that number just now. After the tone")
    assert "Enqueue" not in [v.tag for v in verbs(reply)]


# --- a caller whose number already had a callback request (test_ivr_caller_identity.py has more) ----------------


def web_request(app: Flask, phone: str = STRANGER, age: timedelta = timedelta(hours=1)) -> int:
    with get_db(app).sessions() as session:
        return factories.request(session, NOW, topic="orders", phone=phone, age=age, source="web").id


def test_a_caller_whose_number_has_a_web_request_hears_their_own_place_behind_it(
    shop: Flask, client: FlaskClient
) -> None:
    with get_db(shop).sessions() as session:
        factories.request(session, NOW, topic="orders", age=timedelta(hours=2))  # someone else, earlier
    web_request(shop)
    staff(shop, "on_call")
    offer = answer(shop, client, call(shop, client), Digits="0")
    # A caller ID proves nothing: the request of that number is not the caller's place to be told.
    assert "You're number 3 in line" in heard(offer)


def test_a_caller_whose_number_has_a_web_request_who_holds_then_hangs_up_leaves_the_web_request_as_it_was(
    shop: Flask, client: FlaskClient
) -> None:
    mine = web_request(shop)
    staff(shop, "on_call")
    held = answer(shop, client, answer(shop, client, call(shop, client), Digits="0"), Digits="3")
    assert [v.tag for v in verbs(held)] == ["Say", "Enqueue", "Hangup"]
    post(shop, client, "/voice/status", form(CallStatus="completed", SequenceNumber="2", CallDuration="60"))
    web, holder = requests(shop)
    assert (web.id, web.status, web.hold_call_sid, web.outcome) == (mine, "queued", None, None)
    assert (holder.status, holder.outcome, holder.dialable) == ("canceled", "hung_up_on_hold", False)


def test_a_caller_whose_number_has_a_web_request_who_hangs_up_while_an_agent_rings_leaves_it_as_it_was(
    shop: Flask, client: FlaskClient
) -> None:
    mine = web_request(shop)
    staff(shop, "available")
    put_through = answer(shop, client, call(shop, client), Digits="0")
    assert "Dial" in [v.tag for v in verbs(put_through)]
    post(shop, client, "/voice/status", form(CallStatus="completed", SequenceNumber="3", CallDuration="20"))
    web, caller = requests(shop)
    assert (web.id, web.status, web.agent_id, web.attempts) == (mine, "queued", None, 0)
    assert (caller.status, caller.dialable) == ("canceled", False)
    with get_db(shop).sessions() as session:
        assert [a.status for a in session.scalars(select(Agent))] == ["available"]


def test_a_caller_who_holds_without_a_request_before_gives_up_the_place_on_hanging_up(
    shop: Flask, client: FlaskClient
) -> None:
    staff(shop, "on_call")
    answer(shop, client, answer(shop, client, call(shop, client), Digits="0"), Digits="3")
    post(shop, client, "/voice/status", form(CallStatus="completed", SequenceNumber="2", CallDuration="60"))
    [req] = requests(shop)
    assert (req.status, req.outcome) == ("canceled", "hung_up_on_hold")


# --- a retried transfer -------------------------------------------------------------------------------------


def test_a_retried_transfer_answers_with_the_same_dial_and_rings_no_second_agent(
    shop: Flask, client: FlaskClient
) -> None:
    staff(shop, "available")
    staff(shop, "available")
    menu = call(shop, client)
    first = answer(shop, client, menu, Digits="0")
    retry = answer(shop, client, menu, Digits="0")  # Twilio's retry after a read timeout: the same POST
    assert ET.tostring(verbs(retry)[-1]) == ET.tostring(verbs(first)[-1])
    assert [v.tag for v in verbs(retry)] == ["Say", "Dial"] and heard(retry) == heard(first)
    with get_db(shop).sessions() as session:
        assert sorted(a.status for a in session.scalars(select(Agent))) == ["available", "reserved"]
        assert session.scalar(select(func.count()).select_from(AgentLeg)) == 1
    [req] = requests(shop)
    assert req.status == "connecting"


# --- after the answer: stuck callers reach a person, silent ones are let go -------------------------------


KINDLE = "11244556671234567"


@pytest.mark.parametrize(("lookup", "number"), [("1", KINDLE), ("2", "RMA 700114")])
def test_a_caller_who_keeps_answering_unclearly_after_their_answer_is_passed_to_a_person(
    shop: Flask, client: FlaskClient, lookup: str, number: str
) -> None:
    ask = answer(shop, client, call(shop, client), Digits=lookup)
    reply = answer(shop, client, ask, SpeechResult=number, Confidence="0.93")
    assert "To hear that again, press 1." in heard(reply)
    for said in ("huh", "hmm", "I'm confused"):
        reply = answer(shop, client, reply, SpeechResult=said, Confidence="0.9")
    assert heard(reply).startswith("Let me get someone to help you. Nobody is on duty right now.")
    assert "Hangup" not in [v.tag for v in verbs(reply)]


def test_a_caller_silent_after_their_answer_is_let_go_without_a_promise_of_a_person(
    shop: Flask, client: FlaskClient
) -> None:
    reply = answer(shop, client, answer(shop, client, call(shop, client), Digits="1"), Digits=KINDLE)
    for _ in range(3):
        reply = answer(shop, client, reply)
    assert heard(reply) == "Thanks for calling Callme Shop. Goodbye."
    assert [v.tag for v in verbs(reply)] == ["Say", "Hangup"]


def test_a_spanish_caller_who_keeps_answering_unclearly_after_their_answer_is_passed_to_a_person(
    shop: Flask, client: FlaskClient
) -> None:
    spanish = answer(shop, client, call(shop, client), Digits="9")
    reply = answer(shop, client, answer(shop, client, spanish, Digits="1"), Digits=KINDLE)
    assert "Para escucharlo de nuevo, oprima 1." in heard(reply)
    for said in ("eh", "mmm", "pues"):
        reply = answer(shop, client, reply, SpeechResult=said, Confidence="0.9")
    assert heard(reply).startswith("Le comunico con alguien que pueda ayudarle.")


# --- declining the offer ----------------------------------------------------------------------------------


@pytest.mark.parametrize("said", ["No.", "No thank you.", "Goodbye."])
@pytest.mark.parametrize("line", ["busy", "closed"])
def test_no_or_goodbye_at_the_offer_ends_the_call_without_a_callback(
    shop: Flask, client: FlaskClient, clock: FixedClock, said: str, line: str
) -> None:
    if line == "closed":
        closed(clock)
    else:
        staff(shop, "on_call")
    offer = answer(shop, client, call(shop, client), Digits="0")
    bye = answer(shop, client, offer, SpeechResult=said, Confidence="0.95")
    assert heard(bye) == "Okay. Thanks for calling. Goodbye."
    assert [v.tag for v in verbs(bye)] == ["Say", "Hangup"]
    assert requests(shop) == []


def test_a_spanish_caller_who_says_no_at_the_offer_hears_goodbye_in_spanish(shop: Flask, client: FlaskClient) -> None:
    staff(shop, "on_call")
    offer = answer(shop, client, answer(shop, client, call(shop, client), Digits="9"), Digits="0")
    bye = answer(shop, client, offer, SpeechResult="No, gracias.", Confidence="0.95")
    assert heard(bye) == "De acuerdo. Gracias por llamar. Adiós."
    assert requests(shop) == []


def test_repeat_at_the_offer_says_it_again_and_silence_keeps_the_place_in_words(
    shop: Flask, client: FlaskClient
) -> None:
    staff(shop, "on_call")
    offer = answer(shop, client, call(shop, client), Digits="0")
    again = answer(shop, client, offer, SpeechResult="Repeat that.", Confidence="0.9")
    assert heard(again).startswith("Everyone is busy right now.") and "Sorry" not in heard(again)
    quiet = again
    for turn in range(3):
        quiet = answer(shop, client, quiet)
        # Silence is nothing we failed to get: the offer again, never "Sorry, I didn't get that".
        assert "Sorry" not in heard(quiet), (turn, heard(quiet))
    assert heard(quiet).startswith(
        "I didn't get an answer, so I've kept your place and we'll call you back at this number."
    )
    assert [r.status for r in requests(shop)] == ["queued"]


@pytest.mark.parametrize(
    ("spanish", "words"),
    [(False, "I just want to talk to a representative"), (True, "quiero hablar con una persona")],
)
def test_asking_for_a_person_at_the_busy_offer_is_taken_as_holding_for_one(
    shop: Flask, client: FlaskClient, spanish: bool, words: str
) -> None:
    staff(shop, "on_call")  # everyone is busy: the offer is a callback or holding
    menu = call(shop, client)
    if spanish:
        menu = answer(shop, client, menu, Digits="9")
    offer = answer(shop, client, menu, Digits="0")
    assert "mode=callback" in (gather_of(offer).get("action") or "")
    held = answer(shop, client, offer, SpeechResult=words, Confidence="0.9")
    assert "<Enqueue" in held.get_data(as_text=True), heard(held)


def test_zero_at_the_busy_offer_holds_for_a_person(shop: Flask, client: FlaskClient) -> None:
    staff(shop, "on_call")
    offer = answer(shop, client, call(shop, client), Digits="0")
    held = answer(shop, client, offer, Digits="0")  # the key for a person everywhere else in the menu
    assert "<Enqueue" in held.get_data(as_text=True), heard(held)


@pytest.mark.parametrize(
    ("spanish", "said", "outcome"),
    [(False, "One.", "callback"), (False, "Press three.", "hold"), (True, "Uno.", "callback"), (True, "Tres.", "hold")],
)
def test_an_option_number_said_at_the_busy_offer_chooses_that_option(
    shop: Flask, client: FlaskClient, spanish: bool, said: str, outcome: str
) -> None:
    staff(shop, "on_call")
    menu = call(shop, client)
    if spanish:
        menu = answer(shop, client, menu, Digits="9")
    offer = answer(shop, client, menu, Digits="0")
    chosen = answer(shop, client, offer, SpeechResult=said, Confidence="0.93")
    tags = [v.tag for v in verbs(chosen)]
    assert ("Enqueue" in tags) == (outcome == "hold"), heard(chosen)
    assert [r.status for r in requests(shop)] == ["queued"]


@pytest.mark.parametrize(
    ("spanish", "said", "outcome"),
    [
        (False, "Call me back when someone's free.", "callback"),
        (False, "Keep my place.", "callback"),
        (False, "I'd rather you call me.", "callback"),
        (False, "Just keep my place in line please", "callback"),
        (True, "Llámeme.", "callback"),
        (True, "Guárdeme mi lugar.", "callback"),
        # "Llamo por mi pedido" (why one calls) is dropped as words; "llamen por favor" is not that.
        (True, "Que me llamen, por favor.", "callback"),
        (True, "¿Me pueden llamar, por favor?", "callback"),
        (True, "Que me devuelvan la llamada, por favor.", "callback"),
        (True, "Márquenme más tarde.", "callback"),
        (False, "Can someone call me back?", "callback"),
    ],
)
def test_asking_to_be_called_back_in_other_words_at_the_busy_offer_is_a_callback(
    shop: Flask, client: FlaskClient, spanish: bool, said: str, outcome: str
) -> None:
    staff(shop, "on_call")
    menu = call(shop, client)
    if spanish:
        menu = answer(shop, client, menu, Digits="9")
    offer = answer(shop, client, menu, Digits="0")
    done = answer(shop, client, offer, SpeechResult=said, Confidence="0.9")
    assert "Enqueue" not in [v.tag for v in verbs(done)], heard(done)
    assert heard(done).startswith(("Done. We'll call you back", "Listo. Le llamaremos")), heard(done)
    assert [r.status for r in requests(shop)] == ["queued"]


@pytest.mark.parametrize(
    ("spanish", "said"), [(False, "What?"), (False, "Sorry, say that again?"), (True, "Repítalo.")]
)
def test_asking_to_hear_the_busy_offer_again_repeats_it_without_an_apology(
    shop: Flask, client: FlaskClient, spanish: bool, said: str
) -> None:
    staff(shop, "on_call")
    menu = call(shop, client)
    if spanish:
        menu = answer(shop, client, menu, Digits="9")
    offer = answer(shop, client, menu, Digits="0")
    again = answer(shop, client, offer, SpeechResult=said, Confidence="0.9")
    assert heard(again).startswith(("Everyone is busy right now.", "En este momento todos")), heard(again)
    assert "mode=callback" in (gather_of(again).get("action") or "") and "Sorry" not in heard(again)


@pytest.mark.parametrize("said", ["No thanks, I'll call back later.", "I'll just call back tomorrow."])
def test_a_caller_who_will_ring_us_back_is_not_put_in_line_for_a_callback(
    shop: Flask, client: FlaskClient, said: str
) -> None:
    staff(shop, "on_call")
    offer = answer(shop, client, call(shop, client), Digits="0")
    reply = answer(shop, client, offer, SpeechResult=said, Confidence="0.9")
    assert "We'll call you back" not in heard(reply) and "Goodbye" in heard(reply)
    assert requests(shop) == []


@pytest.mark.parametrize("said", ["Call me at 201 555 0199.", "Can you call my cell instead?"])
def test_a_caller_who_names_another_number_is_asked_for_it(shop: Flask, client: FlaskClient, said: str) -> None:
    staff(shop, "on_call")
    offer = answer(shop, client, call(shop, client), Digits="0")
    reply = answer(shop, client, offer, SpeechResult=said, Confidence="0.9")
    assert "We'll call you back at this number" not in heard(reply)
    keyed = answer(shop, client, offer, Digits="2")
    assert heard(reply) == heard(keyed)  # the same question as pressing 2: which number


@pytest.mark.parametrize("said", ["Que me llamen, por favor.", "Llámenme.", "Llámeme más tarde."])
def test_a_spanish_caller_who_asks_to_be_called_back_on_a_closed_line_is_called_back(
    shop: Flask, client: FlaskClient, clock: FixedClock, said: str
) -> None:
    closed(clock)
    offer = answer(shop, client, answer(shop, client, call(shop, client), Digits="9"), Digits="0")
    done = answer(shop, client, offer, SpeechResult=said, Confidence="0.9")
    assert heard(done).startswith("Listo. Le llamaremos a este número."), heard(done)
    assert [r.status for r in requests(shop)] == ["queued"]


@pytest.mark.parametrize(
    ("spanish", "said"),
    [
        (True, "Que me llamen, por favor."),
        (True, "Llámenme."),
        (True, "¿Me pueden llamar más tarde?"),
        (True, "Márquenme más tarde."),
        (False, "Can you call me back?"),
        (False, "I'd like a callback, please."),
    ],
)
def test_asking_to_be_called_back_at_the_main_menu_goes_to_the_person_who_offers_it(
    shop: Flask, client: FlaskClient, spanish: bool, said: str
) -> None:
    menu = call(shop, client)
    if spanish:
        menu = answer(shop, client, menu, Digits="9")
    offer = answer(shop, client, menu, SpeechResult=said, Confidence="0.9")
    assert "node=agent_orders" in (gather_of(offer).get("action") or ""), heard(offer)
    assert "Perdone" not in heard(offer) and "Sorry" not in heard(offer)
    done = answer(shop, client, offer, Digits="1")
    assert heard(done).startswith(("Done. We'll call you back", "Listo. Le llamaremos")), heard(done)
    with get_db(shop).sessions() as session:
        context = session.scalars(select(CallbackRequest)).one().ivr_context or ""
    assert "they asked to be called back" in context


@pytest.mark.parametrize(
    ("spanish", "said"),
    [
        (False, "I'd like a person."),
        (False, "Can I talk to someone?"),
        (False, "Representative."),
        (True, "Quiero hablar con una persona."),
    ],
)
def test_asking_for_a_person_on_a_closed_line_is_told_plainly_nobody_is_there_and_offered_the_rest(
    shop: Flask, client: FlaskClient, clock: FixedClock, spanish: bool, said: str
) -> None:
    closed(clock)
    menu = call(shop, client)
    if spanish:
        menu = answer(shop, client, menu, Digits="9")
    offer = answer(shop, client, menu, Digits="0")
    reply = answer(shop, client, offer, SpeechResult=said, Confidence="0.9")
    words = heard(reply)
    assert words.startswith(
        ("Nobody is available to take your call right now.", "En este momento no hay nadie disponible")
    ), words
    assert not words.startswith(("Sorry", "Perdone")), words
    # What the closed line offers, said again: a callback after opening, or a message.
    assert ("press 1, or say call me back" in words) or ("oprima 1, o diga llámenme" in words), words
    assert "mode=closed" in (gather_of(reply).get("action") or "")
    assert requests(shop) == []


def test_a_caller_who_looked_up_an_order_keeps_it_on_their_request_for_the_agent(
    shop: Flask, client: FlaskClient
) -> None:
    # Track the order, then a person; nobody is free, so the caller keeps their place as a callback.
    dial_in(shop, client, STRANGER, "1", "11244556671234567", "0", "1")
    [req] = requests(shop)
    assert req.order_number == "112-4455667-1234567"  # the agent's screen shows it, as for a web request
    assert "asked about order 112-4455667-1234567 and heard: Your Kindle" in (req.ivr_context or "")


def test_a_caller_who_keeps_asking_to_hold_with_nobody_on_duty_is_not_told_they_gave_no_answer(
    shop: Flask, client: FlaskClient
) -> None:
    staff(shop, "offline")  # open, but nobody signed in: no hold is offered
    reply = answer(shop, client, call(shop, client), Digits="0")
    for _ in range(3):
        reply = answer(shop, client, reply, SpeechResult="I'll hold.", Confidence="0.9")
    said = heard(reply)
    assert "I didn't get an answer" not in said and said.startswith("Done. We'll call you back"), said
    assert [r.status for r in requests(shop)] == ["queued"]
