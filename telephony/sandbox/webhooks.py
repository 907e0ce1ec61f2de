"""Webhooks as Twilio sends them: form-encoded, signed with X-Twilio-Signature, with Twilio's timeouts."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import requests

from telephony.sandbox.world import Timelined, World

logger = logging.getLogger(__name__)

# Twilio gives a webhook 5 s to connect and 15 s in total before it gives up (error 11200).
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 15.0
# Timeouts shrink with SANDBOX_SPEED, but never below this many real seconds: at speed 50 Twilio's
# 15 s would be 0.3 s, and a loaded test machine would then look like a slow app.
MIN_REAL_TIMEOUT = 1.5
USER_AGENT = "TwilioProxy/1.1"
# Twilio's warning when a call status callback is answered with 4xx/5xx ("Warning Response to Callback URL").
# Twilio does not retry status callbacks by default: the warning is logged and the event is lost.
STATUS_CALLBACK_WARNING = 15003


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


class WebhookSender:
    """Sends signed webhooks for one world and records each on the call's timeline."""

    def __init__(self, world: World) -> None:
        self.world = world

    def send(
        self,
        record: Timelined,
        url: str,
        method: str,
        params: Mapping[str, str],
        kind: str,
        **note: Any,
    ) -> Reply:
        """Request `url` as Twilio would, noting it on `record`'s timeline; never raises (failure is status 0)."""
        method = (method or "POST").upper()
        faults = self.world.faults
        if faults.webhook_delay_ms:
            time.sleep(faults.webhook_delay_ms / 1000)
        if method == "GET":
            # GET webhooks carry the parameters in the query string, and the signature covers only the URL.
            parts = urlsplit(url)
            query = "&".join(q for q in (parts.query, urlencode(params)) if q)
            target = urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
            body_params: dict[str, str] = {}
        else:
            target = url
            body_params = dict(params)
        headers = {
            "X-Twilio-Signature": sign(self.world.auth_token, target, body_params),
            "User-Agent": USER_AGENT,
            "Accept": "*/*",
        }
        clock = self.world.clock
        timeout = (
            max(MIN_REAL_TIMEOUT, clock.real(CONNECT_TIMEOUT)),
            max(MIN_REAL_TIMEOUT, clock.real(READ_TIMEOUT)),
        )
        started = time.monotonic()
        try:
            response = requests.request(
                method,
                target,
                data=body_params or None,
                headers=headers,
                timeout=timeout,
                allow_redirects=False,
            )
            reply = Reply(response.status_code, response.text)
        except requests.Timeout:
            reply = Reply(0, "", "timeout")
        except requests.RequestException as exc:
            reply = Reply(0, "", f"connection failed: {exc.__class__.__name__}")
        elapsed_ms = round((time.monotonic() - started) * 1000)
        details: dict[str, Any] = {
            "kind": kind,
            "url": target,
            "method": method,
            "status": reply.status,
            "elapsed_ms": elapsed_ms,
            **note,
        }
        if reply.error:
            details["error"] = reply.error
        if kind == "status" and not reply.ok:
            details["warning"] = STATUS_CALLBACK_WARNING
        self.world.event(record, "webhook", **details)
        return reply
