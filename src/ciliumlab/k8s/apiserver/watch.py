"""Watch: the store's change feed as the apiserver's newline-delimited JSON event stream.

The hub subscribes once to `Store.subscribe` and keeps a bounded history of (resourceVersion,
type, object), so a client that LISTs at RV N and then WATCHes from N gets every change in
between (kubectl's `rollout status`, `delete --wait` and `wait` all do exactly that). A watch
from an RV older than the history gets a 410 `Expired` ERROR event, which makes client-go relist.
The store notifies from whichever thread holds the lab lock; watchers are woken on their own
event loops.
"""

from __future__ import annotations

import asyncio
import copy
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

from ..store import Store


@dataclass(frozen=True)
class Event:
    rv: int
    type: str  # ADDED | MODIFIED | DELETED
    kind: str
    obj: dict[str, Any]


class WatchHub:
    def __init__(self, store: Store, history: int = 20000) -> None:
        self._store = store
        self._events: deque[Event] = deque(maxlen=history)
        self._oldest_rv = store.resource_version  # every change after this RV is in the history
        self._guard = threading.Lock()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        store.subscribe(self._on_change)

    def _on_change(self, event: str, obj: dict[str, Any], old: dict[str, Any] | None) -> None:
        obj = copy.deepcopy(obj)
        if event == "DELETED":
            # The store bumps its counter for a delete without stamping the (gone) object.
            obj.setdefault("metadata", {})["resourceVersion"] = str(self._store.resource_version)
        rv = int(obj.get("metadata", {}).get("resourceVersion") or self._store.resource_version)
        with self._guard:
            if len(self._events) == self._events.maxlen:
                self._oldest_rv = self._events[0].rv
            self._events.append(Event(rv, event, obj.get("kind", ""), obj))
            waiters = list(self._waiters)
        for loop, flag in waiters:
            try:
                loop.call_soon_threadsafe(flag.set)
            except RuntimeError:  # loop closed
                pass

    def register(self, flag: asyncio.Event) -> None:
        with self._guard:
            self._waiters.add((asyncio.get_running_loop(), flag))

    def unregister(self, flag: asyncio.Event) -> None:
        with self._guard:
            self._waiters = {w for w in self._waiters if w[1] is not flag}

    def since(self, rv: int, kind: str) -> list[Event] | None:
        """Events of `kind` after `rv`, or None when `rv` is older than the kept history."""
        with self._guard:
            if rv < self._oldest_rv:
                return None
            return [e for e in self._events if e.rv > rv and e.kind == kind]
