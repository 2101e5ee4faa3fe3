"""Cilium endpoint selectors: source-aware label selectors over identity label sets.

Cilium rewrites every selector key into `source.key` form (`org` -> `any.org`,
`k8s:org` -> `k8s.org`, `reserved.host` -> `reserved.host`) and matches it against identity
labels where source `any` matches every source and `cidr:` keys match by prefix containment
(spec/policy.md §2.1, §4). We keep the (source, key) pair instead of the dotted string.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from ..labels import ANY, LabelSet

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
EQ = "Equals"


def normalize_key(key: str) -> tuple[str, str]:
    """`src:key` -> (src, key); `$host`/`reserved.host` -> reserved; bare -> (any, key)."""
    if key.startswith("$"):
        return "reserved", key[1:]
    src, sep, rest = key.partition(":")
    if sep:
        return (src or ANY), rest
    if key.startswith("reserved."):
        return "reserved", key[len("reserved."):]
    return ANY, key


def parse_cidr_key(key: str):
    """A `cidr:` label key (`10.0.0.0/8`, IPv6 written with '-') as an ip_network, or None."""
    try:
        return ipaddress.ip_network(key.replace("-", ":"), strict=False)
    except ValueError:
        return None


class IdentityInfo:
    """An identity's labels plus precomputed CIDR prefixes (hot in CIDR matching)."""

    __slots__ = ("id", "labels", "cidrs")

    def __init__(self, identity_id: int, labels: LabelSet) -> None:
        self.id = identity_id
        self.labels = labels
        nets = []
        for label in labels:
            if label.source == "cidr":
                net = parse_cidr_key(label.key)
                if net is not None:
                    nets.append(net)
        self.cidrs = tuple(nets)


@dataclass(frozen=True, slots=True)
class Requirement:
    source: str
    key: str
    op: str  # Equals | In | NotIn | Exists | DoesNotExist
    values: frozenset[str] = frozenset()

    def _present(self, ident: IdentityInfo):
        """The value of the matching label (or True for a cidr containment hit), else None."""
        if self.source == "cidr":
            net = parse_cidr_key(self.key)
            if net is None:
                return None
            for c in ident.cidrs:
                if c.version == net.version and c.prefixlen >= net.prefixlen and c.subnet_of(net):
                    return ""
            return None
        label = ident.labels.lookup(self.source, self.key)
        return None if label is None else label.value

    def matches(self, ident: IdentityInfo) -> bool:
        value = self._present(ident)
        op = self.op
        if op == EQ or op == "In":
            return value is not None and value in self.values
        if op == "NotIn":
            return value is None or value not in self.values
        if op == "Exists":
            return value is not None
        return value is None  # DoesNotExist

    def __str__(self) -> str:
        k = f"{self.source}:{self.key}"
        if self.op == EQ:
            return f"{k}={next(iter(self.values))}"
        if self.op in ("In", "NotIn"):
            return f"{k} {self.op.lower()} ({','.join(sorted(self.values))})"
        return k if self.op == "Exists" else f"!{k}"


@dataclass(frozen=True, slots=True)
class Selector:
    """An AND of requirements. No requirements = wildcard (every identity)."""

    reqs: tuple[Requirement, ...]
    match_all: bool = False  # `reserved:all` in matchLabels selects everything

    @property
    def is_wildcard(self) -> bool:
        return self.match_all or not self.reqs

    def matches(self, ident: IdentityInfo) -> bool:
        if self.match_all:
            return True
        for r in self.reqs:
            if not r.matches(ident):
                return False
        return True

    def has_key(self, source: str, key: str) -> bool:
        return any(r.source == source and r.key == key for r in self.reqs)

    def has_key_prefix(self, source: str, prefix: str) -> bool:
        return any(r.source == source and r.key.startswith(prefix) for r in self.reqs)

    def has_source(self, source: str) -> bool:
        return any(r.source == source for r in self.reqs)

    def with_req(self, req: Requirement, replace: bool = False) -> Selector:
        reqs = self.reqs
        if replace:
            reqs = tuple(r for r in reqs if not (r.source == req.source and r.key == req.key and r.op == EQ))
        return Selector(tuple(sorted(set(reqs + (req,)), key=_req_sort)), self.match_all)

    def anchor(self) -> tuple[str, frozenset[str]] | None:
        """A (key, values) every selected identity must carry — used to index candidates.

        Prefers keys other than the namespace/cluster pins, which are the least selective."""
        best = None
        for r in self.reqs:
            if r.op in (EQ, "In") and r.source != "cidr":
                if best is None or (best.key.startswith("io.") and not r.key.startswith("io.")):
                    best = r
        return None if best is None else (best.key, best.values)

    def __str__(self) -> str:
        if self.match_all:
            return "reserved:all"
        return "&".join(str(r) for r in self.reqs) or "<all>"


def _req_sort(r: Requirement):
    return (r.source, r.key, r.op, tuple(sorted(r.values)))


def eq(source: str, key: str, value: str) -> Requirement:
    return Requirement(source, key, EQ, frozenset((value,)))


def make_selector(reqs) -> Selector:
    return Selector(tuple(sorted(set(reqs), key=_req_sort)))


def compile_label_selector(sel: dict | None, key_prefix_source: str | None = None) -> Selector:
    """A k8s LabelSelector dict with Cilium key normalisation.

    `key_prefix_source` forces a source (used for KNP, whose keys are plain k8s labels)."""
    sel = sel or {}
    reqs: list[Requirement] = []
    match_all = False
    for k, v in (sel.get("matchLabels") or {}).items():
        src, key = (key_prefix_source, k) if key_prefix_source else normalize_key(str(k))
        if src == "reserved" and key == "all":
            match_all = True
        reqs.append(eq(src, key, "" if v is None else str(v)))
    for expr in sel.get("matchExpressions") or []:
        k = str(expr.get("key", ""))
        src, key = (key_prefix_source, k) if key_prefix_source else normalize_key(k)
        op = expr.get("operator")
        values = frozenset(str(x) for x in (expr.get("values") or []))
        reqs.append(Requirement(src, key, op, values))
    return Selector(tuple(sorted(set(reqs), key=_req_sort)), match_all)


# --------------------------------------------------------------------------------------------
@dataclass(eq=False)
class CachedSelector:
    """One distinct selector and the live set of identity ids it selects."""

    selector: Selector
    ids: set[int] = field(default_factory=set)
    refs: int = 0


class SelectorCache:
    """Evaluates every distinct selector once per identity, incrementally.

    Both directions are indexed by an anchor label (key, value) so that adding an identity
    only evaluates selectors that could possibly match it, and adding a selector only
    evaluates identities that carry its anchor label (Cilium's SelectorCache has the same
    job; the index is our substitute for its per-label-key bookkeeping)."""

    def __init__(self) -> None:
        self.identities: dict[int, IdentityInfo] = {}
        self._selectors: dict[Selector, CachedSelector] = {}
        self._anchor_index: dict[tuple[str, str], set[CachedSelector]] = {}
        self._unanchored: set[CachedSelector] = set()
        self._ids_by_label: dict[tuple[str, str], set[int]] = {}
        self.selected_by: dict[int, set[CachedSelector]] = {}

    # -- selectors -------------------------------------------------------------------------
    def add(self, selector: Selector) -> CachedSelector:
        cs = self._selectors.get(selector)
        if cs is None:
            cs = CachedSelector(selector)
            self._selectors[selector] = cs
            anchor = None if selector.match_all else selector.anchor()
            if anchor is None:
                self._unanchored.add(cs)
                candidates = self.identities.keys()
            else:
                key, values = anchor
                candidates = set()
                for v in values:
                    self._anchor_index.setdefault((key, v), set()).add(cs)
                    candidates |= self._ids_by_label.get((key, v), set())
            for ident_id in candidates:
                if selector.matches(self.identities[ident_id]):
                    cs.ids.add(ident_id)
                    self.selected_by.setdefault(ident_id, set()).add(cs)
        cs.refs += 1
        return cs

    def release(self, cs: CachedSelector) -> None:
        cs.refs -= 1
        if cs.refs > 0:
            return
        del self._selectors[cs.selector]
        self._unanchored.discard(cs)
        anchor = None if cs.selector.match_all else cs.selector.anchor()
        if anchor is not None:
            key, values = anchor
            for v in values:
                bucket = self._anchor_index.get((key, v))
                if bucket is not None:
                    bucket.discard(cs)
                    if not bucket:
                        del self._anchor_index[(key, v)]
        for ident_id in cs.ids:
            s = self.selected_by.get(ident_id)
            if s is not None:
                s.discard(cs)

    # -- identities ------------------------------------------------------------------------
    def set_identity(self, identity_id: int, labels: LabelSet) -> bool:
        """Add or replace an identity; returns True if its labels changed."""
        old = self.identities.get(identity_id)
        if old is not None and old.labels == labels:
            return False
        if old is not None:
            self.remove_identity(identity_id)
        ident = IdentityInfo(identity_id, labels)
        self.identities[identity_id] = ident
        candidates = set(self._unanchored)
        for label in labels:
            lk = (label.key, label.value)
            self._ids_by_label.setdefault(lk, set()).add(identity_id)
            bucket = self._anchor_index.get(lk)
            if bucket:
                candidates |= bucket
        sel = set()
        for cs in candidates:
            if cs.selector.matches(ident):
                cs.ids.add(identity_id)
                sel.add(cs)
        self.selected_by[identity_id] = sel
        return True

    def remove_identity(self, identity_id: int) -> bool:
        ident = self.identities.pop(identity_id, None)
        if ident is None:
            return False
        for label in ident.labels:
            s = self._ids_by_label.get((label.key, label.value))
            if s is not None:
                s.discard(identity_id)
        for cs in self.selected_by.pop(identity_id, set()):
            cs.ids.discard(identity_id)
        return True
