"""The sandbox's calls.create fault rules and its screened-leg link, without a network."""

from __future__ import annotations

import pytest

from telephony.sandbox.model import Behaviour, Call, CallEnded, CreateFault, Faults, Party
from telephony.sandbox.world import World


def test_a_rule_defaults_its_code_and_message_from_the_status() -> None:
    assert CreateFault.from_json({"status": 429}).error_code == 20429
    assert CreateFault.from_json({"status": 401}).error_message == "Authenticate"
    assert CreateFault.from_json({"status": 502}).error_code == 20500
    custom = CreateFault.from_json({"status": 400, "code": 21216, "message": "blocked"})
    assert (custom.error_code, custom.error_message) == (21216, "blocked")


@pytest.mark.parametrize(
    "bad",
    [
        {"status": 400},
        {"status": "500"},
        {"status": 302},
        {"status": 500, "count": 0},
        {"status": 500, "delay_ms": -1},
        {"after_create": True},
        {"after_create": "yes", "status": 500},
        {"status": 500, "colour": "red"},
        [],
    ],
)
def test_rules_that_make_no_sense_are_refused(bad: object) -> None:
    with pytest.raises(ValueError):
        CreateFault.from_json(bad)


def test_counted_rules_run_out_and_numbered_rules_wait_for_their_number() -> None:
    faults = Faults.from_json(
        {
            "calls_create": [
                {"status": 400, "code": 21215, "to": "+442071234567"},
                {"status": 503, "count": 1},
                {"after_create": True, "status": 500, "count": 1},
            ]
        }
    )
    assert faults.take_create_fault("+14155550100", after_create=False).error_code == 20503  # type: ignore[union-attr]
    assert faults.take_create_fault("+14155550100", after_create=False) is None
    for _ in range(3):
        assert faults.take_create_fault("+442071234567", after_create=False).code == 21215  # type: ignore[union-attr]
    assert faults.take_create_fault("+14155550100", after_create=True).status == 500  # type: ignore[union-attr]
    assert faults.take_create_fault("+14155550100", after_create=True) is None
    assert [rule["to"] for rule in faults.to_json()["calls_create"]] == ["+442071234567"]


def test_a_screened_leg_is_interrupted_when_its_caller_hangs_up() -> None:
    world = World("AC" + "0" * 32, "token")
    parent = world.add_call(Call("CA1", world.account_sid, "+1", "+2", "inbound", Party("+2", Behaviour())))
    leg = world.add_call(Call("CA2", world.account_sid, "+3", "+1", "outbound-dial", Party("+3", Behaviour())))
    leg.linked_to = parent.sid
    world.checkpoint(leg)
    parent.party.hung_up = True
    assert world.interrupted(leg)
    with pytest.raises(CallEnded) as caught:
        world.checkpoint(leg)
    assert caught.value.reason == "parent"
    leg.linked_to = None
    assert not world.interrupted(leg)
