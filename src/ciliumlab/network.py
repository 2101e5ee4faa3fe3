"""Glue between pods and the lab's network: the context every `LabPodNet` shares.

It answers what a pod's network stack needs from the rest of the lab — the cluster DNS
address, the DNS server behind a connection, node interfaces for host-network shells —
without the datapath having to know about the object store or the outside world.
"""

from __future__ import annotations

from .cilium.datapath.fabric import Fabric, Path
from .workloads.net import DnsAnswer, Interface, Route


class NetContext:
    def __init__(self, lab) -> None:
        self._lab = lab
        self.fabric: Fabric = lab.fabric
        self.cluster_domain = "cluster.local"
        self.dns_ip = "10.96.0.10"
        self._cache: dict[tuple[str, str], DnsAnswer] = {}
        self._cache_version = -1

    def read_file(self, podnet, path: str) -> str | None:
        """A node's own files (`/etc/hosts`, kubeadm-flags.env …) for shells in its host namespace."""
        if not podnet.host_network or podnet.hostname != podnet.node_name:
            return None
        from .workloads.node import node_file

        found = node_file(self._lab, podnet.node_name, path)
        return found if found is not None else self._lab.disks.read(podnet.node_name, path)

    def list_dir(self, podnet, path: str) -> list[str] | None:
        """Entries of a node directory kept on disk (`/var/run/cilium/hubble` …), host network only."""
        if not podnet.host_network or podnet.hostname != podnet.node_name:
            return None
        return self._lab.disks.listdir(podnet.node_name, path)

    def dns_reject_code(self) -> str:
        return self._lab.policy_config.dns_reject_response_code

    def dns_answer(self, path: Path, fqdn: str, qtype: str, namespace: str) -> DnsAnswer:
        """What the DNS server behind `path` answers. CoreDNS answers are cached until the store
        changes (its `cache 30` plugin plus the kubernetes plugin's watch, collapsed into one)."""
        from .workloads import coredns

        target = path.target
        if target.kind == "world":
            return self._lab.world.dns_answer(fqdn, qtype)
        version = self._lab.store.resource_version
        if version != self._cache_version:
            self._cache.clear()
            self._cache_version = version
        key = (fqdn.lower(), qtype)
        answer = self._cache.get(key)
        if answer is None:
            answer = self._cache[key] = coredns.answer(
                fqdn, qtype, store=self._lab.store, client_namespace=namespace,
                cluster_domain=self.cluster_domain, world=self._lab.world)
        return DnsAnswer(answer.rcode, answer.question, answer.qtype, answer.answers, authority=answer.authority)

    def endpoint_interfaces(self, ep) -> list[Interface]:
        return [Interface("lo", 1, "00:00:00:00:00:00", ["127.0.0.1/8"], 65536),
                Interface("eth0", 2 + ep.id % 10, ep.mac, [f"{ep.ip}/32"], 1500, peer_index=ep.ifindex)]

    def node_interfaces(self, node: str) -> list[Interface]:
        host = self.fabric.nodes[node]
        agent = self._lab.cilium.nodes[node]
        ifaces = [
            Interface("eth0", 2, "08:00:27:6b:69:c9", [f"{host.ips[-1]}/24"], 1500),
            Interface("eth1", 3, _node_mac(node), [f"{host.ips[0]}/24"], 1500),
            Interface("cilium_net", 4, "2a:1c:5f:63:1a:0e", [], 1500, peer_index=5),
            Interface("cilium_host", 5, "4e:86:4b:a4:f5:3b", [f"{agent.router_ip}/32"], 1500, peer_index=4),
        ]
        if self.fabric.routing_mode == "tunnel":
            ifaces.append(Interface("cilium_vxlan", 6, "ce:90:33:53:90:79", [], 1500))
        # one lxc device per local endpoint (the host side of the pod's veth; lxc_health for health)
        local = sorted((ep for ep in self.fabric.endpoints.values() if ep.node == node and ep.ifname),
                       key=lambda ep: ep.ifindex)
        for ep in local:
            ifaces.append(Interface(ep.ifname, ep.ifindex, _lxc_mac(ep.ifname), [], 1500,
                                    peer_index=2 + ep.id % 10 if ep.kind == "pod" else 2))
        return ifaces

    def node_routes(self, node: str) -> list[Route]:
        host = self.fabric.nodes[node]
        routes = [Route("default", "10.0.2.2", "eth0", host.ips[-1], None),
                  Route("10.0.2.0/24", None, "eth0", host.ips[-1], "link"),
                  Route("192.168.10.0/24", None, "eth1", host.ips[0], "link")]
        for name, agent in self._lab.cilium.nodes.items():
            if name == node:
                routes.append(Route(agent.pod_cidr, agent.router_ip, "cilium_host", agent.router_ip, None))
            elif self.fabric.routing_mode != "tunnel":  # native routing + autoDirectNodeRoutes
                routes.append(Route(agent.pod_cidr, agent.host.ip, "eth1", None, None))
            else:
                routes.append(Route(agent.pod_cidr, agent.router_ip, "cilium_host", self._lab.cilium.nodes[node].router_ip,
                                    None))
        return routes


def _lxc_mac(name: str) -> str:
    import hashlib
    d = hashlib.sha1(name.encode()).digest()
    return f"{(d[0] & 0xfc) | 0x02:02x}:" + ":".join(f"{b:02x}" for b in d[1:6])


def _node_mac(node: str) -> str:
    import hashlib
    d = hashlib.sha1(node.encode()).digest()
    return "08:00:27:" + ":".join(f"{b:02x}" for b in d[:3])
