"""Every figure of reports.figures on constructed histories, against values worked out by hand.

The period is Monday 23 November 2026 in New York (EST, UTC-5): 05:00 UTC on the 23rd to 05:00 UTC on
the 24th. Times below are written in UTC with their New York reading alongside where it matters.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from agents.models import Agent, AgentStatusChange, Queue
from callback.models import CallAttempt, CallbackRequest
from core.clock import FixedClock
from ivr.models import IvrSession
from reports import figures
from tests import factories

NEW_YORK = ZoneInfo("America/New_York")
MONDAY = date(2026, 11, 23)
SINCE, UNTIL = figures.day_bounds(MONDAY, MONDAY, NEW_YORK)
# Reports are read well after the day, so nothing in it is still undecided unless a test says so.
LATER = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
_sids = count(1)


def at(hour: int, minute: int = 0, second: int = 0, day: int = 23) -> datetime:
    """A moment in UTC on November `day`."""
    return datetime(2026, 11, day, hour, minute, second, tzinfo=UTC)


def request(
    session: Session,
    created: datetime,
    status: str,
    topic: str = "orders",
    updated_at: datetime | None = None,
    **fields: Any,
) -> CallbackRequest:
    """A request created at `created`, now in `status` (since `updated_at` if given)."""
    req = factories.request(session, created, topic=topic, status=status, **fields)
    if updated_at is not None:
        req.updated_at = updated_at
        session.commit()
    return req


def attempt(
    session: Session,
    req: CallbackRequest,
    dialled: datetime | None,
    bridged: datetime | None = None,
    ended: datetime | None = None,
    talk: int | None = None,
    agent: Agent | None = None,
) -> CallAttempt:
    """One call of `req`: placed at `dialled` (None: the customer called us), bridged and ended as given."""
    call = CallAttempt(
        request_id=req.id,
        call_sid=f"CA{next(_sids):032d}",
        created_at=dialled or bridged or req.created_at,
        dialled_at=dialled,
        bridged_at=bridged,
        ended_at=ended,
        talk_seconds=talk,
        agent_id=agent.id if agent else None,
        outcome="completed" if bridged else "no-answer",
    )
    session.add(call)
    session.commit()
    return call


def statuses(session: Session, agent: Agent, *changes: tuple[datetime, str]) -> None:
    """The agent entered each status at each moment."""
    session.add_all(AgentStatusChange(agent_id=agent.id, status=status, at=moment) for moment, status in changes)
    session.commit()


def new_agent(session: Session, queues: tuple[str, ...] = ("orders",)) -> Agent:
    """An agent signed out since long before the period (their creation writes that first row)."""
    return factories.agent(session, at(0, day=1), queues=queues, status="offline")


def monday(session: Session, queue: str | None = "orders", now: datetime = LATER) -> figures.Report:
    return figures.report(session, figures.Days(MONDAY, MONDAY), queue, now)


def only(report: figures.Report) -> figures.Figures:
    assert len(report.queues) == 1
    return report.queues[0]


# --- periods ------------------------------------------------------------------------------------------


def test_a_day_is_a_calendar_day_in_the_shops_zone() -> None:
    assert (SINCE, UNTIL) == (at(5), at(5, day=24))


def test_the_day_the_clocks_go_back_lasts_twenty_five_hours() -> None:
    since, until = figures.day_bounds(date(2026, 11, 1), date(2026, 11, 1), NEW_YORK)

    assert until - since == timedelta(hours=25)


def test_presets_name_today_yesterday_and_the_last_seven_days_in_local_dates() -> None:
    # 03:00 UTC on Tuesday is still Monday evening in New York.
    now = at(3, day=24)

    assert figures.preset("today", now, NEW_YORK) == (MONDAY, MONDAY)
    assert figures.preset("yesterday", now, NEW_YORK) == (date(2026, 11, 22), date(2026, 11, 22))
    assert figures.preset("last7", now, NEW_YORK) == (date(2026, 11, 17), MONDAY)
    with pytest.raises(ValueError):
        figures.preset("fortnight", now, NEW_YORK)


def test_each_queue_counts_its_days_in_its_own_zone_when_every_queue_is_shown(session: Session) -> None:
    factories.queue(session, "returns").timezone = "Europe/London"
    session.commit()
    request(session, at(3), "completed", topic="returns")  # 03:00 Monday in London, 22:00 Sunday in New York
    request(session, at(4, 30), "completed")  # 23:30 Sunday in New York: not Monday for orders

    result = figures.report(session, figures.Days(MONDAY, MONDAY), None, LATER)
    orders, returns = result.queues[0], result.queues[1]
    alone = only(figures.report(session, figures.Days(MONDAY, MONDAY), "returns", LATER))

    assert (orders.queue, orders.offered, orders.timezone) == ("orders", 0, "America/New_York")
    assert (returns.queue, returns.offered, returns.timezone) == ("returns", 1, "Europe/London")
    assert (returns.since, returns.until) == (at(0), at(0, day=24))
    assert alone.offered == returns.offered == 1
    assert result.total is not None and result.total.offered == 1
    # The hour a request was made is read on its own queue's clock: 03:00 in London.
    assert result.hours[3].offered == 1 and sum(h.offered for h in result.hours) == 1


def test_today_is_each_queues_own_today() -> None:
    london = ZoneInfo("Europe/London")
    # 02:00 UTC on Tuesday: still Monday in New York, already Tuesday in London.
    period = figures.Preset("today", at(2, day=24))

    assert figures.bounds_of(period, NEW_YORK) == figures.Bounds(SINCE, UNTIL, NEW_YORK)
    assert figures.bounds_of(period, london) == figures.Bounds(at(0, day=24), at(0, day=25), london)


def test_the_first_queue_is_the_first_made_whatever_the_order_it_is_listed_in(session: Session) -> None:
    factories.queue(session, "other").timezone = "Europe/London"  # the last made
    session.commit()
    queues = list(reversed(session.scalars(select(Queue).order_by(Queue.id)).all()))

    assert queues[0].name == "other" and queues[-1].name == "orders"
    assert figures.shop_zone(queues) == NEW_YORK
    assert figures.shop_zone([]) == ZoneInfo("UTC")


# --- empty periods ------------------------------------------------------------------------------------


def test_an_empty_period_counts_zero_and_gives_no_share_or_average(session: Session) -> None:
    result = monday(session, queue=None)
    everything = result.total
    assert everything is not None

    for row in [*result.queues, everything]:
        assert (row.offered, row.completed, row.failed, row.canceled, row.expired, row.connected) == (0,) * 6
        assert row.still_open == 0
        assert row.calls_placed == row.ivr_sessions == row.quotes_compared == 0
        for name in (
            "average_speed_of_answer_seconds",
            "service_level",
            "callback_success",
            "calls_per_completion",
            "ivr_containment",
            "ivr_abandonment",
            "average_handle_seconds",
            "average_talk_seconds",
            "average_wrap_up_seconds",
            "agent_occupancy",
            "quoted_wait_mae_seconds",
            "quoted_wait_bias_seconds",
        ):
            assert getattr(row, name) is None, name
    assert [h.offered for h in result.hours] == [0] * 24
    assert figures.display("service_level", everything.service_level) == "—"


def test_an_unknown_queue_is_refused(session: Session) -> None:
    with pytest.raises(figures.UnknownQueue):
        monday(session, queue="nonesuch")


# --- counts, success, duplicate asks -------------------------------------------------------------------


def test_each_request_counts_once_by_its_status_and_duplicate_asks_not_at_all(session: Session) -> None:
    for status in ("completed", "failed", "canceled", "expired", "queued"):
        request(session, at(14), status)
    request(session, at(14, 5), "canceled", outcome="duplicate_ask")
    request(session, at(14, 6), "completed", topic="returns")

    result = monday(session, queue=None)
    orders = result.queues[0]
    everything = result.total

    assert (orders.offered, orders.completed, orders.failed, orders.canceled, orders.expired) == (5, 1, 1, 1, 1)
    assert orders.still_open == 1
    assert orders.callback_success == pytest.approx(1 / 4)
    assert everything is not None
    assert (everything.offered, everything.completed, everything.still_open) == (6, 2, 1)
    assert everything.callback_success == pytest.approx(2 / 5)


def test_the_counts_add_up_and_open_requests_do_not_lower_the_success_rate(session: Session) -> None:
    # The morning so far: one completed, two waiting (one booked for later), one being called, one talking.
    request(session, at(14), "completed")
    for status in ("queued", "retry_wait", "dialing", "connected"):
        request(session, at(15), status)

    row = only(monday(session, now=at(16)))

    assert (row.offered, row.completed, row.still_open) == (5, 1, 4)
    assert row.offered == row.completed + row.failed + row.canceled + row.expired + row.still_open
    assert row.callback_success == 1.0  # of the one request decided so far
    assert "decided" in figures.LABELS["callback_success"][1]


def test_a_request_made_before_midnight_and_answered_after_counts_on_the_day_it_was_made(session: Session) -> None:
    # Sunday 23:50 in New York (04:50 UTC Monday), put through at 00:20 Monday, a 5-minute call.
    req = request(session, at(4, 50), "completed")
    attempt(session, req, dialled=at(5, 19), bridged=at(5, 20), ended=at(5, 25), talk=300)

    sunday = only(figures.report(session, figures.Days(date(2026, 11, 22), date(2026, 11, 22)), "orders", LATER))
    monday_figures = only(monday(session))

    assert (sunday.offered, sunday.completed, sunday.connected, sunday.calls_placed) == (1, 1, 1, 1)
    assert sunday.average_speed_of_answer_seconds == 30 * 60
    assert sunday.average_talk_seconds == 300
    assert (monday_figures.offered, monday_figures.connected, monday_figures.calls_placed) == (0, 0, 0)
    assert monday_figures.average_talk_seconds is None


# --- speed of answer, retries, calls per completion ---------------------------------------------------------


def test_retries_count_as_calls_and_speed_of_answer_runs_from_when_the_request_was_due(session: Session) -> None:
    # Made at 09:00 local, not answered twice, put through on the third call at 09:40: waited 40 minutes.
    retried = request(session, at(14), "completed")
    attempt(session, retried, dialled=at(14, 0, 30), ended=at(14, 1))
    attempt(session, retried, dialled=at(14, 10), ended=at(14, 11))
    attempt(session, retried, dialled=at(14, 39), bridged=at(14, 40), ended=at(14, 45), talk=300)
    # Made at 09:00 for a slot from 10:00, put through at 10:05 on the first call: 5 minutes from due.
    slotted = request(session, at(14), "completed", not_before=at(15))
    attempt(session, slotted, dialled=at(15, 4), bridged=at(15, 5), ended=at(15, 9), talk=240)
    # A caller holding on the line, put through without a call placed to them, after 2 minutes.
    holder = request(session, at(16), "completed", source="ivr", hold_call_sid="CAhold")
    attempt(session, holder, dialled=None, bridged=at(16, 2), ended=at(16, 3), talk=60)

    row = only(monday(session))

    assert row.calls_placed == 4
    assert row.calls_per_completion == pytest.approx(4 / 3)
    assert row.connected == 3
    assert row.average_speed_of_answer_seconds == pytest.approx((2400 + 300 + 120) / 3)


def test_calls_per_completion_is_none_without_a_completion_even_after_calls(session: Session) -> None:
    failed = request(session, at(14), "failed")
    for minute in (0, 10, 40):
        attempt(session, failed, dialled=at(14, minute), ended=at(14, minute + 1))

    row = only(monday(session))

    assert row.calls_placed == 3
    assert row.calls_per_completion is None
    assert row.average_speed_of_answer_seconds is None


# --- service level ----------------------------------------------------------------------------------


def test_service_level_counts_offered_requests_leaving_out_early_cancellations_and_undecided_ones(
    session: Session,
) -> None:
    now = at(18)
    in_time = request(session, at(14), "completed")
    attempt(session, in_time, dialled=at(14, 9), bridged=at(14, 10), ended=at(14, 15), talk=300)  # 600 s: met
    late = request(session, at(14), "completed")
    attempt(session, late, dialled=at(14, 19), bridged=at(14, 20), ended=at(14, 25), talk=300)  # 1200 s: missed
    request(session, at(14), "canceled", updated_at=at(14, 5), outcome="canceled_by_customer")  # at 300 s: left out
    request(session, at(14), "canceled", updated_at=at(14, 20), outcome="hung_up_on_hold")  # at 1200 s: missed
    request(session, at(14), "failed", updated_at=at(14, 5))  # missed, however early
    request(session, now - timedelta(seconds=100), "queued")  # its 900 s are not up at 18:00: undecided
    request(session, now - timedelta(seconds=2000), "queued")  # still waiting past 900 s: missed

    row = only(monday(session, now=now))

    assert row.service_level_seconds == 900
    assert row.service_level == pytest.approx(1 / 5)


def test_canceled_requests_are_told_apart_by_who_canceled_them(session: Session) -> None:
    for outcome in ("canceled_by_customer", "declined", "hung_up_on_hold", "caller_hung_up"):
        request(session, at(14), "canceled", outcome=outcome)
    for outcome in ("canceled_by_staff", "do_not_call", "forgotten", "left_unstaffed", "hold_failed"):
        request(session, at(14), "canceled", outcome=outcome)

    row = only(monday(session))

    assert (row.canceled, row.withdrawn, row.canceled_by_shop) == (9, 4, 5)
    assert figures.LABELS["withdrawn"][0] == "Withdrawn by the customer"
    assert "supervisor" in figures.LABELS["canceled_by_shop"][1]


def test_a_cancel_by_us_is_no_withdrawal_for_the_service_level(session: Session) -> None:
    # T = 900 s. Each waited 600 s, then:
    request(session, at(14), "canceled", updated_at=at(14, 10), outcome="canceled_by_customer")  # left out
    request(session, at(14), "canceled", updated_at=at(14, 10), outcome="do_not_call")  # their wish: left out
    request(session, at(14), "canceled", updated_at=at(14, 10), outcome="forgotten")  # their wish: left out
    request(session, at(14), "canceled", updated_at=at(14, 10), outcome="canceled_by_staff")  # missed
    request(session, at(14), "canceled", updated_at=at(14, 10), outcome="left_unstaffed")  # missed
    # Canceled by a supervisor after waiting past T: missed, like anything else not put through in time.
    request(session, at(15), "canceled", updated_at=at(15, 20), outcome="canceled_by_staff")
    # A customer who gave up after T: missed.
    request(session, at(16), "canceled", updated_at=at(16, 20), outcome="canceled_by_customer")
    met = request(session, at(17), "completed")
    attempt(session, met, dialled=at(17, 4), bridged=at(17, 5), ended=at(17, 9), talk=240)

    row = only(monday(session))

    assert row.service_level == pytest.approx(1 / 5)


def test_service_level_uses_the_queues_own_target(session: Session) -> None:
    factories.queue(session).service_level_seconds = 1500
    session.commit()
    late = request(session, at(14), "completed")
    attempt(session, late, dialled=at(14, 19), bridged=at(14, 20), ended=at(14, 25), talk=300)

    result = monday(session, queue=None)

    assert result.queues[0].service_level == 1.0
    assert result.total is not None
    # The queues' targets differ now, so "all" names none, but judges each request by its own queue's.
    assert result.total.service_level_seconds is None
    assert result.total.service_level == 1.0


# --- handle time -----------------------------------------------------------------------------------------


def test_handle_time_is_talk_plus_the_wrap_up_the_agent_actually_took_else_the_queues(session: Session) -> None:
    ana, ben = new_agent(session), new_agent(session)
    first = request(session, at(14), "completed")
    attempt(session, first, dialled=at(14, 1), bridged=at(14, 2), ended=at(14, 7), talk=300, agent=ana)
    # Ana wrapped up for 45 s after her call.
    statuses(session, ana, (at(14, 1), "reserved"), (at(14, 2), "on_call"), (at(14, 7), "wrap_up"))
    statuses(session, ana, (at(14, 7, 45), "available"))
    second = request(session, at(15), "completed")
    # Ben's history has no wrap-up row: the queue's 30 s stand in. talk_seconds unknown: bridged to ended.
    attempt(session, second, dialled=at(15, 1), bridged=at(15, 2), ended=at(15, 5, 20), agent=ben)

    row = only(monday(session))

    assert row.average_talk_seconds == pytest.approx((300 + 200) / 2)
    assert row.average_wrap_up_seconds == pytest.approx((45 + 30) / 2)
    assert row.average_handle_seconds == pytest.approx((345 + 230) / 2)


def test_a_wrap_up_after_the_agents_next_call_is_not_taken_for_this_ones(session: Session) -> None:
    ana = new_agent(session)
    first = request(session, at(14), "completed")
    attempt(session, first, dialled=at(14, 1), bridged=at(14, 2), ended=at(14, 7), talk=300, agent=ana)
    # No wrap-up recorded after the first call: Ana went straight on to another, then wrapped up 90 s.
    statuses(session, ana, (at(14, 2), "on_call"), (at(14, 8), "reserved"), (at(14, 9), "on_call"))
    statuses(session, ana, (at(14, 15), "wrap_up"), (at(14, 16, 30), "available"))

    row = only(monday(session))

    assert row.average_wrap_up_seconds == 30  # the queue's wrap_up_seconds, not Ana's later 90 s


# --- occupancy ----------------------------------------------------------------------------------------


def test_occupancy_is_time_reserved_talking_or_wrapping_up_over_time_staffed_up_to_now(session: Session) -> None:
    ana = new_agent(session)
    statuses(
        session,
        ana,
        (at(14), "available"),  # 09:00-10:00 local: 3600 s available
        (at(15), "reserved"),  # 60 s
        (at(15, 1), "on_call"),  # 600 s
        (at(15, 11), "wrap_up"),  # 60 s
        (at(15, 12), "available"),  # 2880 s
        (at(16), "away"),  # 3600 s, not staffed
        (at(17), "available"),  # until now, 18:00: 3600 s
    )

    row = only(monday(session, now=at(18)))

    assert row.agent_occupancy == pytest.approx(720 / (3600 + 60 + 600 + 60 + 2880 + 3600))


def test_occupancy_clips_a_status_that_began_before_the_period(session: Session) -> None:
    ben = new_agent(session)
    # Available since 18:00 Sunday local: only the part from Monday's midnight on is Monday's.
    statuses(session, ben, (at(4, day=23) - timedelta(hours=5), "available"))
    statuses(session, ben, (at(5, 30), "on_call"), (at(6), "wrap_up"), (at(6, 30), "offline"))

    row = only(monday(session))

    assert row.agent_occupancy == pytest.approx(3600 / 5400)


def test_occupancy_of_a_queue_counts_only_its_own_agents(session: Session) -> None:
    ana, cy = new_agent(session, ("orders",)), new_agent(session, ("returns",))
    statuses(session, ana, (at(14), "available"), (at(15), "offline"))
    statuses(session, cy, (at(14), "on_call"), (at(15), "offline"))

    result = monday(session, queue=None)

    assert result.queues[0].agent_occupancy == 0.0
    assert result.queues[1].agent_occupancy == 1.0
    assert result.total is not None
    assert result.total.agent_occupancy == pytest.approx(0.5)


# --- the phone menu --------------------------------------------------------------------------------------


def ivr(
    session: Session, started: datetime, outcome: str | None, topic: str | None = None, **fields: object
) -> IvrSession:
    ended = fields.pop("ended_at", started + timedelta(minutes=2))
    call = IvrSession(
        call_sid=f"CA{next(_sids):032d}",
        caller="+12015550123",
        called="+15005550006",
        started_at=started,
        updated_at=started,
        ended_at=ended,
        node="main",
        outcome=outcome,
        topic=topic,
        **fields,
    )
    session.add(call)
    session.commit()
    return call


def test_containment_and_abandonment_of_the_phone_menu(session: Session) -> None:
    ivr(session, at(14), "contained")
    ivr(session, at(14, 5), "contained")
    ivr(session, at(14, 10), "abandoned")
    ivr(session, at(14, 15), "transferred", "orders")
    held_and_left = request(session, at(14, 20), "canceled", source="ivr", outcome="hung_up_on_hold")
    ivr(session, at(14, 20), "hold", "orders", request_id=held_and_left.id)
    held_and_served = request(session, at(14, 30), "completed", source="ivr")
    ivr(session, at(14, 30), "hold", "orders", request_id=held_and_served.id)
    ivr(session, at(17), None, ended_at=None)  # still in the menu: not decided
    ivr(session, at(4), "contained")  # Sunday 23:00 local: another day

    result = monday(session, queue=None)
    everything = result.total
    orders = result.queues[0]

    assert everything is not None
    assert everything.ivr_sessions == 6
    assert everything.ivr_containment == pytest.approx(2 / 6)
    assert everything.ivr_abandonment == pytest.approx(2 / 6)
    assert orders.ivr_sessions == 3
    assert orders.ivr_containment == 0.0
    assert orders.ivr_abandonment == pytest.approx(1 / 3)


def test_abandonment_counts_each_holder_who_hung_up_before_an_agent_came_once(session: Session) -> None:
    # A caller whose web request came before the call held and hung up: the request waits on, untouched.
    web = request(session, at(13), "queued")
    ivr(session, at(14), "hold", "orders", request_id=web.id).note_hung_up_waiting(at(14, 5))
    # Taken out of the line, they hung up while the agent rang (their call's request ended so).
    rang = request(session, at(14, 10), "canceled", source="ivr", outcome="caller_hung_up")
    ivr(session, at(14, 10), "hold", "orders", request_id=rang.id)
    # Hung up in the line, which both their request and their call's path say: counted once.
    left = request(session, at(14, 20), "canceled", source="ivr", outcome="hung_up_on_hold")
    ivr(session, at(14, 20), "hold", "orders", request_id=left.id).note_hung_up_waiting(at(14, 25))
    # Put through, and taken out of a line nobody was on duty for (kept as a callback): not abandoned.
    served = request(session, at(14, 30), "completed", source="ivr")
    ivr(session, at(14, 30), "hold", "orders", request_id=served.id)
    kept = request(session, at(14, 40), "queued", source="ivr")
    ivr(session, at(14, 40), "callback", "orders", request_id=kept.id)
    session.commit()

    orders = only(monday(session))

    assert orders.ivr_sessions == 5
    assert orders.ivr_abandonment == pytest.approx(3 / 5)


# --- the quoted wait ---------------------------------------------------------------------------------


def test_quoted_wait_error_and_bias_compare_each_quote_with_the_wait_from_creation(session: Session) -> None:
    under = request(session, at(14), "completed", quoted_wait_seconds=600)
    attempt(session, under, dialled=at(14, 14), bridged=at(14, 15), ended=at(14, 20), talk=300)  # waited 900: +300
    over = request(session, at(15), "completed", quoted_wait_seconds=1200)
    attempt(session, over, dialled=at(15, 9), bridged=at(15, 10), ended=at(15, 20), talk=600)  # waited 600: -600
    unquoted = request(session, at(16), "completed")
    attempt(session, unquoted, dialled=at(16, 1), bridged=at(16, 2), ended=at(16, 3), talk=60)
    request(session, at(17), "failed", quoted_wait_seconds=300)  # never connected: no wait to compare

    row = only(monday(session))

    assert row.quotes_compared == 2
    assert row.quoted_wait_mae_seconds == pytest.approx(450)
    assert row.quoted_wait_bias_seconds == pytest.approx(-150)
    assert figures.display("quoted_wait_bias_seconds", row.quoted_wait_bias_seconds) == "-2m 30s"


# --- by hour, and the pure definitions ---------------------------------------------------------------------


def test_the_hourly_series_buckets_requests_by_the_local_hour_they_were_made(session: Session) -> None:
    quick = request(session, at(14, 10), "completed")  # 09:10 local
    attempt(session, quick, dialled=at(14, 11), bridged=at(14, 12), ended=at(14, 20), talk=480)
    request(session, at(14, 50), "failed")  # 09:50 local
    request(session, at(20), "canceled")  # 15:00 local

    hours = monday(session).hours

    assert (hours[9].offered, hours[9].completed, hours[9].average_speed_of_answer_seconds) == (2, 1, 120)
    assert (hours[15].offered, hours[15].completed, hours[15].average_speed_of_answer_seconds) == (1, 0, None)
    assert sum(h.offered for h in hours) == 3


def test_the_report_reads_the_same_as_json(session: Session, clock: FixedClock) -> None:
    request(session, at(14), "completed")

    data = monday(session, queue=None).as_json()

    assert data["since"] == "2026-11-23T05:00:00+00:00"
    assert data["timezone"] == "America/New_York"
    assert [q["queue"] for q in data["queues"]][:2] == ["orders", "returns"]
    assert data["all"]["offered"] == 1
    assert set(data["all"]) == set(figures.FIELDS)
    assert len(data["by_hour"]) == 24


def test_display_reads_shares_as_percentages_and_durations_as_minutes() -> None:
    assert figures.display("service_level", 0.8125) == "81.2%"
    assert figures.display("average_handle_seconds", 287.5) == "4m 48s"
    assert figures.display("service_level_seconds", 900) == "15m 00s"
    assert figures.display("average_speed_of_answer_seconds", 2 * 3600 + 5 * 60 + 9) == "2h 05m"
    assert figures.display("calls_per_completion", 4 / 3) == "1.33"
    assert figures.display("offered", 7) == "7"
    assert set(figures.LABELS) == set(figures.FIGURE_FIELDS) == set(figures.FIELDS) - set(figures.PERIOD_FIELDS)


def test_every_json_field_is_documented_in_the_module() -> None:
    documentation = " ".join((figures.__doc__ or "").split())

    for name in figures.FIELDS:
        assert f" {name}," in documentation or f" {name}." in documentation, name
