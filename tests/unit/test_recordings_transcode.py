"""With real ffmpeg: a recording kept as Opus lasts as long as the provider's WAV (within 1%), mono and dual."""

from __future__ import annotations

import io
import math
import struct
import tracemalloc
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


def long_telephone_wav(seconds: int, channels: int = 2) -> bytes:
    """`telephone_wav`, built fast for long recordings: one second of tone, repeated."""
    with wave.open(io.BytesIO(telephone_wav(1.0, channels))) as one:
        second = one.readframes(one.getnframes())
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(second * seconds)
    return buffer.getvalue()


@pytest.mark.parametrize("channels", [1, 2])
def test_the_copy_is_measured_by_decoding_all_of_it(channels: int) -> None:
    kept = audio.compact(audio.decode(telephone_wav(12.5, channels)))

    length = audio.decoded_length(kept)

    assert length.channels == channels
    assert audio.same_length(length.seconds, 12.5)


def test_a_truncated_copy_measures_short() -> None:
    kept = audio.compact(audio.decode(telephone_wav(12.5, 2)))

    length = audio.decoded_length(kept[: len(kept) // 2])

    assert not audio.same_length(length.seconds, 12.5)


def test_a_damaged_copy_is_refused_even_where_its_length_would_pass() -> None:
    kept = bytearray(audio.compact(audio.decode(telephone_wav(30.0, 2))))
    kept[len(kept) // 2] ^= 0x01  # one bit: the page's checksum no longer matches

    with pytest.raises(audio.AudioRejected) as refused:
        audio.decoded_length(bytes(kept))
    assert refused.value.code == "corrupt"
    with pytest.raises(audio.AudioRejected):
        audio.decoded_length(b"OggS" + bytes(500))


def test_measuring_an_hours_copy_holds_none_of_its_decoded_audio() -> None:
    """Decoded back at 48 kHz (Opus's rate), an hour of two channels is 1.4 GB of samples: the check
    streams them through and counts, so the memory it takes does not grow with the recording."""
    wav = long_telephone_wav(120, channels=2)
    kept = audio.compact(audio.decode(wav))

    tracemalloc.start()
    try:
        length = audio.decoded_length(kept)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert audio.same_length(length.seconds, 120.0) and length.channels == 2
    # Two minutes decoded at 48 kHz would be 23 MB; the check holds less than a copy of the file.
    assert peak < max(len(kept), 1_000_000)
