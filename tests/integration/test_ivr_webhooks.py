"""The IVR webhooks through Flask's test client: signatures, idempotency, sessions, containment."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from core.db import get_db
from core.webhooks import FRAGMENT
from ivr.models import IvrSession
from orders.demo import load_demo_orders
from tests import factories

BASE = "https://shop.example"


def verbs(response) -> list[ET.Element]:
    """The TwiML's top-level verbs, parsed (never compared as strings)."""
    assert response.status_code == 200 and response.mimetype == "text/xml"
    root = ET.fromstring(response.data)
    assert root.tag == "Response"
    return list(root)


def post(app: Flask, client: FlaskClient, path: str, form: dict[str, str], sign: bool = True):
    token = app.config["SETTINGS"].twilio_auth_token
    signature = RequestValidator(token).compute_signature(BASE + path, form) if sign else "forged"
    return client.post(path, data=form, headers={"X-Twilio-Signature": signature})


def form(call_sid: str = "CA" + "1" * 32, **extra: str) -> dict[str, str]:
    return {
        "CallSid": call_sid,
        "AccountSid": "AC" + "0" * 32,
        "From": "+12015550166",
        "To": "+15005550006",
        "CallStatus": "in-progress",
        "Direction": "inbound",
        "ApiVersion": "2010-04-01",
        **extra,
    }


def test_a_forged_webhook_is_refused(app: Flask, client: FlaskClient) -> None:
    assert post(app, client, "/voice/incoming", form(), sign=False).status_code == 403
    with get_db(app).sessions() as session:
        assert session.scalars(select(IvrSession)).all() == []


def test_a_retried_incoming_webhook_starts_one_session(app: Flask, client: FlaskClient) -> None:
    first = post(app, client, "/voice/incoming", form())
    again = post(app, client, "/voice/incoming", form())
    gather = verbs(first)[0]
    assert gather.tag == "Gather" and gather.get("input") == "dtmf speech" and gather.get("numDigits") == "1"
    assert gather.get("action") == f"{BASE}/voice/ivr/input?node=main#{FRAGMENT}"
    assert gather.get("actionOnEmptyResult") == "true"
    assert "where is my package" in (gather.get("hints") or "")
    assert [v.tag for v in verbs(again)] == [v.tag for v in verbs(first)]
    with get_db(app).sessions() as session:
        assert len(session.scalars(select(IvrSession)).all()) == 1


def test_a_lookup_is_recorded_and_a_goodbye_after_it_counts_as_contained(app: Flask, client: FlaskClient) -> None:
    with get_db(app).sessions() as session:
        load_demo_orders(session)
    post(app, client, "/voice/incoming", form())
    post(app, client, "/voice/ivr/input?node=main", form(Digits="1"))
    answer = post(app, client, "/voice/ivr/input?node=track_order&mode=ref", form(Digits="11244556671234567"))
    said = verbs(answer)[0].find("Say")
    assert said is not None and "Kindle Paperwhite" in (said.text or "")
    bye = post(app, client, "/voice/ivr/input?node=after_order", form(Digits="9"))
    assert [v.tag for v in verbs(bye)] == ["Say", "Hangup"]
    status = form(CallStatus="completed", SequenceNumber="3", CallDuration="42")
    assert post(app, client, "/voice/status", status).status_code == 204
    with get_db(app).sessions() as session:
        ivr = session.scalars(select(IvrSession)).one()
        assert ivr.outcome == "contained" and ivr.ended_at is not None
        kinds = [step["kind"] for step in ivr.get_steps()]
        assert kinds == ["menu", "reference", "lookup", "menu"]


def test_hanging_up_at_the_menu_is_abandoned_not_contained(app: Flask, client: FlaskClient) -> None:
    post(app, client, "/voice/incoming", form())
    post(app, client, "/voice/status", form(CallStatus="completed", SequenceNumber="1"))
    with get_db(app).sessions() as session:
        assert session.scalars(select(IvrSession)).one().outcome == "abandoned"


def test_a_webhook_for_an_unknown_call_gets_a_polite_hangup(app: Flask, client: FlaskClient) -> None:
    response = post(app, client, "/voice/ivr/input?node=main", form(call_sid="CA" + "9" * 32, Digits="1"))
    assert [v.tag for v in verbs(response)][-1] == "Hangup"


def test_a_node_that_no_longer_exists_asks_again_instead_of_failing(app: Flask, client: FlaskClient) -> None:
    post(app, client, "/voice/incoming", form())
    response = post(app, client, "/voice/ivr/input?node=renamed_since", form(Digits="1"))
    assert verbs(response)[0].tag == "Gather"


def test_two_withheld_callers_can_both_hold(app: Flask, client: FlaskClient) -> None:
    from callback.models import CallbackRequest

    for n in "12":
        sid = "CA" + n * 32
        post(app, client, "/voice/incoming", form(sid, From="anonymous"))
        post(app, client, "/voice/ivr/input?node=main", form(sid, From="anonymous", Digits="0"))
        held = post(app, client, "/voice/ivr/input?node=agent_orders&mode=callback", form(sid, Digits="3"))
        enqueue = verbs(held)[1]
        assert enqueue.tag == "Enqueue" and enqueue.text == "callme-orders"
        assert (enqueue.get("waitUrl") or "").startswith(f"{BASE}/voice/ivr/hold-wait?request=")
    with get_db(app).sessions() as session:
        holders = session.scalars(select(CallbackRequest).where(CallbackRequest.hold_call_sid.is_not(None))).all()
        assert len(holders) == 2 and all(not r.phone.startswith("+") for r in holders)


def test_a_number_on_the_do_not_call_list_cannot_be_keyed_for_a_callback(app: Flask, client: FlaskClient) -> None:
    from callback import dnc
    from core.clock import SystemClock

    with get_db(app).sessions() as session:
        dnc.add(session, SystemClock(), "+12015550111", None)
    post(app, client, "/voice/incoming", form())
    post(app, client, "/voice/ivr/input?node=main", form(Digits="0"))
    post(app, client, "/voice/ivr/input?node=agent_orders&mode=callback", form(Digits="2"))
    answer = post(app, client, "/voice/ivr/input?node=agent_orders&mode=number", form(Digits="2015550111"))
    gather = verbs(answer)[0]
    assert gather.tag == "Gather" and "do-not-call" in "".join(gather.itertext())


def test_the_report_counts_outcomes_and_containment(app: Flask, client: FlaskClient) -> None:
    with get_db(app).sessions() as session:
        load_demo_orders(session)
    post(app, client, "/voice/incoming", form())
    post(app, client, "/voice/ivr/input?node=main", form(Digits="1"))
    post(app, client, "/voice/ivr/input?node=track_order&mode=ref", form(Digits="11244556671234567"))
    post(app, client, "/voice/status", form(CallStatus="completed", SequenceNumber="2"))
    other = "CA" + "2" * 32
    post(app, client, "/voice/incoming", form(other))
    post(app, client, "/voice/ivr/input?node=main", form(other, Digits="9"))  # para español
    post(app, client, "/voice/status", form(other, CallStatus="completed", SequenceNumber="1"))
    output = app.test_cli_runner().invoke(args=["ivr", "report", "--days", "1"]).output
    assert "calls in the last 1 days: 2" in output
    assert "contained    1" in output and "abandoned    1" in output
    assert "containment: 50.0%" in output
    assert "languages: en 1, es 1" in output


def test_callbacks_asked_for_in_the_menu_count_against_the_web_limits(app: Flask, client: FlaskClient) -> None:
    """One caller keying another number on each of 15 calls gets the per-client limit (10), no more."""
    from callback.models import CallbackRequest
    from core.clock import SystemClock
    from tests import factories

    with get_db(app).sessions() as session:
        # Someone on duty, on a call: past the limit a hold is offered (on a line nobody answers, a message).
        factories.agent(session, SystemClock().now(), queues=("orders",), status="on_call")

    outcomes = []
    for n in range(15):
        sid = f"CA{n:032d}"
        post(app, client, "/voice/incoming", form(sid))
        post(app, client, "/voice/ivr/input?node=main", form(sid, Digits="0"))
        post(app, client, "/voice/ivr/input?node=agent_orders&mode=callback", form(sid, Digits="2"))
        answer = post(
            app, client, "/voice/ivr/input?node=agent_orders&mode=number", form(sid, Digits=f"20155502{n:02d}")
        )
        outcomes.append([v.tag for v in verbs(answer)])
    with get_db(app).sessions() as session:
        keyed = session.scalars(
            select(CallbackRequest).where(CallbackRequest.source == "ivr", CallbackRequest.phone.like("+120155502%"))
        ).all()
        assert len(keyed) == 10
        assert {r.client_ip for r in keyed} == {"tel:+12015550166"}
    # Past the limit the caller is not dropped: they are offered to hold instead.
    assert outcomes[-1] == ["Say", "Enqueue", "Hangup"]


def test_the_shops_own_number_cannot_be_keyed_for_a_callback(app: Flask, client: FlaskClient) -> None:
    post(app, client, "/voice/incoming", form())
    post(app, client, "/voice/ivr/input?node=main", form(Digits="0"))
    post(app, client, "/voice/ivr/input?node=agent_orders&mode=callback", form(Digits="2"))
    answer = post(app, client, "/voice/ivr/input?node=agent_orders&mode=number", form(Digits="5005550006"))
    assert verbs(answer)[0].tag == "Gather"


def test_a_caller_who_heard_their_answer_then_asked_for_a_person_and_hung_up_is_not_contained(
    app: Flask, client: FlaskClient
) -> None:
    with get_db(app).sessions() as session:
        load_demo_orders(session)
        factories.agent(session, datetime.now(UTC), status="on_call")  # everyone is busy
    post(app, client, "/voice/incoming", form())
    post(app, client, "/voice/ivr/input?node=main", form(Digits="1"))
    post(app, client, "/voice/ivr/input?node=track_order&mode=ref", form(Digits="11244556671234567"))
    busy = post(app, client, "/voice/ivr/input?node=after_order", form(Digits="0"))
    assert "mode=callback" in (busy.get_data(as_text=True))  # the busy offer: hold or a callback
    post(app, client, "/voice/status", form(CallStatus="completed", SequenceNumber="3", CallDuration="60"))
    with get_db(app).sessions() as session:
        assert session.scalars(select(IvrSession)).one().outcome == "abandoned"
