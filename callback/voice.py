"""Twilio webhooks of a callback's outbound call. Every one is signature-checked and idempotent."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, request, url_for

from agents.models import Agent
from callback import agent_first, calls, twiml
from callback.models import CallAttempt
from core.web import clock, session, settings, small_int
from scheduler.runtime import wake_dispatcher
from telephony.signature import twilio_signature_required

log = logging.getLogger(__name__)

bp = Blueprint("callback_voice", __name__, url_prefix="/voice/callback")


def _xml(body: str) -> Response:
    return Response(body, mimetype="text/xml")


def public_url(endpoint: str, attempt_id: int) -> str:
    """An absolute webhook URL as Twilio must be given it (PUBLIC_BASE_URL, not the Host header)."""
    return settings().public_base_url.rstrip("/") + url_for(endpoint, attempt=attempt_id)


def _attempt(agent_leg: bool = False) -> CallAttempt | None:
    attempt_id = small_int(request.args.get("attempt"))
    if attempt_id is None:
        return None
    call_sid = request.form.get("CallSid")
    return calls.load_attempt(session(), attempt_id, call_sid, agent_leg=agent_leg)


def _int(name: str) -> int | None:
    return small_int(request.form.get(name))


def _shop() -> str:
    return settings().shop_name


@bp.post("/answer")
@twilio_signature_required
def answer() -> Response:
    """The customer's phone was answered."""
    attempt = _attempt()
    if attempt is None:
        return _xml(twiml.hangup())
    step = calls.on_answer(session(), clock(), attempt, request.form.get("AnsweredBy"))
    req = attempt.request
    if step.action == "voicemail":
        return _xml(twiml.voicemail(req, _shop(), req.queue.caller_id or settings().twilio_caller_id))
    if step.action == "confirm":
        return _xml(twiml.confirm(req, _shop(), public_url("callback_voice.confirm", attempt.id)))
    return _xml(twiml.hangup())


@bp.post("/confirm")
@twilio_signature_required
def confirm() -> Response:
    """The customer pressed a key or said something after "press 1 or say yes"."""
    attempt = _attempt()
    if attempt is None:
        return _xml(twiml.hangup())
    step = calls.on_confirm(session(), clock(), attempt, request.form.get("Digits"), request.form.get("SpeechResult"))
    if step.action == "dial" and step.agent is not None:
        return _xml(_connect(attempt, step.agent))
    if step.action == "declined":
        wake_dispatcher()  # the agent held for this call is free again
        return _xml(
            twiml.goodbye("No problem. We won't connect you now. If you still need us, just ask again. Goodbye.")
        )
    if step.action == "try_later":
        return _xml(twiml.goodbye("Sorry, I didn't catch that. We'll try you again a little later. Goodbye."))
    return _xml(twiml.hangup())


def _connect(attempt: CallAttempt, agent: Agent, holding: bool = False) -> str:
    req = attempt.request
    return twiml.connect(
        agent,
        req.queue.caller_id or settings().twilio_caller_id,
        action=public_url("callback_voice.dial_done", attempt.id),
        whisper_url=public_url("callback_voice.whisper", attempt.id),
        greeting="Thanks for holding. Connecting you now." if holding else "Thank you. Connecting you now.",
    )


@bp.post("/connect-holder")
@twilio_signature_required
def connect_holder() -> Response:
    """The dispatcher took a holding caller out of the line: ring their agent."""
    attempt = _attempt()
    if attempt is None:
        return _xml(twiml.hangup())
    step = calls.on_holder_connect(session(), clock(), attempt)
    if step.action == "dial" and step.agent is not None:
        return _xml(_connect(attempt, step.agent, holding=True))
    return _xml(twiml.hangup())


@bp.post("/whisper")
@twilio_signature_required
def whisper() -> Response:
    """The agent answered: tell them who is waiting and why, then Twilio bridges the two."""
    attempt = _attempt(agent_leg=True)
    if attempt is None:
        return _xml(twiml.hangup())
    step = calls.on_agent_answer(session(), clock(), attempt, request.form.get("CallSid"))
    if step.action != "whisper":
        # Hanging up during the whisper ends the agent's leg before Twilio bridges it.
        return _xml(twiml.hangup())
    return _xml(twiml.whisper(attempt.request))


@bp.post("/dial-done")
@twilio_signature_required
def dial_done() -> Response:
    """The agent leg ended (Dial action): say goodbye, try the next agent, or promise a callback."""
    attempt = _attempt()
    if attempt is None:
        return _xml(twiml.hangup())
    step = calls.on_dial_done(
        session(),
        clock(),
        attempt,
        request.form.get("DialCallStatus", ""),
        _int("DialCallDuration"),
        dial_call_sid=request.form.get("DialCallSid"),
        # The customer leg's own status: "completed" when they hung up while the agent rang.
        customer_status=request.form.get("CallStatus"),
    )
    if step.action == "dial" and step.agent is not None:
        return _xml(_connect(attempt, step.agent))
    if step.action == "callback_later":
        return _xml(
            twiml.goodbye(
                "Sorry, our agent couldn't take your call. You're now first in line, "
                "and we'll call you back as soon as someone is free. Goodbye."
            )
        )
    if step.action == "goodbye_thanks":
        return _xml(twiml.goodbye("Thank you for talking with us. Goodbye."))
    return _xml(twiml.hangup())


@bp.post("/status")
@twilio_signature_required
def status() -> Response:
    """Status callback of the customer leg: initiated, ringing, answered, completed (or not)."""
    attempt = _attempt()
    if attempt is not None:
        calls.on_status(
            session(),
            clock(),
            attempt,
            request.form.get("CallStatus", ""),
            _int("SequenceNumber"),
            _int("CallDuration"),
        )
        if attempt.ended_at is not None:
            wake_dispatcher()  # an agent may be free, or the request back in line
    return Response(status=204)


# -- agent-first: the call we place rings the agent, whose <Dial> then rings the customer ----------


@bp.post("/agent-answer")
@twilio_signature_required
def agent_answer() -> Response:
    """Agent-first: the agent picked up."""
    attempt = _attempt()
    if attempt is None:
        return _xml(twiml.hangup())
    step = agent_first.on_agent_pickup(session(), clock(), attempt)
    if step.action != "offer":
        return _xml(twiml.hangup())
    return _xml(twiml.offer_to_agent(attempt.request, public_url("callback_voice.agent_accept", attempt.id)))


@bp.post("/agent-accept")
@twilio_signature_required
def agent_accept() -> Response:
    """Agent-first: the agent pressed 1 (ring the customer) or passed."""
    attempt = _attempt()
    if attempt is None:
        return _xml(twiml.hangup())
    step = agent_first.on_agent_accept(session(), clock(), attempt, request.form.get("Digits"))
    if step.action == "dial_customer":
        req = attempt.request
        return _xml(
            twiml.dial_customer(
                req.phone,
                req.queue.caller_id or settings().twilio_caller_id,
                action=public_url("callback_voice.customer_done", attempt.id),
                greeting_url=public_url("callback_voice.customer_greeting", attempt.id),
                timeout=settings().ring_timeout_seconds,
            )
        )
    if step.action == "agent_goodbye":
        return _xml(twiml.goodbye("Okay, we'll pass this callback to someone else. Goodbye."))
    return _xml(twiml.hangup())


@bp.post("/customer-greeting")
@twilio_signature_required
def customer_greeting() -> Response:
    """Agent-first: the customer answered; greet them before the agent is put through."""
    attempt = _attempt(agent_leg=True)
    if attempt is None:
        return _xml(twiml.hangup())
    step = agent_first.on_customer_pickup(session(), clock(), attempt, request.form.get("CallSid"))
    if step.action != "greet":
        return _xml(twiml.hangup())
    return _xml(twiml.greet_customer(attempt.request, _shop()))


@bp.post("/customer-done")
@twilio_signature_required
def customer_done() -> Response:
    """Agent-first: the customer's leg ended (Dial action)."""
    attempt = _attempt()
    if attempt is None:
        return _xml(twiml.hangup())
    step = agent_first.on_customer_dial_done(
        session(), clock(), attempt, request.form.get("DialCallStatus", ""), _int("DialCallDuration")
    )
    if step.action == "customer_not_reached":
        return _xml(twiml.goodbye("The customer didn't answer. We'll try them again later. Thank you."))
    if step.action == "agent_thanks":
        return _xml(twiml.goodbye("The customer hung up. Thank you."))
    return _xml(twiml.hangup())
