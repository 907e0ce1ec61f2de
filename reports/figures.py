"""The contact-centre figures of a period, each defined once here with its formula in its docstring.

The page (/admin/figures), the command (`flask --app app figures`) and anything else that shows a
figure read it from this module, so a figure means the same wherever it is shown.

Which period a thing belongs to:
- A request, and everything that happened to it (its calls, its connection, its completion, its
  handle time, the honesty of its quote), belongs to the period in which it was offered, that is
  created: `since <= created_at < until`. A request made at 23:50 and called back at 00:20 counts on
  the day it was made, so a day's figures never mix requests with another day's calls.
- An IVR session belongs to the period in which it started.
- Occupancy is the one share of time: agents' status time is clipped to the period (and to now).

Canceled requests are told apart by who stopped them (`CallbackRequest.outcome`): withdrawn by the
customer (they canceled, declined the call, hung up holding or before an agent answered) or canceled by
us (a supervisor, the do-not-call list, an erasure the customer asked for, or a holding caller nobody
could take). The service level leaves out only what the customer stopped before the target.

Per queue: requests by their queue; IVR sessions by the topic they reached (a session that reached
none, answered or abandoned in the menu, counts only in "all"); occupancy over the queue's agents as
they are now (memberships keep no history). "All" is every request, session and agent.

What is left out: asks stored only to be counted by the rate limits (outcome "duplicate_ask") are not
requests and are excluded from every figure. A share or a mean over nothing is None ("—" on screen),
never a division by zero.

How much is computed at once: a period of more than MOST_REQUESTS requests (in the queues shown) is
refused before it is read (TooManyRequests); the page and the command say so and name the bound.

A day is a calendar day in the queue's own time zone, in the view of one queue and in the view of every
queue alike: each queue's column counts its own days ("today" is each queue's own today). "All" adds up
each queue's requests on its own days; the phone-menu sessions that reached no queue and the occupancy
of all agents are counted on the days of the shop's first queue (the first made, by id), whose zone
"all" names. A period given as two exact instants (`Instants`, from `flask figures --since <datetime>`)
is the same for every queue.

JSON fields (`Figures.as_json`, stable snake_case; timezone, since and until are the column's own
period: the zone its days are counted in, and its bounds in ISO 8601): queue, timezone, since, until,
offered, completed, failed, canceled (withdrawn + canceled_by_shop), withdrawn, canceled_by_shop,
expired, still_open, connected, average_speed_of_answer_seconds, service_level, service_level_seconds,
callback_success, calls_placed, calls_per_completion, ivr_sessions, ivr_containment, ivr_abandonment,
average_handle_seconds, average_talk_seconds, average_wrap_up_seconds, agent_occupancy,
quotes_compared, quoted_wait_mae_seconds, quoted_wait_bias_seconds. The counts add up: offered =
completed + failed + canceled + expired + still_open. Shares are fractions from 0 to 1; durations are
seconds. `Report.as_json` wraps them: since, until (ISO 8601), timezone (the first queue's period, or
the one queue's), queues (a list of those objects), all (one more, or null for a single queue), and
by_hour (24 objects: hour, offered, completed, average_speed_of_answer_seconds; the hour a request was
made on its own queue's clock).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from agents.models import Agent, AgentStatusChange, Queue, agent_queues
from callback.models import (
    ASKS_KEPT_FOR_LIMITS,
    FINAL,
    AgentLeg,
    CallAttempt,
    CallbackRequest,
    put_through_time,
    wanted_from,
)
from callback.service import CANCELED_BY_CUSTOMER, FORGOTTEN
from ivr.models import IvrSession, hung_up_waiting

ALL = "all"
# Agent statuses that count as staffed time, and those of them spent on calls (occupancy).
STAFFED_STATUSES = ("available", "reserved", "on_call", "wrap_up")
BUSY_STATUSES = ("reserved", "on_call", "wrap_up")
CANCELED = "canceled"
# A canceled request's outcome when the customer stopped it: they canceled it, declined the call when we
# rang ("don't connect me"), or (a phone-menu caller) hung up while holding or while an agent was rung.
WITHDRAWN_OUTCOMES = frozenset({CANCELED_BY_CUSTOMER, "declined", "hung_up_on_hold", "caller_hung_up"})
# Stopped by us but at the customer's own wish: their number went on the do-not-call list, or they asked
# to be forgotten. Any other canceled request (a supervisor's cancel, a holding caller nobody could take,
# no reason recorded) was canceled by us.
AT_THEIR_WISH = frozenset({"do_not_call", FORGOTTEN})
# A request's outcomes that say its caller, holding on the line (or taken out of it while an agent rang),
# hung up before an agent came.
HOLDER_HUNG_UP = ("hung_up_on_hold", "caller_hung_up")


# --- the facts the figures are computed from -------------------------------------------------------


@dataclass(frozen=True)
class RequestFacts:
    """One offered request, as the figures need it."""

    queue: str
    status: str
    outcome: str | None  # why it ended (CallbackRequest.outcome): who canceled a canceled one
    created_at: datetime
    due_at: datetime  # when it was first due: max(created_at, not_before)
    finished_at: datetime  # when it last changed (for a final status: when it ended)
    connected_at: datetime | None  # the first bridge of any of its calls
    calls_placed: int  # calls to the customer's number (attempts with dialled_at)
    quoted_wait_seconds: int | None
    service_level_seconds: int


@dataclass(frozen=True)
class CallFacts:
    """One connected call (an attempt that was bridged to an agent) and its handle time."""

    queue: str
    talk_seconds: float
    wrap_up_seconds: float


@dataclass(frozen=True)
class IvrFacts:
    """One finished phone-menu session."""

    queue: str | None  # the topic the caller reached, if any
    outcome: str  # contained | transferred | callback | hold | abandoned
    holder_hung_up: bool  # held for an agent and hung up before one came


@dataclass(frozen=True)
class StatusSpan:
    """An agent in one status for a stretch of time, already clipped to the period."""

    agent_id: int
    status: str
    seconds: float


# --- the figures ------------------------------------------------------------------------------------


def offered(requests: Sequence[RequestFacts]) -> int:
    """Requests offered: every request created in the period, whatever its source (web, API, IVR)."""
    return len(requests)


def count_status(requests: Sequence[RequestFacts], status: str) -> int:
    """Requests of the period whose status is now `status` (completed, failed, canceled, expired)."""
    return sum(1 for r in requests if r.status == status)


def still_open(requests: Sequence[RequestFacts]) -> int:
    """Requests of the period not over yet: waiting, booked for later, being called or talking.

    Offered = completed + failed + canceled + expired + still open."""
    return sum(1 for r in requests if r.status not in FINAL)


def decided(requests: Sequence[RequestFacts]) -> int:
    """Requests of the period that are over, whichever way (offered - still open)."""
    return offered(requests) - still_open(requests)


def withdrawn(requests: Sequence[RequestFacts]) -> int:
    """Withdrawn by the customer: canceled requests whose outcome is one of WITHDRAWN_OUTCOMES."""
    return sum(1 for r in requests if r.status == CANCELED and r.outcome in WITHDRAWN_OUTCOMES)


def canceled_by_shop(requests: Sequence[RequestFacts]) -> int:
    """Canceled by us: every other canceled request (canceled = withdrawn + canceled by us)."""
    return count_status(requests, CANCELED) - withdrawn(requests)


def connected(requests: Sequence[RequestFacts]) -> int:
    """Requests whose customer was put through to an agent at least once."""
    return sum(1 for r in requests if r.connected_at is not None)


def average_speed_of_answer(requests: Sequence[RequestFacts]) -> float | None:
    """ASA = mean over connected requests of (first connection - due), due = max(created_at, not_before);
    the first connection is the first bridge, or when a call still under way was put through (the
    agent's acceptance; agent-first, the customer's greeting).

    Counted from when the request became due, not from when it was made: a customer who asked to be
    called tomorrow at nine did not wait overnight. A bridge before due (a customer reached, then
    rescheduled to a later slot) counts as 0.
    """
    waits = [_seconds(r.connected_at - r.due_at) for r in requests if r.connected_at is not None]
    return _mean(waits)


def service_level(requests: Sequence[RequestFacts], now: datetime) -> float | None:
    """SL = connected within T / (offered - stopped at the customer's wish within T - undecided),
    T = queue's service_level_seconds.

    "Within T" is counted from due (as ASA). The denominator is the offered requests, not the
    connected ones: a share of connected requests alone would score a line that reaches nobody at
    100%. As in the usual contact-centre convention (answered in T / (offered - abandoned in T)), a
    request the customer stopped before T passed is left out: the line had not yet failed them. That
    is one withdrawn by the customer (WITHDRAWN_OUTCOMES), or stopped by us at their wish (their
    number on the do-not-call list, their data erased at their demand: AT_THEIR_WISH). A request we
    canceled for any other reason (a supervisor's cancel, a holding caller nobody could take) counts
    as missed whenever it was canceled: else canceling a request about to miss its target would raise
    the service level. Canceled after T, failed, expired, or still waiting past T all count as missed.
    A request still waiting whose T has not run out at `now` is undecided and left out.
    """
    met = judged = 0
    for r in requests:
        deadline = r.due_at + timedelta(seconds=r.service_level_seconds)
        if r.connected_at is not None:
            judged += 1
            met += r.connected_at <= deadline
        elif r.status == CANCELED and r.finished_at < deadline and r.outcome in WITHDRAWN_OUTCOMES | AT_THEIR_WISH:
            continue
        elif deadline > now and r.status not in FINAL:
            continue
        else:
            judged += 1
    return _share(met, judged)


def callback_success(requests: Sequence[RequestFacts]) -> float | None:
    """Callback success = completed / decided (offered - still open).

    Over the requests that are over, not all offered: a request still waiting may yet be completed,
    so counting it as not completed would read today low all day and rise as the line empties."""
    return _share(count_status(requests, "completed"), decided(requests))


def calls_placed(requests: Sequence[RequestFacts]) -> int:
    """Calls placed = attempts with dialled_at (calls to the customer's number; a holder put through has none)."""
    return sum(r.calls_placed for r in requests)


def calls_per_completion(requests: Sequence[RequestFacts]) -> float | None:
    """Calls per completion = calls placed / completed (retries raise it; 1.0 means every call worked)."""
    completed = count_status(requests, "completed")
    return calls_placed(requests) / completed if completed else None


def ivr_containment(sessions: Sequence[IvrFacts]) -> float | None:
    """IVR containment = sessions contained (answered by the menu, no agent) / finished IVR sessions."""
    return _share(sum(1 for s in sessions if s.outcome == "contained"), len(sessions))


def ivr_abandonment(sessions: Sequence[IvrFacts]) -> float | None:
    """IVR abandonment = (hung up in the menu + hung up holding before an agent came) / finished IVR sessions.

    A menu hang-up is outcome "abandoned" (the caller left without their answer). A holder who hung up
    before an agent came is outcome "hold" whose call's path ends with the hang-up (IvrSession's
    `hung_up_waiting`: in the line, or taken out of it while an agent's phone rang), or whose request
    ended so ("hung_up_on_hold", "caller_hung_up"); counted once either way. A request of theirs from
    before the call waits on untouched, so the call, not the request, says it.
    """
    left = sum(1 for s in sessions if s.outcome == "abandoned" or s.holder_hung_up)
    return _share(left, len(sessions))


def average_talk(calls: Sequence[CallFacts]) -> float | None:
    """Average talk = mean talk_seconds over connected calls (bridged to ended when talk_seconds is unknown)."""
    return _mean([c.talk_seconds for c in calls])


def average_wrap_up(calls: Sequence[CallFacts]) -> float | None:
    """Average wrap-up = mean over connected calls of the agent's wrap_up status after it, from its
    AgentStatusChange row to the agent's next row (the queue's wrap_up_seconds when no row is found)."""
    return _mean([c.wrap_up_seconds for c in calls])


def average_handle_time(calls: Sequence[CallFacts]) -> float | None:
    """AHT = mean over connected calls of (talk + wrap-up)."""
    return _mean([c.talk_seconds + c.wrap_up_seconds for c in calls])


def agent_occupancy(spans: Sequence[StatusSpan]) -> float | None:
    """Occupancy = time (reserved + on_call + wrap_up) / time staffed (available + reserved + on_call + wrap_up).

    Reserved counts as busy: in a callback line the agent is held for one call from the claim, through
    the dialling, the ringing and the customer's "press 1", and can take no other. Away and offline
    are not staffed time. Each status lasts until the agent's next status row, clipped to the period
    (and to now).
    """
    staffed = sum(s.seconds for s in spans if s.status in STAFFED_STATUSES)
    busy = sum(s.seconds for s in spans if s.status in BUSY_STATUSES)
    return busy / staffed if staffed > 0 else None


def quote_errors(requests: Sequence[RequestFacts]) -> list[float]:
    """Each quote's error = actual wait - quoted wait, actual = first bridged_at - created_at, in seconds,
    for connected requests that were given a quote (the quote is counted from created_at too)."""
    return [
        _seconds(r.connected_at - r.created_at) - r.quoted_wait_seconds
        for r in requests
        if r.connected_at is not None and r.quoted_wait_seconds is not None
    ]


def quoted_wait_mae(requests: Sequence[RequestFacts]) -> float | None:
    """Quoted-wait MAE = mean |actual - quoted| (how far off the wait we told customers was, either way)."""
    return _mean([abs(e) for e in quote_errors(requests)])


def quoted_wait_bias(requests: Sequence[RequestFacts]) -> float | None:
    """Quoted-wait bias = mean (actual - quoted). Positive: customers waited longer than we told them
    (our quotes were too optimistic); negative: they were called sooner than promised."""
    return _mean(quote_errors(requests))


# --- all of them together ------------------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """Every figure of one queue (or "all") for one period."""

    queue: str
    timezone: str  # the zone the column's days are counted in
    since: datetime  # the column's own [since, until), in UTC
    until: datetime
    offered: int
    completed: int
    failed: int
    canceled: int
    withdrawn: int
    canceled_by_shop: int
    expired: int
    still_open: int
    connected: int
    average_speed_of_answer_seconds: float | None
    service_level: float | None
    service_level_seconds: int | None  # the target T; None for "all" when queues differ
    callback_success: float | None
    calls_placed: int
    calls_per_completion: float | None
    ivr_sessions: int
    ivr_containment: float | None
    ivr_abandonment: float | None
    average_handle_seconds: float | None
    average_talk_seconds: float | None
    average_wrap_up_seconds: float | None
    agent_occupancy: float | None
    quotes_compared: int
    quoted_wait_mae_seconds: float | None
    quoted_wait_bias_seconds: float | None

    def as_json(self) -> dict[str, Any]:
        """Plain JSON types under the stable field names listed in the module's docstring."""
        data = asdict(self)
        data["since"], data["until"] = self.since.isoformat(), self.until.isoformat()
        return data


FIELDS = tuple(Figures.__dataclass_fields__)
# What each column says of itself (its queue and period), then the figures a person reads in the table.
PERIOD_FIELDS = ("queue", "timezone", "since", "until")
FIGURE_FIELDS = tuple(name for name in FIELDS if name not in PERIOD_FIELDS)

# Each figure's name on screen and a plain sentence of what it means (the docstrings above give the formula).
LABELS: dict[str, tuple[str, str]] = {
    "offered": ("Offered", "Requests made in the period, from the web, the API or the phone menu."),
    "completed": ("Completed", "Of those, the ones that ended with a conversation with an agent."),
    "failed": ("Failed", "Given up after the last call attempt, or refused (bad number, call limit)."),
    "canceled": ("Canceled", "Withdrawn by the customer or canceled by us: the two rows below."),
    "withdrawn": (
        "Withdrawn by the customer",
        "They canceled, declined our call, or hung up while holding or before an agent answered.",
    ),
    "canceled_by_shop": (
        "Canceled by us",
        "By a supervisor, for the do-not-call list or an erasure the customer asked for, "
        "or because nobody could take a caller holding on the line.",
    ),
    "expired": ("Expired", "Not reached before the request's expiry."),
    "still_open": (
        "Still open",
        "Not over yet: waiting, booked for later, being called or talking. "
        "Offered = completed + failed + canceled + expired + still open.",
    ),
    "connected": ("Connected", "Put through to an agent at least once."),
    "average_speed_of_answer_seconds": (
        "Average speed of answer",
        "Mean time from when a request was due to when the customer was put through to an agent.",
    ),
    "service_level": (
        "Service level",
        "Share of requests put through within the queue's target, counted from when each was due. Left out: "
        "requests the customer withdrew, or asked us to stop (do-not-call, erasure), before the target passed. "
        "Anything else not put through in time counts as missed, including requests we canceled, whenever.",
    ),
    "service_level_seconds": ("Service level target", "The target time behind the service level."),
    "callback_success": (
        "Callback success",
        "Completed requests as a share of those decided (offered minus still open), so open requests "
        "do not lower it while they wait.",
    ),
    "calls_placed": ("Calls placed", "Calls made to customers' numbers, retries included."),
    "calls_per_completion": ("Calls per completion", "Calls placed for each completed request (1.0 is ideal)."),
    "ivr_sessions": ("Phone menu calls", "Calls into the phone menu that have ended."),
    "ivr_containment": ("Menu containment", "Share of menu calls answered by the menu without an agent."),
    "ivr_abandonment": (
        "Menu abandonment",
        "Share of menu calls where the caller hung up without an answer, or while holding for an agent.",
    ),
    "average_handle_seconds": ("Average handle time", "Mean talk time plus wrap-up of each connected call."),
    "average_talk_seconds": ("Average talk time", "Mean time customer and agent spent talking."),
    "average_wrap_up_seconds": ("Average wrap-up", "Mean time agents spent wrapping up after a call."),
    "agent_occupancy": (
        "Agent occupancy",
        "Share of agents' signed-in time spent on calls (reserved, talking or wrapping up).",
    ),
    "quotes_compared": ("Quotes compared", "Connected requests that had been given an estimated wait."),
    "quoted_wait_mae_seconds": (
        "Quoted wait: mean error",
        "How far, on average, the wait we told customers was from the wait they had, either way.",
    ),
    "quoted_wait_bias_seconds": (
        "Quoted wait: bias",
        "Positive: customers waited longer than we told them; negative: they were called sooner.",
    ),
}
# Figures that are a part of the one above them on the page (canceled = withdrawn + canceled by us).
PARTS = frozenset({"withdrawn", "canceled_by_shop"})
SHARES = frozenset({"service_level", "callback_success", "ivr_containment", "ivr_abandonment", "agent_occupancy"})
DURATIONS = frozenset(name for name in FIELDS if name.endswith("_seconds"))


def display(name: str, value: float | int | str | None) -> str:
    """A figure as a person reads it: "—" for none, shares as percentages, durations as "4m 48s"."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if name in SHARES:
        return f"{value * 100:.1f}%"
    if name in DURATIONS:
        sign = "-" if value < 0 else ""
        whole = round(abs(value))
        hours, rest = divmod(whole, 3600)
        if hours:
            return f"{sign}{hours}h {rest // 60:02d}m"
        return f"{sign}{rest // 60}m {rest % 60:02d}s"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


@dataclass(frozen=True)
class HourFigures:
    """The figures charted by hour of the day (local time), for requests offered in that hour."""

    hour: int
    offered: int
    completed: int
    average_speed_of_answer_seconds: float | None


@dataclass(frozen=True)
class Report:
    """A period's figures: each queue's, all queues', and the hourly series of the chosen scope."""

    since: datetime  # the first queue's period (the one queue's when one was asked for)
    until: datetime
    zone: str
    queues: list[Figures]
    total: Figures | None  # None when one queue was asked for
    hours: list[HourFigures]

    @property
    def zones_differ(self) -> bool:
        """Whether the queues shown count their days in different zones (each column then says its own)."""
        return len({f.timezone for f in self.queues}) > 1

    def as_json(self) -> dict[str, Any]:
        """The report as plain JSON types, times in ISO 8601."""
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "timezone": self.zone,
            "queues": [f.as_json() for f in self.queues],
            ALL: self.total.as_json() if self.total else None,
            "by_hour": [asdict(h) for h in self.hours],
        }


class UnknownQueue(ValueError):
    """No queue by that name."""


# The most requests one report computes. A busy week (about 40,000 requests, with their calls, menu
# sessions and status history) takes 2 to 3 s, 90,000 requests about 7 s (bench/figures.py, SQLite); a
# period of more is refused with this number before it is read, rather than left to run towards the
# workers' timeout (gunicorn's 30 s) and a supervisor's patience.
MOST_REQUESTS = 100_000


class TooManyRequests(ValueError):
    """The period holds more requests than one report computes (MOST_REQUESTS): choose a shorter one."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            f"This period has more than {limit:,} requests, more than the figures are computed for at once: "
            "choose a shorter period, or one queue."
        )
        self.limit = limit


def compute(
    name: str,
    bounds: Bounds,
    requests: Sequence[RequestFacts],
    calls: Sequence[CallFacts],
    sessions: Sequence[IvrFacts],
    spans: Sequence[StatusSpan],
    now: datetime,
    target: int | None,
) -> Figures:
    """Every figure from the facts of one scope."""
    errors = quote_errors(requests)
    return Figures(
        queue=name,
        timezone=bounds.zone.key,
        since=bounds.since,
        until=bounds.until,
        offered=offered(requests),
        completed=count_status(requests, "completed"),
        failed=count_status(requests, "failed"),
        canceled=count_status(requests, CANCELED),
        withdrawn=withdrawn(requests),
        canceled_by_shop=canceled_by_shop(requests),
        expired=count_status(requests, "expired"),
        still_open=still_open(requests),
        connected=connected(requests),
        average_speed_of_answer_seconds=average_speed_of_answer(requests),
        service_level=service_level(requests, now),
        service_level_seconds=target,
        callback_success=callback_success(requests),
        calls_placed=calls_placed(requests),
        calls_per_completion=calls_per_completion(requests),
        ivr_sessions=len(sessions),
        ivr_containment=ivr_containment(sessions),
        ivr_abandonment=ivr_abandonment(sessions),
        average_handle_seconds=average_handle_time(calls),
        average_talk_seconds=average_talk(calls),
        average_wrap_up_seconds=average_wrap_up(calls),
        agent_occupancy=agent_occupancy(spans),
        quotes_compared=len(errors),
        quoted_wait_mae_seconds=quoted_wait_mae(requests),
        quoted_wait_bias_seconds=quoted_wait_bias(requests),
    )


def by_hour(requests: Sequence[RequestFacts], zones: dict[str, ZoneInfo]) -> list[HourFigures]:
    """Offered, completed and ASA by hour of the day (0-23), of requests offered in that hour on their
    own queue's clock (`zones`: queue name -> zone)."""
    hours: list[list[RequestFacts]] = [[] for _ in range(24)]
    for r in requests:
        hours[r.created_at.astimezone(zones[r.queue]).hour].append(r)
    return [
        HourFigures(hour, offered(rs), count_status(rs, "completed"), average_speed_of_answer(rs))
        for hour, rs in enumerate(hours)
    ]


def report(session: Session, period: Period, queue: str | None, now: datetime) -> Report:
    """The figures of `period` for one queue by name, or for each queue and all of them (None).

    Each queue's column covers the period on its own zone's days (module docstring). A period of more
    than MOST_REQUESTS requests is refused (TooManyRequests) before anything is read."""
    queues = list(session.scalars(select(Queue).order_by(Queue.id)))
    if queue is not None:
        queues = [q for q in queues if q.name == queue]
        if not queues:
            raise UnknownQueue(queue)
    first = bounds_of(period, shop_zone(queues))
    bounds = {q.name: bounds_of(period, q.business_hours.zone) for q in queues}
    made_within = _made_within(bounds, {q.id: q.name for q in queues})
    if _count_at_most(session, made_within, MOST_REQUESTS + 1) > MOST_REQUESTS:
        raise TooManyRequests(MOST_REQUESTS)
    # Every column starts and ends within the widest period of all the queues ("all" counts on the first's).
    history = _History(session, min(b.since for b in bounds.values()), max(b.until for b in bounds.values()))
    requests, calls = _requests(session, made_within, {q.id: q for q in queues}, history)
    sessions = _ivr_sessions(session, bounds, first)
    facts: dict[str, tuple[list[RequestFacts], list[CallFacts], list[IvrFacts]]] = {
        q.name: ([], [], []) for q in queues
    }
    for r in requests:
        facts[r.queue][0].append(r)
    for c in calls:
        facts[c.queue][1].append(c)
    for ivr in sessions:
        if ivr.queue in facts:
            facts[ivr.queue][2].append(ivr)
    members: dict[int, set[int]] = {}
    for agent_id, queue_id in session.execute(select(agent_queues.c.agent_id, agent_queues.c.queue_id)):
        members.setdefault(queue_id, set()).add(agent_id)
    columns = {
        q.name: _Column(bounds[q.name].since, min(bounds[q.name].until, now), frozenset(members.get(q.id, ())))
        for q in queues
    }
    if queue is None:
        columns[ALL] = _Column(first.since, min(first.until, now), None)
    spans = history.spans(columns)
    rows = [
        compute(q.name, bounds[q.name], *facts[q.name], spans[q.name], now, q.service_level_seconds) for q in queues
    ]
    total = None
    if queue is None:
        targets = {q.service_level_seconds for q in queues}
        # "All" IVR sessions include those that never reached a queue (answered in the menu, or hung up).
        total = compute(
            ALL, first, requests, calls, sessions, spans[ALL], now, targets.pop() if len(targets) == 1 else None
        )
    zones = {q.name: q.business_hours.zone for q in queues}
    return Report(first.since, first.until, first.zone.key, rows, total, by_hour(requests, zones))


# --- periods ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Days:
    """Calendar days `first` to `last` (inclusive), counted in each queue's own zone."""

    first: date
    last: date


@dataclass(frozen=True)
class Preset:
    """A named stretch of days (today, yesterday, last7: see `preset`) as of `now`, on each queue's own clock."""

    name: str
    now: datetime


@dataclass(frozen=True)
class Instants:
    """Exactly [since, until), the same for every queue."""

    since: datetime
    until: datetime


Period = Days | Preset | Instants


@dataclass(frozen=True)
class Bounds:
    """One column's period: [since, until) in UTC, and the zone its days were counted in."""

    since: datetime
    until: datetime
    zone: ZoneInfo


def bounds_of(period: Period, zone: ZoneInfo) -> Bounds:
    """The period as a queue in `zone` counts it."""
    if isinstance(period, Instants):
        return Bounds(period.since, period.until, zone)
    first, last = (period.first, period.last) if isinstance(period, Days) else preset(period.name, period.now, zone)
    return Bounds(*day_bounds(first, last, zone), zone)


def shop_zone(queues: Iterable[Queue]) -> ZoneInfo:
    """The zone of the shop's first queue (the first made: lowest id), UTC when there is none.

    The one rule for "the shop's zone" wherever one zone stands for all queues: the board's clock
    times, the figures of "all", the days the figures page offers."""
    first = min(queues, key=lambda q: q.id, default=None)
    return first.business_hours.zone if first is not None else ZoneInfo("UTC")


def day_bounds(first: date, last: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[since, until) covering the calendar days first..last (inclusive) in `zone`, in UTC."""
    since = datetime.combine(first, time(0), zone)
    until = datetime.combine(last + timedelta(days=1), time(0), zone)
    return since.astimezone(ZoneInfo("UTC")), until.astimezone(ZoneInfo("UTC"))


def preset(name: str, now: datetime, zone: ZoneInfo) -> tuple[date, date]:
    """The first and last day of a named period: today, yesterday, last7 (today and the six days before)."""
    today = now.astimezone(zone).date()
    if name == "today":
        return today, today
    if name == "yesterday":
        return today - timedelta(days=1), today - timedelta(days=1)
    if name == "last7":
        return today - timedelta(days=6), today
    raise ValueError(f"unknown period {name!r}")


# --- reading the facts -----------------------------------------------------------------------------
# Plain rows of the columns the facts need, never ORM objects: a busy week is tens of thousands of
# requests with their calls, legs and the agents' status history, and building objects (and scanning
# each agent's history afresh for every call's wrap-up) made a week's figures take most of a minute.
# Every list is read in the order the objects were (requests by id, calls by id within their request,
# status rows by agent, time and id), so sums and means add up in the same order to the same figures.


def _made_within(bounds: dict[str, Bounds], names: dict[int, str]) -> ColumnElement[bool]:
    """Requests of these queues made within each one's own period (queues sharing a period grouped),
    leaving out the asks kept only for the rate limits (ASKS_KEPT_FOR_LIMITS)."""
    r = CallbackRequest
    groups: dict[tuple[datetime, datetime], list[int]] = {}
    for queue_id, name in names.items():
        groups.setdefault((bounds[name].since, bounds[name].until), []).append(queue_id)
    return and_(
        or_(
            *(
                and_(r.created_at >= since, r.created_at < until, r.queue_id.in_(ids))
                for (since, until), ids in groups.items()
            )
        ),
        or_(r.outcome.is_(None), r.outcome.not_in(ASKS_KEPT_FOR_LIMITS)),
    )


def _count_at_most(session: Session, made_within: ColumnElement[bool], limit: int) -> int:
    """How many requests the period holds, counted no further than `limit` (a year's count is not needed
    to say it is too many)."""
    first = select(CallbackRequest.id).where(made_within).limit(limit).subquery()
    return session.scalar(select(func.count()).select_from(first)) or 0


def _requests(
    session: Session, made_within: ColumnElement[bool], queues: dict[int, Queue], history: _History
) -> tuple[list[RequestFacts], list[CallFacts]]:
    """The facts of the period's requests and of their connected calls (each call's wrap-up read from the
    status history of the agent who took it).

    Only the calls that were bridged are read one by one (the calls placed are counted in SQL), and a
    moment only where it can count: when a call ended only for one without its talk time, a greeting
    only for an agent-first call of a request on the line now."""
    r, a, leg = CallbackRequest, CallAttempt, AgentLeg
    requests = session.execute(
        select(
            r.id,
            r.queue_id,
            r.status,
            r.outcome,
            r.created_at,
            r.not_before,
            r.asked_asap_at,
            r.updated_at,
            r.quoted_wait_seconds,
        )
        .where(made_within)
        .order_by(r.id)
    ).all()
    placed: dict[int, int] = dict(
        session.execute(
            select(a.request_id, func.count(a.id))
            .join(r, a.request_id == r.id)
            .where(made_within, a.dialled_at.is_not(None))
            .group_by(a.request_id)
        ).all()
    )
    bridged: dict[int, list[Any]] = {}
    for attempt in session.execute(
        select(
            a.request_id,
            a.id,
            a.agent_id,
            a.bridged_at,
            a.talk_seconds,
            case((a.talk_seconds.is_(None), a.ended_at)).label("ended_at"),
        )
        .join(r, a.request_id == r.id)
        .where(made_within, a.bridged_at.is_not(None))
        .order_by(a.request_id, a.id)
    ):
        bridged.setdefault(attempt.request_id, []).append(attempt)
    # The calls of the requests on the line now that no bridge confirms yet: when they were put through.
    on_the_line: dict[int, list[Any]] = {}
    for attempt in session.execute(
        select(a.request_id, a.id, a.agent_first, case((a.agent_first, a.greeted_at)).label("greeted_at"))
        .join(r, a.request_id == r.id)
        .where(made_within, r.status == "connected")
        .order_by(a.request_id, a.id)
    ):
        on_the_line.setdefault(attempt.request_id, []).append(attempt)
    # The agents' legs only where they are needed: who talked on a bridged call that names no agent, and
    # when the agent now on the line with a connected request accepted.
    legs: dict[int, list[Any]] = {}
    for row in session.execute(
        select(leg.attempt_id, leg.agent_id, leg.accepted_at, leg.outcome)
        .join(a, leg.attempt_id == a.id)
        .join(r, a.request_id == r.id)
        .where(
            made_within,
            leg.accepted_at.is_not(None),
            or_(and_(a.agent_id.is_(None), a.bridged_at.is_not(None)), r.status == "connected"),
        )
        .order_by(leg.attempt_id, leg.id)
    ):
        legs.setdefault(row.attempt_id, []).append(row)

    facts: list[RequestFacts] = []
    calls: list[CallFacts] = []
    for req in requests:
        queue = queues[req.queue_id]
        connected = bridged.get(req.id, [])
        facts.append(
            RequestFacts(
                queue=queue.name,
                status=req.status,
                outcome=req.outcome,
                created_at=req.created_at,
                due_at=wanted_from(req.created_at, req.not_before, req.asked_asap_at),
                finished_at=req.updated_at,
                connected_at=_connected_at(req.status, connected, on_the_line.get(req.id, []), legs),
                calls_placed=placed.get(req.id, 0),
                quoted_wait_seconds=req.quoted_wait_seconds,
                service_level_seconds=queue.service_level_seconds,
            )
        )
        for attempt in connected:
            talk = _talk_seconds(attempt)
            if talk is None:
                continue  # still talking: its handle time is not known yet
            wrap = history.wrap_up_after(_agent_of(attempt, legs), attempt.bridged_at)
            calls.append(CallFacts(queue.name, talk, queue.wrap_up_seconds if wrap is None else wrap))
    return facts, calls


def _connected_at(
    status: str, bridged: list[Any], on_the_line: list[Any], legs: dict[int, list[Any]]
) -> datetime | None:
    """When the customer first talked with an agent. Twilio confirms a bridge only when the
    conversation ends (the Dial action), so a request on the line now counts from when it was put
    through (CallAttempt.put_through_at: the live acceptance; agent-first, the greeting): a long call is
    not a service-level miss, nor missing from the speed of answer, while it lasts. Being read afresh
    each time, a put-through whose bridge then fails (a hang-up during the greeting) stops counting;
    only a confirmed bridge stays."""
    first = min((attempt.bridged_at for attempt in bridged), default=None)
    if first is None and status == "connected":
        through = (_put_through_at(attempt, legs) for attempt in on_the_line)
        first = min((moment for moment in through if moment is not None), default=None)
    return first


def _put_through_at(attempt: Any, legs: dict[int, list[Any]]) -> datetime | None:
    """CallAttempt.put_through_at from plain rows, by the same rule (callback.models.put_through_time)."""
    of_attempt = ((leg.accepted_at, leg.outcome) for leg in legs.get(attempt.id, []))
    return put_through_time(attempt.agent_first, attempt.greeted_at, of_attempt)


def _talk_seconds(attempt: Any) -> float | None:
    """CallAttempt's talk time: as Twilio gave it, else from the bridge to the end (None: still talking)."""
    if attempt.talk_seconds is not None:
        return float(attempt.talk_seconds)
    if attempt.ended_at is not None:
        return _seconds(attempt.ended_at - attempt.bridged_at)
    return None


def _agent_of(attempt: Any, legs: dict[int, list[Any]]) -> int | None:
    """The agent who talked: the attempt's, else the one whose leg was accepted (the last)."""
    if attempt.agent_id is not None:
        return cast(int, attempt.agent_id)
    accepted = [leg.agent_id for leg in legs.get(attempt.id, [])]  # legs are read only when accepted
    return cast(int | None, accepted[-1]) if accepted else None


@dataclass(frozen=True)
class _Column:
    """Whose status time one column counts, and over which stretch: [since, until)."""

    since: datetime
    until: datetime
    agents: frozenset[int] | None  # a queue's agents as they are now; None: every agent


class _History:
    """The agents' status rows, read once for the wrap-up that followed each call and for each column's
    status time (occupancy): the rows in force at `since` (found through each agent's own history, not
    by scanning everyone's) and every change after it, up to `until`.

    An agent's rows from `until` on are read only when a call's wrap-up runs past the period's end (a
    call near midnight, a request called back the next morning), a few at a time: a period long past is
    not followed by reading every status row since."""

    CHUNK = 64

    def __init__(self, session: Session, since: datetime, until: datetime) -> None:
        self.session, self.since, self.until = session, since, until
        change = AgentStatusChange
        latest = (
            select(func.max(change.at))
            .where(change.agent_id == Agent.id, change.at <= since)
            .correlate(Agent)
            .scalar_subquery()
        )
        starts = select(Agent.id.label("agent_id"), latest.label("at")).subquery()
        read = (change.agent_id, change.at, change.id, change.status)
        in_force = select(*read).join(starts, (change.agent_id == starts.c.agent_id) & (change.at == starts.c.at))
        later = select(*read).where(change.at > since, change.at < until)
        # Per agent, (at, id, status) in the order of time then id (the rows in force come first, being
        # at or before `since`), and their times alone for bisecting.
        self.rows: dict[int, list[tuple[datetime, int, str]]] = {}
        for query in (in_force.order_by(change.agent_id, change.id), later.order_by(*read[:3])):
            for agent_id, at, row_id, status in session.execute(query):
                self.rows.setdefault(agent_id, []).append((at, row_id, status))
        self.times = {agent: [at for at, _id, _status in rows] for agent, rows in self.rows.items()}
        self.read_to_end: set[int] = set()

    def wrap_up_after(self, agent_id: int | None, bridged_at: datetime) -> float | None:
        """Seconds of the agent's first wrap_up after `bridged_at`; None if there is none before the
        agent is reserved for another call, or it has not ended yet."""
        if agent_id is None:
            return None
        rows = self.rows.setdefault(agent_id, [])
        times = self.times.setdefault(agent_id, [])
        # The first row at or after the bridge (and not before `since`, which no call of the period precedes).
        i = max(bisect_left(times, bridged_at), bisect_left(times, self.since))
        while True:
            if i >= len(rows) and not self._read_more(agent_id):  # (extends `rows` in place)
                return None  # no wrap-up after the call
            status = rows[i][2]
            if status == "reserved":
                return None  # on to another call with no wrap-up recorded for this one
            if status == "wrap_up":
                if i + 1 >= len(rows) and not self._read_more(agent_id):
                    return None  # the wrap-up has not ended yet
                return _seconds(rows[i + 1][0] - rows[i][0])
            i += 1

    def _read_more(self, agent_id: int) -> bool:
        """Read the agent's next rows from `until` on, after those read so far; False when there are none."""
        if agent_id in self.read_to_end:
            return False
        change = AgentStatusChange
        rows = self.rows[agent_id]
        later = change.at >= self.until
        if rows and rows[-1][0] >= self.until:
            last_at, last_id, _status = rows[-1]
            later = or_(change.at > last_at, and_(change.at == last_at, change.id > last_id))
        found = self.session.execute(
            select(change.at, change.id, change.status)
            .where(change.agent_id == agent_id, later)
            .order_by(change.at, change.id)
            .limit(self.CHUNK)
        ).all()
        if len(found) < self.CHUNK:
            self.read_to_end.add(agent_id)
        rows.extend((at, row_id, status) for at, row_id, status in found)
        self.times[agent_id].extend(at for at, _id, _status in found)
        return bool(found)

    def spans(self, columns: dict[str, _Column]) -> dict[str, list[StatusSpan]]:
        """Each column's agents' statuses within its [since, until) (within the history's): the one in
        force at the column's since, then every change; for a queue, its agents as they are now
        (membership history is not kept). Each column's spans by agent, then time."""
        spans: dict[str, list[StatusSpan]] = {name: [] for name in columns}
        for agent in sorted(self.rows):
            rows, times = self.rows[agent], self.times[agent]
            # Each row's whole span, to the agent's next row (None when it lasts no time), made once for
            # every column: only a column's first and last rows are clipped to it.
            whole = [
                StatusSpan(agent, rows[i][2], _seconds(times[i + 1] - times[i])) if times[i + 1] > times[i] else None
                for i in range(len(rows) - 1)
            ]
            for name, column in columns.items():
                if column.since >= column.until or (column.agents is not None and agent not in column.agents):
                    continue
                # Rows before `after` are at or before the column's start: the last of them is in force
                # then (of rows at the same moment, the last: the others last no time); rows [after,
                # stop) follow, before its end.
                after = bisect_right(times, column.since)
                stop = bisect_left(times, column.until, lo=after)
                out = spans[name]
                if after:
                    end = times[after] if after < stop else column.until
                    out.append(StatusSpan(agent, rows[after - 1][2], _seconds(end - column.since)))
                if after < stop:
                    out.extend(span for span in whole[after : stop - 1] if span is not None)
                    if column.until > times[stop - 1]:
                        out.append(StatusSpan(agent, rows[stop - 1][2], _seconds(column.until - times[stop - 1])))
        return spans


def _ivr_sessions(session: Session, bounds: dict[str, Bounds], first: Bounds) -> list[IvrFacts]:
    """The finished sessions started in the period: on their topic queue's days, or on the first
    queue's for a session that reached none (counted only in "all")."""
    since = min([first.since, *(b.since for b in bounds.values())])
    until = max([first.until, *(b.until for b in bounds.values())])
    rows = session.execute(
        select(
            IvrSession.topic,
            IvrSession.outcome,
            IvrSession.ended_at,
            IvrSession.started_at,
            CallbackRequest.outcome,
            # The path only where it can tell a holder's hang-up (a few sessions), not every menu call's.
            case((IvrSession.outcome == "hold", IvrSession.steps)),
        )
        .outerjoin(CallbackRequest, IvrSession.request_id == CallbackRequest.id)
        .where(IvrSession.started_at >= since, IvrSession.started_at < until)
    ).all()
    facts = []
    for topic, outcome, ended_at, started_at, request_outcome, steps in rows:
        if outcome is None and ended_at is None:
            continue  # still in the menu: not decided yet
        own = bounds.get(topic or "", first)
        if not own.since <= started_at < own.until:
            continue  # within the widest period, not within its own queue's
        hung_up = outcome == "hold" and (request_outcome in HOLDER_HUNG_UP or hung_up_waiting(steps))
        facts.append(IvrFacts(topic, outcome or "abandoned", hung_up))
    return facts


def _seconds(delta: timedelta) -> float:
    return max(0.0, delta.total_seconds())


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None
