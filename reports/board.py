"""The live board at /board (supervisors and admins): the line now, drawn once here and kept current by
static/board.js from /board/state every second.

Both read `reports.live.line_now`, the one reader of the line, so the first paint and every poll agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, jsonify, render_template
from flask.typing import ResponseReturnValue

from agents.admin import local_time
from agents.auth import staff_required
from agents.desk import STATUS_WORDS, duration_words
from core.web import clock, session
from reports.live import LineNow, QueueNow, line_now

bp = Blueprint("board", __name__, url_prefix="/board")

# The request's status as the board says it of a call in progress (reports.live.IN_PROGRESS).
CALL_WORDS = {
    "queued": "Waiting to be called",
    "retry_wait": "Waiting to be called again",
    "dialing": "Calling the customer",
    "connecting": "Putting the customer through",
    "connected": "Talking",
}


@dataclass(frozen=True)
class Column:
    """A number of the queues table: its header, a short description under it, and what it counts in full."""

    key: str  # the cells' id suffix (queue-<name>-<key>) and the definition's (define-<key>)
    header: str  # static/board.js labels the cells with the same words
    short: str
    definition: str


# What each number of a queue counts, said on the page (reports.live reads them: _queue_now).
COLUMNS = (
    Column(
        "waiting",
        "Waiting callbacks",
        "due now, not yet being called",
        "Callbacks due now that nobody is calling yet: asked for as soon as possible, or whose booked time or "
        "retry time has come. Counted whether or not the queue is open. Not counted here: callbacks booked for "
        "a later time or waiting out a retry's back-off (Booked for later), callers on the line (Callers "
        "holding), and callbacks being called or talking (Calls in progress).",
    ),
    Column(
        "holding",
        "Callers holding",
        "on the line, waiting for an agent",
        "Phone-menu callers on the line now, holding for an agent. They are not callbacks and are not in "
        "Waiting callbacks.",
    ),
    Column(
        "longest",
        "Longest wait",
        "of anyone due now or holding",
        "How long the person who has waited longest, of those due now and those holding, has waited: counted "
        "from when they asked, or from the start of the time they booked, through any calls that did not "
        "reach them. A caller holding counts from when their call came in, their time in the phone menu "
        "included. Callbacks booked for later and retries still in back-off are left out until they are due.",
    ),
    Column(
        "quoted",
        "Quoted to a new customer",
        "the wait we would say now",
        "The wait a customer asking now would be told, the same estimate the form and the phone menu give: "
        "from now (or, while the queue is closed, from its opening) until an agent of the queue is free for "
        "them. No estimate: nobody staffs the queue, or it never opens.",
    ),
    Column(
        "calls",
        "Calls in progress",
        "being called, put through or talking",
        "Requests of the queue being called now, being put through to an agent, or talking with one.",
    ),
    Column(
        "agents",
        "Agents",
        "of this queue, by status",
        "The queue's agents by status. An agent who serves several queues is counted in each of them.",
    ),
    Column(
        "scheduled",
        "Booked for later",
        "a later time, or a retry's back-off",
        "Callbacks waiting for a later time: a time the customer booked, or the back-off before calling again "
        "after a call that did not reach them. They move to Waiting callbacks when that time comes.",
    ),
    Column(
        "messages",
        "Messages to hear",
        "left by callers we cannot call back",
        "Messages left in the phone menu, out of hours or when nobody was free, by callers we cannot call back: "
        "a withheld number, a number on the do-not-call list or at its limits, or one with a callback already "
        "booked. Nobody dials them, so they are not waiting callbacks and count in no wait; a person should "
        "listen to each on its request's page and act on it.",
    ),
    Column(
        "failed",
        "Failed in the last hour",
        "ended without reaching the customer",
        "Requests of the queue that ended failed in the last 60 minutes: no call reached the customer in the "
        "attempts allowed, or the number could not be called (invalid, refused by the phone provider, or at "
        "its call limit). The alert links to them.",
    ),
)
# A queue's agents by status, in the order a supervisor reads them (static/board.js says the same).
AGENT_COUNTS = (
    ("available", "available"),
    ("reserved", "reserved for a call"),
    ("on_call", "on a call"),
    ("wrap_up", "wrapping up"),
    ("away", "away"),
    ("offline", "offline"),
)


def _words(state: LineNow) -> dict[str, Any]:
    """What the template needs to say the numbers the way static/board.js says them."""
    zone = ZoneInfo(state.timezone)
    now = state.at

    def ago(moment: datetime) -> str:
        return duration_words((now - moment).total_seconds())

    def wait(seconds: int | None) -> str:
        return "—" if seconds is None else duration_words(seconds)

    def agent_counts(queue: QueueNow) -> list[tuple[str, str, int]]:
        return [(status, label, queue.agents[status]) for status, label in AGENT_COUNTS if queue.agents.get(status)]

    def waited_since(queue: QueueNow) -> datetime:
        return now - timedelta(seconds=queue.longest_wait_seconds or 0)

    return {
        "queue_names": {q.name: q.display_name for q in state.queues},
        "waited_since": waited_since,
        "ago": ago,
        "at": lambda moment: local_time(moment, zone, now),
        "wait": wait,
        "status_words": STATUS_WORDS,
        "call_words": CALL_WORDS,
        "agent_counts": agent_counts,
        "columns": COLUMNS,
    }


@bp.get("")
@staff_required("supervisor")
def board() -> ResponseReturnValue:
    """The board page, with the line as it stands now (the script takes over from there)."""
    state = line_now(session(), clock().now())
    return render_template("board.html", state=state, data=state.as_json(), **_words(state))


@bp.get("/state")
@staff_required("supervisor")
def state() -> ResponseReturnValue:
    """The line as JSON, polled every second by the board; never cached, by the browser or a proxy."""
    response = jsonify(line_now(session(), clock().now()).as_json())
    response.headers["Cache-Control"] = "no-store"
    return response
