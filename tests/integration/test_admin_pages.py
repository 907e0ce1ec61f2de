"""The supervisors' and admins' pages: who may see what, each action, its audit line, CSRF refusals."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from agents import audit
from agents.models import Agent, Queue
from agents.staff import StaffUser
from callback.models import AgentLeg, CallAttempt, CallbackRequest, DoNotCall
from core.clock import FixedClock
from core.db import get_db
from ivr.models import IvrSession
from tests import factories, signin
from tests.factories import STAFF_PASSWORD
from tests.signin import csrf_token

SUPERVISOR_PAGES = ("/admin", "/admin/agents", "/admin/requests")
ADMIN_PAGES = ("/admin/staff", "/admin/queues", "/admin/queues/orders", "/admin/dnc")


def text(response) -> str:
    """The page as a person reads it: HTML entities decoded."""
    return html.unescape(response.get_data(as_text=True))


@pytest.fixture
def db_session(app: Flask) -> Iterator[Session]:
    """A session on the app's database, for arranging and checking what the pages did."""
    with get_db(app).sessions() as s:
        yield s


@pytest.fixture
def sign_in(app: Flask, db_session: Session, clock: FixedClock) -> Callable[..., FlaskClient]:
    """A fresh browser signed in as a new staff member with `role`."""

    def signed_in(role: str) -> FlaskClient:
        user = factories.staff(db_session, clock.now(), role)
        client = app.test_client()
        response = signin.sign_in(client, user.email)
        assert response.status_code == 302, text(response)
        return client

    return signed_in


@pytest.fixture
def supervisor(sign_in: Callable[..., FlaskClient]) -> FlaskClient:
    return sign_in("supervisor")


@pytest.fixture
def admin(sign_in: Callable[..., FlaskClient]) -> FlaskClient:
    return sign_in("admin")


def post(client: FlaskClient, form_page: str, action: str, **data: str):
    """Submit a form as the browser would: with the CSRF token of the page it sits on."""
    return client.post(action, data={"csrf_token": csrf_token(client, form_page), **data})


def audit_lines(db_session: Session, action: str) -> list[audit.AuditEvent]:
    db_session.expire_all()
    return [event for event in audit.recent(db_session, 100) if event.action == action]


# --- who may see what -----------------------------------------------------------------------------


@pytest.mark.parametrize("path", SUPERVISOR_PAGES + ADMIN_PAGES + ("/admin/requests/1",))
def test_a_signed_out_browser_is_sent_to_sign_in_and_back(client: FlaskClient, path: str) -> None:
    response = client.get(path)

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert path in html.unescape(response.headers["Location"]).replace("%2F", "/")


def test_an_agent_may_open_no_admin_page(sign_in: Callable[..., FlaskClient]) -> None:
    agent = sign_in("agent")

    for path in SUPERVISOR_PAGES + ADMIN_PAGES:
        assert agent.get(path).status_code == 403, path


def test_an_agent_cannot_change_anyones_status(
    sign_in: Callable[..., FlaskClient], db_session: Session, clock: FixedClock
) -> None:
    worker = factories.agent(db_session, clock.now(), status="available")
    agent = sign_in("agent")

    response = agent.post(
        f"/admin/agents/{worker.id}/status", data={"csrf_token": csrf_token(agent, "/staff"), "status": "away"}
    )

    assert response.status_code == 403
    db_session.refresh(worker)
    assert worker.status == "available"


def test_a_supervisor_sees_agents_and_requests_but_not_staff_queues_or_do_not_call(
    supervisor: FlaskClient, db_session: Session, clock: FixedClock
) -> None:
    req = factories.request(db_session, clock.now())

    for path in SUPERVISOR_PAGES + (f"/admin/requests/{req.id}",):
        assert supervisor.get(path).status_code == 200, path
    for path in ADMIN_PAGES:
        assert supervisor.get(path).status_code == 403, path
    token = csrf_token(supervisor, "/admin/agents")
    assert supervisor.post("/admin/dnc", data={"csrf_token": token, "phone": "2015550199"}).status_code == 403
    assert supervisor.post("/admin/queues/orders", data={"csrf_token": token, "hours": "24/7"}).status_code == 403
    assert db_session.get(DoNotCall, "+12015550199") is None


def test_the_index_links_only_to_the_pages_the_role_may_use(supervisor: FlaskClient, admin: FlaskClient) -> None:
    mine = text(supervisor.get("/admin"))
    everything = text(admin.get("/admin"))

    assert 'href="/admin/agents"' in mine and 'href="/admin/requests"' in mine
    assert 'href="/admin/staff"' not in mine and 'href="/admin/dnc"' not in mine
    for path in ("/admin/agents", "/admin/requests", "/admin/staff", "/admin/queues", "/admin/dnc"):
        assert f'href="{path}"' in everything


# --- agents ---------------------------------------------------------------------------------------


def test_the_agents_page_shows_status_since_when_why_and_queues(
    supervisor: FlaskClient, db_session: Session, clock: FixedClock
) -> None:
    worker = factories.agent(db_session, clock.now() - timedelta(minutes=18), queues=("orders", "returns"))
    worker.move_to("away", clock.now() - timedelta(minutes=12), reason="missed a call from the orders line")
    db_session.commit()

    page = text(supervisor.get("/admin/agents"))

    card = page[page.index(f'id="agent-{worker.id}"') :]
    assert worker.name in card
    assert "away" in card
    # 14:48 UTC is 09:48 in New York, the zone of the agent's first queue.
    assert "09:48 EST" in card and "(12 min)" in card
    assert "missed a call from the orders line" in card
    assert "Orders, tracking and delivery, Returns and refunds" in card


def test_a_supervisor_sets_an_agent_away_and_it_is_audited(
    supervisor: FlaskClient, db_session: Session, clock: FixedClock
) -> None:
    worker = factories.agent(db_session, clock.now(), status="available")

    response = post(supervisor, "/admin/agents", f"/admin/agents/{worker.id}/status", status="away")

    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/agents"
    db_session.refresh(worker)
    assert worker.status == "away"
    assert worker.status_reason == "set by Test Supervisor (supervisor)"
    [line] = audit_lines(db_session, "agent.status")
    assert line.target == f"agent {worker.id}"
    assert line.details_dict == {"from": "available", "to": "away"}
    assert line.actor.startswith("supervisor") and line.actor_staff_id is not None
    assert line.address == "127.0.0.1"
    assert f"{worker.name} is now away." in text(supervisor.get("/admin/agents"))


def test_making_an_agent_available_wakes_the_dispatcher(
    app: Flask, supervisor: FlaskClient, db_session: Session, clock: FixedClock
) -> None:
    woken: list[bool] = []
    app.extensions["wake_dispatcher"] = lambda: woken.append(True)
    worker = factories.agent(db_session, clock.now(), status="offline")

    post(supervisor, "/admin/agents", f"/admin/agents/{worker.id}/status", status="available")

    db_session.refresh(worker)
    assert worker.status == "available"
    assert woken == [True]


def test_an_agent_on_a_call_set_away_keeps_the_call_and_goes_away_after_it(
    supervisor: FlaskClient, db_session: Session, clock: FixedClock
) -> None:
    worker = factories.agent(db_session, clock.now(), status="on_call")

    response = post(supervisor, "/admin/agents", f"/admin/agents/{worker.id}/status", status="away")

    assert response.status_code == 303
    page = text(supervisor.get("/admin/agents"))
    assert f"{worker.name} keeps this call and will be away when it ends." in page
    assert "Away when this call ends" in page  # the wish, shown beside their status
    db_session.refresh(worker)
    assert (worker.status, worker.after_call_status) == ("on_call", "away")
    assert audit_lines(db_session, "agent.status") == []
    [wish] = audit_lines(db_session, "agent.after_call")
    assert wish.details_dict["after_call"] == "away"
    # The agent's console says who asked, before the call ends and after.
    from agents import desk, service

    assert desk.status_summary(worker, clock.now()).endswith(
        "Away when this call ends: set by Test Supervisor (supervisor)"
    )
    worker.move_to("wrap_up", clock.now())
    assert service.after_call(db_session, worker, clock.now())
    db_session.commit()
    assert (worker.status, worker.status_reason) == ("away", "set by Test Supervisor (supervisor)")
    assert worker.after_call_reason is None


def test_an_agent_on_a_call_cannot_be_made_available_and_the_page_says_why(
    supervisor: FlaskClient, db_session: Session, clock: FixedClock
) -> None:
    worker = factories.agent(db_session, clock.now(), status="on_call")

    response = post(supervisor, "/admin/agents", f"/admin/agents/{worker.id}/status", status="available")

    assert response.status_code == 409
    assert f"{worker.name} is on a call right now and cannot be set available" in text(response)
    assert f'id="agent-{worker.id}-error"' in text(response)
    db_session.refresh(worker)
    assert worker.status == "on_call"
    assert audit_lines(db_session, "agent.status") == []


def test_setting_an_unknown_status_or_agent_is_refused(supervisor: FlaskClient, db_session: Session, clock) -> None:
    worker = factories.agent(db_session, clock.now())

    assert post(supervisor, "/admin/agents", f"/admin/agents/{worker.id}/status", status="on_call").status_code == 422
    assert post(supervisor, "/admin/agents", "/admin/agents/99999/status", status="away").status_code == 404
    assert audit_lines(db_session, "agent.status") == []


def test_a_status_change_without_a_csrf_token_is_refused(
    supervisor: FlaskClient, db_session: Session, clock: FixedClock
) -> None:
    worker = factories.agent(db_session, clock.now(), status="available")

    response = supervisor.post(f"/admin/agents/{worker.id}/status", data={"status": "away"})

    assert response.status_code == 400
    assert "This page has expired" in text(response)
    db_session.refresh(worker)
    assert worker.status == "available"
    assert audit_lines(db_session, "agent.status") == []


# --- requests -------------------------------------------------------------------------------------


def _request_with_history(db_session: Session, clock: FixedClock) -> tuple[CallbackRequest, Agent]:
    """A phone-menu request with one attempt whose first agent missed and second accepted, wrapped up."""
    now = clock.now()
    first = factories.agent(db_session, now)
    second = factories.agent(db_session, now)
    ivr = IvrSession(
        call_sid="CA" + "1" * 32,
        caller="+12015550142",
        called="+15005550006",
        started_at=now - timedelta(minutes=20),
        updated_at=now - timedelta(minutes=19),
        node="main",
        steps=json.dumps(
            [
                {"at": (now - timedelta(minutes=20)).isoformat(), "node": "main", "kind": "offer", "speech": "orders"},
                {
                    "at": (now - timedelta(minutes=19)).isoformat(),
                    "node": "lookup",
                    "kind": "lookup",
                    "result": "shipped",
                },
            ]
        ),
    )
    db_session.add(ivr)
    db_session.commit()
    req = factories.request(
        db_session,
        now,
        status="completed",
        phone="+12015550142",
        age=timedelta(minutes=19),
        source="ivr",
        outcome="completed",
        order_number="112-4455667-1234567",
        ivr_context=json.dumps({"summary": "", "ivr_session": ivr.id, "topic": "orders"}),
        disposition="follow_up",
        note="Wants a refund if the parcel is not there by Friday.",
    )
    attempt = CallAttempt(
        request_id=req.id,
        agent_id=second.id,
        call_sid="CA" + "2" * 32,
        created_at=now - timedelta(minutes=10),
        dialled_at=now - timedelta(minutes=10),
        ended_at=now - timedelta(minutes=2),
        outcome="completed",
        talk_seconds=420,
    )
    db_session.add(attempt)
    db_session.flush()
    db_session.add_all(
        [
            AgentLeg(attempt_id=attempt.id, agent_id=first.id, rung_at=now - timedelta(minutes=9), outcome="no_answer"),
            AgentLeg(
                attempt_id=attempt.id,
                agent_id=second.id,
                rung_at=now - timedelta(minutes=9),
                accepted_at=now - timedelta(minutes=9),
                outcome="accepted",
            ),
        ]
    )
    db_session.commit()
    return req, first


def test_a_request_page_shows_the_customer_attempts_agent_legs_menu_steps_and_wrap_up(
    supervisor: FlaskClient, db_session: Session, clock: FixedClock
) -> None:
    req, missed_agent = _request_with_history(db_session, clock)

    page = text(supervisor.get(f"/admin/requests/{req.id}"))

    for expected in (
        "Test Customer",
        "+1 201-555-0142",
        "Orders, tracking and delivery",
        "112-4455667-1234567",
        "completed",
        "phone menu",
        "talked 420 s",
        f"{missed_agent.name}: rung 09:51:",  # a call's steps to the second
        "no answer",
        "accepted",
        "speech: orders",
        "result: shipped",
        "Follow up",
        "Wants a refund if the parcel is not there by Friday.",
    ):
        assert expected in page, expected


def test_an_unknown_request_is_not_found(supervisor: FlaskClient) -> None:
    assert supervisor.get("/admin/requests/424242").status_code == 404
    assert supervisor.get("/admin/requests/99999999999").status_code == 404


def test_a_reference_leads_to_its_request(supervisor: FlaskClient, db_session: Session, clock: FixedClock) -> None:
    req = factories.request(db_session, clock.now())

    response = supervisor.get("/admin/requests", query_string={"q": req.ref})

    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/requests/{req.id}"


def test_the_last_digits_list_the_requests_whose_phone_ends_in_them(
    supervisor: FlaskClient, db_session: Session, clock: FixedClock
) -> None:
    only = factories.request(db_session, clock.now(), phone="+12015550177")
    factories.request(db_session, clock.now(), phone="+12015550188", topic="orders")
    factories.request(db_session, clock.now(), phone="+13125550188", topic="returns")

    one = supervisor.get("/admin/requests", query_string={"q": "0177"})
    several = supervisor.get("/admin/requests", query_string={"q": " 0188 "})
    none = supervisor.get("/admin/requests", query_string={"q": "4321"})

    # A list now, even of one: the filters stay in view (only a whole reference opens its request).
    assert one.status_code == 200
    assert "1 request" in text(one) and f'href="/admin/requests/{only.id}"' in text(one)
    assert several.status_code == 200
    assert "2 requests" in text(several)
    assert "+1 201-555-0188" in text(several) and "+1 312-555-0188" in text(several)
    assert "No request has a phone number ending in 4321." in text(none)
    assert "No request has that reference." in text(supervisor.get("/admin/requests", query_string={"q": "nope"}))


# --- staff ----------------------------------------------------------------------------------------


def test_an_admin_adds_a_staff_member_linked_to_an_agent_and_it_is_audited(
    admin: FlaskClient, app: Flask, db_session: Session, clock: FixedClock
) -> None:
    worker = factories.agent(db_session, clock.now())

    response = post(
        admin,
        "/admin/staff",
        "/admin/staff",
        email="New.Agent@Example.com",
        name="Nadia New",
        role="agent",
        agent_id=str(worker.id),
        password=STAFF_PASSWORD,
    )

    assert response.status_code == 303
    page = text(admin.get("/admin/staff"))
    assert "Nadia New can now sign in as new.agent@example.com." in page
    assert worker.name in page
    user = db_session.scalar(select(StaffUser).where(StaffUser.email == "new.agent@example.com"))
    assert user is not None and user.agent_id == worker.id and user.role == "agent"
    [line] = [e for e in audit_lines(db_session, "staff.add") if e.target == f"staff {user.id}"]
    assert line.actor.startswith("admin") and line.address == "127.0.0.1"
    # The new account signs in.
    login = signin.sign_in(app.test_client(), "new.agent@example.com")
    assert login.status_code == 302


def test_a_bad_staff_form_is_explained_next_to_each_field(admin: FlaskClient, db_session: Session) -> None:
    bad_email = post(
        admin, "/admin/staff", "/admin/staff", email="nope", name="X", role="agent", password=STAFF_PASSWORD
    )
    weak = post(admin, "/admin/staff", "/admin/staff", email="a@example.com", name="X", role="agent", password="short")
    bad_role = post(
        admin, "/admin/staff", "/admin/staff", email="b@example.com", name="X", role="boss", password=STAFF_PASSWORD
    )

    assert bad_email.status_code == 422
    assert 'id="email-error"' in text(bad_email) and "valid email address" in text(bad_email)
    assert 'aria-invalid="true"' in text(bad_email)
    assert weak.status_code == 422
    assert 'id="password-error"' in text(weak) and "at least 12 characters" in text(weak)
    assert bad_role.status_code == 422 and 'id="role-error"' in text(bad_role)
    # What was typed stays, except the password.
    assert 'value="a@example.com"' in text(weak)
    assert "short" not in re.findall(r'<input[^>]*id="password"[^>]*>', text(weak))[0]
    assert db_session.scalar(select(StaffUser).where(StaffUser.email == "a@example.com")) is None


def test_an_admin_changes_a_role_and_disables_an_account(
    admin: FlaskClient, sign_in: Callable[..., FlaskClient], app: Flask, db_session: Session
) -> None:
    other = sign_in("agent")
    user = db_session.scalar(select(StaffUser).where(StaffUser.role == "agent"))
    assert user is not None

    promoted = post(admin, "/admin/staff", f"/admin/staff/{user.id}/role", role="supervisor")
    disabled = post(admin, "/admin/staff", f"/admin/staff/{user.id}/disable")

    assert promoted.status_code == 303 and disabled.status_code == 303
    db_session.refresh(user)
    assert user.role == "supervisor" and not user.active
    [role_line] = audit_lines(db_session, "staff.role")
    assert role_line.details_dict["from"] == "agent" and role_line.details_dict["to"] == "supervisor"
    assert role_line.actor.startswith("admin")
    [disable_line] = audit_lines(db_session, "staff.disable")
    assert disable_line.target == f"staff {user.id}"
    # A disabled account is signed out at its next request.
    assert other.get("/admin").status_code == 302
    page = text(admin.get("/admin/staff"))
    assert f'action="/admin/staff/{user.id}/enable"' in page

    # A slip of the Disable button is undone: the account signs in again, with the password it had.
    enabled = post(admin, "/admin/staff", f"/admin/staff/{user.id}/enable")
    assert enabled.status_code == 303
    db_session.refresh(user)
    assert user.active
    [enable_line] = audit_lines(db_session, "staff.enable")
    assert enable_line.target == f"staff {user.id}"
    assert "can sign in again" in text(admin.get("/admin/staff"))


def test_the_last_admin_cannot_be_demoted_and_the_page_says_so(admin: FlaskClient, db_session: Session) -> None:
    me = db_session.scalar(select(StaffUser).where(StaffUser.role == "admin"))
    assert me is not None

    response = post(admin, "/admin/staff", f"/admin/staff/{me.id}/role", role="agent")

    assert response.status_code == 409
    assert "last active admin" in text(response)
    db_session.refresh(me)
    assert me.role == "admin"


def test_staff_changes_need_a_csrf_token(admin: FlaskClient, db_session: Session) -> None:
    response = admin.post(
        "/admin/staff", data={"email": "c@example.com", "name": "C", "role": "admin", "password": STAFF_PASSWORD}
    )

    assert response.status_code == 400
    assert db_session.scalar(select(StaffUser).where(StaffUser.email == "c@example.com")) is None


# --- queues ---------------------------------------------------------------------------------------

QUEUE_FORM = {
    "hours": "mon-fri 08:00-18:00",
    "timezone": "America/Chicago",
    "caller_id": "(201) 555-0100",
    "max_attempts": "4",
    "backoff_seconds": "60, 300",
    "expiry_hours": "12",
    "wrap_up_seconds": "45",
    "dial_strategy": "agent_first",
    "recording": "y",
    "service_level_seconds": "600",
}


def test_the_queues_page_shows_every_queues_settings(admin: FlaskClient) -> None:
    page = text(admin.get("/admin/queues"))

    for name in ("orders", "returns", "payments", "account", "devices", "other"):
        assert f'id="queue-{name}"' in page
    assert "mon-fri 09:00-17:00 (America/New_York)" in page
    assert "at most 3 calls, waiting 120, 600, 1800 s" in page


def test_an_admin_edits_a_queue_and_the_change_is_audited_before_and_after(
    admin: FlaskClient, db_session: Session
) -> None:
    form = text(admin.get("/admin/queues/orders"))
    assert 'value="mon-fri 09:00-17:00"' in form and 'value="30"' in form

    response = post(admin, "/admin/queues/orders", "/admin/queues/orders", **QUEUE_FORM)

    assert response.status_code == 303
    queue = factories.queue(db_session, "orders")
    db_session.refresh(queue)
    assert (queue.hours, queue.timezone, queue.caller_id) == ("mon-fri 08:00-18:00", "America/Chicago", "+12015550100")
    assert (queue.max_attempts, queue.backoff_seconds, queue.expiry_hours) == (4, "60,300", 12)
    assert (queue.wrap_up_seconds, queue.dial_strategy, queue.recording) == (45, "agent_first", True)
    assert queue.service_level_seconds == 600
    [line] = audit_lines(db_session, "queue.update")
    assert line.target == "queue orders"
    assert line.details_dict["before"]["wrap_up_seconds"] == 30
    assert line.details_dict["after"]["wrap_up_seconds"] == 45
    assert line.details_dict["after"]["recording"] is True
    assert "Orders, tracking and delivery: settings saved." in text(admin.get("/admin/queues"))


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("hours", "someday 9-5", "Unknown day"),
        ("timezone", "Mars/Olympus", "Unknown time zone"),
        ("backoff_seconds", "soon", "Back-off is seconds"),
        ("max_attempts", "0", "Max attempts must be at least 1"),
        ("wrap_up_seconds", "-5", "Wrap up seconds cannot be negative"),
        ("wrap_up_seconds", "1000000000000", "Wrap up seconds is at most 86400"),
        ("wrap_up_seconds", "99999999999999999999", "at most 86400"),
        ("service_level_seconds", "99999999999999999999", "at most 86400"),
        ("max_attempts", "1000", "Max attempts is at most 50"),
        ("backoff_seconds", "60,99999999999", "at most 604800 seconds"),
        ("hours", "", "Opening hours are empty"),
        ("hours", "   ", "Opening hours are empty"),
        ("wrap_up_seconds", "half a minute", "whole number"),
        ("service_level_seconds", "", "whole number"),
        ("service_level_seconds", "0", "Service level seconds must be at least 1"),
        ("caller_id", "12", "too short"),
        ("dial_strategy", "random", "Not a valid choice"),
    ],
)
def test_a_bad_queue_setting_is_explained_next_to_its_field_and_nothing_is_saved(
    admin: FlaskClient, db_session: Session, field: str, value: str, words: str
) -> None:
    response = post(admin, "/admin/queues/orders", "/admin/queues/orders", **{**QUEUE_FORM, field: value})

    page = text(response)
    assert response.status_code == 422
    error = re.search(rf'<p class="error" id="{field}-error" role="alert">([^<]*)</p>', page)
    assert error, page
    assert words.lower() in error.group(1).lower()
    assert re.search(rf'<[^>]*id="{field}"[^>]*aria-invalid="true"|<[^>]*aria-invalid="true"[^>]*id="{field}"', page)
    queue = factories.queue(db_session, "orders")
    db_session.refresh(queue)
    assert queue.wrap_up_seconds == 30 and queue.hours == "mon-fri 09:00-17:00"
    assert audit_lines(db_session, "queue.update") == []


def test_lowering_max_attempts_says_which_waiting_requests_it_ends(
    admin: FlaskClient, db_session: Session, clock: FixedClock
) -> None:
    factories.request(db_session, clock.now(), status="retry_wait", attempts=2)
    factories.request(db_session, clock.now(), status="retry_wait", attempts=1)
    post(admin, "/admin/queues/orders", "/admin/queues/orders", **{**QUEUE_FORM, "max_attempts": "2"})
    page = text(admin.get("/admin/queues"))
    assert "1 waiting request has already had 2 calls or more: it ends at the next turn" in page


def test_an_unknown_queue_is_not_found(admin: FlaskClient) -> None:
    assert admin.get("/admin/queues/nope").status_code == 404


def test_a_queue_edit_needs_a_csrf_token(admin: FlaskClient, db_session: Session) -> None:
    response = admin.post("/admin/queues/orders", data={**QUEUE_FORM})

    assert response.status_code == 400
    queue: Queue = factories.queue(db_session, "orders")
    db_session.refresh(queue)
    assert queue.wrap_up_seconds == 30


# --- do not call ----------------------------------------------------------------------------------


def test_an_admin_lists_a_number_its_waiting_request_is_canceled_and_it_is_audited(
    admin: FlaskClient, db_session: Session, clock: FixedClock
) -> None:
    waiting = factories.request(db_session, clock.now(), phone="+12015550199")

    response = post(admin, "/admin/dnc", "/admin/dnc", phone="(201) 555-0199", reason="asked on the phone")

    assert response.status_code == 303
    page = text(admin.get("/admin/dnc"))
    assert "+12015550199 will not be called. 1 active callback(s) canceled." in page
    assert "asked on the phone" in page
    db_session.refresh(waiting)
    assert waiting.status == "canceled" and waiting.outcome == "do_not_call"
    [line] = audit_lines(db_session, "dnc.add")
    assert line.target == "dnc +12015550199"
    assert line.details_dict == {"reason": "asked on the phone", "canceled_requests": 1}


def test_a_bad_number_or_a_long_reason_is_explained_next_to_its_field(admin: FlaskClient, db_session: Session) -> None:
    bad = post(admin, "/admin/dnc", "/admin/dnc", phone="12", reason="")
    long = post(admin, "/admin/dnc", "/admin/dnc", phone="2015550199", reason="x" * 201)

    assert bad.status_code == 422 and 'id="phone-error"' in text(bad)
    assert long.status_code == 422 and 'id="reason-error"' in text(long)
    assert db_session.scalars(select(DoNotCall)).all() == []


def test_an_admin_removes_a_number_from_the_list(admin: FlaskClient, db_session: Session) -> None:
    post(admin, "/admin/dnc", "/admin/dnc", phone="2015550199")

    response = post(admin, "/admin/dnc", "/admin/dnc/remove", phone="+12015550199")

    assert response.status_code == 303
    assert "+12015550199 may be called again." in text(admin.get("/admin/dnc"))
    assert db_session.get(DoNotCall, "+12015550199") is None
    again = post(admin, "/admin/dnc", "/admin/dnc/remove", phone="+12015550199")
    assert again.status_code == 409 and "was not on the list" in text(again)
    [line] = audit_lines(db_session, "dnc.remove")
    assert line.target == "dnc +12015550199"


def test_do_not_call_changes_need_a_csrf_token(admin: FlaskClient, db_session: Session) -> None:
    assert admin.post("/admin/dnc", data={"phone": "2015550199"}).status_code == 400
    assert db_session.get(DoNotCall, "+12015550199") is None
