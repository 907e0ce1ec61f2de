"""Handing a phone-menu caller to a person: connected to a free agent now, or, when nobody is free,
a callback that keeps their place or a hold in the same line; when the line is closed, a callback
after opening or a message. Holders hear their place when it changes, between stretches of music."""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.models import Queue, primary_language
from callback import line
from callback import service as callbacks
from callback import twiml as callback_twiml
from callback import words as page_words
from callback.models import CALLER_ID_DOUBTED, MATCHED_CALLER_ID, WAITING, AgentLeg, CallAttempt, CallbackRequest
from callback.policy import check_ask, check_not_ours, phone_client_key, serialise_asks
from core import phone as phones
from core.clock import Clock
from core.errors import DomainError, InvalidInput, LimitExceeded
from ivr import answers, speech
from ivr.call import Call, given_time, load, lost
from ivr.models import IvrSession
from ivr.tree import TransferNode
from ivr.twiml import Clip, Part, Voiced
from recordings import hold_music, prompts
from recordings.service import note_recording

log = logging.getLogger(__name__)

# Twilio plays the wait document again when it ends, fetching it anew: its music lasts about this
# long, so the place in line is announced about this often (and only when it has changed).
HOLD_ANNOUNCE_SECONDS = 45
# A holder whose line has had nobody signed in this long (the last agent signed out) leaves it as a
# callback: nobody would ever take them out of <Enqueue>. A moment's absence (signing out and in
# again) is waited out.
HOLD_UNSTAFFED_SECONDS = 120


def transfer(
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
    # The agent's leg says its greeting in the request's language: words only, never a recording.
    said = (*prefix, *(lead if any(lead) else (call.text("connecting"),)), note)
    greeting = " ".join(text for text in (p.text if isinstance(p, Clip | Voiced) else p for p in said) if text)
    ringing = _agent_ringing(call, ivr)
    if ringing is not None:
        # Twilio retried this webhook (a read timeout): the same <Dial>, no second agent.
        return callback_twiml.connect_leg(
            ringing.attempt, ringing, call.hooks, queue.caller_id or call.caller_id, call.ring_timeout, greeting
        )
    # A free agent is not a newcomer's while someone who called before them holds: the dispatcher is
    # taking that holder to the agent (even while dialling is paused), and the line is in arrival order.
    free = queue.business_hours.is_open(now) and not line.holders_ahead(call.session, queue.id, ivr.started_at)
    agent = line.reserve_free_agent(call.session, queue.id, now) if free else None
    if agent is not None:
        req = _caller_place(call, ivr, queue)
        leg = line.take_over(call.session, req, agent, ivr.call_sid, now)
        if leg is None:
            call.session.commit()
            ringing = _agent_ringing(call, ivr, anyway=True)
            if ringing is not None:
                # A retry that raced its first try, which won: the first try's <Dial>.
                return callback_twiml.connect_leg(
                    ringing.attempt, ringing, call.hooks, queue.caller_id or call.caller_id, call.ring_timeout, greeting
                )
            # The dispatcher claimed this caller's request a moment ago (or is calling them already).
            return str(call.reply().say(*prefix, call.text("calling_you_now")).hangup())
        ivr.outcome = "transferred"
        ivr.request_id = req.id
        ivr.add_step(now, node=name, kind="transfer", result=f"agent {agent.id}")
        call.session.commit()
        return callback_twiml.connect_leg(
            leg.attempt, leg, call.hooks, queue.caller_id or call.caller_id, call.ring_timeout, greeting=greeting
        )
    if not queue.business_hours.is_open(now):
        return _closed(call, ivr, name, queue, prefix)
    # Nobody signed in is not the same news as everyone busy: the wait is unknown, not long. Agents
    # on a break are busy to the caller: they will be back to take a holder out of the line.
    on_duty = callbacks.staffing(call.session, queue).signed_in > 0
    # The caller's own place, behind everyone waiting: a request of the number they call from is not
    # theirs to be told of (a caller ID proves nothing), so it counts among the others.
    ahead = callbacks.waiting_count(call.session, queue, now)
    wait = callbacks.queue_wait(call.session, queue, now)
    if wait is None:
        place = call.text("place_in_line", position=ahead + 1)
    else:
        place = call.text("place_and_wait", position=ahead + 1, wait=_minutes(call, wait))
    ivr.add_step(now, node=name, kind="transfer", result="busy" if on_duty else "nobody on duty")
    call.session.commit()
    # With nobody signed in there is nobody to take a holder out of the line: a callback only. A
    # number we cannot dial (withheld, abroad) is not offered back to them: they key one instead.
    offer = "busy_offer" if on_duty else "busy_offer_unstaffed"
    return str(
        call.reply().gather(
            call.url(name, mode="callback" if on_duty else UNSTAFFED),
            *prefix,
            *(part for part in lead if part),
            call.text("everyone_busy" if on_duty else "nobody_on_duty"),
            place,
            note,
            call.text(offer if _caller_e164(call, ivr) else f"{offer}_keyed"),
            num_digits=1,
            hints=_offer_hints(call, BUSY_CHOICES if on_duty else UNSTAFFED_CHOICES),
        )
    )


def _agent_ringing(call: Call, ivr: IvrSession, anyway: bool = False) -> AgentLeg | None:
    """The agent leg this call is ringing now, if a transfer of it is under way (`anyway`: look even
    when the session, read before a concurrent first try committed, does not say so)."""
    if ivr.outcome != "transferred" and not anyway:
        return None  # no read at all for every call not put through (almost all of them)
    attempt = call.session.scalar(
        select(CallAttempt).where(CallAttempt.call_sid == ivr.call_sid, CallAttempt.ended_at.is_(None))
    )
    if attempt is None or not attempt.agent_legs or attempt.agent_legs[-1].ended_at is not None:
        return None
    return attempt.agent_legs[-1]


def _minutes(call: Call, seconds: int) -> str:
    minutes = max(1, round(seconds / 60))
    return call.text("wait_one_minute") if minutes == 1 else call.text("wait_minutes", minutes=minutes)


def _language_note(call: Call, queue: Queue) -> str:
    """For a caller whose language the queue's agents may not speak: which ones they do speak."""
    if queue.speaks(call.lang):
        return ""
    spoken = dict.fromkeys(primary_language(code) for code in queue.spoken)
    names = [call.text(f"language_{code}") if f"language_{code}" in call.tree.texts else code for code in spoken]
    return call.text("agent_language", languages=", ".join(names))


# The answers to a busy line's offer and to a closed line's, by key; said, they are the tree's intents.
OTHER_NUMBER, CALL_BACK = "other_number", "call_back"
BUSY_CHOICES = {"1": CALL_BACK, "2": OTHER_NUMBER, "3": "hold"}
UNSTAFFED_CHOICES = {"1": CALL_BACK, "2": OTHER_NUMBER}
# The tree's intents for declining an offer, and for hearing it again.
GOODBYE, REPEAT = "goodbye", "repeat"
# The menus' intent for a person, and the offer's choice that leads to one soonest.
AGENT, HOLD = "agent", "hold"
# The busy offer's mode when nobody was on duty to offer a hold.
UNSTAFFED = "unstaffed"
CLOSED_CHOICES = {"1": CALL_BACK, "2": "message", "3": OTHER_NUMBER}


def _offer_hints(call: Call, choices: dict[str, str]) -> list[str]:
    return [phrase for phrases in call.intents(*choices.values()).values() for phrase in phrases]


# Digits enough to be a phone number said in a callback request ("call me at 555 0199").
PHONE_DIGITS = 7


# Another phone of the caller's, named: "call my cell", "a mi celular".
OTHER_PHONES = frozenset({"cell", "cellphone", "mobile", "celular", "movil", "móvil"})


def _names_a_number(call: Call, said: str) -> bool:
    """Whether words asking to be called name another number than this one: its digits, or its kind."""
    if not OTHER_PHONES.isdisjoint(re.findall(r"\w+", said.lower())):
        return True
    return len(speech.spoken_digits(said, language=call.lang).digits) >= PHONE_DIGITS


def _choice(call: Call, choices: dict[str, str], digits: str, said: str, confidence: float | None) -> str | None:
    """Which of an offer's choices a key or words mean; a plain yes is the first (calling them back)."""
    if digits:
        if digits[:1] == "0" and "0" not in choices:
            return _person(choices)  # 0, the key for a person everywhere else in the menu
        return choices.get(digits[:1])
    if not said:
        return None
    key = speech.spoken_key(said, language=call.lang)
    if key in choices:
        return choices[key]  # "three", "press one": the key said instead of pressed
    if speech.caller_will_call(said, language=call.lang):
        return GOODBYE  # "No thanks, I'll call back later": no callback of ours
    offered = list(choices.values())
    intent = speech.match_intent(said, call.intents(*offered, AGENT), confidence, language=call.lang)
    if intent is not None and intent.name == AGENT:
        return _person(choices)  # "A representative, please"
    if (intent is None or intent.name == CALL_BACK) and OTHER_NUMBER in offered and _names_a_number(call, said):
        return OTHER_NUMBER  # "Call me at 201 555 0199", "can you call my cell?": not this number
    if intent is not None and intent.name in offered:
        return intent.name
    # "Goodbye", "no thank you": no callback and no hold; "repeat" or "what?": the offer again.
    if speech.asks_to_repeat(said, language=call.lang):
        return REPEAT
    other = speech.match_intent(said, call.intents(GOODBYE, REPEAT), confidence, language=call.lang)
    if other is not None and other.name in (GOODBYE, REPEAT):
        return other.name
    if speech.never_mind(said, language=call.lang):
        return GOODBYE  # "never mind", "forget it": they turn the offer down, callback and all
    answer = speech.is_yes(said, language=call.lang)
    return choices["1"] if answer else GOODBYE if answer is False else None


def _person(choices: dict[str, str]) -> str:
    """A person asked for at an offer: waiting on the line is how to reach one when everyone is busy;
    where no hold is offered, a person asked for who is not there, and the caller is told so."""
    return HOLD if HOLD in choices.values() else AGENT


def transfer_input(
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
    offered = UNSTAFFED_CHOICES if mode == UNSTAFFED else BUSY_CHOICES
    choice = _choice(call, offered, digits, said, confidence)
    # Asked to hold, or for a person, when no hold was offered: say why not, and offer the callback again.
    refused_hold = choice == AGENT or (choice is None and offered is UNSTAFFED_CHOICES)
    refused_hold = refused_hold and _choice(call, BUSY_CHOICES, digits, said, confidence) == "hold"
    if choice == CALL_BACK:
        return _call_back_caller(call, ivr, name, node)
    if choice == "hold":
        return _hold(call, ivr, name, node)
    if choice == OTHER_NUMBER:
        return _ask_number(call, ivr, name)
    if choice in (GOODBYE, REPEAT):
        return _declined_or_again(call, ivr, name, node, choice, said)
    ivr.add_step(now, node=name, kind="callback", digits=digits or None, speech=said or None, result=None)
    if said and not digits and given_time(call, ivr, said):
        # "Give me a minute", or (with no hold offered) "hold on a second": time, not an apology.
        call.session.commit()
        return transfer(call, ivr, name, node, (call.text("take_your_time"),), again=True)
    state = ivr.get_state()
    state["no_match"] = state.get("no_match", 0) + 1
    ivr.set_state(state)
    call.session.commit()
    if state["no_match"] > call.tree.limits.no_match:
        # Nobody to take the call and no answer to our offer: call them back at their own number.
        if not _caller_e164(call, ivr):
            return _instead_of_callback(call, ivr, name, node)
        # Asking to hold again and again is an answer, only not one we can give: no "I didn't get an answer".
        done = "" if refused_hold else "callback_after_no_answer"
        return _callback(call, ivr, name, node, ivr.caller, keyed=False, done=done)
    if not digits and not said and not refused_hold:
        # Silence is nothing we failed to get: the offer again, without "Sorry, I didn't get that".
        return transfer(call, ivr, name, node, (), again=True)
    sorry = call.text("no_hold_unstaffed" if refused_hold else "didnt_get_that")
    return transfer(call, ivr, name, node, (sorry,), again=True)


def _declined_or_again(call: Call, ivr: IvrSession, name: str, node: TransferNode, choice: str, said: str) -> str:
    """The offer declined ("no thanks", "goodbye"): a polite goodbye, no callback; or asked again."""
    ivr.add_step(call.clock.now(), node=name, kind="callback", speech=said or None, result=choice)
    call.session.commit()
    if choice == REPEAT:
        return transfer(call, ivr, name, node, (), again=True)
    return str(call.reply().say(call.text("offer_declined"), call.text("thanks_goodbye")).hangup())


def _call_back_caller(call: Call, ivr: IvrSession, name: str, node: TransferNode) -> str:
    """A callback at the number they are calling from; one we cannot dial (withheld, abroad) is asked
    for instead, never refused as though they had keyed it."""
    if not _caller_e164(call, ivr):
        return _ask_number(call, ivr, name)
    return _callback(call, ivr, name, node, ivr.caller, keyed=False)


def _instead_of_callback(
    call: Call, ivr: IvrSession, name: str, node: TransferNode, prefix: tuple[Part, ...] = ()
) -> str:
    """No number we may call: a hold where someone will take the caller out of the line, else (the
    line closed, or nobody signed in) a message: never a hold nobody would ever end."""
    queue = call.session.scalar(select(Queue).where(Queue.name == node.queue))
    assert queue is not None
    if _staffed_now(call, queue):
        return _hold(call, ivr, name, node, prefix=prefix)
    return _ask_for_message(call, ivr, name, prefix=prefix)


def _staffed_now(call: Call, queue: Queue) -> bool:
    """Whether the queue is open with someone signed in: someone who will take a holder off hold."""
    return queue.business_hours.is_open(call.clock.now()) and callbacks.staffing(call.session, queue).signed_in > 0


def _ask_number(call: Call, ivr: IvrSession, name: str) -> str:
    ivr.add_step(call.clock.now(), node=name, kind="callback", result="asked for a number")
    call.session.commit()
    return str(
        call.reply().gather(
            call.url(name, mode="number"), call.text("ask_number"), finish_on_key="#", timeout=10, speech=False
        )
    )


def _refusal(call: Call, error: DomainError | phones.PhoneRejected) -> str:
    """Why a number cannot be called, in the caller's language: the customer pages' words (a number
    abroad named with its country, as the form names it), said for a keypad."""
    refused = callbacks.PhoneRefused(error) if isinstance(error, phones.PhoneRejected) else error
    try:
        with page_words.in_language(call.lang):
            words = page_words.message(refused, call.policy)
    except RuntimeError:  # outside an app (a script): the English words still say why
        return error.message
    # The form asks a Spanish customer to write the number ("Escriba"); a caller dials it.
    return words.replace("Escriba", "Marque") if call.lang == "es" else words


def _judge_ask(call: Call, ivr: IvrSession, queue: Queue, e164: str, client: str) -> None:
    """The checks a callback asked for in the menu passes, those of every callback (policy.check_ask:
    the limits by the number to call and by the caller as the client, and do-not-call), under the
    number's lock; raises LimitExceeded or InvalidInput. A retried webhook, which finds the request
    this call made, asks nothing new."""
    check_not_ours(call.session, e164)
    serialise_asks(call.session, e164, client)
    found = line.active_request(call.session, e164, queue.id)
    if found is None or not _made_by(found, ivr):
        check_ask(call.session, call.limits, e164, client, call.clock.now(), found_active=found is not None)


def _callback(
    call: Call, ivr: IvrSession, name: str, node: TransferNode, number: str, keyed: bool, done: str = ""
) -> str:
    """Queue a callback that keeps the caller's place: it arrived when the call did (`done`: the text
    that says so, when not the usual one)."""
    now = call.clock.now()
    client = phone_client_key(_caller_e164(call, ivr), ivr.call_sid)
    queue = call.session.scalar(select(Queue).where(Queue.name == node.queue))
    assert queue is not None
    try:
        e164 = phones.normalize(number, call.policy)
        _judge_ask(call, ivr, queue, e164, client)
    except LimitExceeded as exc:
        ivr.add_step(now, node=name, kind="callback", number=number, result=exc.code)
        call.session.commit()
        return _instead_of_callback(call, ivr, name, node, prefix=(call.text("callback_limit"),))
    except (phones.PhoneRejected, InvalidInput) as exc:
        ivr.add_step(now, node=name, kind="callback", number=number, result=exc.code)
        state = ivr.get_state()
        state["bad_number"] = state.get("bad_number", 0) + 1
        ivr.set_state(state)
        call.session.commit()
        if state["bad_number"] > call.tree.limits.no_match:
            # No number we may call after several tries: keep them on the line, or take a message.
            return _instead_of_callback(call, ivr, name, node, prefix=(call.text("no_usable_number"),))
        ask = call.text("bad_number", problem=_refusal(call, exc))
        return str(call.reply().gather(call.url(name, mode="number"), ask, finish_on_key="#", timeout=10, speech=False))
    req = _request_for(call, ivr, queue, phone=e164, client=client)
    if req is None:
        # The number has a callback in this queue that this call did not make. Whoever keys a number (or
        # presents it as their caller ID) may be anyone: they hear that it is booked, as the web says,
        # and nothing of it changes. The ask is kept so the limits count it like any other.
        line.repeated_ask(call.session, queue, e164, now, client)
        ivr.outcome = "callback"
        ivr.add_step(now, node=name, kind="callback", number=e164, result="already booked")
        call.session.commit()
        booked = "callback_already_booked_at" if keyed else "callback_already_booked"
        return str(call.reply().say(call.text(booked), call.text("thanks_goodbye")).hangup())
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
    said = (
        call.text(done)
        if done
        else call.text("callback_done_at", number=spoken)
        if keyed
        else call.text("callback_done")
    )
    return str(call.reply().say(said, place, call.text("thanks_goodbye")).hangup())


def _hold(call: Call, ivr: IvrSession, name: str, node: TransferNode, prefix: tuple[Part, ...] = ()) -> str:
    """Keep the caller on the line, in the same line as the callbacks, in arrival order."""
    now = call.clock.now()
    queue = call.session.scalar(select(Queue).where(Queue.name == node.queue))
    assert queue is not None
    req = _caller_place(call, ivr, queue)
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
    ivr = load(call, call_sid) if call_sid else None
    # The shop's own hold music when it has uploaded one, else the generated loop.
    reply = call.reply()
    music = prompts.hold_music_url(call.session, call.hooks)
    loops = _music_loops(call.session)
    if req is None or req.status not in WAITING:
        return str(reply.play(music, loop=loops))
    state = ivr.get_state() if ivr is not None else {}
    if ivr is not None and _unstaffed_for_too_long(call, req, state, now):
        ivr.set_state(state)
        call.session.commit()
        return str(reply.leave())  # the <Enqueue> action (hold-done) tells them, and keeps their place
    standing = callbacks.standing(call.session, req, now)
    ahead = standing.position or 0
    wait = standing.estimated_wait_seconds
    news = {"ahead": ahead, "minutes": max(1, round(wait / 60)) if wait is not None else None}
    last = state.get("hold_said")
    if last != news:
        # Thanks once, at the first announcement; after that, only what changed is worth a word.
        said = [call.text("hold_thanks")] if last is None else []
        said.append(call.text("hold_next") if ahead == 0 else call.text("hold_place", position=ahead + 1))
        if wait is not None:
            said.append(call.text("hold_wait", wait=_minutes(call, wait)))
        reply.say(*said)
        state["hold_said"] = news
    if ivr is not None and state != ivr.get_state():
        ivr.set_state(state)
        call.session.commit()
    return str(reply.play(music, loop=loops))


def _unstaffed_for_too_long(call: Call, req: CallbackRequest, state: dict[str, Any], now: datetime) -> bool:
    """Whether the holder's line has had nobody signed in for HOLD_UNSTAFFED_SECONDS, counted from the
    first wait document that found it so (kept in `state`). A holder we cannot call back (a withheld
    number) leaves too, to leave a message: nobody would ever take them out of the line."""
    if callbacks.staffing(call.session, req.queue).signed_in:
        state.pop("unstaffed_since", None)
        return False
    since = datetime.fromisoformat(state.setdefault("unstaffed_since", now.isoformat()))
    return (now - since).total_seconds() >= HOLD_UNSTAFFED_SECONDS


def hold_left(call: Call, call_sid: str) -> str:
    """The holder was taken out of a line nobody is on duty for (<Leave>): they keep their place as a
    callback (`hold_ended` made it one); one whose number we cannot dial is asked for a message."""
    ivr = load(call, call_sid)
    if ivr is not None and not _kept_as_callback(call, ivr):
        ivr.add_step(call.clock.now(), node=ivr.node, kind="hold", result="left: nobody on duty")
        return _ask_for_message(call, ivr, ivr.node, prefix=(call.text("nobody_on_duty"),))
    if ivr is not None:
        ivr.outcome = "callback"
        ivr.add_step(call.clock.now(), node=ivr.node, kind="hold", result="left: nobody on duty")
        call.session.commit()
    return str(call.reply().say(call.text("hold_left_unstaffed")).hangup())


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
    req = session.scalar(query)
    holder = (req.hold_call_sid if req is not None else None) or call_sid
    line.hold_ended(session, req, result, clock.now(), call_sid=holder)


def hold_failed(call: Call, call_sid: str) -> str:
    """The line failed under a holder: never a silent hang-up. They keep their place as a callback
    (`hold_ended` made it one); one whose number we cannot dial is asked for a message, as at hold_left."""
    ivr = load(call, call_sid)
    if ivr is not None and not _kept_as_callback(call, ivr):
        ivr.add_step(call.clock.now(), node=ivr.node, kind="hold", result="failed")
        return _ask_for_message(call, ivr, ivr.node, prefix=(call.text("hold_failed_no_number"),))
    return str(call.reply().say(call.text("hold_failed")).hangup())


def _request_for(
    call: Call, ivr: IvrSession, queue: Queue, phone: str, client: str | None = None, matched: str | None = None
) -> CallbackRequest | None:
    """The caller's place in this queue's line at `phone`, arrived when their call did: the request this
    call made, or a new one. None when `phone` has an active request in this queue that this call did
    not make (see line.join_from_phone). `matched`: the caller ID that such a request's number matched,
    for a placeholder place (see _caller_place)."""
    now = call.clock.now()
    req = line.join_from_phone(
        call.session,
        queue,
        phone,
        ivr.started_at,
        _context(ivr, queue, matched),
        now,
        client,
        ours=lambda found: _made_by(found, ivr),
    )
    if req is None:
        return None
    # The call we place back speaks the language they chose in the menu, and the agent's screen shows
    # the order it looked up, as for a web request that gave one.
    req.language = ivr.language
    req.order_number = req.order_number or ivr.order_number()
    call.session.flush()
    callbacks.record_quote(call.session, req, now)
    return req


def _caller_place(call: Call, ivr: IvrSession, queue: Queue) -> CallbackRequest:
    """The caller's own place in the line, on the line itself (put through, holding, or a message),
    at the number they call from; else at a placeholder unique to the call, which is never dialled.

    A placeholder when we cannot dial their number (withheld, foreign), and when it already has an
    active request in this queue that this call did not make: a caller ID is no proof of whose that
    request is, so the caller is served as the inbound caller they are, and the agent is told the
    match plainly, as unverified (callback.twiml.context_words)."""
    number = _caller_e164(call, ivr)
    req = _request_for(call, ivr, queue, number) if number else None
    return req or _placeholder_place(call, ivr, queue, matched=number)


def _placeholder_place(call: Call, ivr: IvrSession, queue: Queue, matched: str | None = None) -> CallbackRequest:
    """The caller's place at a number unique to the call ("call:..."), which keeps one request per
    number and is never dialled (`matched`: see _request_for)."""
    req = _request_for(call, ivr, queue, f"call:{ivr.call_sid[-15:]}", matched=matched)
    assert req is not None  # a number unique to the call is this call's, whatever it finds
    return req


def _made_by(req: CallbackRequest, ivr: IvrSession) -> bool:
    """Whether this call's session made `req` (its context names the session): a retried webhook."""
    if req.source != "ivr" or not req.ivr_context:
        return False
    try:
        context = json.loads(req.ivr_context)
    except ValueError:
        return False
    return isinstance(context, dict) and context.get("ivr_session") == ivr.id


def _kept_as_callback(call: Call, ivr: IvrSession) -> bool:
    """Whether the request of a holder taken out of the line (ours, or the line failing) is kept as a
    callback: one at a number we may dial (line.hold_ended), not a placeholder."""
    req = call.session.get(CallbackRequest, ivr.request_id) if ivr.request_id is not None else None
    return req is not None and req.dialable and req.status in WAITING


def _caller_e164(call: Call, ivr: IvrSession) -> str | None:
    try:
        return phones.normalize(ivr.caller, call.policy)
    except phones.PhoneRejected:
        return None


def _context(ivr: IvrSession, queue: Queue, matched: str | None = None) -> str:
    summary = ivr.summary()
    if not queue.speaks(ivr.language):
        summary = f"{summary} They were told the agent may speak only {queue.spoken_words()}.".strip()
    context = {"summary": summary, "ivr_session": ivr.id, "topic": ivr.topic, "language": ivr.language}
    if matched:
        context[MATCHED_CALLER_ID] = matched  # CallbackRequest.unverified_caller_id
    if ivr.get_state().get(CALLER_ID_DOUBTED):
        context[CALLER_ID_DOUBTED] = True  # CallbackRequest.caller_id_doubted
    return json.dumps(context)


# -- a closed queue: a callback when we open, or a message ------------------------------------------


def _closed(
    call: Call, ivr: IvrSession, name: str, queue: Queue, prefix: tuple[Part, ...], person: bool = False
) -> str:
    """Nobody is on duty: say when we open, and offer a callback then, or a message now (never a hold).
    `person`: the caller asked for one, and hears plainly that nobody is there rather than "we're closed"."""
    now = call.clock.now()
    opening = queue.business_hours.next_open(now)
    ivr.add_step(now, node=name, kind="transfer", result="closed")
    call.session.commit()
    news = "closed_no_person" if person else "closed"
    if opening is None:
        said: tuple[Part, ...] = (call.text(news), call.text("message_only_offer"))
    else:
        zone = queue.business_hours.zone
        when = answers.opening_time(opening.astimezone(zone), now.astimezone(zone).date(), language=call.lang)
        offer = "closed_offer" if _caller_e164(call, ivr) else "closed_offer_keyed"
        said = (call.text(f"{news}_until", when=when), call.text(offer))
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
    if choice == CALL_BACK:
        return _call_back_caller(call, ivr, name, node)
    if choice == OTHER_NUMBER:
        return _ask_number(call, ivr, name)
    if choice in (GOODBYE, REPEAT):
        return _declined_or_again(call, ivr, name, node, choice, said)
    state = ivr.get_state()
    state["no_match"] = state.get("no_match", 0) + 1
    ivr.set_state(state)
    ivr.add_step(
        call.clock.now(),
        node=name,
        kind="closed",
        digits=digits or None,
        speech=said or None,
        intent=AGENT if choice == AGENT else None,
        result=None,
    )
    call.session.commit()
    if state["no_match"] > call.tree.limits.no_match:
        # No answer to the offer: a message needs nothing more from them than speaking.
        return _ask_for_message(call, ivr, name)
    if choice == AGENT:
        # "Can I talk to someone?": understood, and answered plainly (nobody is there), with the offer again.
        queue = call.session.scalar(select(Queue).where(Queue.name == node.queue))
        assert queue is not None
        return _closed(call, ivr, name, queue, (), person=True)
    return transfer(call, ivr, name, node, (call.text("didnt_get_that"),), again=True)


def _ask_for_message(call: Call, ivr: IvrSession, name: str, prefix: tuple[Part, ...] = ()) -> str:
    """Record a message after the tone; `message_left` turns it into a callback with the audio attached."""
    ivr.add_step(call.clock.now(), node=name, kind="message", result="recording")
    call.session.commit()
    ask: tuple[Part, ...] = (*prefix, call.text("message_prompt"))
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
        .say(call.text("no_message" if _closed_now(call, name) else "no_message_later"))
        .hangup()
    )


def _closed_now(call: Call, name: str) -> bool:
    """Whether the queue of transfer node `name` is closed now (open, a message waits for someone free)."""
    node = call.tree.nodes.get(name)
    if not isinstance(node, TransferNode):
        return True
    queue = call.session.scalar(select(Queue).where(Queue.name == node.queue))
    return queue is None or not queue.business_hours.is_open(call.clock.now())


def message_left(call: Call, call_sid: str, node_name: str, report: dict[str, str]) -> str:
    """The <Record> action: a message becomes a callback request in the queue, the recording attached."""
    now = call.clock.now()
    ivr = load(call, call_sid)
    node = call.tree.nodes.get(node_name)
    if ivr is None or not isinstance(node, TransferNode):
        return lost(call)
    seconds = _whole(report.get("RecordingDuration"))
    if not report.get("RecordingSid") or not seconds:
        ivr.add_step(now, node=node_name, kind="message", result="empty")
        call.session.commit()
        return str(call.reply().say(call.text("no_message")).hangup())
    queue = call.session.scalar(select(Queue).where(Queue.name == node.queue))
    assert queue is not None
    req, why_not = _message_kept(call, ivr, queue, now)
    ivr.outcome = "callback"
    ivr.request_id = req.id
    note_message(call.session, ivr, report, now)
    ivr.add_step(now, node=node_name, kind="message", result=f"request {req.id}", seconds=seconds, no_callback=why_not)
    call.session.commit()
    if why_not is not None:
        thanks = MESSAGE_THANKS.get(why_not, "message_thanks")
    else:
        thanks = "message_thanks_callback" if _closed_now(call, node_name) else "message_thanks_callback_soon"
    return str(call.reply().say(call.text(thanks)).hangup())


# Why a message was kept without a callback at the caller's number -> the text that thanks them for it.
MESSAGE_THANKS = {
    "do_not_call": "message_thanks_do_not_call",
    "limit": "message_thanks_no_callback",
    "already_booked": "message_thanks_already_booked",
}


def _message_kept(call: Call, ivr: IvrSession, queue: Queue, now: datetime) -> tuple[CallbackRequest, str | None]:
    """The request a message is kept with, for the shop, and why it is no callback at the caller's
    number (None: it is one; see MESSAGE_THANKS).

    A message asks for a callback at the number the caller rings from, so it passes the checks every
    callback does (_judge_ask). When it may not have one (a do-not-call number, a limit reached, a
    number that has a callback booked already) or the number is one we cannot dial, the message is kept
    on a placeholder request that is never dialled."""
    number = _caller_e164(call, ivr)
    if number is None:
        return _placeholder_place(call, ivr, queue), "no_number"
    client = phone_client_key(number, ivr.call_sid)
    try:
        _judge_ask(call, ivr, queue, number, client)
    except LimitExceeded:
        return _placeholder_place(call, ivr, queue), "limit"
    except InvalidInput as exc:
        return _placeholder_place(call, ivr, queue), "do_not_call" if exc.code == "do_not_call" else exc.code
    req = _request_for(call, ivr, queue, number, client)
    if req is not None:
        return req, None
    # Their number has a callback in this queue already, which the message is kept apart from; the ask
    # is counted, as when they ask for a callback at that number (see _callback).
    line.repeated_ask(call.session, queue, number, now, client)
    return _placeholder_place(call, ivr, queue, matched=number), "already_booked"


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
