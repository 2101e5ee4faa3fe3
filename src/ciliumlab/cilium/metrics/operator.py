"""`OperatorMetrics`: what cilium-operator serves on :9963/metrics (prefix `cilium_operator_`).

The lab's operator hands every node a /24 from the cluster pool (`CiliumNode.spec.ipam.podCIDRs`)
and the agents allocate from it, so the IPAM gauges are read from the nodes' allocators at
scrape time: `ipam_ips{type}` used/available/needed addresses over all nodes, `ipam_nodes
{category}` nodes in total / short of addresses / full, `ipam_available` nodes that can still
allocate. `ipam_resync_total` counts the CiliumNode upserts the operator's IPAM node manager
processed (one per node at start, then one per change).

The operator dashboard also plots AWS ENI internals (`ec2_api_*`, `ipam_interface_creation_ops`);
a cluster-pool operator never makes those calls, so they are single zero-valued series (see
`catalog.PLACEHOLDER`). Process metrics come from prometheus_client's ProcessCollector with the
`cilium_operator` namespace.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, ProcessCollector
from prometheus_client.registry import Collector

from . import catalog
from .controlplane import _essence
from .exposition import expose
from .series import CounterVec, zero_series


class _OperatorCollector(Collector):
    def __init__(self, lab, resyncs: CounterVec) -> None:
        self.lab = lab
        self.resyncs = resyncs

    def collect(self):
        used = available = at_capacity = with_room = 0
        nodes = list(self.lab.cilium.nodes.values())
        for agent in nodes:
            capacity = max(0, agent.ipam.cidr.num_addresses - 2)
            n = len(agent.ipam.used())
            used += n
            available += max(0, capacity - n)
            if n >= capacity:
                at_capacity += 1
            else:
                with_room += 1
        out = [
            catalog.gauge("cilium_operator_ipam_ips", [(("available",), available), (("used",), used),
                                                       (("needed",), 0)]),
            catalog.gauge("cilium_operator_ipam_nodes", [(("total",), len(nodes)), (("in-deficit",), 0),
                                                         (("at-capacity",), at_capacity)]),
            catalog.gauge("cilium_operator_ipam_available", with_room),
            self.resyncs.family(),
        ]
        # AWS ENI internals: a cluster-pool operator creates no interfaces and calls no EC2 API
        out += [zero_series("cilium_operator_ipam_interface_creation_ops", ["", ""]),
                zero_series("cilium_operator_ec2_api_duration_seconds", ["", ""]),
                zero_series("cilium_operator_ec2_api_rate_limit_duration_seconds", [""])]
        return out


class OperatorMetrics:
    """The Prometheus endpoint of the cluster's cilium-operator."""

    def __init__(self, lab) -> None:
        self.lab = lab
        self.registry = CollectorRegistry(auto_describe=False)
        self.resyncs = CounterVec("cilium_operator_ipam_resync_total", preset=((),))
        self._closed = False
        self.resyncs.inc(amount=len(lab.store.list("CiliumNode")))
        self._unsubscribe = lab.store.subscribe(self._on_event)
        self.registry.register(_OperatorCollector(lab, self.resyncs))
        ProcessCollector(namespace="cilium_operator", registry=self.registry)

    def _on_event(self, event: str, obj: dict, old: dict | None) -> None:
        if self._closed or obj.get("kind") != "CiliumNode" or event == "DELETED":
            return
        if old is not None and _essence(old, False) == _essence(obj, False):
            return
        self.resyncs.inc()

    def expose(self, accept: str = "") -> tuple[bytes, str]:
        """The `/metrics` body and its Content-Type (OpenMetrics if `accept` asks for it)."""
        return expose(self.registry, accept)

    def close(self) -> None:
        self._closed = True
        self._unsubscribe()
