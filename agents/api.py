"""The admin JSON API for agents: register, list, change availability."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from agents import audit, service
from core.auth import admin_token_required
from core.errors import DomainError, InvalidInput
from core.web import clock, json_error, phone_policy, session, wake_dispatcher

bp = Blueprint("agents_api", __name__, url_prefix="/api/agents")


@bp.errorhandler(DomainError)
def _domain_error(error: DomainError) -> ResponseReturnValue:
    return json_error(error)


def _body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidInput("bad_json", "The request body must be a JSON object.")
    return body


def _optional_string(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidInput(f"bad_{key}", f"'{key}' must be a string.", key)
    return value


def _audit(action: str, target: str, details: dict[str, Any]) -> None:
    """Write one audit line for a change made with the admin token, from the caller's address, and commit it."""
    audit.record(
        session(), action, target, details, actor=audit.API_TOKEN, address=request.remote_addr, at=clock().now()
    )
    session().commit()


@bp.get("")
@admin_token_required
def list_agents() -> ResponseReturnValue:
    """Every agent with queues and status."""
    return jsonify([service.agent_json(a) for a in service.list_agents(session())])


@bp.post("")
@admin_token_required
def add_agent() -> ResponseReturnValue:
    """Register an agent; answers 201 with the agent and its id."""
    body = _body()
    queues = body.get("queues")
    if isinstance(queues, str):
        queues = queues.split(",")
    if not isinstance(queues, list) or not all(isinstance(q, str) for q in queues):
        raise InvalidInput("bad_queues", "'queues' must be a list of queue names.", "queues")
    agent = service.add_agent(
        session(),
        clock(),
        phone_policy(),
        name=_optional_string(body, "name") or "",
        queue_names=queues,
        phone=_optional_string(body, "phone"),
        client=_optional_string(body, "client"),
    )
    _audit("agent.add", f"agent {agent.id}", {"name": agent.name, "queues": [q.name for q in agent.queues]})
    return jsonify(service.agent_json(agent)), 201


@bp.post("/<agent_id>/status")
@admin_token_required
def set_status(agent_id: str) -> ResponseReturnValue:
    """Set an agent available, away or offline."""
    status = _body().get("status")
    if not isinstance(status, str):
        raise InvalidInput("bad_status", "'status' must be available, away or offline.", "status")
    agent = service.get_agent(session(), service.parse_agent_id(agent_id))
    before = agent.status
    service.set_status(session(), clock(), agent.id, status)
    if agent.status != before:
        _audit("agent.status", f"agent {agent.id}", {"from": before, "to": agent.status})
    if agent.status == "available":
        wake_dispatcher()  # a free agent should not wait for the next tick
    return jsonify(service.agent_json(agent))
