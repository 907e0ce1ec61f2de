"""Staff sign-in: Flask-Login sessions, /login and /logout, limits on attempts, and `staff_required`."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, cast
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect
from wtforms import HiddenField, PasswordField, StringField

from agents import audit, service
from agents.models import Agent
from agents.staff import MAX_EMAIL_LENGTH, ROLES, StaffUser, check_password, get_by_email, normalize_email
from core import web
from core.clients import client_key
from core.locks import serialise
from core.text import has_control_characters

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)

# Sign-in limits, counted from the audit log's login.fail lines so they hold across processes.
WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20
# The namespaces of the sign-in limits' locks (core.locks): "SIA" for the account, "SIN" for the address.
_LOCK_ACCOUNT = 0x53_49_41
_LOCK_ADDRESS = 0x53_49_4E
# The session key holding when the person signed in (a POSIX timestamp from the app's clock).
SIGNED_IN_AT = "staff_signed_in_at"
# The session key holding the account's session version at sign-in; StaffUser.end_sessions moves it on.
SESSION_VERSION = "staff_session_version"

# Where each role lands after signing in: the first path the app has wins (the pages register these).
LANDING = {
    "agent": ("/agent",),
    "supervisor": ("/board", "/admin/agents", "/admin", "/agent"),
    "admin": ("/board", "/admin/agents", "/admin", "/agent"),
}
# The staff navigation: label, candidate paths (the first the app has is linked), and the roles that see it
# (admins see everything).
NAV: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("Console", ("/agent",), ("agent",)),
    ("Board", ("/board",), ("supervisor",)),
    ("Agents", ("/admin/agents",), ("supervisor",)),
    ("Requests", ("/admin/requests",), ("supervisor",)),
    ("Figures", ("/admin/figures",), ("supervisor",)),
    ("Staff", ("/admin/staff",), ("admin",)),
    ("Queues", ("/admin/queues",), ("admin",)),
    ("Do-not-call", ("/admin/dnc",), ("admin",)),
    ("Prompts", ("/admin/prompts",), ("admin",)),
)


class LoginForm(FlaskForm):
    """Email and password; Flask-WTF adds the CSRF token."""

    email = StringField("Email")
    password = PasswordField("Password")
    next = HiddenField()


class SignOutForm(FlaskForm):
    """Nothing but the CSRF token: signing out is a POST so another site cannot do it for you."""


def init_app(app: Flask) -> None:
    """Wire Flask-Login, the /login and /logout pages, and the staff navigation into the app."""
    hours = app.config["SETTINGS"].staff_session_hours
    # The cookie's own expiry; _load_staff also refuses an older sign-in whose cookie is replayed.
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=hours)
    manager = LoginManager()
    manager.login_view = "auth.login"
    # No "remember me" cookie: a sign-in lasts STAFF_SESSION_HOURS at most, and ends with the browser's session.
    manager.user_loader(_load_staff)
    manager.unauthorized_handler(_unauthorized)
    manager.init_app(app)
    app.register_blueprint(bp)

    @app.context_processor
    def _staff_nav() -> dict[str, Any]:
        return {"staff_nav": staff_nav, "sign_out_form": SignOutForm}


def _session_age_limit() -> timedelta:
    return timedelta(hours=web.settings().staff_session_hours)


def session_expired(signed_in_at: float | None, now: datetime, limit: timedelta) -> bool:
    """A sign-in is over once `limit` has passed since it happened (or if we cannot tell when it happened)."""
    if signed_in_at is None:
        return True
    try:
        started = datetime.fromtimestamp(float(signed_in_at), tz=now.tzinfo)
    except (TypeError, ValueError, OverflowError, OSError):
        return True
    return not (started - timedelta(minutes=5) <= now < started + limit)


def _load_staff(user_id: str) -> StaffUser | None:
    """Flask-Login's loader: the signed-in account, unless disabled, signed out since, or the sign-in is too old."""
    if session_expired(session.get(SIGNED_IN_AT), web.clock().now(), _session_age_limit()):
        # The cookie is signed, so the time in it is ours; an old cookie replayed is an old sign-in.
        _forget_sign_in()
        return None
    if not user_id.isdecimal() or len(user_id) > 10:
        return None
    staff = web.session().get(StaffUser, int(user_id))
    if staff is None or not staff.active:
        return None
    version = session.get(SESSION_VERSION)
    if type(version) is not int or version != staff.session_version:
        # The account signed out (here or anywhere), changed password or role since this cookie was
        # issued, or the cookie predates session versions (migration 0018): a copy of it is worth nothing.
        _forget_sign_in()
        return None
    return staff


def _forget_sign_in() -> None:
    """Take the sign-in out of this browser's session (the rest of it, such as flashed messages, stays)."""
    for key in ("_user_id", SIGNED_IN_AT, SESSION_VERSION):
        session.pop(key, None)


def current_staff() -> StaffUser:
    """The signed-in staff account; only for views behind `staff_required`."""
    if not current_user.is_authenticated:
        raise RuntimeError("current_staff() outside a staff_required view")
    return cast(StaffUser, current_user._get_current_object())


def wants_json() -> bool:
    """True for requests a script or the console's JavaScript makes, which get JSON errors, not pages."""
    path = request.path
    if "/api/" in path or path.endswith(".json") or path.endswith("/state"):
        return True
    # A browser's Accept puts text/html first; fetch() sends */*, which counts as a page unless the path says API.
    best = request.accept_mimetypes.best_match(["text/html", "application/json", "text/event-stream"])
    return best in {"application/json", "text/event-stream"}


def _json_error(status: int, code: str, message: str) -> ResponseReturnValue:
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response


def _unauthorized() -> ResponseReturnValue:
    """Not signed in: pages go to /login and come back, scripts get 401."""
    if wants_json():
        return _json_error(401, "sign_in_required", "Sign in as staff first (POST /login).")
    if request.method not in {"GET", "HEAD"}:
        # A form posted after the sign-in lapsed: its URL only takes posts, so coming back to it would be
        # a 405. The post is lost either way; signing in leads to the staff member's own landing page.
        return redirect(url_for("auth.login"))
    target = request.full_path if request.query_string else request.path
    return redirect(url_for("auth.login", next=target))


def _forbidden() -> ResponseReturnValue:
    if wants_json():
        return _json_error(403, "forbidden", "Your role does not allow this.")
    return render_template("staff/forbidden.html"), 403


def staff_required(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Let through signed-in staff whose role is one of `roles` (any role if none given); admins always."""
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {', '.join(sorted(unknown))}")

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return _unauthorized()
            if roles and not current_staff().may(*roles):
                return _forbidden()
            return view(*args, **kwargs)

        return wrapped

    return decorator


def _path_exists(path: str) -> bool:
    adapter = current_app.url_map.bind("localhost")
    try:
        adapter.match(path, method="GET")
    except (NotFound, MethodNotAllowed):
        return False
    except RequestRedirect:
        return True
    return True


def staff_nav() -> list[tuple[str, str]]:
    """The navigation links the signed-in person may follow, for templates/staff/base.html."""
    if not current_user.is_authenticated:
        return []
    staff = current_staff()
    links = []
    for label, paths, roles in NAV:
        path = next((p for p in paths if _path_exists(p)), None)
        if path == "/agent" and staff.agent_id is None and staff.role != "agent":
            continue  # a supervisor or admin who takes no calls has no console to go to
        if path is not None and staff.may(*roles):
            links.append((label, path))
    return links


def landing_path(staff: StaffUser) -> str:
    """Where a person goes after signing in without a `next`: their console or the board."""
    for path in LANDING.get(staff.role, ()):
        if _path_exists(path):
            return path
    return url_for("auth.signed_in")


def safe_next(value: str | None) -> str | None:
    """`next` only when it is a path on this site: never another host, scheme, or protocol-relative URL."""
    if not value or len(value) > 2000 or has_control_characters(value):
        return None
    if not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return None
    if parts.path in {url_for("auth.login"), url_for("auth.logout")}:
        return None
    return value


@dataclass(frozen=True)
class Refusal:
    """Why a sign-in attempt is refused before the password is even checked, and for how long."""

    reason: str
    retry_after: int


def serialise_sign_ins(db: Session, email: str, address: str | None) -> None:
    """Make this transaction the only one judging sign-in attempts for this account (and this address's
    client) until it ends: the limits count failures and then write the attempt's line, and attempts
    judged at once would each count the others out. The account first, then the client, always in that
    order."""
    client = client_key(address)
    serialise(db, (_LOCK_ACCOUNT, email), *([(_LOCK_ADDRESS, client)] if client else []))


def attempt_refusal(db: Any, email: str, address: str | None, now: datetime) -> Refusal | None:
    """The sign-in limits: too many recent failures for this account, or from this address's client
    (an IPv6 address's whole /64, which one subscriber may use at will: core.clients)."""
    since = now - WINDOW
    client = client_key(address)
    if client:
        times = audit.latest_times(db, "login.fail", since, MAX_FAILURES_PER_ADDRESS, client=client)
        if len(times) >= MAX_FAILURES_PER_ADDRESS:
            return Refusal("address_limit", _seconds_until(times[-1] + WINDOW, now))
    times = audit.latest_times(db, "login.fail", since, MAX_FAILURES_PER_ACCOUNT, target=email)
    if len(times) >= MAX_FAILURES_PER_ACCOUNT:
        return Refusal("account_locked", _seconds_until(times[-1] + WINDOW, now))
    return None


def _seconds_until(when: datetime, now: datetime) -> int:
    return max(1, math.ceil((when - now).total_seconds()))


def _login_target(raw_email: str) -> str:
    """What sign-in lines are filed under: the email as typed, normalised (known account or not)."""
    return normalize_email(raw_email)[:MAX_EMAIL_LENGTH] or "(empty)"


@bp.route("/login", methods=["GET", "POST"])
def login() -> ResponseReturnValue:
    """The sign-in form; on success, back to `next` (a local path) or the person's landing page."""
    form = LoginForm()
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(safe_next(request.args.get("next")) or landing_path(current_staff()))
        form.next.data = safe_next(request.args.get("next")) or ""
        return render_template("staff/login.html", form=form, error=None)
    if not form.validate_on_submit():
        return render_template("staff/login.html", form=form, error="Something went wrong; try again."), 400

    db = web.session()
    now = web.clock().now()
    address = request.remote_addr
    email = _login_target(form.email.data or "")
    password = form.password.data or ""

    # The limits and the attempt's own line are judged under one lock per account and per address, so
    # that no more wrong passwords than the limits allow are ever checked in the window, however many
    # attempts arrive at once, in however many processes.
    serialise_sign_ins(db, email, address)
    refusal = attempt_refusal(db, email, address, now)
    if refusal is not None:
        audit.record(
            db, "login.refused", email, {"reason": refusal.reason}, actor=audit.ANONYMOUS, address=address, at=now
        )
        db.commit()
        minutes = max(1, (refusal.retry_after + 59) // 60)
        error = f"Too many sign-in attempts. Try again in {minutes} minute{'s' if minutes != 1 else ''}."
        response = current_app.make_response((render_template("staff/login.html", form=form, error=error), 429))
        response.headers["Retry-After"] = str(refusal.retry_after)
        return response

    staff = get_by_email(db, email)
    reason = "unknown_email" if staff is None else ("disabled" if not staff.active else "bad_password")
    # The attempt is written as a failure before its password is checked, and committed: the locks are
    # held for the count and this line only, not for the deliberately slow check, and the attempt
    # counts against both limits while it is checked (a crash in between leaves it a failure).
    attempt = audit.record(db, "login.fail", email, {"reason": reason}, actor=audit.ANONYMOUS, address=address, at=now)
    db.commit()

    # check_password spends the same time whether or not the account exists.
    ok = check_password(staff, password)
    if not ok or staff is None or not staff.active:
        log.info("staff sign-in failed", extra={"reason": reason})
        # The same words for every failure: they must not tell whether the email has an account.
        error = "That email and password do not match an active account."
        return render_template("staff/login.html", form=form, error=error), 401

    next_path = safe_next(form.next.data)
    # A fresh session: nothing from before the sign-in (a planted cookie) carries over.
    session.clear()
    login_user(staff)
    session.permanent = True
    session[SIGNED_IN_AT] = now.timestamp()
    # As read before the check: a new password or a sign-out committed meanwhile ends this session too.
    session[SESSION_VERSION] = staff.session_version
    staff.last_login_at = now
    if staff.agent_id is not None:
        service.signed_in(db.get(Agent, staff.agent_id))
    audit.restate(attempt, "login.ok", actor=staff)
    db.commit()
    log.info("staff signed in", extra={"staff_id": staff.id, "role": staff.role})
    return redirect(next_path or landing_path(staff))


@bp.post("/logout")
def logout() -> ResponseReturnValue:
    """Sign out (POST with the CSRF token) on every device, and go back to the sign-in page."""
    signed_in = current_user.is_authenticated
    if signed_in:
        staff = current_staff()
        db = web.session()
        # The cookie alone does not end a session (a copy of it would live on): the account's session
        # version moves on, which ends its sessions everywhere, as signing out already took an agent
        # off the line wherever else they were signed in.
        staff.end_sessions()
        audit.record(db, "logout", staff.email, actor=staff, address=request.remote_addr, at=web.clock().now())
        db.commit()
        if staff.agent_id is not None:
            # Nobody is at the console any more: the line must stop putting customers through to them.
            service.sign_off(db, web.clock(), staff.agent_id, actor=staff, address=request.remote_addr)
    logout_user()
    session.clear()
    if signed_in:
        flash("You are signed out on every device you were signed in on.")
    return redirect(url_for("auth.login"))


@bp.get("/staff")
@staff_required()
def signed_in() -> ResponseReturnValue:
    """A landing page for a role whose pages are not there yet: who you are and how to sign out."""
    return render_template("staff/signed_in.html", staff=current_staff())
