"""Prometheus metrics of cilium-agent (:9962, one per node) and cilium-operator (:9963).

    AgentMetrics(lab, node)   .registry  .expose(accept) -> (body, content type)  .close()
    OperatorMetrics(lab)      .registry  .expose(accept) -> (body, content type)  .close()

Modules: `catalog` (names, help, labels), `series` (event-driven counters/histograms),
`datapath` (the BPF metrics map: drops/forwards from monitor events), `proxy` (L7 access-log
counters), `controlplane` (store-fed counters), `state` (scrape-time gauges), `agent`,
`operator`, `exposition`.
"""

from __future__ import annotations

from .agent import AgentMetrics
from .catalog import AGENT, LEGACY, OPERATOR, PLACEHOLDER
from .datapath import MetricsMap
from .operator import OperatorMetrics

__all__ = ["AGENT", "LEGACY", "OPERATOR", "PLACEHOLDER", "AgentMetrics", "MetricsMap", "OperatorMetrics"]
