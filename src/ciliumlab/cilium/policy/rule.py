"""Parsed rules: CNP/CCNP specs turned into selector-based rule items (spec §1, §5, §6).

Parsing happens once per import. Each rule keeps its (scoped) subject selector and a list of
`RuleItem`s — one per ingress/egress/ingressDeny/egressDeny entry — whose peers are already
namespace-/cluster-scoped the way `ParseToCiliumRule` does it. Input is assumed sanitised
(`sanitize.py` runs first), so parsing is tolerant rather than strict.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from ..labels import NAMESPACE_LABEL, NAMESPACE_LABELS_PREFIX
from .entities import WILDCARD, WORLD_SELECTORS, entity_selectors
from .fqdn import FQDNSelector
from .l4 import L4Match, PortSpec, icmp_match, is_svc_name, parse_go_uint16
from .l7 import L7Spec
from .selector import Requirement, Selector, compile_label_selector, eq, make_selector
from .types import KIND_CCNP, KIND_CNP, PolicyConfig, PolicyRef

DERIVED_FROM = "io.cilium.k8s.policy.derived-from"
POLICY_NAME = "io.cilium.k8s.policy.name"
POLICY_NAMESPACE = "io.cilium.k8s.policy.namespace"
POLICY_UID = "io.cilium.k8s.policy.uid"

INGRESS_PEERS = ("fromEndpoints", "fromCIDR", "fromCIDRSet", "fromEntities", "fromNodes", "fromGroups")
EGRESS_PEERS = ("toEndpoints", "toCIDR", "toCIDRSet", "toEntities", "toServices", "toGroups", "toNodes",
                "toFQDNs")


@dataclass(eq=False)
class RuleItem:
    """One entry of ingress/egress/ingressDeny/egressDeny.

    peers: None = every identity (no L3 field at all); () = nothing.
    ports: None = L3-only (no toPorts / icmps); else the L4 entries with their L7 rules."""

    direction: str  # "ingress" | "egress"
    deny: bool
    peers: tuple[Selector, ...] | None
    ports: tuple[tuple[PortSpec, L7Spec | None], ...] | None
    icmps: tuple[L4Match, ...] = ()
    fqdns: tuple[FQDNSelector, ...] = ()
    cidrs: tuple[ipaddress._BaseNetwork, ...] = ()
    peer_cs: list = field(default_factory=list)  # CachedSelectors, set by the repository

    @property
    def uses_named_ports(self) -> bool:
        return any(p.is_named for p, _ in self.ports or ())


@dataclass(eq=False)
class Rule:
    """One rule (a `spec`/`specs[i]`, or a translated NetworkPolicy)."""

    subject: Selector | None  # None: nodeSelector (host policy) — selects no endpoint here
    items: list[RuleItem]
    ingress: bool  # participates in ingress (has ingress/ingressDeny items, or KNP policyType)
    egress: bool
    default_deny_ingress: bool
    default_deny_egress: bool
    ref: PolicyRef
    subject_cs: object = None  # CachedSelector, set by the repository

    @property
    def uses_named_ports(self) -> bool:
        return any(i.uses_named_ports for i in self.items)


# --------------------------------------------------------------------------------------------
def derived_labels(kind: str, name: str, namespace: str, uid: str, user_labels=()) -> tuple[str, ...]:
    """The rule labels Cilium derives from the object (utils.GetPolicyLabels), sorted by key."""
    labels = [("k8s", DERIVED_FROM, kind), ("k8s", POLICY_NAME, name)]
    if namespace:
        labels.append(("k8s", POLICY_NAMESPACE, namespace))
    labels.append(("k8s", POLICY_UID, uid))
    for ul in user_labels or ():
        if isinstance(ul, dict):
            labels.append((str(ul.get("source") or "unspec"), str(ul.get("key", "")), str(ul.get("value") or "")))
    labels.sort(key=lambda t: t[1])
    return tuple(f"{s}:{k}={v}" for s, k, v in labels)


def scope_peer_selector(sel: Selector, namespace: str, matches_init: bool) -> Selector:
    """getEndpointSelector: pin peers without a namespace to the policy namespace (§5)."""
    if sel.has_source("reserved"):
        return sel
    if sel.has_key("k8s", NAMESPACE_LABEL) or sel.has_key("any", NAMESPACE_LABEL):
        return sel
    if namespace == "":
        if matches_init:
            return sel
        return sel.with_req(Requirement("k8s", NAMESPACE_LABEL, "Exists"))
    if sel.has_key_prefix("k8s", NAMESPACE_LABELS_PREFIX) or sel.has_key_prefix("any", NAMESPACE_LABELS_PREFIX):
        return sel
    return sel.with_req(eq("k8s", NAMESPACE_LABEL, namespace))


def parse_network(text: str):
    """A CIDR or bare IP (host prefix) as an ip_network."""
    if "/" in text:
        return ipaddress.ip_network(text, strict=False)
    return ipaddress.ip_network(ipaddress.ip_address(text))


def cidr_selectors(net, excepts=()) -> list[Selector]:
    """Selectors for a CIDR (minus except prefixes): identities with contained `cidr:` labels.

    A /0 prefix is the world: Cilium maps it to reserved:world(-ipv4/-ipv6)."""
    reqs = [Requirement("cidr", str(net), "Exists")]
    reqs += [Requirement("cidr", str(e), "DoesNotExist") for e in excepts]
    out = [make_selector(reqs)]
    if net.prefixlen == 0:
        out.extend(WORLD_SELECTORS)
    return out


def fqdn_peer_selector(fs: FQDNSelector) -> Selector:
    label = fs.label
    return make_selector([Requirement("fqdn", label.key, "Exists")])


def parse_port_rules(to_ports: list | None) -> tuple[tuple[PortSpec, L7Spec | None], ...]:
    out = []
    for pr in to_ports or []:
        pr = pr or {}
        l7 = L7Spec.from_rules(pr.get("rules"))
        ports = pr.get("ports") or []
        if not ports:
            out.append((PortSpec("ANY", 0, 0), l7))
            continue
        for pp in ports:
            pp = pp or {}
            proto = str(pp.get("protocol") or "ANY").upper()
            port = str(pp.get("port", "") if pp.get("port") is not None else "")
            end = int(pp.get("endPort") or 0)
            if port == "":
                out.append((PortSpec(proto, 0, 0), l7))
            elif is_svc_name(port):
                out.append((PortSpec(proto, None, 0, port.lower()), l7))
            else:
                try:
                    out.append((PortSpec(proto, parse_go_uint16(port), end), l7))
                except ValueError:
                    continue
    return tuple(out)


def parse_icmps(icmps: list | None) -> tuple[L4Match, ...]:
    out = []
    for ir in icmps or []:
        for f in (ir or {}).get("fields") or []:
            m = icmp_match(f.get("family"), f.get("type"))
            if m is not None:
                out.append(m)
    return tuple(out)


def parse_item(item: dict, direction: str, deny: bool, namespace: str, matches_init: bool,
               config: PolicyConfig) -> RuleItem:
    item = item or {}
    peer_fields = INGRESS_PEERS if direction == "ingress" else EGRESS_PEERS
    present = [f for f in peer_fields if item.get(f) is not None]
    peers: list[Selector] = []
    fqdns: list[FQDNSelector] = []
    cidrs: list = []
    for f in present:
        values = item.get(f) or []
        if f in ("fromEndpoints", "toEndpoints"):
            for ls in values:
                peers.append(scope_peer_selector(compile_label_selector(ls), namespace, matches_init))
        elif f in ("fromEntities", "toEntities"):
            for ent in values:
                try:
                    peers.extend(entity_selectors(str(ent), config.cluster_name))
                except KeyError:
                    pass
        elif f in ("fromCIDR", "toCIDR"):
            for c in values:
                try:
                    net = parse_network(str(c))
                except ValueError:
                    continue
                cidrs.append(net)
                peers.extend(cidr_selectors(net))
        elif f in ("fromCIDRSet", "toCIDRSet"):
            for cr in values:
                cr = cr or {}
                if not cr.get("cidr"):
                    continue  # cidrGroupRef / cidrGroupSelector: CiliumCIDRGroups not modelled
                try:
                    net = parse_network(str(cr["cidr"]))
                    excepts = [parse_network(str(e)) for e in cr.get("except") or []]
                except ValueError:
                    continue
                cidrs.append(net)
                cidrs.extend(excepts)
                peers.extend(cidr_selectors(net, excepts))
        elif f == "toFQDNs":
            for d in values:
                fs = FQDNSelector.from_dict(d or {})
                fqdns.append(fs)
                peers.append(fqdn_peer_selector(fs))
        elif f in ("fromNodes", "toNodes"):
            for ls in values:
                sel = compile_label_selector(ls)
                peers.append(sel.with_req(Requirement("reserved", "remote-node", "Exists")))
        # fromGroups/toGroups (cloud provider groups) and toServices: not modelled -> nothing
    to_ports = item.get("toPorts")
    icmps = parse_icmps(item.get("icmps"))
    has_l4 = bool(to_ports) or bool(icmps)
    if not present:
        # No L3 field: with ports/icmps it is a wildcard over all identities; `{}` selects nothing.
        peer_tuple: tuple[Selector, ...] | None = None if has_l4 else ()
    elif any(p.is_wildcard for p in peers):
        peer_tuple = None
    else:
        peer_tuple = tuple(dict.fromkeys(peers))
    ports = None
    if to_ports:
        ports = parse_port_rules(to_ports)
    elif icmps:
        ports = ()
    return RuleItem(direction, deny, peer_tuple, ports, icmps, tuple(fqdns), tuple(cidrs))


def _matches_init(selector_dict: dict | None) -> bool:
    sel = compile_label_selector(selector_dict)
    return sel.has_key("reserved", "init")


def parse_rule(spec: dict, kind: str, name: str, namespace: str, uid: str, revision: int,
               config: PolicyConfig) -> Rule:
    """One CNP/CCNP rule, scoped like ParseToCiliumRule."""
    ns = namespace if kind == KIND_CNP else ""
    subject: Selector | None = None
    es = spec.get("endpointSelector")
    if es is not None:
        subject = compile_label_selector(es)
        if ns:
            subject = subject.with_req(eq("k8s", NAMESPACE_LABEL, ns), replace=True)
    matches_init = _matches_init(es) if es is not None else False
    items: list[RuleItem] = []
    for section, direction, deny in (("ingress", "ingress", False), ("ingressDeny", "ingress", True),
                                     ("egress", "egress", False), ("egressDeny", "egress", True)):
        for it in spec.get(section) or []:
            items.append(parse_item(it, direction, deny, ns, matches_init, config))
    has_in = bool(spec.get("ingress") or spec.get("ingressDeny"))
    has_eg = bool(spec.get("egress") or spec.get("egressDeny"))
    edd = spec.get("enableDefaultDeny") or {}
    if config.enable_non_default_deny_policies:
        dd_in = has_in if edd.get("ingress") is None else bool(edd["ingress"])
        dd_eg = has_eg if edd.get("egress") is None else bool(edd["egress"])
    else:
        dd_in = dd_eg = True
    labels = derived_labels(kind, name, ns, uid, spec.get("labels"))
    ref = PolicyRef(name, ns, kind, labels, revision)
    return Rule(subject, items, has_in, has_eg, dd_in and has_in, dd_eg and has_eg, ref)


def parse_cilium_policy(obj: dict, revision: int, config: PolicyConfig) -> list[Rule]:
    meta = obj.get("metadata") or {}
    kind = obj.get("kind") or KIND_CNP
    namespace = str(meta.get("namespace") or "")
    if kind == KIND_CNP and not namespace:
        kind = KIND_CCNP  # CNP.Parse treats an object without namespace as clusterwide
    name = str(meta.get("name") or "")
    uid = str(meta.get("uid") or "")
    specs = []
    if obj.get("spec") is not None:
        specs.append(obj["spec"])
    specs.extend(obj.get("specs") or [])
    return [parse_rule(s or {}, kind, name, namespace, uid, revision, config) for s in specs]


__all__ = ["Rule", "RuleItem", "parse_cilium_policy", "parse_rule", "derived_labels", "WILDCARD"]
