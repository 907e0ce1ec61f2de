"""The sandbox's records: calls, parties (virtual phones on a call), numbers, messages, recordings."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from telephony.sandbox.audio import Segment, speech_wav
from telephony.sandbox.wire import API_VERSION, formatted, rfc2822, utcnow

ANSWERS = ("human", "machine", "busy", "no-answer", "fail", "reject")
ANSWERED_BY = (
    "human",
    "machine_start",
    "machine_end_beep",
    "machine_end_silence",
    "machine_end_other",
    "fax",
    "unknown",
)
FINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
# What happens to a text sent to a virtual phone: "delivered", or Twilio's two failures.
SMS_OUTCOMES = ("delivered", "undelivered", "failed")


class CallEnded(Exception):
    """The call is over (a party or the API hung up, or TwiML ended it); unwinds the interpreter."""

    def __init__(self, reason: str = "hangup") -> None:
        super().__init__(reason)
        self.reason = reason


class Redirected(Exception):
    """The API redirected a live call to new TwiML; unwinds to the document loop."""


class Bridged(Exception):
    """A queued call was picked by a <Dial><Queue>; unwinds the hold music."""


@dataclass
class Behaviour:
    """How a virtual phone answers and what its person does once on the line."""

    answer: str = "human"
    answer_after: float = 1.0
    steps: list[dict[str, Any]] = field(default_factory=list)
    hangup_after: float | None = None
    answered_by: str | None = None
    interactive: bool = False
    sms: str | None = None

    @property
    def sms_outcome(self) -> str:
        """What becomes of a text to this phone; a line that fails calls cannot receive texts either."""
        if self.sms is not None:
            return self.sms
        return "undelivered" if self.answer == "fail" else "delivered"

    @classmethod
    def from_json(cls, data: Any) -> Behaviour:
        """Validate a `PUT /sandbox/phones/...` body; ValueError names what is wrong."""
        if not isinstance(data, dict):
            raise ValueError("a JSON object is required")
        known = {"answer", "answer_after", "steps", "hangup_after", "answered_by", "interactive", "sms"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown keys: {', '.join(sorted(unknown))}")
        answer = data.get("answer", "human")
        if answer not in ANSWERS:
            raise ValueError(f"answer must be one of {', '.join(ANSWERS)}")
        answered_by = data.get("answered_by")
        if answered_by is not None and answered_by not in ANSWERED_BY:
            raise ValueError(f"answered_by must be one of {', '.join(ANSWERED_BY)}")
        sms = data.get("sms")
        if sms is not None and sms not in SMS_OUTCOMES:
            raise ValueError(f"sms must be one of {', '.join(SMS_OUTCOMES)}")
        hangup_after = data.get("hangup_after")
        return cls(
            answer=answer,
            answer_after=_seconds(data.get("answer_after", 1.0), "answer_after"),
            steps=validate_steps(data.get("steps", [])),
            hangup_after=None if hangup_after is None else _seconds(hangup_after, "hangup_after"),
            answered_by=answered_by,
            interactive=bool(data.get("interactive", False)),
            sms=sms,
        )

    def to_json(self) -> dict[str, Any]:
        """The behaviour as the API shows it."""
        return {
            "answer": self.answer,
            "answer_after": self.answer_after,
            "steps": list(self.steps),
            "hangup_after": self.hangup_after,
            "answered_by": self.answered_by,
            "interactive": self.interactive,
            "sms": self.sms,
        }


def _seconds(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueError(f"{name} must be a number of seconds >= 0")
    return float(value)


def validate_steps(steps: Any) -> list[dict[str, Any]]:
    """Check a list of steps: {"digits": "12#"}, {"speech": "..."}, {"wait": 2}, {"hangup": true}.

    A speech step may also pin what the recogniser returns: "confidence" (0..1, or null: not sent) and
    "verbatim" (true: the words exactly as written, not as a recogniser formats them), and "pause"
    (seconds the person falls silent before going on with the next speech step in the same turn: one
    utterance when the pause is shorter than the <Gather>'s speechTimeout, else two turns). A digits or
    speech step with "barge_in": true answers while a <Gather>'s prompt is still playing, which stops it.
    """
    if not isinstance(steps, list):
        raise ValueError("steps must be a list")
    checked: list[dict[str, Any]] = []
    for step in steps:
        barge_in = False
        if isinstance(step, dict) and "barge_in" in step and ("digits" in step or "speech" in step):
            if not isinstance(step["barge_in"], bool):
                raise ValueError("barge_in must be true or false")
            barge_in = step["barge_in"]
            step = {key: value for key, value in step.items() if key != "barge_in"}
        if isinstance(step, dict) and isinstance(step.get("speech"), str) and len(step) > 1:
            checked.append(_speech_step(step))
        elif not isinstance(step, dict) or len(step) != 1:
            raise ValueError("each step is an object with one key: digits, speech, wait or hangup")
        else:
            checked.append(_plain_step(step))
        if barge_in:
            checked[-1]["barge_in"] = True
    return checked


def _plain_step(step: dict[str, Any]) -> dict[str, Any]:
    """A step of one key: digits, speech, wait or hangup."""
    ((key, value),) = step.items()
    if key == "digits" and isinstance(value, str) and all(c in "0123456789*#w" for c in value):
        return {"digits": value}
    if key == "speech" and isinstance(value, str):
        return {"speech": value}
    if key == "wait":
        return {"wait": _seconds(value, "wait")}
    if key == "hangup" and value is True:
        return {"hangup": True}
    raise ValueError(f"bad step: {step!r}")


def _speech_step(step: dict[str, Any]) -> dict[str, Any]:
    """A speech step with what it pins of the recognition ("confidence", "verbatim") and its "pause"."""
    extra = set(step) - {"speech", "confidence", "verbatim", "pause"}
    if extra:
        raise ValueError(f"a speech step takes speech, confidence, verbatim and pause, not {', '.join(sorted(extra))}")
    checked: dict[str, Any] = {"speech": step["speech"]}
    if "pause" in step:
        checked["pause"] = _seconds(step["pause"], "pause")
    if "confidence" in step:
        value = step["confidence"]
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1):
            raise ValueError("confidence must be a number from 0 to 1, or null (not sent)")
        checked["confidence"] = None if value is None else float(value)
    if "verbatim" in step:
        if not isinstance(step["verbatim"], bool):
            raise ValueError("verbatim must be true or false")
        checked["verbatim"] = step["verbatim"]
    return checked


@dataclass
class Party:
    """The virtual phone at the far end of a call leg, with the steps its person has left."""

    address: str
    behaviour: Behaviour
    steps: deque[dict[str, Any]] = field(default_factory=deque)
    hung_up: bool = False
    answered: bool = False
    hangup_deadline: float | None = None

    @classmethod
    def for_call(cls, address: str, behaviour: Behaviour, steps: list[dict[str, Any]] | None = None) -> Party:
        """A party running its own copy of the behaviour's (or the given) steps."""
        return cls(address, behaviour, deque(behaviour.steps if steps is None else steps))


@dataclass
class Call:
    """One call leg, as the REST API shows it and as the engine drives it."""

    sid: str
    account_sid: str
    to: str
    from_: str
    direction: str
    party: Party
    status: str = "queued"
    date_created: datetime = field(default_factory=utcnow)
    date_updated: datetime = field(default_factory=utcnow)
    # Set when the call is dialled (Twilio: "empty if the call has not yet been dialed"), not when answered.
    start_time: datetime | None = None
    answer_time: datetime | None = None
    end_time: datetime | None = None
    duration: int | None = None
    answered_by: str | None = None
    parent_call_sid: str | None = None
    phone_number_sid: str | None = None
    # An inbound call's SHAKEN/STIR verification, as Twilio sends it in StirVerstat (for example
    # "TN-Validation-Passed-A"); None, as Twilio, for a call that carried no PASSporT.
    stir_verstat: str | None = None
    # What the creator asked for.
    url: str | None = None
    method: str = "POST"
    twiml: str | None = None
    fallback_url: str | None = None
    fallback_method: str = "POST"
    status_callback: str | None = None
    status_callback_method: str = "POST"
    status_callback_events: tuple[str, ...] = ("completed",)
    timeout: int = 60
    machine_detection: str | None = None
    machine_detection_timeout: int = 30
    async_amd: bool = False
    async_amd_status_callback: str | None = None
    async_amd_status_callback_method: str = "POST"
    # <Number amdStatusCallback>: where a <Dial> leg's detection result is also posted.
    amd_status_callback: str | None = None
    amd_status_callback_method: str = "POST"
    record: bool = False
    # Record=true: "mono" or "dual", and which track ("inbound", "outbound", "both").
    recording_channels: str = "mono"
    recording_track: str = "both"
    recording_status_callback: str | None = None
    recording_status_callback_method: str = "POST"
    recording_status_callback_events: tuple[str, ...] = ("completed",)
    time_limit: int = 14400
    # Engine state, guarded by the world's lock.
    sequence: int = 0
    # Speech results recognised on the leg so far (part of what varies each one's Confidence).
    utterances: int = 0
    # The keys a <Gather> has collected so far, while it waits for more (the softphone shows them).
    keyed: str | None = None
    answered_at: float | None = None
    # Real monotonic instant at which TimeLimit ends the call (set when it is answered).
    limit_deadline: float | None = None
    # Set while finish() stores the recording, so a racing second finish() does nothing.
    finishing: bool = False
    end_request: str | None = None
    redirect_to: tuple[str | None, str, str | None] | None = None
    queue_name: str | None = None
    enqueued_at: float | None = None
    bridged_with: str | None = None
    bridge_done: bool = False
    # While a <Dial> leg is screened (AMD, whisper), the parent's hang-up or redirect ends the leg too.
    linked_to: str | None = None
    # What was heard on the leg, for recordings: (real monotonic start, telephone seconds) of each stretch the
    # party spoke (inbound) and of each <Say>/<Play> Twilio played to it (outbound).
    inbound_audio: list[tuple[float, float]] = field(default_factory=list)
    outbound_audio: list[tuple[float, float]] = field(default_factory=list)
    # Each bridge to another leg: [that leg's sid, real monotonic start, end or None while bridged].
    bridge_spans: list[list[Any]] = field(default_factory=list)
    # Recordings in progress that end when this leg ends (Record=true, REST-started, <Dial record> on the parent).
    live_recordings: list[str] = field(default_factory=list)
    timeline: list[dict[str, Any]] = field(default_factory=list)

    @property
    def is_final(self) -> bool:
        """True once the status can no longer change."""
        return self.status in FINAL_STATUSES

    def uri(self) -> str:
        """The call's REST path."""
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{self.sid}.json"

    def to_json(self) -> dict[str, Any]:
        """The Call resource exactly as Twilio's JSON shows it (every field CallInstance reads)."""
        base = f"/{API_VERSION}/Accounts/{self.account_sid}/Calls/{self.sid}"
        return {
            "sid": self.sid,
            "date_created": rfc2822(self.date_created),
            "date_updated": rfc2822(self.date_updated),
            "parent_call_sid": self.parent_call_sid,
            "account_sid": self.account_sid,
            "to": self.to,
            "to_formatted": formatted(self.to),
            "from": self.from_,
            "from_formatted": formatted(self.from_),
            "phone_number_sid": self.phone_number_sid,
            # The REST resource has no "initiated" status: a call reads "queued" until it rings.
            "status": self.status,
            "start_time": rfc2822(self.start_time),
            "end_time": rfc2822(self.end_time),
            # Twilio sends duration and price as strings (or null while the call is live).
            "duration": None if self.duration is None else str(self.duration),
            "price": None,
            "price_unit": "USD",
            "direction": self.direction,
            "answered_by": self.answered_by,
            "api_version": API_VERSION,
            "forwarded_from": None,
            "group_sid": None,
            "caller_name": None,
            "queue_time": "0",
            "trunk_sid": None,
            "uri": self.uri(),
            "subresource_uris": {
                "notifications": f"{base}/Notifications.json",
                "recordings": f"{base}/Recordings.json",
                "payments": f"{base}/Payments.json",
                "events": f"{base}/Events.json",
                "siprec": f"{base}/Siprec.json",
                "streams": f"{base}/Streams.json",
                "transcriptions": f"{base}/Transcriptions.json",
                "user_defined_message_subscriptions": f"{base}/UserDefinedMessageSubscriptions.json",
                "user_defined_messages": f"{base}/UserDefinedMessages.json",
            },
        }


@dataclass
class Number:
    """A phone number the account owns (an IncomingPhoneNumber)."""

    sid: str
    account_sid: str
    phone_number: str
    friendly_name: str = ""
    voice_url: str = ""
    voice_method: str = "POST"
    voice_fallback_url: str = ""
    voice_fallback_method: str = "POST"
    status_callback: str = ""
    status_callback_method: str = "POST"
    sms_url: str = ""
    sms_method: str = "POST"
    date_created: datetime = field(default_factory=utcnow)
    date_updated: datetime = field(default_factory=utcnow)

    def to_json(self) -> dict[str, Any]:
        """The IncomingPhoneNumber resource as Twilio's JSON shows it."""
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/IncomingPhoneNumbers/{self.sid}.json"
        return {
            "account_sid": self.account_sid,
            "address_requirements": "none",
            "address_sid": None,
            "api_version": API_VERSION,
            "beta": False,
            "capabilities": {"voice": True, "sms": True, "mms": True, "fax": False},
            "date_created": rfc2822(self.date_created),
            "date_updated": rfc2822(self.date_updated),
            "emergency_status": "Inactive",
            "emergency_address_sid": None,
            "emergency_address_status": "unregistered",
            "friendly_name": self.friendly_name or formatted(self.phone_number),
            "identity_sid": None,
            "origin": "twilio",
            "phone_number": self.phone_number,
            "sid": self.sid,
            "sms_application_sid": "",
            "sms_fallback_method": "POST",
            "sms_fallback_url": "",
            "sms_method": self.sms_method,
            "sms_url": self.sms_url,
            "status_callback": self.status_callback,
            "status_callback_method": self.status_callback_method,
            "trunk_sid": None,
            "uri": uri,
            "voice_application_sid": "",
            "voice_caller_id_lookup": False,
            "voice_fallback_method": self.voice_fallback_method,
            "voice_fallback_url": self.voice_fallback_url,
            "voice_method": self.voice_method,
            "voice_url": self.voice_url,
            "voice_receive_mode": "voice",
            "bundle_sid": None,
            "status": "in-use",
            "type": "local",
            "subresource_uris": {
                "assigned_add_ons": uri.replace(".json", "/AssignedAddOns.json"),
            },
        }


@dataclass
class Message:
    """A text message sent through the sandbox: queued, then sent, then delivered (or not) to a virtual phone."""

    sid: str
    account_sid: str
    to: str
    from_: str
    body: str
    status: str = "queued"
    status_callback: str | None = None
    status_callback_method: str = "POST"
    error_code: int | None = None
    error_message: str | None = None
    date_created: datetime = field(default_factory=utcnow)
    date_updated: datetime = field(default_factory=utcnow)
    date_sent: datetime | None = None
    timeline: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """The Message resource as Twilio's JSON shows it."""
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}.json"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": self.body,
            "date_created": rfc2822(self.date_created),
            "date_sent": rfc2822(self.date_sent),
            "date_updated": rfc2822(self.date_updated),
            "direction": "outbound-api",
            "error_code": self.error_code,
            "error_message": self.error_message,
            "from": self.from_,
            "messaging_service_sid": None,
            "num_media": "0",
            "num_segments": str(max(1, -(-len(self.body) // 160))),
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {"media": uri.replace(".json", "/Media.json")},
            "to": self.to,
            "uri": uri,
        }


@dataclass
class Recording:
    """A recording (<Record>, <Dial record>, Record=true, or started on a live call): a real WAV the sandbox serves.

    Fields follow Twilio's Recording resource (twilio-oai `api.v2010.account.recording`): `call_sid` is always the
    parent leg of a two-leg call; `status` is in-progress until the file exists, then completed (or absent).
    """

    sid: str
    account_sid: str
    call_sid: str
    duration: int
    source: str = "RecordVerb"
    date_created: datetime = field(default_factory=utcnow)
    start_time: datetime | None = None
    status: str = "completed"
    channels: int = 1
    track: str = "both"
    error_code: int | None = None
    date_updated: datetime = field(default_factory=utcnow)
    # The file, kept as what it holds (its length, and where each channel sounds) and made on each download,
    # so a long recording costs no memory until someone fetches it.
    sound_seconds: float = 0.0
    sound: list[list[Segment]] = field(default_factory=list)

    def wav(self, channels: int | None = None) -> bytes:
        """The recording's media as a WAV file (empty until it is completed); `channels=1` mixes a dual file."""
        if self.status != "completed" or not self.sound:
            return b""
        if channels == 1 and len(self.sound) > 1:
            return speech_wav(self.sound_seconds, [[segment for side in self.sound for segment in side]])
        return speech_wav(self.sound_seconds, self.sound)

    def media_path(self) -> str:
        """The media URL's path (Twilio's has no extension; .wav and .json may be appended)."""
        return f"/{API_VERSION}/Accounts/{self.account_sid}/Recordings/{self.sid}"

    def to_json(self, base_url: str, with_track: bool = False) -> dict[str, Any]:
        """The Recording resource as Twilio's JSON shows it (every field RecordingInstance reads).

        `with_track`: the Call Recordings subresource's shape, which adds `track` (twilio-oai
        `api.v2010.account.call.call_recording`).
        """
        body: dict[str, Any] = {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "call_sid": self.call_sid,
            "conference_sid": None,
            "date_created": rfc2822(self.date_created),
            "date_updated": rfc2822(self.date_updated),
            "start_time": rfc2822(self.start_time or self.date_created),
            # Like a call's, a recording's duration and price are strings; -1 while it is still recording.
            "duration": str(self.duration) if self.status != "in-progress" else "-1",
            "sid": self.sid,
            "price": None,
            "price_unit": "USD",
            "status": self.status,
            "channels": self.channels,
            "source": self.source,
            "error_code": self.error_code,
            "uri": self.media_path() + ".json",
            "encryption_details": None,
            "subresource_uris": {
                "add_on_results": self.media_path() + "/AddOnResults.json",
                "transcriptions": self.media_path() + "/Transcriptions.json",
            },
            "media_url": base_url.rstrip("/") + self.media_path(),
        }
        if with_track:
            body["track"] = self.track
        return body


# Twilio's code and message for an injected HTTP status, when the rule names no code.
DEFAULT_ERROR_CODES = {401: 20003, 403: 20403, 404: 20404, 429: 20429, 500: 20500, 503: 20503}
ERROR_MESSAGES = {
    20003: "Authenticate",
    20403: "Forbidden",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    20500: "Internal Server Error",
    20503: "Service Unavailable",
    21211: "Invalid 'To' Phone Number",
    21215: "Account not authorized to call this number. Perhaps you need to enable some international permissions",
    21216: "Call blocked by Twilio",
    21219: "'To' number not verified",
}


@dataclass
class CreateFault:
    """One rule for answering `POST .../Calls.json`: an error instead of a call, or after creating it."""

    status: int | None = None
    code: int | None = None
    message: str | None = None
    to: str | None = None
    # How many creates the rule answers; None: every matching create until the faults are replaced.
    count: int | None = None
    # True: the call is really created and proceeds; only the REST answer fails (or comes too late).
    after_create: bool = False
    delay_ms: int = 0

    KEYS = ("status", "code", "message", "to", "count", "after_create", "delay_ms")

    @classmethod
    def from_json(cls, data: Any) -> CreateFault:
        """Validate one rule; ValueError names what is wrong."""
        if not isinstance(data, dict):
            raise ValueError("each calls_create rule is a JSON object")
        unknown = set(data) - set(cls.KEYS)
        if unknown:
            raise ValueError(f"unknown keys in a calls_create rule: {', '.join(sorted(unknown))}")
        rule = cls(**data)
        if rule.status is not None and (not _is_int(rule.status) or not 400 <= rule.status <= 599):
            raise ValueError("status must be an HTTP error status (400-599)")
        if rule.code is not None and not _is_int(rule.code):
            raise ValueError("code must be a Twilio error code (an integer)")
        if rule.status is None and not (rule.after_create and rule.delay_ms):
            raise ValueError("a rule needs a status (or after_create with delay_ms)")
        needs_code = rule.status is not None and rule.status < 500 and rule.status not in DEFAULT_ERROR_CODES
        if needs_code and rule.code is None:
            raise ValueError(f"code is required for status {rule.status}")
        if rule.count is not None and (not _is_int(rule.count) or rule.count < 1):
            raise ValueError("count must be an integer >= 1 (or null: every matching create)")
        if not _is_int(rule.delay_ms) or rule.delay_ms < 0:
            raise ValueError("delay_ms must be milliseconds >= 0")
        if rule.to is not None and not isinstance(rule.to, str):
            raise ValueError("to must be the number (or client:identity) the rule applies to")
        if not isinstance(rule.after_create, bool):
            raise ValueError("after_create must be true or false")
        return rule

    @property
    def error_code(self) -> int:
        """The Twilio error code of the answer."""
        # Any other 5xx is Twilio's generic internal error.
        return self.code or DEFAULT_ERROR_CODES.get(self.status or 500, 20500)

    @property
    def error_message(self) -> str:
        """The message of the answer: the rule's, else Twilio's wording for the code."""
        return self.message or ERROR_MESSAGES.get(self.error_code, "Error injected by the sandbox")

    def matches(self, to: str, after_create: bool) -> bool:
        """True if this rule answers a create to `to` at this stage."""
        return self.after_create == after_create and self.to in (None, to)

    def to_json(self) -> dict[str, Any]:
        """The rule as the control API shows it (count is what is left)."""
        return {key: getattr(self, key) for key in self.KEYS}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass
class MediaFault:
    """One rule for recording media downloads: the next `count` downloads (of `sid`, or of any) fail."""

    status: int = 500
    code: int | None = None
    message: str | None = None
    count: int | None = None
    sid: str | None = None

    KEYS = ("status", "code", "message", "count", "sid")

    @classmethod
    def from_json(cls, data: Any) -> MediaFault:
        """Validate one rule; ValueError names what is wrong."""
        if not isinstance(data, dict):
            raise ValueError("each recording_media rule is a JSON object")
        unknown = set(data) - set(cls.KEYS)
        if unknown:
            raise ValueError(f"unknown keys in a recording_media rule: {', '.join(sorted(unknown))}")
        rule = cls(**data)
        if not _is_int(rule.status) or not 400 <= rule.status <= 599:
            raise ValueError("status must be an HTTP error status (400-599)")
        if rule.code is not None and not _is_int(rule.code):
            raise ValueError("code must be a Twilio error code (an integer)")
        if rule.count is not None and (not _is_int(rule.count) or rule.count < 1):
            raise ValueError("count must be an integer >= 1 (or null: every matching download)")
        if rule.sid is not None and not (isinstance(rule.sid, str) and rule.sid.startswith("RE")):
            raise ValueError("sid must be a recording SID (RE...)")
        if rule.message is not None and not isinstance(rule.message, str):
            raise ValueError("message must be a string")
        return rule

    @property
    def error_code(self) -> int:
        """The Twilio error code of the answer."""
        return self.code or DEFAULT_ERROR_CODES.get(self.status, 20500)

    @property
    def error_message(self) -> str:
        """The message of the answer: the rule's, else Twilio's wording for the code."""
        return self.message or ERROR_MESSAGES.get(self.error_code, "Error injected by the sandbox")

    def to_json(self) -> dict[str, Any]:
        """The rule as the control API shows it (count is what is left)."""
        return {key: getattr(self, key) for key in self.KEYS}


@dataclass
class Faults:
    """Failures injected for reliability tests (`PUT /sandbox/faults`)."""

    api_error_rate: float = 0.0
    api_latency_ms: int = 0
    drop_status_callback_rate: float = 0.0
    webhook_delay_ms: int = 0
    # Sign a webhook with the URL as given, fragment (connection overrides) included.
    webhook_sign_fragment: bool = False
    # URL path (or "*" for each path) -> how many of its first answers are lost after the app sent them.
    webhook_drop_first: dict[str, int] = field(default_factory=dict)
    calls_create: list[CreateFault] = field(default_factory=list)
    recording_media: list[MediaFault] = field(default_factory=list)
    # Answers dropped so far, by URL path.
    _dropped: dict[str, int] = field(default_factory=dict)

    @classmethod
    def from_json(cls, data: Any) -> Faults:
        """Validate a faults body; rates are 0..1, delays are milliseconds, calls_create a list of rules."""
        if not isinstance(data, dict):
            raise ValueError("a JSON object is required")
        lists = {"calls_create", "recording_media"}
        known = {
            "api_error_rate",
            "api_latency_ms",
            "drop_status_callback_rate",
            "webhook_delay_ms",
            "webhook_sign_fragment",
            "webhook_drop_first",
            *lists,
        }
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown keys: {', '.join(sorted(unknown))}")
        rules, media_rules = data.get("calls_create", []), data.get("recording_media", [])
        if not isinstance(rules, list):
            raise ValueError("calls_create must be a list of rules")
        if not isinstance(media_rules, list):
            raise ValueError("recording_media must be a list of rules")
        faults = cls(
            **{k: v for k, v in data.items() if k not in lists},
            calls_create=[CreateFault.from_json(rule) for rule in rules],
            recording_media=[MediaFault.from_json(rule) for rule in media_rules],
        )
        for rate in (faults.api_error_rate, faults.drop_status_callback_rate):
            if not isinstance(rate, int | float) or not 0 <= rate <= 1:
                raise ValueError("rates must be between 0 and 1")
        for delay in (faults.api_latency_ms, faults.webhook_delay_ms):
            if not isinstance(delay, int | float) or delay < 0:
                raise ValueError("delays must be milliseconds >= 0")
        if not isinstance(faults.webhook_sign_fragment, bool):
            raise ValueError("webhook_sign_fragment must be true or false")
        drops = faults.webhook_drop_first
        if not isinstance(drops, dict) or not all(
            isinstance(path, str) and (path == "*" or path.startswith("/")) and type(n) is int and n >= 0
            for path, n in drops.items()
        ):
            raise ValueError('webhook_drop_first maps a URL path (or "*") to a count >= 0')
        faults.webhook_drop_first = dict(drops)
        return faults

    def take_webhook_drop(self, path: str) -> bool:
        """Whether this answer to `path` is to be lost, counting it (call with the world's lock held)."""
        allowed = self.webhook_drop_first.get(path, self.webhook_drop_first.get("*", 0))
        if self._dropped.get(path, 0) >= allowed:
            return False
        self._dropped[path] = self._dropped.get(path, 0) + 1
        return True

    def take_create_fault(self, to: str, after_create: bool) -> CreateFault | None:
        """The first rule answering this create, with one use counted off (call with the world's lock held)."""
        for rule in self.calls_create:
            if rule.matches(to, after_create):
                if rule.count is not None:
                    rule.count -= 1
                    if rule.count == 0:
                        self.calls_create.remove(rule)
                return rule
        return None

    def take_media_fault(self, sid: str) -> MediaFault | None:
        """The first rule failing a download of recording `sid`, with one use counted off (world's lock held)."""
        for rule in self.recording_media:
            if rule.sid in (None, sid):
                if rule.count is not None:
                    rule.count -= 1
                    if rule.count == 0:
                        self.recording_media.remove(rule)
                return rule
        return None

    def to_json(self) -> dict[str, Any]:
        """The faults as the control API shows them."""
        return {
            "api_error_rate": self.api_error_rate,
            "api_latency_ms": self.api_latency_ms,
            "drop_status_callback_rate": self.drop_status_callback_rate,
            "webhook_delay_ms": self.webhook_delay_ms,
            "webhook_sign_fragment": self.webhook_sign_fragment,
            "webhook_drop_first": dict(self.webhook_drop_first),
            "calls_create": [rule.to_json() for rule in self.calls_create],
            "recording_media": [rule.to_json() for rule in self.recording_media],
        }
