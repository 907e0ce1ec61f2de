"""The life of a call: pacing, ringing, answering-machine detection, status callbacks, hang-up."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from telephony.sandbox.model import Call, CallEnded, Number, Party, Recording
from telephony.sandbox.webhooks import WebhookSender
from telephony.sandbox.wire import API_VERSION, country_of, new_sid, rfc2822, utcnow
from telephony.sandbox.world import World

logger = logging.getLogger(__name__)

# Simulated seconds between "initiated" and "ringing" (the carrier setting the call up).
SETUP_SECONDS = 0.5
# A busy or rejecting phone answers the ringing with a busy tone after about this long.
BUSY_AFTER_SECONDS = 1.0
# How long answering-machine detection listens before deciding, by outcome (simulated seconds).
AMD_SECONDS = {"human": 2.0, "machine_start": 3.0, "machine_end_beep": 8.0, "fax": 3.0}
STATUS_EVENT_OF = {"initiated": "initiated", "ringing": "ringing", "in-progress": "answered"}


class Engine:
    """Runs every call of a world on its own thread and sends its status callbacks in order."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.sender = WebhookSender(world)
        self._callback_workers: dict[str, ThreadPoolExecutor] = {}
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()

    # Threads -----------------------------------------------------------------------------------

    def _spawn(self, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True, name=f"sandbox-{args[0].sid}")
        with self._lock:
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)
        thread.start()

    def start_outbound(self, call: Call) -> None:
        """Dial a call created through the REST API."""
        self._spawn(self._run_outbound, call)

    def start_inbound(self, call: Call, number: Number) -> None:
        """Ring the account's number from a virtual phone; its voice URL answers."""
        self._spawn(self._run_inbound, call, number)

    def join(self, timeout: float = 5.0) -> None:
        """Wait for the call threads to finish (after `world.shutdown()`)."""
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout)

    # Webhook parameters -------------------------------------------------------------------------

    def voice_params(self, call: Call, status: str | None = None) -> dict[str, str]:
        """The parameters Twilio sends with every voice request about this call."""
        params = {
            "CallSid": call.sid,
            "AccountSid": call.account_sid,
            "From": call.from_,
            "To": call.to,
            "CallStatus": status or call.status,
            "ApiVersion": API_VERSION,
            "Direction": call.direction,
            # Legacy duplicates Twilio still sends.
            "Caller": call.from_,
            "Called": call.to,
        }
        for prefix, number in (
            ("From", call.from_),
            ("To", call.to),
            ("Caller", call.from_),
            ("Called", call.to),
        ):
            params[f"{prefix}Country"] = country_of(number)
            params[f"{prefix}State"] = ""
            params[f"{prefix}City"] = ""
            params[f"{prefix}Zip"] = ""
        if call.parent_call_sid:
            params["ParentCallSid"] = call.parent_call_sid
        if call.answered_by:
            params["AnsweredBy"] = call.answered_by
        return params

    # Status changes and callbacks ----------------------------------------------------------------

    def set_status(self, call: Call, status: str) -> None:
        """Move a live call to `status` (ringing, in-progress) and send the matching callback."""
        with self.world.cond:
            if call.is_final:
                return
            call.status = status
            call.date_updated = utcnow()
            if status == "in-progress":
                call.start_time = utcnow()
                call.answered_at = self.world.clock.monotonic()
                party = call.party
                party.answered = True
                if party.behaviour.hangup_after is not None:
                    party.hangup_deadline = call.answered_at + self.world.clock.real(party.behaviour.hangup_after)
            self.world.cond.notify_all()
        self.world.event(call, "status", status=status)
        self.status_callback(call, STATUS_EVENT_OF.get(status, status), status)

    def initiated(self, call: Call) -> None:
        """Twilio's "initiated" event: the REST status stays "queued" but the callback says initiated."""
        self.world.event(call, "status", status="initiated")
        self.status_callback(call, "initiated", "initiated")

    def finish(self, call: Call, status: str) -> None:
        """End a call with a final status, once; sends the "completed" callback with CallDuration."""
        world = self.world
        with world.cond:
            if call.is_final:
                return
            call.status = status
            call.end_time = utcnow()
            call.date_updated = call.end_time
            if call.answered_at is not None:
                # Durations are telephone seconds, so a scaled call reports what Twilio would bill.
                call.duration = round(world.clock.simulated(world.clock.monotonic() - call.answered_at))
            else:
                call.duration = 0
            if call.queue_name and call.queue_name in world.queues:
                members = world.queues[call.queue_name].members
                if call.sid in members:
                    members.remove(call.sid)
            world.cond.notify_all()
        world.event(call, "status", status=status, duration=call.duration)
        self.status_callback(call, "completed", status)
        with self._lock:
            worker = self._callback_workers.pop(call.sid, None)
        if worker is not None:
            worker.shutdown(wait=False)

    def status_callback(self, call: Call, event: str, status: str) -> None:
        """Queue a status callback if the call asked for this event; callbacks of a call go out in order."""
        if not call.status_callback or event not in call.status_callback_events:
            return
        with self.world.cond:
            sequence = call.sequence
            call.sequence += 1
        params = self.voice_params(call, status)
        params.update(
            CallbackSource="call-progress-events",
            SequenceNumber=str(sequence),
            Timestamp=rfc2822(utcnow()) or "",
        )
        if event == "completed":
            params["CallDuration"] = str(call.duration or 0)
        if self.world.fault_roll(self.world.faults.drop_status_callback_rate):
            self.world.event(call, "webhook", kind="status", url=call.status_callback, dropped=True, event=event)
            return
        url, method = call.status_callback, call.status_callback_method
        with self._lock:
            worker = self._callback_workers.get(call.sid)
            if worker is None:
                worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"status-{call.sid[:10]}")
                self._callback_workers[call.sid] = worker
        worker.submit(self.sender.send, call, url, method, params, "status")

    # Ringing ----------------------------------------------------------------------------------------

    def ring(self, call: Call, timeout: float) -> str:
        """Ring the party: "answered", "busy", "no-answer" or "failed"; raises CallEnded if canceled."""
        behaviour = call.party.behaviour
        world = self.world
        if behaviour.answer == "fail":
            return "failed"
        self.set_status(call, "ringing")
        if behaviour.answer in {"busy", "reject"}:
            world.pause(call, min(BUSY_AFTER_SECONDS, timeout))
            return "busy" if BUSY_AFTER_SECONDS <= timeout else "no-answer"
        if behaviour.interactive:
            # A person at the softphone answers by hand (POST /sandbox/calls/{sid}/answer).
            world.pause(call, timeout, until=lambda: call.party.answered)
            return "answered" if call.party.answered else "no-answer"
        if behaviour.answer == "no-answer" or behaviour.answer_after >= timeout:
            world.pause(call, timeout)
            return "no-answer"
        world.pause(call, behaviour.answer_after)
        return "answered"

    def detect_machine(self, call: Call) -> None:
        """Synchronous AMD: listen, then set AnsweredBy before the answer webhook, as Twilio does."""
        behaviour = call.party.behaviour
        if behaviour.answered_by:
            answered_by = behaviour.answered_by
        elif behaviour.answer == "machine":
            detect_end = (call.machine_detection or "").lower() == "detectmessageend"
            answered_by = "machine_end_beep" if detect_end else "machine_start"
        else:
            answered_by = "human"
        listen = AMD_SECONDS.get(answered_by, float(call.machine_detection_timeout))
        self.world.pause(call, min(listen, float(call.machine_detection_timeout)))
        with self.world.cond:
            call.answered_by = answered_by
        self.world.event(call, "status", status=call.status, answered_by=answered_by)

    # The two kinds of call --------------------------------------------------------------------------

    def _run_outbound(self, call: Call) -> None:
        from telephony.sandbox.interpreter import Fetch, Interpreter

        world = self.world
        try:
            world.wait_real(call, world.pacer.slot())
            world.checkpoint(call)
            self.initiated(call)
            world.pause(call, SETUP_SECONDS)
            outcome = self.ring(call, float(call.timeout))
            if outcome != "answered":
                self.finish(call, outcome)
                return
            self.set_status(call, "in-progress")
            if call.machine_detection:
                self.detect_machine(call)
            target = Fetch(url=call.url, method=call.method, twiml=call.twiml)
            Interpreter(self, call).run(target)
            self.world.event(call, "hangup", by="twiml", reason="end of document")
            self.finish(call, "completed")
        except CallEnded as ended:
            self._ended(call, ended)
        except Exception:
            logger.exception("sandbox call crashed", extra={"call_sid": call.sid})
            self.world.event(call, "error", code=0, message="sandbox internal error")
            self.finish(call, "failed" if call.answered_at is None else "completed")

    def _run_inbound(self, call: Call, number: Number) -> None:
        from telephony.sandbox.interpreter import Fetch, Interpreter

        try:
            self.world.event(call, "status", status="ringing")
            call.party.answered = True
            behaviour = call.party.behaviour
            if behaviour.hangup_after is not None:
                call.party.hangup_deadline = self.world.clock.monotonic() + self.world.clock.real(
                    behaviour.hangup_after
                )
            if not number.voice_url:
                self.world.event(call, "error", code=11100, message="the number has no voice URL")
                self.finish(call, "failed")
                return
            interpreter = Interpreter(self, call, number.voice_fallback_url or None, number.voice_fallback_method)
            interpreter.run(Fetch(url=number.voice_url, method=number.voice_method))
            self.world.event(call, "hangup", by="twiml", reason="end of document")
            self.finish(call, "completed")
        except CallEnded as ended:
            self._ended(call, ended)
        except Exception:
            logger.exception("sandbox call crashed", extra={"call_sid": call.sid})
            self.world.event(call, "error", code=0, message="sandbox internal error")
            self.finish(call, "completed")

    def _ended(self, call: Call, ended: CallEnded) -> None:
        with self.world.cond:
            answered = call.answered_at is not None
            requested = call.end_request
        if answered:
            if ended.reason in {"api", "party"}:
                by = "api" if ended.reason == "api" else "party"
                self.world.event(call, "hangup", by=by)
            self.finish(call, "completed")
        elif call.direction == "inbound":
            self.world.event(call, "hangup", by=ended.reason)
            self.finish(call, "canceled" if ended.reason == "party" else "completed")
        else:
            # Hanging up a call that has not been answered cancels it, whichever status was asked for.
            self.world.event(call, "hangup", by=ended.reason, requested=requested)
            self.finish(call, "canceled")

    # Shared by <Dial>, <Record> ---------------------------------------------------------------------

    def new_leg(self, parent: Call, to: str, from_: str, party: Party, **fields: Any) -> Call:
        """Create a child leg (<Dial>): direction outbound-dial, linked to its parent."""
        leg = Call(
            sid=new_sid("CA"),
            account_sid=parent.account_sid,
            to=to,
            from_=from_,
            direction="outbound-dial",
            party=party,
            parent_call_sid=parent.sid,
            **fields,
        )
        return self.world.add_call(leg)

    def make_recording(self, call: Call, seconds: float) -> Recording:
        """Store a recording of `seconds` telephone seconds as a real WAV file."""
        from telephony.sandbox.audio import tone_wav

        recording = Recording(
            sid=new_sid("RE"),
            account_sid=call.account_sid,
            call_sid=call.sid,
            duration=max(1, round(seconds)),
            wav=tone_wav(seconds),
        )
        with self.world.cond:
            self.world.recordings[recording.sid] = recording
        return recording

    def recording_url(self, recording: Recording) -> str:
        """Where the app can download a recording (Twilio's URL has no extension; .wav is implied)."""
        base = self.world.base_url.rstrip("/")
        return f"{base}/{API_VERSION}/Accounts/{recording.account_sid}/Recordings/{recording.sid}"

    def bridge(self, a: Call, b: Call, time_limit: float) -> str:
        """Connect two live legs until one hangs up, is redirected, or the time limit: "a", "b" or "limit"."""
        world = self.world
        world.event(a, "dial", action="bridged", with_call=b.sid)
        world.event(b, "dial", action="bridged", with_call=a.sid)
        self._talk(a)
        self._talk(b)
        world.wait_real(a, world.clock.monotonic() + world.clock.real(time_limit), watch=[b])
        if world.interrupted(a):
            return "a"
        if world.interrupted(b):
            return "b"
        return "limit"

    def _talk(self, call: Call) -> None:
        """While bridged, a party's leading waits are talk time and a following hangup ends its leg."""
        world = self.world
        with world.cond:
            party = call.party
            talk, count, hangs_up = 0.0, 0, False
            for step in party.steps:
                if "wait" in step:
                    talk += step["wait"]
                    count += 1
                    continue
                hangs_up = "hangup" in step
                break
            if not hangs_up:
                return
            for _ in range(count + 1):
                party.steps.popleft()
            deadline = world.clock.monotonic() + world.clock.real(talk)
            current = party.hangup_deadline
            party.hangup_deadline = deadline if current is None else min(current, deadline)
