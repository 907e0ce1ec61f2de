"""TwiML for a callback's call: confirm, voicemail, connect, whisper, goodbye. Built, never templated."""

from __future__ import annotations

import json

from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from agents.models import Agent
from callback.models import AgentLeg, CallAttempt, CallbackRequest
from core.webhooks import Webhooks

VOICE = "Polly.Joanna"


def _about(req: CallbackRequest) -> str:
    about = req.queue.display_name.lower()
    if req.order_number:
        about += f", order {' '.join(req.order_number)}"
    return about


def _first_name(req: CallbackRequest) -> str:
    return req.name.split()[0] if req.name.split() else "there"


PUT_THROUGH = "Press 1, or say yes, and I'll put you through."


def _ask(action: str, hints: str, words: str) -> Gather:
    """One key or a few words, after `words`: the shape of every yes/no question on a call."""
    gather = Gather(input="dtmf speech", num_digits=1, timeout=6, action=action, hints=hints, speech_timeout="auto")
    gather.say(words, voice=VOICE)
    return gather


def confirm(req: CallbackRequest, shop: str, action: str, again: bool = False) -> str:
    """Ask a person who answered to press 1 or say yes (2 or "no" if they no longer need us)."""
    response = VoiceResponse()
    if again:
        response.append(
            _ask(action, "yes, no", "Sorry, I didn't catch that. Press 1, or say yes, and I'll put you through.")
        )
    else:
        greeting = (
            f"Hello {_first_name(req)}. This is {shop} customer service, returning your call about {_about(req)}. "
            "To talk to an agent now, press 1 or say yes. If you no longer need us, press 2 or say no."
        )
        response.append(_ask(action, "yes, no, hold on", greeting))
        # Silence: one more chance in other words, on the same action (which knows it is the second).
        response.append(
            _ask(action, "yes, no", "Sorry, I didn't hear anything. Press 1, or say yes, and I'll put you through.")
        )
    response.say("We'll try you again a little later. Goodbye.", voice=VOICE)
    response.hangup()
    return str(response)


def voicemail(req: CallbackRequest, shop: str, call_back_number: str) -> str:
    """A short message for an answering machine: who called, and what happens next."""
    response = VoiceResponse()
    spaced = " ".join(call_back_number.lstrip("+"))
    response.say(
        f"Hello, this is {shop} customer service returning your call about {_about(req)}. "
        f"We'll try you again soon. You can also call us at {spaced}. Goodbye.",
        voice=VOICE,
    )
    response.hangup()
    return str(response)


def connect(
    agent: Agent,
    caller_id: str,
    action: str,
    screen_url: str,
    timeout: int = 20,
    greeting: str = "Thank you. Connecting you now.",
) -> str:
    """Ring the agent; their leg is screened at `screen_url`, and the Dial action learns how it ended."""
    response = VoiceResponse()
    response.say(greeting, voice=VOICE)
    dial = Dial(action=action, timeout=timeout, caller_id=caller_id)
    if agent.phone:
        # A mobile's voicemail must not pass for the agent: detect it before the screen plays.
        dial.number(agent.phone, url=screen_url, machine_detection="Enable")
    else:
        dial.client(agent.client, url=screen_url)
    response.append(dial)
    return str(response)


def connect_leg(
    attempt: CallAttempt,
    leg: AgentLeg,
    hooks: Webhooks,
    caller_id: str,
    timeout: int,
    greeting: str,
) -> str:
    """Ring one agent leg of an attempt, screened: callbacks, holders and phone-menu transfers alike."""
    assert leg.agent is not None
    return connect(
        leg.agent,
        caller_id,
        action=hooks.callback("dial-done", attempt=attempt.id, leg=leg.id),
        screen_url=hooks.callback("screen", attempt=attempt.id, leg=leg.id),
        timeout=timeout,
        greeting=greeting,
    )


# What the customer typed, read to an agent: framed as theirs, and short.
QUOTE_LIMIT = 60


def quoted(text: str | None) -> str:
    """Customer-supplied words for an agent's ear, capped (the framing around them says whose they are)."""
    words = " ".join((text or "").split())
    return words if len(words) <= QUOTE_LIMIT else words[: QUOTE_LIMIT - 1].rstrip() + "…"


def context_words(req: CallbackRequest) -> str:
    """Who is waiting and why, for the agent: our words, with the customer's own marked as theirs."""
    if req.source == "ivr" and req.name == "Phone caller":
        who = "A caller from the phone menu"
        if req.phone.startswith("+"):
            who += f", calling from {' '.join(req.phone.removeprefix('+1'))}"
    else:
        who = f"A callback. The customer gave the name: {quoted(req.name)}"
    words = f"{who}. Topic: {req.queue.display_name.lower()}."
    if req.order_number:
        words += f" Order number, as they typed it: {' '.join(quoted(req.order_number))}."
    if req.attempts > 1:
        words += f" This is call {req.attempts} to them."
    summary = _ivr_summary(req)
    if summary:
        words += f" {summary}"
    return words


def screen(req: CallbackRequest, action: str, again: bool = False) -> str:
    """The agent's screen: the context, then press 1 or say accept. Silence ends the leg, unbridged."""
    response = VoiceResponse()
    if again:
        words = "Sorry, I didn't get that. Press 1 or say accept to take the call."
    else:
        words = context_words(req) + " To take the call, press 1 or say accept."
    response.append(_ask(action, "accept, decline", words))
    # Nothing pressed: tell the app (the leg's outcome is "no answer"), which hangs this leg up.
    response.redirect(action + ("&" if "?" in action else "?") + "silent=1")
    return str(response)


def bridge() -> str:
    """The agent accepted: ending the screen document is what lets Twilio bridge the two."""
    response = VoiceResponse()
    response.say("Connecting.", voice=VOICE)
    return str(response)


def agent_hangup(words: str = "") -> str:
    """End the agent's leg without a bridge (declined, silent, voicemail, or nobody left to connect)."""
    response = VoiceResponse()
    if words:
        response.say(words, voice=VOICE)
    response.hangup()
    return str(response)


def _ivr_summary(req: CallbackRequest) -> str:
    if not req.ivr_context:
        return ""
    try:
        context = json.loads(req.ivr_context)
    except ValueError:
        return ""
    return str(context.get("summary", "")) if isinstance(context, dict) else ""


def goodbye(text: str) -> str:
    """Say one thing and hang up."""
    response = VoiceResponse()
    response.say(text, voice=VOICE)
    response.hangup()
    return str(response)


def hangup() -> str:
    """End the call at once."""
    response = VoiceResponse()
    response.hangup()
    return str(response)


def offer_to_agent(req: CallbackRequest, action: str) -> str:
    """Agent-first: who to call and why; the agent presses 1 to ring the customer."""
    response = VoiceResponse()
    gather = Gather(input="dtmf", num_digits=1, timeout=8, action=action)
    gather.say(context_words(req) + " Press 1 to call them now, or any other key to pass.", voice=VOICE)
    response.append(gather)
    response.redirect(action)  # no key: the app records the pass and says goodbye
    return str(response)


def dial_customer(phone: str, caller_id: str, action: str, greeting_url: str, timeout: int) -> str:
    """Agent-first: ring the customer from the queue's number; the greeting plays to them first."""
    response = VoiceResponse()
    response.say("Calling the customer now.", voice=VOICE)
    dial = Dial(action=action, timeout=timeout, caller_id=caller_id)
    dial.number(phone, url=greeting_url)
    response.append(dial)
    return str(response)


def greet_customer(req: CallbackRequest, shop: str) -> str:
    """Agent-first: what the customer hears on answering, before the agent is put through."""
    response = VoiceResponse()
    response.say(
        f"Hello {_first_name(req)}, this is {shop} customer service returning your call about {_about(req)}. "
        "Connecting you to an agent now.",
        voice=VOICE,
    )
    return str(response)
