"""One door into the lab engine.

The engine (store, controllers, Cilium control plane) is synchronous and not thread-safe, so
every call into it — from HTTP handlers here and from the exec/port-forward streams added
later — goes through one lock. A `threading.RLock` is taken in a worker thread so a long
engine call never stalls the event loop (watch streams keep flowing); an `asyncio.Lock` is
taken on the loop itself, for embedders that keep everything on one thread.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


class LabGate:
    def __init__(self, lock: threading.RLock | asyncio.Lock | None = None) -> None:
        self.lock = lock if lock is not None else threading.RLock()

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `fn(*args, **kwargs)` holding the lab lock."""
        if isinstance(self.lock, asyncio.Lock):
            async with self.lock:
                return fn(*args, **kwargs)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, functools.partial(self._locked, fn, *args, **kwargs))

    def _locked(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        with self.lock:  # type: ignore[union-attr]
            return fn(*args, **kwargs)
