"""What a customer we call back says to "press 1 or say yes", as people say it, through the signed webhooks:
who is calling, not now, a moment, stop calling, no longer needed; and what becomes of their request."""

from __future__ import annotations

import html
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime, time, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from twilio.request_validator import RequestValidator

from callback.models import CallAttempt, CallbackRequest, DoNotCall
from core.clock import FixedClock
from core.db import get_db
from tests import factories
from tests.integration.test_call_flow import post_signed, says

BASE = "https://shop.example"


class Customer:
    """A customer we called, who answered; each `say` answers the last question asked, at its own URL."""

    def __init__(self, app: Flask, client: FlaskClient, clock: FixedClock, language: str = "en") -> None:
        self.app, self.client, self.sid = app, client, "CA" + uuid.uuid4().hex
        with get_db(app).sessions() as session:
            now = clock.now()
            agent = factories.agent(session, now, status="reserved")
            req = factories.request(session, now, status="dialing", attempts=1, agent_id=agent.id, language=language)
            attempt = CallAttempt(
                request_id=req.id, agent_id=agent.id, call_sid=self.sid, created_at=now, placed_at=now, dialled_at=now
            )
            session.add(attempt)
            session.commit()
            self.attempt_id, self.request_id, self.phone = attempt.id, req.id, req.phone
        self.last = self._post(f"/voice/callback/answer?attempt={self.attempt_id}", AnsweredBy="human")

    def _post(self, path: str, **fields: str) -> ET.Element:
        return post_signed(self.client, self.app, path, {"CallSid": self.sid, **fields})

    def say(self, words: str) -> ET.Element:
        gather = self.last.find("Gather")
        assert gather is not None, says(self.last)
        path = (gather.get("action") or "").removeprefix(BASE).split("#")[0]
        self.last = self._post(path, SpeechResult=words, Confidence="0.9")
        return self.last

    def hang_up(self) -> None:
        path = f"/voice/callback/status?attempt={self.attempt_id}"
        fields = {"CallSid": self.sid, "CallStatus": "completed", "SequenceNumber": "9"}
        settings = self.app.config["SETTINGS"]
        signature = RequestValidator(settings.twilio_auth_token).compute_signature(BASE + path, fields)
        response = self.client.post(path, data=fields, headers={"X-Twilio-Signature": signature})
        assert response.status_code == 204, response.text

    def answerphone(self) -> ET.Element:
        """The same call, answered by their answerphone instead: the message it is left."""
        return self._post(f"/voice/callback/answer?attempt={self.attempt_id}", AnsweredBy="machine_end_beep")

    @property
    def heard(self) -> str:
        return says(self.last)

    @property
    def rings_an_agent(self) -> bool:
        return self.last.find("Dial") is not None

    def request(self) -> CallbackRequest:
        with get_db(self.app).sessions() as session:
            req = session.get(CallbackRequest, self.request_id)
            assert req is not None
            return req


@pytest.mark.parametrize(
    ("language", "words", "greeting"),
    [
        ("en", "who is this?", "This is Callme Shop customer service, returning your call"),
        ("en", "sorry, what's this about?", "This is Callme Shop customer service, returning your call"),
        ("en", "hello? hello?", "This is Callme Shop customer service, returning your call"),
        ("en", "yes who's this", "This is Callme Shop customer service, returning your call"),
        ("es", "¿quién habla?", "Le llamamos del servicio de atención al cliente de Callme Shop"),
    ],
)
def test_who_is_calling_is_said_again_and_a_yes_then_connects(
    app: Flask, client: FlaskClient, clock: FixedClock, language: str, words: str, greeting: str
) -> None:
    customer = Customer(app, client, clock, language)
    customer.say(words)
    assert greeting in customer.heard and "didn't catch" not in customer.heard and not customer.rings_an_agent
    customer.say("sí" if language == "es" else "yes")
    assert customer.rings_an_agent


def test_who_is_calling_is_said_again_once_then_it_is_a_question_not_understood(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    customer = Customer(app, client, clock)
    customer.say("who is this?")
    customer.say("who is this?")
    assert "Sorry, I didn't catch that" in customer.heard


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "I'm driving right now"),
        ("en", "I'm in a meeting right now"),
        ("en", "sure, but can you call me later"),
        ("en", "yeah call me back in an hour"),
        ("en", "not now, can you call back in an hour"),
        ("en", "now is not a good time"),
        ("es", "sí, pero más tarde"),
        ("es", "ahorita no, llámeme más tarde"),
        ("es", "claro, pero ahorita estoy ocupado"),
    ],
)
def test_not_now_rings_no_agent_and_keeps_the_request_for_a_later_call(
    app: Flask, client: FlaskClient, clock: FixedClock, language: str, words: str
) -> None:
    customer = Customer(app, client, clock, language)
    customer.say(words)
    assert not customer.rings_an_agent
    # When, as a time: the one they named, or half an hour from now.
    later = "Le volveremos a llamar a las" if language == "es" else "We'll call you again at"
    assert later in customer.heard, customer.heard
    customer.hang_up()
    req = customer.request()
    assert (req.status, req.outcome) == ("retry_wait", "asked_later") and req.next_attempt_at is not None


@pytest.mark.parametrize(
    ("language", "words", "minutes"),
    [
        ("en", "yeah call me back in an hour", 60),
        ("en", "can you try me again in twenty minutes", 20),
        ("en", "I'm driving right now", 30),  # no time named: half an hour at least, never the 2-minute back-off
        ("en", "in a couple of hours please", 120),
        ("es", "ahorita no, llámeme en media hora", 30),
    ],
)
def test_not_now_is_called_back_no_sooner_than_the_time_asked(
    app: Flask, client: FlaskClient, clock: FixedClock, language: str, words: str, minutes: int
) -> None:
    customer = Customer(app, client, clock, language)
    customer.say(words)
    customer.hang_up()
    req = customer.request()
    assert (req.status, req.outcome) == ("retry_wait", "asked_later")
    assert req.due_at == clock.now() + timedelta(minutes=minutes)
    assert not req.due_by(clock.now() + timedelta(minutes=minutes - 1))
    assert req.expires_at > req.due_at
    if language == "en":
        # The status page promises the time asked for, not the back-off's.
        page = html.unescape(client.get(f"/callback/{req.ref}").get_data(as_text=True)).replace("\u202f", " ")
        when = (clock.now() + timedelta(minutes=minutes)).astimezone(req.queue.business_hours.zone)
        assert "You asked us to call back later. We'll call you again on " in page
        assert when.strftime("%-I:%M %p") in page, page[page.find("You asked") :][:200]


def test_call_me_tomorrow_is_called_back_when_tomorrow_opens(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    customer = Customer(app, client, clock)
    customer.say("not today, call me tomorrow")
    customer.hang_up()
    req = customer.request()
    zone = req.queue.business_hours.zone
    tomorrow = clock.now().astimezone(zone).date() + timedelta(days=1)
    opens = req.queue.business_hours.next_open(datetime.combine(tomorrow, time(), zone))
    assert opens is not None and req.due_at == opens and opens.astimezone(zone).date() >= tomorrow
    assert "No problem. We'll call you again tomorrow at 9 AM. Goodbye." in customer.heard, customer.heard


def test_a_next_call_that_falls_after_closing_is_said_as_the_next_opening(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    clock.advance(hours=6, minutes=59)  # 4:59 PM in New York: the two-minute back-off ends after 5 PM
    customer = Customer(app, client, clock)
    customer.say("mumble mumble")
    customer.say("mumble mumble")
    assert "We'll call you again tomorrow at 9 AM." in customer.heard and "a little later" not in customer.heard


def test_near_closing_every_end_of_a_call_not_reached_says_the_next_opening(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    clock.advance(hours=6, minutes=59)  # 4:59 PM in New York: any back-off ends after 5 PM
    customer = Customer(app, client, clock)
    # The greeting ends, if nobody answers it, with when we call again.
    assert customer.heard.endswith("We'll call you again tomorrow at 9 AM. Goodbye."), customer.heard
    customer.say("hold on a second")
    assert customer.heard.endswith("We'll call you again tomorrow at 9 AM. Goodbye."), customer.heard
    assert "a little later" not in customer.heard
    machine = customer.answerphone()
    assert "We'll call you again tomorrow at 9 AM. You can also call us at" in says(machine), says(machine)


def test_in_the_day_the_end_of_a_call_not_reached_says_a_little_later(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    customer = Customer(app, client, clock, "es")  # 10 AM in New York
    assert customer.heard.endswith("Le volveremos a llamar un poco más tarde. Adiós."), customer.heard
    machine = customer.answerphone()
    assert "Le volveremos a llamar pronto." in says(machine), says(machine)


def test_spanish_customers_hear_when_we_call_again_in_spanish(
    app: Flask, client: FlaskClient, clock: FixedClock
) -> None:
    customer = Customer(app, client, clock, "es")
    customer.say("ahorita no, llámeme en media hora")
    assert "De acuerdo. Le volveremos a llamar a las 10:30 de la mañana. Adiós." in customer.heard, customer.heard


def test_not_now_on_the_last_call_promises_none(app: Flask, client: FlaskClient, clock: FixedClock) -> None:
    customer = Customer(app, client, clock)
    with get_db(app).sessions() as session:
        req = session.get(CallbackRequest, customer.request_id)
        assert req is not None
        req.attempts = req.queue.max_attempts
        session.commit()
    customer.say("not now, call me later")
    assert "We won't call you again about this request" in customer.heard


@pytest.mark.parametrize(
    ("language", "first", "back"),
    [
        ("en", "hold on let me get somewhere quiet", "okay I'm back"),
        ("en", "one moment please", "sorry about that, go ahead"),
        ("es", "un momento, por favor", "ya estoy"),
    ],
)
def test_a_moment_asked_for_is_given_and_ready_then_connects(
    app: Flask, client: FlaskClient, clock: FixedClock, language: str, first: str, back: str
) -> None:
    customer = Customer(app, client, clock, language)
    customer.say(first)
    assert ("take your time" in customer.heard or "tómese su tiempo" in customer.heard) and not customer.rings_an_agent
    gather = customer.last.find("Gather")
    assert gather is not None and int(gather.get("timeout") or 0) >= 15
    customer.say(back)
    assert customer.rings_an_agent, customer.heard


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "I already sorted it out, thanks"),
        ("en", "never mind"),
        ("en", "it's been resolved"),
        ("es", "ya lo resolví, gracias"),
        ("es", "olvídelo"),
    ],
)
def test_no_longer_needed_ends_the_request_as_a_no(
    app: Flask, client: FlaskClient, clock: FixedClock, language: str, words: str
) -> None:
    customer = Customer(app, client, clock, language)
    customer.say(words)
    assert not customer.rings_an_agent and customer.last.find("Hangup") is not None
    assert (customer.request().status, customer.request().outcome) == ("canceled", "declined")


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "take me off your list"),
        ("en", "stop calling me"),
        ("en", "leave me alone"),
        ("es", "no me llamen más"),
        ("es", "dejen de llamarme"),
    ],
)
def test_stop_calling_me_lists_the_number_and_ends_its_other_requests(
    app: Flask, client: FlaskClient, clock: FixedClock, language: str, words: str
) -> None:
    customer = Customer(app, client, clock, language)
    with get_db(app).sessions() as session:
        other = factories.request(session, clock.now(), topic="returns", phone=customer.phone)
        other_id = other.id
    customer.say(words)
    assert not customer.rings_an_agent and customer.last.find("Hangup") is not None
    assert "this number again" in customer.heard or "este número" in customer.heard
    with get_db(app).sessions() as session:
        assert session.get(DoNotCall, customer.phone) is not None
        statuses = session.execute(
            select(CallbackRequest.status, CallbackRequest.outcome).where(
                CallbackRequest.id.in_([customer.request_id, other_id])
            )
        ).all()
        assert sorted(statuses) == [("canceled", "do_not_call")] * 2
        agent_status = session.scalar(select(CallAttempt).where(CallAttempt.id == customer.attempt_id))
        assert agent_status is not None and agent_status.agent is not None
        assert agent_status.agent.status != "reserved"
