"""How long until we call: a queueing-theory estimate from staffing and recent handle times.

The model is the M/M/c queue behind Erlang C. Erlang C itself answers "how long will a *new*
arrival wait on average"; a customer who already has a place in line can be told more precisely.
With c agents all busy, each finishes after an exponential time of mean H (handle time: talk plus
wrap-up), so agents free up as a Poisson process of rate c/H. A customer with k people ahead, when
f agents are free right now, is served at once if k < f; otherwise they wait for the (k - f + 1)-th
agent to free up: an Erlang(k - f + 1, c/H) time, whose mean is (k - f + 1) * H / c.
Source: Gross, Shortle, Thompson & Harris, *Fundamentals of Queueing Theory*, 4th ed., sections 2.3
(M/M/c) and 2.2.4 (waiting-time distribution conditioned on the number in the system).

This is what Erlang C would say too, conditioned on the line the customer actually sees, which is
better than Erlang C's average over all possible lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# Dialling, ringing and the customer's "press 1" take time even when an agent is free at once.
CONNECT_OVERHEAD_SECONDS = 30


@dataclass(frozen=True)
class Staffing:
    """A queue's agents right now and what a call costs them."""

    staffed: int  # agents signed in to the queue (available, reserved, on a call, wrapping up)
    free: int  # of those, the ones available now
    handle_seconds: float  # mean talk time plus wrap-up
    # On a break (agents.models.on_a_break): no call now, but back before long. An agent the line set
    # away after a missed call is not counted: nothing says they will ever be back.
    away: int = 0

    @property
    def signed_in(self) -> int:
        """Agents signed in to the queue in any status: nobody at all means nobody is coming."""
        return self.staffed + self.away


def wait_for_position(ahead: int, staffing: Staffing) -> int | None:
    """Expected seconds until a request with `ahead` others in front is dialled; None if unstaffed."""
    if staffing.staffed <= 0 or staffing.handle_seconds <= 0:
        return None
    free = max(0, min(staffing.free, staffing.staffed))
    if ahead < free:
        return CONNECT_OVERHEAD_SECONDS
    departures_needed = ahead - free + 1
    wait = departures_needed * staffing.handle_seconds / staffing.staffed
    return int(round(wait)) + CONNECT_OVERHEAD_SECONDS


def mean_handle_seconds(talk_seconds: Sequence[int], wrap_up_seconds: int, default: int) -> float:
    """Average handle time from recent calls, falling back to the queue's default with little history."""
    # Five calls is enough that one very long conversation does not swing the estimate wildly.
    if len(talk_seconds) < 5:
        return float(default + wrap_up_seconds)
    return sum(talk_seconds) / len(talk_seconds) + wrap_up_seconds
