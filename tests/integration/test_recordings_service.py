"""Recordings brought home: verified copy before the provider's is deleted, retries with back-off,
giving up without losing anything, idempotent notes, retention and forgetting."""

from __future__ import annotations

import io
import logging
import threading
import tracemalloc
import wave
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from pydub import AudioSegment
from sqlalchemy import select
from sqlalchemy.orm import Session

from callback import service as callbacks
from core.clock import FixedClock
from core.db import Database
from core.errors import Conflict, InvalidInput
from recordings import audio, service
from recordings.models import Recording
from recordings.storage import LocalFolder, StorageError, sha256
from telephony.fake import FakeTelephony
from telephony.port import NETWORK_ERROR, TelephonyError
from tests import factories
from tests.unit.test_recordings_transcode import long_telephone_wav, telephone_wav

SID = "RE" + "a" * 32
OTHER_SID = "RE" + "b" * 32


@pytest.fixture
def store(tmp_path: Path) -> LocalFolder:
    return LocalFolder(tmp_path / "recordings")


@pytest.fixture
def telephony() -> FakeTelephony:
    return FakeTelephony()


def note(session: Session, now: datetime, sid: str = SID, duration: int | None = 3, **fields: object) -> Recording:
    values: dict[str, object] = {
        "call_sid": "CA" + "1" * 32,
        "url": f"https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/{sid}",
        "duration_seconds": duration,
        "channels": 1,
        "kind": "call",
        "request_id": None,
        "attempt_id": None,
        "agent_id": None,
        **fields,
    }
    recording = service.note_recording(session, provider_sid=sid, now=now, **values)  # type: ignore[arg-type]
    session.commit()
    return recording


def reload(db: Database, recording_id: int) -> Recording | None:
    with db.sessions() as s:
        return s.get(Recording, recording_id)


def test_a_recording_is_stored_verified_and_only_then_deleted_at_the_provider(
    db: Database, session: Session, clock: FixedClock, telephony: FakeTelephony, store: LocalFolder
) -> None:
    telephony.add_recording(SID, telephone_wav(3.0, channels=2))
    recording = note(session, clock.now(), channels=2)

    done = service.fetch_due(db.sessions, telephony, store, clock.now())

    kept = reload(db, recording.id)
    assert kept is not None
    assert (done.stored, done.deleted_at_provider) == (1, 1)
    assert kept.state == "stored" and kept.format == "ogg" and kept.channels == 2
    assert kept.duration_seconds is not None and abs(kept.duration_seconds - 3.0) <= 0.03
    assert kept.storage_key is not None
    data = store.get(kept.storage_key)
    assert kept.sha256 == sha256(data) and kept.bytes == len(data)
    assert kept.provider_deleted_at == clock.now() and kept.next_try_at is None
    assert telephony.deleted_recordings == [SID] and SID not in telephony.recordings
    # Nothing left to do: a second pass fetches nothing.
    assert service.fetch_due(db.sessions, telephony, store, clock.now() + timedelta(hours=1)).stored == 0
    assert telephony.recording_fetches == [SID]


def test_a_download_that_fails_twice_succeeds_on_the_third_try_with_back_off(
    db: Database, session: Session, clock: FixedClock, telephony: FakeTelephony, store: LocalFolder
) -> None:
    telephony.add_recording(SID, telephone_wav(3.0))
    recording = note(session, clock.now())
    telephony.fail_next(TelephonyError(NETWORK_ERROR, "connection reset", retryable=True), times=2)

    first = service.fetch_due(db.sessions, telephony, store, clock.now())
    after_first = reload(db, recording.id)
    assert after_first is not None
    assert first.retried == 1 and after_first.state == "pending" and after_first.tries == 1
    assert after_first.next_try_at == clock.now() + timedelta(seconds=30)
    assert "connection reset" in (after_first.last_error or "")
    # Not due yet: nothing is tried before the back-off has passed.
    assert service.fetch_due(db.sessions, telephony, store, clock.now() + timedelta(seconds=29)).retried == 0

    clock.advance(seconds=30)
    service.fetch_due(db.sessions, telephony, store, clock.now())
    after_second = reload(db, recording.id)
    assert after_second is not None and after_second.tries == 2
    assert after_second.next_try_at == clock.now() + timedelta(seconds=60)
    assert SID in telephony.recordings  # the provider's copy is untouched while ours is missing

    clock.advance(seconds=60)
    third = service.fetch_due(db.sessions, telephony, store, clock.now())
    stored = reload(db, recording.id)
    assert third.stored == 1 and stored is not None and stored.state == "stored"
    assert telephony.recording_fetches == [SID, SID, SID]
    assert telephony.deleted_recordings == [SID]


def test_back_off_doubles_up_to_an_hour() -> None:
    assert [service.backoff(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert service.backoff(8) == timedelta(hours=1)
    assert service.backoff(11) == timedelta(hours=1)


def test_after_many_failures_the_recording_is_failed_and_the_provider_keeps_its_copy(
    db: Database,
    session: Session,
    clock: FixedClock,
    telephony: FakeTelephony,
    store: LocalFolder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    telephony.add_recording(SID, b"this is not audio at all")
    recording = note(session, clock.now())

    with caplog.at_level(logging.WARNING, logger="recordings.service"):
        for _ in range(service.MAX_TRIES + 3):
            service.fetch_due(db.sessions, telephony, store, clock.now())
            clock.advance(seconds=service.MAX_BACKOFF.total_seconds())

    failed = reload(db, recording.id)
    assert failed is not None
    assert failed.state == "failed" and failed.tries == service.MAX_TRIES and failed.next_try_at is None
    assert failed.storage_key is None
    assert len(telephony.recording_fetches) == service.MAX_TRIES
    assert telephony.deleted_recordings == [] and SID in telephony.recordings
    assert any(r.levelno == logging.ERROR and "provider keeps its copy" in r.getMessage() for r in caplog.records)
    assert not any(store.root.rglob("*.ogg")) if store.root.exists() else True


def test_a_truncated_download_is_refused_and_retried(
    db: Database, session: Session, clock: FixedClock, telephony: FakeTelephony, store: LocalFolder
) -> None:
    # The provider says 10 seconds; the media we got lasts 4: a cut-off transfer, not the recording.
    telephony.add_recording(SID, telephone_wav(4.0))
    recording = note(session, clock.now(), duration=10)

    service.fetch_due(db.sessions, telephony, store, clock.now())

    kept = reload(db, recording.id)
    assert kept is not None and kept.state == "pending" and kept.tries == 1
    assert "provider reported 10 s" in (kept.last_error or "")
    assert telephony.deleted_recordings == []


def test_a_failed_delete_at_the_provider_is_retried_later_without_fetching_again(
    db: Database, session: Session, clock: FixedClock, telephony: FakeTelephony, store: LocalFolder
) -> None:
    telephony.add_recording(SID, telephone_wav(2.0))
    recording = note(session, clock.now(), duration=2)
    original_delete = telephony.delete_recording
    failures = iter([TelephonyError(500, "server error", retryable=True, status=500)])

    def flaky_delete(sid: str) -> bool:
        error = next(failures, None)
        if error is not None:
            raise error
        return original_delete(sid)

    telephony.delete_recording = flaky_delete  # type: ignore[method-assign]

    service.fetch_due(db.sessions, telephony, store, clock.now())
    kept = reload(db, recording.id)
    assert kept is not None and kept.state == "stored" and kept.provider_deleted_at is None
    assert kept.next_try_at == clock.now() + timedelta(seconds=30)

    clock.advance(seconds=30)
    done = service.fetch_due(db.sessions, telephony, store, clock.now())
    deleted = reload(db, recording.id)
    assert done.deleted_at_provider == 1 and deleted is not None and deleted.provider_deleted_at == clock.now()
    assert telephony.recording_fetches == [SID]


def test_a_claimed_recording_is_not_worked_on_by_a_second_process(
    db: Database, session: Session, clock: FixedClock, telephony: FakeTelephony, store: LocalFolder
) -> None:
    recording = note(session, clock.now())

    assert service._claim(db.sessions, recording.id, clock.now()) is True
    assert service._claim(db.sessions, recording.id, clock.now()) is False
    assert service.fetch_due(db.sessions, telephony, store, clock.now()).stored == 0
    assert telephony.recording_fetches == []


def test_a_repeated_report_notes_the_recording_once_and_fills_what_was_missing(
    db: Database, session: Session, clock: FixedClock
) -> None:
    agent = factories.agent(session, clock.now())
    first = note(session, clock.now(), duration=None)
    again = note(session, clock.now() + timedelta(seconds=5), duration=42, agent_id=agent.id, channels=2)

    assert again.id == first.id
    rows = session.scalars(select(Recording)).all()
    assert len(rows) == 1
    assert rows[0].provider_duration_seconds == 42 and rows[0].agent_id == agent.id
    # What the first report said stays: created_at, channels.
    assert rows[0].created_at == clock.now() and rows[0].channels == 1


def test_a_report_with_a_bad_sid_or_kind_is_refused(session: Session, clock: FixedClock) -> None:
    with pytest.raises(InvalidInput):
        note(session, clock.now(), sid="../../etc/passwd")
    with pytest.raises(InvalidInput):
        note(session, clock.now(), kind="video")
    assert session.scalars(select(Recording)).all() == []


def test_purge_deletes_exactly_the_expired_recordings_files_and_rows(
    db: Database,
    session: Session,
    clock: FixedClock,
    telephony: FakeTelephony,
    store: LocalFolder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = clock.now()
    telephony.add_recording(SID, telephone_wav(2.0))
    telephony.add_recording(OTHER_SID, telephone_wav(2.0))
    old = note(session, now - timedelta(days=91), duration=2)
    new = note(session, now - timedelta(days=89), sid=OTHER_SID, duration=2)
    service.fetch_due(db.sessions, telephony, store, now)
    old_key = reload(db, old.id).storage_key  # type: ignore[union-attr]
    new_key = reload(db, new.id).storage_key  # type: ignore[union-attr]
    assert old_key and new_key

    with caplog.at_level(logging.INFO, logger="recordings.service"), db.sessions() as s:
        deleted = service.purge(s, store, now - timedelta(days=90), now=now)

    assert deleted == 1
    assert reload(db, old.id) is None and store.path(old_key) is None
    assert reload(db, new.id) is not None and store.path(new_key) is not None
    logged = [r.__dict__.get("recording_id") for r in caplog.records if r.getMessage() == "recording deleted"]
    assert logged == [old.id]


def test_purge_deletes_a_provider_copy_never_brought_home(
    db: Database, session: Session, clock: FixedClock, telephony: FakeTelephony, store: LocalFolder
) -> None:
    telephony.add_recording(SID, b"not audio")
    old = note(session, clock.now() - timedelta(days=100))
    with db.sessions() as s:
        assert service.purge(s, store, clock.now() - timedelta(days=90), telephony, now=clock.now()) == 1
    assert reload(db, old.id) is None and SID not in telephony.recordings


def test_forgetting_a_request_removes_its_recordings_and_its_personal_data(
    db: Database, session: Session, clock: FixedClock, telephony: FakeTelephony, store: LocalFolder
) -> None:
    now = clock.now()
    req = factories.request(
        session, now, status="completed", order_number="A-1001", note="wants a refund", client_ip="203.0.113.9"
    )
    other = factories.request(session, now, status="completed")
    telephony.add_recording(SID, telephone_wav(2.0))
    telephony.add_recording(OTHER_SID, telephone_wav(2.0))
    mine = note(session, now, duration=2, request_id=req.id)
    theirs = note(session, now, sid=OTHER_SID, duration=2, request_id=other.id)
    service.fetch_due(db.sessions, telephony, store, now)
    key = reload(db, mine.id).storage_key  # type: ignore[union-attr]

    with db.sessions() as s:
        forgotten = callbacks.forget(s, clock, req.ref)
        s.commit()
        removed = service.forget_request(s, store, telephony, req.id, now=now)

    assert removed == 1
    assert reload(db, mine.id) is None and key and store.path(key) is None
    assert reload(db, theirs.id) is not None
    with db.sessions() as s:
        row = callbacks.staff_request(s, forgotten.id)
        assert row.name == callbacks.FORGOTTEN_NAME and row.phone == callbacks.FORGOTTEN_PHONE
        assert (row.order_number, row.note, row.client_ip, row.ivr_context) == (None, None, None, None)
        assert row.status == "completed"  # the row stays for the figures


def empty_wav() -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"")
    return buffer.getvalue()


@pytest.mark.parametrize("reported_seconds", [0, 3])
def test_a_recording_of_nothing_is_deleted_at_once_and_a_cut_download_tried_again(
    db: Database,
    session: Session,
    clock: FixedClock,
    telephony: FakeTelephony,
    store: LocalFolder,
    reported_seconds: int,
) -> None:
    # Reported as lasting 0 s (a customer who hangs up as the agent accepts), an empty file is nothing
    # recorded: deleted at the provider, not fetched for hours. Reported as lasting 3 s, it is a cut download.
    telephony.add_recording(SID, empty_wav())
    noted = note(session, clock.now(), duration=reported_seconds, channels=2)

    service.fetch_due(db.sessions, telephony, store, clock.now())

    kept = reload(db, noted.id)
    assert telephony.recording_fetches == [SID]
    if reported_seconds == 0:
        assert kept is None and telephony.deleted_recordings == [SID]
    else:
        assert kept is not None and kept.state == "pending" and kept.next_try_at is not None
        assert SID in telephony.recordings


class FetchFinishesMeanwhile(FakeTelephony):
    """While forgetting asks the provider to delete, the fetch job (another process: a thread with its
    own connection here) finishes its copy of the same recording, or waits on forgetting's lock."""

    def __init__(self, db: Database, store: LocalFolder, now: datetime) -> None:
        super().__init__()
        self.db, self.store, self.now = db, store, now
        self.fetch: threading.Thread | None = None

    def delete_recording(self, sid: str) -> bool:
        if self.fetch is None:
            self.fetch = threading.Thread(target=service.fetch_due, args=(self.db.sessions, self, self.store, self.now))
            self.fetch.start()
            self.fetch.join(timeout=2)  # SQLite: it stores meanwhile; PostgreSQL: it waits on our row lock
        return super().delete_recording(sid)


def test_a_copy_stored_while_its_recording_is_being_forgotten_is_deleted_too(
    db: Database, session: Session, clock: FixedClock, store: LocalFolder
) -> None:
    now = clock.now()
    telephony = FetchFinishesMeanwhile(db, store, now)
    req = factories.request(session, now, status="completed")
    telephony.add_recording(SID, telephone_wav(2.0))
    mine = note(session, now, duration=2, request_id=req.id)

    with db.sessions() as s:
        assert service.forget_request(s, store, telephony, req.id, now=now) == 1
    assert telephony.fetch is not None
    telephony.fetch.join(timeout=30)

    assert reload(db, mine.id) is None
    assert not [path for path in store.root.rglob("*") if path.is_file()], "a copy was left with no row"


def test_a_forget_that_fails_part_way_keeps_what_is_left_and_finishes_when_run_again(
    db: Database, session: Session, clock: FixedClock, telephony: FakeTelephony, store: LocalFolder
) -> None:
    now = clock.now()
    req = factories.request(session, now, status="completed")
    telephony.add_recording(SID, telephone_wav(2.0))
    telephony.add_recording(OTHER_SID, telephone_wav(2.0))
    first = note(session, now, duration=2, request_id=req.id)
    second = note(session, now, sid=OTHER_SID, duration=2, request_id=req.id)
    service.fetch_due(db.sessions, telephony, store, now)
    keys = [reload(db, r.id).storage_key for r in (first, second)]  # type: ignore[union-attr]
    # Twilio's copies were deleted once ours were checked; the second stays there by a failed delete.
    with db.sessions() as s:
        s.get(Recording, second.id).provider_deleted_at = None  # type: ignore[union-attr]
        s.commit()
    telephony.add_recording(OTHER_SID, telephone_wav(2.0))
    telephony.fail_next(TelephonyError(NETWORK_ERROR, "connection reset", status=None))

    with db.sessions() as s, pytest.raises(StorageError, match="1 of 2 recording"):
        service.forget_request(s, store, telephony, req.id, now=now)

    # The first is gone everywhere; the second is whole: its row, its file, playable as before.
    assert reload(db, first.id) is None and keys[0] and store.path(keys[0]) is None
    kept = reload(db, second.id)
    assert kept is not None and kept.state == "stored" and keys[1] and store.path(keys[1]) is not None
    assert kept.last_error and "connection reset" in kept.last_error

    with db.sessions() as s:
        assert service.forget_request(s, store, telephony, req.id, now=now) == 1
    assert reload(db, second.id) is None and store.path(keys[1]) is None and OTHER_SID not in telephony.recordings


def test_a_recording_whose_file_cannot_be_deleted_is_kept_and_never_fetched_again(
    db: Database, session: Session, clock: FixedClock, telephony: FakeTelephony, store: LocalFolder
) -> None:
    now = clock.now()
    req = factories.request(session, now, status="completed")
    telephony.add_recording(SID, b"not audio yet")
    pending = note(session, now, duration=2, request_id=req.id)
    with db.sessions() as s:
        s.get(Recording, pending.id).storage_key = "recordings/2026/gone.ogg"  # type: ignore[union-attr]
        s.commit()

    class Stuck(LocalFolder):
        def delete(self, key: str) -> bool:
            raise StorageError(f"could not delete {key}: read-only file system")

    with db.sessions() as s, pytest.raises(StorageError, match="0 of 1"):
        service.forget_request(s, Stuck(store.root), telephony, req.id, now=now)
    kept = reload(db, pending.id)
    assert kept is not None and kept.provider_deleted_at == now and kept.next_try_at is None
    assert SID not in telephony.recordings and "read-only" in (kept.last_error or "")


def test_a_request_on_the_line_is_not_forgotten_mid_call(session: Session, clock: FixedClock) -> None:
    req = factories.request(session, clock.now(), status="connected")
    with pytest.raises(Conflict):
        callbacks.forget(session, clock, req.ref)
    session.rollback()
    assert callbacks.get(session, req.ref).name == "Test Customer"


def test_a_waiting_request_is_canceled_when_forgotten(session: Session, clock: FixedClock) -> None:
    req = factories.request(session, clock.now(), status="queued")
    forgotten = callbacks.forget(session, clock, req.ref)
    session.commit()
    assert forgotten.status == "canceled" and forgotten.phone == callbacks.FORGOTTEN_PHONE


def test_copying_a_long_recording_holds_the_recording_not_its_copy_decoded_back(
    db: Database, session: Session, clock: FixedClock, telephony: FakeTelephony, store: LocalFolder
) -> None:
    """The copy was checked by decoding it back whole, at Opus's 48 kHz: six times the provider's WAV
    (an hour of two channels peaked at 4.3 GB). Its length is now counted as it streams past."""
    wav = long_telephone_wav(180, channels=2)
    telephony.add_recording(SID, wav)
    recording = note(session, clock.now(), duration=180, channels=2)

    tracemalloc.start()
    try:
        done = service.fetch_due(db.sessions, telephony, store, clock.now())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    kept = reload(db, recording.id)
    assert done.stored == 1 and kept is not None and kept.duration_seconds is not None
    assert abs(kept.duration_seconds - 180) <= 1.8
    # The WAV and the recording decoded at its own 8 kHz, each about once; not 6x the WAV decoded back.
    assert peak < 4 * len(wav)


@pytest.mark.parametrize("damage", ["cut short", "one bit flipped"])
def test_a_damaged_copy_is_refused_and_the_provider_keeps_its_copy(
    db: Database,
    session: Session,
    clock: FixedClock,
    telephony: FakeTelephony,
    store: LocalFolder,
    monkeypatch: pytest.MonkeyPatch,
    damage: str,
) -> None:
    compact = audio.compact

    def damaged(segment: AudioSegment) -> bytes:
        data = bytearray(compact(segment))
        if damage == "cut short":
            return bytes(data[: len(data) * 3 // 4])
        data[len(data) // 2] ^= 0x01
        return bytes(data)

    monkeypatch.setattr(audio, "compact", damaged)
    telephony.add_recording(SID, telephone_wav(20.0, channels=2))
    recording = note(session, clock.now(), duration=20, channels=2)

    done = service.fetch_due(db.sessions, telephony, store, clock.now())

    kept = reload(db, recording.id)
    assert done.retried == 1 and kept is not None and (kept.state, kept.tries) == ("pending", 1)
    assert "copy" in (kept.last_error or "")
    assert telephony.deleted_recordings == [] and SID in telephony.recordings
    assert not store.root.exists() or not any(store.root.rglob("*.ogg"))


class Killed(BaseException):
    """The process stopped mid-copy (killed, out of memory): nothing after this line runs."""


def test_a_copy_that_never_finishes_is_counted_and_given_up_after_the_last_try(
    db: Database,
    session: Session,
    clock: FixedClock,
    telephony: FakeTelephony,
    store: LocalFolder,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A try is counted when it starts: a process killed mid-copy, each time, is not retried forever."""
    telephony.add_recording(SID, telephone_wav(3.0))
    recording = note(session, clock.now())

    def killed(sid: str) -> bytes:
        telephony.recording_fetches.append(sid)
        raise Killed

    telephony.fetch_recording = killed  # type: ignore[method-assign]
    with caplog.at_level(logging.WARNING, logger="recordings.service"):
        for _ in range(service.MAX_TRIES + 3):
            with pytest.raises(Killed):
                service.fetch_due(db.sessions, telephony, store, clock.now())
            tried = reload(db, recording.id)
            assert tried is not None and tried.tries == len(telephony.recording_fetches)
            clock.advance(seconds=service.CLAIM_SECONDS)
            if len(telephony.recording_fetches) == service.MAX_TRIES:
                break
        service.fetch_due(db.sessions, telephony, store, clock.now())

    failed = reload(db, recording.id)
    assert failed is not None
    assert (failed.state, failed.tries, failed.next_try_at) == ("failed", service.MAX_TRIES, None)
    assert len(telephony.recording_fetches) == service.MAX_TRIES
    assert SID in telephony.recordings  # never deleted at the provider
    assert any(r.levelno == logging.ERROR and "provider keeps its copy" in r.getMessage() for r in caplog.records)
