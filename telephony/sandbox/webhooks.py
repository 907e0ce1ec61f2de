"""Webhooks as Twilio sends them: form-encoded, signed with X-Twilio-Signature, timed out and retried.

Connection overrides (https://www.twilio.com/docs/usage/webhooks/webhooks-connection-overrides): any
webhook URL may end in a fragment of key=value pairs joined by "&" that changes how Twilio connects for
that one URL. The sandbox honours the documented ones:
    ct  connect timeout, ms, 100..10000 (default 5000)
    rt  read timeout, ms, 100..15000 (default 15000): the wait for the first byte of the answer, and
        between its packets
    tt  total time for every attempt together, ms, 100..15000 (default 15000)
    rc  retries after the first attempt, 0..5 (default 1)
    rp  which failures are retried, comma-separated: ct (the connection could not be made), rt (no answer
        in time, or the connection dropped after the request was sent), 4xx, 5xx, all (default ct)
    e, sni  the egress edge and TLS server name: accepted and ignored (one machine, plain HTTP)
A bad value is Twilio's error 11243 for `rp` (https://www.twilio.com/docs/api/errors/11243) and makes the
request fail without being sent; other bad values fail it the same way, noted as 11200. Twilio's default
of one retry on a connection failure only is also what error 11205 describes: "two 5-second attempts" to
connect, then 15 seconds for an answer (https://www.twilio.com/docs/errors/11205).

The fragment is never sent (HTTP has no place for it). A retry is the same request again: same URL, same
parameters, same signature; the sandbox retries at once, as Twilio documents no pause. Which URL Twilio
signs when it carries overrides, with the fragment or without, Twilio's documentation does not say: the
sandbox signs what it requests (no fragment) unless the `webhook_sign_fragment` fault asks it to sign the
URL as given, so tests show the app accepts both. Twilio documents no idempotency header on webhooks
(`I-Twilio-Idempotency-Token` appears only in third-party code), so the sandbox sends none: a webhook
handler recognises a retry by what it carries (CallSid, SequenceNumber, its own query parameters).

Without overrides, the timeouts shrink with SANDBOX_SPEED as they always did (never below
MIN_REAL_TIMEOUT real seconds). A URL that sets any override gets real milliseconds throughout (its
values and Twilio's defaults for the others), never scaled: they are the app's own network budget.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import requests

from telephony.sandbox.world import Timelined, World

logger = logging.getLogger(__name__)

# Twilio gives a webhook 5 s to connect and 15 s in total before it gives up (error 11200).
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 15.0
TOTAL_TIMEOUT = 15.0
# Timeouts shrink with SANDBOX_SPEED, but never below this many real seconds: at speed 50 Twilio's
# 15 s would be 0.3 s, and a loaded test machine would then look like a slow app.
MIN_REAL_TIMEOUT = 1.5
USER_AGENT = "TwilioProxy/1.1"
# A retry needs at least this much of the total time (`tt`) left to be worth starting.
MIN_ATTEMPT_SECONDS = 0.05
# Twilio's warning when a call status callback is answered with 4xx/5xx ("Warning Response to Callback URL").
# Twilio does not retry status callbacks by default: the warning is logged and the event is lost.
STATUS_CALLBACK_WARNING = 15003
# Error codes: an invalid retry policy in the fragment, and Twilio's general "HTTP retrieval failure".
INVALID_RETRY_POLICY = 11243
RETRIEVAL_FAILURE = 11200

# Documented ranges of the numeric overrides (milliseconds, or a count for rc).
OVERRIDE_RANGES = {"ct": (100, 10000), "rt": (100, 15000), "tt": (100, 15000), "rc": (0, 5)}
RETRY_POLICIES = frozenset({"ct", "rt", "4xx", "5xx", "all"})
IGNORED_OVERRIDES = frozenset({"e", "sni"})


class InvalidOverride(ValueError):
    """A connection override Twilio would refuse; `code` is the error it reports."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class ConnectionOverrides:
    """What a URL's fragment asks of Twilio's connection; None means Twilio's default."""

    ct: int | None = None
    rt: int | None = None
    tt: int | None = None
    rc: int = 1
    rp: frozenset[str] = field(default_factory=lambda: frozenset({"ct"}))
    # Whether the URL set any override (then every timeout is real time, unscaled by SANDBOX_SPEED).
    given: bool = False

    @classmethod
    def parse(cls, fragment: str) -> ConnectionOverrides:
        """Read `key=value&...` (without the "#"); raises InvalidOverride for a value Twilio would refuse."""
        values: dict[str, Any] = {}
        for pair in filter(None, fragment.split("&")):
            key, _, value = pair.partition("=")
            if key in OVERRIDE_RANGES:
                low, high = OVERRIDE_RANGES[key]
                if not value.isdigit() or not low <= int(value) <= high:
                    raise InvalidOverride(f"{key} must be a whole number from {low} to {high}", RETRIEVAL_FAILURE)
                values[key] = int(value)
            elif key == "rp":
                policies = frozenset(p.strip() for p in value.split(","))
                if not policies or not policies <= RETRY_POLICIES:
                    raise InvalidOverride(f"rp must be among {', '.join(sorted(RETRY_POLICIES))}", INVALID_RETRY_POLICY)
                values[key] = policies
            elif key not in IGNORED_OVERRIDES:
                # Anything else in a fragment is not an override; Twilio documents no error for it.
                continue
        return cls(**values, given=bool(values))

    def retries(self, failure: str) -> bool:
        """Whether a failed attempt of this class (ct, rt, 4xx, 5xx) is tried again."""
        return "all" in self.rp or failure in self.rp


def split_fragment(url: str) -> tuple[str, str]:
    """The URL as requested (no fragment) and its fragment (without "#", "" when none)."""
    base, _, fragment = url.partition("#")
    return base, fragment


def sign(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """X-Twilio-Signature: HMAC-SHA1 over the URL then each POST name and value, names sorted."""
    payload = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


@dataclass(frozen=True)
class Reply:
    """What a webhook got back: the HTTP status (0 when none) and the body."""

    status: int
    body: str
    error: str = ""

    @property
    def ok(self) -> bool:
        """True for a 2xx answer."""
        return 200 <= self.status < 300


def failure_class(reply: Reply, connected: bool) -> str:
    """The retry-policy class of a failed attempt: ct, rt, 4xx or 5xx ("" for a success or other status)."""
    if reply.status == 0:
        return "rt" if connected else "ct"
    if 400 <= reply.status < 500:
        return "4xx"
    if reply.status >= 500:
        return "5xx"
    return ""


def _connect_failed(exc: requests.RequestException) -> bool:
    """True when the request never reached the server (refused, unreachable, connect timeout)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError):
        reason = exc.args[0] if exc.args else None
        inner = getattr(reason, "reason", None)
        # urllib3 wraps a failed connect as NewConnectionError (refused, no route) inside MaxRetryError.
        return type(inner).__name__ in {"NewConnectionError", "ConnectTimeoutError", "NameResolutionError"}
    return False


class WebhookSender:
    """Sends signed webhooks for one world and records each attempt on the call's timeline."""

    def __init__(self, world: World) -> None:
        self.world = world

    def _default_seconds(self, seconds: float) -> float:
        return max(MIN_REAL_TIMEOUT, self.world.clock.real(seconds))

    def send(
        self,
        record: Timelined,
        url: str,
        method: str,
        params: Mapping[str, str],
        kind: str,
        **note: Any,
    ) -> Reply:
        """Request `url` as Twilio would, retrying as its overrides say; never raises (failure is status 0)."""
        method = (method or "POST").upper()
        faults = self.world.faults
        if faults.webhook_delay_ms:
            time.sleep(faults.webhook_delay_ms / 1000)
        requested, fragment = split_fragment(url)
        try:
            overrides = ConnectionOverrides.parse(fragment)
        except InvalidOverride as bad:
            self.world.event(
                record,
                "webhook",
                kind=kind,
                url=requested,
                overrides=fragment,
                method=method,
                status=0,
                error=str(bad),
                code=bad.code,
                **note,
            )
            return Reply(0, "", f"invalid connection override: {bad}")
        if method == "GET":
            # GET webhooks carry the parameters in the query string, and the signature covers only the URL.
            parts = urlsplit(requested)
            query = "&".join(q for q in (parts.query, urlencode(params)) if q)
            target = urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
            body_params: dict[str, str] = {}
        else:
            target = requested
            body_params = dict(params)
        signed_url = f"{target}#{fragment}" if fragment and faults.webhook_sign_fragment else target
        headers = {
            "X-Twilio-Signature": sign(self.world.auth_token, signed_url, body_params),
            "User-Agent": USER_AGENT,
            "Accept": "*/*",
        }
        # A URL with overrides gets real milliseconds throughout, Twilio's defaults included.
        default = (lambda seconds: seconds) if overrides.given else self._default_seconds
        connect = overrides.ct / 1000 if overrides.ct is not None else default(CONNECT_TIMEOUT)
        read = overrides.rt / 1000 if overrides.rt is not None else default(READ_TIMEOUT)
        total = overrides.tt / 1000 if overrides.tt is not None else default(TOTAL_TIMEOUT)
        started = time.monotonic()
        attempt = 0
        while True:
            left = total - (time.monotonic() - started)
            reply, connected, elapsed_ms = self._attempt(method, target, body_params, headers, connect, read, left)
            dropped = reply.ok and self.world.take_webhook_drop(urlsplit(target).path)
            if dropped:
                # The app answered, but the answer is lost on the way back: to Twilio it is a read timeout.
                reply, connected = Reply(0, "", "timeout (answer dropped by the sandbox)"), True
            failure = failure_class(reply, connected)
            details: dict[str, Any] = {
                "kind": kind,
                "url": target,
                "method": method,
                "status": reply.status,
                "elapsed_ms": elapsed_ms,
                "attempt": attempt + 1,
                **note,
            }
            if fragment:
                details["overrides"] = fragment
            if reply.error:
                details["error"] = reply.error
            if dropped:
                details["dropped"] = True
            # An attempt with less than MIN_ATTEMPT_SECONDS of the total time left would be cut at once.
            time_left = total - (time.monotonic() - started) >= MIN_ATTEMPT_SECONDS
            retryable = bool(failure) and attempt < overrides.rc and overrides.retries(failure)
            again = retryable and time_left
            if again:
                details["retrying"] = failure
            elif retryable:
                details["total_timeout"] = True
            if kind == "status" and not reply.ok and not again:
                details["warning"] = STATUS_CALLBACK_WARNING
            self.world.event(record, "webhook", **details)
            if not again:
                return reply
            attempt += 1

    def _attempt(
        self,
        method: str,
        target: str,
        body_params: dict[str, str],
        headers: dict[str, str],
        connect: float,
        read: float,
        left: float,
    ) -> tuple[Reply, bool, int]:
        """One HTTP request: the reply, whether a connection was made, and how long it took (ms)."""
        started = time.monotonic()
        # Every attempt fits in what is left of the total time.
        left = max(0.001, left)
        try:
            response = requests.request(
                method,
                target,
                data=body_params or None,
                headers=headers,
                timeout=(min(connect, left), min(read, left)),
                allow_redirects=False,
            )
            reply, connected = Reply(response.status_code, response.text), True
        except requests.RequestException as exc:
            connected = not _connect_failed(exc)
            if isinstance(exc, requests.Timeout):
                reply = Reply(0, "", "timeout")
            else:
                reply = Reply(0, "", f"connection failed: {exc.__class__.__name__}")
        return reply, connected, round((time.monotonic() - started) * 1000)
