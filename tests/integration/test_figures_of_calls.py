"""The figures and the board read what really happened on a call: a conversation under way is connected
from the agent's acceptance (agent-first, the customer's greeting), a call whose Dial action was lost
still counts as a conversation, a customer who hangs up during the greeting was never connected, and
erasing a customer's data changes no figure."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from agents.service import update_queue
from callback import agent_first, calls, line
from callback import service as callbacks
from callback.models import CallAttempt, CallbackRequest
from core.clock import FixedClock
from reports import figures, live
from tests import factories


def talking(session: Session, clock: FixedClock, asked_ago: timedelta) -> tuple[CallbackRequest, CallAttempt]:
    """A request made `asked_ago`, dialled now: the customer presses 1 after 20 s and the agent accepts
    15 s later, through the real call logic."""
    agent = factories.agent(session, clock.now(), status="reserved")
    req = factories.request(session, clock.now(), status="dialing", attempts=1, agent_id=agent.id, age=asked_ago)
    now = clock.now()
    attempt = CallAttempt(
        request_id=req.id, agent_id=agent.id, call_sid="CAtalk1", created_at=now, placed_at=now, dialled_at=now
    )
    session.add(attempt)
    session.commit()
    clock.advance(seconds=20)
    assert calls.on_answer(session, clock, attempt, "human").action == "confirm"
    assert calls.on_confirm(session, clock, attempt, "1", None).action == "dial"
    clock.advance(seconds=15)
    leg = attempt.agent_legs[-1]
    assert calls.on_screen(session, clock, leg, "CAleg1", "human").action == "screen"
    assert calls.on_screen_answer(session, clock, leg, "1", None).action == "bridge"
    return req, attempt


def today(session: Session, clock: FixedClock) -> figures.Figures:
    return figures.report(session, figures.Preset("today", clock.now()), "orders", clock.now()).queues[0]


def test_a_conversation_under_way_counts_as_connected_from_the_acceptance(session: Session, clock: FixedClock) -> None:
    # Asked 10 minutes ago; the queue's target is 15 minutes; the agent accepted at 10 min 35 s.
    req, _attempt = talking(session, clock, timedelta(minutes=10))
    clock.advance(minutes=6)  # still talking, past the target

    row = today(session, clock)

    assert req.status == "connected"
    assert row.connected == 1 and row.service_level == 1.0
    assert row.average_speed_of_answer_seconds == 10 * 60 + 35
    assert row.average_talk_seconds is None  # not over yet: no handle time to count


def test_a_conversation_whose_dial_action_was_lost_counts_with_its_talk_time(
    session: Session, clock: FixedClock
) -> None:
    req, attempt = talking(session, clock, timedelta(minutes=10))
    clock.advance(seconds=130)
    # No Dial action came: the customer's status callback (or the reaper) closes the attempt. The call's
    # 145 s run from the customer's answer; the 15 s of question and screen before the acceptance are
    # not talk.
    calls.finish_attempt(session, clock, attempt, "completed", duration=145)
    session.commit()

    row = today(session, clock)

    assert req.status == "completed" and attempt.bridged_at == attempt.accepted_at
    assert (row.completed, row.connected, row.service_level) == (1, 1, 1.0)
    assert row.average_speed_of_answer_seconds == 10 * 60 + 35
    assert row.average_talk_seconds == 130
    assert all(leg.bridged_at == leg.accepted_at for leg in attempt.agent_legs if leg.accepted_at)


def test_forgetting_a_customer_changes_neither_the_figures_nor_the_board(session: Session, clock: FixedClock) -> None:
    # Canceled by the customer 2 minutes in (inside the target: not a miss), and one that failed days ago.
    canceled = factories.request(session, clock.now(), age=timedelta(minutes=2))
    canceled.cancel(clock.now())
    failed = factories.request(session, clock.now(), status="failed", age=timedelta(days=3))
    session.commit()
    clock.advance(minutes=60)
    level_before = today(session, clock).service_level

    callbacks.forget(session, clock, canceled.ref)
    callbacks.forget(session, clock, failed.ref)
    session.commit()

    state = live.line_now(session, clock.now())
    orders = next(q for q in state.queues if q.name == "orders")
    assert today(session, clock).service_level == level_before
    assert orders.failed_last_hour == 0
    assert not [alert for alert in state.alerts if "failed" in alert.message]
    assert canceled.phone == failed.phone == callbacks.FORGOTTEN_PHONE


def test_forgetting_a_waiting_request_cancels_it_now(session: Session, clock: FixedClock) -> None:
    req = factories.request(session, clock.now(), age=timedelta(hours=1))

    callbacks.forget(session, clock, req.ref)
    session.commit()

    assert req.status == "canceled" and req.updated_at == clock.now()


def test_a_call_a_second_agent_took_counts_from_their_acceptance(session: Session, clock: FixedClock) -> None:
    """The first agent accepted and dropped before the bridge; ten minutes later another took the call."""
    req, attempt = talking(session, clock, timedelta(minutes=10))
    factories.agent(session, clock.now(), status="available")
    first = attempt.agent_legs[-1]
    clock.advance(minutes=10)
    calls.on_dial_done(session, clock, attempt, first, "completed", 3, "CAleg1", "in-progress", "false")
    second = attempt.agent_legs[-1]
    assert second.id != first.id
    assert calls.on_screen(session, clock, second, "CAleg2", "human").action == "screen"
    assert calls.on_screen_answer(session, clock, second, "1", None).action == "bridge"

    assert today(session, clock).average_speed_of_answer_seconds == 20 * 60 + 35  # while they talk
    clock.advance(seconds=100)
    calls.finish_attempt(session, clock, attempt, "completed", duration=100)  # no Dial action came
    session.commit()
    assert attempt.bridged_at == second.accepted_at
    assert today(session, clock).average_speed_of_answer_seconds == 20 * 60 + 35


def greeted(session: Session, clock: FixedClock, req: CallbackRequest) -> CallAttempt:
    """An agent-first call of `req` claimed now: the agent presses 1 at once, and the customer answers
    12 s later and hears the greeting, through the real call logic."""
    agent = factories.agent(session, clock.now())
    claim = line.claim(session, agent.id, req.id, clock.now(), line.Bounds())
    assert claim is not None
    attempt = session.get(CallAttempt, claim.attempt_id)
    assert attempt is not None and attempt.agent_first
    attempt.call_sid = f"CAfirst{attempt.id}"
    assert agent_first.on_agent_pickup(session, clock, attempt, "human").action == "offer"
    assert agent_first.on_agent_accept(session, clock, attempt, "1", line.Bounds()).action == "dial_customer"
    clock.advance(seconds=12)
    assert agent_first.on_customer_pickup(session, clock, attempt, f"CCfirst{attempt.id}", "human").action == "greet"
    return attempt


def test_an_agent_first_customer_who_hangs_up_in_the_greeting_was_never_connected(
    session: Session, clock: FixedClock
) -> None:
    update_queue(session, "orders", {"dial_strategy": "agent_first", "backoff_seconds": "60"})
    req = factories.request(session, clock.now(), age=timedelta(minutes=10))
    first = greeted(session, clock, req)
    # On the line for their agent: counted as put through while the greeting plays, as an acceptance is.
    assert today(session, clock).average_speed_of_answer_seconds == 10 * 60 + 12
    clock.advance(seconds=2)
    agent_first.on_customer_dial_done(session, clock, first, "completed", 2, "false")
    calls.on_status(session, clock, first, "completed", 4, 20)

    missed = today(session, clock)

    assert (req.status, first.outcome, first.bridged_at) == ("retry_wait", "customer_hung_up", None)
    assert (missed.connected, missed.average_speed_of_answer_seconds, missed.completed) == (0, None, 0)

    # Called again after the back-off: this time the bridge happens, and only this call connected them.
    clock.advance(minutes=3)
    line.end_wrap_ups_and_expire(session, clock.now())
    second = greeted(session, clock, req)
    connected_at = clock.now()
    clock.advance(seconds=90)
    agent_first.on_customer_dial_done(session, clock, second, "completed", 90, "true")
    calls.on_status(session, clock, second, "completed", 4, 110)

    row = today(session, clock)

    assert (req.status, second.bridged_at, second.agent_legs[0].bridged_at) == ("completed", connected_at, connected_at)
    assert (row.connected, row.completed, row.calls_placed, row.service_level) == (1, 1, 2, 1.0)
    assert row.average_speed_of_answer_seconds == (connected_at - req.created_at).total_seconds()
    assert row.average_talk_seconds == 90


def test_an_agent_first_conversation_whose_dial_action_was_lost_counts_from_the_greeting(
    session: Session, clock: FixedClock
) -> None:
    update_queue(session, "orders", {"dial_strategy": "agent_first"})
    req = factories.request(session, clock.now(), age=timedelta(minutes=10))
    attempt = greeted(session, clock, req)
    greeting = clock.now()
    clock.advance(seconds=100)
    calls.finish_attempt(session, clock, attempt, "completed", duration=100)  # the reaper, no Dial action
    session.commit()

    row = today(session, clock)

    assert (req.status, attempt.bridged_at, attempt.agent_legs[0].bridged_at) == ("completed", greeting, greeting)
    assert (row.connected, row.average_speed_of_answer_seconds) == (1, 10 * 60 + 12)


def test_the_talk_time_leaves_out_the_agents_screen(session: Session, clock: FixedClock) -> None:
    """Twilio's DialCallDuration runs from the agent's answer: the 12 s the agent spent hearing who is
    calling and pressing 1 were the customer's wait, not their conversation."""
    agent = factories.agent(session, clock.now(), status="reserved")
    req = factories.request(session, clock.now(), status="dialing", attempts=1, agent_id=agent.id)
    now = clock.now()
    attempt = CallAttempt(
        request_id=req.id, agent_id=agent.id, call_sid="CAtalk2", created_at=now, placed_at=now, dialled_at=now
    )
    session.add(attempt)
    session.commit()
    assert calls.on_answer(session, clock, attempt, "human").action == "confirm"
    assert calls.on_confirm(session, clock, attempt, "1", None).action == "dial"
    leg = attempt.agent_legs[-1]
    assert calls.on_screen(session, clock, leg, "CAleg9", "human").action == "screen"
    clock.advance(seconds=12)
    assert calls.on_screen_answer(session, clock, leg, "1", None).action == "bridge"
    clock.advance(seconds=60)
    calls.on_dial_done(session, clock, attempt, leg, "completed", 72, "CAleg9", "in-progress", "true")
    assert (attempt.talk_seconds, leg.talk_seconds) == (60, 60)
    assert today(session, clock).average_talk_seconds == 60


def test_the_screen_is_taken_off_only_what_twilio_counted(clock: FixedClock) -> None:
    answered = clock.now()
    assert calls.talk_after_screen(72, answered, answered + timedelta(seconds=12)) == 60
    assert calls.talk_after_screen(5, answered, answered + timedelta(seconds=12)) == 0
    assert calls.talk_after_screen(72, None, answered) == 72
    assert calls.talk_after_screen(None, answered, answered) is None
