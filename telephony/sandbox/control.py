"""The sandbox's own JSON endpoints under /sandbox/: virtual phones, inbound calls, timelines, faults.

Virtual phones -- `PUT /sandbox/phones/{address}` (an E.164 number or `client:identity`), JSON body:
    answer        "human" (default) | "machine" | "busy" | "no-answer" | "fail" | "reject"
    answer_after  seconds of ringing before it answers (default 1)
    answered_by   what answering-machine detection reports, overriding `answer`: "human",
                  "machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax",
                  "unknown" (with `answer: "machine"` alone: machine_start, or machine_end_beep under
                  DetectMessageEnd)
    hangup_after  seconds after the answer at which the person hangs up, whatever is playing (a whisper
                  included)
    steps         what the person does, in order, each time the call listens (<Gather>, <Record>):
                  {"digits": "1#"}, {"speech": "accept"}, {"wait": 3} (silence), {"hangup": true};
                  [] is a silent person; while bridged, leading speech and waits then a hangup are the
                  conversation and end the call (speech sounds in recordings, waits are silence).
                  Keys: a <Gather> collects them as Twilio does, one key at a time (0.3 s each, "w" waits
                  half a second) until its finishOnKey (default #), its numDigits, or `timeout` seconds
                  after the last key (the digit timeout). So {"digits": "112"}, {"digits": "4455#"} is one
                  entry "1124455", and so is {"digits": "11"}, {"wait": 2}, {"digits": "2#"} under a 5 s
                  timeout; a longer wait sends what was keyed, and the rest of the wait and the later keys
                  go to whatever listens next. Keys pressed after the Gather ended (past numDigits or the
                  finish key) are dropped, noted on the timeline as ignored.
                  Speech: one step is one utterance, heard at 0.4 s a word, then ended by `speechTimeout`
                  seconds of silence (`auto`: a 1 s pause; without it, the Gather's `timeout`);
                  {"speech": "...", "pause": 2} falls silent 2 s and goes on with the next speech step,
                  in the same utterance if 2 s is shorter than that silence, else as the next turn. The
                  SpeechResult is what Twilio's recogniser writes, not the words as scripted
                  (telephony/sandbox/recogniser.py): a capital first letter, "?" for a question shape else
                  ".", numbers said as words in digits ("my order number is one one two dash four four"
                  -> "My order number is 112-44.", a comma said is a space between groups, "double five" is
                  "55", a lone small number in a sentence stays a word); with <Gather language="es-US">
                  Spanish numbers, accents and "¿...?" ("donde esta mi pedido" -> "¿Dónde está mi
                  pedido?"). Confidence varies with the words and the call (its numbers and the
                  utterance's place in it, so a rerun hears the same) between 0.55 and 0.97, is left out of
                  about one result in ten, is always sent by deepgram_* models, and is "0" with googlev2_*
                  models (Google's "not set"). A speech step may pin the result:
                  {"speech": "...", "confidence": 0.42} (sent as "0.42"), "confidence": null (not sent),
                  "verbatim": true (the words exactly as scripted).
                  Barge-in: a step waits for the Gather's prompt (its nested <Say>/<Play>) to end, unless it
                  says "barge_in": true; then it is heard at once and the rest of the prompt is not played
                  (a "barge_in" event), as Twilio stops a prompt at the first key and at speech unless
                  bargeIn="false". A person at the softphone always barges in.
    interactive   true: a person at the softphone answers and gives input by hand
    sms           "delivered" | "undelivered" | "failed" (what becomes of texts to it)
The behaviour holds for every later call to or from the phone, including <Dial> legs to an agent: the
leg's whisper (<Number url>, <Client url>) runs on the agent's phone, so its <Gather> hears these steps.
With <Number machineDetection>, detection listens first (2 s for a human, 3 s machine_start, 8 s
machine_end_beep, telephone seconds) and that time counts toward `hangup_after`.

Calls -- `POST /sandbox/calls` {"from", "to", optional "steps", "hangup_after", "interactive"} rings the
account's number from a virtual phone; `GET /sandbox/calls[?phone=]` lists calls and legs;
`GET /sandbox/calls/{sid}` shows one with its timeline (and "keys_so_far": the keys a <Gather> has collected
while it waits for more, else null); `POST /sandbox/calls/{sid}/answer|input|hangup` are the softphone's
hands: each keypad button posts one key ({"digits": "4"}) and the Gather goes on collecting.

<Gather> also honours `language` (recorded on the timeline, drives the transcript), `speechModel` (the values
Twilio lists, recorded; any other raises warning 13334 and the default model is used), `speechTimeout`
(a positive integer or auto; another value raises 13327, auto with a speechModel raises 13335, and the
Gather's timeout ends speech instead) and `partialResultCallback` (+Method, default POST): while a speech step
is spoken, one signed request per word with the call's usual parameters and UnstableSpeechResult (the
transcript so far, unpunctuated), Stability (rising from 0.5 towards 0.9) and SequenceNumber (1, 2, ... per
Gather), sent in order on the call's callback queue (retried as any webhook is). Warnings are "warning" events
({"code", "message"}) on the timeline.

Faults -- `PUT /sandbox/faults` replaces every injected fault (`{}` clears them), `GET` reads them with
what is left of each rule, `POST /sandbox/faults/calls_create` adds one `calls_create` rule:
    api_error_rate             0..1: any REST request answers 500 (code 20500) at this rate
    api_latency_ms             every REST request waits this long first
    drop_status_callback_rate  0..1: status callbacks lost at this rate
    webhook_delay_ms           every webhook waits this long before it is sent
    webhook_drop_first         {"<URL path>" or "*": N}: the first N answers to that path (with "*", to
                               each path) are lost after the app has sent them: the app has acted, and
                               to the sandbox the attempt is a read timeout, retried only if the URL's
                               connection overrides say `rp=rt` (or `all`); e.g. {"*": 1},
                               {"/voice/callback/answer": 1}. Each drop is on the timeline (dropped: true)
    webhook_sign_fragment      true: sign a webhook over the URL as given, its fragment (connection
                               overrides) included; false (default): over the URL requested, no fragment
Connection overrides on webhook URLs (`#ct=..&rt=..&tt=..&rc=..&rp=..`) are always honoured: see
telephony/sandbox/webhooks.py. Every attempt is a "webhook" event on the timeline, with its number
("attempt"), "retrying" (the failure class) when another follows, and "overrides" (the fragment).
    calls_create               rules for `POST .../Calls.json`, the first that matches answers:
        status        the HTTP error status to answer (400-599)
        code          Twilio's error code (default by status: 401 20003, 403 20403, 404 20404, 429 20429,
                      503 20503, other 5xx 20500; required for other 4xx, e.g. 21215 or 21216 with 400)
        message       the error's message (default: Twilio's wording for the code)
        to            only creates to this number or client (default: any)
        count         how many creates the rule answers, then it is gone (default null: every one)
        after_create  true: the call is really created and proceeds (rings, runs webhooks, sends status
                      callbacks) and only the REST answer is the error -- the app cannot learn it exists
        delay_ms      hold the answer this long (real milliseconds); with after_create and no status, the
                      201 arrives after the client's timeout
    e.g. {"calls_create": [{"status": 429, "count": 2}]},
         {"calls_create": [{"status": 400, "code": 21215, "to": "+442071234567"}]},
         {"calls_create": [{"after_create": true, "status": 503, "count": 1}]},
         {"calls_create": [{"after_create": true, "delay_ms": 20000, "count": 1}]}

Recording media -- `POST /sandbox/faults/recording_media` adds one rule failing downloads of recording
media (`GET .../Recordings/{RE...}[.wav|.mp3]`, after authentication; a download of a missing recording
does not count), also settable as "recording_media": [...] in `PUT /sandbox/faults`:
        status        the HTTP error status to answer (400-599, default 500)
        code          Twilio's error code (default by status, as for calls_create)
        message       the error's message (default: Twilio's wording for the code)
        sid           only downloads of this recording (default: any)
        count         how many downloads the rule fails, then it is gone (default null: every one)
    e.g. {"status": 500, "count": 2}, {"status": 404, "count": 1, "sid": "RE..."}

Recordings -- `GET /sandbox/recordings[?call_sid=]` lists every recording the sandbox holds, newest first:
the REST resource's fields plus "bytes", "frames", "sample_rate" and "seconds" of its WAV file (0 while
in progress). What a recording sounds like: each side's speech (Gather and Record speech steps, and
speech steps while bridged) is a tone for as long as it is spoken, <Say>/<Play> likewise on the side that
hears them, silence elsewhere; a dual file has one pitch per channel (400 Hz, 500 Hz).

`POST /sandbox/reset` hangs up and forgets everything.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, render_template, request

from telephony.sandbox.audio import SAMPLE_RATE, frames_for
from telephony.sandbox.model import Behaviour, Call, CreateFault, Faults, MediaFault, Party, Recording, validate_steps
from telephony.sandbox.wire import is_address, new_sid

bp = Blueprint("sandbox_control", __name__, url_prefix="/sandbox", template_folder="templates")


class BadRequest(Exception):
    """A control request that cannot be honoured; answered as {"error": message}."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


@bp.errorhandler(BadRequest)
def _bad_request(error: BadRequest) -> tuple[Response, int]:
    return jsonify({"error": error.message}), error.status


def _sandbox() -> Any:
    return current_app.extensions["sandbox"]


def _json() -> Any:
    data = request.get_json(silent=True)
    if data is None:
        raise BadRequest("a JSON body is required")
    return data


def _summary(call: Call) -> dict[str, Any]:
    return {
        "sid": call.sid,
        "parent_call_sid": call.parent_call_sid,
        "from": call.from_,
        "to": call.to,
        "direction": call.direction,
        "status": call.status,
        "answered_by": call.answered_by,
        "duration": call.duration,
        "date_created": call.date_created.isoformat(),
        "waiting_for_answer": call.party.behaviour.interactive and not call.party.answered,
    }


@bp.get("/")
def softphone() -> str:
    """The softphone page: play customer or agent by hand."""
    world = _sandbox().world
    numbers = sorted(n.phone_number for n in world.numbers.values())
    return render_template("softphone.html", numbers=numbers)


@bp.get("/phones")
def list_phones() -> Response:
    """Every virtual phone given a behaviour."""
    world = _sandbox().world
    with world.cond:
        return jsonify({"phones": {address: b.to_json() for address, b in world.phones.items()}})


@bp.route("/phones/<path:address>", methods=["GET", "PUT", "DELETE"])
def phone(address: str) -> Response | tuple[Response, int]:
    """Read, set or forget the behaviour of a number or `client:identity`."""
    if not is_address(address):
        raise BadRequest("the address must be an E.164 number or client:identity")
    world = _sandbox().world
    if request.method == "PUT":
        try:
            behaviour = Behaviour.from_json(_json())
        except ValueError as exc:
            raise BadRequest(str(exc)) from None
        with world.cond:
            world.phones[address] = behaviour
        return jsonify({"address": address, **behaviour.to_json()})
    if request.method == "DELETE":
        with world.cond:
            world.phones.pop(address, None)
        return jsonify({}), 204
    return jsonify({"address": address, **world.behaviour_of(address).to_json()})


@bp.post("/calls")
def start_call() -> tuple[Response, int]:
    """Call a number of the account from a virtual phone; the number's voice URL answers."""
    sandbox = _sandbox()
    world = sandbox.world
    data = _json()
    from_, to = str(data.get("from", "")), str(data.get("to", ""))
    if not is_address(from_):
        raise BadRequest("from must be an E.164 number or client:identity")
    number = world.number_for(to)
    if number is None:
        raise BadRequest(f"{to} is not a number of the account", 404)
    behaviour = world.behaviour_of(from_)
    verstat = data.get("verstat")
    if verstat is not None and (not isinstance(verstat, str) or not verstat.strip() or len(verstat) > 64):
        raise BadRequest("verstat must be a StirVerstat value such as TN-Validation-Passed-A")
    try:
        steps = validate_steps(data["steps"]) if "steps" in data else None
        if "hangup_after" in data or "interactive" in data:
            behaviour = Behaviour.from_json(
                {
                    **behaviour.to_json(),
                    **{k: data[k] for k in ("hangup_after", "interactive") if k in data},
                }
            )
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    call = Call(
        sid=new_sid("CA"),
        account_sid=world.account_sid,
        to=to,
        from_=from_,
        direction="inbound",
        party=Party.for_call(from_, behaviour, steps),
        status="ringing",
        phone_number_sid=number.sid,
        stir_verstat=verstat.strip() if verstat else None,
        status_callback=number.status_callback or None,
        status_callback_method=number.status_callback_method,
        # A number's status callback hears only about the end of the call.
        status_callback_events=("completed",),
    )
    world.add_call(call)
    sandbox.engine.start_inbound(call, number)
    return jsonify({"sid": call.sid}), 201


@bp.get("/calls")
def list_calls() -> Response:
    """Every call and leg, newest first; `?phone=` keeps those to or from one virtual phone."""
    world = _sandbox().world
    phone = request.args.get("phone")
    with world.cond:
        calls = sorted(world.calls.values(), key=lambda c: (c.date_created, c.sid), reverse=True)
        if phone:
            calls = [c for c in calls if phone in (c.to, c.from_)]
        return jsonify({"calls": [_summary(c) for c in calls]})


def _call(sid: str) -> Call:
    call = _sandbox().world.calls.get(sid)
    if call is None:
        raise BadRequest(f"no call {sid}", 404)
    return call


@bp.get("/calls/<sid>")
def call_detail(sid: str) -> Response:
    """One call with its timeline: everything that happened, in order."""
    world = _sandbox().world
    with world.cond:
        call = _call(sid)
        return jsonify(
            {
                **call.to_json(),
                "party": {
                    "address": call.party.address,
                    "steps_left": list(call.party.steps),
                    "hung_up": call.party.hung_up,
                },
                # While a <Gather> collects keys: those pressed so far (it waits for more).
                "keys_so_far": call.keyed,
                "timeline": list(call.timeline),
            }
        )


@bp.post("/calls/<sid>/answer")
def answer(sid: str) -> Response:
    """The person at the softphone picks up a ringing call."""
    world = _sandbox().world
    with world.cond:
        call = _call(sid)
        call.party.answered = True
        world.cond.notify_all()
    return jsonify(_summary(call))


@bp.post("/calls/<sid>/input")
def give_input(sid: str) -> Response:
    """The person at the softphone presses keys or says something: {"digits": "1"} or {"speech": "..."}."""
    world = _sandbox().world
    try:
        steps = validate_steps([_json()])
    except ValueError as exc:
        raise BadRequest(str(exc)) from None
    with world.cond:
        call = _call(sid)
        call.party.steps.extend(steps)
        world.cond.notify_all()
    world.event(call, "input", given_by="softphone", **steps[0])
    return jsonify(_summary(call))


@bp.post("/calls/<sid>/hangup")
def hang_up(sid: str) -> Response:
    """The person at the softphone hangs up."""
    world = _sandbox().world
    with world.cond:
        call = _call(sid)
        if not call.is_final:
            call.party.hung_up = True
            world.cond.notify_all()
    world.event(call, "hangup", by="party", reason="softphone")
    return jsonify(_summary(call))


@bp.get("/messages")
def list_messages() -> Response:
    """Every text with its timeline, newest first; `?phone=` keeps those to or from one virtual phone."""
    world = _sandbox().world
    phone = request.args.get("phone")
    with world.cond:
        messages = sorted(world.messages.values(), key=lambda m: (m.date_created, m.sid), reverse=True)
        if phone:
            messages = [m for m in messages if phone in (m.to, m.from_)]
        return jsonify({"messages": [{**m.to_json(), "timeline": list(m.timeline)} for m in messages]})


@bp.route("/faults", methods=["GET", "PUT"])
def faults() -> Response:
    """Read or inject failures: API errors and latency, dropped status callbacks, slow webhooks."""
    world = _sandbox().world
    if request.method == "PUT":
        try:
            injected = Faults.from_json(_json())
        except (TypeError, ValueError) as exc:
            raise BadRequest(str(exc)) from None
        with world.cond:
            world.faults = injected
    with world.cond:
        return jsonify(world.faults.to_json())


@bp.post("/faults/calls_create")
def add_create_fault() -> tuple[Response, int]:
    """Add one rule answering `calls.create` (an error, or a call created behind an error) to the faults."""
    world = _sandbox().world
    try:
        rule = CreateFault.from_json(_json())
    except (TypeError, ValueError) as exc:
        raise BadRequest(str(exc)) from None
    with world.cond:
        world.faults.calls_create.append(rule)
        return jsonify(world.faults.to_json()), 201


@bp.post("/faults/recording_media")
def add_media_fault() -> tuple[Response, int]:
    """Add one rule failing recording media downloads (the first `count`, of `sid` or of any)."""
    world = _sandbox().world
    try:
        rule = MediaFault.from_json(_json())
    except (TypeError, ValueError) as exc:
        raise BadRequest(str(exc)) from None
    with world.cond:
        world.faults.recording_media.append(rule)
        return jsonify(world.faults.to_json()), 201


def _recording_summary(recording: Recording, base_url: str) -> dict[str, Any]:
    frames, rate, size = 0, 0, 0
    if recording.status == "completed" and recording.sound:
        # What the download will hold, without making the file: a 44-byte header and 16-bit samples.
        frames, rate = frames_for(recording.sound_seconds), SAMPLE_RATE
        size = 44 + frames * 2 * len(recording.sound)
    return {
        **recording.to_json(base_url, with_track=True),
        "bytes": size,
        "frames": frames,
        "sample_rate": rate,
        "seconds": frames / rate if rate else 0.0,
    }


@bp.get("/recordings")
def list_recordings() -> Response:
    """Every recording held (in progress ones included), newest first; `?call_sid=` keeps one call's."""
    world = _sandbox().world
    call_sid = request.args.get("call_sid")
    with world.cond:
        recordings = sorted(world.recordings.values(), key=lambda r: (r.date_created, r.sid), reverse=True)
    if call_sid:
        recordings = [r for r in recordings if r.call_sid == call_sid]
    return jsonify({"recordings": [_recording_summary(r, world.base_url) for r in recordings]})


@bp.post("/reset")
def reset() -> Response:
    """Hang up every call and forget every call, phone, message, recording and fault."""
    _sandbox().world.reset()
    return jsonify({"reset": True})
