"""Hubble Relay as Cilium deploys it: a client of every node's Hubble server, over mTLS.

The embedded lab merges its nodes' rings in-process (`hubble.relay.Relay`); the served lab runs
this instead, so the relay really dials `<node>:4244` with the `hubble-relay-client-certs`
certificate and checks each server's `*.<cluster>.hubble-grpc.cilium.io` certificate against
`cilium-ca`, as hubble-relay does. Requests are forwarded to each node unchanged (`number`
applies per node), answers are merged by flow time, nodes that cannot be reached are reported
`NODE_UNAVAILABLE` instead of failing the request.
"""

from __future__ import annotations

import heapq
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

from ..flow import timestamp
from ..observer import compile_request_filters
from ..types import FlowsRequest
from .client import HubbleClient, RPCError, connect


@dataclass(frozen=True)
class ClientTLS:
    """What hubble-relay mounts: the client pair and the CA the node servers' certs chain to."""

    cert_file: str
    key_file: str
    ca_file: str


def server_name(node: str, cluster: str) -> str:
    """The name each agent's Hubble certificate is valid for (`<node>.<cluster>.hubble-grpc.cilium.io`)."""
    return f"{node.replace('.', '-')}.{cluster}.hubble-grpc.cilium.io"


def flow_time(response: dict) -> float:
    """Seconds of a response's RFC3339 `time` (its flow's time) for merging."""
    text = response.get("time") or ""
    if not text:
        return 0.0
    base, _, frac = text.rstrip("Z").partition(".")
    seconds = datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp()
    return seconds + (int(frac.ljust(9, "0")[:9]) / 1e9 if frac else 0.0)


class PeerRelay:
    """A FlowSource over the nodes' gRPC servers (`addresses`: node -> host:port)."""

    def __init__(self, addresses: dict[str, str], *, clock, tls: ClientTLS | None, cluster: str = "default",
                 version: str = "", is_up: Callable[[str], bool] = lambda node: True,
                 timeout: float = 5.0, peer_addresses: dict[str, str] | None = None) -> None:
        self.addresses = dict(sorted(addresses.items()))
        self.peer_addresses = peer_addresses or {}  # what GetNodes shows (the node's IP:4244 in the cluster)
        self.clock = clock
        self.tls = tls
        self.cluster = cluster
        self.version = version
        self.is_up = is_up  # the peer service: is the node's agent (and its Hubble) running?
        self.timeout = timeout
        self.started = clock.now()
        self._clients: dict[str, HubbleClient] = {}
        self._lock = threading.Lock()

    # -- connections ----------------------------------------------------------------------------
    def _client(self, node: str) -> HubbleClient:
        with self._lock:
            client = self._clients.get(node)
            if client is None:
                address = self.addresses[node]
                if self.tls is None:
                    client = connect(address, timeout=self.timeout)
                else:
                    client = connect(address, timeout=self.timeout, tls=True, ca_files=(self.tls.ca_file,),
                                     cert=self.tls.cert_file, key=self.tls.key_file,
                                     server_name=server_name(node, self.cluster))
                self._clients[node] = client
            return client

    def _reachable(self) -> tuple[dict[str, HubbleClient], list[str]]:
        up: dict[str, HubbleClient] = {}
        down: list[str] = []
        for node in self.addresses:
            if not self.is_up(node):
                down.append(node)
                continue
            try:
                up[node] = self._client(node)
            except ConnectionError:
                down.append(node)
        return up, down

    def close(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()

    # -- GetFlows -------------------------------------------------------------------------------
    def _status_event(self, state: str, nodes: list[str]) -> dict:
        return {"node_status": {"state_change": state, "node_names": nodes}, "time": timestamp(self.clock.now())}

    def get_flows(self, request: FlowsRequest, stop: threading.Event | None = None) -> Iterator[dict]:
        compile_request_filters(request)  # invalid filters fail before anything streams
        nodes, down = self._reachable()
        yield self._status_event("NODE_CONNECTED", list(nodes))
        if down:
            yield self._status_event("NODE_UNAVAILABLE", down)
        if not request.follow:
            per_node = []
            for i, client in enumerate(nodes.values()):
                try:
                    per_node.append([(flow_time(r), i, n, r) for n, r in enumerate(client.get_flows(request))])
                except RPCError:
                    continue
            for *_, response in heapq.merge(*per_node):
                yield response
            return
        yield from self._follow(nodes, request, stop)

    def _follow(self, nodes: dict[str, HubbleClient], request: FlowsRequest, stop) -> Iterator[dict]:
        """Each node streams (history, then live flows) into one queue, read in arrival order."""
        inbox: queue.Queue = queue.Queue()
        streams = [client.get_flows(request) for client in nodes.values()]

        def pump(stream) -> None:
            try:
                for response in stream:
                    inbox.put(response)
            except RPCError:
                pass

        for stream in streams:
            threading.Thread(target=pump, args=(stream,), daemon=True).start()
        try:
            while stop is None or not stop.is_set():
                try:
                    yield inbox.get(timeout=0.25)
                except queue.Empty:
                    continue
        finally:
            for stream in streams:
                stream.stop()

    # -- the other RPCs -------------------------------------------------------------------------
    def server_status(self) -> dict:
        nodes, down = self._reachable()
        totals = {"num_flows": 0, "max_flows": 0, "seen_flows": 0}
        rate = 0.0
        for client in nodes.values():
            status = client.server_status()
            for key in totals:
                totals[key] += int(status.get(key, 0))
            rate += float(status.get("flows_rate", 0.0))
        status = {key: str(value) for key, value in totals.items()}
        status["uptime_ns"] = str(int(max(0.0, self.clock.now() - self.started) * 1e9))
        status["num_connected_nodes"] = len(nodes)
        status["num_unavailable_nodes"] = len(down)
        if down:
            status["unavailable_nodes"] = down
        if self.version:
            status["version"] = self.version
        if rate:
            status["flows_rate"] = rate
        return status

    def get_nodes(self) -> list[dict]:
        nodes, _ = self._reachable()
        out = []
        for name, address in self.addresses.items():
            node = {"name": name if self.cluster == "default" else f"{self.cluster}/{name}"}
            if self.version:
                node["version"] = self.version
            node["address"] = self.peer_addresses.get(name, address)
            node["state"] = "NODE_CONNECTED" if name in nodes else "NODE_UNAVAILABLE"
            node["tls"] = {"enabled": self.tls is not None, "server_name": server_name(name, self.cluster)}
            if name in nodes:
                status = nodes[name].server_status()
                for key in ("uptime_ns", "num_flows", "max_flows", "seen_flows"):
                    node[key] = status.get(key, "0")
            out.append(node)
        return out

    def get_namespaces(self) -> list[dict]:
        nodes, _ = self._reachable()
        seen = {tuple(sorted(ns.items())) for client in nodes.values() for ns in client.get_namespaces()}
        return sorted((dict(item) for item in seen), key=lambda d: (d.get("cluster", ""), d["namespace"]))
