"""Text messages to customers about their callback; a failed text never blocks the callback."""

from __future__ import annotations

import logging

from callback.models import CallbackRequest
from telephony.port import Telephony, TelephonyError

log = logging.getLogger(__name__)


def queued(telephony: Telephony, req: CallbackRequest, status_url: str, from_: str) -> bool:
    """Confirm a new request by SMS, with the link to follow or cancel it; True if sent."""
    body = f"We got your callback request about {req.queue.display_name.lower()}. Follow or cancel it: {status_url}"
    return send(telephony, req.phone, from_, body)


def existing(telephony: Telephony, req: CallbackRequest, status_url: str, from_: str) -> bool:
    """Someone asked again for this number and topic: the link goes to the phone, not to whoever asked."""
    body = (
        f"You already have a callback request about {req.queue.display_name.lower()} with us, "
        f"and someone just asked again for this number. Follow or cancel it: {status_url}"
    )
    return send(telephony, req.phone, from_, body)


def calling_now(telephony: Telephony, to: str, from_: str) -> bool:
    """Warn that the call is about to come, from which number."""
    return send(telephony, to, from_, f"We're calling you now from {from_} about your request. Please pick up!")


def send(telephony: Telephony, to: str, from_: str, body: str) -> bool:
    """Send one text, logging instead of raising when the provider refuses."""
    try:
        telephony.send_sms(to, from_, body)
    except TelephonyError as error:
        log.warning("sms not sent", extra={"error": str(error)})
        return False
    return True
