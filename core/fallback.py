"""The last resort of every voice webhook: whatever breaks, Twilio gets TwiML a caller can live with.

An error answered with a 500 makes Twilio play its own "an application error has occurred" and end
the call: the caller hears a robot and the line goes dead. Here an unexpected error on a /voice/...
route is logged with the call's SID and answered with an apology and, for a person who called us, a
transfer to the shop's fallback line when one is configured (FALLBACK_NUMBER, also read as
VOICE_FALLBACK_NUMBER).

When the app cannot answer at all (the process down, a proxy timing out), Twilio asks the fallback URL
instead: the number's VoiceFallbackUrl (`flask twilio configure-number`) and every placed call's
FallbackUrl point at /voice/fallback, which says the same words and needs no database.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, Response, current_app, g, request
from flask.typing import ResponseReturnValue
from twilio.twiml.voice_response import VoiceResponse
from werkzeug.exceptions import HTTPException

from core.db import get_db, is_unavailable, outage_cause
from telephony.signature import twilio_signature_required

log = logging.getLogger(__name__)

VOICE_PREFIX = "/voice/"
# The fallback URL's path: public (configure-number and calls.create give it to Twilio).
FALLBACK_PATH = "/voice/fallback"
APOLOGY = "Sorry, something went wrong on our side."
TRANSFER = "Let me put you through to someone."
GOODBYE = "Please call us again in a few minutes. Goodbye."

bp = Blueprint("voice_fallback", __name__)


def fallback_url(public_base_url: str) -> str:
    """The absolute URL Twilio is given as VoiceFallbackUrl and FallbackUrl."""
    return public_base_url.rstrip("/") + FALLBACK_PATH


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


def _transfer_to() -> str:
    number: str = current_app.extensions.get("voice_fallback_number", "")
    return number


def _answer(direction: str) -> Response:
    return Response(fallback_twiml(direction, _transfer_to()), status=200, mimetype="text/xml")


@bp.post(FALLBACK_PATH)
@twilio_signature_required
def voice_fallback() -> Response:
    """Twilio's fallback request (its primary webhook failed: ErrorCode, ErrorUrl): the apology, from
    the settings alone, so it answers whatever state the database is in."""
    form = request.form
    log.error(
        "Twilio could not use a webhook and asked the fallback URL",
        extra={
            "call_sid": form.get("CallSid", ""),
            "code": form.get("ErrorCode", ""),
            "url": _without_query(form.get("ErrorUrl", "")),
        },
    )
    return _answer(form.get("Direction", ""))


def _without_query(url: str) -> str:
    return url.split("?", 1)[0]


def voice_answer(error: BaseException) -> Response:
    """A failed voice webhook's answer: the apology (see fallback_twiml), after rolling back its work."""
    form = request.form if request.method == "POST" else {}
    call_sid = form.get("CallSid", "")
    fields = {"call_sid": call_sid, "path": request.path}
    if is_unavailable(error):
        # An outage, not a bug: one line per webhook, the cause without a traceback.
        log.error(
            "voice webhook %s answered with the fallback: the database is unavailable (%s)",
            request.path,
            type(error).__name__,
            extra={**fields, "error": outage_cause(error)},
        )
    else:
        log.error(
            "voice webhook %s failed for call %s; answered with the fallback",
            request.path,
            call_sid or "(no CallSid)",
            exc_info=error,
            extra=fields,
        )
    if "db_session" in g:
        # The failed work must not be committed by whatever uses the session next.
        try:
            get_db(current_app).session.rollback()
        except Exception:  # noqa: BLE001 - a dead connection cannot roll back; teardown discards it
            log.debug("rollback after a failed webhook failed too", exc_info=True)
    return _answer(form.get("Direction", ""))


def install_voice_fallback(app: Flask, transfer_to: str = "", prefix: str = VOICE_PREFIX) -> None:
    """Answer any unexpected error on a route under `prefix` with TwiML (see fallback_twiml), and serve
    the fallback URL. `transfer_to` is the fallback line (FALLBACK_NUMBER), empty for none."""
    app.extensions["voice_fallback_number"] = transfer_to
    app.register_blueprint(bp)
    csrf = app.extensions.get("csrf")
    if csrf is not None:
        # Twilio proves itself with X-Twilio-Signature, as on every webhook.
        csrf.exempt(bp)

    @app.errorhandler(Exception)
    def _voice_fallback(error: Exception) -> ResponseReturnValue:
        # HTTP errors (a refused signature is a 403) are answers, not failures; other routes keep
        # Flask's own handling (a 500, or the exception itself under the test client).
        if isinstance(error, HTTPException):
            return error
        if not request.path.startswith(prefix):
            raise error
        return voice_answer(error)
