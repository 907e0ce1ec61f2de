"""With real ffmpeg: a recording kept as Opus lasts as long as the provider's WAV (within 1%), mono and dual."""

from __future__ import annotations

import io
import math
import struct
import wave

import pytest

from recordings import audio


def telephone_wav(seconds: float, channels: int = 1, rate: int = 8000) -> bytes:
    """A WAV as Twilio serves recordings: 8 kHz 16-bit PCM, a different tone on each channel."""
    frames = int(rate * seconds)
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        samples = bytearray()
        for n in range(frames):
            for channel in range(channels):
                frequency = 440.0 if channel == 0 else 660.0
                samples += struct.pack("<h", int(6000 * math.sin(2 * math.pi * frequency * n / rate)))
        out.writeframes(bytes(samples))
    return buffer.getvalue()


@pytest.mark.parametrize(("seconds", "channels"), [(1.0, 1), (7.3, 1), (12.5, 2), (61.0, 2)])
def test_transcoding_keeps_the_duration_within_one_percent(seconds: float, channels: int) -> None:
    original = audio.decode(telephone_wav(seconds, channels))

    kept = audio.compact(original)
    copy = audio.decode(kept)

    assert abs(audio.seconds(copy) - seconds) <= seconds * 0.01
    assert audio.same_length(audio.seconds(copy), audio.seconds(original))
    assert copy.channels == channels
    assert kept[:4] == b"OggS"


def test_the_copy_is_compact_at_most_32_kbps_per_channel() -> None:
    seconds, channels = 20.0, 2
    wav = telephone_wav(seconds, channels)

    kept = audio.compact(audio.decode(wav))

    kbps_per_channel = len(kept) * 8 / seconds / 1000 / channels
    assert kbps_per_channel <= 32
    # 8 kHz 16-bit PCM is 128 kbps a channel: the copy is a fraction of it.
    assert len(kept) < len(wav) / 4


def test_a_copy_cut_short_is_not_the_same_length() -> None:
    original = audio.decode(telephone_wav(10.0))
    cut = original[:9800]

    assert not audio.same_length(audio.seconds(cut), audio.seconds(original))
