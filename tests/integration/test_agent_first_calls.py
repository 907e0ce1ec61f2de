"""Agent-first calls (callback/agent_first.py and its webhooks) on a real database, fixed clock."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from agents import desk
from agents.models import Agent
from agents.service import update_queue
from callback import agent_first, calls, line, recording, twiml
from callback.models import AgentLeg, CallAttempt
from core.clock import FixedClock
from core.db import get_db
from core.errors import NotFound
from orders.fake import FakeOrderLookup
from telephony.fake import FakeTelephony
from tests import factories
from tests.integration.test_call_flow import fresh, post_signed, says


def accepted_by_the_agent(session: Session, clock: FixedClock, sid: str | None = None) -> CallAttempt:
    """An agent-first call: the agent answered and pressed 1, so the customer's phone is ringing."""
    now = clock.now()
    agent = factories.agent(session, now, status="reserved")
    req = factories.request(session, now, status="dialing", agent_id=agent.id)
    attempt = CallAttempt(
        request_id=req.id,
        agent_id=agent.id,
        call_sid=sid or "CA" + uuid.uuid4().hex,
        created_at=now,
        placed_at=now,
        agent_first=True,
    )
    session.add(attempt)
    session.add(AgentLeg(attempt=attempt, agent_id=agent.id, rung_at=now))
    session.commit()
    assert agent_first.on_agent_pickup(session, clock, attempt, "human").action == "offer"
    assert agent_first.on_agent_accept(session, clock, attempt, "1", line.Bounds()).action == "dial_customer"
    return attempt


def greeted(session: Session, clock: FixedClock) -> tuple[CallAttempt, Agent]:
    """An agent-first call the customer answered and was greeted on: talking with the agent."""
    attempt = accepted_by_the_agent(session, clock)
    assert attempt.agent is not None
    agent_first.on_customer_pickup(session, clock, attempt, "CCleg", "human")
    return attempt, attempt.agent


def test_the_customers_number_is_dialled_with_machine_detection() -> None:
    root = ET.fromstring(
        twiml.dial_customer("+12015550123", "+15005550006", "https://x/done", "https://x/greet", timeout=20)
    )
    number = root.find("Dial/Number")
    assert number is not None and number.text == "+12015550123"
    # DetectMessageEnd: a voicemail's greeting ends before the message is left, so it is recorded whole.
    assert (number.get("machineDetection"), number.get("url")) == ("DetectMessageEnd", "https://x/greet")


def test_the_status_page_says_an_agent_is_getting_ready_then_that_we_are_calling(
    app, session: Session, clock: FixedClock
) -> None:
    from callback.views import status_words

    now = clock.now()
    agent = factories.agent(session, now, status="reserved")
    req = factories.request(session, now, status="dialing", agent_id=agent.id)
    attempt = CallAttempt(request_id=req.id, agent_id=agent.id, call_sid="CA" + uuid.uuid4().hex, created_at=now,
                          placed_at=now, agent_first=True)  # fmt: skip
    session.add(attempt)
    session.add(AgentLeg(attempt=attempt, agent_id=agent.id, rung_at=now))
    session.commit()
    with app.test_request_context("/"):
        # Only the agent's phone rings: nothing for the customer to answer, nor any key to press.
        assert status_words(req) == "An agent is getting ready to call you. Please keep your phone near you."
        assert agent_first.on_agent_pickup(session, clock, attempt, "human").action == "offer"
        assert agent_first.on_agent_accept(session, clock, attempt, "1", line.Bounds()).action == "dial_customer"
        session.refresh(req)
        assert status_words(req) == "We're calling you now: answer, and we'll put you through to an agent."


def test_a_customers_voicemail_is_not_reached_and_is_retried(session: Session, clock: FixedClock) -> None:
    attempt = accepted_by_the_agent(session, clock)
    req, agent = attempt.request, attempt.agent
    assert agent is not None and agent.status == "on_call"
    step = agent_first.on_customer_pickup(session, clock, attempt, "CCleg", "machine_end_beep")
    fresh(session, req, attempt)
    assert step.action == "voicemail"
    assert (req.status, attempt.bridged_at, attempt.answered_by) == ("dialing", None, "machine_end_beep")
    # The message is left and the customer's leg ends, never bridged.
    step = agent_first.on_customer_dial_done(session, clock, attempt, "completed", 14)
    fresh(session, req, attempt, agent)
    assert step.action == "customer_voicemail"
    assert (req.status, req.outcome, req.attempts, attempt.outcome) == ("retry_wait", "machine", 1, "machine")
    assert req.next_attempt_at is not None and req.next_attempt_at > clock.now()
    # The agent's call then ends: the agent is let go, and the outcome stays "machine".
    calls.on_status(session, clock, attempt, "completed", 4, 40)
    fresh(session, req, attempt, agent)
    assert (req.status, attempt.outcome) == ("retry_wait", "machine")
    assert agent.status == "wrap_up" and agent.busy_until == clock.now()


def test_a_person_who_answers_is_still_greeted_and_connected(session: Session, clock: FixedClock) -> None:
    attempt = accepted_by_the_agent(session, clock)
    assert agent_first.on_customer_pickup(session, clock, attempt, "CCleg", "human").action == "greet"
    assert agent_first.on_customer_dial_done(session, clock, attempt, "completed", 60).action == "agent_thanks"
    fresh(session, attempt.request, attempt)
    assert (attempt.request.status, attempt.outcome, attempt.answered_by) == ("completed", "completed", "human")


def test_an_agent_whose_customer_hung_up_first_is_on_the_call_until_their_own_call_ends(
    session: Session, clock: FixedClock
) -> None:
    # The agent's call goes on after the customer's leg ("The customer hung up. Thank you."): freed
    # before it ends, the agent's phone would be rung for the next customer while still in use.
    attempt, agent = greeted(session, clock)
    req = attempt.request
    clock.advance(seconds=60)
    step = agent_first.on_customer_dial_done(
        session, clock, attempt, "completed", 58, dial_bridged="true", agent_call_status="in-progress"
    )
    fresh(session, req, attempt, agent)
    assert step.action == "agent_thanks" and (req.status, attempt.outcome) == ("completed", "completed")
    assert agent.status == "on_call"
    clock.advance(seconds=3)
    calls.on_status(session, clock, attempt, "completed", 4, 70)
    fresh(session, req, attempt, agent)
    wrap = req.queue.wrap_up_seconds
    assert agent.status == "wrap_up" and agent.busy_until == clock.now() + timedelta(seconds=wrap)
    assert (req.status, attempt.outcome) == ("completed", "completed")


def test_an_agent_whose_call_ended_with_the_customers_wraps_up_at_once(session: Session, clock: FixedClock) -> None:
    attempt, agent = greeted(session, clock)
    agent_first.on_customer_dial_done(
        session, clock, attempt, "completed", 58, dial_bridged="true", agent_call_status="completed"
    )
    fresh(session, attempt, agent)
    assert agent.status == "wrap_up"


def test_the_greeting_webhook_leaves_a_voicemail_and_the_agent_is_told(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    sid = "CA" + "7" * 32
    with get_db(app).sessions() as session:
        attempt = accepted_by_the_agent(session, clock, sid)
        attempt_id = attempt.id
    left = post_signed(
        client,
        app,
        f"/voice/callback/customer-greeting?attempt={attempt_id}",
        {"CallSid": "CC" + "7" * 32, "ParentCallSid": sid, "AnsweredBy": "machine_start"},
    )
    assert [child.tag for child in left] == ["Say", "Hangup"]
    assert "returning your call" in says(left) and "Connecting you" not in says(left)
    told = post_signed(
        client,
        app,
        f"/voice/callback/customer-done?attempt={attempt_id}",
        {"CallSid": sid, "DialCallStatus": "completed", "DialCallDuration": "12"},
    )
    assert "voicemail" in says(told) and [child.tag for child in told] == ["Say", "Hangup"]
    with get_db(app).sessions() as session:
        row = session.get(CallAttempt, attempt_id)
        assert row is not None
        assert (row.outcome, row.request.status) == ("machine", "retry_wait")


def test_a_customer_who_hangs_up_during_the_greeting_talked_to_nobody_and_is_called_again(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    """The greeting plays before the bridge: Twilio ends the Dial "completed" with DialBridged=false."""
    sid = "CA" + "8" * 32
    with get_db(app).sessions() as session:
        attempt = accepted_by_the_agent(session, clock, sid)
        attempt_id = attempt.id
    greeted = post_signed(
        client,
        app,
        f"/voice/callback/customer-greeting?attempt={attempt_id}",
        {"CallSid": "CC" + "8" * 32, "ParentCallSid": sid, "AnsweredBy": "human"},
    )
    assert "Connecting you" in says(greeted)
    clock.advance(seconds=2)
    form = {"CallSid": sid, "DialCallStatus": "completed", "DialCallDuration": "2", "DialBridged": "false"}
    told = post_signed(client, app, f"/voice/callback/customer-done?attempt={attempt_id}", form)
    assert "hung up before you were connected" in says(told) and "try them again" in says(told)
    with get_db(app).sessions() as session:  # the agent's call ends: its status callback closes the attempt
        row = session.get(CallAttempt, attempt_id)
        assert row is not None and row.agent is not None
        calls.on_status(session, clock, row, "completed", 5, 30)
        assert (row.request.status, row.request.outcome) == ("retry_wait", "customer_hung_up")
        assert (row.outcome, row.bridged_at, row.talk_seconds) == ("customer_hung_up", None, None)
        assert not any(leg.talked for leg in row.agent_legs)
        # Nothing to wrap up, nobody talked: free at the dispatcher's next look, not after a wrap-up time.
        assert row.agent.busy_until is not None and row.agent.busy_until <= clock.now()
    # Twilio retries the Dial action after the call closed: nothing moves twice.
    again = post_signed(client, app, f"/voice/callback/customer-done?attempt={attempt_id}", form)
    assert [child.tag for child in again] == ["Hangup"]
    with get_db(app).sessions() as session:
        row = session.get(CallAttempt, attempt_id)
        assert row is not None and (row.request.status, row.request.attempts) == ("retry_wait", 1)


@pytest.mark.parametrize("bridged", ["false", "true"])
def test_when_the_agents_call_ends_before_the_dial_action_the_dial_action_still_decides(
    app: Flask, client: FlaskClient, clock: FixedClock, bridged: str
) -> None:
    """The status callback of the agent's call, first, cannot tell a greeting hang-up from a conversation:
    it waits for the Dial action, which then closes the attempt either way."""
    sid = "CA" + "9" * 32
    with get_db(app).sessions() as session:
        attempt_id = accepted_by_the_agent(session, clock, sid).id
    post_signed(
        client,
        app,
        f"/voice/callback/customer-greeting?attempt={attempt_id}",
        {"CallSid": "CC" + "9" * 32, "ParentCallSid": sid, "AnsweredBy": "human"},
    )
    with get_db(app).sessions() as session:
        row = session.get(CallAttempt, attempt_id)
        assert row is not None
        calls.on_status(session, clock, row, "completed", 5, 40)
        assert row.ended_at is None  # held: the bridge is not known yet
    form = {"CallSid": sid, "DialCallStatus": "completed", "DialCallDuration": "30", "DialBridged": bridged}
    post_signed(client, app, f"/voice/callback/customer-done?attempt={attempt_id}", form)
    with get_db(app).sessions() as session:
        row = session.get(CallAttempt, attempt_id)
        assert row is not None and row.ended_at is not None
        expected = ("completed", "completed") if bridged == "true" else ("customer_hung_up", "retry_wait")
        assert (row.outcome, row.request.status) == expected


def test_a_customer_never_reached_is_no_conversation_on_the_agents_screen(session: Session, clock: FixedClock) -> None:
    attempt = accepted_by_the_agent(session, clock)
    req, agent = attempt.request, attempt.agent
    # The agent accepted; the customer's voicemail answered, and the agent's leg ended with the message.
    agent_first.on_customer_pickup(session, clock, attempt, "CCleg", "machine_end_beep")
    agent_first.on_customer_dial_done(session, clock, attempt, "completed", 14)
    calls.on_status(session, clock, attempt, "completed", 4, 40)
    fresh(session, req, attempt, agent)
    assert agent is not None

    screen = desk.state(session, agent, clock.now(), desk.OrderStatuses(), FakeOrderLookup([]))

    assert req.status == "retry_wait"
    assert screen["today"][0]["outcome_text"] == "Customer not reached" and not screen["today"][0]["taken"]
    assert screen["wrap_up"] is None
    with pytest.raises(NotFound):  # nothing to wrap up: no disposition on a request still to be called
        desk.dispose(session, agent, req.id, "resolved", "", clock.now(), None)


def test_a_customer_reached_is_a_conversation_to_wrap_up(session: Session, clock: FixedClock) -> None:
    attempt = accepted_by_the_agent(session, clock)
    req, agent = attempt.request, attempt.agent
    agent_first.on_customer_pickup(session, clock, attempt, "CCleg", "human")
    clock.advance(seconds=80)
    agent_first.on_customer_dial_done(session, clock, attempt, "completed", 80)
    fresh(session, req, attempt, agent)
    assert agent is not None

    screen = desk.state(session, agent, clock.now(), desk.OrderStatuses(), FakeOrderLookup([]))

    assert screen["today"][0]["outcome_text"] == "Talked" and screen["today"][0]["taken"]
    assert screen["wrap_up"] is not None and screen["wrap_up"]["request_id"] == req.id


def test_while_the_customers_phone_rings_the_agent_is_told_so_and_has_nothing_to_wrap_up(
    session: Session, clock: FixedClock
) -> None:
    attempt = accepted_by_the_agent(session, clock)
    assert attempt.agent is not None

    screen = desk.state(session, attempt.agent, clock.now(), desk.OrderStatuses(), FakeOrderLookup([]))

    assert screen["call"]["phase"] == "connecting" and "ringing the customer" in screen["call"]["phase_text"]
    assert screen["wrap_up"] is None


def test_a_customer_not_reached_after_an_earlier_conversation_shows_no_call_to_wrap_up(
    session: Session, clock: FixedClock
) -> None:
    first = accepted_by_the_agent(session, clock)
    agent = first.agent
    assert agent is not None
    agent_first.on_customer_pickup(session, clock, first, "CCleg", "human")
    clock.advance(seconds=80)
    agent_first.on_customer_dial_done(session, clock, first, "completed", 80)
    calls.on_status(session, clock, first, "completed", 90, 90)
    desk.dispose(session, agent, first.request.id, "resolved", "", clock.now(), None)
    session.commit()
    # The next agent-first call: the customer's voicemail answers.
    agent.status = "reserved"
    req = factories.request(session, clock.now(), status="dialing", agent_id=agent.id)
    attempt = CallAttempt(
        request_id=req.id, agent_id=agent.id, call_sid="CA" + uuid.uuid4().hex, created_at=clock.now(), agent_first=True
    )
    session.add(attempt)
    session.add(AgentLeg(attempt=attempt, agent_id=agent.id, rung_at=clock.now()))
    session.commit()
    agent_first.on_agent_pickup(session, clock, attempt, "human")
    agent_first.on_agent_accept(session, clock, attempt, "1", line.Bounds())
    agent_first.on_customer_pickup(session, clock, attempt, "CCleg2", "machine_end_beep")
    agent_first.on_customer_dial_done(session, clock, attempt, "completed", 14)
    calls.on_status(session, clock, attempt, "completed", 4, 40)
    fresh(session, req, attempt, agent)

    screen = desk.state(session, agent, clock.now(), desk.OrderStatuses(), FakeOrderLookup([]))

    assert screen["call"] is None  # not the earlier customer, whose call was wrapped up already


def test_once_the_customer_is_greeted_the_agent_is_talking_and_may_wrap_up_before_the_bridge_is_confirmed(
    session: Session, clock: FixedClock
) -> None:
    """Twilio confirms the bridge only when the call ends: meanwhile the greeting puts the call through."""
    attempt, agent = greeted(session, clock)
    req = attempt.request
    clock.advance(seconds=30)

    screen = desk.state(session, agent, clock.now(), desk.OrderStatuses(), FakeOrderLookup([]))

    assert attempt.bridged_at is None and attempt.greeted_at is not None
    assert screen["call"]["phase"] == "talking" and screen["today"][0]["taken"]
    assert screen["wrap_up"] is not None and screen["wrap_up"]["request_id"] == req.id
    assert desk.dispose(session, agent, req.id, "resolved", "", clock.now(), None).disposition == "resolved"


def test_a_recording_queue_records_the_customer_only_after_the_greeting_and_notice_once(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    """Consent: the pick-up starts nothing; the greeting's document, once the notice is said, redirects
    to the webhook that starts the recording, and a retry of it starts no second one."""
    fake = FakeTelephony()
    app.extensions["telephony"] = fake
    sid, customer_leg = "CA" + "6" * 32, "CA" + "5" * 32
    with get_db(app).sessions() as session:
        update_queue(session, "orders", {"recording": True})
        attempt_id = accepted_by_the_agent(session, clock, sid).id
    greeting = post_signed(
        client,
        app,
        f"/voice/callback/customer-greeting?attempt={attempt_id}",
        {"CallSid": customer_leg, "ParentCallSid": sid, "AnsweredBy": "human"},
    )
    assert fake.started_recordings == []
    assert [child.tag for child in greeting] == ["Say", "Say", "Redirect"]
    assert recording.NOTICE in (greeting[1].text or "")
    redirect = greeting[2].text or ""
    assert redirect.startswith(f"https://shop.example/voice/callback/customer-greeted?attempt={attempt_id}")
    path = redirect.removeprefix("https://shop.example").split("#")[0]
    for _ in range(2):  # Twilio retried it
        put_through = post_signed(client, app, path, {"CallSid": customer_leg, "ParentCallSid": sid})
        assert list(put_through) == []  # the end of the greeting's document bridges the two
    [(recorded_call, recording_sid, _callback, dual)] = fake.started_recordings
    assert (recorded_call, dual) == (customer_leg, True)
    with get_db(app).sessions() as session:
        row = session.get(CallAttempt, attempt_id)
        assert row is not None and row.agent_legs[0].recording_sid == recording_sid


def test_a_queue_that_does_not_record_greets_without_a_redirect(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    sid = "CA" + "4" * 32
    with get_db(app).sessions() as session:
        attempt_id = accepted_by_the_agent(session, clock, sid).id
    greeting = post_signed(
        client,
        app,
        f"/voice/callback/customer-greeting?attempt={attempt_id}",
        {"CallSid": "CA" + "3" * 32, "ParentCallSid": sid, "AnsweredBy": "human"},
    )
    assert [child.tag for child in greeting] == ["Say"]


def offered_to_the_agent(session: Session, clock: FixedClock) -> CallAttempt:
    """An agent-first attempt whose agent's phone is ringing: nothing said to the customer yet."""
    now = clock.now()
    agent = factories.agent(session, now, status="reserved")
    req = factories.request(session, now, status="dialing", agent_id=agent.id)
    attempt = CallAttempt(
        request_id=req.id, agent_id=agent.id, call_sid="CA" + uuid.uuid4().hex, created_at=now, placed_at=now,
        agent_first=True,
    )  # fmt: skip
    session.add(attempt)
    session.add(AgentLeg(attempt=attempt, agent_id=agent.id, rung_at=now))
    session.commit()
    return attempt


@pytest.mark.parametrize(
    ("answered_by", "digits", "outcome", "agent_outcome", "words"),
    [
        ("machine_start", None, "agent_missed", "voicemail", "not called: the agent missed it"),
        ("human", "", "agent_missed", "no_input", "not called: the agent missed it"),
        ("human", "7", "agent_declined", "declined", "not called: the agent passed"),
    ],
)
def test_an_agent_first_offer_not_taken_says_how_and_that_the_customer_was_never_called(
    session: Session,
    clock: FixedClock,
    answered_by: str,
    digits: str | None,
    outcome: str,
    agent_outcome: str,
    words: str,
) -> None:
    attempt = offered_to_the_agent(session, clock)
    agent_first.on_agent_pickup(session, clock, attempt, answered_by)
    if digits is not None:
        agent_first.on_agent_accept(session, clock, attempt, digits, line.Bounds())
    calls.on_status(session, clock, attempt, "completed", 4, 20)
    fresh(session, attempt.request, attempt)
    assert (attempt.outcome, attempt.agent_outcome, attempt.request.attempts) == (outcome, agent_outcome, 0)
    # The next agent's screen pop lists it among the earlier attempts, for what it was.
    shown = desk.pop(session, attempt.request, clock.now(), desk.OrderStatuses(), FakeOrderLookup([]))[
        "earlier_attempts"
    ]
    assert [line["text"] for line in shown] == [words]
