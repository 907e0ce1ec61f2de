"""The last resort of every voice webhook: whatever breaks, Twilio gets TwiML a caller can live with.

An error answered with a 500 makes Twilio play its own "an application error has occurred" and end
the call: the caller hears a robot and the line goes dead. Here an unexpected error on a /voice/...
route is logged with the call's SID and answered with an apology and, for a person who called us, a
transfer to the shop's fallback line when one is configured (VOICE_FALLBACK_NUMBER).
"""

from __future__ import annotations

import logging

from flask import Flask, Response, current_app, g, request
from flask.typing import ResponseReturnValue
from twilio.twiml.voice_response import VoiceResponse
from werkzeug.exceptions import HTTPException

from core.db import get_db

log = logging.getLogger(__name__)

VOICE_PREFIX = "/voice/"
APOLOGY = "Sorry, something went wrong on our side."
TRANSFER = "Let me put you through to someone."
GOODBYE = "Please call us again in a few minutes. Goodbye."


def fallback_twiml(direction: str, transfer_to: str = "") -> str:
    """The apology for a call whose webhook failed; a person who called us is put through if we can."""
    reply = VoiceResponse()
    # Only an inbound caller is dialled through: an agent's leg (outbound-dial, e.g. a whisper) must
    # not ring another line, and a callback we placed is retried by the line as any failed call is.
    if transfer_to and direction == "inbound":
        reply.say(f"{APOLOGY} {TRANSFER}")
        reply.dial(transfer_to)
    else:
        reply.say(f"{APOLOGY} {GOODBYE}")
        reply.hangup()
    return str(reply)


def install_voice_fallback(app: Flask, transfer_to: str = "", prefix: str = VOICE_PREFIX) -> None:
    """Answer any unexpected error on a route under `prefix` with TwiML (see fallback_twiml)."""

    @app.errorhandler(Exception)
    def _voice_fallback(error: Exception) -> ResponseReturnValue:
        # HTTP errors (a refused signature is a 403) are answers, not failures; other routes keep
        # Flask's own handling (a 500, or the exception itself under the test client).
        if isinstance(error, HTTPException):
            return error
        if not request.path.startswith(prefix):
            raise error
        form = request.form if request.method == "POST" else {}
        call_sid = form.get("CallSid", "")
        log.error(
            "voice webhook %s failed for call %s; answered with the fallback",
            request.path,
            call_sid or "(no CallSid)",
            exc_info=error,
            extra={"call_sid": call_sid, "path": request.path},
        )
        if "db_session" in g:
            # The failed work must not be committed by whatever uses the session next.
            get_db(current_app).session.rollback()
        twiml = fallback_twiml(form.get("Direction", ""), transfer_to)
        return Response(twiml, status=200, mimetype="text/xml")
