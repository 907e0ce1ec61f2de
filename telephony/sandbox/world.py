"""The sandbox's in-memory world: every call, number, message, phone and queue, behind one lock."""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from telephony.sandbox.clock import ScaledClock
from telephony.sandbox.media import MediaLengths
from telephony.sandbox.model import (
    Behaviour,
    Call,
    CallEnded,
    CreateFault,
    Faults,
    MediaFault,
    Message,
    Number,
    Recording,
    Redirected,
)
from telephony.sandbox.wire import new_sid, utcnow

logger = logging.getLogger(__name__)


class Timelined(Protocol):
    """Anything with a timeline of events: a call leg or a text message."""

    sid: str
    date_updated: datetime
    timeline: list[dict[str, Any]]


@dataclass
class Queue:
    """A named call queue (<Enqueue>): members in arrival order."""

    sid: str
    name: str
    members: list[str] = field(default_factory=list)
    max_size: int = 100


class Pacer:
    """Twilio's calls-per-second limit: outbound API calls over it wait their turn, in order."""

    def __init__(self, clock: ScaledClock, cps: float) -> None:
        self.clock = clock
        self.cps = cps
        self._lock = threading.Lock()
        self._next = 0.0

    def slot(self) -> float:
        """Reserve the next dialling instant (monotonic, real seconds): never two within 1/CPS."""
        with self._lock:
            now = self.clock.monotonic()
            at = max(now, self._next)
            # CPS is an account rate in wall-clock time, as the app's own pacing is: not scaled by speed.
            self._next = at + (1.0 / self.cps if self.cps > 0 else 0.0)
            return at


class World:
    """All sandbox state; threads change it only while holding `cond`, and notify on every change."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        speed: float = 1.0,
        cps: float = 1.0,
        owned_numbers: Iterable[str] = (),
        public_base_url: str = "",
        api_keys: dict[str, str] | None = None,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        # API key SID -> secret: Twilio accepts either the account's SID and token or a key and its secret.
        self.api_keys = dict(api_keys or {})
        self.clock = ScaledClock(speed)
        self.cps = cps
        self.public_base_url = public_base_url
        self.cond = threading.Condition(threading.RLock())
        self.random = random.Random()
        self.base_url = ""
        self._owned = tuple(owned_numbers)
        self.generation = 0
        self.closed = False
        self._reset_state()

    def _reset_state(self) -> None:
        self.calls: dict[str, Call] = {}
        self.numbers: dict[str, Number] = {}
        self.messages: dict[str, Message] = {}
        self.recordings: dict[str, Recording] = {}
        # Recordings in progress (engine.LiveRecording), by recording SID.
        self.live_recordings: dict[str, Any] = {}
        self.phones: dict[str, Behaviour] = {}
        self.queues: dict[str, Queue] = {}
        self.faults = Faults()
        self.pacer = Pacer(self.clock, self.cps)
        # Lengths of the audio files <Play> has fetched (Twilio caches fetched media too).
        self.media = MediaLengths()
        for e164 in self._owned:
            self.add_number(
                e164,
                voice_url=self._default_url("/voice/incoming"),
                status_callback=self._default_url("/voice/status"),
            )

    def _default_url(self, path: str) -> str:
        return self.public_base_url.rstrip("/") + path if self.public_base_url else ""

    def reset(self) -> None:
        """Hang up every call and forget everything (`POST /sandbox/reset`)."""
        with self.cond:
            for call in self.calls.values():
                if not call.is_final:
                    call.end_request = "completed"
            self.generation += 1
            self._reset_state()
            self.cond.notify_all()

    def shutdown(self) -> None:
        """Ask every live call to end, so its thread finishes."""
        with self.cond:
            self.closed = True
            for call in self.calls.values():
                if not call.is_final:
                    call.end_request = "completed"
            self.cond.notify_all()

    # Records -----------------------------------------------------------------------------------

    def add_number(self, e164: str, **fields: Any) -> Number:
        """Give the account a phone number."""
        with self.cond:
            number = Number(sid=new_sid("PN"), account_sid=self.account_sid, phone_number=e164, **fields)
            self.numbers[number.sid] = number
            return number

    def number_for(self, e164: str) -> Number | None:
        """The account's number with this E.164 form, if owned."""
        with self.cond:
            return next((n for n in self.numbers.values() if n.phone_number == e164), None)

    def behaviour_of(self, address: str) -> Behaviour:
        """The behaviour set for a virtual phone, or a person who answers after a second."""
        with self.cond:
            return self.phones.get(address) or Behaviour()

    def add_call(self, call: Call) -> Call:
        """Store a new call leg."""
        with self.cond:
            self.calls[call.sid] = call
            self.cond.notify_all()
            return call

    def event(self, record: Timelined, event_type: str, **details: Any) -> None:
        """Append one event to a call's (or a message's) timeline."""
        with self.cond:
            entry = {
                "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
                "type": event_type,
                **details,
            }
            record.timeline.append(entry)
            record.date_updated = utcnow()
            self.cond.notify_all()
        logger.debug("sandbox event", extra={"sid": record.sid, "event": entry})

    def sleep(self, simulated_seconds: float, generation: int) -> bool:
        """Let telephone time pass outside any call; False if the world was reset or shut down meanwhile."""
        deadline = self.clock.monotonic() + self.clock.real(simulated_seconds)
        with self.cond:
            while not self.closed and self.generation == generation:
                left = deadline - self.clock.monotonic()
                if left <= 0:
                    return True
                self.cond.wait(left)
        return False

    # Waiting -----------------------------------------------------------------------------------

    def _expire_party(self, call: Call) -> None:
        party = call.party
        now = self.clock.monotonic()
        if party.hangup_deadline is not None and not party.hung_up:
            if now >= party.hangup_deadline:
                party.hung_up = True
                self.event(call, "hangup", by="party", reason="hangup_after")
        if call.limit_deadline is not None and not call.end_request and now >= call.limit_deadline:
            # TimeLimit: Twilio completes the call itself, as if the API had asked.
            call.end_request = "time_limit"
            self.event(call, "hangup", by="time_limit", time_limit=call.time_limit)

    def _linked(self, call: Call) -> Call | None:
        """The parent a screened <Dial> leg depends on, if any."""
        return self.calls.get(call.linked_to) if call.linked_to else None

    def interrupted(self, call: Call) -> bool:
        """True when something outside the TwiML flow wants this call's attention."""
        with self.cond:
            self._expire_party(call)
            if call.end_request or call.party.hung_up or call.redirect_to:
                return True
            parent = self._linked(call)
            return parent is not None and self.interrupted(parent)

    def checkpoint(self, call: Call) -> None:
        """Raise CallEnded or Redirected if the call was hung up or redirected meanwhile."""
        with self.cond:
            self._expire_party(call)
            if call.end_request:
                raise CallEnded("time_limit" if call.end_request == "time_limit" else "api")
            if call.party.hung_up:
                raise CallEnded("party")
            if call.redirect_to:
                raise Redirected()
            parent = self._linked(call)
            if parent is not None and self.interrupted(parent):
                # The caller left (or was redirected) while the leg was screened: Twilio hangs the leg up.
                raise CallEnded("parent")

    def pause(
        self,
        call: Call,
        simulated_seconds: float,
        until: Callable[[], bool] | None = None,
        watch: Iterable[Call] = (),
    ) -> None:
        """Let telephone time pass on a call; returns early if `until()` or a watched call is interrupted.

        Raises CallEnded/Redirected when this call is hung up or redirected meanwhile.
        """
        self.wait_real(call, self.clock.monotonic() + self.clock.real(simulated_seconds), until, watch)
        self.checkpoint(call)

    def wait_real(
        self,
        call: Call,
        deadline: float,
        until: Callable[[], bool] | None = None,
        watch: Iterable[Call] = (),
    ) -> None:
        """Wait until a real monotonic deadline, a condition, or an interruption of `call` or `watch`."""
        with self.cond:
            watched = list(watch)
            parent = self._linked(call)
            if parent is not None:
                watched.append(parent)
            while True:
                if self.interrupted(call) or any(self.interrupted(other) for other in watched):
                    return
                if until is not None and until():
                    return
                now = self.clock.monotonic()
                if now >= deadline:
                    return
                limit = deadline - now
                for party_call in (call, *watched):
                    for instant in (party_call.party.hangup_deadline, party_call.limit_deadline):
                        if instant is not None:
                            limit = min(limit, max(0.0, instant - now))
                self.cond.wait(min(limit, 0.5) + 0.001)

    def hold_real(self, milliseconds: float) -> None:
        """Wait real milliseconds (an injected delay), ending early if the world is reset or shut down."""
        generation = self.generation
        deadline = self.clock.monotonic() + milliseconds / 1000
        with self.cond:
            while not self.closed and self.generation == generation:
                left = deadline - self.clock.monotonic()
                if left <= 0:
                    return
                self.cond.wait(left)

    def take_create_fault(self, to: str, after_create: bool) -> CreateFault | None:
        """The injected answer for this `calls.create`, if a rule matches (one use is counted off)."""
        with self.cond:
            return self.faults.take_create_fault(to, after_create)

    def take_media_fault(self, sid: str) -> MediaFault | None:
        """The injected failure for this download of recording `sid`, if a rule matches (one use counted off)."""
        with self.cond:
            return self.faults.take_media_fault(sid)

    def authenticates(self, username: str | None, password: str | None) -> bool:
        """True for HTTP Basic credentials Twilio would accept: account SID and token, or an API key and secret."""
        if not username or password is None:
            return False
        if username == self.account_sid:
            return password == self.auth_token
        secret = self.api_keys.get(username)
        return secret is not None and password == secret

    def take_webhook_drop(self, path: str) -> bool:
        """Whether the answer just received for `path` is lost (the `webhook_drop_first` fault), counted once."""
        with self.cond:
            return self.faults.take_webhook_drop(path)

    def fault_roll(self, rate: float) -> bool:
        """True with probability `rate` (for injected faults)."""
        return rate > 0 and self.random.random() < rate
