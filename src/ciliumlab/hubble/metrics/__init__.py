"""Hubble's Prometheus metrics (`hubble-metrics` / `--hubble-metrics`), as a pure engine.

`HubbleMetrics.from_config("dns drop tcp flow ...")` builds the enabled handlers on a private
CollectorRegistry; `process(flow)` accounts one flow dict (the `flow` object of
`hubble observe -o json`), `expose(accept)` renders /metrics.

Modules:
    options            the `NAME[:k=v;k2=a|b]` spec syntax, MetricsConfigError
    context            sourceContext / destinationContext / labelsContext, compiled to getters
    api                Handler base, cached metric vectors, FlowProtocol and other flow readers
    dns, drop, flow, flows_to_world, http (http + httpV2), icmp, kafka, policy,
    port_distribution, sctp, tcp
                       one handler each
    registry           HubbleMetrics: validation, handler list, lost events, pod clean-up
    exposition         Accept negotiation and the text / OpenMetrics bodies
"""

from .options import MetricsConfigError
from .registry import HANDLERS, HubbleMetrics

__all__ = ["HANDLERS", "HubbleMetrics", "MetricsConfigError"]
