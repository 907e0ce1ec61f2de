"""Twilio's REST API (2010-04-01) as the sandbox serves it: Calls, IncomingPhoneNumbers, Messages, Recordings."""

from __future__ import annotations

import logging
import operator
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, jsonify, request

from telephony.sandbox.audio import to_mp3
from telephony.sandbox.model import Call, Message, Party, Recording
from telephony.sandbox.wire import API_VERSION, ApiError, error_body, is_address, new_sid, utcnow

logger = logging.getLogger(__name__)

bp = Blueprint("sandbox_rest", __name__, url_prefix=f"/{API_VERSION}/Accounts/<account_sid>")

MACHINE_DETECTION = {"enable": "Enable", "detectmessageend": "DetectMessageEnd"}
STATUS_EVENTS = ("initiated", "ringing", "answered", "completed")
RECORDING_EVENTS = ("in-progress", "completed", "absent")


def _sandbox() -> Any:
    return current_app.extensions["sandbox"]


def api_error_response(error: ApiError) -> Response:
    """Twilio's error JSON with the HTTP status it belongs to."""
    response = jsonify(error_body(error.code, error.message, error.status))
    response.status_code = error.status
    if error.status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="Twilio API"'
    return response


@bp.errorhandler(ApiError)
def _api_error(error: ApiError) -> Response:
    return api_error_response(error)


@bp.before_request
def _authenticate() -> None:
    sandbox = _sandbox()
    world = sandbox.world
    auth = request.authorization
    if auth is None or not world.authenticates(auth.username, auth.password):
        raise ApiError(20003, "Authenticate", 401)
    account_sid = (request.view_args or {}).get("account_sid")
    if account_sid != world.account_sid:
        raise ApiError(20404, f"The requested resource {request.path} was not found", 404)
    faults = world.faults
    if faults.api_latency_ms:
        time.sleep(faults.api_latency_ms / 1000)
    if world.fault_roll(faults.api_error_rate):
        raise ApiError(20500, "Internal Server Error (injected by the sandbox)", 500)


def _events(name: str, known: Sequence[str], code: int) -> list[str]:
    """A repeated (or space/comma separated) event list parameter; ApiError names unknown events."""
    events: list[str] = []
    for value in request.form.getlist(name):
        events.extend(value.replace(",", " ").split())
    unknown = [e for e in events if e not in known]
    if unknown:
        raise ApiError(code, f"Invalid {name}: {', '.join(unknown)}")
    return events


def _choice(name: str, allowed: Sequence[str], default: str) -> str:
    """A form parameter that must be one of `allowed` (any case); ApiError 400 otherwise."""
    value = (request.form.get(name) or default).strip().lower()
    if value not in allowed:
        raise ApiError(21218, f"Invalid {name}: {value} (one of {', '.join(allowed)})")
    return value


def _true(name: str) -> bool:
    """A boolean form parameter as Twilio reads it ("true", any case)."""
    return request.form.get(name, "false").strip().lower() == "true"


def _page(items: Sequence[Any], key: str, to_json: Callable[[Any], dict[str, Any]]) -> Response:
    """One page of a list in Twilio's paging shape; the SDK follows next_page_uri as given."""
    try:
        page_size = min(max(int(request.args.get("PageSize", 50)), 1), 1000)
        page = max(int(request.args.get("Page", 0)), 0)
    except ValueError:
        raise ApiError(20001, "Invalid paging parameters", 400) from None
    paging = {"Page", "PageSize", "PageToken"}
    filters = [(k, v) for k, v in request.args.items(multi=True) if k not in paging]

    def uri(number: int) -> str:
        query = urlencode([*filters, ("PageSize", page_size), ("Page", number)])
        return f"{request.path}?{query}"

    start = page * page_size
    chunk = items[start : start + page_size]
    more = start + page_size < len(items)
    return jsonify(
        {
            key: [to_json(item) for item in chunk],
            "first_page_uri": uri(0),
            "next_page_uri": f"{uri(page + 1)}&PageToken=PA{start + page_size}" if more else None,
            "previous_page_uri": uri(page - 1) if page > 0 else None,
            "page": page,
            "page_size": page_size,
            "start": start,
            "end": start + max(len(chunk) - 1, 0),
            "uri": uri(page),
        }
    )


# Calls ---------------------------------------------------------------------------------------------


@bp.post("/Calls.json")
def create_call(account_sid: str) -> tuple[Response, int]:
    """Create an outbound call: 201 with status queued; it then progresses on its own thread."""
    sandbox = _sandbox()
    world = sandbox.world
    form = request.form
    to = form.get("To", "").strip()
    from_ = form.get("From", "").strip()
    _refuse_if_injected(to)
    if not to:
        raise ApiError(21201, "No 'To' number is specified")
    if not is_address(to):
        raise ApiError(21211, f"Invalid 'To' Phone Number: {to}")
    if not from_:
        raise ApiError(21213, "No 'From' number is specified")
    owned = world.number_for(from_)
    if owned is None and not (to.startswith("client:") and from_):
        raise ApiError(21210, f"The source phone number provided, {from_}, is not yet verified for your account.")
    url, twiml = form.get("Url"), form.get("Twiml")
    if not url and not twiml:
        raise ApiError(21205, "Url parameter is required.")
    events = _events("StatusCallbackEvent", STATUS_EVENTS, 21626)
    recording_events = _events("RecordingStatusCallbackEvent", RECORDING_EVENTS, 13621)
    try:
        timeout = min(max(int(form.get("Timeout", 60)), 1), 600)
        amd_timeout = min(max(int(form.get("MachineDetectionTimeout", 30)), 3), 59)
        time_limit = int(form.get("TimeLimit", 14400))
    except ValueError:
        raise ApiError(21218, "Invalid numeric parameter") from None
    if time_limit < 1:
        raise ApiError(21218, f"Invalid TimeLimit: {time_limit}")
    detection = form.get("MachineDetection")
    call = Call(
        sid=new_sid("CA"),
        account_sid=world.account_sid,
        to=to,
        from_=from_,
        direction="outbound-api",
        party=Party.for_call(to, world.behaviour_of(to)),
        phone_number_sid=owned.sid if owned else None,
        url=url,
        method=form.get("Method", "POST").upper(),
        twiml=twiml,
        fallback_url=form.get("FallbackUrl") or None,
        fallback_method=form.get("FallbackMethod", "POST").upper(),
        status_callback=form.get("StatusCallback") or None,
        status_callback_method=form.get("StatusCallbackMethod", "POST").upper(),
        status_callback_events=tuple(events) or ("completed",),
        timeout=timeout,
        machine_detection=MACHINE_DETECTION.get(detection.lower(), "Enable") if detection else None,
        machine_detection_timeout=amd_timeout,
        # AsyncAmd only changes how detection runs: without MachineDetection there is nothing to run.
        async_amd=bool(detection) and _true("AsyncAmd"),
        async_amd_status_callback=form.get("AsyncAmdStatusCallback") or None,
        async_amd_status_callback_method=form.get("AsyncAmdStatusCallbackMethod", "POST").upper(),
        record=_true("Record"),
        recording_channels=_choice("RecordingChannels", ("mono", "dual"), "mono"),
        recording_track=_choice("RecordingTrack", ("both", "inbound", "outbound"), "both"),
        recording_status_callback=form.get("RecordingStatusCallback") or None,
        recording_status_callback_method=form.get("RecordingStatusCallbackMethod", "POST").upper(),
        recording_status_callback_events=tuple(recording_events) or ("completed",),
        time_limit=time_limit,
    )
    world.add_call(call)
    world.event(call, "status", status="queued")
    body = call.to_json()
    sandbox.engine.start_outbound(call)
    logger.info("sandbox call created", extra={"call_sid": call.sid, "to": to})
    _fail_after_create(call)
    return jsonify(body), 201


def _refuse_if_injected(to: str) -> None:
    """An injected `calls_create` rule answers with an error and no call is made."""
    world = _sandbox().world
    rule = world.take_create_fault(to, after_create=False)
    if rule is None:
        return
    if rule.delay_ms:
        world.hold_real(rule.delay_ms)
    raise ApiError(rule.error_code, rule.error_message, rule.status or 500)


def _fail_after_create(call: Call) -> None:
    """An injected `after_create` rule: the call exists and proceeds, but its creator hears an error or nothing."""
    world = _sandbox().world
    rule = world.take_create_fault(call.to, after_create=True)
    if rule is None:
        return
    world.event(call, "fault", injected="after_create", http_status=rule.status or 201, delay_ms=rule.delay_ms)
    if rule.delay_ms:
        # Past the client's timeout, the answer reaches nobody: the app cannot learn the call's SID.
        world.hold_real(rule.delay_ms)
    if rule.status is not None:
        raise ApiError(rule.error_code, rule.error_message, rule.status)


def _filter_date(name: str) -> date | None:
    """A StartTime/EndTime filter value as the UTC day it names; ApiError if it is not a date.

    The SDK sends a date or datetime as `YYYY-MM-DDTHH:MM:SSZ`; Twilio documents these filters as dates
    (`YYYY-MM-DD`, UTC), so the sandbox compares whole days and ignores the time of day.
    """
    value = request.args.get(name, "").strip()
    if not value:
        return None
    try:
        if len(value) == 10:
            return date.fromisoformat(value)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(20001, f"Invalid {name}: {value}") from None
    return (moment.astimezone(UTC) if moment.tzinfo else moment).date()


def _by_day(calls: list[Call], param: str, attribute: str) -> list[Call]:
    """Keep the calls whose day passes `param`, `param<` (on or before) and `param>` (on or after)."""
    tests: list[tuple[date, Callable[[date, date], bool]]] = []
    for suffix, test in (("", operator.eq), ("<", operator.le), (">", operator.ge)):
        day = _filter_date(param + suffix)
        if day is not None:
            tests.append((day, test))
    if not tests:
        return calls
    kept = []
    for call in calls:
        moment = getattr(call, attribute)
        # A call not yet dialled (or not yet ended) has no such time, so no day filter can keep it.
        if moment is not None and all(test(moment.astimezone(UTC).date(), day) for day, test in tests):
            kept.append(call)
    return kept


@bp.get("/Calls.json")
def list_calls(account_sid: str) -> Response:
    """List calls, newest first, filtered by To, From, Status, ParentCallSid, StartTime and EndTime."""
    world = _sandbox().world
    args = request.args
    with world.cond:
        calls = sorted(world.calls.values(), key=lambda c: (c.date_created, c.sid), reverse=True)
        filters = {"To": "to", "From": "from_", "Status": "status", "ParentCallSid": "parent_call_sid"}
        for param, attribute in filters.items():
            if args.get(param):
                calls = [c for c in calls if getattr(c, attribute) == args[param]]
        calls = _by_day(_by_day(calls, "StartTime", "start_time"), "EndTime", "end_time")
        return _page(calls, "calls", Call.to_json)


def _call(sid: str) -> Call:
    call = _sandbox().world.calls.get(sid)
    if call is None:
        raise ApiError(20404, f"The requested resource {request.path} was not found", 404)
    return call


@bp.get("/Calls/<sid>.json")
def fetch_call(account_sid: str, sid: str) -> Response:
    """Fetch one call."""
    return jsonify(_call(sid).to_json())


@bp.delete("/Calls/<sid>.json")
def delete_call(account_sid: str, sid: str) -> tuple[str, int]:
    """Delete a finished call's record (204, empty), as Twilio allows."""
    world = _sandbox().world
    call = _call(sid)
    if not call.is_final:
        raise ApiError(20009, "Cannot delete a call that is in progress")
    with world.cond:
        world.calls.pop(sid, None)
    return "", 204


@bp.post("/Calls/<sid>.json")
def update_call(account_sid: str, sid: str) -> Response:
    """Redirect a live call (Url/Twiml) or end it (Status=completed|canceled)."""
    world = _sandbox().world
    call = _call(sid)
    form = request.form
    status = form.get("Status")
    url, twiml = form.get("Url"), form.get("Twiml")
    if status and status not in {"completed", "canceled"}:
        raise ApiError(21218, f"Invalid Status: {status}")
    with world.cond:
        if (url or twiml) and not status:
            if call.status != "in-progress":
                raise ApiError(21220, "Call is not in-progress. Cannot redirect.")
            call.redirect_to = (url, form.get("Method", "POST").upper(), twiml)
        if form.get("FallbackUrl"):
            call.fallback_url = form["FallbackUrl"]
        if form.get("StatusCallback"):
            call.status_callback = form["StatusCallback"]
            call.status_callback_method = form.get("StatusCallbackMethod", "POST").upper()
        if status and not call.is_final:
            # Twilio: "canceled" only stops a call not yet answered; "completed" ends it in any state.
            if status == "completed" or call.status != "in-progress":
                call.end_request = status
        call.date_updated = utcnow()
        world.cond.notify_all()
        if status:
            # Give the call's thread a moment, so the answer shows the final status as Twilio's does.
            world.cond.wait_for(lambda: call.is_final or call.end_request is None, timeout=3.0)
    return jsonify(call.to_json())


# IncomingPhoneNumbers -------------------------------------------------------------------------------

NUMBER_FIELDS = {
    "VoiceUrl": "voice_url",
    "VoiceMethod": "voice_method",
    "VoiceFallbackUrl": "voice_fallback_url",
    "VoiceFallbackMethod": "voice_fallback_method",
    "StatusCallback": "status_callback",
    "StatusCallbackMethod": "status_callback_method",
    "SmsUrl": "sms_url",
    "SmsMethod": "sms_method",
    "FriendlyName": "friendly_name",
}


def _number_updates() -> dict[str, str]:
    updates = {attr: request.form[param] for param, attr in NUMBER_FIELDS.items() if param in request.form}
    for attr in ("voice_method", "voice_fallback_method", "status_callback_method", "sms_method"):
        if attr in updates:
            updates[attr] = updates[attr].upper()
    return updates


@bp.get("/IncomingPhoneNumbers.json")
def list_numbers(account_sid: str) -> Response:
    """List the account's numbers, filtered by PhoneNumber or FriendlyName."""
    world = _sandbox().world
    with world.cond:
        numbers = sorted(world.numbers.values(), key=lambda n: (n.date_created, n.sid))
    wanted = request.args.get("PhoneNumber")
    if wanted:
        numbers = [n for n in numbers if n.phone_number == wanted.strip()]
    friendly = request.args.get("FriendlyName")
    if friendly:
        numbers = [n for n in numbers if n.to_json()["friendly_name"] == friendly]
    return _page(numbers, "incoming_phone_numbers", lambda n: n.to_json())


@bp.post("/IncomingPhoneNumbers.json")
def buy_number(account_sid: str) -> tuple[Response, int]:
    """Give the account a number (every E.164 number is available in the sandbox)."""
    world = _sandbox().world
    e164 = request.form.get("PhoneNumber", "").strip()
    if not e164 or not e164.startswith("+") or not is_address(e164):
        raise ApiError(21421, f"PhoneNumber is invalid: {e164}")
    if world.number_for(e164) is not None:
        raise ApiError(21422, f"PhoneNumber {e164} is not available")
    number = world.add_number(e164, **_number_updates())
    return jsonify(number.to_json()), 201


def _number(sid: str) -> Any:
    number = _sandbox().world.numbers.get(sid)
    if number is None:
        raise ApiError(20404, f"The requested resource {request.path} was not found", 404)
    return number


@bp.get("/IncomingPhoneNumbers/<sid>.json")
def fetch_number(account_sid: str, sid: str) -> Response:
    """Fetch one number."""
    return jsonify(_number(sid).to_json())


@bp.post("/IncomingPhoneNumbers/<sid>.json")
def update_number(account_sid: str, sid: str) -> Response:
    """Change where a number's calls and call events go."""
    world = _sandbox().world
    number = _number(sid)
    with world.cond:
        for attr, value in _number_updates().items():
            setattr(number, attr, value)
        number.date_updated = utcnow()
    return jsonify(number.to_json())


@bp.delete("/IncomingPhoneNumbers/<sid>.json")
def release_number(account_sid: str, sid: str) -> tuple[str, int]:
    """Release a number."""
    world = _sandbox().world
    _number(sid)
    with world.cond:
        world.numbers.pop(sid, None)
    return "", 204


# Messages -------------------------------------------------------------------------------------------


@bp.post("/Messages.json")
def send_message(account_sid: str) -> tuple[Response, int]:
    """Accept a text message (201, queued); it is then sent and delivered to the virtual phone, or fails."""
    sandbox = _sandbox()
    world = sandbox.world
    form = request.form
    to, from_, body = form.get("To", "").strip(), form.get("From", "").strip(), form.get("Body", "")
    if not to:
        raise ApiError(21604, "A 'To' phone number is required.")
    if not is_address(to):
        raise ApiError(21211, f"Invalid 'To' Phone Number: {to}")
    if not body and not form.get("MediaUrl"):
        raise ApiError(21602, "Message body is required.")
    if world.number_for(from_) is None:
        raise ApiError(21606, f"The From phone number {from_} is not a valid, SMS-capable number for this account.")
    message = Message(
        sid=new_sid("SM"),
        account_sid=world.account_sid,
        to=to,
        from_=from_,
        body=body,
        status_callback=form.get("StatusCallback") or None,
        status_callback_method=form.get("StatusCallbackMethod", "POST").upper(),
    )
    with world.cond:
        world.messages[message.sid] = message
    world.event(message, "status", status="queued")
    body_json = message.to_json()
    # The answer shows "queued" whatever the delivery thread does next, as Twilio's create does.
    sandbox.engine.start_message(message, world.behaviour_of(to).sms_outcome)
    return jsonify(body_json), 201


@bp.get("/Messages.json")
def list_messages(account_sid: str) -> Response:
    """List messages, newest first, filtered by To and From."""
    world = _sandbox().world
    with world.cond:
        messages = sorted(world.messages.values(), key=lambda m: (m.date_created, m.sid), reverse=True)
    for param, attribute in (("To", "to"), ("From", "from_")):
        if request.args.get(param):
            messages = [m for m in messages if getattr(m, attribute) == request.args[param]]
    return _page(messages, "messages", Message.to_json)


@bp.get("/Messages/<sid>.json")
def fetch_message(account_sid: str, sid: str) -> Response:
    """Fetch one message."""
    message = _sandbox().world.messages.get(sid)
    if message is None:
        raise ApiError(20404, f"The requested resource {request.path} was not found", 404)
    return jsonify(message.to_json())


# Recordings (resources) ------------------------------------------------------------------------------
# Twilio's Recording resource (https://www.twilio.com/docs/voice/api/recording; the twilio-oai spec
# twilio_api_v2010.json): list, fetch and DELETE (204, then the recording and its media are gone), and the
# Call Recordings subresource, which starts a recording on a live call and stops it.


def _recordings(call_sid: str | None) -> Response:
    world = _sandbox().world
    with world.cond:
        recordings = sorted(world.recordings.values(), key=lambda r: (r.date_created, r.sid), reverse=True)
    if call_sid:
        recordings = [r for r in recordings if r.call_sid == call_sid]
    return _page(recordings, "recordings", lambda r: r.to_json(world.base_url))


def _recording(sid: str, call_sid: str | None = None) -> Recording:
    world = _sandbox().world
    with world.cond:
        recording: Recording | None = world.recordings.get(sid)
    if recording is None or (call_sid is not None and recording.call_sid != call_sid):
        raise ApiError(20404, f"The requested resource {request.path} was not found", 404)
    return recording


def _delete_recording(recording: Recording) -> tuple[str, int]:
    """Forget a finished recording, metadata and media (Twilio answers 204 with no body)."""
    world = _sandbox().world
    if recording.status == "in-progress":
        raise ApiError(21220, "Cannot delete a recording that is in progress; stop it first")
    with world.cond:
        world.recordings.pop(recording.sid, None)
    world.event(_timeline_of(recording), "record", action="deleted", recording_sid=recording.sid)
    return "", 204


def _timeline_of(recording: Recording) -> Any:
    """The call whose timeline notes what happens to a recording (a stand-in when the call is gone)."""
    call = _sandbox().world.calls.get(recording.call_sid)
    return call if call is not None else _Detached(recording.sid)


class _Detached:
    """A timeline nobody reads, for events about a recording whose call was deleted."""

    def __init__(self, sid: str) -> None:
        self.sid = sid
        self.date_updated = utcnow()
        self.timeline: list[dict[str, Any]] = []


@bp.get("/Recordings.json")
def list_recordings(account_sid: str) -> Response:
    """List recordings, newest first, filtered by CallSid."""
    return _recordings(request.args.get("CallSid"))


@bp.get("/Calls/<sid>/Recordings.json")
def list_call_recordings(account_sid: str, sid: str) -> Response:
    """List one call's recordings."""
    return _recordings(_call(sid).sid)


@bp.get("/Recordings/<sid>.json")
def fetch_recording(account_sid: str, sid: str) -> Response:
    """Fetch one recording's metadata (the media itself is served without .json)."""
    return jsonify(_recording(sid).to_json(_sandbox().world.base_url))


@bp.delete("/Recordings/<sid>.json")
def delete_recording(account_sid: str, sid: str) -> tuple[str, int]:
    """Delete a recording: 204, then its metadata and media answer 404."""
    return _delete_recording(_recording(sid))


@bp.post("/Calls/<sid>/Recordings.json")
def start_call_recording(account_sid: str, sid: str) -> tuple[Response, int]:
    """Start recording a live call now (source StartCallRecordingAPI); it ends when the call ends or is stopped.

    Parameters (twilio-oai CreateCallRecording): RecordingChannels mono (default) | dual -- dual puts what the
    call's party says on channel 1 and what it hears on channel 2; RecordingTrack both (default) | inbound |
    outbound -- one track is always a mono file; RecordingStatusCallback, RecordingStatusCallbackMethod
    (POST), RecordingStatusCallbackEvent (in-progress, completed, absent; default completed); Trim.
    """
    sandbox = _sandbox()
    world = sandbox.world
    call = _call(sid)
    channels = _choice("RecordingChannels", ("mono", "dual"), "mono")
    track = _choice("RecordingTrack", ("both", "inbound", "outbound"), "both")
    _choice("Trim", ("trim-silence", "do-not-trim"), "do-not-trim")
    events = _events("RecordingStatusCallbackEvent", RECORDING_EVENTS, 13621)
    method = _choice("RecordingStatusCallbackMethod", ("get", "post"), "post").upper()
    with world.cond:
        live = call.status == "in-progress" and not call.is_final and not call.finishing
    if not live:
        raise ApiError(21220, f"Call {sid} is not in-progress. Cannot create a recording.")
    recording = sandbox.engine.start_recording(
        call,
        "call",
        "StartCallRecordingAPI",
        dual=channels == "dual",
        track=track,
        callback=request.form.get("RecordingStatusCallback") or None,
        callback_method=method,
        callback_events=tuple(events) or ("completed",),
    )
    return jsonify(recording.to_json(world.base_url, with_track=True)), 201


def _call_recording(call_sid: str, sid: str) -> Recording:
    """A call's recording by SID, or `Twilio.CURRENT`: the one in progress (the latest started)."""
    call = _call(call_sid)
    if sid == "Twilio.CURRENT":
        world = _sandbox().world
        with world.cond:
            current = [world.recordings[r] for r in call.live_recordings if r in world.recordings]
        if not current:
            raise ApiError(20404, f"Call {call_sid} has no recording in progress", 404)
        return current[-1]
    return _recording(sid, call_sid)


@bp.get("/Calls/<call_sid>/Recordings/<sid>.json")
def fetch_call_recording(account_sid: str, call_sid: str, sid: str) -> Response:
    """Fetch one of a call's recordings (with its `track`)."""
    return jsonify(_call_recording(call_sid, sid).to_json(_sandbox().world.base_url, with_track=True))


@bp.post("/Calls/<call_sid>/Recordings/<sid>.json")
def update_call_recording(account_sid: str, call_sid: str, sid: str) -> Response:
    """Stop a recording in progress (Status=stopped): its file is stored at once and it reads completed.

    The sandbox does not pause or resume recordings (Status=paused|in-progress answers 400).
    """
    sandbox = _sandbox()
    recording = _call_recording(call_sid, sid)
    status = (request.form.get("Status") or "").strip().lower()
    if status != "stopped":
        raise ApiError(21218, f"Invalid Status: {status or '(none)'} (the sandbox supports only stopped)")
    if recording.status == "in-progress":
        recording = sandbox.engine.stop_recording(recording.sid) or recording
    return jsonify(recording.to_json(sandbox.world.base_url, with_track=True))


@bp.delete("/Calls/<call_sid>/Recordings/<sid>.json")
def delete_call_recording(account_sid: str, call_sid: str, sid: str) -> tuple[str, int]:
    """Delete one of a call's recordings."""
    return _delete_recording(_call_recording(call_sid, sid))


# Recordings (media) ---------------------------------------------------------------------------------

recordings_bp = Blueprint("sandbox_recordings", __name__, url_prefix=f"/{API_VERSION}/Accounts/<account_sid>")


@recordings_bp.errorhandler(ApiError)
def _media_error(error: ApiError) -> Response:
    return api_error_response(error)


@recordings_bp.get("/Recordings/<name>")
def recording_media(account_sid: str, name: str) -> Response:
    """Serve a recording's media with HTTP Basic auth, as an account that enforces it on media does.

    Twilio serves the media at the Recording's URI without `.json`: no extension or `.wav` gives WAV (the
    default: "omitting the extension or using .wav" -- https://www.twilio.com/docs/api/errors/16109) and
    `.mp3` gives MP3. Media URLs are public unless the account turns on HTTP Basic authentication for
    recording media (required for HIPAA workflows -- https://www.twilio.com/docs/voice/api/recording); the
    sandbox always requires it: the account SID and auth token, or an API key and its secret, else 401.
    A dual-channel recording downloads as two channels; `RequestedChannels=1` mixes it down, and asking a mono
    recording for 2 is Twilio's error 16113 ("Cannot download a dual-channel presentation of a mono
    recording", https://www.twilio.com/docs/api/errors/16113). An injected `recording_media` fault fails
    matching downloads first.
    """
    world = _sandbox().world
    auth = request.authorization
    if auth is None or not world.authenticates(auth.username, auth.password):
        raise ApiError(20003, "Authenticate", 401)
    if account_sid != world.account_sid:
        raise ApiError(20404, f"The requested resource {request.path} was not found", 404)
    sid, _, extension = name.partition(".")
    with world.cond:
        recording = world.recordings.get(sid)
    if recording is None or recording.status != "completed" or extension.lower() not in {"", "wav", "mp3"}:
        raise ApiError(20404, f"The requested resource {request.path} was not found", 404)
    requested = request.args.get("RequestedChannels")
    if requested not in (None, "1", "2"):
        raise ApiError(20001, f"Invalid RequestedChannels: {requested} (1 or 2)")
    if requested == "2" and recording.channels == 1:
        raise ApiError(16113, "Cannot download a dual-channel presentation of a mono recording")
    fault = world.take_media_fault(sid)
    if fault is not None:
        world.event(_timeline_of(recording), "fault", injected="recording_media", http_status=fault.status)
        raise ApiError(fault.error_code, fault.error_message, fault.status)
    if extension.lower() == "mp3":
        mp3 = to_mp3(recording.wav(int(requested) if requested else None))
        if mp3 is None:
            raise ApiError(20500, "The sandbox cannot encode MP3 on this machine (no ffmpeg); ask for .wav", 500)
        return Response(mp3, mimetype="audio/mpeg")
    return Response(recording.wav(int(requested) if requested else None), mimetype="audio/x-wav")
