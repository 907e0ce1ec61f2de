"""Demo orders and returns for `make run`: every order status and every return status, loaded idempotently."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from core.clock import Clock, SystemClock
from orders.importer import import_file

DEMO_FILE = Path(__file__).with_name("demo.jsonl")
# The demo caller: dial in from this number and the menu offers their recent orders first.
DEMO_CUSTOMER = "+12015550123"


def load_demo_orders(session: Session, clock: Clock | None = None) -> int:
    """Upsert the demo orders and returns (safe to run again); returns how many records were loaded."""
    summary = import_file(session, DEMO_FILE, clock or SystemClock())
    if summary.errors:
        # The file ships with the code: a bad line is a bug to fix here, not an operator's problem.
        raise ValueError(f"{DEMO_FILE.name}: " + "; ".join(str(error) for error in summary.errors))
    return summary.orders + summary.returns
