"""Small real audio files for sandbox recordings: 8 kHz 16-bit PCM WAV, one or two channels, as telephony records.

What a party "says" becomes a quiet tone for as long as it speaks; everything else is silence. Each channel
has its own pitch, so a listener (or a test) can tell the two sides of a dual-channel recording apart.
"""

from __future__ import annotations

import array
import io
import math
import shutil
import subprocess
import wave
from collections.abc import Sequence

SAMPLE_RATE = 8000
# Twilio's longest call (TimeLimit's ceiling, 4 hours); a file is made only when it is downloaded.
MAX_SECONDS = 4 * 3600
# Pitches whose period is a whole number of samples at 8 kHz, so a tone is one period repeated.
CHANNEL_PITCHES = (400.0, 500.0)
VOLUME = 0.2

# A stretch of sound on a channel: (start, length) in telephone seconds from the start of the recording.
Segment = tuple[float, float]


def _period(frequency: float, volume: float = VOLUME) -> array.array[int]:
    """One period of a sine tone, as 16-bit samples."""
    samples = max(2, round(SAMPLE_RATE / frequency))
    amplitude = int(32767 * volume)
    return array.array("h", (int(amplitude * math.sin(2 * math.pi * n / samples)) for n in range(samples)))


def _channel(frames: int, segments: Sequence[Segment], frequency: float) -> array.array[int]:
    """A channel of `frames` samples: silence, with the tone during each segment."""
    samples = array.array("h", bytes(2 * frames))
    period = _period(frequency)
    for start, length in segments:
        first = max(0, int(start * SAMPLE_RATE))
        last = min(frames, int((start + length) * SAMPLE_RATE))
        if last <= first:
            continue
        count = last - first
        tone = period * (count // len(period) + 1)
        samples[first:last] = tone[:count]
    return samples


def frames_for(seconds: float) -> int:
    """How many frames a file of `seconds` has (at least a tenth of a second's)."""
    return max(int(SAMPLE_RATE * min(max(seconds, 0.0), MAX_SECONDS)), SAMPLE_RATE // 10)


def _wav(channels: Sequence[array.array[int]]) -> bytes:
    if len(channels) == 1:
        interleaved = channels[0]
    else:
        interleaved = array.array("h", bytes(2 * len(channels[0]) * len(channels)))
        for index, samples in enumerate(channels):
            interleaved[index :: len(channels)] = samples
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(len(channels))
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(interleaved.tobytes())
    return buffer.getvalue()


def speech_wav(seconds: float, channels: Sequence[Sequence[Segment]]) -> bytes:
    """A WAV file `seconds` long with one channel per entry of `channels`, each sounding during its segments."""
    frames = frames_for(seconds)
    return _wav([_channel(frames, segments, CHANNEL_PITCHES[i % 2]) for i, segments in enumerate(channels)])


def tone_wav(seconds: float, frequency: float = 440.0, volume: float = VOLUME) -> bytes:
    """A mono WAV file holding a quiet tone of the given length (at least a tenth of a second)."""
    frames = frames_for(seconds)
    return _wav([_channel(frames, [(0.0, seconds)], frequency)])


def to_mp3(wav: bytes) -> bytes | None:
    """The same audio as MP3, through ffmpeg; None when this machine has no ffmpeg (or it fails)."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        return None
    command = [ffmpeg, "-hide_banner", "-loglevel", "error", "-f", "wav", "-i", "pipe:0", "-f", "mp3", "pipe:1"]
    try:
        result = subprocess.run(command, input=wav, capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout if result.returncode == 0 and result.stdout else None
