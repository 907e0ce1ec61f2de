"""The telephony port: what the app asks of a voice provider, in the app's own terms."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

# Twilio's call statuses that never change again.
TERMINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})

# The status callback events the app asks for by default (Twilio's own default is only "completed").
DEFAULT_STATUS_EVENTS: tuple[str, ...] = ("initiated", "ringing", "answered", "completed")


@dataclass(frozen=True)
class CallInfo:
    """A provider's view of one call leg."""

    sid: str
    status: str
    direction: str = ""
    to: str = ""
    from_: str = ""
    duration: int | None = None
    answered_by: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    parent_call_sid: str | None = None
    date_created: datetime | None = None

    @property
    def is_finished(self) -> bool:
        """True once the call reached a status that never changes again."""
        return self.status in TERMINAL_STATUSES


@dataclass(frozen=True)
class MessageInfo:
    """A text message accepted by the provider."""

    sid: str
    status: str
    to: str = ""
    from_: str = ""
    body: str = ""


@dataclass(frozen=True)
class NumberInfo:
    """A phone number of the account and where its calls go."""

    sid: str
    phone_number: str
    voice_url: str
    status_callback: str
    # Where the provider turns when the voice URL fails (Twilio's VoiceFallbackUrl); empty for none.
    voice_fallback_url: str = ""


class TelephonyError(Exception):
    """A provider refused or failed a request; `retryable` says whether trying again may help."""

    def __init__(self, code: int, message: str, retryable: bool = False, status: int | None = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.retryable = retryable
        self.status = status


# Codes of TelephonyError raised by adapters for failures that never reached the provider's API.
NETWORK_ERROR = 0
NUMBER_NOT_FOUND = 21452
# Twilio's "resource not found" (a recording already deleted, a SID that never existed).
NOT_FOUND = 20404


@runtime_checkable
class Telephony(Protocol):
    """Place, steer and inspect calls, send texts, and point numbers at the app."""

    def place_call(
        self,
        to: str,
        from_: str,
        url: str,
        *,
        status_callback: str | None = None,
        status_events: Sequence[str] = DEFAULT_STATUS_EVENTS,
        timeout: int | None = None,
        machine_detection: str | None = None,
        machine_detection_timeout: int | None = None,
        time_limit: int | None = None,
        fallback_url: str | None = None,
        record: bool = False,
        recording_status_callback: str | None = None,
        async_amd_status_callback: str | None = None,
    ) -> CallInfo:
        """Start an outbound call whose answer runs the TwiML at `url`.

        `fallback_url` is where the provider turns when a webhook of the call fails (the app's
        /voice/fallback, which needs no database). `record` records the whole call (its URL comes
        with the completed status callback, and to `recording_status_callback` when given);
        `async_amd_status_callback` turns on asynchronous answering-machine detection, whose result is
        posted there instead of delaying the answer webhook.
        """
        ...

    def update_call(
        self, sid: str, *, url: str | None = None, twiml: str | None = None, status: str | None = None
    ) -> CallInfo:
        """Redirect a live call to new TwiML, or end it (`status` completed or canceled)."""
        ...

    def hangup(self, sid: str) -> CallInfo:
        """End a call whatever its state (a ringing call is canceled, a live one completed)."""
        ...

    def fetch_call(self, sid: str) -> CallInfo:
        """Read a call's current state from the provider."""
        ...

    def find_calls(self, to: str, from_: str, since: datetime) -> list[CallInfo]:
        """Outbound calls from `from_` to `to` created at or after `since` (to find a call whose SID
        was lost in a crash)."""
        ...

    def send_sms(self, to: str, from_: str, body: str, *, status_callback: str | None = None) -> MessageInfo:
        """Send a text message; `status_callback` hears of it being sent, delivered or not."""
        ...

    def configure_number(
        self, e164: str, voice_url: str, status_callback: str, voice_fallback_url: str = ""
    ) -> NumberInfo:
        """Point an owned number's incoming calls and call status events at the app, and (when given)
        its voice fallback URL, where the provider turns when the voice URL fails."""
        ...

    def start_recording(self, call_sid: str, *, status_callback: str, dual: bool = True) -> str:
        """Record a live call from now until it ends: with `dual`, one channel for what its party says
        and one for what they hear. The result is reported to `status_callback` (completed, absent);
        returns the recording's SID."""
        ...

    def stop_recording(self, call_sid: str, sid: str) -> None:
        """Stop a recording of a live call now, the call going on; the file is kept and reported to the
        recording's status callback as for any recording that ended (Twilio's Status=stopped)."""
        ...

    def fetch_recording(self, sid: str) -> bytes:
        """A recording's media as WAV (8 kHz, one channel per party recorded), read with the account's
        credentials; TelephonyError if it cannot be had."""
        ...

    def delete_recording(self, sid: str) -> bool:
        """Delete the provider's copy of a recording (media and resource); False if it was already gone."""
        ...
