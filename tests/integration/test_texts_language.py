"""The text warning that a call is coming speaks the request's language, inside the app or outside it."""

from __future__ import annotations

import pytest
from flask import Flask

from callback import notify
from telephony.fake import FakeTelephony

FROM = "+15005550006"
SPANISH = "Le estamos llamando ahora desde el +15005550006 por su solicitud."
ENGLISH = "We're calling you now from +15005550006 about your request. Please pick up!"


@pytest.mark.parametrize(("language", "expected"), [("es", SPANISH), ("en", ENGLISH), (None, ENGLISH)])
def test_calling_now_from_a_thread_without_the_app_follows_the_language(language: str | None, expected: str) -> None:
    # The dispatcher sends it from a scheduler thread, where Flask-Babel has no context to translate in.
    phone = FakeTelephony()
    assert notify.calling_now(phone, "+12015550123", FROM, language)
    [sms] = phone.messages
    assert sms.body.startswith(expected)


def test_calling_now_inside_the_app_follows_the_request_not_the_browser(app: Flask) -> None:
    phone = FakeTelephony()
    with app.test_request_context(headers={"Accept-Language": "en"}):
        notify.calling_now(phone, "+12015550123", FROM, "es")
    with app.test_request_context(headers={"Accept-Language": "es"}):
        notify.calling_now(phone, "+12015550123", FROM, "en")
    assert [m.body for m in phone.messages] == [
        SPANISH + " ¡Conteste, por favor!",
        ENGLISH,
    ]
