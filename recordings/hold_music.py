"""Hold music made on the spot with pydub: a calm loop, in the format telephones play best.

Shipping a recording means shipping its licence; a few bars of generated chimes have none. Twilio
plays 8 kHz mono best, so the loop is rendered straight to that: nothing is lost in transcoding.
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from pydub import AudioSegment
from pydub.generators import Sine

TELEPHONE_RATE = 8000
# A slow broken chord in C major, each note with a soft fade so nothing clicks on a phone line.
NOTES_HZ = (261.63, 329.63, 392.00, 523.25, 392.00, 329.63)
NOTE_MS = 600
GAP_MS = 150


def render(loops: int = 3) -> AudioSegment:
    """The hold loop as audio: 8 kHz, mono, 16-bit, peak-normalised to -3 dBFS."""
    phrase = AudioSegment.silent(duration=0, frame_rate=TELEPHONE_RATE)
    for hz in NOTES_HZ:
        note = Sine(hz, sample_rate=TELEPHONE_RATE).to_audio_segment(duration=NOTE_MS, volume=-12.0)
        phrase += note.fade_in(40).fade_out(200) + AudioSegment.silent(duration=GAP_MS, frame_rate=TELEPHONE_RATE)
    audio = phrase * loops
    audio = audio.set_channels(1).set_frame_rate(TELEPHONE_RATE).set_sample_width(2)
    return audio.apply_gain(-3.0 - audio.max_dBFS)


def wav_bytes(loops: int = 3) -> bytes:
    """The hold loop as a WAV file's bytes."""
    buffer = BytesIO()
    render(loops).export(buffer, format="wav")
    return buffer.getvalue()


def cached_wav(folder: Path) -> Path:
    """The hold loop written once into `folder` (the instance folder), then reused."""
    path = folder / "hold-music.wav"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(wav_bytes())
        tmp.replace(path)  # atomic: two workers racing both write a whole file
    return path
