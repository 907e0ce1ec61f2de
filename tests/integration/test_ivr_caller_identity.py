"""A number is not an identity: a caller whose caller ID (which anyone can fake) or keyed number matches
someone's open callback request is served as the inbound caller they are, and that request is neither
changed, nor disclosed, nor used up. Through the signed webhooks and the JSON API."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from agents import desk
from callback import dnc
from callback.models import DUPLICATE_ASK, CallbackRequest
from core.clock import FixedClock
from core.db import get_db
from recordings.models import Recording
from tests.integration.test_ivr_handover import closed
from tests.integration.test_ivr_menu import gather_of, heard, path_of, staff
from tests.integration.test_ivr_webhooks import form, post, verbs

VICTIM = "+12015550177"
VICTIM_KEYED = "2015550177"
ORDER = "112-4455667-1234567"
SPOOFED_SID = "CA" + "5" * 32
AGENT_LEG_SID = "CA" + "6" * 32


def ask_by_api(client: FlaskClient, phone: str = VICTIM) -> str:
    """The victim's own callback request, made through the API; its reference."""
    made = client.post(
        "/api/callbacks",
        json={"phone": phone, "name": "Victim Person", "topic": "orders", "order_number": ORDER, "consent": True},
    )
    assert made.status_code == 201, made.get_json()
    ref: str = made.get_json()["id"]
    return ref


def as_it_stands(app: Flask, ref: str) -> dict[str, Any]:
    """Everything of a request a caller could change, take or read out."""
    with get_db(app).sessions() as session:
        req = session.scalars(select(CallbackRequest).where(CallbackRequest.ref == ref)).one()
        return {
            column: getattr(req, column)
            for column in (
                "status",
                "attempts",
                "agent_id",
                "language",
                "ivr_context",
                "expires_at",
                "hold_call_sid",
                "quoted_wait_seconds",
                "updated_at",
                "outcome",
            )
        }


def rows(app: Flask) -> list[CallbackRequest]:
    with get_db(app).sessions() as session:
        return list(session.scalars(select(CallbackRequest).order_by(CallbackRequest.id)))


def dial_in(app: Flask, client: FlaskClient, who: str, *answers: str, sid: str = SPOOFED_SID):
    """A call from `who` that answers each prompt in turn: digits, or "" for silence."""
    reply = post(app, client, "/voice/incoming", form(sid, From=who))
    for digits in answers:
        fields = {"Digits": digits} if digits else {}
        reply = post(app, client, path_of(gather_of(reply).get("action")), form(sid, From=who, **fields))
    return reply


def hang_up(app: Flask, client: FlaskClient, sid: str = SPOOFED_SID) -> None:
    post(app, client, "/voice/status", form(sid, CallStatus="completed", SequenceNumber="3", CallDuration="40"))


# --- the caller ID of an open request ---------------------------------------------------------------------


def test_a_caller_presenting_the_number_of_an_open_request_is_put_through_as_an_unverified_inbound_caller(
    shop: Flask, client: FlaskClient
) -> None:
    ref = ask_by_api(client)
    before = as_it_stands(shop, ref)
    staff(shop, "available")
    put_through = dial_in(shop, client, VICTIM, "0")
    number = ET.fromstring(put_through.data).find("Dial/Number")
    assert number is not None, heard(put_through)
    screen = post(shop, client, path_of(number.get("url")), form(AGENT_LEG_SID, AnsweredBy="human"))
    whisper = heard(screen)
    # Never presented as the shop's own callback, with the request's name and order.
    assert "A callback" not in whisper and "Victim" not in whisper and "1 1 2" not in whisper
    assert whisper.startswith("A caller from the phone menu, calling from 2 0 1 5 5 5 0 1 7 7."), whisper
    assert "Their caller ID matches an open callback request, but caller ID is not verified" in whisper
    # The request is not used up: it waits in line for its own call, to its own number.
    assert as_it_stands(shop, ref) == before
    hang_up(shop, client)
    assert as_it_stands(shop, ref) == before
    callers = [r for r in rows(shop) if r.ref != ref]
    assert [(r.phone.startswith("call:"), r.source, r.name) for r in callers] == [(True, "ivr", "Phone caller")]


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        (
            ("0",),
            "Sorry, nobody could take your call just now. Please call us again later. Any callback booked for "
            "your number still stands. Goodbye.",
        ),
        (
            ("9", "0"),
            "Lo sentimos, nadie ha podido atenderle ahora. Vuelva a llamarnos más tarde. Cualquier llamada "
            "programada para su número sigue en pie. Adiós.",
        ),
    ],
)
def test_a_caller_presenting_the_number_of_an_open_request_whose_agent_misses_is_not_told_we_cannot_call_it(
    shop: Flask, client: FlaskClient, keys: tuple[str, ...], expected: str
) -> None:
    ref = ask_by_api(client)
    before = as_it_stands(shop, ref)
    staff(shop, "available")
    dial = ET.fromstring(dial_in(shop, client, VICTIM, *keys).data).find("Dial")
    assert dial is not None
    missed = {"DialCallStatus": "no-answer", "DialCallSid": AGENT_LEG_SID, "From": VICTIM}
    told = heard(post(shop, client, path_of(dial.get("action")), form(SPOOFED_SID, **missed)))
    # Their number may well have a callback booked; whether it has is not said to a caller ID.
    assert told == expected
    assert as_it_stands(shop, ref) == before


def test_the_agents_screen_shows_a_matching_caller_id_as_not_verified(shop: Flask, client: FlaskClient) -> None:
    ask_by_api(client)
    staff(shop, "available")
    dial_in(shop, client, VICTIM, "0")
    with shop.app_context(), get_db(shop).sessions() as session:
        caller = session.scalars(select(CallbackRequest).where(CallbackRequest.source == "ivr")).one()
        shown = desk.pop(session, caller, caller.created_at, desk.OrderStatuses(), shop.extensions["order_lookup"])
    assert shown["name"] == "Phone caller" and shown["order"] is None
    assert shown["phone_display"] == "+1 201-555-0177 (caller ID, not verified: it matches an open callback request)"


def test_a_caller_presenting_the_number_of_an_open_request_is_not_told_its_place(
    shop: Flask, client: FlaskClient
) -> None:
    ref = ask_by_api(client)
    before = as_it_stands(shop, ref)
    staff(shop, "on_call")
    offer = dial_in(shop, client, VICTIM, "0")
    # Their own place: behind everyone waiting (the request of that number among them), not the request's.
    assert "You're number 2 in line" in heard(offer)
    booked = dial_in(shop, client, VICTIM, "0", "1")
    assert heard(booked) == (
        "There's already a callback booked for the number you're calling from, and we'll call it as planned. "
        "Thanks for calling. Goodbye."
    )
    assert as_it_stands(shop, ref) == before


def test_a_caller_presenting_the_number_of_an_open_request_holds_in_a_place_of_their_own(
    shop: Flask, client: FlaskClient
) -> None:
    ref = ask_by_api(client)
    before = as_it_stands(shop, ref)
    staff(shop, "on_call")
    held = dial_in(shop, client, VICTIM, "0", "3")
    assert [v.tag for v in verbs(held)] == ["Say", "Enqueue", "Hangup"]
    holder = [r for r in rows(shop) if r.ref != ref]
    assert [(r.hold_call_sid, r.phone.startswith("call:")) for r in holder] == [(SPOOFED_SID, True)]
    wait = path_of(verbs(held)[1].get("waitUrl"))
    on_hold = post(shop, client, wait, form(SPOOFED_SID, From=VICTIM, QueuePosition="2", QueueTime="30"))
    assert "You're number 2 in line." in heard(on_hold)  # their own place, behind the request
    assert as_it_stands(shop, ref) == before
    hang_up(shop, client)
    assert as_it_stands(shop, ref) == before
    assert [(r.status, r.outcome) for r in rows(shop) if r.ref != ref] == [("canceled", "hung_up_on_hold")]


def test_a_holder_whose_caller_id_matched_a_request_and_whose_line_is_left_unstaffed_is_not_promised_a_callback(
    shop: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    from agents.models import Agent

    ref = ask_by_api(client)
    before = as_it_stands(shop, ref)
    staff(shop, "on_call")
    held = dial_in(shop, client, VICTIM, "0", "3")
    wait, done = path_of(verbs(held)[1].get("waitUrl")), path_of(verbs(held)[1].get("action"))
    with get_db(shop).sessions() as session:
        for agent in session.scalars(select(Agent)):
            agent.status = "offline"
        session.commit()
    post(shop, client, wait, form(SPOOFED_SID, From=VICTIM))
    clock.advance(seconds=120)
    assert [v.tag for v in verbs(post(shop, client, wait, form(SPOOFED_SID, From=VICTIM)))] == ["Leave"]
    left = post(shop, client, done, form(SPOOFED_SID, From=VICTIM, QueueResult="leave", QueueTime="150"))
    assert "keep your place" not in heard(left) and "Record" in [v.tag for v in verbs(left)], heard(left)
    assert as_it_stands(shop, ref) == before


# --- a number keyed in --------------------------------------------------------------------------------------


def test_a_withheld_caller_keying_the_number_of_an_open_request_changes_nothing_and_hears_only_that_one_is_booked(
    shop: Flask, client: FlaskClient
) -> None:
    ref = ask_by_api(client)
    before = as_it_stands(shop, ref)
    staff(shop, "on_call")
    # Para español (9), a person (0), a callback (1), then the number.
    reply = dial_in(shop, client, "anonymous", "9", "0", "1", VICTIM_KEYED)
    said = heard(reply)
    assert said == (
        "Ya hay una llamada programada para ese número, y lo llamaremos como está previsto. Gracias por llamar. Adiós."
    )
    assert "fila" not in said and "delante" not in said and "siguiente" not in said
    assert as_it_stands(shop, ref) == before  # its language, context and expiry are its maker's
    # The ask is kept, closed, so the limits count it like any other.
    [asked] = [r for r in rows(shop) if r.ref != ref]
    assert (asked.phone, asked.status, asked.outcome, asked.source) == (VICTIM, "canceled", DUPLICATE_ASK, "ivr")


def test_probing_a_number_for_its_request_costs_asks_like_any_other(shop: Flask, client: FlaskClient) -> None:
    ref = ask_by_api(client)  # the number's first ask of the day (CALLBACK_LIMIT_PER_NUMBER_PER_DAY: 5)
    before = as_it_stands(shop, ref)
    staff(shop, "on_call")
    said = []
    for n in range(5):
        reply = dial_in(shop, client, "anonymous", "0", "1", VICTIM_KEYED, sid=f"CA{n:032d}")
        said.append(heard(reply))
    assert all(s.startswith("There's already a callback booked for that number") for s in said[:4]), said
    assert said[4].startswith("Sorry, we can't take another callback for that number just now."), said[4]
    assert as_it_stands(shop, ref) == before


def test_a_caller_keying_a_number_again_in_the_same_call_gets_the_same_answer_not_a_second_ask(
    shop: Flask, client: FlaskClient
) -> None:
    staff(shop, "on_call")
    first = dial_in(shop, client, "anonymous", "0", "1", VICTIM_KEYED)
    assert heard(first).startswith("Done. We'll call you back at 2 0 1 5 5 5 0 1 7 7.")
    # Twilio retries the webhook (its first answer was lost): the same request, no ask counted twice.
    retry = post(shop, client, "/voice/ivr/input?node=agent_orders&mode=number", form(SPOOFED_SID, Digits=VICTIM_KEYED))
    assert heard(retry) == heard(first)
    assert [(r.phone, r.status) for r in rows(shop)] == [(VICTIM, "queued")]


@pytest.mark.parametrize("who", [VICTIM, "anonymous"])
def test_a_request_the_caller_made_in_this_call_is_theirs(shop: Flask, client: FlaskClient, who: str) -> None:
    staff(shop, "on_call")
    keys = ("0", "1") if who == VICTIM else ("0", "1", VICTIM_KEYED)
    done = dial_in(shop, client, who, *keys)
    assert heard(done).startswith("Done. We'll call you back"), heard(done)
    [req] = rows(shop)
    assert (req.phone, req.status, req.source) == (VICTIM, "queued", "ivr")


# --- after hours: a message -------------------------------------------------------------------------------


def leave_message(app: Flask, client: FlaskClient, who: str, sid: str = SPOOFED_SID):
    """After hours: a person (0), a message (2), then the <Record> action with a recording."""
    asked = dial_in(app, client, who, "0", "2", sid=sid)
    record = [v for v in verbs(asked) if v.tag == "Record"]
    assert record, heard(asked)
    report = {
        "RecordingSid": "RE" + sid[2:],
        "RecordingUrl": f"https://api.twilio.com/rec/{sid}",
        "RecordingDuration": "9",
    }
    return post(app, client, path_of(record[0].get("action")), form(sid, From=who, **report))


def message_request(app: Flask) -> CallbackRequest | None:
    with get_db(app).sessions() as session:
        recording = session.scalars(select(Recording).where(Recording.kind == "message")).one()
        return session.get(CallbackRequest, recording.request_id) if recording.request_id else None


def test_a_message_from_the_number_of_an_open_request_is_kept_apart_from_it(
    shop: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    ref = ask_by_api(client)
    before = as_it_stands(shop, ref)
    closed(clock)
    thanks = leave_message(shop, client, VICTIM)
    assert heard(thanks) == (
        "Thank you. We have your message. There's already a callback booked for the number you're calling "
        "from, and we'll call it as planned. Goodbye."
    )
    kept = message_request(shop)
    # The shop has the message, on a request of its own that is never dialled; theirs gets no stranger's audio.
    assert kept is not None and kept.ref != ref and not kept.dialable
    assert as_it_stands(shop, ref) == before


# --- the per-client limit does not rest on a caller ID ----------------------------------------------------------


def test_withheld_callers_do_not_share_one_limit(shop: Flask, client: FlaskClient) -> None:
    """Eleven withheld callers in an hour, each keying a number of their own: each is a client of their own
    call (CALLBACK_LIMIT_PER_IP_PER_HOUR is 10), so none is refused for the others."""
    staff(shop, "on_call")
    for n in range(11):
        done = dial_in(shop, client, "anonymous", "0", "1", f"20155502{n:02d}", sid=f"CA{n:032d}")
        assert heard(done).startswith("Done. We'll call you back at"), (n, heard(done))
    booked = rows(shop)
    assert [r.status for r in booked] == ["queued"] * 11
    assert len({r.client_ip for r in booked}) == 11


def test_a_withheld_caller_keying_one_number_on_call_after_call_meets_that_numbers_own_limit(
    shop: Flask, client: FlaskClient
) -> None:
    staff(shop, "on_call")
    said = [heard(dial_in(shop, client, "anonymous", "0", "1", VICTIM_KEYED, sid=f"CA{n:032d}")) for n in range(6)]
    assert said[0].startswith("Done. We'll call you back at 2 0 1 5 5 5 0 1 7 7.")
    assert all(s.startswith("There's already a callback booked for that number") for s in said[1:5]), said
    assert said[5].startswith("Sorry, we can't take another callback for that number just now."), said[5]


# --- a message after hours asks for a callback like any other ask -----------------------------------------------


def test_a_message_left_after_hours_books_a_callback_at_the_callers_number_counted_as_their_ask(
    shop: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    closed(clock)
    thanks = leave_message(shop, client, VICTIM)
    assert heard(thanks) == "Thank you. We have your message, and we'll call you back after we open. Goodbye."
    kept = message_request(shop)
    assert kept is not None and (kept.phone, kept.status, kept.client_ip) == (VICTIM, "queued", "tel:" + VICTIM)


def test_a_message_from_a_number_on_the_do_not_call_list_is_kept_with_no_callback(
    shop: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    with get_db(shop).sessions() as session:
        dnc.add(session, clock, VICTIM, "asked on the phone")
    closed(clock)
    thanks = leave_message(shop, client, VICTIM)
    assert heard(thanks) == (
        "Thank you. We have your message. The number you're calling from is on our do-not-call list, "
        "so we won't call it back. Goodbye."
    )
    kept = message_request(shop)
    # The shop still has the message, on a request that is never dialled; the number has no callback.
    assert kept is not None and not kept.dialable
    assert [r for r in rows(shop) if r.phone == VICTIM] == []


def test_a_spanish_message_from_a_number_on_the_do_not_call_list_is_thanked_in_spanish(
    shop: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    with get_db(shop).sessions() as session:
        dnc.add(session, clock, VICTIM, None)
    closed(clock)
    asked = dial_in(shop, client, VICTIM, "9", "0", "2")
    record = [v for v in verbs(asked) if v.tag == "Record"][0]
    report = {"RecordingSid": "RE" + "4" * 32, "RecordingUrl": "https://api.twilio.com/rec/4", "RecordingDuration": "7"}
    thanks = post(shop, client, path_of(record.get("action")), form(SPOOFED_SID, From=VICTIM, **report))
    assert heard(thanks) == (
        "Gracias. Tenemos su mensaje. El número desde el que llama está en nuestra lista de no llamar, "
        "así que no le devolveremos la llamada. Adiós."
    )


def test_a_message_past_the_numbers_daily_limit_is_kept_with_no_more_callbacks(
    shop: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    # The number's requests today: five, each canceled (CALLBACK_LIMIT_PER_NUMBER_PER_DAY 5).
    for _ in range(5):
        ref = ask_by_api(client)
        assert client.delete(f"/api/callbacks/{ref}").status_code == 200
    closed(clock)
    thanks = leave_message(shop, client, VICTIM)
    assert heard(thanks) == (
        "Thank you. We have your message, but we can't book another callback for the number you're calling "
        "from just now. Goodbye."
    )
    kept = message_request(shop)
    assert kept is not None and not kept.dialable
    assert [r.status for r in rows(shop) if r.phone == VICTIM and r.outcome != DUPLICATE_ASK] == ["canceled"] * 5
