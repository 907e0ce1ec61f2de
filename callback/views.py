"""The customer's pages: the callback form and the request's status page."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask import session as browser
from flask.typing import ResponseReturnValue
from flask_babel import gettext, ngettext
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from agents.models import Queue, primary_language
from agents.service import list_queues
from callback import service, words
from callback.api import after_queued, limits, text_duplicate
from callback.forms import CallbackForm, CancelForm, RescheduleForm
from callback.models import ACTIVE, WAITING, CallbackRequest
from core import phone as phones
from core.errors import Conflict, DomainError, InvalidInput, LimitExceeded
from core.phone import PhonePolicy
from core.web import clock, phone_policy, session, wake_dispatcher

bp = Blueprint("callback", __name__)
# `?lang=es` on any page: the customer's own choice of language, kept for the pages after it.
bp.before_app_request(words.keep_chosen_language)


@bp.app_template_global()
def customer_language() -> str:
    """The customer's language for pages rendered outside this blueprint (expired.html): Babel's own choice."""
    return words.language()


# The browser's signed session cookie remembers the requests it made, so asking again from the same
# browser leads back to the status page; anyone else gets no reference (see refuse_duplicate).
MINE = "mine"
MINE_KEPT = 10


def _remember(ref: str) -> None:
    """Note in this browser's signed cookie that it made the request `ref`."""
    refs = [r for r in browser.get(MINE, []) if isinstance(r, str) and r != ref]
    browser[MINE] = [*refs, ref][-MINE_KEPT:]


def _mine() -> list[str]:
    """The references of the requests this browser made (newest last)."""
    refs = browser.get(MINE, [])
    return [r for r in refs if isinstance(r, str)] if isinstance(refs, list) else []


# What form_id() mints; anything else posted is not a form of ours and proves nothing.
_FORM_ID = re.compile(r"^[A-Za-z0-9_-]{22,64}$")


def form_id(posted: str | None) -> str:
    """The form's own id: the one it was rendered with when posted back, else a new random one.

    The browser sends it back with every submit of that one rendered form, so a double click (whose
    second post may carry the cookie from before the first was answered) is known as the same person.
    """
    return posted if posted and _FORM_ID.fullmatch(posted) else secrets.token_urlsafe(16)


STATUS_WORDS = {
    "queued": _l("You're in line. We'll call you when it's your turn."),
    "retry_wait": _l("We tried to call you but couldn't get through. We'll try again."),
    "dialing": _l("We're calling you now: answer, then press 1 to talk to an agent."),
    "connecting": _l("We're calling you now: answer, then press 1 to talk to an agent."),
    "connected": _l("You're talking with one of our agents."),
    "completed": _l("All done: you spoke with one of our agents. Thank you!"),
    "failed": _l(
        "We couldn't reach you after several tries, so we've stopped calling. "
        "If you still need us, please ask for a callback again."
    ),
    "canceled": _l("You canceled this callback. We won't call."),
    "expired": _l("This request expired before we could reach you. If you still need us, please ask again."),
}

# A retry's headline, by how the last call went, so it agrees with the history below it.
RETRY_WORDS = {
    "no_confirmation": _l("You answered, but we didn't hear you press 1. We'll call you again."),
    "customer_hung_up": _l("The call ended before you were connected to an agent. We'll call you again."),
    "machine": _l("We reached your voicemail and left a message. We'll try again."),
    "asked_later": _l("You asked us to call back later. We'll call you again."),
}
RETRY_WORDS_AT = {
    "no_confirmation": _l("You answered, but we didn't hear you press 1. We'll call you again on %(when)s."),
    "customer_hung_up": _l("The call ended before you were connected to an agent. We'll call you again on %(when)s."),
    "machine": _l("We reached your voicemail and left a message. We'll try again on %(when)s."),
    "asked_later": _l("You asked us to call back later. We'll call you again on %(when)s."),
}

# Where the last call's outcome changes what the headline must say, so it agrees with the history.
OUTCOME_WORDS = {
    **{("retry_wait", outcome): said for outcome, said in RETRY_WORDS.items()},
    ("failed", "no_confirmation"): _l(
        "You answered our calls, but we didn't hear you press 1, so we've stopped calling. "
        "If you still need us, please ask for a callback again."
    ),
    ("failed", "customer_hung_up"): _l(
        "Our calls ended before you were connected to an agent, so we've stopped calling. "
        "If you still need us, please ask for a callback again."
    ),
    ("queued", "agent_missed"): _l(
        "You answered, but our agent couldn't take your call. "
        "You're at the front of the line and we'll call you again shortly."
    ),
    ("queued", "agent_dropped"): _l(
        "We called you, but our agent's line dropped before we could put you through. "
        "You're at the front of the line and we'll call you again shortly."
    ),
    ("failed", "agent_dropped"): _l(
        "We called you, but our agent's line dropped before we could put you through, and we've "
        "stopped calling so as not to disturb you again. Please ask for a callback again when it suits you."
    ),
    ("failed", "agent_missed"): _l(
        "You answered, but none of our agents could take your call, and we've "
        "stopped calling so as not to disturb you again. Please ask for a callback again when it suits you."
    ),
    ("failed", "asked_later"): _l(
        "You asked us to call back later, but we've called you as many times as we may for this request, "
        "so we've stopped calling. If you still need us, please ask for a callback again."
    ),
    ("failed", "max_attempts"): _l(
        "We've called you as many times as we may for this request, so we've "
        "stopped calling. If you still need us, please ask for a callback again."
    ),
    ("failed", "daily_call_limit"): _l(
        "We've already called this number several times today, so we've "
        "stopped calling it for now. Please ask again tomorrow, or call us."
    ),
    ("failed", "invalid_number"): _l("We couldn't dial this number. Please check it and ask again."),
    ("failed", "provider_refused"): _l(
        "Our phone service would not place calls to this number, so we've stopped trying. "
        "Please check the number, or call us."
    ),
    ("canceled", "declined"): _l("You told us not to connect you, so we won't call again."),
    ("canceled", "do_not_call"): _l("This number is on our do-not-call list, so we won't call it."),
    ("canceled", "hung_up_on_hold"): _l("You hung up while holding, so we won't call back."),
    ("canceled", "caller_hung_up"): _l("You hung up before an agent picked up, so we won't call back."),
    ("canceled", "hold_failed"): _l(
        "Our line couldn't keep you on hold and we had no number to call you back on, so we took a message instead."
    ),
    ("canceled", "left_unstaffed"): _l(
        "Nobody was on duty to take your call and we had no number to call you back on, so we took a message instead."
    ),
    ("canceled", "canceled_by_staff"): _l("Our team canceled this callback. We won't call."),
}

ATTEMPT_WORDS = {
    "completed": _l("you talked with an agent"),
    "busy": _l("your line was busy"),
    "no-answer": _l("nobody answered"),
    "failed": _l("the call could not get through"),
    "machine": _l("we reached voicemail and left a message"),
    "no_confirmation": _l("you answered, but we didn't hear you press 1"),
    "declined": _l("you told us not to connect you"),
    "customer_hung_up": _l("the call ended before you were connected to an agent"),
    "agent_missed": _l("you answered, but our agent couldn't take the call"),
    "agent_dropped": _l("we called you, but our agent's line dropped before we could put you through"),
    "canceled": _l("you canceled while we were calling"),
    "invalid_number": _l("the number could not be dialled"),
    "not_placed": _l("our phone service was briefly unavailable; this call was not made"),
    "refused": _l("our phone service refused this call; it was not made"),
    "hung_up_on_hold": _l("you hung up while holding"),
    "asked_later": _l("you asked us to call back later"),
}


def status_words(req: CallbackRequest) -> str:
    """The status page's headline: the request's state, in the words its call history bears out."""
    # Only a call under way needs its attempts (read no further for any other status).
    calling = req.status in {"dialing", "connecting"}
    last = req.call_attempts[-1] if calling and req.call_attempts else None
    if req.status == "connecting" and last is not None and last.confirmed_at is not None:
        return gettext("You pressed 1: we're putting you through to an agent now.")
    if last is not None and last.agent_first:
        # Agent-first: the agent is rung first, and the customer who answers is put straight through.
        if last.dialled_at is None:
            return gettext("An agent is getting ready to call you. Please keep your phone near you.")
        return gettext("We're calling you now: answer, and we'll put you through to an agent.")
    return str(OUTCOME_WORDS.get((req.status, req.outcome or ""), STATUS_WORDS[req.status]))


def _calls_to_customer(req: CallbackRequest) -> list[Any]:
    """The attempts the customer lived through: calls we placed to them, and transfers from the menu
    (an agent-first attempt whose agent never accepted rang nobody but the agent)."""
    return [a for a in req.call_attempts if a.dialled_at is not None or (a.answered_at and not a.agent_first)]


def attempt_lines(req: CallbackRequest, zone: ZoneInfo | None = None) -> list[str]:
    """What happened on each call, in words, in the customer's time zone."""
    zone = zone or req.queue.business_hours.zone
    lines = []
    for n, attempt in enumerate(_calls_to_customer(req), start=1):
        when = words.when(attempt.created_at, zone)
        if attempt.ended_at is None:
            waiting = attempt.answered_at is not None and attempt.confirmed_at is None
            what = gettext("answered, waiting for you to press 1") if waiting else gettext("in progress")
        else:
            outcome = attempt.outcome or ""
            if outcome == "agent_missed" and attempt.agent_first and attempt.greeted_at is None:
                outcome = "agent_dropped"  # their phone still rang: they never answered
            what = str(ATTEMPT_WORDS[outcome]) if outcome in ATTEMPT_WORDS else (outcome or gettext("ended"))
        lines.append(gettext("Call %(n)d (%(when)s): %(what)s", n=n, when=when, what=what))
    return lines


def _zone(queue: Queue) -> ZoneInfo:
    """The customer's time zone (from their browser), else the topic's."""
    return words.customer_zone(queue.business_hours.zone)


def _times(queue: Queue, now: datetime, zone: ZoneInfo) -> list[dict[str, Any]]:
    """A topic's bookable times grouped by day, both in the customer's time zone.

    Each day is {"day": "2026-11-30", "label": "Monday, November 30", "times": [{"value": UTC ISO 8601,
    "label": "3:30 PM"}]}: a day picker and a time-of-day picker, instead of one list of hundreds.
    """
    return _by_day(service.callback_times(queue, now), zone)


def _by_day(slots: Sequence[datetime], zone: ZoneInfo) -> list[dict[str, Any]]:
    days: dict[str, dict[str, Any]] = {}
    for slot in slots:
        local = slot.astimezone(zone)
        key = local.date().isoformat()
        if key not in days:
            days[key] = {"day": key, "label": words.day(slot, zone), "times": []}
        days[key]["times"].append({"value": slot.isoformat(), "label": words.clock(slot, zone)})
    for listed in days.values():
        # The night the clocks go back has its 1:00 and 1:30 twice: each says which one it is.
        labels = [t["label"] for t in listed["times"]]
        for t in listed["times"]:
            if labels.count(t["label"]) > 1:
                t["label"] = words.clock_and_zone(datetime.fromisoformat(t["value"]), zone)
    return list(days.values())


def _chosen_slot(form: Any) -> datetime | None:
    if form.when.data != "slot":
        return None
    try:
        parsed = datetime.fromisoformat(form.slot.data or "")
    except ValueError as exc:
        raise InvalidInput("slot_required", "Please choose a time for us to call.", "slot") from exc
    if parsed.tzinfo is None:
        raise InvalidInput("slot_required", "Please choose a time for us to call.", "slot")
    return parsed


def _queue_cards(queues: Sequence[Queue], now: datetime) -> list[dict[str, Any]]:
    cards = []
    language = words.language()
    for queue in queues:
        hours = queue.business_hours
        opening = hours.next_open(now)
        open_now = hours.is_open(now)
        # Closed, it is said after "opens <when>, then": the wait from the opening, not from now.
        wait = service.queue_wait(session(), queue, now, from_opening=not open_now)
        cards.append(
            {
                "name": queue.name,
                "display_name": words.topic(queue.name, queue.display_name),
                "open_now": open_now,
                "opens": words.when(opening, _zone(queue)) if opening is not None else None,
                "wait": words.wait(wait) if wait is not None else None,
                # A team that does not speak the page's language: said before the customer is called by it.
                "speaks": None
                if queue.speaks(language)
                else words.languages_named(primary_language(code) for code in queue.spoken),
            }
        )
    return cards


# The form's fields in page order: the error summary lists problems in the order they are met.
FIELD_ORDER = ("form", "phone", "name", "topic", "order_number", "slot", "consent")
FIELD_OF = {"not_before": "slot", "country": "phone"}


def _aria(errors: dict[str, str], name: str, hint: str | None) -> dict[str, str]:
    """aria-describedby / aria-invalid for a field, so screen readers announce hints and errors."""
    described = [x for x in (hint, f"{name}-error" if name in errors else None) if x]
    attrs = {"aria-describedby": " ".join(described)} if described else {}
    if name in errors:
        attrs["aria-invalid"] = "true"
    return attrs


def _say(error: DomainError, policy: PhonePolicy, queue: Queue | None = None, at: datetime | None = None) -> str:
    """A refusal in the page's language and the customer's time zone (`at`: the time they chose)."""
    if error.code == "outside_hours" and queue is not None:
        topic = words.topic(queue.name, queue.display_name)
        return words.outside_hours(topic, queue.business_hours, words.when(at, _zone(queue)) if at else None)
    return words.message(error, policy)


def _add(
    errors: dict[str, str],
    error: DomainError,
    policy: PhonePolicy,
    queue: Queue | None = None,
    at: datetime | None = None,
) -> None:
    field = FIELD_OF.get(error.field or "", error.field or "form")
    errors.setdefault(field, _say(error, policy, queue, at))


def _asked(not_before: datetime | None) -> str:
    """What an ask chose, as a status page link carries it: "asap" or the UTC time."""
    return not_before.astimezone(UTC).isoformat() if not_before else "asap"


def _limit_words(error: LimitExceeded, zone: ZoneInfo, now: datetime) -> str:
    """A limit refusal that says when asking again can work."""
    if error.code == "too_many_active":
        return gettext(
            "This number already has as many callbacks waiting as it may. You can ask about something else "
            "once one of them is done or canceled: each has its own page, from the link you got when you asked."
        )
    at = words.until(error.retry_after, zone, now)
    if error.code == "client_hourly_limit":
        return gettext(
            "Too many callback requests have come from your connection in the last hour. "
            "You can ask again from %(when)s.",
            when=at,
        )
    return gettext(
        "This number has asked for as many callbacks in the last 24 hours as it may. You can ask again from %(when)s.",
        when=at,
    )


def _own_active(phone: str | None) -> list[dict[str, str]]:
    """The active requests for `phone` that this browser made: links only its maker may see."""
    refs = _mine()
    if not phone or not refs:
        return []
    rows = session().scalars(
        select(CallbackRequest).where(
            CallbackRequest.ref.in_(refs), CallbackRequest.phone == phone, CallbackRequest.status.in_(ACTIVE)
        )
    )
    return [
        {"url": url_for("callback.status", ref=r.ref), "topic": words.topic(r.queue.name, r.queue.display_name)}
        for r in rows
    ]


@bp.route("/callback", methods=["GET", "POST"])
def request_form() -> ResponseReturnValue:
    """Show the form; on a valid post, queue the request and go to its status page."""
    now = clock().now()
    policy = phone_policy()
    form = CallbackForm()
    form.country.choices = [
        SelectChoice(code, f"{words.country(code)} (+{phonenumbers.country_code_for_region(code)})")
        for code, _ in phones.country_choices(policy)
    ]
    queues = list_queues(session())
    by_name = {q.name: q for q in queues}
    form.topic.choices = [SelectChoice("", gettext("Choose a topic"))] + [
        SelectChoice(q.name, words.topic(q.name, q.display_name)) for q in queues
    ]
    zone = words.customer_zone(queues[0].business_hours.zone if queues else ZoneInfo("UTC"))
    errors: dict[str, str] = {}
    notice = ""
    links: list[dict[str, str]] = []
    status = 200
    posted_id = form.form_id.data if form.is_submitted() else None
    form.form_id.data = form_id(posted_id)
    if not form.is_submitted() and request.args.get("topic", "").strip().lower() in by_name:
        # "Ask for a callback again" from a request that ended: the same topic, chosen already.
        form.topic.data = request.args["topic"].strip().lower()
    if form.is_submitted():
        form.validate()
        queue = by_name.get((form.topic.data or "").strip().lower())
        # Only the CSRF token is judged by the form; every field is checked by the service below.
        if form.csrf_token.errors:
            errors["form"] = gettext(
                "This form has expired, so it wasn't sent. Everything you typed is still here: please send it again."
            )
            status = 400
        else:
            try:
                not_before = _chosen_slot(form)
            except DomainError as error:
                _add(errors, error, policy)
                not_before = None
            data = service.CallbackInput(
                phone=form.phone.data or "",
                name=form.name.data or "",
                topic=form.topic.data or "",
                consent=bool(form.consent.data),
                order_number=form.order_number.data,
                not_before=not_before,
                region=form.country.data,
                source="web",
                client_ip=request.remote_addr,
                language=words.language(),
                form_id=form.form_id.data if form.form_id.data == posted_id else None,
                own_refs=frozenset(_mine()),
            )
            for problem in service.problems(session(), policy, data, now):
                _add(errors, problem, policy, queue, not_before)
            if errors:
                status = 422
            else:
                try:
                    req, created = service.request_callback(session(), clock(), policy, limits(), data)
                except LimitExceeded as error:
                    errors["form"] = _limit_words(error, zone, now)
                    links = _own_active(_number(data, policy))
                    status = error.status
                except DomainError as error:
                    _add(errors, error, policy, queue, not_before)
                    status = error.status
                else:
                    asked = _asked(req.not_before if created else data.not_before)
                    if created:
                        _remember(req.ref)
                        after_queued(req)
                        return redirect(url_for("callback.status", ref=req.ref), code=303)
                    if service.made_by(req, data):
                        # This browser made it (its cookie says so, or it posted the same form again, as
                        # a double click does): straight to it, offering what was chosen this time.
                        _remember(req.ref)
                        return redirect(url_for("callback.status", ref=req.ref, asked=asked), code=303)
                    topic = words.topic_lower(req.queue.name, req.queue.display_name)
                    if text_duplicate(req, asked, words.language()):
                        notice = gettext(
                            "You already asked us to call about %(topic)s: we've texted that request's link "
                            "to your phone. Open it to see where you are in line, or to change it.",
                            topic=topic,
                        )
                    else:
                        notice = gettext(
                            "You already asked us to call about %(topic)s, so we'll call as planned. Follow, "
                            "change or cancel it from the page you were shown when you asked.",
                            topic=topic,
                        )
                    status = 409
    summary = [(name, errors[name]) for name in FIELD_ORDER if name in errors and name != "form"]
    chosen = by_name.get(form.topic.data or "")
    bookable = {q.name: service.callback_times(q, now) for q in queues}
    # Before a topic is chosen, every topic's times: the page's script shows the chosen topic's own, but
    # without JavaScript the list cannot follow the topic, and "Choose a topic first" would make booking
    # a time take two posts. A time the chosen topic does not offer is refused, its own times then listed.
    any_topic = sorted({slot for times in bookable.values() for slot in times})
    return (
        render_template(
            "callback/form.html",
            form=form,
            errors=errors,
            summary=summary,
            notice=notice,
            links=links,
            aria=lambda name, hint=None: _aria(errors, name, hint),
            queues=_queue_cards(queues, now),
            times=_by_day(bookable[chosen.name], _zone(chosen)) if chosen else _by_day(any_topic, zone),
            slots={q.name: _by_day(bookable[q.name], _zone(q)) for q in queues},
            examples=words.phone_examples(policy),
            zone_name=words.zone_name(zone),
            zone_told=words.zone_told(),
            zone=zone.key,
            page_lang=words.language(),
        ),
        status,
    )


def _number(data: service.CallbackInput, policy: PhonePolicy) -> str | None:
    try:
        return phones.normalize(data.phone, policy, data.region)
    except phones.PhoneRejected:
        return None


def _offer(req: CallbackRequest, now: datetime, zone: ZoneInfo) -> dict[str, str] | None:
    """What a later ask chose (?asked=), when it differs from this waiting request: offered to apply."""
    asked = request.args.get("asked", "")
    if req.status not in WAITING or not asked:
        return None
    if asked == "asap":
        if req.not_before is None or req.not_before <= now:
            return None
        return {"when": "asap", "slot": "", "words": gettext("Call me as soon as possible instead")}
    at: datetime | None
    try:
        parsed = datetime.fromisoformat(asked)
        # In UTC at once (naive times are no answer of ours): an offset that puts the time beyond
        # year 9999 is no time anyone could book, not a reason to fail the page.
        at = parsed.astimezone(UTC) if parsed.tzinfo is not None else None
    except (ValueError, OverflowError):
        return None
    if at is None:
        return None
    same = req.not_before is not None and abs(req.not_before - at) < timedelta(minutes=1)
    if at <= now or same:
        return None
    return {
        "when": "slot",
        "slot": at.isoformat(),
        "words": gettext("Call me on %(when)s instead", when=words.when(at, zone)),
    }


def _headline(req: CallbackRequest, scheduled: datetime | None, zone: ZoneInfo, now: datetime) -> str:
    hours = req.queue.business_hours
    if req.status == "queued" and scheduled is None and not req.hold_call_sid and not hours.is_open(now):
        # "You're in line" would read as "any minute now": the wait counts from the opening.
        opening = hours.next_open(now)
        if opening is not None:
            return gettext(
                "You're in line. We're closed right now: we open on %(when)s, and we'll call you when it's "
                "your turn after that.",
                when=words.when(opening, zone),
            )
    if scheduled is not None and req.status == "queued":
        if req.not_before is not None and req.not_before >= scheduled:
            return gettext("You're booked: we'll call you on %(when)s.", when=words.when(scheduled, zone))
        # Not their booking: we leave a little time between calls to one number.
        return gettext("We'll call you on %(when)s.", when=words.when(scheduled, zone))
    if scheduled is not None and req.status == "retry_wait":
        when = words.when(scheduled, zone)
        if (said := RETRY_WORDS_AT.get(req.outcome or "")) is not None:
            return str(said) % {"when": when}
        return gettext("We tried to call you but couldn't get through. We'll try again on %(when)s.", when=when)
    return status_words(req)


def _number_shown(req: CallbackRequest) -> str:
    """The number we will call, as the status page shows it: whole to the browser that made the request
    (it typed it: a typo must be seen, "(202) 555-0340" for "(201) ..."), else masked (the page's link
    may be forwarded or shared)."""
    if not req.phone.startswith("+"):
        return req.phone
    return phones.display(req.phone) if req.ref in _mine() else phones.mask(req.phone)


def _status_page(req: CallbackRequest, errors: dict[str, str] | None = None, code: int = 200) -> ResponseReturnValue:
    now = clock().now()
    standing = service.standing(session(), req, now)
    queue = req.queue
    zone = _zone(queue)
    undo_until = service.can_undo_cancel(req, now)
    return (
        render_template(
            "callback/status.html",
            req=req,
            words=_headline(req, standing.scheduled_for, zone, now),
            topic=words.topic(queue.name, queue.display_name),
            scheduled=words.when(standing.scheduled_for, zone) if standing.scheduled_for else None,
            place=words.place(standing.position),
            wait=words.wait(standing.estimated_wait_seconds) if standing.estimated_wait_seconds is not None else None,
            standing=standing,
            active=req.status in ACTIVE,
            waiting=req.status in WAITING,
            cancelable=req.status in ("queued", "retry_wait", "dialing"),
            undo_until=words.clock(undo_until, zone) if undo_until else None,
            undo_at_one=undo_until is not None and words.at_one(undo_until, zone),
            undo_form=CancelForm(),
            offer=_offer(req, now, zone),
            masked=_number_shown(req),
            attempts=attempt_lines(req, zone),
            queue=queue,
            zone=zone.key,
            zone_name=words.zone_name(zone),
            zone_told=words.zone_told(),
            reschedule_form=RescheduleForm(),
            times=_times(queue, now, zone),
            booked=req.not_before.astimezone(UTC).isoformat() if req.not_before else "",
            errors=errors or {},
            page_lang=words.language(),
        ),
        code,
    )


def _find(ref: str) -> CallbackRequest | None:
    try:
        return service.get(session(), ref)
    except DomainError:
        return None


def _not_found() -> ResponseReturnValue:
    return render_template("callback/not_found.html", page_lang=words.language()), 404


def _expired_page(req: CallbackRequest) -> ResponseReturnValue:
    return _status_page(req, {"form": gettext("This page has expired. Please try again.")}, 400)


@bp.get("/callback/<ref>")
def status(ref: str) -> ResponseReturnValue:
    """The request's status in words, place in line and wait, with cancel and reschedule."""
    req = _find(ref)
    return _not_found() if req is None else _status_page(req)


@bp.get("/callback/<ref>/undo")
@bp.get("/callback/<ref>/reschedule")
def back_to_status(ref: str) -> ResponseReturnValue:
    """A form's address opened again (a bookmark, a reload after the browser forgot the post): the
    status page, not a bare 405."""
    return redirect(url_for("callback.status", ref=ref), code=303)


@bp.get("/callback/<ref>/cancel")
def confirm_cancel(ref: str) -> ResponseReturnValue:
    """Ask before canceling: what canceling means, and that it can be undone for a few minutes."""
    req = _find(ref)
    if req is None:
        return _not_found()
    if req.status not in ("queued", "retry_wait", "dialing"):
        return redirect(url_for("callback.status", ref=ref), code=303)
    minutes = int(service.UNDO_CANCEL.total_seconds() // 60)
    return render_template(
        "callback/cancel.html",
        req=req,
        topic=words.topic_lower(req.queue.name, req.queue.display_name),
        undo_words=ngettext(
            "You can undo this for %(num)d minute, and keep your place in line.",
            "You can undo this for %(num)d minutes, and keep your place in line.",
            minutes,
        ),
        cancel_form=CancelForm(),
        page_lang=words.language(),
    )


@bp.post("/callback/<ref>/cancel")
def cancel(ref: str) -> ResponseReturnValue:
    """Cancel from the confirmation page."""
    req = _find(ref)
    if req is None:
        return _not_found()
    if not CancelForm().validate_on_submit():
        return _expired_page(req)
    try:
        service.cancel(session(), clock(), ref, current_app.extensions["telephony"])
    except Conflict as error:
        return _status_page(req, {"form": _cannot(req, error)}, 409)
    return redirect(url_for("callback.status", ref=ref), code=303)


@bp.post("/callback/<ref>/undo")
def undo_cancel(ref: str) -> ResponseReturnValue:
    """Take a cancel back, within a few minutes: the request waits again in its old place."""
    req = _find(ref)
    if req is None:
        return _not_found()
    if not CancelForm().validate_on_submit():
        return _expired_page(req)
    try:
        service.undo_cancel(session(), clock(), ref, limits())
    except Conflict as error:
        return _status_page(req, {"form": _undo_refused(error)}, 409)
    wake_dispatcher()  # waiting again: the dispatcher may call it (no second confirmation text)
    return redirect(url_for("callback.status", ref=ref), code=303)


def _undo_refused(error: Conflict) -> str:
    """Why a cancel cannot be undone, in the page's language."""
    if error.code == "asked_again":
        return gettext("This number has asked about this topic again since, so this request stays canceled.")
    if error.code == "do_not_call":
        return gettext(
            "This number is on our do-not-call list now, so this request stays canceled and we won't call it."
        )
    if error.code == "too_many_active":
        return gettext(
            "This number already has as many callbacks waiting as it may, so this request stays canceled. "
            "You can ask again once one of them is done or canceled."
        )
    return gettext("This cancel can no longer be undone. Please ask for a new callback.")


def _cannot(req: CallbackRequest, error: Conflict) -> str:
    if req.status in {"dialing", "connecting", "connected"}:
        return gettext("We're calling you right now, so this request can't be changed any more.")
    return gettext("This request can no longer be changed.") if error.code.startswith("cannot") else error.message


@bp.post("/callback/<ref>/reschedule")
def reschedule(ref: str) -> ResponseReturnValue:
    """Pick another time from the status page."""
    req = _find(ref)
    if req is None:
        return _not_found()
    form = RescheduleForm()
    if not form.validate_on_submit():  # only the CSRF token can fail
        return _expired_page(req)
    chosen = None
    try:
        chosen = _chosen_slot(form)
        service.reschedule(session(), clock(), ref, chosen)
    except Conflict as error:
        return _status_page(req, {"form": _cannot(req, error)}, error.status)
    except DomainError as error:
        errors: dict[str, str] = {}
        _add(errors, error, phone_policy(), req.queue, chosen)
        return _status_page(req, errors, error.status)
    wake_dispatcher()  # "as soon as possible" (or an earlier time) may be due now
    return redirect(url_for("callback.status", ref=ref), code=303)


@bp.get("/")
def home() -> ResponseReturnValue:
    """The site's front door is the callback form."""
    return redirect(url_for("callback.request_form"))
