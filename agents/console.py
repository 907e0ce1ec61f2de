"""The agent's console at /agent: status, the screen pop, wrap-up, today's calls, and the browser phone.

Views are thin: `agents.desk` reads the console and does the wrap-up; status changes go through
`agents.service.set_status`, the end of wrap-up through `callback.line`. Every change is audited.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from flask import Blueprint, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice

from agents import audit, desk
from agents.auth import current_staff, staff_required, wants_json
from agents.models import Agent
from agents.service import HELD_BY_THE_LINE, SETTABLE, after_this_call
from callback.models import DISPOSITIONS
from core.errors import Conflict, DomainError
from core.web import clock, json_error, session, settings, wake_dispatcher
from orders.port import OrderLookup
from recordings import service as recordings
from telephony.tokens import TOKEN_SECONDS, browser_phone_token

bp = Blueprint("console", __name__, url_prefix="/agent")

# The Twilio Voice JavaScript SDK, bundled from npm by scripts/build-assets.sh.
VOICE_SDK = "vendor/twilio-voice.min.js"
# The console's roles: agents, and supervisors (or admins) who also take calls with a linked agent.
ROLES = ("agent", "supervisor")


class NotConfigured(DomainError):
    """A feature this deployment has not been given the settings for."""

    status = 503


class StatusForm(FlaskForm):
    """The status switch: one button per status a person may choose, and why they step away."""


# Why an agent steps away, as they choose it on the console ("Away for ..."), and as their status then
# says it, on the board and the supervisor's pages ("Away since 12:30: at lunch"), so nobody has to ask.
AWAY_REASONS = {
    "break": ("a break", "on a break"),
    "lunch": ("lunch", "at lunch"),
    "meeting": ("a meeting", "in a meeting"),
    "training": ("training", "in training"),
    "coaching": ("coaching", "in coaching"),
    "admin": ("other work", "on other work"),
}


class ReadyForm(FlaskForm):
    """'Ready': end wrap-up now."""


class WrapUpForm(FlaskForm):
    """How the call went: a disposition and a note, stored on the request."""

    request_id = HiddenField()
    # When the wrap-up the form was drawn from was saved ("" for none): a save from a form drawn before
    # another tab's save is refused rather than overwriting it (agents.desk.dispose).
    saved_at = HiddenField()
    disposition = SelectField(
        "How did it go?",
        choices=[SelectChoice("", "Choose…")] + [SelectChoice(d, desk.DISPOSITION_WORDS[d]) for d in DISPOSITIONS],
        # agents.desk.dispose judges the value, with words the agent can act on.
        validate_choice=False,
    )
    note = TextAreaField("Note")


def _agent() -> Agent | None:
    """The agent record of the signed-in person, if their account is linked to one."""
    staff = current_staff()
    return session().get(Agent, staff.agent_id) if staff.agent_id is not None else None


def _no_agent() -> ResponseReturnValue:
    if wants_json():
        return json_error(Conflict("no_agent", "Your account is not linked to an agent."))
    return render_template("agent/no_agent.html", staff=current_staff()), 409


def _orders() -> desk.OrderStatuses:
    # One per app, made on first use: a cache of answers, no connection of its own.
    statuses: desk.OrderStatuses = current_app.extensions.setdefault("console_order_statuses", desk.OrderStatuses())
    return statuses


def _lookup() -> OrderLookup:
    lookup: OrderLookup = current_app.extensions["order_lookup"]
    return lookup


def _softphone() -> dict[str, str] | None:
    """Against the sandbox (development), its softphone page for the agent's phone, to embed."""
    base = settings().twilio_api_base
    if not base or not settings().is_development:
        return None
    parts = urlsplit(base)
    return {"origin": f"{parts.scheme}://{parts.netloc}", "base": base.rstrip("/")}


@bp.get("")
@staff_required(*ROLES)
def console() -> ResponseReturnValue:
    """The console page; static/agent.js keeps it current from /agent/state."""
    agent = _agent()
    if agent is None:
        return _no_agent()
    now = clock().now()
    current = desk.state(session(), agent, now, _orders(), _lookup())
    form = WrapUpForm()
    if current["wrap_up"]:
        form.request_id.data = str(current["wrap_up"]["request_id"])
        form.disposition.data = current["wrap_up"]["disposition"] or ""
        form.note.data = current["wrap_up"]["note"] or ""
        form.saved_at.data = current["wrap_up"]["saved_at"]
    softphone = _softphone()
    browser_phone = bool(agent.client) and softphone is None
    zone = desk.agent_zone(agent)
    response = current_app.make_response(
        render_template(
            "agent/console.html",
            agent=agent,
            state=current,
            status_form=StatusForm(),
            ready_form=ReadyForm(),
            wrap_up_form=form,
            choices=[(s, desk.STATUS_WORDS[s]) for s in SETTABLE],
            away_reasons=AWAY_REASONS,
            softphone_url=f"{softphone['base']}/sandbox/?phone={quote(agent.endpoint)}" if softphone else None,
            browser_phone=browser_phone,
            voice_sdk=browser_phone and _voice_sdk_built(),
            # The agent's own recent recordings (recordings.access lets them hear only these).
            recordings=recordings.stored_for_agent(session(), agent.id),
            zone=zone,
            times_in=desk.times_in(zone),
        )
    )
    if browser_phone:
        # The Voice SDK talks to Twilio over a secure WebSocket and fetches its ringtones from Twilio.
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; "
            "connect-src 'self' https://*.twilio.com wss://*.twilio.com; media-src 'self' blob: https://*.twilio.com"
        )
    if softphone:
        # The sandbox's softphone lives on another origin: let this page (only) frame it.
        response.headers["Content-Security-Policy"] = (
            f"default-src 'self'; img-src 'self' data:; frame-src {softphone['origin']}; frame-ancestors 'none'"
        )
    return response


@bp.get("/state")
@staff_required(*ROLES)
def state() -> ResponseReturnValue:
    """The console as JSON, polled every second by the page."""
    agent = _agent()
    if agent is None:
        return _no_agent()
    response = jsonify(desk.state(session(), agent, clock().now(), _orders(), _lookup()))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/status")
@staff_required(*ROLES)
def change_status() -> ResponseReturnValue:
    """The status switch: available, away or offline."""
    agent = _agent()
    if agent is None:
        return _no_agent()
    form = StatusForm()
    wanted = request.form.get("status", "")
    if not form.validate_on_submit():
        return _back("Your page was out of date; try again.")
    before = agent.status
    wished = agent.after_call_status
    try:
        # While the line holds them for a call, the wish is kept for when it ends (a break, or the end of
        # their shift): refusing it would leave them to be reserved again the moment this call fails.
        chosen = AWAY_REASONS.get(request.form.get("reason", "")) if wanted == "away" else None
        reason = chosen[1] if chosen else None
        after_this_call(session(), clock(), agent.id, wanted, reason=reason)
    except DomainError as error:
        session().rollback()
        return _back(error.message, error)
    if agent.status != before:
        _audit("agent.status", agent, {"from": before, "to": agent.status})
        if agent.status == "available":
            wake_dispatcher()
    elif agent.status in HELD_BY_THE_LINE and agent.after_call_status != wished:
        _audit("agent.after_call", agent, {"status": agent.status, "after_call": agent.after_call_status})
        if agent.after_call_status:
            return _back(f"You keep this call; you'll be {wanted} when it ends.", ok=True)
        return _back("You keep this call, and then the next ones as usual.", ok=True)
    return _back()


@bp.post("/ready")
@staff_required(*ROLES)
def ready() -> ResponseReturnValue:
    """'Ready': the agent ends wrap-up early and can be rung again at once."""
    agent = _agent()
    if agent is None:
        return _no_agent()
    if not ReadyForm().validate_on_submit():
        return _back("Your page was out of date; try again.")
    try:
        desk.ready(agent, clock().now())
    except DomainError as error:
        session().rollback()
        return _back(error.message, error)
    _audit("agent.ready", agent, {"from": "wrap_up", "to": "available"})
    wake_dispatcher()
    return _back()


@bp.post("/calls/<int:request_id>/wrap-up")
@staff_required(*ROLES)
def wrap_up(request_id: int) -> ResponseReturnValue:
    """Store the disposition and note of a call the agent took."""
    agent = _agent()
    if agent is None:
        return _no_agent()
    form = WrapUpForm()
    if not form.validate_on_submit():
        return _back("Your page was out of date; try again.")
    staff = current_staff()
    try:
        req = desk.dispose(
            session(),
            agent,
            request_id,
            form.disposition.data or "",
            form.note.data or "",
            clock().now(),
            staff.id,
            seen=form.saved_at.data,
        )
    except DomainError as error:
        session().rollback()
        return _back(error.message, error)
    audit.record(
        session(),
        "request.disposition",
        f"request {req.id}",
        {"disposition": req.disposition, "note": bool(req.note)},
        actor=staff,
        address=request.remote_addr,
        at=clock().now(),
    )
    session().commit()
    return _back(f"Saved: {req.name}, {desk.DISPOSITION_WORDS[req.disposition or 'other'].lower()}.", ok=True)


@bp.get("/calls/<int:request_id>")
@staff_required(*ROLES)
def call(request_id: int) -> ResponseReturnValue:
    """One of the agent's own calls: the screen pop as it stands now, and its wrap-up."""
    agent = _agent()
    if agent is None:
        return _no_agent()
    try:
        req = desk.own_request(session(), agent, request_id)
    except DomainError as error:
        return _back(error.message, error)
    zone = desk.agent_zone(agent)
    details = desk.pop(session(), req, clock().now(), _orders(), _lookup(), zone=zone)
    taken = _taken(agent, request_id)
    form = WrapUpForm(
        request_id=str(req.id),
        disposition=req.disposition or "",
        note=req.note or "",
        saved_at=desk.saved_at(req),
    )
    return render_template(
        "agent/call.html", agent=agent, call=details, times_in=desk.times_in(zone), wrap_up_form=form if taken else None
    )


@bp.get("/token")
@staff_required(*ROLES)
def token() -> ResponseReturnValue:
    """An access token for the Twilio Voice JavaScript SDK, for the agent's client identity, one hour."""
    agent = _agent()
    if agent is None:
        return _no_agent()
    if not agent.client:
        return json_error(Conflict("no_client", "You take calls on a phone number, not in the browser."))
    s = settings()
    if not (s.twilio_api_key_sid and s.twilio_api_key_secret):
        return json_error(
            NotConfigured("not_configured", "Browser calls need TWILIO_API_KEY_SID and TWILIO_API_KEY_SECRET.")
        )
    jwt = browser_phone_token(s.twilio_account_sid, s.twilio_api_key_sid, s.twilio_api_key_secret, agent.client)
    response = jsonify({"token": jwt, "identity": agent.client, "expires_in": TOKEN_SECONDS})
    response.headers["Cache-Control"] = "no-store"
    return response


def _voice_sdk_built() -> bool:
    """Whether `make assets` built the Twilio Voice SDK bundle (static/vendor, from npm; never a CDN)."""
    return Path(current_app.static_folder or "static", VOICE_SDK).is_file()


def _taken(agent: Agent, request_id: int) -> bool:
    try:
        desk.own_request(session(), agent, request_id, taken=True)
    except DomainError:
        return False
    return True


def _audit(action: str, agent: Agent, details: dict[str, Any]) -> None:
    """Write an audit line for a change the signed-in agent made to themselves, and commit."""
    audit.record(
        session(),
        action,
        f"agent {agent.id}",
        details,
        actor=current_staff(),
        address=request.remote_addr,
        at=clock().now(),
    )
    session().commit()


def _back(message: str | None = None, error: DomainError | None = None, ok: bool = False) -> ResponseReturnValue:
    """After a form: JSON for the page's script, else back to the console with a message."""
    if wants_json():
        if error is not None:
            return json_error(error)
        if message and not ok:
            return json_error(DomainError("stale_form", message))
        return jsonify({"ok": True, "message": message})
    if error is not None and error.status == 404:
        return render_template("agent/not_found.html"), 404
    if message:
        flash(message, "ok" if ok else "error")
    return redirect(url_for("console.console"))
