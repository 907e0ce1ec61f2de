"""Walks the phone tree for one call: each webhook brings one input, and gets the next TwiML back.

Nothing lives in process memory: where the caller is, their language, their counters and what we
are holding for them (a number to confirm, the last answer) are in the IvrSession row, so any
worker of any process can take the next webhook of the call.

Every sentence a caller hears comes from the tree (its nodes' prompts and its `texts:`); this module
names them by key, so a shop can reword them and every language has them all. Handing the caller to
a person (connect, callback, hold, a closed line) is ivr.handover's.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from string import ascii_letters
from typing import Any, NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from callback.models import CALLER_ID_DOUBTED
from core import phone as phones
from core.clock import Clock
from ivr import answers, handover, speech
from ivr.call import DEFAULT_VOICE, Call, given_time, load, lost, open_session, save
from ivr.models import IvrSession
from ivr.tree import (
    MAIN_MENU,
    MAIN_MENU_DIGIT,
    MAX_HINTS,
    REPEAT,
    HangupNode,
    LookupNode,
    MenuNode,
    Node,
    Option,
    SayNode,
    TransferNode,
    Tree,
)
from ivr.twiml import Part, Voiced
from orders.port import LookupUnavailable, OrderInfo

log = logging.getLogger(__name__)

# Below this the recogniser's transcript of a number is read back for confirmation, not trusted.
TRUST_CONFIDENCE = 0.6
# Orders placed this recently are offered to a recognised caller.
RECENT_ORDERS = timedelta(days=60)
# A number that is not found gets this many more tries before the caller is passed to a person.
NOT_FOUND_RETRIES = 1
# The yes-or-no questions beside a number ("Are you calling about your order ...?", "I heard ..., is that
# right?") take several keys, ended by # or by this many seconds without one (Twilio's <Gather timeout>,
# which is also the wait for the first key): a lone 1 is yes once it has passed, and a caller who types
# their whole order number instead (order numbers start with 1, the yes key) has that number used.
YES_NO_TIMEOUT = 3


# -- entry points ---------------------------------------------------------------------------------


def start(call: Call, call_sid: str, caller: str, called: str, verstat: str = "") -> str:
    """A new inbound call: greet, offer a recognised caller their latest order, else the start node.
    A retried webhook does not start twice. `verstat` is Twilio's StirVerstat, when it sent one."""
    # A recognised caller's latest order is looked up before the session is written, so a new call
    # costs one read and one insert.
    lookup = _recognising_lookup(call.tree)
    doubted = caller_id_doubted(verstat)
    order = _recent_order(call, caller) if lookup is not None and not doubted else None
    state: dict[str, Any] = {DOUBTED: True} if doubted else {}
    if lookup is not None:
        state.update(offered=True, **({"offer": order.number} if order is not None else {}))
    ivr = open_session(call, call_sid, caller, called, state)
    greeting = call.sound(call.tree.greeting, call.tree.greeting_play)
    if lookup is not None and order is not None and ivr.get_state().get("offer") == order.number:
        return _ask_offer(call, ivr, lookup, order, (greeting,))
    return render(call, ivr, call.tree.start, prefix=(greeting,))


def handle(
    call: Call,
    call_sid: str,
    node_name: str,
    mode: str,
    digits: str,
    said: str,
    confidence: float | None,
    finished_on_key: str = "",
) -> str:
    """One answer from the caller at a node. `finished_on_key`: the key that ended keyed digits ("#"),
    "" when the caller stopped pressing keys and the gather's timeout sent what they had keyed."""
    ivr = load(call, call_sid)
    if ivr is None:
        return lost(call)
    if node_name not in call.tree.nodes:
        # A menu edited since this call's last prompt (or a tampered URL): ask again where they were.
        where = ivr.node if ivr.node in call.tree.nodes else call.tree.start
        return render(call, ivr, where, retry="no_match")
    node = call.tree.node(node_name)
    if _asks_for_main_menu(call, node, mode, digits, said, confidence):
        return _to_main_menu(call, ivr, node_name, digits, said)
    if mode == "offer" and isinstance(node, LookupNode):
        return _offer_input(call, ivr, node_name, node, digits, said, confidence)
    if isinstance(node, MenuNode):
        return _menu_input(call, ivr, node_name, node, digits, said, confidence)
    if isinstance(node, LookupNode):
        return _lookup_input(call, ivr, node_name, node, mode, digits, said, confidence, finished_on_key)
    if isinstance(node, TransferNode):
        return handover.transfer_input(call, ivr, node_name, node, mode, digits, said, confidence)
    return render(call, ivr, node_name)


def call_ended(session: Session, clock: Clock, call_sid: str) -> None:
    """The inbound call is over: close the session; a caller who just hung up was still contained
    if they had their answer, and abandoned otherwise."""
    handover.hold_ended(session, clock, None, call_sid, "hangup")
    ivr = session.scalar(select(IvrSession).where(IvrSession.call_sid == call_sid))
    if ivr is None or ivr.ended_at is not None:
        return
    ivr.end(clock.now())
    session.commit()


# Where "main menu" (the tree's main_menu intent) or the * key is heard: every menu, the number
# questions (the offer, the number, its read-back) and the offers of a transfer; not while a caller
# keys the number to call back, where the keys are the number.
_MAIN_MENU_MODES = frozenset({"", "offer", "ref", "confirm", "callback", "unstaffed", "closed"})


def _asks_for_main_menu(call: Call, node: Node, mode: str, digits: str, said: str, confidence: float | None) -> bool:
    """Whether the caller asks to start again from the main menu, wherever they are: * alone (at a menu
    that gives * no option of its own), or words the tree's intents read as main_menu above all others
    (so "call me back" and "send it back" stay what they are), with no number among them."""
    if mode not in _MAIN_MENU_MODES or isinstance(node, MenuNode) and node.option_for_intent(MAIN_MENU):
        return False  # a menu whose own option is "main menu" takes it where it says
    if digits:
        return digits == MAIN_MENU_DIGIT and not (isinstance(node, MenuNode) and node.option_for_digit(MAIN_MENU_DIGIT))
    if not said or len(speech.spoken_digits(said, language=call.lang).digits) >= SHORTEST_SPOKEN_REFERENCE:
        return False
    intents = call.tree.intents_in(call.lang)
    # Heard on every spoken answer: the full match against every intent the tree knows costs about a
    # millisecond, so it runs only for words that could mean "main menu" at all.
    if MAIN_MENU not in intents or not speech.could_mean(said, intents[MAIN_MENU], language=call.lang):
        return False
    intent = speech.match_intent(said, intents, confidence, language=call.lang)
    return intent is not None and intent.name == MAIN_MENU


def _to_main_menu(call: Call, ivr: IvrSession, name: str, digits: str, said: str) -> str:
    """Back to the start node, as if the call had just begun there: nothing pending, nothing counted."""
    ivr.add_step(
        call.clock.now(),
        node=name,
        kind="main_menu",
        digits=digits or None,
        speech=said or None,
        result=call.tree.start,
    )
    state = ivr.get_state()
    state.pop("pending", None)
    ivr.set_state(state)
    _reset_counters(ivr)
    return render(call, ivr, call.tree.start)


# -- rendering a node -----------------------------------------------------------------------------


def render(
    call: Call,
    ivr: IvrSession,
    name: str,
    prefix: tuple[Part, ...] = (),
    retry: str | None = None,
    lead_in: str | None = None,
    instead: str | None = None,
) -> str:
    """The TwiML that plays a node, after `prefix`.

    `retry` ("no_input" or "no_match") plays the node's words for that instead of its prompt, and
    `instead` other words still ("I couldn't find an order with that number. Please ...").
    `lead_in` says why the caller is here ("Let me get someone to help you."): at a transfer it
    replaces the transfer's own sentence, elsewhere it comes first."""
    node = call.tree.node(name)
    if ivr.node != name:
        ivr.node = name
        ivr.updated_at = call.clock.now()
    save(call, ivr)
    if lead_in and not isinstance(node, TransferNode):
        prefix, lead_in = (*prefix, lead_in), None
    if isinstance(node, MenuNode):
        also = _serve_also_asked(call, ivr, name, node, prefix) if _after_an_answer(call, node) else None
        if also is not None:
            return also
        return _render_menu(call, name, node, prefix, retry, instead)
    if isinstance(node, LookupNode):
        return _render_lookup(call, ivr, name, node, prefix, retry, instead)
    if isinstance(node, TransferNode):
        return handover.transfer(call, ivr, name, node, prefix, lead_in)
    if isinstance(node, SayNode):
        return render(call, ivr, node.next, prefix=(*prefix, call.sound(node.prompt, node.play)))
    if isinstance(node, HangupNode):
        ivr.settle_outcome()
        save(call, ivr)
        return str(call.reply().say(*prefix, call.sound(node.prompt, node.play)).hangup())
    raise AssertionError(f"unknown node type at {name}")


def _again(call: Call, node: MenuNode | LookupNode, retry: str) -> str:
    """The words for a second try: after silence, else after an answer we could not use."""
    # Always said, never the recording: it is another wording for a caller who did not follow.
    if retry == "no_input" and node.silence is not None:
        return call.words(node.silence)
    return call.words(node.reprompt)


def _render_menu(
    call: Call, name: str, node: MenuNode, prefix: tuple[Part, ...], retry: str | None, instead: str | None
) -> str:
    prompt = instead or (_again(call, node, retry) if retry else call.sound(node.prompt, node.play))
    return str(
        call.reply().gather(
            call.url(name),
            *prefix,
            prompt,
            *_language_offers(call, node),
            num_digits=1,
            hints=_menu_hints(call, node),
        )
    )


def _menu_hints(call: Call, node: MenuNode) -> list[str]:
    """The menu's own hints, then the words for going back to the main menu, which every menu hears."""
    own = call.tree.hints(node, call.lang)
    back = () if node.option_for_intent(MAIN_MENU) else call.intents(MAIN_MENU)[MAIN_MENU]
    return list(dict.fromkeys((*own, *back)))[:MAX_HINTS]


def _language_offers(call: Call, node: MenuNode) -> tuple[Part, ...]:
    """ "Para español, oprima 9": each option to another language, said in that language and its voice."""
    offers: list[Part] = []
    for option in node.options:
        if option.language and option.language != call.lang and option.digit:
            locale = call.tree.locale(option.language)
            words = call.tree.text("choose_language", option.language, digit=option.digit)
            offers.append(Voiced(words, locale.voice or DEFAULT_VOICE, locale.speech))
    return tuple(offers)


def _render_lookup(
    call: Call,
    ivr: IvrSession,
    name: str,
    node: LookupNode,
    prefix: tuple[Part, ...],
    retry: str | None,
    instead: str | None,
) -> str:
    if not retry and not instead and node.recognise_caller and not ivr.get_state().get("offered"):
        # Not asked with the greeting (the tree starts elsewhere, say): ask here, once per call.
        state = ivr.get_state()
        order = _recent_order(call, ivr.caller) if node.lookup == "order" and not state.get(DOUBTED) else None
        state.update(offered=True, **({"offer": order.number} if order is not None else {}))
        ivr.set_state(state)
        if order is not None:
            return _ask_offer(call, ivr, node, order, prefix)
        save(call, ivr)
    prompt = instead or (_again(call, node, retry) if retry else call.sound(node.prompt, node.play))
    return _ask_reference(call, name, (*prefix, prompt))


def _ask_reference(call: Call, name: str, said: tuple[Part, ...]) -> str:
    """Ask for an order or return number: keyed (ended by #) or said."""
    return str(
        call.reply().gather(
            call.url(name, mode="ref"),
            *said,
            finish_on_key="#",
            timeout=7,
            hints=_number_hints(call.lang),
            speech_timeout=NUMBER_SPEECH_TIMEOUT,
        )
    )


# Seconds of silence that end a number said aloud. "auto" ends it at the first natural pause, and
# Twilio offers no way to lengthen that pause; people reading 17 digits from an email pause between
# the groups. Longer pauses still are met by "I have ... so far, go on".
NUMBER_SPEECH_TIMEOUT = 2


def _number_hints(language: str) -> list[str]:
    # Words a recogniser may otherwise hear as something else when people read out a number.
    return ["guión", "doble", "cero"] if language == "es" else ["dash", "double", "oh"]


# -- a recognised caller: their latest order, offered first ----------------------------------------------


def _recognising_lookup(tree: Tree) -> LookupNode | None:
    """The order lookup that recognises callers, whose offer the greeting makes."""
    return next(
        (n for n in tree.nodes.values() if isinstance(n, LookupNode) and n.lookup == "order" and n.recognise_caller),
        None,
    )


def _ask_offer(call: Call, ivr: IvrSession, node: LookupNode, order: OrderInfo, prefix: tuple[Part, ...]) -> str:
    """ "Are you calling about your order of ...?", the order kept in the session's state."""
    zone = call.zone(node.topic)
    question = call.text(
        "recognised_offer",
        items=answers.items_phrase(order, language=call.lang),
        placed=answers.when(order.placed_at, call.today(zone), language=call.lang, zone=zone),
    )
    save(call, ivr)  # what the session holds: the offer, the caller's language
    start = call.tree.start_node
    offers = _language_offers(call, start) if isinstance(start, MenuNode) else ()
    hints = list(call.intents("yes", "no").get("yes", ())) + list(call.intents("no").get("no", ()))
    return str(
        call.reply().gather(
            call.url(node.name, mode="offer"),
            *prefix,
            question,
            *offers,
            finish_on_key="#",
            timeout=YES_NO_TIMEOUT,
            hints=hints or None,
        )
    )


# The session's note that the carrier doubted the caller ID (see caller_id_doubted); the handover passes
# it on to the request, for staff.
DOUBTED = CALLER_ID_DOUBTED


def caller_id_doubted(verstat: str) -> bool:
    """Whether Twilio's SHAKEN/STIR verdict on the caller ID says it may not be the caller's own, so
    that their number must not bring up the orders placed from it ("your order of ...").

    Twilio presents StirVerstat on an incoming call only when the call carried a SHAKEN PASSporT (so far
    in the United States only). "TN-Validation-Passed-A", full attestation, means the originating
    carrier knows the caller and that they may use the number; anything else it sends (partial or
    gateway attestation, a failed validation, no validation) is a caller ID a spoofer could have set.
    No verdict at all is the case of most of the world's calls: there the caller ID is used as before,
    the risk the shop takes by enabling `recognise_caller` in its menu."""
    verstat = (verstat or "").strip()
    return bool(verstat) and not verstat.lower().startswith("tn-validation-passed-a")


def _recent_order(call: Call, caller: str) -> OrderInfo | None:
    """The latest recent order placed from the caller's number, if any."""
    try:
        number = phones.normalize(caller, phones.any_number(call.policy.default_region))
        # The latest is all the greeting offers: one order read, not twenty.
        recent = call.lookup.orders_for_phone(number, call.clock.now() - RECENT_ORDERS, limit=1)
    except (phones.PhoneRejected, LookupUnavailable):
        return None  # an unknown or withheld number, or the order service is down: just ask
    return recent[0] if recent else None


def _offer_input(
    call: Call, ivr: IvrSession, name: str, node: LookupNode, digits: str, said: str, confidence: float | None
) -> str:
    """The answer to "Are you calling about your order of ...?"."""
    number = _spoken_number(call, said) if not digits else ""
    if _typed_a_number(digits) or number:
        # Not a yes: the number of the order they are calling about, keyed or said straight in.
        return _lookup_input(call, ivr, name, node, "ref", digits if not number else "", number, confidence)
    now = call.clock.now()
    state = ivr.get_state()
    # Made at the greeting, a "no" goes on to the menu; made after choosing to track, to the question.
    back = name if ivr.node == name else call.tree.start
    start = call.tree.node(back)
    if said and not digits and speech.asks_to_repeat(said, language=call.lang):
        ivr.add_step(now, node=name, kind="offer", speech=said, result="repeat")
        again = _offer_again(call, ivr, node, ())
        if again is not None:
            return again
    answer = speech.yes_no(digits, said, language=call.lang)
    if answer is not True and said and not digits and _names_another_order(call, start, said):
        # "A different order": not this one, so the number of the one they mean.
        ivr.add_step(now, node=name, kind="offer", speech=said, result=False, intent=ANOTHER)
        return render(call, ivr, name)
    # "Yes, but it arrived damaged", "yeah, it's the wrong item": the order is theirs, and what went wrong
    # with it says where to go.
    reported = (speech.after_yes(said, language=call.lang) or (said if answer else "")) if not digits else ""
    if reported and state.get("offer"):
        instead = _chosen_instead(call, ivr, name, node, reported, confidence, str(state["offer"]), to_person=True)
        if instead is not None:
            return instead
    ivr.add_step(now, node=name, kind="offer", digits=digits or None, speech=said or None, result=answer)
    if answer and state.get("offer"):
        return _look_up(call, ivr, name, node, str(state["offer"]))
    rest = speech.after_no(said, language=call.lang) if answer is False and not digits else ""
    if rest and speech.yes_no("", rest, language=call.lang) is False:
        # "No, a different one", "no, not that one": another order than the one offered, so its number.
        return render(call, ivr, name)
    if rest and isinstance(start, MenuNode) and _choose(call, start, "", rest, confidence) != (None, None):
        # "No, I need to talk to someone": the no declines the order, the rest says what they want.
        return _menu_input(call, ivr, back, start, "", rest, confidence, offer_from=node)
    if rest and _asks_for_a_person(call, "", rest):
        _reset_counters(ivr)
        return render(call, ivr, node.fallback)
    if answer is None and (digits or said) and isinstance(start, MenuNode):
        # Not a yes or a no: a menu key, "español", or what they want in their own words.
        return _menu_input(call, ivr, back, start, digits, said, confidence, offer_from=node)
    return render(call, ivr, back, prefix=(call.text("offer_declined"),) if answer is False else ())


# The tree's intents for another order or return than the one just read or offered.
ANOTHER = "another"
ANOTHER_ORDER = "another_order"
# How surely words must name another order at the offer: one of the tree's phrases said, whole, not
# a word they share ("the one" is no "another one").
ANOTHER_SCORE = 0.8


def _names_another_order(call: Call, start: Node, said: str) -> bool:
    """Whether words at the offer name another order ("a different order"), rather than a menu choice."""
    names = [option.intent for option in start.options] if isinstance(start, MenuNode) else []
    others = [name for name in (ANOTHER, ANOTHER_ORDER) if name in call.tree.intents]
    intents = call.intents(*names, *others)
    intent = speech.match_intent(said, intents, language=call.lang, threshold=ANOTHER_SCORE)
    return intent is not None and intent.name in others


# -- inputs ---------------------------------------------------------------------------------------


def _menu_input(
    call: Call,
    ivr: IvrSession,
    name: str,
    node: MenuNode,
    digits: str,
    said: str,
    confidence: float | None,
    offer_from: LookupNode | None = None,
) -> str:
    now = call.clock.now()
    chosen, intent = _choose(call, node, digits, said, confidence)
    language = None
    if chosen is None and intent is None and said and not digits:
        chosen, intent, language = _in_a_language(call, node, said, confidence)
    intent_name, score = (intent.name, intent.confidence) if intent is not None else (None, None)
    off_menu = intent_name == speech.OFF_MENU
    ivr.add_step(
        now,
        node=name,
        kind="menu",
        digits=digits or None,
        speech=said or None,
        intent=intent_name or (chosen.intent if chosen else None),
        confidence=score,
        result=chosen.goto if chosen else None,
    )
    lookup = _lookup_for_number(call, node, chosen, said) if said and not digits and not off_menu else None
    if lookup is not None:
        # "My order number is 112-...": the number is the answer to the question it would lead to.
        _reset_counters(ivr)
        ivr.node, ivr.updated_at = lookup.name, now
        return _lookup_input(call, ivr, lookup.name, lookup, "ref", "", said, confidence)
    if off_menu:
        # A clear request the menu does not offer: a person can help, where the menu's "agent" leads.
        _reset_counters(ivr)
        agent = node.option_for_intent("agent")
        target = agent.goto if agent is not None and agent.goto != REPEAT else node.fallback
        return render(call, ivr, target, lead_in=call.text("off_menu"))
    if chosen is None:
        if said and not digits and speech.caller_will_call(said, language=call.lang):
            # "I'll call back later" where the menu offers no goodbye (the main menu): a goodbye all the same,
            # never a person rung or a place in line kept for someone leaving.
            ivr.settle_outcome()
            save(call, ivr)
            return str(call.reply().say(call.text("thanks_goodbye")).hangup())
        if said and not digits and _after_an_answer(call, node) and speech.only_acknowledges(said, language=call.lang):
            # "Okay", "perfect" once they had their answer: as good as silence (the choices once more, then
            # the goodbye silence leads to), never a "sorry, I didn't catch that" that ends at a person.
            return _missed(call, ivr, name, node.fallback, heard=False, instead=call.words(node.prompt))
        if said and not digits and given_time(call, ivr, said):
            time_given = (call.text("take_your_time"),)
            # Asked for a moment at "Are you calling about your order ...?": that question again.
            again = _offer_again(call, ivr, offer_from, time_given)
            return again if again is not None else render(call, ivr, name, prefix=time_given)
        return _missed(call, ivr, name, node.fallback, heard=bool(digits or said))
    _reset_counters(ivr)
    if language is not None:
        # "A representative in Spanish": their language from here on, and what they asked for, at once.
        ivr.language = call.language = language
    if chosen.language and chosen.language != ivr.language:
        # The caller chose their language: everything from here on is said in it, greeting first.
        ivr.language = call.language = chosen.language
        welcome = (call.words(call.tree.greeting),)
        # Chosen at the greeting, while we asked about their order: ask again, in their language.
        again = _offer_again(call, ivr, offer_from, welcome)
        if again is not None:
            return again
        return render(call, ivr, chosen.goto if chosen.goto != REPEAT else name, prefix=welcome)
    if chosen.goto == REPEAT:
        return render(call, ivr, name, prefix=(ivr.get_state().get("last_answer", ""),))
    state = ivr.get_state()
    state.pop(ALSO_ASKED, None)
    also = _also_asked(call, said, intent, confidence) if said and not digits else None
    if also is not None:
        state[ALSO_ASKED] = also
    ivr.set_state(state)
    return _follow(call, ivr, name, chosen)


def _follow(call: Call, ivr: IvrSession, name: str, chosen: Option, prefix: tuple[Part, ...] = ()) -> str:
    """Go where a choice made at menu `name` leads, after `prefix`."""
    same_order = _order_just_read(call, ivr, name, chosen.goto)
    if same_order is not None:
        # "And my refund?" right after hearing the order: its return, if it has one, without asking for
        # the number again. An order with none may not be the one they mean: the number is asked for.
        returns = call.tree.node(chosen.goto)
        assert isinstance(returns, LookupNode)
        ivr.add_step(call.clock.now(), node=chosen.goto, kind="reference", result=same_order)
        return _look_up(call, ivr, chosen.goto, returns, same_order, ask_if_none=True, prefix=prefix)
    return render(call, ivr, chosen.goto, prefix=prefix)


# Where a session keeps the second of two requests asked at once ("where's my order, and my refund?"),
# served once the first has its answer.
ALSO_ASKED = "also_asked"


def _also_asked(call: Call, said: str, served: speech.Intent | None, confidence: float | None) -> str | None:
    """Of requests joined by "and", the first asked for other than the one being served (which the
    words as a whole chose, whichever part named it), or None."""
    parts = speech.requests_joined(said, language=call.lang)
    if len(parts) < 2 or served is None:
        return None
    names = tuple(call.tree.intents_in(call.lang))
    asked = [speech.match_intent(part, call.intents(*names), confidence, language=call.lang) for part in parts]
    skip = {served.name, speech.OFF_MENU, handover.GOODBYE}
    others = [intent.name for intent in asked if intent is not None and intent.name not in skip]
    return others[0] if others else None


def _serve_also_asked(call: Call, ivr: IvrSession, name: str, node: MenuNode, prefix: tuple[Part, ...]) -> str | None:
    """At the menu after an answer, the other request the caller made with the first, when this menu
    offers it: served now, as they asked, without making them ask again. None otherwise."""
    state = ivr.get_state()
    also = state.pop(ALSO_ASKED, None)
    if also is None:
        return None
    ivr.set_state(state)
    option = node.option_for_intent(also)
    if option is None or option.goto == REPEAT or option.language:
        save(call, ivr)  # asked once: never served at a later menu, out of the blue
        return None
    ivr.add_step(call.clock.now(), node=name, kind="menu", intent=also, result=option.goto)
    return _follow(call, ivr, name, option, prefix=(*prefix, call.text("also_asked")))


def _order_just_read(call: Call, ivr: IvrSession, name: str, goto: str) -> str | None:
    """The digits of the order whose answer the caller just heard at `name` (an order lookup's answer
    menu), when they choose a return lookup there: the return they ask about may be that order's."""
    target = call.tree.nodes.get(goto)
    if not isinstance(target, LookupNode) or target.lookup != "return":
        return None
    read_here = any(
        isinstance(node, LookupNode) and node.lookup == "order" and node.found == name
        for node in call.tree.nodes.values()
    )
    order = ivr.order_number() if read_here else None
    return order.replace("-", "") if order else None


def _in_a_language(
    call: Call, node: MenuNode, said: str, confidence: float | None
) -> tuple[Option | None, speech.Intent | None, str | None]:
    """A choice asked for in a language the menu offers ("a representative in Spanish", "agent in English
    please"), which the two choices explain about equally well and so matched neither: the choice, and
    the language to speak from now on (None where it is the call's already)."""
    spoken = {option.intent: option.language for option in node.options if option.language}
    if not spoken:
        return None, None, None
    named = speech.match_intent(said, call.intents(*spoken), confidence, language=call.lang)
    others = [option.intent for option in node.options if not option.language]
    intent = speech.match_intent(said, call.intents(*others), confidence, language=call.lang)
    if named is None or intent is None or intent.name in {speech.OFF_MENU, handover.GOODBYE}:
        return None, None, None
    language = spoken[named.name]
    return node.option_for_intent(intent.name), intent, (language if language != call.lang else None)


def _after_an_answer(call: Call, node: MenuNode) -> bool:
    """Whether a menu comes after the caller had their answer: its silence means they are done (its
    fallback hangs up), as at "anything else?"."""
    return isinstance(call.tree.node(node.fallback), HangupNode)


def _lookup_for_number(call: Call, node: MenuNode, chosen: Option | None, said: str) -> LookupNode | None:
    """The number question that words said at a menu answer, when they carry a whole number (as many
    digits as a reference has): the chosen option's, if it leads to one ("another order, 112-..."), or
    with no choice heard the menu's order lookup ("my order number is 112-..."); else None."""
    if len(speech.spoken_digits(said, language=call.lang).digits) < speech.MIN_REFERENCE_DIGITS:
        return None
    goes = [chosen.goto] if chosen is not None else [option.goto for option in node.options]
    lookups = [call.tree.nodes.get(goto) for goto in goes]
    found = [n for n in lookups if isinstance(n, LookupNode) and (chosen is not None or n.lookup == "order")]
    return found[0] if found else None


def _choose(
    call: Call, node: MenuNode, digits: str, said: str, confidence: float | None, spoken_keys: bool = True
) -> tuple[Option | None, speech.Intent | None]:
    """The option a key or words choose at a menu, and the intent heard in the words (OFF_MENU: a
    request the menu does not offer). `spoken_keys`: whether "two" is the key 2 (not where a number
    was asked for)."""
    # A key said ("one", "press two") is the key pressed, where this menu has it.
    key = digits[:1] or (speech.spoken_key(said, language=call.lang) if said and spoken_keys else None)
    chosen = node.option_for_digit(key) if key else None
    if chosen is not None or digits or not said:
        return chosen, None
    goodbye = node.option_for_intent(handover.GOODBYE)
    more = speech.says_more_than_goodbye(said, language=call.lang)
    if goodbye is not None and speech.is_closing(said, language=call.lang) and not more:
        return goodbye, None  # "Great, thanks", "hasta luego": done, however they put it
    if speech.caller_will_call(said, language=call.lang):
        return goodbye, None  # "I'll call back later": leaving (a menu without a goodbye: _menu_input)
    corrected = speech.after_correction(said, language=call.lang)
    if corrected:
        # "Track my order, no wait, returns": what they settled on, when it chooses something.
        settled = _choose(call, node, "", corrected, confidence, spoken_keys)
        if settled != (None, None):
            return settled
    intents = call.intents(*(option.intent for option in node.options))
    intent = speech.match_intent(said, intents, confidence, language=call.lang)
    goodbye_heard = intent is not None and intent.name == handover.GOODBYE
    if (intent is None and more) or (goodbye_heard and (more or not _means_goodbye(call, said, intents))):
        # "No, I'm not done", "that's all you can tell me?": not a goodbye. "That's all fine, but where is
        # the other package": the words after the turn may name what they want next.
        intent = _after_the_turn(call, said, intents)
    if intent is None:
        # "Where's my order, and I want a refund": two choices at once, which no one choice explains; the
        # first one asked for is served first (the other can be asked for after its answer).
        intent = _first_asked(call, said, intents, confidence)
    if intent is None or intent.name == speech.OFF_MENU:
        called = _asks_to_be_called(call, node, said, intents, confidence)
        if called is not None:
            return called
    if intent is None and speech.is_plain_no(said, language=call.lang):
        # A plain "no" ("nope") where the menu offers to stop ("anything else?"): that is stopping. A no
        # with more to it ("no, it never arrived", "that's not right") is not, and is asked again.
        return node.option_for_intent(handover.GOODBYE), None
    return (node.option_for_intent(intent.name) if intent is not None else None), intent


def _first_asked(
    call: Call, said: str, intents: dict[str, tuple[str, ...]], confidence: float | None
) -> speech.Intent | None:
    """Of requests joined by "and" ("..., and I want a refund", "... y también ..."), the first that
    chooses one of the menu's choices, or None."""
    parts = speech.requests_joined(said, language=call.lang)
    for part in parts if len(parts) > 1 else ():
        intent = speech.match_intent(part, intents, confidence, language=call.lang)
        if intent is not None and intent.name not in {speech.OFF_MENU, handover.GOODBYE}:
            return intent
    return None


def _asks_to_be_called(
    call: Call, node: MenuNode, said: str, intents: dict[str, tuple[str, ...]], confidence: float | None
) -> tuple[Option, speech.Intent] | None:
    """ "Call me back", "que me llamen, por favor" at a menu that offers no callback: the way to a person
    (who, when nobody is free, offers the callback), if the menu has one, with the tree's call_back intent."""
    person = node.option_for_intent(handover.AGENT)
    if person is None or node.option_for_intent(handover.CALL_BACK) is not None:
        return None
    # Matched beside the menu's own choices, so words that name one of them still go there.
    intent = speech.match_intent(said, {**intents, **call.intents(handover.CALL_BACK)}, confidence, language=call.lang)
    return (person, intent) if intent is not None and intent.name == handover.CALL_BACK else None


def _after_the_turn(call: Call, said: str, intents: dict[str, tuple[str, ...]]) -> speech.Intent | None:
    """What the words after a turn ("..., but where is the other package") choose among a menu's
    choices other than goodbye, or None (asked again)."""
    rest = speech.after_turn(said, language=call.lang)
    others = {name: phrases for name, phrases in intents.items() if name != handover.GOODBYE}
    return speech.match_intent(rest, others, language=call.lang) if rest and others else None


# How surely the words after a leading no must be a goodbye phrase ("no, that's all" is 0.95; "no, one
# more thing" reads 0.66, near "nothing else"): hanging up on a caller still talking is the worse mistake.
SURE_GOODBYE = 0.8


def _means_goodbye(call: Call, said: str, intents: dict[str, tuple[str, ...]]) -> bool:
    """Whether words the goodbye phrases matched do mean it: not when they deny it ("I'm not done"), nor
    when a leading no is followed by something else ("no, one more thing"; "no, that's all" is one)."""
    if speech.denies(said, language=call.lang):
        return False
    rest = speech.after_no(said, language=call.lang)
    if not rest:
        return True
    again = speech.match_intent(rest, intents, language=call.lang)
    return again is not None and again.name == handover.GOODBYE and again.confidence >= SURE_GOODBYE


def _offer_again(call: Call, ivr: IvrSession, offer_from: LookupNode | None, prefix: tuple[Part, ...]) -> str | None:
    """The recognised caller's offer asked again after `prefix`, when the answer came to it and its
    order can still be read; else None."""
    offered = str(ivr.get_state().get("offer") or "") if offer_from is not None else ""
    order = _order_or_none(call, offered) if offered else None
    if offer_from is None or order is None:
        return None
    return _ask_offer(call, ivr, offer_from, order, prefix)


def _order_or_none(call: Call, number: str) -> OrderInfo | None:
    try:
        return call.lookup.order(number)
    except LookupUnavailable:
        return None


def _missed(call: Call, ivr: IvrSession, name: str, fallback: str, heard: bool, instead: str | None = None) -> str:
    """No input or no match: re-prompt in other words (`instead`, or the node's for the case: after
    silence its silence words, then its prompt, in turn), or after the limit move on (never hang up)."""
    state = ivr.get_state()
    key = "no_match" if heard else "no_input"
    state[key] = state.get(key, 0) + 1
    ivr.set_state(state)
    limit = call.tree.limits.no_match if heard else call.tree.limits.no_input
    if state[key] > limit:
        _reset_counters(ivr)
        target = fallback
        person = _person_for(call, name)
        if heard and person is not None and isinstance(call.tree.node(fallback), HangupNode):
            # Answers we cannot use, again and again, after they had their answer: not a goodbye,
            # a caller who is stuck. Only silence ends the call.
            target = person
        if isinstance(call.tree.node(target), HangupNode):
            return render(call, ivr, target)  # nobody is getting them anyone: no "let me get someone"
        return render(call, ivr, target, lead_in=call.text("pass_on"))
    node = call.tree.node(name)
    if not heard and instead is None and state[key] % 2 == 0 and isinstance(node, MenuNode | LookupNode):
        # Silence again: not the silence words twice in a row ("Are you still there? ... Are you still
        # there? ..."), but the question itself once more, whole, for a caller who missed its start.
        instead = call.words(node.prompt)
    return render(call, ivr, name, retry=key, instead=instead)


def _person_for(call: Call, name: str) -> str | None:
    """Where a menu's "agent" option leads (a person), if it has one."""
    node = call.tree.node(name)
    agent = node.option_for_intent("agent") if isinstance(node, MenuNode) else None
    return agent.goto if agent is not None and agent.goto != REPEAT else None


def _reset_counters(ivr: IvrSession) -> None:
    state = ivr.get_state()
    for key in ("no_match", "no_input", "not_found", "time_given"):
        state.pop(key, None)
    ivr.set_state(state)


def _lookup_input(
    call: Call,
    ivr: IvrSession,
    name: str,
    node: LookupNode,
    mode: str,
    digits: str,
    said: str,
    confidence: float | None,
    finished_on_key: str = "",
) -> str:
    now = call.clock.now()
    state = ivr.get_state()
    number = _spoken_number(call, said) if mode == "confirm" and not digits else ""
    if number:
        said = number  # "no, it's 112 ...": the number they meant, read as they said it
    if mode == "confirm" and not _typed_a_number(digits) and not number:
        if _asks_for_a_person(call, digits, said):
            return _to_person(call, ivr, name, node, digits, said)
        pending = str(state.get("pending") or "")
        if pending and not digits and (not said or speech.only_fillers(said, language=call.lang)):
            # Silence (or "um...") is no "no": the read-back again, counted as silence is anywhere.
            if state.get("no_input", 0) >= call.tree.limits.no_input:
                return _missed(call, ivr, name, node.fallback, heard=False)
            state["no_input"] = state.get("no_input", 0) + 1
            ivr.set_state(state)
            ivr.add_step(now, node=name, kind="confirm", result=None)
            return _ask_confirm(call, ivr, name, pending)
        if pending and not digits and speech.asks_to_repeat(said, language=call.lang):
            # "Say that again": the read-back again, nothing counted.
            ivr.add_step(now, node=name, kind="confirm", speech=said, result="repeat")
            return _ask_confirm(call, ivr, name, pending)
        if pending and not digits and given_time(call, ivr, said):
            # "Hold on, let me check": no answer yet, and no "no" either; the read-back again, after a while.
            ivr.add_step(now, node=name, kind="confirm", speech=said, result=None)
            return _ask_confirm(call, ivr, name, pending, prefix=(call.text("take_your_time"),))
        answer = speech.yes_no(digits, said, language=call.lang)
        if said and not digits:
            # "Yes, but it arrived damaged": the number is theirs, and the problem says where to go.
            # "Actually I need a refund", "no, I want to return something": another topic than the number.
            rest = speech.after_yes(said, language=call.lang)
            confirmed = bool(answer or rest)
            words = rest or (speech.after_no(said, language=call.lang) if answer is False else said)
            if answer is False and speech.yes_no("", words, language=call.lang) is False:
                words = ""  # "nope, that's wrong": the number is wrong, not the order
            instead = _chosen_instead(
                call, ivr, name, node, words, confidence, pending if confirmed else "", to_person=confirmed
            )
            if instead is not None:
                return instead
        ivr.add_step(now, node=name, kind="confirm", digits=digits or None, speech=said or None, result=answer)
        if answer and state.get("pending"):
            return _look_up(call, ivr, name, node, str(state["pending"]))
        # Not the number they meant, or no clear answer: say so once, and ask for it again.
        return _missed(call, ivr, name, node.fallback, heard=True, instead=call.text("confirm_no"))
    # The start of a number heard before a pause, and "go on" asked: this answer is its rest.
    partial = _Start.taken_from(state)
    if partial is not None:
        ivr.set_state(state)
    if _asks_for_a_person(call, digits, said):
        return _to_person(call, ivr, name, node, digits, said)
    if partial is not None and not digits and (not said or speech.ends_the_number(said, language=call.lang)):
        # Silence, "um" or "that's it" after "go on": what they gave is the whole of it.
        ivr.add_step(now, node=name, kind="reference", speech=said or None, result=partial.digits)
        return _settle(call, ivr, name, node, partial.digits, partial.keyed)
    if said and not digits and speech.only_denies(said, language=call.lang):
        # "No, that's wrong", "no es correcto" after "I have 1 1 2 so far": the start kept is not what they
        # meant (dropped above), and no problem with an order either: the whole number again.
        ivr.add_step(now, node=name, kind="reference", speech=said, result="denied")
        return _missed(call, ivr, name, node.fallback, heard=True, instead=call.text("confirm_no"))
    if said and not digits and not _spoken_number(call, said) and speech.lacks_number(said, language=call.lang):
        # "I don't know my order number": no use asking again; a person can find it another way.
        ivr.add_step(now, node=name, kind="reference", speech=said, result="no number")
        _reset_counters(ivr)
        return render(call, ivr, node.fallback, lead_in=call.text("no_number"))
    # A reference, keyed or said.
    paused = not finished_on_key and speech.begins_order_number(digits)  # "112" and a pause: kept below
    if digits and len(digits) < SHORTEST_SPOKEN_REFERENCE and partial is None and not paused:
        # "1" or "2#" at the number question: a menu key pressed out of habit, no number. Asked again, with
        # where to find the number, rather than "I couldn't find an order" and a lookup spent on it.
        ivr.add_step(now, node=name, kind="reference", digits=digits, result=None)
        return _missed(call, ivr, name, node.fallback, heard=True)
    if digits:
        reference, trusted = digits, True
    elif said:
        reference, trusted = _heard_reference(node, said, confidence, call.lang)
        if _stray(call, said, reference, continuing=partial is not None):
            reference = ""
        instead = None if reference else _chosen_instead(call, ivr, name, node, said, confidence)
        if instead is not None:
            return instead  # "actually, I want to return something": no number, another topic
    else:
        ivr.add_step(now, node=name, kind="reference", result=None)
        return _missed(call, ivr, name, node.fallback, heard=False)
    keyed = bool(digits) and (partial is None or partial.keyed)
    if reference and partial is not None:
        reference, trusted = _joined(partial.digits, reference, trusted, keyed)
    ivr.add_step(
        now,
        node=name,
        kind="reference",
        digits=digits or None,
        speech=said or None,
        confidence=confidence,
        result=reference or None,
    )
    asked = partial.asked if partial is not None else 0
    if not reference:
        if partial is not None:
            # "Hold on, let me find it", "wait, there's more": the start is kept and the rest asked again.
            prefix = (call.text("take_your_time"),) if given_time(call, ivr, said) else ()
            if prefix or asked < REST_ASKS:
                return _ask_rest(call, ivr, name, partial.digits, partial.keyed, asked + 1, prefix)
            return _settle(call, ivr, name, node, partial.digits, partial.keyed)
        if given_time(call, ivr, said):  # "hang on, let me find the email"
            return render(call, ivr, name, prefix=(call.text("take_your_time"),))
        return _missed(call, ivr, name, node.fallback, heard=True)
    # Keys the gather's timeout sent (no # pressed), or words that stop on a digit: the caller may have
    # paused for the rest. A number ended by # or by words ("..., I think") was given as a whole.
    stopped = not finished_on_key if digits else speech.ends_on_a_digit(said, language=call.lang)
    if stopped and asked < REST_ASKS and speech.begins_order_number(reference):
        if trusted:
            # Keyed: looked up as it is, and only if nothing has that number is the rest asked for (one
            # lookup, not one to decide and another to answer).
            return _look_up(call, ivr, name, node, reference, rest=(keyed, asked + 1))
        if not _found(call, node, reference):
            # "112 4455667" and a pause long enough to end the question: the start of an order number,
            # and nothing by that number. What we have, and the rest asked for, not "I couldn't find it".
            return _ask_rest(call, ivr, name, reference, keyed, asked + 1)
    return _settle(call, ivr, name, node, reference, trusted)


def _stray(call: Call, said: str, reference: str, continuing: bool) -> bool:
    """Whether digits heard are a stray "one" among words ("una devolución"), not a number to read back
    or look up, however sure the recogniser is of the word: fewer than a reference has, unless they are
    a number's first or last digits said alone (`continuing`: the rest of a number's start)."""
    if not reference.isdigit() or len(reference) >= SHORTEST_SPOKEN_REFERENCE:
        return False
    piece = continuing or speech.begins_order_number(reference)
    return not (piece and speech.spoken_digits(said, language=call.lang).complete)


def _settle(call: Call, ivr: IvrSession, name: str, node: LookupNode, reference: str, trusted: bool) -> str:
    """A number heard whole: looked up, or read back first when it cannot be trusted as heard."""
    if not trusted:
        state = ivr.get_state()
        state["pending"] = reference
        ivr.set_state(state)
        return _ask_confirm(call, ivr, name, reference)
    return _look_up(call, ivr, name, node, reference)


# The state key of a number's start heard before a pause, and how often the rest is asked for at most.
PARTIAL = "partial"
REST_ASKS = 2


class _Start(NamedTuple):
    """The start of a number heard before a pause, kept in the session's state while its rest is asked."""

    digits: str
    keyed: bool  # every piece so far keyed (a number keyed whole is trusted as keyed)
    asked: int  # how often the rest has been asked for

    @classmethod
    def taken_from(cls, state: dict[str, Any]) -> _Start | None:
        """The start kept in `state`, taken out of it (an answer uses it or moves on), or None."""
        kept = state.pop(PARTIAL, None)
        return None if kept is None else cls(str(kept["digits"]), bool(kept["keyed"]), int(kept["asked"]))


def _joined(start: str, reference: str, trusted: bool, keyed: bool) -> tuple[str, bool]:
    """What a caller gave after "I have ... so far, go on": the rest, appended to the start (trusted
    only when every piece was keyed); or a number of its own when it is one: a whole order number, a
    return number, or the number given again from the top (at least as long as the start and opening
    as it did: "700199", then "700114" for a return number mistyped)."""
    rest = reference.replace("-", "")
    whole = start + rest
    again = len(rest) >= len(start) and rest[:3] == start[:3]
    if not rest.isdigit() or len(rest) >= speech.ORDER_DIGITS or len(whole) > speech.ORDER_DIGITS or again:
        return reference, trusted
    return speech.format_order_number(whole) or whole, keyed


def _found(call: Call, node: LookupNode, reference: str) -> bool:
    """Whether the question's lookup knows this reference as it is (a short order or return number).
    When the lookup is down, it counts as found: the lookup itself will say it cannot look."""
    try:
        if node.lookup == "order":
            return call.lookup.order(reference) is not None
        return call.lookup.return_for(reference) is not None or call.lookup.order(reference) is not None
    except LookupUnavailable:
        return True


def _ask_rest(
    call: Call, ivr: IvrSession, name: str, start: str, keyed: bool, asked: int, prefix: tuple[Part, ...] = ()
) -> str:
    """ "I have 1 1 2, 4 4 5 5 6 6 7 so far. Please go on ...": the start kept in the session's state."""
    state = ivr.get_state()
    state[PARTIAL] = _Start(start, keyed, asked)._asdict()
    ivr.set_state(state)
    save(call, ivr)
    so_far = call.text("number_so_far", digits=speech.say_digits(speech.group_order_digits(start)))
    return _ask_reference(call, name, (*prefix, so_far))


def _chosen_instead(
    call: Call,
    ivr: IvrSession,
    name: str,
    node: LookupNode,
    said: str,
    confidence: float | None,
    reference: str = "",
    to_person: bool = False,
) -> str | None:
    """Words at a number question that choose something else of the main menu, as they would there: a
    return to start, a refund to look up, a problem to report. That choice, with `reference` (the order
    they said yes to) kept for the agent; None when they choose nothing else.

    `to_person`: only a choice that leads to a person counts ("yes, but it arrived damaged", "yes, I want
    to return it"); after a yes, a question about something else ("yes, and my refund?") is for later."""
    start = call.tree.start_node
    if not said or not isinstance(start, MenuNode) or speech.asks_for_time(said, language=call.lang):
        return None  # "hang on, let me check my email": time to find the number (given_time)
    # "Two" here is a digit of the number, not the menu's key 2. A request the menu does not offer is no
    # choice here: words said while looking for a number ("it's in my account somewhere") sound like one.
    chosen, intent = _choose(call, start, "", said, confidence, spoken_keys=False)
    if chosen is not None and chosen.language and chosen.language != ivr.language and not reference:
        # "Español" at the number question: their language from here on, and this question again in it.
        ivr.language = call.language = chosen.language
        ivr.add_step(call.clock.now(), node=name, kind="menu", speech=said, intent=chosen.intent, result=name)
        _reset_counters(ivr)
        return render(call, ivr, name)
    if chosen is None or chosen.goto in (name, REPEAT) or chosen.language:
        return None  # nothing else, this same question ("where's my package?"), or the language spoken
    target = chosen.goto
    if to_person and not isinstance(call.tree.node(target), TransferNode):
        return None
    ivr.add_step(
        call.clock.now(),
        node=name,
        kind="menu",
        speech=said,
        intent=intent.name if intent is not None else chosen.intent,
        confidence=intent.confidence if intent is not None else None,
        result=target,
        **({"reference": reference} if reference else {}),
    )
    state = ivr.get_state()
    state.pop("pending", None)
    state.pop("offer", None)
    ivr.set_state(state)
    _reset_counters(ivr)
    return render(call, ivr, target)


def _ask_confirm(call: Call, ivr: IvrSession, name: str, reference: str, prefix: tuple[Part, ...] = ()) -> str:
    """ "I heard ... Is that right?", the number kept in the session's state as pending."""
    save(call, ivr)
    question = call.text("confirm_number", digits=speech.say_digits(reference))
    return str(
        call.reply().gather(
            call.url(name, mode="confirm"),
            *prefix,
            question,
            finish_on_key="#",
            timeout=YES_NO_TIMEOUT,
            hints=_yes_no_hints(call),
        )
    )


def _to_person(call: Call, ivr: IvrSession, name: str, node: LookupNode, digits: str, said: str) -> str:
    """ "0" or "a representative, please" at the number questions: a person, as at every menu."""
    ivr.add_step(
        call.clock.now(), node=name, kind="reference", digits=digits or None, speech=said or None, intent="agent"
    )
    _reset_counters(ivr)
    return render(call, ivr, node.fallback)


# Fewer digits than this are no reference: heard among words ("una persona"), not worth reading back;
# keyed alone, a menu key pressed out of habit.
SHORTEST_SPOKEN_REFERENCE = 4


def _typed_a_number(digits: str) -> bool:
    """Whether keys given to a yes-or-no question are a number typed in, not a one-key answer: as many
    keys as a reference has at least (the number read back instead of "I heard ..., is that right?",
    or an order's). Fewer are a key pressed twice ("11"), answered by its first."""
    return len(digits) >= SHORTEST_SPOKEN_REFERENCE


def _spoken_number(call: Call, said: str) -> str:
    """The words of a number said where a yes or no was asked ("112-4455667-1234567", "no, it's 112 ..."),
    without the no that opens them; "" for a yes ("yes, the one from 2026"), and for words that are not
    a number with a few words around it ("the one I placed on the 20th at 2 PM")."""
    if not said or speech.yes_no("", said, language=call.lang) is True:
        return ""
    words = speech.after_no(said, language=call.lang) or said
    heard = speech.spoken_digits(words, language=call.lang)
    if len(heard.digits) < SHORTEST_SPOKEN_REFERENCE or not heard.complete:
        return ""
    return words


def _asks_for_a_person(call: Call, digits: str, said: str) -> bool:
    """Whether an answer to "what is your order number?" asks for a person instead: 0 alone (every
    menu's key for one), or words the menus take as the agent choice with no number among them."""
    if digits:
        return digits == "0"
    if not said or len(speech.spoken_digits(said, language=call.lang).digits) >= SHORTEST_SPOKEN_REFERENCE:
        return False
    intent = speech.match_intent(said, call.intents("agent"), language=call.lang)
    return intent is not None and intent.name == "agent"


def _yes_no_hints(call: Call) -> list[str]:
    phrases = call.intents("yes", "no")
    return [*phrases["yes"], *phrases["no"]]


def _heard_reference(node: LookupNode, said: str, confidence: float | None, language: str) -> tuple[str, bool]:
    """What a caller said as a number, and whether it can be trusted without reading it back."""
    # Twilio sends no Confidence, or 0, when the recogniser reported none: that is "not reported", not
    # "zero". Then a whole order number heard without guessing is trusted; a low reported figure is not.
    reported = confidence is not None and confidence > 0
    sure = not reported or (confidence or 0) >= TRUST_CONFIDENCE
    heard = speech.spoken_digits(said, language=language)
    formatted = speech.format_order_number(heard.digits) if heard.digits else None
    if not formatted and node.lookup == "order":
        # An order number with letters ("W-10045", said "W 1 0 0 4 5"): letters heard are a guess, so
        # the number is read back before it is looked up.
        # Letters after the last digit are words ("..., I think"), not part of the number.
        spelled = speech.spoken_reference(said, prefixes=(), language=language).rstrip(ascii_letters)
        if any(ch.isalpha() for ch in spelled) and sum(ch.isdigit() for ch in spelled) >= SHORTEST_SPOKEN_REFERENCE:
            return spelled, False
    if formatted or node.lookup == "order":
        trusted = bool(formatted) and heard.complete and not heard.unsure and sure
        return formatted or heard.digits, trusted
    # A return number ("R M A one two three"): only a recogniser that says it is sure is trusted.
    reference = speech.spoken_reference(said, language=language)
    return reference, bool(reference) and reported and sure


def _look_up(
    call: Call,
    ivr: IvrSession,
    name: str,
    node: LookupNode,
    reference: str,
    rest: tuple[bool, int] | None = None,
    ask_if_none: bool = False,
    prefix: tuple[Part, ...] = (),
) -> str:
    """Find the order or return and say where it stands, after `prefix`; a second miss or an outage moves on.

    `rest` (keyed, times asked): the reference may be the start of a longer number, cut short; when
    nothing has it, the rest is asked for (`_ask_rest`) instead of "I couldn't find it". `ask_if_none`:
    a reference the caller did not give (the order they just heard); with no return of it, the
    question is asked as if none had been tried."""
    now = call.clock.now()
    zone = call.zone(node.topic)
    today = call.today(zone)
    state = ivr.get_state()
    state.pop("pending", None)
    state.pop("offer", None)
    ivr.set_state(state)
    ivr.topic = node.topic or ivr.topic
    unreturned: OrderInfo | None = None
    try:
        if node.lookup == "order":
            number = speech.format_order_number(reference) or reference
            found = call.lookup.order(number)
            sentence = answers.order_sentence(found, today, language=call.lang, zone=zone) if found else None
            # The agent's whisper and screen are in English: the answer is kept in English for them too.
            for_agent = answers.order_sentence(found, today, zone=zone) if found and call.lang != "en" else None
        else:
            number = speech.format_order_number(reference) or reference
            ret = call.lookup.return_for(reference) or call.lookup.return_for(number)
            if ret is None and ask_if_none:
                return render(call, ivr, name, prefix=prefix)
            sentence = answers.return_sentence(ret, today, language=call.lang, zone=zone) if ret else None
            for_agent = answers.return_sentence(ret, today, zone=zone) if ret and call.lang != "en" else None
            # An order with no return yet: the caller has one to start, not to look up.
            unreturned = call.lookup.order(number) if ret is None else None
            if unreturned is not None and unreturned.status == "canceled":
                # Nothing to send back: a canceled order's own words say where its refund stands.
                sentence = answers.order_sentence(unreturned, today, language=call.lang, zone=zone)
                for_agent = answers.order_sentence(unreturned, today, zone=zone) if call.lang != "en" else None
                unreturned = None
    except LookupUnavailable:
        ivr.add_step(now, node=name, kind="lookup", reference=reference, result="unavailable")
        return render(call, ivr, node.fallback, lead_in=call.text("lookup_unavailable"))
    if sentence is None and node.lookup == "return" and unreturned is not None:
        # Asking again would find nothing more: the returns team starts one (the question's fallback).
        ivr.add_step(
            now,
            node=name,
            kind="lookup",
            reference=reference,
            result="no return yet",
            for_agent=f"No return has been started for order {unreturned.number} yet.",
        )
        _reset_counters(ivr)
        return render(call, ivr, node.fallback, lead_in=call.text("no_return_yet"))
    if sentence is None and rest is not None:
        ivr.add_step(now, node=name, kind="lookup", reference=reference, result=None)
        return _ask_rest(call, ivr, name, reference, *rest)
    if sentence is None:
        ivr.add_step(now, node=name, kind="lookup", reference=reference, result=None)
        state = ivr.get_state()
        state["not_found"] = state.get("not_found", 0) + 1
        ivr.set_state(state)
        if state["not_found"] > NOT_FOUND_RETRIES:
            # One more chance was the promise: a person can find what the caller cannot key in.
            _reset_counters(ivr)
            return render(call, ivr, node.fallback, lead_in=call.text("not_found_again"))
        key = "order_not_found" if node.lookup == "order" else "return_not_found"
        return render(call, ivr, name, instead=call.text(key))
    ivr.add_step(now, node=name, kind="lookup", reference=reference, result=sentence, for_agent=for_agent)
    state = ivr.get_state()
    state.update(last_answer=sentence, answered=True)
    ivr.set_state(state)
    _reset_counters(ivr)
    return render(call, ivr, node.found, prefix=(*prefix, sentence))
