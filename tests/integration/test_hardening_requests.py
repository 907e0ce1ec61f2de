"""Asking for a callback cannot be turned against someone else's request, nor past the limits."""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from callback.models import ACTIVE, CallbackRequest
from core.clock import FixedClock
from core.db import get_db
from telephony.fake import FakeTelephony

VICTIM = "+12015550123"
ASK = {"phone": VICTIM, "name": "Ann Lee", "topic": "orders", "consent": True}
TOPICS = ("orders", "returns", "payments", "account", "devices", "other")


def build(database_url: str, clock: FixedClock, **settings: Any) -> Flask:
    """The app on the test database with a fake phone network that records texts."""
    from agents.service import ensure_default_queues
    from app import create_app

    app = create_app(
        {"app_env": "testing", "database_url": database_url, "public_base_url": "https://shop.example", **settings},
        clock=clock,
    )
    app.extensions["telephony"] = FakeTelephony()
    with get_db(app).sessions() as s:
        ensure_default_queues(s, "+15005550006")
    return app


@pytest.fixture
def texting_app(database_url: str, clock: FixedClock) -> Iterator[Flask]:
    """The app with SMS notifications on."""
    app = build(database_url, clock, sms_notifications=True)
    yield app
    get_db(app).engine.dispose()


def post(client: FlaskClient, ip: str = "203.0.113.1", **changes: object):
    return client.post("/api/callbacks", json={**ASK, **changes}, environ_base={"REMOTE_ADDR": ip})


def active_requests(app: Flask, phone: str = VICTIM) -> int:
    with get_db(app).sessions() as s:
        count = s.scalar(
            select(func.count())
            .select_from(CallbackRequest)
            .where(CallbackRequest.phone == phone, CallbackRequest.status.in_(ACTIVE))
        )
    return int(count or 0)


# -- the answer to a duplicate ------------------------------------------------------------------------


def test_trying_every_topic_with_a_victims_number_never_reveals_their_reference(client: FlaskClient) -> None:
    ref = post(client, ip="198.51.100.7").get_json()["id"]
    answers = [post(client, ip="203.0.113.66", topic=topic) for topic in TOPICS]
    for answer in answers:
        assert ref not in answer.get_data(as_text=True)
        assert ref not in answer.headers.get("Location", "")
    assert answers[0].status_code == 409
    assert answers[0].get_json()["error"]["code"] == "already_requested"


def test_the_duplicates_link_goes_by_text_to_the_phone_itself(texting_app: Flask) -> None:
    client = texting_app.test_client()
    ref = post(client, ip="198.51.100.7").get_json()["id"]
    telephony: FakeTelephony = texting_app.extensions["telephony"]
    telephony.messages.clear()

    answer = post(client, ip="203.0.113.66", name="Mallory")

    assert answer.status_code == 409
    assert "by text" in answer.get_json()["error"]["message"]
    assert ref not in answer.get_data(as_text=True)
    [text] = telephony.messages
    assert text.to == VICTIM
    assert f"https://shop.example/callback/{ref}" in text.body


def test_probes_are_counted_by_the_clients_limit_like_any_other_post(client: FlaskClient) -> None:
    victims = [f"+1201555{1000 + n}" for n in range(11)]
    for n, victim in enumerate(victims):
        assert post(client, ip=f"198.51.100.{n}", phone=victim).status_code == 201
    # One client may ask 10 times an hour: ten probes are answered, the eleventh is refused.
    probes = [post(client, ip="203.0.113.66", phone=victim).status_code for victim in victims[:10]]
    assert probes == [409] * 10
    refused = post(client, ip="203.0.113.66", phone=victims[10])
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "client_hourly_limit"


def test_probes_are_counted_by_the_numbers_daily_limit(client: FlaskClient) -> None:
    post(client, ip="198.51.100.7")
    # Five asks a day for one number, from anywhere: the first and four probes.
    assert [post(client, ip=f"203.0.113.{n}").status_code for n in range(4)] == [409] * 4
    refused = post(client, ip="203.0.113.99")
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "number_daily_limit"


def test_strangers_repeating_an_ask_do_not_lock_the_number_out_of_its_own(client: FlaskClient) -> None:
    post(client, ip="198.51.100.7")
    # Strangers spend the number's probes from four places: each is told it exists, none is a call...
    assert [post(client, ip=f"203.0.113.{n}").status_code for n in range(4)] == [409] * 4
    # ...and the number's owner may still ask about something else: a new request counts the requests
    # made for the number (how often we may be made to call it), not strangers' repeats.
    assert post(client, ip="198.51.100.8", topic="returns").status_code == 201


FORM = {"country": "US", "phone": "(201) 555-0123", "name": "Ann Lee", "topic": "orders", "when": "asap"}


def submit(client: FlaskClient, ip: str) -> Any:
    page = client.get("/callback").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert token
    data = {**FORM, "consent": "y", "csrf_token": token.group(1)}
    return client.post("/callback", data=data, environ_base={"REMOTE_ADDR": ip})


def test_the_form_sends_another_browser_no_reference_but_leads_its_own_browser_back(app: Flask) -> None:
    customer, stranger = app.test_client(), app.test_client()
    made = submit(customer, "198.51.100.7")
    assert made.status_code == 303
    ref = made.headers["Location"].rsplit("/", 1)[-1]

    probe = submit(stranger, "203.0.113.66")
    assert probe.status_code == 409
    page = html.unescape(probe.get_data(as_text=True))
    assert ref not in page and "Location" not in probe.headers
    assert "You already asked us to call about orders" in page

    again = submit(customer, "198.51.100.7")
    assert again.status_code == 303
    assert again.headers["Location"].split("?")[0].endswith(f"/callback/{ref}")


# -- limits under concurrency --------------------------------------------------------------------------


def test_six_simultaneous_posts_for_one_number_make_no_more_active_requests_than_the_limit(app: Flask) -> None:
    start = threading.Barrier(len(TOPICS))
    codes: list[int] = []

    def ask(topic: str) -> None:
        client = app.test_client()
        start.wait()
        codes.append(post(client, ip=f"203.0.113.{len(topic)}", topic=topic).status_code)

    threads = [threading.Thread(target=ask, args=(topic,)) for topic in TOPICS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert active_requests(app) == 2
    assert sorted(codes) == [201, 201, 429, 429, 429, 429]


# -- who a client is ----------------------------------------------------------------------------------


def test_behind_a_proxy_one_ipv6_64_is_one_client(database_url: str, clock: FixedClock) -> None:
    app = build(database_url, clock, trusted_proxies=1)
    client = app.test_client()

    def from_(address: str, n: int):
        return client.post(
            "/api/callbacks",
            json={**ASK, "phone": f"+1201555{2000 + n}"},
            headers={"X-Forwarded-For": address},
        )

    codes = [from_(f"2001:db8:1:2::{n:x}", n).status_code for n in range(1, 16)]
    assert codes == [201] * 10 + [429] * 5
    # Another /64 is another client, and an IPv4 address is itself.
    assert from_("2001:db8:1:3::1", 20).status_code == 201
    assert from_("192.0.2.1", 21).status_code == 201
    get_db(app).engine.dispose()
