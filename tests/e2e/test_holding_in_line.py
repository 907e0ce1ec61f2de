"""Callers holding on the line share it with the web's callbacks, through the sandbox: served in arrival
order whatever their request's own time, through a pause of the provider's, never expiring while they
hold; the busy offer counts the line as a holder hears it; a holder who hangs up counts as abandoned."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import select, update

from callback.models import CallbackRequest
from core.db import get_db
from ivr.models import IvrSession
from reports import figures
from tests.e2e.conftest import System, start_system
from tests.e2e.test_agent_legs import set_queue
from tests.e2e.test_ivr_calls import AGENT, FINAL, call_in, heard, shop, start_call

__all__ = ["shop"]

EARLY = "+12015550171"  # asked on the web first
LATER = "+12015550172"  # called in later
HOLD = [{"digits": "0"}, {"digits": "3"}]  # a person, please; everyone is busy: hold


def holding(system: System, sid: str) -> bool:
    """Whether the call has heard its first announcement on hold."""
    return "Thanks for holding" in heard_on_hold(system.call(sid))


def heard_on_hold(call: dict[str, Any]) -> str:
    """What the caller heard once in the line (<Enqueue>)."""
    timeline = call["timeline"]
    start = next((i for i, e in enumerate(timeline) if e["type"] == "enqueue"), len(timeline))
    return " ".join(e.get("text", "") for e in timeline[start:] if e["type"] == "say")


def put_through(system: System) -> list[str]:
    """The calls the agent's phone was rung for, by the caller's call."""
    return [str(c.get("parent_call_sid")) for c in system.calls(to=AGENT)]


def abandonment(system: System) -> float | None:
    """The orders queue's phone-menu abandonment over the last hour."""
    now = datetime.now(UTC)
    with get_db(system.app).sessions() as session:
        period = figures.Instants(now - timedelta(hours=1), now + timedelta(minutes=1))
        report = figures.report(session, period, "orders", now)
        return report.queues[0].ivr_abandonment


def menu_calls_ended(system: System, count: int) -> bool:
    with get_db(system.app).sessions() as session:
        ended = session.scalars(select(IvrSession).where(IvrSession.ended_at.is_not(None))).all()
        return len(ended) == count


def test_a_caller_whose_callback_is_backing_off_holds_and_is_put_through_before_a_later_holder(
    shop: System,
) -> None:
    set_queue(shop, "orders", backoff_seconds="900")
    agent_id = shop.add_agent(AGENT, status="available")
    shop.phone(AGENT, answer="human", steps=[{"digits": "1"}], hangup_after=60)
    shop.phone(EARLY, answer="no-answer")
    ref = shop.ask(EARLY)
    shop.wait_status(ref, "retry_wait", timeout=40)  # missed our call: 15 minutes of back-off
    shop.wait(lambda: shop.agent(agent_id).status == "available", message="the agent was never freed")
    shop.set_agent_status(agent_id, "away")
    # They call us back ("you rang?") and hold; someone else calls after them and holds too.
    shop.phone(EARLY, answer="human", hangup_after=900)
    early = start_call(shop, EARLY, HOLD)
    shop.wait(lambda: holding(shop, early), message="the early caller is not holding")
    shop.phone(LATER, answer="human", hangup_after=900)
    later = start_call(shop, LATER, HOLD)
    shop.wait(lambda: holding(shop, later), message="the later caller is not holding")
    said = heard_on_hold(shop.call(early))
    assert said.startswith("Thanks for holding. You're next in line.") and "15 minutes" not in said
    assert "You're number 2 in line" in heard_on_hold(shop.call(later))
    shop.set_agent_status(agent_id, "available")
    shop.wait(lambda: put_through(shop), timeout=20, message="nobody was put through")
    assert put_through(shop) == [early]


def test_during_a_dialling_pause_a_holder_is_put_through_and_a_newcomer_waits_behind_them(shop: System) -> None:
    agent_id = shop.add_agent(AGENT, status="away")
    shop.phone(AGENT, answer="human", steps=[{"digits": "1"}], hangup_after=600)
    shop.add_agent("+12015550181", queues="returns", status="available")
    shop.phone(EARLY, answer="human", hangup_after=2000)
    early = start_call(shop, EARLY, HOLD)
    shop.wait(lambda: holding(shop, early), message="the caller is not holding")
    # A callback to a destination the account may not call: Twilio refuses it (21215) and dialling pauses.
    refusal = {"status": 400, "code": 21215, "to": "+12015550177", "count": 1}
    assert requests.post(f"{shop.sandbox_url}/sandbox/faults/calls_create", json=refusal, timeout=5).status_code == 201
    shop.ask("+12015550177", topic="returns")
    shop.wait(lambda: shop.api("GET", "/healthz").json().get("status") == "warning", message="dialling never paused")
    shop.set_agent_status(agent_id, "available")
    shop.wait(lambda: put_through(shop), timeout=10, message="the holder was not put through during the pause")
    assert put_through(shop) == [early]
    shop.phone(LATER, answer="human", hangup_after=2000)
    later = start_call(shop, LATER, [{"digits": "0"}])
    shop.wait(lambda: "Everyone is busy right now" in heard(shop.call(later)), message="no busy offer")
    assert put_through(shop) == [early]
    assert shop.api("GET", "/healthz").json().get("status") == "warning"  # still paused all along


def test_a_holder_whose_request_outlives_its_expiry_is_still_put_through(shop: System) -> None:
    agent_id = shop.add_agent(AGENT, status="away")
    shop.phone(AGENT, answer="human", steps=[{"digits": "1"}], hangup_after=60)
    shop.phone(LATER, answer="human", hangup_after=2000)
    later = start_call(shop, LATER, HOLD)
    shop.wait(lambda: holding(shop, later), message="the caller is not holding")
    # Their request's life (the queue's opening hours of it) runs out while they hold.
    with get_db(shop.app).sessions() as session:
        session.execute(update(CallbackRequest).values(expires_at=datetime.now(UTC)))
        session.commit()
    time.sleep(2)  # the housekeeping that expires requests runs every second
    with get_db(shop.app).sessions() as session:
        assert session.scalar(select(CallbackRequest.status)) == "queued"
    shop.set_agent_status(agent_id, "available")
    shop.wait(lambda: put_through(shop), timeout=20, message="the holder was never put through")
    assert put_through(shop) == [later]


def test_callers_who_hang_up_on_hold_count_as_abandoned_with_or_without_an_earlier_request(shop: System) -> None:
    shop.add_agent(AGENT, status="away")
    ref = shop.ask(EARLY)
    for caller in (EARLY, LATER):
        shop.phone(caller, answer="human", hangup_after=60)  # gives up after a minute on hold
    calls = [start_call(shop, caller, HOLD) for caller in (EARLY, LATER)]
    shop.wait(lambda: all(shop.call(sid)["status"] in FINAL for sid in calls), timeout=60)
    shop.wait(lambda: menu_calls_ended(shop, 2), message="the menu calls were never closed")
    assert shop.request(ref).status == "queued"  # the web request from before the call waits on
    assert abandonment(shop) == 1.0


def test_a_holder_who_hangs_up_while_the_agent_rings_counts_as_abandoned(tmp_path: Path) -> None:
    system, stop = start_system(tmp_path, ring_timeout_seconds=600)
    try:
        agent_id = system.add_agent(AGENT, status="away")
        system.phone(AGENT, answer="no-answer")
        system.phone(LATER, answer="human", hangup_after=150)
        later = start_call(system, LATER, HOLD)
        system.wait(lambda: holding(system, later), message="the caller is not holding")
        system.set_agent_status(agent_id, "available")
        system.wait(lambda: put_through(system), message="the holder was not taken out of the line")
        system.wait(lambda: system.call(later)["status"] in FINAL, timeout=60)
        system.wait(lambda: menu_calls_ended(system, 1), message="the menu call was never closed")
        assert abandonment(system) == 1.0
    finally:
        stop()


def test_the_busy_offer_tells_the_place_a_holder_then_hears_when_a_message_waits(shop: System) -> None:
    # A caller abroad leaves a message: it waits for a person to hear it, never for a dial.
    message = {"speech": "this is Casey about order one one two, please call me on two zero one five five five"}
    call_in(shop, "+442071838750", [{"digits": "0"}, {"digits": "1"}, *[{"digits": "#"}] * 3, message])
    shop.add_agent(AGENT, status="away")
    shop.phone(LATER, answer="human", hangup_after=120)
    later = start_call(shop, LATER, HOLD)
    shop.wait(lambda: holding(shop, later), message="the caller is not holding")
    said = heard(shop.call(later))
    assert "Everyone is busy right now. You're number 1 in line." in said
    assert heard_on_hold(shop.call(later)).startswith("Thanks for holding. You're next in line.")
