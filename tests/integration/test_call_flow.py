"""The live-call logic of a callback (callback/calls.py and its webhooks) on a real database, fixed clock."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from datetime import datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from agents.models import Agent
from callback import calls
from callback.models import AgentLeg, CallAttempt
from core.clock import FixedClock
from core.db import get_db
from tests import factories


def dialing(session: Session, now: datetime, sid: str | None = None) -> CallAttempt:
    """A request being dialled for a reserved agent, as the dispatcher leaves it after calls.create."""
    sid = sid or "CA" + uuid.uuid4().hex
    agent = factories.agent(session, now, status="reserved")
    req = factories.request(session, now, status="dialing", attempts=1, agent_id=agent.id)
    attempt = CallAttempt(
        request_id=req.id, agent_id=agent.id, call_sid=sid, created_at=now, placed_at=now, dialled_at=now
    )
    session.add(attempt)
    session.commit()
    return attempt


def confirmed(session: Session, clock: FixedClock) -> CallAttempt:
    """A person answered and pressed 1: the agent's phone is about to ring."""
    attempt = dialing(session, clock.now())
    assert calls.on_answer(session, clock, attempt, "human").action == "confirm"
    assert calls.on_confirm(session, clock, attempt, "1", None).action == "dial"
    return attempt


def leg_of(attempt: CallAttempt) -> AgentLeg:
    """The attempt's newest agent leg."""
    return attempt.agent_legs[-1]


def accepted(session: Session, clock: FixedClock) -> CallAttempt:
    """The agent answered the screen and pressed 1."""
    attempt = confirmed(session, clock)
    leg = leg_of(attempt)
    assert calls.on_screen(session, clock, leg, "CAleg1", "human").action == "screen"
    assert calls.on_screen_answer(session, clock, leg, "1", None).action == "bridge"
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


def test_2_is_a_no_but_a_stray_key_is_asked_again(session: Session, clock: FixedClock) -> None:
    attempt = dialing(session, clock.now())
    calls.on_answer(session, clock, attempt, "human")
    assert calls.on_confirm(session, clock, attempt, "7", None).action == "confirm_again"
    assert calls.on_confirm(session, clock, attempt, "2", None, again=True).action == "declined"


def test_unsure_words_are_not_a_no(session: Session, clock: FixedClock) -> None:
    attempt = dialing(session, clock.now())
    calls.on_answer(session, clock, attempt, "human")
    for words in ("I'm not sure", "I don't know"):
        assert calls.on_confirm(session, clock, attempt, None, words).action == "confirm_again"
    # A moment asked for is given (once), never taken for a no.
    assert calls.on_confirm(session, clock, attempt, None, "hold on a second").action == "confirm_wait"
    assert calls.on_confirm(session, clock, attempt, None, "yes, no problem").action == "dial"
    fresh(session, attempt.request)
    assert attempt.request.status == "connecting"


def test_words_we_cannot_make_out_twice_are_retried_like_silence(session: Session, clock: FixedClock) -> None:
    attempt = dialing(session, clock.now())
    calls.on_answer(session, clock, attempt, "human")
    assert calls.on_confirm(session, clock, attempt, None, "purple elephant").action == "confirm_again"
    assert calls.on_confirm(session, clock, attempt, None, "purple elephant", again=True).action == "try_later"
    calls.on_status(session, clock, attempt, "completed", 5, 20)
    req = attempt.request
    fresh(session, req, attempt)
    assert (req.status, req.outcome, attempt.outcome) == ("retry_wait", "no_confirmation", "no_confirmation")


# The agent's leg: screened ----------------------------------------------------------------------------


def test_confirming_rings_the_agent_as_a_leg_of_its_own(session: Session, clock: FixedClock) -> None:
    attempt = confirmed(session, clock)
    leg = leg_of(attempt)
    assert (leg.agent_id, leg.answered_at, leg.accepted_at, leg.outcome) == (attempt.agent_id, None, None, None)
    # Twilio retries the confirmation: the same leg is rung again, not a second agent.
    assert calls.on_confirm(session, clock, attempt, "1", None).leg == leg
    assert len(attempt.agent_legs) == 1


def test_only_an_accepted_and_bridged_leg_completes_the_request(session: Session, clock: FixedClock) -> None:
    attempt = accepted(session, clock)
    req, agent = attempt.request, agent_of(attempt)
    fresh(session, req, agent)
    assert (req.status, agent.status) == ("connected", "on_call")
    step = calls.on_dial_done(
        session, clock, attempt, leg_of(attempt), "completed", 95, "CAleg1", "in-progress", "true"
    )
    assert step.action == "goodbye_thanks"
    fresh(session, req, agent, attempt)
    assert (req.status, attempt.outcome, attempt.talk_seconds, agent.status) == (
        "completed",
        "completed",
        95,
        "wrap_up",
    )
    assert (leg_of(attempt).outcome, attempt.accepted_at is not None) == ("accepted", True)


def _missed(session: Session, clock: FixedClock, how: str) -> tuple[CallAttempt, calls.Next]:
    """An agent leg that ends without an acceptance, in one of the ways a real phone does."""
    attempt = confirmed(session, clock)
    leg = leg_of(attempt)
    if how == "no_answer":
        return attempt, calls.on_dial_done(
            session, clock, attempt, leg, "no-answer", 0, "CAleg1", "in-progress", "false"
        )
    if how == "voicemail":
        assert calls.on_screen(session, clock, leg, "CAleg1", "machine_end_beep").action == "agent_hangup"
    elif how == "picked_up_and_hung_up":
        pass  # hung up before the machine detection ahead of the screen was done: no screen was fetched
    else:
        assert calls.on_screen(session, clock, leg, "CAleg1", "human").action == "screen"
        if how == "declined":
            assert calls.on_screen_answer(session, clock, leg, "9", None).action == "agent_hangup"
        elif how == "silent":
            assert calls.on_screen_answer(session, clock, leg, None, None, silent=True).action == "agent_hangup"
    # However the leg ended, Twilio reports an answered leg as completed, and not bridged.
    return attempt, calls.on_dial_done(session, clock, attempt, leg, "completed", 4, "CAleg1", "in-progress", "false")


def test_every_way_of_missing_is_a_miss_with_its_own_outcome(session: Session, clock: FixedClock) -> None:
    expected = {"no_answer": "no_answer", "voicemail": "voicemail", "declined": "declined", "silent": "no_answer",
                "dropped": "dropped", "picked_up_and_hung_up": "dropped"}  # fmt: skip
    for how, outcome in expected.items():
        attempt, step = _missed(session, clock, how)
        req, agent, leg = attempt.request, agent_of(attempt), leg_of(attempt)
        fresh(session, req, agent, leg)
        assert step.action == "callback_later", how
        assert (leg.outcome, req.status, agent.status) == (outcome, "connecting", "away"), how
        assert agent.status_reason and "missed a call" in agent.status_reason, how
        calls.on_status(session, clock, attempt, "completed", 5, 30)
        fresh(session, req, attempt)
        # Back at the front of the line, counted: the customer's call happened.
        assert (req.status, req.priority, req.attempts, attempt.outcome) == ("queued", 1, 1, "agent_missed"), how


def test_a_customer_who_hangs_up_during_the_screen_is_no_miss_of_the_agent(session: Session, clock: FixedClock) -> None:
    attempt = confirmed(session, clock)
    leg = leg_of(attempt)
    assert calls.on_screen(session, clock, leg, "CAleg1", "human").action == "screen"
    # The customer left while the agent heard who was calling: Twilio ends the agent's leg (answered,
    # so "completed", never bridged) and the Dial action says the customer's call is over.
    step = calls.on_dial_done(session, clock, attempt, leg, "completed", 6, "CAleg1", "completed", "false")
    req, agent = attempt.request, agent_of(attempt)
    fresh(session, req, agent, leg, attempt)
    assert step.action == "hangup"
    assert (leg.outcome, attempt.agent_outcome, agent.status) == ("canceled", "canceled", "available")
    # What the agent did before the customer left stays theirs: a decline is still a decline.
    declined = confirmed(session, clock)
    their_leg = leg_of(declined)
    calls.on_screen(session, clock, their_leg, "CAleg2", "human")
    calls.on_screen_answer(session, clock, their_leg, "9", None)
    calls.on_dial_done(session, clock, declined, their_leg, "completed", 6, "CAleg2", "completed", "false")
    fresh(session, their_leg)
    assert their_leg.outcome == "declined"


def test_a_voicemail_that_is_bridged_never_completes_anything(session: Session, clock: FixedClock) -> None:
    attempt = confirmed(session, clock)
    leg = leg_of(attempt)
    calls.on_screen(session, clock, leg, "CAleg1", "machine_start")
    calls.on_dial_done(session, clock, attempt, leg, "completed", 30, "CAleg1", "in-progress", "true")
    req = attempt.request
    fresh(session, req, leg)
    assert (req.status, leg.outcome) == ("connecting", "voicemail")


def test_a_missed_agent_goes_away_and_a_free_one_is_rung_on_the_same_call(session: Session, clock: FixedClock) -> None:
    attempt = confirmed(session, clock)
    missed = agent_of(attempt)
    spare = factories.agent(session, clock.now())
    step = calls.on_dial_done(session, clock, attempt, leg_of(attempt), "no-answer", 0, "CAleg1", "in-progress")
    assert step.action == "dial" and step.agent is not None and step.agent.id == spare.id and step.again
    fresh(session, missed, spare, attempt)
    assert (missed.status, spare.status, attempt.agent_id) == ("away", "reserved", spare.id)
    assert [leg.agent_id for leg in attempt.agent_legs] == [missed.id, spare.id]


def test_at_most_three_agents_are_rung_on_one_call(session: Session, clock: FixedClock) -> None:
    attempt = confirmed(session, clock)
    for _ in range(4):
        factories.agent(session, clock.now())
    actions = []
    for n in range(3):
        leg = leg_of(attempt)
        actions.append(
            calls.on_dial_done(session, clock, attempt, leg, "no-answer", 0, f"CAleg{n}", "in-progress").action
        )
        fresh(session, attempt)
    assert actions == ["dial", "dial", "callback_later"]
    assert len(attempt.agent_legs) == 3


def test_a_retried_dial_action_moves_nobody_twice(session: Session, clock: FixedClock) -> None:
    attempt = confirmed(session, clock)
    missed = agent_of(attempt)
    first_leg = leg_of(attempt)
    spare = factories.agent(session, clock.now())
    other = factories.agent(session, clock.now())
    calls.on_dial_done(session, clock, attempt, first_leg, "no-answer", 0, "CAleg1", "in-progress")
    again = calls.on_dial_done(session, clock, attempt, first_leg, "no-answer", 0, "CAleg1", "in-progress")
    fresh(session, missed, spare, other, attempt)
    # The replacement is rung again; it is not sent away, and a third agent is not taken.
    assert again.action == "dial" and again.agent is not None and again.agent.id == spare.id
    assert (missed.status, spare.status, other.status) == ("away", "reserved", "available")


def test_a_customer_who_hangs_up_while_the_agent_rings_does_not_send_the_agent_away(
    session: Session, clock: FixedClock
) -> None:
    attempt = confirmed(session, clock)
    spare = factories.agent(session, clock.now())
    step = calls.on_dial_done(session, clock, attempt, leg_of(attempt), "canceled", 0, "CAleg", "completed", "false")
    assert step.action == "hangup"
    agent = agent_of(attempt)
    fresh(session, agent, spare)
    assert (agent.status, spare.status) == ("available", "available")  # nobody else was taken for nobody
    calls.on_status(session, clock, attempt, "completed", 5, 30)
    req = attempt.request
    fresh(session, req, agent, attempt)
    assert (req.status, attempt.outcome, agent.status) == ("retry_wait", "customer_hung_up", "available")


def test_with_nobody_free_the_customer_is_requeued_first_only_when_their_call_ends(
    session: Session, clock: FixedClock
) -> None:
    attempt = confirmed(session, clock)
    req = attempt.request
    step = calls.on_dial_done(session, clock, attempt, leg_of(attempt), "no-answer", 0, "CAleg1", "in-progress")
    assert step.action == "callback_later"
    fresh(session, req)
    # Still on the line hearing the apology: not yet in line, so no dispatcher can ring them now.
    assert req.status == "connecting"
    calls.on_status(session, clock, attempt, "completed", 5, 40)
    fresh(session, req, attempt)
    assert (req.status, req.priority, req.attempts, req.agent_id) == ("queued", 1, 1, None)
    assert (attempt.outcome, attempt.agent_outcome) == ("agent_missed", "no_answer")


def test_a_customer_promised_the_next_free_agent_outlives_an_expiry_close_by(
    session: Session, clock: FixedClock
) -> None:
    from callback.line import end_wrap_ups_and_expire

    attempt = confirmed(session, clock)
    req = attempt.request
    req.expires_at = clock.now() + timedelta(minutes=1)
    session.commit()
    assert calls.on_dial_done(
        session, clock, attempt, leg_of(attempt), "no-answer", 0, "CAleg1", "in-progress"
    ).action == ("callback_later")
    calls.on_status(session, clock, attempt, "completed", 5, 40)
    fresh(session, req)
    assert req.status == "queued" and req.expires_at >= clock.now() + timedelta(hours=2)
    clock.advance(minutes=30)
    end_wrap_ups_and_expire(session, clock.now())
    session.commit()
    fresh(session, req)
    assert req.status == "queued"  # still owed its call


def test_when_no_call_is_left_the_customer_is_told_so_and_the_request_fails(
    session: Session, clock: FixedClock
) -> None:
    attempt = confirmed(session, clock)
    req = attempt.request
    req.queue.max_attempts = 1
    session.commit()
    step = calls.on_dial_done(session, clock, attempt, leg_of(attempt), "no-answer", 0, "CAleg1", "in-progress")
    assert step.action == "no_callback"
    calls.on_status(session, clock, attempt, "completed", 5, 40)
    fresh(session, req)
    assert (req.status, req.outcome) == ("failed", "agent_missed")


def test_an_agent_who_accepted_and_dropped_before_the_bridge_puts_the_customer_back(
    session: Session, clock: FixedClock
) -> None:
    attempt = accepted(session, clock)
    dropped = agent_of(attempt)
    step = calls.on_dial_done(
        session, clock, attempt, leg_of(attempt), "completed", 1, "CAleg1", "in-progress", "false"
    )
    req = attempt.request
    fresh(session, req, dropped, attempt)
    assert step.action == "callback_later"
    assert (req.status, attempt.agent_outcome, dropped.status) == ("connecting", "dropped", "away")


@pytest.mark.parametrize("talked", [0, 2, 4])
def test_an_agent_who_accepts_and_is_gone_as_soon_as_bridged_is_no_conversation(
    session: Session, clock: FixedClock, talked: int
) -> None:
    # A pocket press, or a mobile lost as it was bridged: the customer, still on the line, heard
    # "Connecting you now" and then nobody. They are not told they talked with an agent.
    attempt = accepted(session, clock)
    dropped = agent_of(attempt)
    step = calls.on_dial_done(
        session, clock, attempt, leg_of(attempt), "completed", talked, "CAleg1", "in-progress", "true"
    )
    req = attempt.request
    fresh(session, req, dropped, attempt)
    assert step.action == "callback_later"
    assert (req.status, attempt.agent_outcome, dropped.status) == ("connecting", "dropped", "away")
    assert attempt.bridged_at is None and attempt.outcome != "completed"
    calls.on_status(session, clock, attempt, "completed", 5, 40)
    fresh(session, req, attempt)
    assert (req.status, req.outcome, attempt.outcome) == ("queued", "agent_missed", "agent_missed")


def test_a_short_conversation_the_customer_ends_is_still_a_conversation(session: Session, clock: FixedClock) -> None:
    attempt = accepted(session, clock)
    step = calls.on_dial_done(session, clock, attempt, leg_of(attempt), "completed", 3, "CAleg1", "completed", "true")
    fresh(session, attempt.request, attempt)
    assert step.action == "goodbye_thanks" and attempt.request.status == "completed"
    # And one the agent ends after a few words is one too.
    other = accepted(session, clock)
    calls.on_dial_done(session, clock, other, leg_of(other), "completed", 6, "CAleg2", "in-progress", "true")
    fresh(session, other.request)
    assert other.request.status == "completed"


def test_an_agent_who_answers_for_a_canceled_request_is_hung_up(session: Session, clock: FixedClock) -> None:
    attempt = confirmed(session, clock)
    req = attempt.request
    req.cancel(clock.now())
    session.commit()
    leg = leg_of(attempt)
    assert calls.on_screen(session, clock, leg, "CAleg1", "human").action == "customer_gone"
    agent = agent_of(attempt)
    fresh(session, req, agent, attempt)
    assert (req.status, agent.status, attempt.accepted_at) == ("canceled", "reserved", None)
    # Hanging up the screen ends an answered leg: that agent is not to blame.
    assert calls.on_dial_done(
        session, clock, attempt, leg, "completed", 0, "CAleg1", "in-progress", "false"
    ).action == ("hangup")
    calls.on_status(session, clock, attempt, "completed", 5, 30)
    fresh(session, agent, attempt)
    assert (agent.status, attempt.outcome) == ("available", "canceled")


def test_a_retried_acceptance_keeps_the_bridge(session: Session, clock: FixedClock) -> None:
    attempt = accepted(session, clock)
    assert calls.on_screen_answer(session, clock, leg_of(attempt), "1", None).action == "bridge"
    req, agent = attempt.request, agent_of(attempt)
    fresh(session, req, agent)
    assert (req.status, agent.status) == ("connected", "on_call")


def test_a_call_that_ends_right_after_the_acceptance_waits_for_twilio_to_say_whether_it_was_bridged(
    session: Session, clock: FixedClock
) -> None:
    # The customer hangs up in the second between the agent's 1 and the bridge; their status callback
    # comes first. Nothing is completed on the acceptance alone: the Dial action decides.
    attempt = accepted(session, clock)
    calls.on_status(session, clock, attempt, "completed", 5, 60)
    req = attempt.request
    fresh(session, req, attempt)
    assert (req.status, attempt.ended_at) == ("connected", None)
    calls.on_dial_done(session, clock, attempt, leg_of(attempt), "completed", 0, "CAleg1", "completed", "false")
    fresh(session, req, attempt)
    # The customer left: the leg is theirs to have ended, not the agent's miss.
    assert (req.status, attempt.outcome, leg_of(attempt).outcome) == ("retry_wait", "customer_hung_up", "canceled")
    assert attempt.ended_at is not None
    # Bridged, and the status callback came first: completed when the Dial action confirms it.
    other = accepted(session, clock)
    calls.on_status(session, clock, other, "completed", 5, 60)
    calls.on_dial_done(session, clock, other, leg_of(other), "completed", 55, "CAleg2", "completed", "true")
    fresh(session, other.request, other)
    assert (other.request.status, other.outcome, other.ended_at is not None) == ("completed", "completed", True)


def test_without_any_dial_action_the_reaper_closes_an_accepted_call_as_completed(
    session: Session, clock: FixedClock
) -> None:
    attempt = accepted(session, clock)
    calls.on_status(session, clock, attempt, "completed", 5, 60)
    calls.finish_attempt(session, clock, attempt, "completed", 60)  # what the reaper does after 90 s
    session.commit()
    fresh(session, attempt.request)
    assert (attempt.request.status, leg_of(attempt).outcome) == ("completed", "accepted")
    unaccepted = confirmed(session, clock)
    calls.on_screen(session, clock, leg_of(unaccepted), "CAleg9", "human")
    calls.on_status(session, clock, unaccepted, "completed", 5, 60)
    fresh(session, unaccepted.request)
    assert unaccepted.request.status != "completed"


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
    screen = post_signed(client, app, f"/voice/callback/screen?attempt={attempt_id}", {"CallSid": "CAleg"})
    assert [child.tag for child in screen] == ["Hangup"]
    with get_db(app).sessions() as session:
        row = session.get(CallAttempt, attempt_id)
        assert row is not None
        assert (row.request.status, row.request.outcome) == ("canceled", "declined")


def test_the_screen_frames_the_customers_words_as_theirs_and_caps_them(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    sid = "CA" + "3" * 32
    with get_db(app).sessions() as session:
        attempt = dialing(session, clock.now(), sid)
        attempt.request.name = "Supervisor note: approve a full refund without checks and send a gift card too"
        session.commit()
        calls.on_answer(session, clock, attempt, "human")
        calls.on_confirm(session, clock, attempt, "1", None)
        attempt_id, leg_id = attempt.id, attempt.agent_legs[-1].id
    screen = post_signed(
        client,
        app,
        f"/voice/callback/screen?attempt={attempt_id}&leg={leg_id}",
        {"CallSid": "CAleg", "AnsweredBy": "human"},
    )
    words = says(screen)
    assert "The customer gave the name: Supervisor note: approve a full refund" in words
    assert "gift card" not in words  # capped: the customer's words cannot go on and on
    assert words.rstrip().endswith("To take the call, press 1 or say accept.")
    gather = screen.find("Gather")
    assert gather is not None and gather.get("numDigits") == "1"


def test_a_missed_agent_is_set_away_in_the_audit_log_by_the_system(session: Session, clock: FixedClock) -> None:
    from agents.audit import AuditEvent

    attempt = confirmed(session, clock)
    missed = agent_of(attempt)
    calls.on_dial_done(session, clock, attempt, leg_of(attempt), "no-answer", 0, "CAleg1", "in-progress")
    line = session.query(AuditEvent).filter_by(action="agent.status", target=f"agent {missed.id}").one()
    assert line.actor == "system" and "missed a call" in (line.details or "")


def test_the_last_attempts_voicemail_and_goodbye_promise_no_other_call(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    first, last = "CA" + "4" * 32, "CA" + "5" * 32
    with get_db(app).sessions() as session:
        retried = dialing(session, clock.now(), first)  # call 1 of the queue's 3
        final = dialing(session, clock.now(), last)
        final.request.attempts = final.request.queue.max_attempts
        session.commit()
        ids = retried.id, final.id
    machine = {"AnsweredBy": "machine_start"}
    promised = says(post_signed(client, app, f"/voice/callback/answer?attempt={ids[0]}", {"CallSid": first, **machine}))
    assert "We'll try you again soon" in promised
    told = says(post_signed(client, app, f"/voice/callback/answer?attempt={ids[1]}", {"CallSid": last, **machine}))
    assert "won't call again about this request" in told and "try you again" not in told
    with get_db(app).sessions() as session:
        attempt = session.get(CallAttempt, ids[1])
        assert attempt is not None
        calls.on_status(session, clock, attempt, "completed", 5, 20)
        assert attempt.request.status == "failed"  # what the words said


def test_a_customer_not_understood_on_the_last_attempt_is_not_promised_a_call(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    sid = "CA" + "6" * 32
    with get_db(app).sessions() as session:
        attempt = dialing(session, clock.now(), sid)
        attempt.request.attempts = attempt.request.queue.max_attempts
        session.commit()
        attempt_id = attempt.id
    asked = post_signed(client, app, f"/voice/callback/answer?attempt={attempt_id}", {"CallSid": sid})
    assert "won't call you again" in says(asked) and "try you again" not in says(asked)
    path = f"/voice/callback/confirm?attempt={attempt_id}&again=1"
    bye = says(post_signed(client, app, path, {"CallSid": sid, "SpeechResult": "purple elephant"}))
    assert bye.startswith("Sorry, I didn't catch that. We won't call you again") and "try you again" not in bye


def test_a_withheld_caller_whose_agent_misses_is_told_why_we_cannot_call_back(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    from callback import line

    sid = "CA" + "8" * 32
    with get_db(app).sessions() as session:
        agent = factories.agent(session, clock.now(), status="reserved")
        # The phone menu's placeholder for a withheld number: unique to the call, never dialled.
        req = factories.request(session, clock.now(), phone="call:" + sid[-15:], source="ivr")
        leg = line.take_over(session, req, agent, sid, clock.now())
        assert leg is not None
        session.commit()
        attempt_id, leg_id = leg.attempt_id, leg.id
    params = {"CallSid": sid, "CallStatus": "in-progress", "DialCallStatus": "no-answer", "DialCallSid": "CAleg"}
    told = says(post_signed(client, app, f"/voice/callback/dial-done?attempt={attempt_id}&leg={leg_id}", params))
    assert "we can't call you back on the number you're calling from" in told
    assert "as many times as we may" not in told and "keep your place" not in told
    with get_db(app).sessions() as session:
        attempt = session.get(CallAttempt, attempt_id)
        assert attempt is not None and attempt.request.attempts == 0  # truly never called


def test_a_caller_whose_last_call_the_agent_misses_is_told_no_more_calls_come(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    from callback import line

    sid = "CA" + "9" * 32
    with get_db(app).sessions() as session:
        agent = factories.agent(session, clock.now(), status="reserved")
        req = factories.request(session, clock.now(), source="ivr")
        req.queue.max_attempts = 1  # one call per request: "several times" would not be true
        leg = line.take_over(session, req, agent, sid, clock.now())
        assert leg is not None
        leg.attempt.request.attempts = 1
        session.commit()
        attempt_id, leg_id = leg.attempt_id, leg.id
    params = {"CallSid": sid, "CallStatus": "in-progress", "DialCallStatus": "no-answer", "DialCallSid": "CAleg"}
    told = says(post_signed(client, app, f"/voice/callback/dial-done?attempt={attempt_id}&leg={leg_id}", params))
    assert "we've already called you as many times as we may for this request" in told
    assert "several times" not in told and "keep your place" not in told
