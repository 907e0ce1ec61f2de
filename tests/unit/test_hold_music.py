"""Hold music is generated in telephone format, loud enough but never clipping."""

from __future__ import annotations

import wave
from io import BytesIO
from pathlib import Path

from recordings.hold_music import TELEPHONE_RATE, cached_wav, render, wav_bytes


def test_the_loop_is_8khz_mono_16_bit() -> None:
    with wave.open(BytesIO(wav_bytes(loops=1))) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (TELEPHONE_RATE, 1, 2)
        assert wav.getnframes() > TELEPHONE_RATE  # a few seconds of music, not silence


def test_the_loop_peaks_just_under_full_scale() -> None:
    audio = render(loops=1)
    assert -3.5 < audio.max_dBFS < -2.5


def test_the_file_is_written_once_and_reused(tmp_path: Path) -> None:
    first = cached_wav(tmp_path)
    stamp = first.stat().st_mtime_ns
    assert cached_wav(tmp_path) == first and first.stat().st_mtime_ns == stamp
