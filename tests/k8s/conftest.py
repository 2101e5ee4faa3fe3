"""A tiny lab for the Kubernetes layer: store + bootstrap + controllers run to a fixpoint."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
import yaml

from ciliumlab.clock import VirtualClock
from ciliumlab.errors import InvalidObject
from ciliumlab.k8s.bootstrap import bootstrap, default_cluster_config
from ciliumlab.k8s.controllers import ControllerContext, all_controllers, run_until_stable
from ciliumlab.k8s.controllers.services import assign_service_addresses
from ciliumlab.k8s.store import Store
from ciliumlab.k8s.validation import apply_defaults, validate

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
DATA = {"http-sw-app.yaml": FIXTURES / "cilium", "webpod.yaml": FIXTURES / "seed", "curl-pod.yaml": FIXTURES / "seed"}


class FakeIPAM:
    """Cluster-pool-like IPAM over the Cilium per-node CIDRs, recording releases."""

    def __init__(self, cidrs: dict[str, str]) -> None:
        self.cidrs = cidrs
        self.next: dict[str, int] = {}
        self.allocated: dict[str, str] = {}
        self.released: list[str] = []

    def allocate(self, node: str, pod: dict) -> str | None:
        uid = pod["metadata"]["uid"]
        if uid not in self.allocated:
            n = self.next.get(node, 10)
            self.next[node] = n + 1
            self.allocated[uid] = str(ipaddress.ip_network(self.cidrs[node]).network_address + n)
        return self.allocated[uid]

    def release(self, node: str, pod: dict) -> None:
        self.released.append(self.allocated.pop(pod["metadata"]["uid"]))


class Lab:
    def __init__(self) -> None:
        self.clock = VirtualClock()
        self.store = Store(self.clock)
        self.config = default_cluster_config()
        bootstrap(self.store, self.config)
        self.ipam = FakeIPAM({n.name: n.pod_cidr for n in self.config.nodes})
        self.ctx = ControllerContext(clock=self.clock, allocate_pod_ip=self.ipam.allocate,
                                     release_pod_ip=self.ipam.release)
        self.controllers = all_controllers(self.store, self.ctx)
        self.settle()

    def settle(self) -> int:
        return run_until_stable(self.store, self.controllers)

    def apply(self, obj: dict, settle: bool = True) -> dict:
        """What the lead's API server does on create: validate, default, allocate, store."""
        obj.setdefault("metadata", {}).setdefault("namespace", "default")
        errs = validate(obj)
        if errs:
            raise InvalidObject.from_causes(obj["kind"], obj["metadata"].get("name", ""), errs)
        obj = apply_defaults(obj)
        if obj["kind"] == "Service":
            obj = assign_service_addresses(self.store, obj, self.ctx.service_cidr)
        created = self.store.create(obj)
        if settle:
            self.settle()
        return created

    def apply_file(self, name: str) -> None:
        for doc in yaml.safe_load_all((DATA[name] / name).read_text()):
            if doc:
                self.apply(doc, settle=False)
        self.settle()

    def pods(self, ns: str = "default", **labels) -> list[dict]:
        return sorted((p for p in self.store.list("Pod", ns)
                       if all((p["metadata"].get("labels") or {}).get(k) == v for k, v in labels.items())),
                      key=lambda p: p["metadata"]["name"])


@pytest.fixture
def lab() -> Lab:
    return Lab()
