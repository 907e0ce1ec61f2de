"""Speech understanding for the phone menu: numbers as people say them, references, intents, yes and no."""

from __future__ import annotations

import pytest

from ivr.speech import (
    Intent,
    SpokenNumber,
    asks_for_time,
    format_order_number,
    is_yes,
    match_intent,
    reference_key,
    say_digits,
    spoken_digits,
    spoken_reference,
)

ORDER = "11244556671234567"

# What the recogniser wrote -> (digits, complete, unsure).
NUMBERS: list[tuple[str, str, bool, list[str]]] = [
    # Digit words, and the ways of saying zero.
    ("one one two", "112", True, []),
    ("one one two four four five five six six seven one two three four five six seven", ORDER, True, []),
    ("zero", "0", True, []),
    ("zero zero", "00", True, []),
    ("nought nought seven", "007", True, []),
    ("oh one", "01", True, []),
    ("one oh five", "105", True, []),
    ("one, oh, five", "105", True, []),
    ("2o24", "2024", True, []),  # a recogniser gluing the letter o between numerals
    ("niner", "9", True, []),
    ("ONE TWO", "12", True, []),
    # Double and triple apply to the next digit only.
    ("double five", "55", True, []),
    ("triple seven", "777", True, []),
    ("triple 7", "777", True, []),
    ("double oh seven", "007", True, []),
    ("one double two three", "1223", True, []),
    ("double four double five double six seven", "4455667", True, []),
    ("double twelve", "1212", True, ["double"]),  # a group doubled is a guess
    ("I need to double check", "", False, []),  # "double" before a word is a word
    # Teens and tens, alone and in the groups people chain together.
    ("ten", "10", True, []),
    ("twelve", "12", True, []),
    ("nineteen", "19", True, []),
    ("forty", "40", True, []),
    ("forty five", "45", True, []),
    ("forty-five", "45", True, []),
    ("seventy seven", "77", True, []),
    ("forty five six seven", "4567", True, []),
    ("forty oh five", "4005", True, []),
    ("one twelve", "112", True, []),
    ("nineteen eighty", "1980", True, []),
    ("nineteen oh five", "1905", True, []),
    ("nineteen ninety nine", "1999", True, []),
    ("twenty twenty four", "2024", True, []),
    ("twenty one twelve", "2112", True, []),
    # Hundreds and thousands are arithmetic, not concatenation.
    ("a hundred", "100", True, []),
    ("hundred", "100", True, []),
    ("one hundred", "100", True, []),
    ("one hundred and five", "105", True, []),
    ("one hundred five", "105", True, []),
    ("one hundred oh five", "105", True, []),
    ("five hundred twelve", "512", True, []),
    ("twelve hundred", "1200", True, []),
    ("twenty five hundred", "2500", True, []),
    ("two thousand", "2000", True, []),
    ("2 thousand", "2000", True, []),
    ("a thousand", "1000", True, []),
    ("twenty thousand", "20000", True, []),
    ("two thousand and twenty four", "2024", True, []),
    ("two thousand twenty four", "2024", True, []),
    ("two thousand five hundred", "2500", True, []),
    ("one hundred and twelve thousand", "112000", True, []),
    # Numerals, punctuation and separators as recognisers write them.
    ("112 4455667", "1124455667", True, []),
    ("112-4455667-1234567", ORDER, True, []),
    ("1124455667 1234567", ORDER, True, []),
    ("It's 112-4455667-1234567.", ORDER, True, []),
    ("112\u20134455667\u20131234567", ORDER, True, []),  # en dashes
    ("1, 1, 2.", "112", True, []),
    ("1,1,2", "112", True, []),
    ("2,000", "2000", True, []),
    ("1 1 2 4 4 5 5 6 6 7", "1124455667", True, []),
    ("One, one, two. Four, four, five.", "112445", True, []),
    ("112 double four 5 5", "1124455", True, []),
    # Spoken separators, and numbers mixed with words.
    (
        "one one two dash four four five five six six seven dash one two three four five six seven",
        ORDER,
        True,
        [],
    ),
    ("one one two minus 4455667", "1124455667", True, []),
    ("1 1 2 hyphen 4 4", "11244", True, []),
    ("one one two slash four", "1124", True, []),
    ("one-one-two", "112", True, []),
    ("one two three and four five six", "123456", True, []),
    # Fillers around and inside the number leave it complete.
    ("um, one one two, uh, four four five", "112445", True, []),
    ("my order number is one one two", "112", True, []),
    ("the number is one two three", "123", True, []),
    ("okay so it's one twelve", "112", True, []),
    ("hmm let me see one one two", "112", True, []),
    ("Oh, one one two", "112", True, []),  # "oh" set off by a comma is an exclamation
    ("Oh one one two", "0112", True, []),  # without the comma it is a zero
    # Homophones inside a number are digits, and reported as guesses.
    ("one two for five", "1245", True, ["for"]),
    ("one to three", "123", True, ["to"]),
    ("one too", "12", True, ["too"]),
    ("won two three", "123", True, ["won"]),
    ("seven ate nine", "789", True, ["ate"]),
    ("tree four five", "345", True, ["tree"]),
    ("two free four", "234", True, ["free"]),
    ("four for four", "444", True, ["for"]),
    ("one to for five", "1245", True, ["to", "for"]),
    ("for five six", "456", True, ["for"]),  # opening the utterance counts as inside the number
    ("my order number is for five six seven", "4567", True, ["for"]),  # lead-in words before it too
    ("twenty for", "24", True, ["for"]),  # a guessed digit still combines with the tens
    # ...and words everywhere else.
    ("I'm calling for my order", "", False, []),
    ("I'm calling for one one two", "112", False, []),  # a verb before "for": the sentence goes on
    ("one two three for my order", "123", False, []),  # words after "for": the sentence goes on
    ("I want to track order one one two", "112", False, []),
    ("one two three to cancel", "123", False, []),
    ("for to", "", False, []),  # no number anywhere, so nothing to be a digit of
    # Words that can't be read: inside the number they are reported; outside they only spoil "complete".
    ("five six blah seven", "567", False, ["blah"]),
    ("twenty, blah, four", "204", False, ["blah"]),  # a word also stops "twenty" taking the "four"
    ("five sex seven", "57", False, ["sex"]),  # deliberately not read as six
    # A correction takes back what it corrects, and is read back all the same.
    ("one two three, sorry, one two four", "124", False, ["sorry"]),
    ("one two three no one two four", "124", False, ["no"]),
    ("RMA 2024 00123", "202400123", False, []),
    # Nothing that is a number.
    ("", "", False, []),
    ("uh", "", False, []),
    ("oh", "", False, []),
    ("oh I see", "", False, []),
    ("hello", "", False, []),
]


@pytest.mark.parametrize(
    "heard, digits, complete, unsure", NUMBERS, ids=[heard or "<silence>" for heard, *_ in NUMBERS]
)
def test_spoken_numbers_become_the_digits_the_caller_meant(
    heard: str, digits: str, complete: bool, unsure: list[str]
) -> None:
    assert spoken_digits(heard) == SpokenNumber(digits=digits, complete=complete, unsure=unsure)


def test_a_whole_order_number_said_naturally_formats_as_the_shop_writes_it() -> None:
    heard = spoken_digits("um my order number is one twelve, double four five five double six seven, 1234567")
    assert (heard.complete, heard.unsure) == (True, [])
    assert format_order_number(heard.digits) == "112-4455667-1234567"


REFERENCES: list[tuple[str, str]] = [
    ("R M A two oh two four oh oh one two three", "RMA202400123"),
    ("RMA-2024-00123", "RMA202400123"),
    ("rma 2024 00123", "RMA202400123"),  # the shop's prefix is known even in lower case
    ("rma 2 0 2 4 dash 0 0 1 2 3", "RMA202400123"),
    ("romeo mike alpha two zero two four", "RMA2024"),
    ("R as in Romeo, M as in Mike, A as in alpha, 2024", "RMA2024"),
    ("my return number is R M A two oh two four", "RMA2024"),
    ("I think it's R M A one two three", "RMA123"),  # "I" opening a sentence is not a letter
    ("okay so that's RMA two thousand twenty four dash oh oh one two three", "RMA202400123"),
    ("RMA to oh two four", "RMA2024"),
    ("A B C one two", "ABC12"),
    ("R O B one", "ROB1"),  # "o" between letters is the letter
    ("papa oscar one two", "PO12"),
    ("", ""),
]


@pytest.mark.parametrize("heard, reference", REFERENCES, ids=[heard or "<silence>" for heard, _ in REFERENCES])
def test_spoken_references_keep_spelled_letters_and_digits(heard: str, reference: str) -> None:
    assert spoken_reference(heard) == reference


def test_a_shop_with_another_prefix_names_it() -> None:
    assert spoken_reference("ret 42", prefixes=("RET",)) == "RET42"
    assert spoken_reference("ret 42") == "42"


@pytest.mark.parametrize("stored", ["RMA-2024-00123", "rma 2024 00123", "RMA202400123"])
def test_references_compare_by_letters_and_digits_only(stored: str) -> None:
    assert reference_key(stored) == spoken_reference("R M A two oh two four oh oh one two three")


@pytest.mark.parametrize(
    "digits, formatted",
    [
        (ORDER, "112-4455667-1234567"),
        ("00000000000000000", "000-0000000-0000000"),
        (ORDER[:-1], None),
        (ORDER + "8", None),
        ("", None),
        ("112-4455667-1234567", None),
        ("1124455667123456x", None),
        ("\u0661" * 17, None),  # Arabic-Indic digits are digits to str.isdigit, not to the shop
    ],
    ids=["17 digits", "all zeros", "16 digits", "18 digits", "empty", "already formatted", "a letter", "non-ascii"],
)
def test_only_seventeen_digits_format_as_an_order_number(digits: str, formatted: str | None) -> None:
    assert format_order_number(digits) == formatted


@pytest.mark.parametrize(
    "value, said",
    [
        ("112-44", "1 1 2, 4 4"),
        ("112-4455667-1234567", "1 1 2, 4 4 5 5 6 6 7, 1 2 3 4 5 6 7"),
        ("2024", "2 0 2 4"),
        ("112 44", "1 1 2, 4 4"),
        ("--112--", "1 1 2"),
        ("RMA-2024-00123", "R M A, 2 0 2 4, 0 0 1 2 3"),
        ("rma-7", "R M A, 7"),
        ("", ""),
    ],
    ids=["two groups", "order number", "one group", "space", "stray dashes", "rma", "lower-case rma", "empty"],
)
def test_numbers_are_read_back_digit_by_digit_with_a_pause_at_each_dash(value: str, said: str) -> None:
    assert say_digits(value) == said


# A main menu as the menu file would give it: intent -> what callers say for it.
MAIN_MENU: dict[str, list[str]] = {
    "track_order": [
        "track my order",
        "track a package",
        "where is my order",
        "where is my package",
        "where is my stuff",
        "order status",
        "delivery status",
        "tracking",
        "has not arrived",
        "when will it arrive",
        "when will my order come",
        "package",
        "shipping",
    ],
    "returns": [
        "returns",
        "return status",
        "refund",
        "refund status",
        "check on my refund",
        "did my refund go through",
        "sent something back",
        "send it back",
        "money back",
        "return an item",
    ],
    "agent": [
        "agent",
        "representative",
        "operator",
        "talk to a person",
        "speak to someone",
        "real person",
        "human",
        "customer service",
        "somebody",
    ],
}

# What the caller said -> the intent the menu should take, or None to ask again.
INTENTS: list[tuple[str, str | None]] = [
    # Tracking an order.
    ("Where's my package?", "track_order"),
    ("wheres my package", "track_order"),  # a recogniser that drops apostrophes
    ("where is my order", "track_order"),
    ("Track my order, please.", "track_order"),
    ("It hasn't arrived yet.", "track_order"),
    ("delivery status", "track_order"),
    ("When will my stuff come?", "track_order"),  # every word belongs to tracking, though no phrase matches
    ("I'm trying to track a package", "track_order"),
    ("track my packages", "track_order"),  # a plural, and "my" for "a"
    ("my package still hasn't shown up", "track_order"),
    ("has my order shipped", "track_order"),  # shipped ~ shipping
    ("my order never came", "track_order"),  # came ~ come
    ("tracking number", "track_order"),
    ("where is my stuff", "track_order"),
    # Returns and refunds.
    ("I want to check on my refund", "returns"),
    ("return status", "returns"),
    ("Did my refund go through?", "returns"),
    ("I sent something back", "returns"),
    ("I just want my money back", "returns"),
    ("refunds", "returns"),
    ("I returned an item last week and I haven't been refunded", "returns"),
    ("Where is my refund?", "returns"),  # "where is my" alone does not make it tracking
    ("How do I return something?", "returns"),
    ("I'd like to send it back", "returns"),
    ("has my refund been processed", "returns"),
    # A person.
    ("representative", "agent"),
    ("Agent.", "agent"),
    ("I want to talk to a person", "agent"),
    ("operator", "agent"),
    ("human please", "agent"),
    ("customer service", "agent"),
    ("Can I speak to a real person?", "agent"),
    ("let me talk to somebody", "agent"),
    ("representative representative", "agent"),
    ("get me an agent", "agent"),
    ("I need to speak with a human being", "agent"),
    # Nothing the menu offers, or too vague to choose.
    ("", None),
    ("um", None),
    ("hello?", None),
    ("yes", None),
    ("what's the weather like", None),
    ("I want to buy a new Kindle", None),
    ("Stop calling me", None),
    ("I'm calling about my order", None),  # an order, but tracking or returning it?
    # Two choices explain the words about equally well: ask again rather than guess.
    ("status", None),
    ("I want a refund and I also want to track my package", None),
]


@pytest.mark.parametrize("heard, intent", INTENTS, ids=[heard or "<silence>" for heard, _ in INTENTS])
def test_what_callers_say_at_the_main_menu_picks_the_right_choice(heard: str, intent: str | None) -> None:
    matched = match_intent(heard, MAIN_MENU)
    assert (matched.name if matched else None) == intent


def test_saying_a_synonym_exactly_is_full_confidence() -> None:
    assert match_intent("Representative.", MAIN_MENU) == Intent("agent", 1.0)


@pytest.mark.parametrize(
    "heard, recogniser_confidence, confidence",
    [
        ("where's my package", None, 1.0),
        ("where's my package", 0.0, 1.0),  # Google's "not reported", not "certainly wrong"
        ("where's my package", 0.81, 0.9),
        ("where's my package", 0.25, 0.5),
        ("where's my package", 1.5, 1.0),  # out of range is clamped, never a boost
    ],
    ids=["not given", "zero means not reported", "high", "low but enough", "out of range"],
)
def test_the_recognisers_confidence_discounts_ours(
    heard: str, recogniser_confidence: float | None, confidence: float
) -> None:
    matched = match_intent(heard, MAIN_MENU, recogniser_confidence)
    assert matched is not None
    assert (matched.name, matched.confidence) == ("track_order", pytest.approx(confidence, abs=0.001))


def test_a_doubtful_transcript_of_a_good_phrase_is_not_trusted() -> None:
    assert match_intent("where's my package", MAIN_MENU, 0.16) is None


def test_a_phrase_said_amid_other_words_is_less_certain_than_said_alone() -> None:
    alone = match_intent("human", MAIN_MENU)
    amid = match_intent("get me a human", MAIN_MENU)
    assert alone is not None and amid is not None
    assert alone.confidence > amid.confidence >= 0.8


def test_the_synonyms_come_from_the_menu_not_the_code() -> None:
    billing = {"billing": ["invoice", "charge on my card"], "agent": ["agent"]}
    matched = match_intent("there's a charge on my card I don't recognise", billing)
    assert matched is not None and matched.name == "billing"
    assert match_intent("where's my package", billing) is None


# A confirmation menu as the menu file gives it: phrases made of words that mean little elsewhere.
CLOSING_MENU: dict[str, list[str]] = {
    "yes": ["yes", "yeah", "that's right"],
    "no": ["no", "nope", "that's not it"],
    "goodbye": ["goodbye", "that's it", "no thanks"],
}


@pytest.mark.parametrize(
    "heard, intent",
    [
        ("yes", "yes"),
        ("Yeah.", "yes"),
        ("yes please", "yes"),
        ("that's right", "yes"),
        ("that's it", "goodbye"),  # the menu's phrase, although every word of it is a common one
        ("no thanks", "goodbye"),  # the whole phrase beats "no" inside it
        ("nope", "no"),
        ("is it there", None),  # "that", "is", "it" scattered are not "that's it"
        ("hmm", None),
    ],
    ids=["yes", "yeah", "yes please", "that's right", "that's it", "no thanks", "nope", "is it there", "hmm"],
)
def test_menu_phrases_made_of_common_words_match_when_said_as_written(heard: str, intent: str | None) -> None:
    matched = match_intent(heard, CLOSING_MENU)
    assert (matched.name if matched else None) == intent


def test_a_menu_with_no_choices_matches_nothing() -> None:
    assert match_intent("agent", {}) is None


def test_the_threshold_and_ambiguity_margin_can_be_tuned() -> None:
    # "I'm calling about my order" shares only "order" with tracking: about 0.43.
    assert match_intent("I'm calling about my order", MAIN_MENU, threshold=0.4) is not None
    # A refund (0.87) and tracking a package (0.93) are ambiguous at the default margin of 0.1, not at 0.05.
    both = match_intent("I want a refund and I also want to track my package", MAIN_MENU, margin=0.05)
    assert both is not None and both.name == "track_order"


ANSWERS: list[tuple[str, bool | None]] = [
    ("yes", True),
    ("Yes.", True),
    ("yeah", True),
    ("yep", True),
    ("yeah that's right", True),
    ("correct", True),
    ("that's right", True),
    ("right", True),
    ("that's the one", True),
    ("that's it", True),
    ("sure", True),
    ("absolutely", True),
    ("uh-huh", True),
    ("mm-hmm", True),
    ("yes please", True),
    ("yes it is", True),
    ("no", False),
    ("No.", False),
    ("nope", False),
    ("nah", False),
    ("no thanks", False),
    ("that's not it", False),
    ("wrong one", False),
    ("incorrect", False),
    ("not correct", False),
    ("that's not right", False),
    ("absolutely not", False),
    ("no it's not", False),
    ("it is not", False),
    ("it's the other one", False),  # "it is" opens a no here
    ("not that one", False),
    ("", None),
    # Agreement in everyday words: at "is that right?", "okay" and "I think so" mean yes.
    ("okay", True),
    ("OK.", True),
    ("okay thanks", True),
    ("I think so", True),
    ("I guess so", True),
    ("I guess", None),
    ("yeah, I believe so", True),
    ("sounds right", True),
    ("that sounds right", True),
    ("that's correct", True),
    ("I don't think so", False),
    ("no I don't think so", False),
    ("okay, no, that's wrong", False),
    ("not okay", False),
    ("okay, wait", None),  # "okay" with more to it is no answer yet
    ("okay but it came broken", None),
    ("hmm", None),
    ("maybe", None),
    ("I'm not sure", None),
    ("I don't know", None),
    ("yeah no", None),
    ("no, that's right", None),
    ("yes no", None),
    ("what?", None),
    ("can you repeat that", None),
]


@pytest.mark.parametrize("heard, answer", ANSWERS, ids=[heard or "<silence>" for heard, _ in ANSWERS])
def test_yes_and_no_are_heard_the_many_ways_people_say_them(heard: str, answer: bool | None) -> None:
    assert is_yes(heard) is answer


@pytest.mark.parametrize(
    ("said", "language"),
    [
        ("Hold on, let me turn the TV down.", "en"),
        ("Can you hang on a second?", "en"),
        ("Give me a minute.", "en"),
        ("Bear with me.", "en"),
        ("Let me find the email.", "en"),
        ("Just a sec.", "en"),
        ("Un momento, por favor.", "es"),
        ("Déjeme buscarlo.", "es"),
        ("Permítame un segundo.", "es"),
    ],
)
def test_asking_for_a_moment_is_recognised(said: str, language: str) -> None:
    assert asks_for_time(said, language=language)


@pytest.mark.parametrize(
    ("said", "language"),
    [
        ("Honey, where are my keys?", "en"),
        ("Wait, what?", "en"),
        ("I'll wait on the line.", "en"),
        ("Track my order.", "en"),
        ("", "en"),
        ("Sí.", "es"),
        ("¿Dónde está mi pedido?", "es"),
    ],
)
def test_other_words_are_not_asking_for_a_moment(said: str, language: str) -> None:
    assert not asks_for_time(said, language=language)
