"""callback.recording: when a conversation is recorded, how the start fails safe, and what a report notes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.service import update_queue
from callback import recording
from callback.models import AgentLeg, CallAttempt
from core.clock import FixedClock
from core.webhooks import FRAGMENT, Webhooks
from recordings.models import Recording
from telephony.fake import FakeTelephony
from telephony.port import TelephonyError
from tests import factories

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


def test_a_completed_report_is_noted_once_and_an_absent_one_not_at_all(session: Session, clock: FixedClock) -> None:
    attempt, leg = _attempt(session, clock, records=True)
    report = {
        "RecordingStatus": "completed",
        "RecordingSid": RECORDING,
        "CallSid": CUSTOMER_CALL,
        "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/" + RECORDING,
        "RecordingDuration": "42",
        "RecordingChannels": "2",
    }

    recording.reported(session, attempt, leg, {**report, "RecordingStatus": "absent"}, clock.now())
    assert session.scalars(select(Recording)).all() == []
    recording.reported(session, attempt, leg, report, clock.now())
    recording.reported(session, attempt, leg, report, clock.now())  # Twilio retried the callback

    [noted] = session.scalars(select(Recording)).all()
    assert (noted.request_id, noted.attempt_id, noted.agent_id) == (attempt.request_id, attempt.id, leg.agent_id)
    assert (noted.channels, noted.provider_duration_seconds, noted.state, noted.kind) == (2, 42, "pending", "call")
