"""The supervisors' requests pages: a filtered list of every request, one request in full, and the
three things a supervisor may do to one (cancel, call next, move to another queue).

Thin views on the `admin` blueprint: they read the filters or a form, call callback.service (which
owns the rules and writes each action's audit line with the change), and show its refusal on the page.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from sqlalchemy import ColumnElement, and_, func, or_, select
from wtforms.fields.choices import SelectChoice

from agents import audit, service
from agents.admin import SUPERVISOR, _not_found, bp, local_time
from agents.admin_forms import MoveForm, RequestFilterForm
from agents.auth import current_staff, staff_required
from agents.desk import STATUS_WORDS
from agents.models import Queue
from agents.staff import StaffUser
from callback import line
from callback import service as requests
from callback.models import ACTIVE, ASKS_KEPT_FOR_LIMITS, TRANSITIONS, WAITING, CallbackRequest
from core import phone as phones
from core.clock import DAYS_IN_REACH, in_reach
from core.errors import DomainError, NotFound
from core.web import clock, session, settings, wake_dispatcher
from ivr.models import IvrSession
from recordings import service as recordings

# Newest first, this many to a page.
PAGE_SIZE = 50
# A search of digits only (once spaces, dashes, dots and brackets are dropped) is the end of a phone number.
_SEPARATORS = re.compile(r"[\s\-.()]+")
_DIGITS = re.compile(r"^\+?\d+$")
MIN_DIGITS, MAX_DIGITS = 2, 15
# "active" stands for every status of a request still in the line or on a call.
ACTIVE_FILTER = "active"
STATUS_LABELS = {
    "queued": "Queued",
    "retry_wait": "Waiting to retry",
    "dialing": "Dialing",
    "connecting": "Connecting",
    "connected": "Connected",
    "completed": "Completed",
    "failed": "Failed",
    "canceled": "Canceled",
    "expired": "Expired",
}


# One way to name a status on every staff page (the list, a request, the agents, the board).
@bp.app_template_filter("request_status")
def request_status(status: str) -> str:
    """A request's status as the staff pages name it: 'retry_wait' -> 'Waiting to retry'."""
    return STATUS_LABELS.get(status, status.replace("_", " ").capitalize())


@bp.app_template_filter("agent_status")
def agent_status(status: str) -> str:
    """An agent's status as the staff pages name it: 'wrap_up' -> 'Wrapping up'."""
    return STATUS_WORDS.get(status, status.replace("_", " ").capitalize())


@bp.app_template_filter("words")
def words(value: str | None) -> str:
    """A stored code as a person reads it: 'customer_hung_up' -> 'Customer hung up'; nothing -> '—'."""
    return value.replace("_", " ").capitalize() if value else "—"


# The staff actions this page writes to the audit log, and the agent's wrap-up: a request's history.
HISTORY_ACTIONS = ("request.cancel", "request.prioritise", "request.move", "request.disposition")


@dataclass(frozen=True)
class Search:
    """What the search box asked for: the end of a phone number, a reference, or nothing (and why not)."""

    digits: str | None = None
    ref: str | None = None
    error: str = ""


def read_search(text: str) -> Search:
    """Judge the search box: 2 to 15 digits are a phone's last digits, anything else a whole reference."""
    text = text.strip()
    if not text:
        return Search()
    compact = _SEPARATORS.sub("", text)
    if _DIGITS.fullmatch(compact):
        digits = compact.lstrip("+")
        if len(digits) < MIN_DIGITS:
            return Search(error="Type at least 2 digits of the phone number, or a whole reference.")
        if len(digits) > MAX_DIGITS:
            return Search(error="A phone number has at most 15 digits.")
        return Search(digits=digits)
    return Search(ref=text)


# --- the list -------------------------------------------------------------------------------------


@bp.get("/requests")
@staff_required(SUPERVISOR)
def find_request() -> ResponseReturnValue:
    """Every request, newest first, filtered by status, queue, dates and the phone's last digits.

    A whole reference opens its request. Repeated asks (`duplicate_ask`: an ask that found the
    number's active request, kept canceled only so the limits count it) are hidden unless asked for.
    """
    form = RequestFilterForm(formdata=request.args)
    queues = service.list_queues(session())
    form.queue.choices = [SelectChoice("", "Any queue")] + [SelectChoice(q.name, q.display_name) for q in queues]
    form.status.choices = _status_choices({})
    errors: dict[str, str] = {}
    if not form.validate():
        errors = {name: _filter_error(name) for name, messages in form.errors.items() if messages}
    search = read_search(form.q.data or "")
    if search.error:
        errors["q"] = search.error
    code = 422 if errors else 200
    if search.ref is not None:
        try:
            found = requests.get(session(), search.ref)
        except NotFound:
            errors["q"] = "No request has that reference. A reference is the whole code the customer was given."
        else:
            return redirect(url_for("admin.request_detail", request_id=found.id), code=303)
    for name in ("date_from", "date_to"):
        day = getattr(form, name).data
        if name not in errors and day is not None and not in_reach(day):
            errors[name] = f"Please give a date {DAYS_IN_REACH}."
            code = 422
    first = form.date_from.data if "date_from" not in errors else None
    last = form.date_to.data if "date_to" not in errors else None
    if first is not None and last is not None and last < first:
        errors["date_to"] = "This date is before the first one."
        code = 422
    if errors:
        return _list_page(form, errors, [], {}, 0, 1, 1, search), code
    conditions = _conditions(form, search, first, last, queues)
    counts = _counts_by_status(conditions)
    form.status.choices = _status_choices(counts)
    status = form.status.data or ""
    total = sum(n for s, n in counts.items() if _status_matches(s, status))
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(_page_number(), pages)
    rows = _page_of(conditions + _status_conditions(status), page) if total else []
    return _list_page(form, {}, rows, counts, total, page, pages, search)


def _filter_error(name: str) -> str:
    if name in {"date_from", "date_to"}:
        return "Please give a date such as 2026-11-23."
    return "Please choose from the list."


def _status_choices(counts: dict[str, int]) -> list[SelectChoice]:
    """Any status, every active one, then each status, with how many requests match the other filters."""

    def label(text: str, n: int | None) -> str:
        return text if n is None else f"{text} ({n})"

    known = bool(counts)
    active = sum(counts.get(s, 0) for s in ACTIVE) if known else None
    return [
        SelectChoice("", label("Any status", sum(counts.values()) if known else None)),
        SelectChoice(ACTIVE_FILTER, label("Active", active)),
        *(SelectChoice(s, label(STATUS_LABELS[s], counts.get(s, 0) if known else None)) for s in TRANSITIONS),
    ]


def _status_matches(status: str, wanted: str) -> bool:
    return not wanted or status == wanted or (wanted == ACTIVE_FILTER and status in ACTIVE)


def _status_conditions(wanted: str) -> list[ColumnElement[bool]]:
    if wanted == ACTIVE_FILTER:
        return [CallbackRequest.status.in_(ACTIVE)]
    return [CallbackRequest.status == wanted] if wanted else []


def _made_on_days(first: date | None, last: date | None, queues: Sequence[Queue]) -> ColumnElement[bool] | None:
    """Requests made from the day `first` to the day `last` (either may be open), each day in its own
    queue's time zone, as the figures count days and as each row's time is shown (queues of one zone
    share one range)."""
    if first is None and last is None:
        return None
    r = CallbackRequest
    by_zone: dict[ZoneInfo, list[int]] = {}
    for queue in queues:
        by_zone.setdefault(queue.business_hours.zone, []).append(queue.id)
    ranges = []
    for zone, ids in by_zone.items():
        made: list[ColumnElement[bool]] = [r.queue_id.in_(ids)]
        if first is not None:
            made.append(r.created_at >= datetime.combine(first, time(), tzinfo=zone))
        if last is not None:
            made.append(r.created_at < datetime.combine(last + timedelta(days=1), time(), tzinfo=zone))
        ranges.append(and_(*made))
    return or_(*ranges)


def _conditions(
    form: RequestFilterForm, search: Search, first: date | None, last: date | None, queues: Sequence[Queue]
) -> list[ColumnElement[bool]]:
    """The filters other than the status, as SQL conditions."""
    r = CallbackRequest
    conditions: list[ColumnElement[bool]] = []
    if not form.duplicates.data:
        conditions.append(or_(r.outcome.is_(None), r.outcome.not_in(ASKS_KEPT_FOR_LIMITS)))
    queue_ids = {q.name: q.id for q in queues}
    if form.queue.data:
        conditions.append(r.queue_id == queue_ids[form.queue.data])
    if search.digits:
        conditions.append(r.phone.endswith(search.digits, autoescape=True))
    made_on = _made_on_days(first, last, queues)
    if made_on is not None:
        conditions.append(made_on)
    return conditions


def _counts_by_status(conditions: list[ColumnElement[bool]]) -> dict[str, int]:
    """How many requests of each status match the filters: one grouped count."""
    query = select(CallbackRequest.status, func.count()).where(*conditions).group_by(CallbackRequest.status)
    return {status: int(n) for status, n in session().execute(query).all()}


def _page_number() -> int:
    text = request.args.get("page", "1")
    return max(1, min(int(text), 10**6)) if text.isdigit() else 1


def _page_of(conditions: list[ColumnElement[bool]], page: int) -> list[CallbackRequest]:
    """One page of the matching requests, newest first."""
    r = CallbackRequest
    query = (
        select(r)
        .where(*conditions)
        .order_by(r.created_at.desc(), r.id.desc())
        .offset((page - 1) * PAGE_SIZE)
        .limit(PAGE_SIZE)
    )
    return list(session().scalars(query))


def _list_page(
    form: RequestFilterForm,
    errors: dict[str, str],
    rows: list[CallbackRequest],
    counts: dict[str, int],
    total: int,
    page: int,
    pages: int,
    search: Search,
) -> str:
    now = clock().now()
    found = [
        {
            "req": req,
            "phone": phones.display(req.phone),
            "created": local_time(req.created_at, req.queue.business_hours.zone, now),
        }
        for req in rows
    ]
    kept: dict[str, Any] = {key: value for key, value in request.args.items() if key != "page" and value}
    filtered = any(key in kept for key in ("q", "status", "queue", "date_from", "date_to"))
    return render_template(
        "admin/requests.html",
        form=form,
        errors=errors,
        found=found,
        total=total,
        page=page,
        pages=pages,
        first=(page - 1) * PAGE_SIZE + 1,
        page_url=lambda n: url_for("admin.find_request", **kept, page=n),
        filtered=filtered,
        digits=search.digits,
        days_in=_days_in(),
    )


def _days_in() -> str:
    """What the day filters count days in: the queues' zone, or each queue's own when they differ."""
    zones = {q.business_hours.zone.key for q in service.list_queues(session())}
    return f"Days in {zones.pop()} time." if len(zones) == 1 else "Days in each queue's own time zone."


# --- one request ----------------------------------------------------------------------------------


@bp.get("/requests/<int:request_id>")
@staff_required(SUPERVISOR)
def request_detail(request_id: int) -> ResponseReturnValue:
    """One request in full: customer, attempts and their agent legs, the phone menu's steps, wrap-up,
    what staff did to it, and the actions its state allows."""
    req = _request(request_id)
    if req is None:
        return _not_found("request")
    return _detail_page(req)


def _request(request_id: int) -> CallbackRequest | None:
    return session().get(CallbackRequest, request_id) if 0 < request_id <= service.MAX_ID else None


def _detail_page(req: CallbackRequest, errors: dict[str, str] | None = None, code: int = 200) -> ResponseReturnValue:
    now = clock().now()
    zone = req.queue.business_hours.zone
    ivr = _ivr_session(req)
    queues = service.list_queues(session())
    holding = bool(req.hold_call_sid) and req.status in (*WAITING, "dialing")
    move = MoveForm(formdata=None)
    # No queue chosen until the supervisor picks one: a stray click on "Move" moves nothing.
    others = [SelectChoice(q.name, q.display_name) for q in queues if q.id != req.queue_id]
    move.queue.choices = [SelectChoice("", "Choose a queue"), *others] if others else []
    writer = session().get(StaffUser, req.disposed_by_staff_id) if req.disposed_by_staff_id else None
    return (
        render_template(
            "admin/request.html",
            req=req,
            when=lambda moment: local_time(moment, zone, now),
            # A call's steps are seconds apart: the ring, the answer, the acceptance read to the second.
            second=lambda moment: moment.astimezone(zone).strftime("%H:%M:%S") if moment else "",
            ivr=ivr,
            phone=phones.display(req.phone),
            steps=[_step_words(step) for step in ivr.get_steps()] if ivr else [],
            history=_history(req),
            queue_names={q.name: q.display_name for q in queues},
            disposed_by=writer.name if writer else None,
            move=move,
            # The buttons this state allows (callback.service judges again, and says why, on a post).
            may_cancel=req.status in ACTIVE and req.status not in {"connecting", "connected"} and not holding,
            waiting=req.status in WAITING,
            holding=holding,
            booked=req.not_before is not None and req.not_before > now,
            # Its recordings: the stored ones played and downloaded through recordings.access (audited
            # there); the others said to be still at Twilio, being copied or failed to copy.
            recordings=recordings.for_request(session(), req.id),
            errors=errors or {},
        ),
        code,
    )


def _history(req: CallbackRequest) -> list[audit.AuditEvent]:
    """What staff (and the agent's wrap-up) did to this request, oldest first."""
    query = (
        select(audit.AuditEvent)
        .where(audit.AuditEvent.action.in_(HISTORY_ACTIONS), audit.AuditEvent.target == f"request {req.id}")
        .order_by(audit.AuditEvent.at, audit.AuditEvent.id)
    )
    return list(session().scalars(query))


def _ivr_session(req: CallbackRequest) -> IvrSession | None:
    """The phone-menu session that made or joined this request, if any (named in its IVR context)."""
    try:
        context = json.loads(req.ivr_context or "null")
    except ValueError:
        return None
    ivr_id = context.get("ivr_session") if isinstance(context, dict) else None
    return session().get(IvrSession, ivr_id) if isinstance(ivr_id, int) else None


def _step_words(step: dict[str, Any]) -> dict[str, Any]:
    """One menu step for the page: when, where, and whatever else was recorded, as 'key: value'."""
    shown = {"at", "node", "kind"}
    details = "; ".join(f"{key}: {value}" for key, value in step.items() if key not in shown and value is not None)
    try:
        at = datetime.fromisoformat(str(step.get("at")))
    except ValueError:
        at = None
    return {
        "at": at,
        "node": str(step.get("node", "")),
        "kind": str(step.get("kind", "")),
        "details": details,
    }


# --- actions --------------------------------------------------------------------------------------


def _who() -> dict[str, Any]:
    """Who acts and from where, for the audit line the service writes."""
    return {"actor": current_staff(), "address": request.remote_addr}


def _refused(req: CallbackRequest, where: str, error: DomainError) -> ResponseReturnValue:
    """Show a service's refusal next to the action it refuses."""
    session().rollback()
    session().refresh(req)
    return _detail_page(req, {where: error.message}, error.status)


@bp.post("/requests/<int:request_id>/cancel")
@staff_required(SUPERVISOR)
def cancel_request(request_id: int) -> ResponseReturnValue:
    """Cancel an active request, hanging up a call still ringing; refused while the customer is on the line."""
    req = _request(request_id)
    if req is None:
        return _not_found("request")
    try:
        requests.staff_cancel(session(), clock(), req.id, current_app.extensions["telephony"], **_who())
    except DomainError as error:
        return _refused(req, "cancel", error)
    flash(f"Request {req.id} ({req.name}) is canceled; nobody will call them for it.")
    return redirect(url_for("admin.request_detail", request_id=req.id), code=303)


@bp.post("/requests/<int:request_id>/call-next")
@staff_required(SUPERVISOR)
def call_next(request_id: int) -> ResponseReturnValue:
    """Put a waiting request first in its queue's line and wake the dispatcher."""
    req = _request(request_id)
    if req is None:
        return _not_found("request")
    try:
        requests.prioritise(session(), clock(), req.id, **_who())
    except DomainError as error:
        return _refused(req, "call_next", error)
    wake_dispatcher()
    queue, now = req.queue, clock().now()
    verdict = line.may_call(session(), req, now, line.Bounds.from_settings(settings()))
    if verdict.until is not None and queue.business_hours.is_open(now):
        # The bounds a customer can trust still hold: say so, or the wait looks like a fault.
        flash(
            f"{req.name} is first in line for {queue.display_name}. We called this number a moment ago, and "
            f"leave at least {settings().min_seconds_between_calls // 60 or 1} minutes between calls to one "
            f"number: the next free agent calls them from {local_time(verdict.until, queue.business_hours.zone, now)}."
        )
    elif queue.business_hours.is_open(now):
        flash(f"{req.name} is first in line for {queue.display_name}: the next free agent calls them.")
    else:
        flash(
            f"{req.name} is first in line for {queue.display_name}, which is closed now: "
            "they are called first when it opens."
        )
    return redirect(url_for("admin.request_detail", request_id=req.id), code=303)


@bp.post("/requests/<int:request_id>/move")
@staff_required(SUPERVISOR)
def move_request(request_id: int) -> ResponseReturnValue:
    """Move a waiting request to another queue, where it keeps its place by arrival time."""
    req = _request(request_id)
    if req is None:
        return _not_found("request")
    form = MoveForm()
    form.queue.choices = [SelectChoice(q.name, q.display_name) for q in service.list_queues(session())]
    if not form.validate_on_submit():
        return _detail_page(req, {"move": "Please choose a queue."}, 422)
    try:
        requests.move(session(), clock(), req.id, form.queue.data or "", **_who())
    except DomainError as error:
        return _refused(req, "move", error)
    wake_dispatcher()  # an agent of the new queue may be free
    flash(f"Request {req.id} ({req.name}) is now in {req.queue.display_name}, in its place by arrival time.")
    return redirect(url_for("admin.request_detail", request_id=req.id), code=303)
