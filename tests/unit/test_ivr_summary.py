"""What the agent is told about a phone-menu call: the caller's problem in their words, what they
heard, what they asked for, and the language they chose."""

from __future__ import annotations

from datetime import UTC, datetime

from ivr.models import IvrSession

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def session(language: str = "en", *steps: dict[str, object]) -> IvrSession:
    ivr = IvrSession(call_sid="CA1", caller="+12015550166", called="+15005550006", language=language)
    for step in steps:
        ivr.add_step(NOW, **step)
    return ivr


def test_a_problem_report_is_told_in_the_callers_own_words() -> None:
    ivr = session("en", {"kind": "menu", "speech": "The box was crushed and it arrived damaged.", "intent": "damaged"})

    assert ivr.summary() == "The caller reports a damaged item: “The box was crushed and it arrived damaged”."


def test_the_problem_outweighs_a_later_lookup_and_long_words_are_cut() -> None:
    words = "my package never came " * 10
    ivr = session(
        "en",
        {"kind": "menu", "speech": words, "intent": "missing"},
        {"kind": "lookup", "result": "Your Kindle shipped yesterday."},
    )

    summary = ivr.summary()
    assert summary.startswith("The caller reports a missing order: “my package never came")
    # The problem first, its words cut; what the menu found follows it.
    said, _, then = summary.partition(" The phone menu had told them: ")
    assert said.endswith("…”.") and len(said) < 200
    assert then == "Your Kindle shipped yesterday."


def test_what_they_heard_or_asked_for_otherwise() -> None:
    assert session("en", {"kind": "lookup", "result": "Your Kindle shipped."}).summary() == (
        "In the phone menu they heard: Your Kindle shipped."
    )
    assert session("en", {"kind": "menu", "intent": "agent"}).summary() == "In the phone menu they asked for a person."
    assert session("en", {"kind": "menu", "intent": "@other", "speech": "Change my address."}).summary() == (
        "In the phone menu they asked for something it does not offer: “Change my address”."
    )
    assert session("en").summary() == ""


def test_a_caller_who_chose_spanish_is_said_to_have() -> None:
    assert session("es", {"kind": "menu", "intent": "agent"}).summary() == (
        "In the phone menu they asked for a person. The caller chose Spanish."
    )
    assert session("es").summary() == "The caller chose Spanish."


def test_the_agent_hears_what_a_spanish_caller_was_told_in_english() -> None:
    found: dict[str, object] = {
        "kind": "lookup",
        "result": "Su Kindle se envió ayer.",
        "for_agent": "Your Kindle shipped yesterday.",
    }
    assert session("es", found).summary() == (
        "In the phone menu they heard: Your Kindle shipped yesterday. The caller chose Spanish."
    )


def test_what_they_asked_for_is_said_in_words_not_intent_names() -> None:
    assert session("en", {"kind": "menu", "intent": "track"}).summary() == (
        "In the phone menu they asked to track an order."
    )
    assert session("en", {"kind": "menu", "intent": "returns"}).summary() == (
        "In the phone menu they asked about a return or a refund."
    )


def test_the_agent_is_told_which_order_the_menu_looked_up_and_a_problem_reported_after_it() -> None:
    found: dict[str, object] = {"kind": "lookup", "reference": "11244556671234567", "result": "It was delivered."}
    ivr = session("en", found)
    assert ivr.order_number() == "112-4455667-1234567"
    assert ivr.summary() == "In the phone menu they asked about order 112-4455667-1234567 and heard: It was delivered."
    reported = session("en", found, {"kind": "menu", "speech": "it's not here", "intent": "missing"})
    assert reported.summary() == (
        "The caller reports a missing order with order 112-4455667-1234567: “it's not here”. "
        "The phone menu had told them: It was delivered."
    )
    # A return number looked up is no order number; nothing found is no order either.
    assert session("en", {"kind": "lookup", "reference": "RMA202400123", "result": "Refunded."}).order_number() is None
    assert session("en", {"kind": "lookup", "reference": "11244556671234567", "result": None}).order_number() is None
