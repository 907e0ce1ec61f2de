"""The do-not-call list: numbers whose owners asked never to be called."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from callback.models import WAITING, CallbackRequest, DoNotCall
from core.clock import Clock


def add(session: Session, clock: Clock, phone: str, reason: str | None) -> int:
    """List a number and cancel its waiting callbacks; returns how many were canceled."""
    now = clock.now()
    if session.get(DoNotCall, phone) is None:
        session.add(DoNotCall(phone=phone, reason=reason, added_at=now))
    waiting = session.scalars(
        select(CallbackRequest).where(CallbackRequest.phone == phone, CallbackRequest.status.in_(WAITING))
    ).all()
    for request in waiting:
        request.cancel(now)
        request.outcome = "do_not_call"
    session.commit()
    return len(waiting)


def remove(session: Session, phone: str) -> bool:
    """Take a number off the list; False when it was not there."""
    entry = session.get(DoNotCall, phone)
    if entry is None:
        return False
    session.delete(entry)
    session.commit()
    return True


def entries(session: Session) -> Sequence[DoNotCall]:
    """The whole list, newest first."""
    return session.scalars(select(DoNotCall).order_by(DoNotCall.added_at.desc())).all()
