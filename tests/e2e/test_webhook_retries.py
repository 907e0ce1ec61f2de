"""Every webhook survives a retry: the sandbox loses the app's first answer to each webhook path (the
`webhook_drop_first` fault: the app has acted, Twilio saw a read timeout), retries it as the app's
connection overrides ask (core.webhooks: rp=ct,rt,5xx), and the outcome is what it is without the fault.

The callback scenario signs the URL with its fragment (`webhook_sign_fragment`), the phone-menu one without:
Twilio's documentation does not say which it does, and the app must accept both.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select

from callback.models import AgentLeg, CallAttempt, CallbackRequest
from core.db import get_db
from core.webhooks import FRAGMENT, Webhooks
from ivr.models import IvrSession
from telephony.twilio_adapter import telephony_from_settings
from tests.e2e.conftest import SHOP_NUMBER, System, start_system

CUSTOMER = "+12015550123"
CALLER = "+12015550166"
AGENT = "+12015550188"
FINAL = {"completed", "busy", "failed", "no-answer", "canceled"}


@pytest.fixture
def retrying(tmp_path: Path) -> Iterator[System]:
    """The system with the shop's number pointed at the app's webhooks, overrides included (as
    `flask twilio configure-number` does in production)."""
    running, stop = start_system(tmp_path)
    hooks = Webhooks(running.settings.public_base_url)
    number = telephony_from_settings(running.settings).configure_number(
        SHOP_NUMBER, hooks.incoming(), hooks.inbound_status()
    )
    assert number.voice_url.endswith("#" + FRAGMENT)
    yield running
    stop()


def drop_every_first_answer(system: System, sign_fragment: bool) -> None:
    response = requests.put(
        f"{system.sandbox_url}/sandbox/faults",
        json={"webhook_drop_first": {"*": 1}, "webhook_sign_fragment": sign_fragment},
        timeout=5,
    )
    assert response.status_code == 200, response.text


def webhooks_of(system: System, *sids: str) -> list[dict[str, Any]]:
    """Every webhook attempt the sandbox made on these calls."""
    return [e for sid in sids for e in system.call(sid)["timeline"] if e["type"] == "webhook"]


def retried(attempts: list[dict[str, Any]], path: str) -> bool:
    """`path`'s first answer was dropped and its retry answered (2xx), the same request again."""
    mine = [a for a in attempts if a["url"].split("?")[0].endswith(path)]
    dropped = [i for i, a in enumerate(mine) if a.get("dropped")]
    return (
        len(dropped) == 1
        and mine[dropped[0]]["retrying"] == "rt"
        and len(mine) > dropped[0] + 1
        and mine[dropped[0] + 1]["attempt"] == 2
        and 200 <= mine[dropped[0] + 1]["status"] < 300
        and mine[dropped[0] + 1]["url"] == mine[dropped[0]]["url"]
    )


def final(system: System, sid: str) -> dict[str, Any]:
    result: dict[str, Any] = system.wait(
        lambda: (call := system.call(sid))["status"] in FINAL and call, timeout=60, message=f"call {sid} never ended"
    )
    return result


def test_a_callback_with_every_webhook_answered_twice_ends_as_one_callback(retrying: System) -> None:
    system = retrying
    drop_every_first_answer(system, sign_fragment=True)
    system.phone(CUSTOMER, answer="human", steps=[{"digits": "1"}])
    system.phone(AGENT, answer="human", steps=[{"digits": "1"}], hangup_after=60)
    agent_id = system.add_agent(AGENT)
    ref = system.ask(CUSTOMER)
    req = system.wait_status(ref, "completed", timeout=60)

    # One outcome: one call to the customer, one agent rung once, one attempt, one leg.
    (customer_call,) = system.calls(to=CUSTOMER)
    (agent_leg,) = system.calls(to=AGENT)
    assert agent_leg["parent_call_sid"] == customer_call["sid"]
    attempts = system.attempts(ref)
    assert req.attempts == 1 and len(attempts) == 1
    assert (attempts[0].outcome, attempts[0].agent_outcome, attempts[0].answered_by) == (
        "completed",
        "completed",
        "human",
    )
    with get_db(system.app).sessions() as session:
        legs = session.scalar(select(func.count()).select_from(AgentLeg).where(AgentLeg.attempt_id == attempts[0].id))
        assert legs == 1
        assert session.scalar(select(func.count()).select_from(CallAttempt)) == 1
    system.wait(lambda: system.agent(agent_id).status == "available", message="agent never left wrap-up")
    final(system, customer_call["sid"])
    final(system, agent_leg["sid"])

    # ... although every webhook of the call was answered twice: dropped once, then retried.
    seen = webhooks_of(system, customer_call["sid"], agent_leg["sid"])
    for path in ("answer", "confirm", "screen", "screen-answer", "dial-done"):
        assert retried(seen, f"/voice/callback/{path}"), path
    # The status callbacks come after the call; the first one's answer was dropped and retried too.
    system.wait(
        lambda: retried(webhooks_of(system, customer_call["sid"]), "/voice/callback/status"),
        message="the status callback was not retried",
    )
    assert system.request(ref).status == "completed" and system.request(ref).attempts == 1
    # The customer heard the question once and was put through once.
    said = " ".join(e.get("text", "") for e in system.call(customer_call["sid"])["timeline"] if e["type"] == "say")
    assert said.count("press 1 or say yes") == 1


def test_a_caller_who_holds_with_every_webhook_answered_twice_is_put_through_once(retrying: System) -> None:
    system = retrying
    drop_every_first_answer(system, sign_fragment=False)
    system.phone(CALLER, answer="human", hangup_after=400)
    system.phone(AGENT, answer="human", steps=[{"digits": "1"}], hangup_after=60)
    agent_id = system.add_agent(AGENT, status="away")  # on a break: the caller may hold for them
    response = requests.post(
        f"{system.sandbox_url}/sandbox/calls",
        json={"from": CALLER, "to": SHOP_NUMBER, "steps": [{"digits": "0"}, {"digits": "3"}]},
        timeout=5,
    )
    assert response.status_code == 201, response.text
    sid = str(response.json()["sid"])
    system.wait(
        lambda: any(e["type"] == "play" for e in system.call(sid)["timeline"]), timeout=30, message="no hold music"
    )
    system.set_agent_status(agent_id, "available")
    system.wait(lambda: system.calls(to=AGENT), timeout=30, message="the agent was never rung")
    call = final(system, sid)
    assert "Thanks for holding. Connecting you now." in " ".join(
        e.get("text", "") for e in call["timeline"] if e["type"] == "say"
    )

    with get_db(system.app).sessions() as session:
        sessions = session.scalars(select(IvrSession).where(IvrSession.call_sid == sid)).all()
        assert len(sessions) == 1 and sessions[0].outcome == "hold"  # one menu session for one call
        requests_made = session.scalars(select(CallbackRequest)).all()
        assert len(requests_made) == 1 and requests_made[0].id == sessions[0].request_id  # one place in line
        ref = requests_made[0].ref
    system.wait(lambda: system.request(ref).status == "completed", message="the held call never completed")
    assert system.request(ref).hold_call_sid is None
    assert system.calls(direction="outbound-api") == []  # nobody dialled back: the caller was on the line
    (agent_leg,) = system.calls(to=AGENT)  # one agent rung, once
    final(system, agent_leg["sid"])

    seen = webhooks_of(system, sid, agent_leg["sid"])
    for path in ("/voice/incoming", "/voice/ivr/input", "/voice/ivr/hold-wait", "/voice/ivr/hold-done"):
        assert retried(seen, path), path
    for path in ("connect-holder", "screen", "screen-answer"):
        assert retried(seen, f"/voice/callback/{path}"), path
    deadline = time.monotonic() + 10
    while not retried(webhooks_of(system, sid), "/voice/status") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert retried(webhooks_of(system, sid), "/voice/status"), "the inbound status callback was not retried"
    with get_db(system.app).sessions() as session:
        ivr = session.scalar(select(IvrSession).where(IvrSession.call_sid == sid))
        assert ivr is not None and ivr.ended_at is not None and ivr.outcome == "hold"


def test_a_caller_put_through_with_every_webhook_answered_twice_rings_one_agent_once(retrying: System) -> None:
    system = retrying
    drop_every_first_answer(system, sign_fragment=False)
    system.phone(CALLER, answer="human", hangup_after=400)
    system.phone(AGENT, answer="human", steps=[{"digits": "1"}], hangup_after=60)
    agent_id = system.add_agent(AGENT)
    response = requests.post(
        f"{system.sandbox_url}/sandbox/calls",
        json={"from": CALLER, "to": SHOP_NUMBER, "steps": [{"digits": "0"}]},
        timeout=5,
    )
    assert response.status_code == 201, response.text
    sid = str(response.json()["sid"])
    call = final(system, sid)
    said = " ".join(e.get("text", "") for e in call["timeline"] if e["type"] == "say")
    assert "calling you back about this right now" not in said, said

    (agent_leg,) = system.calls(to=AGENT)  # one agent rung, once, though the transfer was answered twice
    final(system, agent_leg["sid"])
    assert retried(webhooks_of(system, sid), "/voice/ivr/input")
    with get_db(system.app).sessions() as session:
        assert session.scalar(select(func.count()).select_from(AgentLeg)) == 1
        ref = session.scalars(select(CallbackRequest)).one().ref
    system.wait(lambda: system.request(ref).status == "completed", message="the transferred call never completed")
    system.wait(lambda: system.agent(agent_id).status in {"wrap_up", "available"}, message="agent still held")
