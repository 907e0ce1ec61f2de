"""The main menu of the default tree, heard as Twilio sends speech: the four kinds of misses of issue 9,
requests the menu does not offer, and Confidence missing or 0."""

from __future__ import annotations

import pytest

from bench.speech import menu_intents
from ivr.speech import OFF_MENU, match_intent
from ivr.tree import DEFAULT_TREE, MenuNode, load_tree

MENU = menu_intents("en")


@pytest.mark.parametrize(
    "heard, intent",
    [
        # A question about an order asked as a yes/no question.
        ("Can you tell me if my order shipped?", "track"),
        ("Is my parcel out for delivery?", "track"),
        ("Did you get my return?", "returns"),
        # A long preamble with fillers before the point.
        ("Um, so, yeah, I was wondering if, uh, you could tell me where my package is.", "track"),
        ("Hi, yes, so I called last week and, um, I'd like to talk to a real person.", "agent"),
        # A problem stated instead of a request.
        ("The package never came.", "missing"),
        ("It says it was delivered, but it's not here.", "missing"),
        ("The mirror showed up cracked.", "damaged"),
        ("You sent me the wrong size.", "wrong_item"),
        ("It was supposed to be here on Monday.", "late"),
        # A request for something the menu does not offer: a person, not the menu again.
        ("I need to change my shipping address.", OFF_MENU),
        ("Can I cancel my order?", OFF_MENU),
        ("How do I update my payment method?", OFF_MENU),
        ("I want to complain about one of your agents.", OFF_MENU),
    ],
)
def test_the_kinds_of_misses_the_issue_lists_reach_the_right_place(heard: str, intent: str) -> None:
    matched = match_intent(heard, MENU)
    assert matched is not None and matched.name == intent


@pytest.mark.parametrize(
    "heard",
    ["Hello?", "Hold on, honey.", "Uh.", "Where are you going?", "When are you coming home?", "Can you hear me?"],
)
def test_noise_is_no_choice_at_all(heard: str) -> None:
    assert match_intent(heard, MENU) is None


def test_an_order_number_said_at_the_menu_is_for_tracking() -> None:
    matched = match_intent("My order number is 112-4455667-1234567.", MENU)
    assert matched is not None and matched.name == "track"


@pytest.mark.parametrize("confidence", [None, 0.0])
def test_confidence_missing_or_zero_means_not_reported(confidence: float | None) -> None:
    plain = match_intent("I need to change my address.", MENU)
    assert match_intent("I need to change my address.", MENU, confidence) == plain
    assert plain is not None and plain.name == OFF_MENU


def test_a_doubtful_transcript_of_an_off_menu_request_is_not_trusted() -> None:
    assert match_intent("I need to change my address.", MENU, 0.1) is None


def test_a_shop_that_offers_it_takes_the_request_to_its_own_choice() -> None:
    menu = {**MENU, "cancel": ["cancel an order", "cancel my order"]}
    matched = match_intent("Can I cancel my order?", menu)
    assert matched is not None and matched.name == "cancel"


def test_talk_about_an_order_without_a_request_is_asked_again() -> None:
    assert match_intent("I'm calling about my order.", MENU) is None


def test_a_shops_own_choice_outranks_a_request_the_default_menu_does_not_offer() -> None:
    menu = {**MENU, "gift_wrap": ["gift wrap"]}
    matched = match_intent("Can I add gift wrap to my order?", menu)
    assert matched is not None and matched.name == "gift_wrap"
    without = match_intent("Can I add gift wrap to my order?", MENU)
    assert without is not None and without.name == OFF_MENU


@pytest.mark.parametrize(
    "heard, intent",
    [
        # Ordered one thing, got another; a wrong size or colour; a mixed-up or partial order.
        ("I bought a green lamp and they shipped me a yellow one.", "wrong_item"),
        ("The box had socks in it but I ordered gloves.", "wrong_item"),
        ("I ordered the large and it's a small.", "wrong_item"),
        ("They sent the wrong colour.", "wrong_item"),
        ("Somebody mixed up my order.", "wrong_item"),
        ("I ordered six glasses and only four arrived.", "wrong_item"),
        ("My order is missing a part.", "wrong_item"),
        ("These are not the boots I paid for.", "wrong_item"),
        ("This box is somebody else's.", "wrong_item"),
        ("I got a twin sheet but I needed a full.", "wrong_item"),
        ("You guys shipped only part of my order.", "wrong_item"),
        ("The label on the box is made out to somebody else.", "wrong_item"),
        ("I'm missing an item from the order.", "wrong_item"),
        ("The listing showed oak but this is pine.", "wrong_item"),
        # A defect, in the words people use for one.
        ("The kettle is faulty.", "damaged"),
        ("My new blender leaks everywhere.", "damaged"),
        ("The vase came shattered.", "damaged"),
        ("The tablet won't turn on.", "damaged"),
        ("The earbuds stopped working after a day.", "damaged"),
        ("Only the right earbud works.", "damaged"),
        ("The lamp was broken when it arrived.", "damaged"),
        ("There's a long scratch on the desk.", "damaged"),
        ("The shelf came in three pieces.", "damaged"),
        ("The battery was dead on arrival.", "damaged"),
        ("The washer isn't draining.", "damaged"),
        ("The fan makes a rattling sound.", "damaged"),
        ("The drawer won't close and a knob came off.", "damaged"),
        # Marked delivered, but not here; left at another door; a photo of someone else's porch.
        ("The app shows it was dropped off but there's nothing on my porch.", "missing"),
        ("They left my parcel at the wrong address.", "missing"),
        ("My neighbour took my parcel and won't give it back.", "missing"),
        ("Someone swiped it off my porch.", "missing"),
        ("The drop off photo is of a garage I've never seen.", "missing"),
        ("The picture they took is of a house that's not mine.", "missing"),
        # Late: a date that keeps moving or has passed, a parcel that stopped.
        ("The delivery date keeps getting pushed.", "late"),
        ("My parcel has been stuck at the depot for a week.", "late"),
        ("I was told it would be here by Friday and it's still not here.", "late"),
        ("The tracking hasn't updated in days.", "late"),
        ("It's shown in transit since the 3rd.", "late"),
        ("The shipment is a week late.", "late"),
        ("Where's my order? It's really late.", "late"),
        ("It ain't here.", "missing"),
        ("The present didn't arrive in time for the party.", "late"),
        ("It still says label created, after a week.", "late"),
        ("My order is running behind.", "late"),
    ],
)
def test_a_problem_is_understood_from_the_form_of_the_sentence(heard: str, intent: str) -> None:
    matched = match_intent(heard, MENU)
    assert matched is not None and matched.name == intent


@pytest.mark.parametrize(
    "heard",
    [
        "Is the toaster oven safe to use outside?",
        "Does the vacuum come with a warranty?",
        "Are you guys hiring for the holidays?",
        "What time does the store close tonight?",
        "How much is left on my gift card?",
        "My coupon code isn't working.",
        "I want to apply for a store card.",
        "Do you sell replacement filters?",
        "What are your holiday hours?",
        "Is there a store in Austin?",
        "I'd like to place a new order.",
        "Where can I leave a review?",
        "Is the vacuum rechargeable?",
        "Can you gift wrap it?",
    ],
)
def test_a_question_about_the_shops_other_business_reaches_a_person(heard: str) -> None:
    matched = match_intent(heard, MENU)
    assert matched is not None and matched.name == OFF_MENU


@pytest.mark.parametrize(
    "heard, intent",
    [
        ("Treck my package.", "track"),
        ("Where's my pack age?", "track"),
        ("I want a re fund.", "returns"),
        ("Representive please.", "agent"),
        ("My parcel is delayd.", "late"),
    ],
)
def test_a_recognisers_slip_is_read_as_the_word_meant(heard: str, intent: str) -> None:
    matched = match_intent(heard, MENU)
    assert matched is not None and matched.name == intent


@pytest.mark.parametrize(
    "heard",
    [
        "Stop that, put it down.",
        "Turn the radio down, please.",
        "Pardon me?",
        "See you on Monday.",
        "Breaking news this evening.",
        "How are you doing?",
        "Zero in on the target, boys.",
        "Oh.",
        "Oops, wrong number.",
        "Hurry up, we're late.",
        "Where did you leave the car keys?",
        "I'm dead tired today.",
        "Hang on, somebody's at the door.",
        "I'll return your call later.",
    ],
)
def test_words_near_the_menus_words_are_still_noise(heard: str) -> None:
    assert match_intent(heard, MENU) is None


def test_a_sentences_form_goes_only_to_a_choice_whose_phrases_name_the_problem() -> None:
    without = {name: phrases for name, phrases in MENU.items() if name != "wrong_item"}
    matched = match_intent("I ordered a red mug and you sent me a blue one.", without)
    assert matched is None or matched.name != "wrong_item"


@pytest.mark.parametrize(
    "heard, intent",
    [
        ("I need to start a return for a cracked mirror I don't want.", "returns"),
        ("Can I talk to someone about a damaged order?", "agent"),
        ("I ordered a desk and got a confirmation email, when will it come?", "track"),
        ("I never received a shipping confirmation for my order.", "track"),
        ("When will my late order arrive?", "late"),
    ],
)
def test_a_request_or_a_question_is_not_taken_for_a_problem_told(heard: str, intent: str) -> None:
    matched = match_intent(heard, MENU)
    assert matched is not None and matched.name == intent


def test_a_shop_that_offers_its_hours_takes_a_question_about_them() -> None:
    menu = {**MENU, "hours": ["store hours", "opening hours", "when are you open"]}
    matched = match_intent("Hi, what are your store hours?", menu)
    assert matched is not None and matched.name == "hours"


@pytest.mark.parametrize(
    "heard, intent",
    [
        # Following up on an order, or an order still processing: a tracking question.
        ("I'm calling to follow up on my order.", "track"),
        ("I'd like to ask about my order.", "track"),
        # Asking about an order and telling the problem: the problem decides.
        ("I want to ask about my order, it's more than a week late.", "late"),
        ("I'd like to follow up on my order, it never came.", "missing"),
        ("My order says it's still processing.", "track"),
        ("I can't see any tracking information for my package.", "track"),
        ("I've been trying to check how far along my shipment is.", "track"),
        # A question asked after a preamble.
        ("I bought a blender last week and I was just wondering, will it arrive before Saturday?", "track"),
        # Taken or signed for by someone else, or nowhere to be found.
        ("A thief snatched my parcel off the steps.", "missing"),
        ("Somebody else signed for my delivery but nobody was home.", "missing"),
        ("The app says delivered but the box is nowhere to be found.", "missing"),
        # Expected one thing, another came; a part left out; fewer than the set should have.
        ("I was expecting a blue lamp but what arrived was a green one.", "wrong_item"),
        ("The screws were not included in the box.", "wrong_item"),
        ("The pack should have had twelve pens and there were only ten.", "wrong_item"),
        ("I received the console but not the controller.", "wrong_item"),
        # Battered or soaked in transit.
        ("The box came all beat up and the vase inside was soaked.", "damaged"),
        # Past the promised time, or longer than said.
        ("It's a week past the expected delivery date.", "late"),
        ("They told me it would arrive Tuesday and now it's Friday.", "late"),
        ("The estimated date was Monday and still nothing.", "late"),
        ("This is taking a lot longer than expected.", "late"),
        # An empty box; a size or a colour that is not the one ordered; a wobble or a line on the screen.
        ("The box was empty when I opened it.", "wrong_item"),
        ("There was nothing inside the package.", "wrong_item"),
        ("The shirt is a medium but I asked for a large.", "wrong_item"),
        ("The chair wobbles and one leg is shorter.", "damaged"),
        ("The TV screen has a big line through it.", "damaged"),
        # Not wanting a machine is wanting a person.
        ("I don't want to talk to a robot.", "agent"),
    ],
)
def test_more_kinds_of_requests_and_problems_told_in_a_sentence(heard: str, intent: str) -> None:
    matched = match_intent(heard, MENU)
    assert matched is not None and matched.name == intent


@pytest.mark.parametrize(
    "heard",
    [
        # Things given back that no shop sold, a song's or a race's track, food ordered in.
        "Please return these books to the library on your way.",
        "Return the tray to the kitchen please.",
        "Skip to track nine, I love that song.",
        "He's running on the track after school.",
        "Can we order pizza for dinner tonight?",
        # An arrival asked about that is the household's, not a parcel.
        "Did the newspaper come this morning?",
        "Did grandma get here yet?",
        # Telling a child what they can't have; the household's own things lost.
        "No sweetie, you can't have candy before dinner.",
        "Where's my phone? I can't find my keys.",
        # A rental given back, coming back from a trip, back to the menu, steps tracked, someone else's parcel.
        "I have to return the car to the rental place by five.",
        "I'm returning from vacation next week.",
        "Can I return to the main menu?",
        "He needs to track his steps on the watch.",
        "Did your package come?",
        "Where did you put the box?",
        "I'm going to return to bed.",
        # The household's losses, and a dish given back to a neighbour.
        "Someone stole my wallet on the bus.",
        "I lost my keys again.",
        "The dog is missing.",
        "Give the plate back to the neighbour.",
        # Taxes, a loan paid back, a sport.
        "My refund from the IRS came today.",
        "I need to file my tax return.",
        "I'll pay you back on Friday.",
        "Track and field starts Monday.",
    ],
)
def test_shop_words_in_household_talk_are_never_sent_to_a_lookup(heard: str) -> None:
    assert match_intent(heard, MENU) is None


@pytest.mark.parametrize(
    "heard",
    [
        "Does the sofa come in grey?",
        "Is this jacket available in a large?",
        "Do you all ship to Puerto Rico?",
        "I was charged but the payment never went through.",
        "How much is shipping to Alaska?",
        "Do you have free shipping?",
    ],
)
def test_product_shipping_and_payment_questions_reach_a_person_not_a_lookup(heard: str) -> None:
    matched = match_intent(heard, MENU)
    assert matched is not None and matched.name == OFF_MENU


def test_an_arrival_question_about_the_parcel_still_asks_when() -> None:
    for heard in ("Did the package come yet?", "Is it coming today?", "Is my order on the way?"):
        matched = match_intent(heard, MENU)
        assert matched is not None and matched.name == "track", heard


def test_a_denied_find_or_have_is_a_missing_parcel_only_when_it_is_about_the_parcel() -> None:
    for heard in ("I can't find my package anywhere.", "I don't have it yet.", "I never got my order."):
        matched = match_intent(heard, MENU)
        assert matched is not None and matched.name == "missing", heard
    assert match_intent("I can't find the remote.", MENU) is None


@pytest.mark.parametrize("heard", ["I will be there at 5.", "Give me 2 minutes, honey.", "Room 12, please."])
def test_a_small_number_is_a_count_or_a_name_not_an_order_number(heard: str) -> None:
    # Only enough digits to be a reference make a number worth looking up; "at 5" is a time.
    assert match_intent(heard, MENU) is None


@pytest.mark.parametrize(
    "heard, intent",
    [
        # Asked when it will be delivered, or for the delivery date, is asked when it arrives.
        ("Could you tell me when my parcel is getting delivered?", "track"),
        ("I just need to know when the order gets delivered", "track"),
        ("what's the estimated arrival date", "track"),
        ("What is the delivery date for my order?", "track"),
        # ... but changing the date is the shop's other business, and a date gone by is late.
        ("I want to change the delivery date", OFF_MENU),
        ("can I reschedule my delivery", OFF_MENU),
        ("Could I postpone the delivery until I'm back?", OFF_MENU),
        ("They rescheduled my delivery again.", "late"),
        ("the shipping company keeps postponing it", "late"),
    ],
)
def test_the_day_it_comes_is_asked_for_tracking_and_changing_it_is_for_a_person(heard: str, intent: str) -> None:
    matched = match_intent(heard, MENU)
    assert matched is not None and matched.name == intent


@pytest.mark.parametrize(
    "heard, intent",
    [
        # A refund or a return taking long is for returns; a delivery taking long is late.
        ("I sent the boots back ages ago and still no refund", "returns"),
        ("my refund is taking forever", "returns"),
        ("The return I mailed three weeks ago still hasn't been processed, it's been ages.", "returns"),
        ("I paid good money and it's two weeks late", "late"),
        # A person asked for bluntly, whatever else is said; "let me think" asks for nothing.
        ("this menu is not working, get me an agent", "agent"),
        ("let me speak to someone please", "agent"),
    ],
)
def test_what_the_caller_asks_for_outranks_the_words_around_it(heard: str, intent: str) -> None:
    matched = match_intent(heard, MENU)
    assert matched is not None and matched.name == intent


def test_let_me_think_asks_for_nothing() -> None:
    assert match_intent("Let me think, where did I leave my keys", MENU) is None


@pytest.mark.parametrize(
    "heard, intent",
    [
        # Told it was delivered, in the present ("saying", "showing"), or dropped off by the driver.
        ("I have a text saying it was delivered at noon but there's nothing", "missing"),
        ("the app is showing delivered and I don't have it", "missing"),
        ("the courier claims he dropped the parcel off but it isn't here", "missing"),
        ("the driver left it somewhere, I cannot find it", "missing"),
        # Part of what was ordered not in the box: an incomplete order, as wrong items are.
        ("the cable wasn't in there", "wrong_item"),
        ("two of the glasses were missing", "wrong_item"),
        ("the remote wasn't in it", "wrong_item"),
        # Destroyed, wrecked or trashed on the way is damaged.
        ("my package was wrecked", "damaged"),
        ("the box showed up totally destroyed", "damaged"),
        # Paying by instalments is the shop's other business.
        ("Do you offer instalments?", OFF_MENU),
        ("can I pay monthly", OFF_MENU),
    ],
)
def test_more_ways_of_telling_a_problem_reach_the_right_place(heard: str, intent: str) -> None:
    matched = match_intent(heard, MENU)
    assert matched is not None and matched.name == intent


@pytest.mark.parametrize(
    "heard, intent",
    [
        # "Turned up" is arrived, as "showed up" is.
        ("my parcel hasn't turned up", "missing"),
        ("the delivery never turned up", "missing"),
        # Told when it would come, and it has not.
        ("I was told it'd be here Tuesday", "late"),
        ("we were told it would come by the weekend", "late"),
        # "Says out for delivery" is where it is, not a delivery the caller never had; stuck there is late.
        ("my order says out for delivery since yesterday", "late"),
        ("the tracking shows out for delivery, when will it get here?", "track"),
        # A box that burst or came open is damaged.
        ("the package came open and stuff fell out", "damaged"),
        ("the box had burst open", "damaged"),
        # A question after a greeting or a filler is still a question.
        ("hi, is my parcel coming today?", "track"),
    ],
)
def test_more_ways_callers_say_where_it_is_and_what_went_wrong(heard: str, intent: str) -> None:
    matched = match_intent(heard, MENU)
    assert matched is not None and matched.name == intent


@pytest.mark.parametrize(
    "heard", ["sorry I was talking to my husband", "hang on, I'm speaking to my son", "talk to your sister about it"]
)
def test_talking_to_someone_of_the_household_is_no_request_for_a_person(heard: str) -> None:
    assert match_intent(heard, MENU) is None


@pytest.mark.parametrize(
    "heard",
    ["They sent me a different order.", "I received someone else's order", "I got a completely different order."],
)
def test_a_different_order_received_is_still_a_wrong_item(heard: str) -> None:
    matched = match_intent(heard, menu_intents("en"))
    assert matched is not None and matched.name == "wrong_item"


@pytest.mark.parametrize(
    ("heard", "language"),
    [("Mi pedido.", "es"), ("Mi orden", "es"), ("Llamo por mi pedido.", "es"), ("Es sobre mi pedido", "es")],
)
def test_the_order_named_alone_is_tracking_it(heard: str, language: str) -> None:
    matched = match_intent(heard, menu_intents(language), language=language)
    assert matched is not None and matched.name == "track"


@pytest.mark.parametrize(
    "heard", ["Call me back when someone's free.", "Just call me when an agent is available", "keep my place"]
)
def test_asking_to_be_called_when_someone_is_free_is_a_callback_not_a_person(heard: str) -> None:
    intents = load_tree(DEFAULT_TREE).intents_in("en")
    choices = {name: intents[name] for name in ("call_back", "other_number", "hold", "agent")}
    matched = match_intent(heard, choices)
    assert matched is not None and matched.name == "call_back"


def _main_menu(language: str) -> dict[str, tuple[str, ...]]:
    """Every choice of the default tree's main menu, in `language`, as ivr.flow matches them."""
    tree = load_tree(DEFAULT_TREE)
    main = tree.start_node
    assert isinstance(main, MenuNode)
    intents = tree.intents_in(language)
    return {option.intent: intents.get(option.intent, ()) for option in main.options}


@pytest.mark.parametrize("language", ["en", "es"])
def test_every_phrase_of_a_return_to_start_and_of_one_to_check_chooses_its_own(language: str) -> None:
    intents = load_tree(DEFAULT_TREE).intents_in(language)
    for name in ("start_return", "returns"):
        for phrase in intents[name]:
            matched = match_intent(phrase, _main_menu(language), language=language)
            assert matched is not None and matched.name == name, (phrase, matched)


@pytest.mark.parametrize(
    ("heard", "language", "intent"),
    [
        ("I'd like to return these shoes, they don't fit.", "en", "start_return"),
        ("Can I send the blender back?", "en", "start_return"),
        ("I need to start a return for a broken toaster.", "en", "start_return"),
        ("I haven't returned it yet.", "en", "start_return"),
        ("I returned it last week, where's my money?", "en", "returns"),
        ("I want to check on my return.", "en", "returns"),
        ("¿Cómo devuelvo unos zapatos?", "es", "start_return"),
        ("Ya devolví el producto, ¿dónde está mi reembolso?", "es", "returns"),
    ],
)
def test_a_return_to_start_is_told_from_one_to_check(heard: str, language: str, intent: str) -> None:
    matched = match_intent(heard, _main_menu(language), language=language)
    assert matched is not None and matched.name == intent, matched


@pytest.mark.parametrize(
    ("heard", "language"),
    [
        ("I need to return the library books.", "en"),
        ("Can I return to the main menu?", "en"),
        ("Tengo que devolver el carro a la renta a las cinco.", "es"),
        ("¿Puedo regresar al menú principal?", "es"),
    ],
)
def test_giving_back_what_no_shop_sold_is_no_return_to_start(heard: str, language: str) -> None:
    matched = match_intent(heard, _main_menu(language), language=language)
    assert matched is None or matched.name != "start_return", matched


@pytest.mark.parametrize(
    "heard", ["I'm calling about my order.", "I called yesterday and nobody answered.", "I'm calling to check on it."]
)
def test_the_callers_own_call_is_no_request_to_be_called_back(heard: str) -> None:
    intents = load_tree(DEFAULT_TREE).intents_in("en")
    matched = match_intent(heard, {**_main_menu("en"), "call_back": intents["call_back"]})
    assert matched is None or matched.name != "call_back", matched


@pytest.mark.parametrize(
    "heard, language, intent",
    [
        # Regional words and a recogniser's homophones and splits.
        ("whereabouts is my parcel", "en", "track"),
        ("wares my order", "en", "track"),
        ("when can I expect my order", "en", "track"),
        ("when is my package due", "en", "track"),
        ("I'd like to re turn something", "en", "returns"),
        ("can I get a gent", "en", "agent"),
        # A loss, a part missing from the box that came, a delivery overdue.
        ("nobody has my parcel, the neighbours checked", "en", "missing"),
        ("two things are missing from the box", "en", "wrong_item"),
        ("my order's been a fortnight now", "en", "late"),
        ("the courier missed the delivery window", "en", "late"),
        # Another thing in place of the one ordered, said without "and" or "but".
        ("they sent me the large instead of the small", "en", "wrong_item"),
        ("I ordered a lamp got a clock", "en", "wrong_item"),
        ("the package contained shoes, we ordered boots", "en", "wrong_item"),
        # A message that told the caller something is news of the order, not a question about email.
        ("I got an email saying it was delivered but it's not here", "en", "missing"),
        ("dónde anda mi encomienda", "es", "track"),
        ("quiero un reintegro", "es", "returns"),
        ("llegó todo estropeado", "es", "damaged"),
        ("en lugar de la camisa azul me llegó una roja", "es", "wrong_item"),
        ("el paquete lleva diez días sin moverse", "es", "late"),
    ],
)
def test_regional_words_slips_and_problems_told_indirectly_reach_their_choice(
    heard: str, language: str, intent: str
) -> None:
    matched = match_intent(heard, _main_menu(language), language=language)
    assert matched is not None and matched.name == intent, matched


@pytest.mark.parametrize(
    "heard, language",
    [("my card keeps getting declined", "en"), ("is there a shop I can go to in person", "en")],
)
def test_a_card_declined_or_a_shop_to_visit_is_off_the_menu(heard: str, language: str) -> None:
    matched = match_intent(heard, _main_menu(language), language=language)
    assert matched is not None and matched.name == OFF_MENU, matched
