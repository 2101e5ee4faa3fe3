"""kube-controller-manager, kube-scheduler and the kubelets, as level-triggered controllers.

Each controller's `sync()` reconciles everything it owns against the store and writes only when
something actually changes, so calling every controller's `sync()` in turn until
`store.resource_version` stops moving reaches a fixpoint (see `run_until_stable`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ...clock import Clock
from ..names import NameGenerator
from ..store import Store

AllocateIP = Callable[[str, dict], "str | None"]
ReleaseIP = Callable[[str, dict], None]
NodeIP = Callable[[str], str]


@dataclass(kw_only=True)
class ControllerContext:
    clock: Clock
    cluster_name: str = "default"
    service_cidr: str = "10.96.0.0/16"
    # (node_name, pod) -> IP, provided by Cilium IPAM; None = not yet. Default: SimplePodIPAM over Node podCIDRs.
    allocate_pod_ip: AllocateIP | None = None
    release_pod_ip: ReleaseIP | None = None
    # node name -> InternalIP (hostNetwork pods). Default: the Node's InternalIP address from the store.
    node_ip: NodeIP | None = None
    # Seed for generated names (pod suffixes, container ids): a fresh lab is reproducible.
    seed: str = "ciliumlab"
    names: NameGenerator = field(init=False)
    # core/v1 Event recorder (`events.EventRecorder`), made on first use
    events: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.names = NameGenerator(f"{self.cluster_name}/{self.seed}")


class Controller:
    """Base: `sync()` is level-triggered and idempotent."""

    name = "controller"

    def __init__(self, store: Store, ctx: ControllerContext) -> None:
        self.store = store
        self.ctx = ctx

    def sync(self) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def event(self, obj: dict, reason: str, message: str, *, component: str, host: str | None = None,
              field_path: str | None = None, type: str = "Normal") -> None:
        """Record a core/v1 Event about `obj` (see `events`)."""
        from .events import recorder

        recorder(self.store, self.ctx).record(obj, reason, message, component=component, host=host,
                                              field_path=field_path, type=type)


class SimplePodIPAM:
    """A stand-in pod IPAM: sequential addresses from each node's pod CIDR (tests, or before Cilium).

    `cidrs` maps node name -> CIDR; without it the Node's `spec.podCIDR` is used.
    """

    def __init__(self, store: Store, cidrs: dict[str, str] | None = None) -> None:
        self.store = store
        self.cidrs = dict(cidrs or {})
        self.used: dict[str, set[str]] = {}
        self.by_pod: dict[str, str] = {}

    def _cidr(self, node: str) -> str | None:
        if node in self.cidrs:
            return self.cidrs[node]
        obj = self.store.get("Node", None, node)
        return ((obj or {}).get("spec") or {}).get("podCIDR")

    def allocate(self, node: str, pod: dict) -> str | None:
        uid = pod["metadata"].get("uid", pod["metadata"]["name"])
        if uid in self.by_pod:
            return self.by_pod[uid]
        cidr = self._cidr(node)
        if not cidr:
            return None
        used = self.used.setdefault(node, set())
        net = ipaddress.ip_network(cidr)
        for ip in list(net.hosts())[1:]:  # .1 is the node's router (cilium_host)
            s = str(ip)
            if s not in used:
                used.add(s)
                self.by_pod[uid] = s
                return s
        return None

    def release(self, node: str, pod: dict) -> None:
        uid = pod["metadata"].get("uid", pod["metadata"]["name"])
        ip = self.by_pod.pop(uid, None)
        if ip:
            self.used.get(node, set()).discard(ip)


def default_node_ip(store: Store) -> NodeIP:
    def node_ip(name: str) -> str:
        node = store.get("Node", None, name) or {}
        for addr in (node.get("status") or {}).get("addresses") or []:
            if addr.get("type") == "InternalIP":
                return addr["address"]
        return ""

    return node_ip


def all_controllers(store: Store, ctx: ControllerContext) -> list[Controller]:
    """Every controller, in a sensible order. Build them once per store: the kubelet subscribes to pod deletes."""
    from .daemonset import DaemonSetController
    from .deployment import DeploymentController, ReplicaSetController
    from .endpoints import EndpointsController, EndpointSliceController
    from .gc import GarbageCollector
    from .kubelet import Kubelet
    from .namespace import NamespaceController
    from .scheduler import Scheduler
    from .services import ServiceIPController
    from .statefulset import StatefulSetController

    if ctx.allocate_pod_ip is None:
        ipam = SimplePodIPAM(store)
        ctx.allocate_pod_ip = ipam.allocate
        if ctx.release_pod_ip is None:
            ctx.release_pod_ip = ipam.release
    if ctx.node_ip is None:
        ctx.node_ip = default_node_ip(store)
    return [
        NamespaceController(store, ctx),
        GarbageCollector(store, ctx),
        ServiceIPController(store, ctx),
        DeploymentController(store, ctx),
        ReplicaSetController(store, ctx),
        DaemonSetController(store, ctx),
        StatefulSetController(store, ctx),
        Scheduler(store, ctx),
        Kubelet(store, ctx),
        EndpointsController(store, ctx),
        EndpointSliceController(store, ctx),
    ]


def run_until_stable(store: Store, controllers: list[Controller], max_rounds: int = 100) -> int:
    """Sync every controller until the store stops changing; returns the number of rounds."""
    for rounds in range(1, max_rounds + 1):
        before = store.resource_version
        for c in controllers:
            c.sync()
        if store.resource_version == before:
            return rounds
    raise RuntimeError(f"controllers did not settle after {max_rounds} rounds")


__all__ = [
    "Controller",
    "ControllerContext",
    "SimplePodIPAM",
    "all_controllers",
    "default_node_ip",
    "run_until_stable",
]
