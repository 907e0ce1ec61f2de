"""Twilio's wire conventions the sandbox reproduces: SIDs, dates, phone formats and error bodies."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

API_VERSION = "2010-04-01"

E164 = re.compile(r"^\+[1-9]\d{6,14}$")
CLIENT = re.compile(r"^client:[A-Za-z0-9_.\-@]{1,256}$")


def new_sid(prefix: str) -> str:
    """A Twilio-style SID: a two-letter prefix and 32 lower-case hex digits."""
    return prefix + secrets.token_hex(16)


def utcnow() -> datetime:
    """Now, in UTC, to the microsecond; rfc2822() drops the fraction, as Twilio's dates carry none."""
    # The control API and the timeline keep the fraction: pacing is measured in milliseconds.
    return datetime.now(UTC)


def rfc2822(moment: datetime | None) -> str | None:
    """Twilio's REST date format: `Tue, 31 Aug 2010 20:36:28 +0000`."""
    if moment is None:
        return None
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0))


def is_address(value: str) -> bool:
    """True for what a call can be placed to: an E.164 number or a `client:` identity."""
    return bool(E164.match(value) or CLIENT.match(value))


def formatted(number: str) -> str:
    """The national format Twilio shows in `to_formatted` (NANP numbers only; others as given)."""
    if re.fullmatch(r"\+1\d{10}", number):
        return f"({number[2:5]}) {number[5:8]}-{number[8:]}"
    return number


def country_of(number: str) -> str:
    """A best-effort ISO country for the geographic webhook fields."""
    if number.startswith("+1"):
        return "US"
    if number.startswith("+44"):
        return "GB"
    return ""


def error_body(code: int, message: str, status: int) -> dict[str, Any]:
    """Twilio's legacy error JSON; no `type`/`title`, or the SDK raises another exception class."""
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


class ApiError(Exception):
    """A REST request the sandbox refuses, carried to the error handler."""

    def __init__(self, code: int, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
