"""callback.recording: when a conversation is recorded, how the start fails safe, and what a report notes."""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.service import update_queue
from callback import recording
from callback import service as callbacks
from callback.models import AgentLeg, CallAttempt
from core.clock import FixedClock
from core.db import Database, get_db
from core.webhooks import FRAGMENT, Webhooks
from recordings import service
from recordings.models import Recording
from recordings.storage import LocalFolder
from telephony.fake import FakeTelephony
from telephony.port import NETWORK_ERROR, TelephonyError
from tests import factories
from tests.integration.test_ivr_webhooks import post
from tests.unit.test_recordings_transcode import telephone_wav

HOOKS = Webhooks("https://shop.example")
CUSTOMER_CALL = "CA" + "c" * 32
RECORDING = "RE" + "1" * 32


def _attempt(session: Session, clock: FixedClock, records: bool) -> tuple[CallAttempt, AgentLeg]:
    update_queue(session, "orders", {"recording": records})
    now = clock.now()
    agent = factories.agent(session, now, status="on_call")
    req = factories.request(session, now, status="connected", agent_id=agent.id)
    attempt = CallAttempt(request_id=req.id, agent_id=agent.id, created_at=now, call_sid=CUSTOMER_CALL)
    leg = AgentLeg(attempt=attempt, agent_id=agent.id, rung_at=now)
    session.add_all([attempt, leg])
    session.commit()
    return attempt, leg


def test_a_recording_queue_records_the_customers_call(session: Session, clock: FixedClock) -> None:
    attempt, leg = _attempt(session, clock, records=True)
    fake = FakeTelephony()

    recording.start(session, fake, HOOKS, attempt, leg, CUSTOMER_CALL)

    [(call_sid, sid, callback, dual)] = fake.started_recordings
    assert call_sid == CUSTOMER_CALL and dual
    assert callback == f"https://shop.example/voice/callback/recording?attempt={attempt.id}&leg={leg.id}#{FRAGMENT}"
    assert recording.notice(attempt.request) == recording.NOTICE
    assert leg.recording_sid == sid
    recording.start(session, fake, HOOKS, attempt, leg, CUSTOMER_CALL)  # a retried webhook
    assert len(fake.started_recordings) == 1


def test_a_queue_that_does_not_record_starts_nothing_and_gives_no_notice(session: Session, clock: FixedClock) -> None:
    attempt, leg = _attempt(session, clock, records=False)
    fake = FakeTelephony()

    recording.start(session, fake, HOOKS, attempt, leg, CUSTOMER_CALL)

    assert fake.started_recordings == [] and recording.notice(attempt.request) == ""


def test_a_recording_that_will_not_start_leaves_the_call_alone(session: Session, clock: FixedClock) -> None:
    attempt, leg = _attempt(session, clock, records=True)
    fake = FakeTelephony()
    fake.fail_next(TelephonyError(21220, "Call is not in-progress"))

    recording.start(session, fake, HOOKS, attempt, leg, CUSTOMER_CALL)  # logs, raises nothing

    assert fake.started_recordings == []


REPORT = {
    "RecordingStatus": "completed",
    "RecordingSid": RECORDING,
    "CallSid": CUSTOMER_CALL,
    "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/" + RECORDING,
    "RecordingDuration": "42",
    "RecordingChannels": "2",
}


def test_a_completed_report_is_noted_once_and_an_absent_one_not_at_all(session: Session, clock: FixedClock) -> None:
    attempt, leg = _attempt(session, clock, records=True)
    report = REPORT

    recording.reported(session, FakeTelephony(), attempt, leg, {**report, "RecordingStatus": "absent"}, clock.now())
    assert session.scalars(select(Recording)).all() == []
    recording.reported(session, FakeTelephony(), attempt, leg, report, clock.now())
    recording.reported(session, FakeTelephony(), attempt, leg, report, clock.now())  # Twilio retried the callback

    [noted] = session.scalars(select(Recording)).all()
    assert (noted.request_id, noted.attempt_id, noted.agent_id) == (attempt.request_id, attempt.id, leg.agent_id)
    assert (noted.channels, noted.provider_duration_seconds, noted.state, noted.kind) == (2, 42, "pending", "call")


def test_a_recording_reported_after_its_request_was_forgotten_is_deleted_at_the_provider_at_once(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    """Twilio reports a recording once it is processed, which may be after the customer's data was erased:
    it is deleted there at once and nothing of it is kept or fetched."""
    fake = FakeTelephony()
    app.extensions["telephony"] = fake
    db = get_db(app)
    with db.sessions() as session:
        attempt, leg = _attempt(session, clock, records=True)
        req = attempt.request
        req.status = "completed"
        session.commit()
        callbacks.forget(session, clock, req.ref)
        session.commit()
        path = f"/voice/callback/recording?attempt={attempt.id}&leg={leg.id}"
    fake.add_recording(RECORDING, telephone_wav(4.0, channels=2))

    answer = post(app, client, path, {**REPORT, "RecordingSource": "StartCallRecordingAPI"})

    assert answer.status_code == 204
    assert fake.deleted_recordings == [RECORDING] and RECORDING not in fake.recordings
    with db.sessions() as session:
        assert session.scalars(select(Recording)).all() == []
    store = app.extensions["audio_store"]
    assert service.fetch_due(db.sessions, fake, store, clock.now()).stored == 0
    assert fake.recording_fetches == []


def test_a_forgotten_requests_recording_that_twilio_would_not_delete_at_once_is_deleted_later_unfetched(
    session: Session, db: Database, clock: FixedClock, tmp_path: Path
) -> None:
    attempt, leg = _attempt(session, clock, records=True)
    attempt.request.status = "completed"
    session.commit()
    callbacks.forget(session, clock, attempt.request.ref)
    session.commit()
    fake = FakeTelephony()
    fake.add_recording(RECORDING, telephone_wav(4.0, channels=2))
    fake.fail_next(TelephonyError(NETWORK_ERROR, "connection reset", retryable=True))

    recording.reported(session, fake, attempt, leg, REPORT, clock.now())

    assert RECORDING in fake.recordings  # not deleted yet: the job tries again
    done = service.fetch_due(db.sessions, fake, LocalFolder(tmp_path), clock.now())
    assert done.stored == 0 and fake.recording_fetches == []
    assert fake.deleted_recordings == [RECORDING]
    with db.sessions() as s:
        assert s.scalars(select(Recording)).all() == []
    assert not any(tmp_path.rglob("*.ogg"))
