"""The customer's pages: the callback form and the request's status page."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask import session as browser
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice

from agents.models import Queue
from agents.service import list_queues
from callback import service
from callback.api import after_queued, limits, refuse_duplicate
from callback.forms import CallbackForm, CancelForm, RescheduleForm
from callback.models import ACTIVE, WAITING, CallbackRequest
from core import phone as phones
from core.errors import Conflict, DomainError, InvalidInput
from core.web import clock, phone_policy, session

bp = Blueprint("callback", __name__)

# The browser's signed session cookie remembers the requests it made, so asking again from the same
# browser leads back to the status page; anyone else gets no reference (see refuse_duplicate).
MINE = "mine"
MINE_KEPT = 10


def _remember(ref: str) -> None:
    """Note in this browser's signed cookie that it made the request `ref`."""
    refs = [r for r in browser.get(MINE, []) if isinstance(r, str) and r != ref]
    browser[MINE] = [*refs, ref][-MINE_KEPT:]


def _made_here(ref: str) -> bool:
    """Whether this browser made the request `ref`."""
    refs = browser.get(MINE, [])
    return isinstance(refs, list) and ref in refs


STATUS_WORDS = {
    "queued": "You're in line. We'll call you when it's your turn.",
    "retry_wait": "We tried to call you but couldn't get through. We'll try again.",
    "dialing": "We're calling you now: answer, then press 1 to talk to an agent.",
    "connecting": "We're calling you now: answer, then press 1 to talk to an agent.",
    "connected": "You're talking with one of our agents.",
    "completed": "All done: you spoke with one of our agents. Thank you!",
    "failed": "We couldn't reach you after several tries, so we've stopped calling. "
    "If you still need us, please ask for a callback again.",
    "canceled": "You canceled this callback. We won't call.",
    "expired": "This request expired before we could reach you. If you still need us, please ask again.",
}

# Where the last call's outcome changes what the headline must say, so it agrees with the history.
OUTCOME_WORDS = {
    ("queued", "agent_missed"): "You answered, but our agent couldn't take your call. "
    "You're at the front of the line and we'll call you again shortly.",
    ("failed", "agent_missed"): "You answered, but none of our agents could take your call, and we've "
    "stopped calling so as not to disturb you again. Please ask for a callback again when it suits you.",
    ("failed", "max_attempts"): "We've called you as many times as we may for this request, so we've "
    "stopped calling. If you still need us, please ask for a callback again.",
    ("failed", "daily_call_limit"): "We've already called this number several times today, so we've "
    "stopped calling it for now. Please ask again tomorrow, or call us.",
    ("failed", "invalid_number"): "We couldn't dial this number. Please check it and ask again.",
    ("canceled", "declined"): "You told us not to connect you, so we won't call again.",
    ("canceled", "do_not_call"): "This number is on our do-not-call list, so we won't call it.",
    ("canceled", "hung_up_on_hold"): "You hung up while holding, so we won't call back.",
    ("canceled", "caller_hung_up"): "You hung up before an agent picked up, so we won't call back.",
}

ATTEMPT_WORDS = {
    "completed": "you talked with an agent",
    "busy": "your line was busy",
    "no-answer": "nobody answered",
    "failed": "the call could not get through",
    "machine": "we reached voicemail and left a message",
    "no_confirmation": "you answered, but we didn't hear you press 1",
    "declined": "you told us not to connect you",
    "customer_hung_up": "the call ended before an agent picked up",
    "agent_missed": "you answered, but our agent couldn't take the call",
    "canceled": "you canceled while we were calling",
    "invalid_number": "the number could not be dialled",
    "not_placed": "our phone service was briefly unavailable; this call was not made",
    "hung_up_on_hold": "you hung up while holding",
}


def status_words(req: CallbackRequest) -> str:
    """The status page's headline: the request's state, in the words its call history bears out."""
    if req.status == "connecting" and req.call_attempts and req.call_attempts[-1].confirmed_at is not None:
        return "You pressed 1: we're putting you through to an agent now."
    return OUTCOME_WORDS.get((req.status, req.outcome or ""), STATUS_WORDS[req.status])


def _calls_to_customer(req: CallbackRequest) -> list[Any]:
    """The attempts the customer lived through: calls we placed to them, and transfers from the menu
    (an agent-first attempt whose agent never accepted rang nobody but the agent)."""
    return [a for a in req.call_attempts if a.dialled_at is not None or (a.answered_at and not a.agent_first)]


def attempt_lines(req: CallbackRequest) -> list[str]:
    """What happened on each call, in words, in the queue's local time."""
    zone = req.queue.business_hours.zone
    lines = []
    for n, attempt in enumerate(_calls_to_customer(req), start=1):
        when = attempt.created_at.astimezone(zone).strftime("%a %d %b, %H:%M")
        if attempt.ended_at is None:
            waiting = attempt.answered_at is not None and attempt.confirmed_at is None
            lines.append(
                f"Call {n} ({when}): " + ("answered, waiting for you to press 1" if waiting else "in progress")
            )
        else:
            lines.append(f"Call {n} ({when}): {ATTEMPT_WORDS.get(attempt.outcome or '', attempt.outcome or 'ended')}")
    return lines


def _slot_data(queues: Sequence[Queue], now: datetime) -> dict[str, list[dict[str, str]]]:
    """Bookable slots per topic, labelled in the queue's local time, for the form's time picker."""
    return {queue.name: _slot_options(queue, now) for queue in queues}


def _slot_options(queue: Queue, now: datetime) -> list[dict[str, str]]:
    """A queue's bookable slots as value (UTC, ISO 8601) and label (the queue's local time)."""
    zone = queue.business_hours.zone
    return [
        {"value": slot.isoformat(), "label": slot.astimezone(zone).strftime("%a %d %b, %H:%M %Z")}
        for slot in service.slots(queue, now)
    ]


def _chosen_slot(form: FlaskForm) -> datetime | None:
    if form.when.data != "slot":
        return None
    try:
        parsed = datetime.fromisoformat(form.slot.data or "")
    except ValueError as exc:
        raise InvalidInput("slot_required", "Please choose a time for us to call.", "slot") from exc
    return parsed


def _queue_cards(queues: Sequence[Queue], now: datetime) -> list[dict[str, Any]]:
    cards = []
    for queue in queues:
        cards.append(
            {
                "name": queue.name,
                "display_name": queue.display_name,
                "open_now": queue.business_hours.is_open(now),
                "hours": queue.business_hours.spec(),
                "timezone": queue.timezone,
                "wait": service.queue_wait(session(), queue, now),
            }
        )
    return cards


def _aria(errors: dict[str, str], name: str, hint: str | None) -> dict[str, str]:
    """aria-describedby / aria-invalid for a field, so screen readers announce hints and errors."""
    described = [x for x in (hint, f"{name}-error" if name in errors else None) if x]
    attrs = {"aria-describedby": " ".join(described)} if described else {}
    if name in errors:
        attrs["aria-invalid"] = "true"
    return attrs


@bp.route("/callback", methods=["GET", "POST"])
def request_form() -> ResponseReturnValue:
    """Show the form; on a valid post, queue the request and go to its status page."""
    now = clock().now()
    policy = phone_policy()
    form = CallbackForm()
    form.country.choices = [SelectChoice(code, label) for code, label in phones.country_choices(policy)]
    queues = list_queues(session())
    form.topic.choices = [SelectChoice("", "Choose a topic")] + [SelectChoice(q.name, q.display_name) for q in queues]
    errors: dict[str, str] = {}
    status = 200
    if form.is_submitted():
        form.validate()
        # Only the CSRF token is judged by the form; every field is checked by the service below.
        if form.csrf_token.errors:
            errors["form"] = "This form has expired. Please submit it again."
            status = 400
        else:
            try:
                req, created = service.request_callback(
                    session(),
                    clock(),
                    policy,
                    limits(),
                    service.CallbackInput(
                        phone=form.phone.data or "",
                        name=form.name.data or "",
                        topic=form.topic.data or "",
                        consent=bool(form.consent.data),
                        order_number=form.order_number.data,
                        not_before=_chosen_slot(form),
                        region=form.country.data,
                        source="web",
                        client_ip=request.remote_addr,
                    ),
                )
            except DomainError as error:
                errors[error.field or "form"] = error.message
                status = error.status
            else:
                if created:
                    _remember(req.ref)
                    after_queued(req)
                    return redirect(url_for("callback.status", ref=req.ref), code=303)
                if _made_here(req.ref):
                    return redirect(url_for("callback.status", ref=req.ref), code=303)
                refusal = refuse_duplicate(req)
                errors["form"] = refusal.message
                status = refusal.status
    return (
        render_template(
            "callback/form.html",
            form=form,
            errors=errors,
            aria=lambda name, hint=None: _aria(errors, name, hint),
            queues=_queue_cards(queues, now),
            slots_json=json.dumps(_slot_data(queues, now)),
        ),
        status,
    )


def _status_page(req: CallbackRequest, errors: dict[str, str] | None = None, code: int = 200) -> ResponseReturnValue:
    now = clock().now()
    standing = service.standing(session(), req, now)
    queue = req.queue
    return (
        render_template(
            "callback/status.html",
            req=req,
            words=status_words(req),
            standing=standing,
            active=req.status in ACTIVE,
            waiting=req.status in WAITING,
            masked=phones.mask(req.phone),
            attempts=attempt_lines(req),
            queue=queue,
            local_zone=queue.business_hours.zone,
            cancel_form=CancelForm(),
            reschedule_form=RescheduleForm(),
            slots=_slot_options(queue, now),
            errors=errors or {},
        ),
        code,
    )


@bp.get("/callback/<ref>")
def status(ref: str) -> ResponseReturnValue:
    """The request's status in words, place in line and wait, with cancel and reschedule."""
    try:
        req = service.get(session(), ref)
    except DomainError:
        return render_template("callback/not_found.html"), 404
    return _status_page(req)


@bp.post("/callback/<ref>/cancel")
def cancel(ref: str) -> ResponseReturnValue:
    """Cancel from the status page."""
    try:
        req = service.get(session(), ref)
    except DomainError:
        return render_template("callback/not_found.html"), 404
    if not CancelForm().validate_on_submit():
        return _status_page(req, {"form": "This page has expired. Please try again."}, 400)
    try:
        service.cancel(session(), clock(), ref, current_app.extensions["telephony"])
    except Conflict as error:
        return _status_page(req, {"form": error.message}, 409)
    return redirect(url_for("callback.status", ref=ref), code=303)


@bp.post("/callback/<ref>/reschedule")
def reschedule(ref: str) -> ResponseReturnValue:
    """Pick another time from the status page."""
    try:
        req = service.get(session(), ref)
    except DomainError:
        return render_template("callback/not_found.html"), 404
    form = RescheduleForm()
    if not form.validate_on_submit():  # only the CSRF token can fail
        return _status_page(req, {"form": "This page has expired. Please try again."}, 400)
    try:
        service.reschedule(session(), clock(), ref, _chosen_slot(form))
    except DomainError as error:
        return _status_page(req, {error.field or "form": error.message}, error.status)
    return redirect(url_for("callback.status", ref=ref), code=303)


@bp.get("/")
def home() -> ResponseReturnValue:
    """The site's front door is the callback form."""
    return redirect(url_for("callback.request_form"))
