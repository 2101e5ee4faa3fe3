"""The lab's Prometheus endpoints, as the processes that serve them see it.

    cilium-agent     :9962 on every node   (`prometheus-serve-addr`)
    cilium-operator  :9963 on its node     (`operator-prometheus-serve-addr`)
    hubble           :9965 on every node   (`hubble-metrics-server`, handlers from `hubble-metrics`)

The agents' datapath counters run from the start, whether anyone serves them or not (they
live in a BPF map in Cilium); what cilium-config decides is whether an endpoint answers.
Servers (`served/metrics.py`) and `Lab.scrape` both read through `expose`.
"""

from __future__ import annotations

from dataclasses import dataclass

AGENT, OPERATOR, HUBBLE = "cilium-agent", "cilium-operator", "hubble"


@dataclass(frozen=True)
class MetricsEndpoint:
    target: str  # AGENT, OPERATOR or HUBBLE
    node: str  # where it listens (the operator's node for OPERATOR)
    port: int  # the port in the cluster (9962, 9963, 9965 unless cilium-config says otherwise)


def _port(addr: str, default: int) -> int:
    """`:9962` / `0.0.0.0:9962` → 9962."""
    tail = addr.rpartition(":")[2]
    return int(tail) if tail.isdigit() else default


class MetricsView:
    def __init__(self, lab) -> None:
        self._lab = lab
        from .cilium.metrics import AgentMetrics, OperatorMetrics

        self.agents = {node: AgentMetrics(lab, node) for node in lab.nodes}
        self.operator = OperatorMetrics(lab)

    def listen(self) -> None:
        """Put the endpoints on the nodes' addresses, so `curl <node>:9962/metrics` works in the lab."""
        from .workloads.nodeservices import MetricsServer

        lab = self._lab
        operator_node = self.operator_node()
        for node in lab.nodes:
            listeners = lab.cilium.nodes[node].host.listeners
            ports = [(AGENT, 9962, "cilium-agent"), (HUBBLE, 9965, "cilium-agent")]
            if node == operator_node:
                ports.append((OPERATOR, 9963, "cilium-operator"))
            for target, port, process in ports:
                listeners[("TCP", port)] = MetricsServer(
                    process, lambda accept, t=target, n=node: self.expose(t, n, accept),
                    enabled=lambda t=target, n=node: self.enabled(t, n), now=lab.clock.now)

    def _config(self) -> dict[str, str]:
        cm = self._lab.store.get("ConfigMap", "kube-system", "cilium-config") or {}
        return cm.get("data") or {}

    def operator_node(self) -> str:
        """The node running the cilium-operator pod (the control plane before it is scheduled)."""
        for pod in self._lab.store.list("Pod", "kube-system"):
            if pod["metadata"]["name"].startswith("cilium-operator-") and pod["spec"].get("nodeName"):
                return pod["spec"]["nodeName"]
        return self._lab.cluster_config.control_plane.name

    def endpoints(self) -> list[MetricsEndpoint]:
        """Every endpoint cilium-config enables, agents and Hubble per node, the operator once."""
        data = self._config()
        out: list[MetricsEndpoint] = []
        if data.get("prometheus-serve-addr"):
            out += [MetricsEndpoint(AGENT, n, _port(data["prometheus-serve-addr"], 9962)) for n in self._lab.nodes]
        if data.get("operator-prometheus-serve-addr"):
            out.append(MetricsEndpoint(OPERATOR, self.operator_node(),
                                       _port(data["operator-prometheus-serve-addr"], 9963)))
        if data.get("enable-hubble", "true") == "true" and data.get("hubble-metrics", "").strip():
            out += [MetricsEndpoint(HUBBLE, n, _port(data.get("hubble-metrics-server", ":9965"), 9965))
                    for n in self._lab.nodes]
        return out

    def enabled(self, target: str, node: str | None = None) -> bool:
        if target == OPERATOR:
            node = node or self.operator_node()
        if target == HUBBLE and self._lab.hubble.outputs[node].metrics is None:
            return False  # a refused `hubble-metrics`: the server did not start
        return (target, node) in {(e.target, e.node) for e in self.endpoints()}

    def expose(self, target: str, node: str | None = None, accept: str = "") -> tuple[bytes, str] | None:
        """(body, content type) of one endpoint, or None when it is not enabled."""
        if target == OPERATOR:
            node = node or self.operator_node()
        if not self.enabled(target, node):
            return None
        if target == AGENT:
            return self.agents[node].expose(accept)
        if target == OPERATOR:
            return self.operator.expose(accept)
        return self._lab.hubble.outputs[node].expose(accept)
