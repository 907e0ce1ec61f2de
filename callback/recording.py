"""Recording a call's conversation, for queues that record: the notice, the start, the report.

Only the conversation is recorded, never the agent's screen. Twilio's documentation does not say
whether a `<Dial record="record-from-answer">` recording starts at the agent's answer (before the
screen plays on their leg) or at the bridge, so we do not rely on it: once the agent accepts, we
start a recording on the customer's own call through the REST API ("start a recording on a live
call", `POST /Calls/{Sid}/Recordings.json`). The screen plays on the agent's leg before that moment,
so it cannot be in the file; the customer heard the notice before we rang the agent. Agent-first, the
customer is rung last and hears the notice in the greeting: their recording starts only once the
greeting has been said to the end (its document redirects to us then), never on their pick-up, so
nothing they say is recorded before they have been told. Two channels: the first what the customer
says, the second what they hear (the agent).

A recording that fails to start is logged and the call goes on unrecorded: a conversation is never
refused for want of a recording.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from callback.models import AgentLeg, CallAttempt, CallbackRequest
from core.webhooks import Webhooks
from recordings.service import discard_if_forgotten, note_recording
from telephony.port import Telephony, TelephonyError

log = logging.getLogger(__name__)

# Said to the customer before an agent is connected (callback.twiml has its Spanish).
NOTICE = "This call may be recorded for quality and training."


def records(req: CallbackRequest) -> bool:
    """Whether this request's conversation is recorded (its queue's `recording` setting)."""
    return bool(req.queue.recording)


def notice(req: CallbackRequest) -> str:
    """What the customer hears before an agent is connected, when the queue records; else nothing."""
    return NOTICE if records(req) else ""


def start(
    session: Session,
    telephony: Telephony,
    hooks: Webhooks,
    attempt: CallAttempt,
    leg: AgentLeg,
    customer_call_sid: str,
) -> None:
    """Record the customer's call from now on for this agent leg, if the queue records; once per leg
    (Twilio retries webhooks: a retry must not start a second recording of the same conversation)."""
    if not records(attempt.request) or not customer_call_sid or leg.recording_sid:
        return
    callback = hooks.callback("recording", attempt=attempt.id, leg=leg.id)
    try:
        sid = telephony.start_recording(customer_call_sid, status_callback=callback, dual=True)
    except TelephonyError as error:
        log.warning(
            "recording not started; the call goes on unrecorded",
            extra={"attempt": attempt.id, "code": error.code, "reason": error.message},
        )
        return
    leg.recording_sid = sid
    session.commit()
    log.info("recording started", extra={"attempt": attempt.id, "leg": leg.id, "recording": sid})


def stop(telephony: Telephony, leg: AgentLeg, customer_call_sid: str) -> None:
    """The agent's leg ended while the customer is still on the line: its recording stops now. It is on
    the customer's call, which goes on (to the next agent, an apology, or our goodbye after the agent
    left the conversation), and would hold what follows: not this conversation."""
    if not leg.recording_sid or not customer_call_sid:
        return
    try:
        telephony.stop_recording(customer_call_sid, leg.recording_sid)
    except TelephonyError as error:
        # Most often the customer's call has ended meanwhile, and the recording with it.
        log.warning(
            "recording not stopped",
            extra={"leg": leg.id, "recording": leg.recording_sid, "code": error.code, "reason": error.message},
        )
        return
    log.info("recording stopped: the agent's leg ended", extra={"leg": leg.id, "recording": leg.recording_sid})


def reported(
    session: Session,
    telephony: Telephony,
    attempt: CallAttempt,
    leg: AgentLeg | None,
    form: dict[str, str],
    now: datetime,
) -> None:
    """The provider's recording status callback: a finished recording is noted for fetching, unless
    its request was forgotten meanwhile (then it is deleted at the provider at once)."""
    status = form.get("RecordingStatus", "")
    sid = form.get("RecordingSid", "")
    if status != "completed":
        if status == "absent":
            log.warning("recording absent (nothing was recorded)", extra={"attempt": attempt.id, "recording": sid})
        return
    noted = note_recording(
        session,
        provider_sid=sid,
        call_sid=form.get("CallSid") or None,
        url=form.get("RecordingUrl") or None,
        duration_seconds=_whole(form.get("RecordingDuration")),
        channels=_whole(form.get("RecordingChannels")) or 1,
        kind="call",
        request_id=attempt.request_id,
        attempt_id=attempt.id,
        agent_id=leg.agent_id if leg is not None else attempt.agent_id,
        now=now,
    )
    discard_if_forgotten(session, telephony, noted)
    session.commit()


def _whole(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None
