"""The webhook_drop_first fault: which answers it loses, counted per URL path."""

from __future__ import annotations

from telephony.sandbox.model import Faults


def test_a_star_drops_the_first_answer_of_every_path_once() -> None:
    faults = Faults.from_json({"webhook_drop_first": {"*": 1}})
    taken = [faults.take_webhook_drop(p) for p in ("/a", "/a", "/b", "/a", "/b")]
    assert taken == [True, False, True, False, False]


def test_a_named_path_overrides_the_star_and_counts_its_own() -> None:
    faults = Faults.from_json({"webhook_drop_first": {"*": 1, "/slow": 2, "/never": 0}})
    assert [faults.take_webhook_drop("/slow") for _ in range(3)] == [True, True, False]
    assert faults.take_webhook_drop("/never") is False
    assert faults.take_webhook_drop("/other") is True


def test_without_the_fault_nothing_is_dropped_and_the_fault_is_shown() -> None:
    assert Faults().take_webhook_drop("/voice/incoming") is False
    shown = Faults.from_json({"webhook_drop_first": {"/x": 1}, "webhook_sign_fragment": True}).to_json()
    assert shown["webhook_drop_first"] == {"/x": 1} and shown["webhook_sign_fragment"] is True
