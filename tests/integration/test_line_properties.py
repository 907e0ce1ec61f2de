"""The callback line's promises, under random agents, customers, provider faults and time.

No HTTP: the dispatcher and the reaper run on a real database with the in-memory telephony fake, and
the test plays the network, calling the webhooks' functions (callback.calls, callback.agent_first) as
Twilio's requests would. It keeps its own record of what really happened on the phones (which number
rang when, which agent took which call) and checks, after every step:

- no request places more calls to its customer than its queue's `max_attempts`;
- no number is called again within `MIN_SECONDS_BETWEEN_CALLS` of the end of the previous call, nor
  more than `MAX_CALLS_PER_NUMBER_PER_DAY` times a day;
- nothing is `completed` without an agent who accepted (an accepted AgentLeg, and a real acceptance);
- a request is connected (an attempt with `bridged_at`, what the wait to connect and the figures count)
  at most once, and only by a call on which an agent and the customer really talked;
- no agent's phone is on two calls at once;
- and, once every call has ended and the reaper has passed, no request is lost: each is final, or
  waiting in line with nothing holding it.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from agents.models import Agent
from agents.service import ensure_default_queues, update_queue
from callback import agent_first, calls
from callback.calls import Next
from callback.models import FINAL, WAITING, AgentLeg, CallAttempt, CallbackRequest
from core.clock import FixedClock
from core.config import Settings
from core.db import Base, Database
from scheduler.dispatcher import Dispatcher
from scheduler.reaper import Reaper
from telephony.fake import FakeTelephony
from telephony.port import NETWORK_ERROR, CallInfo, TelephonyError
from tests import factories
from tests.conftest import MONDAY_10AM_NEW_YORK

MIN_GAP = 120
DAILY = 6
MAX_ATTEMPTS = 3
SETTINGS = Settings(
    app_env="testing",
    public_base_url="https://shop.example",
    twilio_cps=1000.0,
    min_seconds_between_calls=MIN_GAP,
    max_calls_per_number_per_day=DAILY,
    sms_notifications=False,
)
NUMBERS = ("+12015557001", "+12015557002")

# What calls.create can answer instead of a call.
FAULTS: dict[str, Callable[[], TelephonyError]] = {
    "invalid-number-21211": lambda: TelephonyError(21211, "Invalid 'To' Phone Number", status=400),
    "auth-20003": lambda: TelephonyError(20003, "Authenticate", status=401),
    "rate-20429": lambda: TelephonyError(20429, "Too Many Requests", status=429),
    "server-500": lambda: TelephonyError(20500, "Internal Server Error", status=500, retryable=True),
    "network": lambda: TelephonyError(NETWORK_ERROR, "connection reset", retryable=True),
}
# Weighted by repetition, so that conversations happen as well as every way of missing one.
CUSTOMER_ANSWERS = ("human", "human", "human", "machine", "no-answer", "busy")
CONFIRMS = ("yes", "yes", "yes", "no", "unclear", "silent")
MISS_OUTCOMES = frozenset({"no_answer", "declined", "dropped", "voicemail", "busy", "failed"})
AGENT_BEHAVIOURS = (
    "accept",
    "accept",
    "accept",
    "accept",
    "decline",
    "silent",
    "voicemail",
    "drop",
    "no-answer",
    "busy",
)


class Fake(FakeTelephony):
    """The fake, able to answer calls.create with a 5xx after the call was really created."""

    def __init__(self) -> None:
        super().__init__()
        self.fail_after_create = 0

    def place_call(self, to: str, from_: str, url: str, **kwargs: Any) -> CallInfo:
        info = super().place_call(to, from_, url, **kwargs)
        if self.fail_after_create:
            self.fail_after_create -= 1
            raise TelephonyError(20500, "Internal Server Error (after create)", retryable=True, status=500)
        return info


@dataclass
class Phone:
    """A call to a customer's number that really rang, as the world saw it."""

    number: str
    request_id: int
    started: datetime
    ended: datetime | None = None


@dataclass
class Live:
    """A call the dispatcher placed that is still going on, and where it stands."""

    sid: str
    attempt_id: int
    agent_first: bool
    stage: str = "ringing"
    leg_id: int | None = None
    agent_id: int | None = None  # the agent whose phone is ringing or talking for this call
    customer: Phone | None = None  # the customer's ringing/talking leg (customer-first: the call itself)
    seq: int = 0


@dataclass
class World:
    """The truth the app's records are checked against."""

    db: Database
    clock: FixedClock
    fake: Fake
    dispatcher: Dispatcher
    reaper: Reaper
    live: list[Live] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    phones: list[Phone] = field(default_factory=list)
    accepted: set[int] = field(default_factory=set)  # attempts an agent really accepted and talked on
    agent_busy: dict[int, str] = field(default_factory=dict)  # agent -> the call SID their phone is on
    missed: set[int] = field(default_factory=set)  # agents who missed a call and were not made available since
    legs_seen: set[int] = field(default_factory=set)
    log: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        self.log.append(f"{self.clock.now():%H:%M:%S} {text}")

    # -- the network -------------------------------------------------------------------------------

    def adopt_new_calls(self) -> None:
        """Calls the fake placed since the last look become live calls of the world."""
        for sid, placed in list(self.fake.calls.items()):
            if sid in self.seen:
                continue
            self.seen.add(sid)
            query = parse_qs(urlparse(placed.url).query)
            attempt_id = int(query["attempt"][0])
            first = "/agent-answer" in placed.url
            with self.db.sessions() as s:
                attempt = s.get(CallAttempt, attempt_id)
                assert attempt is not None
                request_id, agent_id = attempt.request_id, attempt.agent_id
            live = Live(sid, attempt_id, first)
            if first:
                self.ring_agent(live, agent_id)
            else:
                live.customer = self.ring_customer(placed.info.to, request_id)
            self.live.append(live)
            self.note(f"placed {sid[-4:]} attempt {attempt_id} to {placed.info.to} ({'agent' if first else 'cust'})")

    def ring_customer(self, number: str, request_id: int) -> Phone:
        phone = Phone(number, request_id, self.clock.now())
        self.phones.append(phone)
        return phone

    def ring_agent(self, live: Live, agent_id: int | None) -> None:
        assert agent_id is not None
        assert agent_id not in self.missed, (
            f"agent {agent_id} missed a call and is rung again for {live.sid[-4:]} without being made available\n"
            + self.story()
        )
        other = self.agent_busy.get(agent_id)
        assert other is None, f"agent {agent_id} rung for {live.sid[-4:]} while on {other[-4:]}\n" + self.story()
        self.agent_busy[agent_id] = live.sid
        live.agent_id = agent_id

    def agent_free(self, live: Live) -> None:
        if live.agent_id is not None and self.agent_busy.get(live.agent_id) == live.sid:
            del self.agent_busy[live.agent_id]
        live.agent_id = None

    def customer_gone(self, live: Live) -> None:
        if live.customer is not None and live.customer.ended is None:
            live.customer.ended = self.clock.now()

    def end(self, live: Live, status: str, lost: bool = False, duration: int | None = None) -> None:
        """The placed call ends; its status callback reaches the app unless it is lost."""
        self.customer_gone(live)
        self.agent_free(live)
        self.fake.set_status(live.sid, status, duration=duration)
        if live in self.live:
            self.live.remove(live)
        self.note(f"ended {live.sid[-4:]} {status}{' (callback lost)' if lost else ''}")
        if lost:
            return
        live.seq += 1
        with self.db.sessions() as s:
            attempt = calls.load_attempt(s, live.attempt_id, live.sid)
            if attempt is not None:
                calls.on_status(s, self.clock, attempt, status, live.seq, duration)

    # -- webhooks ----------------------------------------------------------------------------------

    def hook(self, live: Live, act: Callable[[Session, CallAttempt], Next], agent_leg: bool = False) -> Next | None:
        with self.db.sessions() as s:
            attempt = calls.load_attempt(s, live.attempt_id, live.sid, agent_leg=agent_leg)
            if attempt is None:
                return None
            step = act(s, attempt)
            self.note(f"  {live.sid[-4:]} -> {step.action}")
            return step

    def leg_hook(self, live: Live, act: Callable[[Session, AgentLeg], Next]) -> Next | None:
        def run(s: Session, attempt: CallAttempt) -> Next:
            leg = calls.load_leg(s, attempt, live.leg_id)
            assert leg is not None
            return act(s, leg)

        return self.hook(live, run, agent_leg=True)

    def after_customer_step(self, live: Live, step: Next | None) -> None:
        """Customer-first: what the customer's call does after a webhook's answer."""
        if step is None or step.action in {"hangup", "customer_gone", "agent_hangup"}:
            self.end(live, "completed")
        elif step.action in {"voicemail", "declined", "try_later", "callback_later", "no_callback", "goodbye_thanks"}:
            live.stage = "goodbye"  # the customer hears our last words; the call ends on a later step
        elif step.action in {"confirm", "confirm_again"}:
            live.stage = step.action
        elif step.action == "dial":
            assert step.leg is not None and step.agent is not None
            live.leg_id = step.leg.id
            live.stage = "leg"
            self.ring_agent(live, step.agent.id)
        else:
            raise AssertionError(f"unexpected step {step.action}")

    def dial_done(
        self, live: Live, status: str, bridged: bool, duration: int | None = None, gone: bool = False
    ) -> None:
        """The agent leg of a customer-first call (or a transfer) ended: the Dial action."""

        def run(s: Session, attempt: CallAttempt) -> Next:
            leg = calls.load_leg(s, attempt, live.leg_id)
            return calls.on_dial_done(
                s,
                self.clock,
                attempt,
                leg,
                status,
                duration,
                dial_call_sid=f"CL{live.leg_id}",
                customer_status="completed" if gone else "in-progress",
                dial_bridged="true" if bridged else "false",
            )

        self.agent_free(live)
        step = self.hook(live, run)
        live.leg_id = None
        if gone:
            self.end(live, "completed", duration=duration)
        else:
            self.after_customer_step(live, step)

    # -- one move of a live call ------------------------------------------------------------------

    def customer_first(self, live: Live, data: st.DataObject) -> None:
        if live.stage == "ringing":
            answer = data.draw(st.sampled_from(CUSTOMER_ANSWERS), label="customer answers")
            self.note(f"{live.sid[-4:]} customer {answer}")
            if answer in {"no-answer", "busy"}:
                self.end(live, answer, lost=data.draw(st.booleans(), label="callback lost"))
                return
            by = "human" if answer == "human" else "machine_end_beep"
            self.after_customer_step(live, self.hook(live, lambda s, a: calls.on_answer(s, self.clock, a, by)))
        elif live.stage in {"confirm", "confirm_again"}:
            choice = data.draw(st.sampled_from(CONFIRMS), label="customer says")
            self.note(f"{live.sid[-4:]} customer says {choice}")
            digits, speech = {
                "yes": ("1", None),
                "no": ("2", None),
                "unclear": (None, "I'm not sure"),
                "silent": (None, None),
            }[choice]
            again = live.stage == "confirm_again"
            self.after_customer_step(
                live, self.hook(live, lambda s, a: calls.on_confirm(s, self.clock, a, digits, speech, again=again))
            )
        elif live.stage == "leg":
            self.agent_leg(live, data.draw(st.sampled_from(AGENT_BEHAVIOURS), label="agent"))
        elif live.stage == "goodbye":
            self.end(live, "completed")
        elif live.stage == "bridged":
            self.note(f"{live.sid[-4:]} conversation over")
            self.dial_done(live, "completed", bridged=True, duration=30)
        else:
            raise AssertionError(live.stage)

    def agent_leg(self, live: Live, behaviour: str) -> None:
        """A screened agent leg of a customer-first call."""
        self.note(f"{live.sid[-4:]} agent leg {live.leg_id}: {behaviour}")
        if behaviour in {"no-answer", "busy"}:
            self.dial_done(live, behaviour, bridged=False)
            return
        by = "machine_start" if behaviour == "voicemail" else "human"
        step = self.leg_hook(live, lambda s, leg: calls.on_screen(s, self.clock, leg, f"CL{leg.id}", by))
        if step is not None and step.action == "screen" and behaviour in {"accept", "decline", "silent"}:
            digits = {"accept": "1", "decline": "7", "silent": None}[behaviour]
            step = self.leg_hook(
                live,
                lambda s, leg: calls.on_screen_answer(s, self.clock, leg, digits, None, silent=digits is None),
            )
            if step is not None and step.action == "bridge":
                live.stage = "bridged"
                self.accepted.add(live.attempt_id)
                return
        self.dial_done(live, "completed", bridged=False)

    def agent_first(self, live: Live, data: st.DataObject) -> None:
        if live.stage == "ringing":
            behaviour = data.draw(st.sampled_from(AGENT_BEHAVIOURS), label="agent")
            self.note(f"{live.sid[-4:]} agent-first agent {behaviour}")
            if behaviour in {"no-answer", "busy"}:
                self.end(live, behaviour, lost=data.draw(st.booleans(), label="callback lost"))
                return
            by = "machine_start" if behaviour == "voicemail" else "human"
            step = self.hook(live, lambda s, a: agent_first.on_agent_pickup(s, self.clock, a, by))
            if step is None or step.action != "offer" or behaviour in {"voicemail", "drop"}:
                self.end(live, "completed")
                return
            digits = {"accept": "1", "decline": "7", "silent": None}[behaviour]
            step = self.hook(
                live, lambda s, a: agent_first.on_agent_accept(s, self.clock, a, digits, self.dispatcher.bounds)
            )
            if step is None or step.action != "dial_customer":
                live.stage = "goodbye"  # the agent hears our last words
                return
            assert step.request is not None
            live.customer = self.ring_customer(step.request.phone, step.request.id)
            live.stage = "customer_ringing"
        elif live.stage == "customer_ringing":
            answer = data.draw(st.sampled_from(("human", "human", "no-answer", "busy")), label="customer answers")
            self.note(f"{live.sid[-4:]} agent-first customer {answer}")
            if answer == "human":
                step = self.hook(
                    live, lambda s, a: agent_first.on_customer_pickup(s, self.clock, a, "CC" + live.sid[2:]), True
                )
                if step is not None and step.action == "greet":
                    live.stage = "talking"
                    self.accepted.add(live.attempt_id)
                    return
                dial_status = "completed"
            else:
                dial_status = answer
            self.customer_gone(live)
            self.hook(live, lambda s, a: agent_first.on_customer_dial_done(s, self.clock, a, dial_status, None))
            self.end(live, "completed")
        elif live.stage == "goodbye":
            self.end(live, "completed")
        elif live.stage == "talking":
            if data.draw(st.booleans(), label="customer hangs up during the greeting"):
                # The greeting plays before the bridge: nobody talked, and Twilio says so.
                self.note(f"{live.sid[-4:]} agent-first customer hangs up during the greeting")
                self.accepted.discard(live.attempt_id)
                self.customer_gone(live)
                self.hook(
                    live, lambda s, a: agent_first.on_customer_dial_done(s, self.clock, a, "completed", 2, "false")
                )
                live.stage = "goodbye"  # the agent hears that the customer hung up
                return
            self.note(f"{live.sid[-4:]} agent-first conversation over")
            self.customer_gone(live)
            self.hook(live, lambda s, a: agent_first.on_customer_dial_done(s, self.clock, a, "completed", 30))
            self.end(live, "completed", duration=40)
        else:
            raise AssertionError(live.stage)

    def hang_up(self, live: Live, lost: bool) -> None:
        """The person on the placed call hangs up now, wherever the call stands."""
        self.note(f"{live.sid[-4:]} hangs up at {live.stage}")
        if live.agent_first:
            if live.stage in {"customer_ringing", "talking"}:
                self.customer_gone(live)
                status, duration = ("completed", 10) if live.stage == "talking" else ("canceled", None)
                self.hook(live, lambda s, a: agent_first.on_customer_dial_done(s, self.clock, a, status, duration))
            self.end(live, "completed", lost=lost)
            return
        if live.stage in {"leg", "bridged"}:
            bridged = live.stage == "bridged"
            self.dial_done(live, "completed" if bridged else "canceled", bridged=bridged, gone=True)
            return
        self.end(live, "completed", lost=lost)

    def note_misses(self) -> None:
        """Agents whose leg ended in a miss (the app's record of it) must now stay away."""
        with self.db.sessions() as s:
            ended = s.scalars(select(AgentLeg).where(AgentLeg.ended_at.is_not(None))).all()
            for leg in ended:
                if leg.id in self.legs_seen:
                    continue
                self.legs_seen.add(leg.id)
                if leg.outcome in MISS_OUTCOMES and leg.agent_id is not None:
                    self.missed.add(leg.agent_id)
                    self.note(f"agent {leg.agent_id} missed (leg {leg.id}: {leg.outcome})")

    def story(self) -> str:
        return "\n".join(self.log[-80:])


# -- the properties --------------------------------------------------------------------------------


def check(world: World) -> None:
    """Every promise, against the app's records and against what really happened."""
    story = world.story
    with world.db.sessions() as s:
        requests = {r.id: r for r in s.scalars(select(CallbackRequest))}
        for req in requests.values():
            placed = s.scalar(
                select(func.count()).where(CallAttempt.request_id == req.id, CallAttempt.dialled_at.is_not(None))
            )
            assert (placed or 0) <= req.queue.max_attempts, f"request {req.id}: {placed} calls counted\n{story()}"
            rang = [p for p in world.phones if p.request_id == req.id]
            assert len(rang) <= req.queue.max_attempts, f"request {req.id}: customer rang {len(rang)} times\n{story()}"
            if req.status == "completed":
                legs = s.scalars(select(AgentLeg).join(CallAttempt).where(CallAttempt.request_id == req.id)).all()
                assert any(leg.outcome == "accepted" and leg.accepted_at is not None for leg in legs), (
                    f"request {req.id} completed without an accepted agent leg: "
                    f"{[(leg.agent_id, leg.outcome) for leg in legs]}\n{story()}"
                )
                assert any(a.id in world.accepted for a in req.call_attempts), (
                    f"request {req.id} completed, but no agent ever took its call\n{story()}"
                )
            bridged = [a.id for a in req.call_attempts if a.bridged_at is not None]
            assert len(bridged) <= 1, f"request {req.id} connected {len(bridged)} times: {bridged}\n{story()}"
            assert set(bridged) <= world.accepted, f"request {req.id} connected by a call nobody talked on\n{story()}"
        open_legs = s.execute(
            select(AgentLeg.agent_id, func.count()).where(AgentLeg.ended_at.is_(None)).group_by(AgentLeg.agent_id)
        ).all()
        for agent_id, count in open_legs:
            assert count <= 1, f"agent {agent_id} has {count} open legs\n{story()}"
        # An open attempt with no outcome yet holds its agent. (One with an outcome has let its agent go
        # on purpose: the customer declined, the agent missed and went away, or the conversation is
        # over and only the call's last status callback is still to come.)
        open_attempts = s.execute(
            select(CallAttempt.agent_id, func.count())
            .where(CallAttempt.ended_at.is_(None), CallAttempt.agent_id.is_not(None), CallAttempt.outcome.is_(None))
            .group_by(CallAttempt.agent_id)
        ).all()
        for agent_id, count in open_attempts:
            assert count <= 1, f"agent {agent_id} is on {count} open attempts\n{story()}"
        for agent in s.scalars(select(Agent).where(Agent.status == "away")):
            assert agent.status_reason, f"agent {agent.id} is away with no reason kept\n{story()}"
    for number in NUMBERS:
        rang = sorted((p for p in world.phones if p.number == number), key=lambda p: p.started)
        for before, after in zip(rang, rang[1:], strict=False):
            assert before.ended is not None and after.started >= before.ended + timedelta(seconds=MIN_GAP), (
                f"{number} rang at {after.started:%H:%M:%S}, the previous call "
                f"{'ended at ' + format(before.ended, '%H:%M:%S') if before.ended else 'was still going on'}"
                f"\n{story()}"
            )
        day = [p for p in rang if p.started > world.clock.now() - timedelta(days=1)]
        assert len(day) <= DAILY, f"{number} rang {len(day)} times in a day\n{story()}"


def check_nothing_lost(world: World) -> None:
    """Every call is over and the reaper has passed: each request is final or waiting, free to be called."""
    now = world.clock.now()
    with world.db.sessions() as s:
        open_attempts = s.scalars(select(CallAttempt).where(CallAttempt.ended_at.is_(None))).all()
        assert not open_attempts, f"attempts still open: {[a.id for a in open_attempts]}\n{world.story()}"
        for req in s.scalars(select(CallbackRequest)):
            assert req.status in FINAL or req.status in WAITING, (
                f"request {req.id} is stuck {req.status} with no call\n{world.story()}"
            )
            if req.status in WAITING:
                assert req.agent_id is None, f"request {req.id} waits holding agent {req.agent_id}\n{world.story()}"
                assert req.expires_at > now, f"request {req.id} waits past its expiry\n{world.story()}"
        stuck = s.scalars(select(Agent).where(Agent.status.in_(("reserved", "on_call")))).all()
        assert not stuck, f"agents held with no call: {[(a.id, a.status) for a in stuck]}\n{world.story()}"


# -- the test ----------------------------------------------------------------------------------------


def fresh_database(db: Database) -> None:
    with db.begin() as s:
        for table in reversed(Base.metadata.sorted_tables):
            s.execute(delete(table))
    with db.sessions() as s:
        ensure_default_queues(s, "+15005550006")


# Weighted by repetition: calls move along more often than anything else happens to them.
ACTIONS = (
    "call",
    "dispatch",
    "call",
    "advance",
    "call",
    "dispatch",
    "call",
    "hang_up",
    "reap",
    "fault",
    "available",
    "advance",
)


@settings(
    # LINE_EXAMPLES=2000 for a longer hunt.
    max_examples=int(os.environ.get("LINE_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_the_line_keeps_its_promises(db: Database, session: Session, clock: FixedClock, data: st.DataObject) -> None:
    fresh_database(db)
    clock.set(MONDAY_10AM_NEW_YORK)
    strategies = {
        "orders": data.draw(st.sampled_from(("customer_first", "agent_first")), label="orders strategy"),
        "returns": data.draw(st.sampled_from(("customer_first", "agent_first")), label="returns strategy"),
    }
    with db.sessions() as s:
        for name, strategy in strategies.items():
            update_queue(
                s,
                name,
                {
                    "hours": "24/7",
                    "backoff_seconds": "30,60",
                    "wrap_up_seconds": 5,
                    "max_attempts": MAX_ATTEMPTS,
                    "dial_strategy": strategy,
                },
            )
        now = clock.now()
        for _ in range(data.draw(st.integers(1, 3), label="agents")):
            factories.agent(s, now, queues=("orders", "returns"))
        pairs = data.draw(
            st.lists(
                st.tuples(st.sampled_from(NUMBERS), st.sampled_from(("orders", "returns"))),
                min_size=1,
                max_size=4,
                unique=True,
            ),
            label="requests",
        )
        for number, topic in pairs:
            factories.request(s, now, topic=topic, phone=number)

    fake = Fake()
    world = World(
        db,
        clock,
        fake,
        Dispatcher(db, fake, clock, SETTINGS, sleep=lambda _s: None),
        Reaper(db, fake, clock, caller_id="+15005550006"),
    )
    for _ in range(data.draw(st.integers(10, 80), label="steps")):
        action = data.draw(st.sampled_from(ACTIONS), label="action")
        if action == "dispatch":
            world.note("dispatch")
            world.dispatcher.run_once()
            world.adopt_new_calls()
        elif action in {"call", "hang_up"} and world.live:
            live = data.draw(st.sampled_from(world.live), label="which call")
            if action == "hang_up":
                world.hang_up(live, lost=data.draw(st.booleans(), label="callback lost"))
            elif live.agent_first:
                world.agent_first(live, data)
            else:
                world.customer_first(live, data)
        elif action == "advance":
            seconds = data.draw(st.sampled_from((1, 5, 30, 61, 95, 121, 400, 3600)), label="seconds")
            world.note(f"advance {seconds}s")
            clock.advance(seconds=seconds)
        elif action == "reap":
            world.note(f"reap {world.reaper.run_once()}")
            world.adopt_new_calls()
        elif action == "fault":
            kind = data.draw(st.sampled_from((*FAULTS, "server-500-after-create")), label="fault")
            world.note(f"fault {kind}")
            if kind == "server-500-after-create":
                fake.fail_after_create += 1
            else:
                fake.fail_next(FAULTS[kind]())
        elif action == "available":
            with db.sessions() as s:
                for agent in s.scalars(select(Agent).where(Agent.status == "away")):
                    agent.move_to("available", clock.now())
                    world.missed.discard(agent.id)
                    world.note(f"agent {agent.id} made available")
                s.commit()
        world.note_misses()
        world.adopt_new_calls()
        check(world)

    # Every call ends (some callbacks lost), the faults clear, the reaper passes: nothing is lost.
    fake.fail_after_create = 0
    fake._errors.clear()
    while world.live:
        world.hang_up(world.live[0], lost=data.draw(st.booleans(), label="final callback lost"))
    for _ in range(3):
        clock.advance(seconds=121)
        world.note(f"drain: reap {world.reaper.run_once()}")
        world.adopt_new_calls()
        while world.live:  # a call the reaper found (created behind an error) rings and ends
            world.hang_up(world.live[0], lost=False)
    world.dispatcher.housekeeping()
    check(world)
    check_nothing_lost(world)
    with db.sessions() as s:
        for status in s.scalars(select(CallbackRequest.status)):
            event(f"request ends {status}")
    event(f"customer rang {min(len(world.phones), 6)} times")
    event(f"agents accepted {min(len(world.accepted), 3)} calls")


@pytest.mark.parametrize("strategy", ["customer_first", "agent_first"])
def test_a_customer_who_never_answers_is_called_max_attempts_times_spaced(
    db: Database, session: Session, clock: FixedClock, strategy: str
) -> None:
    """The harness on a plain case: nobody answers; the bounds hold and the request ends."""
    update_queue(session, "orders", {"hours": "24/7", "max_attempts": MAX_ATTEMPTS, "dial_strategy": strategy})
    factories.agent(session, clock.now())
    factories.request(session, clock.now(), phone=NUMBERS[0])
    fake = Fake()
    world = World(
        db, clock, fake, Dispatcher(db, fake, clock, SETTINGS, sleep=lambda _s: None), Reaper(db, fake, clock)
    )
    for _ in range(6):
        world.dispatcher.run_once()
        world.adopt_new_calls()
        for live in list(world.live):
            world.end(live, "no-answer")
        clock.advance(seconds=61)
        with db.sessions() as s:
            for agent in s.scalars(select(Agent).where(Agent.status == "away")):
                agent.move_to("available", clock.now())
            s.commit()
        check(world)
    check_nothing_lost(world)
