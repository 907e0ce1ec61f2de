"""The rules a request must pass: abuse limits, do-not-call, and time slots."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from agents.models import Queue
from callback.models import ACTIVE, ASKS_KEPT_FOR_LIMITS, CallbackRequest, DoNotCall
from core.clients import client_key
from core.clock import as_utc
from core.config import Settings
from core.errors import InvalidInput, LimitExceeded
from core.locks import serialise
from core.phone import OWN_NUMBER

BOOKING_HORIZON = timedelta(days=7)
# A slot picked a moment ago may have started by the time the form is posted.
SLOT_GRACE = timedelta(minutes=5)


@dataclass(frozen=True)
class Limits:
    """How much one number or one client may ask for."""

    active_per_number: int = 2
    per_number_per_day: int = 5
    per_ip_per_hour: int = 10

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        """The limits an operator set (CALLBACK_LIMIT_*)."""
        return cls(
            active_per_number=settings.callback_limit_active_per_number,
            per_number_per_day=settings.callback_limit_per_number_per_day,
            per_ip_per_hour=settings.callback_limit_per_ip_per_hour,
        )


# The namespaces of serialise_asks's locks (core.locks): "CLN" and "CLC".
_LOCK_NUMBER = 0x43_4C_4E
_LOCK_CLIENT = 0x43_4C_43


def phone_client_key(caller: str | None, call_sid: str) -> str:
    """Who the per-client limit counts for an ask made in the phone menu: the calling number when it is
    one we could call back (`caller`, E.164), else the call itself (`call_sid`).

    A caller ID is no client identity. A withheld one ("anonymous", "Restricted", Twilio's +266696687)
    is the same for every caller who withholds, so keying on it let ten of them in an hour refuse the
    eleventh; and anyone can send any caller ID, so a faked one is a fresh key whatever we do. The key
    only groups what one real phone asks, and never merges strangers. What bounds asks under fresh keys
    does not rest on the caller ID: a call ends once it has asked for a callback, and the number to be
    called has its own limits (check_asks, check_active), which count every ask whatever its client.
    """
    return f"tel:{caller}" if caller else f"call:{call_sid}"[:45]


def serialise_asks(session: Session, phone: str, client: str | None) -> None:
    """Make this transaction the only one judging asks for this number (and this client) until it ends.

    The limits count rows and then insert one; two posts judged at once would each count the other
    out and both get in. The locks are taken on the number, then the client, always in that order.
    """
    serialise(session, (_LOCK_NUMBER, phone), *([(_LOCK_CLIENT, client)] if client else []))


def check_not_ours(session: Session, phone: str) -> None:
    """Refuse the caller IDs of our queues: a callback to them would ring the shop itself."""
    if session.scalar(select(Queue.id).where(Queue.caller_id == phone).limit(1)) is not None:
        code, message = OWN_NUMBER
        raise InvalidInput(f"phone_{code}", message, "phone")


def check_do_not_call(session: Session, phone: str) -> None:
    """Refuse numbers whose owners asked never to be called."""
    if session.get(DoNotCall, phone) is not None:
        raise InvalidInput(
            "do_not_call",
            "This number is on our do-not-call list, so we can't call it. "
            "Please use another number or contact us by email.",
            "phone",
        )


def check_ask(
    session: Session, limits: Limits, phone: str, client: str | None, now: datetime, found_active: bool
) -> None:
    """The checks every ask for a callback at `phone` passes, on the web, the API or the phone menu,
    under serialise_asks: how often the number and the client asked lately, the do-not-call list, and,
    unless the ask found the number's active request for its topic (which it will not repeat), how many
    requests the number has active."""
    check_asks(session, limits, phone, client, now, repeat=found_active)
    check_do_not_call(session, phone)
    if not found_active:
        check_active(session, limits, phone)


def check_limits(session: Session, limits: Limits, phone: str, client_ip: str | None, now: datetime) -> None:
    """Refuse a new request when the number or the client has asked too often."""
    check_asks(session, limits, phone, client_key(client_ip), now)
    check_active(session, limits, phone)


def check_active(session: Session, limits: Limits, phone: str) -> None:
    """Refuse a new request while the number already has as many active ones as it may."""
    active = session.scalar(
        select(func.count())
        .select_from(CallbackRequest)
        .where(CallbackRequest.phone == phone, CallbackRequest.status.in_(ACTIVE))
    )
    if active is not None and active >= limits.active_per_number:
        raise LimitExceeded(
            "too_many_active",
            f"This number already has {active} callbacks waiting. We'll call you for those first; "
            "you can cancel one on its status page to ask about something else.",
            retry_after=900,
        )


def check_asks(
    session: Session, limits: Limits, phone: str, client: str | None, now: datetime, repeat: bool = True
) -> None:
    """Refuse an ask when the number or the client (as client_key() names it) has asked too often lately.

    Every ask that got this far left a row, including those answered "you already have one", so
    probing for other people's requests costs the client the same as making requests, and a `repeat`
    (an ask that found the number's request for its topic: a probe, or its owner asking twice) counts
    every ask of the number, so probes of one number from many clients (withheld callers) are bounded
    too. An ask that would make a new request counts only the requests made for the number: strangers
    repeating an ask made no call, and must not lock its owner out of asking about anything else.
    """
    number = CallbackRequest.phone == phone
    if not repeat:
        number = and_(
            number, or_(CallbackRequest.outcome.is_(None), CallbackRequest.outcome.not_in(ASKS_KEPT_FOR_LIMITS))
        )
    _check_window(
        session,
        number,
        limits.per_number_per_day,
        timedelta(days=1),
        now,
        "number_daily_limit",
        "This number has asked for {n} callbacks in the last 24 hours, which is our limit. Please try again later.",
    )
    if client:
        _check_window(
            session,
            CallbackRequest.client_ip == client,
            limits.per_ip_per_hour,
            timedelta(hours=1),
            now,
            "client_hourly_limit",
            "Too many callback requests have come from your connection in the last hour ({n}). Please try again later.",
        )


def _check_window(
    session: Session,
    condition: object,
    limit: int,
    window: timedelta,
    now: datetime,
    code: str,
    message: str,
) -> None:
    """Count requests matching `condition` inside a sliding window and refuse past `limit`."""
    since = now - window
    count, oldest = session.execute(
        select(func.count(), func.min(CallbackRequest.created_at)).where(
            condition,  # type: ignore[arg-type]
            CallbackRequest.created_at > since,
        )
    ).one()
    if count >= limit:
        # The window slides: a place frees up when its oldest request leaves it.
        retry_after = (as_utc(oldest) + window - now).total_seconds() if oldest else window.total_seconds()
        raise LimitExceeded(code, message.format(n=count), retry_after=int(retry_after) + 1)


def may_call_again(req: CallbackRequest) -> bool:
    """Whether the request has a call left to place (the bounds in `callback.line.claim` still decide when)."""
    return req.dialable and req.attempts < req.queue.max_attempts


def retry_at(req: CallbackRequest, now: datetime) -> datetime | None:
    """When a request whose call did not reach anyone now is called again, or None: no call is left.

    None when its number cannot be dialled (a withheld caller's placeholder), its queue's
    `max_attempts` calls are placed, or the back-off would run past its expiry. This is what
    `callback.line.schedule_retry` does after such a call, and what the customer is promised in it.
    """
    if not may_call_again(req):
        return None
    next_at = now + req.queue.retry_delay(req.attempts)
    return next_at if next_at < req.expires_at else None


def check_slot(queue: Queue, not_before: datetime | None, now: datetime) -> datetime | None:
    """Validate a requested time: in the next 7 days and inside the queue's hours; None = ASAP."""
    if not_before is None:
        return None
    if not_before.tzinfo is None:
        raise InvalidInput(
            "time_without_zone",
            "The time must include a time zone (for example 2026-11-24T15:30:00Z).",
            "not_before",
        )
    if not_before < now - SLOT_GRACE:
        raise InvalidInput("time_in_past", "That time has already passed. Please pick a later one.", "not_before")
    if not_before > now + BOOKING_HORIZON:
        raise InvalidInput("time_too_far", "We can only book callbacks up to 7 days ahead.", "not_before")
    hours = queue.business_hours
    if not hours.is_open(not_before):
        raise InvalidInput(
            "outside_hours",
            f"{queue.display_name} is closed at that time. Our hours are {hours.spec()} ({queue.timezone}).",
            "not_before",
        )
    return max(not_before, now)
