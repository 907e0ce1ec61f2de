"""Scaled time: the sandbox runs every ring, pause and timeout SANDBOX_SPEED times faster."""

from __future__ import annotations

import time


class ScaledClock:
    """Converts between simulated seconds (what Twilio would take) and real seconds (what we wait)."""

    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("SANDBOX_SPEED must be positive")
        self.speed = speed

    def real(self, simulated_seconds: float) -> float:
        """Real seconds to wait for `simulated_seconds` of telephone time."""
        return simulated_seconds / self.speed

    def simulated(self, real_seconds: float) -> float:
        """Telephone seconds that `real_seconds` of waiting stood for."""
        return real_seconds * self.speed

    def monotonic(self) -> float:
        """A real monotonic instant, for deadlines."""
        return time.monotonic()
