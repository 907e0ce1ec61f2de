"""Staff accounts (agents, supervisors, admins) who sign in to the console and the admin pages."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from agents import audit, service
from agents.models import Agent
from core.clock import Clock, SystemClock
from core.db import Base, UtcDateTime
from core.errors import Conflict, DomainError, InvalidInput, NotFound
from core.text import has_control_characters

log = logging.getLogger(__name__)

ROLES = ("agent", "supervisor", "admin")
MIN_PASSWORD_LENGTH = 12
# Hashing is deliberately slow; a megabyte "password" must not make it slower still.
MAX_PASSWORD_LENGTH = 1024
MAX_EMAIL_LENGTH = 254
# Deliberately loose: one @, a dot in the domain, no spaces. The mailbox is the operator's concern.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_ID = 2**31 - 1


class StaffUser(UserMixin, Base):
    """A person who signs in: an agent (optionally linked to an Agent record), a supervisor or an admin."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(MAX_EMAIL_LENGTH), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))
    # The calls this person takes; one account per agent.
    agent_id: Mapped[int | None] = mapped_column(ForeignKey("agents.id"), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Moved on whenever the account's sign-ins must end: signing out, a new password or role, disabling.
    # A session cookie carries the version it signed in under and is refused once it differs (agents/auth.py).
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default=text("0"))

    agent: Mapped[Agent | None] = relationship()

    @property
    def is_active(self) -> bool:
        """Flask-Login refuses to sign in (and agents/auth.py to keep signed in) a disabled account."""
        return bool(self.active)

    def end_sessions(self) -> None:
        """End every sign-in of this account, on every device (the caller commits)."""
        # In SQL rather than Python: two changes committed at once each move the version on, so a
        # sign-in that read the version between them cannot be left holding the one either wrote.
        self.session_version = StaffUser.session_version + 1

    def may(self, *roles: str) -> bool:
        """True if this account's role is one of `roles`; an admin may do everything."""
        return self.role == "admin" or self.role in roles


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    # argon2id with the library's current recommended parameters (RFC 9106 low-memory profile).
    return PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash of the password, salted, with its parameters."""
    return _hasher().hash(password)


@lru_cache(maxsize=1)
def _unusable_hash() -> str:
    return hash_password("not a password: compared against when the account does not exist")


def check_password(staff: StaffUser | None, password: str) -> bool:
    """True if `password` is the account's; rehashes in place when the hash parameters have changed
    (the caller commits). With no account, still spends the time of one check, so the time taken
    does not tell whether an email has an account."""
    candidate = (password or "")[:MAX_PASSWORD_LENGTH]
    stored = staff.password_hash if staff is not None else _unusable_hash()
    try:
        _hasher().verify(stored, candidate)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    if staff is None:
        return False
    if _hasher().check_needs_rehash(stored):
        staff.password_hash = hash_password(candidate)
    return True


def normalize_email(email: str) -> str:
    """An email as stored and compared: trimmed, lower-cased."""
    return (email or "").strip().lower()


def _valid_email(email: str) -> str:
    email = normalize_email(email)
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.fullmatch(email) or has_control_characters(email):
        raise InvalidInput("bad_email", "Give a valid email address, such as ana@example.com.", "email")
    return email


def _valid_role(role: str) -> str:
    if role not in ROLES:
        raise InvalidInput("bad_role", f"Role must be one of: {', '.join(ROLES)}.", "role")
    return role


def _valid_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise InvalidInput("weak_password", f"A password needs at least {MIN_PASSWORD_LENGTH} characters.", "password")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput("bad_password", f"A password has at most {MAX_PASSWORD_LENGTH} characters.", "password")
    return password


def add_staff(
    session: Session,
    clock: Clock,
    email: str,
    name: str,
    role: str,
    password: str,
    agent_id: int | None = None,
    *,
    actor: StaffUser | str | None = None,
    address: str | None = None,
) -> StaffUser:
    """Create a staff account, write `staff.add` to the audit log, and commit."""
    email = _valid_email(email)
    name = " ".join((name or "").split())
    if not name or len(name) > 80 or has_control_characters(name):
        raise InvalidInput("bad_name", "A staff member needs a name of 1 to 80 characters.", "name")
    _valid_role(role)
    _valid_password(password)
    if agent_id is not None:
        if not 0 < agent_id <= MAX_ID or session.get(Agent, agent_id) is None:
            raise InvalidInput("unknown_agent", f"There is no agent {agent_id}.", "agent_id")
        if session.scalar(select(StaffUser.id).where(StaffUser.agent_id == agent_id)) is not None:
            raise Conflict("agent_taken", f"Agent {agent_id} already has a staff account.")
    if get_by_email(session, email) is not None:
        raise Conflict("email_taken", "There is already a staff account with that email.")
    now = clock.now()
    staff = StaffUser(
        email=email,
        name=name,
        role=role,
        password_hash=hash_password(password),
        agent_id=agent_id,
        active=True,
        created_at=now,
    )
    session.add(staff)
    try:
        session.flush()
    except IntegrityError as exc:
        # Two operators adding the same email at once: the unique constraint decides.
        session.rollback()
        raise Conflict("email_taken", "There is already a staff account with that email or agent.") from exc
    audit.record(
        session,
        "staff.add",
        f"staff {staff.id}",
        {"email": email, "role": role, "agent_id": agent_id},
        actor=actor,
        address=address,
        at=now,
    )
    session.commit()
    log.info("staff added", extra={"staff_id": staff.id, "role": role})
    return staff


def list_staff(session: Session) -> Sequence[StaffUser]:
    """Every staff account, by id."""
    return session.scalars(select(StaffUser).order_by(StaffUser.id)).all()


def get_staff(session: Session, staff_id: int) -> StaffUser:
    """A staff account by id."""
    staff = session.get(StaffUser, staff_id) if 0 < staff_id <= MAX_ID else None
    if staff is None:
        raise NotFound("not_found", f"There is no staff account {staff_id}.")
    return staff


def get_by_email(session: Session, email: str) -> StaffUser | None:
    """The account with this email (any case), or None."""
    return session.scalar(select(StaffUser).where(StaffUser.email == normalize_email(email)))


def find(session: Session, id_or_email: str) -> StaffUser:
    """An account by id ("3") or email, as an operator types it on the command line."""
    text = (id_or_email or "").strip()
    if text.isdecimal():
        return get_staff(session, int(text))
    staff = get_by_email(session, text)
    if staff is None:
        raise NotFound("not_found", f"There is no staff account {text[:80]!r}.")
    return staff


def _guard_last_admin(session: Session, staff: StaffUser) -> None:
    """Refuse a change that would leave nobody able to manage staff in the web pages."""
    if staff.role != "admin" or not staff.active:
        return
    admins = session.scalar(
        select(func.count(StaffUser.id)).where(StaffUser.role == "admin", StaffUser.active.is_(True))
    )
    if (admins or 0) <= 1:
        raise Conflict("last_admin", "This is the last active admin; make another admin first.")


def set_role(
    session: Session,
    staff_id: int,
    role: str,
    *,
    clock: Clock | None = None,
    actor: StaffUser | str | None = None,
    address: str | None = None,
) -> StaffUser:
    """Change an account's role, write `staff.role` to the audit log, and commit."""
    _valid_role(role)
    staff = get_staff(session, staff_id)
    if staff.role == role:
        return staff
    if role != "admin":
        _guard_last_admin(session, staff)
    before = staff.role
    staff.role = role
    # What the person may do changed: their sessions end, and they sign in again under the new role.
    staff.end_sessions()
    _record(session, "staff.role", staff, {"from": before, "to": role}, clock, actor, address)
    session.commit()
    _off_the_line(session, staff, clock, actor, address)
    log.info("staff role", extra={"staff_id": staff.id, "role": role})
    return staff


def disable(
    session: Session,
    staff_id: int,
    *,
    clock: Clock | None = None,
    actor: StaffUser | str | None = None,
    address: str | None = None,
) -> StaffUser:
    """Disable an account (it can no longer sign in, and its open sessions end), audit it, and commit."""
    staff = get_staff(session, staff_id)
    if not staff.active:
        return staff
    _guard_last_admin(session, staff)
    staff.active = False
    staff.end_sessions()
    _record(session, "staff.disable", staff, {"email": staff.email}, clock, actor, address)
    session.commit()
    _off_the_line(session, staff, clock, actor, address)
    log.info("staff disabled", extra={"staff_id": staff.id})
    return staff


def enable(
    session: Session,
    staff_id: int,
    *,
    clock: Clock | None = None,
    actor: StaffUser | str | None = None,
    address: str | None = None,
) -> StaffUser:
    """Let a disabled account sign in again, with the password it had (audited as `staff.enable`), and
    commit. A slip of the Disable button, or a person back from leave, is undone here rather than by a
    new account (the old one still holds its email and its agent)."""
    staff = get_staff(session, staff_id)
    if staff.active:
        return staff
    staff.active = True
    _record(session, "staff.enable", staff, {"email": staff.email}, clock, actor, address)
    session.commit()
    log.info("staff enabled", extra={"staff_id": staff.id})
    return staff


def set_password(
    session: Session,
    staff_id: int,
    password: str,
    *,
    clock: Clock | None = None,
    actor: StaffUser | str | None = None,
    address: str | None = None,
) -> StaffUser:
    """Give an account a new password and end its sessions everywhere; audit it (never the password) and
    commit. Set by someone else (an admin, an operator), the person is also taken off the line; a person
    changing their own password (`actor` is the account) stays on it, signed in where they did it (see
    agents/account.py)."""
    _valid_password(password)
    staff = get_staff(session, staff_id)
    staff.password_hash = hash_password(password)
    # Whoever knew the old password may be signed in with it somewhere.
    staff.end_sessions()
    _record(session, "staff.password", staff, {}, clock, actor, address)
    session.flush()
    # The version this change wrote, read in its own transaction (the row is ours until the commit): a
    # person changing their own password keeps their session under it (agents/account.py), and a later
    # "sign out everywhere" committed by someone else still ends that session.
    session.refresh(staff, ["session_version"])
    session.commit()
    if not (isinstance(actor, StaffUser) and actor.id == staff.id):
        _off_the_line(session, staff, clock, actor, address)
    log.info("staff password", extra={"staff_id": staff.id})
    return staff


def sign_off_lapsed(session: Session, clock: Clock, lasts: timedelta) -> int:
    """Sign off the agents whose sign-in lapsed: their account's last sign-in began more than `lasts`
    (STAFF_SESSION_HOURS) ago, so every session of theirs has ended, yet they are still on the line,
    in a status they were in while signed in. Nobody is at their console: without this, someone who went
    home without signing out stayed "available", and the next morning's first customers rang their phone.

    An agent whose status someone set after the lapse (a supervisor making a desk-phone agent available,
    say) is theirs to keep; agents with no account, or whose account never signed in, are left alone."""
    now = clock.now()
    cutoff = now - lasts
    rows = session.execute(
        select(StaffUser.id, StaffUser.last_login_at, Agent.id, Agent.status_since)
        .join(Agent, Agent.id == StaffUser.agent_id)
        .where(StaffUser.last_login_at < cutoff, Agent.status != "offline", Agent.after_call_status.is_(None))
    ).all()
    count = 0
    for _staff_id, last_login, agent_id, status_since in rows:
        if last_login is None or status_since >= last_login + lasts:
            continue
        try:
            service.sign_off(session, clock, agent_id, actor=audit.SYSTEM)
        except DomainError:
            session.rollback()  # changed meanwhile by someone else: the next pass looks again
            continue
        count += 1
        log.info("agent signed off: their sign-in lapsed", extra={"agent_id": agent_id})
    return count


def _off_the_line(
    session: Session, staff: StaffUser, clock: Clock | None, actor: StaffUser | str | None, address: str | None
) -> None:
    """An account's sessions were ended by someone else: nobody is at its agent's console any more, so the
    line must stop putting customers through to them (as signing out does), until they sign in again."""
    if staff.agent_id is not None:
        service.sign_off(session, clock or SystemClock(), staff.agent_id, actor=actor, address=address)


def _record(
    session: Session,
    action: str,
    staff: StaffUser,
    details: dict[str, Any],
    clock: Clock | None,
    actor: StaffUser | str | None,
    address: str | None,
) -> None:
    at = clock.now() if clock is not None else None
    audit.record(session, action, f"staff {staff.id}", details, actor=actor, address=address, at=at)


def staff_json(staff: StaffUser) -> dict[str, Any]:
    """The public shape of an account (never its hash)."""
    return {
        "id": staff.id,
        "email": staff.email,
        "name": staff.name,
        "role": staff.role,
        "agent_id": staff.agent_id,
        "active": staff.active,
        "created_at": staff.created_at.isoformat(),
        "last_login_at": staff.last_login_at.isoformat() if staff.last_login_at else None,
    }
