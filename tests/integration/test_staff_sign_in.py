"""Staff sign-in: the pages, the guard on staff views, the limits on attempts, session expiry, the audit lines."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from agents import audit, auth
from agents.auth import (
    MAX_FAILURES_PER_ACCOUNT,
    MAX_FAILURES_PER_ADDRESS,
    SIGNED_IN_AT,
    WINDOW,
    current_staff,
    session_expired,
    staff_required,
)
from agents.staff import StaffUser, disable, set_password, set_role
from core.clock import FixedClock
from core.db import get_db
from tests import factories
from tests.signin import csrf_token, sign_in, sign_out

FAILED = "That email and password do not match an active account."


@pytest.fixture
def guarded(app: Flask) -> Flask:
    """The app with a few views behind staff_required, as the console and admin pages use it."""

    @app.get("/t/agent-desk")
    @staff_required("agent")
    def agent_desk() -> str:
        return f"desk of {current_staff().email}"

    @app.get("/t/board")
    @staff_required("supervisor")
    def board() -> str:
        return "board"

    @app.get("/t/anyone")
    @staff_required()
    def anyone() -> str:
        return current_staff().role

    @app.get("/t/api/things")
    @staff_required("admin")
    def api_things() -> dict[str, str]:
        return {"ok": "yes"}

    @app.get("/t/desk/state")
    @staff_required("agent")
    def desk_state() -> dict[str, str]:
        return {"ok": "yes"}

    return app


def account(app: Flask, clock: FixedClock, role: str = "agent", email: str | None = None) -> StaffUser:
    with get_db(app).sessions() as s:
        return factories.staff(s, clock.now(), role, email=email)


def lines(app: Flask, action: str | None = None) -> list[audit.AuditEvent]:
    with get_db(app).sessions() as s:
        return [e for e in audit.recent(s, limit=1000) if action is None or e.action == action]


# The guard on staff views.


def test_a_signed_out_page_goes_to_the_sign_in_page_and_comes_back(guarded: Flask, clock: FixedClock) -> None:
    http = guarded.test_client()
    page = http.get("/t/agent-desk?tab=today")
    assert page.status_code == 302
    assert page.location == "/login?next=/t/agent-desk?tab%3Dtoday"
    form = http.get(page.location).get_data(as_text=True)
    assert 'name="next" type="hidden" value="/t/agent-desk?tab=today"' in form
    ana = account(guarded, clock, "agent", "ana@example.com")
    signed_in = sign_in(http, "ana@example.com", next_path="/t/agent-desk?tab=today")
    assert signed_in.status_code == 302 and signed_in.location == "/t/agent-desk?tab=today"
    assert http.get("/t/agent-desk").get_data(as_text=True) == f"desk of {ana.email}"


def test_a_form_posted_after_the_sign_in_lapsed_does_not_come_back_to_a_post_only_url(
    app: Flask, clock: FixedClock
) -> None:
    http = app.test_client()
    posted = http.post("/agent/status", data={"status": "away", "csrf_token": csrf_token(http)})
    assert posted.status_code == 302 and posted.location == "/login"
    account(app, clock, "agent", "ana@example.com")
    signed_in = sign_in(http, "ana@example.com")
    assert signed_in.status_code == 302 and http.get(signed_in.location).status_code != 405


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/t/api/things", {}),
        ("/t/desk/state", {}),
        ("/t/agent-desk", {"Accept": "application/json"}),
        ("/t/agent-desk", {"Accept": "text/event-stream"}),
    ],
)
def test_a_signed_out_script_gets_401_in_json(guarded: Flask, path: str, headers: dict[str, str]) -> None:
    response = guarded.test_client().get(path, headers=headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "sign_in_required"


def test_a_browser_accepting_anything_is_sent_to_sign_in(guarded: Flask) -> None:
    accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    assert guarded.test_client().get("/t/agent-desk", headers={"Accept": accept}).status_code == 302
    assert guarded.test_client().get("/t/agent-desk", headers={"Accept": "*/*"}).status_code == 302


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("agent", {"/t/agent-desk", "/t/anyone", "/t/desk/state"}),
        ("supervisor", {"/t/board", "/t/anyone"}),
        ("admin", {"/t/agent-desk", "/t/board", "/t/anyone", "/t/api/things", "/t/desk/state"}),
    ],
)
def test_each_role_reaches_its_own_views_and_is_forbidden_the_others(
    guarded: Flask, clock: FixedClock, role: str, allowed: set[str]
) -> None:
    person = account(guarded, clock, role)
    http = guarded.test_client()
    assert sign_in(http, person.email).status_code == 302
    for path in ("/t/agent-desk", "/t/board", "/t/anyone", "/t/api/things", "/t/desk/state"):
        response = http.get(path)
        assert response.status_code == (200 if path in allowed else 403), (role, path)
        if response.status_code == 403 and ("/api/" in path or path.endswith("/state")):
            assert response.get_json()["error"]["code"] == "forbidden"


def test_a_forbidden_page_says_so_in_words(guarded: Flask, clock: FixedClock) -> None:
    person = account(guarded, clock, "agent")
    http = guarded.test_client()
    sign_in(http, person.email)
    page = http.get("/t/board")
    assert page.status_code == 403
    assert "not for your role" in page.get_data(as_text=True)


def test_staff_required_refuses_a_role_that_does_not_exist() -> None:
    with pytest.raises(ValueError):
        staff_required("owner")


# Signing in and out.


def test_signing_in_records_the_time_and_an_audit_line_with_the_address(app: Flask, clock: FixedClock) -> None:
    person = account(app, clock, "supervisor", "sam@example.com")
    http = app.test_client()
    response = sign_in(http, "SAM@example.com", environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert response.status_code == 302
    assert response.location.startswith("/") and response.location != "/login"
    assert "sam@example.com" in http.get("/staff").get_data(as_text=True)
    ok = lines(app, "login.ok")
    assert [(e.actor, e.actor_staff_id, e.target, e.address, e.at) for e in ok] == [
        ("sam@example.com", person.id, "sam@example.com", "198.51.100.7", clock.now())
    ]
    with get_db(app).sessions() as s:
        stored = s.get(StaffUser, person.id)
        assert stored is not None and stored.last_login_at == clock.now()


def test_a_wrong_password_and_an_unknown_email_fail_alike_and_are_audited(app: Flask, clock: FixedClock) -> None:
    account(app, clock, "agent", "ana@example.com")
    http = app.test_client()
    wrong = sign_in(http, "ana@example.com", "not the password at all")
    unknown = sign_in(http, "nobody@example.com")
    assert wrong.status_code == unknown.status_code == 401
    for response in (wrong, unknown):
        assert FAILED in response.get_data(as_text=True)
    assert http.get("/staff").status_code == 302
    failed = lines(app, "login.fail")
    assert [(e.target, e.actor, e.actor_staff_id, e.address, e.details_dict["reason"]) for e in failed] == [
        ("nobody@example.com", "anonymous", None, "127.0.0.1", "unknown_email"),
        ("ana@example.com", "anonymous", None, "127.0.0.1", "bad_password"),
    ]
    assert all("not the password" not in (e.details or "") for e in failed)


def test_a_disabled_account_cannot_sign_in_and_is_signed_out_at_once(app: Flask, clock: FixedClock) -> None:
    person = account(app, clock, "agent")
    http = app.test_client()
    assert sign_in(http, person.email).status_code == 302
    assert http.get("/staff").status_code == 200
    with get_db(app).sessions() as s:
        disable(s, person.id)
    assert http.get("/staff").status_code == 302
    again = sign_in(http, person.email)
    assert again.status_code == 401 and FAILED in again.get_data(as_text=True)
    assert lines(app, "login.fail")[0].details_dict["reason"] == "disabled"


def test_signing_out_takes_a_post_with_its_token_and_is_audited(app: Flask, clock: FixedClock) -> None:
    person = account(app, clock, "agent")
    http = app.test_client()
    sign_in(http, person.email)
    assert http.get("/logout").status_code == 405
    assert http.post("/logout").status_code == 400
    assert http.get("/staff").status_code == 200
    out = sign_out(http)
    assert out.status_code == 302 and out.location == "/login"
    assert http.get("/staff").status_code == 302
    assert [(e.actor, e.address) for e in lines(app, "logout")] == [(person.email, "127.0.0.1")]


def test_signing_in_needs_the_forms_csrf_token(app: Flask, clock: FixedClock) -> None:
    person = account(app, clock, "agent")
    http = app.test_client()
    response = http.post("/login", data={"email": person.email, "password": factories.STAFF_PASSWORD})
    assert response.status_code == 400
    assert http.get("/staff").status_code == 302
    assert lines(app, "login.ok") == []


@pytest.mark.parametrize(
    "next_path",
    ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)", "/login", "/ok\nSet: x"],
)
def test_next_is_followed_only_to_a_local_path(app: Flask, clock: FixedClock, next_path: str) -> None:
    person = account(app, clock, "agent")
    http = app.test_client()
    response = sign_in(http, person.email, next_path=next_path)
    assert response.status_code == 302
    # The person's landing page instead, the same as the sign-in page sends them to once signed in.
    assert response.location == http.get("/login").location
    assert "evil" not in response.location and response.location != "/login"


def test_the_sign_in_page_sends_someone_signed_in_on_their_way(app: Flask, clock: FixedClock) -> None:
    person = account(app, clock, "admin")
    http = app.test_client()
    landing = sign_in(http, person.email).location
    assert http.get("/login").location == landing
    assert http.get("/login?next=/staff%3Fx%3D1").location == "/staff?x=1"


def test_the_staff_frame_shows_the_name_and_a_sign_out_button(app: Flask, clock: FixedClock) -> None:
    person = account(app, clock, "admin")
    http = app.test_client()
    sign_in(http, person.email)
    page = http.get("/staff").get_data(as_text=True)
    assert person.name in page
    assert 'action="/logout"' in page and 'name="csrf_token"' in page


def test_the_address_behind_a_trusted_proxy_is_the_forwarded_one(database_url: str, clock: FixedClock) -> None:
    from app import create_app

    proxied = create_app({"app_env": "testing", "database_url": database_url, "trusted_proxies": 1}, clock=clock)
    person = account(proxied, clock, "agent")
    sign_in(proxied.test_client(), person.email, headers={"X-Forwarded-For": "192.0.2.44"})
    assert [e.address for e in lines(proxied, "login.ok")] == ["192.0.2.44"]
    get_db(proxied).engine.dispose()


# The limits on attempts.


def fail(http: FlaskClient, email: str, address: str = "127.0.0.1", times: int = 1) -> None:
    for _ in range(times):
        response = sign_in(http, email, "wrong password, again", environ_base={"REMOTE_ADDR": address})
        assert response.status_code == 401


def test_five_failures_lock_the_account_for_fifteen_minutes_even_with_the_right_password(
    app: Flask, clock: FixedClock
) -> None:
    person = account(app, clock, "agent", "ana@example.com")
    http = app.test_client()
    fail(http, "ana@example.com", times=MAX_FAILURES_PER_ACCOUNT)
    locked = sign_in(http, "ana@example.com")
    assert locked.status_code == 429
    assert "Too many sign-in attempts. Try again in 15 minutes." in locked.get_data(as_text=True)
    assert int(locked.headers["Retry-After"]) == WINDOW.total_seconds()
    assert lines(app, "login.refused")[0].details_dict == {"reason": "account_locked"}
    # Refusals while locked do not extend the lock: it ends 15 minutes after the fifth failure.
    clock.advance(minutes=14, seconds=59)
    assert sign_in(http, "ANA@example.com").status_code == 429
    clock.advance(seconds=1)
    assert sign_in(http, "ana@example.com").status_code == 302
    assert lines(app, "login.ok")[0].actor_staff_id == person.id


def test_an_accounts_lock_leaves_other_accounts_alone(app: Flask, clock: FixedClock) -> None:
    account(app, clock, "agent", "ana@example.com")
    bo = account(app, clock, "agent", "bo@example.com")
    http = app.test_client()
    fail(http, "ana@example.com", times=MAX_FAILURES_PER_ACCOUNT)
    assert sign_in(http, bo.email).status_code == 302


def test_an_unknown_email_locks_exactly_as_a_real_one(app: Flask, clock: FixedClock) -> None:
    http = app.test_client()
    fail(http, "nobody@example.com", times=MAX_FAILURES_PER_ACCOUNT)
    assert sign_in(http, "nobody@example.com").status_code == 429


def test_failures_older_than_the_window_do_not_count(app: Flask, clock: FixedClock) -> None:
    person = account(app, clock, "agent")
    http = app.test_client()
    fail(http, person.email, times=MAX_FAILURES_PER_ACCOUNT - 1)
    clock.advance(minutes=16)
    fail(http, person.email, times=MAX_FAILURES_PER_ACCOUNT - 1)
    assert sign_in(http, person.email).status_code == 302


def test_an_address_with_twenty_failures_is_refused_for_every_account(app: Flask, clock: FixedClock) -> None:
    person = account(app, clock, "agent")
    http = app.test_client()
    for n in range(MAX_FAILURES_PER_ADDRESS):
        fail(http, f"guess{n}@example.com", address="203.0.113.50")
    refused = sign_in(http, person.email, environ_base={"REMOTE_ADDR": "203.0.113.50"})
    assert refused.status_code == 429
    assert lines(app, "login.refused")[0].details_dict == {"reason": "address_limit"}
    elsewhere = sign_in(app.test_client(), person.email, environ_base={"REMOTE_ADDR": "203.0.113.51"})
    assert elsewhere.status_code == 302


def test_one_ipv6_64_is_one_address_for_the_limit(app: Flask, clock: FixedClock) -> None:
    """An IPv6 subscriber may use any address of their /64: moving to a fresh one buys no more guesses."""
    person = account(app, clock, "agent")
    http = app.test_client()
    for n in range(MAX_FAILURES_PER_ADDRESS):
        fail(http, f"guess{n}@example.com", address=f"2001:db8:7:1::{n + 1:x}")
    refused = sign_in(http, person.email, environ_base={"REMOTE_ADDR": "2001:db8:7:1:abcd::99"})
    assert refused.status_code == 429
    assert lines(app, "login.refused")[0].details_dict == {"reason": "address_limit"}
    next_network = sign_in(app.test_client(), person.email, environ_base={"REMOTE_ADDR": "2001:db8:7:2::1"})
    assert next_network.status_code == 302


def test_the_limits_hold_across_app_instances_sharing_a_database(
    app: Flask, database_url: str, clock: FixedClock
) -> None:
    from app import create_app

    other = create_app({"app_env": "testing", "database_url": database_url}, clock=clock)
    person = account(app, clock, "agent")
    fail(app.test_client(), person.email, times=MAX_FAILURES_PER_ACCOUNT)
    assert sign_in(other.test_client(), person.email).status_code == 429
    get_db(other).engine.dispose()


# The limits under simultaneous attempts: the count and the attempt's line are written under one lock.


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The emails whose passwords were really checked; each check takes as long as production's argon2id
    (the tests' hashes are cheap), so that simultaneous attempts overlap as they do in production."""
    emails: list[str] = []
    real = auth.check_password

    def slow_check(staff: StaffUser | None, password: str) -> bool:
        emails.append(staff.email if staff is not None else "(none)")
        time.sleep(0.2)
        return real(staff, password)

    monkeypatch.setattr(auth, "check_password", slow_check)
    return emails


def at_once(app: Flask, attempts: list[tuple[str, str]]) -> list[int]:
    """POST a wrong password for each (email, address) at the same moment, a thread and a browser each;
    the status codes, sorted."""
    browsers = [app.test_client() for _ in attempts]
    tokens = [csrf_token(browser) for browser in browsers]
    start = threading.Barrier(len(attempts))
    codes: list[int] = []

    def attempt(n: int) -> None:
        email, address = attempts[n]
        data = {"email": email, "password": "wrong password, again", "csrf_token": tokens[n]}
        start.wait()
        codes.append(browsers[n].post("/login", data=data, environ_base={"REMOTE_ADDR": address}).status_code)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(len(attempts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(codes) == len(attempts)
    return sorted(codes)


def test_forty_simultaneous_wrong_passwords_for_one_account_check_only_five(
    app: Flask, clock: FixedClock, checked: list[str]
) -> None:
    """The review's race: every attempt counted the failures before any had written its own, so all 40
    passwords were checked. Each from its own address, so only the account's limit applies."""
    person = account(app, clock, "agent")
    codes = at_once(app, [(person.email, f"203.0.113.{n}") for n in range(1, 41)])
    assert len(checked) == MAX_FAILURES_PER_ACCOUNT
    assert codes == [401] * MAX_FAILURES_PER_ACCOUNT + [429] * (40 - MAX_FAILURES_PER_ACCOUNT)
    assert len(lines(app, "login.fail")) == MAX_FAILURES_PER_ACCOUNT
    assert len(lines(app, "login.refused")) == 40 - MAX_FAILURES_PER_ACCOUNT


def test_forty_simultaneous_wrong_passwords_from_one_address_check_only_twenty(
    app: Flask, clock: FixedClock, checked: list[str]
) -> None:
    codes = at_once(app, [(f"guess{n}@example.com", "198.51.100.9") for n in range(40)])
    assert len(checked) == MAX_FAILURES_PER_ADDRESS
    assert codes == [401] * MAX_FAILURES_PER_ADDRESS + [429] * (40 - MAX_FAILURES_PER_ADDRESS)
    assert len(lines(app, "login.fail")) == MAX_FAILURES_PER_ADDRESS


def test_an_attempt_with_the_right_password_does_not_count_as_a_failure(app: Flask, clock: FixedClock) -> None:
    """An attempt counts as a failure while its password is checked; the right password then stops it counting."""
    person = account(app, clock, "agent")
    fail(app.test_client(), person.email, times=MAX_FAILURES_PER_ACCOUNT - 1)
    assert sign_in(app.test_client(), person.email).status_code == 302
    assert sign_in(app.test_client(), person.email).status_code == 302
    assert [len(lines(app, action)) for action in ("login.fail", "login.ok")] == [MAX_FAILURES_PER_ACCOUNT - 1, 2]


# How long a sign-in lasts.


def test_a_sign_in_ends_after_staff_session_hours(app: Flask, clock: FixedClock) -> None:
    person = account(app, clock, "agent")
    http = app.test_client()
    sign_in(http, person.email)
    clock.advance(hours=11, minutes=59)
    assert http.get("/staff").status_code == 200
    clock.advance(minutes=1)
    assert http.get("/staff").status_code == 302
    assert http.get("/staff", headers={"Accept": "application/json"}).status_code == 401


def test_an_old_session_cookie_replayed_is_refused(app: Flask, clock: FixedClock) -> None:
    person = account(app, clock, "agent")
    http = app.test_client()
    sign_in(http, person.email)
    cookie = http.get_cookie("session")
    assert cookie is not None
    clock.advance(hours=13)
    replay = app.test_client()
    replay.set_cookie("session", cookie.value)
    assert replay.get("/staff").status_code == 302


def test_the_session_cookie_lifetime_follows_the_setting(database_url: str, clock: FixedClock) -> None:
    from app import create_app

    short = create_app({"app_env": "testing", "database_url": database_url, "staff_session_hours": 1}, clock=clock)
    assert short.permanent_session_lifetime == timedelta(hours=1)
    person = account(short, clock, "agent")
    http = short.test_client()
    sign_in(http, person.email)
    cookie = http.get_cookie("session")
    assert cookie is not None and cookie.expires is not None
    clock.advance(minutes=61)
    assert http.get("/staff").status_code == 302
    get_db(short).engine.dispose()


def test_the_expiry_rule(clock: FixedClock) -> None:
    now, limit = clock.now(), timedelta(hours=12)
    assert not session_expired(now.timestamp(), now, limit)
    assert not session_expired((now - limit + timedelta(seconds=1)).timestamp(), now, limit)
    assert session_expired((now - limit).timestamp(), now, limit)
    # A sign-in from the future is a forged or broken clock: refused, beyond a little drift.
    assert not session_expired((now + timedelta(minutes=1)).timestamp(), now, limit)
    assert session_expired((now + timedelta(hours=1)).timestamp(), now, limit)
    assert session_expired(None, now, limit)
    assert session_expired("soon", now, limit)  # type: ignore[arg-type]


# Signing out, a new password, a new role or disabling ends the account's sessions, wherever they are.


def copy_of_cookie(app: Flask, http: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of `http`'s session cookie, as someone who copied it would."""
    cookie = http.get_cookie("session")
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value)
    return thief


def assert_signed_out(http: FlaskClient, page: str = "/staff", script: str = "/board/state") -> None:
    response = http.get(page)
    assert response.status_code == 302 and response.location.startswith("/login"), (page, response.status_code)
    answer = http.get(script)
    assert answer.status_code == 401 and answer.get_json()["error"]["code"] == "sign_in_required"


def test_a_session_cookie_copied_before_signing_out_is_signed_out_too(app: Flask, clock: FixedClock) -> None:
    """The review's replay: the cookie alone used to be the session, so signing out ended nothing."""
    person = account(app, clock, "supervisor")
    http = app.test_client()
    sign_in(http, person.email)
    assert copy_of_cookie(app, http).get("/board/state").status_code == 200
    thief = copy_of_cookie(app, http)
    sign_out(http)
    assert_signed_out(thief, "/admin/requests")
    assert_signed_out(thief, "/board")
    assert_signed_out(http)


def test_signing_out_ends_the_accounts_sessions_on_every_device_and_says_so(app: Flask, clock: FixedClock) -> None:
    person = account(app, clock, "supervisor")
    laptop, wall = app.test_client(), app.test_client()
    sign_in(laptop, person.email)
    sign_in(wall, person.email)
    out = sign_out(laptop)
    assert "signed out on every device" in laptop.get(out.location).get_data(as_text=True)
    assert_signed_out(wall)
    assert sign_in(wall, person.email).status_code == 302
    assert wall.get("/board/state").status_code == 200


@pytest.mark.parametrize("change", ["password", "role", "disable"])
def test_a_change_to_the_account_elsewhere_ends_its_sessions(app: Flask, clock: FixedClock, change: str) -> None:
    person = account(app, clock, "supervisor")
    account(app, clock, "admin")  # so that the supervisor's changes are allowed
    http = app.test_client()
    sign_in(http, person.email)
    with get_db(app).sessions() as s:
        if change == "password":
            set_password(s, person.id, "a brand new long password", clock=clock)
        elif change == "role":
            set_role(s, person.id, "admin", clock=clock)
        else:
            disable(s, person.id, clock=clock)
    assert_signed_out(http)


def test_a_new_password_set_from_the_command_line_ends_sessions_and_the_old_password(
    app: Flask, clock: FixedClock
) -> None:
    person = account(app, clock, "agent")
    elsewhere = app.test_client()
    sign_in(elsewhere, person.email)
    changed = app.test_cli_runner().invoke(
        args=["staff", "set-password", person.email, "--password-stdin"], input="a brand new long password\n"
    )
    assert changed.exit_code == 0, changed.output
    assert_signed_out(elsewhere, script="/agent/state")
    assert sign_in(app.test_client(), person.email).status_code == 401
    assert sign_in(app.test_client(), person.email, "a brand new long password").status_code == 302


def test_a_session_from_before_session_versions_counts_as_signed_out(app: Flask, clock: FixedClock) -> None:
    """A cookie written before migration 0018 names the account and the time, and no version."""
    person = account(app, clock, "supervisor")
    http = app.test_client()
    with http.session_transaction() as cookie:
        cookie["_user_id"] = str(person.id)
        cookie["_fresh"] = True
        cookie[SIGNED_IN_AT] = clock.now().timestamp()
    assert_signed_out(http)


def test_the_sign_in_form_carries_a_csrf_token(client: FlaskClient) -> None:
    assert csrf_token(client)


def test_a_staff_form_sent_after_the_sign_in_ended_says_to_sign_in_again(app: Flask, clock: FixedClock) -> None:
    person = account(app, clock, "agent")
    http = app.test_client()
    token = csrf_token(http)
    sign_in(http, person.email)
    http.delete_cookie("session")
    response = http.post("/logout", data={"csrf_token": token})
    assert response.status_code == 400
    assert "sign in again" in response.get_data(as_text=True)
