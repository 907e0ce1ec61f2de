"""The inbound call's webhooks: /voice/incoming, each menu input, and the call's status callback."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, request
from sqlalchemy import select

from callback import calls, line
from callback.models import CallAttempt
from callback.policy import Limits
from core.db import get_db
from core.web import clock, phone_policy, session, settings, small_int, wake_dispatcher
from core.webhooks import Webhooks
from ivr import flow, handover
from ivr.call import Call
from ivr.models import IvrSession
from telephony.signature import twilio_signature_required

log = logging.getLogger(__name__)

bp = Blueprint("ivr_voice", __name__, url_prefix="/voice")


def _xml(body: str) -> Response:
    return Response(body, mimetype="text/xml")


def _call() -> Call:
    s = settings()
    return Call(
        session=session(),
        clock=clock(),
        tree=current_app.extensions["ivr_tree"],
        lookup=current_app.extensions["order_lookup"],
        hooks=Webhooks(s.public_base_url),
        policy=phone_policy(),
        caller_id=s.twilio_caller_id,
        zones=current_app.extensions["queue_zones"],
        reading=get_db(current_app).reading,
        ring_timeout=s.ring_timeout_seconds,
        limits=Limits.from_settings(s),
        message_max_seconds=s.message_max_seconds,
        wake=wake_dispatcher,
    )


def _confidence() -> float | None:
    """The recogniser's Confidence; None when Twilio sent none (0 means the same: see flow)."""
    try:
        return float(request.form["Confidence"])
    except (KeyError, ValueError):
        return None


@bp.post("/incoming")
@twilio_signature_required
def incoming() -> Response:
    """A call to the shop's number: greet and offer the main menu, by keypad or speech."""
    form = request.form
    return _xml(
        flow.start(
            _call(), form.get("CallSid", ""), form.get("From", ""), form.get("To", ""), form.get("StirVerstat", "")
        )
    )


@bp.post("/ivr/input")
@twilio_signature_required
def menu_input() -> Response:
    """The caller pressed keys or said something at a node (or stayed silent)."""
    form = request.form
    return _xml(
        flow.handle(
            _call(),
            form.get("CallSid", ""),
            request.args.get("node", ""),
            request.args.get("mode", ""),
            form.get("Digits", "").strip(),
            form.get("SpeechResult", "").strip(),
            _confidence(),
            finished_on_key=form.get("FinishedOnKey", ""),
        )
    )


@bp.post("/ivr/message")
@twilio_signature_required
def message() -> Response:
    """The <Record> action of a message left when the queue was closed."""
    form = request.form
    return _xml(handover.message_left(_call(), form.get("CallSid", ""), request.args.get("node", ""), form.to_dict()))


@bp.post("/ivr/message-recording")
@twilio_signature_required
def message_recording() -> Response:
    """The message's recording status callback: the file is ready to be brought home."""
    ivr = session().scalar(select(IvrSession).where(IvrSession.call_sid == request.form.get("CallSid", "")))
    if ivr is not None:
        handover.note_message(session(), ivr, request.form.to_dict(), clock().now())
        session().commit()
    else:
        # Not deleted at Twilio: the account may be shared with other apps, whose recording this may be.
        log.warning(
            "message recording reported for an unknown call; left at Twilio",
            extra={"recording": request.form.get("RecordingSid", ""), "call_sid": request.form.get("CallSid", "")},
        )
    return Response(status=204)


@bp.post("/ivr/hold-wait")
@twilio_signature_required
def hold_wait() -> Response:
    """Polled by Twilio while a caller holds: their place in line, the wait, and music."""
    return _xml(handover.hold_wait(_call(), _request_id(), request.form.get("CallSid", "")))


@bp.post("/ivr/hold-done")
@twilio_signature_required
def hold_done() -> Response:
    """The <Enqueue> ended: bridged or redirected to an agent, or the caller hung up."""
    result = request.form.get("QueueResult", "")
    handover.hold_ended(session(), clock(), _request_id(), request.form.get("CallSid"), result)
    if result in {"hangup", "bridged", "redirected"}:
        return _xml(str(_call().reply().hangup()))
    if result == "leave":
        # Our own <Leave>: nobody has been on duty for a while (see handover.hold_wait).
        return _xml(handover.hold_left(_call(), request.form.get("CallSid", "")))
    # The line failed under them: never a silent hang-up.
    return _xml(handover.hold_failed(_call(), request.form.get("CallSid", "")))


def _request_id() -> int:
    return small_int(request.args.get("request")) or 0


@bp.post("/status")
@twilio_signature_required
def inbound_status() -> Response:
    """Status callbacks of inbound calls: close the IVR session, and a transferred call's attempt."""
    form = request.form
    call_sid = form.get("CallSid", "")
    status = form.get("CallStatus", "")
    attempt_id = session().scalar(select(CallAttempt.id).where(CallAttempt.call_sid == call_sid))
    attempt = calls.load_attempt(session(), attempt_id, call_sid) if attempt_id is not None else None
    if attempt is not None:
        calls.on_status(
            session(),
            clock(),
            attempt,
            status,
            small_int(form.get("SequenceNumber")),
            small_int(form.get("CallDuration")),
            bounds=line.Bounds.from_settings(settings()),
        )
    if status in calls.FINAL_CALL_STATUSES:
        flow.call_ended(session(), clock(), call_sid)
    return Response(status=204)
