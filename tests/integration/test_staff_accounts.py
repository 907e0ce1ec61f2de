"""Staff accounts and the audit log: validation, passwords, roles, disabling, the operator commands, the demo."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from agents import audit, staff
from agents.staff import StaffUser
from callback.models import DISPOSITIONS, CallbackRequest
from core.clock import FixedClock
from core.db import get_db
from core.errors import Conflict, InvalidInput, NotFound
from tests import factories
from tests.factories import STAFF_PASSWORD


def test_an_account_is_stored_with_a_lower_cased_email_and_an_argon2_hash(session: Session, clock: FixedClock) -> None:
    account = staff.add_staff(session, clock, "  Ana.Lima@Example.COM ", "Ana  Lima", "agent", STAFF_PASSWORD)
    assert (account.email, account.name, account.role, account.active) == (
        "ana.lima@example.com",
        "Ana Lima",
        "agent",
        True,
    )
    assert account.password_hash.startswith("$argon2id$")
    assert STAFF_PASSWORD not in account.password_hash
    assert account.created_at == clock.now() and account.last_login_at is None
    assert staff.get_by_email(session, "ANA.LIMA@example.com") is account
    assert staff.check_password(account, STAFF_PASSWORD)
    assert not staff.check_password(account, STAFF_PASSWORD.upper())
    assert not staff.check_password(None, STAFF_PASSWORD)


@pytest.mark.parametrize(
    ("email", "role", "password", "code"),
    [
        ("not-an-email", "agent", STAFF_PASSWORD, "bad_email"),
        ("a b@example.com", "agent", STAFF_PASSWORD, "bad_email"),
        ("x" * 250 + "@example.com", "agent", STAFF_PASSWORD, "bad_email"),
        ("ana@example.com", "owner", STAFF_PASSWORD, "bad_role"),
        ("ana@example.com", "agent", "elevenchars", "weak_password"),
        ("ana@example.com", "agent", "", "weak_password"),
        ("ana@example.com", "agent", "p" * 1025, "bad_password"),
    ],
)
def test_an_account_needs_an_email_a_known_role_and_a_long_password(
    session: Session, clock: FixedClock, email: str, role: str, password: str, code: str
) -> None:
    with pytest.raises(InvalidInput) as error:
        staff.add_staff(session, clock, email, "Ana", role, password)
    assert error.value.code == code
    assert staff.list_staff(session) == []


def test_an_email_has_one_account_whatever_its_case(session: Session, clock: FixedClock) -> None:
    staff.add_staff(session, clock, "ana@example.com", "Ana", "agent", STAFF_PASSWORD)
    with pytest.raises(Conflict):
        staff.add_staff(session, clock, "ANA@example.com", "Ana again", "admin", STAFF_PASSWORD)


def test_an_account_links_to_an_existing_agent_and_only_one_account_per_agent(
    session: Session, clock: FixedClock
) -> None:
    agent = factories.agent(session, clock.now())
    with pytest.raises(InvalidInput) as error:
        staff.add_staff(session, clock, "ana@example.com", "Ana", "agent", STAFF_PASSWORD, agent_id=agent.id + 99)
    assert error.value.code == "unknown_agent"
    linked = staff.add_staff(session, clock, "ana@example.com", "Ana", "agent", STAFF_PASSWORD, agent_id=agent.id)
    assert linked.agent is agent
    with pytest.raises(Conflict):
        staff.add_staff(session, clock, "bo@example.com", "Bo", "agent", STAFF_PASSWORD, agent_id=agent.id)


def test_adding_changing_and_disabling_accounts_is_audited_with_who_and_when(
    session: Session, clock: FixedClock
) -> None:
    admin = factories.staff(session, clock.now(), "admin", email="root@example.com")
    account = staff.add_staff(
        session, clock, "ana@example.com", "Ana", "agent", STAFF_PASSWORD, actor=admin, address="203.0.113.9"
    )
    clock.advance(minutes=1)
    staff.set_role(session, account.id, "supervisor", clock=clock, actor=admin, address="203.0.113.9")
    clock.advance(minutes=1)
    staff.disable(session, account.id, clock=clock, actor="cli:ops")
    assert not account.active and not account.is_active

    lines = [(e.action, e.target, e.actor, e.actor_staff_id, e.address, e.details_dict) for e in audit.recent(session)]
    assert lines[:3] == [
        ("staff.disable", f"staff {account.id}", "cli:ops", None, None, {"email": "ana@example.com"}),
        (
            "staff.role",
            f"staff {account.id}",
            "root@example.com",
            admin.id,
            "203.0.113.9",
            {"from": "agent", "to": "supervisor"},
        ),
        (
            "staff.add",
            f"staff {account.id}",
            "root@example.com",
            admin.id,
            "203.0.113.9",
            {"agent_id": None, "email": "ana@example.com", "role": "agent"},
        ),
    ]
    minute = timedelta(minutes=1)
    assert [e.at for e in audit.recent(session, limit=3)] == [
        clock.now(),
        clock.now() - minute,
        clock.now() - 2 * minute,
    ]


def test_the_last_active_admin_cannot_be_demoted_or_disabled(session: Session, clock: FixedClock) -> None:
    admin = factories.staff(session, clock.now(), "admin")
    with pytest.raises(Conflict):
        staff.set_role(session, admin.id, "agent")
    with pytest.raises(Conflict):
        staff.disable(session, admin.id)
    second = factories.staff(session, clock.now(), "admin")
    staff.disable(session, admin.id)
    assert not admin.active
    with pytest.raises(Conflict):
        staff.set_role(session, second.id, "supervisor")


def test_unknown_accounts_and_roles_are_refused(session: Session, clock: FixedClock) -> None:
    with pytest.raises(NotFound):
        staff.set_role(session, 999, "agent")
    with pytest.raises(NotFound):
        staff.disable(session, 2**40)
    with pytest.raises(NotFound):
        staff.find(session, "nobody@example.com")
    account = factories.staff(session, clock.now())
    with pytest.raises(InvalidInput):
        staff.set_role(session, account.id, "root")
    assert staff.find(session, str(account.id)) is account
    assert staff.find(session, account.email.upper()) is account


def test_a_roles_powers_are_checked_as_given_and_an_admin_may_do_everything(
    session: Session, clock: FixedClock
) -> None:
    agent, supervisor, admin = (factories.staff(session, clock.now(), role) for role in staff.ROLES)
    assert agent.may("agent") and not agent.may("supervisor")
    assert supervisor.may("supervisor") and not supervisor.may("agent") and not supervisor.may("admin")
    assert admin.may("agent") and admin.may("supervisor") and admin.may("admin")


def test_an_audit_line_names_a_staff_actor_a_label_or_the_system(session: Session, clock: FixedClock) -> None:
    account = factories.staff(session, clock.now())
    by_staff = audit.record(session, "agent.status", "agent 3", {"to": "away"}, actor=account, address="::1")
    by_token = audit.record(session, "request.cancel", "request 9", actor=audit.API_TOKEN)
    by_system = audit.record(session, "queue.update", "queue orders", at=clock.now())
    session.commit()
    assert (by_staff.actor, by_staff.actor_staff_id, json.loads(by_staff.details or "")) == (
        account.email,
        account.id,
        {"to": "away"},
    )
    assert (by_token.actor, by_token.actor_staff_id, by_token.details) == ("api-token", None, None)
    assert (by_system.actor, by_system.at) == ("system", clock.now())


def test_a_request_keeps_its_disposition_note_and_who_wrote_it(session: Session, clock: FixedClock) -> None:
    assert DISPOSITIONS == ("resolved", "follow_up", "call_back_later", "wrong_queue", "other")
    account = factories.staff(session, clock.now())
    request = factories.request(session, clock.now(), status="completed")
    request.disposition, request.note = "follow_up", "Wants a refund by Friday."
    request.disposed_at, request.disposed_by_staff_id = clock.now(), account.id
    session.commit()
    session.expunge_all()
    stored = session.get(CallbackRequest, request.id)
    assert stored is not None
    assert (stored.disposition, stored.note, stored.disposed_at, stored.disposed_by_staff_id) == (
        "follow_up",
        "Wants a refund by Friday.",
        clock.now(),
        account.id,
    )


# The operator commands.


def run(app: Flask, *args: str, input: str | None = None):  # noqa: A002 - click's own name for it
    result = app.test_cli_runner().invoke(args=list(args), input=input)
    return result


def test_staff_add_reads_the_password_from_standard_input_and_prints_the_id(app: Flask) -> None:
    result = run(
        app,
        "staff", "add", "--email", "Ana@Example.com", "--name", "Ana Lima", "--role", "supervisor", "--password-stdin",
        input=STAFF_PASSWORD + "\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert STAFF_PASSWORD not in result.output
    with get_db(app).sessions() as s:
        account = s.scalar(select(StaffUser))
        assert account is not None
        assert result.output.strip() == str(account.id)
        assert (account.email, account.role) == ("ana@example.com", "supervisor")
        assert staff.check_password(account, STAFF_PASSWORD)
        line = audit.recent(s)[0]
        assert (line.action, line.target) == ("staff.add", f"staff {account.id}")
        assert line.actor.startswith("cli")


def test_staff_add_links_an_agent_and_refuses_a_short_password_or_none_on_stdin(app: Flask, clock: FixedClock) -> None:
    with get_db(app).sessions() as s:
        agent_id = factories.agent(s, clock.now()).id
    base = ["staff", "add", "--email", "ana@example.com", "--name", "Ana", "--role", "agent"]
    short = run(app, *base, "--password-stdin", input="short\n")
    assert short.exit_code != 0 and "12 characters" in short.output
    without_flag = run(app, *base, input=STAFF_PASSWORD + "\n")
    assert without_flag.exit_code != 0
    linked = run(app, *base, "--agent", str(agent_id), "--password-stdin", input=STAFF_PASSWORD)
    assert linked.exit_code == 0, linked.output
    listed = run(app, "staff", "list")
    assert listed.exit_code == 0
    assert listed.output.split("\t")[1:6] == ["ana@example.com", "Ana", "agent", f"agent={agent_id}", "active"]


def test_staff_set_role_and_disable_by_id_or_email_are_audited(app: Flask, clock: FixedClock) -> None:
    with get_db(app).sessions() as s:
        account_id = factories.staff(s, clock.now(), "agent", email="ana@example.com").id
    changed = run(app, "staff", "set-role", "ANA@example.com", "supervisor")
    assert changed.exit_code == 0, changed.output
    assert changed.output.strip() == f"{account_id}\tana@example.com\tsupervisor"
    disabled = run(app, "staff", "disable", str(account_id))
    assert disabled.exit_code == 0, disabled.output
    assert "disabled" in run(app, "staff", "list").output
    assert run(app, "staff", "disable", "999").exit_code != 0
    assert run(app, "staff", "set-role", str(account_id), "owner").exit_code != 0
    with get_db(app).sessions() as s:
        lines = [(e.action, e.target, e.at) for e in audit.recent(s, limit=2)]
        assert lines == [
            ("staff.disable", f"staff {account_id}", clock.now()),
            ("staff.role", f"staff {account_id}", clock.now()),
        ]
        assert all(e.actor.startswith("cli") for e in audit.recent(s, limit=2))
    # Enabled again, by email: it signs in with the password it had.
    enabled = run(app, "staff", "enable", "ana@example.com")
    assert enabled.exit_code == 0 and enabled.output.strip() == f"{account_id}\tana@example.com\tenabled"
    assert "disabled" not in run(app, "staff", "list").output


def test_a_new_password_is_checked_audited_without_itself_and_moves_the_session_version_on(
    session: Session, clock: FixedClock
) -> None:
    account = factories.staff(session, clock.now(), "agent", email="ana@example.com")
    assert account.session_version == 0
    with pytest.raises(InvalidInput):
        staff.set_password(session, account.id, "short")
    with pytest.raises(NotFound):
        staff.set_password(session, 999, "a brand new long password")
    staff.set_password(session, account.id, "a brand new long password", clock=clock, actor="cli:ops")
    assert staff.check_password(account, "a brand new long password")
    assert not staff.check_password(account, STAFF_PASSWORD)
    assert account.session_version == 1
    line = audit.recent(session)[0]
    assert (line.action, line.target, line.actor) == ("staff.password", f"staff {account.id}", "cli:ops")
    assert line.details is None


def test_a_new_role_or_disabling_moves_the_session_version_on_and_a_rehash_does_not(
    session: Session, clock: FixedClock
) -> None:
    from argon2 import PasswordHasher

    account = factories.staff(session, clock.now(), "agent")
    account.password_hash = PasswordHasher(time_cost=1, memory_cost=16, parallelism=1).hash(STAFF_PASSWORD)
    session.commit()
    old_hash = account.password_hash
    assert staff.check_password(account, STAFF_PASSWORD)
    session.commit()
    assert account.password_hash != old_hash  # rehashed with the current parameters: the same password
    assert account.session_version == 0
    staff.set_role(session, account.id, "agent")  # no change, nothing ends
    assert account.session_version == 0
    staff.set_role(session, account.id, "supervisor")
    assert account.session_version == 1
    staff.disable(session, account.id)
    assert account.session_version == 2


def test_staff_set_password_reads_standard_input_and_is_audited(app: Flask, clock: FixedClock) -> None:
    with get_db(app).sessions() as s:
        account_id = factories.staff(s, clock.now(), "agent", email="ana@example.com").id
    new = "a brand new long password\n"
    changed = run(app, "staff", "set-password", "ANA@example.com", "--password-stdin", input=new)
    assert changed.exit_code == 0, changed.output
    assert "a brand new long password" not in changed.output
    assert changed.output.startswith(f"{account_id}\tana@example.com\t")
    assert run(app, "staff", "set-password", "ana@example.com", "--password-stdin", input="short\n").exit_code != 0
    assert run(app, "staff", "set-password", "ana@example.com", input=new).exit_code != 0
    assert run(app, "staff", "set-password", "999", "--password-stdin", input=new).exit_code != 0
    with get_db(app).sessions() as s:
        account = s.get(StaffUser, account_id)
        assert account is not None and staff.check_password(account, "a brand new long password")
        line = audit.recent(s)[0]
        assert (line.action, line.target) == ("staff.password", f"staff {account_id}")
        assert line.actor.startswith("cli")


def test_the_demo_creates_the_three_development_accounts_once(app: Flask) -> None:
    first = run(app, "demo")
    assert first.exit_code == 0, first.output
    assert "agent@example.com (agent), password agent-dev-password" in first.output
    again = run(app, "demo")
    assert again.exit_code == 0 and "demo staff" not in again.output
    with get_db(app).sessions() as s:
        accounts = {a.email: a for a in staff.list_staff(s)}
        assert {e: a.role for e, a in accounts.items()} == {
            "agent@example.com": "agent",
            "supervisor@example.com": "supervisor",
            "admin@example.com": "admin",
        }
        linked = accounts["agent@example.com"].agent
        assert linked is not None and linked.name == "Alice Moreau"
        assert staff.check_password(accounts["admin@example.com"], "admin-dev-password")


def test_the_demo_creates_no_accounts_with_published_passwords_in_production(
    session: Session, clock: FixedClock
) -> None:
    from core.config import Settings
    from core.demo import _load_demo_staff

    said = list(_load_demo_staff(session, clock, Settings(app_env="production")))
    assert "skipped" in said[0]
    assert staff.list_staff(session) == []
