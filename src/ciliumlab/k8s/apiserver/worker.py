"""Running a pod command off the event loop, holding the lab lock only while it computes.

An exec runs `run_command` in a worker thread that holds the gate's lock (the engine is not
thread-safe), but a served exec may run for minutes (`while true; do curl …; sleep 1; done`).
`ServedNet` wraps the pod's `PodNet` so that:

- `sleep()` on the wall clock releases the lock while it waits, so other API requests (and
  other execs) proceed during a `sleep 1`; it wakes early when the exec is cancelled;
- once `cancel` is set (Ctrl-C, client gone), `now()` reports the exec's deadline, so the shell's
  own deadline checks (`check_deadline`, loop ticks, `ctx.sleep`) unwind the script with
  `DeadlineExceeded` — no change to the shell was needed.

Time spent *inside* the datapath (a dropped SYN waited out until `--connect-timeout`, a DNS
query timing out) goes through the wall clock's `wait` hook, which `make_app` points at
`releasing_wait(lock)`: the waiting thread steps out of every level of the lab lock it holds,
sleeps (waking early when its exec is cancelled) and takes them back. The engine is mid-operation
then — exactly like a kernel with a SYN in flight: other requests read and write the cluster
meanwhile, and a policy applied during the wait governs the retransmissions that follow.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any

from ...clock import WallClock

#: The deadline of a served exec that nothing else limits (lab seconds from its start).
FAR_FUTURE = 10 * 365 * 86400.0


_current = threading.local()


def current_cancel() -> threading.Event | None:
    """The cancel event of the served exec running on this thread, if any."""
    return getattr(_current, "cancel", None)


def releasing_wait(lock: Any) -> Callable[[float], None]:
    """A `WallClock.wait` that releases the lab lock around the wait when the caller holds it.

    Re-entrancy aware: every level the thread holds is released and restored (`CommitLock`'s
    `release_all`/`restore`, or a `threading.RLock`'s save/restore as `threading.Condition` uses).
    A thread that does not hold the lock simply sleeps. A served exec's cancel (Ctrl-C, client
    gone) ends the wait early."""

    def wait(seconds: float) -> None:
        if seconds <= 0:
            return
        cancel = current_cancel()
        if hasattr(lock, "release_all"):
            depth = lock.release_all()
            try:
                _pause(seconds, cancel)
            finally:
                lock.restore(depth)
        elif hasattr(lock, "_is_owned") and lock._is_owned():
            saved = lock._release_save()
            try:
                _pause(seconds, cancel)
            finally:
                lock._acquire_restore(saved)
        else:
            _pause(seconds, cancel)

    return wait


def _pause(seconds: float, cancel: threading.Event | None) -> None:
    if cancel is None:
        time.sleep(seconds)
    else:
        cancel.wait(seconds)


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
        _current.cancel = cancel  # the clock's waiter wakes early on it (see `releasing_wait`)

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
