"""Helpers for pure policy-engine tests: a virtual identity universe like the lab's.

Pods get identities from `pod_identity_labels`; reserved identities use the numbers of
spec/policy.md §3; external IPs get local CIDR identities (cidr:<ip>/32 + reserved:world) like
the lab allocates them. `Lab.verdict(src, dst, port)` combines the sender's egress and the
receiver's ingress verdicts the way the datapath does (§13.3).
"""

from __future__ import annotations

import ipaddress

import yaml

from ciliumlab.cilium.labels import Label, LabelSet, pod_identity_labels, reserved
from ciliumlab.cilium.policy import Decision, PolicyConfig, PolicyRepository, is_endpoint_identity

TCP, UDP, ICMP = 6, 17, 1

NAMESPACES = {
    "default": {}, "kube-system": {}, "ns1": {"team": "blue"}, "ns2": {"team": "red"},
}
PODS = [
    # Star Wars (namespace default)
    ("deathstar", "default", {"org": "empire", "class": "deathstar", "app.kubernetes.io/name": "deathstar"}),
    ("tiefighter", "default", {"org": "empire", "class": "tiefighter", "app.kubernetes.io/name": "tiefighter"}),
    ("xwing", "default", {"org": "alliance", "class": "xwing", "app.kubernetes.io/name": "xwing"}),
    # GEN
    ("client", "default", {"app": "client"}),
    ("server", "default", {"app": "server"}),
    ("other", "default", {"app": "other"}),
    ("a", "default", {"app": "a"}),
    ("b", "default", {"app": "b"}),
    ("prod1", "default", {"env": "prod"}),
    ("dev1", "default", {"env": "dev"}),
    ("plain", "default", {}),
    ("frontend", "default", {"role": "frontend"}),
    ("backend", "default", {"role": "backend"}),
    ("backend-ns1", "ns1", {"role": "backend"}),
    ("mediabot", "default", {"org": "empire", "class": "mediabot"}),
    ("leia", "ns1", {"name": "leia"}),
    ("luke", "ns2", {"name": "luke"}),
    ("luke-ns1", "ns1", {"name": "luke"}),
    ("c2", "ns2", {"app": "client"}),
    ("coredns", "kube-system", {"k8s-app": "kube-dns"}),
]
RESERVED = {
    "host": (1, reserved("host")),
    "world": (2, reserved("world")),
    "health": (4, reserved("health")),
    "remote": (6, reserved("remote-node")),
    "apiserver": (7, reserved("kube-apiserver", "remote-node")),
}
EXTERNAL_IPS = ["1.1.1.1", "20.1.1.1", "20.1.1.2", "10.200.0.5", "10.100.0.5", "8.8.8.8"]


class Lab:
    def __init__(self, config: PolicyConfig | None = None) -> None:
        self.config = config or PolicyConfig()
        self.repo = PolicyRepository(self.config)
        self.ids: dict[str, int] = {}
        for name, (ident, labels) in RESERVED.items():
            self.ids[name] = ident
            self.repo.set_identity(ident, labels)
        next_id = 1000
        for name, ns, labels in PODS:
            ns_labels = {"kubernetes.io/metadata.name": ns, **NAMESPACES[ns]}
            self.ids[name] = next_id
            self.repo.set_identity(next_id, pod_identity_labels(labels, ns, ns_labels))
            next_id += 1
        self._next_local = (1 << 24) + 1
        for ip in EXTERNAL_IPS:
            self.external(ip)
        self.repo.set_named_ports({"http": {(80, "TCP")}})

    def external(self, ip: str, extra: list[Label] = ()) -> int:
        ident = self._next_local
        self._next_local += 1
        net = ipaddress.ip_network(ip)
        self.repo.set_identity(ident, LabelSet([Label("cidr", str(net)), Label("reserved", "world"), *extra]))
        self.ids[ip] = ident
        return ident

    def fqdn_ip(self, ip: str, name: str) -> int:
        """What the lab does for an IP learned via DNS: fqdn labels of matching selectors."""
        labels = [fs.label for fs in self.repo.fqdn_selectors() if fs.matches(name)]
        return self.external(ip, labels)

    def apply(self, doc, namespace: str = "default"):
        obj = yaml.safe_load(doc) if isinstance(doc, str) else doc
        obj.setdefault("apiVersion", "cilium.io/v2")
        obj.setdefault("kind", "CiliumNetworkPolicy")
        meta = obj.setdefault("metadata", {})
        meta.setdefault("name", "p")
        if obj["kind"] != "CiliumClusterwideNetworkPolicy":
            meta.setdefault("namespace", namespace)
        meta.setdefault("uid", f"uid-{meta['name']}")
        return self.repo.upsert(obj)

    def verdicts(self, src: str, dst: str, port: int, proto: int = TCP):
        s, d = self.ids[src], self.ids[dst]
        eg = self.repo.policy_for(s).lookup("egress", d, proto, port) if is_endpoint_identity(s) else None
        ing = self.repo.policy_for(d).lookup("ingress", s, proto, port) if is_endpoint_identity(d) else None
        return eg, ing

    def verdict(self, src: str, dst: str, port: int, proto: int = TCP) -> str:
        eg, ing = self.verdicts(src, dst, port, proto)
        for v in (eg, ing):
            if v is not None and v.decision == Decision.DENY:
                return f"DROPPED/{v.drop_reason}"
        return "FORWARDED"

    def l7(self, src: str, dst: str, port: int, direction: str = "ingress", proto: int = TCP):
        eg, ing = self.verdicts(src, dst, port, proto)
        v = ing if direction == "ingress" else eg
        assert v is not None and v.decision == Decision.REDIRECT, v
        return v.l7

    def http(self, src: str, dst: str, method: str, path: str, port: int = 80, host: str = "deathstar",
             headers=()) -> str:
        if self.verdict(src, dst, port) != "FORWARDED":
            return self.verdict(src, dst, port)
        eg, ing = self.verdicts(src, dst, port)
        for v in (eg, ing):
            if v is not None and v.decision == Decision.REDIRECT:
                if not v.l7.allows_http(method, path, host, list(headers)):
                    return "L7-403"
        return "FORWARDED"
