"""Text messages to customers about their callback; a failed text never blocks the callback.

Texts about a request are in the language it was made in; the one sent when someone asks again is
in the language of that new ask (the person asking is most likely the phone's owner).
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Any

from babel.support import NullTranslations, Translations
from flask import has_app_context
from flask_babel import gettext

from callback import words
from callback.models import CallbackRequest
from telephony.port import Telephony, TelephonyError

log = logging.getLogger(__name__)


# Flask-Babel's catalogs (its default directory, beside the app), read directly for a text written
# outside the app: the dispatcher's threads have no application context, where gettext says English.
CATALOGS = Path(__file__).resolve().parents[1] / "translations"


@functools.cache
def _catalog(language: str) -> NullTranslations:
    return Translations.load(str(CATALOGS), [language])


def _N(message: str) -> str:
    """Mark a message for extraction (babel.cfg's `-k _N`) where `_text`, not gettext, translates it."""
    return message


def _text(language: str | None, message: str, **values: Any) -> str:
    """`message` (a msgid) in `language`, with its values, inside the app or outside it."""
    if has_app_context():
        with words.in_language(language):
            return gettext(message, **values)
    code = language if language in words.LANGUAGES else words.LANGUAGES[0]
    return _catalog(code).gettext(message) % values


def _topic(req: CallbackRequest) -> str:
    return words.topic_lower(req.queue.name, req.queue.display_name)


def queued(telephony: Telephony, req: CallbackRequest, status_url: str, from_: str) -> bool:
    """Confirm a new request by SMS, with the link to follow or cancel it; True if sent."""
    with words.in_language(req.language):
        body = gettext(
            "We got your callback request about %(topic)s. Follow or cancel it: %(url)s",
            topic=_topic(req),
            url=status_url,
        )
    return send(telephony, req.phone, from_, body)


def existing(telephony: Telephony, req: CallbackRequest, status_url: str, from_: str, language: str = "en") -> bool:
    """Someone asked again for this number and topic: the link goes to the phone, not to whoever asked.

    `status_url` may carry what was asked this time (?asked=...), which the page offers to apply.
    """
    with words.in_language(language):
        body = gettext(
            "You already have a callback request about %(topic)s with us, and someone just asked again "
            "for this number. Follow, change or cancel it: %(url)s",
            topic=_topic(req),
            url=status_url,
        )
    return send(telephony, req.phone, from_, body)


def calling_now(telephony: Telephony, to: str, from_: str, language: str | None = None) -> bool:
    """Warn that the call is about to come, from which number, in the request's `language` (its
    CallbackRequest.language: the dispatcher reads it with the request, so it is passed, not the row)."""
    body = _text(
        language, _N("We're calling you now from %(number)s about your request. Please pick up!"), number=from_
    )
    return send(telephony, to, from_, body)


def send(telephony: Telephony, to: str, from_: str, body: str) -> bool:
    """Send one text, logging instead of raising when the provider refuses."""
    try:
        telephony.send_sms(to, from_, body)
    except TelephonyError as error:
        log.warning("sms not sent", extra={"error": str(error)})
        return False
    return True
