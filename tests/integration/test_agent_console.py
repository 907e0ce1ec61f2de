"""The agent's console at /agent: status, the screen pop, wrap-up, ready, today's calls, the browser-phone token,
and who may see what."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from agents import desk
from agents.audit import AuditEvent
from agents.console import VOICE_SDK
from agents.models import Agent
from callback import line, twiml
from callback.models import PHONE_CALLER, AgentLeg, CallAttempt, CallbackRequest
from core.clock import FixedClock
from core.db import get_db
from ivr.models import IvrSession
from orders.fake import FakeOrderLookup
from orders.port import GuardedLookup, OrderInfo
from recordings import service as recordings
from recordings.models import Recording
from recordings.storage import AudioStore
from tests import factories, signin

ORDER = OrderInfo(
    number="112-4455667-1234567",
    status="shipped",
    placed_at=datetime(2026, 11, 18, 12, 0, tzinfo=UTC),
    carrier="UPS",
    tracking_number="1Z999",
    estimated_delivery=date(2026, 11, 25),
)


@pytest.fixture
def orders(app: Flask) -> FakeOrderLookup:
    """The order service the console asks, with one shipped order."""
    fake = FakeOrderLookup([ORDER])
    app.extensions["order_lookup"] = GuardedLookup(fake)
    return fake


@pytest.fixture
def store(app: Flask) -> Any:
    """A session on the app's database, for setting the scene and reading the outcome."""
    with get_db(app).sessions() as s:
        yield s


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def sign_in(client: FlaskClient, email: str) -> None:
    response = signin.sign_in(client, email)
    assert response.status_code == 302, text(response)


def staff_agent(store: Session, clock: FixedClock, email: str, *, client_id: str | None = None, **kwargs: Any) -> Agent:
    """An agent with a staff account that signs in as `email`."""
    agent = factories.agent(store, clock.now(), **kwargs)
    if client_id:
        agent.phone, agent.client = None, client_id
        store.commit()
    factories.staff(store, clock.now(), "agent", email, agent_id=agent.id)
    return agent


@dataclass
class Call:
    request: CallbackRequest
    attempt: CallAttempt
    leg: AgentLeg | None


def ring(
    store: Session,
    clock: FixedClock,
    agent: Agent,
    phase: str = "ringing",
    waited: timedelta = timedelta(minutes=12),
    **fields: Any,
) -> Call:
    """A callback whose call is at `phase` for the agent: calling (the customer), ringing, screening, talking,
    or ended (talked, then hung up, agent in wrap-up)."""
    now = clock.now()
    fields.setdefault("order_number", ORDER.number)
    req = factories.request(store, now, status="dialing", age=waited, agent_id=agent.id, **fields)
    req.phone, req.name = "+12015550123", "Ann Lee"
    attempt = CallAttempt(request=req, agent=agent, created_at=now, dialled_at=now, placed_at=now)
    store.add(attempt)
    agent.status, agent.status_since = "reserved", now
    leg = None
    if phase != "calling":
        req.status, attempt.answered_at, attempt.confirmed_at = "connecting", now, now
        leg = AgentLeg(attempt=attempt, agent=agent, rung_at=now)
        store.add(leg)
    if phase in {"screening", "talking", "ended"}:
        leg.answered_at = now  # type: ignore[union-attr]
    if phase in {"talking", "ended"}:
        leg.accepted_at = attempt.accepted_at = now  # type: ignore[union-attr]
        req.status, agent.status = "connected", "on_call"
    if phase == "ended":
        leg.ended_at, leg.outcome, leg.talk_seconds = now, "accepted", 95  # type: ignore[union-attr]
        leg.bridged_at = attempt.bridged_at = now  # type: ignore[union-attr]  # the Dial action's DialBridged
        attempt.ended_at, attempt.outcome, attempt.talk_seconds = now, "completed", 95
        req.status, req.outcome = "completed", "completed"
        agent.status, agent.busy_until = "wrap_up", now + timedelta(seconds=30)
    store.commit()
    return Call(req, attempt, leg)


def state(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/agent/state")
    assert response.status_code == 200, text(response)
    body: dict[str, Any] = response.get_json()
    return body


def audit_lines(store: Session, action: str) -> list[AuditEvent]:
    store.expire_all()
    return list(store.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


# -- signing in ----------------------------------------------------------------------------------------


def test_a_signed_out_browser_is_sent_to_sign_in_and_scripts_get_401(client: FlaskClient) -> None:
    page = client.get("/agent")
    assert page.status_code == 302
    assert page.headers["Location"].startswith("/login?next=")

    for path in ("/agent/state", "/agent/token"):
        response = client.get(path, headers={"Accept": "application/json"})
        assert response.status_code == 401, path
        assert response.get_json()["error"]["code"] == "sign_in_required"


def test_a_supervisor_without_an_agent_is_told_so(client: FlaskClient, store: Session, clock: FixedClock) -> None:
    factories.staff(store, clock.now(), "supervisor", "sue@example.com")
    sign_in(client, "sue@example.com")

    page = client.get("/agent")
    assert page.status_code == 409
    assert "not linked to an agent" in text(page)
    assert client.get("/agent/state").get_json()["error"]["code"] == "no_agent"


def test_the_console_page_shows_the_status_and_its_forms(
    client: FlaskClient, store: Session, clock: FixedClock, orders: FakeOrderLookup
) -> None:
    agent = staff_agent(store, clock, "ana@example.com", status="away")
    agent.status_reason = "missed a call from the orders line (voicemail answered)"
    agent.status_since = clock.now() - timedelta(minutes=18)
    store.commit()
    sign_in(client, "ana@example.com")

    page = text(client.get("/agent"))

    assert "Away since 09:42: missed a call from the orders line (voicemail answered)" in page
    assert page.count('name="csrf_token"') >= 3  # status switch, ready, wrap-up
    assert 'src="/static/agent.js"' in page


# -- the screen pop --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phase", "words"),
    [
        ("calling", "Calling the customer"),
        ("ringing", "Your phone is ringing"),
        ("screening", "press 1"),
        ("talking", "On the call"),
        ("ended", "Wrap-up"),
    ],
)
def test_the_pop_follows_the_call_through_every_phase(
    client: FlaskClient, store: Session, clock: FixedClock, orders: FakeOrderLookup, phase: str, words: str
) -> None:
    agent = staff_agent(store, clock, "ana@example.com")
    ring(store, clock, agent, phase)
    sign_in(client, "ana@example.com")

    call = state(client)["call"]

    assert call["phase"] == {"ended": "wrap_up"}.get(phase, phase)
    assert words in call["phase_text"]
    assert call["name"] == "Ann Lee"
    assert call["phone"] == "+12015550123"
    assert call["phone_display"] == "+1 201-555-0123"
    assert call["topic"] == "Orders, tracking and delivery"
    assert call["order"]["status"] == "shipped"
    assert "with UPS, tracking 1Z999" in call["order"]["text"]
    assert call["waited_text"] == "12 min"


def test_the_pop_and_the_whisper_say_the_language_a_web_customer_asked_in(
    client: FlaskClient, store: Session, clock: FixedClock, orders: FakeOrderLookup
) -> None:
    agent = staff_agent(store, clock, "ana@example.com")
    call = ring(store, clock, agent, "screening", language="es", source="web")
    sign_in(client, "ana@example.com")

    pop = state(client)["call"]
    whisper = twiml.context_words(call.request)

    assert (pop["language"], pop["language_text"]) == ("es", "Spanish (this team speaks English)")
    assert "They asked in Spanish (this team speaks English)." in whisper
    call.request.queue.languages = "en,es"
    store.commit()
    assert state(client)["call"]["language_text"] == "Spanish"
    assert "They asked in Spanish." in twiml.context_words(call.request)


def test_an_english_customer_is_not_announced_as_such_in_the_whisper(store: Session, clock: FixedClock) -> None:
    agent = factories.agent(store, clock.now())
    call = ring(store, clock, agent, "screening", source="web")

    assert "asked in" not in twiml.context_words(call.request)


def test_a_customer_who_booked_a_time_has_waited_since_that_time(
    client: FlaskClient, store: Session, clock: FixedClock, orders: FakeOrderLookup
) -> None:
    agent = staff_agent(store, clock, "ana@example.com")
    ring(store, clock, agent, "ringing", waited=timedelta(hours=16), not_before=clock.now() - timedelta(minutes=3))
    sign_in(client, "ana@example.com")

    pop = state(client)["call"]

    assert pop["waited_text"] == "3 min"
    assert pop["booked_for"] == "09:57"


def test_the_order_service_being_down_does_not_break_the_pop(
    client: FlaskClient, store: Session, clock: FixedClock, orders: FakeOrderLookup
) -> None:
    orders.unavailable = True
    agent = staff_agent(store, clock, "ana@example.com")
    ring(store, clock, agent)
    sign_in(client, "ana@example.com")

    order = state(client)["call"]["order"]

    assert order == {"number": ORDER.number, "status": None, "text": "Can't look it up right now."}


def test_the_order_service_is_asked_once_a_minute_however_often_the_console_polls(
    client: FlaskClient, store: Session, clock: FixedClock, orders: FakeOrderLookup
) -> None:
    asked: list[str] = []
    real = orders.order

    def counted(number: str) -> OrderInfo | None:
        asked.append(number)
        return real(number)

    orders.order = counted  # type: ignore[method-assign]
    agent = staff_agent(store, clock, "ana@example.com")
    ring(store, clock, agent)
    sign_in(client, "ana@example.com")

    for _ in range(5):
        state(client)
    clock.advance(seconds=61)
    state(client)

    assert len(asked) == 2


def test_the_pop_shows_what_the_phone_menu_found_and_the_earlier_calls(
    client: FlaskClient, store: Session, clock: FixedClock, orders: FakeOrderLookup
) -> None:
    now = clock.now()
    ivr = IvrSession(
        call_sid="CA" + "1" * 32,
        caller="+12015550123",
        called="+15005550006",
        started_at=now,
        updated_at=now,
        node="main",
    )
    ivr.add_step(now, node="main", kind="menu", speech="where is my parcel", intent="track", result="track")
    ivr.add_step(now, node="track_order", kind="lookup", reference="1124455", result="Your order shipped with UPS.")
    ivr.add_step(now, node="track_order", kind="menu", digits="0", result="agent")
    store.add(ivr)
    store.flush()
    context = json.dumps(
        {"summary": "In the phone menu they heard: Your order shipped with UPS.", "ivr_session": ivr.id}
    )
    agent = staff_agent(store, clock, "ana@example.com")
    call = ring(store, clock, agent, "ringing", ivr_context=context, source="ivr")
    earlier = CallAttempt(
        request=call.request,
        created_at=now - timedelta(minutes=5),
        dialled_at=now - timedelta(minutes=5),
        ended_at=now - timedelta(minutes=4),
        outcome="no-answer",
    )
    store.add(earlier)
    store.commit()
    sign_in(client, "ana@example.com")

    pop = state(client)["call"]

    assert pop["source"] == "the phone menu"
    assert pop["menu"]["path"] == ["Main menu", "Order lookup"]  # as staff read them, not node names
    assert pop["menu"]["said"] == ["where is my parcel"]
    assert pop["menu"]["looked_up"] == [{"reference": "1124455", "result": "Your order shipped with UPS."}]
    assert pop["menu"]["summary"].startswith("In the phone menu they heard")
    assert pop["earlier_attempts"] == [{"at": "09:55", "text": "no answer", "agents_missed": 0}]


def test_the_pop_shows_the_numbers_earlier_contacts_and_the_name_it_last_gave(
    client: FlaskClient, store: Session, clock: FixedClock
) -> None:
    # Ann asked on the form this morning and was helped; now she calls the menu and asks for a person.
    now = clock.now()
    morning = factories.request(store, now, status="completed", phone="+12015550123", age=timedelta(hours=2))
    morning.name, morning.disposition, morning.note = "Ann Lee", "follow_up", "Parcel late; UPS trace opened."
    other = factories.request(store, now, status="completed", phone="+12015550199", age=timedelta(hours=1))
    gone = factories.request(store, now, status="completed", phone="+12015550123", age=timedelta(days=120))
    agent = staff_agent(store, clock, "ana@example.com")
    call = ring(store, clock, agent, "ringing", source="ivr")
    call.request.name = PHONE_CALLER
    store.commit()
    sign_in(client, "ana@example.com")

    pop = state(client)["call"]

    assert pop["known_as"] == "Ann Lee"
    assert pop["earlier_contacts"] == [
        {
            "request_id": morning.id,
            "at": "08:00",
            "name": "Ann Lee",
            "topic": "Orders, tracking and delivery",
            "status_text": "talked with an agent",
            "disposition_text": "Needs a follow-up",
            "note": "Parcel late; UPS trace opened.",
        }
    ]
    assert other.id not in [c["request_id"] for c in pop["earlier_contacts"]] and gone.id != morning.id
    page = client.get(f"/agent/calls/{call.request.id}").get_data(as_text=True)
    assert "Earlier contacts from this number" in page and "Parcel late; UPS trace opened." in page


def test_what_a_spanish_caller_heard_looked_up_is_shown_in_english(
    client: FlaskClient, store: Session, clock: FixedClock
) -> None:
    now = clock.now()
    ivr = IvrSession(call_sid="CA" + "2" * 32, caller="+12015550123", called="+15005550006", started_at=now,
                     updated_at=now, node="main", language="es")  # fmt: skip
    ivr.add_step(now, node="track_order", kind="lookup", reference="1124455", result="Su pedido se entregó el jueves.",
                 for_agent="Your order was delivered on Thursday.")  # fmt: skip
    store.add(ivr)
    store.flush()
    agent = staff_agent(store, clock, "ana@example.com")
    ring(store, clock, agent, "ringing", ivr_context=json.dumps({"summary": "", "ivr_session": ivr.id}), source="ivr")
    store.commit()
    sign_in(client, "ana@example.com")

    looked_up = state(client)["call"]["menu"]["looked_up"]

    assert looked_up == [{"reference": "1124455", "result": "Your order was delivered on Thursday."}]


def test_an_idle_agent_has_no_pop(client: FlaskClient, store: Session, clock: FixedClock) -> None:
    staff_agent(store, clock, "ana@example.com")
    sign_in(client, "ana@example.com")

    body = state(client)

    assert body["call"] is None
    assert body["wrap_up"] is None
    assert body["today"] == []
    assert body["agent"]["summary"] == "Available since 10:00"


# -- wrap-up, ready, status ----------------------------------------------------------------------------


def test_wrap_up_stores_the_disposition_and_note_on_the_request_and_audits_it(
    client: FlaskClient, store: Session, clock: FixedClock, orders: FakeOrderLookup
) -> None:
    agent = staff_agent(store, clock, "ana@example.com")
    call = ring(store, clock, agent, "ended")
    sign_in(client, "ana@example.com")
    assert state(client)["wrap_up"]["request_id"] == call.request.id

    response = client.post(
        f"/agent/calls/{call.request.id}/wrap-up",
        data={
            "csrf_token": signin.csrf_token(client, "/agent"),
            "request_id": call.request.id,
            "disposition": "follow_up",
            "note": "Parcel lost; reship.",
        },
    )

    assert response.status_code == 302
    store.expire_all()
    req = store.get(CallbackRequest, call.request.id)
    assert req is not None
    assert (req.disposition, req.note, req.disposed_at) == ("follow_up", "Parcel lost; reship.", clock.now())
    assert req.disposed_by_staff_id is not None
    [line] = audit_lines(store, "request.disposition")
    assert (line.actor, line.target) == ("ana@example.com", f"request {req.id}")
    [today] = state(client)["today"]
    assert (today["disposition_text"], today["note"], today["talk_text"]) == (
        "Needs a follow-up",
        "Parcel lost; reship.",
        "1 min",
    )
    assert today["at"] == "10:00"
    assert "Saved: Ann Lee" in text(client.get("/agent"))


def test_a_wrap_up_saved_from_a_form_older_than_the_last_save_is_refused_not_written_over_it(
    client: FlaskClient, store: Session, clock: FixedClock, orders: FakeOrderLookup
) -> None:
    """The console open in two tabs: the second tab's form never showed the first tab's save."""
    agent = staff_agent(store, clock, "ana@example.com")
    call = ring(store, clock, agent, "ended")
    sign_in(client, "ana@example.com")
    drawn = state(client)["wrap_up"]
    assert drawn["saved_at"] == ""

    def save(disposition: str, note: str, seen: str):
        return client.post(
            f"/agent/calls/{call.request.id}/wrap-up",
            data={
                "csrf_token": signin.csrf_token(client, "/agent"),
                "request_id": call.request.id,
                "saved_at": seen,
                "disposition": disposition,
                "note": note,
            },
            headers={"Accept": "application/json"},
        )

    assert save("follow_up", "Parcel lost; reship.", drawn["saved_at"]).status_code == 200
    stale = save("resolved", "", drawn["saved_at"])  # tab B, drawn before tab A's save
    assert stale.status_code == 409
    assert stale.get_json()["error"]["code"] == "wrap_up_changed"
    store.expire_all()
    req = store.get(CallbackRequest, call.request.id)
    assert req is not None and (req.disposition, req.note) == ("follow_up", "Parcel lost; reship.")
    # A form drawn after the save (what the console shows once it polls) saves over it.
    fresh = state(client)["wrap_up"]
    assert (fresh["disposition"], fresh["note"], fresh["saved_at"]) == (
        "follow_up",
        "Parcel lost; reship.",
        clock.now().isoformat(),
    )
    assert save("resolved", "Reshipped.", fresh["saved_at"]).status_code == 200


def test_a_wrap_up_without_a_known_disposition_is_refused(
    client: FlaskClient, store: Session, clock: FixedClock, orders: FakeOrderLookup
) -> None:
    agent = staff_agent(store, clock, "ana@example.com")
    call = ring(store, clock, agent, "ended")
    sign_in(client, "ana@example.com")

    response = client.post(
        f"/agent/calls/{call.request.id}/wrap-up",
        data={"csrf_token": signin.csrf_token(client, "/agent"), "disposition": "lunch", "note": ""},
        headers={"Accept": "application/json"},
    )

    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "bad_disposition"


def test_ready_ends_wrap_up_at_once_and_is_audited(
    app: Flask, client: FlaskClient, store: Session, clock: FixedClock, orders: FakeOrderLookup
) -> None:
    woken: list[bool] = []
    app.extensions["wake_dispatcher"] = lambda: woken.append(True)
    agent = staff_agent(store, clock, "ana@example.com")
    ring(store, clock, agent, "ended")
    sign_in(client, "ana@example.com")
    assert state(client)["agent"]["wrap_up_ends_in"] == 30

    response = client.post("/agent/ready", data={"csrf_token": signin.csrf_token(client, "/agent")})

    assert response.status_code == 302
    store.expire_all()
    assert (agent.status, agent.busy_until) == ("available", None)
    assert woken == [True]
    [line] = audit_lines(store, "agent.ready")
    assert line.target == f"agent {agent.id}"
    again = client.post(
        "/agent/ready", data={"csrf_token": signin.csrf_token(client, "/agent")}, headers={"Accept": "application/json"}
    )
    assert again.status_code == 409


def test_the_status_switch_changes_status_and_audits_each_change(
    client: FlaskClient, store: Session, clock: FixedClock
) -> None:
    agent = staff_agent(store, clock, "ana@example.com", status="offline")
    sign_in(client, "ana@example.com")

    for wanted in ("available", "away", "offline"):
        response = client.post(
            "/agent/status", data={"csrf_token": signin.csrf_token(client, "/agent"), "status": wanted}
        )
        assert response.status_code == 302
        store.expire_all()
        assert agent.status == wanted
    assert [line.details_dict["to"] for line in audit_lines(store, "agent.status")] == ["available", "away", "offline"]


def test_an_agent_on_a_call_who_asks_for_a_break_keeps_the_call_and_is_away_after_it(
    client: FlaskClient, store: Session, clock: FixedClock, orders: FakeOrderLookup
) -> None:
    agent = staff_agent(store, clock, "ana@example.com")
    call = ring(store, clock, agent, "talking")
    # A supervisor had asked for offline after this call; the agent's own ask replaces it, and its reason.
    agent.after_call_status, agent.after_call_reason = "offline", "set by Sam (supervisor)"
    store.commit()
    sign_in(client, "ana@example.com")

    response = client.post(
        "/agent/status",
        data={"csrf_token": signin.csrf_token(client, "/agent"), "status": "away"},
        headers={"Accept": "application/json"},
    )

    assert response.status_code == 200 and "you'll be away when it ends" in response.get_json()["message"]
    store.expire_all()
    assert (agent.status, agent.after_call_status, agent.after_call_reason) == ("on_call", "away", None)
    assert state(client)["agent"]["summary"].endswith("Away when this call ends")
    assert [e.details_dict for e in audit_lines(store, "agent.after_call")] == [
        {"status": "on_call", "after_call": "away"}
    ]
    line.wrap_up(store, agent, call.attempt, clock.now())  # the call ends
    store.commit()
    store.expire_all()
    assert (agent.status, agent.after_call_status, agent.status_reason) == ("away", None, None)


def test_an_agent_going_away_says_why_and_the_board_shows_it(
    client: FlaskClient, store: Session, clock: FixedClock
) -> None:
    agent = staff_agent(store, clock, "ana@example.com")
    sign_in(client, "ana@example.com")
    token = signin.csrf_token(client, "/agent")
    answer = client.post("/agent/status", data={"csrf_token": token, "status": "away", "reason": "lunch"},
                         headers={"Accept": "application/json"})  # fmt: skip
    assert answer.status_code == 200
    store.refresh(agent)
    assert (agent.status, agent.status_reason) == ("away", "at lunch")
    assert state(client)["agent"]["summary"].endswith(": at lunch")
    # A reason that is not on the list is not taken; nor is one sent with another status.
    client.post("/agent/status", data={"csrf_token": token, "status": "away", "reason": "<b>x</b>"})
    store.refresh(agent)
    assert (agent.status, agent.status_reason) == ("away", None)
    client.post("/agent/status", data={"csrf_token": token, "status": "available", "reason": "lunch"})
    store.refresh(agent)
    assert (agent.status, agent.status_reason) == ("available", None)


def test_an_agent_who_takes_back_their_break_goes_on_taking_calls(
    client: FlaskClient, store: Session, clock: FixedClock, orders: FakeOrderLookup
) -> None:
    agent = staff_agent(store, clock, "ana@example.com", status="reserved")
    call = ring(store, clock, agent, "calling")
    sign_in(client, "ana@example.com")
    for wanted in ("away", "available"):
        client.post("/agent/status", data={"csrf_token": signin.csrf_token(client, "/agent"), "status": wanted})

    store.expire_all()
    assert (agent.status, agent.after_call_status) == ("reserved", None)
    line.release_agent(store, agent, call.attempt, clock.now())  # the customer did not answer
    store.commit()
    store.expire_all()
    assert agent.status == "available"


def test_a_status_change_needs_the_csrf_token(client: FlaskClient, store: Session, clock: FixedClock) -> None:
    agent = staff_agent(store, clock, "ana@example.com", status="offline")
    sign_in(client, "ana@example.com")

    response = client.post("/agent/status", data={"status": "available"})

    assert response.status_code == 400
    store.expire_all()
    assert agent.status == "offline"


# -- today's calls ---------------------------------------------------------------------------------------


def test_today_is_the_day_in_the_queues_time_zone(
    client: FlaskClient, store: Session, clock: FixedClock, orders: FakeOrderLookup
) -> None:
    agent = staff_agent(store, clock, "ana@example.com")
    sunday_night = clock.now() - timedelta(hours=10, minutes=30)  # 23:30 in New York, the same UTC day
    clock.set(sunday_night)
    ring(store, clock, agent, "ended")
    clock.set(sunday_night + timedelta(hours=10, minutes=30))
    today = ring(store, clock, agent, "ended")
    sign_in(client, "ana@example.com")

    calls = state(client)["today"]

    assert [c["request_id"] for c in calls] == [today.request.id]
    # The times on the console and on a call's page are the queue's, and the pages say so, in English
    # whatever language the agent's browser prefers.
    headers = {"Accept-Language": "es"}
    assert "Times are in United States (New York) Time." in text(client.get("/agent", headers=headers))
    call_page = text(client.get(f"/agent/calls/{today.request.id}", headers=headers))
    assert "Times are in United States (New York) Time." in call_page


def test_missed_calls_are_listed_without_a_wrap_up(
    client: FlaskClient, store: Session, clock: FixedClock, orders: FakeOrderLookup
) -> None:
    agent = staff_agent(store, clock, "ana@example.com")
    call = ring(store, clock, agent, "screening")
    call.leg.ended_at, call.leg.outcome = clock.now(), "declined"  # type: ignore[union-attr]
    store.commit()
    sign_in(client, "ana@example.com")

    [missed] = state(client)["today"]

    assert (missed["outcome_text"], missed["taken"], missed["disposition"]) == ("Missed: declined", False, None)


# -- who sees what ----------------------------------------------------------------------------------------


def test_an_agent_sees_only_their_own_calls(
    app: Flask, store: Session, clock: FixedClock, orders: FakeOrderLookup
) -> None:
    ana = staff_agent(store, clock, "ana@example.com")
    staff_agent(store, clock, "bob@example.com")
    call = ring(store, clock, ana, "ended")
    bob = app.test_client()
    sign_in(bob, "bob@example.com")

    body = state(bob)
    assert body["call"] is None and body["wrap_up"] is None and body["today"] == []
    assert bob.get(f"/agent/calls/{call.request.id}").status_code == 404
    refused = bob.post(
        f"/agent/calls/{call.request.id}/wrap-up",
        data={"csrf_token": signin.csrf_token(bob, "/agent"), "disposition": "resolved", "note": "mine now"},
    )
    assert refused.status_code == 404
    store.expire_all()
    assert call.request.disposition is None

    ana_client = app.test_client()
    sign_in(ana_client, "ana@example.com")
    page = text(ana_client.get(f"/agent/calls/{call.request.id}"))
    assert "Ann Lee" in page and "Save wrap-up" in page


# -- the browser phone's token ------------------------------------------------------------------------


def test_the_token_lets_the_agents_client_identity_take_incoming_calls_for_an_hour(
    app: Flask, client: FlaskClient, store: Session, clock: FixedClock
) -> None:
    key_sid, key_secret = "SK" + "a" * 32, "k" * 32
    app.config["SETTINGS"] = replace(
        app.config["SETTINGS"], twilio_api_key_sid=key_sid, twilio_api_key_secret=key_secret
    )
    staff_agent(store, clock, "ana@example.com", client_id="ana_browser")
    sign_in(client, "ana@example.com")

    response = client.get("/agent/token")

    assert response.status_code == 200
    body = response.get_json()
    assert (body["identity"], body["expires_in"]) == ("ana_browser", 3600)
    claims = jwt.decode(body["token"], key_secret, algorithms=["HS256"])
    assert claims["grants"]["identity"] == "ana_browser"
    assert claims["grants"]["voice"]["incoming"] == {"allow": True}
    assert "outgoing" not in claims["grants"]["voice"]
    assert claims["iss"] == key_sid
    assert claims["sub"] == app.config["SETTINGS"].twilio_account_sid
    assert claims["exp"] - claims["nbf" if "nbf" in claims else "iat"] <= 3600


def test_an_agent_on_a_phone_number_gets_no_token(client: FlaskClient, store: Session, clock: FixedClock) -> None:
    staff_agent(store, clock, "ana@example.com")
    sign_in(client, "ana@example.com")

    response = client.get("/agent/token")

    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "no_client"


def test_against_the_sandbox_the_console_embeds_its_softphone_for_the_agents_phone(
    app: Flask, client: FlaskClient, store: Session, clock: FixedClock
) -> None:
    app.config["SETTINGS"] = replace(app.config["SETTINGS"], twilio_api_base="http://127.0.0.1:5010")
    staff_agent(store, clock, "ana@example.com", client_id="ana_browser")
    sign_in(client, "ana@example.com")

    page = client.get("/agent")

    assert 'src="http://127.0.0.1:5010/sandbox/?phone=client%3Aana_browser"' in text(page)
    assert "frame-src http://127.0.0.1:5010;" in page.headers["Content-Security-Policy"]
    assert "twilio-voice.min.js" not in text(page)


def test_against_twilio_a_browser_agent_gets_the_voice_sdk_and_twilio_is_allowed(
    app: Flask, client: FlaskClient, store: Session, clock: FixedClock
) -> None:
    staff_agent(store, clock, "ana@example.com", client_id="ana_browser")
    sign_in(client, "ana@example.com")

    page = client.get("/agent")

    assert 'data-browser-phone="on"' in text(page)
    assert "<iframe" not in text(page)
    policy = page.headers["Content-Security-Policy"]
    assert "connect-src 'self' https://*.twilio.com wss://*.twilio.com" in policy
    built = Path(app.static_folder or "static", VOICE_SDK).is_file()
    assert ("/static/vendor/twilio-voice.min.js" in text(page)) is built


# -- a message left after hours, for the agent who calls back -----------------------------------------

OGG = b"OggS fake audio for the access check"


def _message(store: Session, app_store: AudioStore, clock: FixedClock, request_id: int) -> Recording:
    key = "recordings/2026/" + "m" * 24 + ".ogg"
    app_store.put(key, OGG)
    recording = Recording(
        kind="message",
        request_id=request_id,
        provider_sid="RE" + "7" * 32,
        channels=1,
        state="stored",
        tries=1,
        storage_key=key,
        format="ogg",
        duration_seconds=14.2,
        bytes=len(OGG),
        sha256="0" * 64,
        created_at=clock.now() - timedelta(hours=10),
        stored_at=clock.now(),
    )
    store.add(recording)
    store.commit()
    return recording


def test_the_agent_who_calls_back_sees_and_hears_the_message(
    client: FlaskClient, store: Session, clock: FixedClock, orders: object, app: Flask
) -> None:
    agent = staff_agent(store, clock, "ana@example.com")
    call = ring(store, clock, agent)
    message = _message(store, app.extensions["audio_store"], clock, call.request.id)
    sign_in(client, "ana@example.com")

    pop = state(client)["call"]
    [shown] = pop["messages"]
    assert shown["id"] == message.public_id and shown["seconds"] == 14
    played = client.get(f"/recordings/{message.public_id}")
    assert played.status_code == 200 and played.get_data() == OGG


def test_another_agent_may_not_hear_someone_elses_callers_message(
    client: FlaskClient, store: Session, clock: FixedClock, orders: object, app: Flask
) -> None:
    ana = staff_agent(store, clock, "ana@example.com")
    staff_agent(store, clock, "ben@example.com")
    call = ring(store, clock, ana)
    message = _message(store, app.extensions["audio_store"], clock, call.request.id)
    sign_in(client, "ben@example.com")

    assert client.get(f"/recordings/{message.public_id}").status_code == 404
    assert recordings.may_hear("supervisor", None, message)
    assert not recordings.may_hear("agent", None, message)


# Signing out -------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", ["available", "away", "wrap_up"])
def test_signing_out_sets_the_agent_offline(
    app: Flask, client: FlaskClient, store: Session, clock: FixedClock, status: str
) -> None:
    agent = staff_agent(store, clock, "ana@shop.example", status=status)
    sign_in(client, "ana@shop.example")
    assert signin.sign_out(client).status_code == 302
    store.expire_all()
    assert (agent.status, agent.status_reason) == ("offline", "signed out")
    line = store.scalars(select(AuditEvent).where(AuditEvent.action == "agent.status")).one()
    assert line.actor == "ana@shop.example" and line.details_dict == {
        "from": status,
        "to": "offline",
        "reason": "signed out",
    }


def test_an_agent_who_signs_out_during_a_call_finishes_it_then_goes_offline(
    app: Flask, client: FlaskClient, store: Session, clock: FixedClock
) -> None:
    from callback import calls
    from tests.integration.test_call_flow import accepted, agent_of

    attempt = accepted(store, clock)  # the agent is talking to the customer
    agent = agent_of(attempt)
    factories.staff(store, clock.now(), "agent", "bo@shop.example", agent_id=agent.id)
    sign_in(client, "bo@shop.example")
    signin.sign_out(client)
    store.expire_all()
    assert agent.status == "on_call"  # the call goes on: the line owns this status
    calls.on_dial_done(store, clock, attempt, attempt.agent_legs[-1], "completed", 90, "CAleg1", None, "true")
    store.expire_all()
    assert (attempt.request.status, agent.status) == ("completed", "offline")  # not back to work after wrap-up


def test_a_sign_out_during_a_reservation_is_kept_until_the_line_lets_the_agent_go(
    app: Flask, client: FlaskClient, store: Session, clock: FixedClock
) -> None:
    from callback import calls
    from tests.integration.test_call_flow import agent_of, dialing

    attempt = dialing(store, clock.now())  # reserved: the customer's phone is ringing
    agent = agent_of(attempt)
    factories.staff(store, clock.now(), "agent", "cy@shop.example", agent_id=agent.id)
    sign_in(client, "cy@shop.example")
    signin.sign_out(client)
    store.expire_all()
    assert agent.status == "reserved"
    calls.on_status(store, clock, attempt, "no-answer", 3)
    store.expire_all()
    assert (attempt.request.status, agent.status) == ("retry_wait", "offline")


def test_signing_in_again_before_the_call_ends_cancels_the_sign_off(
    app: Flask, client: FlaskClient, store: Session, clock: FixedClock
) -> None:
    from callback import calls
    from tests.integration.test_call_flow import agent_of, dialing

    attempt = dialing(store, clock.now())
    agent = agent_of(attempt)
    factories.staff(store, clock.now(), "agent", "di@shop.example", agent_id=agent.id)
    sign_in(client, "di@shop.example")
    signin.sign_out(client)
    sign_in(client, "di@shop.example")
    calls.on_status(store, clock, attempt, "busy", 3)
    store.expire_all()
    assert agent.status == "available"


def test_an_agent_who_signs_out_while_their_phone_rings_and_misses_it_goes_offline_not_away(
    app: Flask, client: FlaskClient, store: Session, clock: FixedClock
) -> None:
    from callback import calls
    from tests.integration.test_call_flow import agent_of, confirmed, leg_of

    attempt = confirmed(store, clock)  # the customer pressed 1: the agent's phone rings
    agent = agent_of(attempt)
    factories.staff(store, clock.now(), "agent", "ed@shop.example", agent_id=agent.id)
    sign_in(client, "ed@shop.example")
    signin.sign_out(client)
    calls.on_dial_done(store, clock, attempt, leg_of(attempt), "no-answer", 0, "CAleg1", "in-progress")
    store.expire_all()
    assert (agent.status, agent.status_reason) == ("offline", "signed out")


def test_todays_calls_read_one_clock_whichever_queue_they_came_from(store: Session, clock: FixedClock) -> None:
    factories.queue(store, "returns").timezone = "Europe/London"  # the README's own example
    store.commit()
    now = clock.now()
    agent = factories.agent(store, now, queues=("orders", "returns"))  # orders first: New York
    for topic, ago in (("returns", timedelta(minutes=30)), ("orders", timedelta(minutes=5))):
        req = factories.request(store, now, topic=topic, status="completed")
        attempt = CallAttempt(request=req, agent=agent, created_at=now - ago, ended_at=now)
        store.add(attempt)
        store.add(AgentLeg(attempt=attempt, agent=agent, rung_at=now - ago, ended_at=now, outcome="accepted"))
    store.commit()

    rows = [(call["at"], call["topic"]) for call in desk.todays_calls(store, agent, now)]

    zone = desk.agent_zone(agent)
    expected = [
        (f"{(now - timedelta(minutes=m)).astimezone(zone):%H:%M}", t) for m, t in ((5, "Orders"), (30, "Returns"))
    ]
    assert [at for at, _ in rows] == [at for at, _ in expected]
    assert rows[0][0] > rows[1][0]  # newest first reads as newest


def test_a_break_asked_for_as_the_call_ends_starts_now(app: Flask, store: Session, clock: FixedClock) -> None:
    """The console read the agent on the call; the webhook ended it before the wish was stored: the
    wish must not wait for a call that is over (the end of wrap-up would ignore it)."""
    from agents import service

    agent = factories.agent(store, clock.now())
    call = ring(store, clock, agent, "talking")
    with get_db(app).sessions() as console:
        assert console.get(Agent, agent.id).status == "on_call"  # type: ignore[union-attr]
        line.wrap_up(store, agent, call.attempt, clock.now())  # meanwhile, the call ends
        store.commit()
        service.after_this_call(console, clock, agent.id, "away")

    store.expire_all()
    assert (agent.status, agent.after_call_status) == ("away", None)
