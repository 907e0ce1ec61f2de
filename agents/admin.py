"""The supervisors' and admins' pages: agents and their status, staff, queues, do-not-call (requests: admin_requests).

Thin views: each parses a form, calls the owning service, has an audit line written for what changed
(the staff service and callback.service's request actions write their own; the views write the rest),
and shows a service's refusal next to the field it names. CSRFProtect refuses any post without a valid
token before a view runs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice

from agents import audit, service
from agents.admin_forms import (
    STATUS_CHOICES,
    WHOLE_NUMBER,
    DncForm,
    DncRemoveForm,
    QueueForm,
    ResetPasswordForm,
    RoleForm,
    StaffForm,
    StatusForm,
)
from agents.auth import current_staff, staff_required
from agents.desk import STATUS_WORDS, agent_zone, duration_words
from agents.models import Queue
from agents.staff import StaffUser, add_staff, disable, enable, list_staff, set_password, set_role
from callback import dnc
from callback import service as callbacks
from core import phone as phones
from core.errors import Conflict, DomainError, NotFound
from core.web import clock, session, settings, wake_dispatcher

bp = Blueprint("admin", __name__, url_prefix="/admin")

# Supervisors see agents and requests; staff, queues and the do-not-call list are the admins'.
# staff_required always lets an admin in as well.
SUPERVISOR = "supervisor"
ADMIN = "admin"

UTC_ZONE = ZoneInfo("UTC")
QUEUE_SETTINGS = (
    "hours",
    "timezone",
    "caller_id",
    "max_attempts",
    "backoff_seconds",
    "expiry_hours",
    "wrap_up_seconds",
    "dial_strategy",
    "recording",
    "service_level_seconds",
    "languages",
)


# --- shared helpers -------------------------------------------------------------------------------


def _audit(action: str, target: str, details: dict[str, Any] | None = None) -> None:
    """Write one audit line for the signed-in staff member and commit it."""
    audit.record(
        session(),
        action,
        target,
        details,
        actor=current_staff(),
        address=request.remote_addr,
        at=clock().now(),
    )
    session().commit()


def _field_errors(form: FlaskForm) -> dict[str, str]:
    """The first error of each field the form itself refused (the services judge everything else)."""
    return {name: messages[0] for name, messages in form.errors.items() if messages and name != "csrf_token"}


def _field_of(error: DomainError, form: FlaskForm) -> str:
    """Where a service's refusal is shown: next to the field it names, else at the top of the form."""
    return error.field if error.field and error.field in form._fields else "form"


def _sentence(message: str) -> str:
    """A service's message as a sentence: capitalised ("unknown time zone" -> "Unknown time zone")."""
    return message[:1].upper() + message[1:]


def local_time(moment: datetime | None, zone: ZoneInfo, now: datetime) -> str:
    """A moment as a person reads it in `zone`: '10:42 EST' today, else 'Sun 22 Nov, 18:05 EST'."""
    if moment is None:
        return ""
    local = moment.astimezone(zone)
    if local.date() == now.astimezone(zone).date():
        return local.strftime("%H:%M %Z")
    return local.strftime("%a %d %b, %H:%M %Z")


def _shop_zone() -> ZoneInfo:
    """The zone times without a queue of their own are shown in: the first queue's (a shop's queues share one)."""
    first = next(iter(service.list_queues(session())), None)
    return first.business_hours.zone if first else UTC_ZONE


def _not_found(what: str) -> ResponseReturnValue:
    return render_template("admin/not_found.html", what=what), 404


@bp.context_processor
def _role() -> dict[str, Any]:
    """Whether the signed-in staff member is an admin: the pages show admins their own sections."""
    # current_user, not current_staff(): this also runs for pages shown before the sign-in check (CSRF).
    return {"is_admin": current_user.is_authenticated and current_user.role == ADMIN}


@bp.get("")
@staff_required(SUPERVISOR)
def index() -> ResponseReturnValue:
    """The pages this staff member may use."""
    return render_template("admin/index.html")


# --- agents ---------------------------------------------------------------------------------------


@bp.get("/agents")
@staff_required(SUPERVISOR)
def agents() -> ResponseReturnValue:
    """Every agent: status, since when, why, queues, and a control to change the status."""
    return _agents_page()


def _agents_page(errors: dict[int, str] | None = None, code: int = 200) -> ResponseReturnValue:
    now = clock().now()
    rows = []
    for agent in service.list_agents(session()):
        zone = agent_zone(agent)
        rows.append(
            {
                "agent": agent,
                "since": local_time(agent.status_since, zone, now),
                "for": duration_words((now - agent.status_since).total_seconds()),
            }
        )
    return (
        render_template(
            "admin/agents.html",
            rows=rows,
            choices=STATUS_CHOICES,
            errors=errors or {},
            after_call_words=service.AFTER_CALL_WORDS,
        ),
        code,
    )


@bp.post("/agents/<int:agent_id>/status")
@staff_required(SUPERVISOR)
def agent_status(agent_id: int) -> ResponseReturnValue:
    """Set an agent available, away or offline; refused while they are on a call."""
    try:
        agent = service.get_agent(session(), agent_id)
    except NotFound:
        return _not_found("agent")
    form = StatusForm()
    if not form.validate_on_submit():
        return _agents_page({agent_id: "Please choose available, away or offline."}, 422)
    before, wanted = agent.status, form.status.data or ""
    # The agent's console shows this reason, so they know who changed their status.
    reason = f"set by {current_staff().name} ({current_staff().role})"
    if before in service.HELD_BY_THE_LINE and wanted in service.AFTER_CALL:
        # On a call (or about to be): the call is theirs to finish, then away or offline, as when the
        # agent asks it on their console (one rule: service.after_this_call).
        try:
            agent = service.after_this_call(session(), clock(), agent_id, wanted, reason=reason)
        except DomainError as error:
            session().rollback()
            return _agents_page({agent_id: error.message}, error.status)
        if agent.status == before:
            _audit("agent.after_call", f"agent {agent.id}", {"status": agent.status, "after_call": wanted})
            flash(f"{agent.name} keeps this call and will be {wanted} when it ends.")
            return redirect(url_for("admin.agents"), code=303)
        _audit("agent.status", f"agent {agent.id}", {"from": before, "to": agent.status})
        flash(f"{agent.name} is now {agent.status}.")
        return redirect(url_for("admin.agents"), code=303)
    try:
        agent = service.set_status(session(), clock(), agent_id, wanted, reason=reason)
    except Conflict as error:
        busy = STATUS_WORDS.get(agent.status, agent.status).lower()
        message = f"{agent.name} is {busy} right now and cannot be set {wanted}. Try again when the call is over."
        return _agents_page({agent_id: message}, error.status)
    except DomainError as error:
        return _agents_page({agent_id: error.message}, error.status)
    if agent.status != before:
        _audit("agent.status", f"agent {agent.id}", {"from": before, "to": agent.status})
    if agent.status == "available":
        wake_dispatcher()  # a free agent should not wait for the next tick
    flash(f"{agent.name} is now {agent.status}.")
    return redirect(url_for("admin.agents"), code=303)


# --- requests: agents/admin_requests.py (its routes join this blueprint when it is imported, below) --


# --- staff ----------------------------------------------------------------------------------------


@bp.get("/staff")
@staff_required(ADMIN)
def staff() -> ResponseReturnValue:
    """Every staff account, with role changes, disabling, and a form to add one."""
    return _staff_page(StaffForm(formdata=None))


def _offer_agents(form: StaffForm) -> None:
    """The agents an account may be linked to, by name."""
    choices = [SelectChoice(str(a.id), f"{a.name} (#{a.id})") for a in service.list_agents(session())]
    form.agent_id.choices = [SelectChoice("", "None"), *choices]


def _staff_page(form: StaffForm, errors: dict[str, str] | None = None, code: int = 200) -> ResponseReturnValue:
    _offer_agents(form)
    names = {a.id: a.name for a in service.list_agents(session())}
    now, zone = clock().now(), _shop_zone()
    rows = [
        {
            "user": user,
            "agent": names.get(user.agent_id) if user.agent_id else None,
            "last_login": local_time(user.last_login_at, zone, now) if user.last_login_at else "never",
            "role_form": RoleForm(formdata=None, role=user.role),
            "password_form": ResetPasswordForm(formdata=None),
        }
        for user in list_staff(session())
    ]
    me = current_staff()
    return (
        render_template(
            "admin/staff.html",
            rows=rows,
            form=form,
            errors=errors or {},
            me_id=me.id if me else None,
        ),
        code,
    )


@bp.post("/staff")
@staff_required(ADMIN)
def add_staff_member() -> ResponseReturnValue:
    """Add a staff account (the staff service writes `staff.add` to the audit log)."""
    form = StaffForm()
    _offer_agents(form)  # the choices first, so the form can judge the linked agent
    if not form.validate_on_submit():
        return _staff_page(form, _field_errors(form), 422)
    try:
        user = add_staff(
            session(),
            clock(),
            email=form.email.data or "",
            name=form.name.data or "",
            role=form.role.data or "",
            password=form.password.data or "",
            agent_id=int(form.agent_id.data) if form.agent_id.data else None,
            **_actor(),
        )
    except DomainError as error:
        session().rollback()
        return _staff_page(form, {_field_of(error, form): _sentence(error.message)}, error.status)
    flash(f"{user.name} can now sign in as {user.email}.")
    return redirect(url_for("admin.staff"), code=303)


def _actor() -> dict[str, Any]:
    """Who is acting, from where, at what time: what the staff service writes to the audit log."""
    return {"actor": current_staff(), "address": request.remote_addr}


def _on_account(staff_id: int, act: Callable[[], StaffUser], said: Callable[[StaffUser], str]) -> ResponseReturnValue:
    """Carry out one change to a staff account (the staff service audits and commits it): back to the
    staff page saying what was done, or with the reason beside the account."""
    try:
        user = act()
    except DomainError as error:
        session().rollback()
        if isinstance(error, NotFound):
            return _not_found("staff account")
        return _staff_page(StaffForm(formdata=None), {f"row-{staff_id}": _sentence(error.message)}, error.status)
    flash(said(user))
    return redirect(url_for("admin.staff"), code=303)


@bp.post("/staff/<int:staff_id>/role")
@staff_required(ADMIN)
def staff_role(staff_id: int) -> ResponseReturnValue:
    """Change one account's role (audited as `staff.role` by the staff service)."""
    form = RoleForm()
    if not form.validate_on_submit():
        return _staff_page(StaffForm(formdata=None), {f"row-{staff_id}": "Please choose a role."}, 422)
    return _on_account(
        staff_id,
        lambda: set_role(session(), staff_id, form.role.data or "", clock=clock(), **_actor()),
        lambda user: f"{user.name} is now {user.role}.",
    )


@bp.post("/staff/<int:staff_id>/password")
@staff_required(ADMIN)
def staff_password(staff_id: int) -> ResponseReturnValue:
    """Give someone who forgot their password a new one: their sessions end everywhere and they leave the
    line until they sign in with it (audited as `staff.password` by the staff service). Your own password
    is changed on your account page, which asks for the current one."""
    form = ResetPasswordForm()
    me = current_staff()
    if staff_id == me.id:
        return redirect(url_for("account.password"), code=303)
    if not form.validate_on_submit():
        return _staff_page(StaffForm(formdata=None), {f"row-{staff_id}": "Something went wrong; try again."}, 400)
    return _on_account(
        staff_id,
        lambda: set_password(session(), staff_id, form.password.data or "", clock=clock(), **_actor()),
        lambda user: f"{user.name} has a new password and is signed out everywhere. Tell it to them in person.",
    )


@bp.post("/staff/<int:staff_id>/disable")
@staff_required(ADMIN)
def staff_disable(staff_id: int) -> ResponseReturnValue:
    """Disable one account so it can no longer sign in (audited as `staff.disable` by the staff service)."""
    return _on_account(
        staff_id,
        lambda: disable(session(), staff_id, clock=clock(), **_actor()),
        lambda user: f"{user.name} ({user.email}) can no longer sign in. Enable the account to undo it.",
    )


@bp.post("/staff/<int:staff_id>/enable")
@staff_required(ADMIN)
def staff_enable(staff_id: int) -> ResponseReturnValue:
    """Let a disabled account sign in again (audited as `staff.enable` by the staff service)."""
    return _on_account(
        staff_id,
        lambda: enable(session(), staff_id, clock=clock(), **_actor()),
        lambda user: f"{user.name} ({user.email}) can sign in again, with the password they had.",
    )


# --- queues ---------------------------------------------------------------------------------------


@bp.get("/queues")
@staff_required(ADMIN)
def queues() -> ResponseReturnValue:
    """Every queue's settings, each with a link to edit them."""
    return render_template("admin/queues.html", queues=service.list_queues(session()))


def _queue(name: str) -> Queue | None:
    return next((q for q in service.list_queues(session()) if q.name == name), None)


@bp.route("/queues/<name>", methods=["GET", "POST"])
@staff_required(ADMIN)
def edit_queue(name: str) -> ResponseReturnValue:
    """Edit one queue; `update_queue` judges the settings and names the field at fault."""
    queue = _queue(name)
    if queue is None:
        return _not_found("queue")
    if request.method == "GET":
        form = QueueForm(formdata=None, obj=queue)
        return render_template("admin/queue.html", queue=queue, form=form, errors={})
    form = QueueForm()
    errors: dict[str, str] = {}
    if not form.validate_on_submit():
        errors = {
            name: WHOLE_NUMBER if name in QueueForm.INTEGERS else msg for name, msg in _field_errors(form).items()
        }
        return render_template("admin/queue.html", queue=queue, form=form, errors=errors), 422
    changes: dict[str, Any] = {key: getattr(form, key).data for key in QUEUE_SETTINGS}
    changes["hours"] = (changes["hours"] or "").strip()
    changes["timezone"] = (changes["timezone"] or "").strip()
    changes["backoff_seconds"] = "".join((changes["backoff_seconds"] or "").split())
    changes["recording"] = bool(changes["recording"])
    if not (changes["languages"] or "").strip():
        changes.pop("languages")  # a form from before the field existed: keep what the queue has
    before = {key: getattr(queue, key) for key in QUEUE_SETTINGS}
    try:
        service.update_queue(session(), queue.name, changes, region=settings().default_region)
    except DomainError as error:
        session().rollback()
        errors[_field_of(error, form)] = _sentence(error.message)
        return render_template("admin/queue.html", queue=queue, form=form, errors=errors), error.status
    changed = {key for key in QUEUE_SETTINGS if before[key] != getattr(queue, key)}
    if changed:
        _audit(
            "queue.update",
            f"queue {queue.name}",
            {
                "before": {key: before[key] for key in sorted(changed)},
                "after": {key: getattr(queue, key) for key in sorted(changed)},
            },
        )
    flash(f"{queue.display_name}: settings saved." if changed else f"{queue.display_name}: nothing changed.")
    if "max_attempts" in changed and queue.max_attempts < before["max_attempts"]:
        spent = callbacks.waiting_with_attempts(session(), queue, queue.max_attempts)
        if spent:
            # Not said, this looks like nothing: those requests end "failed" at their next turn.
            flash(
                f"{spent} waiting request{'s have' if spent != 1 else ' has'} already had "
                f"{queue.max_attempts} call{'s' if queue.max_attempts != 1 else ''} or more: "
                f"{'they end' if spent != 1 else 'it ends'} at the next turn, without another call."
            )
    return redirect(url_for("admin.queues"), code=303)


def _any_number(text: str) -> str:
    """A number in E.164 for the shop's own use (a caller ID, a do-not-call entry): any real number will do."""
    # The customer country allowlist is about whom we may call back, not about these numbers.
    policy = phones.any_number(settings().default_region)
    return phones.normalize(text, policy)


# --- do-not-call ----------------------------------------------------------------------------------


@bp.get("/dnc")
@staff_required(ADMIN)
def dnc_list() -> ResponseReturnValue:
    """The do-not-call list, with a form to add a number and a button to remove each."""
    return _dnc_page(DncForm(formdata=None))


def _dnc_page(form: DncForm, errors: dict[str, str] | None = None, code: int = 200) -> ResponseReturnValue:
    now = clock().now()
    zone = _shop_zone()
    entries = [{"entry": e, "added": local_time(e.added_at, zone, now)} for e in dnc.entries(session())]
    return (
        render_template(
            "admin/dnc.html", entries=entries, form=form, remove=DncRemoveForm(formdata=None), errors=errors or {}
        ),
        code,
    )


@bp.post("/dnc")
@staff_required(ADMIN)
def dnc_add() -> ResponseReturnValue:
    """List a number: its active callbacks are canceled and a call ringing it is hung up."""
    form = DncForm()
    if not form.validate_on_submit():
        return _dnc_page(form, _field_errors(form), 422)
    try:
        number = _any_number(form.phone.data or "")
    except phones.PhoneRejected as exc:
        return _dnc_page(form, {"phone": exc.message}, 422)
    reason = " ".join((form.reason.data or "").split()) or None
    canceled = dnc.add(session(), clock(), number, reason, current_app.extensions["telephony"])
    _audit("dnc.add", f"dnc {number}", {"reason": reason, "canceled_requests": canceled})
    flash(f"{number} will not be called." + (f" {canceled} active callback(s) canceled." if canceled else ""))
    return redirect(url_for("admin.dnc_list"), code=303)


@bp.post("/dnc/remove")
@staff_required(ADMIN)
def dnc_remove() -> ResponseReturnValue:
    """Take a number off the list: it may be called again."""
    form = DncRemoveForm()
    if not form.validate_on_submit():
        return _dnc_page(DncForm(formdata=None), {"form": "This page has expired. Please try again."}, 400)
    try:
        number = _any_number(form.phone.data or "")
    except phones.PhoneRejected:
        return _not_found("number on the list")
    if not dnc.remove(session(), number):
        return _dnc_page(DncForm(formdata=None), {"form": f"{number} was not on the list."}, Conflict.status)
    _audit("dnc.remove", f"dnc {number}")
    flash(f"{number} may be called again.")
    return redirect(url_for("admin.dnc_list"), code=303)


# The requests pages register their routes on `bp`; imported last, once everything they use is defined.
from agents import admin_requests  # noqa: E402,F401
