"""The do-not-call list: numbers whose owners asked never to be called."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from callback.models import CallbackRequest, DoNotCall
from core.clock import Clock
from telephony.port import Telephony, TelephonyError

log = logging.getLogger(__name__)

# A request in these states can still be stopped before anyone talks; "connected" is a conversation.
STOPPABLE = ("queued", "retry_wait", "dialing", "connecting")


def listed(phone: ColumnElement[str] | InstrumentedAttribute[str]) -> ColumnElement[bool]:
    """Whether the number in `phone` is on the list, as a column of a query: the dialler asks it in
    its last look before placing a call, with the request, in one round trip."""
    return exists().where(DoNotCall.phone == phone)


def add(session: Session, clock: Clock, phone: str, reason: str | None, telephony: Telephony | None = None) -> int:
    """List a number, cancel its active callbacks and hang up a call to it that is ringing; returns
    how many requests were canceled. A conversation already under way is left to finish."""
    now = clock.now()
    if session.get(DoNotCall, phone) is None:
        session.add(DoNotCall(phone=phone, reason=reason, added_at=now))
    active = session.scalars(
        select(CallbackRequest).where(CallbackRequest.phone == phone, CallbackRequest.status.in_(STOPPABLE))
    ).all()
    live = []
    for request in active:
        request.cancel(now)
        request.outcome = "do_not_call"
        live += [a.call_sid for a in request.call_attempts if a.ended_at is None and a.call_sid and a.dialled_at]
    session.commit()
    for call_sid in live if telephony is not None else []:
        # Its status callback then closes the attempt and frees the agent, as for any cancel.
        try:
            telephony.hangup(call_sid)  # type: ignore[union-attr]
        except TelephonyError as error:
            log.warning("could not hang up a call to a do-not-call number", extra={"error": str(error)})
    return len(active)


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
