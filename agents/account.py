"""A staff member's own account: changing their password (/account/password).

Changing a password asks for the current one, so that a browser left signed in does not let the next
person lock its owner out; a wrong current password counts against the sign-in limits exactly as a
wrong password at /login does (agents/auth.py), so a stolen session cannot guess at it either. The new
password ends the account's sessions on every other device; this one stays signed in.
"""

from __future__ import annotations

import logging

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import PasswordField

from agents import audit
from agents.auth import SESSION_VERSION, attempt_refusal, current_staff, serialise_sign_ins, staff_required
from agents.staff import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, check_password, set_password
from core import web
from core.errors import DomainError

log = logging.getLogger(__name__)

bp = Blueprint("account", __name__, url_prefix="/account")


class PasswordForm(FlaskForm):
    """The current password, and the new one twice; Flask-WTF adds the CSRF token."""

    # The autocomplete names let a password manager fill the current one and offer to save the new one.
    current = PasswordField("Current password", render_kw={"autocomplete": "current-password", "maxlength": 1024})
    new = PasswordField("New password", render_kw={"autocomplete": "new-password", "maxlength": 1024})
    confirm = PasswordField("New password again", render_kw={"autocomplete": "new-password", "maxlength": 1024})


def _page(form: PasswordForm, errors: dict[str, str], code: int = 200) -> ResponseReturnValue:
    page = render_template(
        "staff/password.html", form=form, errors=errors, min_length=MIN_PASSWORD_LENGTH, max_length=MAX_PASSWORD_LENGTH
    )
    return page, code


def _new_password_errors(form: PasswordForm) -> dict[str, str]:
    """What is wrong with the new password as typed, before the current one is checked (a typo in the
    new one should not spend one of the limited attempts at the current one)."""
    new, confirm, current = form.new.data or "", form.confirm.data or "", form.current.data or ""
    if len(new) < MIN_PASSWORD_LENGTH:
        return {"new": f"A password needs at least {MIN_PASSWORD_LENGTH} characters."}
    if len(new) > MAX_PASSWORD_LENGTH:
        return {"new": f"A password has at most {MAX_PASSWORD_LENGTH} characters."}
    if new != confirm:
        return {"confirm": "The two new passwords are not the same."}
    if new == current:
        return {"new": "Choose a password different from your current one."}
    return {}


@bp.route("/password", methods=["GET", "POST"])
@staff_required()
def password() -> ResponseReturnValue:
    """Change your own password: the current one, then the new one twice."""
    form = PasswordForm()
    if request.method == "GET":
        return _page(form, {})
    if not form.validate_on_submit():
        return _page(form, {"form": "Something went wrong; try again."}, 400)
    errors = _new_password_errors(form)
    if errors:
        return _page(form, errors, 422)

    staff = current_staff()
    db = web.session()
    now = web.clock().now()
    address = request.remote_addr
    # The same limits, locks and audit lines as /login: an attempt at the current password is written as
    # a failure before it is checked, so that simultaneous attempts count it.
    serialise_sign_ins(db, staff.email, address)
    refusal = attempt_refusal(db, staff.email, address, now)
    if refusal is not None:
        audit.record(db, "login.refused", staff.email, {"reason": refusal.reason}, actor=staff, address=address, at=now)
        db.commit()
        minutes = max(1, (refusal.retry_after + 59) // 60)
        message = f"Too many wrong passwords. Try again in {minutes} minute{'s' if minutes != 1 else ''}."
        response = current_app.make_response(_page(form, {"form": message}, 429))
        response.headers["Retry-After"] = str(refusal.retry_after)
        return response
    attempt = audit.record(
        db, "login.fail", staff.email, {"reason": "bad_current_password"}, actor=staff, address=address, at=now
    )
    db.commit()
    if not check_password(staff, form.current.data or ""):
        log.info("staff password change refused: wrong current password", extra={"staff_id": staff.id})
        return _page(form, {"current": "That is not your current password."}, 401)
    audit.restate(attempt, "password.confirmed", actor=staff)
    try:
        set_password(db, staff.id, form.new.data or "", clock=web.clock(), actor=staff, address=address)
    except DomainError as error:
        db.rollback()
        return _page(form, {"new": error.message}, error.status)
    # The account's sessions ended everywhere; this one carries on under the version this change wrote
    # (set_password read it before its commit: never one a later sign-out everywhere wrote).
    session[SESSION_VERSION] = staff.session_version
    flash("Your password is changed. Every other device you were signed in on is signed out.")
    return redirect(url_for("account.password"), code=303)
