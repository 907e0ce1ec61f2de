"""callback.recording: when a conversation is recorded, how the start fails safe, and what a report notes."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.service import update_queue
from callback import calls, recording
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
from tests.integration.test_call_flow import dialing, post_signed
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


def test_a_call_passed_to_a_second_agent_keeps_each_agents_conversation_in_their_own_recording(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    """Agent 1 accepts (their recording starts) and drops before the bridge; agent 2 accepts. Agent 1's
    recording is on the customer's call and would go on until it ends, holding agent 2's conversation
    for agent 1 to play: it is stopped when agent 1's leg ends unbridged."""
    fake = FakeTelephony()
    app.extensions["telephony"] = fake
    customer = "CA" + "d" * 32
    db = get_db(app)
    with db.sessions() as session:
        update_queue(session, "orders", {"recording": True})
        attempt = dialing(session, clock.now(), customer)
        first_agent = attempt.agent_id
        second_agent = factories.agent(session, clock.now(), status="available").id
        calls.on_answer(session, clock, attempt, "human")
        assert calls.on_confirm(session, clock, attempt, "1", None).action == "dial"
        attempt_id, first_leg = attempt.id, attempt.agent_legs[-1].id

    def accept(leg: int, leg_call: str) -> None:
        query = f"?attempt={attempt_id}&leg={leg}"
        form = {"CallSid": leg_call, "ParentCallSid": customer, "AnsweredBy": "human"}
        post_signed(client, app, "/voice/callback/screen" + query, form)
        post_signed(client, app, "/voice/callback/screen-answer" + query, {**form, "Digits": "1"})

    accept(first_leg, "CA" + "e" * 32)
    [(_, first_recording, first_callback, _)] = fake.started_recordings
    assert fake.stopped_recordings == []
    dropped = {
        "CallSid": customer,
        "CallStatus": "in-progress",
        "DialCallStatus": "completed",
        "DialCallSid": "CA" + "e" * 32,
        "DialCallDuration": "2",
        "DialBridged": "false",
    }
    next_agent = post_signed(client, app, f"/voice/callback/dial-done?attempt={attempt_id}&leg={first_leg}", dropped)

    assert fake.stopped_recordings == [(customer, first_recording)]
    screen_url = next_agent.find("Dial/Number").get("url")  # type: ignore[union-attr]
    second_leg = int(screen_url.split("leg=")[1].split("#")[0].split("&")[0])  # type: ignore[union-attr]
    accept(second_leg, "CA" + "f" * 32)
    # Twilio retried the first leg's Dial action: nothing is stopped twice.
    post_signed(client, app, f"/voice/callback/dial-done?attempt={attempt_id}&leg={first_leg}", dropped)
    assert len(fake.stopped_recordings) == 1
    [_, (_, second_recording, second_callback, _)] = fake.started_recordings

    for sid, callback in ((first_recording, first_callback), (second_recording, second_callback)):
        path = callback.removeprefix("https://shop.example").split("#")[0]
        answer = post(app, client, path, {**REPORT, "RecordingSid": sid, "CallSid": customer})
        assert answer.status_code == 204
    with db.sessions() as session:
        owners = {r.provider_sid: r.agent_id for r in session.scalars(select(Recording))}
        legs = {leg.id: leg.recording_sid for leg in session.scalars(select(AgentLeg))}
    assert owners == {first_recording: first_agent, second_recording: second_agent}
    assert legs == {first_leg: first_recording, second_leg: second_recording}


def test_a_recording_that_cannot_be_stopped_leaves_the_call_alone(session: Session, clock: FixedClock) -> None:
    attempt, leg = _attempt(session, clock, records=True)
    fake = FakeTelephony()
    recording.start(session, fake, HOOKS, attempt, leg, CUSTOMER_CALL)
    fake.fail_next(TelephonyError(20404, "The requested resource was not found", status=404))

    recording.stop(fake, leg, CUSTOMER_CALL)  # logs, raises nothing

    assert fake.stopped_recordings == []


@pytest.mark.parametrize(
    "path", ["/voice/callback/recording?attempt=424242&leg=1", "/voice/ivr/message-recording?node=closed"]
)
def test_a_recording_reported_for_a_call_we_do_not_know_is_logged_and_left_at_twilio(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture, path: str
) -> None:
    """Not ours to delete (the account may serve other apps too), but not dropped without a trace."""
    fake = FakeTelephony()
    app.extensions["telephony"] = fake
    stranger = "CA" + "9" * 32
    fake.add_recording(RECORDING, telephone_wav(2.0))

    with caplog.at_level(logging.WARNING):
        answer = post(app, client, path, {**REPORT, "CallSid": stranger})

    assert answer.status_code == 204
    [line] = [r for r in caplog.records if r.__dict__.get("recording") == RECORDING]
    assert line.levelno == logging.WARNING and line.__dict__.get("call_sid") == stranger
    assert "unknown call" in line.getMessage()
    assert RECORDING in fake.recordings and fake.deleted_recordings == []
    with get_db(app).sessions() as session:
        assert session.scalars(select(Recording)).all() == []
