"""On hold, a caller hears their place about every 45 seconds, and only when it has changed; music between."""

from __future__ import annotations

from typing import Any

from tests.e2e.conftest import System
from tests.e2e.test_ivr_calls import AGENT, FINAL, shop, start_call

__all__ = ["shop"]

FIRST = "+12015550171"
SECOND = "+12015550172"


def _hold_part(call: dict[str, Any]) -> list[dict[str, Any]]:
    timeline = call["timeline"]
    start = next(i for i, e in enumerate(timeline) if e["type"] == "enqueue")
    return timeline[start:]


def test_the_place_is_announced_when_it_changes_with_about_45_seconds_of_music_between(shop: System) -> None:
    shop.phone(FIRST, answer="human", hangup_after=180)  # gives up after about two minutes on hold
    shop.phone(SECOND, answer="human", hangup_after=360)
    shop.add_agent(AGENT, status="away")  # on a break for the whole test: the callers may hold
    first = start_call(shop, FIRST, [{"digits": "0"}, {"digits": "3"}])
    shop.wait(lambda: any(e["type"] == "enqueue" for e in shop.call(first)["timeline"]), message="first not holding")
    second = start_call(shop, SECOND, [{"digits": "0"}, {"digits": "3"}])
    shop.wait(lambda: shop.call(second)["status"] in FINAL, timeout=90, message="the second holder never hung up")

    hold = _hold_part(shop.call(second))
    said = [e["text"] for e in hold if e["type"] == "say"]
    plays = [e for e in hold if e["type"] == "play"]
    assert said[0] == "Thanks for holding. You're number 2 in line."
    assert "You're next in line." in said  # the first caller left the line
    assert sum("Thanks for holding" in s for s in said) == 1
    assert all(before != after for before, after in zip(said, said[1:], strict=False))  # nothing said twice running
    # Music between announcements, about 45 telephone seconds each time the wait document is fetched ...
    assert plays and all(40 <= p["seconds"] * p["loop"] <= 50 for p in plays)
    # ... and more of it than announcements: a loop where nothing changed is music alone.
    assert len(plays) > len(said)
