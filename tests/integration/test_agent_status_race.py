"""A person's status change and the dispatcher's claim, arriving at once as they do in production."""

from __future__ import annotations

import threading
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from agents import service
from agents.models import Agent
from agents.staff import disable
from callback import line
from callback import service as callbacks
from callback.models import CallAttempt
from core.clock import FixedClock
from core.db import Database
from tests import factories


class ClaimingClock(FixedClock):
    """A fixed clock that starts the dispatcher's claim of the agent (in another session and thread) the
    first time the status change asks the time: after its read of the agent, before its write."""

    def __init__(self, now: datetime, db: Database, agent_id: int, request_id: int) -> None:
        super().__init__(now)
        self.db, self.agent_id, self.request_id = db, agent_id, request_id
        self.thread: threading.Thread | None = None
        self.claimed: object = "not tried"
        self.waited = False
        self.error: Exception | None = None

    def now(self) -> datetime:
        if self.thread is None:
            self.thread = threading.Thread(target=self._claim, daemon=True)
            self.thread.start()
            self.thread.join(0.5)
            self.waited = self.thread.is_alive()  # the claim waits for the status change to end
        return super().now()

    def _claim(self) -> None:
        try:
            with self.db.sessions() as other:
                self.claimed = line.claim(other, self.agent_id, self.request_id, FixedClock.now(self), line.Bounds())
        except Exception as error:  # noqa: BLE001 - reported by the test, not lost in the thread
            self.error = error


def test_an_agent_set_offline_as_the_dispatcher_claims_them_is_never_offline_with_a_call(
    db: Database, session: Session, clock: FixedClock
) -> None:
    agent = factories.agent(session, clock.now())
    req = factories.request(session, clock.now())
    racing = ClaimingClock(clock.now(), db, agent.id, req.id)
    with db.sessions() as console:
        # The supervisor's page (or the API, or signing out) sets the agent offline ...
        changed = service.set_status(console, racing, agent.id, "offline")
    assert racing.thread is not None
    racing.thread.join(30)
    # ... while the dispatcher tried to claim them: it waited for the change, then found them offline.
    assert racing.error is None, racing.error
    assert racing.waited and racing.claimed is None
    assert changed.status == "offline"
    session.expire_all()
    found = session.get(Agent, agent.id)
    assert found is not None and found.status == "offline"
    open_attempts = session.scalars(select(CallAttempt).where(CallAttempt.ended_at.is_(None))).all()
    assert open_attempts == []


def test_a_sign_out_as_the_dispatcher_claims_the_agent_is_never_lost(
    db: Database, session: Session, clock: FixedClock
) -> None:
    """Held or not is decided under the lock: the claim waits, then finds the agent offline."""
    agent = factories.agent(session, clock.now())
    req = factories.request(session, clock.now())
    racing = ClaimingClock(clock.now(), db, agent.id, req.id)
    with db.sessions() as logout:
        service.sign_off(logout, racing, agent.id, actor="test")
    assert racing.thread is not None
    racing.thread.join(30)
    assert racing.error is None, racing.error
    assert racing.waited and racing.claimed is None
    session.expire_all()
    found = session.get(Agent, agent.id)
    assert found is not None and found.status == "offline"


def test_a_sign_out_just_after_the_dispatcher_claimed_the_agent_waits_for_the_call(
    db: Database, session: Session, clock: FixedClock
) -> None:
    agent = factories.agent(session, clock.now())
    req = factories.request(session, clock.now())
    with db.sessions() as dispatcher:
        assert line.claim(dispatcher, agent.id, req.id, clock.now(), line.Bounds()) is not None
    with db.sessions() as admin:
        account = factories.staff(admin, clock.now(), "agent", agent_id=agent.id)
        disable(admin, account.id, clock=clock, actor="admin@example.com")
    session.expire_all()
    found = session.get(Agent, agent.id)
    assert found is not None and (found.status, found.after_call_status) == ("reserved", "signed_out")


def test_a_break_chosen_for_an_agent_the_line_set_away_counts_as_on_duty(session: Session, clock: FixedClock) -> None:
    agent = factories.agent(session, clock.now(), status="away")
    agent.status_reason = "missed a call from the orders line (did not answer)"
    session.commit()
    orders = factories.queue(session, "orders")
    assert callbacks.staffing(session, orders).signed_in == 0  # the line's away: nothing says they are back
    # The supervisor (or the agent at their console) now puts them on a break: back before long.
    service.set_status(session, clock, agent.id, "away", reason="set by Sam Park (supervisor)")
    session.refresh(agent)
    assert agent.status_reason == "set by Sam Park (supervisor)"
    assert callbacks.staffing(session, orders).signed_in == 1
