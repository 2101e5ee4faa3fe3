"""What the datapath knows about the things it delivers to: local endpoints and node hosts."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class DatapathEndpoint:
    """A Cilium endpoint as the datapath sees it (the lxc device, its identity, who serves on it)."""

    id: int
    ip: str
    node: str
    identity: int
    kind: str = "pod"  # pod | health
    namespace: str = ""
    pod_name: str = ""
    hostname: str = ""
    behaviours: list = field(default_factory=list)  # workloads.images Behaviour per container
    mac: str = ""
    ifindex: int = 0
    ifname: str = ""
    labels: dict = field(default_factory=dict)

    def listens(self, proto_name: str, port: int):
        for b in self.behaviours:
            if b.listens(proto_name, port):
                return b
        return None


@dataclass(slots=True)
class NodeHost:
    """A node's host network namespace: its addresses and host-network listeners."""

    name: str
    ips: list[str]  # [eth1 InternalIP, eth0 NAT IP]
    router_ip: str = ""  # cilium_host address in the pod CIDR
    listeners: dict = field(default_factory=dict)  # (proto_name, port) -> Behaviour

    @property
    def ip(self) -> str:
        return self.ips[0]
