"""The TwiML interpreter: runs a call's documents verb by verb, as Twilio's voice engine does."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from telephony.sandbox.engine import BUSY_AFTER_SECONDS, SECONDS_PER_WORD, Engine
from telephony.sandbox.media import Media
from telephony.sandbox.model import Bridged, Call, CallEnded, Party, Recording, Redirected
from telephony.sandbox.recogniser import SPEECH_MODELS, recognise, transcript
from telephony.sandbox.wire import new_sid, utcnow
from telephony.sandbox.world import Queue

logger = logging.getLogger(__name__)

# The verbs the sandbox plays; Twilio knows a few more, which end the call here with a clear 12100.
SUPPORTED_VERBS = frozenset(
    {"Say", "Play", "Pause", "Gather", "Dial", "Enqueue", "Leave", "Record", "Redirect", "Hangup", "Reject"}
)
# Every verb Twilio knows; a document with any other element at the top level fails to parse (12100).
TWILIO_VERBS = SUPPORTED_VERBS | {"Connect", "Start", "Stop", "Pay", "Prompt", "Refer", "Sms", "Message", "Echo"}
GATHER_CHILDREN = frozenset({"Say", "Play", "Pause"})
DIAL_NOUNS = frozenset({"Number", "Client", "Queue"})
# Simulated speaking rates (SECONDS_PER_WORD comes from the engine): how long things take to say and answer.
PLAY_SECONDS = 5.0
DIGIT_SECONDS = 0.3
# A "w" in scripted keys waits half a second, as in <Play digits> and SendDigits.
HALF_SECOND_KEY = 0.5
# speechTimeout="auto": the natural pause that ends an utterance.
AUTO_PAUSE_SECONDS = 1.0
APPLICATION_ERROR = "We are sorry, an application error has occurred. Goodbye."


class TwimlError(Exception):
    """A document Twilio would refuse (12100) or could not fetch (11200)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class LeaveQueue(Exception):
    """<Leave> in hold music: the caller leaves the queue."""


class BargedIn(Exception):
    """The caller pressed a key, or spoke, while a <Gather>'s prompt was still playing: the prompt stops."""


@dataclass(frozen=True)
class Listening:
    """What a <Gather> listens for and how long, its attributes read and checked."""

    inputs: frozenset[str]
    timeout: int
    num_digits: int
    finish_on_key: str
    language: str
    speech_model: str
    speech_end: float  # Seconds of silence that end speech.
    partial_url: str | None
    partial_method: str


@dataclass(frozen=True)
class Fetch:
    """Where the next document comes from: a URL with extra parameters, or inline TwiML."""

    url: str | None = None
    method: str = "POST"
    params: Mapping[str, str] = field(default_factory=dict)
    twiml: str | None = None


def parse_twiml(text: str) -> ET.Element:
    """Parse and check a TwiML document; TwimlError(12100) for what Twilio could not run."""
    try:
        root = ET.fromstring(text.encode("utf-8"))
    except ET.ParseError as exc:
        raise TwimlError(12100, f"document parse failure: {exc}") from None
    if root.tag != "Response":
        raise TwimlError(12100, f"the root element is <{root.tag}>, not <Response>")
    for verb in root:
        if verb.tag not in TWILIO_VERBS:
            raise TwimlError(12100, f"unknown verb <{verb.tag}>")
        if verb.tag not in SUPPORTED_VERBS:
            raise TwimlError(12100, f"<{verb.tag}> is not supported by the sandbox")
        allowed = {"Gather": GATHER_CHILDREN, "Dial": DIAL_NOUNS}.get(verb.tag)
        if verb.tag == "Say":
            continue  # SSML elements may sit inside <Say>.
        for child in verb:
            if allowed is None or child.tag not in allowed:
                raise TwimlError(12100, f"<{child.tag}> is not allowed in <{verb.tag}>")
    return root


def _int(element: ET.Element, name: str, default: int) -> int:
    try:
        return int(element.get(name, default))
    except ValueError:
        return default


def _words(text: str) -> int:
    return len(text.split())


class Interpreter:
    """Runs TwiML on one call leg; returns when the documents end, raises CallEnded when the call does."""

    def __init__(
        self,
        engine: Engine,
        call: Call,
        fallback_url: str | None = None,
        fallback_method: str = "POST",
        queue_mode: bool = False,
    ) -> None:
        self.engine = engine
        self.world = engine.world
        self.call = call
        self.fallback_url = fallback_url if fallback_url is not None else call.fallback_url
        self.fallback_method = fallback_method if fallback_url is not None else call.fallback_method
        self.queue_mode = queue_mode
        # While a <Gather>'s nested <Say>/<Play> runs: the kinds of input that stop it ("digits", "speech").
        self.barge_in: frozenset[str] = frozenset()

    # Documents -----------------------------------------------------------------------------------

    def run(self, target: Fetch | None) -> None:
        """Fetch and execute documents until one ends without pointing to another."""
        while target is not None:
            try:
                root, url = self.load(target)
                target = self.execute(root, url)
            except Redirected:
                target = self._take_redirect()

    def _take_redirect(self) -> Fetch:
        with self.world.cond:
            assert self.call.redirect_to is not None
            url, method, twiml = self.call.redirect_to
            self.call.redirect_to = None
        self.world.event(self.call, "redirect", by="api", url=url)
        return Fetch(url=url, method=method, twiml=twiml)

    def load(self, target: Fetch) -> tuple[ET.Element, str | None]:
        """Fetch and parse a document; on failure use the fallback URL, else end the call (11200/12100)."""
        try:
            return self._load_once(target), target.url
        except TwimlError as error:
            self.world.event(self.call, "error", code=error.code, message=error.message, url=target.url)
            if self.fallback_url and target.url != self.fallback_url:
                fallback = Fetch(
                    url=self.fallback_url,
                    method=self.fallback_method,
                    params={**target.params, "ErrorCode": str(error.code), "ErrorUrl": target.url or ""},
                )
                try:
                    return self._load_once(fallback), fallback.url
                except TwimlError as second:
                    self.world.event(self.call, "error", code=second.code, message=second.message, url=fallback.url)
            self.world.event(self.call, "say", text=APPLICATION_ERROR, application_error=True)
            raise CallEnded("error") from None

    def _load_once(self, target: Fetch) -> ET.Element:
        if target.twiml is not None:
            return parse_twiml(target.twiml)
        if not target.url:
            raise TwimlError(11200, "no URL to request")
        params = {**self.engine.voice_params(self.call), **target.params}
        reply = self.engine.sender.send(self.call, target.url, target.method, params, "voice")
        # The caller may have hung up while the app was thinking.
        self.world.checkpoint(self.call)
        if not reply.ok:
            why = reply.error or f"HTTP {reply.status}"
            raise TwimlError(11200, f"HTTP retrieval failure: {why}")
        return parse_twiml(reply.body)

    def execute(self, root: ET.Element, doc_url: str | None) -> Fetch | None:
        """Run a document's verbs in order; return where to go next, or None when it ends."""
        for verb in root:
            self.world.checkpoint(self.call)
            if verb.tag != "Reject" and self.call.direction == "inbound" and self.call.status == "ringing":
                # Twilio answers an incoming call when the first verb other than <Reject> runs.
                self.engine.set_status(self.call, "in-progress")
            handler = getattr(self, f"_verb_{verb.tag.lower()}")
            following = handler(verb, doc_url)
            if following is not None:
                return following
        return None

    def _resolve(self, value: str | None, doc_url: str | None) -> str | None:
        """Twilio resolves relative action and redirect URLs against the current document's URL."""
        if not value:
            return None
        return urljoin(doc_url or "", value.strip())

    # Time -------------------------------------------------------------------------------------------

    def _bridged(self) -> bool:
        return self.queue_mode and self.call.bridged_with is not None

    def _pause(self, seconds: float) -> None:
        """Let telephone time pass; in hold music, stop as soon as an agent picks the call, and in a
        <Gather>'s prompt as soon as the caller answers (barge-in)."""
        until = self._bridged if self.queue_mode else self._barging if self.barge_in else None
        self.world.pause(self.call, seconds, until=until)
        if self._bridged():
            raise Bridged()
        if self.barge_in and self._barging():
            raise BargedIn()

    def _barging(self) -> bool:
        """Whether the caller's next input stops the prompt now playing.

        Twilio stops a <Gather>'s nested <Say>/<Play> at the first key pressed, and at speech unless
        bargeIn="false". A person at the softphone answers when they like, so their input barges in; a
        scripted step waits for the prompt to end (what the step lists is "what the person does each time
        the call listens") unless it says {"barge_in": true}.
        """
        with self.world.cond:
            step = self.call.party.steps[0] if self.call.party.steps else None
        if step is None or not (self.call.party.behaviour.interactive or step.get("barge_in")):
            return False
        return ("digits" in step and "digits" in self.barge_in) or ("speech" in step and "speech" in self.barge_in)

    def next_input(self, timeout: float) -> dict[str, Any] | None:
        """The party's next digits or speech within `timeout` telephone seconds, or None."""
        world, call, party = self.world, self.call, self.call.party
        clock = world.clock
        deadline = clock.monotonic() + clock.real(timeout)
        while True:
            with world.cond:
                step = party.steps.popleft() if party.steps else None
                if step is not None and "hangup" in step:
                    party.hung_up = True
            if step is None:
                world.wait_real(call, deadline, until=lambda: bool(party.steps) or self._bridged())
                world.checkpoint(call)
                if self._bridged():
                    raise Bridged()
                if party.steps:
                    continue
                return None
            if "hangup" in step:
                world.event(call, "hangup", by="party", reason="step")
                world.checkpoint(call)
            if "wait" in step:
                wake = clock.monotonic() + clock.real(step["wait"])
                if wake > deadline:
                    # The silence outlasts this prompt: the rest of it carries over to the next one.
                    with world.cond:
                        party.steps.appendleft({"wait": clock.simulated(wake - deadline)})
                    world.wait_real(call, deadline)
                    world.checkpoint(call)
                    return None
                world.wait_real(call, wake)
                world.checkpoint(call)
                continue
            return step

    # Simple verbs -----------------------------------------------------------------------------------

    def _verb_say(self, verb: ET.Element, doc_url: str | None) -> None:
        text = " ".join("".join(verb.itertext()).split())
        loop = _int(verb, "loop", 1) or 1000
        self.world.event(
            self.call,
            "say",
            text=text,
            voice=verb.get("voice", "man"),
            language=verb.get("language", "en-US"),
            loop=loop,
        )
        seconds = max(0.5, _words(text) * SECONDS_PER_WORD) * loop
        self.engine.note_audio(self.call, seconds, inbound=False)
        self._pause(seconds)

    def _verb_play(self, verb: ET.Element, doc_url: str | None) -> None:
        digits = verb.get("digits")
        if digits:
            self.world.event(self.call, "play", digits=digits)
            self._pause(len(digits) * DIGIT_SECONDS)
            return
        url = self._resolve((verb.text or "").strip(), doc_url)
        loop = _int(verb, "loop", 1) or 1000
        media = self.world.media.of(url) if url else Media(0.0, (11200, "<Play> without a URL"))
        if media.warning is not None:
            code, message = media.warning
            self.world.event(self.call, "warning", code=code, message=f"{message} ({url})")
            return  # Twilio skips a file it cannot play and goes on with the next verb
        self.world.event(self.call, "play", url=url, loop=loop, seconds=round(media.seconds, 2))
        self.engine.note_audio(self.call, media.seconds * loop, inbound=False)
        self._pause(media.seconds * loop)

    def _verb_pause(self, verb: ET.Element, doc_url: str | None) -> None:
        length = _int(verb, "length", 1)
        self.world.event(self.call, "pause", length=length)
        self._pause(length)

    def _verb_redirect(self, verb: ET.Element, doc_url: str | None) -> Fetch:
        url = self._resolve((verb.text or "").strip(), doc_url)
        self.world.event(self.call, "redirect", by="twiml", url=url)
        if not url:
            raise TwimlError(12100, "<Redirect> without a URL")
        return Fetch(url=url, method=verb.get("method", "POST").upper())

    def _verb_hangup(self, verb: ET.Element, doc_url: str | None) -> None:
        self.world.event(self.call, "hangup", by="twiml")
        raise CallEnded("twiml")

    def _verb_reject(self, verb: ET.Element, doc_url: str | None) -> None:
        reason = verb.get("reason", "rejected")
        self.world.event(self.call, "hangup", by="twiml", reason=f"reject:{reason}")
        if self.call.direction == "inbound" and self.call.status == "ringing":
            # An unanswered call rejected as busy ends "busy"; the default reason ends it "no-answer".
            self.engine.finish(self.call, "busy" if reason == "busy" else "no-answer")
        raise CallEnded("twiml")

    def _verb_leave(self, verb: ET.Element, doc_url: str | None) -> None:
        if self.queue_mode:
            self.world.event(self.call, "enqueue", action="leave")
            raise LeaveQueue()

    # <Gather> ---------------------------------------------------------------------------------------

    def _verb_gather(self, verb: ET.Element, doc_url: str | None) -> Fetch | None:
        """<Gather>, as https://www.twilio.com/docs/voice/twiml/gather documents it.

        Keys are collected one by one until `finishOnKey` (default #, not sent in Digits), `numDigits`, or
        `timeout` seconds (default 5) after the last key: Twilio's timeout is how long it waits "for the caller
        to press another digit or say another word". Speech ends after `speechTimeout` seconds of silence
        (`auto`: at a natural pause, AUTO_PAUSE_SECONDS here); without the attribute the `timeout` applies, as
        for keys. The transcript is formatted as a recogniser writes it (telephony/sandbox/recogniser.py) in
        the Gather's `language` (default en-US). While speech is heard, `partialResultCallback` gets interim
        results (UnstableSpeechResult, Stability, SequenceNumber) word by word.

        Invalid values raise Twilio's warnings and the Gather goes on with the default: 13310 (finishOnKey),
        13327 (speechTimeout), 13334 (speechModel), 13335 (speechTimeout auto with a speechModel set: the
        warning's title says "with model default", its description "whenever you set speechModel"; the
        sandbox follows the description). What the pages do not say: whether keys pressed after the Gather
        ended reach the next one (here they are dropped, noted as ignored), the length of auto's pause,
        and where partial results' SequenceNumber starts (here 1, per Gather) or what Stability is worth.
        """
        listening = self._listening(verb, doc_url)
        action = self._resolve(verb.get("action"), doc_url) or doc_url
        method = verb.get("method", "POST").upper()
        on_empty = verb.get("actionOnEmptyResult", "false").lower() == "true"
        self.world.event(
            self.call,
            "gather",
            input=sorted(listening.inputs),
            timeout=listening.timeout,
            num_digits=listening.num_digits,
            finish_on_key=listening.finish_on_key,
            hints=verb.get("hints"),
            action=action,
            language=listening.language,
            speech_model=verb.get("speechModel"),
            speech_timeout=verb.get("speechTimeout"),
        )
        self.barge_in = frozenset(
            ({"digits"} if "dtmf" in listening.inputs else set())
            | ({"speech"} if "speech" in listening.inputs and verb.get("bargeIn", "true").lower() != "false" else set())
        )
        try:
            for child in verb:
                getattr(self, f"_verb_{child.tag.lower()}")(child, doc_url)
        except BargedIn:
            self.world.event(self.call, "barge_in")  # the rest of the prompt is not played
        finally:
            self.barge_in = frozenset()
        result = self._listen(listening)
        if result is None:
            self.world.event(self.call, "input", result="timeout")
            if on_empty and action:
                return Fetch(url=action, method=method)
            return None  # No input: Twilio falls through to the next verb.
        if action is None:
            return None
        return Fetch(url=action, method=method, params=result)

    def _listening(self, verb: ET.Element, doc_url: str | None) -> Listening:
        """A <Gather>'s attributes, checked as Twilio checks them (warnings on the timeline)."""
        timeout = _int(verb, "timeout", 5)
        finish_on_key = verb.get("finishOnKey", "#")
        if len(finish_on_key) > 1 or (finish_on_key and finish_on_key not in "0123456789#*"):
            self._warn(13310, f"invalid <Gather finishOnKey> value {finish_on_key!r}")
            finish_on_key = "#"
        model = verb.get("speechModel")
        if model is not None and model not in SPEECH_MODELS:
            self._warn(13334, f"invalid <Gather speechModel> value {model!r}")
        raw = (verb.get("speechTimeout") or "").strip().lower()
        speech_end = float(timeout)
        if raw == "auto" and model is not None:
            self._warn(13335, "speechTimeout auto cannot be used with a speechModel")
        elif raw == "auto":
            speech_end = AUTO_PAUSE_SECONDS
        elif raw:
            if raw.isdigit() and int(raw) > 0:
                speech_end = float(raw)
            else:
                self._warn(13327, f"invalid <Gather speechTimeout> value {raw!r}")
        return Listening(
            inputs=frozenset(verb.get("input", "dtmf").split()),
            timeout=timeout,
            num_digits=_int(verb, "numDigits", 0),
            finish_on_key=finish_on_key,
            language=verb.get("language", "en-US"),
            speech_model=model if model in SPEECH_MODELS else "default",
            speech_end=speech_end,
            partial_url=self._resolve(verb.get("partialResultCallback"), doc_url),
            partial_method=verb.get("partialResultCallbackMethod", "POST").upper(),
        )

    def _warn(self, code: int, message: str) -> None:
        self.world.event(self.call, "warning", code=code, message=message)

    def _listen(self, listening: Listening) -> dict[str, str] | None:
        step = self.next_input(listening.timeout)
        if step is None:
            return None
        if "digits" in step and "dtmf" in listening.inputs:
            return self._collect_digits(step, listening)
        if "speech" in step and "speech" in listening.inputs:
            return self._recognise(step, listening)
        # The party pressed keys a speech-only Gather ignores, or spoke to a keypad-only one.
        self.world.event(self.call, "input", ignored=step)
        self._pause(listening.timeout)
        return None

    def _collect_digits(self, step: dict[str, Any], listening: Listening) -> dict[str, str] | None:
        """Keys from this step and the next ones, until the finish key, numDigits, or the digit timeout."""
        world, call = self.world, self.call
        digits, finished_on, done = "", "", False
        try:
            while not done:
                keys = step["digits"]
                for index, key in enumerate(keys):
                    if key == "w":
                        self._pause(HALF_SECOND_KEY)  # "w" in a digit string: half a second before the next key.
                        continue
                    self._pause(DIGIT_SECONDS)
                    if listening.finish_on_key and key == listening.finish_on_key:
                        finished_on, done = key, True
                    else:
                        digits += key
                        done = bool(listening.num_digits) and len(digits) >= listening.num_digits
                    if done:
                        rest = keys[index + 1 :].replace("w", "")
                        if rest:
                            world.event(call, "input", ignored={"digits": rest}, reason="after the gather ended")
                        break
                    with world.cond:
                        call.keyed = digits
                if done:
                    break
                # Twilio's digit timeout: `timeout` seconds after the last key, what was keyed is sent.
                following = self.next_input(listening.timeout)
                if following is None:
                    break
                if "digits" not in following:
                    with world.cond:
                        party = call.party
                        party.steps.appendleft(following)  # Speech or a hang-up: for what comes next.
                    break
                step = following
        finally:
            with world.cond:
                call.keyed = None
        world.event(call, "input", digits=digits, finished_on_key=finished_on)
        if not digits:
            return None
        return {"Digits": digits, "FinishedOnKey": finished_on}

    def _recognise(self, step: dict[str, Any], listening: Listening) -> dict[str, str]:
        """Hear one speech step, then the silence that ends it (speechTimeout), and transcribe it.

        Each speech step is one utterance: a script's next step is the caller's next turn, whatever pause
        lies between them (a scripted caller speaks after hearing the next prompt). A step with a "pause"
        goes on with the next speech step after that much silence: in the same utterance when the pause is
        shorter than the silence that ends speech (Twilio's speechTimeout: "the limit (in seconds) that
        Twilio will wait after a pause in speech before it stops its recognition"), else as the next turn.
        """
        world, call = self.world, self.call
        words = step["speech"]
        self._speak(words, listening)
        while step.get("pause") is not None and step["pause"] < listening.speech_end:
            with world.cond:
                steps = call.party.steps
                following = steps.popleft() if steps and "speech" in steps[0] else None
            if following is None:
                break
            self._pause(step["pause"])
            self._speak(following["speech"], listening)
            words, step = f"{words} {following['speech']}", following
        self._pause(listening.speech_end)
        with world.cond:
            call.utterances += 1
            seed = f"{call.from_}|{call.to}|{call.utterances}"
        heard = recognise(
            words,
            listening.language,
            listening.speech_model,
            seed,
            confidence=step.get("confidence", "vary"),
            verbatim=bool(step.get("verbatim", False)),
        )
        world.event(call, "input", speech=words, speech_result=heard.text, confidence=heard.confidence)
        result = {"SpeechResult": heard.text}
        if heard.confidence is not None:
            result["Confidence"] = heard.confidence
        return result

    def _speak(self, words: str, listening: Listening) -> None:
        """Let the party say `words`; with a partialResultCallback, post the transcript so far word by word."""
        spoken = words.split()
        self.engine.note_audio(self.call, len(spoken) * SECONDS_PER_WORD, inbound=True)
        if not listening.partial_url:
            self._pause(len(spoken) * SECONDS_PER_WORD)
            return
        for index in range(1, len(spoken) + 1):
            self._pause(SECONDS_PER_WORD)
            # Interim results are not closed by punctuation, and settle as more is heard.
            unstable = transcript(" ".join(spoken[:index]), listening.language).rstrip(".?").lstrip("¿")
            params = {
                **self.engine.voice_params(self.call),
                "UnstableSpeechResult": unstable,
                "Stability": f"{0.5 + 0.4 * index / len(spoken):.2f}",
                "SequenceNumber": str(index),
            }
            self.engine.enqueue_callback(
                self.call, listening.partial_url, listening.partial_method, params, "partial-result"
            )

    # <Record> ---------------------------------------------------------------------------------------

    def _verb_record(self, verb: ET.Element, doc_url: str | None) -> Fetch | None:
        """<Record>: the party's next speech step is the message (its words at SECONDS_PER_WORD each).

        As https://www.twilio.com/docs/voice/twiml/record documents: action (default: this document) gets
        RecordingUrl, RecordingSid, RecordingDuration and Digits (the finishing key, or "hangup"); an empty
        recording requests no action and execution goes on with the next verb; timeout (5) is the silence that
        ends it, finishOnKey (1234567890*#), maxLength (3600), playBeep (true), trim (trim-silence: leading and
        trailing silence are cut; do-not-trim keeps them), recordingStatusCallback/Method/Event (in-progress,
        completed, absent; default completed).
        """
        world, engine, call = self.world, self.engine, self.call
        clock = world.clock
        action = self._resolve(verb.get("action"), doc_url) or doc_url
        method = verb.get("method", "POST").upper()
        timeout = _int(verb, "timeout", 5)
        finish_keys = verb.get("finishOnKey", "1234567890*#")
        max_length = _int(verb, "maxLength", 3600)
        trim = verb.get("trim", "trim-silence") != "do-not-trim"
        status_callback = self._resolve(verb.get("recordingStatusCallback"), doc_url)
        callback_method = verb.get("recordingStatusCallbackMethod", "POST").upper()
        callback_events = tuple(verb.get("recordingStatusCallbackEvent", "completed").replace(",", " ").split())
        if verb.get("playBeep", "true").lower() != "false":
            world.event(call, "play", url="beep")
        sid = new_sid("RE")
        world.event(call, "record", action="start", recording_sid=sid, max_length=max_length, trim=trim)
        started, started_time = clock.monotonic(), utcnow()

        def notify(recording: Recording, event: str) -> None:
            if status_callback and event in callback_events:
                params = engine.recording_params(recording, event)
                engine.enqueue_callback(call, status_callback, callback_method, params, "recording-status")

        def unfinished(status: str) -> Recording:
            return Recording(sid, call.account_sid, call.sid, 0, start_time=started_time, status=status)

        notify(unfinished("in-progress"), "in-progress")
        spoke_at: float | None = None
        spoken, ended_by, hung_up, reason = 0.0, "", False, "party"
        try:
            step = self.next_input(timeout)
            if step is not None and "speech" in step:
                spoken = min(float(max_length), max(1.0, _words(step["speech"]) * SECONDS_PER_WORD))
                spoke_at = clock.monotonic()
                engine.note_audio(call, spoken, inbound=True)
                self._pause(spoken)
                after = self.next_input(timeout)
                if after is not None and "digits" in after and after["digits"][:1] in finish_keys:
                    ended_by = after["digits"][:1]
            elif step is not None and "digits" in step and step["digits"][:1] in finish_keys:
                ended_by = step["digits"][:1]
        except CallEnded as ended:
            hung_up, reason = True, ended.reason
        if spoken <= 0 or spoke_at is None:
            world.event(call, "record", action="empty", recording_sid=sid)
            # Nothing was heard: Twilio reports the recording "absent" (and keeps no file).
            notify(unfinished("absent"), "absent")
            if hung_up:
                raise CallEnded(reason)
            # Nothing was recorded: Twilio moves on to the next verb without requesting the action.
            return None
        if trim:
            seconds, spoken_at = spoken, [(0.0, spoken)]
        else:
            # Untrimmed, the file keeps the silence before the message and the timeout that ended it.
            seconds = min(float(max_length), clock.simulated(clock.monotonic() - started))
            offset = clock.simulated(spoke_at - started)
            spoken_at = [(offset, spoken)]
        recording = engine.make_recording(call, seconds, sid=sid, spoken=spoken_at)
        recording.start_time = started_time
        url = engine.recording_url(recording)
        world.event(call, "record", action="stop", recording_sid=recording.sid, url=url, duration=recording.duration)
        params = {
            "RecordingUrl": url,
            "RecordingSid": recording.sid,
            "RecordingDuration": str(recording.duration),
            # Twilio reports the key that ended the recording, or "hangup".
            "Digits": "hangup" if hung_up else ended_by,
        }
        notify(recording, "completed")
        if hung_up:
            if action:
                # The action is still requested after a hang-up; what it answers is not run.
                self._notify(action, method, params)
            raise CallEnded(reason)
        if not action:
            return None
        return Fetch(url=action, method=method, params=params)

    def _notify(self, url: str, method: str, params: Mapping[str, str]) -> None:
        """Request an action URL after the caller hung up; the TwiML it returns is ignored."""
        merged = {**self.engine.voice_params(self.call), **params}
        self.engine.sender.send(self.call, url, method, merged, "voice")

    # <Dial> -----------------------------------------------------------------------------------------

    def _verb_dial(self, verb: ET.Element, doc_url: str | None) -> Fetch | None:
        action = self._resolve(verb.get("action"), doc_url)
        method = verb.get("method", "POST").upper()
        queue = verb.find("Queue")
        if queue is not None:
            return self._dial_queue(verb, queue, action, method, doc_url)
        targets: list[tuple[str, ET.Element | None]] = []
        text = (verb.text or "").strip()
        if text:
            targets.append((text, None))
        for noun in verb:
            if noun.tag == "Number":
                targets.append(((noun.text or "").strip(), noun))
            elif noun.tag == "Client":
                identity = noun.findtext("Identity") or noun.text or ""
                targets.append((f"client:{identity.strip()}", noun))
        if not targets:
            raise TwimlError(12100, "<Dial> with nothing to dial")
        return self._dial_legs(verb, targets, action, method, doc_url)

    def _dial_params(
        self,
        status: str,
        leg_sid: str | None,
        duration: int,
        bridged: bool,
        extra: Mapping[str, str] | None = None,
    ) -> dict[str, str]:
        """What the Dial action gets: a leg that was answered is "completed", bridged or not."""
        params = {
            "DialCallStatus": status,
            "DialCallDuration": str(duration),
            "DialBridged": "true" if bridged else "false",
            **(extra or {}),
        }
        if leg_sid:
            params["DialCallSid"] = leg_sid
        return params

    def _dial_result(
        self,
        action: str | None,
        method: str,
        status: str,
        leg_sid: str | None,
        duration: int,
        extra: Mapping[str, str] | None = None,
        bridged: bool = False,
    ) -> Fetch | None:
        self.world.event(
            self.call,
            "dial",
            action="result",
            dial_call_status=status,
            dial_call_sid=leg_sid,
            dial_call_duration=duration,
            dial_bridged=bridged,
        )
        if not action:
            return None  # Without an action, execution continues after the <Dial>.
        return Fetch(url=action, method=method, params=self._dial_params(status, leg_sid, duration, bridged, extra))

    def _dial_ended_by_caller(self, action: str | None, method: str, params: Mapping[str, str]) -> None:
        """The caller hung up (or was redirected) during the <Dial>: the action hears of it, its TwiML is not run."""
        call = self.call
        self.world.event(
            call,
            "dial",
            action="result",
            dial_call_status=params["DialCallStatus"],
            dial_call_sid=params.get("DialCallSid"),
            dial_call_duration=int(params["DialCallDuration"]),
            dial_bridged=params["DialBridged"] == "true",
            caller_gone=True,
        )
        if action and not call.redirect_to:
            # The caller's call is over by the time the action hears of it.
            self._notify(action, method, {**params, "CallStatus": "completed"})
        self.world.checkpoint(call)

    def _dial_legs(
        self,
        verb: ET.Element,
        targets: list[tuple[str, ET.Element | None]],
        action: str | None,
        method: str,
        doc_url: str | None,
    ) -> Fetch | None:
        world, engine, call = self.world, self.engine, self.call
        timeout = _int(verb, "timeout", 30)
        time_limit = _int(verb, "timeLimit", 14400)
        caller_id = verb.get("callerId") or call.from_
        record = self._record_mode(verb)
        legs: list[tuple[Call, ET.Element | None]] = []
        for address, noun in targets:
            attrs = noun.attrib if noun is not None else {}
            events = tuple(attrs.get("statusCallbackEvent", "completed").replace(",", " ").split())
            leg = engine.new_leg(
                call,
                address,
                caller_id,
                Party.for_call(address, world.behaviour_of(address)),
                timeout=timeout,
                status_callback=self._resolve(attrs.get("statusCallback"), doc_url),
                status_callback_method=attrs.get("statusCallbackMethod", "POST").upper(),
                status_callback_events=events,
                **self._amd_options(noun, doc_url),
            )
            world.event(call, "dial", action="ring", to=address, call_sid=leg.sid)
            legs.append((leg, noun))
        recording: Recording | None = None
        if record is not None and record[0] == "ringing":
            # record-from-ringing[-dual]: the file starts with the ringing.
            recording = self._start_dial_recording(verb, doc_url, record[1])
        try:
            winner = self._ring_legs([leg for leg, _ in legs], timeout)
        except (CallEnded, Redirected):
            for leg, _ in legs:
                engine.finish(leg, "canceled")
            if recording is not None:
                engine.stop_recording(recording.sid)
            raise
        if winner is None:
            last = legs[-1][0]
            extra = self._stop_dial_recording(recording)
            return self._dial_result(action, method, last.status, last.sid, 0, extra)
        if recording is not None:
            engine.attach_child(recording.sid, winner)
        noun = dict((leg.sid, n) for leg, n in legs)[winner.sid]
        if not self._screen(winner, noun, action, method, doc_url):
            # Answered but never bridged (hung up during the whisper, or the whisper hung up): still "completed".
            extra = self._stop_dial_recording(recording)
            return self._dial_result(action, method, "completed", winner.sid, winner.duration or 0, extra)
        if record is not None and record[0] == "answer":
            # record-from-answer[-dual]: the sandbox starts the file when the two parties are connected, after
            # any whisper (<Number url>) has run on the dialled leg -- see _record_mode.
            recording = self._start_dial_recording(verb, doc_url, record[1], from_bridge=True)
            engine.attach_child(recording.sid, winner)
        ended = engine.bridge(call, winner, time_limit)
        # The recording ends with the bridge, before the dialled leg's "completed" is reported.
        extra = self._stop_dial_recording(recording)
        engine.finish(winner, "completed")
        duration = winner.duration or 0
        if ended == "a":
            params = self._dial_params("completed", winner.sid, duration, True, extra)
            self._dial_ended_by_caller(action, method, params)
        return self._dial_result(action, method, "completed", winner.sid, duration, extra, bridged=True)

    def _record_mode(self, verb: ET.Element) -> tuple[str, bool] | None:
        """<Dial record>: None, or when the recording starts ("answer" | "ringing") and whether it is dual.

        Twilio's values (https://www.twilio.com/docs/voice/twiml/dial#record): do-not-record (default),
        record-from-answer, record-from-ringing, record-from-answer-dual, record-from-ringing-dual; the legacy
        true/false mean record-from-answer/do-not-record. A dual file has the parent (caller) leg on channel 1
        and the dialled leg on channel 2.

        What "answer" means with a whisper (<Number url>): Twilio's pages say the url's TwiML runs on the called
        party's end after it answers and before the two are connected (call screening: the caller still hears
        ringing), and do not say that a <Dial> recording covers that screening. The sandbox starts a
        record-from-answer recording when the parties are connected, so the whisper is never in the file; a
        record-from-ringing recording covers everything from the ringing on, the dialled leg's answers to the
        whisper included.
        """
        value = (verb.get("record") or "do-not-record").strip().lower()
        if value in {"do-not-record", "false"}:
            return None
        modes = {
            "true": ("answer", False),
            "record-from-answer": ("answer", False),
            "record-from-ringing": ("ringing", False),
            "record-from-answer-dual": ("answer", True),
            "record-from-ringing-dual": ("ringing", True),
        }
        if value not in modes:
            # Twilio's warning 13217 "Dial: Invalid record value": the call goes on unrecorded.
            self.world.event(self.call, "warning", code=13217, message=f"invalid <Dial record> value {value!r}")
            return None
        return modes[value]

    def _start_dial_recording(
        self, verb: ET.Element, doc_url: str | None, dual: bool, from_bridge: bool = False
    ) -> Recording:
        events = tuple(verb.get("recordingStatusCallbackEvent", "completed").replace(",", " ").split())
        return self.engine.start_recording(
            self.call,
            "dial",
            "DialVerb",
            dual=dual,
            track=verb.get("recordingTrack", "both"),
            callback=self._resolve(verb.get("recordingStatusCallback"), doc_url),
            callback_method=verb.get("recordingStatusCallbackMethod", "POST"),
            callback_events=events,
            from_bridge=from_bridge,
        )

    def _stop_dial_recording(self, recording: Recording | None) -> dict[str, str]:
        """Stop a <Dial> recording (if any); what the Dial action then gets about it."""
        if recording is None:
            return {}
        done = self.engine.stop_recording(recording.sid) or recording
        return {
            "RecordingUrl": self.engine.recording_url(done),
            "RecordingSid": done.sid,
            "RecordingDuration": str(done.duration),
        }

    def _amd_options(self, noun: ET.Element | None, doc_url: str | None) -> dict[str, Any]:
        """A <Number>'s answering-machine detection settings (<Client> has none)."""
        if noun is None or noun.tag != "Number" or not noun.get("machineDetection"):
            return {}
        detection = noun.get("machineDetection", "").lower()
        return {
            "machine_detection": "DetectMessageEnd" if detection == "detectmessageend" else "Enable",
            "machine_detection_timeout": min(max(_int(noun, "machineDetectionTimeout", 30), 3), 60),
            "amd_status_callback": self._resolve(noun.get("amdStatusCallback"), doc_url),
            "amd_status_callback_method": noun.get("amdStatusCallbackMethod", "POST").upper(),
        }

    def _screen(self, leg: Call, noun: ET.Element | None, action: str | None, method: str, doc_url: str | None) -> bool:
        """Run AMD and the whisper on the answered leg; False if the leg ended there, so no bridge follows.

        The whisper (<Number url>, <Client url>) runs on the callee's leg: its <Gather> hears the callee,
        its <Hangup/> (the callee declined) ends the leg, and reaching its end bridges the two.
        """
        world, engine, call = self.world, self.engine, self.call
        whisper = self._resolve(noun.get("url"), doc_url) if noun is not None else None
        if not whisper and not leg.machine_detection:
            return True
        with world.cond:
            leg.linked_to = call.sid
        try:
            if leg.machine_detection:
                engine.detect_machine(leg)
            if whisper and noun is not None:
                Interpreter(engine, leg, fallback_url="").run(
                    Fetch(url=whisper, method=noun.get("method", "POST").upper())
                )
            return True
        except CallEnded as ended:
            if ended.reason == "parent":
                world.event(leg, "hangup", by="parent", reason="the caller left during the whisper")
            engine.finish(leg, "completed")
            if world.interrupted(call):
                params = self._dial_params("completed", leg.sid, leg.duration or 0, False)
                self._dial_ended_by_caller(action, method, params)
            return False
        finally:
            with world.cond:
                leg.linked_to = None

    def _ring_legs(self, legs: list[Call], timeout: int) -> Call | None:
        """Ring every leg at once; the first to answer wins, the others are canceled."""
        world, engine, call = self.world, self.engine, self.call
        clock = world.clock
        plan: dict[str, tuple[float | None, str]] = {}
        for leg in legs:
            behaviour = leg.party.behaviour
            if behaviour.answer == "fail":
                plan[leg.sid] = (0.0, "failed")
            elif behaviour.answer in {"busy", "reject"}:
                plan[leg.sid] = (BUSY_AFTER_SECONDS, "busy")
            elif behaviour.interactive:
                plan[leg.sid] = (None, "manual")
            elif behaviour.answer == "no-answer" or behaviour.answer_after >= timeout:
                plan[leg.sid] = (float(timeout), "no-answer")
            else:
                plan[leg.sid] = (behaviour.answer_after, "answered")
        for leg in legs:
            if plan[leg.sid][1] == "failed":
                engine.finish(leg, "failed")
            else:
                engine.set_status(leg, "ringing")
        start = clock.monotonic()
        pending = [leg for leg in legs if not leg.is_final]
        winner: Call | None = None
        while pending and winner is None:
            times = [t for leg in pending if (t := plan[leg.sid][0]) is not None]
            next_at = min([*times, float(timeout)])
            world.wait_real(
                call,
                start + clock.real(next_at),
                until=lambda: any(leg.party.answered or leg.end_request for leg in pending),
            )
            world.checkpoint(call)
            elapsed = clock.simulated(clock.monotonic() - start) + 1e-6
            for leg in list(pending):
                at, outcome = plan[leg.sid]
                if leg.end_request:
                    engine.finish(leg, "canceled")
                elif leg.party.answered or (outcome == "answered" and at is not None and at <= elapsed):
                    winner = winner or leg
                    continue
                elif at is not None and at <= elapsed:
                    engine.finish(leg, outcome)
                elif elapsed >= timeout:
                    engine.finish(leg, "no-answer")
                else:
                    continue
                pending.remove(leg)
        for leg in pending:
            if leg is not winner:
                engine.finish(leg, "canceled")
        if winner is not None:
            engine.set_status(winner, "in-progress")
        return winner

    # Queues -----------------------------------------------------------------------------------------

    def _verb_enqueue(self, verb: ET.Element, doc_url: str | None) -> Fetch | None:
        world, call = self.world, self.call
        name = (verb.text or "").strip()
        action = self._resolve(verb.get("action"), doc_url)
        method = verb.get("method", "POST").upper()
        wait_url = self._resolve(verb.get("waitUrl"), doc_url)
        wait_method = verb.get("waitUrlMethod", "POST").upper()
        with world.cond:
            queue = world.queues.get(name)
            if queue is None:
                queue = world.queues[name] = Queue(sid=new_sid("QU"), name=name)
            full = len(queue.members) >= queue.max_size
            if not full:
                queue.members.append(call.sid)
                call.queue_name, call.enqueued_at = name, world.clock.monotonic()
                call.bridged_with, call.bridge_done = None, False
                world.cond.notify_all()
        world.event(call, "enqueue", action="join", queue=name, queue_sid=queue.sid)
        result = "queue-full"
        try:
            if not full:
                result = self._hold(queue, wait_url, wait_method)
        except CallEnded:
            if action:
                self._notify(action, method, self._queue_result_params(queue, "hangup"))
            raise
        except Redirected:
            # Taken out of the queue by the REST API: the action is requested at once and its TwiML ignored,
            # then the redirect's document runs.
            world.event(call, "enqueue", action="result", queue=name, queue_result="redirected")
            if action:
                self._notify(action, method, self._queue_result_params(queue, "redirected"))
            raise
        finally:
            with world.cond:
                if call.sid in queue.members:
                    queue.members.remove(call.sid)
                call.queue_name = None
        world.event(call, "enqueue", action="result", queue=name, queue_result=result)
        if not action:
            return None
        return Fetch(url=action, method=method, params=self._queue_result_params(queue, result))

    def _queue_time(self) -> int:
        if self.call.enqueued_at is None:
            return 0
        return round(self.world.clock.simulated(self.world.clock.monotonic() - self.call.enqueued_at))

    def _queue_result_params(self, queue: Queue, result: str) -> dict[str, str]:
        return {"QueueResult": result, "QueueSid": queue.sid, "QueueTime": str(self._queue_time())}

    def _hold(self, queue: Queue, wait_url: str | None, wait_method: str) -> str:
        """Play hold music (polling waitUrl) until bridged or <Leave>; returns the QueueResult."""
        world, call = self.world, self.call
        hold = Interpreter(self.engine, call, self.fallback_url, self.fallback_method, queue_mode=True)
        url = wait_url
        try:
            while not hold._bridged():
                started = world.clock.monotonic()
                if url:
                    with world.cond:
                        position = queue.members.index(call.sid) + 1 if call.sid in queue.members else 0
                        size = len(queue.members)
                    params = {
                        "QueueSid": queue.sid,
                        "QueuePosition": str(position),
                        "QueueTime": str(self._queue_time()),
                        "AvgQueueTime": str(self._queue_time()),
                        "CurrentQueueSize": str(size),
                        "MaxQueueSize": str(queue.max_size),
                    }
                    root, doc_url = hold.load(Fetch(url=url, method=wait_method, params=params))
                    following = hold.execute(root, doc_url)
                    if following is not None and following.url:
                        url, wait_method = following.url, following.method
                else:
                    world.event(call, "play", url="default hold music")
                    hold._pause(PLAY_SECONDS)
                # Twilio loops the wait document; never poll faster than once a telephone second.
                spent = world.clock.simulated(world.clock.monotonic() - started)
                if spent < 1.0:
                    hold._pause(1.0 - spent)
        except Bridged:
            pass
        except LeaveQueue:
            return "leave"
        # The dialler's thread runs the bridge; this leg waits for it to end.
        world.wait_real(call, float("inf"), until=lambda: call.bridge_done)
        world.checkpoint(call)
        return "bridged"

    def _dial_queue(
        self, verb: ET.Element, noun: ET.Element, action: str | None, method: str, doc_url: str | None
    ) -> Fetch | None:
        world, engine, call = self.world, self.engine, self.call
        name = (noun.text or "").strip()
        timeout = _int(verb, "timeout", 30)
        time_limit = _int(verb, "timeLimit", 14400)
        world.event(call, "dial", action="queue", queue=name)

        def first_waiting() -> Call | None:
            queue = world.queues.get(name)
            for sid in queue.members if queue else []:
                member = world.calls.get(sid)
                if member is not None and member.bridged_with is None and not member.is_final:
                    return member
            return None

        # An agent dialling an empty queue waits for the next caller, up to the Dial timeout.
        world.pause(call, timeout, until=lambda: first_waiting() is not None)
        with world.cond:
            member = first_waiting()
            if member is not None:
                member.bridged_with = call.sid
                queue = world.queues[name]
                queue.members.remove(member.sid)
                world.cond.notify_all()
        if member is None:
            return self._dial_result(action, method, "no-answer", None, 0)
        world.event(call, "dial", action="dequeue", queue=name, call_sid=member.sid)
        url = self._resolve(noun.get("url"), doc_url)
        bridged = False
        try:
            if url:
                Interpreter(engine, member, fallback_url="").run(
                    Fetch(url=url, method=noun.get("method", "POST").upper())
                )
            started, bridged = world.clock.monotonic(), True
            ended = engine.bridge(call, member, time_limit)
        except CallEnded:
            ended, started = "b", world.clock.monotonic()
        finally:
            with world.cond:
                member.bridge_done = True
                world.cond.notify_all()
        duration = round(world.clock.simulated(world.clock.monotonic() - started))
        if ended == "a":
            params = self._dial_params("completed", member.sid, duration, bridged)
            self._dial_ended_by_caller(action, method, params)
        return self._dial_result(action, method, "completed", member.sid, duration, bridged=bridged)
