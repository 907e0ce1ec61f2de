"""Walks the phone tree for one call: each webhook brings one input, and gets the next TwiML back.

Nothing lives in process memory: where the caller is, their counters and what we are holding for
them (a number to confirm, the last answer) are in the IvrSession row, so any worker of any process
can take the next webhook of the call.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from agents.models import Queue
from callback import line
from callback import service as callbacks
from callback import twiml as callback_twiml
from callback.models import WAITING, CallbackRequest
from callback.policy import Limits, check_active, check_asks, check_do_not_call, check_not_ours, serialise_asks
from core import phone as phones
from core.clock import Clock
from core.errors import InvalidInput, LimitExceeded
from core.webhooks import Webhooks
from ivr import answers, speech
from ivr.models import IvrSession
from ivr.tree import HangupNode, LookupNode, MenuNode, SayNode, Text, TransferNode, Tree
from ivr.twiml import Clip, Part, Reply
from orders.port import LookupUnavailable, OrderInfo, OrderLookup
from recordings import prompts
from recordings.service import note_recording

log = logging.getLogger(__name__)

# Below this the recogniser's transcript of a number is read back for confirmation, not trusted.
TRUST_CONFIDENCE = 0.6
# Orders placed this recently are offered to a recognised caller.
RECENT_ORDERS = timedelta(days=60)
YES_NO_HINTS = ["yes", "no"]
DEFAULT_VOICE = "Polly.Joanna"


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

    def url(self, node: str, **params: str) -> str:
        """The absolute URL of the input webhook for a node (Twilio must be given absolute URLs)."""
        return self.hooks.ivr("input", node=node, **params)

    def reply(self) -> Reply:
        """A new TwiML reply in the tree's voice."""
        return Reply(self.tree.voice or DEFAULT_VOICE)

    def words(self, text: Text) -> str:
        """A tree text in the call's language."""
        return text.in_language(self.tree.default_language)

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


# -- entry points ---------------------------------------------------------------------------------


def start(call: Call, call_sid: str, caller: str, called: str) -> str:
    """A new inbound call: greet, then the start node. A retried webhook does not start twice."""
    now = call.clock.now()
    # Insert first: a new call is the common case, and a retry is caught by the unique call SID.
    ivr = IvrSession(
        call_sid=call_sid, caller=caller, called=called, started_at=now, updated_at=now, node=call.tree.start
    )
    call.session.add(ivr)
    try:
        call.session.flush()  # render() commits; one commit per webhook is what it costs
    except IntegrityError:
        call.session.rollback()  # Twilio retried /voice/incoming: carry on with the first one's session
        found = call.session.scalar(select(IvrSession).where(IvrSession.call_sid == call_sid))
        assert found is not None
        ivr = found
    return render(call, ivr, call.tree.start, prefix=(call.sound(call.tree.greeting, call.tree.greeting_play),))


def handle(
    call: Call, call_sid: str, node_name: str, mode: str, digits: str, said: str, confidence: float | None
) -> str:
    """One answer from the caller at a node."""
    ivr = call.session.scalar(select(IvrSession).where(IvrSession.call_sid == call_sid))
    if ivr is None:
        return str(call.reply().say("Sorry, something went wrong on our side. Please call again.").hangup())
    if node_name not in call.tree.nodes:
        # A menu edited since this call's last prompt (or a tampered URL): ask again where they were.
        where = ivr.node if ivr.node in call.tree.nodes else call.tree.start
        return render(call, ivr, where, retry=True)
    node = call.tree.node(node_name)
    if isinstance(node, MenuNode):
        return _menu_input(call, ivr, node_name, node, digits, said, confidence)
    if isinstance(node, LookupNode):
        return _lookup_input(call, ivr, node_name, node, mode, digits, said, confidence)
    if isinstance(node, TransferNode):
        return _transfer_input(call, ivr, node_name, node, mode, digits, said)
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


def render(call: Call, ivr: IvrSession, name: str, prefix: tuple[Part, ...] = (), retry: bool = False) -> str:
    """The TwiML that plays a node (its prompt, or its reprompt when `retry`), after `prefix`."""
    node = call.tree.node(name)
    if ivr.node != name:
        ivr.node = name
        ivr.updated_at = call.clock.now()
    call.session.commit()
    if isinstance(node, MenuNode):
        # A reprompt is another wording for a caller who did not follow: always said, never the recording.
        prompt = call.words(node.reprompt) if retry else call.sound(node.prompt, node.play)
        return str(call.reply().gather(call.url(name), *prefix, prompt, num_digits=1, hints=call.tree.hints(node)))
    if isinstance(node, LookupNode):
        return _render_lookup(call, ivr, name, node, prefix, retry)
    if isinstance(node, TransferNode):
        return _transfer(call, ivr, name, node, prefix)
    if isinstance(node, SayNode):
        return render(call, ivr, node.next, prefix=(*prefix, call.sound(node.prompt, node.play)))
    if isinstance(node, HangupNode):
        ivr.settle_outcome()
        call.session.commit()
        return str(call.reply().say(*prefix, call.sound(node.prompt, node.play)).hangup())
    raise AssertionError(f"unknown node type at {name}")


def _render_lookup(
    call: Call, ivr: IvrSession, name: str, node: LookupNode, prefix: tuple[Part, ...], retry: bool
) -> str:
    state = ivr.get_state()
    if node.lookup == "order" and node.recognise_caller and not retry and not state.get(f"offered:{name}"):
        offer = _recent_order(call, ivr)
        state[f"offered:{name}"] = True
        if offer is not None:
            state["offer"] = offer.number
            ivr.set_state(state)
            call.session.commit()
            placed = answers.when(offer.placed_at, call.clock.now().date())
            what = answers.items_phrase(offer)
            ask = f"I see an order placed {placed} for {what}. Is that the one? Press 1 for yes, or 2 for no."
            return str(
                call.reply().gather(call.url(name, mode="offer"), *prefix, ask, num_digits=1, hints=YES_NO_HINTS)
            )
        ivr.set_state(state)
        call.session.commit()
    prompt = call.words(node.reprompt) if retry else call.sound(node.prompt, node.play)
    return str(
        call.reply().gather(
            call.url(name, mode="ref"), *prefix, prompt, finish_on_key="#", timeout=7, hints=["dash", "double", "oh"]
        )
    )


def _recent_order(call: Call, ivr: IvrSession) -> OrderInfo | None:
    try:
        number = phones.normalize(ivr.caller, phones.any_number(call.policy.default_region))
        recent = call.lookup.orders_for_phone(number, call.clock.now() - RECENT_ORDERS)
    except (phones.PhoneRejected, LookupUnavailable):
        return None  # an unknown or withheld number, or the order service is down: just ask
    return recent[0] if recent else None


# -- inputs ---------------------------------------------------------------------------------------


def _menu_input(
    call: Call, ivr: IvrSession, name: str, node: MenuNode, digits: str, said: str, confidence: float | None
) -> str:
    now = call.clock.now()
    chosen = None
    intent_name, score = None, None
    if digits:
        chosen = next((o for o in node.options if o.digit == digits[:1]), None)
    elif said:
        intents = {o.intent: call.tree.intents.get(o.intent, ()) for o in node.options}
        intent = speech.match_intent(said, intents, confidence)
        if intent is not None:
            intent_name, score = intent.name, intent.confidence
            chosen = next((o for o in node.options if o.intent == intent.name), None)
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
    if chosen is None:
        return _missed(call, ivr, name, node.fallback, heard=bool(digits or said))
    _reset_counters(ivr)
    if chosen.goto == "@repeat":
        return render(call, ivr, name, prefix=(ivr.get_state().get("last_answer", ""),))
    return render(call, ivr, chosen.goto)


def _missed(call: Call, ivr: IvrSession, name: str, fallback: str, heard: bool, prefix: tuple[Part, ...] = ()) -> str:
    """No input or no match: re-prompt in other words, or after the limit move on (never hang up)."""
    state = ivr.get_state()
    key = "no_match" if heard else "no_input"
    state[key] = state.get(key, 0) + 1
    ivr.set_state(state)
    limit = call.tree.limits.no_match if heard else call.tree.limits.no_input
    if state[key] > limit:
        _reset_counters(ivr)
        return render(call, ivr, fallback, prefix=(*prefix, "Let me get someone to help you."))
    return render(call, ivr, name, prefix=prefix, retry=True)


def _reset_counters(ivr: IvrSession) -> None:
    state = ivr.get_state()
    state.pop("no_match", None)
    state.pop("no_input", None)
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
    if mode == "offer":
        answer = speech.yes_no(digits, said)
        ivr.add_step(now, node=name, kind="offer", digits=digits or None, speech=said or None, result=answer)
        if answer and state.get("offer"):
            return _look_up(call, ivr, name, node, str(state["offer"]))
        return render(call, ivr, name, prefix=("Okay.",) if answer is False else ())
    if mode == "confirm":
        answer = speech.yes_no(digits, said)
        ivr.add_step(now, node=name, kind="confirm", digits=digits or None, speech=said or None, result=answer)
        if answer and state.get("pending"):
            return _look_up(call, ivr, name, node, str(state["pending"]))
        return _missed(call, ivr, name, node.fallback, heard=True, prefix=("Sorry about that.",))
    # A reference, keyed or said.
    if digits:
        reference, trusted = digits, True
    elif said:
        reference, trusted = _heard_reference(node, said, confidence)
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
        question = f"I heard {speech.say_digits(reference)}. Is that right? Press 1 for yes, or 2 for no."
        return str(call.reply().gather(call.url(name, mode="confirm"), question, num_digits=1, hints=YES_NO_HINTS))
    return _look_up(call, ivr, name, node, reference)


def _heard_reference(node: LookupNode, said: str, confidence: float | None) -> tuple[str, bool]:
    """What a caller said as a number, and whether it can be trusted without reading it back."""
    if node.lookup == "return":
        reference = speech.spoken_reference(said)
        return reference, bool(reference) and (confidence or 0) >= TRUST_CONFIDENCE
    heard = speech.spoken_digits(said)
    formatted = speech.format_order_number(heard.digits) if heard.digits else None
    trusted = bool(formatted) and heard.complete and not heard.unsure and (confidence or 0) >= TRUST_CONFIDENCE
    return formatted or heard.digits, trusted


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
            sentence = answers.order_sentence(found, today) if found else None
        else:
            ret = call.lookup.return_for(reference) or (
                call.lookup.return_for(speech.format_order_number(reference) or reference)
            )
            sentence = answers.return_sentence(ret, today) if ret else None
    except LookupUnavailable:
        ivr.add_step(now, node=name, kind="lookup", reference=reference, result="unavailable")
        return render(call, ivr, node.fallback, prefix=("I'm sorry, I can't look that up right now.",))
    if sentence is None:
        ivr.add_step(now, node=name, kind="lookup", reference=reference, result=None)
        what = "an order" if node.lookup == "order" else "a return"
        return _missed(
            call, ivr, name, node.fallback, heard=True, prefix=(f"I couldn't find {what} with that number.",)
        )
    ivr.add_step(now, node=name, kind="lookup", reference=reference, result=sentence)
    state = ivr.get_state()
    state.update(last_answer=sentence, answered=True)
    ivr.set_state(state)
    _reset_counters(ivr)
    return render(call, ivr, node.found, prefix=(sentence,))


# -- transfer, callback -----------------------------------------------------------------------------


def _transfer(call: Call, ivr: IvrSession, name: str, node: TransferNode, prefix: tuple[Part, ...]) -> str:
    """Connect to a free agent of the queue now, or say the wait and offer to call back."""
    now = call.clock.now()
    queue = call.session.scalar(select(Queue).where(Queue.name == node.queue))
    assert queue is not None, node.queue  # the tree checker refuses unknown queues at start-up
    ivr.topic = node.queue
    agent = line.reserve_free_agent(call.session, queue.id, now) if queue.business_hours.is_open(now) else None
    if agent is not None:
        req = _request_for(call, ivr, queue)
        leg = line.take_over(call.session, req, agent, ivr.call_sid, now)
        if leg is None:
            # The dispatcher claimed this caller's request a moment ago (or is calling them already).
            call.session.commit()
            return str(
                call.reply()
                .say(
                    *prefix,
                    "It looks like we're calling you back about this right now. Please hang up to take our call.",
                )
                .hangup()
            )
        ivr.outcome = "transferred"
        ivr.request_id = req.id
        ivr.add_step(now, node=name, kind="transfer", result=f"agent {agent.id}")
        call.session.commit()
        # The agent's leg says its greeting in the request's language: words only, never a recording.
        said = (*prefix, call.words(node.prompt) if node.prompt else "Connecting you to someone now.")
        greeting = " ".join(text for text in (p.text if isinstance(p, Clip) else p for p in said) if text)
        return callback_twiml.connect_leg(
            leg.attempt, leg, call.hooks, queue.caller_id or call.caller_id, call.ring_timeout, greeting=greeting
        )
    if not queue.business_hours.is_open(now):
        return _closed(call, ivr, name, queue, prefix)
    ahead = callbacks.waiting_count(call.session, queue, now)
    wait = callbacks.queue_wait(call.session, queue, now)
    minutes = f"about {max(1, round(wait / 60))} minutes" if wait is not None else "hard to say right now"
    place = f"You're number {ahead + 1} in line, and the wait is {minutes}."
    ivr.add_step(now, node=name, kind="transfer", result="busy")
    call.session.commit()
    offer = (
        "To keep your place and have us call you back at the number you're calling from, press 1, "
        "or say call me back. To give us a different number, press 2. To hold, press 3, or say hold."
    )
    return str(
        call.reply().gather(
            call.url(name, mode="callback"),
            *prefix,
            "All our agents are busy right now.",
            place,
            offer,
            num_digits=1,
            hints=["call me back", "different number", "hold"],
        )
    )


def _transfer_input(
    call: Call, ivr: IvrSession, name: str, node: TransferNode, mode: str, digits: str, said: str
) -> str:
    now = call.clock.now()
    if mode == "number":
        return _callback(call, ivr, name, node, digits or said, keyed=True)
    choice = digits[:1] if digits else ""
    words = said.lower()
    if mode == "closed":
        return _closed_input(call, ivr, name, node, choice, words, said)
    if choice == "1" or "back" in words or speech.is_yes(said):
        return _callback(call, ivr, name, node, ivr.caller, keyed=False)
    if choice == "3" or "hold" in words or "wait" in words:
        return _hold(call, ivr, name, node)
    if choice == "2" or "different" in words or "another" in words:
        ivr.add_step(now, node=name, kind="callback", result="asked for a number")
        call.session.commit()
        ask = "Please key in the number we should call, including the area code, then press hash."
        return str(call.reply().gather(call.url(name, mode="number"), ask, finish_on_key="#", timeout=10, speech=False))
    ivr.add_step(now, node=name, kind="callback", digits=digits or None, speech=said or None, result=None)
    state = ivr.get_state()
    state["no_match"] = state.get("no_match", 0) + 1
    ivr.set_state(state)
    call.session.commit()
    if state["no_match"] > call.tree.limits.no_match:
        # Nobody to take the call and no answer to our offer: call them back at their own number.
        return _callback(call, ivr, name, node, ivr.caller, keyed=False)
    return _transfer(call, ivr, name, node, ("Sorry, I didn't get that.",))


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
        return _hold(call, ivr, name, node, prefix=("Sorry, we can't take another callback for that number just now.",))
    except (phones.PhoneRejected, InvalidInput) as exc:
        ivr.add_step(now, node=name, kind="callback", number=number, result=exc.code)
        state = ivr.get_state()
        state["bad_number"] = state.get("bad_number", 0) + 1
        ivr.set_state(state)
        call.session.commit()
        if state["bad_number"] > call.tree.limits.no_match:
            # No number we may call after several tries: keep them on the line instead.
            return _hold(call, ivr, name, node)
        ask = f"{exc.message} Please key in the number we should call, then press hash."
        return str(call.reply().gather(call.url(name, mode="number"), ask, finish_on_key="#", timeout=10, speech=False))
    req = _request_for(call, ivr, queue, phone=e164, client=client)
    if req.status not in WAITING:
        call.session.commit()
        return str(call.reply().say("It looks like we're calling you about this right now. Goodbye.").hangup())
    ivr.outcome = "callback"
    ivr.request_id = req.id
    ivr.add_step(now, node=name, kind="callback", number=e164, result=f"request {req.id}")
    call.session.commit()
    call.wake()
    ahead = callbacks.position(call.session, req, now) or 0
    spoken = speech.say_digits(e164.removeprefix("+1") if e164.startswith("+1") else e164.removeprefix("+"))
    return str(
        call.reply()
        .say(
            f"Done. We'll call you back at {spoken}." if keyed else "Done. We'll call you back at this number.",
            f"You keep your place in line: {'you are next' if ahead == 0 else f'{ahead} ahead of you'}.",
            "Thanks for calling. Goodbye.",
        )
        .hangup()
    )


def _hold(call: Call, ivr: IvrSession, name: str, node: TransferNode, prefix: tuple[Part, ...] = ()) -> str:
    """Keep the caller on the line, in the same line as the callbacks, in arrival order."""
    now = call.clock.now()
    queue = call.session.scalar(select(Queue).where(Queue.name == node.queue))
    assert queue is not None
    req = _request_for(call, ivr, queue)
    if req.status not in WAITING:
        call.session.commit()
        return str(call.reply().say("It looks like we're calling you about this right now. Goodbye.").hangup())
    line.hold(req, ivr.call_sid)
    ivr.outcome = "hold"
    ivr.request_id = req.id
    ivr.add_step(now, node=name, kind="hold", result=req.ref)
    call.session.commit()
    call.wake()  # a free agent takes the holder out of <Enqueue> at once
    return str(
        call.reply()
        .say(*prefix, "Okay, please hold. We'll put you through as soon as someone is free.")
        .enqueue(
            f"callme-{queue.name}",
            wait_url=call.hooks.ivr("hold-wait", request=req.id),
            action=call.hooks.ivr("hold-done", request=req.id),
        )
        .hangup()
    )


def hold_wait(call: Call, request_id: int) -> str:
    """What a holding caller hears on each loop: their place, the wait, then music."""
    now = call.clock.now()
    req = call.session.get(CallbackRequest, request_id)
    # The shop's own hold music when it has uploaded one, else the generated loop.
    music = prompts.hold_music_url(call.session, call.hooks)
    if req is None or req.status not in WAITING:
        return str(call.reply().play(music))
    standing = callbacks.standing(call.session, req, now)
    ahead = standing.position or 0
    place = "You're next." if ahead == 0 else f"There {'is' if ahead == 1 else 'are'} {ahead} ahead of you."
    wait = standing.estimated_wait_seconds
    minutes = f" The wait is about {max(1, round(wait / 60))} minutes." if wait is not None else ""
    return str(call.reply().say(f"Thanks for holding. {place}{minutes}").play(music))


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


def _request_for(
    call: Call, ivr: IvrSession, queue: Queue, phone: str | None = None, client: str | None = None
) -> CallbackRequest:
    """The caller's place in this queue's line, arrived when their call did."""
    # A caller with no usable number (withheld, foreign) can still hold; a placeholder unique to the
    # call keeps the one-request-per-number rule, and a placeholder is never dialled.
    number = phone or _caller_e164(call, ivr) or f"call:{ivr.call_sid[-15:]}"
    now = call.clock.now()
    req = line.join_from_phone(call.session, queue, number, ivr.started_at, _context(ivr), now, client)
    call.session.flush()
    callbacks.record_quote(call.session, req, now)
    return req


def _caller_e164(call: Call, ivr: IvrSession) -> str | None:
    try:
        return phones.normalize(ivr.caller, call.policy)
    except phones.PhoneRejected:
        return None


def _context(ivr: IvrSession) -> str:
    return json.dumps({"summary": ivr.summary(), "ivr_session": ivr.id, "topic": ivr.topic})


# -- a closed queue: a callback when we open, or a message ------------------------------------------

CLOSED_OFFER = (
    "To have us call you back after we open, at the number you're calling from, press 1, or say call me back. "
    "To leave us a message instead, press 2, or say message. To give us a different number to call, press 3."
)
MESSAGE_ONLY_OFFER = "To leave us a message, press 2, or say message."


def _closed(call: Call, ivr: IvrSession, name: str, queue: Queue, prefix: tuple[Part, ...]) -> str:
    """Nobody is on duty: say when we open, and offer a callback then, or a message now (never a hold)."""
    now = call.clock.now()
    opening = queue.business_hours.next_open(now)
    ivr.add_step(now, node=name, kind="transfer", result="closed")
    call.session.commit()
    if opening is None:
        said: tuple[Part, ...] = ("We're closed right now.", MESSAGE_ONLY_OFFER)
    else:
        said = (f"We're closed right now. We open again {_when(opening, queue, now)}.", CLOSED_OFFER)
    return str(
        call.reply().gather(
            call.url(name, mode="closed"),
            *prefix,
            *said,
            num_digits=1,
            hints=["call me back", "message", "different number"],
        )
    )


def _when(opening: datetime, queue: Queue, now: datetime) -> str:
    """An opening time as said on the phone, in the queue's zone: "at 9 AM", "tomorrow at 9:30 AM"."""
    zone = queue.business_hours.zone
    local, today = opening.astimezone(zone), now.astimezone(zone).date()
    clock_words = local.strftime("%-I:%M %p").replace(":00 ", " ")
    if local.date() == today:
        return f"at {clock_words}"
    if local.date() == today + timedelta(days=1):
        return f"tomorrow at {clock_words}"
    return f"on {local.strftime('%A')} at {clock_words}"


def _closed_input(
    call: Call, ivr: IvrSession, name: str, node: TransferNode, choice: str, words: str, said: str
) -> str:
    if choice == "2" or "message" in words:
        return _ask_for_message(call, ivr, name)
    if choice == "1" or "back" in words or speech.is_yes(said):
        return _callback(call, ivr, name, node, ivr.caller, keyed=False)
    if choice == "3" or "different" in words or "another" in words:
        ivr.add_step(call.clock.now(), node=name, kind="callback", result="asked for a number")
        call.session.commit()
        ask = "Please key in the number we should call, including the area code, then press hash."
        return str(call.reply().gather(call.url(name, mode="number"), ask, finish_on_key="#", timeout=10, speech=False))
    state = ivr.get_state()
    state["no_match"] = state.get("no_match", 0) + 1
    ivr.set_state(state)
    ivr.add_step(call.clock.now(), node=name, kind="closed", digits=choice or None, speech=said or None, result=None)
    call.session.commit()
    if state["no_match"] > call.tree.limits.no_match:
        # No answer to the offer: a message needs nothing more from them than speaking.
        return _ask_for_message(call, ivr, name)
    return _transfer(call, ivr, name, node, ("Sorry, I didn't get that.",))


def _ask_for_message(call: Call, ivr: IvrSession, name: str) -> str:
    """Record a message after the tone; `message_left` turns it into a callback with the audio attached."""
    ivr.add_step(call.clock.now(), node=name, kind="message", result="recording")
    call.session.commit()
    number_words = (
        "" if _caller_e164(call, ivr) else "We can't see the number you're calling from, so please say it too. "
    )
    return str(
        call.reply()
        .say(
            "After the tone, please tell us your name, your order number if you have one, and how we can help. "
            f"{number_words}Press the pound key when you're done."
        )
        .record(
            call.hooks.ivr("message", node=name),
            call.message_max_seconds,
            call.hooks.ivr("message-recording", node=name),
        )
        .say("I didn't hear a message. Please call us again when we're open. Goodbye.")
        .hangup()
    )


def message_left(call: Call, call_sid: str, node_name: str, report: dict[str, str]) -> str:
    """The <Record> action: a message becomes a callback request in the queue, the recording attached."""
    now = call.clock.now()
    ivr = call.session.scalar(select(IvrSession).where(IvrSession.call_sid == call_sid))
    node = call.tree.nodes.get(node_name)
    if ivr is None or not isinstance(node, TransferNode):
        return str(call.reply().say("Sorry, something went wrong on our side. Please call again.").hangup())
    seconds = _whole(report.get("RecordingDuration"))
    if not report.get("RecordingSid") or not seconds:
        ivr.add_step(now, node=node_name, kind="message", result="empty")
        call.session.commit()
        return str(call.reply().say("I didn't hear a message. Please call us again when we're open. Goodbye.").hangup())
    queue = call.session.scalar(select(Queue).where(Queue.name == node.queue))
    assert queue is not None
    req = _request_for(call, ivr, queue)
    ivr.outcome = "callback"
    ivr.request_id = req.id
    note_message(call.session, ivr, report, now)
    ivr.add_step(now, node=node_name, kind="message", result=f"request {req.id}", seconds=seconds)
    call.session.commit()
    if line.callable_number(req):
        return str(
            call.reply()
            .say("Thank you. We have your message, and we'll call you back after we open. Goodbye.")
            .hangup()
        )
    return str(call.reply().say("Thank you. We have your message. Goodbye.").hangup())


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
