"""The audit log: who did what, to what, when and from where, for every status change and admin action."""

from __future__ import annotations

import getpass
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ForeignKey, Index, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.clients import MAX_CLIENT_LENGTH, client_key
from core.db import Base, UtcDateTime

if TYPE_CHECKING:
    from agents.staff import StaffUser

# Labels of actors that are not a staff account.
SYSTEM = "system"
API_TOKEN = "api-token"
CLI = "cli"
# Whoever tried to sign in and did not (the attempted email is the target).
ANONYMOUS = "anonymous"


class AuditEvent(Base):
    """One line of the audit log; written in the same transaction as the change it describes."""

    __tablename__ = "audit_events"
    __table_args__ = (
        # The sign-in limits count recent failures by account and by client (agents/auth.py).
        Index("ix_audit_events_action_target_at", "action", "target", "at"),
        Index("ix_audit_events_action_client_at", "action", "client", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    actor_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    # The staff account's email at the time, or SYSTEM, API_TOKEN, CLI: readable even if the account changes.
    actor: Mapped[str] = mapped_column(String(254))
    # A dotted verb: agent.status, staff.add, queue.update, dnc.add, request.cancel, login.ok, login.fail ...
    action: Mapped[str] = mapped_column(String(40))
    # What was acted on, as a person reads it: "agent 3", "staff 2", "queue orders", an email for sign-ins.
    target: Mapped[str] = mapped_column(String(254))
    details: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(45))
    # Who the address is for the per-client limits (core.clients.client_key): an IPv6 address's /64.
    client: Mapped[str | None] = mapped_column(String(MAX_CLIENT_LENGTH))

    @property
    def details_dict(self) -> dict[str, Any]:
        """The details as a dict (empty when there are none)."""
        if not self.details:
            return {}
        value = json.loads(self.details)
        return value if isinstance(value, dict) else {"value": value}


def cli_actor() -> str:
    """The actor of an operator command: CLI and the operating-system user at the terminal ("cli:ops")."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (a bare container)
        return CLI
    return f"{CLI}:{user}"[:254]


def record(
    session: Session,
    action: str,
    target: str,
    details: dict[str, Any] | None = None,
    *,
    actor: StaffUser | str | None = None,
    address: str | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """Add an audit line to the session (the caller commits it with the change it describes).

    `actor` is the signed-in staff account, a label (SYSTEM, API_TOKEN, CLI), or None for SYSTEM;
    `at` should be the app's clock (services pass `clock.now()`), else the real time is used.
    """
    staff_id, label = _actor(actor)
    event = AuditEvent(
        at=at or datetime.now(UTC),
        actor_staff_id=staff_id,
        actor=label,
        action=action[:40],
        target=target[:254],
        details=json.dumps(details, sort_keys=True, default=str) if details else None,
        address=(address or None) and address[:45],
        client=client_key(address),
    )
    session.add(event)
    return event


def restate(event: AuditEvent, action: str, *, actor: StaffUser | str | None = None) -> None:
    """Turn a line written ahead of its outcome into the line of what happened (the caller commits).

    A sign-in attempt is written as a failure before its password is checked, so that simultaneous
    attempts count it (agents/auth.py); the right password then makes it the sign-in's own line.
    """
    event.actor_staff_id, event.actor = _actor(actor)
    event.action = action[:40]
    event.details = None


def _actor(actor: StaffUser | str | None) -> tuple[int | None, str]:
    """An actor as a line names it: the staff account's id and email, or no id and a label."""
    if actor is None or isinstance(actor, str):
        return None, (actor or SYSTEM)[:254]
    return actor.id, actor.email[:254]


def recent(session: Session, limit: int = 100) -> Sequence[AuditEvent]:
    """The newest audit lines first."""
    return session.scalars(select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)).all()


def latest_times(
    session: Session,
    action: str,
    since: datetime,
    limit: int,
    *,
    target: str | None = None,
    client: str | None = None,
) -> list[datetime]:
    """The times of the newest `limit` `action` lines after `since` for a target and/or a client (as
    core.clients.client_key names it), newest first."""
    query = select(AuditEvent.at).where(AuditEvent.action == action, AuditEvent.at > since)
    if target is not None:
        query = query.where(AuditEvent.target == target)
    if client is not None:
        query = query.where(AuditEvent.client == client)
    return list(session.scalars(query.order_by(AuditEvent.at.desc()).limit(limit)))
