"""How long the audio a <Play> names lasts: fetched as Twilio fetches it, measured, remembered.

Twilio retrieves the file at <Play>'s URL and plays all of it (https://www.twilio.com/docs/voice/twiml/play),
so a caller's time on hold is the music's real length times `loop`. The sandbox fetches the file the same
way, but only from this machine (the app's own prompts and hold music): a URL elsewhere is never fetched,
and lasts DEFAULT_SECONDS, as does audio whose length the WAV header does not give (MP3). A file that
cannot be fetched, or is not audio, is Twilio's warning 11200 or 13420 and plays nothing.
"""

from __future__ import annotations

import io
import ipaddress
import threading
import wave
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests

DEFAULT_SECONDS = 5.0
FETCH_TIMEOUT_SECONDS = 3.0
LOCAL_NAMES = frozenset({"localhost"})


@dataclass(frozen=True)
class Media:
    """What a <Play> of one URL sounds like: its length, or the warning that stopped it."""

    seconds: float
    warning: tuple[int, str] | None = None
    measured: bool = False


def _local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return False
    if parts.hostname in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


def _wav_seconds(body: bytes) -> float | None:
    try:
        with wave.open(io.BytesIO(body)) as audio:
            rate = audio.getframerate()
            return audio.getnframes() / rate if rate else None
    except (wave.Error, EOFError):
        return None


class MediaLengths:
    """Each URL's length, fetched once per sandbox lifetime (Twilio caches media it has fetched)."""

    def __init__(self) -> None:
        self._known: dict[str, Media] = {}
        self._lock = threading.Lock()

    def of(self, url: str) -> Media:
        """The media at `url`, fetched on first use."""
        with self._lock:
            known = self._known.get(url)
        if known is not None:
            return known
        media = self._fetch(url)
        if media.warning is None:  # a failure is tried again on the next <Play>, as Twilio would
            with self._lock:
                self._known[url] = media
        return media

    def clear(self) -> None:
        with self._lock:
            self._known.clear()

    @staticmethod
    def _fetch(url: str) -> Media:
        if not _local(url):
            return Media(DEFAULT_SECONDS)
        try:
            response = requests.get(url, timeout=FETCH_TIMEOUT_SECONDS)
        except requests.RequestException as exc:
            return Media(0.0, (11200, f"HTTP retrieval failure: {type(exc).__name__}"))
        if response.status_code >= 400:
            return Media(0.0, (11200, f"HTTP retrieval failure: {response.status_code}"))
        kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if not kind.startswith("audio/"):
            return Media(0.0, (13420, f"Play: invalid Content-Type {kind or 'none'}"))
        seconds = _wav_seconds(response.content) if kind in {"audio/wav", "audio/x-wav", "audio/wave"} else None
        return Media(DEFAULT_SECONDS) if seconds is None else Media(seconds, measured=True)
