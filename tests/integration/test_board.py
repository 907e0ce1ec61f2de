"""The live board: who may see it, its JSON for the page's poll, and the first paint of the page itself."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from callback import line
from callback.models import AgentLeg, CallAttempt
from core.clock import FixedClock
from core.db import get_db
from tests import factories, signin


def text(response) -> str:
    """The page as a person reads it: tags dropped, entities decoded, white space folded."""
    body = response.get_data(as_text=True)
    body = re.sub(r"<script.*?</script>|<[^>]+>", " ", body, flags=re.S)
    return " ".join(html.unescape(body).split()).replace(" ,", ",")


@pytest.fixture
def db_session(app: Flask) -> Iterator[Session]:
    """A session on the app's database, for arranging the line the board shows."""
    with get_db(app).sessions() as s:
        yield s


@pytest.fixture
def sign_in(app: Flask, db_session: Session, clock: FixedClock) -> Callable[[str], FlaskClient]:
    """A fresh browser signed in as a new staff member with `role`."""

    def signed_in(role: str) -> FlaskClient:
        user = factories.staff(db_session, clock.now(), role)
        client = app.test_client()
        assert signin.sign_in(client, user.email).status_code == 302
        return client

    return signed_in


@pytest.fixture
def busy_line(db_session: Session, clock: FixedClock) -> dict[str, int]:
    """Orders: two waiting (12 and 3 min), one holding (20 min), one failed; Ana talking, Bob away."""
    now = clock.now()
    ana = factories.agent(db_session, now - timedelta(minutes=4), status="on_call")
    ana.name, ana.after_call_status = "Ana Agent", "away"  # her break, once this call ends
    bob = factories.agent(db_session, now - timedelta(minutes=30), status="away")
    bob.name, bob.status_reason = "Bob Agent", "lunch"
    factories.request(db_session, now, age=timedelta(minutes=12))
    factories.request(db_session, now, age=timedelta(minutes=3))
    factories.request(db_session, now, hold_call_sid="CA" + "1" * 32, age=timedelta(minutes=20))
    factories.request(db_session, now, status="failed", age=timedelta(minutes=30))
    talking = factories.request(db_session, now, status="connected", agent_id=ana.id)
    talking.name = "Carla Customer"
    attempt = CallAttempt(request_id=talking.id, agent_id=ana.id, created_at=now - timedelta(minutes=3))
    db_session.add(attempt)
    db_session.flush()
    db_session.add(
        AgentLeg(
            attempt_id=attempt.id,
            agent_id=ana.id,
            rung_at=now - timedelta(minutes=2),
            answered_at=now - timedelta(minutes=2),
            accepted_at=now - timedelta(minutes=2),
        )
    )
    db_session.commit()
    return {"ana": ana.id, "bob": bob.id, "talking": talking.id}


# --- who may see it -------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_supervisors_and_admins_see_the_board(sign_in: Callable[[str], FlaskClient], role: str) -> None:
    client = sign_in(role)

    page = client.get("/board")
    state = client.get("/board/state")

    assert page.status_code == 200 and "<h1>Live board</h1>" in page.get_data(as_text=True)
    assert state.status_code == 200 and state.is_json


def test_an_agent_is_refused_the_board_and_its_state(sign_in: Callable[[str], FlaskClient]) -> None:
    client = sign_in("agent")

    page = client.get("/board")
    state = client.get("/board/state")

    assert page.status_code == 403 and "not for your role" in text(page)
    assert state.status_code == 403 and state.get_json()["error"]["code"] == "forbidden"
    assert "Waiting callbacks" not in text(page)


def test_a_stranger_is_sent_to_sign_in_and_the_script_gets_401(client: FlaskClient) -> None:
    page = client.get("/board")
    state = client.get("/board/state", headers={"Accept": "*/*"})

    assert page.status_code == 302 and page.headers["Location"] == "/login?next=/board"
    assert state.status_code == 401 and state.get_json()["error"]["code"] == "sign_in_required"


def test_the_board_is_in_a_supervisors_navigation_and_their_landing_page(
    app: Flask, db_session: Session, clock: FixedClock
) -> None:
    user = factories.staff(db_session, clock.now(), "supervisor")
    client = app.test_client()

    landed = signin.sign_in(client, user.email)

    assert landed.headers["Location"].endswith("/board")
    assert 'href="/board" aria-current="page"' in client.get("/board").get_data(as_text=True)


# --- the JSON the page polls ----------------------------------------------------------------------


def test_the_state_counts_the_line_and_is_never_cached(
    sign_in: Callable[[str], FlaskClient], busy_line: dict[str, int]
) -> None:
    response = sign_in("supervisor").get("/board/state")
    state = response.get_json()

    assert response.headers["Cache-Control"] == "no-store"
    assert state["timezone"] == "America/New_York" and state["at"] == "2026-11-23T15:00:00+00:00"
    orders = next(q for q in state["queues"] if q["name"] == "orders")
    assert (orders["waiting"], orders["holding"], orders["calls_in_progress"]) == (2, 1, 1)
    assert orders["longest_wait_seconds"] == 20 * 60
    assert orders["failed_last_hour"] == 1 and orders["open"] is True
    assert orders["agents"]["on_call"] == 1 and orders["agents"]["away"] == 1 and orders["agents"]["available"] == 0
    returns = next(q for q in state["queues"] if q["name"] == "returns")
    assert returns["waiting"] == 0 and returns["longest_wait_seconds"] is None
    agents = {a["name"]: a for a in state["agents"]}
    assert agents["Ana Agent"]["status"] == "on_call" and agents["Ana Agent"]["since"] == "2026-11-23T14:56:00+00:00"
    assert agents["Ana Agent"]["call"] == {
        "request_id": busy_line["talking"],
        "queue": "orders",
        "customer": "Carla Customer",
        "status": "connected",
        "since": "2026-11-23T14:58:00+00:00",
    }
    assert agents["Bob Agent"]["call"] is None and agents["Bob Agent"]["reason"] == "lunch"
    assert agents["Ana Agent"]["after_call"] == "Away when this call ends" and agents["Bob Agent"]["after_call"] is None
    assert {(a["kind"], a["queue"]) for a in state["alerts"]} == {("failed_recently", "orders")}


def test_the_state_raises_every_alert_a_person_must_act_on(
    sign_in: Callable[[str], FlaskClient], db_session: Session, clock: FixedClock
) -> None:
    now = clock.now()
    factories.agent(db_session, now, queues=("orders",), status="away")
    factories.request(db_session, now)
    factories.queue(db_session, "returns").hours = "closed"
    factories.request(db_session, now, topic="returns", hold_call_sid="CA" + "3" * 32)
    line.pause_dialling(db_session, 20003, "Authenticate", now)
    db_session.commit()

    state = sign_in("supervisor").get("/board/state").get_json()
    alerts = {(a["kind"], a["queue"]): a for a in state["alerts"]}

    assert state["dialling_paused"] is True
    assert alerts[("dialling_paused", None)]["severity"] == "critical"
    assert alerts[("nobody_staffed", "orders")]["severity"] == "critical"
    assert alerts[("closed_with_waiting", "returns")]["severity"] == "critical"
    assert "1 person holding" in alerts[("closed_with_waiting", "returns")]["message"]


@pytest.mark.parametrize("hours", ["24/7", "closed"])
def test_a_message_nobody_will_dial_is_a_message_to_hear_not_a_callback_waiting(
    sign_in: Callable[[str], FlaskClient], db_session: Session, clock: FixedClock, hours: str
) -> None:
    # Left in the phone menu two hours ago by a caller we cannot call back (withheld number): never
    # dialled, so it waits for nobody, makes nobody's wait longer and needs a person to listen, not an agent.
    now = clock.now()
    factories.agent(db_session, now, queues=("orders",), status="away")
    factories.request(db_session, now, phone="call:" + "9" * 15, source="ivr", age=timedelta(hours=2))
    factories.queue(db_session, "orders").hours = hours
    db_session.commit()

    client = sign_in("supervisor")
    state = client.get("/board/state").get_json()
    orders = next(q for q in state["queues"] if q["name"] == "orders")

    assert (orders["waiting"], orders["scheduled"], orders["messages"]) == (0, 0, 1)
    assert orders["longest_wait_seconds"] is None
    assert [a for a in state["alerts"] if a["queue"] == "orders"] == []  # nobody to call: nothing to staff
    page = text(client.get("/board"))
    assert "Messages to hear" in page and "left by callers we cannot call back" in page


# --- the page's first paint -----------------------------------------------------------------------


def test_the_first_paint_shows_the_numbers_the_agents_and_the_alerts(
    sign_in: Callable[[str], FlaskClient], busy_line: dict[str, int]
) -> None:
    response = sign_in("supervisor").get("/board")
    body = response.get_data(as_text=True)
    words = text(response)

    assert re.search(r'id="queue-orders-waiting">2<', body)
    assert re.search(r'id="queue-orders-holding">1<', body)
    assert re.search(r'id="queue-orders-longest"><span data-since="[^"]+">20 min<', body)
    assert re.search(r'id="queue-orders-calls">1<', body)
    assert re.search(r'id="queue-returns-waiting">0<', body)
    assert 'id="queue-orders-open">Open<' in body
    assert re.search(r'id="queue-orders-on_call" class="count-on_call"><b>1</b> on a call<', body)
    assert re.search(r'id="queue-orders-away" class="count-away"><b>1</b> away<', body)
    assert 'id="queue-orders-available"' not in body  # nobody available: no count of zero
    # Ana: on a call for 4 minutes since 09:56 New York time, talking with Carla for 2 minutes.
    assert "Ana Agent" in words and "On a call for 4 min, since 09:56 EST" in words
    assert f'href="/admin/requests/{busy_line["talking"]}">Carla Customer</a>' in body
    assert "Talking · 2 min" in words
    assert "Bob Agent" in words and "Away for 30 min, since 09:30 EST lunch" in words
    assert "Orders, tracking and delivery: 1 request failed in the last hour." in words
    assert 'href="/admin/requests?status=failed&amp;queue=orders"' in body
    assert 'id="alerts-none" class="all-clear" hidden' in body


QUEUE_COLUMNS = ("waiting", "holding", "longest", "quoted", "calls", "agents", "scheduled", "failed")


def test_the_page_says_what_each_number_counts_next_to_it_and_in_full(
    sign_in: Callable[[str], FlaskClient],
) -> None:
    response = sign_in("supervisor").get("/board")
    body = response.get_data(as_text=True)
    head = re.search(r'<thead role="rowgroup">.*?</thead>', body, re.S)
    assert head is not None

    # Each column's header carries a short description, and points at its full definition.
    for column in QUEUE_COLUMNS:
        header = re.search(rf'<th [^>]*aria-describedby="define-{column}"[^>]*>(.*?)</th>', head.group(0), re.S)
        assert header is not None, column
        assert '<span class="explain">' in header.group(1), column
        assert re.search(rf'<dd id="define-{column}">', body), column
    definitions = {
        column: " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found)).split())
        for column, found in re.findall(r'<dd id="define-(\w+)">(.*?)</dd>', body, re.S)
    }
    assert "<summary>What the numbers mean</summary>" in body
    # What "waiting" leaves out is said where it is left out, so the columns add up in a reader's head.
    waiting = definitions["waiting"]
    for left_out in ("booked for a later time", "retry", "Booked for later", "Callers holding", "Calls in progress"):
        assert left_out in waiting, left_out
    assert "counted from when they asked" in definitions["longest"]
    assert "time in the phone menu" in definitions["longest"]
    assert "back-off" in definitions["scheduled"]
    assert "last 60 minutes" in definitions["failed"]
    assert "each" in definitions["agents"]


def test_a_quiet_line_says_nothing_needs_a_person(sign_in: Callable[[str], FlaskClient]) -> None:
    body = sign_in("supervisor").get("/board").get_data(as_text=True)

    assert re.search(r'<p id="alerts-none" class="all-clear">Nothing needs a person right now.</p>', body)
    assert re.search(r'id="queue-orders-longest">—<', body)
    assert "No agents yet." in body


def test_the_page_loads_its_script_from_the_site_with_no_inline_code(sign_in: Callable[[str], FlaskClient]) -> None:
    response = sign_in("supervisor").get("/board")
    body = response.get_data(as_text=True)

    assert "script-src" not in response.headers["Content-Security-Policy"]  # default-src 'self' governs
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert re.findall(r"<script[^>]*>", body) == ['<script src="/static/board.js" defer>']
    assert 'data-state-url="/board/state"' in body
