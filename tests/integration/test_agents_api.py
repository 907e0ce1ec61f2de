"""The admin agents API: bearer token, registration, listing, availability."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient


def add(http: FlaskClient, headers: dict[str, str], **body: object):
    payload = {"name": "Dana Scully", "phone": "+12015550111", "queues": ["orders", "returns"], **body}
    return http.post("/api/agents", json={k: v for k, v in payload.items() if v is not None}, headers=headers)


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Basic ZGV2LWFkbWluLXRva2Vu"},
        {"Authorization": "Bearer"},
    ],
)
def test_admin_endpoints_need_the_bearer_token(client: FlaskClient, headers: dict[str, str]) -> None:
    for response in (
        client.get("/api/agents", headers=headers),
        client.post("/api/agents", json={}, headers=headers),
        client.post("/api/agents/1/status", json={"status": "available"}, headers=headers),
    ):
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_an_agent_is_registered_listed_and_made_available(client: FlaskClient, admin_headers: dict[str, str]) -> None:
    created = add(client, admin_headers)
    assert created.status_code == 201
    agent = created.get_json()
    assert (agent["status"], agent["queues"], agent["phone"]) == (
        "offline",
        ["orders", "returns"],
        "+12015550111",
    )
    listed = client.get("/api/agents", headers=admin_headers).get_json()
    assert [a["id"] for a in listed] == [agent["id"]]
    changed = client.post(f"/api/agents/{agent['id']}/status", json={"status": "available"}, headers=admin_headers)
    assert changed.status_code == 200
    assert changed.get_json()["status"] == "available"


def test_a_browser_agent_has_a_client_identity(client: FlaskClient, admin_headers: dict[str, str]) -> None:
    response = add(client, admin_headers, phone=None, client="dana", queues="orders")
    assert response.status_code == 201
    assert response.get_json()["client"] == "dana"


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({"phone": None}, 422),
        ({"client": "dana"}, 422),
        ({"queues": []}, 422),
        ({"queues": ["orders", "weather"]}, 422),
        ({"queues": 5}, 422),
        ({"name": ""}, 422),
        ({"phone": "12"}, 422),
        ({"client": "bad identity!", "phone": None}, 422),
    ],
)
def test_bad_registrations_are_refused(
    client: FlaskClient, admin_headers: dict[str, str], changes: dict[str, object], status: int
) -> None:
    response = add(client, admin_headers, **changes)
    assert response.status_code == status
    assert response.get_json()["error"]["message"]


def test_two_agents_cannot_share_a_phone(client: FlaskClient, admin_headers: dict[str, str]) -> None:
    assert add(client, admin_headers).status_code == 201
    response = add(client, admin_headers, name="Fox Mulder")
    assert response.status_code == 409


def test_status_changes_follow_the_state_machine(client: FlaskClient, admin_headers: dict[str, str]) -> None:
    agent_id = add(client, admin_headers).get_json()["id"]
    url = f"/api/agents/{agent_id}/status"
    assert client.post(url, json={"status": "on_call"}, headers=admin_headers).status_code == 422
    assert client.post(url, json={"status": "away"}, headers=admin_headers).status_code == 200
    assert client.post(url, json={"status": "offline"}, headers=admin_headers).status_code == 200
    assert client.post(url, json={}, headers=admin_headers).status_code == 422
    assert client.post("/api/agents/999/status", json={"status": "away"}, headers=admin_headers).status_code == 404


@pytest.mark.parametrize("agent_id", ["-1", "0", "3000000000", "18446744073709551616", "abc"])
def test_ids_that_cannot_exist_are_404_in_json(
    client: FlaskClient, admin_headers: dict[str, str], agent_id: str
) -> None:
    response = client.post(f"/api/agents/{agent_id}/status", json={"status": "away"}, headers=admin_headers)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_control_characters_in_an_agent_name_or_queue_are_refused(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    assert add(client, admin_headers, name="Dana\u0000").status_code == 422
    assert add(client, admin_headers, queues=["orders\u0000"]).status_code == 422


def test_empty_endpoint_fields_are_none_so_they_never_collide(
    client: FlaskClient, admin_headers: dict[str, str]
) -> None:
    """A script that sends every field sends "" for the one it does not use."""
    ada = {"name": "Ada", "phone": "+12015550191", "client": "", "queues": ["orders"]}
    bo = {"name": "Bo", "phone": "+12015550192", "client": "", "queues": ["orders"]}
    browser = {"name": "Cy", "phone": "", "client": "cy", "queues": ["orders"]}

    answers = [client.post("/api/agents", json=body, headers=admin_headers) for body in (ada, bo, browser)]

    assert [a.status_code for a in answers] == [201, 201, 201], [a.get_json() for a in answers]
    assert [(a.get_json()["phone"], a.get_json()["client"]) for a in answers] == [
        ("+12015550191", None),
        ("+12015550192", None),
        (None, "cy"),
    ]
