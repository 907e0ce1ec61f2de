"""Every URL we give Twilio, built in one place: absolute, on the public base URL, never the Host header.

Twilio must be handed absolute URLs, and it signs each request with the URL it was given, so the
base is the configured PUBLIC_BASE_URL (behind a proxy the Host header is not what Twilio used).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode


@dataclass(frozen=True)
class Webhooks:
    """The app's webhook URLs, for a public base URL."""

    base_url: str

    def _url(self, path: str, params: dict[str, object]) -> str:
        query = urlencode({k: str(v) for k, v in params.items() if v is not None})
        return f"{self.base_url.rstrip('/')}{path}" + (f"?{query}" if query else "")

    def callback(self, name: str, **params: object) -> str:
        """A webhook of a callback's call: /voice/callback/<name>?attempt=...&leg=..."""
        return self._url(f"/voice/callback/{name}", params)

    def ivr(self, name: str, **params: object) -> str:
        """A webhook of the phone menu: /voice/ivr/<name>?..."""
        return self._url(f"/voice/ivr/{name}", params)

    def audio(self, name: str) -> str:
        """A sound file the app serves to Twilio (hold music, prompts)."""
        return self._url(f"/audio/{name}", {})
