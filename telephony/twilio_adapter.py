"""The Telephony port on the twilio SDK: the only module of the project that imports twilio.rest."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from telephony.port import (
    DEFAULT_STATUS_EVENTS,
    NETWORK_ERROR,
    NOT_FOUND,
    NUMBER_NOT_FOUND,
    CallInfo,
    MessageInfo,
    NumberInfo,
    TelephonyError,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Twilio asks clients to back off and retry on 20429 (429 Too Many Requests).
RATE_LIMITED = 20429
# Where Twilio serves the REST API and recording media (rebased onto TWILIO_API_BASE for the sandbox).
API_ORIGIN = "https://api.twilio.com"
# A recording's SID: the media URL is built from it, never taken from a webhook, so the account's
# credentials only ever go to Twilio.
_RECORDING_SID = re.compile(r"^RE[0-9a-fA-F]{32}$")
# Recordings are at most a few hours of 8 kHz 16-bit audio: refuse anything absurdly larger.
MAX_MEDIA_BYTES = 512 * 1024 * 1024


class RebasedHttpClient(TwilioHttpClient):
    """A TwilioHttpClient that sends every https://*.twilio.com request to another base URL."""

    def __init__(self, api_base: str, timeout: float | None = None) -> None:
        super().__init__(timeout=timeout)
        parts = urlsplit(api_base)
        if not parts.scheme or not parts.netloc:
            raise ValueError(f"TWILIO_API_BASE must be an absolute URL, got {api_base!r}")
        self.scheme = parts.scheme
        self.netloc = parts.netloc

    def rebase(self, url: str) -> str:
        """Rewrite a Twilio API URL onto the configured base, keeping path and query."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        if host == "twilio.com" or host.endswith(".twilio.com"):
            return urlunsplit((self.scheme, self.netloc, parts.path, parts.query, parts.fragment))
        return url

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        """Send the request to the rebased URL."""
        return super().request(method, self.rebase(url), *args, **kwargs)


def build_client(account_sid: str, auth_token: str, api_base: str = "", timeout: float | None = None) -> Client:
    """Build a twilio Client with a timeout, talking to `api_base` when it is set."""
    http_client = RebasedHttpClient(api_base, timeout) if api_base else TwilioHttpClient(timeout=timeout)
    return Client(account_sid, auth_token, http_client=http_client)


def _translate(exc: Exception) -> TelephonyError:
    """Map an SDK or transport failure to the port's error, deciding whether a retry may help."""
    if isinstance(exc, TwilioRestException):
        code = int(exc.code) if exc.code else int(exc.status)
        retryable = code == RATE_LIMITED or exc.status == 429 or exc.status >= 500
        return TelephonyError(code, str(exc.msg), retryable=retryable, status=exc.status)
    response = exc.args[1] if len(exc.args) > 1 else None
    if isinstance(response, Response):
        # List pages that fail raise a bare TwilioException carrying the response: read Twilio's code from it.
        try:
            code = int(json.loads(response.text).get("code") or response.status_code)
        except (ValueError, AttributeError):
            code = response.status_code
        status = response.status_code
        retryable = code == RATE_LIMITED or status == 429 or status >= 500
        return TelephonyError(code, f"list request failed with HTTP {status}", retryable=retryable, status=status)
    if isinstance(exc, requests.RequestException):
        # Timeouts and refused connections: the request may or may not have reached Twilio.
        return TelephonyError(NETWORK_ERROR, f"network error: {exc}", retryable=True)
    return TelephonyError(NETWORK_ERROR, f"unexpected reply: {exc}", retryable=False)


def _call_info(call: Any) -> CallInfo:
    duration = int(call.duration) if call.duration not in (None, "") else None
    return CallInfo(
        sid=call.sid,
        status=str(call.status),
        direction=call.direction or "",
        to=call.to or "",
        from_=call._from or "",  # CallInstance keeps "from" in a private attribute, unlike Message.
        duration=duration,
        answered_by=call.answered_by,
        start_time=call.start_time,
        end_time=call.end_time,
        parent_call_sid=call.parent_call_sid,
        date_created=call.date_created,
    )


class TwilioTelephony:
    """Implements the Telephony port with the twilio SDK."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def _do(self, what: str, action: Callable[[], T]) -> T:
        try:
            return action()
        except (TwilioException, requests.RequestException) as exc:
            error = _translate(exc)
            logger.warning(
                "twilio request failed",
                extra={"operation": what, "code": error.code, "retryable": error.retryable},
            )
            raise error from exc

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
        """Create the call (Twilio answers 201 with status queued)."""
        options: dict[str, Any] = {
            "to": to,
            "from_": from_,
            "url": url,
            "method": "POST",
        }
        if status_callback:
            options.update(
                status_callback=status_callback,
                status_callback_method="POST",
                status_callback_event=list(status_events),
            )
        optional = {
            "timeout": timeout,
            "machine_detection": machine_detection,
            "machine_detection_timeout": machine_detection_timeout,
            "time_limit": time_limit,
            "fallback_url": fallback_url,
        }
        options.update({key: value for key, value in optional.items() if value is not None})
        if fallback_url:
            options["fallback_method"] = "POST"
        if record:
            options["record"] = True
            if recording_status_callback:
                options.update(
                    recording_status_callback=recording_status_callback,
                    recording_status_callback_method="POST",
                )
        if async_amd_status_callback:
            # Twilio runs AsyncAmd only alongside MachineDetection; "Enable" is the sensible default.
            options.update(
                machine_detection=machine_detection or "Enable",
                async_amd="true",
                async_amd_status_callback=async_amd_status_callback,
                async_amd_status_callback_method="POST",
            )
        call = self._do("calls.create", lambda: self.client.calls.create(**options))
        return _call_info(call)

    def update_call(
        self, sid: str, *, url: str | None = None, twiml: str | None = None, status: str | None = None
    ) -> CallInfo:
        """Redirect or end a call."""
        options: dict[str, Any] = {}
        if url:
            options.update(url=url, method="POST")
        if twiml:
            options["twiml"] = twiml
        if status:
            options["status"] = status
        call = self._do("calls.update", lambda: self.client.calls(sid).update(**options))
        return _call_info(call)

    def hangup(self, sid: str) -> CallInfo:
        """End a call; Twilio's `completed` hangs up a live call and cancels a ringing one."""
        return self.update_call(sid, status="completed")

    def fetch_call(self, sid: str) -> CallInfo:
        """Fetch a call's current state."""
        return _call_info(self._do("calls.fetch", lambda: self.client.calls(sid).fetch()))

    def find_calls(self, to: str, from_: str, since: datetime) -> list[CallInfo]:
        """Calls from `from_` to `to` created since `since`, queued ones included.

        No StartTime filter: Twilio's StartTime is when a call is dialled, empty while it waits for its
        turn under the account's calls per second, and its filter keeps only calls that have one; a
        call created behind a timeout but still queued would be missed, and the customer dialled twice.
        The newest calls between the two numbers come first, so the last twenty hold any call of a
        claim made a minute ago; the instant is checked here on DateCreated."""
        calls = self._do("calls.list", lambda: self.client.calls.list(to=to, from_=from_, limit=20))
        found = [_call_info(call) for call in calls]
        return [c for c in found if c.date_created is None or c.date_created >= since]

    def send_sms(self, to: str, from_: str, body: str, *, status_callback: str | None = None) -> MessageInfo:
        """Send a text message."""
        options: dict[str, Any] = {"to": to, "from_": from_, "body": body}
        if status_callback:
            options["status_callback"] = status_callback
        message = self._do("messages.create", lambda: self.client.messages.create(**options))
        return MessageInfo(sid=message.sid, status=str(message.status), to=message.to, from_=message.from_, body=body)

    def configure_number(
        self, e164: str, voice_url: str, status_callback: str, voice_fallback_url: str = ""
    ) -> NumberInfo:
        """Find the account's number and point its voice URL, status callback and (when given) voice
        fallback URL at the app."""
        found = self._do(
            "incoming_phone_numbers.list",
            lambda: self.client.incoming_phone_numbers.list(phone_number=e164, limit=1),
        )
        if not found:
            raise TelephonyError(NUMBER_NOT_FOUND, f"{e164} is not a number of this account")
        options: dict[str, Any] = {
            "voice_url": voice_url,
            "voice_method": "POST",
            "status_callback": status_callback,
            "status_callback_method": "POST",
        }
        if voice_fallback_url:
            options.update(voice_fallback_url=voice_fallback_url, voice_fallback_method="POST")
        number = self._do(
            "incoming_phone_numbers.update",
            lambda: self.client.incoming_phone_numbers(found[0].sid).update(**options),
        )
        return NumberInfo(
            sid=number.sid,
            phone_number=number.phone_number,
            voice_url=number.voice_url or "",
            status_callback=number.status_callback or "",
            voice_fallback_url=number.voice_fallback_url or "",
        )

    def start_recording(self, call_sid: str, *, status_callback: str, dual: bool = True) -> str:
        """POST .../Calls/{sid}/Recordings.json: Twilio's "start a recording on a live call"."""
        recording = self._do(
            "calls.recordings.create",
            lambda: self.client.calls(call_sid).recordings.create(
                recording_status_callback=status_callback,
                recording_status_callback_method="POST",
                recording_status_callback_event=["completed", "absent"],
                recording_channels="dual" if dual else "mono",
            ),
        )
        return str(recording.sid)

    def stop_recording(self, call_sid: str, sid: str) -> None:
        """POST .../Calls/{call}/Recordings/{sid}.json Status=stopped: "permanently end an in-progress
        recording" (Twilio's Recordings resource). A recording SID, never Twilio.CURRENT: the call may
        hold another agent's recording by then."""
        _check_recording_sid(sid)
        self._do(
            "calls.recordings.update",
            lambda: self.client.calls(call_sid).recordings(sid).update(status="stopped"),
        )

    def fetch_recording(self, sid: str) -> bytes:
        """GET the recording's media as WAV (`.../Recordings/{sid}.wav`) with the account's Basic auth.

        Not through `client.request`: the SDK's Response keeps the body as decoded text, which would
        mangle binary audio. So the request goes through the SDK's own HTTP client's requests session
        (its connection pool, timeout and proxy), to the URL the SDK would use (rebased for the
        sandbox), with the client's credentials. Twilio may redirect media to a storage host; requests
        follows it and drops the Authorization header when the host changes.
        """
        _check_recording_sid(sid)
        url = f"{API_ORIGIN}/2010-04-01/Accounts/{self.client.account_sid}/Recordings/{sid}.wav"
        http = self.client.http_client
        if isinstance(http, RebasedHttpClient):
            url = http.rebase(url)
        session = getattr(http, "session", None) or requests.Session()
        timeout = getattr(http, "timeout", None)
        proxies = getattr(http, "proxy", None) or None

        def get() -> bytes:
            response = session.get(
                url,
                auth=self.client.auth,
                timeout=timeout,
                proxies=proxies,
                allow_redirects=True,
                headers={"Accept": "audio/wav, audio/x-wav, */*"},
            )
            if response.status_code != 200:
                raise _media_error(response)
            data = response.content
            if not data:
                raise TelephonyError(NETWORK_ERROR, "recording media came back empty", retryable=True, status=200)
            if len(data) > MAX_MEDIA_BYTES:
                raise TelephonyError(NETWORK_ERROR, f"recording media too large ({len(data)} bytes)", status=200)
            return data

        try:
            return self._do("recordings.media", get)
        except TelephonyError as error:
            logger.warning("recording media not fetched", extra={"recording": sid, "code": error.code})
            raise

    def delete_recording(self, sid: str) -> bool:
        """DELETE the Recording resource (Twilio answers 204); a 404 means it is already gone."""
        _check_recording_sid(sid)
        try:
            return bool(self._do("recordings.delete", lambda: self.client.recordings(sid).delete()))
        except TelephonyError as error:
            if error.status == 404:
                return False
            raise


def _check_recording_sid(sid: str) -> None:
    if not _RECORDING_SID.fullmatch(sid or ""):
        raise TelephonyError(NOT_FOUND, f"not a recording SID: {sid!r}", status=404)


def _media_error(response: requests.Response) -> TelephonyError:
    """Twilio's JSON error from a media request, or one made from the HTTP status."""
    status = response.status_code
    try:
        body = response.json()
        code = int(body.get("code") or status)
        message = str(body.get("message") or f"HTTP {status}")
    except (ValueError, AttributeError, TypeError):
        code, message = status, f"recording media request failed with HTTP {status}"
    retryable = code == RATE_LIMITED or status == 429 or status >= 500
    return TelephonyError(code, message, retryable=retryable, status=status)


def telephony_from_settings(settings: Any) -> TwilioTelephony:
    """Build the adapter from the TWILIO_* settings (account, token, API base, timeout)."""
    timeout = settings.twilio_timeout_seconds or None
    client = build_client(
        settings.twilio_account_sid,
        settings.twilio_auth_token,
        api_base=settings.twilio_api_base or "",
        timeout=timeout,
    )
    return TwilioTelephony(client)
