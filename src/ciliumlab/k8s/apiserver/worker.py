"""Running a pod command off the event loop, holding the lab lock only while it computes.

An exec runs `run_command` in a worker thread that holds the gate's lock (the engine is not
thread-safe), but a served exec may run for minutes (`while true; do curl …; sleep 1; done`).
`ServedNet` wraps the pod's `PodNet` so that:

- `sleep()` on the wall clock releases the lock while it waits, so other API requests (and
  other execs) proceed during a `sleep 1`; it wakes early when the exec is cancelled;
- once `cancel` is set (Ctrl-C, client gone), `now()` reports the exec's deadline, so the shell's
  own deadline checks (`check_deadline`, loop ticks, `ctx.sleep`) unwind the script with
  `DeadlineExceeded` — no change to the shell was needed.

Time spent *inside* the datapath (a dropped SYN waited out until `--connect-timeout`) still holds
the lock: the engine is mid-operation then and must not be re-entered.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from ...clock import WallClock

#: The deadline of a served exec that nothing else limits (lab seconds from its start).
FAR_FUTURE = 10 * 365 * 86400.0


class GateHold:
    """Acquire/release the gate's lock from a worker thread (threading lock or asyncio.Lock)."""

    def __init__(self, lock: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.lock = lock
        self.loop = loop

    def acquire(self) -> None:
        if isinstance(self.lock, asyncio.Lock):
            asyncio.run_coroutine_threadsafe(self.lock.acquire(), self.loop).result()
        else:
            self.lock.acquire()

    def release(self) -> None:
        if isinstance(self.lock, asyncio.Lock):
            self.loop.call_soon_threadsafe(self.lock.release)
        else:
            self.lock.release()

    def __enter__(self) -> GateHold:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class ServedNet:
    """A `PodNet` proxy for one served exec (see the module docstring)."""

    def __init__(self, net: Any, hold: GateHold, cancel: threading.Event, clock: Any) -> None:
        self._net = net
        self._hold = hold
        self._cancel = cancel
        self._wall = isinstance(clock, WallClock)
        self.deadline = net.now() + FAR_FUTURE

    def __getattr__(self, name: str) -> Any:
        return getattr(self._net, name)

    def now(self) -> float:
        if self._cancel.is_set():
            return self.deadline
        return self._net.now()

    def sleep(self, seconds: float) -> None:
        if self._cancel.is_set() or seconds <= 0:
            return
        if not self._wall:
            self._net.sleep(seconds)  # virtual time: advancing it is instant
            return
        self._hold.release()
        try:
            self._cancel.wait(seconds)
        finally:
            self._hold.acquire()
