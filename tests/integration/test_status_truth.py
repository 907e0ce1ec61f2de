"""The status page tells the truth: its headline follows the live call and agrees with the history."""

from __future__ import annotations

import html
from datetime import timedelta

from flask import Flask

from callback import calls
from callback.models import CallAttempt
from core.clock import FixedClock
from core.db import get_db
from tests import factories


def page(app: Flask, ref: str) -> str:
    response = app.test_client().get(f"/callback/{ref}")
    assert response.status_code == 200
    return html.unescape(response.get_data(as_text=True))


def test_while_the_phone_rings_and_until_the_1_the_page_says_answer_and_press_1(app: Flask, clock: FixedClock) -> None:
    now = clock.now()
    with get_db(app).sessions() as session:
        agent = factories.agent(session, now, status="reserved")
        req = factories.request(session, now, status="dialing", attempts=1, agent_id=agent.id)
        attempt = CallAttempt(request_id=req.id, agent_id=agent.id, call_sid="CA" + "5" * 32, created_at=now,
                              dialled_at=now)  # fmt: skip
        session.add(attempt)
        session.commit()
        ref = req.ref
        assert "We're calling you now: answer, then press 1" in page(app, ref)
        calls.on_answer(session, clock, attempt, "human")
        text = page(app, ref)
        assert "We're calling you now: answer, then press 1" in text
        assert "answered, waiting for you to press 1" in text
        calls.on_confirm(session, clock, attempt, "1", None)
        assert "You pressed 1: we're putting you through" in page(app, ref)


def test_after_a_missed_agent_the_headline_and_the_history_agree(app: Flask, clock: FixedClock) -> None:
    now = clock.now()
    with get_db(app).sessions() as session:
        agent = factories.agent(session, now, status="reserved")
        req = factories.request(session, now, status="dialing", attempts=1, agent_id=agent.id)
        attempt = CallAttempt(request_id=req.id, agent_id=agent.id, call_sid="CA" + "6" * 32, created_at=now,
                              dialled_at=now)  # fmt: skip
        session.add(attempt)
        session.commit()
        calls.on_answer(session, clock, attempt, "human")
        calls.on_confirm(session, clock, attempt, "1", None)
        calls.on_dial_done(session, clock, attempt, attempt.agent_legs[-1], "no-answer", 0, "CAx", "in-progress")
        clock.advance(seconds=5)
        calls.on_status(session, clock, attempt, "completed", 4, 30)
        text = page(app, req.ref)
        assert "our agent couldn't take your call. You're at the front of the line" in text
        assert "you answered, but our agent couldn't take the call" in text
        # Out of calls: the request fails and says what the customer can do.
        req.queue.max_attempts = 1
        session.commit()
        req2 = factories.request(session, now - timedelta(minutes=1), status="dialing", attempts=1,
                                 agent_id=agent.id, topic="returns")  # fmt: skip
        req2.queue.max_attempts = 1
        a2 = CallAttempt(request_id=req2.id, agent_id=agent.id, call_sid="CA" + "7" * 32, created_at=now,
                         dialled_at=now)  # fmt: skip
        session.add(a2)
        session.commit()
        calls.on_answer(session, clock, a2, "human")
        calls.on_confirm(session, clock, a2, "1", None)
        calls.on_dial_done(session, clock, a2, a2.agent_legs[-1], "busy", 0, "CAy", "in-progress")
        calls.on_status(session, clock, a2, "completed", 4, 30)
        assert "Please ask for a callback again" in page(app, req2.ref)
