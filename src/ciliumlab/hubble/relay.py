"""Hubble Relay: one FlowSource over every node's observer, merged by time.

Like the real relay it applies `number` per node, sorts what the nodes return by flow time,
and starts a stream with a node-status event naming the connected nodes; nodes whose agent
is down are reported as unavailable instead of failing the request.
"""

from __future__ import annotations

import heapq
import queue
import threading
from collections.abc import Iterator

from .flow import timestamp
from .observer import LocalObserver, compile_request_filters, namespaces_of
from .types import FlowsRequest


class Relay:
    def __init__(self, observers: dict[str, LocalObserver], clock, version: str = "", cluster: str = "default",
                 addresses: dict[str, str] | None = None) -> None:
        self.observers = observers
        self.clock = clock
        self.version = version
        self.cluster = cluster
        self.addresses = addresses or {}
        self.unavailable: set[str] = set()
        self.started = clock.now()

    def available(self) -> dict[str, LocalObserver]:
        return {n: o for n, o in sorted(self.observers.items()) if n not in self.unavailable and o.enabled}

    def _status_event(self, state: str, nodes: list[str], message: str = "") -> dict:
        status = {"state_change": state, "node_names": nodes}
        if message:
            status["message"] = message
        return {"node_status": status, "time": timestamp(self.clock.now())}

    def get_flows(self, request: FlowsRequest, stop: threading.Event | None = None) -> Iterator[dict]:
        nodes = self.available()
        compile_request_filters(request)  # invalid filters fail the request before anything streams
        yield self._status_event("NODE_CONNECTED", list(nodes))
        missing = sorted(set(self.observers) - set(nodes))
        if missing:
            yield self._status_event("NODE_UNAVAILABLE", missing)
        per_node = [[(e.time, i, node, e) for e in obs.entries(request)] for i, (node, obs) in enumerate(nodes.items())]
        last_time = 0.0
        for when, _, node, entry in heapq.merge(*per_node):
            last_time = when
            yield nodes[node].response(entry, request.field_mask)
        if request.follow:
            yield from self._follow(nodes, request, stop, last_time)

    def _follow(self, nodes: dict[str, LocalObserver], request: FlowsRequest, stop, after: float) -> Iterator[dict]:
        match = compile_request_filters(request)
        inbox: queue.Queue = queue.Queue()
        unsubscribe = [obs.subscribe(lambda entry, node=node: inbox.put((node, entry))) for node, obs in nodes.items()]
        try:
            while stop is None or not stop.is_set():
                try:
                    node, entry = inbox.get(timeout=0.25)
                except queue.Empty:
                    continue
                if entry.time > after and match(entry.flow):
                    yield nodes[node].response(entry, request.field_mask)
        finally:
            for undo in unsubscribe:
                undo()

    def server_status(self) -> dict:
        nodes = self.available()
        totals = {"num_flows": 0, "max_flows": 0, "seen_flows": 0}
        for obs in nodes.values():
            status = obs.server_status()
            for key in totals:
                totals[key] += int(status[key])
        status = {key: str(value) for key, value in totals.items()}
        status["uptime_ns"] = str(int(max(0.0, self.clock.now() - self.started) * 1e9))
        status["num_connected_nodes"] = len(nodes)
        status["num_unavailable_nodes"] = len(self.observers) - len(nodes)
        missing = sorted(set(self.observers) - set(nodes))
        if missing:
            status["unavailable_nodes"] = missing
        if self.version:
            status["version"] = self.version
        rate = sum(obs.flows_rate() for obs in nodes.values())
        if rate:
            status["flows_rate"] = rate
        return status

    def get_nodes(self) -> list[dict]:
        out = []
        for name, obs in sorted(self.observers.items()):
            up = name not in self.unavailable and obs.enabled
            node = {"name": name if self.cluster == "default" else f"{self.cluster}/{name}"}
            if self.version:
                node["version"] = self.version
            node["address"] = self.addresses.get(name, "")
            node["state"] = "NODE_CONNECTED" if up else "NODE_UNAVAILABLE"
            node["tls"] = {"enabled": True, "server_name": f"{name.replace('.', '-')}.{self.cluster}.hubble-grpc.cilium.io"}
            if up:
                status = obs.server_status()
                node["uptime_ns"] = status["uptime_ns"]
                node["num_flows"] = status["num_flows"]
                node["max_flows"] = status["max_flows"]
                node["seen_flows"] = status["seen_flows"]
            out.append(node)
        return out

    def get_namespaces(self) -> list[dict]:
        now = self.clock.now()
        seen = {tuple(sorted(ns.items())) for obs in self.available().values() for ns in namespaces_of(obs.ring, now)}
        return sorted((dict(item) for item in seen), key=lambda d: (d.get("cluster", ""), d["namespace"]))
