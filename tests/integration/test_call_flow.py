"""The live-call logic of a callback (callback/calls.py and its webhooks) on a real database, fixed clock."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from datetime import datetime

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from agents.models import Agent
from callback import calls
from callback.models import CallAttempt
from core.clock import FixedClock
from core.db import get_db
from tests import factories


def dialing(session: Session, now: datetime, sid: str = "CA" + "1" * 32) -> CallAttempt:
    """A request being dialled for a reserved agent, as the dispatcher leaves it after calls.create."""
    agent = factories.agent(session, now, status="reserved")
    req = factories.request(session, now, status="dialing", attempts=1, agent_id=agent.id)
    attempt = CallAttempt(request_id=req.id, agent_id=agent.id, call_sid=sid, created_at=now, placed_at=now)
    session.add(attempt)
    session.commit()
    return attempt


def confirmed(session: Session, clock: FixedClock) -> CallAttempt:
    """A person answered and pressed 1: the agent's phone is about to ring."""
    attempt = dialing(session, clock.now())
    assert calls.on_answer(session, clock, attempt, "human").action == "confirm"
    assert calls.on_confirm(session, clock, attempt, "1", None).action == "dial"
    return attempt


def fresh(session: Session, *objects: object) -> None:
    session.expire_all()
    for obj in objects:
        session.refresh(obj)


def agent_of(attempt: CallAttempt) -> Agent:
    assert attempt.agent is not None
    return attempt.agent


# Confirmation --------------------------------------------------------------------------------------


def test_a_clear_no_ends_the_request_and_frees_the_agent_at_once(session: Session, clock: FixedClock) -> None:
    attempt = dialing(session, clock.now())
    calls.on_answer(session, clock, attempt, "human")
    step = calls.on_confirm(session, clock, attempt, None, "No, thank you.")
    req, agent = attempt.request, agent_of(attempt)
    fresh(session, req, agent, attempt)
    assert step.action == "declined"
    assert (req.status, req.outcome, req.agent_id) == ("canceled", "declined", None)
    assert agent.status == "available"
    # The call then ends: nothing is retried, the outcome stays.
    calls.on_status(session, clock, attempt, "completed", 5, 20)
    fresh(session, req, attempt)
    assert (req.status, req.attempts, attempt.outcome) == ("canceled", 1, "declined")
    assert req.next_attempt_at is None


def test_another_key_than_1_is_a_no(session: Session, clock: FixedClock) -> None:
    attempt = dialing(session, clock.now())
    calls.on_answer(session, clock, attempt, "human")
    assert calls.on_confirm(session, clock, attempt, "2", None).action == "declined"


def test_words_we_cannot_make_out_are_retried_like_silence(session: Session, clock: FixedClock) -> None:
    attempt = dialing(session, clock.now())
    calls.on_answer(session, clock, attempt, "human")
    assert calls.on_confirm(session, clock, attempt, None, "who is this").action == "try_later"
    calls.on_status(session, clock, attempt, "completed", 5, 20)
    req = attempt.request
    fresh(session, req, attempt)
    assert (req.status, req.outcome, attempt.outcome) == ("retry_wait", "no_confirmation", "no_confirmation")


def test_yes_and_no_words() -> None:
    assert calls.is_yes(None, "Yes please.") and calls.is_yes("1", None)
    assert not calls.is_yes(None, "no") and not calls.is_yes(None, "yes no")
    assert calls.is_no(None, "Nope.") and calls.is_no("9", None)
    assert not calls.is_no(None, "what was that") and not calls.is_no("1", None)


# The agent's leg -----------------------------------------------------------------------------------


def test_a_customer_who_hangs_up_while_the_agent_rings_does_not_send_the_agent_away(
    session: Session, clock: FixedClock
) -> None:
    attempt = confirmed(session, clock)
    spare = factories.agent(session, clock.now())
    # Twilio requests the Dial action when the caller hangs up, with the caller's leg completed.
    step = calls.on_dial_done(
        session, clock, attempt, "no-answer", 0, dial_call_sid="CAleg", customer_status="completed"
    )
    assert step.action == "hangup"
    agent = agent_of(attempt)
    fresh(session, agent, spare)
    assert (agent.status, spare.status) == ("reserved", "available")  # nobody else was taken for nobody
    calls.on_status(session, clock, attempt, "completed", 5, 30)
    req = attempt.request
    fresh(session, req, agent, attempt)
    assert (req.status, attempt.outcome, agent.status) == ("retry_wait", "customer_hung_up", "available")


def test_a_missed_agent_goes_away_and_a_free_one_is_dialled(session: Session, clock: FixedClock) -> None:
    attempt = confirmed(session, clock)
    missed = agent_of(attempt)
    spare = factories.agent(session, clock.now())
    step = calls.on_dial_done(session, clock, attempt, "no-answer", 0, "CAleg1", "in-progress")
    assert step.action == "dial" and step.agent is not None and step.agent.id == spare.id
    fresh(session, missed, spare, attempt)
    assert (missed.status, spare.status, attempt.agent_id) == ("away", "reserved", spare.id)


def test_a_retried_dial_action_moves_nobody_twice(session: Session, clock: FixedClock) -> None:
    attempt = confirmed(session, clock)
    missed = agent_of(attempt)
    spare = factories.agent(session, clock.now())
    other = factories.agent(session, clock.now())
    calls.on_dial_done(session, clock, attempt, "no-answer", 0, "CAleg1", "in-progress")
    again = calls.on_dial_done(session, clock, attempt, "no-answer", 0, "CAleg1", "in-progress")
    fresh(session, missed, spare, other, attempt)
    # The replacement is rung again; it is not sent away, and a third agent is not taken.
    assert again.action == "dial" and again.agent is not None and again.agent.id == spare.id
    assert (missed.status, spare.status, other.status) == ("away", "reserved", "available")


def test_with_nobody_free_the_customer_is_requeued_first_only_when_their_call_ends(
    session: Session, clock: FixedClock
) -> None:
    attempt = confirmed(session, clock)
    req = attempt.request
    assert calls.on_dial_done(session, clock, attempt, "no-answer", 0, "CAleg1", "in-progress").action == (
        "callback_later"
    )
    fresh(session, req)
    # Still on the line hearing the apology: not yet in line, so no dispatcher can ring them now.
    assert req.status == "connecting"
    calls.on_status(session, clock, attempt, "completed", 5, 40)
    fresh(session, req, attempt)
    assert (req.status, req.priority, req.attempts, req.agent_id) == ("queued", 1, 1, None)
    assert (attempt.outcome, attempt.agent_outcome) == ("agent_missed", "no-answer")


def test_an_agent_dropping_during_the_whisper_puts_the_customer_back_to_connecting(
    session: Session, clock: FixedClock
) -> None:
    attempt = confirmed(session, clock)
    dropped = agent_of(attempt)
    assert calls.on_agent_answer(session, clock, attempt, "CAleg1").action == "whisper"
    step = calls.on_dial_done(session, clock, attempt, "no-answer", 0, "CAleg1", "in-progress")
    req = attempt.request
    fresh(session, req, dropped, attempt)
    assert step.action == "callback_later"
    assert (req.status, attempt.agent_outcome, dropped.status) == ("connecting", "dropped", "wrap_up")


def test_an_agent_who_answers_for_a_canceled_request_is_hung_up(session: Session, clock: FixedClock) -> None:
    attempt = confirmed(session, clock)
    req = attempt.request
    req.cancel(clock.now())
    session.commit()
    assert calls.on_agent_answer(session, clock, attempt, "CAleg1").action == "hangup"
    agent = agent_of(attempt)
    fresh(session, req, agent, attempt)
    assert (req.status, agent.status, attempt.bridged_at) == ("canceled", "reserved", None)
    # Hanging up the whisper makes the Dial report no-answer: that agent is not to blame.
    assert calls.on_dial_done(session, clock, attempt, "no-answer", 0, "CAleg1", "in-progress").action == "hangup"
    calls.on_status(session, clock, attempt, "completed", 5, 30)
    fresh(session, agent, attempt)
    assert (agent.status, attempt.outcome) == ("available", "canceled")


def test_a_retried_whisper_keeps_the_bridge(session: Session, clock: FixedClock) -> None:
    attempt = confirmed(session, clock)
    assert calls.on_agent_answer(session, clock, attempt, "CAleg1").action == "whisper"
    assert calls.on_agent_answer(session, clock, attempt, "CAleg1").action == "whisper"
    req, agent = attempt.request, agent_of(attempt)
    fresh(session, req, agent)
    assert (req.status, agent.status) == ("connected", "on_call")


def test_closing_an_attempt_never_frees_an_agent_another_attempt_holds(session: Session, clock: FixedClock) -> None:
    now = clock.now()
    attempt = dialing(session, now)
    agent = agent_of(attempt)
    # The agent was freed and claimed for another customer before this call's last callback arrived.
    other = factories.request(session, now, status="dialing", attempts=1, agent_id=agent.id)
    session.add(CallAttempt(request_id=other.id, agent_id=agent.id, created_at=now))
    session.commit()
    calls.on_status(session, clock, attempt, "no-answer", 3)
    fresh(session, agent, attempt)
    assert attempt.outcome == "no-answer"
    assert agent.status == "reserved"


def test_status_callbacks_of_a_finished_attempt_change_nothing(session: Session, clock: FixedClock) -> None:
    attempt = dialing(session, clock.now())
    calls.on_status(session, clock, attempt, "busy", 2)
    req = attempt.request
    fresh(session, req)
    first = (req.status, req.next_attempt_at, req.attempts)
    calls.on_status(session, clock, attempt, "completed", 3)  # late and different: the attempt is closed
    fresh(session, req, attempt)
    assert (req.status, req.next_attempt_at, req.attempts) == first
    assert attempt.outcome == "busy"


# The webhooks, signed as Twilio signs them ----------------------------------------------------------


def post_signed(client: FlaskClient, app: Flask, path: str, params: Mapping[str, str]) -> ET.Element:
    settings = app.config["SETTINGS"]
    url = settings.public_base_url.rstrip("/") + path
    signature = RequestValidator(settings.twilio_auth_token).compute_signature(url, dict(params))
    response = client.post(path, data=dict(params), headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200, response.text
    return ET.fromstring(response.data)


def says(root: ET.Element) -> str:
    return " ".join(say.text or "" for say in root.iter("Say"))


def test_the_confirm_webhook_says_goodbye_to_a_no_and_the_whisper_hangs_up_on_a_canceled_request(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    sid = "CA" + "2" * 32
    with get_db(app).sessions() as session:
        attempt = dialing(session, clock.now(), sid)
        calls.on_answer(session, clock, attempt, "human")
        attempt_id = attempt.id
    declined = post_signed(
        client, app, f"/voice/callback/confirm?attempt={attempt_id}", {"CallSid": sid, "SpeechResult": "no"}
    )
    assert "We won't connect you now" in says(declined)
    assert [child.tag for child in declined] == ["Say", "Hangup"]
    whisper = post_signed(client, app, f"/voice/callback/whisper?attempt={attempt_id}", {"CallSid": "CAleg"})
    assert [child.tag for child in whisper] == ["Hangup"]
    with get_db(app).sessions() as session:
        row = session.get(CallAttempt, attempt_id)
        assert row is not None
        assert (row.request.status, row.request.outcome) == ("canceled", "declined")
