"""`toServices` egress peers: Kubernetes Services resolved into endpoint selectors / CIDRs (§10.1).

Cilium (pkg/policy/k8s/service.go) keeps every CNP/CCNP that has `toServices` and re-translates
it whenever a matching Service or its backends change:

* `k8sService: {serviceName, namespace}` matches by name; `k8sServiceSelector: {selector,
  namespace}` matches the selector against the *Service's* labels (label sources ignored).
  An omitted/empty `namespace` matches Services in **every** namespace — for CNPs as well as
  CCNPs; the policy's own namespace is not substituted (`serviceRefMatches`,
  `serviceSelectorMatches`, test "by name without namespace").
* a matched Service **with** a pod selector becomes a generated `toEndpoints` selector: the
  Service's selector (keys as `any:`) plus `k8s:io.kubernetes.pod.namespace=<service ns>`;
* a matched Service **without** a selector becomes generated `toCIDRSet` /32 entries, one per
  backend address (EndpointSlice IPs). Those are ordinary CIDR peers: they never match
  Cilium-managed pods, hosts or nodes.
* Only `egress` items are translated; `toServices` in `egressDeny` selects nothing. An item whose
  `toServices` matches no Service selects nothing (it is never an L3 wildcard).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from ..labels import NAMESPACE_LABEL
from .selector import EQ, Selector, compile_label_selector, eq, make_selector, normalize_key


@dataclass(frozen=True, eq=True)
class ServiceInfo:
    """What the policy engine needs to know about one Kubernetes Service.

    selector: the Service's `spec.selector` (None or {} = selectorless Service);
    endpoint_ips: backend addresses from its EndpointSlices (used only when selectorless)."""

    name: str
    namespace: str
    labels: dict
    selector: dict | None
    endpoint_ips: tuple[str, ...] = ()

    __hash__ = None  # type: ignore[assignment]  # dict fields: compare by value, never hash

    @property
    def has_selector(self) -> bool:
        return bool(self.selector)


@dataclass(frozen=True, slots=True)
class ServiceRef:
    """One parsed `toServices` item. namespace "" = any namespace."""

    namespace: str
    name: str | None = None  # k8sService
    selector: Selector | None = None  # k8sServiceSelector (over Service labels)

    def matches(self, svc: ServiceInfo) -> bool:
        if self.namespace and self.namespace != svc.namespace:
            return False
        if self.selector is not None:
            return selector_matches_labels(self.selector, svc.labels or {})
        return self.name is not None and self.name == svc.name


def parse_service_refs(values) -> tuple[ServiceRef, ...]:
    out = []
    for item in values or []:
        item = item or {}
        sel = item.get("k8sServiceSelector")
        ref = item.get("k8sService")
        if sel is not None:
            sel = sel or {}
            out.append(ServiceRef(str(sel.get("namespace") or ""),
                                  selector=compile_label_selector(sel.get("selector"))))
        elif ref is not None:
            ref = ref or {}
            out.append(ServiceRef(str(ref.get("namespace") or ""), name=str(ref.get("serviceName") or "")))
    return tuple(out)


def selector_matches_labels(sel: Selector, labels: dict) -> bool:
    """A label selector against a plain k8s label map, ignoring label sources (labelsMatcher)."""
    if sel.match_all:
        return True
    for r in sel.reqs:
        value = labels.get(r.key)
        value = None if value is None else str(value)
        if r.op in (EQ, "In"):
            ok = value is not None and value in r.values
        elif r.op == "NotIn":
            ok = value is None or value not in r.values
        elif r.op == "Exists":
            ok = value is not None
        else:
            ok = value is None
        if not ok:
            return False
    return True


def service_peers(svc: ServiceInfo) -> tuple[list[Selector], list]:
    """The generated peers for one matched Service: (endpoint selectors, CIDR networks)."""
    if svc.has_selector:
        reqs = []
        for k, v in svc.selector.items():
            src, key = normalize_key(str(k))
            reqs.append(eq(src, key, "" if v is None else str(v)))
        reqs.append(eq("k8s", NAMESPACE_LABEL, svc.namespace))
        return [make_selector(reqs)], []
    nets = []
    for ip in svc.endpoint_ips:
        try:
            nets.append(ipaddress.ip_network(ipaddress.ip_address(ip)))
        except ValueError:
            continue
    return [], nets


__all__ = ["ServiceInfo", "ServiceRef", "parse_service_refs", "selector_matches_labels", "service_peers"]
