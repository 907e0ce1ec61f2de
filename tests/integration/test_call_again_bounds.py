"""What the end of a call that did not reach the customer promises, and what then happens, are one rule
(callback.line.next_call_at, call_left): the queue's back-off, attempts and expiry, and the number's calls
in the day (MAX_CALLS_PER_NUMBER_PER_DAY), which the claim would otherwise refuse after the promise."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from agents.service import update_queue
from callback import line
from callback.models import CallAttempt, CallbackRequest
from core.clock import FixedClock
from tests import factories

BOUNDS = line.Bounds(min_seconds_between_calls=120, max_calls_per_number_per_day=4)
PHONE = "+12015550123"


def ending_call(
    session: Session,
    clock: FixedClock,
    attempts: int,
    max_attempts: int,
    hours_left: float,
    earlier_today: int,
    hours_ago: float = 1,
) -> CallbackRequest:
    """A request whose `attempts`-th call is ending unanswered now, its number called `earlier_today` more
    times `hours_ago` for another request of it, in a queue backing off 120 s, 600 s, 1800 s."""
    now = clock.now()
    update_queue(session, "orders", {"max_attempts": max_attempts, "backoff_seconds": "120,600,1800"})
    update_queue(session, "returns", {"max_attempts": 10})
    other = factories.request(session, now, topic="returns", phone=PHONE, status="completed")
    for n in range(earlier_today):
        at = now - timedelta(hours=hours_ago, seconds=n)
        session.add(CallAttempt(request_id=other.id, created_at=at, dialled_at=at, ended_at=at, outcome="completed"))
    req = factories.request(session, now, phone=PHONE, status="dialing", attempts=attempts)
    req.expires_at = now + timedelta(hours=hours_left)
    for n in range(attempts):
        at = now - timedelta(minutes=attempts - n)
        session.add(
            CallAttempt(request_id=req.id, created_at=at, dialled_at=at, ended_at=None if n == attempts - 1 else at)
        )
    session.commit()
    return req


@pytest.mark.parametrize(
    ("attempts", "max_attempts", "hours_left", "earlier_today"),
    list(itertools.product((1, 2, 3), (1, 3), (24, 0.01), (0, 2, 3))),
)
def test_next_call_at_says_what_schedule_retry_then_does(
    session: Session, clock: FixedClock, attempts: int, max_attempts: int, hours_left: float, earlier_today: int
) -> None:
    now = clock.now()
    req = ending_call(session, clock, attempts, max_attempts, hours_left, earlier_today)
    promised = line.next_call_at(session, req, now, BOUNDS)
    line.schedule_retry(session, req, "no-answer", now, BOUNDS)
    session.commit()
    if promised is None:
        assert req.status in {"failed", "expired"}, req.status
    else:
        assert (req.status, req.next_attempt_at) == ("retry_wait", promised)


def test_no_call_is_promised_that_the_numbers_day_does_not_allow(session: Session, clock: FixedClock) -> None:
    now = clock.now()
    # Four calls a day: three an hour ago for another request, this one the fourth: no fifth today.
    req = ending_call(session, clock, attempts=1, max_attempts=3, hours_left=24, earlier_today=3)
    req_calls = [c.dialled_at for c in session.query(CallAttempt).all()]
    assert len(req_calls) == 4
    assert line.next_call_at(session, req, now, BOUNDS) is None
    assert not line.call_left(session, req, now, BOUNDS)
    line.schedule_retry(session, req, "machine", now, BOUNDS)
    assert (req.status, req.outcome) == ("failed", line.DAILY_CALL_LIMIT)


def test_a_customer_whose_agent_was_lost_is_requeued_only_with_room_in_the_numbers_day(
    session: Session, clock: FixedClock
) -> None:
    now = clock.now()
    full = ending_call(session, clock, attempts=1, max_attempts=3, hours_left=24, earlier_today=3)
    assert not line.requeue_first(session, full, "agent_missed", now, BOUNDS)
    assert (full.status, full.outcome) == ("failed", line.DAILY_CALL_LIMIT)


def test_a_day_with_room_left_keeps_the_customer_first_in_line(session: Session, clock: FixedClock) -> None:
    now = clock.now()
    req = ending_call(session, clock, attempts=1, max_attempts=3, hours_left=24, earlier_today=2)
    assert line.call_left(session, req, now, BOUNDS)
    assert line.requeue_first(session, req, "agent_missed", now, BOUNDS)
    assert (req.status, req.outcome) == ("queued", "agent_missed")


def test_calls_that_leave_the_day_before_the_back_off_ends_make_room(session: Session, clock: FixedClock) -> None:
    now = clock.now()
    # The three earlier calls were placed a minute short of a day ago: gone from the day in the 120 s back-off.
    req = ending_call(session, clock, attempts=1, max_attempts=3, hours_left=48, earlier_today=3, hours_ago=23.99)
    assert line.next_call_at(session, req, now, BOUNDS) == now + timedelta(seconds=120)
