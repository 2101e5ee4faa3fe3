"""Kubernetes NetworkPolicy translated into Cilium allow rules (spec §16).

Each peer of `from`/`to` becomes its own selector; empty/missing `from` is a wildcard over
every identity; ports default to TCP and missing port means "all ports of that protocol".
Default deny follows policyTypes as the API server defaults it.
"""

from __future__ import annotations

from ..labels import NAMESPACE_LABEL, NAMESPACE_LABELS_PREFIX
from .l4 import PortSpec, is_svc_name
from .rule import Rule, RuleItem, cidr_selectors, derived_labels, parse_network
from .selector import Requirement, Selector, compile_label_selector, eq, make_selector
from .types import KIND_KNP, PolicyConfig, PolicyRef


def _k8s_selector(sel: dict | None) -> Selector:
    """podSelector keys are plain k8s pod labels -> source k8s."""
    return compile_label_selector(sel or {}, key_prefix_source="k8s")


def _namespace_selector(sel: dict) -> Selector:
    """namespaceSelector: keys rewritten to io.cilium.k8s.namespace.labels.<key>; {} = any ns."""
    reqs: list[Requirement] = []
    for k, v in (sel.get("matchLabels") or {}).items():
        reqs.append(eq("k8s", NAMESPACE_LABELS_PREFIX + str(k), str(v)))
    for e in sel.get("matchExpressions") or []:
        reqs.append(Requirement("k8s", NAMESPACE_LABELS_PREFIX + str(e.get("key", "")), e.get("operator"),
                                frozenset(str(x) for x in e.get("values") or [])))
    if not reqs:
        reqs.append(Requirement("k8s", NAMESPACE_LABEL, "Exists"))
    return make_selector(reqs)


def _peer_selectors(peer: dict, namespace: str) -> tuple[list[Selector], list]:
    if peer.get("ipBlock") is not None:
        block = peer["ipBlock"] or {}
        try:
            net = parse_network(str(block.get("cidr", "")))
            excepts = [parse_network(str(e)) for e in block.get("except") or []]
        except ValueError:
            return [], []
        return cidr_selectors(net, excepts), [net, *excepts]
    pod = peer.get("podSelector")
    ns = peer.get("namespaceSelector")
    if ns is not None:
        sel = _namespace_selector(ns)
        if pod is not None:
            sel = make_selector(sel.reqs + _k8s_selector(pod).reqs)
        return [sel], []
    if pod is not None:
        return [_k8s_selector(pod).with_req(eq("k8s", NAMESPACE_LABEL, namespace))], []
    return [], []


def _ports(ports: list | None) -> tuple[tuple[PortSpec, None], ...] | None:
    if not ports:
        return None
    out = []
    for p in ports:
        p = p or {}
        proto = str(p.get("protocol") or "TCP").upper()
        port = p.get("port")
        if port is None:
            out.append((PortSpec(proto, 0, 0), None))
        elif isinstance(port, int):
            out.append((PortSpec(proto, port, int(p.get("endPort") or 0)), None))
        else:
            text = str(port)
            if text.isdigit():
                out.append((PortSpec(proto, int(text), int(p.get("endPort") or 0)), None))
            elif is_svc_name(text):
                out.append((PortSpec(proto, None, 0, text.lower()), None))
    return tuple(out)


def parse_network_policy(obj: dict, revision: int, config: PolicyConfig) -> list[Rule]:
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    namespace = str(meta.get("namespace") or "default")
    annotations = meta.get("annotations") or {}
    name = str(annotations.get("policy.cilium.io/name") or annotations.get("io.cilium.name") or meta.get("name") or "")
    uid = str(meta.get("uid") or "")
    subject = _k8s_selector(spec.get("podSelector")).with_req(eq("k8s", NAMESPACE_LABEL, namespace), replace=True)
    ingress_rules = spec.get("ingress") or []
    egress_rules = spec.get("egress") or []
    types = spec.get("policyTypes")
    if not types:  # API server defaulting
        types = ["Ingress"] + (["Egress"] if egress_rules else [])
    items: list[RuleItem] = []
    for direction, rules, peer_key in (("ingress", ingress_rules, "from"), ("egress", egress_rules, "to")):
        for r in rules:
            r = r or {}
            peers_in = r.get(peer_key)
            ports = _ports(r.get("ports"))
            if not peers_in:
                peers = None  # every identity, incl. world/host
                cidrs: list = []
            else:
                sels: list[Selector] = []
                cidrs = []
                for peer in peers_in:
                    s, c = _peer_selectors(peer or {}, namespace)
                    sels.extend(s)
                    cidrs.extend(c)
                peers = tuple(dict.fromkeys(sels))
            items.append(RuleItem(direction, False, peers, ports, (), (), tuple(cidrs)))
    has_in = bool(ingress_rules) or "Ingress" in types
    has_eg = bool(egress_rules) or "Egress" in types
    ref = PolicyRef(name, namespace, KIND_KNP, derived_labels(KIND_KNP, name, namespace, uid), revision)
    return [Rule(subject, items, has_in, has_eg, has_in, has_eg, ref)]
