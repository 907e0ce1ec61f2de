"""TwiML for a callback's call: confirm, voicemail, connect, whisper, goodbye. Built, never templated."""

from __future__ import annotations

import json

from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from agents.models import Agent
from callback.models import CallbackRequest

VOICE = "Polly.Joanna"


def _about(req: CallbackRequest) -> str:
    about = req.queue.display_name.lower()
    if req.order_number:
        about += f", order {' '.join(req.order_number)}"
    return about


def _first_name(req: CallbackRequest) -> str:
    return req.name.split()[0] if req.name.split() else "there"


def confirm(req: CallbackRequest, shop: str, action: str) -> str:
    """Ask a person who answered to press 1 or say yes; two tries with different words, then goodbye."""
    response = VoiceResponse()
    first = Gather(input="dtmf speech", num_digits=1, timeout=6, action=action, hints="yes, no", speech_timeout="auto")
    first.say(
        f"Hello {_first_name(req)}. This is {shop} customer service, returning your call about {_about(req)}. "
        "To talk to an agent now, press 1 or say yes.",
        voice=VOICE,
    )
    response.append(first)
    second = Gather(input="dtmf speech", num_digits=1, timeout=6, action=action, hints="yes, no", speech_timeout="auto")
    second.say("Sorry, I didn't catch that. Press 1, or say yes, and I'll put you through.", voice=VOICE)
    response.append(second)
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
    whisper_url: str,
    timeout: int = 20,
    greeting: str = "Thank you. Connecting you now.",
) -> str:
    """Ring the agent with a whisper; the Dial action learns how the agent leg ended."""
    response = VoiceResponse()
    response.say(greeting, voice=VOICE)
    dial = Dial(action=action, timeout=timeout, caller_id=caller_id)
    if agent.phone:
        dial.number(agent.phone, url=whisper_url)
    else:
        dial.client(agent.client, url=whisper_url)
    response.append(dial)
    return str(response)


def whisper(req: CallbackRequest) -> str:
    """What the agent hears before the customer is put through: who, why, and what the IVR found."""
    response = VoiceResponse()
    # A caller put through from the phone menu is not a callback, and has no name on file.
    who = "A caller from the phone menu" if req.source == "ivr" and req.attempts <= 1 else f"Callback for {req.name}"
    words = f"{who}, about {_about(req)}."
    if req.attempts > 1:
        words += f" This was attempt {req.attempts}."
    summary = _ivr_summary(req)
    if summary:
        words += f" {summary}"
    response.say(words + " Connecting now.", voice=VOICE)
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
    words = f"Callback for {req.name}, about {_about(req)}."
    summary = _ivr_summary(req)
    if summary:
        words += f" {summary}"
    gather.say(words + " Press 1 to call them now, or any other key to pass.", voice=VOICE)
    response.append(gather)
    response.say("No key pressed. We'll give this callback to someone else. Goodbye.", voice=VOICE)
    response.hangup()
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
