"""The policy repository: imported rules, the selector cache, per-identity resolved policy.

Shape follows Cilium's pkg/policy: objects are parsed once into rules whose selectors live in
a shared `SelectorCache`; `policy_for(identity)` resolves lazily and caches the result, and a
change only invalidates the identities it can affect (subjects of the old/new rules, the
identity whose labels changed). Peer membership is read live from the cached selectors, so a
new peer identity only needs the verdict memos cleared, not a recomputation.

`toServices` items get their peers from the Services handed to `set_services` (services.py):
on a Service change only rules using toServices are re-resolved, and only the subjects of
rules whose generated peers actually changed lose their resolved policy.
"""

from __future__ import annotations

import ipaddress

from ..labels import LabelSet
from .endpoint_policy import DirectionPolicy, EndpointPolicy, Entry
from .fqdn import FQDNSelector
from .knp import parse_network_policy
from .l7 import L7Spec
from .rule import Rule, RuleItem, cidr_selectors, parse_cilium_policy
from .sanitize import sanitize
from .selector import CachedSelector, Selector, SelectorCache
from .services import ServiceInfo, service_peers
from .types import KIND_CCNP, KIND_CNP, KIND_KNP, VALID_MESSAGE, ImportResult, PolicyConfig, PolicyRef

KIND_ALIASES = {
    "ciliumnetworkpolicy": KIND_CNP, "ciliumnetworkpolicies": KIND_CNP, "cnp": KIND_CNP, "ciliumnp": KIND_CNP,
    "ciliumclusterwidenetworkpolicy": KIND_CCNP, "ciliumclusterwidenetworkpolicies": KIND_CCNP,
    "ccnp": KIND_CCNP, "networkpolicy": KIND_KNP, "networkpolicies": KIND_KNP, "netpol": KIND_KNP,
}


def canonical_kind(kind: str) -> str:
    return KIND_ALIASES.get(kind.lower(), kind)


def is_endpoint_identity(identity_id: int) -> bool:
    """Identities that are policy subjects: pods, health (4), init (5), ingress (8)."""
    return identity_id in (4, 5, 8) or 256 <= identity_id < (1 << 24)


class PolicyRepository:
    def __init__(self, config: PolicyConfig | None = None) -> None:
        self.config = config or PolicyConfig()
        self.revision = 1
        self.selector_cache = SelectorCache()
        self._objects: dict[tuple[str, str, str], list[Rule]] = {}
        self._subject_rules: dict[CachedSelector, set[Rule]] = {}
        self._policies: dict[int, EndpointPolicy] = {}
        self._named_ports: dict[str, set[tuple[int, str]]] = {}
        self._services: tuple[ServiceInfo, ...] = ()
        self._service_rules: set[Rule] = set()
        self._cfg = self.config.snapshot()
        self.errors: dict[tuple[str, str, str], str] = {}  # last sanitisation error per object

    # -- policy objects ----------------------------------------------------------------------
    def upsert(self, obj: dict) -> ImportResult:
        kind = canonical_kind(str(obj.get("kind") or ""))
        meta = obj.get("metadata") or {}
        key = (kind, str(meta.get("namespace") or "") if kind != KIND_CCNP else "", str(meta.get("name") or ""))
        err = sanitize(obj, self.config)
        if err is not None:
            self.errors[key] = err
            return ImportResult(False, err)
        self.errors.pop(key, None)
        revision = self.revision + 1
        if kind == KIND_KNP:
            rules = parse_network_policy(obj, revision, self.config)
        else:
            rules = parse_cilium_policy(obj, revision, self.config)
        for r in rules:
            self._resolve_services(r)
            self._register(r)
        old = self._objects.get(key, [])
        affected = self._subjects(old) | self._subjects(rules)
        for r in old:
            self._unregister(r)
        self._objects[key] = rules
        self.revision = revision
        self._invalidate(affected)
        return ImportResult(True, VALID_MESSAGE)

    def delete(self, kind: str, namespace: str, name: str) -> bool:
        kind = canonical_kind(kind)
        key = (kind, namespace if kind != KIND_CCNP else "", name)
        self.errors.pop(key, None)
        rules = self._objects.pop(key, None)
        if rules is None:
            return False
        affected = self._subjects(rules)
        for r in rules:
            self._unregister(r)
        self.revision += 1
        self._invalidate(affected)
        return True

    def objects(self) -> dict[tuple[str, str, str], list[Rule]]:
        return dict(self._objects)

    # -- identities / named ports ----------------------------------------------------------
    def set_identity(self, identity_id: int, labels: LabelSet) -> None:
        if self.selector_cache.set_identity(identity_id, labels):
            self._policies.pop(identity_id, None)
            self._clear_memos()

    def remove_identity(self, identity_id: int) -> None:
        if self.selector_cache.remove_identity(identity_id):
            self._policies.pop(identity_id, None)
            self._clear_memos()

    def set_named_ports(self, ports: dict[str, set[tuple[int, str]]]) -> None:
        new = {str(k).lower(): set(v) for k, v in ports.items()}
        if new == self._named_ports:
            return
        self._named_ports = new
        for ident_id, pol in list(self._policies.items()):
            if getattr(pol, "uses_named_ports", False):
                del self._policies[ident_id]

    # -- services (toServices) ----------------------------------------------------------------
    def set_services(self, services) -> bool:
        """Replace the known Services; re-resolve rules using toServices.

        Returns True if some rule's generated peers changed (then `cidr_prefixes()` may have
        changed too and the affected identities' policies were invalidated)."""
        new = tuple(sorted(services, key=lambda s: (s.namespace, s.name)))
        if new == self._services:
            return False
        self._services = new
        affected: set[int] = set()
        changed = False
        cache = self.selector_cache
        for rule in self._service_rules:
            rule_changed = False
            for it in rule.items:
                if it.services is None:
                    continue
                peers, cidrs = self._service_item_peers(it)
                if peers == it.peers and cidrs == it.cidrs:
                    continue
                new_cs = [cache.add(sel) for sel in peers]
                for cs in it.peer_cs:
                    cache.release(cs)
                it.peers, it.cidrs, it.peer_cs = peers, cidrs, new_cs
                rule_changed = True
            if rule_changed:
                changed = True
                if rule.subject_cs is not None:
                    affected |= rule.subject_cs.ids
        if changed:
            self.revision += 1
            self._invalidate(affected)
        return changed

    def services(self) -> tuple[ServiceInfo, ...]:
        return self._services

    def _resolve_services(self, rule: Rule) -> None:
        for it in rule.items:
            if it.services is not None:
                it.peers, it.cidrs = self._service_item_peers(it)

    def _service_item_peers(self, it: RuleItem) -> tuple[tuple[Selector, ...], tuple]:
        """Generated toEndpoints / toCIDRSet peers of one toServices item (services.py)."""
        peers: list[Selector] = []
        cidrs: list = []
        for svc in self._services:
            if not any(ref.matches(svc) for ref in it.services or ()):
                continue
            sels, nets = service_peers(svc)
            peers.extend(sels)
            for net in nets:
                cidrs.append(net)
                peers.extend(cidr_selectors(net))
        return tuple(dict.fromkeys(peers)), tuple(dict.fromkeys(cidrs))

    # -- queries -----------------------------------------------------------------------------
    def cidr_prefixes(self) -> set[ipaddress.IPv4Network]:
        out = set()
        for rules in self._objects.values():
            for r in rules:
                for it in r.items:
                    for net in it.cidrs:
                        if net.version == 4 and net.prefixlen > 0:
                            out.add(net)
        return out

    def fqdn_selectors(self) -> list[FQDNSelector]:
        out: dict[FQDNSelector, None] = {}
        for rules in self._objects.values():
            for r in rules:
                for it in r.items:
                    for fs in it.fqdns:
                        out[fs] = None
        return list(out)

    def selecting_rules(self, identity_id: int) -> list[PolicyRef]:
        return list(dict.fromkeys(r.ref for r in self._rules_for(identity_id)))

    def policy_for(self, identity_id: int) -> EndpointPolicy:
        snap = self.config.snapshot()
        if snap != self._cfg:
            self._cfg = snap
            self._policies.clear()
        pol = self._policies.get(identity_id)
        if pol is None:
            pol = self._policies[identity_id] = self._compute(identity_id)
        return pol

    def invalidate_all(self) -> None:
        """Drop every resolved policy (e.g. after changing config fields in place)."""
        self._policies.clear()

    # -- internals ---------------------------------------------------------------------------
    def _register(self, rule: Rule) -> None:
        cache = self.selector_cache
        if rule.subject is not None:
            rule.subject_cs = cache.add(rule.subject)
            self._subject_rules.setdefault(rule.subject_cs, set()).add(rule)
        if rule.uses_services:
            self._service_rules.add(rule)
        for it in rule.items:
            it.peer_cs = [cache.add(s) for s in it.peers] if it.peers is not None else []

    def _unregister(self, rule: Rule) -> None:
        cache = self.selector_cache
        if rule.subject_cs is not None:
            users = self._subject_rules.get(rule.subject_cs)
            if users is not None:
                users.discard(rule)
                if not users:
                    del self._subject_rules[rule.subject_cs]
            cache.release(rule.subject_cs)
        self._service_rules.discard(rule)
        for it in rule.items:
            for cs in it.peer_cs:
                cache.release(cs)
            it.peer_cs = []

    def _subjects(self, rules: list[Rule]) -> set[int]:
        out: set[int] = set()
        for r in rules:
            if r.subject_cs is not None:
                out |= r.subject_cs.ids
        return out

    def _invalidate(self, identity_ids: set[int]) -> None:
        for i in identity_ids:
            self._policies.pop(i, None)
        self._clear_memos()

    def _clear_memos(self) -> None:
        for pol in self._policies.values():
            pol.clear_memo()

    def _rules_for(self, identity_id: int) -> list[Rule]:
        if not is_endpoint_identity(identity_id):
            return []
        rules: list[Rule] = []
        for cs in self.selector_cache.selected_by.get(identity_id, ()):
            rules.extend(self._subject_rules.get(cs, ()))
        rules.sort(key=lambda r: (r.ref.kind, r.ref.namespace, r.ref.name))
        return rules

    def _compute(self, identity_id: int) -> EndpointPolicy:
        cfg = self.config
        rules = self._rules_for(identity_id)
        always = cfg.enforcement_mode == "always" and is_endpoint_identity(identity_id)
        never = cfg.enforcement_mode == "never"
        ingress = DirectionPolicy(always or any(r.default_deny_ingress for r in rules),
                                  any(r.ingress for r in rules))
        egress = DirectionPolicy(always or any(r.default_deny_egress for r in rules),
                                 any(r.egress for r in rules))
        dirs = {"ingress": ingress, "egress": egress}
        uses_named = False
        for r in rules:
            for it in r.items:
                d = dirs[it.direction]
                target = d.denies if it.deny else d.allows
                if it.peers is not None and not it.peer_cs:
                    continue  # selects nothing (e.g. `fromEndpoints: []` or `{}`)
                peers = None if it.peers is None else tuple(it.peer_cs)
                if it.ports is None:
                    target.append(Entry(peers, None, None, r.ref))
                    continue
                for m in it.icmps:
                    target.append(Entry(peers, m, None, r.ref))
                for spec, l7 in it.ports:
                    uses_named = uses_named or spec.is_named
                    for m in spec.resolve(self._named_ports):
                        target.append(Entry(peers, m, None if it.deny else l7, r.ref))
        error = None
        for d in dirs.values():
            error = _check_parsers(d.allows) or error
            if not d.enforced:
                # Non-default-deny direction: ports with L7 get an allow-all L7 wildcard so the
                # policy only adds visibility (TestHTTPWildcardInDefaultAllow).
                extra = [Entry(None, e.l4, L7Spec(e.l7.parser, allow_all=True), e.ref)
                         for e in d.allows if e.l7 is not None]
                d.allows.extend(extra)
        pol = EndpointPolicy(identity_id, ingress, egress, cfg.allow_localhost == "always", never,
                             tuple(dict.fromkeys(r.ref for r in rules)), error)
        pol.uses_named_ports = uses_named
        return pol


def _check_parsers(entries: list[Entry]) -> str | None:
    """Different L7 parsers on the same port/protocol cannot be merged (regeneration error)."""
    seen: dict[tuple[int, int, int], str] = {}
    for e in entries:
        if e.l7 is None or e.l4 is None:
            continue
        for proto in e.l4.protos:
            k = (proto, e.l4.lo, e.l4.hi)
            if seen.setdefault(k, e.l7.parser) != e.l7.parser:
                return (f"cannot merge conflicting L7 parsers ({seen[k]}/{e.l7.parser}) "
                        f"on port {e.l4.lo}/{proto}")
    return None
