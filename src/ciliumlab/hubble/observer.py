"""A node's Hubble observer: the ring buffer of recent flows and GetFlows semantics.

Events are appended as (event, enrichment) pairs — cheap enough to keep up with the datapath
— and turned into flow dicts only when read (and then cached on the entry). `get_flows`
implements the local observer's request semantics (flow-api.md §2.1): newest-N walking
backwards then streaming forward, `first`, `since`/`until`, filters, field masks, follow.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterator
from datetime import datetime

from .flow import Enrichment, FlowBuilder, timestamp
from .types import FilterError, FlowsRequest

DEFAULT_CAPACITY = 4095


class Entry:
    """One ring slot: the event, what the agent knew, and its sequence number on this node.

    The flow dict is rebuilt on each read instead of being cached: rings hold up to 65,535
    entries per node and most are never read, so memory goes to events, not dicts (the
    flow's uuid derives from the event itself, so every read yields the same flow)."""

    __slots__ = ("event", "enrichment", "builder")

    def __init__(self, event, enrichment: Enrichment, builder: FlowBuilder) -> None:
        self.event = event
        self.enrichment = enrichment
        self.builder = builder

    @property
    def time(self) -> float:
        return self.event.time

    @property
    def flow(self) -> dict:
        return self.builder.build(self.event, self.enrichment)


def compile_request_filters(request: FlowsRequest) -> Callable[[dict], bool]:
    if not request.whitelist and not request.blacklist:
        return lambda flow: True
    from .filters import compile_filters

    return compile_filters(request.whitelist, request.blacklist)


def to_datetime(ts: float):
    from datetime import UTC

    return datetime.fromtimestamp(ts, UTC)


class LocalObserver:
    """One node's Hubble server state (what the agent's observer serves on :4244)."""

    def __init__(self, node_name: str, builder: FlowBuilder, clock, capacity: int = DEFAULT_CAPACITY,
                 version: str = "") -> None:
        self.node_name = node_name
        self.builder = builder
        self.clock = clock
        self.version = version
        self.ring: deque[Entry] = deque(maxlen=capacity)
        self.capacity = capacity
        self.seen = 0
        self.started = clock.now()
        self.enabled = True
        self._cond = threading.Condition()
        self._waiting = 0  # followers blocked in get_flows; only then does add() notify
        self._listeners: list[Callable[[Entry], None]] = []

    # -- ingest -----------------------------------------------------------------------------------
    def add(self, event, enrichment: Enrichment) -> Entry | None:
        if not self.enabled:
            return None
        self.seen += 1
        entry = Entry(event, enrichment, self.builder)
        self.ring.append(entry)
        for listener in self._listeners:
            listener(entry)
        if self._waiting:
            with self._cond:
                self._cond.notify_all()
        return entry

    def subscribe(self, listener: Callable[[Entry], None]) -> Callable[[], None]:
        """Live entries (metrics handlers, exporters); returns an unsubscribe function."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def resize(self, capacity: int) -> None:
        self.capacity = capacity
        self.ring = deque(self.ring, maxlen=capacity)

    # -- GetFlows -------------------------------------------------------------------------------
    def entries(self, request: FlowsRequest) -> list[Entry]:
        """The non-follow part of a GetFlows answer, oldest first."""
        if request.first and request.follow:
            raise FilterError("first cannot be specified with follow")
        match = compile_request_filters(request)
        since = request.since.timestamp() if request.since else None
        until = request.until.timestamp() if request.until else None
        ring = list(self.ring)
        picked: list[Entry] = []
        if request.follow and request.number == 0 and since is None:
            return []
        if request.first:
            for entry in ring:
                if since is not None and entry.time < since:
                    continue
                if until is not None and entry.time > until:
                    break
                if match(entry.flow):
                    picked.append(entry)
                    if request.number and len(picked) >= request.number:
                        break
            return picked
        for entry in reversed(ring):
            if since is not None and entry.time < since:
                break
            if until is not None and entry.time > until:
                continue
            if match(entry.flow):
                picked.append(entry)
                if request.number and len(picked) >= request.number and since is None:
                    break
        picked.reverse()
        return picked

    def get_flows(self, request: FlowsRequest, stop: threading.Event | None = None) -> Iterator[dict]:
        """GetFlowsResponse dicts. With follow, keeps yielding new flows until `stop` is set."""
        mask = request.field_mask
        last = None
        for entry in self.entries(request):
            last = entry
            yield self.response(entry, mask)
        if not request.follow:
            return
        match = compile_request_filters(request)
        seen_upto = self.seen
        while stop is None or not stop.is_set():
            with self._cond:
                self._waiting += 1
                try:
                    if self.seen == seen_upto:
                        self._cond.wait(timeout=0.25)
                finally:
                    self._waiting -= 1
            new = self.seen - seen_upto
            if new <= 0:
                continue
            fresh = list(self.ring)[-min(new, len(self.ring)):]
            seen_upto = self.seen
            for entry in fresh:
                if entry is last:
                    continue
                if match(entry.flow):
                    yield self.response(entry, mask)
        return

    def response(self, entry: Entry, mask: list[str] | None = None) -> dict:
        flow = entry.flow
        if mask:
            from .grpc.convert import apply_field_mask  # the Flow schema decides what a path means

            flow = apply_field_mask(flow, mask)
        return {"flow": flow, "node_name": self.node_name, "time": flow.get("time") or timestamp(entry.time)}

    # -- status ---------------------------------------------------------------------------------
    def server_status(self) -> dict:
        uptime = max(0.0, self.clock.now() - self.started)
        status = {"num_flows": str(len(self.ring)), "max_flows": str(self.capacity), "seen_flows": str(self.seen),
                  "uptime_ns": str(int(uptime * 1e9))}
        if self.version:
            status["version"] = self.version
        rate = self.flows_rate()
        if rate:
            status["flows_rate"] = rate
        return status

    def flows_rate(self, window: float = 60.0) -> float:
        """Flows per second over the last minute (what `hubble status` prints as Flows/s)."""
        now = self.clock.now()
        count = 0
        for entry in reversed(self.ring):
            if now - entry.time > window:
                break
            count += 1
        span = min(window, max(now - self.started, 1e-9))
        return count / span if count else 0.0

    def get_nodes(self) -> list[dict]:
        raise NotImplementedError("GetNodes is only implemented by Hubble Relay")

    def get_namespaces(self) -> list[dict]:
        return namespaces_of(self.ring, self.clock.now())


def namespaces_of(entries, now: float) -> list[dict]:
    """Namespaces that appeared in flows during the last hour, sorted (GetNamespaces)."""
    seen: set[tuple[str, str]] = set()
    for entry in entries:
        if now - entry.time > 3600:
            continue
        for side in (entry.enrichment.source, entry.enrichment.destination):
            ns = side.get("namespace") if side else None
            if ns:
                seen.add((side.get("cluster_name", ""), ns))
    return [{"cluster": c, "namespace": n} if c else {"namespace": n} for c, n in sorted(seen)]
