"""End to end through the sandbox: a recorded call's recording is brought home by the scheduler's job,
verified, stored, and deleted at the provider; a download that fails twice succeeds on the third try;
the retention job deletes exactly the expired recordings.

The webhook that notes a recording (the recording status callback) belongs to the call flow; here the
test notes it with recordings.service.note_recording, as that webhook will, from the sandbox's report.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from core.db import get_db
from recordings import audio, service
from recordings.models import Recording
from recordings.storage import AudioStore, sha256
from scheduler.runtime import retention_pass
from telephony.port import Telephony
from tests.e2e.conftest import SHOP_NUMBER, System, start_system

CUSTOMER = "+12025550181"


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    running, stop = start_system(tmp_path, recordings_dir=str(tmp_path / "recordings"))
    yield running
    stop()


def record_a_call(system: System, seconds: int = 3) -> dict[str, Any]:
    """Place a recorded call through the port to a customer who talks `seconds`, then hangs up."""
    system.phone(CUSTOMER, answer="human", hangup_after=seconds)
    telephony: Telephony = system.app.extensions["telephony"]
    call = telephony.place_call(CUSTOMER, SHOP_NUMBER, f"{system.app_url}/voice/incoming", record=True)

    def finished() -> dict[str, Any] | None:
        if system.call(call.sid)["status"] != "completed":
            return None
        held = requests.get(f"{system.sandbox_url}/sandbox/recordings", params={"call_sid": call.sid}, timeout=5)
        return next(iter(held.json()["recordings"]), None)

    recording: dict[str, Any] = system.wait(finished, message="the sandbox never finished the recorded call")
    assert recording["call_sid"] == call.sid
    return recording


def note(system: System, report: dict[str, Any], **extra: Any) -> int:
    """What the recording status webhook does with the provider's report."""
    clock = system.app.extensions["clock"]
    with get_db(system.app).sessions() as session:
        recording = service.note_recording(
            session,
            provider_sid=report["sid"],
            call_sid=report["call_sid"],
            url=report["media_url"],
            duration_seconds=int(report["duration"]),
            channels=int(report.get("channels") or 1),
            kind="call",
            request_id=None,
            attempt_id=None,
            agent_id=None,
            now=extra.pop("now", clock.now()),
        )
        session.commit()
        return recording.id


def row(system: System, recording_id: int) -> Recording | None:
    with get_db(system.app).sessions() as session:
        return session.get(Recording, recording_id)


def at_sandbox(system: System, sid: str) -> int:
    """The HTTP status of the recording's resource at the sandbox (200 held, 404 deleted)."""
    s = system.settings
    response = requests.get(
        f"{system.sandbox_url}/2010-04-01/Accounts/{s.twilio_account_sid}/Recordings/{sid}.json",
        auth=(s.twilio_account_sid, s.twilio_auth_token),
        timeout=5,
    )
    return response.status_code


def test_a_recorded_call_leaves_exactly_one_verified_recording_and_no_copy_at_the_provider(system: System) -> None:
    report = record_a_call(system)
    assert at_sandbox(system, report["sid"]) == 200
    recording_id = note(system, report)
    note(system, report)  # Twilio retries webhooks: the second report is the same recording

    stored = system.wait(
        lambda: (r := row(system, recording_id)) is not None and r.provider_deleted_at is not None and r,
        timeout=30,
        message="the recording was never brought home and deleted at the sandbox",
    )

    with get_db(system.app).sessions() as session:
        assert session.scalars(select(Recording.id)).all() == [recording_id]
    assert stored.state == "stored" and stored.format == "ogg" and stored.tries == 0
    store: AudioStore = system.app.extensions["audio_store"]
    data = store.get(stored.storage_key or "")
    assert sha256(data) == stored.sha256 and data[:4] == b"OggS"
    # Our copy lasts as long as the sandbox's WAV, within 1%.
    assert audio.same_length(stored.duration_seconds or 0.0, float(report["seconds"]))
    assert stored.provider_deleted_at >= stored.stored_at
    assert at_sandbox(system, report["sid"]) == 404


def test_a_download_that_fails_twice_succeeds_on_the_third_try_with_nothing_lost(system: System) -> None:
    report = record_a_call(system)
    rule = requests.post(
        f"{system.sandbox_url}/sandbox/faults/recording_media", json={"status": 503, "count": 2}, timeout=5
    )
    assert rule.status_code == 201, rule.text
    recording_id = note(system, report)
    # Drive the passes by hand, with the back-off skipped, so the test does not wait minutes.
    telephony = system.app.extensions["telephony"]
    store = system.app.extensions["audio_store"]
    sessions = get_db(system.app).sessions
    clock = system.app.extensions["clock"]
    now = clock.now() + timedelta(hours=1)

    passes, errors = [], []
    for _ in range(3):
        passes.append(service.fetch_due(sessions, telephony, store, now))
        current = row(system, recording_id)
        assert current is not None
        if current.state == "pending":
            errors.append(current.last_error or "")
            assert current.storage_key is None
            assert at_sandbox(system, report["sid"]) == 200  # still there while ours is missing
            now = current.next_try_at

    done = row(system, recording_id)
    assert [p.retried for p in passes] == [1, 1, 0] and passes[2].stored == 1
    assert len(errors) == 2 and all("503" in e or "unavailable" in e.lower() for e in errors), errors
    assert done is not None and done.state == "stored" and done.provider_deleted_at is not None
    assert done.tries == 2 and done.last_error is None
    assert at_sandbox(system, report["sid"]) == 404


def test_the_retention_job_deletes_exactly_the_expired_recordings(system: System) -> None:
    clock = system.app.extensions["clock"]
    days = system.settings.recording_retention_days
    old_report = record_a_call(system)
    old_id = note(system, old_report, now=clock.now() - timedelta(days=days, minutes=1))
    system.wait(lambda: (r := row(system, old_id)) is not None and r.provider_deleted_at, timeout=30)
    new_report = record_a_call(system)
    new_id = note(system, new_report, now=clock.now() - timedelta(days=days - 1))
    system.wait(lambda: (r := row(system, new_id)) is not None and r.provider_deleted_at, timeout=30)
    store: AudioStore = system.app.extensions["audio_store"]
    old_key = row(system, old_id).storage_key  # type: ignore[union-attr]
    new_key = row(system, new_id).storage_key  # type: ignore[union-attr]

    assert retention_pass(system.app) == 1

    assert row(system, old_id) is None and store.path(old_key or "") is None
    assert row(system, new_id) is not None and store.path(new_key or "") is not None


def test_the_adapter_reads_media_with_the_account_and_deletes_once(system: System) -> None:
    from telephony.port import TelephonyError

    report = record_a_call(system)
    telephony: Telephony = system.app.extensions["telephony"]

    wav = telephony.fetch_recording(report["sid"])

    assert wav[:4] == b"RIFF" and len(wav) == report["bytes"]
    assert telephony.delete_recording(report["sid"]) is True
    assert telephony.delete_recording(report["sid"]) is False  # already gone: not an error
    with pytest.raises(TelephonyError) as gone:
        telephony.fetch_recording(report["sid"])
    assert gone.value.status == 404
    with pytest.raises(TelephonyError):
        telephony.fetch_recording("../Calls.json")  # never sent: not a recording SID
