"""The life of a call: pacing, ringing, answering-machine detection, status callbacks, hang-up."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from telephony.sandbox.audio import Segment
from telephony.sandbox.model import Call, CallEnded, Message, Number, Party, Recording
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
# Simulated seconds a text spends queued before the carrier takes it, then before the handset confirms it.
SMS_SEND_SECONDS = 1.0
SMS_DELIVERY_SECONDS = 2.0
# Error codes Twilio reports on texts that never arrive.
SMS_ERRORS = {
    "failed": (30008, "Unknown error"),
    "undelivered": (30003, "Unreachable destination handset"),
}
# Simulated speaking rate: how long the engine takes to say a word, and a person to.
SECONDS_PER_WORD = 0.4


def words(text: str) -> int:
    """How many words a text or an utterance has."""
    return len(text.split())


@dataclass
class LiveRecording:
    """A recording in progress, and how its file is made when it stops.

    kind "call": one leg's two directions -- channel 1 what its party says (Twilio's inbound track), channel 2
    what the party hears (outbound track: <Say>/<Play>, and the other leg's voice while bridged). For a parent
    leg that is the order Twilio documents for dual-channel call recordings: "The first channel of a
    dual-channel recording contains the parent call and the second channel contains the child call"
    (twilio-oai, CreateCall `RecordingChannels`; https://www.twilio.com/docs/voice/api/call-resource).
    kind "dial": a <Dial>'s two legs -- channel 1 the parent (caller) leg's party, channel 2 the dialled leg's.
    """

    recording: Recording
    owner: Call
    kind: str
    started_at: float
    dual: bool
    track: str = "both"
    child: Call | None = None
    callback: str | None = None
    callback_method: str = "POST"
    callback_events: tuple[str, ...] = ("completed",)
    ended_by: list[str] = field(default_factory=list)
    # A record-from-answer <Dial> recording: its file starts at the very instant the bridge does.
    from_bridge: bool = False


class Engine:
    """Runs every call of a world on its own thread and sends its status callbacks in order."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.sender = WebhookSender(world)
        self._callback_workers: dict[str, ThreadPoolExecutor] = {}
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        # Serialises numbering and queueing of a call's callbacks, so sequence order is delivery order.
        self._callback_lock = threading.Lock()

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

    def start_message(self, message: Message, outcome: str) -> None:
        """Carry a text to its virtual phone: queued, sent, then delivered, undelivered or failed."""
        self._spawn(self._run_message, message, outcome)

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
        if call.stir_verstat and call.direction == "inbound":
            # Twilio presents it on an incoming call's voice requests when the call carried a PASSporT.
            params["StirVerstat"] = call.stir_verstat
        if call.answered_by and not call.async_amd:
            # With AsyncAmd the result goes to its own callback, never into the call's webhooks.
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
                call.answer_time = utcnow()
                # An inbound call has no "dialled" moment here: its start is when it is answered.
                call.start_time = call.start_time or call.answer_time
                call.answered_at = self.world.clock.monotonic()
                party = call.party
                party.answered = True
                if party.behaviour.hangup_after is not None:
                    party.hangup_deadline = call.answered_at + self.world.clock.real(party.behaviour.hangup_after)
                if call.time_limit > 0:
                    # TimeLimit counts from the answer, in telephone seconds.
                    call.limit_deadline = call.answered_at + self.world.clock.real(call.time_limit)
            self.world.cond.notify_all()
        self.world.event(call, "status", status=status)
        self.status_callback(call, STATUS_EVENT_OF.get(status, status), status)
        if status == "in-progress" and call.record and call.answered_at is not None:
            # Record=true records the whole call from the answer; the file exists once the call ends.
            self.start_recording(
                call,
                "call",
                "OutboundAPI",
                dual=call.recording_channels == "dual",
                track=call.recording_track,
                callback=call.recording_status_callback,
                callback_method=call.recording_status_callback_method,
                callback_events=call.recording_status_callback_events,
                started_at=call.answered_at,
            )

    def initiated(self, call: Call) -> None:
        """Twilio's "initiated" event: the REST status stays "queued" but the callback says initiated."""
        with self.world.cond:
            # Twilio's start_time is when the call is dialled, so a ringing or unanswered call has one.
            call.start_time = utcnow()
        self.world.event(call, "status", status="initiated")
        self.status_callback(call, "initiated", "initiated")

    def finish(self, call: Call, status: str) -> None:
        """End a call with a final status, once; sends the "completed" callback with CallDuration."""
        world = self.world
        with world.cond:
            if call.is_final or call.finishing:
                return
            call.finishing = True
            duration = 0
            now = world.clock.monotonic()
            if call.answered_at is not None:
                # Durations are telephone seconds, so a scaled call reports what Twilio would bill.
                duration = round(world.clock.simulated(now - call.answered_at))
            live = list(call.live_recordings)
        # Recordings are stored before the call reads final, so whoever sees "completed" can list them.
        stopped = [done for sid in live if (done := self._stop(sid, now)) is not None]
        recording = next((r.recording for r in stopped if r.recording.source == "OutboundAPI"), None)
        with world.cond:
            call.status = status
            call.end_time = utcnow()
            call.date_updated = call.end_time
            call.duration = duration
            if call.queue_name and call.queue_name in world.queues:
                members = world.queues[call.queue_name].members
                if call.sid in members:
                    members.remove(call.sid)
            world.cond.notify_all()
        world.event(call, "status", status=status, duration=call.duration)
        extra: dict[str, str] = {}
        if recording is not None:
            # Twilio sends a recorded call's RecordingUrl with its completed status callback.
            extra = {
                "RecordingUrl": self.recording_url(recording),
                "RecordingSid": recording.sid,
                "RecordingDuration": str(recording.duration),
            }
        self.status_callback(call, "completed", status, extra)
        for done in stopped:
            self.recording_callback(done, done.recording.status)
        with self._lock:
            worker = self._callback_workers.pop(call.sid, None)
        if worker is not None:
            # Callbacks already queued still go out; the worker's thread ends after the last one.
            worker.shutdown(wait=False)

    def enqueue_callback(
        self, call: Call, url: str, method: str, params: dict[str, str], kind: str, **note: Any
    ) -> None:
        """Send a callback on the call's own single worker, so its callbacks arrive in the order queued."""
        with self._lock:
            worker = self._callback_workers.get(call.sid)
            if worker is None:
                worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"status-{call.sid[:10]}")
                self._callback_workers[call.sid] = worker
            worker.submit(self.sender.send, call, url, method, params, kind, **note)

    def status_callback(self, call: Call, event: str, status: str, extra: dict[str, str] | None = None) -> None:
        """Queue a status callback if the call asked for this event; each is sent once, in order, never retried."""
        if not call.status_callback or event not in call.status_callback_events:
            return
        url, method = call.status_callback, call.status_callback_method
        params = self.voice_params(call, status)
        params.update(CallbackSource="call-progress-events", Timestamp=rfc2822(utcnow()) or "", **(extra or {}))
        if event == "completed":
            params["CallDuration"] = str(call.duration or 0)
        with self._callback_lock:
            # Numbering and queueing happen together, so SequenceNumber order is the order of delivery.
            params["SequenceNumber"] = str(call.sequence)
            call.sequence += 1
            if self.world.fault_roll(self.world.faults.drop_status_callback_rate):
                self.world.event(call, "webhook", kind="status", url=url, dropped=True, event=event)
                return
            self.enqueue_callback(call, url, method, params, "status", event=event, sequence=call.sequence - 1)

    # Recordings -------------------------------------------------------------------------------------

    def start_recording(
        self,
        owner: Call,
        kind: str,
        source: str,
        dual: bool = False,
        track: str = "both",
        callback: str | None = None,
        callback_method: str = "POST",
        callback_events: tuple[str, ...] = ("completed",),
        started_at: float | None = None,
        ends_with: tuple[Call, ...] | None = None,
        from_bridge: bool = False,
    ) -> Recording:
        """Start recording now (or at `started_at`): the Recording reads in-progress until it is stopped.

        It stops when `stop_recording` is called or when any of `ends_with` (default: the owner) ends. A
        single-track recording is always one channel, as Twilio documents for RecordingTrack inbound/outbound
        (https://www.twilio.com/docs/voice/tutorials/how-record-single-side-call).
        """
        world = self.world
        dual = dual and track == "both"
        recording = Recording(
            sid=new_sid("RE"),
            # A <Dial> recording belongs to the parent leg, as Twilio's call_sid always does.
            account_sid=owner.account_sid,
            call_sid=owner.sid,
            duration=0,
            source=source,
            start_time=utcnow(),
            status="in-progress",
            channels=2 if dual else 1,
            track=track,
        )
        live = LiveRecording(
            recording=recording,
            owner=owner,
            kind=kind,
            started_at=world.clock.monotonic() if started_at is None else started_at,
            dual=dual,
            track=track,
            callback=callback,
            callback_method=(callback_method or "POST").upper(),
            callback_events=callback_events or ("completed",),
            from_bridge=from_bridge,
        )
        with world.cond:
            world.recordings[recording.sid] = recording
            world.live_recordings[recording.sid] = live
            for leg in ends_with or (owner,):
                leg.live_recordings.append(recording.sid)
                live.ended_by.append(leg.sid)
        world.event(owner, "record", action="start", recording_sid=recording.sid, source=source, dual=dual)
        self.recording_callback(live, "in-progress")
        return recording

    def attach_child(self, sid: str, child: Call) -> None:
        """Name the dialled leg whose voice is a <Dial> recording's second side."""
        with self.world.cond:
            live = self.world.live_recordings.get(sid)
            if live is not None:
                live.child = child

    def stop_recording(self, sid: str, at: float | None = None) -> Recording | None:
        """Stop a recording in progress and store its file; None if it was not in progress."""
        done = self._stop(sid, at)
        if done is None:
            return None
        self.recording_callback(done, done.recording.status)
        return done.recording

    def _stop(self, sid: str, at: float | None) -> LiveRecording | None:
        """Stop and store a live recording once (no callback): the file is built from what each side said."""
        world = self.world
        with world.cond:
            live = world.live_recordings.pop(sid, None)
            if live is None:
                return None
            for leg_sid in live.ended_by:
                leg = world.calls.get(leg_sid)
                if leg is not None and sid in leg.live_recordings:
                    leg.live_recordings.remove(sid)
            end = world.clock.monotonic() if at is None else at
            seconds = max(0.0, world.clock.simulated(end - live.started_at))
            first, second = self._sides(live, end)
        if live.dual:
            channels = [_clip(first, live.started_at, seconds, world), _clip(second, live.started_at, seconds, world)]
        elif live.track == "inbound":
            channels = [_clip(first, live.started_at, seconds, world)]
        elif live.track == "outbound":
            channels = [_clip(second, live.started_at, seconds, world)]
        else:
            channels = [_clip(first + second, live.started_at, seconds, world)]
        recording = live.recording
        with world.cond:
            recording.sound_seconds, recording.sound = seconds, channels
            recording.duration = max(1, round(seconds))
            recording.status = "completed"
            recording.date_updated = utcnow()
        world.event(
            live.owner,
            "record",
            action="stop",
            recording_sid=recording.sid,
            url=self.recording_url(recording),
            duration=recording.duration,
            channels=recording.channels,
        )
        return live

    def _sides(self, live: LiveRecording, end: float) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
        """What the two sides said, as (monotonic start, telephone seconds) stretches (world's lock held)."""
        owner = live.owner
        if live.kind == "dial":
            child = live.child
            return list(owner.inbound_audio), list(child.inbound_audio) if child is not None else []
        heard = list(owner.outbound_audio)
        clock = self.world.clock
        for partner_sid, start, stop in owner.bridge_spans:
            partner = self.world.calls.get(partner_sid)
            if partner is None:
                continue
            until = end if stop is None else stop
            for at, length in partner.inbound_audio:
                # Only what the other leg says while the two are bridged reaches this leg.
                if start <= at < until:
                    heard.append((at, min(length, clock.simulated(until - at))))
        return list(owner.inbound_audio), heard

    def recording_callback(self, live: LiveRecording, status: str) -> None:
        """RecordingStatusCallback, for the events asked for, on the owner's callback queue (in order).

        Parameters as Twilio documents them for recordingStatusCallback (AccountSid, CallSid, RecordingSid,
        RecordingUrl, RecordingStatus, RecordingDuration, RecordingChannels, RecordingStartTime,
        RecordingSource, RecordingTrack; ErrorCode when absent): https://www.twilio.com/docs/voice/twiml/recording
        and https://www.twilio.com/docs/voice/api/recording#recordingstatuscallback.
        """
        if not live.callback or status not in live.callback_events:
            return
        params = self.recording_params(live.recording, status)
        self.enqueue_callback(live.owner, live.callback, live.callback_method, params, "recording-status", event=status)

    def recording_params(self, recording: Recording, status: str) -> dict[str, str]:
        """The parameters of one recording status callback."""
        params = {
            "AccountSid": recording.account_sid,
            "CallSid": recording.call_sid,
            "RecordingSid": recording.sid,
            "RecordingUrl": self.recording_url(recording),
            "RecordingStatus": status,
            "RecordingChannels": str(recording.channels),
            "RecordingSource": recording.source,
            "RecordingTrack": recording.track,
            "RecordingStartTime": rfc2822(recording.start_time) or "",
        }
        if status == "completed":
            params["RecordingDuration"] = str(recording.duration)
        if status == "absent":
            params["RecordingDuration"] = "0"
            if recording.error_code is not None:
                params["ErrorCode"] = str(recording.error_code)
        return params

    def note_audio(
        self, call: Call, seconds: float, inbound: bool, delay: float = 0.0, origin: float | None = None
    ) -> None:
        """Remember that the party spoke (inbound) or heard <Say>/<Play> (outbound) for `seconds`.

        It starts `delay` telephone seconds after `origin` (a real monotonic instant; default now).
        """
        if seconds <= 0:
            return
        with self.world.cond:
            start = self.world.clock.monotonic() if origin is None else origin
            at = start + self.world.clock.real(delay)
            (call.inbound_audio if inbound else call.outbound_audio).append((at, seconds))

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

    def _amd_outcome(self, call: Call) -> tuple[str, float]:
        """What AMD will decide for this party, and after how many telephone seconds of listening."""
        behaviour = call.party.behaviour
        if behaviour.answered_by:
            answered_by = behaviour.answered_by
        elif behaviour.answer == "machine":
            detect_end = (call.machine_detection or "").lower() == "detectmessageend"
            answered_by = "machine_end_beep" if detect_end else "machine_start"
        else:
            answered_by = "human"
        listen = AMD_SECONDS.get(answered_by, float(call.machine_detection_timeout))
        return answered_by, min(listen, float(call.machine_detection_timeout))

    def detect_machine(self, call: Call) -> None:
        """Synchronous AMD: listen, then set AnsweredBy before the answer webhook, as Twilio does."""
        answered_by, listen = self._amd_outcome(call)
        self.world.pause(call, listen)
        with self.world.cond:
            call.answered_by = answered_by
        self.world.event(call, "status", status=call.status, answered_by=answered_by)
        if call.amd_status_callback:
            # <Number amdStatusCallback>: the result also goes to its own URL, beside the call's webhooks.
            params = self._amd_params(call, answered_by, round(listen * 1000))
            url, method = call.amd_status_callback, call.amd_status_callback_method
            self.enqueue_callback(call, url, method, params, "amd")

    def _amd_params(self, call: Call, answered_by: str, duration_ms: int) -> dict[str, str]:
        """What an AMD status callback carries."""
        return {
            "CallSid": call.sid,
            "AccountSid": call.account_sid,
            "AnsweredBy": answered_by,
            "MachineDetectionDuration": str(duration_ms),
        }

    def detect_machine_async(self, call: Call) -> None:
        """AsyncAmd: the call runs its TwiML at once while AMD listens on another thread."""
        self._spawn(self._run_async_amd, call)

    def _run_async_amd(self, call: Call) -> None:
        world = self.world
        answered_by, listen = self._amd_outcome(call)
        with world.cond:
            # Not world.pause: a redirect of the call must not cut detection short, only the call's end.
            ended = world.cond.wait_for(lambda: call.is_final or call.party.hung_up, timeout=world.clock.real(listen))
            if not ended:
                call.answered_by = answered_by
        if ended:
            world.event(call, "amd", result="abandoned", reason="the call ended before detection finished")
            return
        duration_ms = round(listen * 1000)
        world.event(call, "amd", answered_by=answered_by, machine_detection_duration_ms=duration_ms)
        if not call.async_amd_status_callback:
            return
        params = self._amd_params(call, answered_by, duration_ms)
        self.sender.send(call, call.async_amd_status_callback, call.async_amd_status_callback_method, params, "amd")

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
            if call.machine_detection and call.async_amd:
                self.detect_machine_async(call)
            elif call.machine_detection:
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

    def _run_message(self, message: Message, outcome: str) -> None:
        world = self.world
        generation = world.generation
        # Each step waits telephone time; a reset or shutdown meanwhile ends the message's thread.
        if not world.sleep(SMS_SEND_SECONDS, generation):
            return
        if outcome == "failed":
            self._message_status(message, "failed")
            return
        self._message_status(message, "sent")
        if not world.sleep(SMS_DELIVERY_SECONDS, generation):
            return
        self._message_status(message, outcome)

    def _message_status(self, message: Message, status: str) -> None:
        """Move a text to `status` and post its StatusCallback (one thread per text keeps them in order)."""
        world = self.world
        with world.cond:
            message.status = status
            if status == "sent":
                message.date_sent = utcnow()
            if status in SMS_ERRORS:
                message.error_code, message.error_message = SMS_ERRORS[status]
            world.cond.notify_all()
        world.event(message, "status", status=status, error_code=message.error_code)
        if not message.status_callback:
            return
        params = {
            "AccountSid": message.account_sid,
            "ApiVersion": API_VERSION,
            "From": message.from_,
            "To": message.to,
            "MessageSid": message.sid,
            "MessageStatus": status,
            # Legacy duplicates Twilio still sends.
            "SmsSid": message.sid,
            "SmsStatus": status,
        }
        if message.error_code is not None:
            params["ErrorCode"] = str(message.error_code)
        self.sender.send(message, message.status_callback, message.status_callback_method, params, "message-status")

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
            # A <Dial> leg is dialled as soon as it exists.
            start_time=utcnow(),
            **fields,
        )
        return self.world.add_call(leg)

    def make_recording(
        self,
        call: Call,
        seconds: float,
        source: str = "RecordVerb",
        sid: str | None = None,
        spoken: list[Segment] | None = None,
    ) -> Recording:
        """Store a finished mono recording of `seconds` telephone seconds as a real WAV file.

        `spoken`: where the party's voice falls in it (default: all of it).
        """
        recording = Recording(
            sid=sid or new_sid("RE"),
            account_sid=call.account_sid,
            call_sid=call.sid,
            duration=max(1, round(seconds)),
            source=source,
            sound_seconds=seconds,
            sound=[spoken if spoken is not None else [(0.0, seconds)]],
            start_time=utcnow(),
        )
        with self.world.cond:
            self.world.recordings[recording.sid] = recording
        return recording

    def recording_url(self, recording: Recording) -> str:
        """Where the app can download a recording (Twilio's URL has no extension; .wav is implied)."""
        return self.world.base_url.rstrip("/") + recording.media_path()

    def bridge(self, a: Call, b: Call, time_limit: float) -> str:
        """Connect two live legs until one hangs up, is redirected, or the time limit: "a", "b" or "limit"."""
        world = self.world
        world.event(a, "dial", action="bridged", with_call=b.sid)
        world.event(b, "dial", action="bridged", with_call=a.sid)
        with world.cond:
            started = world.clock.monotonic()
            span_a, span_b = [b.sid, started, None], [a.sid, started, None]
            a.bridge_spans.append(span_a)
            b.bridge_spans.append(span_b)
            for sid in a.live_recordings:
                live = world.live_recordings.get(sid)
                if live is not None and live.from_bridge:
                    live.started_at, live.from_bridge = started, False
        self._talk(a, started)
        self._talk(b, started)
        try:
            world.wait_real(a, world.clock.monotonic() + world.clock.real(time_limit), watch=[b])
        finally:
            with world.cond:
                span_a[2] = span_b[2] = world.clock.monotonic()
        if world.interrupted(a):
            return "a"
        if world.interrupted(b):
            return "b"
        return "limit"

    def _talk(self, call: Call, started: float) -> None:
        """While bridged, a party's leading waits and speech are the conversation; a following hangup ends its leg.

        Speech steps are what the party says on the line (they sound in recordings), waits are its silences.
        """
        world = self.world
        with world.cond:
            party = call.party
            talk, count, hangs_up = 0.0, 0, False
            said: list[tuple[float, float]] = []
            for step in party.steps:
                if "wait" in step:
                    talk += step["wait"]
                    count += 1
                    continue
                if "speech" in step:
                    length = max(0.5, words(step["speech"]) * SECONDS_PER_WORD)
                    said.append((talk, length))
                    talk += length
                    count += 1
                    continue
                hangs_up = "hangup" in step
                break
            if not hangs_up:
                return
            for _ in range(count + 1):
                party.steps.popleft()
            for offset, length in said:
                self.note_audio(call, length, inbound=True, delay=offset, origin=started)
            deadline = started + world.clock.real(talk)
            current = party.hangup_deadline
            party.hangup_deadline = deadline if current is None else min(current, deadline)


def _clip(stretches: list[tuple[float, float]], origin: float, seconds: float, world: World) -> list[Segment]:
    """Stretches (monotonic start, telephone seconds) as segments of a recording that began at `origin`."""
    segments: list[Segment] = []
    for at, length in sorted(stretches):
        start = world.clock.simulated(at - origin)
        end = min(seconds, start + length)
        start = max(0.0, start)
        if end > start:
            segments.append((start, end - start))
    return segments
