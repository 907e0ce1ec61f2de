"""Small real audio files for sandbox recordings: 8 kHz mono 16-bit PCM WAV, as telephony records."""

from __future__ import annotations

import io
import math
import struct
import wave

SAMPLE_RATE = 8000
# Keep recordings small: a sandbox recording longer than this is truncated (its duration is still reported).
MAX_SECONDS = 30


def tone_wav(seconds: float, frequency: float = 440.0, volume: float = 0.2) -> bytes:
    """A WAV file holding a quiet sine tone of the given length (at least a tenth of a second)."""
    frames = max(int(SAMPLE_RATE * min(seconds, MAX_SECONDS)), SAMPLE_RATE // 10)
    amplitude = int(32767 * volume)
    samples = (int(amplitude * math.sin(2 * math.pi * frequency * n / SAMPLE_RATE)) for n in range(frames))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(b"".join(struct.pack("<h", s) for s in samples))
    return buffer.getvalue()
