"""A dispatcher process that kills itself (SIGKILL) at a chosen dangerous point, for crash tests.

Run as `python tests/e2e/crashing_dispatcher.py POINT` with the app's settings in the environment.
POINT is one of:
  mid_claim     inside the claim transaction, after the agent row was taken, before commit
  after_claim   after the claim committed, before calls.create
  after_create  after calls.create returned, before the call SID was saved
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app import create_app  # noqa: E402
from callback import line as line_module  # noqa: E402
from core import db as core_db  # noqa: E402
from scheduler.runtime import build_jobs  # noqa: E402


def die() -> None:
    """No cleanup, no flush, no goodbye: exactly what a power cut or an OOM kill does."""
    os.kill(os.getpid(), signal.SIGKILL)


def main(point: str) -> None:
    """Run dispatch passes until the chosen point is reached, then die there."""
    app = create_app()
    jobs = build_jobs(app)
    dispatcher = jobs.dispatcher

    if point == "mid_claim":
        original_rows_changed = core_db.rows_changed
        calls = {"n": 0}

        def rows_changed_then_die(session: Any, statement: Any) -> int:
            changed = original_rows_changed(session, statement)
            calls["n"] += 1
            if calls["n"] == 1:  # the agent was reserved; the request not yet, nothing committed
                die()
            return changed

        line_module.rows_changed = rows_changed_then_die
    elif point == "after_claim":
        dispatcher.dial = lambda claim: die()  # type: ignore[method-assign]
    elif point == "after_create":
        telephony = dispatcher.telephony
        place_call = telephony.place_call

        def place_then_die(*args: Any, **kwargs: Any) -> Any:
            place_call(*args, **kwargs)
            die()

        telephony.place_call = place_then_die  # type: ignore[method-assign]
    else:
        raise SystemExit(f"unknown crash point {point!r}")
    for _ in range(50):
        dispatcher.run_once()
    raise SystemExit("the crash point was never reached")


if __name__ == "__main__":
    main(sys.argv[1])
