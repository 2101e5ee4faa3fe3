"""`AgentMetrics`: what one node's cilium-agent serves on :9962/metrics.

One `CollectorRegistry` per agent (never the global one) holding:

* the node's BPF metrics map collector (`datapath.py`): drop/forward counters, fed from the
  node's monitor bus as events happen;
* the L7 proxy counters (`proxy.py`), fed from the same bus's access-log records;
* the control-plane counters (`controlplane.py`), fed from the object store;
* scrape-time gauges read from lab state (`state.py`);
* zero-valued series for what the lab does not run (errors/warnings, conntrack dump resets,
  kvstore — see `catalog.PLACEHOLDER`);
* `cilium_process_*` from prometheus_client's ProcessCollector (the lab's own process).

The datapath counters start from the events still in the node's monitor buffer, so metrics
created after some traffic agree with the datapath (and with Hubble) as long as the buffer has
not wrapped.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, ProcessCollector
from prometheus_client.registry import Collector

from ..datapath import events as ev
from . import catalog
from .controlplane import ControlPlaneStats
from .datapath import MetricsMap, MetricsMapCollector
from .exposition import expose
from .proxy import ProxyStats
from .series import zero_series
from .state import AgentStateCollector


class _Families(Collector):
    """A Collector over a function returning metric families."""

    def __init__(self, fn) -> None:
        self._fn = fn

    def collect(self):
        return self._fn()


def _placeholders() -> list:
    """Series for what the lab does not run, so dashboards show 0 rather than no data."""
    errors = catalog.family("cilium_errors_warnings_total")
    for level in ("error", "warning"):
        errors.add_metric([level, "daemon"], 0.0)
    return [
        errors,
        zero_series("cilium_datapath_conntrack_dump_resets_total", ["conntrack", "dump_interrupts", "ipv4"]),
        zero_series("cilium_datapath_errors_total", ["conntrack", "dump_interrupts", "ipv4"]),
        # kvstore: the lab keeps identities and nodes in CRDs (`cilium-dbg status`: KVStore: Disabled)
        zero_series("cilium_kvstore_operations_duration_seconds", ["", "", "", ""]),
        zero_series("cilium_kvstore_events_queue_seconds", ["", ""]),
        zero_series("kvstore_operations_total", ["", "", "", ""]),
    ]


class AgentMetrics:
    """The Prometheus endpoint of `node`'s cilium-agent."""

    def __init__(self, lab, node: str, *, backfill: bool = True) -> None:
        if node not in lab.fabric.monitors:
            raise KeyError(f"no such node: {node}")
        self.lab = lab
        self.node = node
        self.registry = CollectorRegistry(auto_describe=False)
        self.datapath = MetricsMap(node)
        self.proxy = ProxyStats()
        self.controlplane = ControlPlaneStats(lab, node)
        self.state = AgentStateCollector(lab, node, self.datapath, self.controlplane)
        bus = lab.fabric.monitors[node]
        if backfill:
            for event in bus.events():
                self._on_event(event)
        self._unsubscribe = bus.subscribe(self._on_event)
        self.registry.register(MetricsMapCollector(self.datapath))
        self.registry.register(_Families(self.proxy.families))
        self.registry.register(self.controlplane)
        self.registry.register(self.state)
        self.registry.register(_Families(_placeholders))
        ProcessCollector(namespace="cilium", registry=self.registry)

    def _on_event(self, event: ev.MonitorEvent) -> None:
        """Every monitor event of the node (hot path: one dict update for datapath events)."""
        if event.type == ev.ACCESS_LOG:
            self.proxy.record(event)
        else:
            self.datapath.record(event)

    def expose(self, accept: str = "") -> tuple[bytes, str]:
        """The `/metrics` body and its Content-Type (OpenMetrics if `accept` asks for it)."""
        return expose(self.registry, accept)

    def close(self) -> None:
        """Stop counting: unsubscribe from the monitor bus and the store."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.controlplane.close()
