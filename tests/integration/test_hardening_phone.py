"""The callback form will not ring numbers that are not a person's own line, nor the shop itself."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from agents.models import Queue
from core.clock import FixedClock
from core.db import get_db

ASK = {"name": "Ann Lee", "topic": "orders", "consent": True}


def post(client: FlaskClient, phone: str) -> Any:
    return client.post("/api/callbacks", json={**ASK, "phone": phone})


@pytest.mark.parametrize(
    ("phone", "code", "words"),
    [
        ("+1 800 555 0100", "phone_toll_free", "toll-free"),
        ("+1 888 555 0100", "phone_toll_free", "toll-free"),
        ("+1 500 555 0100", "phone_personal_number", "personal"),
        ("+1 521 555 0100", "phone_personal_number", "personal"),
        ("+1 600 555 0100", "phone_non_geographic", "non-geographic"),
        ("+1 310 1234", "phone_incomplete", "missing digits"),
        ("310-1234", "phone_incomplete", "missing digits"),
    ],
)
def test_numbers_that_are_not_a_persons_line_are_refused_with_a_reason(
    client: FlaskClient, phone: str, code: str, words: str
) -> None:
    response = post(client, phone)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert (error["code"], error["field"]) == (code, "phone")
    assert words in error["message"]


def test_a_queues_caller_id_is_refused_as_our_own_number(app: Flask, client: FlaskClient) -> None:
    with get_db(app).sessions() as session:
        queue = session.scalars(select(Queue).where(Queue.name == "returns")).one()
        queue.caller_id = "+12125550100"
        session.commit()
    response = post(client, "(212) 555-0100")
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "phone_own_number"


def test_the_configured_caller_id_is_refused_as_our_own_number(database_url: str, clock: FixedClock) -> None:
    from app import create_app

    app = create_app(
        {"app_env": "testing", "database_url": database_url, "twilio_caller_id": "+12125550199"}, clock=clock
    )
    from agents.service import ensure_default_queues

    with get_db(app).sessions() as session:
        ensure_default_queues(session, "+15005550006")
    response = post(app.test_client(), "+1 212 555 0199")
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "phone_own_number"
    get_db(app).engine.dispose()


def test_ordinary_landlines_and_mobiles_are_still_welcome(client: FlaskClient) -> None:
    assert post(client, "+1 201 555 0123").status_code == 201
    assert post(client, "+1 613 555 0123").status_code == 201
