"""Lab time.

The virtual clock lets tests run the lab's slow behaviours (a dropped SYN retransmitted until
curl gives up, `sleep 1` in a loop) instantly: nothing sleeps, time simply advances. The wall
clock is what the served lab uses, so a user sees curl hang like it does in a real cluster.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

# A fixed, realistic start so outputs (ages, flow times) are reproducible under the virtual clock.
VIRTUAL_EPOCH = 1_764_144_000.0  # 2025-11-26T08:00:00Z


class Clock(Protocol):
    def now(self) -> float: ...
    def sleep(self, seconds: float) -> None: ...
    def monotonic(self) -> float: ...


class VirtualClock:
    """Time that only moves when someone sleeps or advances it."""

    def __init__(self, start: float = VIRTUAL_EPOCH) -> None:
        self._now = start
        self._start = start

    def now(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return self._now - self._start

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._now += seconds

    def advance(self, seconds: float) -> None:
        self.sleep(seconds)

    def tick(self, seconds: float = 0.000_050) -> float:
        """Advance by a small step (a packet's worth of time) and return the new time."""
        self._now += seconds
        return self._now


class WallClock:
    """Real time; `tick` is a no-op because real time moves by itself.

    `wait(seconds)` is how the clock lets time pass (`sleep`, `advance`): `time.sleep` unless an
    embedder replaces it. The served lab sets it to release the lab lock while it waits, so a
    dropped SYN waited out until `--connect-timeout` does not freeze every other API request.
    """

    def __init__(self, wait: Callable[[float], object] | None = None) -> None:
        self.wait: Callable[[float], object] = wait if wait is not None else time.sleep

    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.wait(seconds)

    def advance(self, seconds: float) -> None:
        self.sleep(seconds)

    def tick(self, seconds: float = 0.0) -> float:
        return time.time()


def make_clock(kind: str) -> VirtualClock | WallClock:
    if kind == "virtual":
        return VirtualClock()
    if kind == "wall":
        return WallClock()
    raise ValueError(f'clock must be "virtual" or "wall", not {kind!r}')
