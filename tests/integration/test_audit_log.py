"""Changes made with the admin token or an operator command are written to the audit log, as the web's are."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from agents import audit
from core.clock import FixedClock
from core.db import get_db
from tests import factories


def lines(app: Flask) -> list[tuple[str, str, str, str | None, dict]]:
    with get_db(app).sessions() as s:
        return [(e.action, e.target, e.actor, e.address, e.details_dict) for e in audit.recent(s)]


def test_the_admin_api_audits_a_new_agent_and_a_status_change_as_the_token(
    app: Flask, client: FlaskClient, admin_headers: dict[str, str], clock: FixedClock
) -> None:
    added = client.post(
        "/api/agents",
        json={"name": "Dana Scully", "phone": "+12015550111", "queues": ["orders"]},
        headers=admin_headers,
        environ_base={"REMOTE_ADDR": "198.51.100.20"},
    )
    agent_id = added.get_json()["id"]
    client.post(f"/api/agents/{agent_id}/status", json={"status": "available"}, headers=admin_headers)
    # The same status again changes nothing, and says nothing.
    client.post(f"/api/agents/{agent_id}/status", json={"status": "available"}, headers=admin_headers)
    assert lines(app) == [
        ("agent.status", f"agent {agent_id}", "api-token", "127.0.0.1", {"from": "offline", "to": "available"}),
        ("agent.add", f"agent {agent_id}", "api-token", "198.51.100.20", {"name": "Dana Scully", "queues": ["orders"]}),
    ]
    with get_db(app).sessions() as s:
        assert audit.recent(s)[0].at == clock.now()


def test_a_refused_status_change_is_not_audited(app: Flask, client: FlaskClient, admin_headers: dict[str, str]) -> None:
    response = client.post("/api/agents/999/status", json={"status": "available"}, headers=admin_headers)
    assert response.status_code == 404
    assert lines(app) == []


def test_operator_commands_audit_agents_queues_and_the_do_not_call_list(app: Flask, clock: FixedClock) -> None:
    runner = app.test_cli_runner()
    added = runner.invoke(args=["agents", "add", "--name", "Ada Park", "--phone", "+12015550155", "--queues", "orders"])
    agent_id = int(added.output.strip())
    assert runner.invoke(args=["agents", "status", str(agent_id), "away"]).exit_code == 0
    assert runner.invoke(args=["queues", "set", "orders", "--max-attempts", "4", "--wrap-up", "30"]).exit_code == 0
    assert runner.invoke(args=["queues", "set", "orders", "--max-attempts", "4"]).exit_code == 0  # nothing changed
    assert runner.invoke(args=["dnc", "add", "+12015550188", "--reason", "asked by phone"]).exit_code == 0
    assert runner.invoke(args=["dnc", "remove", "+12015550188"]).exit_code == 0
    assert runner.invoke(args=["dnc", "remove", "+12015550188"]).exit_code == 0  # was not listed
    recorded = lines(app)
    assert [(action, target) for action, target, *_ in recorded] == [
        ("dnc.remove", "dnc +12015550188"),
        ("dnc.add", "dnc +12015550188"),
        ("queue.update", "queue orders"),
        ("agent.status", f"agent {agent_id}"),
        ("agent.add", f"agent {agent_id}"),
    ]
    assert all(actor.startswith("cli") and address is None for _a, _t, actor, address, _d in recorded)
    assert recorded[1][4] == {"reason": "asked by phone", "canceled_requests": 0}
    assert recorded[2][4] == {"created": False, "before": {"max_attempts": 3}, "after": {"max_attempts": 4}}
    assert recorded[3][4] == {"from": "offline", "to": "away"}


def test_a_new_queue_from_the_command_line_is_audited_as_created(app: Flask) -> None:
    result = app.test_cli_runner().invoke(
        args=[
            "queues", "set", "vip", "--create", "--display-name", "VIP", "--caller-id", "+15005550006",
            "--timezone", "America/New_York", "--hours", "24/7",
        ]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    action, target, _actor, _address, details = lines(app)[0]
    assert (action, target, details["created"]) == ("queue.update", "queue vip", True)


def test_a_staff_builder_account_can_act_in_the_log(session, clock: FixedClock) -> None:
    person = factories.staff(session, clock.now(), "supervisor")
    audit.record(session, "request.cancel", "request 4", actor=person, at=clock.now())
    session.commit()
    assert audit.recent(session)[0].actor == person.email
