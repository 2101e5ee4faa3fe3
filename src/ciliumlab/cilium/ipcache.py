"""The IP cache: which identity (and endpoint, node) an address belongs to, as a node sees it.

Host and node addresses are relative to the viewer: a node's own IPs are `host` (1), another
node's are `remote-node` (6) — or `kube-apiserver` (7) for the control-plane node. Addresses
outside the cluster resolve to the most specific CIDR identity a policy asked for, else
`world` (2).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from .identity import HEALTH, HOST, KUBE_APISERVER, REMOTE_NODE, WORLD, Identity, IdentityAllocator


@dataclass(slots=True)
class IPEntry:
    ip: str
    kind: str  # "pod" | "health" | "node" | "router"
    node: str
    identity: int  # for pods; for node/router the viewer decides
    endpoint_id: int = 0
    namespace: str = ""
    pod_name: str = ""


class IPCache:
    def __init__(self, allocator: IdentityAllocator) -> None:
        self._allocator = allocator
        self._entries: dict[str, IPEntry] = {}
        self._apiserver_nodes: set[str] = set()
        self._prefixes: list[tuple[ipaddress.IPv4Network, int]] = []  # sorted, most specific first
        self._world_cache: dict[str, int] = {}
        self._fqdn: dict[str, int] = {}  # ip -> identity learned through DNS

    # -- updates -----------------------------------------------------------------------------
    def upsert(self, entry: IPEntry) -> None:
        self._entries[entry.ip] = entry

    def delete(self, ip: str) -> None:
        self._entries.pop(ip, None)

    def set_apiserver_nodes(self, nodes: set[str]) -> None:
        self._apiserver_nodes = set(nodes)

    def set_prefixes(self, prefixes: dict[ipaddress.IPv4Network, Identity]) -> None:
        self._prefixes = sorted(((p, i.id) for p, i in prefixes.items()), key=lambda t: -t[0].prefixlen)
        self._world_cache.clear()

    def set_fqdn_identity(self, ip: str, identity: int | None) -> None:
        if identity is None:
            self._fqdn.pop(ip, None)
        else:
            self._fqdn[ip] = identity
        self._world_cache.pop(ip, None)

    # -- lookups -----------------------------------------------------------------------------
    def entry(self, ip: str) -> IPEntry | None:
        return self._entries.get(ip)

    def entries(self) -> list[IPEntry]:
        return list(self._entries.values())

    def identity_of(self, ip: str, viewer_node: str) -> int:
        entry = self._entries.get(ip)
        if entry is not None:
            if entry.kind in ("node", "router"):
                if entry.node == viewer_node:
                    return HOST
                return KUBE_APISERVER if entry.node in self._apiserver_nodes else REMOTE_NODE
            if entry.kind == "health":
                return HEALTH
            return entry.identity
        return self.world_identity(ip)

    def world_identity(self, ip: str) -> int:
        cached = self._world_cache.get(ip)
        if cached is not None:
            return cached
        ident = self._fqdn.get(ip)
        if ident is None:
            addr = ipaddress.ip_address(ip)
            ident = next((i for p, i in self._prefixes if addr in p), WORLD)
        self._world_cache[ip] = ident
        return ident

    def is_cluster_ip(self, ip: str) -> bool:
        return ip in self._entries

    def allocator(self) -> IdentityAllocator:
        return self._allocator
