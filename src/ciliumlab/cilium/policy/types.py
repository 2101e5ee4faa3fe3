"""Value types shared by the policy engine and its callers (datapath, Hubble, cilium-dbg).

They are deliberately small, immutable and hashable: a `PolicyVerdict` is memoised per
(direction, peer, proto, port) and handed to the datapath on every new connection, so it must
be cheap to return and safe to share.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from .l7 import L7Policy

# Datapath drop reasons (bpf/lib/common.h; Hubble drop_reason_desc).
DROP_POLICY_DENIED = 133  # "Policy denied" — nothing allowed it (default deny)
DROP_POLICY_DENY = 181  # "Policy denied by denylist" — a deny rule matched

# Hubble policy_match_type values (flow.proto / monitor PolicyMatchType).
MATCH_NONE = 0
MATCH_L3_ONLY = 1
MATCH_L3_L4 = 2
MATCH_L4_ONLY = 3
MATCH_ALL = 4
MATCH_L3_PROTO = 5
MATCH_PROTO_ONLY = 6

MATCH_TYPE_NAMES = {
    MATCH_NONE: "none", MATCH_L3_ONLY: "L3-Only", MATCH_L3_L4: "L3-L4", MATCH_L4_ONLY: "L4-Only",
    MATCH_ALL: "all", MATCH_L3_PROTO: "L3-Proto", MATCH_PROTO_ONLY: "Proto-Only",
}

# IANA protocol numbers the engine understands.
PROTO_ICMP = 1
PROTO_TCP = 6
PROTO_UDP = 17
PROTO_ICMPV6 = 58
PROTO_SCTP = 132

KIND_CNP = "CiliumNetworkPolicy"
KIND_CCNP = "CiliumClusterwideNetworkPolicy"
KIND_KNP = "NetworkPolicy"


class Decision(enum.IntEnum):
    ALLOW = 1
    DENY = 2
    REDIRECT = 3  # allowed at L3/L4, but the connection must go through the L7 proxy


@dataclass(frozen=True, slots=True)
class PolicyRef:
    """Which policy object a rule came from, as Hubble / cilium-dbg print it."""

    name: str
    namespace: str  # "" for CCNP
    kind: str  # CiliumNetworkPolicy | CiliumClusterwideNetworkPolicy | NetworkPolicy
    labels: tuple[str, ...]  # derived labels, "k8s:io.cilium.k8s.policy.name=rule1", ...
    revision: int  # repository revision that imported it


@dataclass(frozen=True, slots=True)
class PolicyVerdict:
    decision: Decision
    drop_reason: int
    match_type: int
    l7: L7Policy | None
    policies: tuple[PolicyRef, ...]
    enforced: bool

    @property
    def allowed(self) -> bool:
        return self.decision != Decision.DENY

    @property
    def match_type_name(self) -> str:
        return MATCH_TYPE_NAMES[self.match_type]


@dataclass(frozen=True, slots=True)
class ImportResult:
    valid: bool
    message: str  # "Policy validation succeeded" or the sanitisation error text


VALID_MESSAGE = "Policy validation succeeded"


@dataclass
class PolicyConfig:
    """Agent options that change policy semantics (cilium-config keys in comments)."""

    enforcement_mode: str = "default"  # enable-policy: default | always | never
    audit_mode: bool = False  # policy-audit-mode (applied by the datapath)
    cluster_name: str = "default"  # cluster-name
    enable_l7_proxy: bool = True  # enable-l7-proxy
    allow_localhost: str = "always"  # allow-localhost: always | policy
    enable_non_default_deny_policies: bool = True  # enable-non-default-deny-policies
    enable_icmp_rules: bool = True  # enable-icmp-rules
    dns_reject_response_code: str = "refused"  # tofqdns-dns-reject-response-code
    enable_node_selector_labels: bool = False  # enable-node-selector-labels

    def snapshot(self) -> tuple:
        """A cheap value that changes whenever a semantics-relevant option changes."""
        return (self.enforcement_mode, self.cluster_name, self.enable_l7_proxy, self.allow_localhost,
                self.enable_non_default_deny_policies, self.enable_icmp_rules,
                self.enable_node_selector_labels)


class PolicyError(ValueError):
    """A sanitisation failure; str() is the text Cilium reports."""
