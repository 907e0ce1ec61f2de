"""The sandbox's recogniser writes what was said as Twilio's <Gather> posts it."""

from __future__ import annotations

import pytest

from telephony.sandbox.recogniser import recognise, transcript


@pytest.mark.parametrize(
    ("said", "written"),
    [
        ("where's my package", "Where's my package?"),
        ("is my order late", "Is my order late?"),
        ("can i talk to someone", "Can I talk to someone?"),
        ("track my order", "Track my order."),
        ("i want a refund", "I want a refund."),
        ("one one two four four five five six six seven", "1124455667."),
        ("my order number is one one two dash four four five five", "My order number is 112-4455."),
        ("one one two, four four five, six seven", "112 445 67."),
        ("double five oh one", "5501."),
        ("oh I see", "Oh I see."),
        ("I ordered two items", "I ordered two items."),
        ("it came twenty three days late", "It came 23 days late."),
        ("three hundred and twelve dollars", "312 dollars."),
        ("Already punctuated!", "Already punctuated!"),
    ],
)
def test_english_is_written_as_a_recogniser_writes_it(said: str, written: str) -> None:
    assert transcript(said, "en-US") == written


@pytest.mark.parametrize(
    ("said", "written"),
    [
        ("donde esta mi pedido", "¿Dónde está mi pedido?"),
        ("uno uno dos cuatro cuatro", "11244."),
        ("mi numero de pedido es uno uno dos guion cuatro cuatro", "Mi número de pedido es 112-44."),
        ("quiero hablar con un agente", "Quiero hablar con un agente."),
        ("cuarenta y dos", "42."),
        ("español", "Español."),
    ],
)
def test_spanish_is_written_the_spanish_way(said: str, written: str) -> None:
    assert transcript(said, "es-US") == written


def test_another_language_is_only_capitalised_and_closed() -> None:
    assert transcript("un deux trois", "fr-FR") == "Un deux trois."


def test_confidence_is_a_function_of_the_words_and_the_call() -> None:
    first = recognise("where is my parcel", seed="+15005550006|+14155550100|1")
    assert recognise("where is my parcel", seed="+15005550006|+14155550100|1") == first
    seen = {recognise("where is my parcel", seed=f"call-{n}").confidence for n in range(200)}
    values = [float(c) for c in seen if c is not None]
    assert None in seen and len(values) > 100
    assert min(values) >= 0.55 and max(values) <= 0.97


def test_models_decide_whether_confidence_is_sent() -> None:
    seeds = [f"call-{n}" for n in range(100)]
    assert {recognise("returns", "en-US", "googlev2_long", seed).confidence for seed in seeds} == {"0"}
    assert None not in {recognise("returns", "en-US", "deepgram_nova-3", seed).confidence for seed in seeds}


def test_a_script_pins_the_confidence_or_the_words() -> None:
    assert recognise("agent", confidence=0.42).confidence == "0.42"
    assert recognise("agent", confidence=None).confidence is None
    assert recognise("one two three", verbatim=True, confidence=1).text == "one two three"
