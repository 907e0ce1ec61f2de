"""Everything the app does to audio, with pydub (ffmpeg underneath): one place for the rules.

- Recordings come from the provider as WAV (8 kHz, one or two channels) and are kept as Opus in Ogg:
  speech at 24 kbps per channel sounds as good as the phone line did, at a tenth of the size.
- Prompts (the shop's greeting, its hold music) arrive in any common audio container (CONTAINERS) and are made
  telephony audio: 8 kHz, mono, 16-bit WAV, trimmed of leading and trailing silence, at one loudness.
"""

from __future__ import annotations

import io
import json
import math
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pydub import AudioSegment
from pydub.exceptions import CouldntDecodeError
from pydub.silence import detect_leading_silence
from pydub.utils import get_prober_name

TELEPHONE_RATE = 8000
# Opus at 24 kbps per channel: within the 32 kbps a channel may take, and clear for speech.
OPUS_KBPS_PER_CHANNEL = 24
COMPACT_FORMAT = "ogg"
COMPACT_MIMETYPE = "audio/ogg"
# Prompts are brought to this average loudness (dBFS), never letting a peak above PEAK_CEILING.
PROMPT_LEVEL_DBFS = -20.0
PEAK_CEILING_DBFS = -1.0
# Where a prompt's level may land around PROMPT_LEVEL_DBFS, and how many limiter passes may get it there.
LEVEL_TOLERANCE_DB = 1.0
LIMITER_PASSES = 4
# Quieter than this is silence: for trimming, and for refusing a prompt with nothing in it.
SILENCE_DBFS = -50.0
# A copy is faithful when its duration is within this share of the original's.
DURATION_TOLERANCE = 0.01
# A prompt file is decoded no further than its limit plus this much silence around the sound: a small
# file of hours of compressed audio must not become gigabytes of samples in memory before it is refused.
PROMPT_SILENCE_ALLOWANCE_SECONDS = 60.0


# The code of a file that is well formed and holds not a single sample.
EMPTY = "empty"


class AudioRejected(ValueError):
    """Audio we cannot use, with a code and a sentence a person can act on."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# What a file must begin with to be handed to ffmpeg, and the demuxer it is then read with. ffmpeg
# left to guess reads playlists and other text formats that name URLs (HLS, concat, SDP...) and fetches
# them: an upload must not make the server request addresses of someone's choosing. So only these
# audio containers are read, each by its own demuxer, and only when its signature is at the start.
CONTAINERS = "WAV, MP3, Ogg (Vorbis or Opus), FLAC, M4A/MP4, WebM, AIFF or AMR"
SNIFF_BYTES = 64


def container(head: bytes) -> str | None:
    """The ffmpeg demuxer for a file that begins with `head` (its first bytes), or None for anything
    that is not one of CONTAINERS. An MP3's ID3 tag is skipped: what follows must be MPEG audio."""
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"OggS":
        return "ogg"
    if head[:4] == b"fLaC":
        return "flac"
    if head[4:8] == b"ftyp":
        return "mp4"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "webm"
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return "aiff"
    if head[:6] == b"#!AMR\n":
        return "amr"
    if head[:3] == b"ID3":
        return "mp3" if _mpeg_audio(head[_id3_length(head) :]) else None
    return "mp3" if _mpeg_audio(head) else None


def _id3_length(head: bytes) -> int:
    """The length of the ID3v2 tag at the start of `head` (its size is four 7-bit bytes)."""
    size = 0
    for byte in head[6:10]:
        size = (size << 7) | (byte & 0x7F)
    footer = 10 if len(head) > 5 and head[5] & 0x10 else 0
    return 10 + size + footer


def _mpeg_audio(head: bytes) -> bool:
    """Whether `head` starts with an MPEG audio frame header (11 sync bits, a valid layer)."""
    return len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06 != 0


def _head(data: bytes | Path, wanted: int) -> bytes:
    if isinstance(data, bytes):
        return data[:wanted]
    with data.open("rb") as file:
        return file.read(wanted)


def decode(data: bytes | Path) -> AudioSegment:
    """Read audio in one of CONTAINERS: AudioRejected('unsupported') for any other file, ('corrupt')
    for one that cannot be read, (EMPTY) for one that holds not a single sample."""
    return _read(data, None)


def _read(data: bytes | Path, limit_seconds: float | None) -> AudioSegment:
    """`decode`, reading at most `limit_seconds` of the file (ffmpeg -t) when given."""
    head = _head(data, SNIFF_BYTES)
    if head[:3] == b"ID3":  # the tag may be long (cover art): look past it at the audio itself
        head = _head(data, _id3_length(head) + SNIFF_BYTES)
    kind = container(head)
    if kind is None:
        raise AudioRejected("unsupported", f"This is not an audio file we take: use {CONTAINERS}.")
    source = io.BytesIO(data) if isinstance(data, bytes) else data
    try:
        segment = AudioSegment.from_file(source, format=kind, duration=limit_seconds)
    except (CouldntDecodeError, IndexError, OSError) as exc:
        raise AudioRejected("corrupt", "This file is not audio we can read (it may be damaged).") from exc
    if len(segment) == 0:
        raise AudioRejected(EMPTY, "This file holds no audio.")
    return segment


def seconds(segment: AudioSegment) -> float:
    """The segment's length in seconds."""
    return len(segment) / 1000.0


def compact(segment: AudioSegment) -> bytes:
    """Encode for keeping: Opus in Ogg, the segment's own channels, 24 kbps per channel."""
    buffer = io.BytesIO()
    bitrate = f"{OPUS_KBPS_PER_CHANNEL * segment.channels}k"
    segment.export(buffer, format=COMPACT_FORMAT, codec="libopus", bitrate=bitrate)
    return buffer.getvalue()


# A copy is measured by decoding all of it at this rate, its samples counted as they stream out of
# ffmpeg in chunks of MEASURE_CHUNK bytes and never kept.
MEASURE_RATE = TELEPHONE_RATE
MEASURE_CHUNK = 1 << 16


@dataclass(frozen=True)
class Length:
    """How long a file plays, and in how many channels."""

    seconds: float
    channels: int


def decoded_length(data: bytes, kind: str = COMPACT_FORMAT) -> Length:
    """How long `data` (a `kind` file we wrote) plays, found by decoding every packet of it.

    Decoded whole in memory, an hour of two-channel Opus comes back at 48 kHz as 1.4 GB of samples (and
    pydub holds several copies), so ffmpeg decodes it at MEASURE_RATE into a pipe whose samples are
    counted and dropped: the memory taken does not grow with the recording. It stays an honest check: a
    copy cut short counts short, and one ffmpeg finds damaged (a page whose checksum fails, which it
    would skip) or cannot read is AudioRejected('corrupt').
    """
    with tempfile.NamedTemporaryFile(suffix=f".{kind}") as source, tempfile.TemporaryFile() as errors:
        source.write(data)
        source.flush()
        channels = _channels(source.name, kind)
        command = [
            AudioSegment.converter,
            "-nostdin",
            "-v",
            "error",
            "-f",
            kind,
            "-i",
            source.name,
            "-map",
            "0:a:0",
            "-f",
            "s16le",
            "-acodec",
            "pcm_s16le",
            "-ar",
            str(MEASURE_RATE),
            "-",
        ]
        count = 0
        with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors) as decoder:
            assert decoder.stdout is not None
            while chunk := decoder.stdout.read(MEASURE_CHUNK):
                count += len(chunk)
        errors.seek(0)
        complaint = errors.read(2000).decode("utf-8", "replace").strip()
    if decoder.returncode != 0 or complaint or count == 0:
        raise AudioRejected("corrupt", f"This file is not audio we can read in full ({complaint or 'no audio'}).")
    return Length(seconds=count / (2 * channels * MEASURE_RATE), channels=channels)


def _channels(path: str, kind: str) -> int:
    """The channels of the first audio stream of the `kind` file at `path` (ffprobe, its own demuxer)."""
    command = [get_prober_name(), "-v", "error", "-f", kind, "-of", "json", "-show_streams", "-select_streams", "a:0"]
    probed = subprocess.run([*command, path], capture_output=True, check=False)
    try:
        channels = int(json.loads(probed.stdout)["streams"][0]["channels"])
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise AudioRejected("corrupt", "This file holds no audio stream we can read.") from exc
    if probed.returncode != 0 or channels < 1:
        raise AudioRejected("corrupt", "This file holds no audio stream we can read.")
    return channels


def same_length(copy_seconds: float, original_seconds: float) -> bool:
    """Whether a copy is as long as the original, within DURATION_TOLERANCE (and 50 ms for tiny files)."""
    allowed = max(original_seconds * DURATION_TOLERANCE, 0.05)
    return abs(copy_seconds - original_seconds) <= allowed


@dataclass(frozen=True)
class PreparedPrompt:
    """A prompt ready to play on a phone line."""

    wav: bytes
    seconds: float
    level_dbfs: float


def prepare_prompt(data: bytes | Path, max_seconds: float) -> PreparedPrompt:
    """Telephony audio from any file: 8 kHz mono 16-bit, trimmed, at PROMPT_LEVEL_DBFS; refuses a
    corrupt or silent file, or one longer than `max_seconds` once trimmed."""
    read_limit = max_seconds + PROMPT_SILENCE_ALLOWANCE_SECONDS
    segment = _read(data, read_limit)
    if seconds(segment) >= read_limit - 0.05:
        # ffmpeg stopped at the limit: the file goes on, longer than a prompt may be, whatever its silences.
        raise AudioRejected(
            "too_long",
            f"This recording lasts over {read_limit:.0f} seconds; a prompt may last at most {max_seconds:.0f}.",
        )
    if segment.max_dBFS == -math.inf or segment.max_dBFS < SILENCE_DBFS:
        raise AudioRejected("silent", "This file is silent: there is nothing to play.")
    segment = trim(segment.set_channels(1).set_frame_rate(TELEPHONE_RATE).set_sample_width(2))
    if seconds(segment) > max_seconds:
        raise AudioRejected(
            "too_long",
            f"This recording lasts {seconds(segment):.0f} seconds; a prompt may last at most {max_seconds:.0f}.",
        )
    segment = normalise(segment)
    buffer = io.BytesIO()
    segment.export(buffer, format="wav")
    return PreparedPrompt(buffer.getvalue(), seconds(segment), round(segment.dBFS, 2))


def trim(segment: AudioSegment) -> AudioSegment:
    """Cut leading and trailing silence (quieter than SILENCE_DBFS)."""
    start = detect_leading_silence(segment, silence_threshold=SILENCE_DBFS)
    end = detect_leading_silence(segment.reverse(), silence_threshold=SILENCE_DBFS)
    trimmed = segment[start : len(segment) - end]
    return trimmed if len(trimmed) > 0 else segment


def normalise(segment: AudioSegment) -> AudioSegment:
    """Bring the average loudness to PROMPT_LEVEL_DBFS (within LEVEL_TOLERANCE_DB), peaks held under
    PEAK_CEILING_DBFS by ffmpeg's limiter where plain gain would push them over."""
    gain = PROMPT_LEVEL_DBFS - segment.dBFS
    if segment.max_dBFS + gain <= PEAK_CEILING_DBFS:
        return segment.apply_gain(gain)
    # Lowering the gain to spare the peaks would leave a file with one click or pop far too quiet, so
    # the limiter holds the peaks down instead; what it takes off the loudness is given back next pass.
    limited = segment
    for _ in range(LIMITER_PASSES):
        limited = _limit(segment, gain)
        miss = PROMPT_LEVEL_DBFS - limited.dBFS
        if abs(miss) <= LEVEL_TOLERANCE_DB / 2:
            break
        gain += miss
    return limited


def _limit(segment: AudioSegment, gain_db: float) -> AudioSegment:
    """`segment` raised by `gain_db` through ffmpeg's look-ahead limiter at PEAK_CEILING_DBFS, as telephony audio."""
    ceiling = 10 ** (PEAK_CEILING_DBFS / 20)
    # volume works in floating point, so nothing clips before the limiter; latency=1 keeps the timing.
    chain = f"volume={gain_db:.3f}dB,alimiter=limit={ceiling:.4f}:attack=5:release=50:level=0:latency=1"
    buffer = io.BytesIO()
    segment.export(
        buffer,
        format="wav",
        parameters=["-af", chain, "-ar", str(TELEPHONE_RATE), "-ac", "1", "-sample_fmt", "s16"],
    )
    return AudioSegment.from_file(io.BytesIO(buffer.getvalue()), format="wav")
