"""Callers dial the shop and use the phone menu, by keypad and by speech, through the sandbox over HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlalchemy import select

from agents.models import DEFAULT_TIMEZONE
from core.db import get_db
from ivr import answers, handover
from ivr.models import IvrSession
from orders.demo import DEMO_FILE, load_demo_orders
from orders.port import OrderInfo, ReturnInfo
from orders.records import parse_record
from tests.e2e.conftest import SHOP_NUMBER, System, start_system

STRANGER = "+12015550166"  # no orders on file
REGULAR = "+12015550123"  # the demo customer, with recent orders
AGENT = "+12015550188"
FINAL = {"completed", "busy", "failed", "no-answer", "canceled"}


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[System]:
    """The system with the demo orders and returns loaded."""
    running, stop = start_system(tmp_path)
    with get_db(running.app).sessions() as session:
        load_demo_orders(session)
    yield running
    stop()


def demo_records() -> list[OrderInfo | ReturnInfo]:
    return [parse_record(json.loads(line)) for line in DEMO_FILE.read_text().splitlines() if line.strip()]


def call_in(
    system: System, caller: str, steps: list[dict[str, Any]], timeout: float = 60, **extra: Any
) -> dict[str, Any]:
    """Dial the shop from a virtual phone that follows `steps`; returns the finished call with its timeline."""
    response = requests.post(
        f"{system.sandbox_url}/sandbox/calls",
        json={"from": caller, "to": SHOP_NUMBER, "steps": steps, **extra},
        timeout=5,
    )
    assert response.status_code == 201, response.text
    sid = response.json()["sid"]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        call = system.call(sid)
        if call["status"] in FINAL:
            return call
        time.sleep(0.05)
    raise AssertionError(f"call {sid} never ended")


def heard(call: dict[str, Any]) -> str:
    """Everything the caller heard, in order."""
    return " ".join(e.get("text", "") for e in call["timeline"] if e["type"] == "say")


def session_of(system: System, call: dict[str, Any]) -> IvrSession:
    with get_db(system.app).sessions() as session:
        ivr = session.scalar(select(IvrSession).where(IvrSession.call_sid == call["sid"]))
        assert ivr is not None
        return ivr


def wait_session_closed(system: System, call: dict[str, Any]) -> IvrSession:
    return system.wait(lambda: (s := session_of(system, call)).ended_at is not None and s, message="session open")


def test_a_caller_tracks_an_order_by_keypad_and_is_answered_without_an_agent(shop: System) -> None:
    call = call_in(shop, STRANGER, [{"digits": "1"}, {"digits": "11244556671234567#"}, {"digits": "9"}])
    said = heard(call)
    assert said.startswith("Thanks for calling Callme Shop.")
    assert "To track an order, press 1" in said
    assert "Your Kindle Paperwhite shipped" in said and "with U P S" in said
    assert said.rstrip().endswith("Goodbye.")
    ivr = wait_session_closed(shop, call)
    assert ivr.outcome == "contained"
    steps = ivr.get_steps()
    assert [s["kind"] for s in steps][:3] == ["menu", "reference", "lookup"]


def test_a_caller_tracks_an_order_by_speech(shop: System) -> None:
    spoken = "one one two, four four five five six six seven, one two three four five six seven"
    # No Confidence sent (as Twilio's recognisers often do): a whole order number is trusted as heard.
    steps: list[dict[str, Any]] = [
        {"speech": "where's my package"},
        {"speech": spoken, "confidence": None},
        {"speech": "goodbye"},
    ]
    call = call_in(shop, STRANGER, steps)
    assert "Your Kindle Paperwhite shipped" in heard(call)
    ivr = wait_session_closed(shop, call)
    assert ivr.get_steps()[0]["intent"] == "track"
    assert ivr.outcome == "contained"


def test_a_caller_who_pauses_between_the_groups_of_the_number_is_heard_to_the_end(shop: System) -> None:
    # A breath between groups (1.5 s) is within the number question's speechTimeout: one utterance.
    steps: list[dict[str, Any]] = [
        {"speech": "where's my package"},
        {"speech": "one one two, four four five five six six seven", "pause": 1.5},
        {"speech": "one two three four five six seven", "confidence": None},
        {"speech": "goodbye"},
    ]
    call = call_in(shop, STRANGER, steps)
    said = heard(call)
    assert "so far" not in said
    assert "Your Kindle Paperwhite shipped" in said


def test_a_caller_who_stops_halfway_through_the_number_is_asked_for_the_rest(shop: System) -> None:
    # A longer pause (4 s, looking for the rest of the number) ends the question: what was heard is kept.
    steps: list[dict[str, Any]] = [
        {"speech": "where's my package"},
        {"speech": "one one two, four four five five six six seven", "pause": 4},
        {"speech": "one two three four five six seven"},
        {"speech": "yes"},
        {"speech": "goodbye"},
    ]
    call = call_in(shop, STRANGER, steps)
    said = heard(call)
    assert "I have 1 1 2, 4 4 5 5 6 6 7 so far." in said
    assert "I heard 1 1 2, 4 4 5 5 6 6 7, 1 2 3 4 5 6 7. Is that right?" in said
    assert "Your Kindle Paperwhite shipped" in said
    ivr = wait_session_closed(shop, call)
    assert ivr.outcome == "contained"


# Every order and return state, in both languages and both ways of answering: test_ivr_every_state.py.


def test_a_mistyped_number_gets_a_second_chance(shop: System) -> None:
    call = call_in(
        shop, STRANGER, [{"digits": "1"}, {"digits": "12345#"}, {"digits": "11244556671234567#"}, {"digits": "9"}]
    )
    said = heard(call)
    assert "I couldn't find an order with that number." in said
    assert "Your Kindle Paperwhite shipped" in said


def test_two_unknown_numbers_then_a_person(shop: System) -> None:
    shop.phone(AGENT, answer="human", steps=[{"digits": "1"}], hangup_after=60)
    shop.add_agent(AGENT)
    call = call_in(shop, STRANGER, [{"digits": "1"}, {"digits": "12345#"}, {"digits": "54321#"}])
    said = heard(call)
    assert said.count("I couldn't find") == 2 and "Sorry" not in said
    assert "I couldn't find that one either, so let me get you to someone who can look into it." in said
    ivr = wait_session_closed(shop, call)
    assert ivr.outcome == "transferred"


def test_a_recognised_caller_is_offered_their_latest_order(shop: System) -> None:
    # The offer takes several keys (an order number typed instead of a yes): a lone 1 is yes after a pause.
    call = call_in(shop, REGULAR, [{"digits": "1"}, {"wait": 4}, {"digits": "1"}, {"digits": "9"}])
    said = heard(call)
    latest = max(
        (r for r in demo_records() if isinstance(r, OrderInfo) and r.phone == REGULAR), key=lambda o: o.placed_at
    )
    zone = ZoneInfo(DEFAULT_TIMEZONE)  # the orders queue's: the shop's days
    today = datetime.now(zone).date()
    # Asked in the greeting itself, before the menu.
    assert said.startswith(
        f"Thanks for calling Callme Shop. Are you calling about your order of {answers.items_phrase(latest)}, "
        f"placed {answers.when(latest.placed_at, today, zone=zone)}? Press 1 or say yes."
    )
    assert said.count(answers.order_sentence(latest, today, zone=zone)) == 2  # read out, then repeated on 1


def test_a_caller_id_the_carrier_could_not_verify_does_not_bring_up_the_orders_of_that_number(shop: System) -> None:
    """Someone spoofing a customer's number: the carrier's failed SHAKEN/STIR check reaches us in StirVerstat."""
    call = call_in(shop, REGULAR, [{"digits": "1"}, {"wait": 6}], verstat="TN-Validation-Failed-A")
    said = heard(call)
    assert "your order of" not in said
    assert said.startswith("Thanks for calling Callme Shop. To track an order, press 1")
    assert "Please key in your order number" in said


def test_an_agent_is_told_when_the_carrier_could_not_verify_the_callers_number(shop: System) -> None:
    """Put through to a person, the caller may still be someone else than the number's owner: the agent
    hears it in the whisper and reads it on the screen pop, before talking about anyone's orders."""
    from callback.models import CallbackRequest

    shop.phone(AGENT, answer="human", steps=[{"digits": "1"}], hangup_after=60)
    shop.add_agent(AGENT)
    call = call_in(shop, REGULAR, [{"speech": "representative"}], verstat="TN-Validation-Passed-C")
    ivr = wait_session_closed(shop, call)
    assert ivr.outcome == "transferred"
    (leg,) = shop.calls(to=AGENT)
    assert "The carrier could not verify that caller ID, so it may not be theirs." in heard(shop.call(leg["sid"]))
    with get_db(shop.app).sessions() as session:
        req = session.get(CallbackRequest, ivr.request_id)
        assert req is not None and req.phone == REGULAR and req.caller_id_doubted


def test_silence_reprompts_in_other_words_then_hands_over_never_hangs_up(shop: System) -> None:
    call = call_in(shop, STRANGER, [])
    said = heard(call)
    # The question, the reprompt after silence in other words, then the question again: never the same
    # words twice in a row.
    assert said.count("Are you still there?") == 1
    assert said.count("To track an order, press 1 or say track my order") == 2
    assert said.index("Are you still there?") < said.rindex("To track an order, press 1 or say track my order")
    assert "Let me get someone to help you." in said
    assert "Nobody is on duty right now." in said
    ivr = wait_session_closed(shop, call)
    assert ivr.outcome == "callback"  # nobody to talk to and no answer: we call them back
    assert ivr.request_id is not None


def test_asking_for_an_agent_with_one_free_connects_with_the_context_whispered(shop: System) -> None:
    shop.phone(AGENT, answer="human", steps=[{"digits": "1"}], hangup_after=60)
    shop.add_agent(AGENT)
    call = call_in(shop, STRANGER, [{"speech": "representative"}])
    assert "Let me get you to someone on our orders team." in heard(call)  # the tree's transfer prompt
    ivr = wait_session_closed(shop, call)
    assert ivr.outcome == "transferred"
    (leg,) = shop.calls(to=AGENT)
    whisper = heard(shop.call(leg["sid"]))
    assert "A caller from the phone menu" in whisper and "they asked for a person" in whisper
    with get_db(shop.app).sessions() as session:
        from callback.models import CallbackRequest

        req = session.get(CallbackRequest, ivr.request_id)
        assert req is not None and req.source == "ivr"
        shop.wait(lambda: shop.request(req.ref).status == "completed", message="transfer never completed")


def test_with_no_agent_free_a_callback_keeps_the_callers_place(shop: System) -> None:
    call = call_in(shop, STRANGER, [{"digits": "0"}, {"digits": "1"}])
    said = heard(call)
    assert "You're number 1 in line" in said and "We'll call you back at this number." in said
    ivr = wait_session_closed(shop, call)
    assert ivr.outcome == "callback"
    # Someone asks on the web after the caller rang; the caller must still be called first.
    later = shop.ask("+12015550177")
    shop.phone(STRANGER, answer="busy")
    shop.phone("+12015550177", answer="busy")
    shop.add_agent(AGENT)
    shop.wait(lambda: shop.calls(direction="outbound-api"), message="nobody was dialled")
    first = sorted(shop.calls(direction="outbound-api"), key=lambda c: c["date_created"])[0]
    assert first["to"] == STRANGER
    assert shop.request(later).status in {"queued", "dialing", "retry_wait"}


def test_the_order_service_being_down_means_an_apology_and_a_transfer(tmp_path: Path) -> None:
    system, stop = start_system(tmp_path, order_api_url="http://127.0.0.1:9", order_api_timeout_seconds=1.0)
    try:
        call = call_in(system, STRANGER, [{"digits": "1"}, {"digits": "11244556671234567#"}, {"digits": "1"}])
        said = heard(call)
        assert "I'm sorry, I can't look that up right now." in said
        assert "Nobody is on duty right now." in said
    finally:
        stop()


def start_call(system: System, caller: str, steps: list[dict[str, Any]]) -> str:
    response = requests.post(
        f"{system.sandbox_url}/sandbox/calls", json={"from": caller, "to": SHOP_NUMBER, "steps": steps}, timeout=5
    )
    assert response.status_code == 201, response.text
    return str(response.json()["sid"])


def test_with_no_agent_free_a_caller_can_hold_and_is_put_through_when_one_is(shop: System) -> None:
    shop.phone(STRANGER, answer="human", hangup_after=400)
    shop.phone(AGENT, answer="human", steps=[{"digits": "1"}], hangup_after=60)
    agent_id = shop.add_agent(AGENT, status="away")  # on a break: the caller may hold for them
    sid = start_call(shop, STRANGER, [{"digits": "0"}, {"digits": "3"}])
    shop.wait(lambda: any(e["type"] == "enqueue" for e in shop.call(sid)["timeline"]), message="never enqueued")
    shop.wait(lambda: "Thanks for holding." in heard(shop.call(sid)), message="no hold announcement")
    said = heard(shop.call(sid))
    assert "You're next in line." in said  # the place in line is announced while holding
    # ... and then there is music.
    shop.wait(lambda: any(e["type"] == "play" for e in shop.call(sid)["timeline"]), message="no hold music")
    shop.set_agent_status(agent_id, "available")
    shop.wait(lambda: shop.calls(to=AGENT), timeout=30, message="the agent was never rung")
    shop.wait(lambda: shop.call(sid)["status"] in FINAL, timeout=60, message="the holder's call never ended")
    assert "Thanks for holding. Connecting you now." in heard(shop.call(sid))
    with get_db(shop.app).sessions() as session:
        from callback.models import CallbackRequest

        ivr = session.scalar(select(IvrSession).where(IvrSession.call_sid == sid))
        assert ivr is not None and ivr.outcome == "hold"
        req = session.get(CallbackRequest, ivr.request_id)
        assert req is not None
        ref = req.ref
    shop.wait(lambda: shop.request(ref).status == "completed", message="the held call never completed")
    assert shop.request(ref).hold_call_sid is None  # out of the line for good once put through
    assert shop.calls(direction="outbound-api") == []  # nobody was dialled: the caller was already on the line


def test_a_holder_left_with_nobody_signed_in_is_called_back_when_someone_is(
    shop: System, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(handover, "HOLD_UNSTAFFED_SECONDS", 2)  # the app's clock is real time, the sandbox's 20x
    shop.phone(STRANGER, answer="human", hangup_after=600)
    shop.phone(AGENT, answer="human", steps=[{"digits": "1"}], hangup_after=60)
    agent_id = shop.add_agent(AGENT, status="away")
    sid = start_call(shop, STRANGER, [{"digits": "0"}, {"digits": "3"}])
    shop.wait(lambda: any(e["type"] == "enqueue" for e in shop.call(sid)["timeline"]), message="never enqueued")
    shop.set_agent_status(agent_id, "offline")  # the end of the shift: nobody will take the holder now
    shop.wait(lambda: shop.call(sid)["status"] in FINAL, timeout=60, message="the holder was never let go")
    timeline = shop.call(sid)["timeline"]
    assert any(e["type"] == "enqueue" and e.get("action") == "leave" for e in timeline)
    assert heard(shop.call(sid)).endswith(
        "Sorry, nobody is on duty to take your call right now. You keep your place in line, and we'll "
        "call you back at this number as soon as someone is free. Goodbye."
    )
    ivr = wait_session_closed(shop, shop.call(sid))
    assert ivr.outcome == "callback"
    with get_db(shop.app).sessions() as session:
        from callback.models import CallbackRequest

        req = session.get(CallbackRequest, ivr.request_id)
        assert req is not None and (req.status, req.hold_call_sid) == ("queued", None)
        ref = req.ref
    assert shop.calls(direction="outbound-api") == []
    shop.phone(STRANGER, answer="human", steps=[{"digits": "1"}], hangup_after=120)  # takes our call
    shop.set_agent_status(agent_id, "available")  # the next shift: the holder is the first called back
    shop.wait(lambda: shop.calls(direction="outbound-api"), timeout=30, message="the holder was never called back")
    assert shop.calls(direction="outbound-api")[0]["to"] == STRANGER
    shop.wait(lambda: shop.request(ref).status == "completed", message="the callback never completed")


def test_a_caller_who_hangs_up_on_hold_gives_up_their_place(shop: System) -> None:
    shop.phone(STRANGER, answer="human", hangup_after=60)
    shop.add_agent(AGENT, status="away")
    sid = start_call(shop, STRANGER, [{"digits": "0"}, {"digits": "3"}])
    shop.wait(lambda: shop.call(sid)["status"] in FINAL, timeout=60, message="the call never ended")

    def canceled() -> bool:
        with get_db(shop.app).sessions() as session:
            from callback.models import CallbackRequest

            req = session.scalar(select(CallbackRequest).where(CallbackRequest.hold_call_sid == sid))
            return req is not None and req.status == "canceled" and req.outcome == "hung_up_on_hold"

    shop.wait(canceled, message="the holder's place was not given up")


def test_a_holder_whose_agent_misses_keeps_their_place_as_a_callback(shop: System) -> None:
    shop.phone(STRANGER, answer="human", hangup_after=400)
    shop.phone(AGENT, answer="no-answer")
    agent_id = shop.add_agent(AGENT, status="away")
    sid = start_call(shop, STRANGER, [{"digits": "0"}, {"digits": "3"}])
    shop.wait(lambda: any(e["type"] == "enqueue" for e in shop.call(sid)["timeline"]), message="never enqueued")
    shop.set_agent_status(agent_id, "available")
    shop.wait(lambda: shop.call(sid)["status"] in FINAL, timeout=60, message="the holder's call never ended")
    assert "we'll call you back" in heard(shop.call(sid))
    ivr = wait_session_closed(shop, shop.call(sid))
    with get_db(shop.app).sessions() as session:
        from callback.models import CallbackRequest

        req = session.get(CallbackRequest, ivr.request_id)
        assert req is not None
        ref = req.ref
    # First in line for a callback, not canceled as if they had hung up on hold.
    req = shop.wait(lambda: (r := shop.request(ref)).status == "queued" and r, message="not back in line")
    assert req.priority == 1 and req.hold_call_sid is None


def test_a_spanish_caller_put_through_to_an_agent_is_announced_in_spanish(shop: System) -> None:
    shop.phone(AGENT, answer="human", steps=[{"digits": "1"}], hangup_after=60)
    shop.add_agent(AGENT)
    call = call_in(shop, STRANGER, [{"digits": "9"}, {"digits": "0"}])
    said = heard(call)
    assert "Le comunico con alguien de nuestro equipo de pedidos." in said
    assert "Es posible que la persona que le atienda solo hable inglés." in said
    wait_session_closed(shop, call)
    (leg,) = shop.calls(to=AGENT)
    whisper = heard(shop.call(leg["sid"]))
    assert "The caller chose Spanish." in whisper and "may speak only English" in whisper


def test_a_problem_said_in_the_callers_words_is_whispered_to_the_orders_agent(shop: System) -> None:
    shop.phone(AGENT, answer="human", steps=[{"digits": "1"}], hangup_after=60)
    shop.add_agent(AGENT)
    call = call_in(shop, STRANGER, [{"speech": "the box was crushed and it arrived damaged", "confidence": 0.9}])
    assert "I'm sorry to hear that. Let me get you to someone on our orders team" in heard(call)
    ivr = wait_session_closed(shop, call)
    assert ivr.outcome == "transferred" and ivr.topic == "orders"
    (leg,) = shop.calls(to=AGENT)
    whisper = heard(shop.call(leg["sid"]))
    assert "The caller reports a damaged item: “The box was crushed and it arrived damaged”." in whisper


# --- whole calls through the recent fixes to handing a caller over ---------------------------------------


def requests_for(system: System) -> list[Any]:
    """Every callback request in the database, as (phone, status, source, hold call) rows."""
    from callback.models import CallbackRequest

    with get_db(system.app).sessions() as session:
        return [
            (r.phone, r.status, r.source, r.hold_call_sid)
            for r in session.scalars(select(CallbackRequest).order_by(CallbackRequest.id))
        ]


def close_orders_line(system: System) -> None:
    from agents.service import update_queue

    with get_db(system.app).sessions() as session:
        update_queue(session, "orders", {"hours": "closed"})


@pytest.mark.parametrize(
    ("caller", "line"),
    # +266696687: how Twilio spells a withheld number ("Anonymous" shown); +44: a number abroad.
    [("+266696687", "closed"), ("+442071838750", "nobody on duty")],
    ids=["withheld-closed", "abroad-unstaffed"],
)
def test_a_caller_we_cannot_call_back_is_offered_a_message_never_a_hold_and_leaves_one(
    shop: System, caller: str, line: str
) -> None:
    message = {"speech": "this is Casey about order one one two, please call me on two zero one five five five"}
    if line == "closed":
        close_orders_line(shop)
        # The closed line's offer names a message: press 2 for it.
        steps: list[dict[str, Any]] = [{"digits": "0"}, {"digits": "2"}, message]
    else:
        # Nobody on duty: a callback to a number they key, no hold; with no number keyed, a message.
        steps = [{"digits": "0"}, {"digits": "1"}, {"digits": "#"}, {"digits": "#"}, {"digits": "#"}, message]
    call = call_in(shop, caller, steps)
    said = heard(call)
    assert "We can't call back the number you're calling from" in said or "leave us a message" in said
    assert "After the tone, please tell us your name" in said
    assert "please say a number we can call, too" in said
    assert "hold" not in said.lower()  # never offered, never put on a line nobody answers
    assert not any(e["type"] == "enqueue" for e in call["timeline"])
    assert said.rstrip().endswith("Thank you. We have your message. Goodbye.")
    ivr = wait_session_closed(shop, call)
    assert ivr.outcome == "callback" and ivr.request_id is not None
    ((phone, status, source, holding),) = requests_for(shop)
    assert phone.startswith("call:") and (status, source, holding) == ("queued", "ivr", None)
    assert shop.calls(direction="outbound-api") == []  # a placeholder number is never dialled


def test_a_customer_whose_web_request_waits_who_holds_then_hangs_up_leaves_it_as_it_was(shop: System) -> None:
    shop.add_agent(AGENT, status="away")  # signed in but on a break: a hold is offered
    ref = shop.ask(STRANGER)  # asked for on the web (the form and the API make the same request)
    shop.phone(STRANGER, answer="human", hangup_after=60)
    sid = start_call(shop, STRANGER, [{"digits": "0"}, {"digits": "3"}])
    shop.wait(lambda: shop.call(sid)["status"] in FINAL, timeout=60, message="the call never ended")
    call = shop.call(sid)
    said = heard(call)
    # A caller ID is no proof of whose the request is: the caller holds in a place of their own, behind it.
    assert "Everyone is busy right now. You're number 2 in line" in said
    assert "Okay, please hold." in said
    assert any(e["type"] == "enqueue" for e in call["timeline"])
    wait_session_closed(shop, call)
    req = shop.wait(lambda: (r := shop.request(ref)).hold_call_sid is None and r, message="still holding")
    assert (req.status, req.source, req.outcome, req.attempts) == ("queued", "api", None, 0)
    web, holder = (row[:3] for row in requests_for(shop))
    assert web == (STRANGER, "queued", "api")
    assert holder[0].startswith("call:") and holder[1:] == ("canceled", "ivr")


def test_a_customer_whose_booked_callback_waits_is_put_through_as_an_unverified_caller_and_keeps_it(
    shop: System,
) -> None:
    shop.phone(AGENT, answer="human", steps=[{"digits": "1"}], hangup_after=60)
    shop.add_agent(AGENT)
    booked_for = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    ref = shop.ask(STRANGER, not_before=booked_for.isoformat(), order_number="112-4455667-2345678")
    call = call_in(shop, STRANGER, [{"digits": "0"}])
    assert "Let me get you to someone on our orders team." in heard(call)
    ivr = wait_session_closed(shop, call)
    assert ivr.outcome == "transferred"
    (leg,) = shop.calls(to=AGENT)
    whisper = heard(shop.call(leg["sid"]))
    assert whisper.startswith("A caller from the phone menu, calling from 2 0 1 5 5 5 0 1 6 6.")
    assert "Their caller ID matches an open callback request, but caller ID is not verified" in whisper
    assert "Casey" not in whisper and "1 1 2" not in whisper and "A callback" not in whisper
    own = shop.wait(lambda: (r := own_request(shop, ivr)).status == "completed" and r, message="never completed")
    assert own.ref != ref and not own.dialable
    # The booking is not used up by a caller ID: it is called as planned, at its own number, whose owner
    # may still say they no longer need us (press 2) if it was them who called.
    req = shop.request(ref)
    assert (req.status, req.attempts, req.not_before, req.agent_id) == ("queued", 0, booked_for, None)
    assert shop.calls(to=STRANGER) == []


def own_request(system: System, ivr: IvrSession) -> Any:
    from callback.models import CallbackRequest

    with get_db(system.app).sessions() as session:
        return session.get(CallbackRequest, ivr.request_id)


def test_no_thanks_goodbye_at_the_busy_offer_ends_the_call_politely_with_no_callback(shop: System) -> None:
    shop.add_agent(AGENT, status="away")
    call = call_in(shop, STRANGER, [{"digits": "0"}, {"speech": "no thanks, goodbye"}])
    said = heard(call)
    assert "Everyone is busy right now." in said
    assert said.rstrip().endswith("Okay. Thanks for calling. Goodbye.")
    assert "We'll call you back" not in said and "kept your place" not in said
    assert any(e["type"] == "hangup" for e in call["timeline"])
    ivr = wait_session_closed(shop, call)
    assert ivr.request_id is None
    assert requests_for(shop) == []


def test_representative_at_the_order_number_question_puts_the_caller_through(shop: System) -> None:
    shop.phone(AGENT, answer="human", steps=[{"digits": "1"}], hangup_after=60)
    shop.add_agent(AGENT)
    call = call_in(shop, STRANGER, [{"digits": "1"}, {"speech": "representative"}])
    said = heard(call)
    assert "Please key in your order number" in said
    assert "Let me get you to someone on our orders team." in said
    assert "I heard" not in said and "Sorry" not in said  # not read back as a number, not a miss
    ivr = wait_session_closed(shop, call)
    assert ivr.outcome == "transferred"
    assert [(s["kind"], s.get("intent")) for s in ivr.get_steps()][:2] == [("menu", "track"), ("reference", "agent")]
    (leg,) = shop.calls(to=AGENT)
    assert shop.call(leg["sid"])["status"] == "completed"
    ((_, status, source, _),) = requests_for(shop)
    assert source == "ivr"
    assert status in {"connected", "completed"}


# --- a yes-or-no question answered with a whole order number ------------------------------------------------

KINDLE = "11244556671234567"  # the regular customer's Kindle Paperwhite, not their latest order


@pytest.mark.parametrize("ended", ["#", ""], ids=["hash", "pause"])
def test_a_recognised_caller_who_types_another_order_number_at_the_offer_hears_that_order(
    shop: System, ended: str
) -> None:
    steps: list[dict[str, Any]] = [{"digits": KINDLE + ended}, {"wait": 4}, {"digits": "9"}]
    call = call_in(shop, REGULAR, steps)
    said = heard(call)
    assert "Are you calling about your order of" in said
    assert "Your Kindle Paperwhite shipped" in said  # the number typed, not the order offered
    assert said.rstrip().endswith("Goodbye.")
    ivr = wait_session_closed(shop, call)
    assert [s["reference"] for s in ivr.get_steps() if s["kind"] == "lookup"] == [KINDLE]
    assert ivr.outcome == "contained"


def test_a_number_typed_at_the_read_back_is_looked_up_instead_of_the_one_heard(shop: System) -> None:
    echo = "one one two four four five five six six seven two three four five six seven eight"
    steps: list[dict[str, Any]] = [
        {"digits": "1"},
        {"speech": echo, "confidence": 0.41},  # unsure: read back
        {"digits": KINDLE},
        {"wait": 4},
        {"digits": "9"},
    ]
    call = call_in(shop, STRANGER, steps)
    said = heard(call)
    assert "I heard 1 1 2, 4 4 5 5 6 6 7, 2 3 4 5 6 7 8. Is that right?" in said
    assert "Your Kindle Paperwhite shipped" in said and "Echo Dot" not in said
    ivr = wait_session_closed(shop, call)
    assert [s["reference"] for s in ivr.get_steps() if s["kind"] == "lookup"] == [KINDLE]
