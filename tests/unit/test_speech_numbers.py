"""Order numbers as callers correct themselves while saying them: what they meant, and never trusted."""

from __future__ import annotations

import pytest

from ivr.speech import (
    begins_order_number,
    ends_on_a_digit,
    format_order_number,
    group_order_digits,
    spoken_digits,
    spoken_key,
    spoken_reference,
)

WHOLE = "one one two four four five five six six seven one two three four five six seven"


@pytest.mark.parametrize(
    "heard, digits",
    [
        # Said again whole after the correction: the second number is the one meant.
        ("five five six, no sorry, five five seven", "557"),
        ("it's 998 877 no 998 878", "998878"),
        (f"one one two four four five, sorry I mean, {WHOLE}", "11244556671234567"),
        # Only the end said again: it replaces the end of the number.
        (f"{WHOLE}, sorry, five six eight", "11244556671234568"),
        ("112 4455667 1234567 actually 1234560", "11244556671234560"),
        # Spanish: "no, perdón", "digo".
        ("uno dos tres, no perdón, uno dos cinco", "125"),
        ("cuatro cinco seis digo cuatro cinco siete", "457"),
    ],
)
def test_a_number_corrected_as_it_is_said_is_the_number_meant(heard: str, digits: str) -> None:
    language = "es" if any(word in heard for word in ("uno", "cuatro")) else "en"
    heard_number = spoken_digits(heard, language=language)
    assert heard_number.digits == digits
    # The flow trusts only a complete number with nothing guessed, so a corrected one is read back.
    assert not heard_number.complete and heard_number.unsure


def test_a_sorry_for_a_pause_takes_nothing_back_when_the_whole_order_number_is_there() -> None:
    heard = spoken_digits("one one two, sorry, four four five five six six seven one two three four five six seven")
    assert format_order_number(heard.digits) == "112-4455667-1234567"
    assert heard.unsure == ["sorry"]


@pytest.mark.parametrize("heard", ["no one two three", "one two three no", "sorry, 112 4455667 1234567"])
def test_a_word_of_correction_before_or_after_the_number_takes_nothing_back(heard: str) -> None:
    assert spoken_digits(heard).unsure == []


def test_wait_alone_is_a_pause_not_a_correction() -> None:
    assert spoken_digits("one one two, wait, four four five").digits == "112445"


@pytest.mark.parametrize(
    "heard, language",
    [("one sec", "en"), ("one moment please", "en"), ("give me two minutes", "en"), ("un momento", "es"),
     ("un segundo, ahorita lo busco", "es"), ("deme dos minutitos", "es")],
)  # fmt: skip
def test_a_count_of_time_is_no_number_to_look_up(heard: str, language: str) -> None:
    # Else "un momento" at the order number's question would be read back as the number 1.
    assert spoken_digits(heard, language=language).digits == ""


def test_a_count_of_time_before_the_number_is_left_out_of_it() -> None:
    heard = spoken_digits("I ordered it 2 weeks ago, the number is 112 4455667 1234567")
    assert format_order_number(heard.digits) == "112-4455667-1234567"


@pytest.mark.parametrize(
    "heard, language, reference",
    [
        # Spanish digit words are read whatever language the flow passes on.
        ("R M A dos cero dos cuatro cero cero uno dos tres", None, "RMA202400123"),
        ("RMA veinte veinticuatro, cero cero uno dos tres", None, "RMA202400123"),
        # Told the language, "es el" around the reference are words, not the letters S and L.
        ("es el RMA 2024 00123", "es", "RMA202400123"),
        ("mi número de devolución es R M A dos cero dos cuatro", "es", "RMA2024"),
        # English is read as before.
        ("R M A two oh two four oh oh one two three", None, "RMA202400123"),
    ],
)
def test_a_return_reference_read_in_spanish_is_the_reference_meant(
    heard: str, language: str | None, reference: str
) -> None:
    assert spoken_reference(heard, language=language) == reference


@pytest.mark.parametrize(
    ("said", "language", "key"),
    [
        ("One.", "en", "1"),
        ("1", "en", "1"),
        ("Press one.", "en", "1"),
        ("option 2", "en", "2"),
        ("um, three please", "en", "3"),
        ("press to", "en", "2"),
        ("zero", "en", "0"),
        ("Uno.", "es", "1"),
        ("Tres.", "es", "3"),
        ("Oprima dos", "es", "2"),
        ("número tres", "es", "3"),
        ("I want option 2", "en", "2"),
        ("I'd like number one", "en", "1"),
        ("I want one", "en", None),
        ("for", "en", None),
        ("one two three", "en", None),
        ("una persona", "es", None),
        ("", "en", None),
    ],
)
def test_a_menu_key_said_instead_of_pressed_is_read_as_that_key(said: str, language: str, key: str | None) -> None:
    assert spoken_key(said, language=language) == key


@pytest.mark.parametrize(
    "digits, begins",
    [
        ("112", True),
        ("1124455667", True),
        ("1124455667123456", True),  # one digit short
        ("11244556671234567", False),  # whole
        ("12", False),  # less than the first group: a stray word, most often
        ("112-44", False),  # as heard, not as digits
        ("", False),
    ],
)
def test_the_start_of_an_order_number(digits: str, begins: bool) -> None:
    assert begins_order_number(digits) is begins


@pytest.mark.parametrize(
    "digits, grouped",
    [("112", "112"), ("11244", "112-44"), ("1124455667", "112-4455667"), ("11244556671", "112-4455667-1")],
)
def test_digits_are_grouped_as_an_order_number_as_far_as_they_go(digits: str, grouped: str) -> None:
    assert group_order_digits(digits) == grouped


@pytest.mark.parametrize(
    "heard, language, stops",
    [
        ("My order number is 112-4455-667.", "en", True),
        ("one one two four", "en", True),
        ("uno uno dos", "es", True),
        ("1 2 3 4 5, I think.", "en", False),
        ("112 4455667 is the number", "en", False),
        ("", "en", False),
    ],
)
def test_an_utterance_that_stops_on_a_digit(heard: str, language: str, stops: bool) -> None:
    assert ends_on_a_digit(heard, language=language) is stops


@pytest.mark.parametrize(
    "said, language, reference",
    [
        # Letter names that are common words spell only beside other letters or digits.
        ("are em ay one nine nine eight seven six five four three", "en", "RMA199876543"),
        ("it's are em ay 2024 55 123", "en", "RMA202455123"),
        ("erre eme a uno nueve nueve ocho siete seis cinco cuatro tres", "es", "RMA199876543"),
    ],
)
def test_a_reference_spelled_with_letter_names_is_read(said: str, language: str, reference: str) -> None:
    assert spoken_reference(said, language=language) == reference
