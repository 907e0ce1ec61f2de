"""Twilio webhooks of a callback's outbound call. Every one is signature-checked and idempotent."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Blueprint, Response, current_app, request

from callback import agent_first, calls, line, recording, twiml
from callback.models import AgentLeg, CallAttempt
from core.web import clock, session, settings, small_int, wake_dispatcher
from core.webhooks import Webhooks
from ivr import answers
from telephony.port import Telephony
from telephony.signature import twilio_signature_required

log = logging.getLogger(__name__)

bp = Blueprint("callback_voice", __name__, url_prefix="/voice/callback")


def _xml(body: str) -> Response:
    return Response(body, mimetype="text/xml")


def hooks() -> Webhooks:
    """Our webhook URLs as Twilio must be given them (PUBLIC_BASE_URL, not the Host header)."""
    return Webhooks(settings().public_base_url)


def bounds() -> line.Bounds:
    """The call bounds from settings."""
    return line.Bounds.from_settings(settings())


def _attempt(agent_leg: bool = False) -> CallAttempt | None:
    attempt_id = small_int(request.args.get("attempt"))
    if attempt_id is None:
        return None
    call_sid = request.form.get("CallSid")
    return calls.load_attempt(session(), attempt_id, call_sid, agent_leg=agent_leg)


def _leg(attempt: CallAttempt) -> AgentLeg | None:
    return calls.load_leg(session(), attempt, small_int(request.args.get("leg")))


def _int(name: str) -> int | None:
    return small_int(request.form.get(name))


def telephony() -> Telephony:
    """The provider, for what a webhook must ask of it (starting a recording)."""
    port: Telephony = current_app.extensions["telephony"]
    return port


def _caller_id(attempt: CallAttempt) -> str:
    return attempt.request.queue.caller_id or settings().twilio_caller_id


def connect(attempt: CallAttempt, leg: AgentLeg, greeting: str) -> str:
    """Ring one agent leg of an attempt, screened."""
    return twiml.connect_leg(
        attempt, leg, hooks(), _caller_id(attempt), settings().ring_timeout_seconds, greeting=greeting
    )


def _goodbye(attempt: CallAttempt, words: str) -> str:
    """A last sentence to the customer, in their request's language."""
    return twiml.goodbye(words, language=attempt.request.language)


# A next call sooner than this is "a little later"; later than this, its time is said.
SOON = timedelta(minutes=90)


def _next_call(attempt: CallAttempt) -> twiml.NextCall:
    """What a customer this call does not reach is promised: no other call, one "a little later", or
    one at a time said (a time they asked for, or a next call that falls after we close or is not soon)."""
    req, now = attempt.request, clock().now()
    at = line.next_call_at(session(), req, now, bounds())
    if at is None:
        return twiml.NextCall(False)
    hours = req.queue.business_hours
    at = hours.next_open(max(at, req.not_before or at)) or at
    if attempt.outcome != calls.ASKED_LATER and at - now <= SOON:
        return twiml.NextCall(True)
    zone = hours.zone
    return twiml.NextCall(
        True, answers.opening_time(at.astimezone(zone), now.astimezone(zone).date(), req.language or "en")
    )


def _last_words(attempt: CallAttempt, lead_in: str) -> str:
    """The goodbye of a call that did not reach the customer, with when we call again."""
    req = attempt.request
    # Already in their language: goodbye() leaves words it has no translation for as they are.
    return twiml.goodbye(twiml.call_again_at(lead_in, _next_call(attempt), req.language), req.language)


def _voicemail(attempt: CallAttempt) -> Response:
    """The message left on the customer's answering machine."""
    return _xml(twiml.voicemail(attempt.request, settings().shop_name, _caller_id(attempt), _next_call(attempt)))


def _dial(attempt: CallAttempt, step: calls.Next, greeting: str) -> Response:
    if step.leg is None:
        return _xml(twiml.hangup())
    return _xml(connect(attempt, step.leg, greeting))


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
        return _voicemail(attempt)
    if step.action == "confirm":
        url = hooks().callback("confirm", attempt=attempt.id)
        return _xml(twiml.confirm(req, settings().shop_name, url, then=_next_call(attempt)))
    return _xml(twiml.hangup())


@bp.post("/confirm")
@twilio_signature_required
def confirm() -> Response:
    """The customer pressed a key or said something after "press 1 or say yes"."""
    attempt = _attempt()
    if attempt is None:
        return _xml(twiml.hangup())
    again, repeated, waited = (request.args.get(name) == "1" for name in ("again", "repeated", "waited"))
    step = calls.on_confirm(
        session(),
        clock(),
        attempt,
        request.form.get("Digits"),
        request.form.get("SpeechResult"),
        again=again,
        repeated=repeated,
        waited=waited,
    )
    # What was said once (who we are, a moment given) is carried on the next question's URL.
    carried = {name: 1 for name, on in (("again", again), ("repeated", repeated), ("waited", waited)) if on}
    if step.action == "dial":
        return _dial(attempt, step, "Thank you. Connecting you now.")
    if step.action == "confirm_again":
        url = hooks().callback("confirm", attempt=attempt.id, **{**carried, "again": 1})
        return _xml(twiml.confirm(attempt.request, settings().shop_name, url, again=True, then=_next_call(attempt)))
    if step.action == "confirm_repeat":
        # "Who is this?": the whole greeting again (who is calling, and why), once.
        url = hooks().callback("confirm", attempt=attempt.id, **{**carried, "repeated": 1})
        return _xml(twiml.confirm(attempt.request, settings().shop_name, url, then=_next_call(attempt)))
    if step.action == "confirm_wait":
        url = hooks().callback("confirm", attempt=attempt.id, **{**carried, "waited": 1})
        return _xml(twiml.wait_for_them(attempt.request, url, then=_next_call(attempt)))
    if step.action == "later":
        return _xml(_last_words(attempt, "No problem."))
    if step.action == "stopped":
        wake_dispatcher()  # the agent held for this call is free again
        return _xml(_goodbye(attempt, twiml.STOPPED))
    if step.action == "declined":
        wake_dispatcher()  # the agent held for this call is free again
        return _xml(
            _goodbye(attempt, "No problem. We won't connect you now. If you still need us, just ask again. Goodbye.")
        )
    if step.action == "try_later":
        return _xml(_last_words(attempt, "Sorry, I didn't catch that."))
    return _xml(twiml.hangup())


@bp.post("/connect-holder")
@twilio_signature_required
def connect_holder() -> Response:
    """The dispatcher took a holding caller out of the line: ring their agent."""
    attempt = _attempt()
    if attempt is None:
        return _xml(twiml.hangup())
    step = calls.on_holder_connect(session(), clock(), attempt)
    if step.action == "dial":
        return _dial(attempt, step, "Thanks for holding. Connecting you now.")
    return _xml(twiml.hangup())


@bp.post("/screen")
@bp.post("/whisper")  # the name of this webhook before agent legs were screened: calls in flight keep it
@twilio_signature_required
def screen() -> Response:
    """The agent answered: who is waiting and why, then press 1 or say accept (on the agent's leg)."""
    attempt = _attempt(agent_leg=True)
    leg = _leg(attempt) if attempt is not None else None
    if attempt is None or leg is None:
        return _xml(twiml.agent_hangup())
    step = calls.on_screen(session(), clock(), leg, request.form.get("CallSid"), request.form.get("AnsweredBy"))
    return _screen_reply(attempt, leg, step)


@bp.post("/screen-answer")
@twilio_signature_required
def screen_answer() -> Response:
    """The agent pressed a key or spoke at the screen (or stayed silent: `silent=1`)."""
    attempt = _attempt(agent_leg=True)
    leg = _leg(attempt) if attempt is not None else None
    if attempt is None or leg is None:
        return _xml(twiml.agent_hangup())
    step = calls.on_screen_answer(
        session(),
        clock(),
        leg,
        request.form.get("Digits"),
        request.form.get("SpeechResult"),
        again=request.args.get("again") == "1",
        silent=request.args.get("silent") == "1",
    )
    return _screen_reply(attempt, leg, step)


def _screen_reply(attempt: CallAttempt, leg: AgentLeg, step: calls.Next) -> Response:
    if step.action in {"screen", "screen_again"}:
        again = step.action == "screen_again"
        extra = {"again": 1} if again else {}
        url = hooks().callback("screen-answer", attempt=attempt.id, leg=leg.id, **extra)
        silent = hooks().callback("screen-answer", attempt=attempt.id, leg=leg.id, silent=1, **extra)
        return _xml(twiml.screen(attempt.request, url, silent, again=again))
    if step.action == "bridge":
        if not step.again:
            # The agent accepted: the customer's call (this leg's parent) is recorded from now on.
            recording.start(session(), telephony(), hooks(), attempt, leg, request.form.get("ParentCallSid", ""))
        return _xml(twiml.bridge())
    if step.action == "customer_gone":
        return _xml(twiml.agent_hangup("Sorry, the customer is no longer on the line. Goodbye."))
    if leg.outcome == "declined":
        return _xml(twiml.agent_hangup("Okay, we'll pass it to someone else."))
    return _xml(twiml.agent_hangup())


@bp.post("/dial-done")
@twilio_signature_required
def dial_done() -> Response:
    """The agent leg ended (Dial action): say goodbye, try the next agent, or promise a callback."""
    attempt = _attempt()
    if attempt is None:
        return _xml(twiml.hangup())
    leg = _leg(attempt)
    open_leg = leg is not None and leg.ended_at is None  # not a retry of this Dial action
    step = calls.on_dial_done(
        session(),
        clock(),
        attempt,
        leg,
        request.form.get("DialCallStatus", ""),
        _int("DialCallDuration"),
        dial_call_sid=request.form.get("DialCallSid"),
        # The customer leg's own status: "completed" when they hung up while the agent rang.
        customer_status=request.form.get("CallStatus"),
        dial_bridged=(request.form.get("DialBridged") or "").lower() or None,
        bounds=bounds(),
    )
    customer_on_the_line = request.form.get("CallStatus") == "in-progress"
    if open_leg and leg is not None and (leg.outcome != "accepted" or customer_on_the_line):
        # Never bridged: stop the recording started when this agent accepted, before another is rung.
        # Bridged, and the agent hung up first: the goodbye, and whatever the customer says after it, are
        # no part of the conversation. (A customer who hung up ended the call, and its recording, first.)
        recording.stop(telephony(), leg, request.form.get("CallSid", ""))
    if step.action == "dial":
        return _dial(attempt, step, "Sorry for the wait. One moment, please, while I find someone else.")
    if step.action == "callback_later":
        wake_dispatcher()
        return _xml(
            _goodbye(
                attempt,
                "Sorry, nobody could take your call just now. You keep your place at the front of the line, "
                "and we'll call you back as soon as someone is free. Goodbye.",
            )
        )
    if step.action == "no_callback":
        wake_dispatcher()
        if attempt.request.unverified_caller_id is not None:
            # A caller whose caller ID matched another open request: that request may be theirs and may
            # not, so it is neither promised nor denied.
            return _xml(_goodbye(attempt, twiml.NOBODY_FREE_BOOKING_STANDS))
        if not attempt.request.dialable:
            # A phone-menu caller whose number we cannot dial (withheld, or abroad): none was ever tried.
            return _xml(
                _goodbye(
                    attempt,
                    "Sorry, nobody could take your call just now, and we can't call you back on the number "
                    "you're calling from. Please call us again, or ask for a callback on our website. Goodbye.",
                )
            )
        return _xml(
            _goodbye(
                attempt,
                "Sorry, nobody could take your call just now, and we've already called you as many times as we may "
                "for this request. Please ask for a callback again on our website when it suits you. Goodbye.",
            )
        )
    if step.action == "goodbye_thanks":
        wake_dispatcher()
        return _xml(_goodbye(attempt, "Thank you for talking with us. Goodbye."))
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
            bounds=bounds(),
        )
        if attempt.ended_at is not None:
            wake_dispatcher()  # an agent may be free, or the request back in line
    return Response(status=204)


# -- agent-first: the call we place rings the agent, whose <Dial> then rings the customer ----------


@bp.post("/agent-answer")
@twilio_signature_required
def agent_answer() -> Response:
    """Agent-first: the agent picked up (or their voicemail did)."""
    attempt = _attempt()
    if attempt is None:
        return _xml(twiml.hangup())
    step = agent_first.on_agent_pickup(session(), clock(), attempt, request.form.get("AnsweredBy"))
    if step.action != "offer":
        return _xml(twiml.hangup())
    return _xml(twiml.offer_to_agent(attempt.request, hooks().callback("agent-accept", attempt=attempt.id)))


@bp.post("/agent-accept")
@twilio_signature_required
def agent_accept() -> Response:
    """Agent-first: the agent pressed 1 (ring the customer) or passed."""
    attempt = _attempt()
    if attempt is None:
        return _xml(twiml.hangup())
    step = agent_first.on_agent_accept(session(), clock(), attempt, request.form.get("Digits"), bounds())
    if step.action == "dial_customer":
        req = attempt.request
        return _xml(
            twiml.dial_customer(
                req.phone,
                _caller_id(attempt),
                action=hooks().callback("customer-done", attempt=attempt.id),
                greeting_url=hooks().callback("customer-greeting", attempt=attempt.id),
                timeout=settings().ring_timeout_seconds,
            )
        )
    if step.action == "agent_goodbye":
        return _xml(twiml.goodbye("Okay, we'll pass this callback to someone else. Goodbye."))
    if step.action == "customer_not_callable":
        return _xml(twiml.goodbye("We called this customer very recently, so we won't ring them now. Goodbye."))
    return _xml(twiml.hangup())


@bp.post("/customer-greeting")
@twilio_signature_required
def customer_greeting() -> Response:
    """Agent-first: the customer answered; greet them before the agent is put through."""
    attempt = _attempt(agent_leg=True)
    if attempt is None:
        return _xml(twiml.hangup())
    step = agent_first.on_customer_pickup(
        session(), clock(), attempt, request.form.get("CallSid"), request.form.get("AnsweredBy")
    )
    if step.action == "voicemail":
        return _voicemail(attempt)
    if step.action != "greet":
        return _xml(twiml.hangup())
    # Not recorded yet: the recording starts once the customer has heard the notice (customer-greeted).
    greeted = hooks().callback("customer-greeted", attempt=attempt.id)
    return _xml(twiml.greet_customer(attempt.request, settings().shop_name, greeted_url=greeted))


@bp.post("/customer-greeted")
@twilio_signature_required
def customer_greeted() -> Response:
    """Agent-first, a queue that records: the customer heard the greeting and the notice to the end."""
    attempt = _attempt(agent_leg=True)
    leg = next(iter(attempt.agent_legs), None) if attempt is not None else None
    if attempt is not None and leg is not None and attempt.ended_at is None and attempt.request.status == "connected":
        # The customer's own leg is recorded, so its channels read customer then agent as in every flow.
        recording.start(session(), telephony(), hooks(), attempt, leg, request.form.get("CallSid", ""))
    return _xml(twiml.put_through())


@bp.post("/customer-done")
@twilio_signature_required
def customer_done() -> Response:
    """Agent-first: the customer's leg ended (Dial action)."""
    attempt = _attempt()
    if attempt is None:
        return _xml(twiml.hangup())
    step = agent_first.on_customer_dial_done(
        session(),
        clock(),
        attempt,
        request.form.get("DialCallStatus", ""),
        _int("DialCallDuration"),
        (request.form.get("DialBridged") or "").lower() or None,
        request.form.get("CallStatus"),
        bounds=bounds(),
    )
    if step.action in {"customer_voicemail", "customer_not_reached", "customer_hung_up"}:
        # The retry is scheduled by now: the request waits for it, or has ended for good.
        if step.action == "customer_voicemail":
            what = "The customer's voicemail answered; we left them a message."
        elif step.action == "customer_hung_up":
            what = "The customer hung up before you were connected."
        else:
            what = NOT_REACHED_WORDS.get(attempt.outcome or "", "The customer didn't answer.")
        then = "We'll try them again later." if attempt.request.status == "retry_wait" else "That was our last try."
        return _xml(twiml.goodbye(f"{what} {then} Thank you."))
    if step.action == "agent_thanks":
        return _xml(twiml.goodbye("The customer hung up. Thank you."))
    return _xml(twiml.hangup())


# What the agent who rang the customer (agent-first) is told when the customer's line did not answer.
NOT_REACHED_WORDS = {
    "busy": "The customer's line was busy.",
    "failed": "The call to the customer did not go through.",
}


@bp.post("/recording")
@twilio_signature_required
def recording_status() -> Response:
    """The provider's recording status callback: a finished recording is noted, to be brought home."""
    attempt = _attempt(agent_leg=True)
    if attempt is None:
        # Not deleted at Twilio: the account may be shared with other apps, whose recording this may be.
        log.warning(
            "recording reported for an unknown call; left at Twilio",
            extra={
                "recording": request.form.get("RecordingSid", ""),
                "call_sid": request.form.get("CallSid", ""),
                "attempt": request.args.get("attempt"),
            },
        )
        return Response(status=204)
    recording.reported(session(), telephony(), attempt, _leg(attempt), request.form.to_dict(), clock().now())
    return Response(status=204)
