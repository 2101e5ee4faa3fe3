"""HubbleMetrics: the handlers enabled by `hubble-metrics`, their Prometheus registry, and the
/metrics body (Cilium's api.Registry + metrics.go)."""

from __future__ import annotations

import logging

from prometheus_client import CollectorRegistry, Counter

from .api import NAMESPACE, CounterVec, Handler
from .dns import DnsHandler
from .drop import DropHandler
from .exposition import negotiate, render
from .flow import FlowHandler
from .flows_to_world import FlowsToWorldHandler
from .http import HttpHandler, HttpV2Handler
from .icmp import IcmpHandler
from .kafka import KafkaHandler
from .options import MetricConfig, MetricsConfigError, parse_metrics_spec
from .policy import PolicyHandler
from .port_distribution import PortDistributionHandler
from .sctp import SctpHandler
from .tcp import TcpHandler

log = logging.getLogger(__name__)

HANDLERS: dict[str, type[Handler]] = {
    h.name: h
    for h in (DnsHandler, DropHandler, FlowHandler, FlowsToWorldHandler, HttpHandler, HttpV2Handler, IcmpHandler,
              KafkaHandler, PolicyHandler, PortDistributionHandler, SctpHandler, TcpHandler)
}

LOST_EVENT_SOURCES = ("perf_event_ring_buffer", "observer_events_queue", "hubble_ring_buffer")


def build_handlers(registry: CollectorRegistry, configs: list[MetricConfig]) -> list[Handler]:
    """Validate the list (unknown names, conflicts, duplicates) and initialise each handler."""
    names = {c.name for c in configs}
    seen: set[str] = set()
    for c in configs:
        cls = HANDLERS.get(c.name)
        if cls is None:
            raise MetricsConfigError(f"metric '{c.name}' does not exist", metric=c.name)
        for other in getattr(cls, "conflicts", ()):
            if other in names:
                raise MetricsConfigError(f"plugin {c.name} conflicts with plugin {other}", metric=c.name)
        if c.name in seen:
            # Go's MustRegister panics registering the same collectors twice
            raise MetricsConfigError(f"unable to initialize metric '{c.name}': duplicate metrics collector "
                                     "registration attempted", metric=c.name,
                                     reason="duplicate metrics collector registration attempted")
        seen.add(c.name)
    handlers = []
    for c in configs:
        try:
            handlers.append(HANDLERS[c.name](registry, c))
        except ValueError as err:
            raise MetricsConfigError(f"unable to initialize metric '{c.name}': {err}", metric=c.name,
                                     reason=str(err)) from None
    return handlers


class HubbleMetrics:
    """Hubble's metrics for one node: feed it every flow, scrape `expose()`."""

    def __init__(self, configs: list[MetricConfig], *, open_metrics: bool = False) -> None:
        self.open_metrics = open_metrics
        self.registry = CollectorRegistry(auto_describe=True)
        self.handlers: list[Handler] = build_handlers(self.registry, configs)
        self._processors = tuple(h.process for h in self.handlers)
        self.lost_events = Counter(f"{NAMESPACE}_lost_events_total", "Number of lost events", ("source",),
                                   registry=self.registry)
        self._lost = {s: self.lost_events.labels(s) for s in LOST_EVENT_SOURCES}
        self.errors = 0
        for h in self.handlers:
            log.debug("Configured metrics plugin name=%s status=%s", h.name, h.status())

    @classmethod
    def from_config(cls, spec: str, *, open_metrics: bool = False) -> HubbleMetrics | None:
        """`spec` is cilium-config's `hubble-metrics` value; None when it enables nothing."""
        configs = parse_metrics_spec(spec or "")
        if not configs:
            return None
        return cls(configs, open_metrics=open_metrics)

    # -- hot path -----------------------------------------------------------------------------
    def process(self, flow: dict, weight: int = 1) -> None:
        """Account one flow (or `weight` identical ones: counters only, so never an L7 flow, whose
        latency histograms and exemplars are per flow) in every handler; one handler failing does
        not stop the others."""
        if weight != 1:
            CounterVec.weight = weight
            try:
                self._process(flow)
            finally:
                CounterVec.weight = 1
            return
        self._process(flow)

    def _process(self, flow: dict) -> None:
        for process in self._processors:
            try:
                process(flow)
            except Exception:  # a malformed flow: Cilium logs and carries on
                self.errors += 1
                if self.errors == 1 or self.errors % 10000 == 0:
                    log.exception("Failed to ProcessFlow in metrics handler (%d so far)", self.errors)

    def lost(self, source: str, count: int) -> None:
        child = self._lost.get(source)
        if child is None:
            child = self._lost[source] = self.lost_events.labels(source)
        child.inc(count)

    # -- housekeeping ---------------------------------------------------------------------------
    def delete_pod(self, namespace: str, pod: str) -> None:
        """Drop the series that name a deleted pod (the caller waits the minute Cilium waits)."""
        for h in self.handlers:
            h.delete_pod(namespace, pod)

    def status(self) -> str:
        """`name(status)` per handler, comma-joined, e.g. `dns,httpV2(labels=source_ip,exemplars=true)`."""
        out = []
        for h in self.handlers:
            s = h.status()
            out.append(f"{h.name}({s})" if s else h.name)
        return ",".join(out)

    def handler(self, name: str) -> Handler | None:
        return next((h for h in self.handlers if h.name == name), None)

    # -- exposition ----------------------------------------------------------------------------
    def expose(self, accept: str = "") -> tuple[bytes, str]:
        """(body, content-type): OpenMetrics (with exemplars) only when enabled and asked for by
        the Accept header, else the Prometheus text format 0.0.4."""
        return render(self.registry, negotiate(accept, self.open_metrics))
