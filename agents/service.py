"""Agent and queue use cases: register agents, change availability, manage queues."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from agents import audit
from agents.models import DEFAULT_HOURS, DEFAULT_TIMEZONE, Agent, IllegalAgentTransition, Queue
from core import phone as phones
from core.clock import Clock
from core.db import rows_changed
from core.errors import Conflict, InvalidInput, NotFound
from core.hours import BusinessHours, HoursError
from core.locks import serialise
from core.text import has_control_characters

log = logging.getLogger(__name__)

_CLIENT = re.compile(r"^[A-Za-z0-9_.-]{1,80}$")
_QUEUE_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
# The languages a queue's agents speak: codes as the phone tree names them (en, es, pt-BR).
_LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")


def _language_tag(code: str) -> str:
    """A language tag written the usual way whatever the case typed: "ES" -> "es", "en-us" -> "en-US"."""
    language, _, region = code.strip().replace("_", "-").partition("-")
    return f"{language.lower()}-{region.upper() if len(region) == 2 else region}" if region else language.lower()


# Statuses a person (or an admin script) may set; the others belong to the dispatcher.
SETTABLE = ("available", "away", "offline")
# Statuses only the line moves an agent out of (callback/line.py), never a person.
HELD_BY_THE_LINE = frozenset({"reserved", "on_call"})

DEFAULT_QUEUES: tuple[tuple[str, str], ...] = (
    ("orders", "Orders, tracking and delivery"),
    ("returns", "Returns and refunds"),
    ("payments", "Payments and billing"),
    ("account", "Your account"),
    ("devices", "Devices and technical help"),
    ("other", "Something else"),
)


def ensure_default_queues(session: Session, caller_id: str) -> list[str]:
    """Create the default queues that are missing; returns the names created. Another process doing
    the same at the same moment (init-db on several hosts) is no error: its queues are as good."""
    for _try in range(2):
        existing = set(session.scalars(select(Queue.name)))
        created = []
        for name, display_name in DEFAULT_QUEUES:
            if name not in existing:
                session.add(Queue(name=name, display_name=display_name, caller_id=caller_id))
                created.append(name)
        try:
            session.commit()
        except IntegrityError:
            session.rollback()  # created meanwhile by the other process: read them again
            continue
        return created
    return []


def list_queues(session: Session) -> Sequence[Queue]:
    """Every queue, by name."""
    return session.scalars(select(Queue).order_by(Queue.id)).all()


# What a queue's numbers may be at most: beyond them a value is a slip of the keyboard (a wrap-up of
# 10^12 seconds overflowed the line's clock arithmetic, 10^20 the database's integers).
QUEUE_MAXIMUMS = {
    "max_attempts": 50,
    "expiry_hours": 24 * 366,
    "service_level_seconds": 24 * 3600,
    "wrap_up_seconds": 24 * 3600,
    "default_handle_seconds": 24 * 3600,
}
MAX_BACKOFF_SECONDS = 7 * 24 * 3600


def update_queue(
    session: Session, name: str, changes: dict[str, Any], create: bool = False, region: str = "US"
) -> Queue:
    """Change a queue's settings after validating them (create it when asked). A caller ID is read as a
    number of `region` (the shop's DEFAULT_REGION) when not given in E.164, and kept in E.164."""
    queue = session.scalar(select(Queue).where(Queue.name == name))
    if queue is None:
        if not create:
            raise NotFound("unknown_queue", f"There is no queue called {name!r}.", "queue")
        if not _QUEUE_NAME.fullmatch(name):
            raise InvalidInput("bad_queue_name", "A queue name is lower-case letters, digits, - or _.", "name")
        # The model's defaults apply only at flush; the checks below read them before that.
        queue = Queue(
            name=name,
            display_name=name.title(),
            caller_id=changes.get("caller_id") or "",
            timezone=DEFAULT_TIMEZONE,
            hours=DEFAULT_HOURS,
        )
        session.add(queue)
    if "caller_id" in changes:
        # Every call of the queue shows it, and Twilio refuses a call from a number that is not one
        # (21210), which pauses dialling for the whole line: refused here, whoever sets it.
        try:
            # Any real number will do: the customer country allowlist is about whom we may call back.
            changes["caller_id"] = phones.normalize(str(changes["caller_id"] or ""), phones.any_number(region))
        except phones.PhoneRejected as exc:
            raise InvalidInput("bad_caller_id", f"Caller ID: {exc.message}", "caller_id") from exc
    if "hours" in changes and not str(changes["hours"] or "").strip():
        # Stored empty, hours read as "closed": a field cleared by mistake would stop the queue unseen.
        raise InvalidInput("bad_hours", "Opening hours are empty: write the hours, 24/7, or closed.", "hours")
    hours = changes.get("hours", queue.hours)
    timezone = changes.get("timezone", queue.timezone)
    try:
        BusinessHours.parse("24/7", timezone)  # the zone alone first, so its error names the right field
    except HoursError as exc:
        raise InvalidInput("bad_timezone", str(exc), "timezone") from exc
    try:
        BusinessHours.parse(hours, timezone)
    except HoursError as exc:
        raise InvalidInput("bad_hours", str(exc), "hours") from exc
    if "backoff_seconds" in changes:
        try:
            values = [int(v) for v in str(changes["backoff_seconds"]).split(",")]
        except ValueError as exc:
            raise InvalidInput("bad_backoff", "Back-off is seconds separated by commas.", "backoff_seconds") from exc
        if not values or min(values) < 0:
            raise InvalidInput("bad_backoff", "Back-off values must be zero or more seconds.", "backoff_seconds")
        if max(values) > MAX_BACKOFF_SECONDS:
            raise InvalidInput(
                "bad_backoff", f"A back-off is at most {MAX_BACKOFF_SECONDS} seconds (a week).", "backoff_seconds"
            )
    if "languages" in changes:
        codes = [_language_tag(code) for code in str(changes["languages"] or "").split(",") if code.strip()]
        if not codes:
            raise InvalidInput("bad_languages", "Give at least one language its agents speak, such as en.", "languages")
        wrong = [code for code in codes if not _LANGUAGE_CODE.fullmatch(code)]
        if wrong:
            raise InvalidInput(
                "bad_languages",
                f"Languages are codes separated by commas, such as en or en,es: {', '.join(wrong)} is not one.",
                "languages",
            )
        changes["languages"] = ",".join(dict.fromkeys(codes))
    if changes.get("dial_strategy", "customer_first") not in {"customer_first", "agent_first"}:
        raise InvalidInput("bad_strategy", "Dial strategy is customer_first or agent_first.", "dial_strategy")
    for key in ("max_attempts", "expiry_hours", "service_level_seconds", "wrap_up_seconds", "default_handle_seconds"):
        if key in changes and not isinstance(changes[key], int):
            # An empty number box on the admin page arrives as None.
            raise InvalidInput(f"bad_{key}", "Please enter a whole number.", key)
    for key in ("max_attempts", "expiry_hours", "service_level_seconds"):
        if key in changes and int(changes[key]) < 1:
            raise InvalidInput(f"bad_{key}", f"{key.replace('_', ' ')} must be at least 1.", key)
    for key in ("wrap_up_seconds", "default_handle_seconds"):
        if key in changes and int(changes[key]) < 0:
            raise InvalidInput(f"bad_{key}", f"{key.replace('_', ' ')} cannot be negative.", key)
    for key, most in QUEUE_MAXIMUMS.items():
        if key in changes and int(changes[key]) > most:
            raise InvalidInput(f"bad_{key}", f"{key.replace('_', ' ')} is at most {most}.", key)
    for key, value in changes.items():
        if not hasattr(Queue, key) or key in {"id", "name"}:
            raise InvalidInput("unknown_setting", f"Queues have no setting {key!r}.", key)
        setattr(queue, key, value)
    session.commit()
    return queue


def add_agent(
    session: Session,
    clock: Clock,
    policy: phones.PhonePolicy,
    name: str,
    queue_names: Sequence[str],
    phone: str | None = None,
    client: str | None = None,
) -> Agent:
    """Register an agent reachable at a phone number or a browser client identity."""
    name = " ".join((name or "").split())
    if not name or len(name) > 80 or has_control_characters(name):
        raise InvalidInput("bad_name", "An agent needs a name of 1 to 80 characters.", "name")
    # An empty field is no endpoint (a script sends every field): stored as none, never as "", which the
    # unique index would hold against the next agent.
    phone, client = (phone or "").strip() or None, (client or "").strip() or None
    if bool(phone) == bool(client):
        raise InvalidInput("endpoint_required", "Give the agent either a phone number or a client identity.")
    number = None
    if phone:
        # Agents may sit anywhere: the customer country allowlist does not apply to them.
        agent_policy = phones.any_number(policy.default_region)
        try:
            number = phones.normalize(phone, agent_policy)
        except phones.PhoneRejected as exc:
            raise InvalidInput(f"phone_{exc.code}", exc.message, "phone") from exc
    if client and not _CLIENT.fullmatch(client):
        raise InvalidInput("bad_client", "A client identity is 1 to 80 letters, digits, '_', '.' or '-'.", "client")
    wanted = [q.strip().lower() for q in queue_names if q.strip()]
    bad = [q for q in wanted if not _QUEUE_NAME.fullmatch(q)]
    if bad:
        raise InvalidInput("unknown_queue", f"Unknown queue(s): {', '.join(map(repr, bad))}.", "queues")
    if not wanted:
        raise InvalidInput("queues_required", "An agent must serve at least one queue.", "queues")
    queues = session.scalars(select(Queue).where(Queue.name.in_(wanted))).all()
    missing = sorted(set(wanted) - {q.name for q in queues})
    if missing:
        raise InvalidInput("unknown_queue", f"Unknown queue(s): {', '.join(missing)}.", "queues")
    now = clock.now()
    agent = Agent(
        name=name,
        phone=number,
        client=client,
        status="offline",
        status_since=now,
        created_at=now,
        queues=list(queues),
    )
    session.add(agent)
    try:
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        raise Conflict("endpoint_taken", "Another agent already uses that phone number or client identity.") from exc
    log.info("agent added", extra={"agent_id": agent.id, "queues": wanted})
    return agent


def list_agents(session: Session) -> Sequence[Agent]:
    """Every agent with their queues."""
    return session.scalars(select(Agent).options(selectinload(Agent.queues)).order_by(Agent.id)).all()


# Ids are 32-bit on PostgreSQL; anything outside cannot exist, and asking the database would fail.
MAX_ID = 2**31 - 1


def parse_agent_id(text: str) -> int:
    """An agent id from a URL; anything that cannot be an id is simply not found."""
    if not text.isdigit() or not 0 < int(text) <= MAX_ID:
        raise NotFound("not_found", f"There is no agent {text[:20]!r}.")
    return int(text)


def get_agent(session: Session, agent_id: int) -> Agent:
    """An agent by id."""
    agent = session.get(Agent, agent_id) if 0 < agent_id <= MAX_ID else None
    if agent is None:
        raise NotFound("not_found", f"There is no agent {agent_id}.")
    return agent


def _locked_agent(session: Session, agent_id: int) -> Agent:
    """The agent as it is now, read under a lock the line's claim waits for until this transaction ends.

    A status change reads the agent, then writes it: without the lock, the dispatcher could reserve the
    agent for a call in between, and the change would overwrite the reservation (an agent "offline"
    while a customer is rung for them). PostgreSQL locks the row (FOR UPDATE); SQLite takes its one
    write lock before the read."""
    serialise(session)
    agent = (
        session.get(Agent, agent_id, with_for_update=True, populate_existing=True) if 0 < agent_id <= MAX_ID else None
    )
    if agent is None:
        raise NotFound("not_found", f"There is no agent {agent_id}.")
    return agent


def set_status(session: Session, clock: Clock, agent_id: int, status: str, reason: str | None = None) -> Agent:
    """Change an agent's availability as a person would (available, away, offline), with why, for the agent."""
    if status not in SETTABLE:
        raise InvalidInput("bad_status", f"Status must be one of: {', '.join(SETTABLE)}.", "status")
    agent = _locked_agent(session, agent_id)
    if agent.status in HELD_BY_THE_LINE and agent.status != status:
        # Reserved for a call being set up, or on one: freeing them now would book them twice.
        raise Conflict(
            "agent_busy",
            f"The agent is {agent.status.replace('_', ' ')} right now; their status changes when the call ends.",
        )
    try:
        changed = agent.move_to(status, clock.now(), reason)
    except IllegalAgentTransition as exc:
        raise Conflict("agent_busy", f"The agent is {agent.status.replace('_', ' ')}: {exc}.") from exc
    if not changed and agent.status_reason != reason:
        # The same status for a new reason: away chosen for an agent the line had set away after a miss
        # is now a break (agents.models.on_a_break), and the console says who chose it.
        agent.status_reason = reason
    # A status given now replaces any asked for after a call (the call is over, or never was).
    agent.after_call_status = agent.after_call_reason = None
    if changed or session.dirty:
        session.commit()
        log.info("agent status", extra={"agent_id": agent.id, "status": status})
    return agent


# The audit action of a sign-out while the line held the agent for a call: they go offline when it ends.
SIGN_OFF_AFTER_CALL = "agent.sign_off"
SIGNED_OUT = "signed out"
# What an agent held by the line may ask to be once it lets them go (Agent.after_call_status): the
# status, and its reason. "signed_out" is offline because the person signed out.
AFTER_CALL = {"away": ("away", None), "offline": ("offline", None), "signed_out": ("offline", SIGNED_OUT)}
AFTER_CALL_WORDS = {"away": "Away when this call ends", "offline": "Offline when this call ends"}
AFTER_CALL_WORDS["signed_out"] = AFTER_CALL_WORDS["offline"]


def after_this_call(session: Session, clock: Clock, agent_id: int, status: str, reason: str | None = None) -> Agent:
    """The agent, held by the line for a call, asks to be `status` once it lets them go: away or offline
    (their break, the end of their shift), or available (which takes back an earlier wish). An agent the
    line does not hold changes status now (set_status). `reason` says who asked when it was not the agent
    (a supervisor): the status will carry it. The caller audits and commits."""
    if status not in SETTABLE:
        raise InvalidInput("bad_status", f"Status must be one of: {', '.join(SETTABLE)}.", "status")
    # Held or not is decided under the lock the line's claim waits for: reserved a moment after an
    # unlocked read, the agent's wish would be refused instead of kept.
    agent = _locked_agent(session, agent_id)
    wish = status if status in AFTER_CALL else None
    if agent.status not in HELD_BY_THE_LINE or not _wish(session, agent, wish, reason if wish else None):
        # Not held: the status is theirs now.
        return set_status(session, clock, agent_id, status, reason=reason)
    session.commit()
    log.info("agent status after the call", extra={"agent_id": agent.id, "status": status})
    return agent


def _wish(session: Session, agent: Agent, wish: str | None, reason: str | None = None) -> bool:
    """Keep `wish` (and who asked, `reason`) for when the line lets the agent go, only while it still
    holds them: a call that ends meanwhile has run after_call already, so a wish stored after it would
    never be carried out."""
    kept = rows_changed(
        session,
        update(Agent)
        .where(Agent.id == agent.id, Agent.status.in_(HELD_BY_THE_LINE))
        .values(after_call_status=wish, after_call_reason=reason)
        .execution_options(synchronize_session=False),
    )
    if kept:
        set_committed_value(agent, "after_call_status", wish)
        set_committed_value(agent, "after_call_reason", reason)
    return kept == 1


def sign_off(session: Session, clock: Clock, agent_id: int, actor: Any = None, address: str | None = None) -> Agent:
    """The person behind an agent signed out: offline now, so no customer is put through to nobody.

    An agent reserved for a call or on one keeps it (the line owns those statuses, and the customer is
    on the way or on the line): the sign-out is noted, and `after_call` sets them offline when the
    line lets them go, instead of back to work."""
    # Decided under the lock the line's claim waits for: an agent reserved between an unlocked read and
    # the change would make set_status refuse, and the sign-out would be lost (the agent left on the line).
    agent = _locked_agent(session, agent_id)
    now = clock.now()
    target = f"agent {agent.id}"
    if agent.status in HELD_BY_THE_LINE and _wish(session, agent, "signed_out"):
        audit.record(
            session, SIGN_OFF_AFTER_CALL, target, {"status": agent.status}, actor=actor, address=address, at=now
        )
        session.commit()
        log.info("agent signed out during a call; offline when it ends", extra={"agent_id": agent.id})
        return agent
    before = agent.status  # not held: offline now
    set_status(session, clock, agent.id, "offline", reason=SIGNED_OUT)
    if agent.status != before:
        details = {"from": before, "to": agent.status, "reason": SIGNED_OUT}
        audit.record(session, "agent.status", target, details, actor=actor, address=address, at=now)
        session.commit()
    return agent


def signed_in(agent: Agent | None) -> None:
    """The person behind an agent signed in again: a sign-out noted during a call no longer stands
    (a break they asked for does). The caller commits."""
    if agent is not None and agent.after_call_status == "signed_out":
        agent.after_call_status = agent.after_call_reason = None


def after_call(session: Session, agent: Agent | None, now: datetime) -> bool:
    """The line let an agent go (available, wrapping up, or away after a missed call): what they asked to
    be during the call instead (a break, or offline because they signed out). True if so (the caller
    commits)."""
    if agent is None or agent.status not in {"available", "wrap_up", "away"}:
        return False
    # Read afresh: the wish may have been made (a sign-out, from another process) after this request
    # loaded the agent, and it is the one thing that must not be missed here.
    session.refresh(agent, attribute_names=["after_call_status", "after_call_reason"])
    if not agent.after_call_status:
        return False
    status, reason = AFTER_CALL.get(agent.after_call_status, (agent.status, None))
    reason = agent.after_call_reason or reason
    agent.after_call_status = agent.after_call_reason = None
    was = agent.status
    if status == was:
        return False
    agent.move_to(status, now, reason=reason)
    agent.busy_until = None
    details: dict[str, Any] = {"from": was, "to": status, "after_call": True}
    if reason:
        details["reason"] = reason
    audit.record(session, "agent.status", f"agent {agent.id}", details, at=now)
    log.info("agent is now what they asked to be during the call", extra={"agent_id": agent.id, "status": status})
    return True


def agent_json(agent: Agent) -> dict[str, Any]:
    """The public shape of an agent in the admin API."""
    return {
        "id": agent.id,
        "name": agent.name,
        "phone": agent.phone,
        "client": agent.client,
        "queues": [q.name for q in agent.queues],
        "status": agent.status,
        "status_since": agent.status_since.isoformat(),
        "status_reason": agent.status_reason,
    }
