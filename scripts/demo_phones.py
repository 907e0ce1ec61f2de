"""Give the demo agents' virtual phones a person's behaviour once the sandbox answers (for `make run`)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from core.demo import DEMO_AGENTS  # noqa: E402

# Every agent leg is screened: a phone that answers and says nothing is a missed call, and the agent
# would go away. These accept (press 1), then talk for 90 telephone seconds.
ACCEPTING_AGENT = {"answer": "human", "answer_after": 3, "steps": [{"digits": "1"}], "hangup_after": 90}
DEMO_AGENT_ENDPOINTS = tuple(str(a["phone"]) if "phone" in a else f"client:{a['client']}" for a in DEMO_AGENTS)


def main(sandbox_url: str) -> None:
    """Wait up to 20 s for the sandbox, then set each demo agent's phone."""
    deadline = time.monotonic() + 20
    while True:
        try:
            requests.get(f"{sandbox_url}/sandbox/calls", timeout=2)
            break
        except requests.RequestException:
            if time.monotonic() > deadline:
                print(f"demo phones: the sandbox at {sandbox_url} did not answer", file=sys.stderr)
                return
            time.sleep(0.3)
    for endpoint in DEMO_AGENT_ENDPOINTS:
        requests.put(f"{sandbox_url}/sandbox/phones/{endpoint}", json=ACCEPTING_AGENT, timeout=5).raise_for_status()
    print(f"demo phones: {len(DEMO_AGENT_ENDPOINTS)} agents answer and press 1 to take their calls")


if __name__ == "__main__":
    main(sys.argv[1])
