"""The resolved policy of one subject identity, with a memoised verdict lookup.

Built from the rules selecting the identity: a flat list of entries per direction (peer
selectors x L4 match x L7 spec, allow or deny). `lookup` is a single dict hit for repeat
(direction, peer, proto, port) keys — the shape of Cilium's BPF policy map; a miss scans the
entries once and applies §13.3/§14: deny beats allow (181), no allow -> default deny (133), any
matching allow carrying L7 -> REDIRECT with the merged L7 set of §12.2.
"""

from __future__ import annotations

from .l4 import L4Match
from .l7 import L7Policy, L7Spec
from .types import (
    DROP_POLICY_DENIED,
    DROP_POLICY_DENY,
    MATCH_ALL,
    MATCH_L3_L4,
    MATCH_L3_ONLY,
    MATCH_L3_PROTO,
    MATCH_L4_ONLY,
    MATCH_NONE,
    MATCH_PROTO_ONLY,
    Decision,
    PolicyRef,
    PolicyVerdict,
)

HOST_ID = 1

# BPF lookup order: id/proto/port, ANY/proto/port, id/proto/ANY, ANY/proto/ANY, id/ANY/ANY, ANY.
_RANK = {MATCH_L3_L4: 0, MATCH_L4_ONLY: 1, MATCH_L3_PROTO: 2, MATCH_PROTO_ONLY: 3, MATCH_L3_ONLY: 4, MATCH_ALL: 5}

NOT_ENFORCED = PolicyVerdict(Decision.ALLOW, 0, MATCH_NONE, None, (), False)


class Entry:
    """One policy-map-like entry. peers None = any identity; l4 None = all protocols/ports."""

    __slots__ = ("peers", "l4", "l7", "ref", "match_type")

    def __init__(self, peers, l4: L4Match | None, l7: L7Spec | None, ref: PolicyRef) -> None:
        self.peers = peers  # tuple[CachedSelector, ...] | None
        self.l4 = l4
        self.l7 = l7
        self.ref = ref
        if l4 is None:
            self.match_type = MATCH_ALL if peers is None else MATCH_L3_ONLY
        elif l4.wildcard_port:
            self.match_type = MATCH_PROTO_ONLY if peers is None else MATCH_L3_PROTO
        else:
            self.match_type = MATCH_L4_ONLY if peers is None else MATCH_L3_L4

    def matches(self, peer: int, proto: int, port: int) -> bool:
        l4 = self.l4
        if l4 is not None and not (proto in l4.protos and l4.lo <= port <= l4.hi):
            return False
        peers = self.peers
        if peers is None:
            return True
        for cs in peers:
            if peer in cs.ids:
                return True
        return False


class DirectionPolicy:
    __slots__ = ("enforced", "has_rules", "allows", "denies")

    def __init__(self, enforced: bool, has_rules: bool) -> None:
        self.enforced = enforced  # default deny for this direction
        self.has_rules = has_rules  # some selecting rule has entries in this direction
        self.allows: list[Entry] = []
        self.denies: list[Entry] = []


class EndpointPolicy:
    """Resolved policy for one identity. Obtain it from PolicyRepository.policy_for()."""

    def __init__(self, identity_id: int, ingress: DirectionPolicy, egress: DirectionPolicy,
                 allow_localhost: bool, never: bool, rules: tuple[PolicyRef, ...] = (),
                 error: str | None = None) -> None:
        self.identity = identity_id
        self._dirs = {"ingress": ingress, "egress": egress}
        self.ingress_enforced = ingress.enforced and not never
        self.egress_enforced = egress.enforced and not never
        self._allow_localhost = allow_localhost
        self._never = never
        self.rules = rules  # policies selecting this identity
        self.error = error  # policy computation error (e.g. conflicting L7 parsers on a port)
        self.uses_named_ports = False  # set by the repository; named-port changes invalidate
        self._memo: dict[tuple[str, int, int, int], PolicyVerdict] = {}

    def lookup(self, direction: str, peer_identity: int, proto: int, port: int) -> PolicyVerdict:
        key = (direction, peer_identity, proto, port)
        v = self._memo.get(key)
        if v is None:
            v = self._memo[key] = self._compute(direction, peer_identity, proto, port)
        return v

    def clear_memo(self) -> None:
        self._memo.clear()

    # ------------------------------------------------------------------------------------
    def _compute(self, direction: str, peer: int, proto: int, port: int) -> PolicyVerdict:
        if self._never:
            return NOT_ENFORCED
        d = self._dirs[direction]
        if not d.enforced and not d.has_rules:
            return NOT_ENFORCED
        denies = [e for e in d.denies if e.matches(peer, proto, port)]
        if denies:
            mt, refs = _best(denies)
            return PolicyVerdict(Decision.DENY, DROP_POLICY_DENY, mt, None, refs, True)
        if direction == "ingress" and peer == HOST_ID and self._allow_localhost:
            return PolicyVerdict(Decision.ALLOW, 0, MATCH_L3_ONLY, None, (), d.enforced)
        allows = [e for e in d.allows if e.matches(peer, proto, port)]
        if not allows:
            if d.enforced:
                return PolicyVerdict(Decision.DENY, DROP_POLICY_DENIED, MATCH_NONE, None, (), True)
            return NOT_ENFORCED
        l7_entries = [e for e in allows if e.l7 is not None]
        mt, refs = _best(allows)
        if l7_entries:
            shadowed = any(e.l7 is None for e in allows)
            l7 = L7Policy.merge([e.l7 for e in l7_entries], shadowed)
            return PolicyVerdict(Decision.REDIRECT, 0, mt, l7, refs, True)
        if not d.enforced:
            return NOT_ENFORCED
        return PolicyVerdict(Decision.ALLOW, 0, mt, None, refs, True)

    def __repr__(self) -> str:
        return (f"EndpointPolicy(identity={self.identity}, ingress={'Enabled' if self.ingress_enforced else 'Disabled'}, "
                f"egress={'Enabled' if self.egress_enforced else 'Disabled'})")


def _best(entries: list[Entry]) -> tuple[int, tuple[PolicyRef, ...]]:
    """Match type of the most specific matching entry, and the policies behind that level."""
    best = min(_RANK[e.match_type] for e in entries)
    mt = next(e.match_type for e in entries if _RANK[e.match_type] == best)
    refs = tuple(dict.fromkeys(e.ref for e in entries if _RANK[e.match_type] == best))
    return mt, refs
