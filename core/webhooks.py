"""Every URL we give Twilio, built in one place: absolute, on the public base URL, never the Host header.

Twilio must be handed absolute URLs, and it signs each request with the URL it was given, so the
base is the configured PUBLIC_BASE_URL (behind a proxy the Host header is not what Twilio used).

Every webhook URL ends in Twilio's connection overrides, a URL fragment of key=value pairs
(https://www.twilio.com/docs/usage/webhooks/webhooks-connection-overrides). Twilio's defaults are a
5000 ms connect timeout (`ct`, 100..10000), a 15000 ms read timeout (`rt`, 100..15000), 15000 ms for
every attempt together (`tt`, 100..15000), one retry (`rc`, 0..5) and a retry policy (`rp`) naming which
failures are retried. Ours, and why:

- `ct=2000`: Twilio and our server are on the public internet, a TCP connect takes milliseconds and one
  lost SYN is resent after a second; waiting five seconds for a dead server only lengthens the silence the
  caller hears before the retry or the fallback.
- `rt=6000`: every webhook of ours answers within 5 s (the design budget: no webhook waits on anything slow),
  so one that has said nothing after 6 s is stuck, not slow.
- `rc=2`, `rp=ct,rt,5xx`: a refused or timed-out connection, a lost or late answer and a server error are
  all tried again, twice. That is safe only because every webhook is idempotent: a retry is the same
  signed request, and the app may already have acted on the first (tests/e2e/test_webhook_retries.py
  shows each webhook leaving one outcome under a retry). A 4xx (a bad signature, a bad request) would
  fail the same way again and is not retried.
- `tt=15000`: Twilio's maximum, so the three attempts (2 s + 6 s each at worst) are cut at 15 s in all.

HTTP never sends a fragment, so our routes see none of this. Twilio's documentation does not say whether
the X-Twilio-Signature is computed over the URL with its fragment or without it; telephony.signature
accepts either (`SIGNED_FRAGMENTS`). Sound files (<Play>, hold music) are media fetches, not webhooks,
and keep plain URLs: recordings.prompts appends its own query string to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

# The connection overrides on every webhook URL (see the module docstring for each value's reason).
CONNECTION_OVERRIDES: dict[str, str] = {"ct": "2000", "rt": "6000", "tt": "15000", "rc": "2", "rp": "ct,rt,5xx"}
FRAGMENT = "&".join(f"{key}={value}" for key, value in CONNECTION_OVERRIDES.items())
# Fragments Twilio may have signed along with a URL of ours (the signature check tries each).
SIGNED_FRAGMENTS: tuple[str, ...] = (FRAGMENT,)


def with_overrides(url: str) -> str:
    """`url` with our connection overrides as its fragment (replacing any fragment it had)."""
    return url.split("#", 1)[0] + "#" + FRAGMENT


@dataclass(frozen=True)
class Webhooks:
    """The app's webhook URLs, for a public base URL."""

    base_url: str

    def _plain(self, path: str, params: dict[str, object]) -> str:
        query = urlencode({k: str(v) for k, v in params.items() if v is not None})
        return f"{self.base_url.rstrip('/')}{path}" + (f"?{query}" if query else "")

    def _url(self, path: str, params: dict[str, object]) -> str:
        return with_overrides(self._plain(path, params))

    def callback(self, name: str, **params: object) -> str:
        """A webhook of a callback's call: /voice/callback/<name>?attempt=...&leg=...#<overrides>"""
        return self._url(f"/voice/callback/{name}", params)

    def ivr(self, name: str, **params: object) -> str:
        """A webhook of the phone menu: /voice/ivr/<name>?...#<overrides>"""
        return self._url(f"/voice/ivr/{name}", params)

    def incoming(self) -> str:
        """The number's voice URL: an inbound call starts here (/voice/incoming)."""
        return self._url("/voice/incoming", {})

    def inbound_status(self) -> str:
        """The number's status callback: the end of an inbound call (/voice/status)."""
        return self._url("/voice/status", {})

    def audio(self, name: str) -> str:
        """A sound file the app serves to Twilio (hold music, prompts): no overrides, callers add a query."""
        return self._plain(f"/audio/{name}", {})
