"""The agent's desk: what their console shows (status, the call, its screen pop, today's calls) and what
they do from it (wrap a call up, say they are ready).

The console polls `state()` every second, so everything here is read-only but for `dispose` and
`ready`; the order lookup, the one slow question, is asked at most once a minute per order
(`OrderStatuses`). An agent sees their own calls only: a request is theirs when they were rung for it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from agents.models import Agent, language_words, primary_language
from agents.service import AFTER_CALL_WORDS
from callback import line, words
from callback.models import ASKS_KEPT_FOR_LIMITS, DISPOSITIONS, PHONE_CALLER, AgentLeg, CallAttempt, CallbackRequest
from core import phone as phones
from core.errors import Conflict, InvalidInput, NotFound
from core.text import has_control_characters
from ivr.models import IvrSession
from orders.port import LookupUnavailable, OrderInfo, OrderLookup
from recordings import service as recordings

STATUS_WORDS = {
    "available": "Available",
    "away": "Away",
    "offline": "Offline",
    "reserved": "Reserved for a call",
    "on_call": "On a call",
    "wrap_up": "Wrapping up",
}
# What the agent's phone is doing for the current call, in the order a call goes through them.
PHASE_WORDS = {
    "calling": "Calling the customer: they answer and press 1, then your phone rings",
    "ringing": "Your phone is ringing",
    "screening": "Answered: press 1 on your phone to take the call",
    "connecting": "You accepted: we are ringing the customer, stay on the line",
    "talking": "On the call",
    "wrap_up": "Wrap-up",
}
DISPOSITION_WORDS = {
    "resolved": "Resolved",
    "follow_up": "Needs a follow-up",
    "call_back_later": "Call back later",
    "wrong_queue": "Wrong queue",
    "other": "Other",
}
LEG_WORDS = {
    "accepted": "Talked",
    "no_answer": "Missed: no answer",
    "declined": "Missed: declined",
    "dropped": "Missed: hung up before taking it",
    "voicemail": "Missed: voicemail answered",
    "busy": "Missed: line busy",
    "failed": "Missed: could not be reached",
    "canceled": "Customer left before you were put through",
}
# An earlier call of a request, from the customer's side (CallAttempt.outcome).
ATTEMPT_WORDS = {
    "completed": "talked with an agent",
    "no-answer": "no answer",
    "busy": "line busy",
    "failed": "the call failed",
    "canceled": "canceled",
    "machine": "voicemail picked up; we left a message",
    "declined": "said they no longer needed us",
    "no_confirmation": "answered but did not press 1",
    "asked_later": "answered, asked us to call back later",
    "agent_missed": "reached, but the agent missed it",
    "agent_declined": "the agent passed",
    "customer_hung_up": "hung up before being connected",
    "not_placed": "the call was never placed",
    "refused": "the phone service refused the call; it was never placed",
}
# Agent-first rings the agent first: when they did not take it, the customer was never called.
AGENT_FIRST_UNCALLED = {
    "agent_missed": "not called: the agent missed it",
    "agent_declined": "not called: the agent passed",
}
MAX_NOTE = 2000
# The customer's own words on an agent's screen are capped: a menu transcript is theirs, not ours.
MAX_WORDS_SHOWN = 200
# Today's calls are read back this far, then kept when their day in the queue's zone is today.
TODAY_WINDOW = timedelta(hours=36)


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone)


def _clock_time(moment: datetime | None, zone: ZoneInfo, now: datetime) -> str | None:
    """'10:42' today, 'Mon 23 Nov 10:42' on another day, in the zone given."""
    if moment is None:
        return None
    local = _local(moment, zone)
    if local.date() == _local(now, zone).date():
        return local.strftime("%H:%M")
    return local.strftime("%a %d %b %H:%M")


def duration_words(seconds: float | None) -> str:
    """'45 s', '12 min', '1 h 5 min': a wait or a talk time at a glance."""
    if seconds is None:
        return ""
    seconds = max(0, int(seconds))
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


def times_in(zone: ZoneInfo) -> str:
    """The zone the console's times are in, as the page says it: 'United States (New York) Time'."""
    return words.zone_name(zone, "en")


def agent_zone(agent: Agent) -> ZoneInfo:
    """The zone the agent's day is read in: their first queue's (the queues of one shop share one)."""
    return ZoneInfo(agent.queues[0].timezone if agent.queues else "UTC")


# The phone menu's summary is ours (ivr.handover writes it), a few sentences: shown whole up to this, so a
# warning at its end ("they were told the agent may speak only English") is never cut off.
MAX_SUMMARY_SHOWN = 1000


def _cap(text: Any, limit: int = MAX_WORDS_SHOWN) -> str:
    """At most `limit` characters, cut at the end of a word."""
    words = " ".join(str(text).split())
    if len(words) <= limit:
        return words
    return words[: limit - 1].rsplit(" ", 1)[0] + "…"


# -- the order lookup, asked once a minute per order -------------------------------------------------


@dataclass(frozen=True)
class _Answer:
    at: datetime
    found: OrderInfo | None
    available: bool


class OrderStatuses:
    """The order lookup as consoles ask it: every open console polls each second, the order service
    must not hear about each poll. Answers (and "can't look it up") are kept for `ttl`."""

    def __init__(self, ttl: timedelta = timedelta(seconds=60), size: int = 500) -> None:
        self.ttl = ttl
        self.size = size
        self._answers: dict[str, _Answer] = {}
        self._lock = threading.Lock()

    def status(self, lookup: OrderLookup, number: str, now: datetime) -> dict[str, Any]:
        """The order's current status for the screen pop, or why there is none."""
        with self._lock:
            answer = self._answers.get(number)
        if answer is None or now - answer.at >= self.ttl or now < answer.at:
            try:
                answer = _Answer(now, lookup.order(number), True)
            except LookupUnavailable:
                answer = _Answer(now, None, False)
            with self._lock:
                if len(self._answers) >= self.size:
                    self._answers.clear()  # a day's worth of orders at most; simpler than an LRU
                self._answers[number] = answer
        return order_json(number, answer.found, answer.available)


def order_json(number: str, order: OrderInfo | None, available: bool = True) -> dict[str, Any]:
    """An order as the screen pop shows it: status and a line of detail, or why it is missing."""
    if not available:
        return {"number": number, "status": None, "text": "Can't look it up right now."}
    if order is None:
        return {"number": number, "status": None, "text": "No order with that number."}
    detail = [order.status.replace("_", " ")]
    if order.carrier:
        tracking = f", tracking {order.tracking_number}" if order.tracking_number else ""
        detail.append(f"with {order.carrier}{tracking}")
    if order.delivered_at is not None:
        detail.append(f"delivered {order.delivered_at.date().isoformat()}")
    elif order.estimated_delivery is not None:
        detail.append(f"expected {order.estimated_delivery.isoformat()}")
    if order.items:
        detail.append("; ".join(f"{item.quantity} × {item.title}" for item in order.items[:3]))
    return {"number": order.number, "status": order.status, "text": ", ".join(detail)}


# -- the current call ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CurrentCall:
    """What an agent's phone is doing now: the phase, the attempt, and their leg of it (if rung)."""

    phase: str
    attempt: CallAttempt
    leg: AgentLeg | None


def current_call(session: Session, agent: Agent) -> CurrentCall | None:
    """The call ringing or live for this agent, or the one they are wrapping up; None when idle."""
    leg = session.scalar(
        select(AgentLeg)
        .where(AgentLeg.agent_id == agent.id, AgentLeg.ended_at.is_(None))
        .order_by(AgentLeg.id.desc())
        .limit(1)
    )
    if leg is not None and leg.attempt.ended_at is None:
        if leg.talked:
            phase = "talking"
        elif leg.accepted_at:
            phase = "connecting"  # agent-first: they accepted, and we are ringing the customer for them
        else:
            phase = "screening" if leg.answered_at else "ringing"
        return CurrentCall(phase, leg.attempt, leg)
    if agent.status == "reserved":
        # Customer-first: the agent is held while we call the customer; their phone rings once the
        # customer presses 1. An attempt where they were rung already is not theirs any more.
        attempt = session.scalar(
            select(CallAttempt)
            .where(CallAttempt.agent_id == agent.id, CallAttempt.ended_at.is_(None))
            .order_by(CallAttempt.id.desc())
            .limit(1)
        )
        if attempt is not None and not any(leg.agent_id == agent.id for leg in attempt.agent_legs):
            return CurrentCall("calling", attempt, None)
    if agent.status == "wrap_up":
        # The call just over, if the agent talked on it; an earlier conversation is not what they wrap up
        # now (an agent-first call whose customer never answered leaves a moment of wrap-up too).
        # Newest by when it rang, through ix_agent_legs_agent_rung: one entry, however long the history.
        latest = session.scalar(
            select(AgentLeg)
            .where(AgentLeg.agent_id == agent.id)
            .order_by(AgentLeg.rung_at.desc(), AgentLeg.id.desc())
            .limit(1)
        )
        if latest is not None and latest.bridged_at is not None:
            return CurrentCall("wrap_up", latest.attempt, latest)
    return None


def _last_taken(session: Session, agent: Agent) -> AgentLeg | None:
    """The agent's last conversation: their last leg that was bridged to the customer."""
    return session.scalar(
        select(AgentLeg)
        .where(AgentLeg.agent_id == agent.id, AgentLeg.bridged_at.is_not(None))
        .order_by(AgentLeg.bridged_at.desc(), AgentLeg.id.desc())
        .limit(1)
    )


# -- the screen pop ------------------------------------------------------------------------------------


def menu_findings(session: Session, req: CallbackRequest) -> dict[str, Any] | None:
    """What the phone menu found: the path, what the caller said, what was looked up."""
    if not req.ivr_context:
        return None
    try:
        context = json.loads(req.ivr_context)
    except ValueError:
        return None
    if not isinstance(context, dict):
        return None
    summary = _cap(context.get("summary") or "", MAX_SUMMARY_SHOWN)
    found: dict[str, Any] = {"summary": summary, "path": [], "said": [], "looked_up": []}
    session_id = context.get("ivr_session")
    ivr = session.get(IvrSession, session_id) if isinstance(session_id, int) else None
    if ivr is None:
        return found
    path: list[str] = []
    # The tree names each step's node as staff read it; node names are the menu file's, not theirs.
    tree = current_app.extensions.get("ivr_tree") if has_app_context() else None
    for step in ivr.get_steps():
        node = str(step.get("node") or "")
        label = tree.label(node) if tree is not None and node else node
        if label and (not path or path[-1] != label):
            path.append(label)
        if step.get("speech"):
            found["said"].append(_cap(step["speech"]))
        if step.get("kind") == "lookup":
            result = step.get("result")
            # In English, the staff's language, when the caller heard it in another (as the summary says it).
            words = (
                "the order service could not answer"
                if result == "unavailable"
                else "nothing found"
                if not result
                else _cap(step.get("for_agent") or result)
            )
            found["looked_up"].append({"reference": _cap(step.get("reference") or ""), "result": words})
    found["path"] = path
    return found


def _attempt_line(attempt: CallAttempt, zone: ZoneInfo, now: datetime) -> dict[str, Any]:
    if attempt.ended_at is None:
        words = "in progress"
    elif attempt.dialled_at is None and attempt.outcome == "completed":
        words = "called us, talked with an agent"
    elif attempt.agent_first and attempt.dialled_at is None and attempt.outcome in AGENT_FIRST_UNCALLED:
        words = AGENT_FIRST_UNCALLED[attempt.outcome]
    else:
        words = ATTEMPT_WORDS.get(attempt.outcome or "", (attempt.outcome or "ended").replace("_", " "))
    missed = [leg for leg in attempt.agent_legs if leg.outcome not in {None, "accepted", "canceled"}]
    return {
        "at": _clock_time(attempt.created_at, zone, now),
        "text": words,
        "agents_missed": len(missed),
    }


def number_words(req: CallbackRequest) -> str:
    """The customer's number as the console shows it; a phone-menu caller's caller ID that matched
    another open request (see CallbackRequest.unverified_caller_id) is shown for what it is."""
    if req.dialable:
        return phones.display(req.phone)
    matched = req.unverified_caller_id
    if matched is None:
        return "withheld"
    return f"{phones.display(matched)} (caller ID, not verified: it matches an open callback request)"


# What the agent is told of a caller ID the carrier doubted (CallbackRequest.caller_id_doubted).
DOUBTED_CALLER_ID_NOTE = (
    "The carrier could not verify this caller ID: the caller may not be the person whose number it is. "
    "Check who they are before you discuss their account or orders."
)


def pop(
    session: Session,
    req: CallbackRequest,
    now: datetime,
    orders: OrderStatuses,
    lookup: OrderLookup,
    attempt: CallAttempt | None = None,
    leg: AgentLeg | None = None,
    zone: ZoneInfo | None = None,
) -> dict[str, Any]:
    """Everything about the customer an agent needs when the call rings: who, why, what we know. Times
    are in `zone`: the agent's (agent_zone), else the request's queue's."""
    zone = zone or ZoneInfo(req.queue.timezone)
    # The wait ends when an agent took the call; until then it is still going on. It counts from when
    # the customer wanted the call: one who booked ten o'clock has not waited since they booked.
    waited_until = (leg.accepted_at if leg is not None else None) or (
        attempt.accepted_at if attempt is not None else None
    )
    waited = max(0.0, ((waited_until or now) - req.wanted_at).total_seconds())
    earlier = [a for a in req.call_attempts if attempt is None or a.id != attempt.id]
    language = primary_language(req.language or "en")
    contacts = earlier_contacts(session, req, zone, now)
    return {
        "request_id": req.id,
        "name": req.name,
        "known_as": _known_as(req, contacts),
        "earlier_contacts": contacts,
        "phone": req.phone,
        "phone_display": number_words(req),
        "caller_id_note": DOUBTED_CALLER_ID_NOTE if req.caller_id_doubted else None,
        "topic": req.queue.display_name,
        "source": {"web": "the callback form", "api": "the API", "ivr": "the phone menu"}.get(req.source, req.source),
        "order": orders.status(lookup, req.order_number, now) if req.order_number else None,
        "menu": menu_findings(session, req),
        # A message the caller left when we were closed: the agent who calls back hears it first.
        "messages": [
            {"id": m.public_id, "seconds": round(m.duration_seconds or 0), "at": _clock_time(m.created_at, zone, now)}
            for m in recordings.messages_for_request(session, req.id)
        ],
        "earlier_attempts": [_attempt_line(a, zone, now) for a in earlier],
        "asked_at": _clock_time(req.created_at, zone, now),
        "booked_for": _clock_time(req.not_before, zone, now) if req.not_before else None,
        "waited_seconds": int(waited),
        "waited_text": duration_words(waited),
        # The language we spoke with them, and whether this team's agents speak it.
        "language": language,
        "language_text": language_words(req.language or "en", req.queue),
        "disposition": req.disposition,
        "disposition_text": DISPOSITION_WORDS.get(req.disposition or "", ""),
        "note": req.note,
    }


# How far back, and how many, of a number's other requests the screen pop shows.
EARLIER_CONTACTS_DAYS = 90
EARLIER_CONTACTS_SHOWN = 5
# A request's state, as an agent reads it on another request's screen pop.
REQUEST_WORDS = {
    "queued": "waiting",
    "retry_wait": "waiting",
    "dialing": "being called",
    "connecting": "being called",
    "connected": "on a call",
    "completed": "talked with an agent",
    "failed": "not reached",
    "canceled": "canceled",
    "expired": "expired unanswered",
}


def earlier_contacts(session: Session, req: CallbackRequest, zone: ZoneInfo, now: datetime) -> list[dict[str, Any]]:
    """The number's other requests of the last EARLIER_CONTACTS_DAYS, newest first: the customer who
    called about their parcel twice today is one customer, with what the last agent wrote. None for a
    caller we have no number of (a placeholder is one call's own)."""
    if not req.dialable:
        return []
    r = CallbackRequest
    found = session.scalars(
        select(r)
        .where(
            r.phone == req.phone,
            r.id != req.id,
            r.created_at >= now - timedelta(days=EARLIER_CONTACTS_DAYS),
            or_(r.outcome.is_(None), r.outcome.not_in(ASKS_KEPT_FOR_LIMITS)),
        )
        .order_by(r.created_at.desc(), r.id.desc())
        .limit(EARLIER_CONTACTS_SHOWN)
    ).all()
    return [
        {
            "request_id": other.id,
            "at": _clock_time(other.created_at, zone, now),
            "name": other.name,
            "topic": other.queue.display_name,
            "status_text": REQUEST_WORDS.get(other.status, other.status.replace("_", " ")),
            "disposition_text": DISPOSITION_WORDS.get(other.disposition or "", ""),
            "note": _cap(other.note, MAX_SUMMARY_SHOWN) if other.note else None,
        }
        for other in found
    ]


def _known_as(req: CallbackRequest, contacts: list[dict[str, Any]]) -> str | None:
    """For a caller the phone menu could not name, the name their number last gave us."""
    if req.name != PHONE_CALLER:
        return None
    return next((c["name"] for c in contacts if c["name"] != PHONE_CALLER), None)


# -- today's calls -------------------------------------------------------------------------------------


def todays_calls(session: Session, agent: Agent, now: datetime) -> list[dict[str, Any]]:
    """Every call this agent was rung for today, newest first: the day and the times in the agent's zone
    (agent_zone), one clock for the whole list whichever queues the calls came from."""
    zone = agent_zone(agent)
    legs: Sequence[AgentLeg] = session.scalars(
        select(AgentLeg)
        .where(AgentLeg.agent_id == agent.id, AgentLeg.rung_at >= now - TODAY_WINDOW)
        .order_by(AgentLeg.rung_at.desc(), AgentLeg.id.desc())
    ).all()
    calls = []
    for leg in legs:
        req = leg.attempt.request
        if _local(leg.rung_at, zone).date() != _local(now, zone).date():
            continue
        taken = leg.talked
        if leg.ended_at is None:
            outcome_text = "In progress"
        elif leg.outcome == "accepted" and not taken:
            outcome_text = "Customer not reached"  # agent-first: accepted, then nobody (or voicemail) answered
        else:
            outcome_text = LEG_WORDS.get(leg.outcome or "", "Ended")
        calls.append(
            {
                "request_id": req.id,
                "at": _clock_time(leg.rung_at, zone, now),
                "name": req.name,
                "phone_display": number_words(req),
                "topic": req.queue.display_name,
                "outcome": leg.outcome,
                "outcome_text": outcome_text,
                "talk_text": duration_words(leg.talk_seconds) if taken and leg.talk_seconds is not None else "",
                "taken": taken,
                "disposition": req.disposition if taken else None,
                "disposition_text": DISPOSITION_WORDS.get(req.disposition or "", "") if taken else "",
                "note": req.note if taken else None,
            }
        )
    return calls


# -- the console's one answer ---------------------------------------------------------------------------


def status_summary(agent: Agent, now: datetime) -> str:
    """'Away since 10:42: missed a call from the orders line (voicemail answered)'."""
    since = _clock_time(agent.status_since, agent_zone(agent), now)
    words = f"{STATUS_WORDS.get(agent.status, agent.status)} since {since}"
    words = f"{words}: {agent.status_reason}" if agent.status_reason else words
    later = AFTER_CALL_WORDS.get(agent.after_call_status or "")
    if later and agent.after_call_reason:
        later = f"{later}: {agent.after_call_reason}"
    return f"{words}. {later}" if later else words


def _wrap_up_target(session: Session, agent: Agent, call: CurrentCall | None, now: datetime) -> CallbackRequest | None:
    """The call the wrap-up form is for: the one being talked or wrapped up, else the last call taken
    today that has no disposition yet."""
    if call is not None and call.phase in {"talking", "wrap_up"}:
        return call.attempt.request
    last = _last_taken(session, agent)
    if last is None or last.bridged_at is None or now - last.bridged_at > TODAY_WINDOW:
        return None
    req = last.attempt.request
    return req if req.disposition is None else None


def state(session: Session, agent: Agent, now: datetime, orders: OrderStatuses, lookup: OrderLookup) -> dict[str, Any]:
    """The whole console as JSON: status, the call and its pop, the wrap-up form's call, today's calls."""
    zone = agent_zone(agent)
    call = current_call(session, agent)
    target = _wrap_up_target(session, agent, call, now)
    return {
        "agent": {
            "id": agent.id,
            "name": agent.name,
            "status": agent.status,
            "status_text": STATUS_WORDS.get(agent.status, agent.status),
            "since": agent.status_since.isoformat(),
            "reason": agent.status_reason,
            "summary": status_summary(agent, now),
            "wrap_up_ends_in": (
                max(0, int((agent.busy_until - now).total_seconds()))
                if agent.status == "wrap_up" and agent.busy_until is not None
                else None
            ),
            "can_be_ready": agent.status == "wrap_up",
        },
        "call": (
            {
                "phase": call.phase,
                "phase_text": PHASE_WORDS[call.phase],
                **pop(session, call.attempt.request, now, orders, lookup, call.attempt, call.leg, agent_zone(agent)),
            }
            if call is not None
            else None
        ),
        "wrap_up": (
            {
                "request_id": target.id,
                "name": target.name,
                "topic": target.queue.display_name,
                "disposition": target.disposition,
                "note": target.note,
                "saved_at": saved_at(target),
            }
            if target is not None
            else None
        ),
        "today": todays_calls(session, agent, now),
        "now": _clock_time(now, zone, now),
    }


# -- what an agent does ----------------------------------------------------------------------------------


def own_request(session: Session, agent: Agent, request_id: int, taken: bool = False) -> CallbackRequest:
    """A request this agent was rung for (`taken`: and took); anyone else's is not found, not forbidden,
    so an agent cannot learn which requests exist."""
    query = (
        select(AgentLeg.id)
        .join(CallAttempt, CallAttempt.id == AgentLeg.attempt_id)
        .where(CallAttempt.request_id == request_id, AgentLeg.agent_id == agent.id)
    )
    if taken:
        query = query.where(AgentLeg.talked)
    req = session.get(CallbackRequest, request_id) if 0 < request_id <= 2**31 - 1 else None
    if req is None or session.scalar(query.limit(1)) is None:
        raise NotFound("not_found", "You have no call with that number.")
    return req


def dispose(
    session: Session,
    agent: Agent,
    request_id: int,
    disposition: str,
    note: str,
    now: datetime,
    staff_id: int | None,
    seen: str | None = None,
) -> CallbackRequest:
    """Store the agent's wrap-up of a call they took: a disposition and a note (the caller audits and commits).

    `seen`: the `saved_at` of the wrap-up the agent's form showed ("" for none). When another save came
    in since (the console open in two tabs, the call's page and the console), this one is refused
    rather than overwriting words the agent did not see; None skips the check (no form to compare)."""
    if disposition not in DISPOSITIONS:
        raise InvalidInput("bad_disposition", f"Choose one of: {', '.join(DISPOSITIONS)}.", "disposition")
    note = (note or "").replace("\r\n", "\n").strip()
    if len(note) > MAX_NOTE:
        raise InvalidInput("note_too_long", f"A note has at most {MAX_NOTE} characters.", "note")
    if has_control_characters(note.replace("\n", " ").replace("\t", " ")):
        raise InvalidInput("bad_note", "The note has characters that cannot be stored.", "note")
    req = own_request(session, agent, request_id, taken=True)
    if seen is not None and seen != saved_at(req):
        raise Conflict(
            "wrap_up_changed",
            "This call's wrap-up was saved meanwhile, perhaps in another tab: here it is as saved. "
            "Change it again if it needs more.",
        )
    req.disposition = disposition
    req.note = note or None
    req.disposed_at = now
    req.disposed_by_staff_id = staff_id
    return req


def saved_at(req: CallbackRequest) -> str:
    """When the request's wrap-up was last saved, as the console's forms carry it ("" never)."""
    return req.disposed_at.isoformat() if req.disposed_at is not None else ""


def ready(agent: Agent, now: datetime) -> None:
    """The agent is done wrapping up: available now (the caller audits, commits and wakes the dispatcher)."""
    if not line.end_wrap_up(agent, now):
        status = STATUS_WORDS.get(agent.status, agent.status).lower()
        raise Conflict("not_wrapping_up", f"You are {status}, not wrapping up.")
