"""The line's one owner (callback/line.py) through the dispatcher: call bounds, provider errors by
class, and do-not-call at the moment a call is placed. A real database, the telephony fake, a fixed clock."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from callback import calls, dnc, line
from callback.models import CallAttempt, CallbackRequest
from core.clock import FixedClock
from core.config import Settings
from core.db import Database, get_db
from scheduler.dispatcher import Dispatcher
from telephony.fake import FakeTelephony
from telephony.port import NETWORK_ERROR, TelephonyError
from tests import factories

SETTINGS = Settings(
    app_env="testing",
    public_base_url="https://shop.example",
    twilio_cps=1000.0,
    min_seconds_between_calls=120,
    max_calls_per_number_per_day=6,
)
PHONE = "+12015550111"


@pytest.fixture
def fake() -> FakeTelephony:
    return FakeTelephony()


@pytest.fixture
def dispatcher(db: Database, fake: FakeTelephony, clock: FixedClock, session: Session) -> Dispatcher:
    return Dispatcher(db, fake, clock, SETTINGS, sleep=lambda _s: None)


def fresh(session: Session, *objects: object) -> None:
    session.expire_all()
    for obj in objects:
        session.refresh(obj)


def called(session: Session, req: CallbackRequest, clock: FixedClock, ended_ago: timedelta) -> None:
    """Record a finished call to the request's number that ended `ended_ago`."""
    now = clock.now()
    session.add(
        CallAttempt(
            request_id=req.id,
            created_at=now - ended_ago - timedelta(seconds=30),
            dialled_at=now - ended_ago - timedelta(seconds=30),
            ended_at=now - ended_ago,
            outcome="no-answer",
        )
    )
    session.commit()


# Bounds a customer can trust ---------------------------------------------------------------------


def test_a_number_is_not_called_again_within_the_minimum_gap_across_its_requests(
    session: Session, clock: FixedClock, dispatcher: Dispatcher, fake: FakeTelephony
) -> None:
    agent = factories.agent(session, clock.now(), queues=("orders", "returns"))
    first = factories.request(session, clock.now(), topic="orders", phone=PHONE, status="failed")
    second = factories.request(session, clock.now(), topic="returns", phone=PHONE)
    called(session, first, clock, ended_ago=timedelta(seconds=30))
    assert dispatcher.run_once() == 0
    fresh(session, second, agent)
    # Put off to 120 s after the last call ended; the agent was never held for it.
    assert (second.status, second.next_attempt_at) == ("queued", clock.now() + timedelta(seconds=90))
    assert agent.status == "available" and not fake.calls
    clock.advance(seconds=91)
    assert dispatcher.run_once() == 1
    assert [c.info.to for c in fake.calls.values()] == [PHONE]


def test_a_request_never_gets_more_calls_than_max_attempts_whatever_put_it_back(
    session: Session, clock: FixedClock, dispatcher: Dispatcher, fake: FakeTelephony
) -> None:
    factories.agent(session, clock.now())
    req = factories.request(session, clock.now(), phone=PHONE)
    for n in range(3):  # the queue's default max_attempts
        called(session, req, clock, ended_ago=timedelta(hours=3 + n))
    assert dispatcher.run_once() == 0
    fresh(session, req)
    assert (req.status, req.outcome) == ("failed", "max_attempts")
    assert not fake.calls


def test_a_number_gets_at_most_the_daily_number_of_calls(
    session: Session, clock: FixedClock, dispatcher: Dispatcher, fake: FakeTelephony
) -> None:
    factories.agent(session, clock.now(), queues=("orders", "returns", "payments", "account"))
    old = [factories.request(session, clock.now(), topic=t, phone=PHONE, status="failed") for t in ("orders",)]
    for n in range(6):
        called(session, old[0], clock, ended_ago=timedelta(hours=1 + n))
    req = factories.request(session, clock.now(), topic="returns", phone=PHONE)
    assert dispatcher.run_once() == 0
    fresh(session, req)
    assert (req.status, req.outcome) == ("failed", "daily_call_limit")
    assert not fake.calls


def test_two_dispatchers_claiming_two_requests_of_one_number_call_it_once(
    db: Database, session: Session, clock: FixedClock, fake: FakeTelephony
) -> None:
    factories.agent(session, clock.now(), queues=("orders",))
    factories.agent(session, clock.now(), queues=("returns",))
    factories.request(session, clock.now(), topic="orders", phone=PHONE)
    factories.request(session, clock.now(), topic="returns", phone=PHONE)
    barrier = threading.Barrier(2)
    claims: list[object] = []

    def claim() -> None:
        dispatcher = Dispatcher(db, fake, clock, SETTINGS, sleep=lambda _s: None)
        barrier.wait()
        with db.sessions() as own:
            claims.append(dispatcher.claim(own))
        with db.sessions() as own:
            claims.append(dispatcher.claim(own))

    threads = [threading.Thread(target=claim) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    dialled = session.scalars(select(CallAttempt).where(CallAttempt.dialled_at.is_not(None))).all()
    assert len(dialled) == 1
    assert len([c for c in claims if c is not None]) == 1


# Provider errors, by class -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "status"), [(20003, 401), (21215, 400), (21216, 400), (20429, 429)], ids=["auth", "geo", "reg", "rate"]
)
def test_an_account_level_refusal_pauses_dialling_and_costs_no_attempt(
    session: Session, clock: FixedClock, dispatcher: Dispatcher, fake: FakeTelephony, code: int, status: int
) -> None:
    agent = factories.agent(session, clock.now())
    req = factories.request(session, clock.now())
    fake.fail_next(TelephonyError(code, "refused", status=status))
    dispatcher.run_once()
    fresh(session, req, agent)
    assert (req.status, req.attempts, req.outcome, agent.status) == ("queued", 0, None, "available")
    assert line.dialling_paused(session, clock.now()) is not None
    clock.advance(seconds=31)  # the request's own wait is over, but dialling is still paused...
    if code not in {21215, 21216}:
        fake.fail_next(TelephonyError(code, "refused", status=status))
    assert dispatcher.run_once() == 0 or line.dialling_paused(session, clock.now()) is not None
    clock.advance(seconds=600)
    if code in {21215, 21216}:
        # Per destination: that request waits an hour, so the line behind it moves on after the pause.
        other = factories.request(session, clock.now(), phone="+12015550999")
        assert dispatcher.run_once() == 1
        fresh(session, req, other)
        assert (req.status, other.status) == ("queued", "dialing")
        return
    assert dispatcher.run_once() == 1
    fresh(session, req)
    assert req.status == "dialing" and req.attempts == 1


def test_a_server_error_is_not_proof_that_no_call_was_made(
    session: Session, clock: FixedClock, dispatcher: Dispatcher, fake: FakeTelephony
) -> None:
    factories.agent(session, clock.now())
    req = factories.request(session, clock.now(), phone=PHONE)
    fake.fail_next(TelephonyError(20500, "Internal Server Error", status=500))
    dispatcher.run_once()
    fresh(session, req)
    # Still dialling and counted: only the reaper, listing the provider's calls, may give it back.
    assert (req.status, req.attempts) == ("dialing", 1)
    assert line.dialling_paused(session, clock.now()) is not None


def test_a_timeout_pauses_dialling_with_a_growing_back_off(session: Session, clock: FixedClock) -> None:
    waits = []
    for _ in range(7):
        pause = line.pause_dialling(session, NETWORK_ERROR, "timed out", clock.now())
        waits.append(round((pause.paused_until - clock.now()).total_seconds()))
    assert waits == [30, 60, 120, 240, 480, 600, 600]
    line.resume_dialling(session)
    assert line.pause_dialling(session, NETWORK_ERROR, "timed out", clock.now()).failures == 1


def test_healthz_warns_while_dialling_is_paused(app: Flask, clock: FixedClock) -> None:
    client = app.test_client()
    assert client.get("/healthz").get_json()["status"] == "ok"
    with get_db(app).sessions() as session:
        line.pause_dialling(session, 20003, "Authenticate", clock.now())
        session.commit()
    body = client.get("/healthz").get_json()
    assert body["status"] == "warning" and "Authenticate" in body["warnings"][0]["message"]


# Do-not-call, at once -------------------------------------------------------------------------------


def test_a_number_listed_between_claim_and_dial_is_not_called(
    db: Database, session: Session, clock: FixedClock, dispatcher: Dispatcher, fake: FakeTelephony
) -> None:
    agent = factories.agent(session, clock.now())
    req = factories.request(session, clock.now(), phone=PHONE)
    with db.sessions() as own:
        claim = dispatcher.claim(own)
    assert claim is not None
    session.add(dnc.DoNotCall(phone=PHONE, reason="asked", added_at=clock.now()))
    session.commit()
    dispatcher.dial(claim)
    fresh(session, req, agent)
    assert not fake.calls
    assert (req.status, req.outcome, agent.status) == ("canceled", "do_not_call", "available")


def test_listing_a_number_cancels_its_requests_and_hangs_up_a_ringing_call(
    session: Session, clock: FixedClock, dispatcher: Dispatcher, fake: FakeTelephony
) -> None:
    factories.agent(session, clock.now())
    req = factories.request(session, clock.now(), phone=PHONE)
    dispatcher.run_once()
    assert len(list(fake.calls.values())) == 1
    assert dnc.add(session, clock, PHONE, "asked", fake) == 1
    fresh(session, req)
    assert (req.status, req.outcome) == ("canceled", "do_not_call")
    assert list(fake.calls.values())[0].info.status in {"canceled", "completed"}
    attempt = req.call_attempts[0]
    calls.on_status(session, clock, attempt, "canceled", 3)
    fresh(session, attempt)
    assert attempt.ended_at is not None


def test_a_refused_agent_number_in_agent_first_sets_the_agent_away_and_fails_no_customer(
    session: Session, clock: FixedClock, dispatcher: Dispatcher, fake: FakeTelephony
) -> None:
    from agents.service import update_queue

    update_queue(session, "orders", {"dial_strategy": "agent_first"})
    agent = factories.agent(session, clock.now())
    first = factories.request(session, clock.now())
    second = factories.request(session, clock.now())
    fake.fail_next(TelephonyError(21211, "Invalid 'To' Phone Number", status=400))
    dispatcher.run_once()
    fresh(session, first, second, agent)
    assert (first.status, second.status) == ("queued", "queued")
    assert agent.status == "away" and "refused" in (agent.status_reason or "")


def test_a_number_in_a_call_with_us_is_not_dialled_for_another_request(
    session: Session, clock: FixedClock, dispatcher: Dispatcher, fake: FakeTelephony
) -> None:
    factories.agent(session, clock.now(), queues=("returns",))
    talking = factories.request(session, clock.now(), topic="orders", phone=PHONE, status="connected", source="ivr")
    session.add(CallAttempt(request_id=talking.id, created_at=clock.now(), answered_at=clock.now()))
    session.commit()
    waiting = factories.request(session, clock.now(), topic="returns", phone=PHONE)
    assert dispatcher.run_once() == 0
    fresh(session, waiting)
    assert waiting.status == "queued" and waiting.next_attempt_at is not None and not fake.calls


def test_a_number_in_our_phone_menu_is_not_dialled_until_the_call_ends_or_goes_silent(
    session: Session, clock: FixedClock, dispatcher: Dispatcher, fake: FakeTelephony
) -> None:
    """A customer with a callback waiting who rings the shop and listens to the menu: a call placed then
    meets call waiting or a busy line, and uses up one of their attempts."""
    from ivr.models import IvrSession

    factories.agent(session, clock.now(), queues=("orders",))
    waiting = factories.request(session, clock.now(), topic="orders", phone=PHONE)
    menu = IvrSession(
        call_sid="CA" + "7" * 32, caller=PHONE, called="+15005550006", started_at=clock.now(),
        updated_at=clock.now(), node="main",
    )  # fmt: skip
    session.add(menu)
    session.commit()
    assert dispatcher.run_once() == 0
    fresh(session, waiting)
    assert waiting.status == "queued" and waiting.next_attempt_at is not None and not fake.calls

    # A menu call whose end we never heard of stops counting once nobody has answered a prompt for long.
    clock.advance(seconds=line.MENU_CALL_LIVE.total_seconds() + 1)
    assert dispatcher.run_once() == 1 and [c.info.to for c in fake.calls.values()] == [PHONE]


def test_a_number_whose_menu_call_ended_is_dialled(
    session: Session, clock: FixedClock, dispatcher: Dispatcher, fake: FakeTelephony
) -> None:
    from ivr.models import IvrSession

    factories.agent(session, clock.now(), queues=("orders",))
    factories.request(session, clock.now(), topic="orders", phone=PHONE)
    session.add(
        IvrSession(
            call_sid="CA" + "8" * 32, caller=PHONE, called="+15005550006", started_at=clock.now(),
            updated_at=clock.now(), ended_at=clock.now() - timedelta(minutes=10), node="main",
        )
    )  # fmt: skip
    session.commit()
    assert dispatcher.run_once() == 1


def test_a_phone_menu_caller_neither_joins_nor_changes_another_request_of_their_number(
    session: Session, clock: FixedClock
) -> None:
    now = clock.now()
    theirs = factories.request(session, now, phone=PHONE, age=timedelta(hours=23), language="en")
    before = (theirs.status, theirs.ivr_context, theirs.expires_at, theirs.language, theirs.updated_at)
    queue = factories.queue(session, "orders")
    joined = line.join_from_phone(session, queue, PHONE, now, '{"ivr_session": 7}', now, client="tel:" + PHONE)
    session.commit()
    fresh(session, theirs)
    assert joined is None
    assert (theirs.status, theirs.ivr_context, theirs.expires_at, theirs.language, theirs.updated_at) == before
    assert session.scalars(select(CallbackRequest)).all() == [theirs]


def test_a_phone_menu_caller_finds_the_request_their_own_call_made_when_the_webhook_is_retried(
    session: Session, clock: FixedClock
) -> None:
    now = clock.now()
    queue = factories.queue(session, "orders")
    made = line.join_from_phone(session, queue, PHONE, now, "{}", now)
    session.commit()
    assert made is not None and (made.phone, made.status, made.source, made.created_at) == (PHONE, "queued", "ivr", now)
    again = line.join_from_phone(session, queue, PHONE, now, "{}", now, ours=lambda found: found.id == made.id)
    assert again is made
    assert line.join_from_phone(session, queue, PHONE, now, "{}", now) is None  # not ours: someone else's call


def test_an_ask_that_found_a_request_is_counted_by_the_limits(session: Session, clock: FixedClock) -> None:
    from callback.policy import Limits, check_asks
    from core.errors import LimitExceeded

    now = clock.now()
    factories.request(session, now, phone=PHONE)
    queue = factories.queue(session, "orders")
    for _ in range(4):
        line.repeated_ask(session, queue, PHONE, now, "call:CA1")
    session.commit()
    with pytest.raises(LimitExceeded) as refused:
        check_asks(session, Limits(per_ip_per_hour=4, per_number_per_day=100), PHONE, "call:CA1", now)
    assert refused.value.code == "client_hourly_limit"
    # Another repeat (a probe) counts every ask of the number: the request and the four repeats.
    with pytest.raises(LimitExceeded) as probed:
        check_asks(session, Limits(per_number_per_day=5), PHONE, None, now, repeat=True)
    assert probed.value.code == "number_daily_limit"
    # An ask for a new request counts the requests made for the number (one), not strangers' repeats.
    check_asks(session, Limits(per_number_per_day=2), PHONE, None, now, repeat=False)
    with pytest.raises(LimitExceeded) as daily:
        check_asks(session, Limits(per_number_per_day=1), PHONE, None, now, repeat=False)
    assert daily.value.code == "number_daily_limit"
