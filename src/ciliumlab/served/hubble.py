"""Hubble over gRPC for the served lab: the relay and one server per node, on loopback ports.

Every snapshot read (GetFlows without --follow, ServerStatus, GetNodes, GetNamespaces) takes the
lab lock, so it never sees the engine half-way through a write; a --follow stream only takes
the history under it and then waits for new flows without holding anything.
"""

from __future__ import annotations

from ..hubble.grpc import serve_observer


class LockedSource:
    """A FlowSource whose reads hold `lock` (the lab lock)."""

    def __init__(self, source, lock) -> None:
        self._source = source
        self._lock = lock

    def get_flows(self, request, stop=None):
        if request.follow:
            yield from self._source.get_flows(request, stop=stop)
            return
        with self._lock:
            responses = list(self._source.get_flows(request))
        yield from responses

    def server_status(self) -> dict:
        with self._lock:
            return self._source.server_status()

    def get_nodes(self) -> list[dict]:
        with self._lock:
            return self._source.get_nodes()

    def get_namespaces(self) -> list[dict]:
        with self._lock:
            return self._source.get_namespaces()

    def __getattr__(self, name: str):
        return getattr(self._source, name)


def serve_hubble(lab, lock, relay_port: int, node_ports: dict[str, int]) -> tuple[object, dict[str, object]]:
    """Start the relay on 127.0.0.1:`relay_port` and each node's server on its port (0 = any free
    port). Returns (relay server, {node: server}); each has `.port`. Stops what it started on error."""
    version = lab.hubble.version
    started: list = []
    try:
        nodes: dict[str, object] = {}
        addresses: dict[str, str] = {}

        def peers() -> list[dict]:
            return [{"name": n, "address": a} for n, a in sorted(addresses.items())]

        for node, port in node_ports.items():
            server = serve_observer(LockedSource(lab.hubble.observers[node], lock), f"127.0.0.1:{port}",
                                    version=version, peers=peers)
            started.append(server)
            nodes[node] = server
            addresses[node] = f"127.0.0.1:{server.port}"
        relay = serve_observer(LockedSource(lab.hubble.relay, lock), f"127.0.0.1:{relay_port}", relay=True,
                               version=version)
        started.append(relay)
        return relay, nodes
    except BaseException:
        for server in started:
            server.stop(None)
        raise


def stop_all(servers: list, grace: float | None = 0.5) -> None:
    events = [s.stop(grace) for s in servers]
    for event in events:
        event.wait(5)


