"""An agent whose sign-in lapsed without signing out leaves the line, as on signing out (the reaper)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from agents import audit
from agents.models import Agent
from agents.service import SIGNED_OUT, set_status
from callback.models import CallAttempt
from core.clock import FixedClock
from core.db import Database
from scheduler.reaper import Reaper, ReaperPolicy
from telephony.fake import FakeTelephony
from tests import factories

LASTS = timedelta(hours=12)


def signed_in_agent(session: Session, clock: FixedClock, status: str = "available") -> Agent:
    """An agent whose account signed in now and who went `status` a minute later, at the console."""
    agent = factories.agent(session, clock.now(), status="offline")
    account = factories.staff(session, clock.now(), "agent", agent_id=agent.id)
    account.last_login_at = clock.now()
    session.commit()
    clock.advance(minutes=1)
    if status != "offline":
        set_status(session, clock, agent.id, "available")
        agent.status = status  # the line's own statuses, as the line would set them
        session.commit()
    return agent


def reap(db: Database, clock: FixedClock) -> int:
    return Reaper(db, FakeTelephony(), clock, ReaperPolicy(sign_in_lasts=LASTS)).run_once()["signed_off"]


@pytest.mark.parametrize("status", ["available", "away", "wrap_up"])
def test_an_agent_who_went_home_without_signing_out_is_signed_off_when_the_sign_in_lapses(
    db: Database, session: Session, clock: FixedClock, status: str
) -> None:
    agent = signed_in_agent(session, clock, status)
    clock.advance(hours=11)
    assert reap(db, clock) == 0  # still within the sign-in
    clock.advance(hours=1)
    assert reap(db, clock) == 1
    session.refresh(agent)
    assert (agent.status, agent.status_reason) == ("offline", SIGNED_OUT)
    lines = [e for e in audit.recent(session, limit=50) if e.action == "agent.status" and e.actor == audit.SYSTEM]
    assert lines and lines[0].target == f"agent {agent.id}"
    assert reap(db, clock) == 0  # once


def test_an_agent_on_a_call_when_the_sign_in_lapses_finishes_it_then_goes_offline(
    db: Database, session: Session, clock: FixedClock
) -> None:
    agent = signed_in_agent(session, clock, "on_call")
    # The call they are on (without it, the reaper would free them as left behind by a crash).
    req = factories.request(session, clock.now(), status="connected", agent_id=agent.id)
    session.add(CallAttempt(request_id=req.id, agent_id=agent.id, call_sid="CA" + "7" * 32, created_at=clock.now()))
    session.commit()
    clock.advance(hours=13)
    assert reap(db, clock) == 1
    session.refresh(agent)
    assert (agent.status, agent.after_call_status) == ("on_call", "signed_out")
    assert reap(db, clock) == 0


def test_a_status_someone_set_after_the_lapse_and_agents_without_a_sign_in_are_left_alone(
    db: Database, session: Session, clock: FixedClock
) -> None:
    desk_phone = signed_in_agent(session, clock, "offline")
    no_account = factories.agent(session, clock.now(), status="available")
    never_signed_in = factories.agent(session, clock.now(), status="available")
    factories.staff(session, clock.now(), "agent", agent_id=never_signed_in.id)
    clock.advance(hours=13)
    # A supervisor makes the desk-phone agent available after their sign-in lapsed: that is theirs to keep.
    set_status(session, clock, desk_phone.id, "available", reason="set by Sam Park (supervisor)")
    clock.advance(hours=1)
    assert reap(db, clock) == 0
    for agent in (desk_phone, no_account, never_signed_in):
        session.refresh(agent)
        assert agent.status == "available"
