"""The status page tells the truth: its headline follows the live call and agrees with the history."""

from __future__ import annotations

import html

from flask import Flask
from sqlalchemy.orm import Session

from callback import calls
from callback.models import CallAttempt
from core.clock import FixedClock
from core.db import get_db
from tests import factories


def dialling(session: Session, clock: FixedClock, sid: str, topic: str = "orders") -> CallAttempt:
    """A request whose customer we are calling now, for a reserved agent."""
    now = clock.now()
    agent = factories.agent(session, now, status="reserved")
    req = factories.request(session, now, status="dialing", attempts=1, agent_id=agent.id, topic=topic)
    attempt = CallAttempt(request_id=req.id, agent_id=agent.id, call_sid=sid, created_at=now, dialled_at=now)
    session.add(attempt)
    session.commit()
    return attempt


def page(app: Flask, ref: str) -> str:
    response = app.test_client().get(f"/callback/{ref}")
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def test_while_the_phone_rings_and_until_the_1_the_page_says_answer_and_press_1(app: Flask, clock: FixedClock) -> None:
    with get_db(app).sessions() as session:
        attempt = dialling(session, clock, "CA" + "5" * 32)
        ref = attempt.request.ref
        assert "We're calling you now: answer, then press 1" in page(app, ref)
        calls.on_answer(session, clock, attempt, "human")
        text = page(app, ref)
        assert "We're calling you now: answer, then press 1" in text
        assert "answered, waiting for you to press 1" in text
        calls.on_confirm(session, clock, attempt, "1", None)
        assert "You pressed 1: we're putting you through" in page(app, ref)


def test_after_a_missed_agent_the_headline_and_the_history_agree(app: Flask, clock: FixedClock) -> None:
    with get_db(app).sessions() as session:
        attempt = dialling(session, clock, "CA" + "6" * 32)
        req = attempt.request
        calls.on_answer(session, clock, attempt, "human")
        calls.on_confirm(session, clock, attempt, "1", None)
        calls.on_dial_done(session, clock, attempt, attempt.agent_legs[-1], "no-answer", 0, "CAx", "in-progress")
        clock.advance(seconds=5)
        calls.on_status(session, clock, attempt, "completed", 4, 30)
        text = page(app, req.ref)
        assert "our agent couldn't take your call. You're at the front of the line" in text
        assert "you answered, but our agent couldn't take the call" in text
        # Out of calls: the request fails and says what the customer can do.
        a2 = dialling(session, clock, "CA" + "7" * 32, topic="returns")
        req2 = a2.request
        req2.queue.max_attempts = 1
        session.commit()
        calls.on_answer(session, clock, a2, "human")
        calls.on_confirm(session, clock, a2, "1", None)
        calls.on_dial_done(session, clock, a2, a2.agent_legs[-1], "busy", 0, "CAy", "in-progress")
        calls.on_status(session, clock, a2, "completed", 4, 30)
        assert "Please ask for a callback again" in page(app, req2.ref)
