"""What every handler shares: the metric vectors with cached children, the Handler base class,
and the small flow readers Cilium's handlers use (FlowProtocol, enum names, reporter)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from ..enums import DROP_REASON_NAMES, VERDICTS
from .context import ContextOptions
from .options import MetricConfig

NAMESPACE = "hubble"
# client_golang's prometheus.DefBuckets (prometheus_client's defaults add .075, .75 and 7.5)
DEF_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

ACCESS_LOG, DROP, CAPTURE, TRACE, POLICY_VERDICT = 129, 1, 3, 4, 5
_L4_EVENTS = frozenset((DROP, TRACE, POLICY_VERDICT, CAPTURE))
L4_PROTOCOLS = ("TCP", "UDP", "ICMPv4", "ICMPv6", "SCTP", "VRRP", "IGMP")
_L4_NAMES = frozenset(L4_PROTOCOLS)

EMPTY: dict = {}


# -- metric vectors ------------------------------------------------------------------------------
class _Vec:
    """A labelled metric plus a label-tuple -> child cache, so the hot path skips .labels()."""

    __slots__ = ("metric", "labelnames", "children")

    def __init__(self, metric, labelnames: tuple[str, ...]) -> None:
        self.metric = metric
        self.labelnames = labelnames
        self.children: dict[tuple[str, ...], object] = {}

    def child(self, key: tuple[str, ...]):
        c = self.children.get(key)
        if c is None:
            c = self.children[key] = self.metric.labels(*key)
        return c

    def delete_matching(self, match: dict[str, str]) -> int:
        """Delete every series whose labels include all of `match` (DeletePartialMatch)."""
        try:
            idx = [(self.labelnames.index(k), v) for k, v in match.items()]
        except ValueError:
            return 0  # a label this metric does not have matches nothing
        doomed = [key for key in list(self.children) if all(key[i] == v for i, v in idx)]
        for key in doomed:
            self.children.pop(key, None)
            try:
                self.metric.remove(*key)
            except KeyError:
                pass
        return len(doomed)


class CounterVec(_Vec):
    __slots__ = ()
    #: how many identical flows one `process` call accounts for (HubbleMetrics.process's `weight`)
    weight = 1

    def __init__(self, registry: CollectorRegistry, name: str, help_text: str, labelnames) -> None:
        labelnames = tuple(labelnames)
        super().__init__(Counter(f"{NAMESPACE}_{name}", help_text, labelnames, registry=registry), labelnames)

    def inc(self, key: tuple[str, ...]) -> None:
        c = self.children.get(key)
        if c is None:
            c = self.children[key] = self.metric.labels(*key)
        c.inc(CounterVec.weight)


class HistogramVec(_Vec):
    __slots__ = ()

    def __init__(self, registry: CollectorRegistry, name: str, help_text: str, labelnames) -> None:
        labelnames = tuple(labelnames)
        metric = Histogram(f"{NAMESPACE}_{name}", help_text, labelnames, registry=registry, buckets=DEF_BUCKETS)
        super().__init__(metric, labelnames)


# -- handler base -----------------------------------------------------------------------------------
class Handler:
    """One enabled `hubble-metrics` entry. Subclasses register their vectors in __init__ and
    implement `process(flow)`; `vecs` lists them for pod clean-up."""

    name = ""

    def __init__(self, registry: CollectorRegistry, config: MetricConfig) -> None:
        self.config = config
        self.context = ContextOptions.parse(config)
        self.vecs: list[_Vec] = []
        # None when the handler has no context labels, so process() can skip the call
        self._ctx = self.context.values if self.context.label_names else None

    def counter(self, registry: CollectorRegistry, name: str, help_text: str, labelnames) -> CounterVec:
        vec = CounterVec(registry, name, help_text, labelnames)
        self.vecs.append(vec)
        return vec

    def histogram(self, registry: CollectorRegistry, name: str, help_text: str, labelnames) -> HistogramVec:
        vec = HistogramVec(registry, name, help_text, labelnames)
        self.vecs.append(vec)
        return vec

    def process(self, flow: dict) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def status(self) -> str:
        return self.context.status()

    def delete_pod(self, namespace: str, pod: str) -> int:
        matchers = self.context.pod_matchers(namespace, pod)
        return sum(vec.delete_matching(m) for m in matchers for vec in self.vecs)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} {self.status()!r}>"


# -- flow readers ------------------------------------------------------------------------------------
def flow_protocol(flow: dict) -> str:
    """Cilium's v1.FlowProtocol: the L7 protocol for access-log events, the L4 one for
    drop/trace/policy-verdict/capture events, else "Unknown flow"."""
    et = flow.get("event_type")
    t = et.get("type", 0) if et else 0
    if t == ACCESS_LOG:
        l7 = flow.get("l7")
        if l7:
            if "dns" in l7:
                return "DNS"
            if "http" in l7:
                return "HTTP"
            if "kafka" in l7:
                return "Kafka"
        return "Unknown L7"
    if t in _L4_EVENTS:
        l4 = flow.get("l4")
        if l4:
            for name in l4:
                if name in _L4_NAMES:
                    return name
        return "Unknown L4"
    return "Unknown flow"


def verdict(flow: dict) -> str:
    v = flow.get("verdict", "VERDICT_UNKNOWN")
    return v if isinstance(v, str) else VERDICTS.get(v, str(v))


def drop_reason(flow: dict) -> str:
    r = flow.get("drop_reason_desc", "DROP_REASON_UNKNOWN")
    return r if isinstance(r, str) else DROP_REASON_NAMES.get(r, str(r))


def reporter(flow: dict) -> str:
    d = flow.get("traffic_direction")
    return "client" if d == "EGRESS" else "server" if d == "INGRESS" else "unknown"


def latency_seconds(l7: dict) -> float:
    return int(l7.get("latency_ns", 0)) / 1e9


def trace_id(flow: dict) -> str:
    return flow.get("trace_context", EMPTY).get("parent", EMPTY).get("trace_id", "")
