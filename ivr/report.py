"""Counts of how phone-menu calls ended, for operators (containment: answered without an agent)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ivr.models import IvrSession


def outcomes(session: Session, since: datetime) -> dict[str, int]:
    """Calls started since `since`, by outcome; calls still going count as "in progress"."""
    rows = session.execute(
        select(IvrSession.outcome, IvrSession.ended_at.is_(None), func.count())
        .where(IvrSession.started_at >= since)
        .group_by(IvrSession.outcome, IvrSession.ended_at.is_(None))
    ).all()
    counts: dict[str, int] = {}
    for outcome, open_, count in rows:
        key = "in progress" if open_ and outcome in (None, "hold") else (outcome or "abandoned")
        counts[key] = counts.get(key, 0) + int(count)
    return counts


def languages(session: Session, since: datetime) -> dict[str, int]:
    """Calls started since `since`, by the language the caller heard (the one they chose)."""
    rows = session.execute(
        select(IvrSession.language, func.count())
        .where(IvrSession.started_at >= since)
        .group_by(IvrSession.language)
        .order_by(func.count().desc(), IvrSession.language)
    ).all()
    return {str(language): int(count) for language, count in rows}
