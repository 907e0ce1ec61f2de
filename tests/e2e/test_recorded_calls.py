"""A queue that records: the customer hears the notice, only the conversation is recorded (in two
channels, customer then agent), and the recording comes home verified with nothing left at the
provider. Customer-first, agent-first, and a queue that does not record.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from agents.service import update_queue
from core.db import get_db
from recordings import audio
from recordings.models import Recording
from recordings.storage import AudioStore
from tests.e2e.conftest import System, start_system

CUSTOMER = "+12015550141"
AGENT = "+12015550142"
NOTICE = "This call may be recorded for quality and training."


@pytest.fixture
def system(tmp_path: Path) -> Iterator[System]:
    running, stop = start_system(tmp_path, recordings_dir=str(tmp_path / "recordings"))
    yield running
    stop()


def said(system: System, sid: str) -> str:
    return " ".join(e.get("text", "") for e in system.call(sid)["timeline"] if e["type"] == "say")


def records(system: System, **changes: object) -> None:
    with get_db(system.app).sessions() as session:
        update_queue(session, "orders", {"recording": True, **changes})


def stored(system: System, ref: str) -> Recording:
    req = system.request(ref)

    def done() -> Recording | None:
        with get_db(system.app).sessions() as session:
            found = session.scalar(select(Recording).where(Recording.request_id == req.id))
            return found if found is not None and found.state == "stored" and found.provider_deleted_at else None

    result: Recording = system.wait(done, 60, "the recording never came home")
    return result


def sandbox_recordings(system: System) -> list[dict[str, object]]:
    listed = requests.get(f"{system.sandbox_url}/sandbox/recordings", timeout=5).json()
    return list(listed["recordings"])


def test_a_recorded_callback_keeps_only_the_conversation_in_two_channels(system: System) -> None:
    records(system)
    # Once through, the customer talks (7 words, about 3 s), listens 12 s and hangs up: a conversation
    # of about 15 s. The agent's screen (their context read out, several seconds) comes before it.
    conversation = [{"speech": "hello I need help with my order"}, {"wait": 12}, {"hangup": True}]
    system.phone(CUSTOMER, answer="human", steps=[{"digits": "1"}, *conversation])
    # The agent stays on until the customer hangs up, however long the screen took on a loaded machine
    # (sandbox time runs on while webhooks are slow): an agent who left first would send the customer on
    # to the next words of their call, which the recording, still running on that call, would keep.
    system.phone(AGENT, answer="human", steps=[{"digits": "1"}], hangup_after=300)
    agent_id = system.add_agent(AGENT)
    ref = system.ask(CUSTOMER)
    system.wait_status(ref, "completed", timeout=60)

    [customer_call] = system.calls(to=CUSTOMER)
    heard = said(system, customer_call["sid"])
    assert heard.index("Connecting you now") < heard.index(NOTICE)  # told before the agent is rung
    recording = stored(system, ref)

    assert recording.channels == 2 and recording.kind == "call" and recording.agent_id == agent_id
    assert recording.provider_call_sid == customer_call["sid"]  # the customer's call, recorded once the agent accepted
    # Only the conversation: with the screen in it, it would run past 20 s.
    assert recording.provider_duration_seconds is not None
    assert 13 <= recording.provider_duration_seconds <= 18
    store: AudioStore = system.app.extensions["audio_store"]
    assert recording.storage_key is not None
    kept = audio.decode(store.get(recording.storage_key))
    assert kept.channels == 2
    assert audio.same_length(audio.seconds(kept), float(recording.duration_seconds or 0))
    customer, agent = kept.split_to_mono()
    assert customer.max_dBFS > agent.max_dBFS + 10  # the customer spoke on channel 1; the agent kept quiet
    assert sandbox_recordings(system) == []  # no copy left at the provider


def test_an_agent_who_ends_the_conversation_first_leaves_our_goodbye_out_of_the_recording(system: System) -> None:
    records(system)
    # The customer says their piece and would stay on; the agent wraps up 8 s into the conversation.
    customer_steps = [{"digits": "1"}, {"speech": "hello I need help with my order"}, {"wait": 30}, {"hangup": True}]
    system.phone(CUSTOMER, answer="human", steps=customer_steps)
    system.phone(AGENT, answer="human", steps=[{"digits": "1"}, {"wait": 8}, {"hangup": True}], hangup_after=300)
    system.add_agent(AGENT)
    ref = system.ask(CUSTOMER)
    system.wait_status(ref, "completed", timeout=60)

    [customer_call] = system.calls(to=CUSTOMER)
    system.wait(lambda: "Thank you for talking with us." in said(system, customer_call["sid"]), 30, "no goodbye")
    recording = stored(system, ref)
    assert recording.provider_duration_seconds is not None
    assert recording.provider_duration_seconds <= 12  # the 8 s conversation, not the goodbye after it
    store: AudioStore = system.app.extensions["audio_store"]
    assert recording.storage_key is not None
    customer, agent = audio.decode(store.get(recording.storage_key)).split_to_mono()
    assert customer.max_dBFS > agent.max_dBFS + 10  # "Thank you for talking with us" is not in it


def test_agent_first_records_the_customers_leg_after_the_greeting_and_notice(system: System) -> None:
    records(system, dial_strategy="agent_first")
    system.phone(CUSTOMER, answer="human", hangup_after=30)
    system.phone(AGENT, answer="human", steps=[{"digits": "1"}], hangup_after=60)
    system.add_agent(AGENT)
    ref = system.ask(CUSTOMER)
    system.wait_status(ref, "completed", timeout=60)

    [customer_leg] = system.calls(to=CUSTOMER)
    timeline = system.call(customer_leg["sid"])["timeline"]
    notice = next(i for i, e in enumerate(timeline) if e["type"] == "say" and NOTICE in e.get("text", ""))
    [started] = [i for i, e in enumerate(timeline) if e["type"] == "record" and e.get("action") == "start"]
    # Consent: nothing the customer says is recorded before they have heard the notice to the end (the
    # greeting's document goes on, by a redirect, only once the notice has been said).
    assert notice < started
    assert any(e["type"] == "redirect" for e in timeline[notice:started])
    recording = stored(system, ref)
    assert recording.channels == 2 and recording.provider_call_sid == customer_leg["sid"]
    assert sandbox_recordings(system) == []


def test_a_queue_that_does_not_record_says_nothing_of_it_and_records_nothing(system: System) -> None:
    system.phone(CUSTOMER, answer="human", steps=[{"digits": "1"}], hangup_after=90)
    system.phone(AGENT, answer="human", steps=[{"digits": "1"}], hangup_after=40)
    system.add_agent(AGENT)
    ref = system.ask(CUSTOMER)
    system.wait_status(ref, "completed", timeout=60)

    [customer_call] = system.calls(to=CUSTOMER)
    assert NOTICE not in said(system, customer_call["sid"])
    assert sandbox_recordings(system) == []
    with get_db(system.app).sessions() as session:
        assert session.scalars(select(Recording)).all() == []
