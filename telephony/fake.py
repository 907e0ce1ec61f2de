"""An in-memory Telephony for unit tests: records every request and lets the test play the network."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from telephony.port import (
    DEFAULT_STATUS_EVENTS,
    NOT_FOUND,
    NUMBER_NOT_FOUND,
    CallInfo,
    MessageInfo,
    NumberInfo,
    TelephonyError,
)


@dataclass
class PlacedCall:
    """One call the code under test placed, with everything it asked for."""

    info: CallInfo
    url: str
    status_callback: str | None
    status_events: tuple[str, ...]
    timeout: int | None
    machine_detection: str | None
    machine_detection_timeout: int | None = None
    time_limit: int | None = None
    fallback_url: str | None = None
    record: bool = False
    recording_status_callback: str | None = None
    async_amd_status_callback: str | None = None
    updates: list[dict[str, str | None]] = field(default_factory=list)


class FakeTelephony:
    """Implements the Telephony port in memory; sids are predictable (CA000...1, CA000...2, ...)."""

    def __init__(self, owned_numbers: Sequence[str] = ("+15005550006",)) -> None:
        self._lock = threading.Lock()
        self._counter = itertools.count(1)
        self.calls: dict[str, PlacedCall] = {}
        self.messages: list[MessageInfo] = []
        self.message_callbacks: dict[str, str | None] = {}
        self.numbers: dict[str, NumberInfo] = {
            e164: NumberInfo(sid=self._sid("PN"), phone_number=e164, voice_url="", status_callback="")
            for e164 in owned_numbers
        }
        self._errors: list[TelephonyError] = []
        # Recordings the provider holds (sid -> WAV), and what the code under test did to them.
        self.recordings: dict[str, bytes] = {}
        self.recording_fetches: list[str] = []
        self.deleted_recordings: list[str] = []
        self.started_recordings: list[tuple[str, str, str, bool]] = []
        self.stopped_recordings: list[tuple[str, str]] = []

    def _sid(self, prefix: str) -> str:
        return f"{prefix}{next(self._counter):032x}"

    def fail_next(self, error: TelephonyError, times: int = 1) -> None:
        """Make the next `times` requests raise `error`, as a provider outage would."""
        with self._lock:
            self._errors.extend([error] * times)

    def _maybe_fail(self) -> None:
        with self._lock:
            if self._errors:
                raise self._errors.pop(0)

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
        """Record the call as queued, as Twilio answers a create."""
        self._maybe_fail()
        if not to:
            raise TelephonyError(21201, "No 'To' number is specified", status=400)
        if from_ not in self.numbers:
            raise TelephonyError(21210, f"'From' phone number not verified: {from_}", status=400)
        info = CallInfo(sid=self._sid("CA"), status="queued", direction="outbound-api", to=to, from_=from_)
        with self._lock:
            self.calls[info.sid] = PlacedCall(
                info=info,
                url=url,
                status_callback=status_callback,
                status_events=tuple(status_events),
                timeout=timeout,
                machine_detection=machine_detection,
                machine_detection_timeout=machine_detection_timeout,
                time_limit=time_limit,
                fallback_url=fallback_url,
                record=record,
                recording_status_callback=recording_status_callback,
                async_amd_status_callback=async_amd_status_callback,
            )
        return info

    def _call(self, sid: str) -> PlacedCall:
        try:
            return self.calls[sid]
        except KeyError:
            raise TelephonyError(20404, f"The requested resource {sid} was not found", status=404) from None

    def update_call(
        self, sid: str, *, url: str | None = None, twiml: str | None = None, status: str | None = None
    ) -> CallInfo:
        """Record the update; a status ends the call, a redirect needs a live call (21220)."""
        self._maybe_fail()
        with self._lock:
            call = self._call(sid)
            call.updates.append({"url": url, "twiml": twiml, "status": status})
            if (url or twiml) and call.info.status != "in-progress":
                raise TelephonyError(21220, "Call is not in-progress. Cannot redirect.", status=400)
            if status and not call.info.is_finished:
                if call.info.status == "in-progress":
                    if status == "completed":
                        call.info = replace(call.info, status="completed", end_time=_now())
                else:
                    call.info = replace(call.info, status="canceled", end_time=_now())
            return call.info

    def hangup(self, sid: str) -> CallInfo:
        """End the call whatever its state."""
        return self.update_call(sid, status="completed")

    def fetch_call(self, sid: str) -> CallInfo:
        """Return the call as the test last set it."""
        self._maybe_fail()
        with self._lock:
            return self._call(sid).info

    def find_calls(self, to: str, from_: str, since: datetime) -> list[CallInfo]:
        """The calls placed to `to` from `from_` (the fake keeps no creation times: all of them)."""
        self._maybe_fail()
        with self._lock:
            return [c.info for c in self.calls.values() if c.info.to == to and c.info.from_ == from_]

    def send_sms(self, to: str, from_: str, body: str, *, status_callback: str | None = None) -> MessageInfo:
        """Record the message as queued."""
        self._maybe_fail()
        message = MessageInfo(sid=self._sid("SM"), status="queued", to=to, from_=from_, body=body)
        with self._lock:
            self.messages.append(message)
            self.message_callbacks[message.sid] = status_callback
        return message

    def configure_number(
        self, e164: str, voice_url: str, status_callback: str, voice_fallback_url: str = ""
    ) -> NumberInfo:
        """Point an owned number at the given URLs."""
        self._maybe_fail()
        with self._lock:
            if e164 not in self.numbers:
                raise TelephonyError(NUMBER_NOT_FOUND, f"{e164} is not a number of this account")
            number = replace(
                self.numbers[e164],
                voice_url=voice_url,
                status_callback=status_callback,
                voice_fallback_url=voice_fallback_url,
            )
            self.numbers[e164] = number
            return number

    def start_recording(self, call_sid: str, *, status_callback: str, dual: bool = True) -> str:
        """Note a recording started on a live call (its media is added by the test with add_recording)."""
        self._maybe_fail()
        with self._lock:
            sid = self._sid("RE")
            self.started_recordings.append((call_sid, sid, status_callback, dual))
            return sid

    def stop_recording(self, call_sid: str, sid: str) -> None:
        """Note a recording stopped on a live call."""
        self._maybe_fail()
        with self._lock:
            self.stopped_recordings.append((call_sid, sid))

    def add_recording(self, sid: str, wav: bytes) -> None:
        """Give the provider a recording, as a recorded call or <Record> would."""
        with self._lock:
            self.recordings[sid] = wav

    def fetch_recording(self, sid: str) -> bytes:
        """The recording's WAV; 20404 if there is none (never made, or deleted)."""
        with self._lock:
            self.recording_fetches.append(sid)
        self._maybe_fail()
        with self._lock:
            if sid not in self.recordings:
                raise TelephonyError(NOT_FOUND, f"The requested resource {sid} was not found", status=404)
            return self.recordings[sid]

    def delete_recording(self, sid: str) -> bool:
        """Delete the recording; False if it was not there."""
        self._maybe_fail()
        with self._lock:
            if self.recordings.pop(sid, None) is None:
                return False
            self.deleted_recordings.append(sid)
            return True

    def set_status(
        self,
        sid: str,
        status: str,
        *,
        answered_by: str | None = None,
        duration: int | None = None,
    ) -> CallInfo:
        """Move a call to a new status, as the network would (for tests of reconciliation)."""
        with self._lock:
            call = self._call(sid)
            now = _now()
            start = call.info.start_time or (now if status == "in-progress" else None)
            end = now if status in {"completed", "busy", "failed", "no-answer", "canceled"} else None
            call.info = replace(
                call.info,
                status=status,
                answered_by=answered_by if answered_by is not None else call.info.answered_by,
                duration=duration if duration is not None else call.info.duration,
                start_time=start,
                end_time=end,
            )
            return call.info


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
