"""Callers' own words at the phone menu's turns: a goodbye that says more, a correction, a person asked
for in a language, "another order" after a return, "okay" after an answer, "I'll call back later" and
"never mind". Through the signed webhooks, in English and Spanish."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from callback.models import CallbackRequest
from core.db import get_db
from tests.integration.test_ivr_menu import KINDLE, answer, call, gather_of, heard, session_of, staff

RETURNED = "11490312761182734"  # a demo order sent back, with its return on file


def node_of(reply) -> str:
    """The menu node the reply's <Gather> answers to ("" when the reply hangs up)."""
    found = reply.data.decode()
    if "<Gather" not in found:
        return ""
    action = gather_of(reply).get("action") or ""
    return action.split("node=")[1].split("&")[0].split("#")[0]


def hangs_up(reply) -> bool:
    return b"<Hangup" in reply.data


def say(app: Flask, client: FlaskClient, reply, words: str):
    return answer(app, client, reply, SpeechResult=words, Confidence="0.9")


def main_menu(app: Flask, client: FlaskClient, language: str = "en"):
    """A stranger's call at the main menu, in `language` (9 chooses Spanish)."""
    menu = call(app, client)
    return answer(app, client, menu, Digits="9") if language == "es" else menu


def after_order(app: Flask, client: FlaskClient, language: str = "en"):
    menu = main_menu(app, client, language)
    return answer(app, client, answer(app, client, menu, Digits="1"), Digits=KINDLE)


def after_return(app: Flask, client: FlaskClient, language: str = "en"):
    menu = main_menu(app, client, language)
    return answer(app, client, answer(app, client, menu, Digits="2"), Digits=RETURNED)


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("en", "that's all you can tell me?"),
        ("en", "is that all"),
        ("en", "that's it?"),
        ("en", "I'm done waiting"),
        ("en", "I'm done with this company"),
        ("es", "eso es todo lo que me puede decir"),
    ],
)
def test_a_goodbye_that_asks_or_complains_is_not_hung_up_on(
    shop: Flask, client: FlaskClient, language: str, said: str
) -> None:
    reply = say(shop, client, after_order(shop, client, language), said)
    assert not hangs_up(reply), heard(reply)
    assert node_of(reply) == "after_order"


@pytest.mark.parametrize(
    ("said", "goes"),
    [
        ("that's it for the tracking, now I need a refund", "return_status"),
        ("that's everything, but the other package", "track_order"),
        ("that's all fine but where is the other package", "track_order"),
    ],
)
def test_a_goodbye_that_turns_to_something_else_goes_there(
    shop: Flask, client: FlaskClient, said: str, goes: str
) -> None:
    reply = say(shop, client, after_order(shop, client), said)
    assert node_of(reply) == goes, heard(reply)


@pytest.mark.parametrize("said", ["no that's all, thanks", "that's all for now", "I'm all set, thank you bye"])
def test_a_plain_goodbye_still_ends_the_call(shop: Flask, client: FlaskClient, said: str) -> None:
    reply = say(shop, client, after_order(shop, client), said)
    assert hangs_up(reply) and "Goodbye" in heard(reply)


@pytest.mark.parametrize(
    ("language", "said", "goes"),
    [
        ("en", "track my order no wait returns", "return_status"),
        ("en", "tracking. No, sorry, returns.", "return_status"),
        ("en", "returns no wait tracking", "track_order"),
        ("en", "refund I mean track my order", "track_order"),
        ("es", "rastrear mi pedido no perdón devolución", "return_status"),
    ],
)
def test_a_caller_who_corrects_themselves_gets_what_they_settled_on(
    shop: Flask, client: FlaskClient, language: str, said: str, goes: str
) -> None:
    menu = main_menu(shop, client, language)
    reply = say(shop, client, menu, said)
    assert node_of(reply) == goes, heard(reply)


@pytest.mark.parametrize(
    ("language", "said", "now"),
    [
        ("en", "I want to speak to someone in Spanish", "es"),
        ("es", "representante en español", "es"),
        ("es", "quiero hablar con alguien en español", "es"),
        ("es", "agent in English please", "en"),
    ],
)
def test_a_person_asked_for_in_a_language_is_a_person_in_that_language(
    shop: Flask, client: FlaskClient, language: str, said: str, now: str
) -> None:
    staff(shop, "on_call")
    menu = main_menu(shop, client, language)
    reply = say(shop, client, menu, said)
    assert node_of(reply) == "agent_orders", heard(reply)
    assert session_of(shop).language == now
    busy = "En este momento todos nuestros agentes están ocupados." if now == "es" else "Everyone is busy right now."
    assert busy in heard(reply)


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("en", "another order"),
        ("en", "can I check another order"),
        ("en", "track another order"),
        ("es", "otro pedido"),
    ],
)
def test_another_order_after_a_return_is_an_order_to_track(
    shop: Flask, client: FlaskClient, language: str, said: str
) -> None:
    reply = say(shop, client, after_return(shop, client, language), said)
    assert node_of(reply) == "track_order", heard(reply)


def test_another_return_after_an_order_is_a_return_and_another_one_is_the_same_kind(
    shop: Flask, client: FlaskClient
) -> None:
    assert node_of(say(shop, client, after_order(shop, client), "check another return")) == "return_status"
    assert node_of(say(shop, client, after_order(shop, client), "another one")) == "track_order"
    assert node_of(say(shop, client, after_return(shop, client), "another one")) == "return_status"
    # The key is the same as ever.
    assert node_of(answer(shop, client, after_return(shop, client), Digits="2")) == "return_status"


@pytest.mark.parametrize("language", ["en", "es"])
def test_okay_after_an_answer_is_the_choices_again_then_goodbye_never_a_person(
    shop: Flask, client: FlaskClient, language: str
) -> None:
    staff(shop, "on_call")
    words = ("okay", "alright", "perfect") if language == "en" else ("vale", "ok", "perfecto")
    reply = after_order(shop, client, language)
    first = say(shop, client, reply, words[0])
    assert node_of(first) == "after_order" and "Sorry" not in heard(first) and "Perdone" not in heard(first)
    second = say(shop, client, first, words[1])
    last = say(shop, client, second, words[2]) if not hangs_up(second) else second
    assert hangs_up(last), heard(last)
    assert session_of(shop).outcome == "contained"


@pytest.mark.parametrize("said", ["I'll call back later", "never mind, I'll call you back"])
def test_a_caller_who_will_call_back_is_said_goodbye_to_not_put_in_line(
    shop: Flask, client: FlaskClient, said: str
) -> None:
    staff(shop, "available")
    reply = say(shop, client, call(shop, client), said)
    assert hangs_up(reply) and "Goodbye" in heard(reply) and "<Dial" not in reply.data.decode()
    with get_db(shop).sessions() as session:
        assert session.scalars(select(CallbackRequest)).all() == []


@pytest.mark.parametrize(("language", "said"), [("en", "never mind"), ("en", "forget it"), ("es", "olvídelo")])
def test_never_mind_at_the_busy_offer_books_no_callback(
    shop: Flask, client: FlaskClient, language: str, said: str
) -> None:
    staff(shop, "on_call")
    menu = main_menu(shop, client, language)
    offer = answer(shop, client, menu, Digits="0")
    reply = say(shop, client, offer, said)
    assert hangs_up(reply)
    with get_db(shop).sessions() as session:
        assert session.scalars(select(CallbackRequest)).all() == []


def read_back(app: Flask, client: FlaskClient, language: str = "en"):
    """A number said with a low confidence, read back: "I heard ... Is that right?"."""
    digits = {
        "en": "one one two four four five five six six seven one two three four five six seven",
        "es": "uno uno dos cuatro cuatro cinco cinco seis seis siete uno dos tres cuatro cinco seis siete",
    }
    asked = answer(app, client, main_menu(app, client, language), Digits="1")
    reply = answer(app, client, asked, SpeechResult=digits[language], Confidence="0.3")
    assert "mode=confirm" in (gather_of(reply).get("action") or ""), heard(reply)
    return reply


@pytest.mark.parametrize(
    ("language", "said", "waited"),
    [
        ("en", "um", False),
        ("en", "hmm", False),
        ("es", "este", False),
        ("en", "hold on", True),
        ("en", "wait a second", True),
        ("es", "un momento", True),
    ],
)
def test_a_pause_at_the_read_back_is_no_no(
    shop: Flask, client: FlaskClient, language: str, said: str, waited: bool
) -> None:
    reply = say(shop, client, read_back(shop, client, language), said)
    assert "mode=confirm" in (gather_of(reply).get("action") or ""), heard(reply)
    assert ("take your time" in heard(reply) or "tómese su tiempo" in heard(reply)) is waited
    # ... and a yes then looks the number up.
    found = answer(shop, client, reply, Digits="1")
    assert node_of(found) == "after_order", heard(found)


def test_fillers_at_the_read_back_count_as_silence_and_end_somewhere(shop: Flask, client: FlaskClient) -> None:
    def at_read_back(reply) -> bool:
        return not hangs_up(reply) and "mode=confirm" in (gather_of(reply).get("action") or "")

    reply = read_back(shop, client)
    heard_again = 0
    while at_read_back(reply) and heard_again < 6:
        reply = say(shop, client, reply, "um")
        heard_again += 1
    # Counted as silence is: the read-back a few times, then the call moves on, never round for ever.
    assert not at_read_back(reply) and 1 < heard_again < 6, (heard_again, heard(reply))
