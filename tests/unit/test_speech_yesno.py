"""Yes and no said as idioms, and a caller asking for a moment, in English and Spanish."""

from __future__ import annotations

import pytest

from ivr import speech
from ivr.speech import after_no, asks_for_time, asks_to_repeat, is_yes, lacks_number


@pytest.mark.parametrize(
    "heard, answer",
    [
        # Assent said as an idiom.
        ("you bet", True),
        ("yeah you got it", True),
        ("that works for me", True),
        ("perfect thanks", True),
        ("that would be great", True),
        ("fine by me", True),
        # ... and denied.
        ("that doesn't work", False),
        ("not perfect, no", False),
        ("no that's not fine", False),
    ],
)
def test_assent_said_as_an_idiom_is_a_yes(heard: str, answer: bool | None) -> None:
    assert is_yes(heard) is answer


@pytest.mark.parametrize(
    "heard, answer",
    [
        ("Está bien, gracias", True),
        ("esta bien", True),
        ("Okey.", True),
        ("Vale.", True),
        ("Me parece bien.", True),
        ("Creo que sí.", True),
        ("Creo que no.", False),
        ("Okey, no, está mal.", False),
        ("ándale pues", True),
        ("no está bien", False),
        ("No, el número está mal.", False),
        ("estan mal los números", False),
    ],
)
def test_spanish_esta_bien_agrees_and_esta_mal_refuses(heard: str, answer: bool | None) -> None:
    assert is_yes(heard, language="es") is answer


@pytest.mark.parametrize(
    "said",
    ["just a minute please", "one minute", "half a sec", "gimme a second", "I need a moment to find it",
     "hold on let me pull it up", "I'm looking for it now", "one mo"],
)  # fmt: skip
def test_every_short_time_a_caller_names_asks_for_a_moment(said: str) -> None:
    assert asks_for_time(said)


@pytest.mark.parametrize(
    "said",
    ["momento por favor", "un momentito", "aguánteme tantito", "ahorita la busco", "lo estoy buscando",
     "sí, estoy buscando el correo"],
)  # fmt: skip
def test_spanish_callers_looking_for_the_number_ask_for_a_moment(said: str) -> None:
    assert asks_for_time(said, language="es")


@pytest.mark.parametrize("said", ["I waited a minute on hold and then got cut off", "the minute it arrived it broke"])
def test_a_minute_that_is_not_asked_for_is_no_request_for_time(said: str) -> None:
    assert not asks_for_time(said)


def test_a_moment_asked_for_at_a_yes_or_no_question_is_no_answer_yet() -> None:
    assert is_yes("yes, just a minute") is None


@pytest.mark.parametrize(
    ("heard", "language", "asks"),
    [
        ("Can you repeat that?", "en", True),
        ("Say that again", "en", True),
        ("What?", "en", True),
        ("Sorry, I didn't catch that.", "en", True),
        ("Come again?", "en", True),
        ("¿Cómo?", "es", True),
        ("Repítalo, por favor.", "es", True),
        ("¿Me lo repite?", "es", True),
        # More than a request to hear it again.
        ("What is my order status", "en", False),
        ("I want to order again", "en", False),
        ("yes", "en", False),
        ("Quiero repetir mi pedido de la semana pasada", "es", False),
    ],
)
def test_asking_to_hear_the_question_again_is_told_from_an_answer(heard: str, language: str, asks: bool) -> None:
    assert asks_to_repeat(heard, language=language) is asks


@pytest.mark.parametrize(
    ("heard", "language", "rest"),
    [
        ("No, I need to talk to someone.", "en", "i need to talk to someone"),
        ("Nope, representative.", "en", "representative"),
        ("No thanks, a refund", "en", "a refund"),
        ("No, quiero hablar con alguien.", "es", "quiero hablar con alguien"),
        ("No.", "en", ""),
        ("I said no", "en", ""),
        ("Not that one", "en", ""),
    ],
)
def test_the_words_after_a_leading_no_are_what_the_caller_wants_instead(heard: str, language: str, rest: str) -> None:
    assert after_no(heard, language=language) == rest


@pytest.mark.parametrize(
    ("heard", "language", "lacks"),
    [
        ("I don't know my order number.", "en", True),
        ("I don't have it with me", "en", True),
        ("I can't find the email", "en", True),
        ("I forgot it", "en", True),
        ("I lost the email", "en", True),
        ("No sé mi número de pedido.", "es", True),
        ("No lo tengo a la mano.", "es", True),
        ("It's 112 4455667", "en", False),
        ("hold on let me find it", "en", False),
        ("Un momento, lo busco", "es", False),
    ],
)
def test_a_caller_without_the_number_asked_for_is_told_from_one_looking_for_it(
    heard: str, language: str, lacks: bool
) -> None:
    assert lacks_number(heard, language=language) is lacks


@pytest.mark.parametrize(
    ("said", "language", "plain"),
    [
        ("No.", "en", True),
        ("Nope, thanks.", "en", True),
        ("No, one more thing.", "en", False),
        ("That's not right.", "en", False),
        ("It hasn't arrived.", "en", False),
        ("No, gracias.", "es", True),
        ("No, no ha llegado.", "es", False),
    ],
)
def test_a_plain_no_is_a_no_and_nothing_more(said: str, language: str, plain: bool) -> None:
    assert speech.is_plain_no(said, language=language) is plain


@pytest.mark.parametrize(
    ("said", "language", "denied"),
    [("No, I'm not done.", "en", True), ("I'm done.", "en", False), ("No, no he terminado.", "es", True)]
    + [("No gracias, ya terminé.", "es", False)],
)
def test_a_denial_past_the_leading_no_is_heard(said: str, language: str, denied: bool) -> None:
    assert speech.denies(said, language=language) is denied


@pytest.mark.parametrize(
    ("said", "language", "theirs"),
    [
        ("No thanks, I'll call back later.", "en", True),
        ("I will just call back tomorrow", "en", True),
        ("Call me back later.", "en", False),
        ("No gracias, yo llamo después.", "es", True),
        ("Llámenme después.", "es", False),
    ],
)
def test_a_caller_who_will_call_us_is_told_from_one_who_asks_to_be_called(
    said: str, language: str, theirs: bool
) -> None:
    assert speech.caller_will_call(said, language=language) is theirs


def test_uh_huh_is_a_yes_not_a_huh() -> None:
    assert not speech.asks_to_repeat("Uh-huh.") and speech.asks_to_repeat("Huh?")
    assert speech.yes_no("", "Uh-huh.") is True


@pytest.mark.parametrize(
    ("said", "language", "rest"),
    [
        ("Yes, but it arrived damaged.", "en", "but it arrived damaged"),
        ("Yeah, it's the wrong item.", "en", "it is the wrong item"),
        ("Uh, yes.", "en", ""),
        ("Yes.", "en", ""),
        ("It arrived damaged, yes.", "en", ""),
        ("Sí, pero llegó roto.", "es", "pero llego roto"),
        ("No, it's broken.", "en", ""),
    ],
)
def test_the_words_after_a_leading_yes_are_what_else_the_caller_says(said: str, language: str, rest: str) -> None:
    assert speech.after_yes(said, language=language) == rest


@pytest.mark.parametrize(
    ("said", "language", "closing"),
    [
        ("Great, thanks.", "en", True),
        ("Perfect, thank you.", "en", True),
        ("That's all.", "en", True),
        ("Okay, bye-bye.", "en", True),
        ("Awesome, I'm all set.", "en", True),
        ("Have a good one.", "en", True),
        ("Thanks, but I have another question.", "en", False),
        ("I'm not done, thanks.", "en", False),
        ("Thank you, can I talk to someone?", "en", False),
        ("Great.", "en", False),  # pleased, maybe, but not leaving
        ("Okay.", "en", False),
        ("Hasta luego.", "es", True),
        ("Gracias, eso es todo.", "es", True),
        ("Perfecto, gracias.", "es", True),
        ("Muy amable, que tenga buen día.", "es", True),
        ("Gracias, pero quiero un reembolso.", "es", False),
        ("No he terminado, gracias.", "es", False),
    ],
)
def test_an_everyday_closing_is_told_from_thanks_with_more_to_say(said: str, language: str, closing: bool) -> None:
    assert speech.is_closing(said, language=language) is closing


@pytest.mark.parametrize(
    ("said", "language", "more"),
    [
        # A question, a complaint or a second request in goodbye's words: more than a goodbye.
        ("that's all you can tell me?", "en", True),
        ("that's all you can tell me", "en", True),
        ("is that all", "en", True),
        ("that's it?", "en", True),
        ("that's all fine but where is the other package", "en", True),
        ("that's everything what about the other item", "en", True),
        ("that's it for the tracking, now I need a refund", "en", True),
        ("I'm done waiting", "en", True),
        ("I'm done with this company", "en", True),
        ("eso es todo lo que me puede decir", "es", True),
        ("eso es todo? y el otro paquete", "es", True),
        ("estoy harta, eso es todo", "es", True),
        # Goodbyes, however they are put.
        ("that's all for now thanks", "en", False),
        ("no that's all, but thanks anyway", "en", False),
        ("that's all I need thanks", "en", False),
        ("no I'm all set thank you bye", "en", False),
        ("I'm done", "en", False),
        ("nope that's it", "en", False),
        ("no, eso sería todo, muchas gracias", "es", False),
        ("ya quedó, gracias", "es", False),
    ],
)
def test_a_goodbye_that_asks_or_turns_to_more_says_more_than_goodbye(said: str, language: str, more: bool) -> None:
    assert speech.says_more_than_goodbye(said, language=language) is more


@pytest.mark.parametrize(
    ("said", "language", "rest"),
    [
        ("that's all fine but where is the other package", "en", "where is the other package"),
        ("that's it for the tracking, now I need a refund", "en", "i need a refund"),
        ("that's everything, what about the other item", "en", "the other item"),
        ("eso es todo, y el otro paquete", "es", "otro paquete"),
        ("that's all for now", "en", ""),
        ("that's all but thanks", "en", ""),
    ],
)
def test_the_words_after_a_turn_are_what_the_caller_wants_next(said: str, language: str, rest: str) -> None:
    assert speech.after_turn(said, language=language) == rest


@pytest.mark.parametrize(
    ("said", "language", "rest"),
    [
        ("track my order no wait returns", "en", "returns"),
        ("tracking. No, sorry, returns.", "en", "returns"),
        ("track I mean refund", "en", "refund"),
        ("returns no actually I just want to talk to someone", "en", "i just want to talk to someone"),
        ("rastrear mi pedido no perdón devolución", "es", "devolucion"),
        ("where is my order", "en", ""),
        ("no wait", "en", ""),
    ],
)
def test_a_caller_who_corrects_themselves_means_what_follows(said: str, language: str, rest: str) -> None:
    assert speech.after_correction(said, language=language) == rest


@pytest.mark.parametrize(
    ("said", "language", "acknowledges"),
    [
        ("okay", "en", True),
        ("alright", "en", True),
        ("Perfect.", "en", True),
        ("got it", "en", True),
        ("oh okay cool", "en", True),
        ("vale", "es", True),
        ("ok perfecto", "es", True),
        ("okay, where is my refund", "en", False),
        ("okay thanks bye", "en", False),
        ("yeah", "en", False),
        ("it is", "en", False),
    ],
)
def test_words_that_only_take_in_an_answer_acknowledge_it(said: str, language: str, acknowledges: bool) -> None:
    assert speech.only_acknowledges(said, language=language) is acknowledges


@pytest.mark.parametrize(
    ("said", "language", "drops"),
    [
        ("never mind", "en", True),
        ("forget it", "en", True),
        ("oh don't bother", "en", True),
        ("olvídelo", "es", True),
        ("no importa", "es", True),
        ("call me back", "en", False),
        ("no thanks", "en", False),
    ],
)
def test_a_caller_who_drops_the_matter_says_never_mind(said: str, language: str, drops: bool) -> None:
    assert speech.never_mind(said, language=language) is drops


@pytest.mark.parametrize(
    ("said", "language", "filler"),
    [
        ("um", "en", True),
        ("uh, hmm", "en", True),
        ("este, eh", "es", True),
        ("um yes", "en", False),
        ("no", "en", False),
    ],
)
def test_sounds_that_fill_a_pause_are_fillers(said: str, language: str, filler: bool) -> None:
    assert speech.only_fillers(said, language=language) is filler


@pytest.mark.parametrize(
    "heard, language, ends",
    [
        # Said where the rest of a number was asked for: no more to come.
        ("That's it.", "en", True),
        ("That's the whole number.", "en", True),
        ("that's all of it", "en", True),
        ("No more.", "en", True),
        ("I'm done.", "en", True),
        ("Yes.", "en", True),
        ("Okay.", "en", True),
        ("Um.", "en", True),
        ("Eso es todo.", "es", True),
        ("Ese es el número.", "es", True),
        ("Ya está.", "es", True),
        ("Sí.", "es", True),
        # More is coming, or something else altogether.
        ("I'm not done yet.", "en", False),
        ("Wait, there's more.", "en", False),
        ("Still looking for the rest.", "en", False),
        ("I want a refund.", "en", False),
        ("No.", "en", False),
        ("Todavía falta.", "es", False),
        ("Espere, hay más.", "es", False),
        ("", "en", False),
    ],
)
def test_words_that_say_a_number_is_whole(heard: str, language: str, ends: bool) -> None:
    assert speech.ends_the_number(heard, language=language) is ends


@pytest.mark.parametrize(
    "said, language, asks",
    [
        ("can I speak to a representative please", "en", True),
        ("no no, connect me", "en", True),
        ("nope, just put me through to someone", "en", True),
        ("I need help with this", "en", True),
        ("I don't want to talk to anybody", "en", False),
        # A person named in news, not asked for.
        ("I already talked to an agent, thanks", "en", False),
        ("the agent fixed it yesterday", "en", False),
        ("yes, an agent", "en", True),
        ("I do not need to speak to an agent", "en", False),
        ("no thank you", "en", False),
        ("quisiera hablar con una asesora", "es", True),
        ("no, páseme con alguien", "es", True),
        ("no quiero hablar con un agente", "es", False),
    ],
)
def test_someone_we_called_who_asks_for_a_person_is_told_from_one_who_refuses(
    said: str, language: str, asks: bool
) -> None:
    assert speech.asks_for_a_person(said, language=language) is asks


@pytest.mark.parametrize(
    "heard, language, answer",
    [
        ("bang on", "en", True),
        ("aye that's it", "en", True),
        ("no, sorry", "en", False),
        ("sorry?", "en", None),
        ("I really can't recall", "en", None),
        ("simón", "es", True),
        ("nel, no es", "es", False),
    ],
)
def test_regional_yes_and_no_and_a_polite_no(heard: str, language: str, answer: bool | None) -> None:
    assert is_yes(heard, language=language) is answer


@pytest.mark.parametrize(
    "said, language, asks",
    [
        ("hang about, it's in my bag", "en", True),
        ("could you wait while I go get it", "en", True),
        ("dame chance, lo estoy sacando", "es", True),
        ("ya esperé bastante", "es", False),
        ("la espera fue larguísima", "es", False),
        ("espere, lo busco", "es", True),
    ],
)
def test_a_wait_asked_for_is_told_from_a_wait_complained_of(said: str, language: str, asks: bool) -> None:
    assert asks_for_time(said, language=language) is asks


@pytest.mark.parametrize(
    "said, language, minutes",
    [
        ("could you ring me back in an hour", "en", 60),
        ("in about fifteen minutes", "en", 15),
        ("call me in half an hour", "en", 30),
        ("try again in 3 hours", "en", 180),
        ("call me tomorrow morning", "en", "tomorrow"),
        ("I'm busy", "en", None),
        ("later please", "en", None),
        ("llámeme dentro de una hora", "es", 60),
        ("en veinte minutos", "es", 20),
        ("mejor mañana", "es", "tomorrow"),
    ],
)
def test_the_time_asked_for_a_call_back_is_read(said: str, language: str, minutes: int | str | None) -> None:
    assert speech.later_in(said, language=language) == minutes
    if minutes is not None:
        assert speech.asks_for_later(said, language=language)


@pytest.mark.parametrize(
    "said, language, denies",
    [
        ("nope, that's incorrect", "en", True),
        ("that's not the right number", "en", True),
        ("oops, wrong", "en", True),
        ("no, my refund", "en", False),
        ("no, it came broken", "en", False),
        ("three", "en", False),
        ("eso es un error", "es", True),
        ("no, el número está mal", "es", True),
        ("no, quiero una devolución", "es", False),
    ],
)
def test_words_that_only_say_it_is_wrong_are_told_from_words_that_ask_for_more(
    said: str, language: str, denies: bool
) -> None:
    assert speech.only_denies(said, language=language) is denies


@pytest.mark.parametrize(
    "said, language, parts",
    [
        ("where's my order, and I want a refund", "en", ["where is my order", "i want a refund"]),
        ("I need the tracking plus a person", "en", ["i need the tracking", "a person"]),
        ("mi pedido y también un reembolso", "es", ["mi pedido", "un reembolso"]),
        ("track and trace", "en", ["track and trace"]),  # no part of two words: one request
    ],
)
def test_requests_joined_by_and_are_told_apart(said: str, language: str, parts: list[str]) -> None:
    assert speech.requests_joined(said, language=language) == parts
