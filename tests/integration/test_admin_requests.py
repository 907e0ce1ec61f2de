"""Requests at /admin/requests: the list's filters, and a supervisor's cancel, call next and move,
both as rules in callback.service and as pages (access, audit lines, refusals, CSRF)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from agents import audit
from agents.service import update_queue
from callback import service
from callback.models import DUPLICATE_ASK, CallAttempt, CallbackRequest
from core.clock import FixedClock
from core.db import Database, get_db
from core.errors import Conflict, InvalidInput
from reports import figures
from telephony.fake import FakeTelephony
from tests import factories, signin
from tests.signin import csrf_token


def text(response) -> str:
    """The page as a person reads it: HTML entities decoded."""
    return html.unescape(response.get_data(as_text=True))


def ids_listed(response) -> list[int]:
    """The requests a list page shows, in its order."""
    return [int(n) for n in re.findall(r'<li class="result" id="request-(\d+)"', response.get_data(as_text=True))]


def line_of(session: Session, action: str) -> list[audit.AuditEvent]:
    session.expire_all()
    return [event for event in audit.recent(session, 100) if event.action == action]


# --- the rules (callback.service) -----------------------------------------------------------------


def test_call_next_puts_a_waiting_request_above_every_other_of_its_queue(session: Session, clock: FixedClock) -> None:
    now = clock.now()
    factories.request(session, now, age=timedelta(minutes=30))
    factories.request(session, now, age=timedelta(minutes=20), priority=2)  # lost its agent, twice
    factories.request(session, now, topic="returns", priority=9)  # another line: no bearing
    newest = factories.request(session, now, age=timedelta(minutes=1))
    assert service.position(session, newest, now) == 2

    service.prioritise(session, clock, newest.id)

    session.refresh(newest)
    assert newest.priority == 3
    assert service.position(session, newest, now) == 0


def test_call_next_on_the_only_request_of_a_queue_leaves_its_priority(session: Session, clock: FixedClock) -> None:
    alone = factories.request(session, clock.now(), topic="payments")

    service.prioritise(session, clock, alone.id)

    session.refresh(alone)
    assert (alone.priority, alone.status) == (0, "queued")


def test_call_next_ends_a_retrys_back_off_at_once(session: Session, clock: FixedClock) -> None:
    now = clock.now()
    factories.request(session, now, age=timedelta(hours=1))
    waiting = factories.request(
        session, now, status="retry_wait", attempts=1, next_attempt_at=now + timedelta(minutes=10)
    )

    service.prioritise(session, clock, waiting.id)

    session.refresh(waiting)
    assert (waiting.status, waiting.next_attempt_at) == ("queued", None)
    assert service.position(session, waiting, now) == 0


def test_call_next_refuses_a_booked_slot_still_to_come_and_changes_nothing(session: Session, clock: FixedClock) -> None:
    now = clock.now()
    booked = factories.request(session, now, not_before=now + timedelta(hours=5))

    with pytest.raises(Conflict) as caught:
        service.prioritise(session, clock, booked.id)

    assert caught.value.code == "booked"
    assert "15:00 EST" in caught.value.message  # 10:00 in New York, five hours on
    session.refresh(booked)
    assert (booked.priority, booked.not_before) == (0, now + timedelta(hours=5))
    assert line_of(session, "request.prioritise") == []


def test_call_next_takes_a_booked_slot_once_it_has_come(session: Session, clock: FixedClock) -> None:
    now = clock.now()
    factories.request(session, now, age=timedelta(hours=1))
    booked = factories.request(session, now, age=timedelta(hours=2), not_before=now - timedelta(minutes=1))

    service.prioritise(session, clock, booked.id)

    session.refresh(booked)
    assert booked.priority == 1 and booked.not_before == now - timedelta(minutes=1)


@pytest.mark.parametrize(
    ("status", "code"),
    [
        ("dialing", "being_called"),
        ("connecting", "on_the_line"),
        ("connected", "on_the_line"),
        ("completed", "not_waiting"),
        ("canceled", "not_waiting"),
    ],
)
def test_only_a_waiting_request_can_be_called_next_or_moved(
    session: Session, clock: FixedClock, status: str, code: str
) -> None:
    req = factories.request(session, clock.now(), status=status)

    with pytest.raises(Conflict) as next_refused:
        service.prioritise(session, clock, req.id)
    with pytest.raises(Conflict) as move_refused:
        service.move(session, clock, req.id, "returns")

    assert next_refused.value.code == move_refused.value.code == code
    session.refresh(req)
    assert (req.status, req.priority, req.queue.name) == (status, 0, "orders")


def test_a_request_the_dispatcher_claims_meanwhile_is_not_reordered(
    session: Session, db: Database, clock: FixedClock
) -> None:
    req = factories.request(session, clock.now())
    assert req.status == "queued"  # what the supervisor's page read
    with db.sessions() as dispatcher:
        dispatcher.execute(update(CallbackRequest).where(CallbackRequest.id == req.id).values(status="dialing"))
        dispatcher.commit()

    with pytest.raises(Conflict) as caught:
        service.prioritise(session, clock, req.id)

    assert caught.value.code == "changed_meanwhile"
    assert "just became dialing" in caught.value.message
    session.refresh(req)
    assert (req.status, req.priority) == ("dialing", 0)


def test_a_moved_request_keeps_its_place_by_arrival_time_in_the_new_queue(session: Session, clock: FixedClock) -> None:
    now = clock.now()
    factories.request(session, now, topic="returns", age=timedelta(minutes=30))
    factories.request(session, now, topic="returns", age=timedelta(minutes=5))
    moved = factories.request(session, now, age=timedelta(minutes=10), priority=3)
    asked = moved.created_at

    service.move(session, clock, moved.id, "returns")

    session.refresh(moved)
    assert (moved.queue.name, moved.priority, moved.created_at) == ("returns", 0, asked)
    assert service.position(session, moved, now) == 1  # behind the one who asked 30 minutes ago


def test_a_number_waiting_in_the_other_queue_already_cannot_be_moved_there(session: Session, clock: FixedClock) -> None:
    now = clock.now()
    there = factories.request(session, now, topic="returns", phone="+12015550142")
    factories.request(session, now, topic="payments", phone="+12015550142", status="completed")
    req = factories.request(session, now, phone="+12015550142")

    with pytest.raises(Conflict) as caught:
        service.move(session, clock, req.id, "returns")
    service.move(session, clock, req.id, "payments")  # a finished request there is no obstacle

    assert caught.value.code == "already_in_queue" and caught.value.field == "queue"
    assert f"(request {there.id})" in caught.value.message
    session.refresh(req)
    assert req.queue.name == "payments"


def test_moving_to_the_same_or_an_unknown_queue_is_refused(session: Session, clock: FixedClock) -> None:
    req = factories.request(session, clock.now())

    with pytest.raises(Conflict) as same:
        service.move(session, clock, req.id, "orders")
    with pytest.raises(InvalidInput) as unknown:
        service.move(session, clock, req.id, "weather")

    assert same.value.code == "same_queue" and unknown.value.code == "unknown_queue"


def test_a_caller_holding_on_the_line_is_neither_moved_nor_canceled(session: Session, clock: FixedClock) -> None:
    holder = factories.request(session, clock.now(), source="ivr", hold_call_sid="CA" + "4" * 32)

    with pytest.raises(Conflict) as moved:
        service.move(session, clock, holder.id, "returns")
    with pytest.raises(Conflict) as canceled:
        service.staff_cancel(session, clock, holder.id, FakeTelephony())
    service.prioritise(session, clock, holder.id)  # calling them next is fine: they are put through first

    assert moved.value.code == canceled.value.code == "holding"
    session.refresh(holder)
    assert (holder.status, holder.queue.name) == ("queued", "orders")


def test_a_supervisor_cancels_a_waiting_request_and_the_audit_line_goes_with_it(
    session: Session, clock: FixedClock
) -> None:
    req = factories.request(session, clock.now(), status="retry_wait", next_attempt_at=clock.now())
    boss = factories.staff(session, clock.now(), "supervisor")

    service.staff_cancel(session, clock, req.id, FakeTelephony(), actor=boss, address="203.0.113.9")

    session.refresh(req)
    assert (req.status, req.outcome, req.next_attempt_at) == ("canceled", service.CANCELED_BY_STAFF, None)
    [line] = line_of(session, "request.cancel")
    assert (line.actor, line.target, line.address, line.at) == (
        boss.email,
        f"request {req.id}",
        "203.0.113.9",
        clock.now(),
    )
    assert line.details_dict == {"from": "retry_wait"}


def test_canceling_a_request_being_dialled_hangs_up_the_ringing_call(session: Session, clock: FixedClock) -> None:
    phones = FakeTelephony()
    req = factories.request(session, clock.now(), status="dialing")
    ringing = phones.place_call(req.phone, "+15005550006", "https://shop.example/answer")
    session.add(CallAttempt(request_id=req.id, call_sid=ringing.sid, created_at=clock.now(), dialled_at=clock.now()))
    session.commit()

    service.staff_cancel(session, clock, req.id, phones)

    session.refresh(req)
    assert req.status == "canceled"
    assert phones.calls[ringing.sid].info.status == "canceled"


@pytest.mark.parametrize("status", ["connecting", "connected"])
def test_a_customer_on_the_phone_with_us_is_not_cut_off(session: Session, clock: FixedClock, status: str) -> None:
    phones = FakeTelephony()
    req = factories.request(session, clock.now(), status=status)
    talking = phones.place_call(req.phone, "+15005550006", "https://shop.example/answer")
    session.add(CallAttempt(request_id=req.id, call_sid=talking.sid, created_at=clock.now(), dialled_at=clock.now()))
    session.commit()

    with pytest.raises(Conflict) as caught:
        service.staff_cancel(session, clock, req.id, phones)

    assert caught.value.code == "on_the_line"
    session.refresh(req)
    assert req.status == status
    assert phones.calls[talking.sid].updates == []
    assert line_of(session, "request.cancel") == []


def test_a_finished_request_has_nothing_to_cancel(session: Session, clock: FixedClock) -> None:
    done = factories.request(session, clock.now(), status="expired")
    with pytest.raises(Conflict) as caught:
        service.staff_cancel(session, clock, done.id, None)
    assert caught.value.code == "not_active" and "already expired" in caught.value.message


# --- the pages ------------------------------------------------------------------------------------


@pytest.fixture
def db_session(app: Flask) -> Iterator[Session]:
    """A session on the app's database, for arranging and checking what the pages did."""
    with get_db(app).sessions() as s:
        yield s


@pytest.fixture
def sign_in(app: Flask, db_session: Session, clock: FixedClock) -> Callable[..., FlaskClient]:
    """A fresh browser signed in as a new staff member with `role`."""

    def signed_in(role: str) -> FlaskClient:
        user = factories.staff(db_session, clock.now(), role)
        client = app.test_client()
        assert signin.sign_in(client, user.email).status_code == 302
        return client

    return signed_in


@pytest.fixture
def supervisor(sign_in: Callable[..., FlaskClient]) -> FlaskClient:
    return sign_in("supervisor")


@pytest.fixture
def phones(app: Flask) -> FakeTelephony:
    """The app's telephony, in memory."""
    fake = FakeTelephony()
    app.extensions["telephony"] = fake
    return fake


def act(client: FlaskClient, req: CallbackRequest, action: str, **data: str):
    """Press one of the request page's buttons, with the page's CSRF token."""
    token = csrf_token(client, f"/admin/requests/{req.id}")
    return client.post(f"/admin/requests/{req.id}/{action}", data={"csrf_token": token, **data})


def test_the_list_shows_the_newest_first_and_hides_repeated_asks(
    supervisor: FlaskClient, db_session: Session, clock: FixedClock
) -> None:
    now = clock.now()
    old = factories.request(db_session, now, age=timedelta(hours=3), status="completed")
    new = factories.request(db_session, now, age=timedelta(minutes=1))
    repeat = factories.request(db_session, now, status="canceled", outcome=DUPLICATE_ASK)

    default = supervisor.get("/admin/requests")
    shown = supervisor.get("/admin/requests", query_string={"duplicates": "y"})

    assert default.status_code == 200
    assert ids_listed(default) == [new.id, old.id]
    assert "2 requests" in text(default)
    assert ids_listed(shown) == [repeat.id, new.id, old.id]


def test_the_list_filters_by_status_queue_and_the_phones_last_digits_together(
    supervisor: FlaskClient, db_session: Session, clock: FixedClock
) -> None:
    now = clock.now()
    queued = factories.request(db_session, now, phone="+12015550142")
    retrying = factories.request(db_session, now, phone="+13125550142", status="retry_wait", age=timedelta(minutes=1))
    done = factories.request(db_session, now, phone="+14155550142", status="completed", age=timedelta(minutes=2))
    returns = factories.request(db_session, now, phone="+16465550142", topic="returns", age=timedelta(minutes=3))
    other = factories.request(db_session, now, phone="+12015550999", age=timedelta(minutes=4))

    def listed(**args: str) -> list[int]:
        response = supervisor.get("/admin/requests", query_string=args)
        assert response.status_code == 200
        return ids_listed(response)

    assert listed(status="completed") == [done.id]
    assert listed(status="active") == [queued.id, retrying.id, returns.id, other.id]
    assert listed(queue="returns") == [returns.id]
    assert listed(q="0142") == [queued.id, retrying.id, done.id, returns.id]
    assert listed(q="555-0142") == [queued.id, retrying.id, done.id, returns.id]  # typed as it is written
    assert listed(q="12015550142") == [queued.id]
    assert listed(q="0142", status="active", queue="orders") == [queued.id, retrying.id]
    # The status list counts what the other filters let through.
    page = text(supervisor.get("/admin/requests", query_string={"q": "0142", "queue": "orders"}))
    assert "Queued (1)" in page and "Waiting to retry (1)" in page and "Completed (1)" in page
    assert "Active (2)" in page and "Any status (3)" in page


def test_the_dates_are_the_shops_days(supervisor: FlaskClient, db_session: Session, clock: FixedClock) -> None:
    # 23:30 on Sunday 22 November in New York is already Monday in UTC.
    sunday_night = factories.request(db_session, datetime(2026, 11, 23, 4, 30, tzinfo=UTC))
    monday = factories.request(db_session, clock.now())
    saturday = factories.request(db_session, datetime(2026, 11, 21, 17, 0, tzinfo=UTC))

    def listed(**args: str) -> list[int]:
        return ids_listed(supervisor.get("/admin/requests", query_string=args))

    assert listed(date_from="2026-11-22", date_to="2026-11-22") == [sunday_night.id]
    assert listed(date_from="2026-11-23") == [monday.id]
    assert listed(date_to="2026-11-22") == [sunday_night.id, saturday.id]


def test_a_queue_in_another_zone_has_its_requests_on_its_own_days_as_the_figures_count_them(
    supervisor: FlaskClient, db_session: Session, clock: FixedClock
) -> None:
    update_queue(db_session, "returns", {"timezone": "America/Los_Angeles"})
    # 22:30 on Sunday 22 November in Los Angeles: already Monday in New York (the orders queue's zone).
    sunday_in_la = factories.request(db_session, datetime(2026, 11, 23, 6, 30, tzinfo=UTC), topic="returns")
    monday_in_ny = factories.request(db_session, datetime(2026, 11, 23, 6, 30, tzinfo=UTC))

    def listed(**args: str) -> list[int]:
        return ids_listed(supervisor.get("/admin/requests", query_string=args))

    assert listed(date_from="2026-11-22", date_to="2026-11-22") == [sunday_in_la.id]
    assert listed(date_from="2026-11-23", date_to="2026-11-23") == [monday_in_ny.id]
    assert listed(queue="returns", date_from="2026-11-22", date_to="2026-11-22") == [sunday_in_la.id]
    sunday = figures.report(db_session, figures.Days(date(2026, 11, 22), date(2026, 11, 22)), "returns", clock.now())
    assert sunday.queues[0].offered == 1  # the same day as the figures say
    page = text(supervisor.get("/admin/requests", query_string={"date_from": "2026-11-22"}))
    assert "Days in each queue's own time zone." in page and "Sun 22 Nov" in page


def test_bad_filters_are_explained_next_to_their_field(supervisor: FlaskClient) -> None:
    bad_date = supervisor.get("/admin/requests", query_string={"date_from": "yesterday"})
    backwards = supervisor.get("/admin/requests", query_string={"date_from": "2026-11-23", "date_to": "2026-11-20"})
    one_digit = supervisor.get("/admin/requests", query_string={"q": "7"})
    bad_status = supervisor.get("/admin/requests", query_string={"status": "lost"})
    far = supervisor.get("/admin/requests", query_string={"date_to": "9999-12-31"})
    assert far.status_code == 422 and "Please give a date between 1970 and 2100." in text(far)

    assert bad_date.status_code == 422 and "Please give a date such as 2026-11-23." in text(bad_date)
    assert 'id="date_from-error"' in text(bad_date)
    assert backwards.status_code == 422 and "This date is before the first one." in text(backwards)
    assert one_digit.status_code == 422 and "Type at least 2 digits" in text(one_digit)
    assert bad_status.status_code == 422 and "Please choose from the list." in text(bad_status)


def test_the_list_comes_in_pages_of_fifty_that_keep_the_filters(
    supervisor: FlaskClient, db_session: Session, clock: FixedClock
) -> None:
    now = clock.now()
    made = [factories.request(db_session, now, age=timedelta(minutes=n)) for n in range(55)]
    factories.request(db_session, now, topic="returns")

    first = supervisor.get("/admin/requests", query_string={"queue": "orders"})
    second = supervisor.get("/admin/requests", query_string={"queue": "orders", "page": "2"})
    beyond = supervisor.get("/admin/requests", query_string={"queue": "orders", "page": "9"})

    assert ids_listed(first) == [r.id for r in made[:50]]
    assert "55 requests" in text(first) and "Page 1 of 2" in text(first)
    assert 'href="/admin/requests?queue=orders&amp;page=2"' in first.get_data(as_text=True)
    assert ids_listed(second) == [r.id for r in made[50:]]
    assert ids_listed(beyond) == ids_listed(second)  # past the end: the last page


def test_an_empty_list_says_why_and_how_to_widen_it(supervisor: FlaskClient, db_session: Session, clock) -> None:
    nothing_yet = text(supervisor.get("/admin/requests"))
    factories.request(db_session, clock.now())
    no_match = text(supervisor.get("/admin/requests", query_string={"status": "failed"}))

    assert "No callback requests yet." in nothing_yet
    assert "No request matches these filters." in no_match
    assert "Clear the filters" in no_match


def test_the_request_page_offers_the_actions_its_state_allows(
    supervisor: FlaskClient, db_session: Session, clock: FixedClock
) -> None:
    waiting = text(supervisor.get(f"/admin/requests/{factories.request(db_session, clock.now()).id}"))
    talking = text(
        supervisor.get(f"/admin/requests/{factories.request(db_session, clock.now(), status='connected').id}")
    )

    assert "Call next" in waiting and "Move</button>" in waiting and "Cancel this request" in waiting
    assert '<option value="returns">' in waiting and '<option value="orders">' not in waiting
    # Two steps for the destructive ones: no queue is chosen for a move, and the cancel asks first.
    assert 'value="">Choose a queue</option>' in waiting
    assert "<summary>Cancel this request</summary>" in waiting and "Yes, cancel it</button>" in waiting
    assert "Call next" not in talking and "Cancel this request" not in talking
    assert "The customer is on the phone with us right now." in talking


def test_a_holders_page_offers_call_next_only(supervisor: FlaskClient, db_session: Session, clock: FixedClock) -> None:
    holder = factories.request(db_session, clock.now(), source="ivr", hold_call_sid="CA" + "5" * 32)

    page = text(supervisor.get(f"/admin/requests/{holder.id}"))

    assert "Call next" in page and "The caller is holding on the line" in page
    assert "Move</button>" not in page and "Cancel this request" not in page


def test_call_next_outside_business_hours_says_when_they_are_called(
    supervisor: FlaskClient, db_session: Session, clock: FixedClock
) -> None:
    clock.advance(hours=9)  # 19:00 in New York: the default queues are closed
    req = factories.request(db_session, clock.now())

    act(supervisor, req, "call-next")

    page = text(supervisor.get(f"/admin/requests/{req.id}"))
    assert "which is closed now: they are called first when it opens." in page


def test_an_agent_may_neither_list_open_nor_change_requests(
    sign_in: Callable[..., FlaskClient], db_session: Session, clock: FixedClock
) -> None:
    req = factories.request(db_session, clock.now())
    agent = sign_in("agent")
    token = csrf_token(agent, "/staff")

    assert agent.get("/admin/requests").status_code == 403
    assert agent.get(f"/admin/requests/{req.id}").status_code == 403
    for action, data in (("cancel", {}), ("call-next", {}), ("move", {"queue": "returns"})):
        response = agent.post(f"/admin/requests/{req.id}/{action}", data={"csrf_token": token, **data})
        assert response.status_code == 403, action
    db_session.refresh(req)
    assert (req.status, req.priority, req.queue.name) == ("queued", 0, "orders")


def test_call_next_says_when_the_gap_between_calls_lets_the_number_be_called(
    supervisor: FlaskClient, db_session: Session, clock: FixedClock
) -> None:
    now = clock.now()
    req = factories.request(db_session, now, status="retry_wait", next_attempt_at=now + timedelta(minutes=10))
    agent = factories.agent(db_session, now)
    # We called them 30 seconds ago: the next call may go from 90 seconds from now.
    db_session.add(
        CallAttempt(
            request_id=req.id,
            agent_id=agent.id,
            created_at=now - timedelta(minutes=1),
            dialled_at=now - timedelta(minutes=1),
            ended_at=now - timedelta(seconds=30),
        )
    )
    db_session.commit()

    act(supervisor, req, "call-next")

    page = text(supervisor.get(f"/admin/requests/{req.id}"))
    assert "leave at least 2 minutes between calls to one number" in page
    assert "the next free agent calls them from 10:01 EST" in page


def test_call_next_is_audited_wakes_the_dispatcher_and_says_so(
    app: Flask, supervisor: FlaskClient, db_session: Session, clock: FixedClock
) -> None:
    woken: list[bool] = []
    app.extensions["wake_dispatcher"] = lambda: woken.append(True)
    factories.request(db_session, clock.now(), age=timedelta(hours=1))
    req = factories.request(db_session, clock.now())

    response = act(supervisor, req, "call-next")

    assert response.status_code == 303 and response.headers["Location"] == f"/admin/requests/{req.id}"
    assert "Test Customer is first in line for Orders, tracking and delivery" in text(
        supervisor.get(f"/admin/requests/{req.id}")
    )
    assert woken == [True]
    db_session.refresh(req)
    assert req.priority == 1
    [line] = line_of(db_session, "request.prioritise")
    assert line.target == f"request {req.id}" and line.actor.startswith("supervisor")
    assert line.details_dict["before"]["priority"] == 0 and line.details_dict["after"]["priority"] == 1


def test_move_is_audited_and_a_refusal_is_shown_on_the_page(
    supervisor: FlaskClient, db_session: Session, clock: FixedClock
) -> None:
    req = factories.request(db_session, clock.now(), phone="+12015550142")
    factories.request(db_session, clock.now(), phone="+12015550142", topic="payments")

    moved = act(supervisor, req, "move", queue="returns")
    refused = act(supervisor, req, "move", queue="payments")
    nonsense = act(supervisor, req, "move", queue="weather")

    assert moved.status_code == 303
    assert refused.status_code == 409
    assert "This number already has an active request in Payments" in text(refused)
    assert nonsense.status_code == 422 and "Please choose a queue." in text(nonsense)
    db_session.refresh(req)
    assert req.queue.name == "returns"
    [line] = line_of(db_session, "request.move")
    assert line.details_dict == {"from": "orders", "to": "returns"}
    page = text(supervisor.get(f"/admin/requests/{req.id}"))
    assert (
        "moved it from Orders, tracking and delivery to Returns and refunds" in page
    )  # the page's own history of staff actions


def test_cancel_is_audited_and_hangs_up_a_ringing_call(
    supervisor: FlaskClient, db_session: Session, clock: FixedClock, phones: FakeTelephony
) -> None:
    req = factories.request(db_session, clock.now(), status="dialing")
    ringing = phones.place_call(req.phone, "+15005550006", "https://shop.example/answer")
    db_session.add(CallAttempt(request_id=req.id, call_sid=ringing.sid, created_at=clock.now(), dialled_at=clock.now()))
    db_session.commit()

    response = act(supervisor, req, "cancel")

    assert response.status_code == 303
    assert "is canceled" in text(supervisor.get(f"/admin/requests/{req.id}"))
    db_session.refresh(req)
    assert (req.status, req.outcome) == ("canceled", "canceled_by_staff")
    assert phones.calls[ringing.sid].info.status == "canceled"
    [line] = line_of(db_session, "request.cancel")
    assert line.details_dict == {"from": "dialing"} and line.address == "127.0.0.1"


def test_a_refused_cancel_says_why_and_writes_no_audit_line(
    supervisor: FlaskClient, db_session: Session, clock: FixedClock, phones: FakeTelephony
) -> None:
    req = factories.request(db_session, clock.now(), status="connected")
    # The page offers no cancel now; a page read a moment earlier still did.
    response = supervisor.post(
        f"/admin/requests/{req.id}/cancel", data={"csrf_token": csrf_token(supervisor, "/admin/requests")}
    )

    assert response.status_code == 409
    assert "The customer is on the phone with us right now" in text(response)
    assert line_of(db_session, "request.cancel") == []


@pytest.mark.parametrize(("action", "data"), [("cancel", {}), ("call-next", {}), ("move", {"queue": "returns"})])
def test_an_action_without_a_csrf_token_is_refused(
    supervisor: FlaskClient, db_session: Session, clock: FixedClock, action: str, data: dict[str, str]
) -> None:
    req = factories.request(db_session, clock.now(), age=timedelta(minutes=5))
    factories.request(db_session, clock.now())

    response = supervisor.post(f"/admin/requests/{req.id}/{action}", data=data)

    assert response.status_code == 400
    db_session.refresh(req)
    assert (req.status, req.priority, req.queue.name) == ("queued", 0, "orders")
    assert [e for e in audit.recent(db_session) if e.action.startswith("request.")] == []


def test_an_action_on_an_unknown_request_is_not_found(supervisor: FlaskClient) -> None:
    token = csrf_token(supervisor, "/admin/requests")
    assert supervisor.post("/admin/requests/424242/cancel", data={"csrf_token": token}).status_code == 404


def test_a_move_with_no_queue_chosen_moves_nothing(
    supervisor: FlaskClient, db_session: Session, clock: FixedClock
) -> None:
    req = factories.request(db_session, clock.now())
    refused = act(supervisor, req, "move", queue="")
    assert refused.status_code == 422 and "Please choose a queue." in text(refused)
    db_session.refresh(req)
    assert req.queue.name == "orders"
