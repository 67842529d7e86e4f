"""Clocks the terminal reads "now" from: the system clock, a running demo clock, a fixed one for tests.

The app never calls ``datetime.now`` itself: every tap passes the clock's `now` to the engine, so
the demo can serve a breakfast break at any hour and tests are deterministic.
"""

from __future__ import annotations

import time as monotonic
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    simulated: bool
    """True when the time shown is not the real time (the screen says so)."""

    def now(self) -> datetime:
        """An aware datetime."""
        ...


class SystemClock:
    simulated = False

    def now(self) -> datetime:
        return datetime.now(UTC)


class DemoClock:
    """Starts at `start` and runs at real speed from there."""

    simulated = True

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("demo clock needs an aware start time")
        self._start = start
        self._t0 = monotonic.monotonic()

    def now(self) -> datetime:
        return self._start + timedelta(seconds=monotonic.monotonic() - self._t0)


class FixedClock:
    """Stands still until moved: for tests and snapshots."""

    def __init__(self, at: datetime, *, simulated: bool = False) -> None:
        if at.tzinfo is None:
            raise ValueError("fixed clock needs an aware time")
        self.at = at
        self.simulated = simulated

    def now(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)
