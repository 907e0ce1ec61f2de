"""Callers holding on the line (<Enqueue>) share it with the callbacks: they are served in arrival order
whatever their request's own slot or back-off, through a pause of the provider's, and never expire while
they hold; the busy offer counts the same line as a holder's place. A real database, the telephony fake
and a fixed clock; the phone menu through its signed webhooks."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agents.models import Agent
from callback import calls, line, service
from callback.models import CallAttempt, CallbackRequest, PacingBucket
from core.clock import FixedClock
from core.config import Settings
from core.db import Database, get_db
from ivr.models import IvrSession
from scheduler.dispatcher import Dispatcher
from telephony.fake import FakeTelephony
from telephony.port import TelephonyError
from tests import factories
from tests.integration.test_ivr_menu import STRANGER, answer, call, heard, staff
from tests.integration.test_ivr_webhooks import form, post, verbs

SETTINGS = Settings(app_env="testing", public_base_url="https://shop.example", twilio_cps=1000.0)
EARLY = "+12015550171"  # asked on the web first, then called in and holds
LATER = "+12015550172"  # called in after them and holds too


@pytest.fixture
def fake() -> FakeTelephony:
    return FakeTelephony()


@pytest.fixture
def dispatcher(db: Database, fake: FakeTelephony, clock: FixedClock, session: Session) -> Dispatcher:
    # `session` first: it creates the default queues.
    return Dispatcher(db, fake, clock, SETTINGS, sleep=lambda _s: None)


def fresh(session: Session, *objects: object) -> None:
    session.expire_all()
    for obj in objects:
        session.refresh(obj)


def holding(
    session: Session, fake: FakeTelephony, now: datetime, phone: str, age: timedelta = timedelta(0), **fields: Any
) -> CallbackRequest:
    """A caller's request with their call holding in <Enqueue> (the call came in `age` ago unless the
    request is older: a web request of theirs from before the call)."""
    sid = fake.place_call(phone, "+15005550006", "https://shop.example/voice/incoming").sid
    fake.set_status(sid, "in-progress")  # the caller's own call, answered by the menu
    req = factories.request(session, now, phone=phone, hold_call_sid=sid, age=age, **fields)
    menu = IvrSession(call_sid=sid, caller=phone, called="+15005550006", started_at=now, updated_at=now)
    menu.node, menu.outcome, menu.request_id, menu.topic = "agent_orders", "hold", req.id, "orders"
    session.add(menu)
    session.commit()
    return req


def redirected(fake: FakeTelephony, req: CallbackRequest) -> bool:
    """Whether the holder's call was taken out of the line (a redirect to connect-holder)."""
    return any("connect-holder" in (update["url"] or "") for update in fake.calls[req.hold_call_sid or ""].updates)


# --- served in arrival order, whatever their request's own time ----------------------------------------------

NOT_YET_DUE = {
    # Missed our call: the queue's back-off (15 minutes) runs.
    "backing_off": {"status": "retry_wait", "next_attempt_at": timedelta(minutes=15)},
    # Booked on the web for this afternoon.
    "booked": {"not_before": timedelta(hours=3)},
}


@pytest.mark.parametrize("not_due", NOT_YET_DUE.values(), ids=NOT_YET_DUE.keys())
def test_a_holder_whose_request_is_not_yet_due_is_served_before_a_later_holder(
    session: Session, clock: FixedClock, dispatcher: Dispatcher, fake: FakeTelephony, not_due: dict[str, object]
) -> None:
    now = clock.now()
    fields = {key: now + value if isinstance(value, timedelta) else value for key, value in not_due.items()}
    early = holding(session, fake, now, EARLY, age=timedelta(minutes=30), **fields)
    later = holding(session, fake, now, LATER)
    factories.agent(session, now)
    assert dispatcher.run_once() == 1
    fresh(session, early, later)
    assert (early.status, later.status) == ("dialing", "queued")
    assert redirected(fake, early) and not redirected(fake, later)


@pytest.mark.parametrize("not_due", NOT_YET_DUE.values(), ids=NOT_YET_DUE.keys())
def test_a_holder_is_told_the_wait_of_a_holder_not_their_requests_slot_or_back_off(
    session: Session, clock: FixedClock, fake: FakeTelephony, not_due: dict[str, object]
) -> None:
    now = clock.now()
    fields = {key: now + value if isinstance(value, timedelta) else value for key, value in not_due.items()}
    early = holding(session, fake, now, EARLY, age=timedelta(minutes=30), **fields)
    later = holding(session, fake, now, LATER)
    factories.agent(session, now, status="on_call")
    first, second = service.standing(session, early, now), service.standing(session, later, now)
    assert first.position == 0 and second.position == 1  # the earlier holder is ahead of the later one
    assert first.scheduled_for is None
    assert first.estimated_wait_seconds is not None and second.estimated_wait_seconds is not None
    assert first.estimated_wait_seconds < 15 * 60 and first.estimated_wait_seconds <= second.estimated_wait_seconds


def test_a_holder_with_a_request_from_before_who_hangs_up_leaves_it_to_wait_for_its_own_time(
    session: Session, clock: FixedClock, dispatcher: Dispatcher, fake: FakeTelephony
) -> None:
    now = clock.now()
    back_off_ends = now + timedelta(minutes=15)
    early = holding(
        session, fake, now, EARLY, age=timedelta(minutes=30), status="retry_wait", next_attempt_at=back_off_ends
    )
    line.hold_ended(session, early, "hangup", now, call_sid=early.hold_call_sid)
    factories.agent(session, now)
    assert dispatcher.run_once() == 0  # holding made them due; hanging up gives that back
    fresh(session, early)
    assert (early.status, early.hold_call_sid, early.next_attempt_at) == ("retry_wait", None, back_off_ends)


def test_due_is_a_rule_of_the_request_and_holding_makes_a_request_due_now(session: Session, clock: FixedClock) -> None:
    now = clock.now()
    booked = factories.request(session, now, not_before=now + timedelta(hours=3))
    held = factories.request(session, now, not_before=now + timedelta(hours=3), hold_call_sid="CA" + "5" * 32)
    assert not booked.due_by(now) and held.due_by(now)
    due = set(session.scalars(select(CallbackRequest.id).where(CallbackRequest.due_by(now))))
    assert due == {held.id}


# --- a pause of the provider's: holders are still put through ------------------------------------------------


def test_during_a_dialling_pause_holders_are_redirected_and_no_call_is_placed(
    session: Session, clock: FixedClock, dispatcher: Dispatcher, fake: FakeTelephony
) -> None:
    now = clock.now()
    web = factories.request(session, now, age=timedelta(hours=1))  # older, but needs calls.create
    holder = holding(session, fake, now, LATER)
    line.pause_dialling(session, 21215, "Account not authorized to call this number", now)
    session.commit()
    factories.agent(session, now)
    created = len(fake.calls)
    assert dispatcher.run_once() == 1
    fresh(session, web, holder)
    assert (holder.status, web.status) == ("dialing", "queued")
    assert redirected(fake, holder) and len(fake.calls) == created  # a redirect, no calls.create
    # A redirect is no outbound call: it takes no pacing slot, and proves nothing about calls.create,
    # so the pause and its back-off stand.
    assert session.scalar(select(func.count()).select_from(PacingBucket)) == 0
    pause = line.dialling_paused(session, now)
    assert pause is not None and pause.failures == 1


def test_a_refused_redirect_pauses_redirects_and_the_holder_stays_in_line_uncounted(
    session: Session, clock: FixedClock, dispatcher: Dispatcher, fake: FakeTelephony
) -> None:
    now = clock.now()
    holder = holding(session, fake, now, LATER)
    agent = factories.agent(session, now)
    for tried in range(1, 5):  # more than the refusals that fail a request being dialled
        fake.fail_next(TelephonyError(21612, "The call cannot be redirected", status=400))
        dispatcher.run_once()
        fresh(session, holder, agent)
        # Tried once, not again and again in the same pass; the holder keeps their place, uncounted.
        assert len(holder.call_attempts) == tried
        assert (holder.status, holder.attempts, agent.status) == ("queued", 0, "available")
        assert line.redirects_paused(session, clock.now()) is not None
        dispatcher.run_once()  # redirects are paused: nobody is claimed for a holder meanwhile
        fresh(session, holder)
        assert len(holder.call_attempts) == tried
        clock.advance(minutes=10)
    assert dispatcher.run_once() == 1
    fresh(session, holder)
    assert holder.status == "dialing" and redirected(fake, holder)
    assert [a.outcome for a in holder.call_attempts] == ["refused"] * 4 + [None]


def test_an_account_refusal_of_a_redirect_pauses_dialling_too(
    session: Session, clock: FixedClock, dispatcher: Dispatcher, fake: FakeTelephony
) -> None:
    now = clock.now()
    holder = holding(session, fake, now, LATER)
    factories.agent(session, now)
    fake.fail_next(TelephonyError(20003, "Authenticate", status=401))
    dispatcher.run_once()
    fresh(session, holder)
    assert holder.status == "queued"
    assert line.dialling_paused(session, now) is not None and line.redirects_paused(session, now) is not None


def test_a_newcomer_does_not_take_a_free_agent_from_a_caller_holding_before_them(
    shop: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    staff(shop, "available")  # free this instant: the dispatcher is about to take the holder to them
    with get_db(shop).sessions() as session:
        factories.request(session, clock.now(), source="ivr", hold_call_sid="CA" + "5" * 32, age=timedelta(minutes=3))
    offer = answer(shop, client, call(shop, client), Digits="0")
    assert "Dial" not in [v.tag for v in verbs(offer)]
    assert "You're number 2 in line" in heard(offer)
    with get_db(shop).sessions() as session:
        assert [a.status for a in session.scalars(select(Agent))] == ["available"]


def test_a_newcomer_whose_call_began_before_anyone_held_is_put_through(
    shop: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    staff(shop, "available")
    menu = call(shop, client)
    clock.advance(seconds=30)  # someone else held while this caller was still in the menu
    with get_db(shop).sessions() as session:
        factories.request(session, clock.now(), source="ivr", hold_call_sid="CA" + "5" * 32)
    put_through = answer(shop, client, menu, Digits="0")
    assert "Dial" in [v.tag for v in verbs(put_through)]


# --- expiry: never while the caller holds ---------------------------------------------------------------------


def test_a_holders_request_does_not_expire_while_they_hold_and_they_are_still_put_through(
    session: Session, clock: FixedClock, dispatcher: Dispatcher, fake: FakeTelephony
) -> None:
    now = clock.now()
    web = factories.request(session, now, age=timedelta(hours=2))
    holder = holding(session, fake, now, LATER)
    web.expires_at = holder.expires_at = now - timedelta(minutes=1)
    session.commit()
    dispatcher.housekeeping()
    fresh(session, web, holder)
    assert (web.status, holder.status) == ("expired", "queued")
    factories.agent(session, now)
    assert dispatcher.run_once() == 1
    fresh(session, holder)
    assert holder.status == "dialing" and redirected(fake, holder)


def test_a_request_past_its_expiry_expires_once_its_caller_stops_holding(
    session: Session, clock: FixedClock, dispatcher: Dispatcher, fake: FakeTelephony
) -> None:
    now = clock.now()
    early = holding(session, fake, now, EARLY, age=timedelta(hours=2))
    early.expires_at = now - timedelta(minutes=1)
    session.commit()
    dispatcher.housekeeping()
    fresh(session, early)
    assert early.status == "queued"
    line.hold_ended(session, early, "hangup", now, call_sid=early.hold_call_sid)
    dispatcher.housekeeping()
    fresh(session, early)
    assert (early.status, early.outcome) == ("expired", "expired")


# --- the busy offer counts the same line as a holder's place ----------------------------------------------


def test_the_busy_offer_counts_the_line_as_a_holders_place_does_without_a_message_nobody_will_dial(
    shop: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    now = clock.now()
    staff(shop, "on_call")
    with get_db(shop).sessions() as session:
        # A caller abroad who left a message: it waits for a person to hear it, not in line.
        factories.request(session, now, phone="call:123456789012345", source="ivr", age=timedelta(hours=1))
        factories.request(session, now, age=timedelta(minutes=5))
        queue = factories.queue(session)
        offered = service.waiting_count(session, queue, now), service.queue_wait(session, queue, now)
        # Who is ahead of a new caller is who is ahead of them once they hold: one rule for both.
        joining = factories.request(session, now, source="ivr", hold_call_sid="CA" + "5" * 32)
        standing = service.standing(session, joining, now)
        assert offered == (standing.position, standing.estimated_wait_seconds) and standing.position == 1
        session.delete(joining)
        session.commit()
    offer = answer(shop, client, call(shop, client), Digits="0")
    assert "You're number 2 in line" in heard(offer)


# --- a holder who hangs up: their call's path says so ---------------------------------------------------------


def test_a_caller_with_a_web_request_who_hangs_up_on_hold_is_recorded_as_having_hung_up(
    shop: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    with get_db(shop).sessions() as session:
        mine = factories.request(session, clock.now(), phone=STRANGER, age=timedelta(hours=1)).id
    staff(shop, "on_call")
    held = answer(shop, client, answer(shop, client, call(shop, client), Digits="0"), Digits="3")
    assert "Enqueue" in [v.tag for v in verbs(held)]
    post(shop, client, "/voice/status", form(CallStatus="completed", SequenceNumber="2", CallDuration="60"))
    with get_db(shop).sessions() as session:
        req = session.get(CallbackRequest, mine)
        menu = session.scalars(select(IvrSession)).one()
        assert req is not None and (req.status, req.outcome) == ("queued", None)
        assert menu.outcome == "hold" and menu.hung_up_waiting
        assert session.scalar(select(func.count()).select_from(CallAttempt)) == 0


def test_a_holder_with_a_request_from_before_who_hangs_up_while_the_agent_rings_is_recorded_so(
    session: Session, clock: FixedClock, dispatcher: Dispatcher, fake: FakeTelephony
) -> None:
    now = clock.now()
    early = holding(session, fake, now, EARLY, age=timedelta(hours=1))
    holder = early.hold_call_sid
    agent = factories.agent(session, now)
    assert dispatcher.run_once() == 1
    session.expire_all()
    attempt = session.scalars(select(CallAttempt)).one()
    assert calls.on_holder_connect(session, clock, attempt).action == "dial"  # out of the line; the agent rings
    clock.advance(seconds=10)
    calls.on_status(session, clock, attempt, "completed", 4, 70)  # they hung up before the agent answered
    fresh(session, early, agent)
    menu = session.scalars(select(IvrSession).where(IvrSession.call_sid == holder)).one()
    assert (early.status, early.outcome, agent.status) == ("queued", None, "available")
    assert menu.hung_up_waiting
