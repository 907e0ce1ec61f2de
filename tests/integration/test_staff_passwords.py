"""Passwords: a staff member changes their own (/account/password), an admin gives a forgotten one anew,
and an account whose sessions someone else ended leaves the line."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from agents import audit
from agents.auth import MAX_FAILURES_PER_ACCOUNT
from agents.models import Agent
from agents.staff import StaffUser, disable, set_password, set_role
from core.clock import FixedClock
from core.db import get_db
from tests import factories
from tests.factories import STAFF_PASSWORD
from tests.signin import csrf_token, sign_in

NEW = "a new and rather longer passphrase"
PAGE = "/account/password"


def account(app: Flask, clock: FixedClock, role: str = "agent", *, with_agent: bool = False) -> StaffUser:
    with get_db(app).sessions() as s:
        agent_id = factories.agent(s, clock.now(), status="available").id if with_agent else None
        return factories.staff(s, clock.now(), role, agent_id=agent_id)


def lines(app: Flask, action: str) -> list[audit.AuditEvent]:
    with get_db(app).sessions() as s:
        return [e for e in audit.recent(s, limit=1000) if e.action == action]


def agent_status(app: Flask, agent_id: int | None) -> str:
    with get_db(app).sessions() as s:
        agent = s.get(Agent, agent_id)
        assert agent is not None
        return agent.status


def change(http: FlaskClient, current: str, new: str = NEW, confirm: str | None = None) -> TestResponse:
    data = {"current": current, "new": new, "confirm": new if confirm is None else confirm}
    return http.post(PAGE, data={**data, "csrf_token": csrf_token(http, PAGE)})


def signed_in(http: FlaskClient) -> bool:
    return http.get("/staff").status_code == 200


def test_changing_your_password_keeps_you_signed_in_here_and_signs_you_out_elsewhere(
    app: Flask, clock: FixedClock
) -> None:
    person = account(app, clock, "agent", with_agent=True)
    here, phone = app.test_client(), app.test_client()
    sign_in(here, person.email)
    sign_in(phone, person.email)
    done = change(here, STAFF_PASSWORD)
    assert done.status_code == 303 and done.location.endswith(PAGE)
    assert "Every other device you were signed in on is signed out" in here.get(PAGE).get_data(as_text=True)
    assert signed_in(here)
    assert not signed_in(phone)
    # The old password no longer opens the account; the new one does.
    assert sign_in(app.test_client(), person.email).status_code == 401
    assert sign_in(app.test_client(), person.email, NEW).status_code == 302
    # Changing your own password is not leaving the line: an agent at the console stays available.
    assert agent_status(app, person.agent_id) == "available"
    (line,) = lines(app, "staff.password")
    assert (line.actor_staff_id, line.target) == (person.id, f"staff {person.id}")
    assert NEW not in str(line.details) and STAFF_PASSWORD not in str(line.details)
    assert len(lines(app, "password.confirmed")) == 1


def test_a_wrong_current_password_changes_nothing_and_counts_against_the_sign_in_limit(
    app: Flask, clock: FixedClock
) -> None:
    person = account(app, clock, "supervisor")
    http = app.test_client()
    sign_in(http, person.email)
    refused = change(http, "not my password at all")
    assert refused.status_code == 401
    assert "That is not your current password." in refused.get_data(as_text=True)
    assert sign_in(app.test_client(), person.email).status_code == 302  # the old one still works
    for _ in range(MAX_FAILURES_PER_ACCOUNT - 1):
        assert change(http, "still not my password").status_code == 401
    # A stolen session cannot keep guessing, and the account is locked at /login alike.
    locked = change(http, STAFF_PASSWORD)
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    assert "Too many wrong passwords" in locked.get_data(as_text=True)
    assert sign_in(app.test_client(), person.email).status_code == 429
    assert lines(app, "staff.password") == []


@pytest.mark.parametrize(
    ("new", "confirm", "field_error"),
    [
        ("short one", None, "at least 12 characters"),
        (NEW, NEW + "!", "The two new passwords are not the same."),
        (STAFF_PASSWORD, None, "different from your current one"),
        ("p" * 1025, None, "at most 1024 characters"),
    ],
)
def test_a_new_password_that_will_not_do_is_refused_before_the_current_one_is_tried(
    app: Flask, clock: FixedClock, new: str, confirm: str | None, field_error: str
) -> None:
    person = account(app, clock, "agent")
    http = app.test_client()
    sign_in(http, person.email)
    refused = change(http, STAFF_PASSWORD, new, confirm)
    assert refused.status_code == 422
    assert field_error in refused.get_data(as_text=True)
    assert lines(app, "login.fail") == []  # no attempt at the current password was spent
    assert sign_in(app.test_client(), person.email).status_code == 302


def test_the_page_needs_a_sign_in_and_its_form_its_token(app: Flask, clock: FixedClock) -> None:
    assert app.test_client().get(PAGE).location.startswith("/login")
    person = account(app, clock, "agent")
    http = app.test_client()
    sign_in(http, person.email)
    page = http.get(PAGE).get_data(as_text=True)
    assert 'autocomplete="current-password"' in page and 'autocomplete="new-password"' in page
    forged = http.post(PAGE, data={"current": STAFF_PASSWORD, "new": NEW, "confirm": NEW})
    assert forged.status_code == 400
    assert sign_in(app.test_client(), person.email).status_code == 302


def test_every_staff_page_links_to_the_password_page(app: Flask, clock: FixedClock) -> None:
    person = account(app, clock, "agent")
    http = app.test_client()
    sign_in(http, person.email)
    assert f'href="{PAGE}"' in http.get("/staff").get_data(as_text=True)


def test_an_admin_gives_a_forgotten_password_anew_and_the_agent_leaves_the_line(app: Flask, clock: FixedClock) -> None:
    admin = account(app, clock, "admin")
    person = account(app, clock, "agent", with_agent=True)
    theirs = app.test_client()
    sign_in(theirs, person.email)
    http = app.test_client()
    sign_in(http, admin.email)
    token = csrf_token(http, "/admin/staff")
    done = http.post(f"/admin/staff/{person.id}/password", data={"password": NEW, "csrf_token": token})
    assert done.status_code == 303
    assert "has a new password and is signed out everywhere" in http.get("/admin/staff").get_data(as_text=True)
    assert not signed_in(theirs)
    # Nobody is at their console until they sign in with the new password: no customer is put through.
    assert agent_status(app, person.agent_id) == "offline"
    assert sign_in(app.test_client(), person.email, NEW).status_code == 302
    (line,) = lines(app, "staff.password")
    assert line.actor_staff_id == admin.id


def test_an_admins_reset_checks_the_password_and_sends_them_to_their_own_page_for_theirs(
    app: Flask, clock: FixedClock
) -> None:
    admin = account(app, clock, "admin")
    person = account(app, clock, "agent")
    http = app.test_client()
    sign_in(http, admin.email)
    token = csrf_token(http, "/admin/staff")
    short = http.post(f"/admin/staff/{person.id}/password", data={"password": "short", "csrf_token": token})
    assert short.status_code == 422 and "at least 12 characters" in short.get_data(as_text=True)
    own = http.post(f"/admin/staff/{admin.id}/password", data={"password": NEW, "csrf_token": token})
    assert own.status_code == 303 and own.location.endswith(PAGE)
    assert http.post("/admin/staff/99999/password", data={"password": NEW, "csrf_token": token}).status_code == 404
    assert lines(app, "staff.password") == []


def test_a_supervisor_cannot_reset_passwords(app: Flask, clock: FixedClock) -> None:
    supervisor = account(app, clock, "supervisor")
    person = account(app, clock, "agent")
    http = app.test_client()
    sign_in(http, supervisor.email)
    token = csrf_token(http, "/staff")
    refused = http.post(f"/admin/staff/{person.id}/password", data={"password": NEW, "csrf_token": token})
    assert refused.status_code == 403


@pytest.mark.parametrize("how", ["disable", "role", "password"])
def test_an_agent_whose_sessions_someone_else_ended_leaves_the_line(app: Flask, clock: FixedClock, how: str) -> None:
    """A dismissed agent's phone must stop ringing with customers the moment the account is disabled."""
    person = account(app, clock, "agent", with_agent=True)
    with get_db(app).sessions() as s:
        if how == "disable":
            disable(s, person.id, clock=clock, actor="cli:ops")
        elif how == "role":
            set_role(s, person.id, "supervisor", clock=clock, actor="cli:ops")
        else:
            set_password(s, person.id, NEW, clock=clock, actor="cli:ops")
    assert agent_status(app, person.agent_id) == "offline"


def test_an_agent_on_a_call_when_disabled_finishes_it_and_then_goes_offline(app: Flask, clock: FixedClock) -> None:
    person = account(app, clock, "agent", with_agent=True)
    with get_db(app).sessions() as s:
        agent = s.get(Agent, person.agent_id)
        assert agent is not None
        agent.status = "on_call"
        s.commit()
        disable(s, person.id, clock=clock)
        s.refresh(agent)
        assert (agent.status, agent.after_call_status) == ("on_call", "signed_out")


def test_a_mistyped_staff_address_answers_in_the_staff_frame_with_a_way_back(app: Flask, clock: FixedClock) -> None:
    person = account(app, clock, "supervisor")
    http = app.test_client()
    sign_in(http, person.email)
    missing = http.get("/admin/nothing-here")
    page = missing.get_data(as_text=True)
    assert missing.status_code == 404
    assert "There is no page at this address" in page
    assert 'aria-label="Staff"' in page and "Sign out" in page  # the staff navigation, not the customer site
    assert 'href="/login">your start page</a>' in page
    assert http.get("/login").location == "/board"


def test_a_sign_out_everywhere_committed_just_after_your_own_change_still_ends_this_session(
    app: Flask, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """This session keeps the version its own change wrote, never one a later end of every session wrote."""
    from agents import account as account_page

    person = account(app, clock, "agent", with_agent=True)
    here = app.test_client()
    sign_in(here, person.email)
    real = account_page.set_password

    def own_change_then_admin_reset(db, staff_id, password, **kwargs):
        changed = real(db, staff_id, password, **kwargs)
        # An admin resets the password (the account looked compromised) a moment later, elsewhere.
        with get_db(app).sessions() as other:
            set_password(other, staff_id, "the admin's fresh passphrase", actor="admin@example.com")
        return changed

    monkeypatch.setattr(account_page, "set_password", own_change_then_admin_reset)
    assert change(here, STAFF_PASSWORD).status_code == 303
    assert not signed_in(here)
