"""Context options: the `source`/`destination`/labelsContext labels every handler can add
(Cilium's pkg/hubble/metrics/api/context.go).

Parsing compiles the options once into small functions, so a flow's context label values are
one call: `ctx.values(flow)` (or `ctx.inverted_values(flow)` for httpV2, which counts response
flows but labels them from the request's point of view).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .options import MetricConfig

Getter = Callable[[dict], str]

_EMPTY: dict = {}

# identifier -> canonical name (parsing lower-cases the value first)
IDENTIFIERS = ("identity", "namespace", "pod", "pod-short", "pod-name", "dns", "ip", "reserved-identity",
               "workload", "workload-name", "app")

# labelsContext values, in the fixed order the labels appear in every metric
CONTEXT_LABELS = (
    "source_ip", "source_pod", "source_namespace", "source_workload", "source_workload_kind", "source_app",
    "destination_ip", "destination_pod", "destination_namespace", "destination_workload",
    "destination_workload_kind", "destination_app", "traffic_direction",
)

_CONTEXT_KEYS = {
    "sourcecontext": ("source", ""), "sourceegresscontext": ("source", "EGRESS"),
    "sourceingresscontext": ("source", "INGRESS"), "destinationcontext": ("destination", ""),
    "destinationegresscontext": ("destination", "EGRESS"), "destinationingresscontext": ("destination", "INGRESS"),
}

_SHORT_POD = re.compile(r"^(.+?)(-[a-z0-9]+){1,2}$")
_APP_PREFIXES = ("k8s:app.kubernetes.io/name=", "k8s:k8s-app=", "k8s:app=")
_KUBE_APISERVER = "reserved:kube-apiserver"


def k8s_app(labels: list[str]) -> str:
    for label in labels:
        for prefix in _APP_PREFIXES:
            if label.startswith(prefix) and len(label) > len(prefix):
                return label[len(prefix):]
    return ""


def reserved_identity(labels: list[str]) -> str:
    if _KUBE_APISERVER in labels:
        return _KUBE_APISERVER
    for label in labels:
        if label.startswith("reserved:"):
            return label
    return ""


def _pod(ep: dict) -> str:
    ns = ep.get("namespace", "")
    pod = ep.get("pod_name", "")
    return f"{ns}/{pod}" if ns else pod


def _pod_short(ep: dict) -> str:
    ns = ep.get("namespace", "")
    pod = _SHORT_POD.sub(r"\1", ep.get("pod_name", ""))
    return f"{ns}/{pod}" if ns else pod


def _workload_name(ep: dict) -> str:
    workloads = ep.get("workloads")
    return workloads[0].get("name", "") if workloads else ""


def _workload_kind(ep: dict) -> str:
    workloads = ep.get("workloads")
    return workloads[0].get("kind", "") if workloads else ""


def _workload(ep: dict) -> str:
    workloads = ep.get("workloads")
    if not workloads:
        return ""
    ns = ep.get("namespace", "")
    name = workloads[0].get("name", "")
    return f"{ns}/{name}" if ns else name


_ENDPOINT_VALUES: dict[str, Callable[[dict], str]] = {
    "identity": lambda ep: ",".join(ep.get("labels", ())),
    "namespace": lambda ep: ep.get("namespace", ""),
    "pod": _pod,
    "pod-short": _pod_short,
    "pod-name": lambda ep: ep.get("pod_name", ""),
    "reserved-identity": lambda ep: reserved_identity(ep.get("labels", ())),
    "workload": _workload,
    "workload-name": _workload_name,
    "app": lambda ep: k8s_app(ep.get("labels", ())),
}


def _identifier_getter(ident: str, side: str) -> Getter:
    """Value of one identifier for the flow's `side` ("source"/"destination")."""
    if ident == "dns":
        names_key = side + "_names"
        return lambda flow: ",".join(flow.get(names_key, ()))
    if ident == "ip":
        return lambda flow: flow.get("IP", _EMPTY).get(side, "")
    of_ep = _ENDPOINT_VALUES[ident]
    return lambda flow: of_ep(flow.get(side) or _EMPTY)


def _label_getter(label: str, invert: bool) -> Getter:
    """Value of one labelsContext label; `invert` reads source_* from the destination."""
    if label == "traffic_direction":
        def direction(flow: dict) -> str:
            d = flow.get("traffic_direction")
            return d.lower() if d and d != "TRAFFIC_DIRECTION_UNKNOWN" else "unknown"
        return direction
    side, _, what = label.partition("_")
    if invert:
        side = "destination" if side == "source" else "source"
    if what == "ip":
        return lambda flow: flow.get("IP", _EMPTY).get(side, "")
    of_ep = {"pod": _ENDPOINT_VALUES["pod-name"], "namespace": _ENDPOINT_VALUES["namespace"],
             "workload": _workload_name, "workload_kind": _workload_kind, "app": _ENDPOINT_VALUES["app"]}[what]
    return lambda flow: of_ep(flow.get(side) or _EMPTY)


class ContextOptions:
    """Parsed context options of one handler."""

    def __init__(self) -> None:
        self.source: list[str] = []
        self.destination: list[str] = []
        self.overrides: dict[tuple[str, str], list[str]] = {}  # (side, direction) -> identifiers
        self.labels: list[str] = []  # in CONTEXT_LABELS order
        self.label_names: tuple[str, ...] = ()
        self.values: Callable[[dict], tuple[str, ...]] = lambda flow: ()
        self.inverted_values: Callable[[dict], tuple[str, ...]] = lambda flow: ()

    # -- parsing ------------------------------------------------------------------------------
    @classmethod
    def parse(cls, config: MetricConfig) -> ContextOptions:
        """Raises ValueError with Cilium's message for a bad identifier or label."""
        o = cls()
        for key, values in config.options:
            k = key.lower()
            if k in _CONTEXT_KEYS:
                side, direction = _CONTEXT_KEYS[k]
                idents = []
                for v in values:
                    ident = v.lower()
                    if ident not in IDENTIFIERS:
                        raise ValueError(f"unknown context '{v}'")
                    idents.append(ident)
                if direction:
                    o.overrides[(side, direction)] = idents
                elif side == "source":
                    o.source = idents
                else:
                    o.destination = idents
            elif k == "labelscontext":
                for v in values:
                    if v not in CONTEXT_LABELS:
                        raise ValueError(f"invalid labelsContext value: {v}")
                o.labels = [label for label in CONTEXT_LABELS if label in values]
        o._compile()
        return o

    def _compile(self) -> None:
        names = list(self.labels)
        if self.source:
            names.append("source")
        if self.destination:
            names.append("destination")
        self.label_names = tuple(names)
        if not names:
            return
        self.values = self._build(invert=False)
        self.inverted_values = self._build(invert=True)

    def _side(self, side: str) -> Getter | None:
        """First non-empty identifier value for `side`, honouring the per-direction overrides."""
        def chain(idents: list[str]) -> tuple[Getter, ...]:
            return tuple(_identifier_getter(i, side) for i in idents)

        default = chain(self.source if side == "source" else self.destination)
        ingress = self.overrides.get((side, "INGRESS")) or None
        egress = self.overrides.get((side, "EGRESS")) or None
        by_direction = {}
        if ingress:
            by_direction["INGRESS"] = chain(ingress)
        if egress:
            by_direction["EGRESS"] = chain(egress)

        def first(flow: dict) -> str:
            getters = by_direction.get(flow.get("traffic_direction"), default) if by_direction else default
            for get in getters:
                value = get(flow)
                if value:
                    return value
            return ""
        return first

    def _build(self, invert: bool) -> Callable[[dict], tuple[str, ...]]:
        label_getters = tuple(_label_getter(label, invert) for label in self.labels)
        # Cilium computes each side with its own identifiers on its own endpoint, then swaps
        # the two values when inverting (GetLabelValuesInvertSourceDestination).
        src, dst = self._side("source"), self._side("destination")
        want_src, want_dst = bool(self.source), bool(self.destination)

        if not want_src and not want_dst:
            return lambda flow: tuple([get(flow) for get in label_getters])

        if invert:  # the `source` label shows the destination side's value and vice versa
            src, dst = dst, src
        if want_src and want_dst:
            return lambda flow: tuple([get(flow) for get in label_getters] + [src(flow), dst(flow)])
        one = src if want_src else dst
        return lambda flow: tuple([get(flow) for get in label_getters] + [one(flow)])

    # -- introspection --------------------------------------------------------------------------
    def status(self) -> str:
        parts = []
        if self.labels:
            parts.append("labels=" + ",".join(self.labels))
        if self.source:
            parts.append("source=" + "|".join(self.source))
        if self.destination:
            parts.append("destination=" + "|".join(self.destination))
        return ",".join(sorted(parts))

    def pod_matchers(self, namespace: str, pod: str) -> list[dict[str, str]]:
        """Label sets whose series go away when the pod is deleted (DeleteMetricsAssociatedWithPod)."""
        matchers = []
        name = f"{namespace}/{pod}"
        for side in ("source", "destination"):
            idents = (self.source if side == "source" else self.destination) + \
                self.overrides.get((side, "EGRESS"), []) + self.overrides.get((side, "INGRESS"), [])
            if "pod" in idents:
                matchers.append({side: name})
            if f"{side}_pod" in self.labels and f"{side}_namespace" in self.labels:
                matchers.append({f"{side}_namespace": namespace, f"{side}_pod": pod})
        return matchers
