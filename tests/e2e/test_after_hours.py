"""Calling when the queue is closed: the menu says when we open, and offers a callback then or a
message now; a message becomes a callback request with its audio brought home, for the agent who
calls back. Through the sandbox over HTTP.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlalchemy import select

from agents.service import update_queue
from callback.models import CallbackRequest
from core.db import get_db
from ivr.models import IvrSession
from recordings import audio
from recordings.models import Recording
from recordings.storage import AudioStore
from tests.e2e.conftest import SHOP_NUMBER, System, start_system

CALLER = "+12015550177"
FINAL = {"completed", "busy", "failed", "no-answer", "canceled"}


@pytest.fixture
def closed_shop(tmp_path: Path) -> Iterator[System]:
    """The orders queue open only tomorrow (New York), from 9 to 5."""
    running, stop = start_system(tmp_path, recordings_dir=str(tmp_path / "recordings"))
    tomorrow = (datetime.now(UTC).astimezone(ZoneInfo("America/New_York")) + timedelta(days=1)).strftime("%a").lower()
    with get_db(running.app).sessions() as session:
        update_queue(session, "orders", {"hours": f"{tomorrow} 09:00-17:00", "timezone": "America/New_York"})
    yield running
    stop()


def call_in(system: System, steps: list[dict[str, Any]]) -> dict[str, Any]:
    answer = requests.post(
        f"{system.sandbox_url}/sandbox/calls", json={"from": CALLER, "to": SHOP_NUMBER, "steps": steps}, timeout=5
    )
    assert answer.status_code == 201, answer.text
    sid = answer.json()["sid"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        call = system.call(sid)
        if call["status"] in FINAL:
            return call
        time.sleep(0.05)
    raise AssertionError("the call never ended")


def heard(call: dict[str, Any]) -> str:
    return " ".join(e.get("text", "") for e in call["timeline"] if e["type"] == "say")


def ivr_of(system: System, call: dict[str, Any]) -> IvrSession:
    def closed() -> IvrSession | None:
        with get_db(system.app).sessions() as session:
            ivr = session.scalar(select(IvrSession).where(IvrSession.call_sid == call["sid"]))
            return ivr if ivr is not None and ivr.ended_at is not None else None

    found: IvrSession = system.wait(closed, 30, "the menu session never closed")
    return found


def test_a_message_left_after_hours_becomes_a_callback_with_its_audio(closed_shop: System) -> None:
    message = {"speech": "hi this is Dana my parcel never arrived please call me back"}
    call = call_in(closed_shop, [{"speech": "representative"}, {"digits": "2"}, message])

    said = heard(call)
    assert "We're closed right now. We open again tomorrow at 9 AM." in said
    assert "press 2, or say message" in said and "To hold" not in said  # nobody to hold for
    assert "We have your message, and we'll call you back after we open." in said
    ivr = ivr_of(closed_shop, call)
    assert ivr.outcome == "callback" and ivr.request_id is not None

    def stored() -> Recording | None:
        with get_db(closed_shop.app).sessions() as session:
            found = session.scalar(select(Recording).where(Recording.request_id == ivr.request_id))
            return found if found is not None and found.state == "stored" else None

    recording: Recording = closed_shop.wait(stored, 60, "the message never came home")
    assert recording.kind == "message" and recording.channels == 1
    store: AudioStore = closed_shop.app.extensions["audio_store"]
    assert recording.storage_key is not None
    kept = audio.decode(store.get(recording.storage_key))
    assert audio.seconds(kept) >= 4  # twelve words, about 5 s, as the caller said them
    with get_db(closed_shop.app).sessions() as session:
        req = session.get(CallbackRequest, ivr.request_id)
        assert req is not None and req.status == "queued" and req.phone == CALLER and req.source == "ivr"
    held = requests.get(f"{closed_shop.sandbox_url}/sandbox/recordings", timeout=5).json()["recordings"]
    closed_shop.wait(
        lambda: requests.get(f"{closed_shop.sandbox_url}/sandbox/recordings", timeout=5).json()["recordings"] == [],
        30,
        f"the provider still holds {held}",
    )


def test_after_hours_a_caller_can_keep_a_callback_for_when_we_open(closed_shop: System) -> None:
    call = call_in(closed_shop, [{"speech": "representative"}, {"digits": "1"}])

    assert "Done. We'll call you back at this number." in heard(call)
    ivr = ivr_of(closed_shop, call)
    assert ivr.outcome == "callback"
    with get_db(closed_shop.app).sessions() as session:
        req = session.get(CallbackRequest, ivr.request_id)
        assert req is not None and req.status == "queued" and req.hold_call_sid is None
    assert closed_shop.calls(direction="outbound-api") == []  # nobody is rung while we are closed


def test_a_caller_who_says_nothing_after_the_tone_leaves_no_request(closed_shop: System) -> None:
    call = call_in(closed_shop, [{"speech": "representative"}, {"digits": "2"}])

    assert "I didn't hear a message." in heard(call)
    ivr = ivr_of(closed_shop, call)
    assert ivr.request_id is None
    with get_db(closed_shop.app).sessions() as session:
        assert session.scalars(select(Recording)).all() == []
