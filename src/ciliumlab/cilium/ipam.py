"""Cluster-pool IPAM: a /24 per node from the pool, pod IPs handed out by the node's agent.

Like Cilium's allocator (a random scan over the node's range), addresses look scattered
(172.20.1.37, 172.20.1.201 …); a per-node seeded generator keeps a fresh lab reproducible.
"""

from __future__ import annotations

import ipaddress
import random


class NodeIPAM:
    def __init__(self, node_name: str, cidr: str) -> None:
        self.cidr = ipaddress.ip_network(cidr)
        self._rng = random.Random(f"ipam/{node_name}/{cidr}")
        self._used: dict[str, str] = {}  # ip -> owner
        hosts = list(self.cidr.hosts())
        self._hosts = [str(h) for h in hosts]

    def allocate(self, owner: str, ip: str | None = None) -> str:
        """Give `owner` an address (the same one again if it already has one, or `ip` if free)."""
        for existing, who in self._used.items():
            if who == owner:
                return existing
        if ip is not None and ip not in self._used and ipaddress.ip_address(ip) in self.cidr:
            self._used[ip] = owner
            return ip
        if len(self._used) >= len(self._hosts):
            raise RuntimeError(f"IPAM: range {self.cidr} is full")
        while True:
            candidate = self._hosts[self._rng.randrange(len(self._hosts))]
            if candidate not in self._used:
                self._used[candidate] = owner
                return candidate

    def release(self, ip: str) -> None:
        self._used.pop(ip, None)

    def used(self) -> dict[str, str]:
        return dict(self._used)
