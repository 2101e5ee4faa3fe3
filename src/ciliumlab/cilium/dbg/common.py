"""What every cilium-dbg command reads: the agent of one node, seen from inside its pod."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..identity import RESERVED_NAMES
from ..labels import LabelSet, identity_relevant

BPF_GLOBALS = "/sys/fs/bpf/tc/globals"


class UsageError(Exception):
    """A cobra-style usage error: `Error: <message>` plus the help hint, exit 1."""

    def __init__(self, message: str, command: str = "") -> None:
        super().__init__(message)
        self.command = command


class Fatal(Exception):
    """cilium-dbg's `Fatalf`: the message on stderr, exit 1."""


@dataclass
class Dbg:
    """One invocation: the lab, the agent's node, the output streams and the exec's deadline."""

    lab: Any
    node: str
    out: Any
    err: Any
    name: str = "cilium-dbg"
    deadline: float | None = None
    sleep: Any = None  # fn(seconds) that raises at the deadline (the exec context's), or None
    cache: dict = field(default_factory=dict)

    @property
    def agent(self):
        return self.lab.cilium.nodes[self.node]

    def write(self, text: str) -> None:
        self.out.write(text)


# -- endpoints --------------------------------------------------------------------------------
@dataclass
class EndpointView:
    """An endpoint as `cilium-dbg endpoint list/get` shows it (pods, the host, health)."""

    id: int
    kind: str  # pod | host | health
    identity: int
    labels: list[str]
    ipv4: str
    ifname: str = ""
    ifindex: int = 0
    mac: str = ""
    namespace: str = ""
    pod_name: str = ""
    pod_uid: str = ""
    record: Any = None
    ingress: bool = False
    egress: bool = False
    log: list[str] = field(default_factory=list)
    created: float = 0.0

    @property
    def policy_enabled(self) -> str:
        return {(False, False): "none", (True, False): "ingress", (False, True): "egress",
                (True, True): "both"}[(self.ingress, self.egress)]


def node_labels(lab, node: str) -> list[str]:
    obj = lab.store.get("Node", None, node) or {}
    labels = (obj.get("metadata") or {}).get("labels") or {}
    return [f"k8s:{k}={v}" if v else f"k8s:{k}" for k, v in labels.items() if identity_relevant(k)]


def endpoints(dbg: Dbg) -> list[EndpointView]:
    """The node's endpoints, sorted by id."""
    lab, agent = dbg.lab, dbg.agent
    policy_for = lab.policy.policy_for
    out: list[EndpointView] = []
    host_labels = sorted([*node_labels(lab, dbg.node), "reserved:host"])
    out.append(EndpointView(agent.host_endpoint_id, "host", 1, host_labels, "", "cilium_host",
                            _host_ifindex(dbg.node), "", created=0.0,
                            log=["Successfully regenerated endpoint program (Reason: Initial build)"]))
    health_dp = lab.fabric.endpoints.get(agent.health_ip)
    pol = policy_for(4)
    out.append(EndpointView(agent.health_endpoint_id, "health", 4, ["reserved:health"], agent.health_ip,
                            getattr(health_dp, "ifname", "lxc_health"), getattr(health_dp, "ifindex", 0),
                            getattr(health_dp, "mac", ""), ingress=pol.ingress_enforced, egress=pol.egress_enforced,
                            log=["Successfully regenerated endpoint program (Reason: Initial build)"]))
    for record in lab.cilium.endpoints.values():
        if record.node != dbg.node:
            continue
        pol = policy_for(record.identity.id)
        dp = record.datapath
        out.append(EndpointView(record.id, "pod", record.identity.id, list(record.identity.labels.strings),
                                record.ip, dp.ifname if dp else "", dp.ifindex if dp else 0, dp.mac if dp else "",
                                record.namespace, record.pod_name, record.pod_uid, record,
                                pol.ingress_enforced, pol.egress_enforced, list(record.log), record.created))
    return sorted(out, key=lambda e: e.id)


def policy_columns(ep: EndpointView, audit: bool) -> tuple[str, str]:
    """ENFORCEMENT columns from the realized `policy-enabled` value (audit: `Disabled (Audit)`)."""
    def col(on: bool) -> str:
        if not on:
            return "Disabled"
        return "Disabled (Audit)" if audit else "Enabled"
    return col(ep.ingress), col(ep.egress)


def find_endpoint(dbg: Dbg, text: str) -> EndpointView:
    """An endpoint by id (or `pod-name:ns/name`, `k8s-pod-name`-style ids are not modelled)."""
    eps = endpoints(dbg)
    if text.startswith("pod-name:"):
        want = text.removeprefix("pod-name:")
        for ep in eps:
            if ep.kind == "pod" and f"{ep.namespace}/{ep.pod_name}" == want:
                return ep
        raise Fatal(f"Cannot get endpoint {text}: [GET /endpoint/{{id}}][404] getEndpointIdNotFound \n")
    try:
        eid = int(text)
    except ValueError:
        raise Fatal(f"Cannot get endpoint {text}: [GET /endpoint/{{id}}][400] getEndpointIdInvalid \n") from None
    for ep in eps:
        if ep.id == eid:
            return ep
    raise Fatal(f"Cannot get endpoint {text}: [GET /endpoint/{{id}}][404] getEndpointIdNotFound \n")


def _host_ifindex(node: str) -> int:
    return 3 + sum(node.encode()) % 3


# -- identities ---------------------------------------------------------------------------------
def identity_labels(lab, identity: int) -> list[str]:
    ident = lab.allocator.get(identity)
    if ident is None:
        return [f"reserved:{RESERVED_NAMES[identity]}"] if identity in RESERVED_NAMES else []
    return list(ident.labels.strings)


def identity_name(identity: int, numeric: bool = False) -> str:
    """How the monitor prints an identity: the reserved name, else the number."""
    if not numeric and identity in RESERVED_NAMES and identity != 0:
        return RESERVED_NAMES[identity]
    return str(identity)


def labels_of(labels: LabelSet) -> list[str]:
    return list(labels.strings)


def go_json(value: Any) -> str:
    """json.MarshalIndent(v, "", "  ") (Go escapes <, > and & in strings)."""
    text = json.dumps(value, indent=2, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
