"""The callback service against a real database (SQLite, and PostgreSQL when provided)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from agents.service import update_queue
from callback import dnc, service
from callback.estimate import CONNECT_OVERHEAD_SECONDS
from callback.models import CallAttempt, CallbackRequest
from callback.policy import Limits
from core.clock import FixedClock
from core.errors import Conflict, InvalidInput, LimitExceeded, NotFound
from core.phone import PhonePolicy
from reports import figures
from reports.live import line_now
from tests import factories

POLICY = PhonePolicy(default_region="US", allowed_countries=("US", "CA"))
LIMITS = Limits(active_per_number=2, per_number_per_day=5, per_ip_per_hour=10)


def ask(session: Session, clock: FixedClock, **fields: object) -> tuple[CallbackRequest, bool]:
    data = {"phone": "(201) 555-0123", "name": "Ann Lee", "topic": "orders", "consent": True}
    data.update(fields)
    return service.request_callback(session, clock, POLICY, LIMITS, service.CallbackInput(**data))  # type: ignore[arg-type]


def test_a_request_is_queued_with_the_number_in_e164(session: Session, clock: FixedClock) -> None:
    req, created = ask(session, clock, order_number="112-4455667-1234567")
    assert created
    assert (req.status, req.phone, req.queue.name, req.order_number) == (
        "queued",
        "+12015550123",
        "orders",
        "112-4455667-1234567",
    )
    assert len(req.ref) >= 22  # 128 random bits, URL-safe
    # 24 hours of opening time (mon-fri 09:00-17:00): from Monday 10:00 to Thursday 10:00.
    assert req.expires_at == clock.now() + timedelta(days=3)


def test_asking_again_for_the_same_topic_returns_the_same_request(session: Session, clock: FixedClock) -> None:
    first, _ = ask(session, clock)
    again, created = ask(session, clock, phone="+1 201 555 0123", name="Ann")
    assert not created
    assert again.id == first.id


def test_a_different_topic_is_a_different_request(session: Session, clock: FixedClock) -> None:
    first, _ = ask(session, clock)
    other, created = ask(session, clock, topic="returns")
    assert created and other.id != first.id


def test_after_canceling_the_same_number_may_ask_again(session: Session, clock: FixedClock) -> None:
    first, _ = ask(session, clock)
    service.cancel(session, clock, first.ref)
    second, created = ask(session, clock)
    assert created and second.id != first.id


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"consent": False}, "consent_required", "consent"),
        ({"phone": "12"}, None, "phone"),
        ({"phone": "+44 20 7183 8750"}, "phone_country_not_allowed", "phone"),
        ({"name": "   "}, "name_required", "name"),
        ({"name": "x" * 81}, "name_too_long", "name"),
        ({"topic": "weather"}, "unknown_topic", "topic"),
        ({"order_number": "DROP TABLE;"}, "bad_order_number", "order_number"),
    ],
)
def test_invalid_input_is_refused_with_the_field_at_fault(
    session: Session, clock: FixedClock, fields: dict[str, object], code: str | None, field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        ask(session, clock, **fields)
    assert caught.value.field == field
    if code:
        assert caught.value.code == code
    assert caught.value.message.endswith(".")


def test_a_number_on_the_do_not_call_list_is_refused(session: Session, clock: FixedClock) -> None:
    dnc.add(session, clock, "+12015550123", "asked on the phone")
    with pytest.raises(InvalidInput) as caught:
        ask(session, clock)
    assert caught.value.code == "do_not_call"


def test_listing_a_number_cancels_its_waiting_callbacks(session: Session, clock: FixedClock) -> None:
    req, _ = ask(session, clock)
    assert dnc.add(session, clock, req.phone, None) == 1
    session.refresh(req)
    assert (req.status, req.outcome) == ("canceled", "do_not_call")
    assert dnc.remove(session, req.phone) is True
    assert dnc.remove(session, req.phone) is False


def test_too_many_active_requests_for_one_number_are_refused(session: Session, clock: FixedClock) -> None:
    ask(session, clock, topic="orders")
    ask(session, clock, topic="returns")
    with pytest.raises(LimitExceeded) as caught:
        ask(session, clock, topic="payments")
    assert caught.value.code == "too_many_active"


def test_a_number_may_ask_only_so_often_a_day_and_learns_when_to_retry(session: Session, clock: FixedClock) -> None:
    for _ in range(5):
        req, _ = ask(session, clock)
        service.cancel(session, clock, req.ref)
        clock.advance(minutes=10)
    with pytest.raises(LimitExceeded) as caught:
        ask(session, clock)
    assert caught.value.code == "number_daily_limit"
    # The first of the five leaves the 24-hour window 50 minutes after the last.
    assert abs(caught.value.retry_after - (24 * 3600 - 50 * 60)) <= 2
    clock.advance(seconds=caught.value.retry_after)
    assert ask(session, clock)[1]


def test_one_client_may_ask_only_so_often_an_hour(session: Session, clock: FixedClock) -> None:
    for n in range(10):
        ask(session, clock, phone=f"+1201555{1000 + n}", client_ip="203.0.113.9")
    with pytest.raises(LimitExceeded) as caught:
        ask(session, clock, phone="+12015552000", client_ip="203.0.113.9")
    assert caught.value.code == "client_hourly_limit"
    assert ask(session, clock, phone="+12015552000", client_ip="203.0.113.10")[1]


def test_a_slot_must_be_inside_business_hours(session: Session, clock: FixedClock) -> None:
    evening = clock.now().replace(hour=23)  # 18:00 in New York: closed
    with pytest.raises(InvalidInput) as caught:
        ask(session, clock, not_before=evening)
    assert caught.value.code == "outside_hours"
    tomorrow = clock.now() + timedelta(days=1)
    req, _ = ask(session, clock, not_before=tomorrow)
    assert req.not_before == tomorrow
    assert req.expires_at == tomorrow + timedelta(days=3)  # 24 open hours from the slot: Friday 10:00


@pytest.mark.parametrize(
    ("delta", "code"), [(timedelta(hours=-2), "time_in_past"), (timedelta(days=8), "time_too_far")]
)
def test_a_slot_must_be_in_the_next_seven_days(
    session: Session, clock: FixedClock, delta: timedelta, code: str
) -> None:
    update_queue(session, "orders", {"hours": "24/7"})
    with pytest.raises(InvalidInput) as caught:
        ask(session, clock, not_before=clock.now() + delta)
    assert caught.value.code == code


def test_position_counts_waiting_requests_ahead_in_the_same_queue(session: Session, clock: FixedClock) -> None:
    now = clock.now()
    factories.request(session, now, age=timedelta(minutes=30))
    factories.request(session, now, age=timedelta(minutes=20), status="retry_wait")
    factories.request(session, now, age=timedelta(minutes=25), status="dialing")  # being served: not ahead
    factories.request(session, now, age=timedelta(minutes=40), topic="returns")  # other queue
    factories.request(session, now, age=timedelta(minutes=50), not_before=now + timedelta(hours=3))  # later slot
    factories.request(session, now, age=timedelta(minutes=45), status="completed")
    mine, _ = ask(session, clock)
    assert service.position(session, mine, now) == 2
    factories.request(session, now, age=timedelta(minutes=1), priority=5)  # a higher priority goes first
    assert service.position(session, mine, now) == 3


def test_the_estimate_is_unknown_with_no_agent_on_duty(session: Session, clock: FixedClock) -> None:
    factories.agent(session, clock.now(), status="offline")
    factories.agent(session, clock.now(), status="away")
    mine, _ = ask(session, clock)
    standing = service.standing(session, mine, clock.now())
    assert standing.position == 0
    assert standing.estimated_wait_seconds is None


def test_the_estimate_uses_staffed_agents_and_handle_time(session: Session, clock: FixedClock) -> None:
    now = clock.now()
    factories.agent(session, now, status="on_call")
    factories.agent(session, now, status="wrap_up")
    factories.agent(session, now, queues=("returns",), status="available")  # another queue's agent
    for minutes in (10, 9, 8):
        factories.request(session, now, age=timedelta(minutes=minutes))
    mine, _ = ask(session, clock)
    # 3 ahead, 2 busy agents, default 300 s talk + 30 s wrap-up: (3 + 1) * 330 / 2.
    assert service.standing(session, mine, now).estimated_wait_seconds == 660 + CONNECT_OVERHEAD_SECONDS


def test_requests_of_another_topic_our_agents_also_serve_are_ahead_by_their_share(
    session: Session, clock: FixedClock
) -> None:
    # An agent is given the first request in line of all their queues: the orders agent who also takes
    # returns takes the returns asked before ours too, half of them (the other returns agent the rest).
    now = clock.now()
    factories.agent(session, now, queues=("orders", "returns"), status="on_call")
    factories.agent(session, now, queues=("returns",), status="on_call")
    for minutes in (10, 9, 8, 7):
        factories.request(session, now, topic="returns", age=timedelta(minutes=minutes))
    factories.request(session, now, age=timedelta(minutes=6))
    mine, _ = ask(session, clock)
    factories.request(session, now + timedelta(seconds=1), topic="returns")  # asked after ours: behind
    assert service.position(session, mine, now) == 3  # 1 of ours, 4 returns x 1/2
    # 3 ahead, the orders queue's one busy agent, 300 s talk + 30 s wrap-up: (3 + 1) * 330.
    assert service.standing(session, mine, now).estimated_wait_seconds == 1320 + CONNECT_OVERHEAD_SECONDS
    # A new request would find 2 orders and 5 returns x 1/2 ahead, rounded up.
    assert service.waiting_count(session, factories.queue(session, "orders"), now) == 5


def test_a_topic_closed_now_takes_none_of_our_agents_time(session: Session, clock: FixedClock) -> None:
    now = clock.now()
    update_queue(session, "returns", {"hours": "closed"})
    factories.agent(session, now, queues=("orders", "returns"), status="on_call")
    for minutes in (10, 9):
        factories.request(session, now, topic="returns", age=timedelta(minutes=minutes))
    mine, _ = ask(session, clock)
    assert service.position(session, mine, now) == 0


def test_at_night_a_topic_that_opens_with_ours_takes_its_share_and_one_opening_later_none(
    session: Session, clock: FixedClock
) -> None:
    clock.set(clock.now().replace(hour=23))  # Monday 18:00 in New York: every topic is closed
    now = clock.now()
    update_queue(session, "payments", {"hours": "mon-fri 13:00-17:00"})
    factories.agent(session, now, queues=("orders", "returns", "payments"), status="available")
    for minutes in (10, 9):
        factories.request(session, now, topic="returns", age=timedelta(minutes=minutes))
        factories.request(session, now, topic="payments", age=timedelta(minutes=minutes))
    mine, _ = ask(session, clock)
    # At 9 AM returns opens with orders and takes the one agent first; payments opens at 1 PM.
    assert service.position(session, mine, now) == 2
    assert service.waiting_count(session, factories.queue(session, "orders"), now) == 3


def test_an_agent_of_another_topic_alone_changes_nothing(session: Session, clock: FixedClock) -> None:
    now = clock.now()
    factories.agent(session, now, queues=("orders",), status="on_call")
    factories.agent(session, now, queues=("returns",), status="on_call")
    factories.request(session, now, topic="returns", age=timedelta(minutes=10))
    mine, _ = ask(session, clock)
    assert service.position(session, mine, now) == 0


def test_outside_hours_the_wait_counts_from_the_next_opening(session: Session, clock: FixedClock) -> None:
    clock.set(clock.now().replace(hour=23))  # Monday 18:00 New York; opens Tuesday 09:00 = 15 h later
    factories.agent(session, clock.now(), status="available")
    mine, _ = ask(session, clock)
    wait = service.standing(session, mine, clock.now()).estimated_wait_seconds
    assert wait == 15 * 3600 + CONNECT_OVERHEAD_SECONDS


def test_a_booked_slot_reports_its_time(session: Session, clock: FixedClock) -> None:
    slot = clock.now() + timedelta(days=1, hours=1)
    mine, _ = ask(session, clock, not_before=slot)
    standing = service.standing(session, mine, clock.now())
    assert standing.scheduled_for == slot
    assert standing.estimated_wait_seconds == 25 * 3600


def test_reschedule_moves_a_waiting_request(session: Session, clock: FixedClock) -> None:
    mine, _ = ask(session, clock)
    slot = clock.now() + timedelta(days=2)
    service.reschedule(session, clock, mine.ref, slot)
    assert (mine.status, mine.not_before) == ("queued", slot)
    service.reschedule(session, clock, mine.ref, None)
    assert mine.not_before is None


def test_a_booking_changed_to_as_soon_as_possible_is_waited_for_from_the_change(
    session: Session, clock: FixedClock
) -> None:
    # Booked at 10:00 for 14:00; at 11:00 "call me now instead"; put through at 11:05. Until 11:00 the
    # customer had asked not to be called: their wait is five minutes, not 65.
    req = factories.request(session, clock.now(), not_before=clock.now() + timedelta(hours=4))
    clock.advance(hours=1)
    service.reschedule(session, clock, req.ref, None)
    clock.advance(minutes=1)
    board = next(q for q in line_now(session, clock.now()).queues if q.name == "orders")
    assert board.longest_wait_seconds == 60
    clock.advance(minutes=4)
    put_through = clock.now()
    session.add(
        CallAttempt(request_id=req.id, created_at=put_through, dialled_at=put_through, bridged_at=put_through,
                    ended_at=put_through + timedelta(minutes=3), talk_seconds=180)
    )  # fmt: skip
    req.status, req.outcome = "completed", "completed"
    session.commit()
    row = figures.report(session, figures.Preset("today", clock.now()), "orders", clock.now()).queues[0]
    assert (row.average_speed_of_answer_seconds, row.service_level) == (5 * 60, 1.0)
    assert req.wanted_at == put_through - timedelta(minutes=5) and req.not_before is None


def test_a_finished_request_can_neither_be_canceled_nor_rescheduled(session: Session, clock: FixedClock) -> None:
    done = factories.request(session, clock.now(), status="completed")
    with pytest.raises(Conflict):
        service.cancel(session, clock, done.ref)
    with pytest.raises(Conflict):
        service.reschedule(session, clock, done.ref, None)


def test_an_unknown_reference_is_not_found(session: Session, clock: FixedClock) -> None:
    with pytest.raises(NotFound):
        service.get(session, "no-such-ref")


def test_a_message_from_a_caller_we_cannot_call_back_is_not_counted_ahead_in_line(
    session: Session, clock: FixedClock
) -> None:
    factories.request(session, clock.now(), phone="call:123456789012345", source="ivr", age=timedelta(hours=1))
    req, _ = ask(session, clock)
    assert service.position(session, req, clock.now()) == 0


def test_every_ask_passes_the_same_checks_whatever_path_it_came_by(session: Session, clock: FixedClock) -> None:
    """policy.check_ask: the web's _judge and the phone menu's callbacks and messages all call it."""
    from callback.policy import check_ask

    now = clock.now()
    dnc.add(session, clock, "+12015550111", None)
    with pytest.raises(InvalidInput) as listed:
        check_ask(session, LIMITS, "+12015550111", None, now, found_active=False)
    assert listed.value.code == "do_not_call"
    factories.request(session, now, topic="orders", phone="+12015550122")
    factories.request(session, now, topic="returns", phone="+12015550122")
    with pytest.raises(LimitExceeded) as active:
        check_ask(session, LIMITS, "+12015550122", None, now, found_active=False)
    assert active.value.code == "too_many_active"
    factories.request(session, now, topic="orders", phone="+12015550130")
    # An ask that found the number's request is not refused for the requests it would not repeat...
    check_ask(session, Limits(active_per_number=1), "+12015550130", None, now, found_active=True)
    # ...and the number's requests of the day are counted for it like any other ask's.
    with pytest.raises(LimitExceeded) as daily:
        check_ask(session, Limits(per_number_per_day=1), "+12015550130", None, now, found_active=True)
    assert daily.value.code == "number_daily_limit"


def test_the_handle_time_is_the_mean_of_the_queues_last_talked_calls_plus_wrap_up(
    session: Session, clock: FixedClock
) -> None:
    """The last HANDLE_TIME_SAMPLE (50) talked calls of the queue: older ones, unanswered ones and other
    queues' calls, however many, do not count."""
    now = clock.now()
    for _ in range(5):
        factories.call(session, now, "orders", talk_seconds=1000)  # older than the last 50
    for n in range(service.HANDLE_TIME_SAMPLE):
        factories.call(session, now, "orders", talk_seconds=100 if n % 2 else 200)
        factories.call(session, now, "orders", talk_seconds=None)  # not answered: no talk time
        factories.call(session, now, "returns", talk_seconds=900)
    # (25 * 100 + 25 * 200) / 50 = 150 s of talk, plus the queue's 30 s of wrap-up.
    assert service.staffing(session, factories.queue(session, "orders")).handle_seconds == 180
    assert service.staffing(session, factories.queue(session, "returns")).handle_seconds == 930


def test_a_rarely_used_queue_reads_its_own_few_calls_among_many_of_other_queues(
    session: Session, clock: FixedClock
) -> None:
    now = clock.now()
    update_queue(session, "payments", {"wrap_up_seconds": 45})
    for seconds in (60, 120, 180, 240, 300, 360):
        factories.call(session, now, "payments", talk_seconds=seconds)
    for _ in range(4):
        factories.call(session, now, "devices", talk_seconds=500)
    for n in range(300):  # the busy queues' calls since
        factories.call(session, now, ("orders", "returns")[n % 2], talk_seconds=900 if n % 3 else None)

    # (60 + 120 + ... + 360) / 6 = 210 s of talk, plus the queue's own 45 s of wrap-up.
    assert service.staffing(session, factories.queue(session, "payments")).handle_seconds == 255
    # Four calls are too few to go by: the default 300 s, plus 30 s of wrap-up; and so with none at all.
    assert service.staffing(session, factories.queue(session, "devices")).handle_seconds == 330
    assert service.staffing(session, factories.queue(session, "account")).handle_seconds == 330
    assert service.staffing(session, factories.queue(session, "orders")).handle_seconds == 930


def test_a_call_stays_in_the_queue_it_was_made_in_when_staff_move_its_request(
    session: Session, clock: FixedClock
) -> None:
    """The talk was the first queue's agents' work: it is their handle time, not the new queue's."""
    now = clock.now()
    orders, returns = factories.queue(session, "orders"), factories.queue(session, "returns")
    for _ in range(5):
        req = factories.request(session, now, "orders")  # back in line after its agent was lost, say
        attempt = factories.call(session, now, talk_seconds=120, request_for=req)
        assert attempt.queue_id == orders.id
        service.move(session, clock, req.id, "returns")

    assert service.staffing(session, orders).handle_seconds == 150
    assert service.staffing(session, returns).handle_seconds == 330
