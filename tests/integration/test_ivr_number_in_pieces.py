"""An order number given in pieces: said or keyed, a pause long enough to end the question, then the rest.

What was heard is kept ("I have 1 1 2, 4 4 5 5 6 6 7 so far. Please go on ...") and the rest is added to
it; silence or "that's it" makes the start the whole number; a number given whole (ended by #, or by words
after it) is never asked to go on. Through the signed webhooks, in English and Spanish."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from ivr.flow import NUMBER_SPEECH_TIMEOUT
from tests.integration.test_ivr_callers_words import node_of
from tests.integration.test_ivr_menu import KINDLE, answer, call, gather_of, heard, session_of
from tests.integration.test_ivr_yes_or_number import sentence

SO_FAR = "I have 1 1 2, 4 4 5 5 6 6 7 so far. Please go on with the rest of the number"
WHOLE = "I heard 1 1 2, 4 4 5 5 6 6 7, 1 2 3 4 5 6 7. Is that right?"


def asked_for_the_number(app: Flask, client: FlaskClient, language: str = "en"):
    menu = call(app, client)
    if language == "es":
        menu = answer(app, client, menu, Digits="9")
    return answer(app, client, menu, Digits="1")


def say(app: Flask, client: FlaskClient, reply, words: str, confidence: str = "0.9"):
    return answer(app, client, reply, SpeechResult=words, Confidence=confidence)


def mode_of(reply) -> str:
    return (gather_of(reply).get("action") or "").split("mode=")[1].split("&")[0].split("#")[0]


def test_the_number_question_waits_through_a_pause_between_the_groups(shop: Flask, client: FlaskClient) -> None:
    ask = asked_for_the_number(shop, client)
    assert gather_of(ask).get("speechTimeout") == str(NUMBER_SPEECH_TIMEOUT)
    assert NUMBER_SPEECH_TIMEOUT >= 2  # "auto" ends at the first natural pause
    menu = call(shop, client)
    assert gather_of(menu).get("speechTimeout") == "auto"  # a menu answers at once


def test_a_number_said_in_two_pieces_is_joined_and_read_back_whole(shop: Flask, client: FlaskClient) -> None:
    first = say(shop, client, asked_for_the_number(shop, client), "112 4455667")
    assert heard(first).startswith(SO_FAR), heard(first)
    assert node_of(first) == "track_order" and mode_of(first) == "ref"
    check = say(shop, client, first, "1234567")
    assert heard(check).startswith(WHOLE), heard(check)
    found = say(shop, client, check, "Yes.")
    assert heard(found).startswith(sentence(shop, "112-4455667-1234567")), heard(found)


def test_a_number_said_in_three_pieces_is_joined(shop: Flask, client: FlaskClient) -> None:
    first = say(shop, client, asked_for_the_number(shop, client), "My order number is 112")
    assert heard(first).startswith("I have 1 1 2 so far."), heard(first)
    second = say(shop, client, first, "4455667")
    assert heard(second).startswith(SO_FAR), heard(second)
    check = say(shop, client, second, "one two three four five six seven")
    assert heard(check).startswith(WHOLE), heard(check)


def test_the_last_digits_alone_are_not_taken_for_a_stray_word(shop: Flask, client: FlaskClient) -> None:
    first = say(shop, client, asked_for_the_number(shop, client), "112 4455667 12345")
    assert heard(first).startswith("I have 1 1 2, 4 4 5 5 6 6 7, 1 2 3 4 5 so far."), heard(first)
    check = say(shop, client, first, "67")
    assert heard(check).startswith(WHOLE), heard(check)


def test_keys_the_timeout_sent_are_kept_and_the_rest_keyed_is_looked_up_at_once(
    shop: Flask, client: FlaskClient
) -> None:
    first = answer(shop, client, asked_for_the_number(shop, client), Digits=KINDLE[:10], FinishedOnKey="")
    assert heard(first).startswith(SO_FAR), heard(first)
    found = answer(shop, client, first, Digits=KINDLE[10:], FinishedOnKey="#")
    # Keyed, every piece: trusted as keyed, no read-back.
    assert heard(found).startswith(sentence(shop, "112-4455667-1234567")), heard(found)


def test_a_short_number_ended_by_the_hash_key_is_looked_up_as_given(shop: Flask, client: FlaskClient) -> None:
    reply = answer(shop, client, asked_for_the_number(shop, client), Digits=KINDLE[:10], FinishedOnKey="#")
    assert heard(reply).startswith("I couldn't find an order with that number."), heard(reply)


def test_silence_after_go_on_makes_the_start_the_whole_number(shop: Flask, client: FlaskClient) -> None:
    first = say(shop, client, asked_for_the_number(shop, client), "112 4455667")
    check = answer(shop, client, first)
    assert heard(check).startswith("I heard 1 1 2 4 4 5 5 6 6 7. Is that right?"), heard(check)
    assert mode_of(check) == "confirm"


def test_thats_it_after_go_on_makes_the_start_the_whole_number(shop: Flask, client: FlaskClient) -> None:
    for words in ("That's it.", "That's the whole number.", "Um."):
        first = say(shop, client, asked_for_the_number(shop, client), "112 4455667")
        check = say(shop, client, first, words)
        assert heard(check).startswith("I heard 1 1 2 4 4 5 5 6 6 7. Is that right?"), (words, heard(check))


def test_keyed_start_then_silence_is_looked_up_as_keyed(shop: Flask, client: FlaskClient) -> None:
    first = answer(shop, client, asked_for_the_number(shop, client), Digits="11244", FinishedOnKey="")
    assert heard(first).startswith("I have 1 1 2, 4 4 so far."), heard(first)
    missed = answer(shop, client, first)
    assert heard(missed).startswith("I couldn't find an order with that number."), heard(missed)


def test_the_whole_number_said_again_from_the_top_is_taken_alone(shop: Flask, client: FlaskClient) -> None:
    first = say(shop, client, asked_for_the_number(shop, client), "112 4455667")
    found = say(shop, client, first, "112-4455667-1234567", confidence="0.95")
    assert heard(found).startswith(sentence(shop, "112-4455667-1234567")), heard(found)


def test_a_person_asked_for_after_go_on_is_a_person(shop: Flask, client: FlaskClient) -> None:
    first = say(shop, client, asked_for_the_number(shop, client), "112 4455667")
    reply = say(shop, client, first, "I want to talk to a representative")
    assert "Nobody is on duty right now." in heard(reply), heard(reply)


def test_another_choice_after_go_on_is_taken_and_the_start_forgotten(shop: Flask, client: FlaskClient) -> None:
    first = say(shop, client, asked_for_the_number(shop, client), "112 4455667")
    other = say(shop, client, first, "actually I want a refund")
    assert node_of(other) == "return_status", heard(other)
    assert "partial" not in session_of(shop).get_state()


def test_the_rest_is_asked_for_twice_at_most(shop: Flask, client: FlaskClient) -> None:
    first = say(shop, client, asked_for_the_number(shop, client), "112")
    second = say(shop, client, first, "445")
    assert heard(second).startswith("I have 1 1 2, 4 4 5 so far."), heard(second)
    third = say(shop, client, second, "566")
    assert heard(third).startswith("I heard 1 1 2 4 4 5 5 6 6. Is that right?"), heard(third)


def test_a_short_return_number_on_file_is_not_asked_to_go_on(shop: Flask, client: FlaskClient) -> None:
    menu = call(shop, client)
    ask = answer(shop, client, menu, Digits="2")
    reply = answer(shop, client, ask, Digits="700114", FinishedOnKey="")
    assert heard(reply).startswith("We received your return on Saturday, November 21st."), heard(reply)


def test_a_spanish_caller_is_asked_for_the_rest_in_spanish(shop: Flask, client: FlaskClient) -> None:
    first = say(shop, client, asked_for_the_number(shop, client, "es"), "112 4455667")
    assert heard(first).startswith("Hasta ahora tengo 1 1 2, 4 4 5 5 6 6 7."), heard(first)
    check = say(shop, client, first, "1234567")
    assert heard(check).startswith("Entendí 1 1 2, 4 4 5 5 6 6 7, 1 2 3 4 5 6 7."), heard(check)
    whole = say(shop, client, asked_for_the_number(shop, client, "es"), "112 4455667")
    done = say(shop, client, whole, "Eso es todo.")
    assert heard(done).startswith("Entendí 1 1 2 4 4 5 5 6 6 7."), heard(done)


def test_a_menu_key_pressed_at_the_number_question_is_asked_again_not_looked_up(
    shop: Flask, client: FlaskClient
) -> None:
    for keys in ("1", "2#", "11"):
        reply = answer(shop, client, asked_for_the_number(shop, client), Digits=keys.rstrip("#"), FinishedOnKey="#")
        said = heard(reply)
        assert said.startswith("Sorry, I didn't catch a number. It's the 17-digit number"), (keys, said)
        assert "couldn't find" not in said
    # Twice, and the question's usual limit applies: a person, never a hang-up.
    again = answer(shop, client, reply, Digits="1")
    passed_on = answer(shop, client, again, Digits="2")
    assert "Let me get someone to help you." in heard(passed_on), heard(passed_on)


def test_the_rest_said_after_a_yes_is_the_rest_not_a_yes(shop: Flask, client: FlaskClient) -> None:
    for language, yes, whole in (("en", "Yes, 1234567.", WHOLE), ("es", "Sí, 1234567.", "Entendí 1 1 2, 4 4 5 5")):
        first = say(shop, client, asked_for_the_number(shop, client, language), "112 4455667")
        check = say(shop, client, first, yes)
        assert heard(check).startswith(whole), (language, heard(check))


def test_a_moment_asked_for_after_go_on_keeps_the_start(shop: Flask, client: FlaskClient) -> None:
    for words, lead in (
        ("Hold on, let me find it.", "Sure, take your time. I have 1 1 2"),
        ("Wait, there's more.", "I have 1 1 2"),
    ):
        first = say(shop, client, asked_for_the_number(shop, client), "112 4455667")
        waiting = say(shop, client, first, words)
        assert heard(waiting).startswith(lead), (words, heard(waiting))
        check = say(shop, client, waiting, "1234567")
        assert heard(check).startswith(WHOLE), (words, heard(check))


def test_a_mistyped_return_number_keyed_again_is_taken_alone(shop: Flask, client: FlaskClient) -> None:
    ask = answer(shop, client, call(shop, client), Digits="2")
    first = answer(shop, client, ask, Digits="700199", FinishedOnKey="")
    assert heard(first).startswith("I have 7 0 0, 1 9 9 so far."), heard(first)
    found = answer(shop, client, first, Digits="700114", FinishedOnKey="#")
    assert heard(found).startswith("We received your return on Saturday, November 21st."), heard(found)


def test_keys_cut_short_are_looked_up_once(shop: Flask, client: FlaskClient) -> None:
    lookup = shop.extensions["order_lookup"]
    asked: list[str] = []

    class Counting:
        def __getattr__(self, name: str):
            found = getattr(lookup, name)
            if name not in {"order", "return_for"}:
                return found

            def counted(*args, **kwargs):
                asked.append(name)
                return found(*args, **kwargs)

            return counted

    shop.extensions["order_lookup"] = Counting()
    try:
        ask = asked_for_the_number(shop, client)
        asked.clear()
        reply = answer(shop, client, ask, Digits=KINDLE[:10], FinishedOnKey="")
    finally:
        shop.extensions["order_lookup"] = lookup
    assert heard(reply).startswith(SO_FAR)
    assert asked == ["order"]


def test_a_no_after_go_on_drops_the_start_and_asks_for_the_whole_number(shop: Flask, client: FlaskClient) -> None:
    for words in ("no, that's wrong", "no that's not right"):
        first = say(shop, client, asked_for_the_number(shop, client), "112 4455667")
        assert heard(first).startswith(SO_FAR), heard(first)
        again = say(shop, client, first, words)
        # Not a wrong item reported, and not the same start kept: the whole number, from the top.
        assert heard(again).startswith("Okay, let's try that again."), heard(again)
        assert node_of(again) == "track_order" and "so far" not in heard(again)
        found = say(shop, client, again, "112 4455667 1234567")
        assert heard(found).startswith(sentence(shop, "112-4455667-1234567")), heard(found)


def test_the_first_group_keyed_then_a_pause_is_kept(shop: Flask, client: FlaskClient) -> None:
    first = answer(shop, client, asked_for_the_number(shop, client), Digits=KINDLE[:3], FinishedOnKey="")
    assert heard(first).startswith("I have 1 1 2 so far."), heard(first)
    found = answer(shop, client, first, Digits=KINDLE[3:], FinishedOnKey="#")
    assert heard(found).startswith(sentence(shop, "112-4455667-1234567")), heard(found)
