"""Hubble over gRPC for the served lab: the relay and one server per node, on loopback ports.

As in Cilium, each node's server speaks TLS with the `hubble-server-certs` certificate and asks
clients for a certificate signed by `cilium-ca`; the relay dials them with
`hubble-relay-client-certs` (mTLS) and serves plaintext itself, like the chart's default
(`hubble.relay.tls.server.enabled=false`). The PEMs are written from the Secrets into the state
dir at start; without the Secrets (Hubble TLS disabled) everything is plaintext.

Every snapshot read of a node server (GetFlows without --follow, ServerStatus, GetNamespaces)
takes the lab lock, so it never sees the engine half-way through a write; a --follow stream only
takes the history under it and then waits for new flows without holding anything. The relay
holds no lock of its own: it only talks to the node servers.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path

from ..hubble.grpc import serve_observer
from ..hubble.grpc.peer_relay import ClientTLS, PeerRelay
from ..hubble.grpc.server import ServerTLS
from ..k8s import hubble_tls


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


@dataclass(frozen=True)
class HubbleTLS:
    server: ServerTLS  # what the agents' Hubble servers present and require
    relay_client: ClientTLS  # what hubble-relay presents to them

    @property
    def ca_file(self) -> str:
        return self.relay_client.ca_file


def write_tls(lab, directory: Path) -> HubbleTLS | None:
    """The Hubble Secrets' PEMs as files under `directory` (keys 0600), or None without them."""
    def secret(name: str) -> dict[str, bytes] | None:
        obj = lab.store.get("Secret", "kube-system", name)
        data = (obj or {}).get("data") or {}
        return {k: base64.b64decode(v) for k, v in data.items()} if data else None

    ca, server, client = (secret(n) for n in hubble_tls.SECRET_NAMES)
    if not (ca and server and client):
        return None
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    files = {"ca.crt": ca["ca.crt"], "server.crt": server["tls.crt"], "server.key": server["tls.key"],
             "relay-client.crt": client["tls.crt"], "relay-client.key": client["tls.key"]}
    for name, content in files.items():
        path = directory / name
        path.write_bytes(content)
        path.chmod(0o600)
    d = str(directory)
    return HubbleTLS(ServerTLS(f"{d}/server.crt", f"{d}/server.key", (f"{d}/ca.crt",)),
                     ClientTLS(f"{d}/relay-client.crt", f"{d}/relay-client.key", f"{d}/ca.crt"))


def serve_hubble(lab, lock, relay_port: int, node_ports: dict[str, int],
                 tls: HubbleTLS | None = None) -> tuple[object, dict[str, object]]:
    """Start the relay on 127.0.0.1:`relay_port` and each node's server on its port (0 = any free
    port), node servers with `tls` (mTLS) when given. Returns (relay server, {node: server});
    each has `.port`, the relay `.source` (its PeerRelay). Stops what it started on error."""
    version = lab.hubble.version
    started: list = []
    try:
        nodes: dict[str, object] = {}
        addresses: dict[str, str] = {}

        def peers() -> list[dict]:
            return [{"name": n, "address": a} for n, a in sorted(addresses.items())]

        for node, port in node_ports.items():
            server = serve_observer(LockedSource(lab.hubble.observers[node], lock), f"127.0.0.1:{port}",
                                    version=version, peers=peers, tls=tls.server if tls else None)
            started.append(server)
            nodes[node] = server
            addresses[node] = f"127.0.0.1:{server.port}"

        def is_up(node: str) -> bool:  # what the peer service tells the relay (agent running, Hubble on)
            return node not in lab.hubble.relay.unavailable and lab.hubble.observers[node].enabled

        source = PeerRelay(addresses, clock=lab.clock, tls=tls.relay_client if tls else None,
                           cluster=lab.cluster_config.cluster_name, version=version, is_up=is_up,
                           peer_addresses=lab.hubble.relay.addresses)
        relay = serve_observer(source, f"127.0.0.1:{relay_port}", relay=True, version=version)
        relay.source = source
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


