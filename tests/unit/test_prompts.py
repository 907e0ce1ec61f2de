"""The shop's prompts, with real ffmpeg: any format in, telephony WAV out, at one level, or refused with a reason."""

from __future__ import annotations

import http.server
import io
import os
import threading
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydub import AudioSegment
from pydub.generators import Sine, WhiteNoise
from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.audit import AuditEvent
from core.clock import FixedClock
from core.errors import InvalidInput
from core.webhooks import Webhooks
from recordings import prompts
from recordings.audio import PEAK_CEILING_DBFS, PROMPT_LEVEL_DBFS, AudioRejected, prepare_prompt
from recordings.models import Prompt
from recordings.storage import LocalFolder

HOOKS = Webhooks("https://shop.example")


def tone_file(
    seconds: float = 2.0, fmt: str = "wav", volume: float = -30.0, pad: float = 0.0, rate: int = 44100
) -> bytes:
    """A stereo 440 Hz tone of `seconds` at `volume` dBFS, with `pad` seconds of silence each side, as `fmt`."""
    tone = Sine(440, sample_rate=rate).to_audio_segment(duration=int(seconds * 1000), volume=volume)
    silence = AudioSegment.silent(duration=int(pad * 1000), frame_rate=rate)
    audio = (silence + tone + silence).set_channels(2)
    buffer = io.BytesIO()
    audio.export(buffer, format=fmt, **({"codec": "libvorbis"} if fmt == "ogg" else {}))
    return buffer.getvalue()


def silent_file(seconds: float = 3.0) -> bytes:
    """A WAV of digital silence."""
    buffer = io.BytesIO()
    AudioSegment.silent(duration=int(seconds * 1000), frame_rate=16000).export(buffer, format="wav")
    return buffer.getvalue()


@pytest.fixture
def store(tmp_path: Path) -> LocalFolder:
    return LocalFolder(tmp_path / "audio")


@pytest.fixture
def save(session: Session, store: LocalFolder, clock: FixedClock) -> Iterator[object]:
    def saving(name: str, data: bytes, max_seconds: float = 300, original_name: str | None = None) -> prompts.Saved:
        return prompts.save(session, store, clock, name, data, max_seconds=max_seconds, original_name=original_name)

    yield saving


def stored_files(store: LocalFolder) -> list[Path]:
    return sorted(path for path in store.root.rglob("*") if path.is_file()) if store.root.exists() else []


@pytest.mark.parametrize("fmt", ["wav", "mp3", "ogg"])
def test_any_format_becomes_8khz_mono_16_bit_wav_at_the_prompt_level(fmt: str, save, store: LocalFolder) -> None:
    saved = save("greeting", tone_file(seconds=2.0, fmt=fmt, volume=-35.0), original_name=f"hello.{fmt}")
    data = store.get(saved.prompt.storage_key)
    with wave.open(io.BytesIO(data)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (8000, 1, 2)
    measured = AudioSegment.from_file(io.BytesIO(data), format="wav").dBFS
    assert abs(measured - PROMPT_LEVEL_DBFS) <= 1.0, measured
    assert abs(saved.prompt.level_dbfs - measured) < 0.1
    assert saved.prompt.original_name == f"hello.{fmt}"


def test_a_loud_file_is_brought_down_to_the_prompt_level_too(save, store: LocalFolder) -> None:
    saved = save("loud", tone_file(volume=-4.0))
    measured = AudioSegment.from_file(io.BytesIO(store.get(saved.prompt.storage_key)), format="wav").dBFS
    assert abs(measured - PROMPT_LEVEL_DBFS) <= 1.0, measured


def test_a_click_in_a_quiet_file_does_not_keep_it_quiet_and_no_peak_passes_the_ceiling() -> None:
    # Plain gain to the level would push the click past full scale; lowering the gain to spare it would
    # leave the prompt some 12 dB too quiet. The limiter holds the click down instead.
    quiet = Sine(300, sample_rate=8000).to_audio_segment(duration=3000, volume=-40.0)
    click = WhiteNoise(sample_rate=8000).to_audio_segment(duration=5, volume=-2.0)
    buffer = io.BytesIO()
    quiet.overlay(click, position=1000).export(buffer, format="wav")
    prepared = prepare_prompt(buffer.getvalue(), 300)
    stored = AudioSegment.from_file(io.BytesIO(prepared.wav), format="wav")
    assert abs(stored.dBFS - PROMPT_LEVEL_DBFS) <= 1.0, stored.dBFS
    assert stored.max_dBFS <= PEAK_CEILING_DBFS + 0.01
    assert abs(len(stored) - 3000) <= 10  # the limiter keeps the timing


def test_leading_and_trailing_silence_is_trimmed(save, store: LocalFolder) -> None:
    saved = save("greeting", tone_file(seconds=2.0, pad=1.5))
    assert 1.9 <= saved.prompt.duration_seconds <= 2.1
    segment = AudioSegment.from_file(io.BytesIO(store.get(saved.prompt.storage_key)), format="wav")
    assert segment[:50].dBFS > -40 and segment[-50:].dBFS > -40  # sound from the first and to the last moment


def test_a_corrupt_file_is_refused_as_corrupt_and_nothing_is_kept(save, session: Session, store) -> None:
    damaged = bytearray(tone_file(fmt="wav"))
    damaged[12:] = os.urandom(len(damaged) - 12)  # a WAV's signature, then noise where its chunks were
    with pytest.raises(AudioRejected) as caught:
        save("greeting", bytes(damaged))
    assert caught.value.code == "corrupt" and "not audio we can read" in caught.value.message
    assert prompts.find(session, "greeting") is None and stored_files(store) == []


def test_a_file_that_is_no_audio_container_is_refused_before_ffmpeg_sees_it(save, session: Session, store) -> None:
    for data in (os.urandom(4096), b"%PDF-1.7\n" + os.urandom(400), b"Bonjour, merci d'appeler"):
        with pytest.raises(AudioRejected) as caught:
            save("greeting", data)
        assert caught.value.code == "unsupported" and "WAV, MP3" in caught.value.message
    assert prompts.find(session, "greeting") is None and stored_files(store) == []


@pytest.mark.parametrize("id3", [False, True])
def test_a_playlist_naming_an_address_is_refused_and_the_address_never_fetched(id3: bool) -> None:
    # ffmpeg left to guess reads an HLS playlist and fetches what it names: an upload must not make
    # the server request an address of the uploader's choosing (here, a listener on this machine).
    fetched: list[str] = []

    class Listener(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            fetched.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(tone_file(fmt="wav"))

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Listener)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/inside.wav"
        playlist = f"#EXTM3U\n#EXT-X-TARGETDURATION:10\n#EXTINF:10,\n{url}\n#EXT-X-ENDLIST\n".encode()
        if id3:  # an ID3 tag in front, as an MP3 has: what follows it must still be MPEG audio
            playlist = b"ID3\x04\x00\x00\x00\x00\x00\x00" + playlist
        with pytest.raises(AudioRejected) as caught:
            prepare_prompt(playlist, 300)
        assert caught.value.code == "unsupported"
    finally:
        server.shutdown()
        server.server_close()
    assert fetched == []


@pytest.mark.parametrize(("fmt", "codec"), [("flac", None), ("mp4", "aac"), ("webm", "libopus"), ("aiff", None)])
def test_the_other_containers_a_shop_may_have_are_taken(fmt: str, codec: str | None) -> None:
    tone = Sine(440, sample_rate=48000).to_audio_segment(duration=2000, volume=-30.0)
    buffer = io.BytesIO()
    tone.export(buffer, format=fmt, **({"codec": codec} if codec else {}))
    prepared = prepare_prompt(buffer.getvalue(), 300)
    assert 1.9 <= prepared.seconds <= 2.1


def test_a_truncated_mp3_is_refused_or_kept_whole_never_half() -> None:
    data = tone_file(fmt="mp3")[:200]
    with pytest.raises(AudioRejected) as caught:
        prepare_prompt(data, 300)
    assert caught.value.code == "corrupt"


def test_a_silent_file_is_refused_as_silent(save, session: Session, store) -> None:
    with pytest.raises(AudioRejected) as caught:
        save("greeting", silent_file())
    assert caught.value.code == "silent" and "silent" in caught.value.message
    assert prompts.find(session, "greeting") is None and stored_files(store) == []


def test_a_file_longer_than_the_limit_is_refused_with_its_length(save, session: Session) -> None:
    with pytest.raises(AudioRejected) as caught:
        save("greeting", tone_file(seconds=5.0), max_seconds=3)
    assert caught.value.code == "too_long"
    assert "5 seconds" in caught.value.message and "at most 3" in caught.value.message
    assert prompts.find(session, "greeting") is None


def test_the_limit_counts_the_sound_not_the_silence_around_it(save) -> None:
    saved = save("greeting", tone_file(seconds=2.5, pad=2.0), max_seconds=3)
    assert saved.prompt.duration_seconds <= 3


@pytest.mark.parametrize("name", ["", "Greeting", "hold music", "a/b", "../x", "é", "x" * 65])
def test_a_name_outside_the_rule_is_refused(name: str, save) -> None:
    with pytest.raises(InvalidInput) as caught:
        save(name, tone_file())
    assert caught.value.field == "name" and "lower-case" in caught.value.message


def test_replacing_writes_the_new_file_moves_the_row_and_deletes_the_old_file(
    save, session: Session, store: LocalFolder
) -> None:
    first = save("greeting", tone_file(seconds=1.0))
    first_key, first_url = first.prompt.storage_key, prompts.url(HOOKS, first.prompt)
    second = save("greeting", tone_file(seconds=2.0))
    assert second.replaced and not first.replaced
    assert second.prompt.storage_key != first_key
    assert store.path(first_key) is None and store.path(second.prompt.storage_key) is not None
    assert stored_files(store) == [store.path(second.prompt.storage_key)]
    assert prompts.url(HOOKS, second.prompt) != first_url  # caches keyed on the URL fetch the new audio
    assert len(session.scalars(select(Prompt)).all()) == 1
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.target == "prompt greeting")).all()
    assert actions == ["prompt.add", "prompt.replace"]


def test_a_refused_replacement_keeps_the_prompt_as_it_was(save, session: Session, store: LocalFolder) -> None:
    first = save("greeting", tone_file())
    with pytest.raises(AudioRejected):
        save("greeting", silent_file())
    kept = prompts.find(session, "greeting")
    assert kept is not None and kept.storage_key == first.prompt.storage_key
    assert store.path(kept.storage_key) is not None


def test_removing_deletes_the_row_and_the_file_and_is_audited(
    save, session: Session, store: LocalFolder, clock: FixedClock
) -> None:
    key = save("greeting", tone_file()).prompt.storage_key
    assert prompts.remove(session, store, clock, "greeting", actor="cli:test")
    assert prompts.find(session, "greeting") is None and store.path(key) is None
    assert not prompts.remove(session, store, clock, "greeting")
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "prompt.remove")).one()
    assert (event.target, event.actor) == ("prompt greeting", "cli:test")


def test_the_url_is_public_versioned_and_on_the_public_base(save) -> None:
    prompt = save("greeting", tone_file()).prompt
    assert prompts.url(HOOKS, prompt) == f"https://shop.example/audio/prompts/greeting.wav?v={prompt.sha256[:12]}"


def test_hold_music_is_the_generated_loop_until_the_shop_uploads_its_own(save, session: Session) -> None:
    assert prompts.hold_music_url(session, HOOKS) == "https://shop.example/audio/hold-music.wav"
    prompt = save(prompts.HOLD_MUSIC, tone_file()).prompt
    assert prompts.hold_music_url(session, HOOKS) == prompts.url(HOOKS, prompt)


def test_missing_lists_the_names_no_prompt_has_once_each(save, session: Session) -> None:
    save("greeting", tone_file())
    assert prompts.missing(session, ["greeting", "closed", "menu", "closed"]) == ["closed", "menu"]
    assert prompts.missing(session, []) == []


def test_a_long_file_is_refused_without_decoding_all_of_it() -> None:
    # Three minutes of tone as MP3: small to upload, big once decoded. Only the limit plus the
    # allowance for silence is read, which is how the message can only say "over".
    long_file = tone_file(seconds=180.0, fmt="mp3", rate=8000)
    with pytest.raises(AudioRejected) as caught:
        prepare_prompt(long_file, max_seconds=3)
    assert caught.value.code == "too_long"
    assert caught.value.message == "This recording lasts over 63 seconds; a prompt may last at most 3."
