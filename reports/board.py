"""The live board at /board (supervisors and admins): the line now, drawn once here and kept current by
static/board.js from /board/state every second.

Both read `reports.live.line_now`, the one reader of the line, so the first paint and every poll agree.
"""

from __future__ import annotations

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
# A queue's agents by status, in the order a supervisor reads them (static/board.js says the same).
AGENT_COUNTS = (
    ("available", "available"),
    ("reserved", "reserved for a call"),
    ("on_call", "on a call"),
    ("wrap_up", "wrapping up"),
    ("away", "away"),
    ("offline", "signed out"),
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
