"""A phone-menu caller whose number we cannot dial, and whose agent misses: told the truth, never dialled.

The sandbox's virtual phones all have numbers, so the caller here is abroad (outside ALLOWED_COUNTRIES),
which the phone menu treats as it treats a withheld number (tests/integration/test_call_flow.py has that).
"""

from __future__ import annotations

from tests.e2e.conftest import System
from tests.e2e.test_agent_legs import (
    AGENT,
    BEHAVIOURS,
    FINAL_CALL,
    assert_missed_and_away,
    heard,
    ivr_request,
    quick_queues,
    start_call,
)

ABROAD = "+442079460123"


def test_a_caller_we_cannot_call_back_whose_agent_misses_is_not_told_we_tried_them(system: System) -> None:
    quick_queues(system)
    system.phone(AGENT, **BEHAVIOURS["no-answer"][0])
    agent_id = system.add_agent(AGENT)
    sid = start_call(system, ABROAD, [{"speech": "representative"}])
    req = ivr_request(system, sid)
    assert not req.phone.startswith("+")
    system.wait(lambda: system.call(sid)["status"] in FINAL_CALL, timeout=30, message="the caller's call never ended")
    assert_missed_and_away(system, agent_id)
    said = heard(system, sid)
    assert "we can't call you back on the number you're calling from" in said, said
    assert "as many times as we may" not in said and "keep your place" not in said
    failed = system.wait_status(req.ref, "failed")
    assert (failed.attempts, failed.outcome) == (0, "agent_missed")
    assert system.calls(to=ABROAD) == []
