"""Walks the phone tree for one call: each webhook brings one input, and gets the next TwiML back.

Nothing lives in process memory: where the caller is, their language, their counters and what we
are holding for them (a number to confirm, the last answer) are in the IvrSession row, so any
worker of any process can take the next webhook of the call.

Every sentence a caller hears comes from the tree (its nodes' prompts and its `texts:`); this module
names them by key, so a shop can reword them and every language has them all.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from flask_babel import gettext
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agents.models import Queue
from callback import line
from callback import service as callbacks
from callback import twiml as callback_twiml
from callback import words as page_words
from callback.models import WAITING, CallbackRequest
from callback.policy import Limits, check_active, check_asks, check_do_not_call, check_not_ours, serialise_asks
from core import phone as phones
from core.clock import Clock
from core.errors import DomainError, InvalidInput, LimitExceeded
from core.webhooks import Webhooks
from ivr import answers, speech
from ivr.models import LANGUAGE_NAMES, IvrSession
from ivr.tree import REPEAT, HangupNode, LookupNode, MenuNode, Option, SayNode, Text, TransferNode, Tree
from ivr.twiml import Clip, Part, Reply, Voiced
from orders.port import LookupUnavailable, OrderInfo, OrderLookup
from recordings import hold_music, prompts
from recordings.service import note_recording

log = logging.getLogger(__name__)

# Below this the recogniser's transcript of a number is read back for confirmation, not trusted.
TRUST_CONFIDENCE = 0.6
# Orders placed this recently are offered to a recognised caller.
RECENT_ORDERS = timedelta(days=60)
# A number that is not found gets this many more tries before the caller is passed to a person.
NOT_FOUND_RETRIES = 1
DEFAULT_VOICE = "Polly.Joanna"
# Twilio plays the wait document again when it ends, fetching it anew: its music lasts about this
# long, so the place in line is announced about this often (and only when it has changed).
HOLD_ANNOUNCE_SECONDS = 45


@dataclass
class Call:
    """Everything one webhook needs: the database, the tree, the order data, and where we live."""

    session: Session
    clock: Clock
    tree: Tree
    lookup: OrderLookup
    hooks: Webhooks
    policy: phones.PhonePolicy
    caller_id: str
    ring_timeout: int = 20
    limits: Limits = Limits()
    # The longest message a caller may leave when the queue is closed (MESSAGE_MAX_SECONDS).
    message_max_seconds: int = 120
    # Tells the dispatcher a caller joined the line (a hold or a callback), after the commit.
    wake: Callable[[], None] = lambda: None
    # The caller's language (a code of the tree's); set from their session once it is read.
    language: str = ""

    @property
    def lang(self) -> str:
        """The language this webhook speaks: the caller's, else the tree's default."""
        return self.language if self.language in self.tree.languages else self.tree.default_language

    def url(self, node: str, **params: str) -> str:
        """The absolute URL of the input webhook for a node (Twilio must be given absolute URLs)."""
        return self.hooks.ivr("input", node=node, **params)

    def reply(self) -> Reply:
        """A new TwiML reply in the caller's language and its voice."""
        locale = self.tree.locale(self.lang)
        return Reply(locale.voice or DEFAULT_VOICE, locale.speech)

    def words(self, text: Text) -> str:
        """A tree sentence in the caller's language."""
        return text.in_language(self.lang)

    def text(self, key: str, **values: object) -> str:
        """One of the tree's `texts:` in the caller's language, its placeholders filled in."""
        return self.tree.text(key, self.lang, **values)

    def intents(self, *names: str) -> dict[str, tuple[str, ...]]:
        """The phrases of these intents in the caller's language."""
        known = self.tree.intents_in(self.lang)
        return {name: known.get(name, ()) for name in names}

    def sound(self, text: Text, play: str | None) -> Part:
        """A tree sentence, as the shop's recording of it when the tree names one and it exists."""
        sentence = self.words(text)
        if not play:
            return sentence
        url = prompts.play_url(self.session, self.hooks, play)
        if url is None:
            # Not fatal: the sentence is said instead (`ivr check` lists prompts that are missing).
            log.info("prompt missing, saying its sentence", extra={"prompt": play})
        return Clip(sentence, url)


def _load(call: Call, call_sid: str) -> IvrSession | None:
    """The call's session, with the call speaking its language."""
    ivr = call.session.scalar(select(IvrSession).where(IvrSession.call_sid == call_sid))
    if ivr is not None:
        call.language = ivr.language
    return ivr


def _lost(call: Call) -> str:
    return str(call.reply().say(call.text("something_went_wrong")).hangup())


# -- entry points ---------------------------------------------------------------------------------


def start(call: Call, call_sid: str, caller: str, called: str) -> str:
    """A new inbound call: greet, offer a recognised caller their latest order, else the start node.
    A retried webhook does not start twice."""
    now = call.clock.now()
    # Insert first: a new call is the common case, and a retry is caught by the unique call SID.
    ivr = IvrSession(
        call_sid=call_sid,
        caller=caller,
        called=called,
        started_at=now,
        updated_at=now,
        node=call.tree.start,
        language=call.tree.default_language,
    )
    call.session.add(ivr)
    try:
        call.session.flush()  # render() commits; one commit per webhook is what it costs
    except IntegrityError:
        call.session.rollback()  # Twilio retried /voice/incoming: carry on with the first one's session
        found = _load(call, call_sid)
        assert found is not None
        ivr = found
    call.language = ivr.language
    greeting = call.sound(call.tree.greeting, call.tree.greeting_play)
    lookup = _recognising_lookup(call.tree)
    if lookup is not None:
        offer = _offer(call, ivr, lookup, (greeting,))
        if offer is not None:
            return offer
    return render(call, ivr, call.tree.start, prefix=(greeting,))


def handle(
    call: Call, call_sid: str, node_name: str, mode: str, digits: str, said: str, confidence: float | None
) -> str:
    """One answer from the caller at a node."""
    ivr = _load(call, call_sid)
    if ivr is None:
        return _lost(call)
    if node_name not in call.tree.nodes:
        # A menu edited since this call's last prompt (or a tampered URL): ask again where they were.
        where = ivr.node if ivr.node in call.tree.nodes else call.tree.start
        return render(call, ivr, where, retry="no_match")
    node = call.tree.node(node_name)
    if mode == "offer" and isinstance(node, LookupNode):
        return _offer_input(call, ivr, node_name, node, digits, said, confidence)
    if isinstance(node, MenuNode):
        return _menu_input(call, ivr, node_name, node, digits, said, confidence)
    if isinstance(node, LookupNode):
        return _lookup_input(call, ivr, node_name, node, mode, digits, said, confidence)
    if isinstance(node, TransferNode):
        return _transfer_input(call, ivr, node_name, node, mode, digits, said, confidence)
    return render(call, ivr, node_name)


def call_ended(session: Session, clock: Clock, call_sid: str) -> None:
    """The inbound call is over: close the session; a caller who just hung up was still contained
    if they had their answer, and abandoned otherwise."""
    hold_ended(session, clock, None, call_sid, "hangup")
    ivr = session.scalar(select(IvrSession).where(IvrSession.call_sid == call_sid))
    if ivr is None or ivr.ended_at is not None:
        return
    ivr.ended_at = clock.now()
    ivr.settle_outcome()
    session.commit()


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
    call.session.commit()
    if lead_in and not isinstance(node, TransferNode):
        prefix, lead_in = (*prefix, lead_in), None
    if isinstance(node, MenuNode):
        return _render_menu(call, name, node, prefix, retry, instead)
    if isinstance(node, LookupNode):
        return _render_lookup(call, ivr, name, node, prefix, retry, instead)
    if isinstance(node, TransferNode):
        return _transfer(call, ivr, name, node, prefix, lead_in)
    if isinstance(node, SayNode):
        return render(call, ivr, node.next, prefix=(*prefix, call.sound(node.prompt, node.play)))
    if isinstance(node, HangupNode):
        ivr.settle_outcome()
        call.session.commit()
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
            hints=call.tree.hints(node, call.lang),
        )
    )


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
    if not retry and not instead:
        offer = _offer(call, ivr, node, prefix)
        if offer is not None:
            return offer
    prompt = instead or (_again(call, node, retry) if retry else call.sound(node.prompt, node.play))
    return _ask_reference(call, name, (*prefix, prompt))


def _ask_reference(call: Call, name: str, said: tuple[Part, ...]) -> str:
    """Ask for an order or return number: keyed (ended by #) or said."""
    return str(
        call.reply().gather(
            call.url(name, mode="ref"), *said, finish_on_key="#", timeout=7, hints=_number_hints(call.lang)
        )
    )


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


def _offer(call: Call, ivr: IvrSession, node: LookupNode, prefix: tuple[Part, ...]) -> str | None:
    """Offer a recognised caller their latest order, once per call; None when there is none to offer."""
    state = ivr.get_state()
    if node.lookup != "order" or not node.recognise_caller or state.get("offered"):
        return None
    state["offered"] = True
    order = _recent_order(call, ivr)
    if order is not None:
        state["offer"] = order.number
    ivr.set_state(state)
    call.session.commit()
    if order is None:
        return None
    return _ask_offer(call, ivr, node, order, prefix)


def _ask_offer(call: Call, ivr: IvrSession, node: LookupNode, order: OrderInfo, prefix: tuple[Part, ...]) -> str:
    today = call.clock.now().date()
    question = call.text(
        "recognised_offer",
        items=answers.items_phrase(order, language=call.lang),
        placed=answers.when(order.placed_at, today, language=call.lang),
    )
    call.session.commit()  # the caller's language, when they just chose it
    start = call.tree.start_node
    offers = _language_offers(call, start) if isinstance(start, MenuNode) else ()
    hints = list(call.intents("yes", "no").get("yes", ())) + list(call.intents("no").get("no", ()))
    return str(
        call.reply().gather(
            call.url(node.name, mode="offer"), *prefix, question, *offers, num_digits=1, hints=hints or None
        )
    )


def _recent_order(call: Call, ivr: IvrSession) -> OrderInfo | None:
    try:
        number = phones.normalize(ivr.caller, phones.any_number(call.policy.default_region))
        recent = call.lookup.orders_for_phone(number, call.clock.now() - RECENT_ORDERS)
    except (phones.PhoneRejected, LookupUnavailable):
        return None  # an unknown or withheld number, or the order service is down: just ask
    return recent[0] if recent else None


def _offer_input(
    call: Call, ivr: IvrSession, name: str, node: LookupNode, digits: str, said: str, confidence: float | None
) -> str:
    """The answer to "Are you calling about your order of ...?"."""
    now = call.clock.now()
    state = ivr.get_state()
    answer = speech.yes_no(digits, said, language=call.lang)
    ivr.add_step(now, node=name, kind="offer", digits=digits or None, speech=said or None, result=answer)
    # Made at the greeting, a "no" goes on to the menu; made after choosing to track, to the question.
    back = name if ivr.node == name else call.tree.start
    if answer and state.get("offer"):
        return _look_up(call, ivr, name, node, str(state["offer"]))
    start = call.tree.node(back)
    if answer is None and (digits or said) and isinstance(start, MenuNode):
        # Not a yes or a no: a menu key, "español", or what they want in their own words.
        return _menu_input(call, ivr, back, start, digits, said, confidence, offer_from=node)
    return render(call, ivr, back, prefix=(call.text("offer_declined"),) if answer is False else ())


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
    chosen: Option | None = None
    off_menu = False
    intent_name, score = None, None
    if digits:
        chosen = node.option_for_digit(digits[:1])
    elif said:
        intents = call.intents(*(o.intent for o in node.options))
        intent = speech.match_intent(said, intents, confidence, language=call.lang)
        if intent is not None:
            intent_name, score = intent.name, intent.confidence
            off_menu = intent.name == speech.OFF_MENU
            chosen = node.option_for_intent(intent.name)
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
    if off_menu:
        # A clear request the menu does not offer: a person can help, where the menu's "agent" leads.
        _reset_counters(ivr)
        agent = node.option_for_intent("agent")
        target = agent.goto if agent is not None and agent.goto != REPEAT else node.fallback
        return render(call, ivr, target, lead_in=call.text("off_menu"))
    if chosen is None:
        return _missed(call, ivr, name, node.fallback, heard=bool(digits or said))
    _reset_counters(ivr)
    if chosen.language and chosen.language != ivr.language:
        # The caller chose their language: everything from here on is said in it, greeting first.
        ivr.language = call.language = chosen.language
        welcome = (call.words(call.tree.greeting),)
        offered = str(ivr.get_state().get("offer") or "")
        if offer_from is not None and offered:
            # Chosen at the greeting, while we asked about their order: ask again, in their language.
            order = _order_or_none(call, offered)
            if order is not None:
                return _ask_offer(call, ivr, offer_from, order, welcome)
        return render(call, ivr, chosen.goto if chosen.goto != REPEAT else name, prefix=welcome)
    if chosen.goto == REPEAT:
        return render(call, ivr, name, prefix=(ivr.get_state().get("last_answer", ""),))
    return render(call, ivr, chosen.goto)


def _order_or_none(call: Call, number: str) -> OrderInfo | None:
    try:
        return call.lookup.order(number)
    except LookupUnavailable:
        return None


def _missed(call: Call, ivr: IvrSession, name: str, fallback: str, heard: bool, instead: str | None = None) -> str:
    """No input or no match: re-prompt in other words (`instead`, or the node's for the case), or
    after the limit move on (never hang up)."""
    state = ivr.get_state()
    key = "no_match" if heard else "no_input"
    state[key] = state.get(key, 0) + 1
    ivr.set_state(state)
    limit = call.tree.limits.no_match if heard else call.tree.limits.no_input
    if state[key] > limit:
        _reset_counters(ivr)
        return render(call, ivr, fallback, lead_in=call.text("pass_on"))
    return render(call, ivr, name, retry=key, instead=instead)


def _reset_counters(ivr: IvrSession) -> None:
    state = ivr.get_state()
    for key in ("no_match", "no_input", "not_found"):
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
) -> str:
    now = call.clock.now()
    state = ivr.get_state()
    if mode == "confirm":
        answer = speech.yes_no(digits, said, language=call.lang)
        ivr.add_step(now, node=name, kind="confirm", digits=digits or None, speech=said or None, result=answer)
        if answer and state.get("pending"):
            return _look_up(call, ivr, name, node, str(state["pending"]))
        # Not the number they meant, or no clear answer: say so once, and ask for it again.
        return _missed(call, ivr, name, node.fallback, heard=True, instead=call.text("confirm_no"))
    # A reference, keyed or said.
    if digits:
        reference, trusted = digits, True
    elif said:
        reference, trusted = _heard_reference(node, said, confidence, call.lang)
    else:
        ivr.add_step(now, node=name, kind="reference", result=None)
        return _missed(call, ivr, name, node.fallback, heard=False)
    ivr.add_step(
        now,
        node=name,
        kind="reference",
        digits=digits or None,
        speech=said or None,
        confidence=confidence,
        result=reference or None,
    )
    if not reference:
        return _missed(call, ivr, name, node.fallback, heard=True)
    if not trusted:
        state["pending"] = reference
        ivr.set_state(state)
        call.session.commit()
        question = call.text("confirm_number", digits=speech.say_digits(reference))
        return str(
            call.reply().gather(call.url(name, mode="confirm"), question, num_digits=1, hints=_yes_no_hints(call))
        )
    return _look_up(call, ivr, name, node, reference)


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
    if formatted or node.lookup == "order":
        trusted = bool(formatted) and heard.complete and not heard.unsure and sure
        return formatted or heard.digits, trusted
    # A return number ("R M A one two three"): only a recogniser that says it is sure is trusted.
    reference = speech.spoken_reference(said)
    return reference, bool(reference) and reported and sure


def _look_up(call: Call, ivr: IvrSession, name: str, node: LookupNode, reference: str) -> str:
    """Find the order or return and say where it stands; a second miss or an outage moves on."""
    now = call.clock.now()
    today = now.date()
    state = ivr.get_state()
    state.pop("pending", None)
    state.pop("offer", None)
    ivr.set_state(state)
    ivr.topic = node.topic or ivr.topic
    try:
        if node.lookup == "order":
            number = speech.format_order_number(reference) or reference
            found = call.lookup.order(number)
            sentence = answers.order_sentence(found, today, language=call.lang) if found else None
        else:
            ret = call.lookup.return_for(reference) or (
                call.lookup.return_for(speech.format_order_number(reference) or reference)
            )
            sentence = answers.return_sentence(ret, today, language=call.lang) if ret else None
    except LookupUnavailable:
        ivr.add_step(now, node=name, kind="lookup", reference=reference, result="unavailable")
        return render(call, ivr, node.fallback, lead_in=call.text("lookup_unavailable"))
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
    ivr.add_step(now, node=name, kind="lookup", reference=reference, result=sentence)
    state = ivr.get_state()
    state.update(last_answer=sentence, answered=True)
    ivr.set_state(state)
    _reset_counters(ivr)
    return render(call, ivr, node.found, prefix=(sentence,))


# -- transfer, callback -----------------------------------------------------------------------------


def _transfer(
    call: Call,
    ivr: IvrSession,
    name: str,
    node: TransferNode,
    prefix: tuple[Part, ...],
    lead_in: str | None = None,
    again: bool = False,
) -> str:
    """Connect to a free agent of the queue now, or say the wait and offer to call back.

    `lead_in` replaces the node's own sentence; `again` (a second offer) says neither."""
    now = call.clock.now()
    queue = call.session.scalar(select(Queue).where(Queue.name == node.queue))
    assert queue is not None, node.queue  # the tree checker refuses unknown queues at start-up
    ivr.topic = node.queue
    lead = () if again else (lead_in or (call.words(node.prompt) if node.prompt else None),)
    note = _language_note(call, queue)
    agent = line.reserve_free_agent(call.session, queue.id, now) if queue.business_hours.is_open(now) else None
    if agent is not None:
        req = _request_for(call, ivr, queue)
        leg = line.take_over(call.session, req, agent, ivr.call_sid, now)
        if leg is None:
            # The dispatcher claimed this caller's request a moment ago (or is calling them already).
            call.session.commit()
            return str(call.reply().say(*prefix, call.text("calling_you_now")).hangup())
        ivr.outcome = "transferred"
        ivr.request_id = req.id
        ivr.add_step(now, node=name, kind="transfer", result=f"agent {agent.id}")
        call.session.commit()
        # The agent's leg says its greeting in the request's language: words only, never a recording.
        said = (*prefix, *(lead if any(lead) else (call.text("connecting"),)), note)
        greeting = " ".join(text for text in (p.text if isinstance(p, Clip | Voiced) else p for p in said) if text)
        return callback_twiml.connect_leg(
            leg.attempt, leg, call.hooks, queue.caller_id or call.caller_id, call.ring_timeout, greeting=greeting
        )
    if not queue.business_hours.is_open(now):
        return _closed(call, ivr, name, queue, prefix)
    # Nobody signed in is not the same news as everyone busy: the wait is unknown, not long.
    staffed = callbacks.staffing(call.session, queue).staffed
    ahead = callbacks.waiting_count(call.session, queue, now)
    wait = callbacks.queue_wait(call.session, queue, now)
    if wait is None:
        place = call.text("place_in_line", position=ahead + 1)
    else:
        place = call.text("place_and_wait", position=ahead + 1, wait=_minutes(call, wait))
    ivr.add_step(now, node=name, kind="transfer", result="busy" if staffed else "nobody on duty")
    call.session.commit()
    return str(
        call.reply().gather(
            call.url(name, mode="callback"),
            *prefix,
            *(part for part in lead if part),
            call.text("everyone_busy" if staffed else "nobody_on_duty"),
            place,
            note,
            call.text("busy_offer"),
            num_digits=1,
            hints=_offer_hints(call, BUSY_CHOICES),
        )
    )


def _minutes(call: Call, seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    return call.text("wait_one_minute") if minutes == 1 else call.text("wait_minutes", minutes=minutes)


def _language_note(call: Call, queue: Queue) -> str:
    """For a caller whose language the queue's agents may not speak: which ones they do speak."""
    if queue.speaks(call.lang):
        return ""
    names = [call.text(f"language_{code}") if f"language_{code}" in call.tree.texts else code for code in queue.spoken]
    return call.text("agent_language", languages=", ".join(names))


# The answers to a busy line's offer and to a closed line's, by key; said, they are the tree's intents.
BUSY_CHOICES = {"1": "call_back", "2": "other_number", "3": "hold"}
CLOSED_CHOICES = {"1": "call_back", "2": "message", "3": "other_number"}


def _offer_hints(call: Call, choices: dict[str, str]) -> list[str]:
    return [phrase for phrases in call.intents(*choices.values()).values() for phrase in phrases]


def _choice(call: Call, choices: dict[str, str], digits: str, said: str, confidence: float | None) -> str | None:
    """Which of an offer's choices a key or words mean; a plain yes is the first (calling them back)."""
    if digits:
        return choices.get(digits[:1])
    if not said:
        return None
    intent = speech.match_intent(said, call.intents(*choices.values()), confidence, language=call.lang)
    if intent is not None and intent.name in choices.values():
        return intent.name
    return choices["1"] if speech.is_yes(said, language=call.lang) else None


def _transfer_input(
    call: Call,
    ivr: IvrSession,
    name: str,
    node: TransferNode,
    mode: str,
    digits: str,
    said: str,
    confidence: float | None,
) -> str:
    now = call.clock.now()
    if mode == "number":
        return _callback(call, ivr, name, node, digits or said, keyed=True)
    if mode == "closed":
        return _closed_input(call, ivr, name, node, digits, said, confidence)
    choice = _choice(call, BUSY_CHOICES, digits, said, confidence)
    if choice == "call_back":
        return _callback(call, ivr, name, node, ivr.caller, keyed=False)
    if choice == "hold":
        return _hold(call, ivr, name, node)
    if choice == "other_number":
        return _ask_number(call, ivr, name)
    ivr.add_step(now, node=name, kind="callback", digits=digits or None, speech=said or None, result=None)
    state = ivr.get_state()
    state["no_match"] = state.get("no_match", 0) + 1
    ivr.set_state(state)
    call.session.commit()
    if state["no_match"] > call.tree.limits.no_match:
        # Nobody to take the call and no answer to our offer: call them back at their own number.
        return _callback(call, ivr, name, node, ivr.caller, keyed=False)
    return _transfer(call, ivr, name, node, (call.text("didnt_get_that"),), again=True)


def _ask_number(call: Call, ivr: IvrSession, name: str) -> str:
    ivr.add_step(call.clock.now(), node=name, kind="callback", result="asked for a number")
    call.session.commit()
    return str(
        call.reply().gather(
            call.url(name, mode="number"), call.text("ask_number"), finish_on_key="#", timeout=10, speech=False
        )
    )


def _refusal(call: Call, error: DomainError | phones.PhoneRejected) -> str:
    """Why a number cannot be called, in the caller's language (the customer pages' translations)."""
    if call.lang == "en":
        return error.message
    try:
        with page_words.in_language(call.lang):
            return str(gettext(error.message))
    except RuntimeError:  # outside an app (a script): the English words still say why
        return error.message


def _callback(call: Call, ivr: IvrSession, name: str, node: TransferNode, number: str, keyed: bool) -> str:
    """Queue a callback that keeps the caller's place: it arrived when the call did."""
    now = call.clock.now()
    client = f"tel:{ivr.caller}"[:45]
    queue = call.session.scalar(select(Queue).where(Queue.name == node.queue))
    assert queue is not None
    try:
        e164 = phones.normalize(number, call.policy)
        check_not_ours(call.session, e164)
        check_do_not_call(call.session, e164)
        # The same limits as the web's: by the number to call, and by the calling number as the client.
        serialise_asks(call.session, e164, client)
        check_asks(call.session, call.limits, e164, client, now)
        if line.active_request(call.session, e164, queue.id) is None:
            check_active(call.session, call.limits, e164)
    except LimitExceeded as exc:
        ivr.add_step(now, node=name, kind="callback", number=number, result=exc.code)
        call.session.commit()
        return _hold(call, ivr, name, node, prefix=(call.text("callback_limit"),))
    except (phones.PhoneRejected, InvalidInput) as exc:
        ivr.add_step(now, node=name, kind="callback", number=number, result=exc.code)
        state = ivr.get_state()
        state["bad_number"] = state.get("bad_number", 0) + 1
        ivr.set_state(state)
        call.session.commit()
        if state["bad_number"] > call.tree.limits.no_match:
            # No number we may call after several tries: keep them on the line instead.
            return _hold(call, ivr, name, node)
        ask = call.text("bad_number", problem=_refusal(call, exc))
        return str(call.reply().gather(call.url(name, mode="number"), ask, finish_on_key="#", timeout=10, speech=False))
    req = _request_for(call, ivr, queue, phone=e164, client=client)
    if req.status not in WAITING:
        call.session.commit()
        return str(call.reply().say(call.text("calling_you_now_goodbye")).hangup())
    ivr.outcome = "callback"
    ivr.request_id = req.id
    ivr.add_step(now, node=name, kind="callback", number=e164, result=f"request {req.id}")
    call.session.commit()
    call.wake()
    ahead = callbacks.position(call.session, req, now) or 0
    spoken = speech.say_digits(e164.removeprefix("+1") if e164.startswith("+1") else e164.removeprefix("+"))
    if ahead == 0:
        place = call.text("keep_place_next")
    elif ahead == 1:
        place = call.text("keep_place_one_ahead")
    else:
        place = call.text("keep_place_ahead", ahead=ahead)
    done = call.text("callback_done_at", number=spoken) if keyed else call.text("callback_done")
    return str(call.reply().say(done, place, call.text("thanks_goodbye")).hangup())


def _hold(call: Call, ivr: IvrSession, name: str, node: TransferNode, prefix: tuple[Part, ...] = ()) -> str:
    """Keep the caller on the line, in the same line as the callbacks, in arrival order."""
    now = call.clock.now()
    queue = call.session.scalar(select(Queue).where(Queue.name == node.queue))
    assert queue is not None
    req = _request_for(call, ivr, queue)
    if req.status not in WAITING:
        call.session.commit()
        return str(call.reply().say(call.text("calling_you_now_goodbye")).hangup())
    line.hold(req, ivr.call_sid)
    ivr.outcome = "hold"
    ivr.request_id = req.id
    ivr.add_step(now, node=name, kind="hold", result=req.ref)
    call.session.commit()
    call.wake()  # a free agent takes the holder out of <Enqueue> at once
    return str(
        call.reply()
        .say(*prefix, call.text("hold_now"))
        .enqueue(
            f"callme-{queue.name}",
            wait_url=call.hooks.ivr("hold-wait", request=req.id),
            action=call.hooks.ivr("hold-done", request=req.id),
        )
        .hangup()
    )


def hold_wait(call: Call, request_id: int, call_sid: str = "") -> str:
    """What a holding caller hears each time Twilio fetches the wait document: their place and the
    wait when either has changed since we last said them, then about HOLD_ANNOUNCE_SECONDS of music."""
    now = call.clock.now()
    req = call.session.get(CallbackRequest, request_id)
    ivr = _load(call, call_sid) if call_sid else None
    # The shop's own hold music when it has uploaded one, else the generated loop.
    reply = call.reply()
    music = prompts.hold_music_url(call.session, call.hooks)
    loops = _music_loops(call.session)
    if req is None or req.status not in WAITING:
        return str(reply.play(music, loop=loops))
    standing = callbacks.standing(call.session, req, now)
    ahead = standing.position or 0
    wait = standing.estimated_wait_seconds
    news = {"ahead": ahead, "minutes": max(1, round(wait / 60)) if wait is not None else None}
    state = ivr.get_state() if ivr is not None else {}
    last = state.get("hold_said")
    if last != news:
        # Thanks once, at the first announcement; after that, only what changed is worth a word.
        said = [call.text("hold_thanks")] if last is None else []
        said.append(call.text("hold_next") if ahead == 0 else call.text("hold_place", position=ahead + 1))
        if wait is not None:
            said.append(call.text("hold_wait", wait=_minutes(call, wait)))
        reply.say(*said)
        if ivr is not None:
            state["hold_said"] = news
            ivr.set_state(state)
            call.session.commit()
    return str(reply.play(music, loop=loops))


def _music_loops(session: Session) -> int:
    """How many times to play the hold music for it to last about HOLD_ANNOUNCE_SECONDS."""
    own = prompts.find(session, prompts.HOLD_MUSIC)
    seconds = own.duration_seconds if own is not None and own.duration_seconds else _generated_music_seconds()
    return max(1, round(HOLD_ANNOUNCE_SECONDS / seconds))


@cache
def _generated_music_seconds() -> float:
    return float(hold_music.render().duration_seconds)


def hold_ended(session: Session, clock: Clock, request_id: int | None, call_sid: str | None, result: str) -> None:
    """The caller left the line (the <Enqueue> action, or their call's end)."""
    query = select(CallbackRequest)
    if request_id is not None:
        query = query.where(CallbackRequest.id == request_id)
    elif call_sid:
        query = query.where(CallbackRequest.hold_call_sid == call_sid)
    else:
        return
    line.hold_ended(session, session.scalar(query), result, clock.now())


def hold_failed(call: Call, call_sid: str) -> str:
    """The line failed under a holder: never a silent hang-up."""
    _load(call, call_sid)
    return str(call.reply().say(call.text("hold_failed")).hangup())


def _request_for(
    call: Call, ivr: IvrSession, queue: Queue, phone: str | None = None, client: str | None = None
) -> CallbackRequest:
    """The caller's place in this queue's line, arrived when their call did."""
    # A caller with no usable number (withheld, foreign) can still hold; a placeholder unique to the
    # call keeps the one-request-per-number rule, and a placeholder is never dialled.
    number = phone or _caller_e164(call, ivr) or f"call:{ivr.call_sid[-15:]}"
    now = call.clock.now()
    req = line.join_from_phone(call.session, queue, number, ivr.started_at, _context(ivr, queue), now, client)
    # The call we place back speaks the language they chose in the menu.
    req.language = ivr.language
    call.session.flush()
    callbacks.record_quote(call.session, req, now)
    return req


def _caller_e164(call: Call, ivr: IvrSession) -> str | None:
    try:
        return phones.normalize(ivr.caller, call.policy)
    except phones.PhoneRejected:
        return None


def _context(ivr: IvrSession, queue: Queue) -> str:
    summary = ivr.summary()
    if not queue.speaks(ivr.language):
        spoken = " or ".join(LANGUAGE_NAMES.get(code, code) for code in queue.spoken)
        summary = f"{summary} They were told the agent may speak only {spoken}.".strip()
    return json.dumps({"summary": summary, "ivr_session": ivr.id, "topic": ivr.topic, "language": ivr.language})


# -- a closed queue: a callback when we open, or a message ------------------------------------------


def _closed(call: Call, ivr: IvrSession, name: str, queue: Queue, prefix: tuple[Part, ...]) -> str:
    """Nobody is on duty: say when we open, and offer a callback then, or a message now (never a hold)."""
    now = call.clock.now()
    opening = queue.business_hours.next_open(now)
    ivr.add_step(now, node=name, kind="transfer", result="closed")
    call.session.commit()
    if opening is None:
        said: tuple[Part, ...] = (call.text("closed"), call.text("message_only_offer"))
    else:
        zone = queue.business_hours.zone
        when = answers.opening_time(opening.astimezone(zone), now.astimezone(zone).date(), language=call.lang)
        said = (call.text("closed_until", when=when), call.text("closed_offer"))
    return str(
        call.reply().gather(
            call.url(name, mode="closed"),
            *prefix,
            *said,
            _language_note(call, queue),
            num_digits=1,
            hints=_offer_hints(call, CLOSED_CHOICES),
        )
    )


def _closed_input(
    call: Call, ivr: IvrSession, name: str, node: TransferNode, digits: str, said: str, confidence: float | None
) -> str:
    choice = _choice(call, CLOSED_CHOICES, digits, said, confidence)
    if choice == "message":
        return _ask_for_message(call, ivr, name)
    if choice == "call_back":
        return _callback(call, ivr, name, node, ivr.caller, keyed=False)
    if choice == "other_number":
        return _ask_number(call, ivr, name)
    state = ivr.get_state()
    state["no_match"] = state.get("no_match", 0) + 1
    ivr.set_state(state)
    ivr.add_step(call.clock.now(), node=name, kind="closed", digits=digits or None, speech=said or None, result=None)
    call.session.commit()
    if state["no_match"] > call.tree.limits.no_match:
        # No answer to the offer: a message needs nothing more from them than speaking.
        return _ask_for_message(call, ivr, name)
    return _transfer(call, ivr, name, node, (call.text("didnt_get_that"),), again=True)


def _ask_for_message(call: Call, ivr: IvrSession, name: str) -> str:
    """Record a message after the tone; `message_left` turns it into a callback with the audio attached."""
    ivr.add_step(call.clock.now(), node=name, kind="message", result="recording")
    call.session.commit()
    ask: tuple[str, ...] = (call.text("message_prompt"),)
    if not _caller_e164(call, ivr):
        ask = (*ask, call.text("message_say_number"))
    return str(
        call.reply()
        .say(*ask, call.text("message_finish"))
        .record(
            call.hooks.ivr("message", node=name),
            call.message_max_seconds,
            call.hooks.ivr("message-recording", node=name),
        )
        .say(call.text("no_message"))
        .hangup()
    )


def message_left(call: Call, call_sid: str, node_name: str, report: dict[str, str]) -> str:
    """The <Record> action: a message becomes a callback request in the queue, the recording attached."""
    now = call.clock.now()
    ivr = _load(call, call_sid)
    node = call.tree.nodes.get(node_name)
    if ivr is None or not isinstance(node, TransferNode):
        return _lost(call)
    seconds = _whole(report.get("RecordingDuration"))
    if not report.get("RecordingSid") or not seconds:
        ivr.add_step(now, node=node_name, kind="message", result="empty")
        call.session.commit()
        return str(call.reply().say(call.text("no_message")).hangup())
    queue = call.session.scalar(select(Queue).where(Queue.name == node.queue))
    assert queue is not None
    req = _request_for(call, ivr, queue)
    ivr.outcome = "callback"
    ivr.request_id = req.id
    note_message(call.session, ivr, report, now)
    ivr.add_step(now, node=node_name, kind="message", result=f"request {req.id}", seconds=seconds)
    call.session.commit()
    key = "message_thanks_callback" if line.callable_number(req) else "message_thanks"
    return str(call.reply().say(call.text(key)).hangup())


def note_message(session: Session, ivr: IvrSession, report: dict[str, str], now: datetime) -> None:
    """Note a message's recording for fetching, attached to the caller's request (once it exists).

    Both the <Record> action and its recording status callback call this, in either order: the
    recording is noted once, and whichever comes with the request fills it in."""
    if report.get("RecordingStatus", "completed") != "completed" or not report.get("RecordingSid"):
        return
    note_recording(
        session,
        provider_sid=report["RecordingSid"],
        call_sid=ivr.call_sid,
        url=report.get("RecordingUrl") or None,
        duration_seconds=_whole(report.get("RecordingDuration")),
        channels=1,
        kind="message",
        request_id=ivr.request_id,
        attempt_id=None,
        agent_id=None,
        now=now,
    )


def _whole(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None
