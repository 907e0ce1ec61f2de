"""The figures read from plain rows (reports.figures reads columns, not objects) as the objects read them.

The same Monday as tests/unit/test_figures.py: 23 November 2026 in New York, 05:00 UTC on the 23rd to
05:00 UTC on the 24th. The wrap-up that ends after the period, the agent of a call that names none,
rows of the status history at the same moment, the calls put through but not yet bridged, and the
bound on a period's requests; and, on a mixed history, every request and call figure equal to the one
computed from the ORM objects' own rules (CallbackRequest.wanted_at, CallAttempt.put_through_at).
"""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.models import Agent
from callback.models import DUPLICATE_ASK, AgentLeg, CallAttempt, CallbackRequest
from reports import figures
from tests import factories
from tests.unit.test_figures import LATER, MONDAY, NEW_YORK, at, attempt, monday, new_agent, only, request, statuses

REQUEST_FIELDS = (
    "offered",
    "completed",
    "failed",
    "canceled",
    "withdrawn",
    "canceled_by_shop",
    "expired",
    "still_open",
    "connected",
    "average_speed_of_answer_seconds",
    "service_level",
    "callback_success",
    "calls_placed",
    "calls_per_completion",
    "average_handle_seconds",
    "average_talk_seconds",
    "average_wrap_up_seconds",
    "quotes_compared",
    "quoted_wait_mae_seconds",
    "quoted_wait_bias_seconds",
)


def leg(session: Session, call: CallAttempt, agent: Agent, accepted: datetime | None, outcome: str | None) -> None:
    """An agent rung for `call`, who accepted at `accepted` (None: did not), the leg ending in `outcome`."""
    rung = accepted or call.created_at
    session.add(AgentLeg(attempt_id=call.id, agent_id=agent.id, rung_at=rung, accepted_at=accepted, outcome=outcome))
    session.commit()


def test_a_wrap_up_that_ends_after_the_period_is_read_past_its_end(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Read the rows after the period one at a time, so that reading on is seen to work.
    monkeypatch.setattr(figures._History, "CHUNK", 1)
    ana = new_agent(session)
    late = request(session, at(4, 50, day=24), "completed")  # 23:50 Monday in New York
    # Bridged at 23:55, talking until 00:10 Tuesday, wrapping up until 00:11:15 Tuesday.
    attempt(session, late, dialled=at(4, 51, day=24), bridged=at(4, 55, day=24), ended=at(5, 10, day=24), agent=ana)
    statuses(session, ana, (at(4, 51, day=24), "reserved"), (at(4, 55, day=24), "on_call"))
    statuses(session, ana, (at(5, 10, day=24), "away"), (at(5, 10, day=24), "wrap_up"))
    statuses(session, ana, (at(5, 11, 15, day=24), "available"), (at(6, day=24), "wrap_up"))

    row = only(monday(session))

    assert row.average_talk_seconds == 15 * 60
    assert row.average_wrap_up_seconds == 75
    assert row.average_handle_seconds == 15 * 60 + 75


def test_a_wrap_up_not_ended_after_the_period_gives_the_queues(session: Session) -> None:
    ana = new_agent(session)
    late = request(session, at(4, 50, day=24), "completed")
    attempt(session, late, dialled=at(4, 51, day=24), bridged=at(4, 55, day=24), ended=at(5, 10, day=24), agent=ana)
    statuses(session, ana, (at(4, 55, day=24), "on_call"), (at(5, 10, day=24), "wrap_up"))

    assert only(monday(session)).average_wrap_up_seconds == 30  # the queue's wrap_up_seconds


def test_a_call_that_names_no_agent_was_taken_by_the_last_agent_who_accepted(session: Session) -> None:
    ana, ben = new_agent(session), new_agent(session)
    req = request(session, at(14), "completed")
    call = attempt(session, req, dialled=at(14, 1), bridged=at(14, 3), ended=at(14, 8), talk=300)
    leg(session, call, ben, at(14, 2), "dropped")  # Ben accepted, then dropped before the bridge
    leg(session, call, ana, at(14, 3), "accepted")
    leg(session, call, ben, None, "no_answer")
    statuses(session, ben, (at(14, 2), "on_call"), (at(14, 2, 30), "wrap_up"), (at(14, 4, 9), "available"))
    statuses(session, ana, (at(14, 3), "on_call"), (at(14, 8), "wrap_up"), (at(14, 8, 40), "available"))

    row = only(monday(session))

    assert row.average_wrap_up_seconds == 40  # Ana's, not Ben's 99 s


def test_the_status_in_force_is_the_last_row_of_its_moment_on_each_queues_own_days(session: Session) -> None:
    factories.queue(session, "returns").timezone = "Europe/London"  # Monday is 00:00 to 00:00 UTC there
    session.commit()
    ana = new_agent(session, ("orders", "returns"))
    statuses(session, ana, (at(2), "away"))
    statuses(session, ana, (at(2), "available"), (at(3), "on_call"), (at(4), "wrap_up"))
    statuses(session, ana, (at(4), "available"))
    statuses(session, ana, (at(6), "offline"))

    result = monday(session, queue=None)
    orders, returns = result.queues[0], result.queues[1]

    # London: available 02-03, on a call 03-04, the wrap-up at 04:00 lasts no time, available 04-06.
    assert returns.agent_occupancy == pytest.approx(3600 / (3600 + 3600 + 7200))
    # New York starts at 05:00, when the last row of 04:00 (available) is in force: 05-06 available.
    assert orders.agent_occupancy == 0.0
    assert result.total is not None and result.total.agent_occupancy == 0.0


def test_a_period_of_more_requests_than_the_bound_is_refused_before_it_is_read(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(figures, "MOST_REQUESTS", 2)
    request(session, at(14), "completed")
    request(session, at(15), "queued")
    request(session, at(15), "canceled", outcome=DUPLICATE_ASK)  # not a request: not counted
    request(session, at(16), "failed", topic="returns")

    assert only(monday(session)).offered == 2  # one queue: its own requests
    with pytest.raises(figures.TooManyRequests) as refused:
        monday(session, queue=None)
    assert str(refused.value) == (
        "This period has more than 2 requests, more than the figures are computed for at once: "
        "choose a shorter period, or one queue."
    )


# --- the same figures as the objects give ---------------------------------------------------------------


def facts_from_objects(session: Session, now: datetime) -> tuple[list[figures.RequestFacts], list[figures.CallFacts]]:
    """Monday's orders requests and calls read from the ORM objects, with the models' own rules: the
    reference the row reader must equal (the wrap-ups here are the queue's: no agent has status rows)."""
    since, until = figures.day_bounds(MONDAY, MONDAY, NEW_YORK)
    requests, calls = [], []
    for req in session.scalars(
        select(CallbackRequest)
        .where(CallbackRequest.created_at >= since, CallbackRequest.created_at < until)
        .order_by(CallbackRequest.id)
    ):
        if req.outcome == DUPLICATE_ASK or req.queue.name != "orders":
            continue
        bridged = [a for a in req.call_attempts if a.bridged_at is not None]
        connected = min((a.bridged_at for a in bridged if a.bridged_at), default=None)
        if connected is None and req.status == "connected":
            connected = min((a.put_through_at for a in req.call_attempts if a.put_through_at), default=None)
        requests.append(
            figures.RequestFacts(
                queue="orders",
                status=req.status,
                outcome=req.outcome,
                created_at=req.created_at,
                due_at=req.wanted_at,
                finished_at=req.updated_at,
                connected_at=connected,
                calls_placed=sum(1 for a in req.call_attempts if a.dialled_at is not None),
                quoted_wait_seconds=req.quoted_wait_seconds,
                service_level_seconds=req.queue.service_level_seconds,
            )
        )
        for call in bridged:
            assert call.bridged_at is not None
            if call.talk_seconds is not None:
                calls.append(figures.CallFacts("orders", float(call.talk_seconds), req.queue.wrap_up_seconds))
            elif call.ended_at is not None:
                talk = max(0.0, (call.ended_at - call.bridged_at).total_seconds())
                calls.append(figures.CallFacts("orders", talk, req.queue.wrap_up_seconds))
    return requests, calls


def test_every_request_and_call_figure_equals_the_one_the_objects_give(session: Session) -> None:
    ana, ben = new_agent(session), new_agent(session)
    # Completed on the second call (the first unanswered), asked at 09:00 local, quoted 10 minutes.
    done = request(session, at(14), "completed", quoted_wait_seconds=600)
    attempt(session, done, dialled=at(14, 1))
    attempt(session, done, dialled=at(14, 11), bridged=at(14, 12, 30), ended=at(14, 20), talk=450, agent=ana)
    # No talk time from Twilio: bridged to ended; and no agent on the attempt, only an accepted leg.
    untimed = request(session, at(15), "completed", quoted_wait_seconds=60)
    call = attempt(session, untimed, dialled=at(15, 2), bridged=at(15, 3, 7), ended=at(15, 9, 1))
    leg(session, call, ben, at(15, 3, 7), "accepted")
    # On the line now, customer-first: the first agent dropped, the second accepted at 16:09:30.
    talking = request(session, at(16), "connected", quoted_wait_seconds=300)
    call = attempt(session, talking, dialled=at(16, 8))
    leg(session, call, ben, at(16, 8, 40), "dropped")
    leg(session, call, ana, at(16, 9, 30), None)
    # On the line now, agent-first: put through at the customer's greeting; another not yet greeted.
    greeted = request(session, at(17), "connected")
    call = attempt(session, greeted, dialled=at(17, 4))
    call.agent_first, call.greeted_at = True, at(17, 4, 12)
    ungreeted = request(session, at(17, 30), "connected")
    call = attempt(session, ungreeted, dialled=at(17, 31))
    call.agent_first = True
    leg(session, call, ana, at(17, 31), None)
    # "Connected" with its only acceptance dropped: nobody is on the line with them.
    dropped = request(session, at(17, 40), "connected")
    call = attempt(session, dropped, dialled=at(17, 41))
    leg(session, call, ben, at(17, 41, 30), "dropped")
    # Booked for 19:00 and reached early (counts 0 s), made before midnight and answered after.
    booked = request(session, at(18), "completed", not_before=at(19), quoted_wait_seconds=3600)
    attempt(session, booked, dialled=at(18, 50), bridged=at(18, 51), ended=at(18, 55), talk=240, agent=ben)
    late = request(session, at(4, 40, day=24), "completed", quoted_wait_seconds=900)
    attempt(session, late, dialled=at(5, 20, day=24), bridged=at(5, 21, day=24), ended=at(5, 30, day=24), talk=540)
    # Failed after three calls; withdrawn; canceled by us; a duplicate ask; one of another queue.
    failed = request(session, at(20), "failed", outcome="no-answer")
    for minute in (1, 15, 30):
        attempt(session, failed, dialled=at(20, minute))
    request(session, at(21), "canceled", outcome="canceled_by_customer", updated_at=at(21, 2))
    request(session, at(21), "canceled", updated_at=at(21, 3))
    request(session, at(21), "canceled", outcome=DUPLICATE_ASK)
    request(session, at(21), "completed", topic="returns")

    row = only(monday(session))
    bounds = figures.bounds_of(figures.Days(MONDAY, MONDAY), NEW_YORK)
    reference = figures.compute("orders", bounds, *facts_from_objects(session, LATER), [], [], LATER, 900)

    # Not the duplicate ask, nor the returns request; neither the agent-first call nobody
    # greeted nor the one whose only acceptance was dropped is a connection.
    assert (row.offered, row.completed, row.connected, row.calls_placed, row.canceled) == (11, 4, 6, 12, 2)
    # Due to connected: 750 s, 187 s, 570 s (the second acceptance), 252 s (the greeting), 0 s (booked
    # for 19:00, reached at 18:51), 2,460 s (made at 23:40, answered at 00:21).
    assert row.average_speed_of_answer_seconds == pytest.approx((750 + 187 + 570 + 252 + 0 + 2460) / 6)
    assert row.average_talk_seconds == pytest.approx((450 + 354 + 240 + 540) / 4)
    for name in REQUEST_FIELDS:
        assert getattr(row, name) == getattr(reference, name), name
